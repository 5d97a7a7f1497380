"""The multi-worker store: PostgreSQL through psycopg 3 (imported only when used).

The tables live in one PostgreSQL schema (``regflow`` unless told otherwise),
created and upgraded by the store under an advisory lock, so that workers
starting together do not race. A write is a single statement (update the
snapshot if it is still at the version read, then append the events), which
PostgreSQL runs as one transaction: one round trip per event.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Final

from .._errors import (
    ConcurrencyConflict,
    InvalidValue,
    RegistrationNotFound,
    StoreError,
)
from .._registration import Registration
from ._protocol import RegistrationKey
from ._schema import (
    POSTGRES_DDL,
    STORE_SCHEMA_VERSION,
    check_columns,
    check_schema_version,
    check_write,
    closed_error,
    decode_events,
    decode_snapshot,
    encode_events,
    encode_snapshot,
)
from ._sql import Constraint, Dialect, Reads, SQLStore, Translated

if TYPE_CHECKING:
    import psycopg

__all__ = ["PostgresStore"]

# ``{s}`` is the schema: psycopg.sql fills it in as an Identifier.
_DIALECT: Final = Dialect(
    mark="%s",
    snapshots="{s}.snapshots",
    events="{s}.events",
    snapshot="snapshot::text",
    max_seq=2**31 - 1,  # seq is an integer column
)
_KEY: Final = "plan_year = %(year)s AND agent_id = %(agent)s"
_NEW_EVENTS: Final = """
    INSERT INTO {s}.events (plan_year, agent_id, seq, event_id, kind, at, body)
    SELECT %(year)s, %(agent)s, e.seq, e.event_id, e.kind, e.at, e.body
    FROM snap, unnest(%(seqs)s::integer[], %(ids)s::text[], %(kinds)s::text[],
                      %(ats)s::timestamptz[], %(bodies)s::jsonb[])
         AS e(seq, event_id, kind, at, body)
    RETURNING 1"""
_WRITTEN: Final = ") SELECT (SELECT text FROM snap), (SELECT count(*) FROM ins)"
# What only this store runs, with named parameters (see _params); the reads
# it shares with SQLite are Reads.of(_DIALECT).
_SQL: Final = {
    "create": """WITH snap AS (
            INSERT INTO {s}.snapshots
                (plan_year, agent_id, portal_account_id, state, npn, version, snapshot)
            VALUES (%(year)s, %(agent)s, %(account)s, %(state)s, %(npn)s,
                    %(version)s, %(snapshot)s::jsonb)
            ON CONFLICT (plan_year, agent_id) DO NOTHING
            RETURNING snapshot::text AS text
        ), ins AS ("""
    + _NEW_EVENTS
    + _WRITTEN,
    "append": f"""WITH snap AS (
            UPDATE {{s}}.snapshots SET portal_account_id = %(account)s,
                state = %(state)s, npn = %(npn)s, version = %(version)s,
                snapshot = %(snapshot)s::jsonb
            WHERE {_KEY} AND version = %(expected)s
            RETURNING snapshot::text AS text
        ), ins AS ("""
    + _NEW_EVENTS
    + _WRITTEN,
    "lock": f"SELECT version FROM {{s}}.snapshots WHERE {_KEY} FOR UPDATE",
    "restore": f"""UPDATE {{s}}.snapshots SET portal_account_id = %(account)s,
            state = %(state)s, npn = %(npn)s, version = %(version)s,
            snapshot = %(snapshot)s::jsonb
        WHERE {_KEY} RETURNING snapshot::text""",
    # The logs of several snapshots read together, each up to its version.
    "histories": """SELECT e.plan_year, e.agent_id, e.seq, e.body
        FROM unnest(%(years)s::integer[], %(agents)s::text[], %(versions)s::integer[])
             AS k(plan_year, agent_id, version)
        JOIN {s}.events AS e ON e.plan_year = k.plan_year
             AND e.agent_id = k.agent_id AND e.seq <= k.version
        ORDER BY e.plan_year, e.agent_id, e.seq""",
}
# The constraints of POSTGRES_DDL that regflow explains, by the name the
# server reports in a UniqueViolation.
_CONSTRAINTS: Final[dict[str, Constraint]] = {
    "snapshots_npn_key": "npn",
    "events_event_id_key": "event_id",
    "events_pkey": "seq",
}


def _psycopg() -> Any:
    try:
        import psycopg
    except ImportError as exc:
        raise StoreError(
            "PostgresStore needs psycopg 3; install it with "
            "pip install 'regflow[postgres]'"
        ) from exc
    return psycopg


class PostgresStore(SQLStore):
    """Registrations in PostgreSQL, safe for many worker processes at once.

    Args:
        dsn: a libpq connection string or URL, e.g.
            ``postgresql://user@host:5432/dbname``.
        schema: the PostgreSQL schema holding regflow's tables; created on
            first use. Give each application (or test run) its own.
        connect_timeout: seconds to wait for the server.

    One object is one connection (re-opened if it breaks); threads may share
    it (calls are serialized), processes may not: open one per process.

    Raises:
        StoreSchemaTooNew: the schema was written by a newer regflow.
        StoreError: psycopg is missing or the server refused the connection.
    """

    _dialect = _DIALECT

    def __init__(
        self, dsn: str, *, schema: str = "regflow", connect_timeout: int = 10
    ) -> None:
        if not isinstance(schema, str) or not 0 < len(schema.encode()) <= 63:
            raise InvalidValue(
                f"'schema' must be a PostgreSQL schema name of 1 to 63 bytes "
                f"(got {schema!r})"
            )
        self._pg = _psycopg()
        self.schema = schema
        self._dsn = dsn
        self._timeout = connect_timeout
        errors = Translated(self._pg.Error, f"PostgreSQL store (schema {schema!r})")
        super().__init__(errors, f"PostgreSQL schema {schema!r}")
        self._conn: psycopg.Connection[Any] | None = None
        self._ident = self._pg.sql.Identifier(schema)
        try:
            with self._lock, self._errors:
                conn = self._connection()
                self._sql = {name: self._render(text) for name, text in _SQL.items()}
                self._reads = Reads._make(map(self._render, Reads.of(_DIALECT)))
                self._migrate(conn)
        except BaseException:
            self.close()
            raise

    def __repr__(self) -> str:
        return f"PostgresStore(schema={self.schema!r})"

    # -- connection and schema -------------------------------------------------

    def _connection(self) -> psycopg.Connection[Any]:
        if self._closed:
            raise closed_error("PostgresStore")
        conn = self._conn
        if conn is None or conn.closed or conn.broken:
            conn = self._pg.connect(
                self._dsn, autocommit=True, connect_timeout=self._timeout
            )
            self._conn = conn
        return conn

    def _render(self, text: str) -> str:
        # Only regflow's fixed text reaches here; the schema goes in as an
        # Identifier, which psycopg quotes.
        query = self._pg.sql.SQL(text).format(s=self._ident)
        rendered: str = query.as_string(self._connection())
        return rendered

    def _schema_version(self, conn: psycopg.Connection[Any]) -> int:
        # pg_tables, not to_regclass(): a query sees what other workers just
        # committed, where to_regclass() may answer from a stale catalog cache.
        table = conn.execute(
            "SELECT 1 FROM pg_catalog.pg_tables "
            "WHERE schemaname = %s AND tablename = 'schema_version'",
            (self.schema,),
        ).fetchone()
        if table is None:
            return 0
        query = self._pg.sql.SQL("SELECT max(version) FROM {}.schema_version")
        found = conn.execute(query.format(self._ident)).fetchone()
        return int(found[0] or 0) if found else 0

    def _migrate(self, conn: psycopg.Connection[Any]) -> None:
        where = self._where
        found = self._schema_version(conn)
        check_schema_version(found, where)
        if found == STORE_SCHEMA_VERSION:
            return
        sql, ident = self._pg.sql, self._ident
        with conn.transaction():
            conn.execute(
                "SELECT pg_advisory_xact_lock(hashtext('regflow.store:' || %s::text))",
                (self.schema,),
            )
            found = self._schema_version(conn)  # another worker may have done it
            check_schema_version(found, where)
            if found == 0:
                conn.execute(sql.SQL("CREATE SCHEMA IF NOT EXISTS {}").format(ident))
                conn.execute(
                    sql.SQL(
                        "CREATE TABLE {}.schema_version (version integer PRIMARY KEY, "
                        "applied_at timestamptz NOT NULL DEFAULT now())"
                    ).format(ident)
                )
            for version in range(found + 1, STORE_SCHEMA_VERSION + 1):
                for statement in POSTGRES_DDL[version]:
                    conn.execute(sql.SQL(statement).format(s=ident))
                conn.execute(
                    sql.SQL(
                        "INSERT INTO {}.schema_version (version) VALUES (%s)"
                    ).format(ident),
                    (version,),
                )

    @property
    def schema_version(self) -> int:
        """The schema version of the open database schema."""
        with self._lock, self._errors:
            return self._schema_version(self._connection())

    # -- the writes ------------------------------------------------------------

    def write(self, registration: Registration, *, expected_version: int) -> None:
        """Append the new events and store the snapshot, atomically (see :class:`Store`)."""
        reg = check_write(registration, expected_version)
        key = RegistrationKey(reg.agent_id, reg.plan_year)
        rows = encode_events(reg.history, expected_version)
        with self._lock:
            encoded = encode_snapshot(reg, self._memo.previous(key, expected_version))
        params = self._params(reg, encoded.text)
        params.update(
            expected=expected_version,
            seqs=[r.seq for r in rows],
            ids=[r.event_id for r in rows],
            kinds=[r.kind for r in rows],
            ats=[r.at for r in rows],
            bodies=[r.body for r in rows],
        )
        statement = self._sql["create" if expected_version == 0 else "append"]
        with self._lock, self._errors:
            conn = self._connection()
            try:
                row = conn.execute(statement, params).fetchone()
            except self._pg.errors.UniqueViolation as exc:
                raise self._refusal(conn, exc, reg, expected_version) from exc
            if row is None or row[0] is None:
                raise ConcurrencyConflict(
                    *key, expected_version, self._version(conn, key)
                )
            self._memo.put(key, row[0], reg, encoded.parts)

    @staticmethod
    def _params(reg: Registration, snapshot: str) -> dict[str, Any]:
        return {
            "year": reg.plan_year,
            "agent": reg.agent_id,
            "account": reg.portal_account_id,
            "state": reg.individual.value,
            "npn": None if reg.npn is None else reg.npn.value,
            "version": reg.version,
            "snapshot": snapshot,
        }

    def _constraint(self, exc: Exception) -> Constraint | None:
        name = getattr(getattr(exc, "diag", None), "constraint_name", None)
        return _CONSTRAINTS.get(name) if isinstance(name, str) else None

    def restore(self, registration: Registration) -> None:
        """Replace a snapshot with one rebuilt from the log (see :class:`Store`)."""
        reg = check_write(registration, 0)
        key = RegistrationKey(reg.agent_id, reg.plan_year)
        encoded = encode_snapshot(reg)
        params = self._params(reg, encoded.text)
        with self._lock, self._errors:
            conn = self._connection()
            try:
                with conn.transaction():
                    # The row lock orders this before or after any write in flight.
                    conn.execute(self._sql["lock"], params)
                    where = (reg.plan_year, reg.agent_id)
                    last = conn.execute(self._reads.last_seq, where).fetchone()
                    if last is None or last[0] is None:
                        raise RegistrationNotFound(*key)
                    if last[0] != reg.version:
                        raise ConcurrencyConflict(*key, reg.version, last[0])
                    row = conn.execute(self._sql["restore"], params).fetchone()
            except self._pg.errors.UniqueViolation as exc:
                raise self._refusal(conn, exc, reg, reg.version) from exc
            if row is None:  # pragma: no cover - the foreign key keeps the row
                raise RegistrationNotFound(*key)
            self._memo.put(key, row[0], reg, encoded.parts)

    # -- listings --------------------------------------------------------------

    def _registrations(self, page: list[tuple[Any, ...]]) -> list[Registration]:
        """Snapshots from one page of rows, reading the missing logs in one query."""
        found: dict[RegistrationKey, Registration | None] = {}
        with self._lock, self._errors:
            for year, agent, version, text, _, _ in page:
                key = RegistrationKey(agent, year)
                found[key] = self._memo.get(key, text, version)
            missing = [
                row for row in page if found[RegistrationKey(row[1], row[0])] is None
            ]
            logs: dict[RegistrationKey, list[tuple[int, Any]]] = {}
            if missing:
                params = {
                    "years": [row[0] for row in missing],
                    "agents": [row[1] for row in missing],
                    "versions": [row[2] for row in missing],
                }
                events = self._connection().execute(self._sql["histories"], params)
                for year, agent, seq, body in events:
                    key = RegistrationKey(agent, year)
                    logs.setdefault(key, []).append((seq, body))
        regs: list[Registration] = []
        for year, agent, version, text, state, npn in page:
            key = RegistrationKey(agent, year)
            reg = found[key]
            if reg is None:
                log = decode_events(key, logs.get(key, []))
                reg = decode_snapshot(key, version, text, log)
            regs.append(check_columns(key, reg, state, npn))
        return regs
