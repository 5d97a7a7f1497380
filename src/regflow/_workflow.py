"""The public engine: start, check, apply, available, replay, diagram."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Sequence
from functools import cache
from typing import Any, Final

import attrs

from . import _events as ev
from ._effects import EFFECTS, clone
from ._errors import DefinitionError, NaiveDatetime, ReplayError, StepRefused
from ._guards import GUARDS, in_plan_year, not_before_start
from ._machine import Engine, build, machine_kwargs
from ._messages import Refusal
from ._records import Curriculum, NpnValidity, TerminationReason
from ._registration import Recorded, Registration
from ._rules import PlanYearRules

__all__ = ["Decision", "Workflow"]

_PROBE_ID: Final = "regflow-probe"


@attrs.frozen(slots=True)
class Decision:
    """What :meth:`Workflow.check` found: allowed, or every reason it is not."""

    refusals: tuple[Refusal, ...]

    @property
    def allowed(self) -> bool:
        """Whether the event may be applied now."""
        return not self.refusals

    def messages(self, locale: str = "en") -> tuple[str, ...]:
        """Every refusal's message in *locale*."""
        return tuple(r.message(locale) for r in self.refusals)

    def __bool__(self) -> bool:
        return not self.refusals


_ALLOWED: Final = Decision(())


@cache
def _engine() -> Engine:
    # One machine for every plan year: the topology does not change by year,
    # only the rules the guards and conditions read.
    return build()


@attrs.frozen(slots=True)
class Workflow:
    """The registration workflow of one plan year. Cheap to share; holds no agents.

    Build one with :meth:`for_plan_year`, or from your own :class:`PlanYearRules`.
    """

    rules: PlanYearRules
    _engine: Engine = attrs.field(factory=_engine, repr=False, alias="engine")

    @classmethod
    def for_plan_year(cls, plan_year: int) -> Workflow:
        """Return the workflow of *plan_year* (cached; raises RulesError if absurd)."""
        return _for_plan_year(plan_year)

    # -- starting --------------------------------------------------------------

    def start(self, event: ev.StartRegistration) -> Registration:
        """Return a new registration from its first event (S1, S2).

        The agent is enrolled in the Returning curriculum if it completed the
        previous plan year, else in the full Individual Marketplace one (S11).

        Raises:
            StepRefused: the event is for another plan year, or its prior year
                is not before the plan year.
        """
        refusals = self._guard(None, event)
        if refusals:
            raise StepRefused(refusals, None, event)
        return self._started(event)

    def _started(self, event: ev.StartRegistration) -> Registration:
        return Registration(
            agent_id=event.agent_id,
            portal_account_id=event.portal_account_id,
            plan_year=event.plan_year,
            prior_year=event.prior_year,
            enrollments=(self.rules.initial_enrollment(event.prior_year),),
            history=(Recorded(1, event),),
            version=1,
        )

    # -- deciding --------------------------------------------------------------

    def _guard(self, reg: Registration | None, event: ev.Event) -> tuple[Refusal, ...]:
        kind = event.kind
        found: tuple[Refusal, ...] = ()
        if reg is not None and not self._engine.allows(reg.state, kind):
            found = (
                Refusal("state.not_allowed", {"event": kind, "state": reg.state.value}),
            )
        rules = self.rules
        if not rules.in_window(event.at):
            # Refused for its time alone: the other guards count business
            # days from it, which could be anywhere in Python's calendar.
            return found + in_plan_year(reg, event, rules)
        if reg is not None:
            found += not_before_start(reg, event, rules)
        for guard in GUARDS[kind]:
            refusals = guard.check(reg, event, rules)  # type: ignore[arg-type]
            if refusals:
                found += refusals
        return found

    def check(self, reg: Registration, event: ev.Event) -> Decision:
        """Return whether *event* may be applied to *reg*, with every reason if not."""
        refusals = self._guard(reg, event)
        return Decision(refusals) if refusals else _ALLOWED

    def apply(self, reg: Registration, event: ev.Event) -> Registration:
        """Return the registration after *event*; *reg* itself never changes.

        Raises:
            StepRefused: carrying every refusal; nothing was changed.
        """
        refusals = self._guard(reg, event)
        if refusals:
            raise StepRefused(refusals, reg.state, event)
        changes = EFFECTS[event.kind](reg, event, self.rules)
        seq = reg.version + 1
        changes["history"] = (*reg.history, Recorded(seq, event))
        changes["version"] = seq
        new = clone(reg, changes)
        state = self._engine.fire(new, event, self.rules, reg.state)
        if state is not reg.state:
            object.__setattr__(new, "state", state)  # still private to this call
        return new

    def available(
        self, reg: Registration, *, at: dt.datetime | None = None
    ) -> tuple[type[ev.Event], ...]:
        """The event types some instance of which would be accepted now.

        Time-dependent guards (the RCL window, a launch's expiry) are judged at
        *at*, by default the time of the registration's last event: regflow
        never reads the clock.
        """
        if at is not None and (
            not isinstance(at, dt.datetime) or at.utcoffset() is None
        ):
            raise NaiveDatetime("at", at)
        when = at if at is not None else reg.history[-1].event.at
        if not self.rules.in_window(when):
            return ()  # every event would be refused for its time
        found: list[type[ev.Event]] = []
        for kind, cls in ev.EVENT_TYPES.items():
            if kind == ev.StartRegistration.kind or not self._engine.allows(
                reg.state, kind
            ):
                continue
            if any(
                not self._guard(reg, probe)
                for probe in _probes(reg, cls, when, self.rules)
            ):
                found.append(cls)
        return tuple(found)

    # -- the log ---------------------------------------------------------------

    def replay(self, history: Sequence[Recorded]) -> Registration:
        """Rebuild a registration from its history without evaluating guards.

        Raises:
            ReplayError: the history is empty, does not begin with
                StartRegistration, or its sequence numbers have a gap.
        """
        if not history:
            raise ReplayError("cannot replay an empty history")
        first = history[0]
        if first.seq != 1 or not isinstance(first.event, ev.StartRegistration):
            raise ReplayError(
                f"a history begins with StartRegistration at seq 1 (got "
                f"{type(first.event).__name__} at seq {first.seq})"
            )
        reg = self._started(first.event)
        engine, rules = self._engine, self.rules
        for recorded in history[1:]:
            event = recorded.event
            seq = reg.version + 1
            if recorded.seq != seq:
                raise ReplayError(
                    f"history has a gap: expected seq {seq}, got {recorded.seq}"
                )
            if not engine.allows(reg.state, event.kind):
                raise ReplayError(
                    f"seq {seq}: {event.kind!r} has no transition from {reg.state.value!r}"
                )
            changes = EFFECTS[event.kind](reg, event, rules)
            changes["history"] = (*reg.history, recorded)
            changes["version"] = seq
            new = clone(reg, changes)
            state = engine.route(new, event, rules, reg.state)
            if state is not reg.state:
                object.__setattr__(new, "state", state)
            reg = new
        return reg

    def diagram(self, *, title: str | None = None) -> str:
        """Return the machine as mermaid ``stateDiagram-v2`` text.

        Drawn by transitions' ``GraphMachine`` (mermaid engine, no Graphviz).
        """
        from transitions.extensions.diagrams import GraphMachine

        class _Drawing:
            """A throwaway model: GraphMachine draws through one."""

        machine = GraphMachine(
            model=_Drawing(),
            graph_engine="mermaid",
            show_conditions=True,
            title=title or f"regflow registration, plan year {self.rules.plan_year}",
            **machine_kwargs(self._engine.steps),
        )
        text = machine.get_combined_graph().draw(None)
        if not isinstance(text, str):  # draw(None) returns the text for mermaid
            raise DefinitionError("transitions' mermaid engine returned no text")
        return text


@cache
def _for_plan_year(plan_year: int) -> Workflow:
    return Workflow(PlanYearRules.for_year(plan_year))


def _probes(
    reg: Registration, cls: type[ev.Event], at: dt.datetime, rules: PlanYearRules
) -> Iterator[ev.Event]:
    """Candidate events of *cls*, one per meaningful choice of its fields."""
    base: dict[str, Any] = {"event_id": _PROBE_ID, "at": at}
    if cls is ev.SaveProfile:
        yield ev.SaveProfile(profile=reg.profile, **base)
    elif cls in (ev.EnrollCurriculum, ev.CompleteMlmsTraining):
        for curriculum in Curriculum:
            yield cls(curriculum=curriculum, **base)
    elif cls is ev.LaunchVendorTraining:
        later = at + dt.timedelta(days=3)
        for vendor in rules.approved_vendors:
            for curriculum in reg.enrollments:
                yield ev.LaunchVendorTraining(
                    vendor=vendor,
                    launch_id=_PROBE_ID,
                    curriculum=curriculum,
                    expires_at=later,
                    **base,
                )
    elif cls is ev.CompleteVendorTraining:
        if reg.launch is not None:
            yield ev.CompleteVendorTraining(
                vendor=reg.launch.vendor,
                launch_id=reg.launch.launch_id,
                agent_id=reg.agent_id,
                plan_year=reg.plan_year,
                **base,
            )
    elif cls in (ev.AcceptAgreement, ev.DeclineAgreement):
        for agreement in rules.required_agreements(reg.profile):
            yield cls(agreement=agreement, **base)
    elif cls is ev.ObserveRclListing:
        for validity in (NpnValidity.VALID, NpnValidity.INVALID):
            yield ev.ObserveRclListing(npn_valid=validity, **base)
    elif cls in (ev.Terminate, ev.Reinstate):
        yield cls(reason=TerminationReason.NON_COMPLIANCE, **base)
    else:
        yield cls(**base)
