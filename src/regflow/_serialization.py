"""regflow's own cattrs converter, and JSON for snapshots and events.

Events are tagged with their ``kind`` (``{"type": "accept_agreement", ...}``),
times are ISO 8601 with their offset, enums are their stable values, and every
snapshot carries ``schema_version``. Text from a newer regflow is refused; text
from an older one is upgraded by the migrations in :data:`MIGRATIONS`.

Reading is strict: a value of the wrong JSON type is refused, never coerced
(``"false"`` is not ``True``, ``2.9`` is not ``2``, ``null`` is not
``"None"``), an unknown key is refused, and a snapshot must be what its own
history replays to. Every refusal is a :class:`~regflow.SerializationError`
naming the field's path (``$.profile.contact.email``).
"""

from __future__ import annotations

import datetime as dt
import json
import typing
from collections.abc import Callable, Mapping
from typing import Any, Final, TypeVar, overload

import attrs
import cattrs
from cattrs.cols import homogenous_tuple_structure_factory
from cattrs.gen import make_dict_structure_fn, make_dict_unstructure_fn
from cattrs.v import format_exception

from ._errors import RegflowError, SerializationError, UnsupportedSchemaVersion
from ._events import EVENT_TYPES, Event
from ._npn import NPN
from ._registration import SCHEMA_VERSION, Registration

__all__ = ["MIGRATIONS", "converter", "dumps", "loads", "structure", "unstructure"]

T = TypeVar("T")
Migration = Callable[[dict[str, Any]], dict[str, Any]]

MIGRATIONS: Final[dict[int, Migration]] = {}
"""``{n: upgrade}``: each upgrade turns a schema-``n`` snapshot dict into ``n + 1``.

Empty while regflow has had one snapshot layout; a release that changes the
layout adds the step from the old version here, so stored snapshots keep loading.
"""


_ZONES: dict[dt.timedelta, dt.timezone] = {}


def _structure_datetime(value: Any, _: type) -> dt.datetime:
    if isinstance(value, dt.datetime):
        return value
    if not isinstance(value, str):
        raise TypeError(f"expected an ISO 8601 string, got {value!r}")
    parsed = dt.datetime.fromisoformat(value)
    offset = parsed.utcoffset()
    if offset is None:
        raise ValueError(f"timestamp {value!r} has no UTC offset")
    # fromisoformat gives every timestamp its own timezone object; a loaded
    # snapshot holds dozens of them, so share one per offset.
    zone = _ZONES.get(offset)
    if zone is None:
        zone = _ZONES.setdefault(offset, dt.timezone(offset))
    return parsed.replace(tzinfo=zone)


def _strict(kind: type, what: str) -> Callable[[Any, type], Any]:
    # cattrs' default for a primitive is to call it (str(None) == "None",
    # bool("false") is True, int(2.9) == 2); regflow takes JSON as it is.
    def structure(value: Any, _: type) -> Any:
        if type(value) is not kind:
            raise TypeError(f"expected {what}, got {_json_type(value)} {value!r}")
        return value

    return structure


def _is_tuple(cls: Any) -> bool:
    origin: object = typing.get_origin(cls)
    return origin is tuple


def _json_type(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list | tuple):
        return "an array"
    if isinstance(value, Mapping):
        return "an object"
    return type(value).__name__


def _structure_date(value: Any, _: type) -> dt.date:
    if not isinstance(value, str):
        raise TypeError(f"expected an ISO 8601 date string, got {value!r}")
    return dt.date.fromisoformat(value)


def _make_converter() -> cattrs.Converter:
    conv = cattrs.Converter(forbid_extra_keys=True)
    conv.register_structure_hook(str, _strict(str, "a string"))
    conv.register_structure_hook(int, _strict(int, "an integer"))
    conv.register_structure_hook(bool, _strict(bool, "true or false"))

    def tuple_hook(cls: Any) -> Callable[[Any, type], Any]:
        items = homogenous_tuple_structure_factory(cls, conv)

        def structure_tuple(value: Any, wanted: type) -> Any:
            if not isinstance(value, list | tuple):
                raise TypeError(f"expected an array, got {_json_type(value)}")
            return items(value, wanted)

        return structure_tuple

    conv.register_structure_hook_factory(_is_tuple, tuple_hook)
    conv.register_unstructure_hook(dt.datetime, dt.datetime.isoformat)
    conv.register_structure_hook(dt.datetime, _structure_datetime)
    conv.register_unstructure_hook(dt.date, dt.date.isoformat)
    conv.register_structure_hook(dt.date, _structure_date)
    conv.register_unstructure_hook(NPN, str)
    conv.register_structure_hook(NPN, lambda value, _: NPN.parse(value))

    dumpers = {cls: make_dict_unstructure_fn(cls, conv) for cls in EVENT_TYPES.values()}
    loaders = {
        kind: (cls, make_dict_structure_fn(cls, conv))
        for kind, cls in EVENT_TYPES.items()
    }

    def unstructure_event(event: Event) -> dict[str, Any]:
        data: dict[str, Any] = {"type": event.kind}
        data.update(dumpers[type(event)](event))
        return data

    def structure_event(data: Any, wanted: type) -> Event:
        if not isinstance(data, Mapping):
            raise TypeError(f"an event is a JSON object, got {type(data).__name__}")
        kind = data.get("type")
        if kind not in loaders:
            raise ValueError(
                f"unknown event type {kind!r}; known: {', '.join(loaders)}"
            )
        cls, load = loaders[kind]
        if not issubclass(cls, wanted):
            raise ValueError(f"expected a {wanted.__name__}, got event type {kind!r}")
        fields = {key: value for key, value in data.items() if key != "type"}
        event: Event = load(fields, cls)
        return event

    def is_event(cls: Any) -> bool:
        return isinstance(cls, type) and issubclass(cls, Event)

    conv.register_unstructure_hook_func(is_event, unstructure_event)
    conv.register_structure_hook_func(is_event, structure_event)
    return conv


converter: Final = _make_converter()
"""regflow's converter; stores use it for dicts (e.g. PostgreSQL JSONB)."""


def unstructure(value: Registration | Event) -> dict[str, Any]:
    """Return *value* as plain JSON-ready data."""
    if isinstance(value, Event):
        data: dict[str, Any] = converter.unstructure(value, Event)
    else:
        data = converter.unstructure(value, Registration)
    return data


@overload
def structure(data: Any, *, verify: bool = True) -> Registration: ...
@overload
def structure(data: Any, cls: type[T], *, verify: bool = True) -> T: ...
def structure(data: Any, cls: type[Any] = Registration, *, verify: bool = True) -> Any:
    """Build a :class:`Registration` (or *cls*, an event type) from plain data.

    Args:
        verify: for a snapshot, check that it is what its own history replays
            to. A store whose snapshot rows hold no history turns it off and
            checks the log itself.

    Raises:
        UnsupportedSchemaVersion: a snapshot from a newer regflow.
        SerializationError: anything else wrong, with where and what.
    """
    snapshot = isinstance(cls, type) and issubclass(cls, Registration)
    if snapshot:
        data = _upgrade(data)
    try:
        value = converter.structure(data, cls)
    except SerializationError:
        raise
    except RecursionError:
        raise SerializationError(
            f"not a valid {cls.__name__}: nested too deeply"
        ) from None
    except Exception as exc:  # cattrs groups every field's failure; say them all
        if isinstance(exc, cattrs.BaseValidationError):
            detail = "; ".join(cattrs.transform_error(exc, format_exception=_describe))
        else:
            detail = str(exc)
        raise SerializationError(f"not a valid {cls.__name__}: {detail}") from exc
    if snapshot and verify:
        _check_history(value)
    return value


def _check_history(reg: Registration) -> None:
    """Refuse a snapshot that is not what its history replays to.

    A snapshot is a cache of its log; one that disagrees with it (say,
    ``state: certified`` over a one-event history) is corrupt, and is refused
    rather than rebuilt so that the corruption is seen. A store rebuilds its
    snapshots from its own log with ``Repository.rebuild()``.
    """
    from ._workflow import Workflow  # the workflow imports the records, not this

    try:
        replayed = Workflow.for_plan_year(reg.plan_year).replay(reg.history)
    except RegflowError as exc:
        raise SerializationError(
            f"not a valid Registration: its history cannot be replayed: {exc}"
        ) from exc
    if replayed == reg:
        return
    differ = [
        f"{field.name} is {getattr(reg, field.name)!r} but its history gives "
        f"{getattr(replayed, field.name)!r}"
        for field in attrs.fields(Registration)
        if getattr(reg, field.name) != getattr(replayed, field.name)
    ]
    shown = "; ".join(
        text if len(text) <= 300 else text[:297] + "..." for text in differ
    )
    raise SerializationError(
        f"not a valid Registration: the snapshot disagrees with its history: {shown}"
    )


def _describe(exc: BaseException, wanted: type | None) -> str:
    # cattrs' default text drops our validators' messages ("expected datetime");
    # they say what was wrong, so keep them.
    if isinstance(exc, KeyError):
        return "required field missing"
    if isinstance(exc, (ValueError, TypeError)) and str(exc):
        return str(exc)
    return format_exception(exc, wanted)


def _upgrade(data: Any) -> Any:
    if not isinstance(data, dict):
        raise SerializationError(
            f"a registration snapshot is a JSON object, got {type(data).__name__}"
        )
    version = data.get("schema_version")
    if isinstance(version, bool) or not isinstance(version, int):
        raise SerializationError(
            f"snapshot has no integer 'schema_version' (got {version!r})"
        )
    if version > SCHEMA_VERSION:
        raise UnsupportedSchemaVersion(version, SCHEMA_VERSION)
    while version < SCHEMA_VERSION:
        step = MIGRATIONS.get(version)
        if step is None:
            raise SerializationError(
                f"no migration from snapshot schema_version {version} to "
                f"{version + 1}; this regflow reads {SCHEMA_VERSION}"
            )
        data = step(dict(data))
        version += 1
        data["schema_version"] = version
    return data


def dumps(value: Registration | Event) -> str:
    """Return *value* (a snapshot or an event) as compact JSON text."""
    return json.dumps(unstructure(value), separators=(",", ":"))


@overload
def loads(text: str | bytes) -> Registration: ...
@overload
def loads(text: str | bytes, cls: type[T]) -> T: ...
def loads(text: str | bytes, cls: type[Any] = Registration) -> Any:
    """Read a snapshot (or, with ``cls=Event`` or a subclass, an event) from JSON.

    Raises:
        UnsupportedSchemaVersion: the snapshot is from a newer regflow.
        SerializationError: the text is not JSON, or not that kind of value.
    """
    try:
        data = json.loads(text)
    except RecursionError:
        raise SerializationError("not JSON regflow reads: nested too deeply") from None
    except (ValueError, TypeError) as exc:
        raise SerializationError(f"not JSON: {exc}") from exc
    return structure(data, cls)
