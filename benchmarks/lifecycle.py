"""What does a full returning-agent lifecycle cost in regflow, next to the same
machine built the usual ways? (issue 2, item 10; core v2)

Every agent goes through the lifecycle of ``examples/returning_agent.py``: it
starts (returning, so auto-enrolled in Returning), then 9 events: save the
profile (``shop=False``), complete it (which acts on both tracks: Individual
to ``training``, SHOP to ``not_taken``), complete the Returning curriculum in
MLMS, accept both Individual agreements, print the certificate, see the
tracker, the RCL (NPN valid, an Individual completion date: certified) and
Find Local Help. That is 10 events per agent, every one dated inside the
2024 plan year's window.

Every variant derives its machine from the catalog (``regflow._catalog``),
none from a hand-written table, and handles an event the same way: the spec
``BY_TYPE[type(event)]``, its target tracks ``spec.targets(reg, event,
rules)``, the time guards (the window check, then ``not_before_start``) and
``spec.guards`` on a real ``Registration``, the changes ``spec.effect``
returns, and then each target track's destination, picked by the variant's
own engine. The variants, timed side by side in one process, interleaved
(the order rotates each round), best of ``--repeats`` rounds, ``--agents``
agents a run (the engines are in ``_lifecycle_peers.py``):

``regflow``
    ``flow.start`` then ``flow.apply`` per event: its real, public path. Per
    event: the state check of each target track (the route table), the time
    guards and every guard of the spec, the effect, a new immutable snapshot
    (every field copied, the history one event longer), and each target
    track's flat transitions ``Machine`` fired on a throwaway carrier to pick
    its destination. Nothing is skipped.

``bare_transitions``
    regflow's two shared flat transitions machines, rebuilt here from
    ``regflow._machine._track_kwargs(CATALOG, track)`` (the same states,
    steps and conditions, which read the registration after the effect), each
    told to keep its state in its own attribute, so that one slotted object
    per agent (``individual``, ``shop``, ``reg``, ``event``, ``rules``) is the
    model of both: ``machine.events[kind].trigger(agent)`` per target track,
    the call regflow makes, on one object per agent instead of a carrier per
    call. The effect's changes are written *into that one Registration, in
    place* (``object.__setattr__``), and so are the tracks' new states and
    the event, appended to its history (a list): the guards read all three
    (S7 reads the history), so this is the cheapest way to keep what they
    read correct. It does NOT: keep snapshots (an agent's earlier states are
    gone), check the state before the guards (transitions refuses an
    impossible event itself, after them), or build a carrier.

``machine_per_agent``
    The classic transitions use: ``Machine(model=agent, ...)`` per agent and
    per track (two plain objects per agent, as both tracks' machines have a
    ``complete_profile`` trigger), built from the same kwargs, triggered with
    ``agent.<event>()`` on each target track. Otherwise as
    ``bare_transitions``. Building the machines is timed, as a portal pays it
    per agent it loads, and they stay alive with their agents, as they would.

``python_statemachine``
    What a user of python-statemachine 3 would build for two parallel
    regions: one ``StateMachine`` class from the catalog, a ``State.Parallel``
    holding a ``State.Compound`` per track, leaf states valued by the
    tracks' enums, one transition per step and source (conditions as
    ``cond=``; a targetless transition for a step that stays, as SCXML has
    it: ``to.itself(internal=True)`` inside a parallel region re-enters every
    region's initial state in python-statemachine 3.2.2), one event per
    kind. One instance per agent (timed), the agent as its model,
    driven by one ``sm.send(kind)`` per event: the chart offers it to both
    regions. Where the catalog makes an event's tracks depend on the
    instance (which agreement, curriculum, RCL row, termination row), a
    region's conditions also require its track among the targets, or
    completing Returning would move a SHOP track out of training; that check
    is folded into the step's one condition callable. After each send the new
    leaf states are read from the configuration into the Registration. It
    refuses an event no region takes (``TransitionNotAllowed``), not one a
    target region alone cannot take; nothing here is refused.

``dict_table``
    ``{(track, state, kind): ((dest, condition), ...)}`` from the catalog's
    steps (regflow's route table): a lookup per target track before the
    guards, as regflow's state check, then the first matching condition per
    target track. The floor for a hand-rolled machine.

``replay``
    ``flow.replay(reg.history)`` over histories regflow recorded (untimed,
    just before): effects, snapshots and the route table; no guards, no
    transitions. Its cost per event is compared with ``dict_table``'s, which
    does run the guards.

``hsm_parallel`` (shown; not in the ratios line)
    One shared transitions ``HierarchicalMachine`` with both tracks as
    parallel regions: the states of regflow's drawing
    (``regflow._machine.drawing_kwargs``, a ``NestedState`` with separator
    ``__``), the steps with the region conditions of
    ``python_statemachine``, ``send_event=True``; one slotted model object per
    agent, fired once per event with ``machine.trigger_event(agent, kind)``
    (what a model's trigger method calls); the new state names mapped back
    to the tracks' enums. Same guards and effects. It documents why regflow
    runs a flat machine per track and draws with the HSM only: its us/event
    and its cost relative to ``bare_transitions`` are printed.

``bare_transitions_no_effects`` (shown; not in the ratios line)
    ``bare_transitions`` without effects: the guards read the snapshots
    regflow produced for the same events, precomputed untimed, and the
    conditions the next one. The guards and the machines alone: a floor
    under the transitions variants.

Fairness:

* Every variant calls the very same guard objects and in regflow's order:
  the plan-year window (``rules.in_window(event.at)``, the test the
  ``in_plan_year`` guard makes and ``Workflow._decide`` makes inline), then
  ``not_before_start`` and ``spec.guards``, each ``guard.check(reg, event,
  rules)``, an empty result passing; the start runs ``in_plan_year`` and
  the start spec's guards, as ``Workflow.start``. Every variant runs the
  same effects and the same destination conditions (``Step.when``, reading
  the data after the effect, as regflow's do), on a real ``Registration``
  holding at each step the data, track states and history regflow's own
  snapshot holds; every run's final data (every field, history included) is
  compared with regflow's, agent by agent, untimed. Every alternative is
  also run, untimed, on the histories of the explain/check registrations
  below (SHOP taken, vendor training, terminations...) and must end with
  regflow's data there too. So guard and effect work are equal, and the
  differences are the engines and regflow's snapshots.
* Beyond the history list the guards need, the alternatives record nothing
  (no snapshots): a portal built on them would store its events elsewhere,
  at a cost this benchmark does not count.
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
* ``explain/check``: registrations built with the public API
  (``flow.apply``) in every Individual state (a vendor launch and
  completion for the vendor states, an RCL 'N' row for ``npn_invalid``, a
  help-desk contact after the RCL window for ``escalated``, a Not an Agent
  Broker for ``training_complete``...) and, with SHOP taken, in each of its
  states worth covering (``agreement_pending``, ``training``,
  ``registered``, ``listed``, ``terminated``). For each: ``flow.explain(reg)``
  (locale "en": every event type probed with every choice its spec offers,
  labels and refusal messages rendered) and ``flow.check(reg, event)`` for
  one representative event (the state's next lifecycle step), interleaved
  (explain first in even rounds, check first in odd ones; the order of the
  registrations rotates), best of ``--repeats`` rounds, each a loop of
  calls. The ratio is the total explain time over the total check time
  across the set; the worst single registration's ratio is printed too.

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
from _lifecycle_peers import (
    FLOW,
    PLAN_YEAR,
    Lifecycle,
    run_bare_no_effects,
    run_bare_transitions,
    run_dict_table,
    run_hsm_parallel,
    run_machine_per_agent,
    run_python_statemachine,
)

import regflow
from regflow import events as ev
from regflow._registration import Registration
from regflow._states import IndividualState, ShopState

ET: Final = dt.timezone(dt.timedelta(hours=-5), "ET")
EVENTS_PER_AGENT: Final = 10
IS, SS = IndividualState, ShopState

Variant = Callable[[Sequence[Lifecycle]], list[Any]]


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
        shop=False,
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


# -- checking ------------------------------------------------------------------

_DATA_FIELDS: Final = tuple(a.name for a in attrs.fields(Registration))


def _reg_of(result: Any) -> Registration:
    if isinstance(result, Registration):
        return result
    if isinstance(result, tuple):  # machine_per_agent: a model per track
        return result[0].reg  # type: ignore[no-any-return]
    model = getattr(result, "model", result)  # a python-statemachine instance
    return model.reg  # type: ignore[no-any-return]


def _data(reg: Registration) -> tuple[Any, ...]:
    return tuple(
        tuple(value) if name == "history" else value
        for name in _DATA_FIELDS
        for value in (getattr(reg, name),)
    )


def check_results(results: Sequence[Any], expected: Sequence[Registration]) -> None:
    """Every agent certified, SHOP not taken, with exactly regflow's data."""
    assert len(results) == len(expected)
    for result, reg in zip(results, expected, strict=True):
        assert reg.individual is IS.CERTIFIED and reg.shop is SS.NOT_TAKEN, reg
        assert _data(_reg_of(result)) == _data(reg), (result, reg)


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


VARIANTS: Final[dict[str, Variant]] = {
    "regflow": run_regflow,
    "bare_transitions": run_bare_transitions,
    "machine_per_agent": run_machine_per_agent,
    "python_statemachine": run_python_statemachine,
    "dict_table": run_dict_table,
    "hsm_parallel": run_hsm_parallel,
}
NAMES: Final = (*VARIANTS, "replay", "bare_transitions_no_effects")


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
                work = partial(VARIANTS[name], lifecycles)
            run, out = _timed(work)
            if name == "replay":
                assert out == expected
            elif name != "bare_transitions_no_effects":
                check_results(out, expected)
            if name not in best or run.seconds < best[name].seconds:
                best[name] = run
            del out, work, expected, lifecycles
    return best


def at_scale(agents: int, repeats: int) -> Run:
    """regflow's fastest run over *agents* agents, keeping every snapshot alive.

    The agents' events are built first and stay alive too, as the snapshots'
    histories would hold them anyway.
    """
    lifecycles = make_lifecycles(agents, 10_000_000)
    best: Run | None = None
    for _ in range(repeats):
        run, out = _timed(lambda: run_regflow(lifecycles))
        assert len(out) == agents and out[-1].individual is IS.CERTIFIED
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
        assert reg.individual is IS.CERTIFIED and reg.version == EVENTS_PER_AGENT
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


# -- explain and check -----------------------------------------------------------


class _Walk:
    """One agent walked through the public API, an hour (or more) per event."""

    def __init__(self, n: int, *, role: regflow.Role, shop: bool = False) -> None:
        self.n, self.serial = n, 0
        self.at = dt.datetime(2023, 10, 2, 9, tzinfo=ET)
        agent = role is regflow.Role.MARKETPLACE_AGENT_BROKER
        self.reg = FLOW.start(
            self.event(
                ev.StartRegistration,
                agent_id=f"case-{n}",
                portal_account_id=f"portal-case-{n}",
                plan_year=PLAN_YEAR,
                prior_year=PLAN_YEAR - 1 if agent else None,
            )
        )
        contact = regflow.ContactDetails(
            name=f"Case {n}", email=f"case{n}@example.com", phone="555-0100"
        )
        if agent:
            contact = attrs.evolve(contact, zip_code="33101")
        self.profile = regflow.Profile(
            role=role,
            contact=contact,
            find_local_help=agent,
            shop=shop,
            npn=f"{20_000_000 + n}" if agent else None,
        )

    def event(self, cls: type[Any], *, days: int = 0, **fields: Any) -> Any:
        """The next event, not applied."""
        self.serial += 1
        self.at += dt.timedelta(days=days, hours=1)
        return cls(event_id=f"case-{self.n}-evt-{self.serial}", at=self.at, **fields)

    def do(self, cls: type[Any], *, days: int = 0, **fields: Any) -> _Walk:
        """Apply the next event."""
        self.reg = FLOW.apply(self.reg, self.event(cls, days=days, **fields))
        return self

    def fork(self, n: int) -> _Walk:
        """Another agent at the same point (same data, its own later ids)."""
        other = object.__new__(_Walk)
        other.n, other.serial, other.at = n, self.serial, self.at
        other.reg, other.profile = self.reg, self.profile
        return other


class Case:
    """A registration, the event it is checked with, and what was measured."""

    __slots__ = ("allowed", "check_us", "event", "explain_us", "name", "reg")

    def __init__(self, name: str, reg: Registration, event: ev.Event) -> None:
        self.name, self.reg, self.event = name, reg, event
        self.allowed = bool(FLOW.check(reg, event))
        self.explain_us = self.check_us = float("inf")

    @property
    def ratio(self) -> float:
        """Explain's time over check's."""
        return self.explain_us / self.check_us


def explain_cases() -> list[Case]:
    """A registration in each state worth covering, with its next event."""
    cur, agr, yes = regflow.Curriculum, regflow.Agreement, regflow.NpnValidity
    reason = regflow.TerminationReason.NON_COMPLIANCE
    cases: list[Case] = []

    def case(name: str, walk: _Walk, cls: type[Any], **fields: Any) -> None:
        cases.append(Case(name, walk.reg, walk.event(cls, **fields)))

    def rcl(walk: _Walk, validity: regflow.NpnValidity, **dates: Any) -> Any:
        return walk.do(ev.ObserveRclListing, npn_valid=validity, **dates)

    w = _Walk(1, role=regflow.Role.MARKETPLACE_AGENT_BROKER)
    case("profile_incomplete", w, ev.SaveProfile, profile=w.profile)
    w.do(ev.SaveProfile, profile=w.profile).do(ev.CompleteProfile)
    case("training", w, ev.CompleteMlmsTraining, curriculum=cur.RETURNING)
    vendor = w.fork(2)
    launch = {"vendor": "HealthSherpa", "launch_id": "launch-case-2"}
    vendor.do(
        ev.LaunchVendorTraining,
        curriculum=cur.RETURNING,
        expires_at=vendor.at + dt.timedelta(days=10),
        **launch,
    )
    done = {**launch, "agent_id": vendor.reg.agent_id, "plan_year": PLAN_YEAR}
    case("vendor_training", vendor, ev.CompleteVendorTraining, **done)
    vendor.do(ev.CompleteVendorTraining, **done)
    case("vendor_completed", vendor, ev.PortalLogin)
    w.do(ev.CompleteMlmsTraining, curriculum=cur.RETURNING)
    case("agreements_pending", w, ev.AcceptAgreement, agreement=agr.INDIVIDUAL_GENERAL)
    w.do(ev.AcceptAgreement, agreement=agr.INDIVIDUAL_GENERAL)
    w.do(ev.AcceptAgreement, agreement=agr.INDIVIDUAL_PRIVACY_SECURITY)
    case("registered", w, ev.PrintCertificate)
    day = w.at.date()
    invalid = rcl(w.fork(3), yes.INVALID, individual_completion=day)
    listed = {"npn_valid": yes.VALID, "individual_completion": day}
    case("npn_invalid", invalid, ev.ObserveRclListing, **listed)
    late = w.fork(4).do(ev.ContactHelpDesk, days=7)  # past the RCL's 2 business days
    case("escalated", late, ev.ObserveRclListing, **listed)
    w.do(ev.PrintCertificate).do(ev.ConfirmTracker)
    rcl(w, yes.VALID, individual_completion=day)
    case("certified", w, ev.ObserveFindLocalHelp)
    w.do(ev.ObserveFindLocalHelp).do(ev.Terminate, reason=reason)
    case("terminated", w, ev.Reinstate, reason=reason)
    w.do(ev.Reinstate, reason=reason)
    case("reinstated", w, ev.ObserveRclListing, **listed)

    role = regflow.Role.NOT_AN_AGENT_BROKER
    w = _Walk(5, role=role)
    w.do(ev.SaveProfile, profile=w.profile).do(ev.CompleteProfile)
    w.do(ev.CompleteMlmsTraining, curriculum=cur.INDIVIDUAL)
    # Nothing is allowed there: the check is of a refused certificate.
    case("training_complete", w, ev.PrintCertificate)

    w = _Walk(6, role=regflow.Role.MARKETPLACE_AGENT_BROKER, shop=True)
    w.do(ev.SaveProfile, profile=w.profile).do(ev.CompleteProfile)
    shop_agreement = {"agreement": agr.SHOP_PRIVACY_SECURITY}
    case("shop agreement_pending", w, ev.AcceptAgreement, **shop_agreement)
    training = w.fork(7).do(ev.EnrollCurriculum, curriculum=cur.SHOP)
    case("shop training", training, ev.CompleteMlmsTraining, curriculum=cur.SHOP)
    w.do(ev.AcceptAgreement, **shop_agreement)
    case("shop registered", w, ev.CompleteMlmsTraining, curriculum=cur.RETURNING)
    w.do(ev.CompleteMlmsTraining, curriculum=cur.RETURNING)
    w.do(ev.AcceptAgreement, agreement=agr.INDIVIDUAL_GENERAL)
    w.do(ev.AcceptAgreement, agreement=agr.INDIVIDUAL_PRIVACY_SECURITY)
    both = {"individual_completion": w.at.date(), "shop_completion": w.at.date()}
    rcl(w, yes.VALID, **both)
    case("shop listed", w, ev.ObserveFindLocalHelp)
    shop_row = {"reason": reason, "marketplaces": regflow.Marketplaces.SHOP}
    w.do(ev.Terminate, **shop_row)
    case("shop terminated", w, ev.Reinstate, **shop_row)

    expected = {
        "profile_incomplete": (IS.PROFILE_INCOMPLETE, SS.PROFILE_INCOMPLETE),
        "training": (IS.TRAINING, SS.NOT_TAKEN),
        "vendor_training": (IS.VENDOR_TRAINING, SS.NOT_TAKEN),
        "vendor_completed": (IS.VENDOR_COMPLETED, SS.NOT_TAKEN),
        "agreements_pending": (IS.AGREEMENTS_PENDING, SS.NOT_TAKEN),
        "registered": (IS.REGISTERED, SS.NOT_TAKEN),
        "npn_invalid": (IS.NPN_INVALID, SS.NOT_TAKEN),
        "escalated": (IS.ESCALATED, SS.NOT_TAKEN),
        "certified": (IS.CERTIFIED, SS.NOT_TAKEN),
        "terminated": (IS.TERMINATED, SS.NOT_TAKEN),
        "reinstated": (IS.REINSTATED, SS.NOT_TAKEN),
        "training_complete": (IS.TRAINING_COMPLETE, SS.NOT_TAKEN),
        "shop agreement_pending": (IS.TRAINING, SS.AGREEMENT_PENDING),
        "shop training": (IS.TRAINING, SS.TRAINING),
        "shop registered": (IS.TRAINING, SS.REGISTERED),
        "shop listed": (IS.CERTIFIED, SS.LISTED),
        "shop terminated": (IS.CERTIFIED, SS.TERMINATED),
    }
    assert [c.name for c in cases] == list(expected)
    for item in cases:
        assert (item.reg.individual, item.reg.shop) == expected[item.name], item.name
        assert item.allowed is (item.name != "training_complete"), item.name
    return cases


def agree_on(cases: Sequence[Case]) -> None:
    """Every alternative, run on each case's history (SHOP ones too), ends
    with exactly regflow's data: the same machine beyond the lifecycle."""
    lifecycles = [(c.reg.history[0], tuple(c.reg.history[1:])) for c in cases]
    for name, variant in VARIANTS.items():
        for result, item in zip(variant(lifecycles), cases, strict=True):  # type: ignore[arg-type]
            assert _data(_reg_of(result)) == _data(item.reg), (name, item.name)


def time_explain_check(cases: Sequence[Case], rounds: int, quick: bool) -> None:
    """Each case's best explain and check, in microseconds per call."""
    explain, check = FLOW.explain, FLOW.check
    explains, checks = (10, 300) if quick else (30, 1_000)

    def time_explain(reg: Registration) -> float:
        start = time.perf_counter()
        for _ in range(explains):
            explain(reg)
        return (time.perf_counter() - start) / explains * 1e6

    def time_check(reg: Registration, event: ev.Event) -> float:
        start = time.perf_counter()
        for _ in range(checks):
            check(reg, event)
        return (time.perf_counter() - start) / checks * 1e6

    for item in cases:  # warm every path
        explain(item.reg)
        check(item.reg, item.event)
    for round_ in range(rounds):
        gc.collect()
        shift = round_ % len(cases)
        for item in (*cases[shift:], *cases[:shift]):
            if round_ % 2:
                check_us = time_check(item.reg, item.event)
                explain_us = time_explain(item.reg)
            else:
                explain_us = time_explain(item.reg)
                check_us = time_check(item.reg, item.event)
            item.explain_us = min(item.explain_us, explain_us)
            item.check_us = min(item.check_us, check_us)


# -- report --------------------------------------------------------------------

LABELS: Final = {
    "regflow": "regflow: start + apply",
    "bare_transitions": "transitions, shared machine per track",
    "machine_per_agent": "transitions, Machine per agent+track",
    "python_statemachine": "python-statemachine parallel, per agent",
    "dict_table": "dict table",
    "replay": "regflow: replay of the history",
    "hsm_parallel": "transitions HSM, parallel regions",
    "bare_transitions_no_effects": "shared machines + guards, no effects",
}


def _rows(best: dict[str, Run], agents: int) -> Iterator[str]:
    base = best["regflow"].seconds
    yield (
        f"{'variant':<40} {'us/agent':>9} {'us/event':>9} {'gc us/agent':>12} "
        f"{'on cpu':>7} {'regflow/x':>10}"
    )
    for name, label in LABELS.items():
        run = best[name]
        per_agent = run.seconds / agents * 1e6
        yield (
            f"{label:<40} {per_agent:>9.1f} {per_agent / EVENTS_PER_AGENT:>9.2f} "
            f"{run.gc_seconds / agents * 1e6:>12.1f} {run.on_cpu:>7.0%} "
            f"{base / run.seconds:>10.2f}"
        )


def _case_rows(cases: Sequence[Case]) -> Iterator[str]:
    yield (
        f"{'registration':<23} {'individual':<19} {'shop':<18} {'event checked':<34} "
        f"{'explain us':>10} {'check us':>9} {'ratio':>6}"
    )
    for item in cases:
        what = item.event.kind + ("" if item.allowed else " (refused)")
        yield (
            f"{item.name:<23} {item.reg.individual.value:<19} "
            f"{item.reg.shop.value:<18} {what:<34} {item.explain_us:>10.1f} "
            f"{item.check_us:>9.2f} {item.ratio:>6.1f}"
        )


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark; print the tables, the scale and memory figures, the ratios."""
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

    events = agents * EVENTS_PER_AGENT
    hsm, bare = best["hsm_parallel"].seconds, best["bare_transitions"].seconds
    print(
        f"hsm_parallel: {hsm / events * 1e6:.2f} us per event, "
        f"{hsm / bare:.1f}x bare_transitions ({bare / events * 1e6:.2f} us per event)"
    )
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

    cases = explain_cases()
    agree_on(cases)
    time_explain_check(cases, args.repeats, args.quick)
    print(f"explain (locale en) and check, best of {args.repeats}, per call:")
    for row in _case_rows(cases):
        print(row)
    explain_total = sum(item.explain_us for item in cases)
    check_total = sum(item.check_us for item in cases)
    worst = max(cases, key=lambda item: item.ratio)
    print(
        f"explain/check over {len(cases)} registrations: {explain_total:.0f} us of "
        f"explain over {check_total:.1f} us of check = "
        f"{explain_total / check_total:.1f}; worst: {worst.name} {worst.ratio:.1f}"
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
        f"snapshot_bytes={footprint.applied} "
        f"explain/check={explain_total / check_total:.2f}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
