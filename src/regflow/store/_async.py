"""The async PostgreSQL store, over psycopg's async connections and pools.

:class:`AsyncPostgresStore` runs the same operations as :class:`PostgresStore`
(``_core``) on an ``AsyncConnection``, with the same transactions: its own,
or a savepoint inside the host's. It is driven by :class:`AsyncRepository`,
which runs the very flows the synchronous repository runs.
"""

from __future__ import annotations

import asyncio
import contextvars
import itertools
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Any, Final, TypeVar

from .._errors import InvalidValue, StoreError
from .._events import Event
from .._npn import NPN
from .._registration import Registration
from .._states import IndividualState, ShopState, Status
from ._core import PAGE, Core, Op, Query, Violation
from ._ddl import STORE_SCHEMA_VERSION, check_schema_version
from ._postgres import (
    check_schema_name,
    constraint_of,
    core_for,
    migration_op,
    psycopg_module,
    schema_version_op,
)
from ._protocol import ANY_AGENCY, Agency, Change, RegistrationKey

__all__ = ["AsyncPostgresStore"]

T = TypeVar("T")
_savepoints: Final = itertools.count(1)


class AsyncPostgresStore:
    """Registrations in PostgreSQL, for an async application.

    Build it with ``await AsyncPostgresStore.open(...)``, from a DSN (one
    connection of its own), a psycopg_pool ``AsyncConnectionPool`` or an
    ``AsyncConnection`` of the host's (inside the host's transaction,
    regflow's writes join it). Its methods are those of
    :class:`PostgresStore`, awaited.
    """

    def __init__(
        self,
        pg: Any,
        core: Core,
        schema: str,
        *,
        dsn: str | None,
        pool: Any,
        connection: Any,
    ) -> None:
        self._pg = pg
        self._core = core
        self.schema = schema
        self._dsn, self._pool, self._conn = dsn, pool, connection
        self._host = connection is not None
        self._fixed: Any = None
        self._lock = asyncio.Lock()
        self._unit: contextvars.ContextVar[Any] = contextvars.ContextVar(
            f"regflow_unit_{id(self)}", default=None
        )
        self._closed = False

    @classmethod
    async def open(
        cls,
        dsn: str | None = None,
        *,
        pool: Any = None,
        connection: Any = None,
        schema: str = "regflow",
    ) -> AsyncPostgresStore:
        """Open the store, creating or upgrading its tables.

        Raises:
            InvalidValue: not exactly one of a dsn, a pool, a connection.
            StoreSchemaTooNew: the schema was written by a newer regflow.
        """
        if len([s for s in (dsn, pool, connection) if s is not None]) != 1:
            raise InvalidValue(
                "give AsyncPostgresStore exactly one of a dsn, a pool or a connection"
            )
        pg = psycopg_module()
        check_schema_name(schema)
        store = cls(
            pg, core_for(pg, schema), schema, dsn=dsn, pool=pool, connection=connection
        )
        if connection is not None:
            store._check_connection(connection)
        found = await store._run(schema_version_op(pg, schema), write=False)
        check_schema_version(found, store._core.where)
        if found < STORE_SCHEMA_VERSION:
            await store._run(migration_op(pg, schema, store._core))
        return store

    def __repr__(self) -> str:
        return f"AsyncPostgresStore(schema={self.schema!r})"

    async def __aenter__(self) -> AsyncPostgresStore:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    def _check_connection(self, connection: Any) -> None:
        if not isinstance(connection, self._pg.AsyncConnection):
            raise InvalidValue(
                "'connection' must be a psycopg.AsyncConnection "
                f"(got {type(connection).__name__})"
            )

    def using(self, connection: Any) -> AsyncPostgresStore:
        """This store on the host's async *connection* (see ``SQLStore.using``)."""
        self._check_connection(connection)
        view = AsyncPostgresStore(
            self._pg, self._core, self.schema, dsn=None, pool=None, connection=None
        )
        view._fixed = connection
        return view

    # -- the driver ------------------------------------------------------------

    @asynccontextmanager
    async def _connect(self) -> AsyncIterator[Any]:
        if self._closed:
            raise StoreError("this AsyncPostgresStore is closed; open a new one")
        if self._fixed is not None:
            yield self._fixed
        elif self._pool is not None:
            async with self._pool.connection() as conn:
                yield conn
        else:
            async with self._lock:
                if self._host:
                    yield self._conn
                    return
                conn = self._conn
                if conn is None or conn.closed or conn.broken:
                    conn = await self._pg.AsyncConnection.connect(
                        self._dsn, autocommit=True
                    )
                    self._conn = conn
                yield conn

    @asynccontextmanager
    async def _transaction(self, write: bool = True) -> AsyncIterator[Any]:
        outer = self._unit.get()
        if outer is not None:
            async with self._savepoint(outer):
                yield outer
            return
        async with self._connect() as conn:
            idle = self._pg.pq.TransactionStatus.IDLE
            if not write and conn.autocommit and conn.info.transaction_status == idle:
                # A read needs no transaction of its own (see SQLStore._reads_alone).
                token = self._unit.set(conn)
                try:
                    yield conn
                finally:
                    self._unit.reset(token)
                return
            if conn.info.transaction_status != idle:
                async with self._savepoint(conn):
                    token = self._unit.set(conn)
                    try:
                        yield conn
                    finally:
                        self._unit.reset(token)
                return
            if conn.autocommit:
                await conn.execute("BEGIN")
            token = self._unit.set(conn)
            try:
                yield conn
            except BaseException:
                self._unit.reset(token)
                await self._end(conn, commit=False)
                raise
            self._unit.reset(token)
            await self._end(conn, commit=True)

    async def _end(self, conn: Any, commit: bool) -> None:
        if conn.autocommit:
            if conn.info.transaction_status != self._pg.pq.TransactionStatus.IDLE:
                await conn.execute("COMMIT" if commit else "ROLLBACK")
        elif commit:
            await conn.commit()
        else:
            await conn.rollback()

    @asynccontextmanager
    async def _savepoint(self, conn: Any) -> AsyncIterator[None]:
        name = f"regflow_{next(_savepoints)}"
        await conn.execute(f"SAVEPOINT {name}")
        try:
            yield
        except BaseException:
            await conn.execute(f"ROLLBACK TO SAVEPOINT {name}")
            await conn.execute(f"RELEASE SAVEPOINT {name}")
            raise
        await conn.execute(f"RELEASE SAVEPOINT {name}")

    async def _execute(self, conn: Any, query: Query) -> Any:
        try:
            if query.many:
                async with conn.cursor() as cursor:
                    await cursor.executemany(query.sql, query.params)
                return None
            params = tuple(query.params) or None
            cursor = await conn.execute(
                query.sql, params, prepare=None if params else False
            )
            if query.fetch == "one":
                return await cursor.fetchone()
            if query.fetch == "all":
                return await cursor.fetchall()
            if query.fetch == "count":
                return cursor.rowcount
            return None
        except self._pg.errors.IntegrityError as exc:
            raise Violation(constraint_of(exc), exc) from exc

    async def _run(self, op: Op[T], *, write: bool = True) -> T:
        try:
            async with self._transaction(write) as conn:
                result: Any = None
                while True:
                    try:
                        query = op.send(result)
                    except StopIteration as done:
                        value: T = done.value
                        return value
                    result = await self._execute(conn, query)
        except Violation:
            raise
        except self._pg.Error as exc:
            raise StoreError(
                f"PostgreSQL store (schema {self.schema!r}): {exc}"
            ) from exc

    def transaction(self) -> AbstractAsyncContextManager[Any]:
        """A unit of work: every call inside the block commits together."""
        return self._transaction(True)

    async def close(self) -> None:
        """Close the store's own connection (not a pool's or the host's)."""
        if self._fixed is not None:
            return
        self._closed = True
        with self._core.lock:
            self._core.memo.clear()
        if self._pool is None and not self._host and self._conn is not None:
            await self._conn.close()
            self._conn = None

    # -- the operations --------------------------------------------------------

    async def load(
        self, agent_id: str, plan_year: int, agency: str = ""
    ) -> Registration:
        """The latest snapshot (see :meth:`Store.load`)."""
        return await self._run(
            self._core.load(RegistrationKey(agent_id, plan_year, agency)), write=False
        )

    async def write(self, registration: Registration, *, expected_version: int) -> None:
        """Append and store the snapshot, atomically (see :meth:`Store.write`)."""
        try:
            await self._run(self._core.write(registration, expected_version))
        except Violation as found:
            raise await self._run(
                self._core.violation(registration, expected_version, found), write=False
            ) from found.error

    async def restore(self, registration: Registration) -> None:
        """Replace a snapshot with one rebuilt from the log."""
        try:
            await self._run(self._core.restore(registration))
        except Violation as found:
            raise await self._run(
                self._core.violation(registration, registration.version, found),
                write=False,
            ) from found.error

    async def history(
        self, agent_id: str, plan_year: int, agency: str = ""
    ) -> tuple[Event, ...]:
        """A registration's event log."""
        return await self._run(
            self._core.history(RegistrationKey(agent_id, plan_year, agency)),
            write=False,
        )

    async def keys(
        self, *, agency: Agency = ANY_AGENCY, plan_year: int | None = None
    ) -> list[RegistrationKey]:
        """Every stored registration's key, in key order."""
        found: list[RegistrationKey] = []
        after: RegistrationKey | None = None
        while True:
            page = await self._run(
                self._core.keys(agency=agency, plan_year=plan_year, after=after),
                write=False,
            )
            found += page
            if len(page) < PAGE:
                return found
            after = page[-1]

    async def page(
        self,
        *,
        agency: Agency,
        plan_year: int | None = None,
        status: Status | None = None,
        individual: IndividualState | None = None,
        shop: ShopState | None = None,
        npn: NPN | None = None,
        after: RegistrationKey | None = None,
        limit: int = PAGE,
    ) -> list[Registration]:
        """Up to *limit* snapshots matching every filter, after *after* (keyset)."""
        return await self._run(
            self._core.page(
                agency=agency,
                plan_year=plan_year,
                status=status,
                individual=individual,
                shop=shop,
                npn=npn,
                after=after,
                limit=limit,
            ),
            write=False,
        )

    async def count(
        self,
        *,
        agency: Agency,
        plan_year: int | None = None,
        status: Status | None = None,
        individual: IndividualState | None = None,
        shop: ShopState | None = None,
    ) -> int:
        """How many registrations match every filter."""
        return await self._run(
            self._core.count(
                agency=agency,
                plan_year=plan_year,
                status=status,
                individual=individual,
                shop=shop,
            ),
            write=False,
        )

    async def changes(self, *, after: int, limit: int, agency: Agency) -> list[Change]:
        """The stored events after position *after*, in feed order."""
        return await self._run(
            self._core.changes(after=after, limit=limit, agency=agency), write=False
        )

    async def checkpoint(self, name: str) -> int | None:
        """A consumer's saved position, or ``None``."""
        return await self._run(self._core.checkpoint(name), write=False)

    async def save_checkpoint(self, name: str, position: int) -> None:
        """Save a consumer's position (in the host's transaction, if one is open)."""
        await self._run(self._core.save_checkpoint(name, position))

    async def decide(
        self,
        key: RegistrationKey,
        decide: Callable[[Registration], Registration | None],
    ) -> Registration:
        """Load, decide and write under the row's lock, in one transaction."""
        try:
            return await self._run(self._core.decided(key, decide))
        except Violation as found:
            reg = await self.load(*key)
            raise await self._run(
                self._core.violation(reg, reg.version, found), write=False
            ) from found.error

    async def erase_agent(
        self,
        agency: str,
        agent_id: str,
        decide: Callable[[Registration], Registration | None],
    ) -> list[Registration]:
        """The erasure appended to each registration, then the key deleted."""
        return await self._run(self._core.erase_agent(agency, agent_id, decide))
