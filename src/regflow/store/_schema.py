"""What every bundled store shares: the schema version, input checks, the codec.

Rows hold regflow's JSON (the dicts of :func:`regflow.dumps`, written with
ASCII escapes, which the standard library writes twice as fast): one text per
event, and one per snapshot without its history, which is the events table.

Decoding is the expensive part of a load, so each store keeps a small memo of
the snapshots it last wrote or read, keyed by their exact text: the same text
always reads as the same (immutable) registration. Writing reuses the encoded
fields of the previous snapshot that the new one shares with it.
"""

from __future__ import annotations

import datetime as dt
import json
from collections import OrderedDict
from collections.abc import Callable, Sequence
from functools import cache
from typing import Any, Final, NamedTuple

import attrs

from .._converter import converter
from .._errors import (
    CorruptRecord,
    IdempotencyConflict,
    InvalidValue,
    RegflowError,
    StoreError,
)
from .._events import Event, StartRegistration
from .._registration import SCHEMA_VERSION, Registration
from .._serialization import structure, unstructure
from ._protocol import RegistrationKey, StoreSchemaTooNew

__all__ = [
    "POSTGRES_DDL",
    "SQLITE_DDL",
    "STORE_SCHEMA_VERSION",
    "Encoded",
    "EventRow",
    "SnapshotMemo",
    "check_columns",
    "check_schema_version",
    "decode_events",
    "decode_snapshot",
    "encode_events",
    "encode_snapshot",
    "check_write",
]

STORE_SCHEMA_VERSION: Final = 2
"""The table layout this regflow writes. Version 1: the tables and their
constraints; version 2: the listing indexes and the append-only triggers."""

# -- the tables, version by version ---------------------------------------------

_APPEND_ONLY: Final = (
    "regflow_events is append-only: an accepted event is never changed"
)

SQLITE_DDL: Final[dict[int, tuple[str, ...]]] = {
    1: (
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
        # S2: one registration per individual NPN and plan year.
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
    2: (
        """CREATE INDEX regflow_snapshots_state
            ON regflow_snapshots (state, plan_year, agent_id)""",
        f"""CREATE TRIGGER regflow_events_no_update BEFORE UPDATE ON regflow_events
            BEGIN SELECT RAISE(ABORT, '{_APPEND_ONLY}'); END""",
        f"""CREATE TRIGGER regflow_events_no_delete BEFORE DELETE ON regflow_events
            BEGIN SELECT RAISE(ABORT, '{_APPEND_ONLY}'); END""",
    ),
}
"""SQLite's versioned DDL: ``SQLITE_DDL[n]`` takes a file from version n - 1 to n."""

POSTGRES_DDL: Final[dict[int, tuple[str, ...]]] = {
    1: (
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
        # S2: one registration per individual NPN and plan year.
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
    2: (
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
}
"""PostgreSQL's versioned DDL (``{s}``: the schema), from version n - 1 to n."""

# -- rows ----------------------------------------------------------------------

_MEMO_SIZE: Final = 4096
_encode: Final = json.JSONEncoder(separators=(",", ":")).encode


class EventRow(NamedTuple):
    """One event, ready for the events table."""

    seq: int
    event_id: str
    kind: str
    at: str
    body: str


def check_schema_version(found: int, where: str) -> None:
    """Refuse a database newer than this regflow.

    Raises:
        StoreSchemaTooNew: *found* is above :data:`STORE_SCHEMA_VERSION`.
    """
    if found > STORE_SCHEMA_VERSION:
        raise StoreSchemaTooNew(found, STORE_SCHEMA_VERSION, where)


def check_write(registration: object, expected_version: object) -> Registration:
    """Check that *registration* may be written over *expected_version*.

    Returns the registration, typed. Everything is checked before a store
    opens a transaction, so a bad call leaves nothing half-written.

    Raises:
        InvalidValue: the arguments do not fit together; the message says how.
        IdempotencyConflict: the history uses an event id twice.
    """
    if not isinstance(registration, Registration):
        raise InvalidValue(
            f"'registration' must be a regflow.Registration "
            f"(got {type(registration).__name__})"
        )
    reg = registration
    if (
        isinstance(expected_version, bool)
        or not isinstance(expected_version, int)
        or expected_version < 0
    ):
        raise InvalidValue(
            f"'expected_version' must be an int >= 0, the version the registration "
            f"was read at (got {expected_version!r})"
        )
    history = reg.history
    if reg.version <= expected_version:
        raise InvalidValue(
            f"registration ({reg.agent_id!r}, {reg.plan_year}) at version "
            f"{reg.version} has nothing new over expected_version "
            f"{expected_version}; write the registration Workflow.apply returned, "
            "with its full history"
        )
    if expected_version == 0 and not isinstance(history[0], StartRegistration):
        raise InvalidValue(
            f"registration ({reg.agent_id!r}, {reg.plan_year}) must begin with "
            f"StartRegistration (got {type(history[0]).__name__})"
        )
    seen: set[str] = set()
    for event in history:
        event_id = event.event_id
        if event_id in seen:
            raise IdempotencyConflict(reg.agent_id, reg.plan_year, event_id)
        seen.add(event_id)
    return reg


def encode_events(history: Sequence[Event], after: int) -> list[EventRow]:
    """Return the rows for the events of *history* after the first *after*."""
    rows = []
    for seq, event in enumerate(history[after:], after + 1):
        data = unstructure(event)
        # The column holds the instant in UTC: PostgreSQL refuses offsets with
        # seconds, which Python allows, and UTC text sorts in time order. The
        # body keeps the offset the event was given.
        at = event.at.astimezone(dt.timezone.utc).isoformat()
        rows.append(EventRow(seq, event.event_id, event.kind, at, _encode(data)))
    return rows


def _problem(exc: BaseException) -> str:
    if isinstance(exc, RegflowError):
        return str(exc)
    return f"{type(exc).__name__}: {exc}"


class Encoded(NamedTuple):
    """A snapshot as written: its text, and the JSON of each of its fields."""

    text: str
    parts: dict[str, str]


@cache
def _field_encoders() -> tuple[tuple[str, str, Callable[[Any], Any]], ...]:
    # Each field's JSON key and the hook regflow's converter uses for it: with
    # them, a field that did not change need not be converted again.
    attrs.resolve_types(Registration)
    return tuple(
        (field.name, _encode(field.name), converter.get_unstructure_hook(field.type))
        for field in attrs.fields(Registration)
    )


def encode_snapshot(
    reg: Registration, previous: tuple[Registration, dict[str, str]] | None = None
) -> Encoded:
    """Return the snapshot column's text: the registration without its history.

    The history is the events table; keeping it out of the snapshot keeps a
    write's cost flat as the log grows, instead of rewriting the log each time.
    Fields that are the very objects of *previous* (a snapshot and the parts
    it was encoded from) are not encoded again: an event changes one or two.
    """
    before, old = previous if previous is not None else (None, {})
    parts: dict[str, str] = {}
    pieces: list[str] = []
    for name, key, hook in _field_encoders():
        value = getattr(reg, name)
        if name == "history":
            part = "[]"
        elif before is not None and getattr(before, name) is value:
            part = old[name]
        else:
            part = _encode(hook(value))
        parts[name] = part
        pieces.append(f"{key}:{part}")
    pieces.append(_SCHEMA_PIECE)
    return Encoded("{" + ",".join(pieces) + "}", parts)


_SCHEMA_PIECE: Final = f'"schema_version":{SCHEMA_VERSION}'


def decode_snapshot(
    key: RegistrationKey, version: int, data: object, events: Sequence[Event]
) -> Registration:
    """Rebuild a registration from its snapshot row and its first *version* events.

    A row written by regflow 0.1 (snapshot schema 1) is upgraded from its log,
    which its text does not hold.

    Raises:
        CorruptRecord: the text is not a snapshot (or is a newer regflow's), it
            is of another registration than its row says, or the log does not
            hold exactly *version* events.
    """
    agent_id, plan_year = key
    if len(events) != version:
        raise CorruptRecord(
            agent_id,
            plan_year,
            f"snapshot is at version {version} but the log holds {len(events)} events",
        )
    try:
        if not isinstance(data, str):
            raise TypeError(f"snapshot column holds {type(data).__name__}, not text")
        parsed = json.loads(data)
        if isinstance(parsed, dict) and parsed.get("schema_version") == 1:
            parsed["history"] = [
                {"seq": seq, "event": unstructure(event)}
                for seq, event in enumerate(events, 1)
            ]
        state: Registration = structure(parsed, verify=False)
    except (RegflowError, ValueError, TypeError, RecursionError) as exc:
        raise CorruptRecord(agent_id, plan_year, f"snapshot: {_problem(exc)}") from exc
    if (state.agent_id, state.plan_year) != (agent_id, plan_year):
        raise CorruptRecord(
            agent_id,
            plan_year,
            f"snapshot is of ({state.agent_id!r}, {state.plan_year})",
        )
    return attrs.evolve(state, history=tuple(events))


def check_columns(
    key: RegistrationKey, reg: Registration, state: object, npn: object
) -> Registration:
    """Check that the row's indexed columns agree with its snapshot; return it.

    Raises:
        CorruptRecord: they do not (listings by state or NPN would be wrong).
    """
    own = None if reg.npn is None else reg.npn.value
    if reg.individual.value != state or own != npn:
        raise CorruptRecord(
            key[0],
            key[1],
            f"snapshot row's columns say state {state!r} and NPN {npn!r}, "
            f"its snapshot says {reg.individual.value!r} and {own!r}",
        )
    return reg


def decode_events(
    key: RegistrationKey, rows: Sequence[tuple[int, object]]
) -> tuple[Event, ...]:
    """Read event rows ``(seq, body)`` back, in order, numbered 1, 2, 3...

    A body is JSON text or already-parsed data.

    Raises:
        CorruptRecord: a row is not a regflow event, or the numbering has a gap.
    """
    events = []
    for position, (seq, data) in enumerate(rows, 1):
        if seq != position:
            raise CorruptRecord(
                key[0], key[1], f"the log has a gap: event {position} is numbered {seq}"
            )
        try:
            raw = json.loads(data) if isinstance(data, str | bytes) else data
            event: Event = structure(raw, Event)
        except (RegflowError, ValueError, TypeError, RecursionError) as exc:
            raise CorruptRecord(
                key[0], key[1], f"event seq {seq}: {_problem(exc)}"
            ) from exc
        events.append(event)
    return tuple(events)


class _Entry(NamedTuple):
    text: str
    reg: Registration
    data: dict[str, str] | None


class SnapshotMemo:
    """The snapshots a store last wrote or read, by key, with their exact text.

    Bounded (least recently used goes first); one per store, used under the
    store's lock.
    """

    def __init__(self, size: int = _MEMO_SIZE) -> None:
        self._size = size
        self._items: OrderedDict[RegistrationKey, _Entry] = OrderedDict()

    def get(self, key: RegistrationKey, text: str, version: int) -> Registration | None:
        """Return the snapshot read from *text* at *version* before, if remembered.

        The text alone does not say the version (an event may change no
        field the text holds), so both must match.
        """
        found = self._items.get(key)
        if found is None or found.text != text or found.reg.version != version:
            return None
        self._items.move_to_end(key)
        return found.reg

    def previous(
        self, key: RegistrationKey, version: int
    ) -> tuple[Registration, dict[str, str]] | None:
        """Return the remembered snapshot at *version* and its encoded parts."""
        found = self._items.get(key)
        if found is None or found.data is None or found.reg.version != version:
            return None
        return found.reg, found.data

    def last(self, key: RegistrationKey) -> Registration | None:
        """Return the snapshot last remembered for *key*, whatever its text."""
        found = self._items.get(key)
        return None if found is None else found.reg

    def put(
        self,
        key: RegistrationKey,
        text: str,
        reg: Registration,
        data: dict[str, str] | None = None,
    ) -> None:
        """Remember that *text* reads as *reg* (and was encoded from *data*)."""
        self._items[key] = _Entry(text, reg, data)
        self._items.move_to_end(key)
        if len(self._items) > self._size:
            self._items.popitem(last=False)

    def clear(self) -> None:
        """Forget everything."""
        self._items.clear()


def closed_error(name: str) -> StoreError:
    """The error for using a store after :meth:`close`."""
    return StoreError(f"this {name} is closed; open a new one")
