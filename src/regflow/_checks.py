"""Type checks for the values a host hands regflow, derived from annotations.

Events and the profile records are built by host code, from forms and JSON,
so a wrong type must be refused where it is made, naming the field, rather
than surface later as an ``AttributeError`` in ``dumps`` or a store. The
checks are built once per class from its resolved attrs field types, so a new
field is checked without writing a validator for it.
"""

from __future__ import annotations

import datetime as dt
import enum
import types
import typing
from collections.abc import Callable
from typing import Any, Final

import attrs

from ._errors import InvalidField, NaiveDatetime

__all__ = ["check_fields", "fixed_offset"]

Check = Callable[[object], bool]

_ZONES: dict[dt.timedelta, dt.timezone] = {}


def fixed_offset(value: object) -> object:
    """Return an aware datetime as the same instant in its fixed UTC offset.

    A time in a zone with rules (``zoneinfo``) can fall in a DST fold or gap,
    where Python compares it unequal to every other zone's time, so it would
    not survive a round trip through JSON or a database. regflow keeps the
    instant and the offset it was given, not the zone's name. Anything else
    is returned as is, for the field check to refuse.
    """
    if not isinstance(value, dt.datetime):
        return value
    tz = value.tzinfo
    if tz is None or type(tz) is dt.timezone:
        return value
    offset = value.utcoffset()
    if offset is None:
        return value
    zone = _ZONES.get(offset)
    if zone is None:
        zone = _ZONES.setdefault(offset, dt.timezone(offset))
    return value.replace(tzinfo=zone, fold=0)


def _name(hint: Any) -> str:
    if hint is type(None):
        return "None"
    origin = typing.get_origin(hint)
    if origin in (typing.Union, types.UnionType):
        return " or ".join(_name(arg) for arg in typing.get_args(hint))
    if origin is tuple:
        return f"a tuple of {_name(typing.get_args(hint)[0])}"
    if hint is dt.datetime:
        return "an aware datetime"
    name = getattr(hint, "__name__", str(hint))
    return f"an {name}" if name[:1].upper() in "AEIOU" else f"a {name}"


def _check(hint: Any) -> Check:
    """A predicate for *hint*: the few shapes regflow's records use."""
    if hint is type(None):
        return lambda value: value is None
    origin = typing.get_origin(hint)
    if origin in (typing.Union, types.UnionType):
        options = tuple(_check(arg) for arg in typing.get_args(hint))
        return lambda value: any(option(value) for option in options)
    if origin is tuple:
        item = _check(typing.get_args(hint)[0])
        return lambda value: isinstance(value, tuple) and all(map(item, value))
    if hint is bool:
        return lambda value: isinstance(value, bool)
    if hint is int:
        return lambda value: isinstance(value, int) and not isinstance(value, bool)
    if hint is dt.date:
        return lambda value: (
            isinstance(value, dt.date) and not isinstance(value, dt.datetime)
        )
    if isinstance(hint, type) and (
        issubclass(hint, str | enum.Enum | dt.datetime) or attrs.has(hint)
    ):
        return lambda value: isinstance(value, hint)
    raise TypeError(f"regflow cannot check values of type {hint!r}")


_CHECKS: Final[dict[type, tuple[tuple[str, Check, str, bool], ...]]] = {}


def _checks_of(cls: type) -> tuple[tuple[str, Check, str, bool], ...]:
    found = _CHECKS.get(cls)
    if found is None:
        attrs.resolve_types(cls)
        found = tuple(
            (
                field.name,
                _check(field.type),
                _name(field.type),
                field.type is dt.datetime or dt.datetime in typing.get_args(field.type),
            )
            for field in attrs.fields(cls)
        )
        _CHECKS[cls] = found
    return found


def check_fields(obj: object) -> None:
    """Raise :class:`InvalidField` for the first field of *obj* of a wrong type.

    Datetimes must also be timezone-aware (:class:`NaiveDatetime`).
    """
    cls = type(obj)
    for name, check, expected, is_time in _checks_of(cls):
        value = getattr(obj, name)
        if not check(value):
            raise InvalidField(cls.__name__, name, expected, value)
        if is_time and value is not None and value.utcoffset() is None:
            raise NaiveDatetime(name, value)
