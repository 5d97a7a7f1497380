"""The async SQLite store: a :class:`SQLiteStore` on a thread of its own, so
that a portal's event loop never waits on SQLite's file lock."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from typing import Any, TypeVar

from .._errors import StoreError
from .._events import Event
from .._registration import Registration
from ._protocol import ANY_AGENCY, Agency, Change, RegistrationKey
from ._sqlite import SQLiteStore

__all__ = ["AsyncSQLiteStore"]

T = TypeVar("T")


class AsyncSQLiteStore:
    """A :class:`SQLiteStore` run on a thread of its own, for an async application.

    Its methods are those of :class:`AsyncPostgresStore`. Joining a host's
    transaction needs the host's connection on the store's thread: use the
    synchronous store for that.
    """

    def __init__(self, path: str, **options: Any) -> None:
        self._pool = ThreadPoolExecutor(
            max_workers=1, thread_name_prefix="regflow-sqlite"
        )
        self.path = path
        self._options = options
        self._store: SQLiteStore | None = None

    @classmethod
    async def open(cls, path: str, **options: Any) -> AsyncSQLiteStore:
        """Open (and create or upgrade) the SQLite file at *path* on the store's thread."""
        store = cls(path, **options)
        store._store = await store._call(partial(SQLiteStore, path, **options))
        return store

    def __repr__(self) -> str:
        return f"AsyncSQLiteStore({self.path!r})"

    async def __aenter__(self) -> AsyncSQLiteStore:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    async def _call(self, call: Callable[[], T]) -> T:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._pool, call)

    def _sync(self) -> SQLiteStore:
        if self._store is None:
            raise StoreError(
                "this AsyncSQLiteStore is closed (or not opened); open a new one"
            )
        return self._store

    async def close(self) -> None:
        """Close the file and stop the store's thread."""
        if self._store is not None:
            store, self._store = self._store, None
            await self._call(store.close)
        self._pool.shutdown(wait=True)

    async def _on_thread(self, name: str, *args: Any, **kwargs: Any) -> Any:
        method = getattr(self._sync(), name)
        return await self._call(partial(method, *args, **kwargs))

    async def load(
        self, agent_id: str, plan_year: int, agency: str = ""
    ) -> Registration:
        """The latest snapshot (see :meth:`Store.load`)."""
        found: Registration = await self._on_thread("load", agent_id, plan_year, agency)
        return found

    async def write(self, registration: Registration, *, expected_version: int) -> None:
        """Append and store the snapshot, atomically (see :meth:`Store.write`)."""
        await self._on_thread("write", registration, expected_version=expected_version)

    async def restore(self, registration: Registration) -> None:
        """Replace a snapshot with one rebuilt from the log."""
        await self._on_thread("restore", registration)

    async def history(
        self, agent_id: str, plan_year: int, agency: str = ""
    ) -> tuple[Event, ...]:
        """A registration's event log."""
        found: tuple[Event, ...] = await self._on_thread(
            "history", agent_id, plan_year, agency
        )
        return found

    async def keys(
        self, *, agency: Agency = ANY_AGENCY, plan_year: int | None = None
    ) -> list[RegistrationKey]:
        """Every stored registration's key, in key order."""
        store = self._sync()
        return await self._call(
            lambda: list(store.registration_keys(agency=agency, plan_year=plan_year))
        )

    async def page(self, **filters: Any) -> list[Registration]:
        """Up to ``limit`` snapshots matching every filter (see ``SQLStore.page``)."""
        found: list[Registration] = await self._on_thread("page", **filters)
        return found

    async def count(self, **filters: Any) -> int:
        """How many registrations match every filter (see ``SQLStore.count``)."""
        found: int = await self._on_thread("count", **filters)
        return found

    async def changes(self, *, after: int, limit: int, agency: Agency) -> list[Change]:
        """The stored events after position *after*, in feed order."""
        found: list[Change] = await self._on_thread(
            "changes", after=after, limit=limit, agency=agency
        )
        return found

    async def checkpoint(self, name: str) -> int | None:
        """A consumer's saved position, or ``None``."""
        found: int | None = await self._on_thread("checkpoint", name)
        return found

    async def save_checkpoint(self, name: str, position: int) -> None:
        """Save a consumer's position."""
        await self._on_thread("save_checkpoint", name, position)

    async def decide(
        self,
        key: RegistrationKey,
        decide: Callable[[Registration], Registration | None],
    ) -> Registration:
        """Load, decide and write under the write lock, in one transaction."""
        found: Registration = await self._on_thread("decide", key, decide)
        return found

    async def erase_agent(
        self,
        agency: str,
        agent_id: str,
        decide: Callable[[Registration], Registration | None],
    ) -> list[Registration]:
        """The erasure appended to each registration, then the key deleted."""
        found: list[Registration] = await self._on_thread(
            "erase_agent", agency, agent_id, decide
        )
        return found
