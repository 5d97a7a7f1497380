"""The store contract, run on SQLite and PostgreSQL from the same checks."""

from __future__ import annotations

import contextlib
import itertools
import json
from collections.abc import Callable
from contextlib import closing
from pathlib import Path

import attrs
import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

import regflow
from regflow import ConcurrencyConflict, Registration
from regflow.store import SQLiteStore, Store
from regflow.store._schema import encode_snapshot
from regflow.store.contract import (
    CHECKS,
    StoreContract,
    StoreFactory,
    check_stale_write,
    run_contract,
)
from regflow.testing import registrations
from store_fixtures import Backend, backend_fixture  # noqa: F401 - the fixture


@pytest.mark.parametrize("check", CHECKS, ids=lambda c: c.__name__)
def test_contract(check: Callable[[StoreFactory], None], backend: Backend) -> None:
    """Each contract check passes on each bundled store."""
    check(backend.open)


class TestContractAsAClass(StoreContract):
    """The pytest-class form of the contract, as a host application uses it."""

    @pytest.fixture(autouse=True)
    def _folder(self, tmp_path: Path) -> None:
        self.path = tmp_path / "class.sqlite3"

    def make_store(self) -> Store:
        """A SQLite store in the test's folder."""
        return SQLiteStore(self.path)


class _Careless:
    """A store that forgets to compare versions: what the contract must catch."""

    def __init__(self, store: Store) -> None:
        self._store = store

    def __getattr__(self, name: str) -> object:
        return getattr(self._store, name)

    def write(self, registration: Registration, *, expected_version: int) -> None:
        # The bug: a stale write silently "succeeds".
        with contextlib.suppress(ConcurrencyConflict):
            self._store.write(registration, expected_version=expected_version)


def test_contract_catches_a_store_that_ignores_versions(tmp_path: Path) -> None:
    """run_contract fails on a store that swallows stale writes."""

    def careless() -> Store:
        return _Careless(SQLiteStore(tmp_path / "careless.sqlite3"))  # type: ignore[return-value]

    with pytest.raises(AssertionError, match="ConcurrencyConflict"):
        check_stale_write(careless)
    with pytest.raises(AssertionError):
        run_contract(careless)


def test_run_contract_passes_on_sqlite(tmp_path: Path) -> None:
    """run_contract, the pytest-free form, passes on the SQLite store."""
    run_contract(lambda: SQLiteStore(tmp_path / "plain.sqlite3"))


# -- the codec the bundled stores share ----------------------------------------

_years = itertools.count(2030)


@settings(
    max_examples=20,
    deadline=None,
    phases=[Phase.explicit, Phase.reuse, Phase.generate],  # one plan year each
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(data=st.data())
def test_any_registration_survives_the_store(
    backend: Backend, data: st.DataObject
) -> None:
    """Every reachable registration, written event by event, loads back equal."""
    reg = data.draw(registrations(plan_year=next(_years), max_events=15))
    flow = regflow.Workflow.for_plan_year(reg.plan_year)
    with closing(backend.open()) as store:
        for version in range(1, reg.version + 1):
            step = flow.replay(reg.history[:version])
            store.write(step, expected_version=version - 1)
            assert store.load(reg.agent_id, reg.plan_year) == step
    with closing(backend.open()) as fresh:  # no memo: decoded from the rows
        assert fresh.load(reg.agent_id, reg.plan_year) == reg
        assert fresh.history(reg.agent_id, reg.plan_year) == reg.history


@settings(max_examples=40, deadline=None)
@given(reg=registrations(max_events=20))
def test_snapshot_encoding_reuses_fields_exactly(reg: Registration) -> None:
    """Encoding from the previous snapshot gives the same text as from scratch."""
    flow = regflow.Workflow.for_plan_year(reg.plan_year)
    previous = None
    for version in range(1, reg.version + 1):
        step = flow.replay(reg.history[:version])
        encoded = encode_snapshot(step, previous)
        state = regflow.dumps(attrs.evolve(step, history=()))
        assert encoded.text == json.dumps(json.loads(state), separators=(",", ":"))
        assert encoded.text == encode_snapshot(step).text
        previous = (step, encoded.parts)


def test_bundled_stores_are_stores(backend: Backend) -> None:
    """Both bundled stores satisfy the runtime-checkable Store protocol."""
    with closing(backend.open()) as store:
        assert isinstance(store, Store)
        assert type(store).__module__ == "regflow.store"
