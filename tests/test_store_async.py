"""The async stores and AsyncRepository: the same contract, awaited.

The store contract (``regflow.store.contract``) is run on each async store
through a small adapter that awaits every call on an event loop of its own,
so that the async stores are held to exactly the checks the synchronous
ones pass. The rest drives AsyncRepository as an async portal would.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable, Coroutine, Iterator
from pathlib import Path
from typing import Any, TypeVar

import pytest

import regflow
from regflow import InvalidValue, RegistrationNotFound
from regflow.store import (
    ANY_AGENCY,
    AsyncPostgresStore,
    AsyncRepository,
    AsyncSQLiteStore,
    RegistrationKey,
    SQLiteStore,
)
from regflow.store.contract import CHECKS, StoreFactory
from store_fixtures import (  # noqa: F401 - backend_fixture is a fixture
    YEAR,
    Backend,
    agent_id,
    backend_fixture,
    contended_event,
    lifecycle,
)

T = TypeVar("T")


class _Loop:
    """An event loop on a thread of its own, to await from synchronous code."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()

    def run(self, coro: Coroutine[Any, Any, T]) -> T:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout=60)

    def stop(self) -> None:
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(timeout=10)
        self.loop.close()


class _Awaited:
    """An async store seen as the synchronous Store protocol."""

    def __init__(self, loop: _Loop, store: AsyncPostgresStore | AsyncSQLiteStore):
        self._loop, self._store = loop, store

    def load(self, agent_id: str, plan_year: int, agency: str = "") -> Any:
        return self._loop.run(self._store.load(agent_id, plan_year, agency))

    def write(self, registration: Any, *, expected_version: int) -> None:
        self._loop.run(
            self._store.write(registration, expected_version=expected_version)
        )

    def restore(self, registration: Any) -> None:
        self._loop.run(self._store.restore(registration))

    def history(self, agent_id: str, plan_year: int, agency: str = "") -> Any:
        return self._loop.run(self._store.history(agent_id, plan_year, agency))

    def registration_keys(self, **filters: Any) -> Iterator[RegistrationKey]:
        return iter(self._loop.run(self._store.keys(**filters)))

    def find(self, **filters: Any) -> Iterator[regflow.Registration]:
        filters.setdefault("agency", ANY_AGENCY)
        return iter(self._loop.run(self._store.page(limit=10_000, **filters)))

    def close(self) -> None:
        self._loop.run(self._store.close())


def _opener(backend: Backend, loop: _Loop) -> StoreFactory:
    def make() -> Any:
        if backend.kind == "sqlite":
            return _Awaited(loop, loop.run(AsyncSQLiteStore.open(backend.location)))
        opened = AsyncPostgresStore.open(backend.location, schema=backend.schema)
        return _Awaited(loop, loop.run(opened))

    return make


@pytest.fixture(name="loop")
def loop_fixture() -> Iterator[_Loop]:
    """A running event loop on its own thread."""
    loop = _Loop()
    try:
        yield loop
    finally:
        loop.stop()


@pytest.mark.parametrize("check", CHECKS, ids=lambda c: c.__name__)
def test_async_stores_pass_the_contract(
    check: Callable[[StoreFactory], None], backend: Backend, loop: _Loop
) -> None:
    """Each contract check passes on each async store."""
    check(_opener(backend, loop))


async def _open(backend: Backend) -> AsyncRepository:
    if backend.kind == "sqlite":
        return AsyncRepository(await AsyncSQLiteStore.open(backend.location))
    store = await AsyncPostgresStore.open(backend.location, schema=backend.schema)
    return AsyncRepository(store)


def test_a_lifecycle_awaited_is_the_synchronous_one(backend: Backend) -> None:
    """Start, apply, resend, page, count, explain and the feed, awaited, give
    what the synchronous repository gives."""
    events = lifecycle("async", 0)

    async def main() -> regflow.Registration:
        async with await _open(backend) as repo:
            reg = await repo.start(events[0])  # type: ignore[arg-type]
            for event in events[1:]:
                reg = await repo.apply(reg.agent_id, YEAR, event)
            again = await repo.apply(reg.agent_id, YEAR, events[3])
            assert again == regflow.Workflow.for_plan_year(YEAR).replay(events[:4])
            assert await repo.count() == 1
            assert [r.agent_id for r in await repo.page()] == [reg.agent_id]
            menu = await repo.explain(reg.agent_id, YEAR)
            assert menu.status is regflow.Status.CERTIFIED
            feed = repo.feed("mailer")
            pending = await feed.pending()
            assert [c.seq for c in pending] == list(range(1, 11))
            await feed.done(pending[-1])
            assert await feed.pending() == []
            assert await feed.position() == pending[-1].position
            return reg

    reg = asyncio.run(main())
    with backend.repository() as sync:
        assert sync.load(reg.agent_id, YEAR) == reg
        assert sync.verify() == ()


@pytest.mark.parametrize("backend", ["postgres"], indirect=True)
def test_concurrent_applies_on_a_pool_lose_nothing(backend: Backend) -> None:
    """Thirty applies to one registration at once, over a pool: none is lost
    or applied twice, and no ConcurrencyConflict escapes."""
    from psycopg_pool import AsyncConnectionPool

    async def main() -> regflow.Registration:
        async with AsyncConnectionPool(
            backend.location, min_size=2, max_size=6, open=False
        ) as pool:
            store = await AsyncPostgresStore.open(pool=pool, schema=backend.schema)
            repo = AsyncRepository(store)
            await repo.start(lifecycle("race", 0)[0])  # type: ignore[arg-type]
            sent = [contended_event(0, w, k) for w in range(5) for k in range(6)]
            await asyncio.gather(
                *(repo.apply(agent_id("race", 0), YEAR, e) for e in sent + sent[:10])
            )
            reg = await repo.load(agent_id("race", 0), YEAR)
            await store.close()
            return reg

    reg = asyncio.run(main())
    ids = [e.event_id for e in reg.history[1:]]
    assert len(ids) == len(set(ids)) == 30


@pytest.mark.parametrize("backend", ["postgres"], indirect=True)
@pytest.mark.parametrize("commit", [True, False], ids=["commit", "rollback"])
def test_async_writes_join_the_hosts_transaction(
    backend: Backend, commit: bool
) -> None:
    """On the host's AsyncConnection, regflow's writes commit or roll back
    with the host's transaction."""
    import psycopg

    class _Failed(Exception):
        pass

    async def main() -> None:
        repo = await _open(backend)
        async with await psycopg.AsyncConnection.connect(backend.location) as conn:
            try:
                async with conn.transaction():
                    mine = repo.using(conn)
                    await mine.start(lifecycle("ahost", 0)[0])  # type: ignore[arg-type]
                    await mine.apply(
                        agent_id("ahost", 0), YEAR, lifecycle("ahost", 0)[1]
                    )
                    if not commit:
                        raise _Failed
            except _Failed:
                pass
        if commit:
            assert (await repo.load(agent_id("ahost", 0), YEAR)).version == 2
        else:
            with pytest.raises(RegistrationNotFound):
                await repo.load(agent_id("ahost", 0), YEAR)
        await repo.close()

    asyncio.run(main())


def test_async_repository_says_what_it_needs(tmp_path: Path) -> None:
    """A synchronous store, a unit of work on SQLite and a scope-less write
    are refused with the way out."""
    with pytest.raises(InvalidValue, match="wrap a synchronous store in Repository"):
        AsyncRepository(SQLiteStore(tmp_path / "s.sqlite3"))  # type: ignore[arg-type]

    async def main() -> None:
        repo = AsyncRepository(await AsyncSQLiteStore.open(str(tmp_path / "a.db")))
        with pytest.raises(InvalidValue, match="AsyncPostgresStore"):
            repo.transaction()
        with pytest.raises(InvalidValue, match="AsyncPostgresStore"):
            repo.using(object())
        with pytest.raises(InvalidValue, match="scoped"):
            await repo.scoped(ANY_AGENCY).load("a", YEAR)
        with pytest.raises(InvalidValue, match=r"use AsyncRepository\.start"):
            await repo.apply("a", YEAR, lifecycle("x", 0)[0])
        with pytest.raises(RegistrationNotFound):
            await repo.load("a", YEAR)
        await repo.close()
        with pytest.raises(regflow.StoreError, match="closed"):
            await repo.load("a", YEAR)

    asyncio.run(main())
