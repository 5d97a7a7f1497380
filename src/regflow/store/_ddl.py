"""The tables, version by version, for both databases, and the one migration.

A store's database carries the version of its table layout. Opening an older
one upgrades it step by step, under a lock (SQLite's write lock; a
PostgreSQL advisory lock), so that workers starting together do not race; a
newer one is refused (:class:`~regflow.StoreSchemaTooNew`). Each step is
written once, as data: its statements in each dialect, plus, where rows must
be rebuilt, a data step the store runs in Python.

Version 3 keys every table by agency first: ``(agency, plan_year,
agent_id)`` for registrations, the same plus ``seq`` for their events, so
that a deployment that outgrows one PostgreSQL server can distribute them
by agency (a Citus distribution column) without a change of schema.
"""

from __future__ import annotations

from typing import Final, Literal

import attrs

from .._errors import StoreSchemaTooNew

__all__ = ["STORE_SCHEMA_VERSION", "STEPS", "Step", "check_schema_version"]

STORE_SCHEMA_VERSION: Final = 3
"""The table layout this regflow writes. 1: snapshots and events; 2: listing
indexes and the append-only rule; 3: agencies, both tracks and the status as
columns, the change feed's positions, the consumers' checkpoints and the
agents' sealing keys."""

DialectName = Literal["sqlite", "postgresql"]

_APPEND_ONLY: Final = "an accepted regflow event is never changed"


@attrs.frozen(slots=True)
class Step:
    """What takes a database from ``version - 1`` to ``version``.

    Attributes:
        version: the version reached.
        sqlite, postgresql: the statements, in order. In PostgreSQL's, ``{s}``
            is the schema (filled in as an identifier).
        moves: whether rows move from the older tables in Python afterwards:
            the events sealed as they are copied, the snapshots rebuilt from
            them (layout 3).
        cleanup_sqlite, cleanup_postgresql: statements run after the move.
    """

    version: int
    sqlite: tuple[str, ...]
    postgresql: tuple[str, ...]
    moves: bool = False
    cleanup_sqlite: tuple[str, ...] = ()
    cleanup_postgresql: tuple[str, ...] = ()

    def statements(self, dialect: DialectName) -> tuple[str, ...]:
        """The step's statements in *dialect*."""
        return self.sqlite if dialect == "sqlite" else self.postgresql

    def cleanup(self, dialect: DialectName) -> tuple[str, ...]:
        """The statements after the move, in *dialect*."""
        return self.cleanup_sqlite if dialect == "sqlite" else self.cleanup_postgresql


_V3_SQLITE: Final = (
    """CREATE TABLE regflow_registrations (
        agency TEXT NOT NULL DEFAULT '',
        plan_year INTEGER NOT NULL,
        agent_id TEXT NOT NULL,
        portal_account_id TEXT NOT NULL,
        status TEXT NOT NULL,
        individual TEXT NOT NULL,
        shop TEXT NOT NULL,
        npn TEXT,
        version INTEGER NOT NULL CHECK (version >= 1),
        snapshot TEXT NOT NULL
    )""",
    # A rowid table, keyed by a unique index: its rows may hold about 4 KB
    # in their page, where a WITHOUT ROWID table's hold about 1 KB, so a
    # snapshot stays in its row instead of spilling onto an overflow page
    # that each update would free (zeroed, see secure_delete) and replace.
    """CREATE UNIQUE INDEX regflow_registrations_key
        ON regflow_registrations (agency, plan_year, agent_id)""",
    # S2: one registration per individual NPN and plan year, in an agency.
    """CREATE UNIQUE INDEX regflow_registrations_npn
        ON regflow_registrations (agency, npn, plan_year) WHERE npn IS NOT NULL""",
    """CREATE INDEX regflow_registrations_status
        ON regflow_registrations (agency, plan_year, status, agent_id)""",
    """CREATE INDEX regflow_registrations_individual
        ON regflow_registrations (agency, plan_year, individual, agent_id)""",
    """CREATE TABLE regflow_log (
        agency TEXT NOT NULL DEFAULT '',
        plan_year INTEGER NOT NULL,
        agent_id TEXT NOT NULL,
        seq INTEGER NOT NULL CHECK (seq >= 1),
        -- The rowid: unique, and each event is appended at the end of the
        -- table's b-tree. Writes are serialized by SQLite's write lock, so
        -- positions are handed out in commit order: the feed reads them in
        -- order and skips nothing.
        position INTEGER NOT NULL PRIMARY KEY,
        event_id TEXT NOT NULL,
        kind TEXT NOT NULL,
        at TEXT NOT NULL,
        body TEXT NOT NULL,
        recorded_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%f+00:00', 'now')),
        FOREIGN KEY (agency, plan_year, agent_id)
            REFERENCES regflow_registrations (agency, plan_year, agent_id)
    )""",
    """CREATE UNIQUE INDEX regflow_log_seq
        ON regflow_log (agency, plan_year, agent_id, seq)""",
    # An event id is one fact of a registration, even for writers that
    # bypass regflow.
    """CREATE UNIQUE INDEX regflow_log_event
        ON regflow_log (agency, plan_year, agent_id, event_id)""",
    f"""CREATE TRIGGER regflow_log_no_update BEFORE UPDATE ON regflow_log
        BEGIN SELECT RAISE(ABORT, 'regflow_log is append-only: {_APPEND_ONLY}'); END""",
    f"""CREATE TRIGGER regflow_log_no_delete BEFORE DELETE ON regflow_log
        BEGIN SELECT RAISE(ABORT, 'regflow_log is append-only: {_APPEND_ONLY}'); END""",
    """CREATE TABLE regflow_consumers (
        name TEXT PRIMARY KEY,
        position INTEGER NOT NULL,
        updated_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%f+00:00', 'now'))
    )""",
    """CREATE TABLE regflow_keys (
        agency TEXT NOT NULL DEFAULT '',
        agent_id TEXT NOT NULL,
        key_id TEXT NOT NULL,
        key BLOB NOT NULL,
        PRIMARY KEY (agency, agent_id)
    ) WITHOUT ROWID""",
)

_V3_POSTGRESQL: Final = (
    """CREATE TABLE {s}.registrations (
        agency text NOT NULL DEFAULT '',
        plan_year integer NOT NULL,
        agent_id text NOT NULL,
        portal_account_id text NOT NULL,
        status text NOT NULL,
        individual text NOT NULL,
        shop text NOT NULL,
        npn text,
        version integer NOT NULL CHECK (version >= 1),
        snapshot jsonb NOT NULL,
        CONSTRAINT registrations_pkey PRIMARY KEY (agency, plan_year, agent_id)
    )""",
    """CREATE UNIQUE INDEX registrations_npn_key
        ON {s}.registrations (agency, npn, plan_year) WHERE npn IS NOT NULL""",
    """CREATE INDEX registrations_status_idx
        ON {s}.registrations (agency, plan_year, status, agent_id)""",
    """CREATE INDEX registrations_individual_idx
        ON {s}.registrations (agency, plan_year, individual, agent_id)""",
    """CREATE TABLE {s}.log (
        agency text NOT NULL DEFAULT '',
        plan_year integer NOT NULL,
        agent_id text NOT NULL,
        seq integer NOT NULL CHECK (seq >= 1),
        position bigint GENERATED ALWAYS AS IDENTITY,
        tx xid8 NOT NULL DEFAULT pg_current_xact_id(),
        event_id text NOT NULL,
        kind text NOT NULL,
        at timestamptz NOT NULL,
        body jsonb NOT NULL,
        recorded_at timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT log_pkey PRIMARY KEY (agency, plan_year, agent_id, seq),
        CONSTRAINT log_registration_fkey FOREIGN KEY (agency, plan_year, agent_id)
            REFERENCES {s}.registrations (agency, plan_year, agent_id)
    )""",
    # Sequence values become visible out of order: the feed is read in
    # (transaction, position) order, up to the oldest transaction still open.
    # Every unique index leads with the agency, so that the tables can be
    # distributed by agency (Citus) as they are; positions are unique by
    # their identity column.
    "CREATE INDEX log_position_idx ON {s}.log (position)",
    "CREATE UNIQUE INDEX log_event_key ON {s}.log (agency, plan_year, agent_id, event_id)",
    "CREATE INDEX log_feed_idx ON {s}.log (tx, position)",
    "CREATE INDEX log_agency_feed_idx ON {s}.log (agency, tx, position)",
    """CREATE FUNCTION {s}.log_append_only() RETURNS trigger
        LANGUAGE plpgsql AS $$
        BEGIN
            RAISE EXCEPTION '%.log is append-only: % is not allowed',
                TG_TABLE_SCHEMA, TG_OP
                USING HINT = 'an accepted regflow event is never changed';
        END $$""",
    """CREATE TRIGGER log_append_only BEFORE UPDATE OR DELETE ON {s}.log
        FOR EACH ROW EXECUTE FUNCTION {s}.log_append_only()""",
    """CREATE TRIGGER log_no_truncate BEFORE TRUNCATE ON {s}.log
        FOR EACH STATEMENT EXECUTE FUNCTION {s}.log_append_only()""",
    """CREATE TABLE {s}.consumers (
        name text PRIMARY KEY,
        position bigint NOT NULL,
        updated_at timestamptz NOT NULL DEFAULT now()
    )""",
    """CREATE TABLE {s}.keys (
        agency text NOT NULL DEFAULT '',
        agent_id text NOT NULL,
        key_id text NOT NULL,
        key bytea NOT NULL,
        CONSTRAINT keys_pkey PRIMARY KEY (agency, agent_id)
    )""",
)

STEPS: Final[tuple[Step, ...]] = (
    Step(
        version=1,
        sqlite=(
            """CREATE TABLE regflow_snapshots (
                plan_year INTEGER NOT NULL,
                agent_id TEXT NOT NULL,
                portal_account_id TEXT NOT NULL,
                state TEXT NOT NULL,
                npn TEXT,
                version INTEGER NOT NULL CHECK (version >= 1),
                snapshot TEXT NOT NULL,
                PRIMARY KEY (plan_year, agent_id)
            )""",
            """CREATE UNIQUE INDEX regflow_snapshots_npn
                ON regflow_snapshots (npn, plan_year) WHERE npn IS NOT NULL""",
            """CREATE TABLE regflow_events (
                plan_year INTEGER NOT NULL,
                agent_id TEXT NOT NULL,
                seq INTEGER NOT NULL CHECK (seq >= 1),
                event_id TEXT NOT NULL,
                kind TEXT NOT NULL,
                at TEXT NOT NULL,
                body TEXT NOT NULL,
                recorded_at TEXT NOT NULL DEFAULT CURRENT_TIMESTAMP,
                PRIMARY KEY (plan_year, agent_id, seq),
                UNIQUE (plan_year, agent_id, event_id),
                FOREIGN KEY (plan_year, agent_id)
                    REFERENCES regflow_snapshots (plan_year, agent_id)
            ) WITHOUT ROWID""",
        ),
        postgresql=(
            """CREATE TABLE {s}.snapshots (
                plan_year integer NOT NULL,
                agent_id text NOT NULL,
                portal_account_id text NOT NULL,
                state text NOT NULL,
                npn text,
                version integer NOT NULL CHECK (version >= 1),
                snapshot jsonb NOT NULL,
                CONSTRAINT snapshots_pkey PRIMARY KEY (plan_year, agent_id)
            )""",
            """CREATE UNIQUE INDEX snapshots_npn_key
                ON {s}.snapshots (npn, plan_year) WHERE npn IS NOT NULL""",
            """CREATE TABLE {s}.events (
                plan_year integer NOT NULL,
                agent_id text NOT NULL,
                seq integer NOT NULL CHECK (seq >= 1),
                event_id text NOT NULL,
                kind text NOT NULL,
                at timestamptz NOT NULL,
                body jsonb NOT NULL,
                recorded_at timestamptz NOT NULL DEFAULT now(),
                CONSTRAINT events_pkey PRIMARY KEY (plan_year, agent_id, seq),
                CONSTRAINT events_event_id_key UNIQUE (plan_year, agent_id, event_id),
                CONSTRAINT events_registration_fkey FOREIGN KEY (plan_year, agent_id)
                    REFERENCES {s}.snapshots (plan_year, agent_id)
            )""",
        ),
    ),
    Step(
        version=2,
        sqlite=(
            """CREATE INDEX regflow_snapshots_state
                ON regflow_snapshots (state, plan_year, agent_id)""",
            f"""CREATE TRIGGER regflow_events_no_update BEFORE UPDATE ON regflow_events
                BEGIN SELECT RAISE(ABORT, 'regflow_events is append-only: {_APPEND_ONLY}'); END""",
            f"""CREATE TRIGGER regflow_events_no_delete BEFORE DELETE ON regflow_events
                BEGIN SELECT RAISE(ABORT, 'regflow_events is append-only: {_APPEND_ONLY}'); END""",
        ),
        postgresql=(
            "CREATE INDEX snapshots_state_idx ON {s}.snapshots (state, plan_year, agent_id)",
            """CREATE FUNCTION {s}.events_append_only() RETURNS trigger
                LANGUAGE plpgsql AS $$
                BEGIN
                    RAISE EXCEPTION '%.events is append-only: % is not allowed',
                        TG_TABLE_SCHEMA, TG_OP
                        USING HINT = 'an accepted regflow event is never changed';
                END $$""",
            """CREATE TRIGGER events_append_only BEFORE UPDATE OR DELETE ON {s}.events
                FOR EACH ROW EXECUTE FUNCTION {s}.events_append_only()""",
            """CREATE TRIGGER events_no_truncate BEFORE TRUNCATE ON {s}.events
                FOR EACH STATEMENT EXECUTE FUNCTION {s}.events_append_only()""",
        ),
    ),
    Step(
        version=3,
        sqlite=_V3_SQLITE,
        postgresql=_V3_POSTGRESQL,
        # Layout 2 kept contact details in the clear: they move sealed.
        moves=True,
        cleanup_sqlite=("DROP TABLE regflow_events", "DROP TABLE regflow_snapshots"),
        cleanup_postgresql=(
            "DROP TABLE {s}.events",
            "DROP TABLE {s}.snapshots",
            "DROP FUNCTION {s}.events_append_only()",
        ),
    ),
)
"""Every step from an empty database to :data:`STORE_SCHEMA_VERSION`."""

assert [s.version for s in STEPS] == list(range(1, STORE_SCHEMA_VERSION + 1))


def check_schema_version(found: int, where: str) -> None:
    """Refuse a database newer than this regflow.

    Raises:
        StoreSchemaTooNew: *found* is above :data:`STORE_SCHEMA_VERSION`.
    """
    if found > STORE_SCHEMA_VERSION:
        raise StoreSchemaTooNew(found, STORE_SCHEMA_VERSION, where)
