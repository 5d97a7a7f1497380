"""The multi-worker store: PostgreSQL through psycopg 3 (imported only when used).

The tables live in one PostgreSQL schema (``regflow`` unless told otherwise),
created and upgraded by the store under an advisory lock, so that workers
starting together do not race. A write is a single statement (update the
snapshot if it is still at the version read, then append the events), which
PostgreSQL runs as one transaction: one round trip per event.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from types import TracebackType
from typing import TYPE_CHECKING, Any, Final

from .._errors import (
    ConcurrencyConflict,
    DuplicateAccount,
    IdempotencyConflict,
    InvalidValue,
    RegistrationNotFound,
    StoreError,
)
from .._npn import NPN
from .._registration import Recorded, Registration, State
from ._protocol import RegistrationKey
from ._schema import (
    POSTGRES_DDL,
    STORE_SCHEMA_VERSION,
    SnapshotMemo,
    check_columns,
    check_schema_version,
    check_write,
    closed_error,
    decode_event,
    decode_snapshot,
    encode_events,
    encode_snapshot,
)

if TYPE_CHECKING:
    import psycopg

__all__ = ["PostgresStore"]

_PAGE: Final = 500
_KEY: Final = "plan_year = %(year)s AND agent_id = %(agent)s"
_NEW_EVENTS: Final = """
    INSERT INTO {s}.events (plan_year, agent_id, seq, event_id, kind, at, body)
    SELECT %(year)s, %(agent)s, e.seq, e.event_id, e.kind, e.at, e.body
    FROM snap, unnest(%(seqs)s::integer[], %(ids)s::text[], %(kinds)s::text[],
                      %(ats)s::timestamptz[], %(bodies)s::jsonb[])
         AS e(seq, event_id, kind, at, body)
    RETURNING 1"""
_WRITTEN: Final = ") SELECT (SELECT text FROM snap), (SELECT count(*) FROM ins)"
_SQL: Final = {
    "load": "SELECT version, snapshot::text, state, npn FROM {s}.snapshots "
    f"WHERE {_KEY}",
    "version": f"SELECT version FROM {{s}}.snapshots WHERE {_KEY}",
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
    "last_seq": f"SELECT max(seq) FROM {{s}}.events WHERE {_KEY}",
    "restore": f"""UPDATE {{s}}.snapshots SET portal_account_id = %(account)s,
            state = %(state)s, npn = %(npn)s, version = %(version)s,
            snapshot = %(snapshot)s::jsonb
        WHERE {_KEY} RETURNING snapshot::text""",
    "holder": "SELECT portal_account_id, agent_id FROM {s}.snapshots "
    "WHERE npn = %(npn)s AND plan_year = %(year)s",
    "history": f"SELECT seq, body FROM {{s}}.events WHERE {_KEY} AND seq <= %(upto)s "
    "ORDER BY seq",
    "event_ids": f"SELECT event_id FROM {{s}}.events WHERE {_KEY}",
    # The logs of several snapshots read together, each up to its version.
    "histories": """SELECT e.plan_year, e.agent_id, e.seq, e.body
        FROM unnest(%(years)s::integer[], %(agents)s::text[], %(versions)s::integer[])
             AS k(plan_year, agent_id, version)
        JOIN {s}.events AS e ON e.plan_year = k.plan_year
             AND e.agent_id = k.agent_id AND e.seq <= k.version
        ORDER BY e.plan_year, e.agent_id, e.seq""",
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


class PostgresStore:
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
        self._lock = threading.RLock()
        self._memo = SnapshotMemo()
        self._conn: psycopg.Connection[Any] | None = None
        self._closed = False
        try:
            with self._lock, self._errors():
                conn = self._connection()
                ident = self._pg.sql.Identifier(schema)
                self._sql = {
                    name: self._pg.sql.SQL(text).format(s=ident).as_string(conn)
                    for name, text in _SQL.items()
                }
                self._migrate(conn)
        except BaseException:
            self.close()
            raise

    def __repr__(self) -> str:
        return f"PostgresStore(schema={self.schema!r})"

    def __enter__(self) -> PostgresStore:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

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

    def _errors(self) -> _Errors:
        return _Errors(self)

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
        query = self._pg.sql.SQL("SELECT max(version) FROM {}.schema_version").format(
            self._pg.sql.Identifier(self.schema)
        )
        found = conn.execute(query).fetchone()
        return int(found[0] or 0) if found else 0

    def _migrate(self, conn: psycopg.Connection[Any]) -> None:
        where = f"PostgreSQL schema {self.schema!r}"
        found = self._schema_version(conn)
        check_schema_version(found, where)
        if found == STORE_SCHEMA_VERSION:
            return
        sql, ident = self._pg.sql, self._pg.sql.Identifier(self.schema)
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
        with self._lock, self._errors():
            return self._schema_version(self._connection())

    def close(self) -> None:
        """Close the connection; the store is unusable afterwards."""
        with self._lock:
            self._closed = True
            if self._conn is not None:
                self._conn.close()
                self._conn = None
            self._memo.clear()

    # -- the protocol ----------------------------------------------------------

    def load(self, agent_id: str, plan_year: int) -> Registration:
        """Return the latest snapshot of a registration (see :class:`Store`)."""
        key = RegistrationKey(agent_id, plan_year)
        params = {"year": plan_year, "agent": agent_id}
        with self._lock, self._errors():
            conn = self._connection()
            row = conn.execute(self._sql["load"], params).fetchone()
            if row is None:
                raise RegistrationNotFound(agent_id, plan_year)
            version, text, state, npn = row
            reg = self._memo.get(key, text)
            if reg is None:
                # Events 1..version were committed with this snapshot and never
                # change, so reading them after it needs no transaction.
                records = self._records(conn, key, version)
                reg = decode_snapshot(key, version, text, records)
                self._memo.put(key, text, reg)
            return check_columns(key, reg, state, npn)

    def _records(
        self, conn: psycopg.Connection[Any], key: RegistrationKey, upto: int
    ) -> tuple[Recorded, ...]:
        params = {"year": key.plan_year, "agent": key.agent_id, "upto": upto}
        rows = conn.execute(self._sql["history"], params).fetchall()
        return tuple(decode_event(key, seq, body) for seq, body in rows)

    def write(self, registration: Registration, *, expected_version: int) -> None:
        """Append the new events and store the snapshot, atomically (see :class:`Store`)."""
        reg = check_write(registration, expected_version)
        key = RegistrationKey(reg.agent_id, reg.plan_year)
        rows = encode_events(reg.history[expected_version:])
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
        with self._lock, self._errors():
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
            "state": reg.state.value,
            "npn": None if reg.npn is None else reg.npn.value,
            "version": reg.version,
            "snapshot": snapshot,
        }

    def _version(self, conn: psycopg.Connection[Any], key: RegistrationKey) -> int:
        params = {"year": key.plan_year, "agent": key.agent_id}
        row = conn.execute(self._sql["version"], params).fetchone()
        return 0 if row is None else int(row[0])

    def _refusal(
        self,
        conn: psycopg.Connection[Any],
        exc: Exception,
        reg: Registration,
        expected: int,
    ) -> StoreError:
        """The regflow error for a constraint the database enforced."""
        constraint = getattr(getattr(exc, "diag", None), "constraint_name", None)
        key = RegistrationKey(reg.agent_id, reg.plan_year)
        params = {"year": reg.plan_year, "agent": reg.agent_id}
        if constraint == "snapshots_npn_key" and reg.npn is not None:
            params["npn"] = reg.npn.value
            found = conn.execute(self._sql["holder"], params).fetchone()
            if found is not None:
                return DuplicateAccount(reg.npn.value, reg.plan_year, *found)
        elif constraint == "events_event_id_key":
            rows = conn.execute(self._sql["event_ids"], params).fetchall()
            taken = {row[0] for row in rows}
            for recorded in reg.history[expected:]:
                if recorded.event.event_id in taken:
                    return IdempotencyConflict(*key, recorded.event.event_id)
        elif constraint != "events_pkey":
            return StoreError(
                f"PostgreSQL schema {self.schema!r} refused registration "
                f"{tuple(key)}: {exc}"
            )
        return ConcurrencyConflict(*key, expected, self._version(conn, key))

    def restore(self, registration: Registration) -> None:
        """Replace a snapshot with one rebuilt from the log (see :class:`Store`)."""
        reg = check_write(registration, 0)
        key = RegistrationKey(reg.agent_id, reg.plan_year)
        encoded = encode_snapshot(reg)
        params = self._params(reg, encoded.text)
        with self._lock, self._errors():
            conn = self._connection()
            try:
                with conn.transaction():
                    # The row lock orders this before or after any write in flight.
                    conn.execute(self._sql["lock"], params)
                    last = conn.execute(self._sql["last_seq"], params).fetchone()
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

    def history(self, agent_id: str, plan_year: int) -> tuple[Recorded, ...]:
        """Return a registration's event log (see :class:`Store`)."""
        key = RegistrationKey(agent_id, plan_year)
        with self._lock, self._errors():
            records = self._records(self._connection(), key, 2**31 - 1)
        if not records:
            raise RegistrationNotFound(agent_id, plan_year)
        return records

    def registration_keys(
        self, *, plan_year: int | None = None
    ) -> Iterator[RegistrationKey]:
        """Yield every registration's key, by plan year then agent id."""
        for page in self._pages("plan_year, agent_id", [], [], plan_year):
            for year, agent_id in page:
                yield RegistrationKey(agent_id, year)

    def find(
        self,
        *,
        state: State | None = None,
        npn: NPN | None = None,
        plan_year: int | None = None,
    ) -> Iterator[Registration]:
        """Yield the snapshots matching every filter (see :class:`Store`)."""
        where: list[str] = []
        params: list[Any] = []
        if state is not None:
            where.append("state = %s")
            params.append(State(state).value)
        if npn is not None:
            where.append("npn = %s")
            params.append(NPN.parse(str(npn)).value)
        columns = "plan_year, agent_id, version, snapshot::text, state, npn"
        for page in self._pages(columns, where, params, plan_year):
            yield from self._registrations(page)

    def _registrations(self, page: list[tuple[Any, ...]]) -> list[Registration]:
        """Snapshots from one page of rows, reading the missing logs in one query."""
        found: dict[RegistrationKey, Registration | None] = {}
        with self._lock, self._errors():
            for year, agent, _, text, _, _ in page:
                key = RegistrationKey(agent, year)
                found[key] = self._memo.get(key, text)
            missing = [
                row for row in page if found[RegistrationKey(row[1], row[0])] is None
            ]
            logs: dict[RegistrationKey, list[Recorded]] = {}
            if missing:
                params = {
                    "years": [row[0] for row in missing],
                    "agents": [row[1] for row in missing],
                    "versions": [row[2] for row in missing],
                }
                events = self._connection().execute(self._sql["histories"], params)
                for year, agent, seq, body in events:
                    key = RegistrationKey(agent, year)
                    logs.setdefault(key, []).append(decode_event(key, seq, body))
        regs: list[Registration] = []
        for year, agent, version, text, state, npn in page:
            key = RegistrationKey(agent, year)
            reg = found[key]
            if reg is None:
                reg = decode_snapshot(key, version, text, logs.get(key, []))
            regs.append(check_columns(key, reg, state, npn))
        return regs

    def _pages(
        self, columns: str, where: list[str], params: list[Any], plan_year: int | None
    ) -> Iterator[list[tuple[Any, ...]]]:
        # Keyset pages: no lock, cursor or transaction is held between them.
        clauses = list(where)
        fixed = list(params)
        if plan_year is not None:
            clauses.append("plan_year = %s")
            fixed.append(plan_year)
        clauses.append("(plan_year, agent_id) > (%s, %s)")
        # Only the fixed column lists and clauses above go into the text; values
        # are parameters, the schema an Identifier.
        text = (
            f"SELECT {columns} FROM {{s}}.snapshots WHERE {' AND '.join(clauses)} "
            f"ORDER BY plan_year, agent_id LIMIT {_PAGE}"
        )
        query = self._pg.sql.SQL(text).format(s=self._pg.sql.Identifier(self.schema))
        after: tuple[int, str] = (-1, "")
        while True:
            with self._lock, self._errors():
                rows = self._connection().execute(query, (*fixed, *after)).fetchall()
            if rows:
                yield rows
            if len(rows) < _PAGE:
                return
            after = (rows[-1][0], rows[-1][1])


class _Errors:
    """Turn psycopg's own errors into :class:`StoreError` naming the schema."""

    def __init__(self, store: PostgresStore) -> None:
        self._store = store

    def __enter__(self) -> None:
        return None

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if exc is not None and isinstance(exc, self._store._pg.Error):
            raise StoreError(
                f"PostgreSQL store (schema {self._store.schema!r}): {exc}"
            ) from exc
