"""The listings and the change feed of the SQL stores, as operations.

Listings are keyset-paged in key order (agency, plan year, agent id); the
feed is read in an order that never skips a committed event (see
``_statements``). Every filter is a parameter; the agency is the first
column of every key and index, so one agency's rows are read as a range.
"""

from __future__ import annotations

import datetime as dt
import threading
from typing import Any, Final

from .._npn import NPN
from .._registration import Registration
from .._states import IndividualState, ShopState, Status
from ._codec import decode_events
from ._ops import Op, Query
from ._protocol import ANY_AGENCY, Agency, Change, RegistrationKey
from ._sealing import Sealer
from ._statements import Statements, filters

__all__ = ["PAGE", "Listings"]

PAGE: Final = 500
"""The most rows one listing query reads."""


class Listings:
    """The read-only operations of :class:`~regflow.store._core.Core`."""

    sql: Statements
    lock: threading.RLock

    def sealer(self, key: RegistrationKey, found: tuple[Any, Any] | None) -> Sealer:
        raise NotImplementedError  # Core's

    def _snapshot(
        self,
        key: RegistrationKey,
        version: int,
        text: Any,
        columns: tuple[Any, ...],
        secret: tuple[Any, Any],
    ) -> Op[Registration]:
        raise NotImplementedError  # Core's

    # -- listings --------------------------------------------------------------

    def _filters(
        self,
        agency: Agency,
        plan_year: int | None,
        status: Status | None = None,
        individual: IndividualState | None = None,
        shop: ShopState | None = None,
        npn: NPN | None = None,
    ) -> tuple[str, list[Any]]:
        """The WHERE clause of the filters given, and its parameters in order."""
        scoped = agency is not ANY_AGENCY
        values = (
            (agency if isinstance(agency, str) else "") if scoped else None,
            plan_year,
            None if status is None else Status(status).value,
            None if individual is None else IndividualState(individual).value,
            None if shop is None else ShopState(shop).value,
            None if npn is None else NPN.parse(str(npn)).value,
        )
        where = filters(
            self.sql.dialect,
            agency=scoped,
            plan_year=plan_year is not None,
            status=status is not None,
            individual=individual is not None,
            shop=shop is not None,
            npn=npn is not None,
        )
        return where, [value for value in values if value is not None]

    def page(
        self,
        *,
        agency: Agency,
        plan_year: int | None,
        status: Status | None = None,
        individual: IndividualState | None = None,
        shop: ShopState | None = None,
        npn: NPN | None = None,
        after: RegistrationKey | None = None,
        limit: int = PAGE,
    ) -> Op[list[Registration]]:
        """Up to *limit* snapshots matching every filter, after *after*, in key order."""
        where, params = self._filters(agency, plan_year, status, individual, shop, npn)
        start = after or RegistrationKey("", -1, "")
        rows = yield Query(
            self.sql.listing(where, limit),
            (*params, start.agency, start.plan_year, start.agent_id),
            "all",
        )
        found = []
        for agency_key, year, agent, version, text, *columns, key_id, secret in rows:
            key = RegistrationKey(agent, year, agency_key)
            reg = yield from self._snapshot(
                key, version, text, tuple(columns), (key_id, secret)
            )
            found.append(reg)
        return found

    def count(
        self,
        *,
        agency: Agency,
        plan_year: int | None,
        status: Status | None = None,
        individual: IndividualState | None = None,
        shop: ShopState | None = None,
    ) -> Op[int]:
        """How many registrations match every filter."""
        where, params = self._filters(agency, plan_year, status, individual, shop)
        row = yield Query(self.sql.count(where), params, "one")
        return int(row[0])

    def keys(
        self,
        *,
        agency: Agency,
        plan_year: int | None,
        after: RegistrationKey | None = None,
        limit: int = PAGE,
    ) -> Op[list[RegistrationKey]]:
        """Up to *limit* registration keys, after *after*, in key order."""
        where, params = self._filters(agency, plan_year)
        start = after or RegistrationKey("", -1, "")
        rows = yield Query(
            self.sql.keys_page(where, limit),
            (*params, start.agency, start.plan_year, start.agent_id),
            "all",
        )
        return [
            RegistrationKey(agent, year, agency_key) for agency_key, year, agent in rows
        ]

    # -- the change feed -------------------------------------------------------

    def changes(self, *, after: int, limit: int, agency: Agency) -> Op[list[Change]]:
        """The stored events after position *after*, in an order that skips none."""
        scoped = agency is not ANY_AGENCY
        statement = self.sql.changes(agency=scoped, limit=limit)
        params: list[Any] = (
            [after] if self.sql.dialect.name == "sqlite" else [after, after]
        )
        if scoped:
            params.append(agency if isinstance(agency, str) else "")
        rows = yield Query(statement, params, "all")
        found = []
        for (
            position,
            agency_key,
            year,
            agent,
            seq,
            body,
            recorded,
            key_id,
            secret,
        ) in rows:
            key = RegistrationKey(agent, year, agency_key)
            (event,) = decode_events(
                key, [(1, body)], self.sealer(key, (key_id, secret))
            )
            found.append(
                Change(
                    position=int(position),
                    key=key,
                    seq=int(seq),
                    event=event,
                    recorded_at=_recorded(recorded),
                )
            )
        return found

    def checkpoint(self, name: str) -> Op[int | None]:
        """A consumer's last position, or ``None`` if it never saved one."""
        row = yield Query(self.sql.checkpoint, (name,), "one")
        return None if row is None else int(row[0])

    def save_checkpoint(self, name: str, position: int) -> Op[None]:
        """Move a consumer's checkpoint to *position*."""
        yield Query(self.sql.save_checkpoint, (name, position))


def _recorded(value: Any) -> dt.datetime:
    # psycopg gives timestamptz as aware datetimes; SQLite gives its text.
    if isinstance(value, dt.datetime):
        return value if value.utcoffset() is not None else value.replace(tzinfo=dt.UTC)
    return dt.datetime.fromisoformat(str(value))
