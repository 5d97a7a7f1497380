"""Business-day deadlines for the public confirmations, and escalation (S18-S22).

Counted per track from the day its last agreement was accepted: the Tracker
and the RCL should show the Individual registration within ``tracker_days``
and ``rcl_days`` business days, Find Local Help (for agents who opted in)
within ``find_local_help_days``; the RCL should show the SHOP registration
within ``rcl_days`` of the SHOP agreement. A late Individual RCL listing is
what the seed says to escalate to the help desk (S22); the others are
reported so a portal can tell the agent.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Iterator
from typing import Final

import attrs

from ._calendar import add_business_days, business_days_between, check_day, cms_date
from ._messages import render
from ._records import Confirmation
from ._registration import Registration
from ._rules import PlanYearRules
from ._states import IndividualState, ShopState, Track

__all__ = [
    "Deadlines",
    "Escalation",
    "Overdue",
    "deadlines",
    "overdue",
    "rcl_escalation",
]

_WAITING: Final = {
    Track.INDIVIDUAL: frozenset(
        {IndividualState.REGISTERED, IndividualState.ESCALATED}
    ),
    Track.SHOP: frozenset({ShopState.REGISTERED}),
}


@attrs.frozen(kw_only=True, slots=True)
class Deadlines:
    """The last business day each public confirmation of a track is expected on.

    The Tracker and Find Local Help show the Individual registration only;
    for the SHOP track they are ``None``.
    """

    track: Track = Track.INDIVIDUAL
    registered_on: dt.date
    tracker: dt.date | None
    rcl: dt.date
    find_local_help: dt.date | None

    def due(self, kind: Confirmation) -> dt.date | None:
        """The deadline of *kind*, or ``None`` if it is not expected at all."""
        if kind is Confirmation.TRACKER:
            return self.tracker
        if kind is Confirmation.RCL:
            return self.rcl
        return self.find_local_help


def deadlines(
    reg: Registration, rules: PlanYearRules, track: Track = Track.INDIVIDUAL
) -> Deadlines | None:
    """Return *track*'s deadlines, or ``None`` before its agreements are accepted.

    Raises:
        InvalidValue: the agreements are dated where regflow counts no
            business days (a snapshot rebuilt from a forged history).
    """
    individual = track is Track.INDIVIDUAL
    registered = reg.individual_registered_at if individual else reg.shop_registered_at
    if registered is None:
        return None
    start = cms_date(registered)
    return Deadlines(
        track=track,
        registered_on=start,
        tracker=add_business_days(start, rules.tracker_days) if individual else None,
        rcl=add_business_days(start, rules.rcl_days),
        find_local_help=(
            add_business_days(start, rules.find_local_help_days)
            if individual and reg.profile.find_local_help
            else None
        ),
    )


@attrs.frozen(kw_only=True, slots=True)
class Escalation:
    """The help-desk email the seed tells an agent missing from the RCL to send (S22)."""

    to: str
    npn: str
    plan_year: int
    completed_on: dt.date
    due: dt.date
    days: int
    name: str

    def subject(self, locale: str = "en") -> str:
        """The email's subject line in *locale*."""
        return render("escalation.subject", locale, **self._params())

    def body(self, locale: str = "en") -> str:
        """The email's prefilled body in *locale*."""
        return render("escalation.body", locale, **self._params())

    def mailto(self, locale: str = "en") -> str:
        """A ``mailto:`` link with subject and body filled in."""
        from urllib.parse import quote

        return (
            f"mailto:{self.to}?subject={quote(self.subject(locale))}"
            f"&body={quote(self.body(locale))}"
        )

    def _params(self) -> dict[str, str | int]:
        return {
            "npn": self.npn,
            "plan_year": self.plan_year,
            "completed_on": self.completed_on.isoformat(),
            "due": self.due.isoformat(),
            "days": self.days,
            "name": self.name,
        }


@attrs.frozen(kw_only=True, slots=True)
class Overdue:
    """A public confirmation of a track that should have appeared by now and has not.

    ``escalation`` is set for a late Individual RCL listing (S22);
    ``escalated`` says the agent already wrote to the help desk (state
    ``escalated``).
    """

    track: Track = Track.INDIVIDUAL
    agent_id: str
    plan_year: int
    npn: str | None
    kind: Confirmation
    due: dt.date
    business_days_late: int
    escalated: bool
    escalation: Escalation | None


def rcl_escalation(
    reg: Registration, rules: PlanYearRules, registered_on: dt.date, due: dt.date
) -> Escalation:
    """The S22 help-desk email for *reg*, whose RCL listing was due on *due*."""
    contact = reg.profile.contact
    return Escalation(
        to=rules.help_desk_email,
        npn=reg.npn.value if reg.npn is not None else "",
        plan_year=reg.plan_year,
        completed_on=registered_on,
        due=due,
        days=rules.rcl_days,
        name=contact.name if contact is not None else reg.agent_id,
    )


def overdue(
    registrations: Iterable[Registration],
    *,
    on: dt.date,
    rules: Callable[[int], PlanYearRules] = PlanYearRules.for_year,
) -> list[Overdue]:
    """List every late confirmation among *registrations* as of the date *on*.

    Only tracks waiting for the lists (``registered``, or ``escalated`` on the
    Individual track) can be late; a certified, flagged or terminated one has
    been listed.

    Raises:
        InvalidValue: *on* is not a date regflow counts business days on.
    """
    return list(_overdue(registrations, check_day(on, "on"), rules))


def _overdue(
    registrations: Iterable[Registration],
    on: dt.date,
    rules_for: Callable[[int], PlanYearRules],
) -> Iterator[Overdue]:
    for reg in registrations:
        waiting = [
            track
            for track in Track
            if (reg.individual if track is Track.INDIVIDUAL else reg.shop)
            in _WAITING[track]
        ]
        if not waiting:
            continue
        rules = rules_for(reg.plan_year)
        for track in waiting:
            yield from _late(reg, rules, track, on)


def _late(
    reg: Registration, rules: PlanYearRules, track: Track, on: dt.date
) -> Iterator[Overdue]:
    due_dates = deadlines(reg, rules, track)
    if due_dates is None:  # pragma: no cover - waiting implies the agreements
        return
    listing = reg.individual_listing if track is Track.INDIVIDUAL else reg.shop_listing
    seen = reg.confirmed if track is Track.INDIVIDUAL else frozenset()
    for kind in Confirmation:
        due = due_dates.due(kind)
        if due is None or kind in seen or on <= due:
            continue
        if kind is Confirmation.RCL and listing is not None:
            continue
        escalation = None
        if (
            kind is Confirmation.RCL
            and track is Track.INDIVIDUAL
            and reg.npn is not None
        ):
            escalation = rcl_escalation(reg, rules, due_dates.registered_on, due)
        yield Overdue(
            track=track,
            agent_id=reg.agent_id,
            plan_year=reg.plan_year,
            npn=reg.npn.value if reg.npn is not None else None,
            kind=kind,
            due=due,
            business_days_late=business_days_between(due, on),
            escalated=track is Track.INDIVIDUAL
            and reg.individual is IndividualState.ESCALATED,
            escalation=escalation,
        )
