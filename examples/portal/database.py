"""One database for regflow's tables and the portal's outbox, from a URL.

``postgresql://...`` (or ``postgres://...``) opens an ``AsyncPostgresStore``
on a connection pool the outbox shares; anything else is a SQLite file,
opened as an ``AsyncSQLiteStore`` (regflow's store on a thread of its own,
so the event loop never waits on the file's lock).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import attrs

from regflow.store import AsyncPostgresStore, AsyncSQLiteStore

from .outbox import Outbox, PostgresOutbox, SQLiteOutbox

__all__ = ["Database", "is_postgres", "open_database"]


def is_postgres(url: str) -> bool:
    """Whether *url* names a PostgreSQL database rather than a SQLite file."""
    return url.startswith(("postgresql://", "postgres://"))


@attrs.define
class Database:
    """The portal's store and outbox, and how to close them."""

    store: AsyncPostgresStore | AsyncSQLiteStore
    outbox: Outbox
    _closers: list[Callable[[], Awaitable[None]]]

    async def close(self) -> None:
        """Close the store, then what it ran on."""
        for close in self._closers:
            await close()


async def open_database(url: str, *, schema: str = "regflow") -> Database:
    """Open (creating if need be) the store and the outbox at *url*."""
    if is_postgres(url):
        from psycopg_pool import AsyncConnectionPool

        pool = AsyncConnectionPool(url, min_size=1, max_size=8, open=False)
        await pool.open()
        pg_store = await AsyncPostgresStore.open(pool=pool, schema=schema)
        outbox: Outbox = PostgresOutbox(pool, schema)
        await outbox.create()
        return Database(pg_store, outbox, [pg_store.close, pool.close])
    store = await AsyncSQLiteStore.open(url)
    outbox = SQLiteOutbox(url)
    await outbox.create()
    return Database(store, outbox, [store.close])
