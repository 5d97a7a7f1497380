"""The PostgreSQL store: schemas, upgrades, reconnection, and psycopg's absence."""

from __future__ import annotations

import sys
import threading
from collections.abc import Iterator

import pytest

from regflow import InvalidValue, StoreError
from regflow.store import (
    STORE_SCHEMA_VERSION,
    PostgresStore,
    StoreSchemaTooNew,
    open_store,
)
from store_fixtures import (
    YEAR,
    Backend,
    agent_id,
    drop_schema,
    postgres_dsn,
    run_batch,
)


@pytest.fixture
def schemas() -> Iterator[list[str]]:
    """Schema names to use; every one is dropped afterwards."""
    made: list[str] = []
    yield made
    if made:  # only once a test got as far as a server
        dsn = postgres_dsn()
        for schema in made:
            drop_schema(dsn, schema)


def _name(schemas: list[str], suffix: str) -> str:
    from store_fixtures import _RUN

    schemas.append(f"regflow_test_{_RUN}_{suffix}")
    return schemas[-1]


def test_schemas_keep_stores_apart(schemas: list[str]) -> None:
    """Two schemas on one database are two separate stores."""
    dsn = postgres_dsn()
    left, right = (
        Backend("postgres", dsn, _name(schemas, "left")),
        Backend("postgres", dsn, _name(schemas, "right")),
    )
    run_batch(left, "left", 2)
    with right.repository() as repo:
        assert list(repo.by_plan_year(YEAR)) == []
    with left.repository() as repo:
        assert [r.agent_id for r in repo.by_plan_year(YEAR)] == [
            agent_id("left", 0),
            agent_id("left", 1),
        ]


def test_schema_name_is_quoted_not_pasted(schemas: list[str]) -> None:
    """A schema name with quotes and semicolons is an identifier, never SQL."""
    dsn = postgres_dsn()
    odd = _name(schemas, 'o"dd; DROP TABLE x; --')
    run_batch(Backend("postgres", dsn, odd), "odd", 1)
    with PostgresStore(dsn, schema=odd) as store:
        assert store.load(agent_id("odd", 0), YEAR).version == 10
    with pytest.raises(InvalidValue, match="'schema' must be"):
        PostgresStore(dsn, schema="")


def test_newer_schema_is_refused_naming_both_versions(schemas: list[str]) -> None:
    """A schema from a newer regflow raises StoreSchemaTooNew naming it."""
    dsn = postgres_dsn()
    backend = Backend("postgres", dsn, _name(schemas, "newer"))
    backend.open().close()
    backend.sql(f"INSERT INTO {backend.schema_table} (version) VALUES (99)")
    with pytest.raises(StoreSchemaTooNew) as caught:
        backend.open()
    assert (caught.value.found, caught.value.supported) == (99, STORE_SCHEMA_VERSION)
    assert backend.schema in str(caught.value) and "99" in str(caught.value)


def test_workers_creating_one_schema_at_once(schemas: list[str]) -> None:
    """Several workers opening a fresh schema together all succeed."""
    dsn = postgres_dsn()
    schema = _name(schemas, "together")
    errors: list[BaseException] = []

    def open_one() -> None:
        try:
            PostgresStore(dsn, schema=schema).close()
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=open_one) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []


def test_store_reconnects_after_the_server_drops_it(schemas: list[str]) -> None:
    """A dropped connection fails one call with StoreError; the next reconnects."""
    dsn = postgres_dsn()
    backend = Backend("postgres", dsn, _name(schemas, "drop"))
    run_batch(backend, "drop", 1)
    with PostgresStore(dsn, schema=backend.schema) as store:
        pid = store._connection().info.backend_pid
        backend.sql("SELECT pg_terminate_backend(?)", (pid,))
        with pytest.raises(StoreError, match="PostgreSQL store"):
            store.load(agent_id("drop", 0), YEAR)
        assert store.load(agent_id("drop", 0), YEAR).version == 10


def test_open_store_picks_postgres_for_urls(schemas: list[str]) -> None:
    """open_store opens PostgresStore for a postgresql:// URL, in the given schema."""
    dsn = postgres_dsn()
    schema = _name(schemas, "url")
    with open_store(dsn, schema=schema) as store:
        assert isinstance(store, PostgresStore) and store.schema == schema


def test_missing_psycopg_says_how_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    """Without psycopg, PostgresStore says which extra to install."""
    monkeypatch.setitem(sys.modules, "psycopg", None)
    with pytest.raises(StoreError, match=r"regflow\[postgres\]"):
        PostgresStore("postgresql://nowhere/none")
