"""Upgrading a store written by regflow 0.1 (store layout 2) to layout 3.

``fixtures/store_v0_1.sqlite3`` was written by regflow 0.1: three agents of
plan year 2024, with their contact details in the clear. Layout 3 keeps
every contact sealed, so the upgrade reads each log, seals it as it writes
it again, rebuilds each snapshot by replaying it, and drops the old tables,
in one transaction. On PostgreSQL the same rows are loaded into a schema
built from layout 2's own statements.
"""

from __future__ import annotations

import json
import shutil
import sqlite3
from contextlib import closing
from pathlib import Path

import pytest

import regflow
from regflow import StoreError
from regflow.events import Event
from regflow.store import STORE_SCHEMA_VERSION, PostgresStore, Repository, SQLiteStore
from regflow.store._ddl import STEPS
from store_fixtures import TESTS, drop_schema, postgres_dsn

FIXTURE = TESTS / "fixtures" / "store_v0_1.sqlite3"
YEAR = 2024


def _fixture_rows() -> tuple[list[tuple[object, ...]], list[tuple[object, ...]]]:
    with closing(sqlite3.connect(f"file:{FIXTURE}?mode=ro", uri=True)) as conn:
        snapshots = conn.execute(
            "SELECT plan_year, agent_id, portal_account_id, state, npn, version, "
            "snapshot FROM regflow_snapshots ORDER BY agent_id"
        ).fetchall()
        events = conn.execute(
            "SELECT plan_year, agent_id, seq, event_id, kind, at, body, recorded_at "
            "FROM regflow_events ORDER BY agent_id, seq"
        ).fetchall()
    return snapshots, events


def _old_logs() -> dict[str, tuple[Event, ...]]:
    logs: dict[str, list[Event]] = {}
    for _, agent, _, _, _, _, body, _ in _fixture_rows()[1]:
        logs.setdefault(str(agent), []).append(
            regflow.from_dict(json.loads(str(body)), Event)  # type: ignore[type-abstract]
        )
    return {agent: tuple(log) for agent, log in logs.items()}


def _contact_values() -> set[str]:
    found = set()
    for log in _old_logs().values():
        for event in log:
            profile = getattr(event, "profile", None)
            if profile is not None and profile.contact is not None:
                found |= {profile.contact.name, profile.contact.email}
    assert found, "the fixture holds contact details"
    return found


def _check_upgraded(repo: Repository) -> None:
    logs = _old_logs()
    assert len(logs) == 3
    for agent, log in logs.items():
        assert repo.store.history(agent, YEAR) == log
        assert repo.load(agent, YEAR) == regflow.Workflow.for_plan_year(YEAR).replay(
            log
        )
    assert repo.verify() == ()
    assert repo.count() == 3
    assert [c.seq for c in repo.changes(limit=1000)].count(1) == 3
    # Still a working store: the unfinished agent goes on.
    assert repo.load("old-agent-2", YEAR).status is not regflow.Status.CERTIFIED


def test_sqlite_file_of_regflow_0_1_is_upgraded(tmp_path: Path) -> None:
    """Every registration of the 0.1 file is there, equal to its replay; no
    contact detail is left in the clear anywhere in the file or its WAL."""
    path = tmp_path / "old.sqlite3"
    shutil.copy(FIXTURE, path)
    with Repository(SQLiteStore(path)) as repo:
        assert repo.store.schema_version == STORE_SCHEMA_VERSION  # type: ignore[attr-defined]
        _check_upgraded(repo)
    with sqlite3.connect(path) as conn:
        tables = {n for (n,) in conn.execute("SELECT name FROM sqlite_master")}
    assert "regflow_events" not in tables and "regflow_snapshots" not in tables
    raw = b"".join(p.read_bytes() for p in tmp_path.iterdir())
    for value in _contact_values():
        assert value.encode() not in raw, f"{value!r} survived the upgrade"
    with Repository(SQLiteStore(path)) as again:  # a second open changes nothing
        _check_upgraded(again)


def test_a_failed_sqlite_upgrade_leaves_the_old_file_as_it_was(tmp_path: Path) -> None:
    """An upgrade that cannot finish raises StoreError naming the registration,
    and the file is still layout 2 with every row."""
    path = tmp_path / "old.sqlite3"
    shutil.copy(FIXTURE, path)
    with sqlite3.connect(path) as conn:
        conn.execute("DROP TRIGGER regflow_events_no_update")
        conn.execute(
            'UPDATE regflow_events SET body = \'{"type": "nonsense"}\' '
            "WHERE agent_id = 'old-agent-1' AND seq = 3"
        )
    before = _fixture_rows()
    with pytest.raises(StoreError, match=r"old-agent-1.*event seq 3"):
        SQLiteStore(path)
    with sqlite3.connect(path) as conn:
        assert conn.execute("SELECT max(version) FROM regflow_schema").fetchone() == (
            2,
        )
        assert conn.execute("SELECT count(*) FROM regflow_events").fetchone() == (
            len(before[1]),
        )
        tables = {n for (n,) in conn.execute("SELECT name FROM sqlite_master")}
    assert "regflow_log" not in tables


def _layout_2_schema(dsn: str, schema: str) -> None:
    import psycopg
    from psycopg import sql

    name = sql.Identifier(schema).as_string(None)
    snapshots, events = _fixture_rows()
    with psycopg.connect(dsn) as pg:
        pg.execute(f"CREATE SCHEMA {name}".encode())
        pg.execute(
            f"CREATE TABLE {name}.schema_version (version integer PRIMARY KEY, "
            "applied_at timestamptz NOT NULL DEFAULT now())".encode()
        )
        for step in STEPS[:2]:
            for statement in step.postgresql:
                pg.execute(statement.replace("{s}", name).encode())
            pg.execute(
                f"INSERT INTO {name}.schema_version (version) VALUES (%s)".encode(),
                (step.version,),
            )
        with pg.cursor() as cur:
            cur.executemany(
                f"INSERT INTO {name}.snapshots VALUES (%s, %s, %s, %s, %s, %s, %s)".encode(),
                snapshots,
            )
            cur.executemany(
                f"INSERT INTO {name}.events VALUES (%s, %s, %s, %s, %s, %s, %s, %s)".encode(),
                events,
            )


def test_postgres_schema_of_layout_2_is_upgraded() -> None:
    """The same rows in a layout-2 PostgreSQL schema upgrade the same way, and
    no row of the new tables holds a contact detail in the clear."""
    dsn = postgres_dsn()
    schema = "regflow_test_upgrade_v2"
    drop_schema(dsn, schema)
    try:
        _layout_2_schema(dsn, schema)
        with Repository(PostgresStore(dsn, schema=schema)) as repo:
            assert repo.store.schema_version == STORE_SCHEMA_VERSION  # type: ignore[attr-defined]
            _check_upgraded(repo)
        import psycopg

        with psycopg.connect(dsn) as pg:
            tables = {
                t
                for (t,) in pg.execute(
                    "SELECT tablename FROM pg_tables WHERE schemaname = %s", (schema,)
                )
            }
            text = " ".join(
                str(row)
                for table in ("log", "registrations")
                for row in pg.execute(f'SELECT * FROM "{schema}".{table}'.encode())
            )
        assert {"events", "snapshots"}.isdisjoint(tables)
        for value in _contact_values():
            assert value not in text
    finally:
        drop_schema(dsn, schema)
