"""What is checked before a write touches the database: a bad call writes nothing."""

from __future__ import annotations

from .._errors import IdempotencyConflict, InvalidValue, StoreError
from .._events import StartRegistration
from .._registration import Registration

__all__ = ["check_write", "closed_error"]


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
            raise IdempotencyConflict(
                reg.agent_id, reg.plan_year, event_id, agency=reg.agency_id or ""
            )
        seen.add(event_id)
    return reg


def closed_error(name: str) -> StoreError:
    """The error for using a store after :meth:`close`."""
    return StoreError(f"this {name} is closed; open a new one")
