"""Copying a snapshot with some fields changed, without re-running attrs' init.

``apply`` and ``replay`` make one new snapshot per event; events' effects
only produce values of the right types, so the validation ``attrs.evolve``
would redo is skipped, where its cost shows.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, Final

import attrs

from ._registration import Registration

__all__ = ["clone"]

_FIELDS: Final = tuple(a.name for a in attrs.fields(Registration))


def _make_clone() -> Callable[[Registration, Mapping[str, Any]], Registration]:
    # Generated and unrolled, as attrs does for __init__: a loop of
    # object.__setattr__ calls with getattr by name was a fifth of apply's cost.
    lines = [
        "def clone(reg, changes):",
        "    new = _new(Registration)",
        "    put = _set.__get__(new)",
        "    get = changes.get",
        "    missing = _MISSING",
    ]
    for name in _FIELDS:
        lines.append(f"    value = get({name!r}, missing)")
        lines.append(f"    put({name!r}, reg.{name} if value is missing else value)")
    lines.append("    return new")
    namespace: dict[str, Any] = {
        "_new": object.__new__,
        "_set": object.__setattr__,
        "Registration": Registration,
        "_MISSING": object(),
    }
    exec(compile("\n".join(lines), "<regflow generated clone>", "exec"), namespace)
    made: Callable[[Registration, Mapping[str, Any]], Registration] = namespace["clone"]
    made.__doc__ = """Return a copy of *reg* with *changes*, without re-running attrs' init.

    Effects only produce values of the right types, so this skips the
    validation ``attrs.evolve`` would redo; apply and replay call it once per
    event, where that cost shows.
    """
    return made


clone: Final = _make_clone()
