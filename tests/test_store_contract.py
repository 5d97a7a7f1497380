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
from regflow import ConcurrencyConflict, CorruptRecord, Registration
from regflow.store import SQLiteStore, Store
from regflow.store._codec import encode_snapshot
from regflow.store._sealing import Sealer, new_key
from regflow.store.contract import (
    CHECKS,
    StoreContract,
    StoreFactory,
    check_stale_write,
    run_contract,
)
from regflow.testing import registrations
from store_fixtures import (  # noqa: F401 - backend_fixture is a fixture
    Backend,
    backend_fixture,
    lifecycle,
)


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


def _sealer(reg: Registration) -> Sealer:
    def where(problem: str) -> CorruptRecord:
        return CorruptRecord(reg.agent_id, reg.plan_year, problem)

    return Sealer(new_key(), reg.agency_id or "", reg.agent_id, where)


@settings(max_examples=40, deadline=None)
@given(reg=registrations(max_events=20))
def test_snapshot_encoding_reuses_fields_exactly(reg: Registration) -> None:
    """Encoding from the previous snapshot gives the same snapshot as from
    scratch, and opened again it is the registration's JSON without its log."""
    flow = regflow.Workflow.for_plan_year(reg.plan_year)
    sealer = _sealer(reg)
    previous = None
    for version in range(1, reg.version + 1):
        step = flow.replay(reg.history[:version])
        encoded = encode_snapshot(step, sealer, previous)
        state = json.loads(regflow.dumps(attrs.evolve(step, history=())))
        assert sealer.open(json.loads(encoded.text)) == state
        fresh = encode_snapshot(step, sealer)
        assert sealer.open(json.loads(fresh.text)) == state
        previous = (step, encoded.parts)


def test_contact_details_are_never_written_in_the_clear(backend: Backend) -> None:
    """Every contact value of a lifecycle is sealed in the log and the snapshot."""
    events = lifecycle("clear", 1)
    with closing(backend.repository()) as repo:
        reg = repo.start(events[0])
        for event in events[1:]:
            reg = repo.apply(reg.agent_id, reg.plan_year, event)
    assert reg.profile is not None and reg.profile.contact is not None
    values = [reg.profile.contact.name, reg.profile.contact.email]
    rows = backend.sql("SELECT body FROM {log}") + backend.sql(
        "SELECT snapshot FROM {registrations}"
    )
    assert len(rows) == reg.version + 1
    text = "\n".join(str(row[0]) for row in rows)
    assert "sealed" in text
    for value in values:
        assert value not in text


def test_bundled_stores_are_stores(backend: Backend) -> None:
    """Both bundled stores satisfy the runtime-checkable Store protocol."""
    with closing(backend.open()) as store:
        assert isinstance(store, Store)
        assert type(store).__module__ == "regflow.store"
