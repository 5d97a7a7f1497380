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
import hashlib
import os
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Final

import attrs

from .. import _events as ev
from .._calendar import CMS_TIME, business_days_between, check_day, cms_date
from .._deadlines import Overdue, overdue
from .._errors import InvalidValue
from .._explain import Menu
from .._messages import label, locales
from .._records import Confirmation
from .._registration import Registration
from .._states import Actor, IndividualState, ShopState, Status, Track
from .._workflow import Workflow
from ..store import ANY_AGENCY, Repository
from ._texts import text

__all__ = [
    "STEPS",
    "ActionGroup",
    "ActionItem",
    "AuditedList",
    "FunnelStep",
    "Readiness",
    "TrendPoint",
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

# The event that moves a track out of each step before its agreements: its
# refusals, from explain, are what holds the agent up.
_MILESTONE: Final[dict[IndividualState | ShopState, type[ev.Event]]] = {
    IS.PROFILE_INCOMPLETE: ev.CompleteProfile,
    IS.TRAINING: ev.CompleteMlmsTraining,
    IS.VENDOR_TRAINING: ev.CompleteVendorTraining,
    IS.VENDOR_COMPLETED: ev.PortalLogin,
    IS.AGREEMENTS_PENDING: ev.AcceptAgreement,
    SS.PROFILE_INCOMPLETE: ev.CompleteProfile,
    SS.TRAINING: ev.CompleteMlmsTraining,
    SS.AGREEMENT_PENDING: ev.AcceptAgreement,
}
_REASON_ORDER: Final = (
    "rcl_overdue",
    "npn_invalid",
    "terminated",
    "confirmation_overdue",
    "lists",
    "refused",
    "next_step",
)


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
class ActionItem:
    """One agent that needs someone to act, and what to do next.

    Attributes:
        track: the track concerned (``None``: the registration as a whole).
        detail: why, in the report's locale.
        next_step: what to do, in the report's locale.
        refusals: the codes of explain's refusals that hold the agent up.
        mailto: the help-desk email, ready to send (a late RCL listing).
    """

    agent_id: str
    agency_id: str | None
    plan_year: int
    npn: str | None
    track: Track | None
    detail: str
    next_step: str
    refusals: tuple[str, ...] = ()
    due: dt.date | None = None
    business_days_late: int | None = None
    mailto: str | None = None


@attrs.frozen(kw_only=True, slots=True)
class ActionGroup:
    """The agents that need action for one reason.

    Attributes:
        reason: ``rcl_overdue``, ``npn_invalid``, ``terminated``,
            ``confirmation_overdue``, ``lists``, ``refused`` (one group per
            refusal code) or ``next_step``.
        code: the refusal code of a ``refused`` group.
        title: the reason in the report's locale.
    """

    reason: str
    code: str | None
    title: str
    items: tuple[ActionItem, ...]


@attrs.frozen(kw_only=True, slots=True)
class AuditedList:
    """A list file the report was reconciled against, as read.

    Attributes:
        file: its name; ``path`` as given.
        read, kept, skipped, ignored: rows read, rows of our agents, rows
            skipped as malformed, rows of other portals' agents.
        modified: the file's modification time (UTC).
    """

    kind: str
    file: str
    path: str
    read: int
    kept: int
    skipped: int
    ignored: int
    modified: dt.datetime
    size: int
    sha256: str


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
        rcl, termination: list files to reconcile against (a repository
            only); nothing is recorded.

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
    groups = _Groups(locale)
    lists: tuple[AuditedList, ...] = ()
    proposals = 0
    if rcl is not None:
        assert isinstance(source, Repository)
        lists, proposals = _reconcile(source, plan_year, on, rcl, termination, groups)
    for reg in regs:
        _act(reg, flow, on, locale, groups)
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


# -- who needs action ------------------------------------------------------------


class _Groups:
    """Action items by reason, built up one registration at a time."""

    def __init__(self, locale: str) -> None:
        self.locale = locale
        self.items: dict[tuple[str, str | None], list[ActionItem]] = {}
        self.titles: dict[tuple[str, str | None], str] = {}
        self.seen: set[tuple[str, str | None, str]] = set()

    def add(
        self, reason: str, item: ActionItem, code: str | None = None, **params: str
    ) -> None:
        key = (reason, code)
        self.items.setdefault(key, []).append(item)
        self.titles.setdefault(key, text(f"reason.{reason}", self.locale, **params))
        self.seen.add((reason, item.agency_id, item.agent_id))

    def has(self, reason: str, reg: Registration) -> bool:
        return (reason, reg.agency_id, reg.agent_id) in self.seen

    def agents(self) -> int:
        return len({(agency, agent) for _, agency, agent in self.seen})

    def build(self) -> tuple[ActionGroup, ...]:
        def order(key: tuple[str, str | None]) -> tuple[int, int, str]:
            reason, code = key
            return (_REASON_ORDER.index(reason), -len(self.items[key]), code or "")

        return tuple(
            ActionGroup(
                reason=key[0],
                code=key[1],
                title=self.titles[key],
                items=tuple(self.items[key]),
            )
            for key in sorted(self.items, key=order)
        )


def _item(reg: Registration, track: Track | None, **fields: object) -> ActionItem:
    return ActionItem(
        agent_id=reg.agent_id,
        agency_id=reg.agency_id,
        plan_year=reg.plan_year,
        npn=reg.npn.value if reg.npn is not None else None,
        track=track,
        **fields,  # type: ignore[arg-type]
    )


def _act(
    reg: Registration, flow: Workflow, on: dt.date, locale: str, groups: _Groups
) -> None:
    if reg.status is Status.TRAINING_COMPLETE:
        return
    for late in overdue([reg], on=on, rules=lambda _: flow.rules):
        _overdue_item(reg, late, locale, groups)
    for track, state in ((Track.INDIVIDUAL, reg.individual), (Track.SHOP, reg.shop)):
        name = label("track", track.value, locale)
        if state in (IS.NPN_INVALID, SS.NPN_INVALID):
            npn = reg.npn.value if reg.npn is not None else "-"
            groups.add(
                "npn_invalid",
                _item(
                    reg,
                    track,
                    detail=label("state", "npn_invalid", locale),
                    next_step=text("next.npn_invalid", locale, npn=npn),
                ),
            )
        elif state in (IS.TERMINATED, SS.TERMINATED):
            record = reg.track(track).termination
            reason = (
                "" if record is None else label("reason", record.reason.value, locale)
            )
            groups.add(
                "terminated",
                _item(
                    reg,
                    track,
                    detail=text("detail.terminated", locale, track=name, reason=reason),
                    next_step=text("next.terminated", locale, track=name),
                ),
            )
    if reg.status is Status.IN_PROGRESS:
        _steps_left(reg, flow, on, locale, groups)


def _overdue_item(
    reg: Registration, late: Overdue, locale: str, groups: _Groups
) -> None:
    kind = text(f"kind.{late.kind.value}", locale)
    detail = text(
        "detail.overdue",
        locale,
        kind=kind,
        due=late.due.isoformat(),
        days=late.business_days_late,
    )
    fields: dict[str, object] = {
        "due": late.due,
        "business_days_late": late.business_days_late,
    }
    if late.kind is Confirmation.RCL and late.track is Track.INDIVIDUAL:
        if late.escalated:
            detail += "; " + text("detail.escalated", locale)
            step = text("next.escalated", locale)
        elif late.escalation is not None:
            step = text("next.rcl_overdue", locale, to=late.escalation.to)
            fields["mailto"] = late.escalation.mailto(locale)
        else:  # no NPN to write about: the profile has none
            step = text("next.npn_invalid", locale, npn="-")
        groups.add(
            "rcl_overdue",
            _item(reg, late.track, detail=detail, next_step=step, **fields),
        )
        return
    groups.add(
        "confirmation_overdue",
        _item(
            reg,
            late.track,
            detail=detail,
            next_step=text("next.confirmation", locale, kind=kind),
            **fields,
        ),
    )


def _explain_at(reg: Registration, on: dt.date) -> dt.datetime:
    # Noon in CMS time on the report's day, but never before the last event:
    # guards are judged then, and nothing happens before what is logged.
    noon = dt.datetime.combine(on, dt.time(12), tzinfo=CMS_TIME)
    if reg.history and reg.history[-1].at > noon:
        return reg.history[-1].at
    return noon


def _steps_left(
    reg: Registration, flow: Workflow, on: dt.date, locale: str, groups: _Groups
) -> None:
    state: IndividualState | ShopState = reg.individual
    track = Track.INDIVIDUAL
    if state not in _MILESTONE:
        state, track = reg.shop, Track.SHOP
    milestone = _MILESTONE.get(state)
    if milestone is None:  # pragma: no cover - in progress has a step left
        return
    menu: Menu = flow.explain(reg, at=_explain_at(reg, on), locale=locale)
    option = menu.option(milestone)
    detail = label(
        "state",
        state.value if track is Track.INDIVIDUAL else f"shop.{state.value}",
        locale,
    )
    if option.allowed:
        groups.add(
            "next_step",
            _item(
                reg,
                track,
                detail=detail,
                next_step=text("next.step", locale, label=option.label),
            ),
        )
        return
    first = option.refusals[0]
    message = option.messages[0]
    # What the agent (or the portal, for them) can send now; erasing the
    # contact details is always allowed and never a step of registration.
    doable = [
        o
        for o in menu.allowed
        if o.actor is not Actor.LISTS and o.event is not ev.EraseContactDetails
    ]
    step = text("next.step", locale, label=doable[0].label) if doable else message
    groups.add(
        "refused",
        _item(
            reg,
            track,
            detail=f"{option.label}: " + " ".join(option.messages),
            next_step=step,
            refusals=tuple(r.code for r in option.refusals),
        ),
        code=first.code,
        message=message,
    )


# -- the lists -------------------------------------------------------------------


def _reconcile(
    repo: Repository,
    plan_year: int,
    on: dt.date,
    rcl: str | os.PathLike[str],
    termination: str | os.PathLike[str] | None,
    groups: _Groups,
) -> tuple[tuple[AuditedList, ...], int]:
    from ..lists import Outcome, plan

    found = plan(repo, rcl=rcl, termination=termination, on=on)
    locale = groups.locale
    audited = tuple(
        _audited(f.kind, f.file, f.read, f.kept, f.skipped, f.ignored)
        for f in found.files
    )
    for finding in found.findings:
        if finding.plan_year != plan_year or not finding.needs_action:
            continue
        if finding.outcome is Outcome.OVERDUE:
            continue  # the store's own deadlines report it, with its email
        if finding.outcome is Outcome.FLAGGED and finding.state is IS.NPN_INVALID:
            continue  # recorded already: the npn_invalid group has it
        groups.items.setdefault(("lists", None), []).append(
            ActionItem(
                agent_id=finding.agent_id,
                agency_id=finding.agency_id,
                plan_year=finding.plan_year,
                npn=finding.npn,
                track=None,
                detail=f"{finding.outcome.value}: {finding.detail}".rstrip(": "),
                next_step=text("next.lists", locale),
                refusals=tuple(r.code for r in finding.refusals),
                due=finding.due,
            )
        )
        groups.titles.setdefault(("lists", None), text("reason.lists", locale))
        groups.seen.add(("lists", finding.agency_id, finding.agent_id))
    proposals = sum(1 for p in found.proposals if p.plan_year == plan_year)
    return audited, proposals


def _audited(
    kind: str, path: str, read: int, kept: int, skipped: int, ignored: int
) -> AuditedList:
    file = Path(path)
    digest = hashlib.sha256()
    with file.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    stat = file.stat()
    return AuditedList(
        kind=kind,
        file=file.name,
        path=path,
        read=read,
        kept=kept,
        skipped=skipped,
        ignored=ignored,
        modified=dt.datetime.fromtimestamp(int(stat.st_mtime), dt.UTC),
        size=stat.st_size,
        sha256=digest.hexdigest(),
    )
