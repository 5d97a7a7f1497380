"""Business-day deadlines for the public confirmations, and escalation (S18-S22).

Counted from the day the last agreement was accepted (``registered_at``): the
Tracker and the RCL should show the agent within ``tracker_days`` and
``rcl_days`` business days, Find Local Help (for agents who opted in) within
``find_local_help_days``. A late RCL listing is what the seed says to escalate
to the help desk; the others are reported so a portal can tell the agent.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Iterator
from typing import Final

import attrs

from ._calendar import add_business_days, business_days_between, check_day, cms_date
from ._messages import render
from ._records import Confirmation
from ._registration import Registration, State
from ._rules import PlanYearRules

__all__ = [
    "Deadlines",
    "Escalation",
    "Overdue",
    "deadlines",
    "overdue",
    "rcl_escalation",
]

_WAITING: Final = frozenset({State.REGISTERED, State.ESCALATED})


@attrs.frozen(kw_only=True, slots=True)
class Deadlines:
    """The last business day each public confirmation is expected on."""

    registered_on: dt.date
    tracker: dt.date
    rcl: dt.date
    find_local_help: dt.date | None

    def due(self, kind: Confirmation) -> dt.date | None:
        """The deadline of *kind*, or ``None`` if it is not expected at all."""
        if kind is Confirmation.TRACKER:
            return self.tracker
        if kind is Confirmation.RCL:
            return self.rcl
        return self.find_local_help


def deadlines(reg: Registration, rules: PlanYearRules) -> Deadlines | None:
    """Return *reg*'s deadlines, or ``None`` before every agreement is accepted.

    Raises:
        InvalidValue: the agreements are dated where regflow counts no
            business days (a snapshot rebuilt from a forged history).
    """
    if reg.registered_at is None:
        return None
    start = cms_date(reg.registered_at)
    return Deadlines(
        registered_on=start,
        tracker=add_business_days(start, rules.tracker_days),
        rcl=add_business_days(start, rules.rcl_days),
        find_local_help=(
            add_business_days(start, rules.find_local_help_days)
            if reg.profile.find_local_help
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
    """A public confirmation that should have appeared by now and has not.

    ``escalation`` is set for a late RCL listing (S22); ``escalated`` says the
    agent already wrote to the help desk (state ``escalated``).
    """

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

    Only registrations waiting for the lists (``registered`` or ``escalated``)
    can be late; a certified, flagged or terminated one has been listed.

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
        if reg.state not in _WAITING:
            continue
        rules = rules_for(reg.plan_year)
        due_dates = deadlines(reg, rules)
        if due_dates is None:  # pragma: no cover - registered implies agreements
            continue
        seen = reg.confirmed
        for kind in Confirmation:
            due = due_dates.due(kind)
            if due is None or kind in seen or on <= due:
                continue
            escalation = None
            if kind is Confirmation.RCL and reg.npn is not None:
                escalation = rcl_escalation(reg, rules, due_dates.registered_on, due)
            yield Overdue(
                agent_id=reg.agent_id,
                plan_year=reg.plan_year,
                npn=reg.npn.value if reg.npn is not None else None,
                kind=kind,
                due=due,
                business_days_late=business_days_between(due, on),
                escalated=reg.state is State.ESCALATED,
                escalation=escalation,
            )
