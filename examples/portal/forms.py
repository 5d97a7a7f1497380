"""Forms derived from the menu, and events read back from a posted form.

Nothing here lists an event's fields by hand: which fields a form fills
comes from the option's ``FormField`` list (the agent's, not those of the
portal or a choice), and how from the event's JSON Schema
(``regflow.json_schema``): an object becomes a group of inputs, an enum a
select, a boolean a checkbox, anything else a text box. A post is turned
back into the event's JSON form and read by ``regflow.from_dict``, which
refuses a malformed or tampered value naming the field.
"""

from __future__ import annotations

import datetime as dt
import enum
import uuid
from collections.abc import Callable, Mapping
from typing import Any, Final

import attrs

import regflow
from regflow import events as ev

from .i18n import text

__all__ = [
    "FIELD",
    "Action",
    "Card",
    "Input",
    "PORTAL_FILLS",
    "cards",
    "read_event",
]

FIELD: Final = "f."
"""The prefix of every input that is an event field, so that a form's own
inputs (its event id, the locale) never mix with the event's."""

_MISSING: Final = object()

PORTAL_FILLS: Final[Mapping[str, Callable[[dt.datetime], str]]] = {
    # The fields the catalog says the portal fills (``FormField.filled_by``).
    "launch_id": lambda now: f"launch-{uuid.uuid4().hex}",
    "expires_at": lambda now: (now + dt.timedelta(days=1)).isoformat(),
}


@attrs.frozen
class Input:
    """One input of a form; ``widget`` is text, checkbox, select or group."""

    name: str
    label: str
    widget: str
    value: str = ""
    checked: bool = False
    options: tuple[tuple[str, str], ...] = ()
    children: tuple[Input, ...] = ()


@attrs.frozen
class Action:
    """One button: a choice of an option, with its hidden values and refusals."""

    label: str
    allowed: bool
    messages: tuple[str, ...]
    hidden: tuple[tuple[str, str], ...]
    event_id: str


@attrs.frozen
class Card:
    """One option of the menu as the page draws it."""

    kind: str
    label: str
    allowed: bool
    inputs: tuple[Input, ...]
    actions: tuple[Action, ...]


def cards(menu: regflow.Menu, reg: regflow.Registration) -> tuple[Card, ...]:
    """The agent's options of *menu*, each with its inputs and buttons."""
    found = []
    view = regflow.to_dict(reg, history=False)  # current values, as JSON
    for option in menu.options:
        if option.actor is not regflow.Actor.AGENT:
            continue
        chosen = {name for choice in option.choices for name in choice.values}
        schema = _schema(option.event)
        inputs = tuple(
            _input(
                FIELD + field.name,
                schema["properties"][field.name],
                schema.get("$defs", {}),
                view.get(field.name),
                menu.locale,
            )
            for field in option.fields
            if field.filled_by is regflow.Actor.AGENT and field.name not in chosen
        )
        actions = tuple(
            Action(
                label=choice.label or option.label,
                allowed=choice.allowed,
                messages=choice.messages,
                hidden=tuple((FIELD + k, _encode(v)) for k, v in choice.values.items()),
                event_id=str(uuid.uuid4()),
            )
            for choice in option.choices
        )
        found.append(Card(option.kind, option.label, option.allowed, inputs, actions))
    return tuple(found)


def read_event(
    option: regflow.Option,
    form: Mapping[str, str],
    *,
    event_id: str,
    at: dt.datetime,
) -> ev.Event:
    """Build the event of *option* a form posted: the agent's fields from the
    form, the portal's from ``PORTAL_FILLS``, and the id and time given.

    Raises:
        SerializationError: a value is missing, malformed or tampered with.
    """
    data: dict[str, Any] = {"event_id": event_id, "at": at.isoformat()}
    schema = _schema(option.event)
    for field in option.fields:
        if field.filled_by is regflow.Actor.PORTAL:
            data[field.name] = PORTAL_FILLS[field.name](at)
            continue
        node = schema["properties"][field.name]
        value = _read(FIELD + field.name, node, schema.get("$defs", {}), form)
        if value is not _MISSING:
            data[field.name] = value
    return regflow.from_dict(data, option.event)


def _schema(cls: type[ev.Event]) -> dict[str, Any]:
    if cls.kind not in _SCHEMAS:  # one per event type, built on first use
        _SCHEMAS[cls.kind] = regflow.json_schema(cls)
    return _SCHEMAS[cls.kind]


_SCHEMAS: dict[str, dict[str, Any]] = {}


def _node(node: Mapping[str, Any], defs: Mapping[str, Any]) -> tuple[Any, bool]:
    """The schema of a value, without its ``$ref`` and ``null``; whether null
    was allowed."""
    optional = False
    if "anyOf" in node:
        branches = [b for b in node["anyOf"] if b.get("type") != "null"]
        optional = len(branches) < len(node["anyOf"])
        node = branches[0]
    if "$ref" in node:
        node = defs[node["$ref"].rsplit("/", 1)[-1]]
    kind = node.get("type")
    if isinstance(kind, list):
        optional = optional or "null" in kind
        node = {**node, "type": next(k for k in kind if k != "null")}
    return node, optional


def _input(
    name: str,
    node: Mapping[str, Any],
    defs: Mapping[str, Any],
    current: Any,
    locale: str,
) -> Input:
    node, optional = _node(node, defs)
    label = text(locale, name.rsplit(".", 1)[-1])
    if node.get("type") == "object":
        current = current if isinstance(current, dict) else {}
        children = tuple(
            _input(f"{name}.{key}", child, defs, current.get(key), locale)
            for key, child in node["properties"].items()
        )
        return Input(name, label, "group", children=children)
    if node.get("type") == "boolean":
        return Input(name, label, "checkbox", checked=current is True)
    if "enum" in node:
        blank = (("", text(locale, "choose")),) if optional else ()
        options = blank + tuple((v, text(locale, str(v))) for v in node["enum"])
        return Input(name, label, "select", value=str(current or ""), options=options)
    return Input(name, label, "text", value="" if current is None else str(current))


def _read(
    name: str, node: Mapping[str, Any], defs: Mapping[str, Any], form: Mapping[str, str]
) -> Any:
    node, optional = _node(node, defs)
    if node.get("type") == "object":
        fields = {
            k: _read(f"{name}.{k}", c, defs, form)
            for k, c in node["properties"].items()
        }
        found = {k: v for k, v in fields.items() if v is not _MISSING}
        if optional and not any(v not in ("", None, False) for v in found.values()):
            return None  # a group left blank is "not entered"
        return found
    if node.get("type") == "boolean":
        return name in form  # an unchecked box is not posted at all
    if name not in form:
        return _MISSING
    value = form[name].strip()
    return None if optional and not value else value


def _encode(value: object) -> str:
    if isinstance(value, enum.Enum):
        return str(value.value)
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value)
