"""The outbox: the S22 help-desk e-mail, written once per escalation.

A change-feed consumer (``repository.feed("portal-outbox")``) reads every
stored event; for each ``ContactHelpDesk`` it rebuilds the registration as
that event left it, asks ``regflow.overdue`` for the escalation, and writes
the e-mail into the ``portal_outbox`` table of the same database. A mail
sender (not part of this example) would send the rows and mark them.

Exactly once: the row's key is the escalation's own identity (agency,
agent, plan year, event id) and the insert does nothing when the row
exists, so a change handled again after a crash (the checkpoint is saved
after the rows) writes nothing twice. That holds on SQLite, where the
async store cannot join our transaction, and on PostgreSQL alike.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import sqlite3
from collections.abc import Callable
from typing import Any, Final, Protocol
from zoneinfo import ZoneInfo

import attrs

import regflow
from regflow import events as ev
from regflow.store import AsyncRepository, Change

__all__ = [
    "FEED",
    "Message",
    "Outbox",
    "PostgresOutbox",
    "SQLiteOutbox",
    "deliver",
    "run_worker",
]

FEED: Final = "portal-outbox"
_CMS_TIME: Final = ZoneInfo("America/New_York")  # the day CMS counts in
_LOG = logging.getLogger("portal.outbox")
_COLUMNS: Final = (
    "agency, agent_id, plan_year, event_id, recipient, subject, body, written_at"
)


@attrs.frozen
class Message:
    """One e-mail of the outbox."""

    agency: str
    agent_id: str
    plan_year: int
    event_id: str
    recipient: str
    subject: str
    body: str
    written_at: dt.datetime


class Outbox(Protocol):
    """Where the worker writes e-mails (a table beside regflow's)."""

    async def create(self) -> None:
        """Create the table if it is not there."""

    async def add(self, message: Message) -> bool:
        """Write *message* unless it is there already; whether it was new."""

    async def messages(self, agency: str, limit: int = 50) -> list[Message]:
        """The agency's latest messages, newest first."""


class SQLiteOutbox:
    """The outbox in the SQLite file of the store, on a worker thread."""

    def __init__(self, path: str) -> None:
        self.path = path

    def _connect(self) -> sqlite3.Connection:
        return sqlite3.connect(self.path, timeout=30, isolation_level=None)

    def _run(self, query: str, params: tuple[Any, ...] = ()) -> list[Any]:
        conn = self._connect()
        try:
            cursor = conn.execute(query, params)
            return cursor.fetchall() if cursor.description else [cursor.rowcount]
        finally:
            conn.close()

    async def create(self) -> None:
        """Create the table if it is not there."""
        await asyncio.to_thread(
            self._run,
            "CREATE TABLE IF NOT EXISTS portal_outbox ("
            " agency TEXT NOT NULL, agent_id TEXT NOT NULL,"
            " plan_year INTEGER NOT NULL, event_id TEXT NOT NULL,"
            " recipient TEXT NOT NULL, subject TEXT NOT NULL, body TEXT NOT NULL,"
            " written_at TEXT NOT NULL,"
            " PRIMARY KEY (agency, agent_id, plan_year, event_id))",
        )

    async def add(self, message: Message) -> bool:
        """Write *message* unless it is there already; whether it was new."""
        (count,) = await asyncio.to_thread(
            self._run,
            f"INSERT INTO portal_outbox ({_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?)"
            " ON CONFLICT DO NOTHING",
            _row(message),
        )
        return bool(count)

    async def messages(self, agency: str, limit: int = 50) -> list[Message]:
        """The agency's latest messages, newest first."""
        rows = await asyncio.to_thread(
            self._run,
            f"SELECT {_COLUMNS} FROM portal_outbox WHERE agency = ?"
            " ORDER BY written_at DESC, agent_id LIMIT ?",
            (agency, limit),
        )
        return [_message(row) for row in rows]


class PostgresOutbox:
    """The outbox in the store's PostgreSQL schema, on the portal's pool."""

    def __init__(self, pool: Any, schema: str) -> None:
        from psycopg import sql  # regflow[postgres]; SQLite needs none of it

        self.sql = sql
        self.pool = pool
        self.table = sql.Identifier(schema, "portal_outbox")

    async def _run(self, query: Any, params: tuple[Any, ...] = ()) -> Any:
        async with self.pool.connection() as conn:
            cursor = await conn.execute(query, params)
            return await cursor.fetchall() if cursor.description else cursor.rowcount

    async def create(self) -> None:
        """Create the table if it is not there."""
        await self._run(
            self.sql.SQL(
                "CREATE TABLE IF NOT EXISTS {} ("
                " agency text NOT NULL, agent_id text NOT NULL,"
                " plan_year integer NOT NULL, event_id text NOT NULL,"
                " recipient text NOT NULL, subject text NOT NULL, body text NOT NULL,"
                " written_at timestamptz NOT NULL,"
                " PRIMARY KEY (agency, agent_id, plan_year, event_id))"
            ).format(self.table)
        )

    async def add(self, message: Message) -> bool:
        """Write *message* unless it is there already; whether it was new."""
        count = await self._run(
            self.sql.SQL(
                "INSERT INTO {} (" + _COLUMNS + ") VALUES"
                " (%s, %s, %s, %s, %s, %s, %s, %s) ON CONFLICT DO NOTHING"
            ).format(self.table),
            (*_row(message)[:-1], message.written_at),
        )
        return bool(count)

    async def messages(self, agency: str, limit: int = 50) -> list[Message]:
        """The agency's latest messages, newest first."""
        rows = await self._run(
            self.sql.SQL(
                "SELECT " + _COLUMNS + " FROM {} WHERE agency = %s"
                " ORDER BY written_at DESC, agent_id LIMIT %s"
            ).format(self.table),
            (agency, limit),
        )
        return [_message(row) for row in rows]


def _row(m: Message) -> tuple[Any, ...]:
    return (
        m.agency,
        m.agent_id,
        m.plan_year,
        m.event_id,
        m.recipient,
        m.subject,
        m.body,
        m.written_at.isoformat(),
    )


def _message(row: Any) -> Message:
    written = row[7]
    if isinstance(written, str):
        written = dt.datetime.fromisoformat(written)
    agency, agent_id, plan_year, event_id, recipient, subject, body = row[:7]
    return Message(
        agency, agent_id, plan_year, event_id, recipient, subject, body, written
    )


async def deliver(
    repository: AsyncRepository, outbox: Outbox, *, now: dt.datetime, limit: int = 100
) -> int:
    """Handle every pending change once; return how many e-mails were new.

    *repository* reads the feed: ``agency=ANY_AGENCY`` for every agency.
    """
    feed = repository.feed(FEED)
    written = 0
    while changes := await feed.pending(limit):
        for change in changes:
            if isinstance(change.event, ev.ContactHelpDesk):
                message = await _escalation(repository, change, now)
                if message is not None and await outbox.add(message):
                    written += 1
        await feed.done(changes[-1])  # after the rows: a redo writes nothing twice
    return written


async def _escalation(
    repository: AsyncRepository, change: Change, now: dt.datetime
) -> Message | None:
    key = change.key
    scoped = repository.scoped(key.agency or None)
    history = await scoped.history(key.agent_id, key.plan_year)
    # As the event left it: a later RCL listing must not hide the escalation.
    then = repository.workflows(key.plan_year).replay(history[: change.seq])
    on = change.event.at.astimezone(_CMS_TIME).date()
    for late in regflow.overdue([then], on=on):
        if late.escalation is not None:
            mail = late.escalation
            return Message(
                agency=key.agency,
                agent_id=key.agent_id,
                plan_year=key.plan_year,
                event_id=change.event.event_id,
                recipient=mail.to,
                subject=mail.subject(),
                body=mail.body(),
                written_at=now,
            )
    return None


async def run_worker(
    repository: AsyncRepository,
    outbox: Outbox,
    *,
    clock: Callable[[], dt.datetime],
    every: float,
) -> None:
    """Deliver pending changes every *every* seconds until cancelled."""
    while True:
        try:
            await deliver(repository, outbox, now=clock())
        except Exception:  # a worker that dies silently is worse: log, go on
            _LOG.exception("outbox delivery failed; retrying in %.1fs", every)
        await asyncio.sleep(every)
