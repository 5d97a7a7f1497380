"""How much does a durable apply cost next to a bare single-row INSERT?

For each store (SQLite in a temporary file; PostgreSQL if a server answers) it
times, in the same run and the same database, interleaved chunk by chunk so
that a busy machine slows both sides alike:

* the store: ``Repository.start``/``apply`` over whole registration
  lifecycles (10 events each): load the snapshot, check the guards, append the
  event, write the snapshot, commit;
* the baseline: one ``INSERT`` of the same event JSON into a plain table with
  a primary key, in its own transaction (``BEGIN; INSERT; COMMIT``), one per
  event.

SQLite runs both sides with ``journal_mode=WAL`` and ``synchronous=NORMAL``.
PostgreSQL runs both with the server's settings (``synchronous_commit`` as
configured: here, an fsync per commit). Then it runs the store with several
processes at once, each on its own registrations, and again with a cold
snapshot memo (every load reads and decodes the snapshot and its log).

The last line printed is ``ratios sqlite/raw_insert=X postgres/raw_insert=X``
(store time per event / baseline time per event). Run it with::

    python benchmarks/store.py --agents 300 --processes 2
"""

from __future__ import annotations

import argparse
import datetime as dt
import multiprocessing
import os
import sqlite3
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from typing import Any, Protocol

import regflow
from regflow import events as ev
from regflow.store import PostgresStore, Repository, SQLiteStore, Store
from regflow.store._schema import SnapshotMemo

ET = dt.timezone(dt.timedelta(hours=-5), "ET")
PLAN_YEAR = 2024
DEFAULT_DSN = "postgresql://postgres@127.0.0.1:5432/test"


def _at(day: int) -> dt.datetime:
    return dt.datetime(2023, 10, day, 9, tzinfo=ET)


def lifecycle(n: int, tag: str, block: int) -> list[ev.Event]:
    """The ten events that take agent *n* from login to certified.

    Each run uses its own *block* of NPNs: one NPN holds one registration.
    """
    agent = f"{tag}-agent-{n}"
    ids = iter(f"{agent}-e{i}" for i in range(100))
    profile = regflow.Profile(
        role=regflow.Role.MARKETPLACE_AGENT_BROKER,
        contact=regflow.ContactDetails(
            name=f"Agent {n}",
            email=f"a{n}@example.com",
            phone="555-0100",
            zip_code="33101",
        ),
        find_local_help=True,
        npn=str(block * 100_000 + n),
    )
    A = regflow.Agreement
    return [
        ev.StartRegistration(
            event_id=next(ids),
            at=_at(2),
            agent_id=agent,
            portal_account_id=f"portal-{tag}-{n}",
            plan_year=PLAN_YEAR,
            prior_year=PLAN_YEAR - 1,
        ),
        ev.SaveProfile(event_id=next(ids), at=_at(2), profile=profile),
        ev.CompleteProfile(event_id=next(ids), at=_at(2)),
        ev.CompleteMlmsTraining(
            event_id=next(ids), at=_at(3), curriculum=regflow.Curriculum.RETURNING
        ),
        ev.AcceptAgreement(
            event_id=next(ids), at=_at(3), agreement=A.INDIVIDUAL_GENERAL
        ),
        ev.AcceptAgreement(
            event_id=next(ids), at=_at(3), agreement=A.INDIVIDUAL_PRIVACY_SECURITY
        ),
        ev.PrintCertificate(event_id=next(ids), at=_at(3)),
        ev.ConfirmTracker(event_id=next(ids), at=_at(4)),
        ev.ObserveRclListing(
            event_id=next(ids), at=_at(5), npn_valid=regflow.NpnValidity.VALID
        ),
        ev.ObserveFindLocalHelp(event_id=next(ids), at=_at(6)),
    ]


def run_store(repo: Repository, lives: Sequence[Sequence[ev.Event]]) -> int:
    """Apply every lifecycle through *repo*; return the number of events."""
    count = 0
    for life in lives:
        start = life[0]
        assert isinstance(start, ev.StartRegistration)
        reg = repo.start(start)
        for event in life[1:]:
            reg = repo.apply(reg.agent_id, PLAN_YEAR, event)
        assert reg.state is regflow.State.CERTIFIED
        count += len(life)
    return count


# -- the baselines -------------------------------------------------------------


class Raw(Protocol):
    """A baseline: single-row INSERT transactions."""

    def insert(self, rows: Sequence[tuple[Any, ...]]) -> None:
        """Insert *rows*, one transaction each."""

    def close(self) -> None:
        """Close the connection."""


class SQLiteRaw:
    """One INSERT + COMMIT per event into a plain table of the same file."""

    def __init__(self, path: str) -> None:
        self.conn = sqlite3.connect(path, isolation_level=None)
        self.conn.execute("PRAGMA journal_mode=WAL")
        self.conn.execute("PRAGMA synchronous=NORMAL")
        self.conn.execute(
            "CREATE TABLE IF NOT EXISTS bench_raw (plan_year INTEGER, agent_id TEXT, "
            "seq INTEGER, event_id TEXT, body TEXT, PRIMARY KEY (plan_year, agent_id, seq))"
        )

    def insert(self, rows: Sequence[tuple[Any, ...]]) -> None:
        """Insert *rows*, one transaction each."""
        conn = self.conn
        for row in rows:
            conn.execute("BEGIN")
            conn.execute("INSERT INTO bench_raw VALUES (?, ?, ?, ?, ?)", row)
            conn.execute("COMMIT")

    def close(self) -> None:
        """Close the connection."""
        self.conn.close()


class PostgresRaw:
    """One INSERT + COMMIT per event into a plain table of the same schema."""

    def __init__(self, dsn: str, schema: str) -> None:
        import psycopg
        from psycopg import sql

        self.conn = psycopg.connect(dsn)
        ident = sql.Identifier(schema)
        with self.conn.transaction():
            self.conn.execute(
                sql.SQL(
                    "CREATE TABLE IF NOT EXISTS {}.bench_raw (plan_year integer, "
                    "agent_id text, seq integer, event_id text, body jsonb, "
                    "PRIMARY KEY (plan_year, agent_id, seq))"
                ).format(ident)
            )
        self.query = (
            sql.SQL("INSERT INTO {}.bench_raw VALUES (%s, %s, %s, %s, %s::jsonb)")
            .format(ident)
            .as_string(self.conn)
        )

    def insert(self, rows: Sequence[tuple[Any, ...]]) -> None:
        """Insert *rows*, one transaction each."""
        conn = self.conn
        for row in rows:
            with conn.transaction():
                conn.execute(self.query, row)

    def close(self) -> None:
        """Close the connection."""
        self.conn.close()


def raw_rows(lives: Sequence[Sequence[ev.Event]], tag: str) -> list[tuple[Any, ...]]:
    """The baseline's rows: the same events, as the same JSON."""
    return [
        (
            PLAN_YEAR,
            f"{tag}-{life[0].event_id}",
            seq,
            event.event_id,
            regflow.dumps(event),
        )
        for life in lives
        for seq, event in enumerate(life, 1)
    ]


# -- the runs ------------------------------------------------------------------


def compare(
    name: str,
    open_store: Callable[[], Store],
    open_raw: Callable[[], Raw],
    agents: int,
    chunks: int,
) -> float:
    """Time store and baseline, interleaved; print both; return the ratio."""
    repo = Repository(open_store())
    raw = open_raw()
    store_s = raw_s = 0.0
    events = 0
    per_chunk = max(1, agents // chunks)
    for chunk in range(chunks):
        lives = [lifecycle(chunk * per_chunk + i, name, 1) for i in range(per_chunk)]
        rows = raw_rows(lives, f"raw{chunk}")
        began = time.perf_counter()
        events += run_store(repo, lives)
        store_s += time.perf_counter() - began
        began = time.perf_counter()
        raw.insert(rows)
        raw_s += time.perf_counter() - began
    problems = repo.verify()
    assert not problems, problems
    repo.close()
    raw.close()
    store_us, raw_us = store_s / events * 1e6, raw_s / events * 1e6
    print(
        f"{name}: store {events / store_s:,.0f} events/s ({store_us:.0f} us/event); "
        f"raw insert {events / raw_s:,.0f} events/s ({raw_us:.0f} us/event); "
        f"ratio {store_us / raw_us:.2f}"
    )
    return store_us / raw_us


def cold(name: str, open_store: Callable[[], Store], agents: int) -> None:
    """Time the store with its snapshot memo off: every load decodes."""
    store = open_store()
    store._memo = SnapshotMemo(size=0)  # type: ignore[attr-defined]
    repo = Repository(store)
    lives = [lifecycle(i, f"{name}-cold", 2) for i in range(agents)]
    began = time.perf_counter()
    events = run_store(repo, lives)
    took = time.perf_counter() - began
    repo.close()
    print(
        f"{name}, cold memo: store {events / took:,.0f} events/s "
        f"({took / events * 1e6:.0f} us/event)"
    )


def _worker(
    kind: str, where: str, schema: str, p: int, agents: int, ready: Any, times: Any
) -> None:
    store: Store = (
        SQLiteStore(where) if kind == "sqlite" else PostgresStore(where, schema=schema)
    )
    lives = [lifecycle(i, f"{kind}-p{p}", 10 + p) for i in range(agents)]
    with Repository(store) as repo:
        ready.wait()
        began = time.time()
        run_store(repo, lives)
        times.put((began, time.time()))


def parallel(
    name: str, kind: str, where: str, schema: str, procs: int, agents: int
) -> None:
    """Run *procs* processes at once, each on its own registrations.

    The clock starts when every process has opened its store (a barrier) and
    stops when the last one is done: process start-up is not counted.
    """
    ctx = multiprocessing.get_context("spawn")
    ready = ctx.Barrier(procs)
    times = ctx.Queue()
    workers = [
        ctx.Process(target=_worker, args=(kind, where, schema, p, agents, ready, times))
        for p in range(procs)
    ]
    for w in workers:
        w.start()
    spans = [times.get(timeout=600) for _ in workers]
    for w in workers:
        w.join()
    assert all(w.exitcode == 0 for w in workers), [w.exitcode for w in workers]
    took = max(end for _, end in spans) - min(start for start, _ in spans)
    events = procs * agents * 10
    print(
        f"{name}, {procs} processes on their own registrations: "
        f"{events / took:,.0f} events/s in all ({took / events * 1e6:.0f} us/event)"
    )


def main(argv: Sequence[str] | None = None) -> None:
    """Run the benchmark; the last line printed holds the ratios."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--agents", type=int, default=300, help="lifecycles per store")
    parser.add_argument("--chunks", type=int, default=10, help="interleaving chunks")
    parser.add_argument("--processes", type=int, default=2)
    parser.add_argument(
        "--dsn",
        default=os.environ.get("REGFLOW_TEST_POSTGRES_DSN") or DEFAULT_DSN,
        help="PostgreSQL to use (default: $REGFLOW_TEST_POSTGRES_DSN or %(default)s)",
    )
    args = parser.parse_args(argv)
    print(
        f"regflow {regflow.__version__}, Python {sys.version.split()[0]}, "
        f"SQLite {sqlite3.sqlite_version}, {os.cpu_count()} CPUs"
    )

    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "bench.sqlite3")
        sqlite_ratio = compare(
            "sqlite",
            lambda: SQLiteStore(path),
            lambda: SQLiteRaw(path),
            args.agents,
            args.chunks,
        )
        cold("sqlite", lambda: SQLiteStore(path), args.agents // 3)
        parallel("sqlite-mp", "sqlite", path, "", args.processes, args.agents // 2)

    pg_ratio = postgres(args)
    pg_text = "n/a" if pg_ratio is None else f"{pg_ratio:.2f}"
    print(f"ratios sqlite/raw_insert={sqlite_ratio:.2f} postgres/raw_insert={pg_text}")


def postgres(args: argparse.Namespace) -> float | None:
    """The PostgreSQL runs, in a schema of their own; None (said why) if no server."""
    try:
        import psycopg
        from psycopg import sql
    except ImportError:
        print(
            "postgres: skipped, psycopg is not installed (pip install 'regflow[postgres]')"
        )
        return None
    try:
        admin = psycopg.connect(args.dsn, autocommit=True, connect_timeout=5)
    except psycopg.Error as exc:
        reason = " ".join(str(exc).split())
        print(f"postgres: skipped, no server at {args.dsn}: {reason}")
        return None
    schema = f"regflow_bench_{os.getpid()}"
    try:
        ratio = compare(
            "postgres",
            lambda: PostgresStore(args.dsn, schema=schema),
            lambda: PostgresRaw(args.dsn, schema),
            args.agents // 3,
            args.chunks,
        )
        cold(
            "postgres",
            lambda: PostgresStore(args.dsn, schema=schema),
            args.agents // 10,
        )
        parallel(
            "postgres-mp",
            "postgres",
            args.dsn,
            schema,
            args.processes,
            args.agents // 6,
        )
    finally:
        admin.execute(
            sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(schema))
        )
        admin.close()
    return ratio


if __name__ == "__main__":
    main()
