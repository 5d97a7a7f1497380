"""The change feed, durable consumers and idempotent retries, across processes.

Every test runs on SQLite and on PostgreSQL (the ``backend`` fixture). Workers
are spawned processes with stores of their own (``process_workers``). On
PostgreSQL the feed hands out a row only once every transaction older than
it is over, and that horizon is the whole server's: an unrelated open
transaction holds it back for a while, so the tests poll the feed until it
drains (with a deadline) instead of expecting it to be complete at once.
"""

from __future__ import annotations

import itertools
import multiprocessing
import random
import signal
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import pytest

import regflow
from process_workers import (
    STAGES,
    clashing,
    consume,
    contend_default,
    effects_table,
    feed_writer,
    host_connection,
    resend,
    resent,
)
from regflow import events as ev
from regflow.store import Change, RegistrationKey, Repository
from store_fixtures import (  # noqa: F401 - backend_fixture is a fixture
    YEAR,
    Backend,
    agent_id,
    backend_fixture,
    contended_event,
    lifecycle,
    run_batch,
    submit,
)

CTX = multiprocessing.get_context("spawn")
JOIN = 120  # seconds any one process may take
FLOW = regflow.Workflow.for_plan_year(YEAR)


def _args(backend: Backend) -> tuple[str, str, str]:
    return (backend.kind, backend.location, backend.schema)


def _join(processes: list[Any]) -> list[int | None]:
    for process in processes:
        process.join(timeout=JOIN)
    for process in processes:
        if process.is_alive():  # a hung worker: stop it, and fail below
            process.kill()
            process.join(timeout=10)
    return [p.exitcode for p in processes]


def _logs(repo: Repository) -> dict[RegistrationKey, tuple[ev.Event, ...]]:
    """Every registration's event log, read from the log itself."""
    return {key: repo.store.history(*key) for key in repo.store.registration_keys()}


def _drain(repo: Repository, after: int, count: int, *, limit: int = 5) -> list[Change]:
    """Read the feed after *after* until at least *count* changes came and a
    read comes back empty (or 60 s pass: the caller's assertions then fail)."""
    got: list[Change] = []
    deadline = time.monotonic() + 60
    while True:
        page = repo.changes(after=after, limit=limit)
        got.extend(page)
        if page:
            after = page[-1].position
        elif len(got) >= count or time.monotonic() > deadline:
            return got
        else:
            time.sleep(0.01)  # polling: the server-wide horizon will move


def _feed_order(backend: Backend) -> Callable[[int], tuple[int, int]]:
    """The key the feed is ordered by, for a position: the position on SQLite,
    (writing transaction, position) on PostgreSQL."""
    if backend.kind == "sqlite":
        return lambda position: (0, position)
    tx = dict(backend.sql("SELECT position, tx::text FROM {log}"))
    return lambda position: (int(tx[position]), position)


def _assert_exactly_once(
    backend: Backend, handed: list[Change], logs: dict[RegistrationKey, Any]
) -> None:
    """*handed* is every stored event once, in feed order, each registration's
    in seq order."""
    seen = [(c.key, c.seq) for c in handed]
    dupes = {s for s in seen if seen.count(s) > 1}
    assert not dupes, f"handed out twice: {sorted(dupes)}"
    expected = {
        (key, seq): e for key, log in logs.items() for seq, e in enumerate(log, 1)
    }
    missing = set(expected) - set(seen)
    assert not missing, f"never handed out: {sorted(missing)}"
    assert set(seen) == set(expected), "handed out events that are not stored"
    assert all(c.event == expected[(c.key, c.seq)] for c in handed)
    for key, log in logs.items():
        seqs = [c.seq for c in handed if c.key == key]
        assert seqs == list(range(1, len(log) + 1)), f"{key}: out of seq order"
    # SQLite numbers events in commit order, so positions increase. PostgreSQL
    # orders by (transaction id, position): a transaction that got its id
    # first may take a later position, so there only that pair increases.
    order = _feed_order(backend)
    keys = [order(c.position) for c in handed]
    assert all(a < b for a, b in itertools.pairwise(keys)), "feed order"


# -- 1. the change feed: exactly once under concurrent writers -----------------

WRITERS = 4
AGENTS = 3  # each writer's own, ten events each
PER = 4  # SaveProfiles per writer and shared registration


def test_feed_hands_out_every_event_once_under_concurrent_writers(
    backend: Backend,
) -> None:
    """4 writers (own lifecycles, and shared registrations two of them contend)
    while the test reads the feed in small pages: every stored event comes
    once, no gaps, in feed order, each registration's in seq order."""
    with backend.repository() as reader:
        writers = [
            CTX.Process(
                target=feed_writer,
                args=(*_args(backend), me, WRITERS, AGENTS, PER),
            )
            for me in range(WRITERS)
        ]
        for writer in writers:
            writer.start()
        handed: list[Change] = []
        after = 0
        deadline = time.monotonic() + JOIN
        while any(w.is_alive() for w in writers) and time.monotonic() < deadline:
            page = reader.changes(after=after, limit=3)
            handed.extend(page)
            if page:
                after = page[-1].position
            else:
                time.sleep(0.001)  # polling the feed
        during = len(handed)
        assert _join(writers) == [0] * WRITERS
        logs = _logs(reader)
        total = sum(len(log) for log in logs.values())
        assert total == WRITERS * (AGENTS * 10 + 1 + 2 * PER)
        handed += _drain(reader, after, total - len(handed))
        assert during > 0, "the feed was never read while the writers wrote"
        _assert_exactly_once(backend, handed, logs)


@contextmanager
def _host(backend: Backend) -> Iterator[Any]:
    """A connection of the host's inside a transaction of its own, committed
    on leaving the block. On SQLite a deferred ``BEGIN``: its first write takes
    the database's write lock."""
    conn = host_connection(backend)
    try:
        conn.execute("BEGIN")
        yield conn
        conn.execute("COMMIT")
    finally:
        conn.close()


class _Blocked(threading.Thread):
    """*work* in a thread that the test shows is held up (SQLite's write lock)."""

    def __init__(self, work: Callable[[], object]) -> None:
        super().__init__(daemon=True)
        self.work = work
        self.started = threading.Event()
        self.error: BaseException | None = None

    def run(self) -> None:
        self.started.set()
        try:
            self.work()
        except BaseException as exc:  # reported by finish()
            self.error = exc

    def held_up(self) -> bool:
        """Whether the work is still waiting a moment after it began."""
        self.start()
        assert self.started.wait(10)
        self.join(timeout=0.3)
        return self.is_alive()

    def finish(self) -> None:
        self.join(timeout=JOIN)
        assert not self.is_alive() and self.error is None, self.error


def _position(conn: Any, backend: Backend, agent: str, seq: int) -> int:
    """The position of *agent*'s event *seq*, as the host's *conn* sees it."""
    mark = "?" if backend.kind == "sqlite" else "%s"
    text = (
        f"SELECT position FROM {backend.table('log')} "
        f"WHERE agent_id = {mark} AND seq = {mark}"
    )
    return int(conn.execute(text, (agent, seq)).fetchone()[0])


def test_feed_waits_for_a_transaction_that_took_an_earlier_position(
    backend: Backend,
) -> None:
    """A takes a position in the host's open transaction, B commits a later
    one: the feed hands out neither until A commits, then A's and B's, in that
    order (a feed that handed out B first would skip A, behind its cursor)."""
    a, b = agent_id("ooo", 0), agent_id("ooo", 1)
    with backend.repository() as reader, backend.repository() as other:
        for n, agent in enumerate((a, b)):
            submit(reader, lifecycle("ooo", n)[0], agent)
        after = _drain(reader, 0, 2)[-1].position
        a_event, b_event = lifecycle("ooo", 0)[1], lifecycle("ooo", 1)[1]
        with _host(backend) as conn:
            reader.using(conn).apply(a, YEAR, a_event)
            a_position = _position(conn, backend, a, 2)
            if backend.kind == "sqlite":
                # SQLite serializes writers: A holds the write lock from its
                # position to its commit, so B cannot take a position, let
                # alone commit, in between: the out-of-order commit cannot
                # arise. B waits; the feed shows nothing of either meanwhile.
                blocked = _Blocked(lambda: other.apply(b, YEAR, b_event))
                assert blocked.held_up(), "B wrote while A held the write lock"
            else:
                other.apply(b, YEAR, b_event)  # B commits while A is open
                ((b_position,),) = backend.sql(
                    "SELECT position FROM {log} WHERE agent_id = ? AND seq = 2", (b,)
                )
                assert a_position < b_position
            assert reader.changes(after=after, limit=10) == []
        if backend.kind == "sqlite":
            blocked.finish()
        got = _drain(reader, after, 2)
        assert [(c.key.agent_id, c.seq) for c in got] == [(a, 2), (b, 2)]
        assert got[0].position == a_position < got[1].position


def test_feed_keeps_a_registrations_order_when_the_host_began_first(
    backend: Backend,
) -> None:
    """The host writes a row of its own, B then commits seq 2 of a registration,
    and the host's transaction appends seq 3: the feed hands out 2 before 3
    (on PostgreSQL the host's transaction id is the older one)."""
    agent = agent_id("race", 0)
    with backend.repository() as reader, backend.repository() as other:
        backend.sql(f"CREATE TABLE {effects_table(backend)} (note TEXT)")
        submit(reader, lifecycle("race", 0)[0], agent)
        after = _drain(reader, 0, 1)[-1].position
        mine, theirs = contended_event(0, 0, 0), contended_event(0, 1, 0)
        with _host(backend) as conn:
            conn.execute(f"INSERT INTO {effects_table(backend)} VALUES ('host')")
            if backend.kind == "sqlite":
                # The host's insert holds SQLite's write lock: B waits, and
                # its write comes after the host's commit, as seq 3.
                blocked = _Blocked(lambda: other.apply(agent, YEAR, theirs))
                assert blocked.held_up()
                reader.using(conn).apply(agent, YEAR, mine)
            else:
                other.apply(agent, YEAR, theirs)  # seq 2, committed
                assert reader.using(conn).apply(agent, YEAR, mine).version == 3
        if backend.kind == "sqlite":
            blocked.finish()
        got = _drain(reader, after, 2)
        assert [c.seq for c in got] == [2, 3]
        assert got[0].position < got[1].position


def test_feed_skips_nothing_when_an_older_transaction_commits_first(
    backend: Backend,
) -> None:
    """H1 gets its transaction id first (a row of its own); H2 then takes a
    position and stays open while H1 takes a later one and commits: the feed
    hands out H1's event, then H2's once H2 commits. (A feed in position order
    would have moved its cursor past H2's position, and skip it.)"""
    a, b = agent_id("ooo", 0), agent_id("ooo", 1)
    with backend.repository() as reader:
        backend.sql(f"CREATE TABLE {effects_table(backend)} (note TEXT)")
        for n, agent in enumerate((a, b)):
            submit(reader, lifecycle("ooo", n)[0], agent)
        after = _drain(reader, 0, 2)[-1].position
        a_event, b_event = lifecycle("ooo", 0)[1], lifecycle("ooo", 1)[1]
        with _host(backend) as h1:
            h1.execute(f"INSERT INTO {effects_table(backend)} VALUES ('h1')")
            if backend.kind == "sqlite":
                # H1's row holds the write lock: H2 cannot take a position
                # until H1 commits, so the case cannot arise; H2 comes after.
                with backend.repository() as other:
                    blocked = _Blocked(lambda: other.apply(b, YEAR, b_event))
                    assert blocked.held_up()
                    reader.using(h1).apply(a, YEAR, a_event)
                    h1.execute("COMMIT")
                    h1.execute("BEGIN")
                    blocked.finish()
                got = _drain(reader, after, 2)
            else:
                with _host(backend) as h2:
                    reader.using(h2).apply(b, YEAR, b_event)
                    reader.using(h1).apply(a, YEAR, a_event)
                    assert _position(h2, backend, b, 2) < _position(h1, backend, a, 2)
                    h1.execute("COMMIT")
                    h1.execute("BEGIN")
                    got = _drain(reader, after, 1)
                    assert [c.key.agent_id for c in got] == [a], "H2 is open"
                got += _drain(reader, got[-1].position, 1)
        assert [(c.key.agent_id, c.seq) for c in got] == [(a, 2), (b, 2)]


# -- 2. a durable consumer, killed and restarted --------------------------------

MAIL_AGENTS = 6


def test_durable_consumer_killed_repeatedly_has_each_effect_once(
    backend: Backend,
) -> None:
    """A consumer that records a side effect and ``feed.done`` in one host
    transaction per change, SIGKILLed at each stage of it (and at random
    changes) and restarted while a writer writes, ends with each stored
    event's side effect exactly once and nothing left pending."""
    seed = random.randrange(2**32)
    rng = random.Random(seed)
    with backend.repository() as repo:
        backend.sql(
            f"CREATE TABLE {effects_table(backend)} (agency TEXT, plan_year INTEGER, "
            "agent_id TEXT, seq INTEGER, event_id TEXT)"
        )
        writer = CTX.Process(target=run_batch, args=(backend, "mail", MAIL_AGENTS))
        writer.start()
        total = MAIL_AGENTS * 10
        kills = [*STAGES, *rng.choices(STAGES, k=2)]
        for stage in kills:  # at most 6 * 8 changes: fewer than the writer's 60
            life = CTX.Process(
                target=consume,
                args=(*_args(backend), rng.randint(1, 8), stage, total),
            )
            life.start()
            assert _join([life]) == [-signal.SIGKILL], f"{stage}, seed {seed}"
        assert _join([writer]) == [0]
        last = CTX.Process(target=consume, args=(*_args(backend), 0, "", total))
        last.start()
        assert _join([last]) == [0], f"the last consumer did not drain, seed {seed}"
        rows = backend.sql(
            f"SELECT agency, plan_year, agent_id, seq, event_id "
            f"FROM {effects_table(backend)}"
        )
        logs = _logs(repo)
        expected = [
            (key.agency, key.plan_year, key.agent_id, seq, e.event_id)
            for key, log in logs.items()
            for seq, e in enumerate(log, 1)
        ]
        assert len(expected) == total
        assert sorted(rows) == sorted(expected), f"seed {seed}"
        assert repo.feed("mailer").pending() == []


# -- 3. default settings never let a ConcurrencyConflict through -------------

PROCS = 4
REGS = 3
RACE_PER = 6


def test_default_repository_never_raises_a_concurrency_conflict(
    backend: Backend,
) -> None:
    """4 processes with default Repository settings start the same few
    registrations and send the same events to them (each event by two):
    none sees a ConcurrencyConflict (or any error), each event is applied
    once, and every snapshot is the replay of its log."""
    barrier, out = CTX.Barrier(PROCS), CTX.Queue()
    workers = [
        CTX.Process(
            target=contend_default,
            args=(*_args(backend), me, PROCS, REGS, RACE_PER, barrier, out),
        )
        for me in range(PROCS)
    ]
    for worker in workers:
        worker.start()
    reports = [out.get(timeout=JOIN) for _ in workers]
    assert _join(workers) == [0] * PROCS
    assert [errors for _, _, errors in sorted(reports)] == [[]] * PROCS
    assert sum(lost for _, lost, _ in reports) > 0, "no write ever lost a race"
    with backend.repository() as repo:
        for r in range(REGS):
            logged = [e.event_id for e in repo.store.history(agent_id("race", r), YEAR)]
            assert len(logged) == len(set(logged)), "an event applied twice"
            assert set(logged) == {lifecycle("race", r)[0].event_id} | {
                contended_event(r, w, k).event_id
                for w in range(PROCS)
                for k in range(RACE_PER)
            }
        assert repo.verify() == ()


# -- 4. idempotent resends, at another time or with another payload ----------

RESEND_REGS = 3
RESEND_PER = 5


def test_resend_at_another_time_is_one_fact_another_payload_is_refused(
    backend: Backend,
) -> None:
    """Two processes send the same events stamped at different times: each
    event is applied once, and both get the registration as the first
    application left it. Then both use the same ids for different profiles:
    for each id one applies and the other gets IdempotencyConflict."""
    with backend.repository() as repo:
        for r in range(RESEND_REGS):
            submit(repo, lifecycle("race", r)[0], agent_id("race", r))
        barrier, out = CTX.Barrier(2), CTX.Queue()
        workers = [
            CTX.Process(
                target=resend,
                args=(*_args(backend), me, RESEND_REGS, RESEND_PER, barrier, out),
            )
            for me in range(2)
        ]
        for worker in workers:
            worker.start()
        reports = {
            (phase, me): (got, errors)
            for phase, me, got, errors in (out.get(timeout=JOIN) for _ in range(4))
        }
        assert _join(workers) == [0, 0]
        assert all(errors == [] for _, errors in reports.values())
        same = [reports["same", me][0] for me in range(2)]
        clash = [reports["clash", me][0] for me in range(2)]
        for r in range(RESEND_REGS):
            log = repo.store.history(agent_id("race", r), YEAR)
            ids = [e.event_id for e in log]
            assert len(ids) == len(set(ids)) == 1 + 2 * RESEND_PER
            for seq, stored in enumerate(log[1:], 2):
                first = FLOW.replay(log[:seq])
                if stored.event_id.startswith("clash-"):
                    outcomes = {clash[me][stored.event_id]: me for me in range(2)}
                    assert set(outcomes) == {"applied", "conflict"}, outcomes
                    k = int(stored.event_id.rsplit("k", 1)[1])
                    assert stored == clashing(r, k, outcomes["applied"])
                    continue
                k = int(stored.event_id.rsplit("k", 1)[1])
                assert stored in (resent(r, k, 0), resent(r, k, 1))
                assert same[0][stored.event_id] == same[1][stored.event_id] == first
        # One process at a time: a third time stamp, then a third payload.
        agent = agent_id("race", 0)
        log = repo.store.history(agent, YEAR)
        again = resent(0, 0, 2)
        seq = 1 + [e.event_id for e in log].index(again.event_id)
        assert log[seq - 1].at != again.at
        assert repo.apply(agent, YEAR, again) == FLOW.replay(log[:seq])
        with pytest.raises(regflow.IdempotencyConflict):
            repo.apply(agent, YEAR, clashing(0, 0, 2))
        assert repo.store.history(agent, YEAR) == log
