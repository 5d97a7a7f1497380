"""What the bundled SQL stores share: the reads, the listings, the refusals.

:class:`~regflow.store.SQLiteStore` and :class:`~regflow.store.PostgresStore`
keep the same two tables and read them with the same statements. They differ
in a parameter's placeholder (``?`` or ``%s``), in how a table is named
(PostgreSQL's live in a schema, filled in by ``psycopg.sql`` as an identifier)
and in how the snapshot column reads as text: :class:`Dialect` holds those
differences, :class:`SQLStore` the logic written once over them.

Each backend keeps in its own module what really differs: connecting, the DDL
and its migration, the write transactions and their locking, and how its
driver names the constraint a write broke.
"""

from __future__ import annotations

import abc
import threading
from collections.abc import Iterable, Iterator, Sequence
from types import TracebackType
from typing import Any, ClassVar, Final, Literal, NamedTuple, Protocol

from .._errors import (
    ConcurrencyConflict,
    DuplicateAccount,
    IdempotencyConflict,
    RegistrationNotFound,
    StoreError,
)
from .._events import Event
from .._npn import NPN
from .._registration import Registration
from .._states import IndividualState
from ._protocol import Closing, RegistrationKey
from ._schema import SnapshotMemo, check_columns, decode_events, decode_snapshot

__all__ = [
    "Connection",
    "Constraint",
    "Cursor",
    "Dialect",
    "Reads",
    "SQLStore",
    "Translated",
]

_PAGE: Final = 500

Constraint = Literal["npn", "event_id", "seq"]
"""The constraints a write can break that regflow explains: one NPN per plan
year, unique event ids, and unique sequence numbers (a concurrent append)."""


class Cursor(Protocol):
    """What the shared code uses of a cursor (sqlite3's and psycopg's fit)."""

    def fetchone(self) -> Any:
        """Return the next row, or None."""
        ...

    def fetchall(self) -> list[Any]:
        """Return the remaining rows."""
        ...


class Connection(Protocol):
    """What the shared code uses of a connection (sqlite3's and psycopg's fit)."""

    def execute(self, query: str, params: Sequence[Any], /) -> Cursor:
        """Run *query* with positional *params*."""
        ...

    def close(self) -> None:
        """Close the connection."""
        ...


class Dialect(NamedTuple):
    """How the shared statements are written for one database.

    Attributes:
        mark: the placeholder of one positional parameter.
        snapshots: the snapshots table as a statement names it.
        events: the events table as a statement names it.
        snapshot: the snapshot column, read as JSON text.
        max_seq: a number above every sequence number the events table holds.
    """

    mark: str
    snapshots: str
    events: str
    snapshot: str
    max_seq: int

    @property
    def key(self) -> str:
        """The condition picking one registration: (plan_year, agent_id)."""
        return f"plan_year = {self.mark} AND agent_id = {self.mark}"


class Reads(NamedTuple):
    """The statements both stores read with, in one dialect.

    Every parameter is positional; the comment after each field lists them.
    """

    load: str  # plan_year, agent_id
    version: str  # plan_year, agent_id
    last_seq: str  # plan_year, agent_id
    history: str  # plan_year, agent_id, last seq wanted
    holder: str  # npn, plan_year
    event_ids: str  # plan_year, agent_id

    @classmethod
    def of(cls, dialect: Dialect) -> Reads:
        """Return the statements written in *dialect*."""
        d, key = dialect, dialect.key
        return cls(
            load=f"SELECT version, {d.snapshot}, state, npn FROM {d.snapshots} "
            f"WHERE {key}",
            version=f"SELECT version FROM {d.snapshots} WHERE {key}",
            last_seq=f"SELECT max(seq) FROM {d.events} WHERE {key}",
            history=f"SELECT seq, body FROM {d.events} WHERE {key} "
            f"AND seq <= {d.mark} ORDER BY seq",
            holder=f"SELECT portal_account_id, agent_id FROM {d.snapshots} "
            f"WHERE npn = {d.mark} AND plan_year = {d.mark}",
            event_ids=f"SELECT event_id FROM {d.events} WHERE {key}",
        )


class Translated:
    """Turns a driver's own errors into :class:`StoreError` naming the database.

    Used as ``with store._lock, store._errors:``. It holds no state of a call,
    so one object serves every call and thread of its store.

    Args:
        driver_error: the base class of the driver's errors.
        where: the database, as messages name it.
    """

    __slots__ = ("driver_error", "where")

    def __init__(self, driver_error: type[BaseException], where: str) -> None:
        self.driver_error = driver_error
        self.where = where

    def __enter__(self) -> None:
        return None

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if isinstance(exc, self.driver_error):
            raise self.translate(exc) from exc

    def translate(self, exc: BaseException) -> StoreError:
        """Return the :class:`StoreError` that stands for *exc*."""
        return StoreError(f"{self.where}: {exc}")


class SQLStore(Closing, abc.ABC):
    """The protocol's reads and listings, written once for the SQL stores.

    A subclass sets the class attribute ``_dialect``; its ``__init__`` calls
    this one, then opens ``_conn`` and sets ``_reads`` (``Reads.of`` its
    dialect, with identifiers filled in). It supplies the connection, the
    writes, and :meth:`_constraint`.

    Args:
        errors: the store's error translation.
        where: the database, as refusals name it.
    """

    _dialect: ClassVar[Dialect]
    _reads: Reads

    def __init__(self, errors: Translated, where: str) -> None:
        self._errors = errors
        self._where = where
        self._lock = threading.RLock()
        self._memo = SnapshotMemo()
        self._conn: Connection | None = None
        self._closed = False

    # -- what a backend supplies -----------------------------------------------

    @abc.abstractmethod
    def _connection(self) -> Connection:
        """Return the open connection; raise if the store is closed."""

    @abc.abstractmethod
    def _constraint(self, exc: Exception) -> Constraint | None:
        """Return which constraint the driver's integrity error *exc* names."""

    def _render(self, text: str) -> str:
        """Return a statement written in the dialect, ready to run.

        Only regflow's own fixed text reaches here; a backend whose tables are
        named through identifiers fills them in.
        """
        return text

    # -- the protocol ----------------------------------------------------------

    def close(self) -> None:
        """Close the connection; the store is unusable afterwards."""
        with self._lock:
            self._closed = True
            conn, self._conn = self._conn, None
            if conn is not None:
                conn.close()
            self._memo.clear()

    def load(self, agent_id: str, plan_year: int) -> Registration:
        """Return the latest snapshot of a registration (see :class:`Store`)."""
        key = RegistrationKey(agent_id, plan_year)
        with self._lock, self._errors:
            conn = self._connection()
            row = conn.execute(self._reads.load, (plan_year, agent_id)).fetchone()
            if row is None:
                raise RegistrationNotFound(agent_id, plan_year)
            return self._snapshot(conn, key, *row)

    def history(self, agent_id: str, plan_year: int) -> tuple[Event, ...]:
        """Return a registration's event log (see :class:`Store`)."""
        key = RegistrationKey(agent_id, plan_year)
        with self._lock, self._errors:
            records = self._records(self._connection(), key, self._dialect.max_seq)
        if not records:
            raise RegistrationNotFound(agent_id, plan_year)
        return records

    def registration_keys(
        self, *, plan_year: int | None = None
    ) -> Iterator[RegistrationKey]:
        """Yield every registration's key, by plan year then agent id."""
        for page in self._pages("plan_year, agent_id", [], [], plan_year):
            for year, agent_id in page:
                yield RegistrationKey(agent_id, year)

    def find(
        self,
        *,
        state: IndividualState | None = None,
        npn: NPN | None = None,
        plan_year: int | None = None,
    ) -> Iterator[Registration]:
        """Yield the snapshots matching every filter (see :class:`Store`)."""
        mark = self._dialect.mark
        where: list[str] = []
        params: list[Any] = []
        if state is not None:
            where.append(f"state = {mark}")
            params.append(IndividualState(state).value)
        if npn is not None:
            where.append(f"npn = {mark}")
            params.append(NPN.parse(str(npn)).value)
        columns = f"plan_year, agent_id, version, {self._dialect.snapshot}, state, npn"
        for page in self._pages(columns, where, params, plan_year):
            yield from self._registrations(page)

    # -- shared steps ----------------------------------------------------------

    def _snapshot(
        self,
        conn: Connection,
        key: RegistrationKey,
        version: int,
        text: str,
        state: str,
        npn: str | None,
    ) -> Registration:
        reg = self._memo.get(key, text, version)
        if reg is None:
            # Events 1..version were committed with this snapshot and never
            # change, so reading them after it needs no transaction.
            records = self._records(conn, key, version)
            reg = decode_snapshot(key, version, text, records)
            self._memo.put(key, text, reg)
        return check_columns(key, reg, state, npn)

    def _records(
        self, conn: Connection, key: RegistrationKey, upto: int
    ) -> tuple[Event, ...]:
        params = (key.plan_year, key.agent_id, upto)
        rows = conn.execute(self._reads.history, params).fetchall()
        return decode_events(key, rows)

    def _version(self, conn: Connection, key: RegistrationKey) -> int:
        row = conn.execute(
            self._reads.version, (key.plan_year, key.agent_id)
        ).fetchone()
        return 0 if row is None else int(row[0])

    def _refusal(
        self, conn: Connection, exc: Exception, reg: Registration, expected: int
    ) -> StoreError:
        """The regflow error for a constraint the database enforced."""
        constraint = self._constraint(exc)
        key = RegistrationKey(reg.agent_id, reg.plan_year)
        if constraint == "npn" and reg.npn is not None:
            npn = (reg.npn.value, reg.plan_year)
            holder = conn.execute(self._reads.holder, npn).fetchone()
            if holder is not None:
                return DuplicateAccount(reg.npn.value, reg.plan_year, *holder)
        elif constraint == "event_id":
            where = (key.plan_year, key.agent_id)
            rows = conn.execute(self._reads.event_ids, where).fetchall()
            taken = {row[0] for row in rows}
            for event in reg.history[expected:]:
                if event.event_id in taken:
                    return IdempotencyConflict(*key, event.event_id)
        elif constraint != "seq":
            return StoreError(f"{self._where} refused registration {tuple(key)}: {exc}")
        # A clashing seq is another writer's append that committed first.
        return ConcurrencyConflict(*key, expected, self._version(conn, key))

    def _registrations(self, page: list[tuple[Any, ...]]) -> Iterable[Registration]:
        """Snapshots from one page of rows, read one at a time as they are asked for."""
        for year, agent_id, *row in page:
            key = RegistrationKey(agent_id, year)
            with self._lock, self._errors:
                reg = self._snapshot(self._connection(), key, *row)
            yield reg

    def _pages(
        self,
        columns: str,
        where: list[str],
        params: Sequence[Any],
        plan_year: int | None,
    ) -> Iterator[list[tuple[Any, ...]]]:
        # Keyset pages: no lock, cursor or transaction is held between them.
        mark = self._dialect.mark
        clauses = list(where)
        fixed = list(params)
        if plan_year is not None:
            clauses.append(f"plan_year = {mark}")
            fixed.append(plan_year)
        clauses.append(f"(plan_year, agent_id) > ({mark}, {mark})")
        # Only the fixed column lists and clauses above go into the text;
        # values are parameters.
        text = (
            f"SELECT {columns} FROM {self._dialect.snapshots} "
            f"WHERE {' AND '.join(clauses)} "
            f"ORDER BY plan_year, agent_id LIMIT {_PAGE}"
        )
        after: tuple[int, str] = (-1, "")
        while True:
            with self._lock, self._errors:
                query = self._render(text)
                rows = self._connection().execute(query, (*fixed, *after)).fetchall()
            if rows:
                yield rows
            if len(rows) < _PAGE:
                return
            after = (rows[-1][0], rows[-1][1])
