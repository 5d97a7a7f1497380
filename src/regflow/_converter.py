"""regflow's own cattrs converter: strict, and the same for every value it keeps.

Events are tagged with their ``kind`` (``{"type": "accept_agreement", ...}``),
times are ISO 8601 with their offset, dates ISO, enums their stable values.
Reading is strict: a value of the wrong JSON type is refused, never coerced
(``"false"`` is not ``True``, ``2.9`` is not ``2``, ``null`` is not
``"None"``), and an unknown key is refused.
"""

from __future__ import annotations

import datetime as dt
import typing
from collections.abc import Callable, Mapping
from typing import Any, Final

import attrs
import cattrs
from cattrs.cols import homogenous_tuple_structure_factory
from cattrs.gen import make_dict_structure_fn, make_dict_unstructure_fn

from ._catalog import BY_KIND
from ._checks import fixed_offset
from ._events import Event
from ._explain import Choice, Option
from ._messages import Refusal
from ._npn import NPN
from ._registration import SCHEMA_VERSION, Registration
from ._workflow import Decision

__all__ = ["EVENT_TYPES", "converter", "json_type"]

EVENT_TYPES: Final[Mapping[str, type[Event]]] = {
    kind: spec.type for kind, spec in BY_KIND.items()
}
"""Every event class by its ``kind``: the tag of serialized events."""


def json_type(value: object) -> str:
    """What JSON calls *value*'s type, for an error message."""
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


def _strict(kind: type, what: str) -> Callable[[Any, type], Any]:
    # cattrs' default for a primitive is to call it (str(None) == "None",
    # bool("false") is True, int(2.9) == 2); regflow takes JSON as it is.
    def structure(value: Any, _: type) -> Any:
        if type(value) is not kind:
            raise TypeError(f"expected {what}, got {json_type(value)} {value!r}")
        return value

    return structure


def _structure_datetime(value: Any, _: type) -> dt.datetime:
    if isinstance(value, dt.datetime):
        return value
    if not isinstance(value, str):
        raise TypeError(f"expected an ISO 8601 string, got {json_type(value)}")
    parsed = dt.datetime.fromisoformat(value)
    if parsed.utcoffset() is None:
        raise ValueError(f"timestamp {value!r} has no UTC offset")
    # fromisoformat gives every timestamp its own timezone object; a loaded
    # snapshot holds dozens of them, so share one per offset.
    shared: dt.datetime = fixed_offset(parsed)  # type: ignore[assignment]
    return shared


def _structure_date(value: Any, _: type) -> dt.date:
    if not isinstance(value, str):
        raise TypeError(f"expected an ISO 8601 date string, got {json_type(value)}")
    return dt.date.fromisoformat(value)


def _is_tuple(cls: Any) -> bool:
    origin: object = typing.get_origin(cls)
    return origin is tuple


def _is_optional_npn(cls: Any) -> bool:
    return bool(cls == NPN | None)


def _structure_optional_npn(value: Any, _: type) -> NPN | None:
    # A blank NPN field of a form is "not entered", as in Profile itself.
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if not isinstance(value, str):
        raise TypeError(f"expected an NPN as text, got {json_type(value)}")
    return NPN.parse(value)


def _is_event(cls: Any) -> bool:
    return isinstance(cls, type) and issubclass(cls, Event)


def _param(value: Any) -> Any:
    if isinstance(value, list):
        if not all(isinstance(item, str) for item in value):
            raise TypeError("a refusal parameter list holds strings only")
        return tuple(value)
    if isinstance(value, str) or (
        isinstance(value, int) and not isinstance(value, bool)
    ):
        return value
    raise TypeError(
        f"a refusal parameter is text, a number or a list, got {json_type(value)}"
    )


def _make_converter() -> cattrs.Converter:
    conv = cattrs.Converter(forbid_extra_keys=True)
    conv.register_structure_hook(str, _strict(str, "a string"))
    conv.register_structure_hook(int, _strict(int, "an integer"))
    conv.register_structure_hook(bool, _strict(bool, "true or false"))

    def tuple_hook(cls: Any) -> Callable[[Any, type], Any]:
        items = homogenous_tuple_structure_factory(cls, conv)

        def structure_tuple(value: Any, wanted: type) -> Any:
            if not isinstance(value, list | tuple):
                raise TypeError(f"expected an array, got {json_type(value)}")
            return items(value, wanted)

        return structure_tuple

    conv.register_structure_hook_factory(_is_tuple, tuple_hook)
    conv.register_unstructure_hook(dt.datetime, dt.datetime.isoformat)
    conv.register_structure_hook(dt.datetime, _structure_datetime)
    conv.register_unstructure_hook(dt.date, dt.date.isoformat)
    conv.register_structure_hook(dt.date, _structure_date)
    conv.register_unstructure_hook(NPN, str)
    conv.register_structure_hook(NPN, lambda value, _: NPN.parse(value))
    conv.register_structure_hook_func(_is_optional_npn, _structure_optional_npn)
    _register_events(conv)
    _register_snapshot(conv)
    _register_results(conv)
    return conv


def _register_events(conv: cattrs.Converter) -> None:
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
            raise TypeError(f"an event is a JSON object, got {json_type(data)}")
        kind = data.get("type")
        if kind is None and wanted is not Event:
            kind = getattr(
                wanted, "kind", None
            )  # a form posted to one event's endpoint
        if kind not in loaders:
            known = ", ".join(loaders)
            raise ValueError(f"unknown event type {kind!r}; known: {known}")
        cls, load = loaders[kind]
        if not issubclass(cls, wanted):
            raise ValueError(f"expected a {wanted.__name__}, got event type {kind!r}")
        fields = {key: value for key, value in data.items() if key != "type"}
        event: Event = load(fields, cls)
        return event

    conv.register_unstructure_hook_func(_is_event, unstructure_event)
    conv.register_structure_hook_func(_is_event, structure_event)


def _register_snapshot(conv: cattrs.Converter) -> None:
    dump = make_dict_unstructure_fn(Registration, conv)
    load = make_dict_structure_fn(Registration, conv)

    def unstructure(reg: Registration) -> dict[str, Any]:
        data: dict[str, Any] = dump(reg)
        data["schema_version"] = SCHEMA_VERSION
        return data

    def structure(data: Any, _: type) -> Registration:
        if not isinstance(data, Mapping):
            raise TypeError(f"a snapshot is a JSON object, got {json_type(data)}")
        fields = {key: value for key, value in data.items() if key != "schema_version"}
        reg: Registration = load(fields, Registration)
        return reg

    conv.register_unstructure_hook(Registration, unstructure)
    conv.register_structure_hook(Registration, structure)


def _register_results(conv: cattrs.Converter) -> None:
    def unstructure_refusal(refusal: Refusal) -> dict[str, Any]:
        params = {
            key: list(value) if isinstance(value, tuple) else value
            for key, value in refusal.params.items()
        }
        return {"code": refusal.code, "params": params}

    def structure_refusal(data: Any, _: type) -> Refusal:
        if not isinstance(data, Mapping) or set(data) != {"code", "params"}:
            raise TypeError("a refusal is an object with 'code' and 'params'")
        code, params = data["code"], data["params"]
        if not isinstance(code, str) or not isinstance(params, Mapping):
            raise TypeError("a refusal's code is text and its params an object")
        return Refusal(code, {str(k): _param(v) for k, v in params.items()})

    conv.register_unstructure_hook(Refusal, unstructure_refusal)
    conv.register_structure_hook(Refusal, structure_refusal)

    def unstructure_decision(decision: Decision) -> dict[str, Any]:
        return {
            "allowed": decision.allowed,
            "refusals": [unstructure_refusal(r) for r in decision.refusals],
        }

    def structure_decision(data: Any, _: type) -> Decision:
        if not isinstance(data, Mapping) or set(data) != {"allowed", "refusals"}:
            raise TypeError("a decision is an object with 'allowed' and 'refusals'")
        refusals = conv.structure(data["refusals"], tuple[Refusal, ...])
        if data["allowed"] is not (not refusals):
            raise ValueError(
                "'allowed' must be true exactly when there are no refusals"
            )
        return Decision(refusals)

    conv.register_unstructure_hook(Decision, unstructure_decision)
    conv.register_structure_hook(Decision, structure_decision)

    def unstructure_values(values: Mapping[str, Any]) -> dict[str, Any]:
        return {key: conv.unstructure(value) for key, value in values.items()}

    dump_choice = make_dict_unstructure_fn(Choice, conv)

    def unstructure_choice(choice: Choice) -> dict[str, Any]:
        data: dict[str, Any] = dump_choice(choice)
        data["values"] = unstructure_values(choice.values)
        return data

    conv.register_unstructure_hook(Choice, unstructure_choice)
    load_option = make_dict_structure_fn(Option, conv)

    def structure_option(data: Any, _: type) -> Option:
        # A choice's values are typed by its event's fields.
        if not isinstance(data, Mapping) or not isinstance(data.get("choices"), list):
            raise TypeError("an option is an object with a 'choices' array")
        cls = EVENT_TYPES.get(data.get("kind"))  # type: ignore[arg-type]
        if cls is None:
            raise ValueError(f"unknown event type {data.get('kind')!r}")
        types = {f.name: f.type for f in attrs.fields(cls)}
        choices = []
        for choice in data["choices"]:
            if not isinstance(choice, Mapping) or not isinstance(
                choice.get("values"), Mapping
            ):
                raise TypeError("a choice is an object with 'values'")
            values = {}
            for key, value in choice["values"].items():
                if key not in types:
                    raise ValueError(f"{cls.__name__} has no field {key!r}")
                values[key] = conv.structure(value, types[key])
            rest = {k: v for k, v in choice.items() if k != "values"}
            made = conv.structure({**rest, "values": {}}, Choice)
            choices.append(attrs.evolve(made, values=values))
        option = load_option({**data, "choices": []}, Option)
        return attrs.evolve(option, choices=tuple(choices))

    conv.register_structure_hook(Option, structure_option)


converter: Final = _make_converter()
"""regflow's converter; stores use it for dicts (e.g. PostgreSQL JSONB)."""
