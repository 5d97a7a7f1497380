"""Subprocess entry points of ``test_store_processes`` (importable by name for spawn).

Each worker opens its own store from ``(kind, location, schema)``, as a
separate process of a real deployment would, and reports back through a
queue: what it got, and every exception it saw, by type and message.
"""

from __future__ import annotations

import datetime as dt
import os
import random
import signal
import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import attrs

import regflow
from regflow import events as ev
from regflow.store import Repository
from store_fixtures import (
    YEAR,
    Backend,
    agent_id,
    at,
    contended_event,
    lifecycle,
    submit,
)

STAGES = ("begin", "effect", "done", "commit")
"""Where a consumer can be killed: in its transaction before the side effect,
after it, after ``feed.done``, and just after the commit."""


def effects_table(backend: Backend) -> str:
    """The consumer's own table of side effects, next to regflow's tables."""
    if backend.kind == "sqlite":
        return "mailer_sent"
    return f'"{backend.schema}".mailer_sent'


def host_connection(backend: Backend) -> Any:
    """A connection of the host application's own to the backend's database."""
    if backend.kind == "sqlite":
        return sqlite3.connect(backend.location, isolation_level=None, timeout=30)
    import psycopg

    return psycopg.connect(backend.location, autocommit=True)


@contextmanager
def host_transaction(backend: Backend, conn: Any) -> Iterator[None]:
    """One transaction of the host's on *conn*: committed, or rolled back on error."""
    if backend.kind != "sqlite":
        with conn.transaction():
            yield
        return
    # IMMEDIATE: a deferred read-then-write transaction is refused
    # (SQLITE_BUSY) when a writer committed in between.
    conn.execute("BEGIN IMMEDIATE")
    try:
        yield
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")


def host_sql(backend: Backend, text: str) -> str:
    """*text* (``?`` placeholders) in the host driver's paramstyle."""
    return text if backend.kind == "sqlite" else text.replace("?", "%s")


def feed_writer(
    kind: str, location: str, schema: str, me: int, procs: int, agents: int, per: int
) -> None:
    """Test 1's writer: lifecycles of its own agents, interleaved with events
    for the two shared registrations it contends (``me`` and ``me + 1``)."""
    backend = Backend(kind, location, schema)
    tag = f"w{me}"
    lives = [lifecycle(tag, n, npn_block=me + 1) for n in range(agents)]
    own = [
        (agent_id(tag, n), life[step])
        for step in range(len(lives[0]))
        for n, life in enumerate(lives)
    ]
    regs = (me, (me + 1) % procs)
    contended = [
        (agent_id("race", r), contended_event(r, me, k))
        for r in regs
        for k in range(per)
    ]
    random.Random(me).shuffle(contended)
    shared = [(agent_id("race", r), lifecycle("race", r)[0]) for r in regs] + contended
    with backend.repository() as repo:
        for i in range(max(len(own), len(shared))):
            for batch in (own, shared):
                if i < len(batch):
                    submit(repo, batch[i][1], batch[i][0])


def consume(
    kind: str, location: str, schema: str, kill_after: int, stage: str, expected: int
) -> None:
    """Test 2's consumer ``mailer``: one host transaction per change, holding its
    side effect and ``feed.done``. SIGKILLs itself at *stage* of its
    *kill_after*-th change; with ``kill_after=0``, returns once the feed is
    empty and *expected* events have their side effect."""
    backend = Backend(kind, location, schema)
    table = effects_table(backend)
    insert = host_sql(
        backend,
        f"INSERT INTO {table} (agency, plan_year, agent_id, seq, event_id) "
        "VALUES (?, ?, ?, ?, ?)",
    )
    count = f"SELECT count(*) FROM (SELECT DISTINCT agency, plan_year, agent_id, seq FROM {table}) AS d"
    host = host_connection(backend)
    feed = backend.repository().using(host).feed("mailer")
    handled = 0
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        batch = feed.pending(limit=5)
        if not batch:
            if not kill_after and host.execute(count).fetchone()[0] >= expected:
                return
            time.sleep(0.01)  # polling the feed for more
            continue
        for change in batch:
            handled += 1
            kill = stage if handled == kill_after else None
            with host_transaction(backend, host):
                if kill == "begin":
                    os.kill(os.getpid(), signal.SIGKILL)
                key = change.key
                row = (key.agency, key.plan_year, key.agent_id, change.seq)
                host.execute(insert, (*row, change.event.event_id))
                if kill == "effect":
                    os.kill(os.getpid(), signal.SIGKILL)
                feed.done(change)
                if kill == "done":
                    os.kill(os.getpid(), signal.SIGKILL)
            if kill == "commit":
                os.kill(os.getpid(), signal.SIGKILL)
    raise SystemExit(3)  # the feed never drained


def contend_default(
    kind: str,
    location: str,
    schema: str,
    me: int,
    procs: int,
    regs: int,
    per: int,
    barrier: Any,
    out: Any,
) -> None:
    """Test 3's worker: a Repository with default settings racing the others.

    Every worker starts every shared registration (the same event), then
    sends its own SaveProfiles and the next worker's, shuffled. Reports
    ``(me, writes that lost a race, errors seen)``.
    """
    backend = Backend(kind, location, schema)
    store = backend.open()
    lost = 0
    original = store.write

    def counting(*args: Any, **kwargs: Any) -> None:
        nonlocal lost
        try:
            original(*args, **kwargs)
        except regflow.ConcurrencyConflict:
            lost += 1  # a race lost inside the repository, which must recover
            raise

    store.write = counting  # type: ignore[method-assign]
    work = [
        (agent_id("race", r), contended_event(r, worker, k))
        for worker in (me, (me + 1) % procs)
        for r in range(regs)
        for k in range(per)
    ]
    random.Random(me).shuffle(work)
    starts = [(agent_id("race", r), lifecycle("race", r)[0]) for r in range(regs)]
    errors: list[str] = []
    with Repository(store) as repo:
        barrier.wait(timeout=100)  # spawn start-up is slow on a loaded machine
        for agent, event in starts + work:
            try:
                submit(repo, event, agent)
            except Exception as exc:  # reported, and the test fails on it
                errors.append(f"{type(exc).__name__}: {exc}")
    out.put((me, lost, errors))


def resent(r: int, k: int, me: int) -> ev.SaveProfile:
    """Test 4: the same fact for both processes, stamped at another time by each."""
    event = contended_event(r, 0, k)
    return attrs.evolve(event, at=event.at + dt.timedelta(minutes=7 * me))


def clashing(r: int, k: int, me: int) -> ev.SaveProfile:
    """Test 4: one event id, used by each process for a different profile."""
    profile = regflow.Profile(
        role=regflow.Role.MARKETPLACE_AGENT_BROKER,
        contact=regflow.ContactDetails(name=f"P{me}", email="p@x.org", phone="5"),
        npn=str(900_000 + r),
    )
    return ev.SaveProfile(event_id=f"clash-{r}-k{k}", at=at(3, 9 + me), profile=profile)


def resend(
    kind: str,
    location: str,
    schema: str,
    me: int,
    regs: int,
    per: int,
    barrier: Any,
    out: Any,
) -> None:
    """Test 4's worker: sends :func:`resent` events, then :func:`clashing` ones.

    Reports ``("same", me, {event_id: registration returned}, errors)`` and
    ``("clash", me, {event_id: "applied" | "conflict"}, errors)``.
    """
    backend = Backend(kind, location, schema)
    rng = random.Random(me)
    with backend.repository() as repo:
        for phase, make in (("same", resent), ("clash", clashing)):
            work = [(r, make(r, k, me)) for r in range(regs) for k in range(per)]
            rng.shuffle(work)
            got: dict[str, Any] = {}
            errors: list[str] = []
            barrier.wait(timeout=100)  # spawn start-up is slow on a loaded machine
            for r, event in work:
                try:
                    got[event.event_id] = repo.apply(agent_id("race", r), YEAR, event)
                except regflow.IdempotencyConflict:
                    got[event.event_id] = "conflict"
                except Exception as exc:  # reported, and the test fails on it
                    errors.append(f"{type(exc).__name__}: {exc}")
            if phase == "clash":
                got = {k: v if v == "conflict" else "applied" for k, v in got.items()}
            out.put((phase, me, got, errors))
