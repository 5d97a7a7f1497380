"""Rows and their JSON: events and snapshots as the SQL stores keep them.

Rows hold regflow's JSON (the dicts of :func:`regflow.to_dict`, written with
ASCII escapes, which the standard library writes twice as fast), with every
contact detail sealed (see ``_sealing``): one text per event, and one per
snapshot without its history, which is the log. Encoding a snapshot reuses
the encoded fields of the previous snapshot that the new one shares with it:
an event changes one or two fields, and the profile's seal is made once.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable, Sequence
from functools import cache
from typing import Any, Final, NamedTuple

import attrs

from .._converter import converter
from .._errors import CorruptRecord, RegflowError
from .._events import Event
from .._records import ERASED_CONTACT, Profile
from .._registration import SCHEMA_VERSION, Registration
from .._serialization import structure, unstructure
from ._protocol import RegistrationKey
from ._sealing import Sealer

__all__ = [
    "Encoded",
    "EventRow",
    "SnapshotRow",
    "decode_events",
    "decode_snapshot",
    "encode_events",
    "encode_snapshot",
    "needs_key",
    "snapshot_row",
]

_encode: Final = json.JSONEncoder(separators=(",", ":")).encode


class EventRow(NamedTuple):
    """One event, ready for the log table."""

    seq: int
    event_id: str
    kind: str
    at: str
    body: str


class SnapshotRow(NamedTuple):
    """The snapshot row's columns, after its key."""

    portal_account_id: str
    status: str
    individual: str
    shop: str
    npn: str | None
    version: int
    snapshot: str


def needs_key(reg: Registration, after: int, *, profile_reused: bool) -> bool:
    """Whether writing *reg* (its events after *after*) seals a contact.

    *profile_reused*: the snapshot's profile part is the previous one's text.
    """
    if not profile_reused and _clear(reg.profile):
        return True
    return any(_clear(getattr(event, "profile", None)) for event in reg.history[after:])


def _clear(profile: Profile | None) -> bool:
    return (
        profile is not None
        and profile.contact is not None
        and profile.contact != ERASED_CONTACT
    )


def encode_events(
    history: Sequence[Event], after: int, sealer: Sealer
) -> list[EventRow]:
    """The rows for the events of *history* after the first *after*."""
    rows = []
    for seq, event in enumerate(history[after:], after + 1):
        data = sealer.seal(unstructure(event))
        # The column holds the instant in UTC: PostgreSQL refuses offsets with
        # seconds, which Python allows, and UTC text sorts in time order. The
        # body keeps the offset the event was given.
        at = event.at.astimezone(dt.UTC).isoformat()
        rows.append(EventRow(seq, event.event_id, event.kind, at, _encode(data)))
    return rows


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


_SCHEMA_PIECE: Final = f'"schema_version":{SCHEMA_VERSION}'


def encode_snapshot(
    reg: Registration,
    sealer: Sealer,
    previous: tuple[Registration, dict[str, str]] | None = None,
) -> Encoded:
    """Return the snapshot column's text: the registration without its history.

    The history is the log; keeping it out of the snapshot keeps a write's
    cost flat as the log grows. Fields that are the very objects of
    *previous* (a snapshot and the parts it was encoded from) are not
    encoded again.
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
        elif name == "profile":
            part = _encode(sealer.seal({"profile": hook(value)})["profile"])
        else:
            part = _encode(hook(value))
        parts[name] = part
        pieces.append(f"{key}:{part}")
    pieces.append(_SCHEMA_PIECE)
    return Encoded("{" + ",".join(pieces) + "}", parts)


def snapshot_row(reg: Registration, text: str) -> SnapshotRow:
    """The columns of *reg*'s row, its snapshot text being *text*."""
    return SnapshotRow(
        reg.portal_account_id,
        reg.status.value,
        reg.individual.value,
        reg.shop.value,
        None if reg.npn is None else reg.npn.value,
        reg.version,
        text,
    )


def _problem(exc: BaseException) -> str:
    if isinstance(exc, RegflowError):
        return str(exc)
    return f"{type(exc).__name__}: {exc}"


def decode_snapshot(
    key: RegistrationKey,
    version: int,
    data: object,
    events: Sequence[Event],
    sealer: Sealer,
) -> Registration:
    """Rebuild a registration from its snapshot row and its first *version* events.

    Raises:
        CorruptRecord: the text is not a snapshot (or is a newer regflow's), it
            is of another registration than its row says, or the log does not
            hold exactly *version* events.
    """
    if len(events) != version:
        raise _corrupt(
            key,
            f"snapshot is at version {version} but the log holds {len(events)} events",
        )
    try:
        parsed = json.loads(data) if isinstance(data, str | bytes) else data
    except (ValueError, RecursionError) as exc:
        raise _corrupt(key, f"snapshot: not JSON: {_problem(exc)}") from exc
    if not isinstance(parsed, dict):
        raise _corrupt(
            key,
            f"snapshot: the column holds a JSON {_json_type(parsed)}, not an object",
        )
    try:
        state: Registration = structure(sealer.open(parsed), verify=False)
    except (RegflowError, ValueError, TypeError, RecursionError) as exc:
        raise _corrupt(key, f"snapshot: {_problem(exc)}") from exc
    if (state.agent_id, state.plan_year) != (key.agent_id, key.plan_year) or (
        state.agency_id or ""
    ) != key.agency:
        raise _corrupt(
            key,
            f"snapshot is of ({state.agent_id!r}, {state.plan_year}, agency "
            f"{state.agency_id!r})",
        )
    return attrs.evolve(state, history=tuple(events))


def decode_events(
    key: RegistrationKey, rows: Sequence[tuple[int, object]], sealer: Sealer
) -> tuple[Event, ...]:
    """Read event rows ``(seq, body)`` back, in order, numbered 1, 2, 3...

    A body is JSON text or already-parsed data.

    Raises:
        CorruptRecord: a row is not a regflow event, or the numbering has a gap.
    """
    events = []
    for position, (seq, data) in enumerate(rows, 1):
        if seq != position:
            raise _corrupt(
                key, f"the log has a gap: event {position} is numbered {seq}"
            )
        try:
            raw = json.loads(data) if isinstance(data, str | bytes) else data
            if isinstance(raw, dict):
                raw = sealer.open(raw)
            event: Event = structure(raw, Event)
        except CorruptRecord:
            raise
        except (RegflowError, ValueError, TypeError, RecursionError) as exc:
            raise _corrupt(key, f"event seq {seq}: {_problem(exc)}") from exc
        events.append(event)
    return tuple(events)


def _json_type(value: object) -> str:
    return {str: "str", list: "list", int: "number", float: "number", bool: "bool"}.get(
        type(value), "null"
    )


def _corrupt(key: RegistrationKey, problem: str) -> CorruptRecord:
    return CorruptRecord(key.agent_id, key.plan_year, problem, agency=key.agency)
