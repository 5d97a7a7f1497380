"""The readiness report's data, computed by one pure function.

:func:`readiness` reads a plan year's registrations (a repository's, of its
agency or of every agency, or any iterable of snapshots) and answers what a
compliance lead is asked before Open Enrollment: how many agents can sell,
and what holds up the rest. Everything is judged from the snapshots and
their logs as stored; *on* is the day deadlines are judged on, the trend
ends and the business days to Open Enrollment are counted from. List files,
when given, are reconciled through :func:`regflow.lists.plan` without
recording anything, so the report names the files it was checked against.
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Callable, Iterable, Iterator
from typing import Final

import attrs

from .._calendar import business_days_between, check_day, cms_date
from .._errors import InvalidValue
from .._messages import locales
from .._registration import Registration
from .._states import IndividualState, ShopState, Track
from .._workflow import Workflow
from ..store import ANY_AGENCY, Repository
from ._actions import ActionGroup, AuditedList, Groups, act, reconcile_lists
from ._texts import text

__all__ = [
    "STEPS",
    "FunnelStep",
    "Readiness",
    "TrendPoint",
    "open_enrollment",
    "readiness",
]

IS, SS = IndividualState, ShopState

STEPS: Final = (
    "profile",
    "training",
    "agreements",
    "registered",
    "listed",
    "certified",
    "terminated",
    "not_taking_part",
)
"""The funnel's steps, in order; every state of each track is in exactly one."""

_INDIVIDUAL_STEP: Final[dict[IndividualState, str]] = {
    IS.PROFILE_INCOMPLETE: "profile",
    IS.TRAINING: "training",
    IS.VENDOR_TRAINING: "training",
    IS.VENDOR_COMPLETED: "training",
    IS.AGREEMENTS_PENDING: "agreements",
    IS.REGISTERED: "registered",
    IS.ESCALATED: "registered",
    IS.REINSTATED: "registered",
    IS.NPN_INVALID: "listed",
    IS.CERTIFIED: "certified",
    IS.TERMINATED: "terminated",
    IS.TRAINING_COMPLETE: "not_taking_part",
}
_SHOP_STEP: Final[dict[ShopState, str]] = {
    SS.PROFILE_INCOMPLETE: "profile",
    SS.TRAINING: "training",
    SS.AGREEMENT_PENDING: "agreements",
    SS.REGISTERED: "registered",
    SS.REINSTATED: "registered",
    SS.NPN_INVALID: "listed",
    SS.LISTED: "certified",
    SS.TERMINATED: "terminated",
    SS.NOT_TAKEN: "not_taking_part",
}
assert set(_INDIVIDUAL_STEP) == set(IS) and set(_SHOP_STEP) == set(SS)


@attrs.frozen(kw_only=True, slots=True)
class FunnelStep:
    """How many agents stand at one step, on each track.

    Attributes:
        step: one of :data:`STEPS`.
        label: the step in the report's locale.
        individual, shop: the counts; the states each counts are
            ``individual_states`` and ``shop_states``.
    """

    step: str
    label: str
    individual: int
    shop: int
    individual_states: tuple[IndividualState, ...]
    shop_states: tuple[ShopState, ...]


@attrs.frozen(kw_only=True, slots=True)
class TrendPoint:
    """How many agents were certified at the end of one day (CMS time)."""

    day: dt.date
    individual: int
    shop: int


@attrs.frozen(kw_only=True, slots=True)
class Readiness:
    """A plan year's registration readiness: see :func:`readiness`.

    Attributes:
        agency: the agency reported on; ``every_agency`` for all of them.
        agents: registrations of the plan year in scope.
        certified: of those, Individual track certified.
        needing_action: agents in at least one group of ``actions``.
        open_enrollment: the first day of Open Enrollment for the plan year.
        business_days_left: business days after *on* and before it.
        reconciled_on, proposals: with lists: the day reconciled on and how
            many events the lists call for that are not recorded.
    """

    plan_year: int
    agency: str | None
    every_agency: bool
    on: dt.date
    locale: str
    open_enrollment: dt.date
    business_days_left: int
    agents: int
    certified: int
    needing_action: int
    funnel: tuple[FunnelStep, ...]
    trend: tuple[TrendPoint, ...]
    actions: tuple[ActionGroup, ...]
    lists: tuple[AuditedList, ...] = ()
    reconciled_on: dt.date | None = None
    proposals: int = 0

    def step(self, step: str) -> FunnelStep:
        """The funnel's *step*.

        Raises:
            InvalidValue: not one of :data:`STEPS`.
        """
        for found in self.funnel:
            if found.step == step:
                return found
        raise InvalidValue(f"'step' must be one of {', '.join(STEPS)} (got {step!r})")

    @property
    def scope(self) -> str:
        """Whose registrations, in the report's locale."""
        if self.every_agency:
            return text("scope.all", self.locale)
        if self.agency is None:
            return text("scope.none", self.locale)
        return text("scope.agency", self.locale, agency=self.agency)


def open_enrollment(plan_year: int) -> dt.date:
    """Open Enrollment for *plan_year* begins November 1 of the year before."""
    return dt.date(plan_year - 1, 11, 1)


def readiness(
    source: Repository | Iterable[Registration],
    *,
    plan_year: int,
    on: dt.date,
    locale: str = "en",
    rcl: str | os.PathLike[str] | None = None,
    termination: str | os.PathLike[str] | None = None,
    workflows: Callable[[int], Workflow] | None = None,
) -> Readiness:
    """The readiness of *plan_year*'s registrations in *source* as of *on*.

    Args:
        source: a repository (its agency's registrations, or every agency's
            for ``ANY_AGENCY``), or registrations with their histories.
        on: the day deadlines are judged on and the trend ends.
        locale: the language of every text (``en``, ``es``, or a registered one).
        plan_year: the plan year reported.
        rcl: an RCL file to reconcile against (a repository only); nothing
            is recorded.
        termination: a termination list file, with *rcl*.
        workflows: the workflow of a plan year, if not the shipped rules'.

    Raises:
        InvalidValue: a bad *plan_year*, *on* or *locale*, or lists without a
            repository.
        ListFormatError: a list file cannot be read, naming it.
    """
    if isinstance(plan_year, bool) or not isinstance(plan_year, int):
        raise InvalidValue(f"'plan_year' must be an int (got {plan_year!r})")
    check_day(on, "on")
    if locale not in locales():
        raise InvalidValue(
            f"no messages for locale {locale!r}; known: {', '.join(locales())}"
        )
    if isinstance(source, Repository):
        flows = workflows or source.workflows
        regs = list(source.by_plan_year(plan_year))
        scope = source.agency
        every = scope is ANY_AGENCY
        agency = scope if isinstance(scope, str) else None
    else:
        if rcl is not None or termination is not None:
            raise InvalidValue("reconciling with lists needs a Repository as source")
        flows = workflows or Workflow.for_plan_year
        regs = [r for r in source if r.plan_year == plan_year]
        agency, every = None, True
    regs.sort(key=lambda r: (r.agency_id or "", r.agent_id))
    flow = flows(plan_year)
    groups = Groups(locale)
    lists: tuple[AuditedList, ...] = ()
    proposals = 0
    if rcl is not None:
        assert isinstance(source, Repository)
        lists, proposals = reconcile_lists(
            source, plan_year, on, rcl, termination, groups
        )
    for reg in regs:
        act(reg, flow, on, locale, groups)
    oe = open_enrollment(plan_year)
    last = oe - dt.timedelta(days=1)
    return Readiness(
        plan_year=plan_year,
        agency=agency,
        every_agency=every,
        on=on,
        locale=locale,
        open_enrollment=oe,
        business_days_left=business_days_between(on, last) if on < last else 0,
        agents=len(regs),
        certified=sum(1 for r in regs if r.individual is IS.CERTIFIED),
        needing_action=groups.agents(),
        funnel=_funnel(regs, locale),
        trend=_trend(regs, flow, on),
        actions=groups.build(),
        lists=lists,
        reconciled_on=on if rcl is not None else None,
        proposals=proposals,
    )


# -- the funnel and the trend --------------------------------------------------


def _funnel(regs: list[Registration], locale: str) -> tuple[FunnelStep, ...]:
    individual = dict.fromkeys(STEPS, 0)
    shop = dict.fromkeys(STEPS, 0)
    for reg in regs:
        individual[_INDIVIDUAL_STEP[reg.individual]] += 1
        shop[_SHOP_STEP[reg.shop]] += 1
    return tuple(
        FunnelStep(
            step=step,
            label=text(f"step.{step}", locale),
            individual=individual[step],
            shop=shop[step],
            individual_states=tuple(s for s in IS if _INDIVIDUAL_STEP[s] == step),
            shop_states=tuple(s for s in SS if _SHOP_STEP[s] == step),
        )
        for step in STEPS
    )


def _trend(
    regs: list[Registration], flow: Workflow, on: dt.date
) -> tuple[TrendPoint, ...]:
    """Certified agents at the end of each day, from the first event to *on*."""
    changes: dict[dt.date, list[int]] = {}
    first: dt.date | None = None
    for reg in regs:
        if not reg.history:
            continue
        started = cms_date(reg.history[0].at)
        first = started if first is None or started < first else first
        # Only an RCL listing certifies a track, and a listing once recorded
        # stays in the snapshot: a registration without one never was.
        if reg.individual_listing is None and reg.shop_listing is None:
            continue
        for day, track, delta in _certifications(reg, flow):
            column = changes.setdefault(day, [0, 0])
            column[0 if track is Track.INDIVIDUAL else 1] += delta
    if first is None or first > on:
        return ()
    points: list[TrendPoint] = []
    individual = shop = 0
    day = min(first, *changes) if changes else first
    while day <= on:
        i, s = changes.get(day, (0, 0))
        individual += i
        shop += s
        points.append(TrendPoint(day=day, individual=individual, shop=shop))
        day += dt.timedelta(days=1)
    return tuple(points)


def _certifications(
    reg: Registration, flow: Workflow
) -> Iterator[tuple[dt.date, Track, int]]:
    individual = shop = False
    for event, step in zip(reg.history, flow.replay_steps(reg.history), strict=True):
        now_individual = step.individual is IS.CERTIFIED
        now_shop = step.shop is SS.LISTED
        day = cms_date(event.at)
        if now_individual != individual:
            yield day, Track.INDIVIDUAL, 1 if now_individual else -1
        if now_shop != shop:
            yield day, Track.SHOP, 1 if now_shop else -1
        individual, shop = now_individual, now_shop
