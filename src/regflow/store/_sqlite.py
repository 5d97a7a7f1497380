"""The embedded store: SQLite through the standard library's ``sqlite3``.

A file is created on first use, in WAL mode, and its tables are created or
upgraded by the store itself (see ``_ddl``). Several processes may open the
same file: writes are serialized by SQLite's write lock and checked against
the version each writer read, so a stale write is refused, never lost.

Durability: with WAL, ``synchronous=NORMAL`` (the default) never corrupts the
file and keeps every committed write across a crash of the process; a power
cut or an operating-system crash may lose the last commits. ``FULL`` keeps
those too, with an fsync per commit (measured in docs/store.md).
"""

from __future__ import annotations

import os
import sqlite3
import threading
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from typing import Any, ClassVar, Final

from .._errors import InvalidValue, StoreError
from .._registration import Registration
from ._core import Constraint, Core, Query, run
from ._ddl import STORE_SCHEMA_VERSION, check_schema_version
from ._sql import SQLStore
from ._statements import Statements, sqlite_dialect
from ._upgrade import upgrade

__all__ = ["SQLiteStore"]

_SYNCHRONOUS: Final = ("OFF", "NORMAL", "FULL", "EXTRA")
# Which constraint an IntegrityError names: sqlite3 gives only its message,
# which lists the columns of the index it broke.
_CONSTRAINTS: Final[tuple[tuple[str, Constraint], ...]] = (
    ("regflow_registrations.npn", "npn"),
    (
        "regflow_log.agency, regflow_log.plan_year, regflow_log.agent_id, regflow_log.seq",
        "seq",
    ),
    ("regflow_log.position", "seq"),
)


class SQLiteStore(SQLStore):
    """Registrations in one SQLite file (or ``":memory:"``, private to this object).

    Args:
        path: the database file; created, with its tables, on first use.
        connection: instead of a path, a ``sqlite3.Connection`` of the host
            application's. When it is inside a transaction, regflow's writes
            join it (as savepoints) and the host commits or rolls back; open
            it with ``isolation_level=None`` and ``BEGIN`` yourself, or use
            sqlite3's default mode, where a write of yours opens one.
        synchronous: SQLite's ``PRAGMA synchronous`` for a file the store
            opens: ``NORMAL`` (the default) or ``FULL`` (see the module).
        timeout: seconds to wait for another process's write lock.

    One object is one connection; threads may share it (calls are
    serialized), processes may not: open one store per process.

    Raises:
        StoreSchemaTooNew: the file was written by a newer regflow.
        StoreError: the file cannot be opened (the message says why).
    """

    name: ClassVar[str] = "SQLiteStore"
    _driver_error: ClassVar[type[BaseException]] = sqlite3.Error

    def __init__(
        self,
        path: str | os.PathLike[str] | None = None,
        *,
        connection: sqlite3.Connection | None = None,
        synchronous: str = "NORMAL",
        timeout: float = 30.0,
    ) -> None:
        mode = str(synchronous).upper()
        if mode not in _SYNCHRONOUS:
            raise InvalidValue(
                f"'synchronous' must be one of {', '.join(_SYNCHRONOUS)} (got {synchronous!r})"
            )
        if (path is None) == (connection is None):
            raise InvalidValue(
                "give SQLiteStore a path or a connection, not both or neither"
            )
        self.path = os.fspath(path) if path is not None else "<host connection>"
        where = f"SQLite store {self.path!r}"
        super().__init__(Core(Statements.of(sqlite_dialect()), where))
        self._own = connection is None
        self._lock = threading.RLock()
        if connection is None:
            try:
                connection = sqlite3.connect(
                    self.path,
                    timeout=timeout,
                    isolation_level=None,
                    check_same_thread=False,
                )
            except sqlite3.Error as exc:
                raise StoreError(
                    f"cannot open SQLite store {self.path!r}: {exc}; check that its "
                    "folder exists and is writable"
                ) from exc
        else:
            self._check_connection(connection)
        self._conn: sqlite3.Connection | None = connection
        try:
            if self._own:
                if self.path != ":memory:":
                    mode_now = connection.execute("PRAGMA journal_mode").fetchone()[0]
                    if str(mode_now).lower() != "wal":
                        connection.execute("PRAGMA journal_mode=WAL")
                connection.execute(f"PRAGMA synchronous={mode}")  # checked above
            connection.execute("PRAGMA foreign_keys=ON")
            # Deleted content is overwritten, not left in free space: an
            # erased agent's key (see Repository.erase) must not survive in
            # the file. Cheap here: only snapshot updates and key deletions
            # free anything.
            connection.execute("PRAGMA secure_delete=ON")
            self._migrate(connection)
        except BaseException as exc:
            if self._own:
                connection.close()
            self._conn = None
            if isinstance(exc, sqlite3.Error):
                raise StoreError(
                    f"cannot open SQLite store {self.path!r}: {exc}"
                ) from exc
            raise

    def __repr__(self) -> str:
        return f"SQLiteStore({self.path!r})"

    # -- the driver ------------------------------------------------------------

    def _connect(self) -> AbstractContextManager[Any]:
        if self._conn is None:
            raise StoreError("this SQLiteStore is closed; open a new one")
        return _locked(self._lock, self._conn)

    def _check_connection(self, connection: Any) -> None:
        if not isinstance(connection, sqlite3.Connection):
            raise InvalidValue(
                f"'connection' must be a sqlite3.Connection (got {type(connection).__name__})"
            )

    def _reads_alone(self, conn: Any) -> bool:
        return conn.isolation_level is None and not conn.in_transaction

    def _begin(self, conn: Any, write: bool) -> bool:
        if conn.in_transaction:
            return False
        # IMMEDIATE takes the write lock now, so that a read-then-write
        # transaction cannot be refused halfway (SQLITE_BUSY on upgrade).
        conn.execute("BEGIN IMMEDIATE" if write else "BEGIN")
        return True

    def _end(self, conn: Any, commit: bool) -> None:
        if conn.in_transaction:
            conn.execute("COMMIT" if commit else "ROLLBACK")

    def _execute(self, conn: Any, query: Query) -> Any:
        if query.many:
            conn.executemany(query.sql, query.params)
            return None
        cursor = conn.execute(query.sql, tuple(query.params))
        if query.fetch == "one":
            return cursor.fetchone()
        if query.fetch == "all":
            return cursor.fetchall()
        if query.fetch == "count":
            return cursor.rowcount
        return None

    def _is_integrity(self, exc: BaseException) -> bool:
        return isinstance(exc, sqlite3.IntegrityError)

    def _constraint(self, exc: BaseException) -> Constraint | None:
        message = str(exc)
        for columns, constraint in _CONSTRAINTS:
            if columns in message:
                return constraint
        return None

    def _translate(self, exc: BaseException) -> StoreError:
        if isinstance(exc, sqlite3.OperationalError) and "locked" in str(exc):
            return StoreError(
                f"{self._core.where} stayed locked by another writer: {exc}; "
                "raise 'timeout' or shorten the other writer's transactions"
            )
        return super()._translate(exc)

    def close(self) -> None:
        """Close the connection (unless it is the host's); the store is unusable."""
        if self._fixed is not None:
            return
        super().close()
        with self._lock:
            conn, self._conn = self._conn, None
            if conn is not None and self._own:
                conn.close()

    # -- schema ----------------------------------------------------------------

    @staticmethod
    def _schema_version(conn: sqlite3.Connection) -> int:
        exists = conn.execute(
            "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'regflow_schema'"
        ).fetchone()
        if exists is None:
            return 0
        found = conn.execute("SELECT max(version) FROM regflow_schema").fetchone()[0]
        return int(found or 0)

    def _migrate(self, conn: sqlite3.Connection) -> None:
        found = self._schema_version(conn)
        check_schema_version(found, repr(self.path))
        if found == STORE_SCHEMA_VERSION:
            return
        with self._transaction() as unit:
            found = self._schema_version(conn)  # another process may have upgraded it
            if found < STORE_SCHEMA_VERSION:
                conn.execute(
                    "CREATE TABLE IF NOT EXISTS regflow_schema ("
                    "version INTEGER PRIMARY KEY, "
                    "applied_at TEXT NOT NULL DEFAULT CURRENT_TIMESTAMP)"
                )
                run(
                    lambda q: self._execute(unit.conn, q),
                    upgrade(self._core, found, str),
                )
        if found:
            # Layout 2 kept contact details in the clear: its old pages must
            # leave the write-ahead log too.
            self._checkpoint()

    def _checkpoint(self) -> None:
        """Copy the write-ahead log into the file and empty it (best effort:
        a reader in another process keeps the frames it still reads).

        Not on the host's connection, whose transaction may still be open:
        the host checkpoints after it commits (see docs/store.md).
        """
        if (
            self._own
            and self._fixed is None
            and self.path != ":memory:"
            and self._unit() is None
        ):
            with self._connect() as conn:
                conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")

    def erase_agent(
        self,
        agency: str,
        agent_id: str,
        decide: Callable[[Registration], Registration | None],
    ) -> list[Registration]:
        """See :meth:`SQLStore.erase_agent`; then the old pages holding the
        deleted key are checkpointed out of the write-ahead log."""
        erased = super().erase_agent(agency, agent_id, decide)
        self._checkpoint()
        return erased

    @property
    def schema_version(self) -> int:
        """The schema version of the open database."""
        with self._connect() as conn:
            return self._schema_version(conn)


@contextmanager
def _locked(lock: Any, conn: Any) -> Iterator[Any]:
    with lock:
        yield conn
