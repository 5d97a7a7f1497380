"""JSON Schema (draft 2020-12) of regflow's JSON forms, generated from its classes.

:func:`json_schema` derives a schema from the attrs fields and annotations of
a snapshot, an event, a refusal, a decision or a menu, so a front end can
validate or generate forms. The package ships the same schemas as files
(``regflow/schemas/*.json``); a test keeps them equal to what this module
generates. A schema checks shape (types, enums, required fields, no unknown
keys); regflow itself checks the rest (an NPN not all zeros, a date that
exists) when the data is read.
"""

from __future__ import annotations

import datetime as dt
import enum
import json
import types
import typing
from collections.abc import Mapping
from importlib import resources
from typing import Any, Final

import attrs

from ._catalog import CATALOG
from ._events import Event
from ._explain import Menu
from ._messages import Refusal
from ._npn import NPN
from ._registration import SCHEMA_VERSION, Registration
from ._states import Status
from ._workflow import Decision

__all__ = [
    "SCHEMA_FILES",
    "json_schema",
    "render_schema",
    "shipped_schema",
    "write_shipped",
]

DIALECT: Final = "https://json-schema.org/draft/2020-12/schema"
_NONBLANK: Final = {"type": "string", "minLength": 1, "pattern": r"\S"}
_TIME: Final = {"type": "string", "format": "date-time"}
_NPN: Final = {"type": "string", "pattern": r"^\s*[0-9]{1,10}\s*$"}
_PARAM: Final = {
    "anyOf": [
        {"type": "string"},
        {"type": "integer"},
        {"type": "array", "items": {"type": "string"}},
    ]
}
# Fields whose validators refuse blank text: a form must fill them.
_REQUIRED_TEXT: Final = frozenset(
    {
        "event_id",
        "agent_id",
        "portal_account_id",
        "vendor",
        "launch_id",
        "name",
        "email",
        "phone",
    }
)


class _Builder:
    """Collects the ``$defs`` a schema refers to while building it."""

    def __init__(self) -> None:
        self.defs: dict[str, dict[str, Any]] = {}

    def of(self, hint: Any, name: str = "") -> dict[str, Any]:
        if hint is type(None):
            return {"type": "null"}
        origin = typing.get_origin(hint)
        if origin in (typing.Union, types.UnionType):
            args = typing.get_args(hint)
            optional = type(None) in args
            rest = [a for a in args if a is not type(None)]
            inner = (
                self.of(rest[0], name)
                if len(rest) == 1
                else {"anyOf": [self.of(a, name) for a in rest]}
            )
            if optional and rest == [NPN]:
                # A blank NPN is "not entered", as None is.
                return {
                    "anyOf": [
                        {"type": "null"},
                        {"type": "string", "pattern": r"^\s*([0-9]{1,10})?\s*$"},
                    ]
                }
            if optional and rest == [str]:
                return {"type": ["string", "null"]}
            return {"anyOf": [inner, {"type": "null"}]} if optional else inner
        if origin is tuple:
            return {"type": "array", "items": self.of(typing.get_args(hint)[0], name)}
        if origin is Mapping or hint is Mapping:
            return {"type": "object"}
        if hint is str:
            return dict(_NONBLANK) if name in _REQUIRED_TEXT else {"type": "string"}
        if hint is bool:
            return {"type": "boolean"}
        if hint is int:
            return {"type": "integer"}
        if hint is dt.datetime:
            return dict(_TIME)
        if hint is dt.date:
            return {"type": "string", "format": "date"}
        if hint is NPN:
            return dict(_NPN)
        if hint is Refusal:
            return self.ref("Refusal", self.refusal)
        if isinstance(hint, type) and issubclass(hint, enum.Enum):
            return {"type": "string", "enum": [m.value for m in hint]}
        if hint is Event:
            return self.ref("Event", self.any_event)
        if isinstance(hint, type) and issubclass(hint, Event):
            return self.ref(hint.__name__, lambda: self.event(hint))
        if isinstance(hint, type) and attrs.has(hint):
            return self.ref(hint.__name__, lambda: self.record(hint))
        raise TypeError(f"no JSON Schema for {hint!r}")

    def ref(self, name: str, build: Any) -> dict[str, Any]:
        if name not in self.defs:
            self.defs[name] = {}  # a placeholder, in case the type refers to itself
            self.defs[name] = build()
        return {"$ref": f"#/$defs/{name}"}

    def record(self, cls: type, skip: tuple[str, ...] = ()) -> dict[str, Any]:
        attrs.resolve_types(cls)
        properties = {}
        required = []
        for field in attrs.fields(cls):
            if field.name in skip:
                continue
            properties[field.name] = self.of(field.type, field.name)
            if field.default is attrs.NOTHING:
                required.append(field.name)
        found: dict[str, Any] = {
            "type": "object",
            "properties": properties,
            "additionalProperties": False,
        }
        if required:
            found["required"] = required
        if cls.__doc__:
            found["description"] = cls.__doc__.strip().splitlines()[0]
        return found

    def event(self, cls: type[Event]) -> dict[str, Any]:
        found = self.record(cls)
        found["properties"] = {"type": {"const": cls.kind}, **found["properties"]}
        found["required"] = ["type", *found.get("required", [])]
        return found

    def any_event(self) -> dict[str, Any]:
        return {"oneOf": [self.of(spec.type) for spec in CATALOG]}

    def refusal(self) -> dict[str, Any]:
        return {
            "type": "object",
            "description": "Why an event may not be applied now.",
            "properties": {
                "code": {"type": "string", "pattern": r"^[A-Za-z0-9_]+\.[a-z0-9_]+$"},
                "params": {"type": "object", "additionalProperties": _PARAM},
            },
            "required": ["code", "params"],
            "additionalProperties": False,
        }


def json_schema(cls: type[Any], *, view: bool = False) -> dict[str, Any]:
    """The JSON Schema of ``to_dict`` output for *cls*.

    Args:
        cls: ``Registration``, ``Event`` (any event) or an event class,
            ``Refusal``, ``Decision`` or ``Menu``.
        view: for ``Registration``, the schema of its view
            (``to_dict(reg, history=False)``).

    Raises:
        TypeError: *cls* is none of those.
    """
    build = _Builder()
    if cls is Registration:
        body = build.record(Registration, skip=("history",) if view else ())
        body["properties"]["schema_version"] = {"const": SCHEMA_VERSION}
        body["required"] = [*body.get("required", []), "schema_version"]
        if view:
            body["properties"]["version"] = {"type": "integer", "minimum": 1}
            body["properties"]["status"] = build.of(Status)
            body["required"] += ["version", "status"]
        title = "regflow registration view" if view else "regflow registration"
    elif cls is Refusal:
        body, title = build.refusal(), "regflow refusal"
    elif cls is Decision:
        body = {
            "type": "object",
            "properties": {
                "allowed": {"type": "boolean"},
                "refusals": {"type": "array", "items": build.of(Refusal)},
            },
            "required": ["allowed", "refusals"],
            "additionalProperties": False,
        }
        title = "regflow decision"
    elif cls is Menu:
        body, title = build.record(Menu), "regflow menu"
    elif cls is Event:
        body, title = build.any_event(), "regflow event"
    elif isinstance(cls, type) and issubclass(cls, Event):
        body, title = build.event(cls), f"regflow event {cls.kind}"
    else:
        raise TypeError(f"no JSON Schema for {cls!r}")
    schema: dict[str, Any] = {"$schema": DIALECT, "title": title, **body}
    if build.defs:
        schema["$defs"] = dict(sorted(build.defs.items()))
    return schema


def _files() -> dict[str, tuple[type[Any], bool]]:
    found: dict[str, tuple[type[Any], bool]] = {
        "registration.json": (Registration, False),
        "registration-view.json": (Registration, True),
        "event.json": (Event, False),
        "refusal.json": (Refusal, False),
        "decision.json": (Decision, False),
        "menu.json": (Menu, False),
    }
    for spec in CATALOG:
        found[f"event-{spec.kind}.json"] = (spec.type, False)
    return found


SCHEMA_FILES: Final = _files()
"""The schema files shipped in ``regflow/schemas``, and what each describes."""


def render_schema(name: str) -> str:
    """The text of shipped schema file *name*, as this regflow generates it."""
    cls, view = SCHEMA_FILES[name]
    return json.dumps(json_schema(cls, view=view), indent=2, ensure_ascii=False) + "\n"


def shipped_schema(name: str) -> dict[str, Any]:
    """Read shipped schema file *name* (e.g. ``"event.json"``)."""
    text = resources.files("regflow").joinpath("schemas", name).read_text("utf-8")
    found: dict[str, Any] = json.loads(text)
    return found


def write_shipped(folder: str | None = None) -> list[str]:
    """Write every shipped schema file into *folder* (the package's by default).

    ``make schemas`` runs this after a change to a class; a test fails while
    the shipped files differ from what this regflow generates.
    """
    import pathlib

    target = (
        pathlib.Path(folder) if folder else pathlib.Path(__file__).parent / "schemas"
    )
    target.mkdir(exist_ok=True)
    for old in target.glob("*.json"):
        if old.name not in SCHEMA_FILES:
            old.unlink()
    for name in SCHEMA_FILES:
        (target / name).write_text(render_schema(name), encoding="utf-8")
    return sorted(SCHEMA_FILES)
