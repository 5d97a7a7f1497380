"""Durable registrations: an event-sourced store on SQLite or PostgreSQL.

Pick a store, wrap it in a :class:`Repository`, and apply events::

    repo = Repository(SQLiteStore("regflow.sqlite3"))
    reg = repo.start(start_event)
    reg = repo.apply(reg.agent_id, reg.plan_year, event)

Every store keeps an append-only log of accepted events and a snapshot per
registration, writes both in one transaction, refuses stale writes
(:class:`~regflow.ConcurrencyConflict`), makes event ids idempotent and holds
one registration per NPN and plan year (:class:`~regflow.DuplicateAccount`).
Write your own against :class:`Store` and check it with
:mod:`regflow.store.contract`.
"""

from __future__ import annotations

import os

from .._public import publish as _publish
from ._async import AsyncPostgresStore
from ._async_repository import AsyncFeed, AsyncRepository
from ._async_sqlite import AsyncSQLiteStore
from ._ddl import STORE_SCHEMA_VERSION
from ._postgres import PostgresStore
from ._protocol import (
    ANY_AGENCY,
    Change,
    History,
    Page,
    RegistrationKey,
    Store,
    StoreSchemaTooNew,
)
from ._repository import Feed, RebuildReport, Repository
from ._sqlite import SQLiteStore

__all__ = [
    "ANY_AGENCY",
    "STORE_SCHEMA_VERSION",
    "AsyncFeed",
    "AsyncPostgresStore",
    "AsyncRepository",
    "AsyncSQLiteStore",
    "Change",
    "Feed",
    "History",
    "Page",
    "PostgresStore",
    "RebuildReport",
    "RegistrationKey",
    "Repository",
    "SQLiteStore",
    "Store",
    "StoreSchemaTooNew",
    "open_store",
]

DEFAULT_PATH = "regflow.sqlite3"


def open_store(
    location: str | os.PathLike[str] = DEFAULT_PATH, *, schema: str = "regflow"
) -> SQLiteStore | PostgresStore:
    """Open the store at *location*: a ``postgresql://`` URL, else a SQLite file.

    Args:
        location: ``postgresql://...`` (or ``postgres://...``) for
            :class:`PostgresStore`; anything else is a SQLite path (``":memory:"``
            included). The default is ``regflow.sqlite3`` in the current folder.
        schema: the PostgreSQL schema; ignored for SQLite.
    """
    text = os.fspath(location)
    if text.startswith(("postgresql://", "postgres://")):
        return PostgresStore(text, schema=schema)
    return SQLiteStore(text)


_publish(globals(), __name__, __all__)
