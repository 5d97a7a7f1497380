"""Erasing an agent's contact details from the store, log included.

Contact details are stored sealed under a key per agent; ``Repository.erase``
appends an EraseContactDetails event to each of the agent's registrations
and deletes the key, in one transaction. What must hold afterwards: every
copy reads as erased, state, NPN and dates remain, the logs still replay,
and the key itself is gone from the database's files.
"""

from __future__ import annotations

import datetime as dt
import sqlite3
from pathlib import Path

import attrs
import pytest

import regflow
from regflow import ERASED_CONTACT, RegistrationNotFound
from regflow import events as ev
from regflow.store import Repository
from store_fixtures import (  # noqa: F401 - backend_fixture is a fixture
    YEAR,
    Backend,
    agent_id,
    backend_fixture,
    lifecycle,
)

_RENEWED_AT = dt.datetime(2024, 11, 4, 10, tzinfo=dt.UTC)
_ERASED_AT = dt.datetime(2024, 11, 20, 10, tzinfo=dt.UTC)


def _two_years(repo: Repository, n: int = 0) -> tuple[regflow.Registration, ...]:
    events = lifecycle("erase", n)
    reg = repo.start(events[0])  # type: ignore[arg-type]
    for event in events[1:]:
        reg = repo.apply(reg.agent_id, YEAR, event)
    renewed = repo.renew(reg.agent_id, YEAR + 1, event_id=f"renew-{n}", at=_RENEWED_AT)
    return reg, renewed


def _contact(reg: regflow.Registration) -> regflow.ContactDetails:
    assert reg.profile is not None and reg.profile.contact is not None
    return reg.profile.contact


def test_erase_reaches_every_year_and_every_copy(backend: Backend) -> None:
    """Both plan years read as erased, from the snapshot and from every event;
    state, NPN and dates remain; the logs replay; the key row is gone."""
    with backend.repository() as repo:
        before = _two_years(repo)
        contact = _contact(before[0])
        erased = repo.erase(before[0].agent_id, event_id="erase-0", at=_ERASED_AT)
        assert [r.plan_year for r in erased] == [YEAR, YEAR + 1]
    with backend.repository() as fresh:  # nothing from a memo: decoded from rows
        for old in before:
            reg = fresh.load(old.agent_id, old.plan_year)
            assert _contact(reg) == ERASED_CONTACT
            assert (reg.status, reg.individual, reg.npn) == (
                old.status,
                old.individual,
                old.npn,
            )
            assert reg.individual_registered_at == old.individual_registered_at
            assert reg.version == old.version + 1
            assert isinstance(reg.history[-1], ev.EraseContactDetails)
            for event in fresh.store.history(reg.agent_id, reg.plan_year):
                profile = getattr(event, "profile", None)
                if profile is not None and profile.contact is not None:
                    assert profile.contact == ERASED_CONTACT
        assert fresh.verify() == ()
    rows = backend.sql(
        "SELECT count(*) FROM {keys} WHERE agent_id = ?", (before[0].agent_id,)
    )
    assert rows == [(0,)]
    text = "\n".join(
        str(row)
        for row in backend.sql("SELECT body FROM {log}")
        + backend.sql("SELECT snapshot FROM {registrations}")
    )
    assert contact.name not in text and contact.email not in text


def test_the_key_is_gone_from_the_sqlite_files(tmp_path: Path) -> None:
    """After an erasure, the deleted key's bytes are nowhere in the SQLite file
    or its write-ahead log (secure_delete, then a checkpoint)."""
    backend = Backend("sqlite", str(tmp_path / "store.sqlite3"))
    with backend.repository() as repo:
        reg, _ = _two_years(repo)
        [(key,)] = backend.sql(
            "SELECT key FROM {keys} WHERE agent_id = ?", (reg.agent_id,)
        )
        assert len(key) == 32
        files = sorted(tmp_path.iterdir())
        assert any(key in f.read_bytes() for f in files)  # the scan can see it
        repo.erase(reg.agent_id, event_id="erase-0", at=_ERASED_AT)
        for f in sorted(tmp_path.iterdir()):
            assert key not in f.read_bytes(), f"the key survived in {f.name}"


def test_erase_is_idempotent_and_refuses_the_unknown(backend: Backend) -> None:
    """The same erasure again appends nothing; an agent with no registration
    is RegistrationNotFound."""
    with backend.repository() as repo:
        reg, renewed = _two_years(repo)
        first = repo.erase(reg.agent_id, event_id="erase-0", at=_ERASED_AT)
        again = repo.erase(reg.agent_id, event_id="erase-0", at=_ERASED_AT)
        assert [r.version for r in again] == [r.version for r in first]
        assert [r.version for r in first] == [reg.version + 1, renewed.version + 1]
        with pytest.raises(RegistrationNotFound):
            repo.erase("nobody", event_id="erase-x", at=_ERASED_AT)


def test_details_entered_after_an_erasure_are_sealed_anew(backend: Backend) -> None:
    """A profile saved after the erasure is readable (a new key); the old
    seals stay erased."""
    with backend.repository() as repo:
        _, renewed = _two_years(repo)
        repo.erase(renewed.agent_id, event_id="erase-0", at=_ERASED_AT)
        saved = lifecycle("erase", 0)[1]
        assert isinstance(saved, ev.SaveProfile)
        new_contact = attrs.evolve(_contact(renewed), email="new@example.com")
        again = attrs.evolve(
            saved,
            event_id="resave",
            at=_ERASED_AT + dt.timedelta(days=1),
            profile=attrs.evolve(saved.profile, contact=new_contact),
        )
        repo.apply(renewed.agent_id, YEAR + 1, again)
    with backend.repository() as fresh:
        reg = fresh.load(renewed.agent_id, YEAR + 1)
        assert _contact(reg).email == "new@example.com"
        log = fresh.store.history(reg.agent_id, YEAR + 1)
        assert log[0].profile is not None  # type: ignore[attr-defined]
        assert log[0].profile.contact == ERASED_CONTACT  # type: ignore[attr-defined]
        assert _contact(fresh.load(reg.agent_id, YEAR)) == ERASED_CONTACT
        assert fresh.verify() == ()


def test_an_erasure_rolled_back_by_the_host_erases_nothing(tmp_path: Path) -> None:
    """Inside the host's transaction, a rollback keeps the key and the details."""
    backend = Backend("sqlite", str(tmp_path / "store.sqlite3"))
    with backend.repository() as repo:
        reg, _ = _two_years(repo)
        conn = sqlite3.connect(backend.location, isolation_level=None)
        conn.execute("BEGIN")
        repo.using(conn).erase(reg.agent_id, event_id="erase-0", at=_ERASED_AT)
        conn.execute("ROLLBACK")
        conn.close()
    with backend.repository() as fresh:
        assert _contact(fresh.load(reg.agent_id, YEAR)) == _contact(reg)
        assert fresh.load(reg.agent_id, YEAR).version == reg.version
