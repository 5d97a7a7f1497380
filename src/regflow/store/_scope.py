"""What both repositories check before they reach the store: the agency a
call is scoped to, a listing's or a feed's arguments, and the page cursor
(an opaque string, so that a portal passes it back unread)."""

from __future__ import annotations

import base64
import binascii
import json

from .. import _events as ev
from .._errors import InvalidValue
from .._registration import Registration
from ._protocol import ANY_AGENCY, Agency, RegistrationKey, agency_key

__all__ = [
    "check_agency",
    "check_feed_args",
    "check_limit",
    "check_scope",
    "cursor_after",
    "cursor_key",
    "scoped_key",
]

MAX_PAGE = 1000
MAX_CHANGES = 10_000


def check_limit(limit: object, most: int = MAX_PAGE) -> int:
    """*limit*, if an int from 1 to *most*.

    Raises:
        InvalidValue: otherwise.
    """
    if isinstance(limit, bool) or not isinstance(limit, int) or not 1 <= limit <= most:
        raise InvalidValue(f"'limit' must be an int from 1 to {most} (got {limit!r})")
    return limit


def check_feed_args(after: object, limit: object) -> None:
    """Refuse a feed position that is not an int >= 0, or a bad *limit*."""
    check_limit(limit, MAX_CHANGES)
    if isinstance(after, bool) or not isinstance(after, int) or after < 0:
        raise InvalidValue(f"'after' must be a position, an int >= 0 (got {after!r})")


def cursor_after(items: list[Registration], limit: int) -> str | None:
    """The cursor of the page after *items*, or ``None`` when it was the last."""
    if len(items) < limit:
        return None
    last = items[-1]
    key = [last.agency_id or "", last.plan_year, last.agent_id]
    text = json.dumps(key, separators=(",", ":"))
    return base64.urlsafe_b64encode(text.encode()).decode("ascii")


def cursor_key(cursor: str | None) -> RegistrationKey | None:
    """The key a cursor continues after.

    Raises:
        InvalidValue: *cursor* is not one a listing returned.
    """
    if cursor is None:
        return None
    try:
        agency, plan_year, agent_id = json.loads(base64.urlsafe_b64decode(cursor))
        if not (
            isinstance(agency, str)
            and isinstance(plan_year, int)
            and not isinstance(plan_year, bool)
            and isinstance(agent_id, str)
        ):
            raise ValueError("not a key")
    except (ValueError, TypeError, binascii.Error) as exc:
        raise InvalidValue(
            f"'after' must be a page's 'next', as a listing returned it (got {cursor!r})"
        ) from exc
    return RegistrationKey(agent_id, plan_year, agency)


def check_scope(agency: object) -> Agency:
    """*agency*, if a repository can serve it.

    Raises:
        InvalidValue: not a str, ``None`` or ``ANY_AGENCY``.
    """
    if agency is ANY_AGENCY or agency is None or isinstance(agency, str):
        return agency
    raise InvalidValue(f"'agency' must be a str, None or ANY_AGENCY (got {agency!r})")


def scoped_key(agency: Agency, agent_id: str, plan_year: int) -> RegistrationKey:
    """The key of one registration of *agency*.

    Raises:
        InvalidValue: *agency* is ``ANY_AGENCY``, which reads but never names one.
    """
    if agency is ANY_AGENCY or not (agency is None or isinstance(agency, str)):
        raise InvalidValue(
            "an ANY_AGENCY repository lists and reads across agencies; "
            "use repo.scoped(agency) to load or write one registration"
        )
    return RegistrationKey(agent_id, plan_year, agency_key(agency))


def check_agency(agency: Agency, event: ev.StartRegistration) -> None:
    """Refuse a start for another agency than a repository's.

    Raises:
        InvalidValue: the event's ``agency_id`` is not the repository's.
    """
    if agency is not ANY_AGENCY and event.agency_id != agency:
        raise InvalidValue(
            f"this repository serves agency {agency!r}; the start is for agency "
            f"{event.agency_id!r}"
        )
