"""Crashes, corrupt rows and bad input: the store stays consistent and says why."""

from __future__ import annotations

import datetime as dt
import os
import signal
import subprocess
import sys
from pathlib import Path
from zoneinfo import ZoneInfo

import attrs
import pytest

import regflow
from regflow import CorruptRecord, InvalidValue, StoreError
from regflow import events as ev
from regflow.store import Repository
from store_fixtures import (  # noqa: F401 - backend_fixture is a fixture
    TESTS,
    YEAR,
    Backend,
    agent_id,
    backend_fixture,
    lifecycle,
    run_batch,
)

AGENTS = 12


def _child(backend: Backend, tag: str, kill_at: int = 0) -> subprocess.Popen[str]:
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(TESTS), *sys.path]))
    args = [
        backend.kind,
        backend.location,
        backend.schema,
        tag,
        str(AGENTS),
        str(kill_at),
    ]
    return subprocess.Popen(
        [sys.executable, str(TESTS / "store_fixtures.py"), *args],
        stdout=subprocess.PIPE,
        text=True,
        env=env,
    )


def _assert_consistent_prefixes(backend: Backend, tag: str) -> int:
    """Every snapshot is the replay of its log; every log a prefix of its batch."""
    total = 0
    with backend.repository() as repo:
        assert repo.verify() == ()
        for history in repo.histories():
            n = int(history.agent_id.rsplit("-", 1)[1])
            expected = [e.event_id for e in lifecycle(tag, n)]
            logged = [e.event_id for e in history.events]
            assert logged == expected[: len(logged)]
            total += len(logged)
    return total


def _assert_finished(backend: Backend, tag: str) -> None:
    with backend.repository() as repo:
        assert repo.verify() == ()
        for n in range(AGENTS):
            reg = repo.load(agent_id(tag, n), YEAR)
            assert [e.event_id for e in reg.history] == [
                e.event_id for e in lifecycle(tag, n)
            ]
            assert reg.individual is regflow.IndividualState.CERTIFIED


def test_sigkill_mid_batch_leaves_a_consistent_store(backend: Backend) -> None:
    """A worker killed by SIGKILL mid-batch leaves logs and snapshots that agree."""
    backend.open().close()  # the schema exists before the child starts
    child = _child(backend, "kill")
    assert child.stdout is not None
    for _ in range(3 * AGENTS + 5):  # into the fourth round of events
        assert child.stdout.readline().startswith("applied")
    child.send_signal(signal.SIGKILL)
    child.communicate(timeout=30)
    assert child.returncode == -signal.SIGKILL
    assert _assert_consistent_prefixes(backend, "kill") >= 3 * AGENTS + 5
    assert run_batch(backend, "kill", AGENTS) == AGENTS * 10  # same ids: finishes it
    _assert_finished(backend, "kill")


def test_sigkill_inside_the_transaction(tmp_path: Path) -> None:
    """SQLite: killed between the snapshot update and the commit, nothing half-lands."""
    backend = Backend("sqlite", str(tmp_path / "killed.sqlite3"))
    backend.open().close()
    child = _child(backend, "txn", kill_at=2 * AGENTS + 3)
    child.communicate(timeout=60)
    assert child.returncode == -signal.SIGKILL
    # Killed in agent 2's third event: the 26 events before it landed, it did not.
    assert _assert_consistent_prefixes(backend, "txn") == 2 * AGENTS + 2
    run_batch(backend, "txn", AGENTS)
    _assert_finished(backend, "txn")


# A row written by hand: SQLite's positions are given by the writer (in
# commit order); PostgreSQL's are its own identity column.
_POSITION = {
    "sqlite": (", position", ", (SELECT max(position) + 1 FROM regflow_log)"),
    "postgres": ("", ""),
}


def _two_registrations(backend: Backend) -> Repository:
    repo = backend.repository()
    for n in range(2):
        for event in lifecycle("bad", n)[:3]:
            if isinstance(event, regflow.events.StartRegistration):
                repo.start(event)
            else:
                repo.apply(agent_id("bad", n), YEAR, event)
    return repo


def _corrupt_snapshot(backend: Backend, agent: str, text: str) -> None:
    backend.sql(
        "UPDATE {registrations} SET snapshot = ? WHERE agent_id = ? AND plan_year = ?",
        (text, agent, YEAR),
    )


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ('{"agent_id": 1, "schema_version": 2}', "snapshot: not a valid Registration"),
        (
            '{"agent_id": 1, "schema_version": 1}',
            "snapshot: a schema_version 1 snapshot holds its history",
        ),
        ('{"agent_id": 1}', "snapshot: snapshot has no integer 'schema_version'"),
        ('"not a snapshot"', "snapshot: the column holds a JSON str, not an object"),
        ("[]", "snapshot: the column holds a JSON list, not an object"),
    ],
)
def test_corrupt_snapshot_is_named_and_rebuilt(
    backend: Backend,
    text: str,
    problem: str,
) -> None:
    """A corrupt snapshot row raises CorruptRecord naming it; rebuild() repairs it."""
    repo = _two_registrations(backend)
    good = repo.load(agent_id("bad", 0), YEAR)
    _corrupt_snapshot(backend, agent_id("bad", 0), text)
    with backend.repository() as fresh:
        with pytest.raises(CorruptRecord, match="rebuild") as caught:
            fresh.load(agent_id("bad", 0), YEAR)
        assert (caught.value.agent_id, caught.value.plan_year) == (
            agent_id("bad", 0),
            YEAR,
        )
        assert caught.value.problem.startswith(problem)
        assert [p.agent_id for p in fresh.verify()] == [agent_id("bad", 0)]
        with pytest.raises(CorruptRecord):
            fresh.apply(agent_id("bad", 0), YEAR, lifecycle("bad", 0)[3])
        report = fresh.rebuild()
        assert report.restored == ((agent_id("bad", 0), YEAR, ""),)
        assert report.unreadable == ()
        assert fresh.load(agent_id("bad", 0), YEAR) == good
        assert fresh.verify() == ()
    repo.close()


def test_snapshot_from_a_newer_regflow_is_corrupt_record(backend: Backend) -> None:
    """A snapshot with an unknown schema_version is CorruptRecord naming both versions."""
    repo = _two_registrations(backend)
    reg = repo.load(agent_id("bad", 1), YEAR)
    newer = regflow.dumps(attrs.evolve(reg, history=())).replace(
        f'"schema_version":{regflow.SCHEMA_VERSION}', '"schema_version":99'
    )
    _corrupt_snapshot(backend, agent_id("bad", 1), newer)
    with backend.repository() as fresh, pytest.raises(CorruptRecord) as caught:
        fresh.load(agent_id("bad", 1), YEAR)
    assert caught.value.agent_id == agent_id("bad", 1)
    assert "schema_version 99" in str(caught.value)
    assert isinstance(caught.value.__cause__, regflow.UnsupportedSchemaVersion)
    repo.close()


def test_snapshot_row_of_another_version_is_corrupt(backend: Backend) -> None:
    """A snapshot whose version disagrees with its row is CorruptRecord."""
    repo = _two_registrations(backend)
    backend.sql(
        "UPDATE {registrations} SET version = version + 1 WHERE agent_id = ?",
        (agent_id("bad", 0),),
    )
    with backend.repository() as fresh, pytest.raises(CorruptRecord, match="version"):
        fresh.load(agent_id("bad", 0), YEAR)
    repo.close()


def test_index_columns_out_of_step_are_corrupt_and_rebuilt(backend: Backend) -> None:
    """A state or NPN column that disagrees with its snapshot is found and fixed."""
    repo = _two_registrations(backend)
    backend.sql(
        "UPDATE {registrations} SET individual = 'certified', npn = NULL "
        "WHERE agent_id = ?",
        (agent_id("bad", 0),),
    )
    with backend.repository() as fresh:
        with pytest.raises(CorruptRecord, match="individual 'certified'"):
            fresh.load(agent_id("bad", 0), YEAR)
        with pytest.raises(CorruptRecord):
            list(fresh.by_state(regflow.IndividualState.CERTIFIED))
        assert fresh.rebuild().restored == ((agent_id("bad", 0), YEAR, ""),)
        assert list(fresh.by_state(regflow.IndividualState.CERTIFIED)) == []
        assert (
            fresh.load(agent_id("bad", 0), YEAR).individual
            is regflow.IndividualState.TRAINING
        )
    repo.close()


def test_unreadable_event_is_reported_not_rebuilt(backend: Backend) -> None:
    """An event row that cannot be read is CorruptRecord; rebuild() leaves it alone."""
    repo = _two_registrations(backend)
    backend.sql(
        "INSERT INTO {log} (plan_year, agent_id, seq, event_id, kind, at, body"
        + _POSITION[backend.kind][0]
        + ") VALUES (?, ?, 4, 'forged', 'nonsense', '2023-10-02T09:00:00+00:00', ?"
        + _POSITION[backend.kind][1]
        + ")",
        (YEAR, agent_id("bad", 1), '{"type": "nonsense"}'),
    )
    with backend.repository() as fresh:
        with pytest.raises(CorruptRecord, match="event seq 4") as caught:
            fresh.store.history(agent_id("bad", 1), YEAR)
        assert caught.value.agent_id == agent_id("bad", 1)
        report = fresh.rebuild()
        assert [e.agent_id for e in report.unreadable] == [agent_id("bad", 1)]
        assert report.restored == ()
        # The snapshot was left alone and still loads.
        assert fresh.load(agent_id("bad", 0), YEAR).version == 3
    repo.close()


def test_event_log_is_append_only(backend: Backend) -> None:
    """The database itself refuses UPDATE and DELETE on events."""
    repo = _two_registrations(backend)
    for statement in (
        "UPDATE {log} SET body = body WHERE agent_id = ?",
        "DELETE FROM {log} WHERE agent_id = ?",
    ):
        with pytest.raises(Exception, match="append-only"):
            backend.sql(statement, (agent_id("bad", 0),))
    assert len(repo.store.history(agent_id("bad", 0), YEAR)) == 3
    repo.close()


def test_database_enforces_npn_and_event_ids(backend: Backend) -> None:
    """Writers that bypass regflow still cannot duplicate an NPN or an event id."""
    repo = _two_registrations(backend)
    first, second = agent_id("bad", 0), agent_id("bad", 1)
    with pytest.raises(Exception, match=r"(?i)unique"):
        backend.sql(
            "UPDATE {registrations} SET npn = ? WHERE agent_id = ?",
            (repo.load(first, YEAR).npn.value, second),  # type: ignore[union-attr]
        )
    with pytest.raises(Exception, match=r"(?i)unique"):
        backend.sql(
            "INSERT INTO {log} (plan_year, agent_id, seq, event_id, kind, at, body"
            + _POSITION[backend.kind][0]
            + ") SELECT plan_year, agent_id, 4, event_id, kind, at, body"
            + _POSITION[backend.kind][1]
            + " FROM {log} WHERE agent_id = ? AND seq = 3",
            (first,),
        )
    assert repo.verify() == ()
    repo.close()


def test_bad_input_writes_nothing(backend: Backend) -> None:
    """Malformed writes raise InvalidValue naming the problem; the store is untouched."""
    repo = _two_registrations(backend)
    store = repo.store
    reg = store.load(agent_id("bad", 0), YEAR)
    gap = attrs.evolve(reg, history=reg.history[:1] + reg.history[2:])
    with pytest.raises(InvalidValue, match="nothing new"):
        store.write(gap, expected_version=reg.version)
    with pytest.raises(InvalidValue, match="'registration' must be"):
        store.write("reg", expected_version=0)  # type: ignore[arg-type]
    with pytest.raises(InvalidValue, match="expected_version"):
        store.write(reg, expected_version=True)
    with pytest.raises(InvalidValue, match=r"Repository\.start"):
        repo.apply(agent_id("bad", 0), YEAR, lifecycle("bad", 0)[0])
    assert store.load(agent_id("bad", 0), YEAR) == reg
    repo.close()


def test_closed_store_says_so(backend: Backend) -> None:
    """A closed store raises StoreError telling to open a new one."""
    store = backend.open()
    store.close()
    with pytest.raises(StoreError, match="closed"):
        store.load("anyone", YEAR)


ODD_TIMES = (
    dt.datetime(2023, 11, 5, 1, 30, tzinfo=ZoneInfo("America/New_York")),
    dt.datetime(2023, 11, 5, 1, 30, fold=1, tzinfo=ZoneInfo("America/New_York")),
    dt.datetime(2023, 3, 12, 2, 30, tzinfo=ZoneInfo("America/New_York")),
    dt.datetime(2023, 10, 2, 9, tzinfo=dt.timezone(dt.timedelta(seconds=-17762))),
    dt.datetime(
        2023, 10, 2, 9, tzinfo=dt.timezone(dt.timedelta(hours=5, microseconds=3))
    ),
)


def test_times_in_any_offset_round_trip_through_both_databases(
    backend: Backend,
) -> None:
    """Fold, gap and seconds-offset times are stored and read back equal, on both."""
    started = dt.datetime(2023, 3, 1, tzinfo=dt.UTC)
    with backend.repository() as repo:
        reg = repo.start(
            ev.StartRegistration(
                event_id="s",
                at=started,
                agent_id="odd-times",
                portal_account_id="p",
                plan_year=2024,
            )
        )
        for number, when in enumerate(ODD_TIMES):
            profile = regflow.Profile(find_local_help=number % 2 == 0)
            reg = repo.apply(
                "odd-times",
                2024,
                ev.SaveProfile(event_id=f"p{number}", at=when, profile=profile),
            )
    with backend.repository() as fresh:
        back = fresh.load("odd-times", 2024)
        assert back == reg
        assert [e.at.utcoffset() for e in back.history[1:]] == [
            t.utcoffset() for t in ODD_TIMES
        ]
        assert fresh.verify() == ()
