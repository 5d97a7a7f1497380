"""The SQLite store: its file, its schema versions, its settings and its locks."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

import regflow
from regflow import InvalidValue, StoreError, UnsupportedSchemaVersion
from regflow.store import (
    STORE_SCHEMA_VERSION,
    Repository,
    SQLiteStore,
    StoreSchemaTooNew,
    open_store,
)
from store_fixtures import YEAR, Backend, agent_id, lifecycle, run_batch


def _objects(path: Path) -> set[str]:
    with sqlite3.connect(path) as conn:
        rows = conn.execute("SELECT name FROM sqlite_master WHERE name LIKE 'regflow%'")
        return {name for (name,) in rows}


def test_file_is_created_on_first_use_in_wal_mode(tmp_path: Path) -> None:
    """Opening a new path creates the file, its tables, and turns WAL on."""
    path = tmp_path / "new.sqlite3"
    assert not path.exists()
    with SQLiteStore(path) as store:
        assert store.schema_version == STORE_SCHEMA_VERSION
    with sqlite3.connect(path) as conn:
        assert conn.execute("PRAGMA journal_mode").fetchone() == ("wal",)
        versions = conn.execute("SELECT version FROM regflow_schema ORDER BY 1")
        assert [v for (v,) in versions] == list(range(1, STORE_SCHEMA_VERSION + 1))
    assert {
        "regflow_log",
        "regflow_registrations",
        "regflow_keys",
        "regflow_schema",
    } <= (_objects(path))


def test_newer_file_is_refused_naming_both_versions(tmp_path: Path) -> None:
    """A file from a newer regflow raises StoreSchemaTooNew with both versions."""
    path = tmp_path / "newer.sqlite3"
    SQLiteStore(path).close()
    with sqlite3.connect(path) as conn:
        conn.execute("INSERT INTO regflow_schema (version) VALUES (99)")
    with pytest.raises(StoreSchemaTooNew) as caught:
        SQLiteStore(path)
    assert (caught.value.found, caught.value.supported) == (99, STORE_SCHEMA_VERSION)
    message = str(caught.value)
    assert "99" in message and str(STORE_SCHEMA_VERSION) in message
    assert str(path) in message and "upgrade regflow" in message
    assert isinstance(caught.value, StoreError)
    assert isinstance(caught.value, UnsupportedSchemaVersion)


def test_memory_database_works_within_one_store() -> None:
    """The ":memory:" database is a private, working database for one store object."""
    events = lifecycle("mem", 0)
    with Repository(SQLiteStore(":memory:")) as repo:
        reg = repo.start(events[0])  # type: ignore[arg-type]
        for event in events[1:]:
            reg = repo.apply(reg.agent_id, YEAR, event)
        assert repo.load(reg.agent_id, YEAR) == reg
        assert reg.individual is regflow.IndividualState.CERTIFIED


def test_missing_folder_is_a_clear_error(tmp_path: Path) -> None:
    """A path whose folder does not exist raises StoreError naming path and fix."""
    path = tmp_path / "no" / "such" / "folder" / "x.sqlite3"
    with pytest.raises(StoreError, match="check that its folder exists") as caught:
        SQLiteStore(path)
    assert str(path) in str(caught.value)


def test_synchronous_setting_is_checked(tmp_path: Path) -> None:
    """synchronous takes SQLite's names only, and FULL works like NORMAL."""
    with pytest.raises(InvalidValue, match="'synchronous' must be one of"):
        SQLiteStore(tmp_path / "x.sqlite3", synchronous="fast")
    run_batch(Backend("sqlite", str(tmp_path / "full.sqlite3")), "full", 1)
    with SQLiteStore(tmp_path / "full.sqlite3", synchronous="full") as store:
        assert store.load(agent_id("full", 0), YEAR).version == 10


def test_a_held_write_lock_times_out_with_advice(tmp_path: Path) -> None:
    """A writer blocked past its timeout gets StoreError saying what to do."""
    path = tmp_path / "locked.sqlite3"
    events = lifecycle("lock", 0)
    with Repository(SQLiteStore(path, timeout=0.05)) as repo:
        repo.start(events[0])  # type: ignore[arg-type]
        holder = sqlite3.connect(path, isolation_level=None)
        holder.execute("BEGIN IMMEDIATE")
        try:
            with pytest.raises(StoreError, match="raise 'timeout'"):
                repo.apply(agent_id("lock", 0), YEAR, events[1])
        finally:
            holder.execute("ROLLBACK")
            holder.close()
        assert repo.apply(agent_id("lock", 0), YEAR, events[1]).version == 2


def test_open_store_picks_sqlite_for_paths(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """open_store opens a SQLite file for a path, regflow.sqlite3 by default."""
    monkeypatch.chdir(tmp_path)
    with open_store() as store:
        assert isinstance(store, SQLiteStore)
    assert (tmp_path / "regflow.sqlite3").exists()
    with open_store(tmp_path / "other.sqlite3") as store:
        assert store.path == str(tmp_path / "other.sqlite3")  # type: ignore[union-attr]
