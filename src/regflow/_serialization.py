"""JSON forms of regflow's values: ``to_dict``/``from_dict`` and ``dumps``/``loads``.

Snapshots, events, refusals, decisions and menus go to plain JSON-ready
data and back through regflow's own converter; every snapshot carries
``schema_version``. Text from a newer regflow is refused; text from an older
one is upgraded by :data:`MIGRATIONS`. Reading is strict (see
``_converter``), and a snapshot must be what its own history replays to.
Every refusal is a :class:`~regflow.SerializationError` naming the field's
path (``$.profile.contact.email``).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any, Final, TypeVar, overload

import attrs
import cattrs
from cattrs.v import format_exception

from ._converter import converter
from ._errors import RegflowError, SerializationError, UnsupportedSchemaVersion
from ._events import Event
from ._explain import Menu
from ._messages import Refusal
from ._migrations import MIGRATIONS
from ._registration import SCHEMA_VERSION, Registration
from ._workflow import Decision

__all__ = [
    "MIGRATIONS",
    "dumps",
    "from_dict",
    "loads",
    "structure",
    "to_dict",
    "unstructure",
]

T = TypeVar("T")

_ROOTS: Final = (Registration, Event, Refusal, Decision, Menu)


def unstructure(value: Any) -> dict[str, Any]:
    """Return *value* as plain JSON-ready data (see :func:`to_dict`)."""
    wanted: type[Any] = Event if isinstance(value, Event) else type(value)
    data: dict[str, Any] = converter.unstructure(value, wanted)
    return data


def to_dict(value: Any, *, history: bool = True) -> dict[str, Any]:
    """Return a snapshot, event, refusal, decision or menu as JSON-ready data.

    Args:
        history: for a snapshot, ``False`` gives its *view*: every field but
            the history, with its ``version`` and ``status``, which is what a
            page shows and what :func:`from_dict` cannot read back.

    Raises:
        InvalidValue: *value* is not one of regflow's values.
    """
    if not isinstance(value, _ROOTS):
        from ._errors import InvalidValue

        raise InvalidValue(
            f"to_dict takes a Registration, an event, a Refusal, a Decision or a "
            f"Menu (got {type(value).__name__})"
        )
    data = unstructure(value)
    if isinstance(value, Registration) and not history:
        del data["history"]
        data["version"] = value.version
        data["status"] = value.status.value
    return data


@overload
def structure(data: Any, *, verify: bool = True) -> Registration: ...
@overload
def structure(data: Any, cls: type[T], *, verify: bool = True) -> T: ...
def structure(data: Any, cls: type[Any] = Registration, *, verify: bool = True) -> Any:
    """Build *cls* from plain data (see :func:`from_dict`).

    Args:
        verify: for a snapshot, check that it is what its own history replays
            to. A store whose snapshot rows hold no history turns it off and
            checks the log itself.
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


def from_dict(data: Any, cls: type[T]) -> T:
    """Build a *cls* (``Registration``, ``Event`` or an event class, ``Refusal``,
    ``Decision``, ``Menu``) from JSON data, strictly.

    An event may come from a form: with ``cls=Event`` its ``"type"`` says
    which; with an event class the ``"type"`` may be left out. A blank
    optional text field (an NPN, a ZIP code) is "not entered".

    Raises:
        UnsupportedSchemaVersion: a snapshot from a newer regflow.
        SerializationError: anything wrong, naming the field's path.
    """
    return structure(data, cls)


def _check_history(reg: Registration) -> None:
    """Refuse a snapshot that is not what its history replays to.

    A snapshot is a cache of its log; one that disagrees with it (say, a
    certified state over a one-event history) is corrupt, and is refused
    rather than rebuilt so that the corruption is seen. A store rebuilds its
    snapshots from its own log with ``Repository.rebuild()``.
    """
    from ._workflow import Workflow

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
    if not isinstance(data, Mapping):
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
    data = dict(data)
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


def dumps(value: Any) -> str:
    """Return *value* (a snapshot, an event, ...; see :func:`to_dict`) as compact JSON."""
    return json.dumps(to_dict(value), separators=(",", ":"))


@overload
def loads(text: str | bytes) -> Registration: ...
@overload
def loads(text: str | bytes, cls: type[T]) -> T: ...
def loads(text: str | bytes, cls: type[Any] = Registration) -> Any:
    """Read a snapshot (or, with *cls*, an event or another value) from JSON.

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
