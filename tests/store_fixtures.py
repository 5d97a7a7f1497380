"""Fixtures and helpers shared by the store tests (import what you use).

The ``backend`` fixture runs a test once on SQLite (a file in ``tmp_path``)
and once on PostgreSQL (a schema of its own, dropped afterwards). PostgreSQL
comes from ``REGFLOW_TEST_POSTGRES_DSN``; without it those tests skip, saying
so, unless ``REGFLOW_REQUIRE_POSTGRES=1``, which makes them fail instead.
Worker functions for subprocesses live here too, importable by name.
"""

from __future__ import annotations

import datetime as dt
import itertools
import os
import random
import secrets
import signal
import sys
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import pytest

import regflow
from regflow import events as ev
from regflow.store import PostgresStore, Repository, SQLiteStore, Store

DSN_VAR = "REGFLOW_TEST_POSTGRES_DSN"
REQUIRE_VAR = "REGFLOW_REQUIRE_POSTGRES"
TESTS = Path(__file__).resolve().parent
YEAR = 2024
_ET = dt.timezone(dt.timedelta(hours=-5), "ET")
_schemas = itertools.count(1)
_RUN = f"{os.getpid()}_{secrets.token_hex(3)}"


def postgres_dsn() -> str:
    """The test server's DSN; skips (or fails, if required) when there is none."""
    dsn = os.environ.get(DSN_VAR, "")
    required = os.environ.get(REQUIRE_VAR) == "1"
    if not dsn:
        reason = f"{DSN_VAR} is not set: PostgreSQL store tests skipped"
        if required:
            pytest.fail(f"{REQUIRE_VAR}=1 but {reason.split(':')[0]}")
        pytest.skip(reason)
    try:
        import psycopg

        psycopg.connect(dsn, connect_timeout=5).close()
    except Exception as exc:  # any failure means "no server"
        reason = f"no PostgreSQL at {DSN_VAR}={dsn}: {exc}"
        if required:
            pytest.fail(f"{REQUIRE_VAR}=1 but {reason}")
        pytest.skip(reason)
    return dsn


class Backend:
    """One database under test: how to open stores on it and reach its tables."""

    def __init__(self, kind: str, location: str, schema: str = "") -> None:
        self.kind = kind
        self.location = location
        self.schema = schema

    def __repr__(self) -> str:
        return f"Backend({self.kind})"

    def open(self) -> Store:
        """A new store object on this database."""
        if self.kind == "sqlite":
            return SQLiteStore(self.location)
        return PostgresStore(self.location, schema=self.schema)

    def repository(self, **options: Any) -> Repository:
        """A repository over a new store object."""
        return Repository(self.open(), **options)

    def table(self, name: str) -> str:
        """The quoted name of regflow's table *name* (``log``, ``registrations``,
        ``keys``, ``consumers``)."""
        if self.kind == "sqlite":
            return f"regflow_{name}"
        return f'"{self.schema}".{name}'

    def sql(self, text: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        """Run *text* directly (``?`` placeholders; ``{log}``, ``{registrations}``,
        ``{keys}``, ``{consumers}`` name the tables)."""
        text = text.format(
            log=self.table("log"),
            registrations=self.table("registrations"),
            keys=self.table("keys"),
            consumers=self.table("consumers"),
        )
        if self.kind == "sqlite":
            import sqlite3

            conn = sqlite3.connect(self.location, isolation_level=None)
            try:
                return conn.execute(text, tuple(params)).fetchall()
            finally:
                conn.close()
        import psycopg

        with psycopg.connect(self.location, autocommit=True) as pg:
            cur = pg.execute(text.replace("?", "%s").encode(), tuple(params))
            return cur.fetchall() if cur.description else []

    @property
    def schema_table(self) -> str:
        """The quoted name of the schema-version table."""
        if self.kind == "sqlite":
            return "regflow_schema"
        return f'"{self.schema}".schema_version'


@pytest.fixture(name="backend", params=["sqlite", "postgres"])
def backend_fixture(
    request: pytest.FixtureRequest, tmp_path: Path
) -> Iterator[Backend]:
    """Each backend in turn, empty; PostgreSQL in a schema dropped afterwards."""
    if request.param == "sqlite":
        yield Backend("sqlite", str(tmp_path / "store.sqlite3"))
        return
    dsn = postgres_dsn()
    schema = f"regflow_test_{_RUN}_{next(_schemas)}"
    try:
        yield Backend("postgres", dsn, schema)
    finally:
        drop_schema(dsn, schema)


def drop_schema(dsn: str, schema: str) -> None:
    """Drop a PostgreSQL schema and everything in it."""
    import psycopg
    from psycopg import sql

    with psycopg.connect(dsn, autocommit=True) as pg:
        pg.execute(
            sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(schema))
        )


# -- events --------------------------------------------------------------------


def at(day: int, hour: int = 9) -> dt.datetime:
    """A time in October 2023, Eastern."""
    return dt.datetime(2023, 10, day, hour, tzinfo=_ET)


def agent_id(tag: str, n: int) -> str:
    """The id of made-up agent *n* of a batch."""
    return f"{tag}-agent-{n:03d}"


def lifecycle(tag: str, n: int, npn_block: int = 1) -> list[ev.Event]:
    """The ten events taking made-up agent *n* from login to certified."""
    agent = agent_id(tag, n)
    ids = (f"{agent}-e{i}" for i in itertools.count())
    profile = regflow.Profile(
        role=regflow.Role.MARKETPLACE_AGENT_BROKER,
        contact=regflow.ContactDetails(
            name=f"Agent {n}",
            email=f"a{n}@example.com",
            phone="555-0100",
            zip_code="33101",
        ),
        find_local_help=True,
        npn=str(npn_block * 100_000 + n),
    )
    agreement = regflow.Agreement
    return [
        ev.StartRegistration(
            event_id=next(ids),
            at=at(2),
            agent_id=agent,
            portal_account_id=f"portal-{agent}",
            plan_year=YEAR,
            prior_year=YEAR - 1,
        ),
        ev.SaveProfile(event_id=next(ids), at=at(2), profile=profile),
        ev.CompleteProfile(event_id=next(ids), at=at(2)),
        ev.CompleteMlmsTraining(
            event_id=next(ids), at=at(3), curriculum=regflow.Curriculum.RETURNING
        ),
        ev.AcceptAgreement(
            event_id=next(ids), at=at(3), agreement=agreement.INDIVIDUAL_GENERAL
        ),
        ev.AcceptAgreement(
            event_id=next(ids),
            at=at(3),
            agreement=agreement.INDIVIDUAL_PRIVACY_SECURITY,
        ),
        ev.PrintCertificate(event_id=next(ids), at=at(3)),
        ev.ConfirmTracker(event_id=next(ids), at=at(4)),
        ev.ObserveRclListing(
            event_id=next(ids), at=at(5), npn_valid=regflow.NpnValidity.VALID
        ),
        ev.ObserveFindLocalHelp(event_id=next(ids), at=at(6)),
    ]


def submit(repo: Repository, event: ev.Event, agent: str) -> regflow.Registration:
    """Start or apply *event*, whichever it is."""
    if isinstance(event, ev.StartRegistration):
        return repo.start(event)
    return repo.apply(agent, YEAR, event)


# -- subprocess workers ----------------------------------------------------------


def run_batch(
    backend: Backend, tag: str, agents: int, *, progress: bool = False
) -> int:
    """Apply every lifecycle of a batch, round-robin over agents; return the count.

    Idempotent: a batch run again with the same ids finishes what is missing.
    """
    lives = [lifecycle(tag, n) for n in range(agents)]
    count = 0
    with backend.repository() as repo:
        for step in range(len(lives[0])):
            for n, life in enumerate(lives):
                submit(repo, life[step], agent_id(tag, n))
                count += 1
                if progress:
                    print(f"applied {count}", flush=True)
    return count


def batch_main() -> None:
    """Child-process entry: ``kind location schema tag agents kill_at``.

    With ``kill_at`` > 0 on SQLite, the process SIGKILLs itself just as the
    database starts its ``kill_at``-th event insert: inside the transaction,
    after the snapshot update, before the commit.
    """
    kind, location, schema, tag, agents, kill_at = sys.argv[1:7]
    backend = Backend(kind, location, schema)
    limit = int(kill_at)
    if limit and kind == "sqlite":
        inserts = itertools.count(1)
        original = SQLiteStore.__init__

        def traced(self: SQLiteStore, *args: Any, **kwargs: Any) -> None:
            original(self, *args, **kwargs)

            def trace(statement: str) -> None:
                event = statement.startswith("INSERT INTO regflow_log")
                if event and next(inserts) == limit:
                    os.kill(os.getpid(), signal.SIGKILL)

            assert self._conn is not None
            self._conn.set_trace_callback(trace)

        SQLiteStore.__init__ = traced  # type: ignore[method-assign]
    run_batch(backend, tag, int(agents), progress=True)


def contend(
    kind: str, location: str, schema: str, me: int, procs: int, regs: int, per: int
) -> None:
    """Concurrency worker: SaveProfile events for shared registrations.

    Worker *me* submits its own events and those of the next worker (so every
    event is sent twice, by two processes), in a shuffled order.
    """
    backend = Backend(kind, location, schema)
    mine: list[tuple[str, ev.Event]] = []
    for worker in (me, (me + 1) % procs):
        for r in range(regs):
            for k in range(per):
                mine.append((agent_id("race", r), contended_event(r, worker, k)))
    random.Random(me).shuffle(mine)
    with backend.repository(retries=100) as repo:
        for agent, event in mine:
            repo.apply(agent, YEAR, event)


def contended_event(r: int, worker: int, k: int) -> ev.SaveProfile:
    """The *k*-th SaveProfile of *worker* for registration *r*."""
    profile = regflow.Profile(
        role=regflow.Role.MARKETPLACE_AGENT_BROKER,
        contact=regflow.ContactDetails(
            name=f"W{worker} K{k}", email="w@x.org", phone="5"
        ),
        npn=str(900_000 + r),
    )
    return ev.SaveProfile(
        event_id=f"race-{r}-w{worker}-k{k}", at=at(2, 9 + k % 8), profile=profile
    )


if __name__ == "__main__":
    batch_main()
