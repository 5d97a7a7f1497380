"""The alternatives ``lifecycle.py`` times regflow against, built from the catalog.

Each is the same machine as regflow's: every state, step and destination
condition comes from :data:`regflow._catalog.CATALOG`; nothing here is a
hand-written table. Each runs the same guard objects and the same effects
as regflow, on one real ``Registration`` per agent that it updates in place
(see ``lifecycle.py``'s docstring for the rules they follow).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, Final

from statemachine import State as PsmState
from statemachine import StateMachine
from transitions import Machine
from transitions.extensions import HierarchicalMachine
from transitions.extensions.nesting import NestedState

import regflow
from regflow import events as ev
from regflow._catalog import BY_TYPE, CATALOG, COMMON_GUARDS, INITIAL, TRACK_STATES
from regflow._catalog._spec import EventSpec, Step
from regflow._machine import _track_kwargs, drawing_kwargs
from regflow._registration import Registration
from regflow._states import IndividualState, ShopState, Track

PLAN_YEAR: Final = 2024
FLOW: Final = regflow.Workflow.for_plan_year(PLAN_YEAR)
RULES: Final = FLOW.rules
IND, SHOP = Track.INDIVIDUAL, Track.SHOP
IN_PLAN_YEAR, NOT_BEFORE_START = COMMON_GUARDS
START: Final = BY_TYPE[ev.StartRegistration]

_set = object.__setattr__

Lifecycle = tuple[ev.StartRegistration, tuple[ev.Event, ...]]


class Refused(Exception):
    """A guard or an engine refused an event of the lifecycle: the benchmark is broken."""


def begin(event: ev.StartRegistration) -> Registration:
    """What the alternatives start from: the start's guards, then a bare snapshot.

    As ``Workflow.start``: the window guard, the start's own guards (no
    previous registration), and the fields ``Workflow._started`` sets. The
    history is a list the alternatives append each event to, in place: the
    guards read it (S7's ``profile_saved``, ``not_before_start``'s start).
    """
    if IN_PLAN_YEAR.check(None, event, RULES):
        raise Refused(event.kind)
    for guard in START.guards:
        if guard.check(None, event, RULES):
            raise Refused(event.kind)
    fields: dict[str, Any] = {
        "agent_id": event.agent_id,
        "portal_account_id": event.portal_account_id,
        "plan_year": event.plan_year,
        "agency_id": event.agency_id,
        "prior_year": event.prior_year,
        "enrollments": (RULES.initial_enrollment(event.prior_year),),
        "history": [event],
    }
    if event.profile is not None:
        fields["profile"] = event.profile
    return Registration(**fields)


# -- transitions: one shared flat Machine per track ---------------------------------

# Exactly regflow's machines (same states, transitions, conditions and
# options), but each stores its state in its own attribute, so that one
# object per agent carries both tracks.
TRANSITIONS_KWARGS: Final = {
    IND: {**_track_kwargs(CATALOG, IND), "model_attribute": "individual"},
    SHOP: {**_track_kwargs(CATALOG, SHOP), "model_attribute": "shop"},
}
SHARED: Final = {
    track: Machine(model=None, **kwargs) for track, kwargs in TRANSITIONS_KWARGS.items()
}


class SlimAgent:
    """The model both shared machines see: a state per track, the data, the event.

    ``rules`` is there because regflow's conditions read it from the model
    (its carrier has it too).
    """

    __slots__ = ("event", "individual", "reg", "rules", "shop")

    def __init__(self, reg: Registration) -> None:
        self.individual = INITIAL[IND]
        self.shop = INITIAL[SHOP]
        self.reg = reg
        self.rules = RULES
        self.event: ev.Event | None = None


def run_bare_transitions(lifecycles: Sequence[Lifecycle]) -> list[Any]:
    """The two shared machines; one slotted model object per agent."""
    by_type, rules, nbs = BY_TYPE, RULES, NOT_BEFORE_START.check
    in_window = rules.in_window
    ind_events, shop_events = SHARED[IND].events, SHARED[SHOP].events
    out: list[Any] = []
    for first, rest in lifecycles:
        reg = begin(first)
        history: list[ev.Event] = reg.history  # type: ignore[assignment]
        agent = SlimAgent(reg)
        for event in rest:
            spec = by_type[type(event)]
            targets = spec.targets(reg, event, rules)
            if not in_window(event.at) or nbs(reg, event, rules):
                raise Refused(event.kind)
            for guard in spec.guards:
                if guard.check(reg, event, rules):
                    raise Refused(event.kind)
            for name, value in spec.effect(reg, event, rules).items():
                _set(reg, name, value)
            history.append(event)
            agent.event = event
            kind = event.kind
            if IND in targets:
                if not ind_events[kind].trigger(agent):
                    raise Refused(kind)
                _set(reg, "individual", agent.individual)
            if SHOP in targets:
                if not shop_events[kind].trigger(agent):
                    raise Refused(kind)
                _set(reg, "shop", agent.shop)
        out.append(agent)
    return out


def run_bare_no_effects(
    lifecycles: Sequence[Lifecycle], snapshots: Sequence[Sequence[Registration]]
) -> list[Any]:
    """The shared machines and the guards on precomputed snapshots: no effects."""
    by_type, rules, nbs = BY_TYPE, RULES, NOT_BEFORE_START.check
    in_window = rules.in_window
    ind_events, shop_events = SHARED[IND].events, SHARED[SHOP].events
    out: list[Any] = []
    for (first, rest), regs in zip(lifecycles, snapshots, strict=True):
        if IN_PLAN_YEAR.check(None, first, rules):
            raise Refused(first.kind)
        for guard in START.guards:
            if guard.check(None, first, rules):
                raise Refused(first.kind)
        agent = SlimAgent(regs[0])
        for k, event in enumerate(rest):
            reg = regs[k]
            spec = by_type[type(event)]
            targets = spec.targets(reg, event, rules)
            if not in_window(event.at) or nbs(reg, event, rules):
                raise Refused(event.kind)
            for guard in spec.guards:
                if guard.check(reg, event, rules):
                    raise Refused(event.kind)
            agent.reg = regs[k + 1]
            agent.event = event
            kind = event.kind
            if IND in targets and not ind_events[kind].trigger(agent):
                raise Refused(kind)
            if SHOP in targets and not shop_events[kind].trigger(agent):
                raise Refused(kind)
        out.append(agent)
    return out


# -- transitions: a Machine per agent per track --------------------------------------


class Agent:
    """A plain model object: transitions adds its trigger methods to it."""

    def __init__(self, reg: Registration) -> None:
        self.reg = reg
        self.rules = RULES
        self.event: ev.Event | None = None


_PER_AGENT_KWARGS: Final = {track: _track_kwargs(CATALOG, track) for track in Track}


def run_machine_per_agent(lifecycles: Sequence[Lifecycle]) -> list[Any]:
    """``Machine(model=agent)`` per agent per track, triggered through its methods."""
    by_type, rules, nbs = BY_TYPE, RULES, NOT_BEFORE_START.check
    in_window = rules.in_window
    ind_kwargs, shop_kwargs = _PER_AGENT_KWARGS[IND], _PER_AGENT_KWARGS[SHOP]
    out: list[Any] = []
    for first, rest in lifecycles:
        reg = begin(first)
        history: list[ev.Event] = reg.history  # type: ignore[assignment]
        ind: Any = Agent(reg)
        shop: Any = Agent(reg)
        Machine(model=ind, **ind_kwargs)
        Machine(model=shop, **shop_kwargs)
        for event in rest:
            spec = by_type[type(event)]
            targets = spec.targets(reg, event, rules)
            if not in_window(event.at) or nbs(reg, event, rules):
                raise Refused(event.kind)
            for guard in spec.guards:
                if guard.check(reg, event, rules):
                    raise Refused(event.kind)
            for name, value in spec.effect(reg, event, rules).items():
                _set(reg, name, value)
            history.append(event)
            kind = event.kind
            if IND in targets:
                ind.event = event
                if not getattr(ind, kind)():
                    raise Refused(kind)
                _set(reg, "individual", ind.state)
            if SHOP in targets:
                shop.event = event
                if not getattr(shop, kind)():
                    raise Refused(kind)
                _set(reg, "shop", shop.state)
        out.append((ind, shop))
    return out


# -- one statechart of two parallel regions: what psm and HSM need ---------------

RegionCondition = Callable[[Registration, ev.Event, frozenset[Track]], bool]


def region_condition(spec: EventSpec[Any], step: Step) -> RegionCondition | None:
    """The condition of *step* in a chart whose regions all see every event.

    regflow fires an event on the tracks ``spec.targets`` names, which for
    some event types depends on the instance (which agreement, curriculum,
    RCL row or termination row). A parallel chart offers the event to both
    regions, so such a step also needs its track among the targets (else,
    e.g., completing the Returning curriculum would move a SHOP track in
    training to ``agreement_pending``). Both in one callable: one call.
    """
    when, track = step.when, step.track
    if spec.tracks is None:
        if when is None:
            return None

        def condition(reg: Registration, event: ev.Event, targets: Any) -> bool:
            return when(reg, event, RULES)

    elif when is None:

        def condition(reg: Registration, event: ev.Event, targets: Any) -> bool:
            return track in targets

    else:

        def condition(reg: Registration, event: ev.Event, targets: Any) -> bool:
            return track in targets and when(reg, event, RULES)

    condition.__name__ = when.__name__ if when is not None else f"on_{track.value}"
    return condition


class ChartAgent:
    """The model of a parallel chart: its configuration, the data, the event."""

    __slots__ = ("event", "reg", "state", "targets")

    def __init__(self, reg: Registration, state: Any = None) -> None:
        self.reg = reg
        self.state = state
        self.event: ev.Event | None = None
        self.targets: frozenset[Track] = frozenset()


# -- python-statemachine: one parallel chart class, an instance per agent ------------


def psm_class() -> Any:
    """A python-statemachine chart of the catalog: a parallel state with a
    compound state per track, leaf states valued by the track's enum."""
    leaves: dict[tuple[Track, Any], Any] = {}
    regions: dict[str, Any] = {}
    for track, enum in TRACK_STATES.items():
        namespace: dict[str, Any] = {}
        for state in enum:
            leaf = PsmState(value=state, initial=state is INITIAL[track])
            # Both tracks have a "training", a "registered"...: ids are global.
            namespace[f"{track.value}_{state.value}"] = leaf
            leaves[(track, state)] = leaf
        regions[track.value] = type(PsmState.Compound)(
            track.value, (PsmState.Compound,), namespace
        )
    registration = type(PsmState.Parallel)(
        "registration", (PsmState.Parallel,), regions
    )
    namespace = {"registration": registration}
    for spec in CATALOG:
        moves = None
        for step in spec.steps:
            options: dict[str, Any] = {}
            condition = region_condition(spec, step)
            if condition is not None:
                options["cond"] = _psm_condition(condition)
            for source in step.sources:
                origin = leaves[(step.track, source)]
                if step.dest is None:
                    # A targetless transition: the event is taken, nothing is
                    # exited or entered. (``to.itself(internal=True)`` inside a
                    # parallel region re-enters every region's initial state
                    # in python-statemachine 3.2.2.)
                    found = origin.to(None, **options)
                else:
                    found = origin.to(leaves[(step.track, step.dest)], **options)
                moves = found if moves is None else moves | found
        if moves is not None:
            namespace[spec.kind] = moves
    # StateMachine, not StateChart: an event no region takes raises
    # TransitionNotAllowed, and errors in conditions propagate.
    return type(StateMachine)("RegistrationChart", (StateMachine,), namespace)


def _psm_condition(condition: RegionCondition) -> Callable[..., bool]:
    def check(model: Any) -> bool:
        return condition(model.reg, model.event, model.targets)

    check.__name__ = condition.__name__
    return check


PSM: Final = psm_class()


def run_python_statemachine(lifecycles: Sequence[Lifecycle]) -> list[Any]:
    """One python-statemachine chart instance per agent, the agent as its model."""
    by_type, rules, nbs, cls = BY_TYPE, RULES, NOT_BEFORE_START.check, PSM
    in_window = rules.in_window
    ind_type, shop_type = IndividualState, ShopState
    out: list[Any] = []
    for first, rest in lifecycles:
        reg = begin(first)
        history: list[ev.Event] = reg.history  # type: ignore[assignment]
        agent = ChartAgent(reg)
        machine = cls(model=agent)
        send = machine.send
        for event in rest:
            spec = by_type[type(event)]
            targets = spec.targets(reg, event, rules)
            if not in_window(event.at) or nbs(reg, event, rules):
                raise Refused(event.kind)
            for guard in spec.guards:
                if guard.check(reg, event, rules):
                    raise Refused(event.kind)
            for name, value in spec.effect(reg, event, rules).items():
                _set(reg, name, value)
            history.append(event)
            agent.event = event
            agent.targets = targets
            send(event.kind)
            # The configuration holds every active state: the parallel and
            # compound ones, and a leaf per region.
            for value in agent.state:
                if type(value) is ind_type:
                    _set(reg, "individual", value)
                elif type(value) is shop_type:
                    _set(reg, "shop", value)
        out.append(machine)
    return out


# -- transitions: one shared HierarchicalMachine, parallel regions -----------------


class _NestedState(NestedState):
    # As regflow's drawing: state values hold single underscores.
    separator = "__"


class _Hsm(HierarchicalMachine):  # type: ignore[misc]
    state_cls = _NestedState


_TRACK_NAMES: Final = {IND: "individual", SHOP: "shop"}


def hsm_kwargs() -> dict[str, Any]:
    """The statechart of regflow's drawing (``drawing_kwargs``), with region
    conditions (see :func:`region_condition`) that read the model."""
    kwargs = drawing_kwargs(CATALOG)  # the states: both tracks as regions
    transitions: list[dict[str, Any]] = []
    for spec in CATALOG:
        for step in spec.steps:
            prefix = f"registration__{_TRACK_NAMES[step.track]}__"
            item: dict[str, Any] = {
                "trigger": spec.kind,
                "source": [prefix + s.value for s in step.sources],
                "dest": None if step.dest is None else prefix + step.dest.value,
            }
            condition = region_condition(spec, step)
            if condition is not None:
                item["conditions"] = [_hsm_condition(condition)]
            transitions.append(item)
    kwargs["transitions"] = transitions
    kwargs.update(send_event=True, ignore_invalid_triggers=False)
    return kwargs


def _hsm_condition(condition: RegionCondition) -> Callable[[Any], bool]:
    def check(event_data: Any) -> bool:
        model = event_data.model
        return condition(model.reg, model.event, model.targets)

    check.__name__ = condition.__name__
    return check


HSM: Final = _Hsm(model=None, **hsm_kwargs())


def _hsm_initial() -> list[str]:
    class Probe:
        pass

    probe: Any = Probe()
    HSM.add_model(probe)
    HSM.remove_model(probe)
    return list(probe.state)


HSM_INITIAL: Final = _hsm_initial()
HSM_STATES: Final = {
    f"registration__{_TRACK_NAMES[track]}__{state.value}": (
        "individual" if track is IND else "shop",
        state,
    )
    for track, enum in TRACK_STATES.items()
    for state in enum
}


def run_hsm_parallel(lifecycles: Sequence[Lifecycle]) -> list[Any]:
    """The shared HierarchicalMachine, one slotted model object per agent."""
    by_type, rules, nbs = BY_TYPE, RULES, NOT_BEFORE_START.check
    in_window = rules.in_window
    trigger, names, initial = HSM.trigger_event, HSM_STATES, HSM_INITIAL
    out: list[Any] = []
    for first, rest in lifecycles:
        reg = begin(first)
        history: list[ev.Event] = reg.history  # type: ignore[assignment]
        agent = ChartAgent(reg, list(initial))
        for event in rest:
            spec = by_type[type(event)]
            targets = spec.targets(reg, event, rules)
            if not in_window(event.at) or nbs(reg, event, rules):
                raise Refused(event.kind)
            for guard in spec.guards:
                if guard.check(reg, event, rules):
                    raise Refused(event.kind)
            for name, value in spec.effect(reg, event, rules).items():
                _set(reg, name, value)
            history.append(event)
            agent.event = event
            agent.targets = targets
            if not trigger(agent, event.kind):
                raise Refused(event.kind)
            for state in agent.state:
                _set(reg, *names[state])
        out.append(agent)
    return out


# -- a plain dict ------------------------------------------------------------------

Options = tuple[tuple[Any, Any], ...]


def dict_table() -> dict[tuple[Track, Any, str], Options]:
    """``{(track, state, kind): ((dest, condition), ...)}`` from the catalog's steps."""
    table: dict[tuple[Track, Any, str], list[tuple[Any, Any]]] = {}
    for spec in CATALOG:
        for step in spec.steps:
            for source in step.sources:
                key = (step.track, source, spec.kind)
                table.setdefault(key, []).append((step.dest, step.when))
    return {key: tuple(value) for key, value in table.items()}


TABLE: Final = dict_table()


def run_dict_table(lifecycles: Sequence[Lifecycle]) -> list[Any]:
    """A lookup per target track before the guards; the first matching condition."""
    table, by_type, rules, nbs = TABLE, BY_TYPE, RULES, NOT_BEFORE_START.check
    in_window = rules.in_window
    out: list[Any] = []
    for first, rest in lifecycles:
        reg = begin(first)
        history: list[ev.Event] = reg.history  # type: ignore[assignment]
        for event in rest:
            spec = by_type[type(event)]
            kind = event.kind
            targets = spec.targets(reg, event, rules)
            ind_options = shop_options = None
            if IND in targets:
                ind_options = table.get((IND, reg.individual, kind))
                if ind_options is None:
                    raise Refused(kind)
            if SHOP in targets:
                shop_options = table.get((SHOP, reg.shop, kind))
                if shop_options is None:
                    raise Refused(kind)
            if not in_window(event.at) or nbs(reg, event, rules):
                raise Refused(kind)
            for guard in spec.guards:
                if guard.check(reg, event, rules):
                    raise Refused(kind)
            for name, value in spec.effect(reg, event, rules).items():
                _set(reg, name, value)
            history.append(event)
            if ind_options is not None:
                for dest, condition in ind_options:
                    if condition is None or condition(reg, event, rules):
                        if dest is not None:
                            _set(reg, "individual", dest)
                        break
            if shop_options is not None:
                for dest, condition in shop_options:
                    if condition is None or condition(reg, event, rules):
                        if dest is not None:
                            _set(reg, "shop", dest)
                        break
        out.append(reg)
    return out
