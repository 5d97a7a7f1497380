"""What does a durable apply cost, next to a bare INSERT and to eventsourcing?

Every side runs whole registration lifecycles (10 events each: start, save
and complete the profile, MLMS training, two agreements, certificate,
tracker, RCL, Find Local Help), timed side by side in one run, interleaved
chunk by chunk (the order rotating each chunk) so that a busy machine slows
every side alike, after an untimed warm-up chunk. Per event:

* ``regflow``: ``Repository.start`` / ``apply``. Load the snapshot row (a
  read transaction; the store's snapshot memo spares decoding it), run the
  workflow (idempotency by event id, the route table, every guard, the
  effect), then one write transaction: update the snapshot row (insert it,
  on a start, under a unique NPN index) and append the event, with the
  contact details sealed with AES-256-GCM (a new agent key on SaveProfile).
  A start first reads the year before. SQLite: BEGIN IMMEDIATE, UPDATE,
  INSERT, COMMIT; PostgreSQL: BEGIN, one statement, COMMIT.
* ``raw INSERT``: one ``INSERT`` of the same event JSON (encoded untimed)
  into a plain table with a primary key, ``BEGIN; INSERT; COMMIT``. No read,
  no decision: the floor for a durable append.
* ``eventsourcing`` (``_store_peers.py``): the lifecycle as an
  eventsourcing ``Aggregate``, one domain event per step, driven through an
  ``Application``: ``repository.get`` (every stored event of the aggregate
  read, decrypted and replayed: eventsourcing's default, no snapshots),
  the command (a state check and an event-id check, not regflow's guards),
  ``save`` (one transaction; PostgreSQL also locks the table and NOTIFYs,
  as eventsourcing does). Every event is stored with AES-256-GCM
  (``eventsourcing.cryptography:AESCipher``), as regflow seals contact
  details. A start first reads the year before. It keeps no snapshot row and
  no NPN index. ``eventsourcing+cache``: the same with its aggregate cache
  (fast-forward: each get still reads newer events; the aggregate is deep
  copied), the counterpart of regflow's memo.
* ``regflow FULL``: ``SQLiteStore(path, synchronous="FULL")``: an fsync
  per commit. ``regflow cold memo``: the memo holds nothing, so each load
  decodes the snapshot and its log, and each write encodes every field.
* ``async (awaited)``: ``AsyncRepository(await AsyncPostgresStore.open(...))``,
  each call awaited in turn; ``async (gather)``: the agents' lifecycles at
  once with ``asyncio.gather`` over a psycopg_pool ``AsyncConnectionPool``.
* ``workflow only``: ``Workflow.start`` / ``apply`` in memory: the share of
  regflow's time that is not the store.

Durability is the same on both sides of every ratio but FULL/NORMAL.
SQLite: WAL and ``synchronous=NORMAL`` everywhere (eventsourcing leaves
SQLite's default, FULL, so its connections are set to NORMAL; what each
connection reports is printed under the table), each side in a file of its
own, paying its own checkpoints. PostgreSQL: the server's
``synchronous_commit`` (printed) on every side, in schemas made for the run
and dropped after it. Then regflow runs in several processes at once, each
on its own registrations, alternating with one process (the reference for
that run: those runs are not interleaved with the sides above).

The last line printed is ``ratios sqlite/raw_insert=X postgres/raw_insert=X
sqlite/eventsourcing=X postgres/eventsourcing=X async_pg/sync_pg=X``: time
per event of the first over the second (``n/a`` without PostgreSQL)::

    python benchmarks/store.py --agents 400 --processes 2
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import os
import secrets
import sqlite3
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import partial
from importlib.metadata import version
from typing import Any

from _store_peers import (
    PLAN_YEAR,
    Life,
    PostgresRaw,
    SQLiteRaw,
    es_lives,
    es_pragmas,
    lifecycle,
    postgres_app,
    pragmas,
    raw_rows,
    run_es,
    sqlite_app,
)

import regflow
from regflow import events as ev
from regflow.store import (
    AsyncPostgresStore,
    AsyncRepository,
    PostgresStore,
    Repository,
    SQLiteStore,
    Store,
)
from regflow.store._memo import SnapshotMemo

DEFAULT_DSN = "postgresql://postgres@127.0.0.1:5432/test"
FLOW = regflow.Workflow.for_plan_year(PLAN_YEAR)


def run_store(repo: Repository, lives: Sequence[Life]) -> int:
    """Apply every lifecycle through *repo*; return the number of events."""
    count = 0
    for life in lives:
        start = life[0]
        assert isinstance(start, ev.StartRegistration)
        reg = repo.start(start)
        for event in life[1:]:
            reg = repo.apply(reg.agent_id, PLAN_YEAR, event)
        assert reg.individual is regflow.IndividualState.CERTIFIED, reg
        count += len(life)
    return count


async def run_async(repo: AsyncRepository, life: Life) -> int:
    """Apply one lifecycle through *repo*, each call awaited in turn."""
    start = life[0]
    assert isinstance(start, ev.StartRegistration)
    reg = await repo.start(start)
    for event in life[1:]:
        reg = await repo.apply(reg.agent_id, PLAN_YEAR, event)
    assert reg.individual is regflow.IndividualState.CERTIFIED, reg
    return len(life)


def run_workflow(lives: Sequence[Life]) -> int:
    """The same decisions in memory, no store."""
    count = 0
    for life in lives:
        start = life[0]
        assert isinstance(start, ev.StartRegistration)
        reg = FLOW.start(start)
        for event in life[1:]:
            reg = FLOW.apply(reg, event)
        assert reg.individual is regflow.IndividualState.CERTIFIED, reg
        count += len(life)
    return count


# -- the sides and the interleaved run -----------------------------------------


@dataclass
class Side:
    """One thing timed: how its input is made (untimed) and how it runs."""

    backend: str
    name: str
    tag: str
    block: int
    prepare: Callable[[list[Life]], Any]
    run: Callable[[Any], int]
    close: Callable[[], None] = lambda: None
    seconds: float = 0.0
    events: int = 0

    @property
    def us(self) -> float:
        return self.seconds / self.events * 1e6


def compare(sides: Sequence[Side], agents: int, chunks: int) -> None:
    """Run every side on *agents* lifecycles, interleaved in *chunks*."""
    per = max(1, agents // chunks)
    for side in sides:  # warm-up: first connections, statement caches, imports
        warm = [lifecycle(n, f"{side.tag}w", 50 + side.block) for n in range(2)]
        side.run(side.prepare(warm))
    for chunk in range(chunks):
        turn = chunk % len(sides)
        for side in [*sides[turn:], *sides[:turn]]:
            lives = [
                lifecycle(chunk * per + i, side.tag, side.block) for i in range(per)
            ]
            data = side.prepare(lives)
            began = time.perf_counter()
            side.events += side.run(data)
            side.seconds += time.perf_counter() - began


def regflow_side(
    backend: str, name: str, tag: str, block: int, store: Any, *, memo: bool = True
) -> Side:
    """A side running *store* through a Repository (*memo*: or one keeping nothing)."""
    if not memo:
        store._core.memo = SnapshotMemo(size=0)
    repo = Repository(store)
    return Side(backend, name, tag, block, list, partial(run_store, repo), repo.close)


def verify(store: Store) -> None:
    """Every snapshot is the replay of its log (untimed)."""
    with Repository(store) as repo:
        problems = repo.verify()
    assert not problems, problems


# -- several processes ---------------------------------------------------------


def _worker(
    kind: str, where: str, schema: str, block: int, agents: int, ready: Any, times: Any
) -> None:
    store: Store = (
        SQLiteStore(where) if kind == "sqlite" else PostgresStore(where, schema=schema)
    )
    lives = [lifecycle(i, f"{kind}-b{block}", block) for i in range(agents)]
    with Repository(store) as repo:
        ready.wait()
        began = time.time()
        run_store(repo, lives)
        times.put((began, time.time()))


def _processes(
    kind: str, where: str, schema: str, procs: int, agents: int, block: int
) -> float:
    # The clock starts when every process has opened its store (a barrier) and
    # stops when the last one is done: process start-up is not counted.
    ctx = multiprocessing.get_context("spawn")
    ready, times = ctx.Barrier(procs), ctx.Queue()
    args = (kind, where, schema)
    workers = [
        ctx.Process(target=_worker, args=(*args, block + p, agents, ready, times))
        for p in range(procs)
    ]
    for w in workers:
        w.start()
    spans = [times.get(timeout=600) for _ in workers]
    for w in workers:
        w.join()
    assert all(w.exitcode == 0 for w in workers), [w.exitcode for w in workers]
    return max(end for _, end in spans) - min(start for start, _ in spans)


def parallel(kind: str, where: str, schema: str, procs: int, agents: int) -> list[Side]:
    """One process, then *procs* at once, twice over, each on its own registrations:
    the one-process runs see the same machine as the runs they alternate with."""
    sides = {
        n: Side(kind, f"regflow x{n} process{'es' if n > 1 else ''}", "", 0, list, len)
        for n in (1, procs)
    }
    block = 10
    for _ in range(2):
        for n, side in sides.items():
            side.seconds += _processes(kind, where, schema, n, agents // 4, block)
            side.events += n * (agents // 4) * 10
            block += n
    return list(sides.values())


# -- the backends --------------------------------------------------------------


def sqlite_sides(tmp: str, notes: list[str]) -> list[Side]:
    """The SQLite sides, each in a file of its own."""

    def path(name: str) -> str:
        return os.path.join(tmp, f"{name}.sqlite3")

    raw = SQLiteRaw(path("raw"))
    es = sqlite_app(path("es"))
    es_cached = sqlite_app(path("es_cache"), cache=True)
    normal = SQLiteStore(path("regflow"))
    assert normal._conn is not None
    modes = {
        "regflow": pragmas(normal._conn),
        "raw": pragmas(raw.conn),
        "eventsourcing": es_pragmas(es),
    }
    notes.append(f"SQLite journal_mode/synchronous (1 = NORMAL, 2 = FULL): {modes}")
    full = SQLiteStore(path("full"), synchronous="FULL")
    cold = SQLiteStore(path("cold"))
    return [
        Side("-", "workflow only", "mem", 1, list, run_workflow),
        regflow_side("sqlite", "regflow", "rf", 1, normal),
        _raw_side("sqlite", raw),
        _es_side("sqlite", "eventsourcing", es),
        _es_side("sqlite", "eventsourcing+cache", es_cached),
        regflow_side("sqlite", "regflow FULL", "full", 1, full),
        regflow_side("sqlite", "regflow cold memo", "cold", 1, cold, memo=False),
    ]


def _raw_side(backend: str, raw: SQLiteRaw | PostgresRaw) -> Side:
    # The rows (the events' JSON) are made untimed, as regflow's events are.
    rows = partial(raw_rows, tag="raw")
    return Side(backend, "raw INSERT", "raw", 1, rows, raw.insert, raw.close)


def _es_side(backend: str, name: str, app: Any) -> Side:
    # The commands are built untimed, as regflow's events are.
    return Side(backend, name, name, 1, es_lives, partial(run_es, app), app.close)


def postgres_sides(
    dsn: str, schema: str, loop: asyncio.AbstractEventLoop
) -> list[Side]:
    """The PostgreSQL sides: regflow's in *schema*, the peers' in ``<schema>_es*``."""
    from psycopg_pool import AsyncConnectionPool

    pool = AsyncConnectionPool(dsn, min_size=8, max_size=8, open=False)

    async def open_async() -> tuple[AsyncRepository, AsyncRepository]:
        await pool.open(wait=True)
        one = await AsyncPostgresStore.open(dsn, schema=schema)
        many = await AsyncPostgresStore.open(pool=pool, schema=schema)
        return AsyncRepository(one), AsyncRepository(many)

    awaited, gathered = loop.run_until_complete(open_async())
    raw = PostgresRaw(dsn, schema)

    def one_by_one(lives: list[Life]) -> int:
        async def go() -> int:
            return sum([await run_async(awaited, life) for life in lives])

        return loop.run_until_complete(go())

    def at_once(lives: list[Life]) -> int:
        async def go() -> int:
            return sum(await asyncio.gather(*(run_async(gathered, x) for x in lives)))

        return loop.run_until_complete(go())

    def close() -> None:
        async def shut() -> None:
            await awaited.close()
            await gathered.close()
            await pool.close()

        loop.run_until_complete(shut())

    sync, cold = (PostgresStore(dsn, schema=schema) for _ in range(2))
    es, es_cached = (
        postgres_app(dsn, f"{schema}_es{i}", cache=bool(i)) for i in range(2)
    )
    return [
        regflow_side("postgres", "regflow", "rf", 1, sync),
        _raw_side("postgres", raw),
        _es_side("postgres", "eventsourcing", es),
        _es_side("postgres", "eventsourcing+cache", es_cached),
        Side("postgres", "async (awaited)", "aw", 2, list, one_by_one, close),
        Side("postgres", "async (gather, pool 8)", "ga", 3, list, at_once),
        regflow_side("postgres", "regflow cold memo", "cold", 4, cold, memo=False),
    ]


def run_postgres(args: argparse.Namespace, notes: list[str]) -> list[Side]:
    """The PostgreSQL runs, in schemas of their own; [] (said why) if no server."""
    try:
        import psycopg
        from psycopg import sql
    except ImportError:
        notes.append("postgres: skipped, psycopg is not installed")
        return []
    try:
        admin = psycopg.connect(args.dsn, autocommit=True, connect_timeout=5)
    except psycopg.Error as exc:
        reason = " ".join(str(exc).split())
        notes.append(f"postgres: skipped, no server at {args.dsn}: {reason}")
        return []
    schema = f"regflow_bench_{os.getpid()}_{secrets.token_hex(2)}"
    server = admin.execute("SHOW server_version").fetchone()
    commit = admin.execute("SHOW synchronous_commit").fetchone()
    notes.append(
        f"PostgreSQL {server[0] if server else '?'}, synchronous_commit="
        f"{commit[0] if commit else '?'} (every side)"
    )
    loop = asyncio.new_event_loop()
    sides: list[Side] = []
    try:
        sides = postgres_sides(args.dsn, schema, loop)
        compare(sides, args.agents, args.chunks)
        sides += parallel("postgres", args.dsn, schema, args.processes, args.agents)
        verify(PostgresStore(args.dsn, schema=schema))
    finally:
        for side in sides:
            side.close()
        loop.close()
        for name in (schema, f"{schema}_es0", f"{schema}_es1"):
            admin.execute(
                sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(name))
            )
        admin.close()
    return sides


# What each side does per event, printed under the table: where a side does
# more (or less) than the other, the reader must see it next to the numbers.
DOES = {
    "workflow only": "Workflow.start/apply in memory, no store",
    "regflow": "read row (memo: no decode), all guards, 1 write txn: snapshot row"
    " + event, contact sealed (AES-GCM), unique NPN index",
    "raw INSERT": "BEGIN; INSERT the event's JSON; COMMIT: no read, no decision",
    "eventsourcing": "get = read + decrypt + replay every event so far; state and"
    " id check only; save = 1 txn, every event AES-GCM; no snapshot row, no NPN"
    " index",
    "eventsourcing+cache": "as eventsourcing, but get reads only newer events"
    " (aggregate cache, fast-forward) and deep-copies the cached aggregate",
    "regflow FULL": "as regflow, synchronous=FULL: an fsync per commit",
    "regflow cold memo": "as regflow, memo off: decode snapshot + log per load,"
    " encode every field per write",
    "async (awaited)": "as regflow, AsyncRepository on AsyncPostgresStore,"
    " each call awaited in turn",
    "async (gather, pool 8)": "as async, a chunk's lifecycles at once on 8 connections",
    "processes": "as regflow, in worker processes at once, each on its own"
    " registrations, one file/schema (wall clock; alternated 1 and N processes,"
    " not interleaved with the sides above)",
}


# -- the report ----------------------------------------------------------------


def ratio(sides: Sequence[Side], backend: str, top: str, bottom: str) -> float | None:
    """*top*'s time per event over *bottom*'s, on *backend* (None if not run)."""
    found = {s.name: s for s in sides if s.backend in (backend, "-")}
    if top not in found or bottom not in found:
        return None
    return found[top].us / found[bottom].us


def report(sides: Sequence[Side], notes: Sequence[str], procs: int) -> None:
    """Print the table, the ratios worth quoting, then the ratios line (last)."""
    many, both = f"regflow x{procs} processes", ("sqlite", "postgres")
    print(f"{'backend':9} {'side':24} {'events':>7} {'us/event':>9} {'events/s':>9}")
    for s in sides:
        print(f"{s.backend:9} {s.name:24} {s.events:7} {s.us:9.0f} {1e6 / s.us:9,.0f}")
    for name in dict.fromkeys(s.name for s in sides):
        print(f"  {name}: {DOES.get(name) or DOES['processes']}")
    for note in notes:
        print(note)

    def text(backend: str, top: str, bottom: str) -> str:
        found = ratio(sides, backend, top, bottom)
        return "n/a" if found is None else f"{found:.2f}"

    extra = [
        ("sqlite", "regflow FULL", "regflow", "sqlite FULL/NORMAL"),
        ("sqlite", "regflow cold memo", "regflow", "sqlite cold/warm memo"),
        ("sqlite", "workflow only", "regflow", "sqlite workflow/regflow"),
        ("sqlite", "regflow", "eventsourcing+cache", "sqlite regflow/es+cache"),
        ("postgres", "regflow cold memo", "regflow", "postgres cold/warm memo"),
        ("postgres", "regflow", "eventsourcing+cache", "postgres regflow/es+cache"),
        ("postgres", "async (gather, pool 8)", "regflow", "postgres gather/sync"),
        *((b, many, "regflow x1 process", f"{b} x{procs}/x1 processes") for b in both),
    ]
    print("; ".join(f"{label}={text(b, t, u)}" for b, t, u, label in extra))
    print(
        f"ratios sqlite/raw_insert={text('sqlite', 'regflow', 'raw INSERT')} "
        f"postgres/raw_insert={text('postgres', 'regflow', 'raw INSERT')} "
        f"sqlite/eventsourcing={text('sqlite', 'regflow', 'eventsourcing')} "
        f"postgres/eventsourcing={text('postgres', 'regflow', 'eventsourcing')} "
        f"async_pg/sync_pg={text('postgres', 'async (awaited)', 'regflow')}"
    )


def main(argv: Sequence[str] | None = None) -> None:
    """Run the benchmark; the last line printed holds the ratios."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--agents", type=int, default=400, help="lifecycles per side")
    parser.add_argument("--chunks", type=int, default=25, help="interleaving chunks")
    parser.add_argument("--processes", type=int, default=2)
    parser.add_argument(
        "--dsn",
        default=os.environ.get("REGFLOW_TEST_POSTGRES_DSN") or DEFAULT_DSN,
        help="PostgreSQL to use (default: $REGFLOW_TEST_POSTGRES_DSN or %(default)s)",
    )
    args = parser.parse_args(argv)
    print(
        f"regflow {regflow.__version__}, eventsourcing {version('eventsourcing')}, "
        f"Python {sys.version.split()[0]}, SQLite {sqlite3.sqlite_version}, "
        f"{os.cpu_count()} CPUs; {args.agents} lifecycles (x10 events) per side"
    )
    notes: list[str] = []
    with tempfile.TemporaryDirectory() as tmp:
        sides = sqlite_sides(tmp, notes)
        try:
            compare(sides, args.agents, args.chunks)
            mp = os.path.join(tmp, "mp.sqlite3")
            SQLiteStore(mp).close()  # created once, not raced by the workers
            sides += parallel("sqlite", mp, "", args.processes, args.agents)
            for name in ("regflow", "full", "cold", "mp"):
                verify(SQLiteStore(os.path.join(tmp, f"{name}.sqlite3")))
        finally:
            for side in sides:
                side.close()
    sides += run_postgres(args, notes)
    report(sides, notes, args.processes)


if __name__ == "__main__":
    main()
