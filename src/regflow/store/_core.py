"""Every operation of the bundled SQL stores, written once, with no I/O in it.

An operation is a generator: it yields :class:`Query` objects and receives
their results, and returns its value. A driver runs it on a connection: the
synchronous stores on sqlite3 or psycopg connections, the asynchronous one
on psycopg's async connections. So the logic of a load, a write, a listing,
the change feed or an erasure exists once, whatever runs it. Transactions
are the driver's: each operation runs inside one.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any, TypeVar

from .._errors import (
    ConcurrencyConflict,
    CorruptRecord,
    DuplicateAccount,
    RegistrationNotFound,
    StoreError,
)
from .._events import Event
from .._registration import Registration
from ._codec import (
    decode_events,
    decode_snapshot,
    encode_events,
    encode_snapshot,
    needs_key,
    snapshot_row,
)
from ._listings import PAGE, Listings
from ._memo import SnapshotMemo
from ._ops import Constraint, Op, Query, Violation, run
from ._protocol import RegistrationKey
from ._sealing import Sealer, new_key
from ._statements import Statements
from ._writes import check_write

__all__ = ["PAGE", "Constraint", "Core", "Op", "Query", "Violation", "run"]

T = TypeVar("T")


def _key_of(reg: Registration) -> RegistrationKey:
    return RegistrationKey(reg.agent_id, reg.plan_year, reg.agency_id or "")


class Core(Listings):
    """The operations of one SQL store: its statements, memo and names.

    Args:
        statements: the dialect's statements.
        where: the database, as errors name it.
    """

    def __init__(self, statements: Statements, where: str) -> None:
        self.sql = statements
        self.where = where
        self.memo = SnapshotMemo()
        self.lock = threading.RLock()  # guards the memo across threads

    # -- reading one -----------------------------------------------------------

    def sealer(self, key: RegistrationKey, found: tuple[Any, Any] | None) -> Sealer:
        """The sealer of *key*'s agent, from a key row (or none)."""
        sealed = (
            None if found is None or found[0] is None else (found[0], bytes(found[1]))
        )
        return Sealer(
            sealed,
            key.agency,
            key.agent_id,
            lambda problem: self._corrupt(key, problem),
        )

    def _corrupt(self, key: RegistrationKey, problem: str) -> CorruptRecord:
        return CorruptRecord(key.agent_id, key.plan_year, problem, agency=key.agency)

    def load(self, key: RegistrationKey) -> Op[Registration]:
        """The latest snapshot of *key*."""
        row = yield Query(
            self.sql.load, (key.agency, key.plan_year, key.agent_id), "one"
        )
        if row is None:
            raise RegistrationNotFound(key.agent_id, key.plan_year, agency=key.agency)
        version, text, status, individual, shop, npn, key_id, secret = row
        return (
            yield from self._snapshot(
                key, version, text, (status, individual, shop, npn), (key_id, secret)
            )
        )

    def _snapshot(
        self,
        key: RegistrationKey,
        version: int,
        text: Any,
        columns: tuple[Any, ...],
        secret: tuple[Any, Any],
    ) -> Op[Registration]:
        text = text if isinstance(text, str) else str(text)
        with self.lock:
            reg = self.memo.get(key, text, version)
        if reg is None:
            sealer = self.sealer(key, secret)
            # Events 1..version were committed with this snapshot and never
            # change, so reading them after it needs no lock.
            events = yield from self._events(key, version, sealer)
            reg = decode_snapshot(key, version, text, events, sealer)
            with self.lock:
                self.memo.put(key, text, reg)
        return self._checked(key, reg, columns)

    def _checked(
        self, key: RegistrationKey, reg: Registration, columns: tuple[Any, ...]
    ) -> Registration:
        own = (
            reg.status.value,
            reg.individual.value,
            reg.shop.value,
            None if reg.npn is None else reg.npn.value,
        )
        if tuple(columns) != own:
            raise self._corrupt(
                key,
                f"the row's columns say {_columns(columns)}; its snapshot says "
                f"{_columns(own)}",
            )
        return reg

    def _events(
        self, key: RegistrationKey, upto: int, sealer: Sealer
    ) -> Op[tuple[Event, ...]]:
        rows = yield Query(
            self.sql.history, (key.agency, key.plan_year, key.agent_id, upto), "all"
        )
        return decode_events(key, rows, sealer)

    def history(self, key: RegistrationKey) -> Op[tuple[Event, ...]]:
        """*key*'s event log, read from the log itself."""
        secret = yield Query(self.sql.key_get, (key.agency, key.agent_id), "one")
        events = yield from self._events(key, 2**31 - 1, self.sealer(key, secret))
        if not events:
            raise RegistrationNotFound(key.agent_id, key.plan_year, agency=key.agency)
        return events

    # -- writing ---------------------------------------------------------------

    def _sealer_for_write(
        self, reg: Registration, expected: int, reused: bool
    ) -> Op[Sealer]:
        key = _key_of(reg)
        if not needs_key(reg, expected, profile_reused=reused):
            return self.sealer(key, None)
        made = new_key()
        yield Query(self.sql.key_put, (key.agency, key.agent_id, *made))
        found = yield Query(self.sql.key_get, (key.agency, key.agent_id), "one")
        return self.sealer(key, found)

    def write(self, registration: object, expected: int) -> Op[None]:
        """Append the new events and store the snapshot, atomically."""
        reg = check_write(registration, expected)
        key = _key_of(reg)
        with self.lock:
            previous = self.memo.previous(key, expected) if expected else None
        reused = previous is not None and previous[0].profile is reg.profile
        sealer = yield from self._sealer_for_write(reg, expected, reused)
        encoded = encode_snapshot(reg, sealer, previous)
        rows = encode_events(reg.history, expected, sealer)
        columns = snapshot_row(reg, encoded.text)
        where = (key.agency, key.plan_year, key.agent_id)
        if self.sql.dialect.name == "postgresql":
            text = yield from self._write_postgres(reg, expected, where, columns, rows)
        else:
            text = encoded.text
            yield from self._write_sqlite(reg, expected, previous, where, columns, rows)
        with self.lock:
            self.memo.put(key, text, reg, encoded.parts)

    def _write_sqlite(
        self,
        reg: Registration,
        expected: int,
        previous: tuple[Registration, dict[str, str]] | None,
        where: tuple[str, int, str],
        columns: Any,
        rows: list[Any],
    ) -> Op[None]:
        if expected == 0:
            done = yield Query(self.sql.insert, (*where, *columns), "count")
        else:
            old = None if previous is None else previous[0]
            status = old is None or old.status is not reg.status
            npn = old is None or old.npn != reg.npn
            individual = old is None or old.individual is not reg.individual
            params = (
                ([columns.status] if status else [])
                + ([columns.npn] if npn else [])
                + ([columns.individual] if individual else [])
                + [columns.shop, columns.version, columns.snapshot]
            )
            done = yield Query(
                self.sql.update(status=status, npn=npn, individual=individual),
                (*params, *where, expected),
                "count",
            )
        if done != 1:
            yield from self._conflict(_key_of(reg), expected)
        yield Query(self.sql.append, [(*where, *row) for row in rows], many=True)

    def _write_postgres(
        self,
        reg: Registration,
        expected: int,
        where: tuple[str, int, str],
        columns: Any,
        rows: list[Any],
    ) -> Op[str]:
        # One statement, so one round trip: the snapshot if it is still at
        # the version read, then its events.
        arrays = (
            [r.seq for r in rows],
            [r.event_id for r in rows],
            [r.kind for r in rows],
            [r.at for r in rows],
            [r.body for r in rows],
        )
        d = self.sql.dialect
        if expected == 0:
            snap = (
                f"INSERT INTO {d.registrations} (agency, plan_year, agent_id, "
                "portal_account_id, status, individual, shop, npn, version, snapshot) "
                "VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s::jsonb) "
                "ON CONFLICT (agency, plan_year, agent_id) DO NOTHING "
                "RETURNING snapshot::text AS text"
            )
            params: tuple[Any, ...] = (*where, *columns)
        else:
            snap = (
                f"UPDATE {d.registrations} SET status = %s, individual = %s, "
                "shop = %s, npn = %s, version = %s, snapshot = %s::jsonb "
                "WHERE agency = %s AND plan_year = %s AND agent_id = %s AND version = %s "
                "RETURNING snapshot::text AS text"
            )
            params = (*columns[1:], *where, expected)
        # The feed reads in (tx, position) order. A transaction's id is given
        # at its first write, which may be before the previous event of this
        # registration committed (a host's own row written first): so tx is
        # at least that event's, keeping each registration's events in order.
        # It stays >= the real id, so "tx < xmin" still means "finished".
        statement = (
            f"WITH snap AS ({snap}), ins AS ("
            f"INSERT INTO {d.log} (agency, plan_year, agent_id, seq, event_id, kind, "
            "at, body, tx) SELECT %s, %s, %s, e.seq, e.event_id, e.kind, e.at, e.body, "
            f"greatest(pg_current_xact_id(), (SELECT p.tx FROM {d.log} AS p "
            "WHERE p.agency = %s AND p.plan_year = %s AND p.agent_id = %s "
            "AND p.seq = %s)) "
            "FROM snap, unnest(%s::integer[], %s::text[], %s::text[], "
            "%s::timestamptz[], %s::jsonb[]) AS e(seq, event_id, kind, at, body) "
            "RETURNING 1) SELECT (SELECT text FROM snap), (SELECT count(*) FROM ins)"
        )
        row = yield Query(
            statement, (*params, *where, *where, expected, *arrays), "one"
        )
        if row is None or row[0] is None:
            yield from self._conflict(_key_of(reg), expected)
        text: str = row[0]
        return text

    def _conflict(self, key: RegistrationKey, expected: int) -> Op[None]:
        row = yield Query(
            self.sql.version, (key.agency, key.plan_year, key.agent_id), "one"
        )
        actual = 0 if row is None else int(row[0])
        raise ConcurrencyConflict(
            key.agent_id, key.plan_year, expected, actual, agency=key.agency
        )

    def violation(
        self, registration: Registration, expected: int, found: Violation
    ) -> Op[StoreError]:
        """The regflow error for a constraint the database enforced in a write."""
        key = _key_of(registration)
        if found.constraint == "npn" and registration.npn is not None:
            holder = yield Query(
                self.sql.holder,
                (key.agency, registration.npn.value, registration.plan_year),
                "one",
            )
            if holder is not None:
                return DuplicateAccount(
                    registration.npn.value,
                    registration.plan_year,
                    *holder,
                    agency=key.agency,
                )
        elif found.constraint != "seq":
            return StoreError(f"{self.where} refused {tuple(key)}: {found.error}")
        # A clashing seq is another writer's append that committed first.
        row = yield Query(
            self.sql.version, (key.agency, key.plan_year, key.agent_id), "one"
        )
        return ConcurrencyConflict(
            key.agent_id,
            key.plan_year,
            expected,
            0 if row is None else int(row[0]),
            agency=key.agency,
        )

    def lock_version(self, key: RegistrationKey) -> Op[int | None]:
        """Lock *key*'s row for the rest of the transaction; return its version.

        SQLite's write transaction locks the whole database already.
        """
        statement = (
            self.sql.lock if self.sql.dialect.name == "postgresql" else self.sql.version
        )
        row = yield Query(statement, (key.agency, key.plan_year, key.agent_id), "one")
        return None if row is None else int(row[0])

    def restore(self, registration: object) -> Op[None]:
        """Replace a snapshot with one rebuilt from the log."""
        reg = check_write(registration, 0)
        key = _key_of(reg)
        where = (key.agency, key.plan_year, key.agent_id)
        yield from self.lock_version(key)
        last = yield Query(self.sql.last_seq, where, "one")
        if last is None or last[0] is None:
            raise RegistrationNotFound(key.agent_id, key.plan_year, agency=key.agency)
        if last[0] != reg.version:
            raise ConcurrencyConflict(
                key.agent_id, key.plan_year, reg.version, last[0], agency=key.agency
            )
        sealer = yield from self._sealer_for_write(reg, reg.version, False)
        encoded = encode_snapshot(reg, sealer)
        done = yield Query(
            self.sql.restore, (*snapshot_row(reg, encoded.text), *where), "count"
        )
        if done != 1:  # pragma: no cover - the foreign key keeps the row
            raise RegistrationNotFound(key.agent_id, key.plan_year, agency=key.agency)
        with self.lock:
            self.memo.forget(key)

    # -- deciding under the row's lock; erasure -------------------------------

    def decided(
        self,
        key: RegistrationKey,
        decide: Callable[[Registration], Registration | None],
    ) -> Op[Registration]:
        """Lock *key*'s row, load it, write what *decide* makes of it (if anything)."""
        yield from self.lock_version(key)
        reg = yield from self.load(key)
        new = decide(reg)
        if new is None:
            return reg
        yield from self.write(new, reg.version)
        return new

    def erase_agent(
        self,
        agency: str,
        agent_id: str,
        decide: Callable[[Registration], Registration | None],
    ) -> Op[list[Registration]]:
        """Each of the agent's registrations as *decide* makes it (the erasure
        appended), then its key deleted: one transaction's worth."""
        d = self.sql.dialect
        rows = yield Query(
            f"SELECT plan_year FROM {d.registrations} WHERE agency = {d.mark} "
            f"AND agent_id = {d.mark} ORDER BY plan_year",
            (agency, agent_id),
            "all",
        )
        found = []
        for (year,) in rows:
            reg = yield from self.decided(
                RegistrationKey(agent_id, year, agency), decide
            )
            found.append(reg)
        yield from self.delete_key(agency, agent_id)
        return found

    def delete_key(self, agency: str, agent_id: str) -> Op[None]:
        """Delete an agent's sealing key: its sealed contact details read as erased."""
        yield Query(self.sql.key_delete, (agency, agent_id))
        with self.lock:
            self.memo.forget_agent(agency, agent_id)


def _columns(values: tuple[Any, ...]) -> str:
    names = ("status", "individual", "shop", "npn")
    return ", ".join(
        f"{name} {value!r}" for name, value in zip(names, values, strict=True)
    )
