"""Snapshot migrations: stored snapshots of older layouts keep loading.

``MIGRATIONS[n]`` turns a schema-``n`` snapshot dict into schema ``n + 1``.

Version 1 (regflow 0.1) had one ``state`` and no SHOP track, a history of
``{"seq", "event"}`` records and a stored ``version``. A version-1 snapshot
is rebuilt from its history under version 2's rules: the events are the
facts, and what v1 derived from them is derived again, with the tracks apart
(so an agent who enrolled in the SHOP curriculum without choosing SHOP is no
longer held back by it). The identity fields v1 stored must agree with the
history; a history that v2's machine cannot read (a SHOP curriculum taken
at a vendor, which v2 sends to MLMS) is refused naming the event.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, Final

__all__ = ["MIGRATIONS"]

Migration = Callable[[dict[str, Any]], dict[str, Any]]


def _v1_to_v2(data: dict[str, Any]) -> dict[str, Any]:
    from ._converter import converter
    from ._errors import RegflowError, SerializationError
    from ._events import Event, StartRegistration
    from ._workflow import Workflow

    history = data.get("history")
    if not isinstance(history, list) or not history:
        raise SerializationError(
            "a schema_version 1 snapshot holds its history as a non-empty array"
        )
    events = []
    for position, item in enumerate(history, 1):
        if not isinstance(item, Mapping) or set(item) != {"seq", "event"}:
            raise SerializationError(
                f"schema_version 1 history entry {position} is not a "
                "{'seq', 'event'} object"
            )
        if item["seq"] != position:
            raise SerializationError(
                f"schema_version 1 history has a gap: entry {position} is seq "
                f"{item['seq']!r}"
            )
        try:
            events.append(converter.structure(item["event"], Event))
        except Exception as exc:
            raise SerializationError(
                f"schema_version 1 history entry {position}: {exc}"
            ) from exc
    first = events[0]
    if not isinstance(first, StartRegistration):
        raise SerializationError(
            "a schema_version 1 history begins with StartRegistration"
        )
    try:
        reg = Workflow.for_plan_year(first.plan_year).replay(events)
    except RegflowError as exc:
        raise SerializationError(
            f"the schema_version 1 snapshot's history cannot be read as version 2: "
            f"{exc}"
        ) from exc
    for field in (
        "agent_id",
        "portal_account_id",
        "plan_year",
        "prior_year",
        "version",
    ):
        stored, derived = data.get(field), getattr(reg, field)
        if stored != derived:
            raise SerializationError(
                f"schema_version 1 snapshot says {field} {stored!r} but its history "
                f"gives {derived!r}"
            )
    upgraded: dict[str, Any] = converter.unstructure(reg)
    return upgraded


MIGRATIONS: Final[dict[int, Migration]] = {1: _v1_to_v2}
"""``{n: upgrade}``: each upgrade turns a schema-``n`` snapshot dict into ``n + 1``."""
