"""Reconciling registrations with CMS's public lists (S18-S22).

Given our registrations and a pass over the RCL (and, optionally, the
termination list), say for each registration what the lists show, and which
events would bring it up to date:

- listed with NPN Valid ``Y``: certified (Individual and SHOP separately, with
  their completion dates);
- listed with ``N``: flagged, not certified;
- listed with ``-``, how the RCL shows every earlier plan year: certified for
  that year, like ``Y`` (see ``NpnValidity.certifies``); a ``-`` for a plan
  year not yet begun, which cannot be an earlier one, is flagged;
- not listed and not yet due: waiting; not listed and past due: overdue, with
  the help-desk escalation (S22);
- terminated for the plan year: terminated; reinstated when an R row lifts it.
  A termination stands until then, whatever the RCL says;
- a listing for a registration whose agreements we never saw: a discrepancy.

NPNs on the lists with no registration of ours are ignored (the readers count
them as ``filtered_out`` when given our NPNs). Events get ids derived from the
list row and from how many events of that list the registration already has,
so a listing seen again after another (``Y``, ``N``, then ``Y``) is a new
event, while running again on the same file proposes the same ids. None is
proposed when the registration already shows the row, so reconciling twice
proposes nothing the second time.
"""

from __future__ import annotations

import datetime as dt
import enum
from collections.abc import Iterable
from typing import Any, Final

import attrs

from .. import _events as ev
from .._calendar import add_business_days, check_day, cms_date
from .._deadlines import Escalation, rcl_escalation
from .._messages import Refusal
from .._records import Confirmation, NpnValidity
from .._registration import Registration
from .._rules import PlanYearRules
from .._states import IndividualState as State
from .._states import ShopState
from ._cells import RowProblem
from ._rcl import RclRow
from ._termination import TerminationAction, TerminationRow

__all__ = ["Finding", "Outcome", "Reconciliation", "reconcile"]

_LISTABLE: Final = frozenset(
    {
        State.REGISTERED,
        State.NPN_INVALID,
        State.ESCALATED,
        State.CERTIFIED,
        State.REINSTATED,
    }
)
_BEFORE_AGREEMENTS: Final = frozenset(
    {
        State.PROFILE_INCOMPLETE,
        State.TRAINING,
        State.VENDOR_TRAINING,
        State.VENDOR_COMPLETED,
        State.AGREEMENTS_PENDING,
    }
)
_WAITING: Final = frozenset({State.REGISTERED, State.ESCALATED})
_SHOP_LISTABLE: Final = frozenset(
    {
        ShopState.REGISTERED,
        ShopState.NPN_INVALID,
        ShopState.LISTED,
        ShopState.REINSTATED,
    }
)
_TERMINATION_EVENTS: Final = (ev.Terminate, ev.Reinstate)


class Outcome(enum.Enum):
    """What the lists say about one registration."""

    CERTIFIED = "certified"
    FLAGGED = "flagged"
    WAITING = "waiting"
    OVERDUE = "overdue"
    TERMINATED = "terminated"
    REINSTATED = "reinstated"
    DISCREPANCY = "discrepancy"
    IN_PROGRESS = "in_progress"
    NOT_APPLICABLE = "not_applicable"
    REFUSED = "refused"
    UNREADABLE = "unreadable"


_ACTION: Final = frozenset(
    {
        Outcome.OVERDUE,
        Outcome.FLAGGED,
        Outcome.DISCREPANCY,
        Outcome.REFUSED,
        Outcome.UNREADABLE,
    }
)


@attrs.frozen(kw_only=True, slots=True)
class Finding:
    """One registration's standing on the lists, and the event that records it."""

    agent_id: str
    plan_year: int
    npn: str | None
    state: State
    outcome: Outcome
    individual_completion: dt.date | None = None
    shop_completion: dt.date | None = None
    individual_certified: bool = False
    shop_certified: bool = False
    due: dt.date | None = None
    escalation: Escalation | None = None
    event: ev.Event | None = None
    line: int | None = None
    detail: str = ""
    agency_id: str | None = None
    refusals: tuple[Refusal, ...] = ()
    problems: tuple[RowProblem, ...] = ()

    @property
    def needs_action(self) -> bool:
        """Whether someone has to act: an outcome that needs action, or a
        skipped row of this agent's even when a readable one decided."""
        return self.outcome in _ACTION or bool(self.problems)


@attrs.frozen(kw_only=True, slots=True)
class Reconciliation:
    """Every finding, in the order of the registrations given."""

    on: dt.date
    findings: tuple[Finding, ...]

    def by_outcome(self, outcome: Outcome) -> tuple[Finding, ...]:
        """The findings with *outcome*."""
        return tuple(f for f in self.findings if f.outcome is outcome)

    def counts(self) -> dict[Outcome, int]:
        """How many findings of each outcome (every outcome present, maybe 0)."""
        found = dict.fromkeys(Outcome, 0)
        for finding in self.findings:
            found[finding.outcome] += 1
        return found

    @property
    def events(self) -> tuple[tuple[Finding, ev.Event], ...]:
        """The events to apply, each with its finding."""
        return tuple((f, f.event) for f in self.findings if f.event is not None)

    @property
    def needs_action(self) -> bool:
        """Whether anything is overdue, flagged, a discrepancy, refused or unreadable."""
        return any(f.needs_action for f in self.findings)


def _better(new: RclRow, old: RclRow | None) -> bool:
    # Several rows for one NPN and year: a valid listing wins, then the later line.
    if old is None:
        return True
    new_valid = new.npn_valid is not NpnValidity.INVALID
    old_valid = old.npn_valid is not NpnValidity.INVALID
    return new_valid > old_valid or (new_valid == old_valid and new.line > old.line)


def _acted_on(row: TerminationRow) -> tuple[dt.date, int]:
    # The latest action decides: a lifted termination is dated by the lift.
    return (row.reinstated_on or row.terminated_on or dt.date.min, row.line)


def _seen(reg: Registration, kinds: type[ev.Event] | tuple[type[ev.Event], ...]) -> int:
    # The list row alone is not a fact's identity: Y, N, then Y again repeats
    # the first row, and reusing its id would make the store refuse the event
    # (or, recorded the same day, drop it as a resend). Counting the events of
    # that list already recorded tells the third listing from the first, and
    # stays the same when a run is repeated before its events are recorded.
    return sum(1 for event in reg.history if isinstance(event, kinds))


def reconcile(
    registrations: Iterable[Registration],
    *,
    rcl: Iterable[RclRow],
    termination: Iterable[TerminationRow] = (),
    on: dt.date,
    rules: type[PlanYearRules] | None = None,
) -> Reconciliation:
    """Compare *registrations* with the lists as of the date *on*.

    The lists are read once, keeping only rows whose NPN and plan year belong
    to one of the registrations, so the memory used grows with the
    registrations, not with the files.
    """
    on = check_day(on, "on")
    rules_for = (rules or PlanYearRules).for_year
    regs = list(registrations)
    # One rules object per plan year, not one per registration.
    year_rules = {year: rules_for(year) for year in {r.plan_year for r in regs}}
    wanted = {(r.npn.value, r.plan_year) for r in regs if r.npn is not None}
    listed: dict[tuple[str, int], RclRow] = {}
    for row in rcl:
        key = (row.npn, row.plan_year)
        if key in wanted and _better(row, listed.get(key)):
            listed[key] = row
    ended: dict[tuple[str, int], TerminationRow] = {}
    for trow in termination:
        key = (trow.npn, trow.plan_year)
        if key in wanted:
            old = ended.get(key)
            if old is None or _acted_on(trow) >= _acted_on(old):
                ended[key] = trow
    stamp = dt.datetime.combine(on, dt.time(12), tzinfo=dt.timezone.utc)
    findings = tuple(
        _finding(reg, listed, ended, on, stamp, year_rules[reg.plan_year])
        for reg in regs
    )
    return Reconciliation(on=on, findings=findings)


def _found(reg: Registration, npn: str | None, state: State, **fields: Any) -> Finding:
    return Finding(
        agent_id=reg.agent_id,
        plan_year=reg.plan_year,
        npn=npn,
        state=state,
        agency_id=reg.agency_id,
        **fields,
    )


def _finding(
    reg: Registration,
    listed: dict[tuple[str, int], RclRow],
    ended: dict[tuple[str, int], TerminationRow],
    on: dt.date,
    stamp: dt.datetime,
    rules: PlanYearRules,
) -> Finding:
    # Runs once per registration: each branch builds its Finding in one call,
    # as attrs.evolve of a base costs a second construction and a pass over
    # the fields.
    number = reg.npn
    npn = number.value if number is not None else None
    state = reg.individual
    if npn is None or not reg.is_agent:
        return _found(
            reg,
            npn,
            state,
            outcome=Outcome.NOT_APPLICABLE,
            detail="no NPN to look up",
        )
    key = (npn, reg.plan_year)
    trow = ended.get(key) if ended else None
    if trow is not None:
        base = _found(
            reg,
            npn,
            state,
            outcome=Outcome.NOT_APPLICABLE,
        )
        judged = _terminated(reg, trow, stamp, base)
        row = listed.get(key)
        # A lifted termination with nothing left to lift: a reinstated track
        # is certified again only by the RCL, so the listing decides the rest.
        lifted = (
            trow.action is TerminationAction.REINSTATED
            and judged.event is None
            and judged.outcome is Outcome.REINSTATED
        )
        if not lifted or row is None:
            return judged
    else:
        row = listed.get(key)
    if row is None:
        return _unlisted(reg, npn, state, on, rules)
    if state is State.TERMINATED:
        # A termination stands until the termination list lifts it, and that
        # list was not given or does not lift it: an RCL listing (which may
        # predate the termination) certifies nothing.
        return _found(
            reg,
            npn,
            state,
            outcome=Outcome.TERMINATED,
            line=row.line,
            detail=(
                f"listed on the RCL (line {row.line}) but terminated; only a "
                "reinstatement on the termination list lifts it"
            ),
        )
    if state in _BEFORE_AGREEMENTS:
        return _found(
            reg,
            npn,
            state,
            outcome=Outcome.DISCREPANCY,
            line=row.line,
            detail=f"listed on the RCL (line {row.line}) but we never saw the agreements",
            individual_completion=row.individual_completion,
            shop_completion=row.shop_completion,
        )
    flag = row.npn_valid
    valid = flag.certifies(reg.plan_year, on)
    event: ev.Event | None = None
    # The SHOP dates reach the SHOP track only once its agreement is
    # accepted; before that the workflow would refuse the whole listing.
    shop_listed = row.shop_completion is not None and reg.shop in _SHOP_LISTABLE
    # A reinstated track holds its old listing, but only a new observation
    # of the RCL certifies it again.
    reinstated = state is State.REINSTATED or (
        shop_listed and reg.shop is ShopState.REINSTATED
    )
    shown = (
        not reinstated
        and _shows(
            reg.individual_listing, flag, row.individual_completion, row.individual_end
        )
        and (
            not shop_listed
            or _shows(reg.shop_listing, flag, row.shop_completion, row.shop_end)
        )
    )
    if state in _LISTABLE and not shown and (valid or flag is NpnValidity.INVALID):
        nth = _seen(reg, ev.ObserveRclListing) + 1
        shop_on = row.shop_completion if shop_listed else None
        event = ev.ObserveRclListing(
            event_id=(
                f"rcl:{reg.plan_year}:{npn}:{nth}:{flag.value}:"
                f"{row.individual_completion}:{shop_on}"
            ),
            at=stamp,
            npn_valid=flag,
            individual_completion=row.individual_completion,
            individual_end=row.individual_end,
            shop_completion=shop_on,
            shop_end=row.shop_end if shop_listed else None,
        )
    return _found(
        reg,
        npn,
        state,
        outcome=Outcome.CERTIFIED if valid else Outcome.FLAGGED,
        individual_completion=row.individual_completion,
        shop_completion=row.shop_completion,
        individual_certified=valid and row.individual_completion is not None,
        shop_certified=valid and row.shop_completion is not None,
        event=event,
        line=row.line,
        detail="" if valid else f"NPN Valid is {flag.value!r} on the RCL",
    )


def _shows(listing: Any, flag: NpnValidity, completed: Any, ends: Any) -> bool:
    return listing is not None and (
        listing.npn_valid,
        listing.completed_on,
        listing.ends_on,
    ) == (flag, completed, ends)


def _terminated(
    reg: Registration,
    trow: TerminationRow,
    stamp: dt.datetime,
    base: Finding,
) -> Finding:
    event: ev.Event | None = None
    markets = trow.marketplaces
    # Each track the row covers is judged on its own: a SHOP row ends or
    # lifts SHOP only, and a track already ended (or lifted) is not proposed
    # again, so reconciling twice proposes nothing.
    individual = markets.individual
    shop = markets.shop and reg.shop is not ShopState.NOT_TAKEN
    if not individual and not shop:
        return attrs.evolve(
            base,
            outcome=Outcome.DISCREPANCY,
            line=trow.line,
            detail=(
                f"status {trow.status.code} on the termination list covers SHOP, "
                "which this agent never took"
            ),
        )
    if trow.action is TerminationAction.TERMINATED:
        live = (individual and reg.individual in _LISTABLE) or (
            shop and reg.shop in _SHOP_LISTABLE
        )
        if live:
            event = ev.Terminate(
                event_id=_termination_id(reg, trow),
                at=stamp,
                reason=trow.reason,
                marketplaces=markets,
            )
        outcome = Outcome.TERMINATED
    else:
        ended = (individual and reg.individual is State.TERMINATED) or (
            shop and reg.shop is ShopState.TERMINATED
        )
        if ended:
            event = ev.Reinstate(
                event_id=_termination_id(reg, trow),
                at=stamp,
                reason=trow.reason,
                marketplaces=markets,
            )
        outcome = Outcome.REINSTATED
    return attrs.evolve(
        base,
        outcome=outcome,
        event=event,
        line=trow.line,
        detail=f"status {trow.status.code} on the termination list",
    )


def _termination_id(reg: Registration, trow: TerminationRow) -> str:
    when, _ = _acted_on(trow)
    nth = _seen(reg, _TERMINATION_EVENTS) + 1
    return (
        f"term:{reg.plan_year}:{trow.npn}:{nth}:{trow.status.code}:{when.isoformat()}"
    )


def _unlisted(
    reg: Registration, npn: str, state: State, on: dt.date, rules: PlanYearRules
) -> Finding:
    if state in _BEFORE_AGREEMENTS:
        outcome = Outcome.IN_PROGRESS
    elif state is State.TERMINATED:
        outcome = Outcome.TERMINATED
    elif state in _WAITING:
        return _waiting(reg, npn, state, on, rules)
    else:
        # Certified or flagged earlier, and not on this file: say so, change nothing.
        return _found(
            reg,
            npn,
            state,
            outcome=Outcome.CERTIFIED if state is State.CERTIFIED else Outcome.FLAGGED,
            detail="not on this RCL file; keeping the earlier listing",
        )
    return _found(
        reg,
        npn,
        state,
        outcome=outcome,
    )


def _waiting(
    reg: Registration, npn: str, state: State, on: dt.date, rules: PlanYearRules
) -> Finding:
    # The RCL deadline of regflow.deadlines() and the escalation of
    # regflow.overdue(), without the Tracker's and Find Local Help's, which
    # reconcile does not report.
    registered = reg.individual_registered_at
    if registered is None:  # pragma: no cover - registered implies agreements
        return _found(
            reg,
            npn,
            state,
            outcome=Outcome.WAITING,
        )
    registered_on = cms_date(registered)
    due = add_business_days(registered_on, rules.rcl_days)
    if on <= due:
        return _found(
            reg,
            npn,
            state,
            outcome=Outcome.WAITING,
            due=due,
        )
    escalation = None
    if not any(c.kind is Confirmation.RCL for c in reg.confirmations):
        escalation = rcl_escalation(reg, rules, registered_on, due)
    return _found(
        reg,
        npn,
        state,
        outcome=Outcome.OVERDUE,
        due=due,
        escalation=escalation,
        detail="escalated to the help desk" if state is State.ESCALATED else "",
    )
