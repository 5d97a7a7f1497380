"""What the synchronous SQL stores share: running operations in transactions.

:class:`SQLStore` drives the operations of ``_core`` on a connection, each in
one transaction: its own (begun and committed here) or, when the connection
is inside a transaction of the host application's, a savepoint of that
transaction, which the host commits or rolls back with its own rows. A
backend supplies the connection, how a transaction and a savepoint begin and
end, and how its driver names the constraint a write broke.
"""

from __future__ import annotations

import abc
import copy
import itertools
import threading
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from typing import Any, ClassVar, Final, TypeVar

from .._errors import StoreError
from .._events import Event
from .._npn import NPN
from .._registration import Registration
from .._states import IndividualState, ShopState, Status
from ._core import PAGE, Constraint, Core, Op, Query, Violation, run
from ._protocol import ANY_AGENCY, Agency, Change, Closing, RegistrationKey

__all__ = ["SQLStore", "Unit"]

T = TypeVar("T")
_savepoints: Final = itertools.count(1)


class Unit:
    """One connection's transaction, as the operations of a store see it.

    Attributes:
        conn: the connection.
        owned: whether this unit began the transaction (and so commits it).
    """

    __slots__ = ("conn", "owned")

    def __init__(self, conn: Any, owned: bool) -> None:
        self.conn = conn
        self.owned = owned


class SQLStore(Closing, abc.ABC):
    """The protocol and the extras of the SQL stores, over one driver.

    A backend sets ``name`` and ``_driver_error`` and implements the
    abstract methods. Every public method runs in one transaction.
    """

    name: ClassVar[str] = "SQL store"
    _driver_error: ClassVar[type[BaseException]] = Exception

    def __init__(self, core: Core) -> None:
        self._core = core
        self._closed = False
        self._local = threading.local()  # the unit a thread is inside, if any
        self._fixed: Any = None  # the host's connection of a view (using())

    def using(self, connection: Any) -> SQLStore:
        """This store on the host's *connection*: the same tables and memo.

        Inside a transaction the host opened on it, every write joins that
        transaction (as a savepoint); the host commits or rolls back. The
        view needs no closing; closing it leaves the store open.
        """
        self._check_connection(connection)
        view = copy.copy(self)
        view._local = threading.local()
        view._fixed = connection
        return view

    @abc.abstractmethod
    def _check_connection(self, connection: Any) -> None:
        """Raise InvalidValue unless *connection* is this driver's connection."""

    # -- what a backend supplies -----------------------------------------------

    @abc.abstractmethod
    def _connect(self) -> AbstractContextManager[Any]:
        """A connection for one unit of work (checked out and back in)."""

    @abc.abstractmethod
    def _begin(self, conn: Any, write: bool) -> bool:
        """Begin a transaction on *conn* unless one is open; return whether begun."""

    @abc.abstractmethod
    def _end(self, conn: Any, commit: bool) -> None:
        """Commit, or roll back, the transaction this store began on *conn*."""

    @abc.abstractmethod
    def _execute(self, conn: Any, query: Query) -> Any:
        """Run *query* on *conn* and fetch what it asks for."""

    @abc.abstractmethod
    def _constraint(self, exc: BaseException) -> Constraint | None:
        """Which constraint the driver's integrity error *exc* names, if one."""

    def _reads_alone(self, conn: Any) -> bool:
        """Whether a read may run on *conn* without a transaction of its own:
        the connection is in autocommit mode and outside any transaction.

        A read needs none: the events a snapshot was written with never
        change, so reading them after the snapshot row is consistent. That
        saves a read its BEGIN and COMMIT round trips.
        """
        return False

    def _is_integrity(self, exc: BaseException) -> bool:
        """Whether *exc* is the driver's integrity (constraint) error."""
        return False

    def _translate(self, exc: BaseException) -> StoreError:
        """The :class:`StoreError` standing for one of the driver's errors."""
        return StoreError(f"{self._core.where}: {exc}")

    # -- running ---------------------------------------------------------------

    def _unit(self) -> Unit | None:
        unit: Unit | None = getattr(self._local, "unit", None)
        return unit

    @contextmanager
    def _transaction(self, write: bool = True) -> Iterator[Unit]:
        """One transaction, or a savepoint inside the one already open."""
        if self._closed:
            raise StoreError(f"this {self.name} is closed; open a new one")
        outer = self._unit()
        if outer is not None:
            with self._savepoint(outer.conn):
                yield outer
            return
        source = (
            nullcontext(self._fixed) if self._fixed is not None else self._connect()
        )
        with source as conn:
            if not write and self._reads_alone(conn):
                self._local.unit = unit = Unit(conn, owned=False)
                try:
                    yield unit
                finally:
                    self._local.unit = None
                return
            owned = self._begin(conn, write)
            unit = Unit(conn, owned)
            if not owned:
                # The host's transaction: regflow's writes join it under a
                # savepoint, and the host commits or rolls back.
                with self._savepoint(conn):
                    self._local.unit = unit
                    try:
                        yield unit
                    finally:
                        self._local.unit = None
                return
            self._local.unit = unit
            try:
                yield unit
            except BaseException:
                self._local.unit = None
                self._end(conn, commit=False)
                raise
            self._local.unit = None
            self._end(conn, commit=True)

    @contextmanager
    def _savepoint(self, conn: Any) -> Iterator[None]:
        name = f"regflow_{next(_savepoints)}"
        self._raw(conn, f"SAVEPOINT {name}")
        try:
            yield
        except BaseException:
            self._raw(conn, f"ROLLBACK TO SAVEPOINT {name}")
            self._raw(conn, f"RELEASE SAVEPOINT {name}")
            raise
        self._raw(conn, f"RELEASE SAVEPOINT {name}")

    def _raw(self, conn: Any, sql: str) -> None:
        self._execute(conn, Query(sql, ()))

    def _run(self, op: Op[T], *, write: bool = True) -> T:
        try:
            with self._transaction(write) as unit:
                return run(lambda q: self._query(unit.conn, q), op)
        except Violation:
            raise
        except self._driver_error as exc:
            raise self._translate(exc) from exc

    def _query(self, conn: Any, query: Query) -> Any:
        try:
            return self._execute(conn, query)
        except self._driver_error as exc:
            if self._is_integrity(exc):
                raise Violation(self._constraint(exc), exc) from exc
            raise

    def transaction(self) -> AbstractContextManager[Unit]:
        """A unit of work: every store call inside the block commits together.

        Inside a transaction the host already opened on the store's
        connection, it is a savepoint of it. Used by
        :meth:`~regflow.store.Repository.erase`, which writes several
        registrations and deletes a key at once.
        """
        return self._transaction(True)

    # -- the protocol ----------------------------------------------------------

    def close(self) -> None:
        """Close what the store holds; it is unusable afterwards."""
        if self._fixed is not None:
            return  # a view of another store: that store holds the resources
        self._closed = True
        with self._core.lock:
            self._core.memo.clear()

    def load(self, agent_id: str, plan_year: int, agency: str = "") -> Registration:
        """Return the latest snapshot of a registration (see :class:`Store`)."""
        return self._run(
            self._core.load(RegistrationKey(agent_id, plan_year, agency)), write=False
        )

    def write(self, registration: Registration, *, expected_version: int) -> None:
        """Append the new events and store the snapshot, atomically (see :class:`Store`)."""
        try:
            self._run(self._core.write(registration, expected_version))
        except Violation as found:
            raise self._run(
                self._core.violation(registration, expected_version, found), write=False
            ) from found.error

    def restore(self, registration: Registration) -> None:
        """Replace a snapshot with one rebuilt from the log (see :class:`Store`)."""
        try:
            self._run(self._core.restore(registration))
        except Violation as found:
            raise self._run(
                self._core.violation(registration, registration.version, found),
                write=False,
            ) from found.error

    def history(
        self, agent_id: str, plan_year: int, agency: str = ""
    ) -> tuple[Event, ...]:
        """Return a registration's event log (see :class:`Store`)."""
        return self._run(
            self._core.history(RegistrationKey(agent_id, plan_year, agency)),
            write=False,
        )

    def registration_keys(
        self, *, agency: Agency = ANY_AGENCY, plan_year: int | None = None
    ) -> Iterator[RegistrationKey]:
        """Yield the stored registrations' keys, in key order, a page at a time."""
        after: RegistrationKey | None = None
        while True:
            page = self._run(
                self._core.keys(agency=agency, plan_year=plan_year, after=after),
                write=False,
            )
            yield from page
            if len(page) < PAGE:
                return
            after = page[-1]

    def find(
        self,
        *,
        agency: Agency = ANY_AGENCY,
        plan_year: int | None = None,
        status: Status | None = None,
        individual: IndividualState | None = None,
        shop: ShopState | None = None,
        npn: NPN | None = None,
    ) -> Iterator[Registration]:
        """Yield the snapshots matching every filter, a page at a time (keyset)."""
        after: RegistrationKey | None = None
        while True:
            page = self.page(
                agency=agency,
                plan_year=plan_year,
                status=status,
                individual=individual,
                shop=shop,
                npn=npn,
                after=after,
            )
            yield from page
            if len(page) < PAGE:
                return
            last = page[-1]
            after = RegistrationKey(last.agent_id, last.plan_year, last.agency_id or "")

    # -- the extras: listings, the feed, erasure, locked decisions ------------

    def page(
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
        return self._run(
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

    def count(
        self,
        *,
        agency: Agency,
        plan_year: int | None = None,
        status: Status | None = None,
        individual: IndividualState | None = None,
        shop: ShopState | None = None,
    ) -> int:
        """How many registrations match every filter."""
        return self._run(
            self._core.count(
                agency=agency,
                plan_year=plan_year,
                status=status,
                individual=individual,
                shop=shop,
            ),
            write=False,
        )

    def changes(self, *, after: int, limit: int, agency: Agency) -> list[Change]:
        """The stored events after position *after* (see ``Repository.changes``)."""
        return self._run(
            self._core.changes(after=after, limit=limit, agency=agency), write=False
        )

    def checkpoint(self, name: str) -> int | None:
        """A consumer's saved position, or ``None``."""
        return self._run(self._core.checkpoint(name), write=False)

    def save_checkpoint(self, name: str, position: int) -> None:
        """Save a consumer's position (in the host's transaction, if one is open)."""
        self._run(self._core.save_checkpoint(name, position))

    def delete_key(self, agency: str, agent_id: str) -> None:
        """Delete an agent's sealing key (inside an erasure's transaction)."""
        self._run(self._core.delete_key(agency, agent_id))

    def decide(
        self,
        key: RegistrationKey,
        decide: Callable[[Registration], Registration | None],
    ) -> Registration:
        """Lock the registration, load it, let *decide* make the next snapshot,
        write it, in one transaction: no other writer can come between.

        *decide* returns the new registration, or ``None`` to write nothing
        (the snapshot as loaded is returned then); it may raise to refuse.
        """
        try:
            return self._run(self._core.decided(key, decide))
        except Violation as found:
            reg = self.load(*key)
            raise self._run(
                self._core.violation(reg, reg.version, found), write=False
            ) from found.error

    def erase_agent(
        self,
        agency: str,
        agent_id: str,
        decide: Callable[[Registration], Registration | None],
    ) -> list[Registration]:
        """Each of an agent's registrations as *decide* makes it, then its
        sealing key deleted, in one transaction (see ``Repository.erase``)."""
        return self._run(self._core.erase_agent(agency, agent_id, decide))
