"""The multi-worker store: PostgreSQL through psycopg 3 (imported only when used).

The tables live in one PostgreSQL schema (``regflow`` unless told otherwise),
created and upgraded by the store under an advisory lock, so that workers
starting together do not race. A write is a single statement (the snapshot
if it is still at the version read, then its events): one round trip.

A store takes a DSN (one connection of its own), a psycopg_pool
``ConnectionPool`` (a connection per call, checked out and back), or a
connection of the host application's; on a connection inside the host's
transaction, regflow's writes join it as savepoints.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from typing import TYPE_CHECKING, Any, ClassVar, Final

from .._errors import InvalidValue, StoreError
from ._core import Constraint, Core, Op, Query
from ._ddl import STORE_SCHEMA_VERSION, check_schema_version
from ._sql import SQLStore
from ._statements import Statements, postgres_dialect
from ._upgrade import upgrade

if TYPE_CHECKING:
    import psycopg

__all__ = [
    "PostgresStore",
    "constraint_of",
    "core_for",
    "migration_op",
    "psycopg_module",
    "schema_version_op",
]

# The constraints regflow explains, by the name the server reports.
_CONSTRAINTS: Final[dict[str, Constraint]] = {
    "registrations_npn_key": "npn",
    "log_pkey": "seq",
}


def psycopg_module() -> Any:
    """psycopg, or a StoreError saying how to install it."""
    try:
        import psycopg
    except ImportError as exc:
        raise StoreError(
            "PostgresStore needs psycopg 3; install it with "
            "pip install 'regflow[postgres]'"
        ) from exc
    return psycopg


def check_schema_name(schema: object) -> str:
    """The schema name, if it is one PostgreSQL takes."""
    if not isinstance(schema, str) or not 0 < len(schema.encode()) <= 63:
        raise InvalidValue(
            f"'schema' must be a PostgreSQL schema name of 1 to 63 bytes (got {schema!r})"
        )
    return schema


def render(pg: Any, schema: str, text: str) -> str:
    """*text* with ``{s}`` filled in by the schema, quoted as an identifier."""
    # Only regflow's fixed text reaches here; the schema goes in as an
    # Identifier, which psycopg quotes. as_string(None) needs psycopg >= 3.2.
    rendered: str = pg.sql.SQL(text).format(s=pg.sql.Identifier(schema)).as_string(None)
    return rendered


def constraint_of(exc: BaseException) -> Constraint | None:
    """The constraint a psycopg UniqueViolation names, if regflow explains it."""
    name = getattr(getattr(exc, "diag", None), "constraint_name", None)
    return _CONSTRAINTS.get(name) if isinstance(name, str) else None


def core_for(pg: Any, schema: str) -> Core:
    """The operations of a PostgreSQL store on *schema*."""
    dialect = postgres_dialect(render(pg, schema, "{s}"))
    return Core(Statements.of(dialect), f"PostgreSQL schema {schema!r}")


class PostgresStore(SQLStore):
    """Registrations in PostgreSQL, safe for many worker processes at once.

    Args:
        dsn: a libpq connection string or URL, e.g.
            ``postgresql://user@host:5432/dbname``: the store opens (and
            re-opens, if it breaks) one connection of its own.
        pool: instead, a ``psycopg_pool.ConnectionPool``: each call checks
            a connection out and back in; threads may call at once.
        connection: instead, a ``psycopg.Connection`` of the host's. Inside
            the host's transaction, regflow's writes join it.
        schema: the PostgreSQL schema holding regflow's tables; created on
            first use. Give each application (or test run) its own.
        connect_timeout: seconds to wait for the server (with *dsn*).

    Raises:
        StoreSchemaTooNew: the schema was written by a newer regflow.
        StoreError: psycopg is missing or the server refused the connection.
    """

    name: ClassVar[str] = "PostgresStore"

    def __init__(
        self,
        dsn: str | None = None,
        *,
        pool: Any = None,
        connection: Any = None,
        schema: str = "regflow",
        connect_timeout: int = 10,
    ) -> None:
        given = [source for source in (dsn, pool, connection) if source is not None]
        if len(given) != 1:
            raise InvalidValue(
                "give PostgresStore exactly one of a dsn, a pool or a connection"
            )
        self.schema = check_schema_name(schema)
        self._pg = psycopg_module()
        self._driver_error = self._pg.Error  # type: ignore[misc]
        super().__init__(core_for(self._pg, schema))
        self._dsn, self._pool, self._timeout = dsn, pool, connect_timeout
        if connection is not None:
            self._check_connection(connection)
        self._conn: psycopg.Connection[Any] | None = connection
        self._host = connection is not None
        import threading

        self._lock = threading.RLock()
        try:
            self._migrate(None)
        except BaseException:
            if not self._host:
                self.close()
            raise

    def __repr__(self) -> str:
        return f"PostgresStore(schema={self.schema!r})"

    # -- the driver ------------------------------------------------------------

    def _connect(self) -> AbstractContextManager[Any]:
        if self._closed:
            raise StoreError("this PostgresStore is closed; open a new one")
        if self._pool is not None:
            return _checked_out(self._pool)
        return _locked(self._lock, self._connection)

    def _connection(self) -> Any:
        conn = self._conn
        if self._host:
            return conn
        if conn is None or conn.closed or conn.broken:
            conn = self._pg.connect(
                self._dsn, autocommit=True, connect_timeout=self._timeout
            )
            self._conn = conn
        return conn

    def _check_connection(self, connection: Any) -> None:
        if not isinstance(connection, self._pg.Connection):
            raise InvalidValue(
                f"'connection' must be a psycopg.Connection (got {type(connection).__name__})"
            )

    def _reads_alone(self, conn: Any) -> bool:
        return bool(
            conn.autocommit
            and conn.info.transaction_status == self._pg.pq.TransactionStatus.IDLE
        )

    def _begin(self, conn: Any, write: bool) -> bool:
        status = conn.info.transaction_status
        if status != self._pg.pq.TransactionStatus.IDLE:
            return False  # the host's transaction
        if conn.autocommit:
            conn.execute("BEGIN")
        return True  # without autocommit, psycopg begins at the first statement

    def _end(self, conn: Any, commit: bool) -> None:
        if conn.autocommit:
            if conn.info.transaction_status != self._pg.pq.TransactionStatus.IDLE:
                conn.execute("COMMIT" if commit else "ROLLBACK")
        elif commit:
            conn.commit()
        else:
            conn.rollback()

    def _execute(self, conn: Any, query: Query) -> Any:
        if query.many:
            with conn.cursor() as cursor:
                cursor.executemany(query.sql, query.params)
            return None
        # No parameters, no placeholder parsing: DDL holds literal % signs.
        # Statements with parameters are prepared as the connection's
        # prepare_threshold says (psycopg's default: from the 5th use).
        params = tuple(query.params) or None
        cursor = conn.execute(query.sql, params, prepare=None if params else False)
        if query.fetch == "one":
            return cursor.fetchone()
        if query.fetch == "all":
            return cursor.fetchall()
        if query.fetch == "count":
            return cursor.rowcount
        return None

    def _is_integrity(self, exc: BaseException) -> bool:
        return isinstance(exc, self._pg.errors.IntegrityError)

    def _constraint(self, exc: BaseException) -> Constraint | None:
        return constraint_of(exc)

    def _translate(self, exc: BaseException) -> StoreError:
        return StoreError(f"PostgreSQL store (schema {self.schema!r}): {exc}")

    def close(self) -> None:
        """Close the store's own connection (not a pool's or the host's)."""
        if self._fixed is not None:
            return
        super().close()
        if self._pool is None and not self._host:
            with self._lock:
                conn, self._conn = self._conn, None
                if conn is not None:
                    conn.close()

    # -- schema ----------------------------------------------------------------

    def _migrate(self, conn: Any) -> None:
        found = self._run(schema_version_op(self._pg, self.schema), write=False)
        check_schema_version(found, self._core.where)
        if found < STORE_SCHEMA_VERSION:
            self._run(migration_op(self._pg, self.schema, self._core))

    @property
    def schema_version(self) -> int:
        """The schema version of the open database schema."""
        return self._run(schema_version_op(self._pg, self.schema), write=False)


@contextmanager
def _locked(lock: Any, connection: Any) -> Iterator[Any]:
    with lock:
        yield connection()


@contextmanager
def _checked_out(pool: Any) -> Iterator[Any]:
    with pool.connection() as conn:
        yield conn


def schema_version_op(pg: Any, schema: str) -> Op[int]:
    """The schema's table layout version, 0 for none."""
    # pg_tables, not to_regclass(): a query sees what other workers just
    # committed, where to_regclass() may answer from a stale catalog cache.
    table = yield Query(
        "SELECT 1 FROM pg_catalog.pg_tables "
        "WHERE schemaname = %s AND tablename = 'schema_version'",
        (schema,),
        "one",
    )
    if table is None:
        return 0
    found = yield Query(
        render(pg, schema, "SELECT max(version) FROM {s}.schema_version"), (), "one"
    )
    return int(found[0] or 0) if found else 0


def migration_op(pg: Any, schema: str, core: Core) -> Op[None]:
    """Create or upgrade the schema's tables, under an advisory lock."""
    yield Query(
        "SELECT pg_advisory_xact_lock(hashtext('regflow.store:' || %s::text))",
        (schema,),
    )
    found = yield from schema_version_op(pg, schema)  # another worker may have done it
    check_schema_version(found, core.where)
    if found == STORE_SCHEMA_VERSION:
        return
    if found == 0:
        yield Query(render(pg, schema, "CREATE SCHEMA IF NOT EXISTS {s}"), ())
        yield Query(
            render(
                pg,
                schema,
                "CREATE TABLE {s}.schema_version (version integer PRIMARY KEY, "
                "applied_at timestamptz NOT NULL DEFAULT now())",
            ),
            (),
        )
    yield from upgrade(core, found, lambda statement: render(pg, schema, statement))
