"""The SQL both bundled stores run, written once and filled in per dialect.

SQLite and PostgreSQL keep the same tables and read them with the same
statements. They differ in a parameter's placeholder (``?`` or ``%s``), in
how a table is named (PostgreSQL's live in a schema), in how JSON columns
read and write, and in how the change feed is kept in order: :class:`Dialect`
holds those differences and :class:`Statements` the text built from them.
"""

from __future__ import annotations

from typing import Final, Literal

import attrs

__all__ = ["Dialect", "Statements", "filters"]

DialectName = Literal["sqlite", "postgresql"]


@attrs.frozen(slots=True)
class Dialect:
    """How the shared statements are written for one database.

    Attributes:
        name: ``sqlite`` or ``postgresql``.
        mark: the placeholder of one positional parameter.
        registrations, log, keys, consumers, schema: the tables, as a
            statement names them.
        json_in: the placeholder of a JSON text parameter (``%s::jsonb``).
        json_out: how a statement reads a JSON column as text.
        position: the expression that numbers the next event in the log,
            or ``None`` where the database numbers it itself.
    """

    name: DialectName
    mark: str
    registrations: str
    log: str
    keys: str
    consumers: str
    schema: str
    json_in: str
    json_out: str
    position: str | None

    @property
    def key(self) -> str:
        """The condition picking one registration: agency, plan year, agent id."""
        m = self.mark
        return f"agency = {m} AND plan_year = {m} AND agent_id = {m}"


def sqlite_dialect() -> Dialect:
    """SQLite's tables and placeholders."""
    return Dialect(
        name="sqlite",
        mark="?",
        registrations="regflow_registrations",
        log="regflow_log",
        keys="regflow_keys",
        consumers="regflow_consumers",
        schema="regflow_schema",
        json_in="?",
        json_out="snapshot",
        # Writes are serialized by SQLite's lock: max + 1 is the commit order.
        position="(SELECT coalesce(max(position), 0) + 1 FROM regflow_log)",
    )


def postgres_dialect(schema: str) -> Dialect:
    """PostgreSQL's tables in *schema* (already quoted as an identifier)."""
    return Dialect(
        name="postgresql",
        mark="%s",
        registrations=f"{schema}.registrations",
        log=f"{schema}.log",
        keys=f"{schema}.keys",
        consumers=f"{schema}.consumers",
        schema=f"{schema}.schema_version",
        json_in="%s::jsonb",
        json_out="snapshot::text",
        position=None,
    )


_COLUMNS: Final = "portal_account_id, status, individual, shop, npn, version, snapshot"


def filters(
    dialect: Dialect,
    *,
    agency: bool,
    plan_year: bool,
    status: bool = False,
    individual: bool = False,
    shop: bool = False,
    npn: bool = False,
) -> str:
    """The WHERE conditions for the filters that are given, in index order."""
    m = dialect.mark
    found = []
    for given, column in (
        (agency, "r.agency"),
        (plan_year, "r.plan_year"),
        (status, "r.status"),
        (individual, "r.individual"),
        (shop, "r.shop"),
        (npn, "r.npn"),
    ):
        if given:
            found.append(f"{column} = {m}")
    return " AND ".join(found) or "TRUE"


@attrs.frozen(slots=True)
class Statements:
    """Every fixed statement of one dialect.

    Parameters are positional; the comment after each field lists them.
    """

    load: str  # agency, plan_year, agent_id
    version: str  # agency, plan_year, agent_id
    lock: str  # agency, plan_year, agent_id
    last_seq: str  # agency, plan_year, agent_id
    history: str  # agency, plan_year, agent_id, last seq wanted
    holder: str  # agency, npn, plan_year
    insert: str  # agency, plan_year, agent_id, then the row's columns
    restore: str  # the row's columns, agency, plan_year, agent_id
    append: str  # agency, plan_year, agent_id, seq, event_id, kind, at, body
    key_get: str  # agency, agent_id
    key_put: str  # agency, agent_id, key_id, key
    key_delete: str  # agency, agent_id
    checkpoint: str  # name
    save_checkpoint: str  # name, position
    schema_version: str  # no parameters
    dialect: Dialect

    @classmethod
    def of(cls, d: Dialect) -> Statements:
        """Return the statements written in *d*."""
        m, key = d.mark, d.key
        r = f"{d.registrations} AS r"
        joined = (
            f"{r} LEFT JOIN {d.keys} AS k ON k.agency = r.agency AND "
            "k.agent_id = r.agent_id"
        )
        rkey = f"r.agency = {m} AND r.plan_year = {m} AND r.agent_id = {m}"
        position = "" if d.position is None else ", position"
        position_value = "" if d.position is None else f", {d.position}"
        return cls(
            load=f"SELECT r.version, r.{d.json_out}, r.status, r.individual, r.shop, "
            f"r.npn, k.key_id, k.key FROM {joined} WHERE {rkey}",
            version=f"SELECT version FROM {d.registrations} WHERE {key}",
            lock=f"SELECT version FROM {d.registrations} WHERE {key} FOR UPDATE",
            last_seq=f"SELECT max(seq) FROM {d.log} WHERE {key}",
            history=f"SELECT seq, body FROM {d.log} WHERE {key} AND seq <= {m} "
            "ORDER BY seq",
            holder=f"SELECT portal_account_id, agent_id FROM {d.registrations} "
            f"WHERE agency = {m} AND npn = {m} AND plan_year = {m}",
            insert=f"INSERT INTO {d.registrations} (agency, plan_year, agent_id, "
            f"{_COLUMNS}) VALUES ({m}, {m}, {m}, {m}, {m}, {m}, {m}, {m}, {m}, "
            f"{d.json_in}) ON CONFLICT (agency, plan_year, agent_id) DO NOTHING",
            restore=f"UPDATE {d.registrations} SET portal_account_id = {m}, "
            f"status = {m}, individual = {m}, shop = {m}, npn = {m}, "
            f"version = {m}, snapshot = {d.json_in} WHERE {key}",
            append=f"INSERT INTO {d.log} (agency, plan_year, agent_id, seq, "
            f"event_id, kind, at, body{position}) VALUES ({m}, {m}, {m}, {m}, {m}, "
            f"{m}, {m}, {d.json_in}{position_value})",
            key_get=f"SELECT key_id, key FROM {d.keys} WHERE agency = {m} AND "
            f"agent_id = {m}",
            key_put=f"INSERT INTO {d.keys} (agency, agent_id, key_id, key) VALUES "
            f"({m}, {m}, {m}, {m}) ON CONFLICT (agency, agent_id) DO NOTHING",
            key_delete=f"DELETE FROM {d.keys} WHERE agency = {m} AND agent_id = {m}",
            checkpoint=f"SELECT position FROM {d.consumers} WHERE name = {m}",
            save_checkpoint=f"INSERT INTO {d.consumers} (name, position) VALUES "
            f"({m}, {m}) ON CONFLICT (name) DO UPDATE SET position = "
            "excluded.position, updated_at = "
            + (
                "strftime('%Y-%m-%dT%H:%M:%f+00:00', 'now')"
                if d.name == "sqlite"
                else "now()"
            ),
            schema_version=f"SELECT max(version) FROM {d.schema}",
            dialect=d,
        )

    def update(self, *, status: bool, npn: bool, individual: bool) -> str:
        """Move a row on from an expected version.

        Only the indexed columns that changed are SET (*status*, *npn*,
        *individual*): SQLite leaves the indexes of the other columns alone,
        which saves pages in every commit. Parameters: [status], [npn],
        [individual], shop, version, snapshot, agency, plan_year, agent_id,
        expected.
        """
        d = self.dialect
        m = d.mark
        sets = (
            ([f"status = {m}"] if status else [])
            + ([f"npn = {m}"] if npn else [])
            + ([f"individual = {m}"] if individual else [])
            + [f"shop = {m}", f"version = {m}"]
            + [f"snapshot = {d.json_in}"]
        )
        return (
            f"UPDATE {d.registrations} SET {', '.join(sets)} "
            f"WHERE {d.key} AND version = {m}"
        )

    def listing(self, where: str, limit: int) -> str:
        """A page of snapshots matching *where*, after a key (three parameters)."""
        d = self.dialect
        m = d.mark
        return (
            f"SELECT r.agency, r.plan_year, r.agent_id, r.version, r.{d.json_out}, "
            f"r.status, r.individual, r.shop, r.npn, k.key_id, k.key "
            f"FROM {d.registrations} AS r LEFT JOIN {d.keys} AS k "
            "ON k.agency = r.agency AND k.agent_id = r.agent_id "
            f"WHERE {where} AND (r.agency, r.plan_year, r.agent_id) > ({m}, {m}, {m}) "
            f"ORDER BY r.agency, r.plan_year, r.agent_id LIMIT {int(limit)}"
        )

    def keys_page(self, where: str, limit: int) -> str:
        """A page of registration keys matching *where*, after a key."""
        d = self.dialect
        m = d.mark
        return (
            f"SELECT r.agency, r.plan_year, r.agent_id FROM {d.registrations} AS r "
            f"WHERE {where} AND (r.agency, r.plan_year, r.agent_id) > ({m}, {m}, {m}) "
            f"ORDER BY r.agency, r.plan_year, r.agent_id LIMIT {int(limit)}"
        )

    def count(self, where: str) -> str:
        """How many registrations match *where*."""
        return f"SELECT count(*) FROM {self.dialect.registrations} AS r WHERE {where}"

    def changes(self, *, agency: bool, limit: int) -> str:
        """The feed after a position: ``after`` (and the agency, if asked for).

        SQLite numbers events in commit order. PostgreSQL hands out sequence
        values that become visible out of order, so its feed is ordered by
        the writing transaction, then position, and stops at the oldest
        transaction still open: every transaction before that one is over,
        and none can add an event before what was already read.
        """
        d = self.dialect
        m = d.mark
        scope = f" AND l.agency = {m}" if agency else ""
        columns = (
            "l.position, l.agency, l.plan_year, l.agent_id, l.seq, l.body, "
            "l.recorded_at, k.key_id, k.key"
        )
        joined = (
            f"{d.log} AS l LEFT JOIN {d.keys} AS k ON k.agency = l.agency AND "
            "k.agent_id = l.agent_id"
        )
        if d.name == "sqlite":
            return (
                f"SELECT {columns} FROM {joined} WHERE l.position > {m}{scope} "
                f"ORDER BY l.position LIMIT {int(limit)}"
            )
        return (
            f"SELECT {columns} FROM {joined} "
            f"WHERE (l.tx, l.position) > ((SELECT coalesce(max(tx), '0'::xid8) "
            f"FROM {d.log} WHERE position = {m}), {m}) "
            "AND l.tx < pg_snapshot_xmin(pg_current_snapshot())"
            f"{scope} ORDER BY l.tx, l.position LIMIT {int(limit)}"
        )
