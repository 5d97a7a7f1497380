"""What several events share: the time guards every event runs, track sets.

The time guards run before an event's own guards, for every event; an event
dated outside its plan year's window is refused for that alone (the workflow
stops there), because the guards after it count business days from its time,
which could be anywhere in Python's calendar.
"""

from __future__ import annotations

from typing import Any, Final

from .. import _events as ev
from .._records import Curriculum
from .._registration import Registration
from .._rules import PlanYearRules
from .._states import IndividualState, ShopState, Track
from ._spec import OK, Refusals, guard, refuse

__all__ = [
    "INDIVIDUAL_ON_LISTS",
    "SHOP_ON_LISTS",
    "in_plan_year",
    "missing_agreements",
    "missing_curricula",
    "not_before_start",
    "on_lists",
    "registered_at",
]

IS, SS = IndividualState, ShopState
INDIVIDUAL_ON_LISTS: Final = (
    IS.REGISTERED,
    IS.NPN_INVALID,
    IS.ESCALATED,
    IS.CERTIFIED,
    IS.REINSTATED,
)
"""Where the Individual track can be on CMS's lists: its agreements accepted."""
SHOP_ON_LISTS: Final = (SS.REGISTERED, SS.NPN_INVALID, SS.LISTED, SS.REINSTATED)
"""Where the SHOP track can be on CMS's lists: its agreement accepted."""


@guard(
    "time",
    {
        "time.outside_plan_year": {
            "en": (
                "Plan year {plan_year} takes events dated from {opens} to {closes}; "
                "this one is dated {at}."
            ),
            "es": (
                "El año del plan {plan_year} acepta eventos con fecha del {opens} al "
                "{closes}; este tiene fecha {at}."
            ),
        }
    },
)
def in_plan_year(reg: Any, event: ev.Event, rules: PlanYearRules) -> Refusals:
    """An event is dated inside its plan year's window (rules as data)."""
    if rules.in_window(event.at):
        return OK
    return refuse(
        "time.outside_plan_year",
        plan_year=rules.plan_year,
        at=event.at.isoformat(),
        opens=rules.events_from.isoformat(),
        closes=rules.events_until.isoformat(),
    )


@guard(
    "time",
    {
        "time.before_start": {
            "en": "This event is dated {at}, before the registration started ({started}).",
            "es": (
                "Este evento tiene fecha {at}, anterior al inicio del registro "
                "({started})."
            ),
        }
    },
)
def not_before_start(
    reg: Registration, event: ev.Event, rules: PlanYearRules
) -> Refusals:
    """Nothing happens to a registration before it started."""
    started = reg.history[0].at
    if event.at < started:
        return refuse(
            "time.before_start", at=event.at.isoformat(), started=started.isoformat()
        )
    return OK


def missing_curricula(reg: Registration, track: Track) -> tuple[Curriculum, ...]:
    """The enrolled curricula of *track* not completed yet."""
    done = reg.completed_curricula
    if track is Track.SHOP:
        return tuple(
            c for c in reg.enrollments if c is Curriculum.SHOP and c not in done
        )
    return tuple(c for c in reg.individual_curricula if c not in done)


def missing_agreements(
    reg: Registration, rules: PlanYearRules, track: Track | None = None
) -> tuple[str, ...]:
    """The applicable agreements (of *track*, or both) not accepted, as values."""
    accepted = reg.accepted_agreements
    return tuple(
        a.value
        for a in rules.required_agreements(reg.profile, track)
        if a not in accepted
    )


def registered_at(reg: Registration, track: Track) -> Any:
    """When *track*'s agreements were all accepted, or ``None``."""
    if track is Track.SHOP:
        return reg.shop_registered_at
    return reg.individual_registered_at


def on_lists(reg: Registration, track: Track) -> bool:
    """Whether *track* has its agreements accepted, so CMS's lists may show it."""
    if track is Track.SHOP:
        return reg.shop in SHOP_ON_LISTS
    return reg.individual in INDIVIDUAL_ON_LISTS
