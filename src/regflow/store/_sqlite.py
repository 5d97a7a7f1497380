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
import threading
from collections.abc import Iterator, Sequence
from types import TracebackType
from typing import Any, Final

from .._errors import (
    ConcurrencyConflict,
    DuplicateAccount,
    IdempotencyConflict,
    InvalidValue,
    RegistrationNotFound,
    StoreError,
)
from .._npn import NPN
from .._registration import Recorded, Registration, State
from ._protocol import RegistrationKey
from ._schema import (
    SQLITE_DDL,
    STORE_SCHEMA_VERSION,
    SnapshotMemo,
    check_columns,
    check_schema_version,
    check_write,
    closed_error,
    decode_event,
    decode_snapshot,
    encode_events,
    encode_snapshot,
)

__all__ = ["SQLiteStore"]

_SYNCHRONOUS: Final = ("OFF", "NORMAL", "FULL", "EXTRA")
_PAGE: Final = 500
_KEY: Final = "plan_year = ? AND agent_id = ?"
_SNAPSHOT: Final = "portal_account_id, state, npn, version, snapshot"

_LOAD: Final = (
    f"SELECT version, snapshot, state, npn FROM regflow_snapshots WHERE {_KEY}"
)
_VERSION: Final = f"SELECT version FROM regflow_snapshots WHERE {_KEY}"
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
_LAST_SEQ: Final = f"SELECT max(seq) FROM regflow_events WHERE {_KEY}"
_HOLDER: Final = (
    "SELECT portal_account_id, agent_id FROM regflow_snapshots "
    "WHERE npn = ? AND plan_year = ?"
)
_HISTORY: Final = (
    f"SELECT seq, body FROM regflow_events WHERE {_KEY} AND seq <= ? ORDER BY seq"
)
_EVENT_IDS: Final = f"SELECT event_id FROM regflow_events WHERE {_KEY}"


class SQLiteStore:
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
        self._translated = _Translated(self.path)
        self._lock = threading.RLock()
        self._memo = SnapshotMemo()
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

    def __enter__(self) -> SQLiteStore:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

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

    # -- the protocol ----------------------------------------------------------

    def _connection(self) -> sqlite3.Connection:
        if self._conn is None:
            raise closed_error("SQLiteStore")
        return self._conn

    def close(self) -> None:
        """Close the connection; the store is unusable afterwards."""
        with self._lock:
            if self._conn is not None:
                self._conn.close()
                self._conn = None
                self._memo.clear()

    def load(self, agent_id: str, plan_year: int) -> Registration:
        """Return the latest snapshot of a registration (see :class:`Store`)."""
        key = RegistrationKey(agent_id, plan_year)
        with self._lock, self._translated:
            conn = self._connection()
            row = conn.execute(_LOAD, (plan_year, agent_id)).fetchone()
            if row is None:
                raise RegistrationNotFound(agent_id, plan_year)
            return self._snapshot(conn, key, *row)

    def _snapshot(
        self,
        conn: sqlite3.Connection,
        key: RegistrationKey,
        version: int,
        text: str,
        state: str,
        npn: str | None,
    ) -> Registration:
        reg = self._memo.get(key, text)
        if reg is None:
            # Events 1..version were committed with this snapshot and never
            # change, so reading them after it needs no transaction.
            records = self._records(conn, key, version)
            reg = decode_snapshot(key, version, text, records)
            self._memo.put(key, text, reg)
        return check_columns(key, reg, state, npn)

    @staticmethod
    def _records(
        conn: sqlite3.Connection, key: RegistrationKey, upto: int
    ) -> tuple[Recorded, ...]:
        rows = conn.execute(_HISTORY, (key.plan_year, key.agent_id, upto)).fetchall()
        return tuple(decode_event(key, seq, body) for seq, body in rows)

    def write(self, registration: Registration, *, expected_version: int) -> None:
        """Append the new events and store the snapshot, atomically (see :class:`Store`)."""
        reg = check_write(registration, expected_version)
        key = RegistrationKey(reg.agent_id, reg.plan_year)
        where = (reg.plan_year, reg.agent_id)
        rows = [(*where, *row) for row in encode_events(reg.history[expected_version:])]
        with self._lock, self._translated:
            previous = self._memo.previous(key, expected_version)
            text, data = encode_snapshot(reg, previous)
            if expected_version == 0:
                npn = None if reg.npn is None else reg.npn.value
                snap = (reg.portal_account_id, reg.state.value, npn, reg.version, text)
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

    @staticmethod
    def _version(conn: sqlite3.Connection, key: RegistrationKey) -> int:
        row = conn.execute(_VERSION, (key.plan_year, key.agent_id)).fetchone()
        return 0 if row is None else int(row[0])

    def _refusal(
        self,
        conn: sqlite3.Connection,
        exc: sqlite3.IntegrityError,
        reg: Registration,
        expected: int,
    ) -> StoreError:
        """The regflow error for a constraint the database enforced."""
        message = str(exc)
        key = RegistrationKey(reg.agent_id, reg.plan_year)
        if "regflow_snapshots.npn" in message and reg.npn is not None:
            holder = conn.execute(_HOLDER, (reg.npn.value, reg.plan_year)).fetchone()
            if holder is not None:
                return DuplicateAccount(reg.npn.value, reg.plan_year, *holder)
        elif "regflow_events.event_id" in message:
            rows = conn.execute(_EVENT_IDS, (key.plan_year, key.agent_id)).fetchall()
            taken = {row[0] for row in rows}
            for recorded in reg.history[expected:]:
                if recorded.event.event_id in taken:
                    return IdempotencyConflict(*key, recorded.event.event_id)
        elif "regflow_events.seq" not in message:
            return StoreError(
                f"SQLite store {self.path!r} refused registration {tuple(key)}: "
                f"{message}"
            )
        return ConcurrencyConflict(*key, expected, self._version(conn, key))

    def restore(self, registration: Registration) -> None:
        """Replace a snapshot with one rebuilt from the log (see :class:`Store`)."""
        reg = check_write(registration, 0)
        key = RegistrationKey(reg.agent_id, reg.plan_year)
        where = (reg.plan_year, reg.agent_id)
        text, data = encode_snapshot(reg)
        npn = None if reg.npn is None else reg.npn.value
        snap = (reg.portal_account_id, reg.state.value, npn, reg.version, text)
        with self._lock, self._translated:
            conn = self._connection()
            try:
                conn.execute("BEGIN IMMEDIATE")
                last = conn.execute(_LAST_SEQ, where).fetchone()[0]
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

    def history(self, agent_id: str, plan_year: int) -> tuple[Recorded, ...]:
        """Return a registration's event log (see :class:`Store`)."""
        key = RegistrationKey(agent_id, plan_year)
        with self._lock, self._translated:
            records = self._records(self._connection(), key, 2**62)
        if not records:
            raise RegistrationNotFound(agent_id, plan_year)
        return records

    def registration_keys(
        self, *, plan_year: int | None = None
    ) -> Iterator[RegistrationKey]:
        """Yield every registration's key, by plan year then agent id."""
        for row in self._pages("plan_year, agent_id", [], [], plan_year):
            yield RegistrationKey(row[1], row[0])

    def find(
        self,
        *,
        state: State | None = None,
        npn: NPN | None = None,
        plan_year: int | None = None,
    ) -> Iterator[Registration]:
        """Yield the snapshots matching every filter (see :class:`Store`)."""
        where: list[str] = []
        params: list[Any] = []
        if state is not None:
            where.append("state = ?")
            params.append(State(state).value)
        if npn is not None:
            where.append("npn = ?")
            params.append(NPN.parse(str(npn)).value)
        columns = "plan_year, agent_id, version, snapshot, state, npn"
        for year, agent_id, *row in self._pages(columns, where, params, plan_year):
            key = RegistrationKey(agent_id, year)
            with self._lock, self._translated:
                reg = self._snapshot(self._connection(), key, *row)
            yield reg

    def _pages(
        self,
        columns: str,
        where: list[str],
        params: Sequence[Any],
        plan_year: int | None,
    ) -> Iterator[tuple[Any, ...]]:
        # Keyset pages: no lock or cursor is held while the caller consumes rows.
        clauses = list(where)
        fixed = list(params)
        if plan_year is not None:
            clauses.append("plan_year = ?")
            fixed.append(plan_year)
        clauses.append("(plan_year, agent_id) > (?, ?)")
        query = (
            f"SELECT {columns} FROM regflow_snapshots WHERE {' AND '.join(clauses)} "
            f"ORDER BY plan_year, agent_id LIMIT {_PAGE}"
        )
        after: tuple[int, str] = (-1, "")
        while True:
            with self._lock, self._translated:
                rows = self._connection().execute(query, (*fixed, *after)).fetchall()
            yield from rows
            if len(rows) < _PAGE:
                return
            after = (rows[-1][0], rows[-1][1])


def _update(
    reg: Registration, old: Registration | None, expected: int, text: str
) -> tuple[str, tuple[Any, ...]]:
    """The UPDATE from *old* (at *expected*, if known) to *reg*.

    Only the indexed columns that changed are SET: SQLite then leaves their
    indexes alone, which saves pages (and time) in every commit.
    """
    state = old is None or old.state is not reg.state
    npn = old is None or old.npn != reg.npn
    params: list[Any] = []
    if state:
        params.append(reg.state.value)
    if npn:
        params.append(None if reg.npn is None else reg.npn.value)
    params += (reg.version, text, reg.plan_year, reg.agent_id, expected)
    return _UPDATE[state, npn], tuple(params)


class _Translated:
    """Turns sqlite3's own errors into :class:`StoreError` naming the file."""

    __slots__ = ("path",)

    def __init__(self, path: str) -> None:
        self.path = path

    def __enter__(self) -> None:
        return None

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if not isinstance(exc, sqlite3.Error):
            return
        if isinstance(exc, sqlite3.OperationalError) and "locked" in str(exc):
            raise StoreError(
                f"SQLite store {self.path!r} stayed locked by another writer: {exc}; "
                "raise 'timeout' or shorten the other writer's transactions"
            ) from exc
        raise StoreError(f"SQLite store {self.path!r}: {exc}") from exc
