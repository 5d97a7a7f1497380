"""The embedded store: one SQLite file through the standard library's ``sqlite3``.

The file is created on first use, in WAL mode, and its tables are created or
upgraded by the store itself (see ``SQLITE_DDL`` in ``_schema``). Several
processes may open the same file: writes are serialized by SQLite's write lock
and checked against the version each writer read, so a stale write is refused,
never lost.
"""

from __future__ import annotations

import os
import sqlite3
from typing import Any, Final

from .._errors import (
    ConcurrencyConflict,
    InvalidValue,
    RegistrationNotFound,
    StoreError,
)
from .._registration import Registration
from ._protocol import RegistrationKey
from ._schema import (
    SQLITE_DDL,
    STORE_SCHEMA_VERSION,
    check_schema_version,
    check_write,
    closed_error,
    encode_events,
    encode_snapshot,
)
from ._sql import Constraint, Dialect, Reads, SQLStore, Translated

__all__ = ["SQLiteStore"]

_SYNCHRONOUS: Final = ("OFF", "NORMAL", "FULL", "EXTRA")
_DIALECT: Final = Dialect(
    mark="?",
    snapshots="regflow_snapshots",
    events="regflow_events",
    snapshot="snapshot",
    max_seq=2**62,
)
_KEY: Final = _DIALECT.key
_SNAPSHOT: Final = "portal_account_id, state, npn, version, snapshot"

_INSERT: Final = (
    f"INSERT INTO regflow_snapshots (plan_year, agent_id, {_SNAPSHOT}) "
    "VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (plan_year, agent_id) DO NOTHING"
)
_UPDATE: Final = {
    (state, npn): "UPDATE regflow_snapshots SET "
    + ("state = ?, " if state else "")
    + ("npn = ?, " if npn else "")
    + f"version = ?, snapshot = ? WHERE {_KEY} AND version = ?"
    for state in (False, True)
    for npn in (False, True)
}
_RESTORE: Final = (
    "UPDATE regflow_snapshots SET portal_account_id = ?, state = ?, npn = ?, "
    f"version = ?, snapshot = ? WHERE {_KEY}"
)
_APPEND: Final = (
    "INSERT INTO regflow_events (plan_year, agent_id, seq, event_id, kind, at, body) "
    "VALUES (?, ?, ?, ?, ?, ?, ?)"
)
# Which constraint an IntegrityError names: sqlite3 gives only its message,
# which lists the columns of the index it broke.
_CONSTRAINTS: Final[tuple[tuple[str, Constraint], ...]] = (
    ("regflow_snapshots.npn", "npn"),
    ("regflow_events.event_id", "event_id"),
    ("regflow_events.seq", "seq"),
)


class SQLiteStore(SQLStore):
    """Registrations in one SQLite file (or ``":memory:"``, private to this object).

    Args:
        path: the database file; created, with its tables, on first use.
        synchronous: SQLite's ``PRAGMA synchronous``. ``NORMAL`` (the default)
            with WAL never corrupts the file and keeps every committed write
            across a crash of the process; a power cut may lose the last
            commits. ``FULL`` keeps those too, at the cost of an fsync per write.
        timeout: seconds to wait for another process's write lock.

    One object is one connection; it may be shared by threads (calls are
    serialized) but not across processes: open one store per process.

    Raises:
        StoreSchemaTooNew: the file was written by a newer regflow.
        StoreError: the file cannot be opened (the message says why).
    """

    _dialect = _DIALECT
    _reads = Reads.of(_DIALECT)

    def __init__(
        self,
        path: str | os.PathLike[str] = "regflow.sqlite3",
        *,
        synchronous: str = "NORMAL",
        timeout: float = 30.0,
    ) -> None:
        mode = str(synchronous).upper()
        if mode not in _SYNCHRONOUS:
            raise InvalidValue(
                f"'synchronous' must be one of {', '.join(_SYNCHRONOUS)} (got {synchronous!r})"
            )
        self.path = os.fspath(path)
        where = f"SQLite store {self.path!r}"
        super().__init__(_Translated(sqlite3.Error, where), where)
        try:
            conn = sqlite3.connect(
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
        self._conn: sqlite3.Connection | None = conn
        try:
            if self.path != ":memory:":
                mode_now = conn.execute("PRAGMA journal_mode").fetchone()[0]
                if str(mode_now).lower() != "wal":
                    conn.execute("PRAGMA journal_mode=WAL")
            conn.execute(f"PRAGMA synchronous={mode}")  # checked against _SYNCHRONOUS
            conn.execute("PRAGMA foreign_keys=ON")
            self._migrate(conn)
        except BaseException as exc:
            conn.close()
            self._conn = None
            if isinstance(exc, sqlite3.Error):
                raise StoreError(
                    f"cannot open SQLite store {self.path!r}: {exc}"
                ) from exc
            raise

    def __repr__(self) -> str:
        return f"SQLiteStore({self.path!r})"

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
        conn.execute("BEGIN IMMEDIATE")
        try:
            found = self._schema_version(conn)  # another process may have upgraded it
            check_schema_version(found, repr(self.path))
            if found == 0:
                conn.execute(
                    "CREATE TABLE IF NOT EXISTS regflow_schema ("
                    "version INTEGER PRIMARY KEY, "
                    "applied_at TEXT NOT NULL DEFAULT CURRENT_TIMESTAMP)"
                )
            for version in range(found + 1, STORE_SCHEMA_VERSION + 1):
                for statement in SQLITE_DDL[version]:
                    conn.execute(statement)
                conn.execute(
                    "INSERT INTO regflow_schema (version) VALUES (?)", (version,)
                )
            conn.execute("COMMIT")
        except BaseException:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise

    @property
    def schema_version(self) -> int:
        """The schema version of the open database."""
        with self._lock:
            return self._schema_version(self._connection())

    # -- the connection and the writes -----------------------------------------

    def _connection(self) -> sqlite3.Connection:
        if self._conn is None:
            raise closed_error("SQLiteStore")
        return self._conn

    def write(self, registration: Registration, *, expected_version: int) -> None:
        """Append the new events and store the snapshot, atomically (see :class:`Store`)."""
        reg = check_write(registration, expected_version)
        key = RegistrationKey(reg.agent_id, reg.plan_year)
        where = (reg.plan_year, reg.agent_id)
        rows = [(*where, *row) for row in encode_events(reg.history, expected_version)]
        with self._lock, self._errors:
            previous = self._memo.previous(key, expected_version)
            text, data = encode_snapshot(reg, previous)
            if expected_version == 0:
                npn = None if reg.npn is None else reg.npn.value
                snap = (
                    reg.portal_account_id,
                    reg.individual.value,
                    npn,
                    reg.version,
                    text,
                )
                statement, params = _INSERT, (*where, *snap)
            else:
                old = None if previous is None else previous[0]
                statement, params = _update(reg, old, expected_version, text)
            conn = self._connection()
            try:
                conn.execute("BEGIN IMMEDIATE")
                if conn.execute(statement, params).rowcount != 1:
                    raise ConcurrencyConflict(
                        *key, expected_version, self._version(conn, key)
                    )
                conn.executemany(_APPEND, rows)
                conn.execute("COMMIT")
            except BaseException as exc:
                if conn.in_transaction:
                    conn.execute("ROLLBACK")
                if isinstance(exc, sqlite3.IntegrityError):
                    raise self._refusal(conn, exc, reg, expected_version) from exc
                raise
            self._memo.put(key, text, reg, data)

    def _constraint(self, exc: Exception) -> Constraint | None:
        message = str(exc)
        for column, constraint in _CONSTRAINTS:
            if column in message:
                return constraint
        return None

    def restore(self, registration: Registration) -> None:
        """Replace a snapshot with one rebuilt from the log (see :class:`Store`)."""
        reg = check_write(registration, 0)
        key = RegistrationKey(reg.agent_id, reg.plan_year)
        where = (reg.plan_year, reg.agent_id)
        text, data = encode_snapshot(reg)
        npn = None if reg.npn is None else reg.npn.value
        snap = (reg.portal_account_id, reg.individual.value, npn, reg.version, text)
        with self._lock, self._errors:
            conn = self._connection()
            try:
                conn.execute("BEGIN IMMEDIATE")
                last = conn.execute(self._reads.last_seq, where).fetchone()[0]
                if last is None:
                    raise RegistrationNotFound(*key)
                if last != reg.version:
                    raise ConcurrencyConflict(*key, reg.version, last)
                if conn.execute(_RESTORE, (*snap, *where)).rowcount != 1:
                    raise RegistrationNotFound(*key)  # pragma: no cover - FK holds it
                conn.execute("COMMIT")
            except BaseException as exc:
                if conn.in_transaction:
                    conn.execute("ROLLBACK")
                if isinstance(exc, sqlite3.IntegrityError):
                    raise self._refusal(conn, exc, reg, reg.version) from exc
                raise
            self._memo.put(key, text, reg, data)


def _update(
    reg: Registration, old: Registration | None, expected: int, text: str
) -> tuple[str, tuple[Any, ...]]:
    """The UPDATE from *old* (at *expected*, if known) to *reg*.

    Only the indexed columns that changed are SET: SQLite then leaves their
    indexes alone, which saves pages (and time) in every commit.
    """
    state = old is None or old.individual is not reg.individual
    npn = old is None or old.npn != reg.npn
    params: list[Any] = []
    if state:
        params.append(reg.individual.value)
    if npn:
        params.append(None if reg.npn is None else reg.npn.value)
    params += (reg.version, text, reg.plan_year, reg.agent_id, expected)
    return _UPDATE[state, npn], tuple(params)


class _Translated(Translated):
    """Also says what to do when another writer held the lock too long."""

    __slots__ = ()

    def translate(self, exc: BaseException) -> StoreError:
        """Return the :class:`StoreError` that stands for *exc*."""
        if isinstance(exc, sqlite3.OperationalError) and "locked" in str(exc):
            return StoreError(
                f"{self.where} stayed locked by another writer: {exc}; "
                "raise 'timeout' or shorten the other writer's transactions"
            )
        return super().translate(exc)
