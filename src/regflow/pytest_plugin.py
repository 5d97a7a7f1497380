"""regflow's pytest plugin: fixtures and hypothesis types for a host's tests.

Installed with regflow's ``test`` extra, it loads itself (a ``pytest11``
entry point); without the entry point, ``pytest -p regflow.pytest_plugin``.

Fixtures:

``regflow_plan_year``
    2024; override it in a ``conftest.py`` for another year.
``regflow_workflow``
    the :class:`~regflow.Workflow` of that plan year.
``regflow_sqlite_store``
    a fresh :class:`~regflow.store.SQLiteStore` in ``tmp_path``, closed after.
``regflow_postgres_store``
    a :class:`~regflow.store.PostgresStore` in a schema of its own, dropped
    after; the DSN comes from ``--regflow-postgres-dsn`` or
    ``REGFLOW_TEST_POSTGRES_DSN``, and the test skips without one.
``regflow_event``
    a factory: ``regflow_event(events.SaveProfile, profile=...)`` fills
    ``event_id`` (unique) and ``at`` (in the plan year's window, a minute after
    the event it made before), and a start's agent, account and plan year.

``--regflow-coverage`` keeps a :class:`~regflow.testing.Coverage` active
for the run and prints its report at the end: per plan year and track, the
reachable (state, event, outcome) triples that the stateful test and
:func:`~regflow.testing.assert_agrees` never exercised.

Loading it also registers hypothesis strategies, so that
``st.from_type(regflow.Registration)`` and ``st.from_type`` of each event
type (registered when pytest configures) draw from :mod:`regflow.testing`.
"""

from __future__ import annotations

import datetime as dt
import itertools
import os
import secrets
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

import pytest
from hypothesis import strategies as st

from . import _events as ev
from ._catalog import CATALOG
from ._registration import Registration
from ._workflow import Workflow
from .store import PostgresStore, SQLiteStore
from .testing._core import _EPOCH, _starts, event_of, registrations
from .testing._coverage import Coverage

__all__ = ["EventFactory"]

DSN_VAR = "REGFLOW_TEST_POSTGRES_DSN"
E = TypeVar("E", bound=ev.Event)
_COVERAGE = pytest.StashKey[Coverage]()
EventFactory = Callable[..., Any]
"""``(event_type, **fields) -> event``: the ``regflow_event`` fixture."""


def _register_types() -> None:
    # Every event type of the catalog, so a new one needs no line here.
    st.register_type_strategy(Registration, registrations())
    for spec in CATALOG:
        if spec.type is ev.StartRegistration:
            st.register_type_strategy(ev.StartRegistration, _starts(2024, _EPOCH))
        else:
            st.register_type_strategy(spec.type, event_of(spec.type))


def pytest_configure(config: pytest.Config) -> None:
    # Not at import: hypothesis warns of strategies built before its own
    # pytest plugin has loaded (it times that import).
    _register_types()
    if config.getoption("regflow_coverage"):
        coverage = Coverage()
        coverage.__enter__()
        config.stash[_COVERAGE] = coverage


def pytest_unconfigure(config: pytest.Config) -> None:
    coverage = config.stash.get(_COVERAGE, None)
    if coverage is not None:
        coverage.__exit__(None, None, None)
        del config.stash[_COVERAGE]


def pytest_terminal_summary(
    terminalreporter: pytest.TerminalReporter, config: pytest.Config
) -> None:
    coverage = config.stash.get(_COVERAGE, None)
    if coverage is not None:
        terminalreporter.section("regflow coverage")
        terminalreporter.write_line(coverage.report())


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("regflow")
    group.addoption(
        "--regflow-postgres-dsn",
        default=None,
        help=f"PostgreSQL for regflow_postgres_store (default: ${DSN_VAR})",
    )
    group.addoption(
        "--regflow-coverage",
        action="store_true",
        default=False,
        help="report the (state, event, outcome) triples the run never exercised",
    )


@pytest.fixture
def regflow_plan_year() -> int:
    """The plan year the other regflow fixtures use."""
    return 2024


@pytest.fixture
def regflow_workflow(regflow_plan_year: int) -> Workflow:
    """The workflow of ``regflow_plan_year``."""
    return Workflow.for_plan_year(regflow_plan_year)


@pytest.fixture
def regflow_sqlite_store(tmp_path: Path) -> Iterator[SQLiteStore]:
    """A fresh SQLite store in ``tmp_path``."""
    store = SQLiteStore(str(tmp_path / "regflow.sqlite3"))
    try:
        yield store
    finally:
        store.close()


@pytest.fixture
def regflow_postgres_store(request: pytest.FixtureRequest) -> Iterator[PostgresStore]:
    """A PostgreSQL store in a throwaway schema; skips without a DSN."""
    dsn = request.config.getoption("regflow_postgres_dsn") or os.environ.get(DSN_VAR)
    if not dsn:
        pytest.skip(f"no PostgreSQL: pass --regflow-postgres-dsn or set {DSN_VAR}")
    import psycopg
    from psycopg import sql

    schema = f"regflow_{os.getpid()}_{secrets.token_hex(4)}"
    store = PostgresStore(dsn, schema=schema)
    try:
        yield store
    finally:
        store.close()
        with psycopg.connect(dsn, autocommit=True) as pg:
            pg.execute(
                sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(
                    sql.Identifier(schema)
                )
            )


@pytest.fixture
def regflow_event(regflow_plan_year: int) -> EventFactory:
    """Make events with ids and times filled in; see the module's docstring."""
    ids = itertools.count(1)
    # Start a year before the plan year, as an agent registering early does;
    # each event a minute after the last, so none is dated out of order.
    clock = itertools.count()
    begin = _EPOCH.replace(year=regflow_plan_year - 1)

    def make(kind: type[E], /, **fields: Any) -> E:
        fields.setdefault("event_id", f"{kind.kind}-{next(ids)}")
        fields.setdefault("at", begin + dt.timedelta(minutes=next(clock)))
        if kind is ev.StartRegistration:
            fields.setdefault("agent_id", "agent-1")
            fields.setdefault("portal_account_id", "portal-1")
            fields.setdefault("plan_year", regflow_plan_year)
        return kind(**fields)

    return make
