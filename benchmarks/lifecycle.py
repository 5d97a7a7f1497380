"""What does a full returning-agent lifecycle cost in regflow, next to the same
machine built the usual ways? (issue 2, item 10)

Every agent goes through the lifecycle of ``examples/returning_agent.py``: it
starts (returning, so auto-enrolled in Returning), then 9 events: save the
profile, complete it, complete the Returning curriculum in MLMS, accept both
Individual agreements, print the certificate, see the tracker, the RCL (NPN
valid: certified) and Find Local Help. That is 10 events per agent.

The variants, timed side by side in one process, interleaved (the order
rotates each round), best of ``--repeats`` rounds, ``--agents`` agents a run:

``regflow``
    ``flow.start`` then ``flow.apply`` per event: its real, public path. Per
    event: the (state, event) table check, every guard, the effect, a new
    immutable snapshot (every field copied, the history one ``Recorded``
    longer, the version), and the shared transitions ``Machine`` fired on a
    throwaway carrier to pick the destination. Nothing is skipped.

``bare_transitions``
    One transitions ``Machine`` built once (no model), configured as regflow's
    but built here from ``STEPS``/``CONDITIONS``. Each agent is a slotted
    object (``state``, ``reg``, ``event``) passed as the model with
    ``machine.events[kind].trigger(agent)``: the call regflow makes, on one
    object per agent instead of one carrier per call. It runs the same guards
    on a real ``Registration`` and the same effect functions, whose changes it
    writes *into that one Registration, in place* (``object.__setattr__``),
    the cheapest way to keep what the guards read correct.
    It does NOT: keep snapshots (an agent's earlier states are gone), record a
    history or version, check (state, event) before the guards (transitions
    refuses an impossible event itself, after them), or build a carrier.

``machine_per_agent``
    The classic transitions use: ``Machine(model=agent, ...)`` per agent (the
    agent gets the trigger methods), triggered with ``agent.<event>()``.
    Guards and effects as in ``bare_transitions``, with the same omissions.
    Building the machine is timed, as a portal pays it per agent it loads,
    and the machines stay alive with their agents, as they would.

``python_statemachine``
    A python-statemachine ``StateMachine`` class built once from ``STEPS``
    (internal self-transitions for the steps that stay; conditions as
    ``cond=``), one instance per agent (timed) with the agent as its model,
    driven by ``sm.send(kind)``. Guards and effects as in
    ``bare_transitions``. Its trap-state check is off: ``training_complete``
    (a training-only role's end) has no way out, as transitions and regflow
    accept.

``dict_table``
    ``{(state, event): ((dest, condition), ...)}`` built from ``STEPS``: a
    lookup before the guards, then the first matching condition. Guards and
    effects as in ``bare_transitions``. The floor for a hand-rolled machine.

``replay``
    ``flow.replay(reg.history)`` over histories regflow recorded (untimed,
    just before): effects, snapshots and the route table; no guards, no
    transitions. Its cost per event is compared with ``dict_table``'s, which
    does run the guards.

``bare_transitions_no_effects`` (shown; not in the ratios line)
    ``bare_transitions`` without effects: the guards read the snapshots
    regflow produced for the same events, precomputed untimed. The guards and
    the machine alone: a floor under the transitions variants.

Fairness:

* Every variant calls the very same guard objects (the two time guards,
  then ``GUARDS[kind]``, each
  ``guard.check(reg, event, rules)``, an empty result passing) and the same
  destination conditions (``CONDITIONS``, reading the data after the effect,
  as regflow's do), on a real ``Registration`` holding at each step the data
  and ``state`` regflow's own snapshot holds; every run's final data is
  compared with regflow's, agent by agent, untimed. So guard and effect work
  are equal, and the differences are the engines and regflow's snapshots.
* The alternatives record nothing: a portal built on them would store its
  events elsewhere, at a cost this benchmark does not count.
* Events are built fresh for every agent (own ids, own datetimes, own
  profile, NPN and contact strings), untimed, right before each variant's
  timed run, so every run gets equally fresh inputs; every variant keeps its
  results alive in a list until its timing ends; ``gc.collect()`` runs,
  untimed, before each run. The cyclic GC stays on, as in a portal, and the
  table shows the seconds it took inside each run (``gc.callbacks``).
* The alternatives' loops are inlined with lookups bound once, the cheapest
  honest way to write them; regflow is called through its public methods.
* The machine this runs on may be shared: rerun it and compare; the minimum
  over rounds is the least disturbed figure.

Also measured:

* regflow at ``--agents`` (the table) and at 100k agents (``--quick``: 10k),
  keeping every final snapshot alive in a list, as a portal process would,
  with the agents' events alive from the start (their histories hold them
  anyway). The GC share and the number of full collections are printed: with
  many snapshots alive, the full collections walk all of them.
* The bytes of one dormant certified snapshot with its history, by
  tracemalloc: tracing starts before the agent's events are built, the
  lifecycle runs, everything but the final snapshot is dropped,
  ``gc.collect()``, and the traced current size is read. CPython's
  type-attribute cache is emptied (``sys._clear_type_cache()``) before and
  after, because it keeps alive a few dozen transient strings that C code
  (``datetime.utcoffset``) creates per call and that belong to no snapshot;
  the figure with the cache left alone is printed too, as is the average
  over 1,000 snapshots traced together (cache left alone), which agrees with
  the first. Then the same for a snapshot read back with
  ``regflow.loads(regflow.dumps(reg))``, the converter warmed up first.
  Event ids here are 20-21 characters (``agent-90000002-evt-1``); each more
  character in every id adds 10 bytes to a 10-event snapshot.

The last line printed is the ratios line. Run it with::

    .venv/bin/python benchmarks/lifecycle.py [--quick]
"""

from __future__ import annotations

import argparse
import datetime as dt
import gc
import sys
import time
import tracemalloc
from collections.abc import Callable, Iterator, Sequence
from functools import partial
from typing import Any, Final

import attrs
from statemachine import State as PsmState
from statemachine import StateMachine
from transitions import Machine

import regflow
from regflow import events as ev
from regflow._effects import EFFECTS
from regflow._guards import GUARDS as _KIND_GUARDS
from regflow._guards import Guard, in_plan_year, not_before_start
from regflow._machine import CONDITIONS, INITIAL, STEPS, Condition
from regflow._registration import Registration, State

PLAN_YEAR: Final = 2024
ET: Final = dt.timezone(dt.timedelta(hours=-5), "ET")
FLOW: Final = regflow.Workflow.for_plan_year(PLAN_YEAR)
RULES: Final = FLOW.rules
EVENTS_PER_AGENT: Final = 10

_set = object.__setattr__

# regflow runs two time guards before every event's own; the alternatives run
# the very same ones, so guard work stays equal.
_TIME_GUARDS: Final = (
    Guard("in_plan_year", "time", in_plan_year),
    Guard("not_before_start", "time", not_before_start),
)
GUARDS: Final = {kind: (*_TIME_GUARDS, *g) for kind, g in _KIND_GUARDS.items()}

Lifecycle = tuple[ev.StartRegistration, tuple[ev.Event, ...]]
Variant = Callable[[Sequence[Lifecycle]], list[Any]]


class Refused(Exception):
    """A guard refused an event of the lifecycle: the benchmark is broken."""


# -- inputs --------------------------------------------------------------------


def make_lifecycle(n: int) -> Lifecycle:
    """Agent *n*'s events, all fresh objects: own ids, times, profile, NPN."""
    # Agents start a second apart, within the plan year's window for any n.
    base = dt.datetime(2023, 10, 2, 9, tzinfo=ET) + dt.timedelta(seconds=n % 5_000_000)
    serial = iter(range(1, 100))

    def eid() -> str:
        return f"agent-{n}-evt-{next(serial)}"

    def at(days: int, hours: int = 0) -> dt.datetime:
        return base + dt.timedelta(days=days, hours=hours)

    profile = regflow.Profile(
        role=regflow.Role.MARKETPLACE_AGENT_BROKER,
        contact=regflow.ContactDetails(
            name=f"Agent {n}",
            email=f"agent{n}@example.com",
            phone=f"555-{n % 10_000:04d}",
            zip_code=f"{10_000 + n % 89_999:05d}",
        ),
        find_local_help=True,
        npn=f"{10_000_000 + n}",
    )
    start = ev.StartRegistration(
        event_id=eid(),
        at=at(0),
        agent_id=f"agent-{n}",
        portal_account_id=f"portal-{n}",
        plan_year=PLAN_YEAR,
        prior_year=PLAN_YEAR - 1,
    )
    rest: tuple[ev.Event, ...] = (
        ev.SaveProfile(event_id=eid(), at=at(0), profile=profile),
        ev.CompleteProfile(event_id=eid(), at=at(0, 1)),
        ev.CompleteMlmsTraining(
            event_id=eid(), at=at(1), curriculum=regflow.Curriculum.RETURNING
        ),
        ev.AcceptAgreement(
            event_id=eid(), at=at(1, 1), agreement=regflow.Agreement.INDIVIDUAL_GENERAL
        ),
        ev.AcceptAgreement(
            event_id=eid(),
            at=at(1, 2),
            agreement=regflow.Agreement.INDIVIDUAL_PRIVACY_SECURITY,
        ),
        ev.PrintCertificate(event_id=eid(), at=at(1, 3)),
        ev.ConfirmTracker(event_id=eid(), at=at(2)),
        ev.ObserveRclListing(
            event_id=eid(),
            at=at(3),
            npn_valid=regflow.NpnValidity.VALID,
            individual_completion=base.date() + dt.timedelta(days=1),
        ),
        ev.ObserveFindLocalHelp(event_id=eid(), at=at(4)),
    )
    assert len(rest) + 1 == EVENTS_PER_AGENT
    return start, rest


def make_lifecycles(count: int, first: int) -> list[Lifecycle]:
    """*count* agents' lifecycles, numbered from *first*."""
    return [make_lifecycle(n) for n in range(first, first + count)]


def _begin(event: ev.StartRegistration) -> Registration:
    """What the alternatives start from: the start guard, then a bare snapshot."""
    for guard in GUARDS[event.kind]:
        if guard.check(None, event, RULES):  # type: ignore[arg-type]
            raise Refused(event.kind)
    return Registration(
        agent_id=event.agent_id,
        portal_account_id=event.portal_account_id,
        plan_year=event.plan_year,
        prior_year=event.prior_year,
        enrollments=(RULES.initial_enrollment(event.prior_year),),
        # The start, which the time guard reads; the history does not grow.
        history=(regflow.Recorded(1, event),),
    )


# -- regflow -------------------------------------------------------------------


def run_regflow(lifecycles: Sequence[Lifecycle]) -> list[Any]:
    """regflow's real path: start, then apply every event."""
    start, apply = FLOW.start, FLOW.apply
    out: list[Any] = []
    for first, rest in lifecycles:
        reg = start(first)
        for event in rest:
            reg = apply(reg, event)
        out.append(reg)
    return out


def run_replay(histories: Sequence[Any]) -> list[Any]:
    """regflow's replay of recorded histories."""
    replay = FLOW.replay
    return [replay(history) for history in histories]


# -- transitions, one shared machine -----------------------------------------------


def _transitions_condition(name: str) -> Callable[[Any], bool]:
    condition = CONDITIONS[name]

    def check(event_data: Any) -> bool:
        model = event_data.model
        return condition(model.reg, model.event, RULES)

    check.__name__ = name
    return check


def transitions_kwargs() -> dict[str, Any]:
    """A transitions machine of ``STEPS``, as keyword arguments."""
    specs: list[dict[str, Any]] = []
    for step in STEPS:
        spec: dict[str, Any] = {
            "trigger": step.event,
            "source": list(step.sources),
            "dest": step.dest,
        }
        if step.condition is not None:
            spec["conditions"] = [_transitions_condition(step.condition)]
        specs.append(spec)
    return {
        "states": list(State),
        "transitions": specs,
        "initial": INITIAL,
        "auto_transitions": False,
        "send_event": True,
        "ignore_invalid_triggers": False,
    }


_TRANSITIONS_KWARGS: Final = transitions_kwargs()
_SHARED: Final = Machine(model=None, **_TRANSITIONS_KWARGS)


class SlimAgent:
    """The model the shared machine sees: the state, the data, the event at hand."""

    __slots__ = ("event", "reg", "state")

    def __init__(self, reg: Registration) -> None:
        self.state = INITIAL
        self.reg = reg
        self.event: ev.Event | None = None


def run_bare_transitions(lifecycles: Sequence[Lifecycle]) -> list[Any]:
    """One shared transitions machine; each agent a slotted model object."""
    events, guards, effects, rules = _SHARED.events, GUARDS, EFFECTS, RULES
    out: list[Any] = []
    for first, rest in lifecycles:
        reg = _begin(first)
        agent = SlimAgent(reg)
        for event in rest:
            kind = event.kind
            for guard in guards[kind]:
                if guard.check(reg, event, rules):
                    raise Refused(kind)
            for name, value in effects[kind](reg, event, rules).items():
                _set(reg, name, value)
            agent.event = event
            if not events[kind].trigger(agent):
                raise Refused(kind)
            _set(reg, "state", agent.state)
        out.append(agent)
    return out


def precompute_snapshots(lifecycles: Sequence[Lifecycle]) -> list[list[Registration]]:
    """regflow's snapshots after each event of each agent (untimed input)."""
    start, apply = FLOW.start, FLOW.apply
    found: list[list[Registration]] = []
    for first, rest in lifecycles:
        regs = [start(first)]
        for event in rest:
            regs.append(apply(regs[-1], event))
        found.append(regs)
    return found


def run_bare_no_effects(
    lifecycles: Sequence[Lifecycle], snapshots: Sequence[Sequence[Registration]]
) -> list[Any]:
    """The shared machine and the guards on precomputed snapshots: no effects."""
    events, guards, rules = _SHARED.events, GUARDS, RULES
    out: list[Any] = []
    for (first, rest), regs in zip(lifecycles, snapshots, strict=True):
        for guard in guards[first.kind]:
            if guard.check(None, first, rules):  # type: ignore[arg-type]
                raise Refused(first.kind)
        agent = SlimAgent(regs[0])
        for k, event in enumerate(rest):
            kind = event.kind
            for guard in guards[kind]:
                if guard.check(regs[k], event, rules):
                    raise Refused(kind)
            agent.reg = regs[k + 1]
            agent.event = event
            if not events[kind].trigger(agent):
                raise Refused(kind)
        out.append(agent)
    return out


# -- transitions, one machine per agent ------------------------------------------


class Agent:
    """A plain model object: transitions adds its trigger methods to it."""

    def __init__(self, reg: Registration) -> None:
        self.reg = reg
        self.event: ev.Event | None = None


def run_machine_per_agent(lifecycles: Sequence[Lifecycle]) -> list[Any]:
    """``Machine(model=agent)`` per agent, triggered through the agent's methods."""
    guards, effects, rules, kwargs = GUARDS, EFFECTS, RULES, _TRANSITIONS_KWARGS
    out: list[Any] = []
    for first, rest in lifecycles:
        reg = _begin(first)
        agent = Agent(reg)
        Machine(model=agent, **kwargs)
        model: Any = agent
        for event in rest:
            kind = event.kind
            for guard in guards[kind]:
                if guard.check(reg, event, rules):
                    raise Refused(kind)
            for name, value in effects[kind](reg, event, rules).items():
                _set(reg, name, value)
            agent.event = event
            if not getattr(model, kind)():
                raise Refused(kind)
            _set(reg, "state", model.state)
        out.append(agent)
    return out


# -- python-statemachine ---------------------------------------------------------


def _psm_condition(name: str) -> Callable[..., bool]:
    condition = CONDITIONS[name]

    def check(model: Any) -> bool:
        return condition(model.reg, model.event, RULES)

    check.__name__ = name
    return check


class _PsmMeta(type(StateMachine)):  # type: ignore[misc]
    # training_complete (a training-only role's end) has no outgoing step; the
    # other engines accept that, so this one is told to as well.
    validate_trap_states = False


def psm_class() -> Any:
    """A python-statemachine class of ``STEPS``, states valued by ``State``."""
    states = {s: PsmState(name=s.value, value=s, initial=s is INITIAL) for s in State}
    namespace: dict[str, Any] = {s.value: state for s, state in states.items()}
    for step in STEPS:
        options: dict[str, Any] = {}
        if step.condition is not None:
            options["cond"] = _psm_condition(step.condition)
        for source in step.sources:
            origin = states[source]
            if step.dest is None:
                moves = origin.to.itself(internal=True, **options)  # type: ignore[no-untyped-call]
            else:
                moves = origin.to(states[step.dest], **options)
            known = namespace.get(step.event)
            namespace[step.event] = moves if known is None else known | moves
    return _PsmMeta("RegistrationMachine", (StateMachine,), namespace)


_PSM: Final = psm_class()


def run_python_statemachine(lifecycles: Sequence[Lifecycle]) -> list[Any]:
    """One python-statemachine instance per agent, the agent as its model."""
    guards, effects, rules, cls = GUARDS, EFFECTS, RULES, _PSM
    out: list[Any] = []
    for first, rest in lifecycles:
        reg = _begin(first)
        agent = Agent(reg)
        send = cls(model=agent).send
        for event in rest:
            kind = event.kind
            for guard in guards[kind]:
                if guard.check(reg, event, rules):
                    raise Refused(kind)
            for name, value in effects[kind](reg, event, rules).items():
                _set(reg, name, value)
            agent.event = event
            send(kind)
            _set(reg, "state", agent.state)  # type: ignore[attr-defined]
        out.append(agent)
    return out


# -- a plain dict ----------------------------------------------------------------

Options = tuple[tuple[State | None, Condition | None], ...]


def dict_table() -> dict[tuple[State, str], Options]:
    """``{(state, event): ((dest, condition), ...)}`` from ``STEPS``, rows in order."""
    table: dict[tuple[State, str], list[tuple[State | None, Condition | None]]] = {}
    for step in STEPS:
        condition = None if step.condition is None else CONDITIONS[step.condition]
        for source in step.sources:
            table.setdefault((source, step.event), []).append((step.dest, condition))
    return {key: tuple(value) for key, value in table.items()}


_TABLE: Final = dict_table()


def run_dict_table(lifecycles: Sequence[Lifecycle]) -> list[Any]:
    """A dict lookup and the first matching condition."""
    table, guards, effects, rules = _TABLE, GUARDS, EFFECTS, RULES
    out: list[Any] = []
    for first, rest in lifecycles:
        reg = _begin(first)
        for event in rest:
            kind = event.kind
            options = table.get((reg.state, kind))
            if options is None:
                raise Refused(kind)
            for guard in guards[kind]:
                if guard.check(reg, event, rules):
                    raise Refused(kind)
            for name, value in effects[kind](reg, event, rules).items():
                _set(reg, name, value)
            for dest, condition in options:
                if condition is None or condition(reg, event, rules):
                    if dest is not None:
                        _set(reg, "state", dest)
                    break
        out.append(reg)
    return out


# -- checking ------------------------------------------------------------------

_DATA_FIELDS: Final = tuple(
    a.name for a in attrs.fields(Registration) if a.name not in ("history", "version")
)


def _data(result: Any) -> tuple[Any, ...]:
    reg = result if isinstance(result, Registration) else result.reg
    return tuple(getattr(reg, name) for name in _DATA_FIELDS)


def check_results(results: Sequence[Any], expected: Sequence[Registration]) -> None:
    """Every agent certified, with exactly regflow's data (history aside)."""
    assert len(results) == len(expected)
    for result, reg in zip(results, expected, strict=True):
        assert reg.state is State.CERTIFIED, reg.state
        assert _data(result) == _data(reg), (result, reg)


# -- timing --------------------------------------------------------------------


class GcClock:
    """Seconds the cyclic GC spent while installed, and its full collections."""

    def __init__(self) -> None:
        self.seconds = 0.0
        self.full = 0
        self._started = 0.0

    def __call__(self, phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            self._started = time.perf_counter()
            return
        self.seconds += time.perf_counter() - self._started
        self.full += info["generation"] == 2


class Run:
    """One timed run: wall seconds; the GC's seconds and full collections in
    them; and the process's CPU seconds, below the wall time when the run was
    kept off the CPU (a disturbed run)."""

    __slots__ = ("cpu_seconds", "full_gcs", "gc_seconds", "seconds")

    def __init__(
        self, seconds: float, cpu_seconds: float, gc_seconds: float, full_gcs: int
    ) -> None:
        self.seconds = seconds
        self.cpu_seconds = cpu_seconds
        self.gc_seconds = gc_seconds
        self.full_gcs = full_gcs

    @property
    def on_cpu(self) -> float:
        """The share of the wall time the process was running."""
        return self.cpu_seconds / self.seconds


def _timed(work: Callable[[], list[Any]]) -> tuple[Run, list[Any]]:
    gc.collect()
    clock = GcClock()
    gc.callbacks.append(clock)
    try:
        cpu = time.process_time()
        start = time.perf_counter()
        out = work()
        took = time.perf_counter() - start
        cpu = time.process_time() - cpu
    finally:
        gc.callbacks.remove(clock)
    return Run(took, cpu, clock.seconds, clock.full), out


NAMES: Final = (
    "regflow",
    "bare_transitions",
    "machine_per_agent",
    "python_statemachine",
    "dict_table",
    "replay",
    "bare_transitions_no_effects",
)


def compare(agents: int, repeats: int) -> dict[str, Run]:
    """The fastest run of each variant over *agents* agents, rounds interleaved."""
    best: dict[str, Run] = {}
    serial = 0
    for round_ in range(repeats):
        shift = round_ % len(NAMES)
        for name in NAMES[shift:] + NAMES[:shift]:
            serial += agents
            lifecycles = make_lifecycles(agents, serial)
            expected = run_regflow(lifecycles)  # untimed: the reference data
            work: Callable[[], list[Any]]
            if name == "replay":
                histories = [reg.history for reg in expected]
                work = partial(run_replay, histories)
            elif name == "bare_transitions_no_effects":
                snaps = precompute_snapshots(lifecycles)
                work = partial(run_bare_no_effects, lifecycles, snaps)
            else:
                variant = VARIANTS[name]
                work = partial(variant, lifecycles)
            run, out = _timed(work)
            if name == "replay":
                assert out == expected
            elif name != "bare_transitions_no_effects":
                check_results(out, expected)
            if name not in best or run.seconds < best[name].seconds:
                best[name] = run
            del out, work, expected, lifecycles
    return best


VARIANTS: Final[dict[str, Variant]] = {
    "regflow": run_regflow,
    "bare_transitions": run_bare_transitions,
    "machine_per_agent": run_machine_per_agent,
    "python_statemachine": run_python_statemachine,
    "dict_table": run_dict_table,
}


def at_scale(agents: int, repeats: int) -> Run:
    """regflow's fastest run over *agents* agents, keeping every snapshot alive.

    The agents' events are built first and stay alive too, as the snapshots'
    histories would hold them anyway.
    """
    lifecycles = make_lifecycles(agents, 10_000_000)
    best: Run | None = None
    for _ in range(repeats):
        run, out = _timed(lambda: run_regflow(lifecycles))
        assert len(out) == agents and out[-1].state is State.CERTIFIED
        if best is None or run.seconds < best.seconds:
            best = run
        del out
    assert best is not None
    return best


# -- memory --------------------------------------------------------------------


def _one_agent(n: int) -> Registration:
    first, rest = make_lifecycle(n)
    reg = FLOW.start(first)
    for event in rest:
        reg = FLOW.apply(reg, event)
    return reg


def _quiet() -> None:
    # CPython's type-attribute cache keeps a reference to the name string of
    # recent lookups; C code such as datetime's utcoffset() looks names up
    # with a fresh string each call, so a few dozen transient strings stay
    # alive in it, untraceable to any snapshot. Emptying it before and after
    # tracing counts the snapshot alone.
    sys._clear_type_cache()
    gc.collect()


def _traced(build: Callable[[], Any], *, quiet: bool = True) -> tuple[int, Any]:
    _quiet()
    tracemalloc.start()
    try:
        kept = build()
        if quiet:
            _quiet()
        else:
            gc.collect()
        size, _peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return size, kept


class Footprint:
    """Bytes of one dormant certified snapshot with its history."""

    __slots__ = ("applied", "applied_raw", "loaded", "loaded_raw", "per_snapshot")

    def __init__(self) -> None:
        warm = _one_agent(90_000_001)  # every code path and cache warmed up
        assert regflow.loads(regflow.dumps(warm)) == warm
        self.applied, reg = _traced(lambda: _one_agent(90_000_002))
        assert reg.state is State.CERTIFIED and reg.version == EVENTS_PER_AGENT
        self.applied_raw, _ = _traced(lambda: _one_agent(90_000_003), quiet=False)
        text = regflow.dumps(_one_agent(90_000_004))
        self.loaded, again = _traced(lambda: regflow.loads(text))
        assert again.version == EVENTS_PER_AGENT
        text = regflow.dumps(_one_agent(90_000_005))
        self.loaded_raw, _ = _traced(lambda: regflow.loads(text), quiet=False)
        many = 1_000
        total, kept = _traced(
            lambda: [_one_agent(91_000_000 + n) for n in range(many)], quiet=False
        )
        self.per_snapshot = (total - sys.getsizeof(kept)) / many


# -- report --------------------------------------------------------------------

LABELS: Final = {
    "regflow": "regflow: start + apply",
    "bare_transitions": "transitions, one shared machine",
    "machine_per_agent": "transitions, Machine per agent",
    "python_statemachine": "python-statemachine, one per agent",
    "dict_table": "dict table",
    "replay": "regflow: replay of the history",
    "bare_transitions_no_effects": "shared machine + guards, no effects",
}


def _rows(best: dict[str, Run], agents: int) -> Iterator[str]:
    base = best["regflow"].seconds
    yield (
        f"{'variant':<37} {'us/agent':>9} {'us/event':>9} {'gc us/agent':>12} "
        f"{'on cpu':>7} {'regflow/x':>10}"
    )
    for name, label in LABELS.items():
        run = best[name]
        per_agent = run.seconds / agents * 1e6
        yield (
            f"{label:<37} {per_agent:>9.1f} {per_agent / EVENTS_PER_AGENT:>9.2f} "
            f"{run.gc_seconds / agents * 1e6:>12.1f} {run.on_cpu:>7.0%} "
            f"{base / run.seconds:>10.2f}"
        )


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark; print the table, the scale and memory figures, the ratios."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--agents", type=int, default=1_000, help="agents per run")
    parser.add_argument("--repeats", type=int, default=9, help="rounds, best kept")
    parser.add_argument("--quick", action="store_true", help="scale at 10k, not 100k")
    parser.add_argument("--scale-repeats", type=int, default=3)
    args = parser.parse_args(argv)
    agents = args.agents
    big = 10_000 if args.quick else 100_000

    footprint = Footprint()
    best = compare(agents, args.repeats)
    print(f"{agents:,} agents, {EVENTS_PER_AGENT} events each, best of {args.repeats}")
    for row in _rows(best, agents):
        print(row)

    small = best["regflow"]
    large = at_scale(big, args.scale_repeats)
    small_us = small.seconds / agents * 1e6
    large_us = large.seconds / big * 1e6
    print(
        f"regflow per agent, all snapshots kept: {small_us:.1f} us at {agents:,} "
        f"agents (GC {small.gc_seconds / agents * 1e6:.1f} us, "
        f"{small.full_gcs} full collections, on cpu {small.on_cpu:.0%}); "
        f"{large_us:.1f} us at {big:,} (GC {large.gc_seconds / big * 1e6:.1f} us, "
        f"{large.full_gcs} full, on cpu {large.on_cpu:.0%}); outside the GC: "
        f"{(small.seconds - small.gc_seconds) / agents * 1e6:.1f} and "
        f"{(large.seconds - large.gc_seconds) / big * 1e6:.1f} us"
    )
    events = agents * EVENTS_PER_AGENT
    replay = best["replay"].seconds / events
    per_event = best["dict_table"].seconds / events
    print(
        f"replay: {replay * 1e6:.2f} us per event; dict table with guards: "
        f"{per_event * 1e6:.2f} us per event"
    )
    print(
        f"dormant certified snapshot with its {EVENTS_PER_AGENT}-event history: "
        f"{footprint.applied:,} bytes built by apply "
        f"({footprint.applied_raw:,} with the type cache left alone; "
        f"{footprint.per_snapshot:,.0f} each over 1,000), "
        f"{footprint.loaded:,} read from JSON ({footprint.loaded_raw:,})"
    )
    regflow_s = small.seconds
    print(
        f"ratios regflow/bare_transitions="
        f"{regflow_s / best['bare_transitions'].seconds:.2f} "
        f"regflow/machine_per_agent="
        f"{regflow_s / best['machine_per_agent'].seconds:.2f} "
        f"regflow/python_statemachine="
        f"{regflow_s / best['python_statemachine'].seconds:.2f} "
        f"scale_100k/1k={large_us / small_us:.2f} "
        f"replay/dict_per_event={replay / per_event:.2f} "
        f"snapshot_bytes={footprint.applied}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
