"""The state-machine definition: data first, then one transitions ``Machine``.

The definition is a table of :class:`Step` rows. :func:`build` checks it (every
state reachable from the start, the goal reachable, no unknown state, event or
condition) and raises :class:`~regflow.DefinitionError` with the fix, then
builds one transitions ``Machine`` with no model. Registrations never become
transitions models: :class:`Engine` hands the machine a throwaway carrier for
the length of one call, so nothing is injected into a host's objects and
nothing accumulates between calls.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any, Final

import attrs
from transitions import Machine

from . import _events as ev
from ._errors import DefinitionError
from ._records import NpnValidity
from ._registration import Registration, State
from ._rules import PlanYearRules

__all__ = ["CONDITIONS", "STEPS", "Engine", "Step", "build"]

S = State
_AFTER_AGREEMENTS: Final = (S.REGISTERED, S.NPN_INVALID, S.ESCALATED, S.CERTIFIED)
_ON_LISTS: Final = (*_AFTER_AGREEMENTS, S.REINSTATED)


@attrs.frozen(slots=True)
class Step:
    """One row of the definition: on *event* from any of *sources*, go to *dest*
    (``None``: stay, an internal transition) if *condition* holds."""

    event: str
    sources: tuple[State, ...]
    dest: State | None = None
    condition: str | None = None


class _Carrier:
    """What transitions sees as the model for one call; it never outlives it."""

    __slots__ = ("event", "reg", "rules", "state")

    def __init__(
        self, state: State, reg: Registration, event: ev.Event, rules: PlanYearRules
    ) -> None:
        self.state = state
        self.reg = reg
        self.event = event
        self.rules = rules


Condition = Callable[[Registration, Any, PlanYearRules], bool]


def _training_done(reg: Registration, event: object, rules: PlanYearRules) -> bool:
    return reg.training_complete


def _training_only_done(reg: Registration, event: object, rules: PlanYearRules) -> bool:
    return reg.training_complete and not reg.is_agent


def _agreements_done(reg: Registration, event: object, rules: PlanYearRules) -> bool:
    return reg.registered_at is not None


def _npn_valid(
    reg: Registration, event: ev.ObserveRclListing, rules: PlanYearRules
) -> bool:
    return event.npn_valid is NpnValidity.VALID


CONDITIONS: Final[Mapping[str, Condition]] = {
    "training_done": _training_done,
    "training_only_done": _training_only_done,
    "agreements_done": _agreements_done,
    "npn_valid": _npn_valid,
}
"""Conditions that pick a destination; they read the registration *after* the
event's effect, so "the last curriculum completed" moves on at once."""

STEPS: Final[tuple[Step, ...]] = (
    Step("save_profile", (S.PROFILE_INCOMPLETE,)),
    Step("complete_profile", (S.PROFILE_INCOMPLETE,), S.TRAINING),
    Step("enroll_curriculum", (S.TRAINING,)),
    Step(
        "complete_mlms_training",
        (S.TRAINING,),
        S.TRAINING_COMPLETE,
        "training_only_done",
    ),
    Step(
        "complete_mlms_training", (S.TRAINING,), S.AGREEMENTS_PENDING, "training_done"
    ),
    Step("complete_mlms_training", (S.TRAINING,)),
    Step("launch_vendor_training", (S.TRAINING,), S.VENDOR_TRAINING),
    Step("complete_vendor_training", (S.VENDOR_TRAINING,), S.VENDOR_COMPLETED),
    Step(
        "portal_login", (S.VENDOR_COMPLETED,), S.TRAINING_COMPLETE, "training_only_done"
    ),
    Step("portal_login", (S.VENDOR_COMPLETED,), S.AGREEMENTS_PENDING, "training_done"),
    Step("portal_login", (S.VENDOR_COMPLETED,), S.TRAINING),
    Step("accept_agreement", (S.AGREEMENTS_PENDING,), S.REGISTERED, "agreements_done"),
    Step("accept_agreement", (S.AGREEMENTS_PENDING,)),
    Step("decline_agreement", (S.AGREEMENTS_PENDING,)),
    Step("print_certificate", _ON_LISTS),
    Step("confirm_tracker", _ON_LISTS),
    Step("observe_find_local_help", _ON_LISTS),
    Step("observe_rcl_listing", _ON_LISTS, S.CERTIFIED, "npn_valid"),
    Step("observe_rcl_listing", _ON_LISTS, S.NPN_INVALID),
    Step("contact_help_desk", (S.REGISTERED, S.ESCALATED), S.ESCALATED),
    Step("terminate", _ON_LISTS, S.TERMINATED),
    Step("reinstate", (S.TERMINATED,), S.REINSTATED),
)
"""The registration machine, as data. Rows of one event are tried in order."""

INITIAL: Final = S.PROFILE_INCOMPLETE
GOAL: Final = S.CERTIFIED

Route = tuple[State | None, Condition | None]


def check_definition(
    steps: Iterable[Step],
    *,
    states: Iterable[State] = State,
    events: Iterable[str] = ev.EVENT_TYPES,
    conditions: Mapping[str, Condition] = CONDITIONS,
    initial: State = INITIAL,
    goal: State = GOAL,
) -> None:
    """Raise :class:`DefinitionError` naming the fix if the definition is broken."""
    steps = tuple(steps)
    known_states = set(states)
    known_events = set(events) - {ev.StartRegistration.kind}
    problems: list[str] = []
    for number, step in enumerate(steps, 1):
        where = f"step {number} ({step.event})"
        if step.event not in known_events:
            problems.append(
                f"{where}: unknown event {step.event!r}; add an Event subclass with "
                "that kind to regflow.events or fix the name"
            )
        for state in (*step.sources, step.dest):
            if state is not None and state not in known_states:
                problems.append(f"{where}: unknown state {state!r}; add it to State")
        if step.condition is not None and step.condition not in conditions:
            problems.append(
                f"{where}: unknown condition {step.condition!r}; register it in "
                "CONDITIONS or remove it"
            )
    reachable = {initial}
    changed = True
    while changed:
        changed = False
        for step in steps:
            if (
                step.dest is not None
                and step.dest not in reachable
                and reachable.intersection(step.sources)
            ):
                reachable.add(step.dest)
                changed = True
    for state in sorted(known_states - reachable, key=lambda s: s.value):
        problems.append(
            f"state {state.value!r} is unreachable from {initial.value!r}: add a "
            f"step whose dest is {state.value!r} from a reachable state"
        )
    if goal not in reachable and goal in known_states:
        problems.append(f"the goal state {goal.value!r} cannot be reached")
    silent = known_events - {step.event for step in steps}
    for name in sorted(silent):
        problems.append(f"event {name!r} has no step: add one or drop the event")
    if problems:
        raise DefinitionError(
            "broken registration machine:\n  " + "\n  ".join(problems)
        )


def _transitions_spec(step: Step) -> dict[str, Any]:
    spec: dict[str, Any] = {
        "trigger": step.event,
        "source": list(step.sources),
        "dest": step.dest,
    }
    if step.condition is not None:
        condition = CONDITIONS[step.condition]

        def check(event_data: Any, _condition: Condition = condition) -> bool:
            carrier = event_data.model
            return _condition(carrier.reg, carrier.event, carrier.rules)

        check.__name__ = step.condition  # shown in the diagram
        spec["conditions"] = [check]
    return spec


@attrs.frozen(slots=True)
class Engine:
    """The built machine: the transitions ``Machine`` and a route table for replay."""

    machine: Any
    routes: Mapping[tuple[State, str], tuple[Route, ...]]
    steps: tuple[Step, ...]

    def allows(self, state: State, kind: str) -> bool:
        """Whether *kind* has a transition from *state* at all."""
        return (state, kind) in self.routes

    def fire(
        self, reg: Registration, event: ev.Event, rules: PlanYearRules, source: State
    ) -> State:
        """Run *event* through transitions from *source*; return the new state.

        *reg* is the registration after the event's effect, which conditions read.
        """
        carrier = _Carrier(source, reg, event, rules)
        if not self.machine.events[event.kind].trigger(carrier):
            raise DefinitionError(
                f"no transition for {event.kind!r} from {source.value!r} matched; "
                "give the last step of that event no condition"
            )
        state: State = carrier.state
        return state

    def route(
        self, reg: Registration, event: ev.Event, rules: PlanYearRules, source: State
    ) -> State:
        """The state *event* leads to, from the table: replay's fast path."""
        for dest, condition in self.routes[(source, event.kind)]:
            if condition is None or condition(reg, event, rules):
                return source if dest is None else dest
        raise DefinitionError(f"no route for {event.kind!r} from {source.value!r}")


def machine_kwargs(steps: tuple[Step, ...]) -> dict[str, Any]:
    """The keyword arguments that build a transitions machine of *steps*."""
    return {
        "states": list(State),
        "transitions": [_transitions_spec(step) for step in steps],
        "initial": INITIAL,
        "auto_transitions": False,
        "send_event": True,
        "ignore_invalid_triggers": False,
    }


def build(steps: tuple[Step, ...] = STEPS) -> Engine:
    """Check *steps* and build the shared engine for them."""
    check_definition(steps)
    machine = Machine(model=None, **machine_kwargs(steps))
    routes: dict[tuple[State, str], list[Route]] = {}
    for step in steps:
        condition = None if step.condition is None else CONDITIONS[step.condition]
        for source in step.sources:
            routes.setdefault((source, step.event), []).append((step.dest, condition))
    for (source, kind), options in routes.items():
        if options[-1][1] is not None:
            raise DefinitionError(
                f"event {kind!r} from {source.value!r} can match no step: give its "
                "last step no condition"
            )
    frozen = {key: tuple(value) for key, value in routes.items()}
    return Engine(machine=machine, routes=frozen, steps=steps)
