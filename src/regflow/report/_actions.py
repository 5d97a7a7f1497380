"""Who needs action, and why: the report's groups, built one registration at a time.

A registration needs action when a confirmation is late (the RCL with the
help-desk email ready, S22), a track is on the RCL with the NPN not valid
or terminated, the lists disagree with the store, or steps are left: then
``Workflow.explain`` says whether the next milestone is refused, and why.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
from pathlib import Path
from typing import Final

import attrs

from .. import _events as ev
from .._calendar import CMS_TIME
from .._deadlines import Overdue, overdue
from .._explain import Menu
from .._messages import label
from .._records import Confirmation
from .._registration import Registration
from .._states import Actor, IndividualState, ShopState, Status, Track
from .._workflow import Workflow
from ..store import Repository
from ._texts import text

__all__ = [
    "ActionGroup",
    "ActionItem",
    "AuditedList",
    "Groups",
    "act",
    "reconcile_lists",
]

IS, SS = IndividualState, ShopState

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


# -- who needs action ------------------------------------------------------------


class Groups:
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


def act(
    reg: Registration, flow: Workflow, on: dt.date, locale: str, groups: Groups
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
    reg: Registration, late: Overdue, locale: str, groups: Groups
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
            next_step=text(f"next.{late.kind.value}", locale),
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
    reg: Registration, flow: Workflow, on: dt.date, locale: str, groups: Groups
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


def reconcile_lists(
    repo: Repository,
    plan_year: int,
    on: dt.date,
    rcl: str | os.PathLike[str],
    termination: str | os.PathLike[str] | None,
    groups: Groups,
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
        groups.add(
            "lists",
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
            ),
        )
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
