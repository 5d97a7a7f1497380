"""The lifecycle ``store.py`` runs, and the peers it times regflow's store against.

* :class:`SQLiteRaw` and :class:`PostgresRaw`: one ``INSERT`` of the event's
  JSON into a plain table with a primary key, a transaction per event: the
  floor for a durable append.
* :class:`Registrations`: the same ten-step lifecycle as an ``eventsourcing``
  aggregate (:class:`EsRegistration`, one domain event per step) driven
  through an ``eventsourcing`` :class:`~eventsourcing.application.Application`
  on its SQLite or PostgreSQL recorder: per event, ``repository.get`` (the
  aggregate rebuilt from its stored events), the command, ``save``.
"""

from __future__ import annotations

import datetime as dt
import sqlite3
import uuid
from collections.abc import Sequence
from typing import Any, Final

from eventsourcing.application import AggregateNotFoundError, Application
from eventsourcing.cryptography import AESCipher
from eventsourcing.domain import Aggregate, event
from eventsourcing.sqlite import SQLiteConnection, SQLiteConnectionPool, SQLiteFactory

import regflow
from regflow import events as ev

PLAN_YEAR: Final = 2024
_NAMESPACE: Final = uuid.UUID("6f1c3a52-9d0e-4d7e-9a57-0c1b2d3e4f50")
BOTH_AGREEMENTS: Final = frozenset(
    {
        regflow.Agreement.INDIVIDUAL_GENERAL.value,
        regflow.Agreement.INDIVIDUAL_PRIVACY_SECURITY.value,
    }
)

ET: Final = dt.timezone(dt.timedelta(hours=-5), "ET")
Life = Sequence[ev.Event]


# -- the lifecycle every side runs ---------------------------------------------


def _at(day: int) -> dt.datetime:
    return dt.datetime(2023, 10, day, 9, tzinfo=ET)


def lifecycle(n: int, tag: str, block: int) -> list[ev.Event]:
    """The ten events that take agent *n* from login to certified.

    Each side uses its own *block* of NPNs: one NPN holds one registration.
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


# -- the raw-INSERT baselines --------------------------------------------------


def raw_rows(lives: Sequence[Life], tag: str) -> list[tuple[Any, ...]]:
    """The baseline's rows: the same events, as the same JSON (encoded untimed)."""
    return [
        (PLAN_YEAR, f"{tag}-{life[0].event_id}", seq, e.event_id, regflow.dumps(e))
        for life in lives
        for seq, e in enumerate(life, 1)
    ]


class SQLiteRaw:
    """One INSERT + COMMIT per event into a plain table, WAL, synchronous=NORMAL."""

    def __init__(self, path: str) -> None:
        self.conn = sqlite3.connect(path, isolation_level=None)
        self.conn.execute("PRAGMA journal_mode=WAL")
        self.conn.execute("PRAGMA synchronous=NORMAL")
        self.conn.execute(
            "CREATE TABLE IF NOT EXISTS bench_raw (plan_year INTEGER, agent_id TEXT, "
            "seq INTEGER, event_id TEXT, body TEXT, PRIMARY KEY (plan_year, agent_id, seq))"
        )

    def insert(self, rows: Sequence[tuple[Any, ...]]) -> int:
        """Insert *rows*, one transaction each; return how many."""
        conn = self.conn
        for row in rows:
            conn.execute("BEGIN")
            conn.execute("INSERT INTO bench_raw VALUES (?, ?, ?, ?, ?)", row)
            conn.execute("COMMIT")
        return len(rows)

    def close(self) -> None:
        """Close the connection."""
        self.conn.close()


class PostgresRaw:
    """One INSERT + COMMIT per event into a plain table of *schema*."""

    def __init__(self, dsn: str, schema: str) -> None:
        import psycopg
        from psycopg import sql

        self.conn = psycopg.connect(dsn, autocommit=True)
        ident = sql.Identifier(schema)
        self.conn.execute(sql.SQL("CREATE SCHEMA IF NOT EXISTS {}").format(ident))
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

    def insert(self, rows: Sequence[tuple[Any, ...]]) -> int:
        """Insert *rows*, one transaction each; return how many."""
        conn = self.conn
        for row in rows:
            with conn.transaction():
                conn.execute(self.query, row)
        return len(rows)

    def close(self) -> None:
        """Close the connection."""
        self.conn.close()


# -- the eventsourcing peer ----------------------------------------------------


class Refused(Exception):
    """The peer refused a step of the lifecycle: the benchmark is broken."""


def registration_id(agent_id: str, plan_year: int) -> uuid.UUID:
    """The aggregate id of one agent's registration for one plan year."""
    return uuid.uuid5(_NAMESPACE, f"{plan_year}/{agent_id}")


class EsRegistration(Aggregate):
    """One agent's registration for one plan year, as an eventsourcing user writes it.

    Each public command checks the state the step needs and that its event
    id is new (the same refusals regflow's route table and idempotency make
    on this path), then triggers one decorated method: that method's body is
    the domain event's mutator, run again at every replay. It does not run
    regflow's guards (plan-year window, dates, NPN format, S-rules).
    """

    @staticmethod
    def create_id(agent_id: str, plan_year: int) -> uuid.UUID:
        return registration_id(agent_id, plan_year)

    @event("Started")
    def __init__(
        self,
        agent_id: str,
        plan_year: int,
        portal_account_id: str,
        prior_year: int | None,
        event_id: str,
        at: Any,
    ) -> None:
        self.agent_id = agent_id
        self.plan_year = plan_year
        self.portal_account_id = portal_account_id
        self.prior_year = prior_year
        self.status = "in_progress"
        self.individual = "profile_incomplete"
        self.shop = "profile_incomplete"
        self.profile: dict[str, Any] | None = None
        self.curriculum: str | None = None
        self.agreements: list[str] = []
        self.certificate_at: Any = None
        self.tracker_at: Any = None
        self.npn_valid: str | None = None
        self.find_local_help_at: Any = None
        self.applied = [event_id]

    def _expect(self, event_id: str, *individual: str) -> bool:
        if event_id in self.applied:
            return False  # a resend: nothing to record
        if self.individual not in individual:
            raise Refused(f"{event_id}: individual track is {self.individual}")
        return True

    # Each command: the checks, then its one event.

    def save_profile(self, event_id: str, at: Any, profile: dict[str, Any]) -> None:
        if self._expect(event_id, "profile_incomplete"):
            self._profile_saved(event_id, at, profile)

    def complete_profile(self, event_id: str, at: Any) -> None:
        if self._expect(event_id, "profile_incomplete"):
            if self.profile is None:
                raise Refused(f"{event_id}: no profile saved")
            self._profile_completed(event_id, at)

    def complete_mlms_training(self, event_id: str, at: Any, curriculum: str) -> None:
        if self._expect(event_id, "training"):
            self._training_completed(event_id, at, curriculum)

    def accept_agreement(self, event_id: str, at: Any, agreement: str) -> None:
        if self._expect(event_id, "agreements_pending"):
            if agreement in self.agreements:
                raise Refused(f"{event_id}: {agreement} accepted already")
            self._agreement_accepted(event_id, at, agreement)

    def print_certificate(self, event_id: str, at: Any) -> None:
        if self._expect(event_id, "registered", "certified"):
            self._certificate_printed(event_id, at)

    def confirm_tracker(self, event_id: str, at: Any) -> None:
        if self._expect(event_id, "registered", "certified"):
            self._tracker_confirmed(event_id, at)

    def observe_rcl_listing(self, event_id: str, at: Any, npn_valid: str) -> None:
        if self._expect(event_id, "registered", "certified", "npn_invalid"):
            self._rcl_observed(event_id, at, npn_valid)

    def observe_find_local_help(self, event_id: str, at: Any) -> None:
        if self._expect(event_id, "registered", "certified"):
            self._find_local_help_observed(event_id, at)

    # The mutators (the events' bodies), replayed on every get.

    @event("ProfileSaved")
    def _profile_saved(self, event_id: str, at: Any, profile: dict[str, Any]) -> None:
        self.profile = profile
        self.applied.append(event_id)

    @event("ProfileCompleted")
    def _profile_completed(self, event_id: str, at: Any) -> None:
        self.individual = "training"
        self.shop = "not_taken"
        self.applied.append(event_id)

    @event("TrainingCompleted")
    def _training_completed(self, event_id: str, at: Any, curriculum: str) -> None:
        self.curriculum = curriculum
        self.individual = "agreements_pending"
        self.applied.append(event_id)

    @event("AgreementAccepted")
    def _agreement_accepted(self, event_id: str, at: Any, agreement: str) -> None:
        self.agreements.append(agreement)
        if BOTH_AGREEMENTS.issubset(self.agreements):
            self.individual = self.status = "registered"
        self.applied.append(event_id)

    @event("CertificatePrinted")
    def _certificate_printed(self, event_id: str, at: Any) -> None:
        self.certificate_at = at
        self.applied.append(event_id)

    @event("TrackerConfirmed")
    def _tracker_confirmed(self, event_id: str, at: Any) -> None:
        self.tracker_at = at
        self.applied.append(event_id)

    @event("RclObserved")
    def _rcl_observed(self, event_id: str, at: Any, npn_valid: str) -> None:
        self.npn_valid = npn_valid
        valid = npn_valid == regflow.NpnValidity.VALID.value
        self.individual = "certified" if valid else "npn_invalid"
        self.status = "certified" if valid else "action_needed"
        self.applied.append(event_id)

    @event("FindLocalHelpObserved")
    def _find_local_help_observed(self, event_id: str, at: Any) -> None:
        self.find_local_help_at = at
        self.applied.append(event_id)


class Registrations(Application):
    """The eventsourcing application: start, and apply one step, as regflow's
    ``Repository.start`` / ``apply`` do."""

    def start(self, start: dict[str, Any]) -> EsRegistration:
        """Refuse a prior year the stored year before contradicts, then create."""
        previous = registration_id(start["agent_id"], start["plan_year"] - 1)
        try:
            self.repository.get(previous)
        except AggregateNotFoundError:
            pass
        else:
            if start["prior_year"] is None:
                raise Refused(f"{start['event_id']}: a year before is stored")
        reg = EsRegistration(**start)
        self.save(reg)
        return reg

    def apply(
        self, agent_id: str, plan_year: int, command: str, data: dict[str, Any]
    ) -> EsRegistration:
        """Get the aggregate, run *command*, save its new event (one commit)."""
        reg: EsRegistration = self.repository.get(registration_id(agent_id, plan_year))
        getattr(reg, command)(**data)
        self.save(reg)
        return reg


EsLife = tuple[dict[str, Any], list[tuple[str, dict[str, Any]]]]


def es_lives(lives: Sequence[Life]) -> list[EsLife]:
    """The peer's commands for regflow's events (converted untimed): plain
    strings for enums, the profile as regflow's own dict of it (from the event's)."""
    found = []
    for life in lives:
        first = life[0]
        assert isinstance(first, ev.StartRegistration)
        start = {
            "agent_id": first.agent_id,
            "plan_year": first.plan_year,
            "portal_account_id": first.portal_account_id,
            "prior_year": first.prior_year,
            "event_id": first.event_id,
            "at": first.at,
        }
        steps = []
        for e in life[1:]:
            data: dict[str, Any] = {"event_id": e.event_id, "at": e.at}
            if isinstance(e, ev.SaveProfile):
                data["profile"] = regflow.to_dict(e)["profile"]
            elif isinstance(e, ev.CompleteMlmsTraining):
                data["curriculum"] = e.curriculum.value
            elif isinstance(e, ev.AcceptAgreement):
                data["agreement"] = e.agreement.value
            elif isinstance(e, ev.ObserveRclListing):
                data["npn_valid"] = e.npn_valid.value
            steps.append((e.kind, data))
        found.append((start, steps))
    return found


def run_es(app: Registrations, lives: Sequence[EsLife]) -> int:
    """Every lifecycle through the peer; return the number of events."""
    count = 0
    for start, steps in lives:
        agent, year = start["agent_id"], start["plan_year"]
        reg = app.start(start)
        for command, data in steps:
            reg = app.apply(agent, year, command, data)
        assert reg.status == "certified", reg.status
        count += 1 + len(steps)
    return count


class _NormalSyncPool(SQLiteConnectionPool):
    # eventsourcing sets WAL but leaves synchronous at SQLite's default
    # (FULL): set NORMAL, as regflow's store does, so both pay the same.
    def _create_connection(self) -> SQLiteConnection:
        conn = super()._create_connection()
        conn._sqlite_conn.execute("PRAGMA synchronous=NORMAL")
        return conn


class NormalSyncSQLiteFactory(SQLiteFactory):
    """eventsourcing's SQLite persistence, its connections at synchronous=NORMAL."""

    def __init__(self, env: Any) -> None:
        super().__init__(env)
        old = self.datastore.pool
        self.datastore.pool = _NormalSyncPool(
            db_name=old.db_name, lock_timeout=old.lock_timeout
        )
        old.close()


def _cipher_env() -> dict[str, str]:
    # AES-256-GCM of every stored event, as regflow seals contact details:
    # without it the peer would store them in the clear.
    return {
        "CIPHER_TOPIC": "eventsourcing.cryptography:AESCipher",
        "CIPHER_KEY": AESCipher.create_key(num_bytes=32),
    }


def _cache_env(cache: bool) -> dict[str, str]:
    # The cache mirrors regflow's snapshot memo (4096 entries); fast-forward
    # (the default) still reads newer events from the database on each get.
    return {"AGGREGATE_CACHE_MAXSIZE": "4096"} if cache else {}


def sqlite_app(path: str, *, cache: bool = False) -> Registrations:
    """The peer on eventsourcing's SQLite recorder, in the file *path*."""
    env = {
        "PERSISTENCE_MODULE": f"{__name__}:NormalSyncSQLiteFactory",
        "SQLITE_DBNAME": path,
        **_cipher_env(),
        **_cache_env(cache),
    }
    return Registrations(env=env)


def pragmas(conn: sqlite3.Connection) -> str:
    """A connection's journal mode and synchronous level, e.g. ``wal/1``."""
    mode = conn.execute("PRAGMA journal_mode").fetchone()[0]
    level = conn.execute("PRAGMA synchronous").fetchone()[0]
    return f"{mode}/{level}"


def es_pragmas(app: Registrations) -> str:
    """:func:`pragmas` of the peer's SQLite connections."""
    datastore: Any = app.factory.datastore  # type: ignore[attr-defined]
    with datastore.get_connection(commit=False) as conn:
        return pragmas(conn._sqlite_conn)


def postgres_app(dsn: str, schema: str, *, cache: bool = False) -> Registrations:
    """The peer on eventsourcing's PostgreSQL recorder, in *schema* (created here)."""
    import psycopg
    from psycopg import sql
    from psycopg.conninfo import conninfo_to_dict

    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute(
            sql.SQL("CREATE SCHEMA IF NOT EXISTS {}").format(sql.Identifier(schema))
        )
    info = conninfo_to_dict(dsn)
    env = {
        "PERSISTENCE_MODULE": "eventsourcing.postgres",
        "POSTGRES_DBNAME": str(info.get("dbname") or info.get("user") or ""),
        "POSTGRES_HOST": str(info.get("host") or "localhost"),
        "POSTGRES_PORT": str(info.get("port") or "5432"),
        "POSTGRES_USER": str(info.get("user") or ""),
        "POSTGRES_PASSWORD": str(info.get("password") or ""),
        "POSTGRES_SCHEMA": schema,
        **_cipher_env(),
        **_cache_env(cache),
    }
    return Registrations(env=env)
