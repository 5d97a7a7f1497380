"""The public engine: start, renew, check, apply, explain, available, replay."""

from __future__ import annotations

import datetime as dt
import re
from collections import deque
from collections.abc import Iterator, Sequence
from functools import cache
from typing import TYPE_CHECKING, Any, Final, Literal

import attrs

from . import _events as ev
from ._catalog import BY_TYPE, COMMON_GUARDS, EventSpec
from ._catalog._common import in_plan_year, not_before_start
from ._clone import clone
from ._errors import (
    DefinitionError,
    InvalidValue,
    NaiveDatetime,
    ReplayError,
    StepRefused,
)
from ._machine import Engine, Router, build, drawing_kwargs
from ._messages import Refusal
from ._registration import Registration
from ._rules import PlanYearRules
from ._states import Track

if TYPE_CHECKING:
    from ._explain import Menu

__all__ = ["Decision", "Workflow"]


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
assert (in_plan_year, not_before_start) == COMMON_GUARDS  # the order _decide runs


@cache
def _engine() -> Engine:
    # One machine per track for every plan year: the topology does not change
    # by year, only the rules the guards and conditions read.
    return build()


def _spec(event: object) -> EventSpec[Any]:
    try:
        return BY_TYPE[type(event)]  # type: ignore[index]
    except KeyError:
        raise InvalidValue(
            f"{type(event).__name__} is not a regflow event; build one from "
            "regflow.events"
        ) from None


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

    def start(
        self, event: ev.StartRegistration, *, previous: Registration | None = None
    ) -> Registration:
        """Return a new registration from its first event (S1, S2).

        The agent is enrolled in the Returning curriculum if it completed the
        previous plan year, else in the full Individual Marketplace one (S11).

        Args:
            previous: the agent's registration of the year before, when the
                caller knows it: a ``prior_year`` it contradicts is refused.

        Raises:
            StepRefused: the event is for another plan year, dated outside
                it, its prior year is not before the plan year, or *previous*
                denies it.
            InvalidValue: *previous* is another agent's.
        """
        if not isinstance(event, ev.StartRegistration):
            raise InvalidValue(
                f"a registration starts with StartRegistration, not {type(event).__name__}"
            )
        if previous is not None and previous.agent_id != event.agent_id:
            raise InvalidValue(
                f"'previous' is agent {previous.agent_id!r}'s registration, not "
                f"{event.agent_id!r}'s"
            )
        rules = self.rules
        refusals = in_plan_year.check(None, event, rules)
        if not refusals:
            for item in BY_TYPE[ev.StartRegistration].guards:
                refusals += item.check(previous, event, rules)
        if refusals:
            raise StepRefused(refusals, None, event)
        return self._started(event)

    def renew(
        self,
        previous: Registration,
        *,
        event_id: str,
        at: dt.datetime,
        portal_account_id: str | None = None,
        agency_id: str | None = None,
    ) -> Registration:
        """Start this plan year's registration from the agent's registration of
        the year before (S1, S11).

        ``prior_year`` comes from *previous*, not from anyone's word: its plan
        year if the agent completed it (every Individual agreement accepted),
        else the year *previous* itself was returning from. The profile is
        carried over for the agent to review: it must be saved again (S7)
        before it is completed.

        Raises:
            InvalidValue: *previous* is not of the year before this one.
            StepRefused: as :meth:`start`.
        """
        if previous.plan_year != self.rules.previous_year:
            raise InvalidValue(
                f"renewing plan year {self.rules.plan_year} takes the agent's "
                f"{self.rules.previous_year} registration (got {previous.plan_year})"
            )
        completed = previous.individual_registered_at is not None
        event = ev.StartRegistration(
            event_id=event_id,
            at=at,
            agent_id=previous.agent_id,
            portal_account_id=portal_account_id or previous.portal_account_id,
            plan_year=self.rules.plan_year,
            prior_year=previous.plan_year if completed else previous.prior_year,
            agency_id=agency_id if agency_id is not None else previous.agency_id,
            profile=previous.profile,
        )
        return self.start(event, previous=previous)

    def _started(self, event: ev.StartRegistration) -> Registration:
        changes: dict[str, Any] = {
            "agent_id": event.agent_id,
            "portal_account_id": event.portal_account_id,
            "plan_year": event.plan_year,
            "agency_id": event.agency_id,
            "prior_year": event.prior_year,
            "enrollments": (self.rules.initial_enrollment(event.prior_year),),
            "history": (event,),
        }
        if event.profile is not None:
            changes["profile"] = event.profile
        return Registration(**changes)

    # -- deciding --------------------------------------------------------------

    def _decide(
        self, reg: Registration, event: ev.Event
    ) -> tuple[tuple[Refusal, ...], EventSpec[Any], frozenset[Track]]:
        spec = _spec(event)
        if spec.type is ev.StartRegistration:
            raise InvalidValue(
                "StartRegistration begins a registration: use Workflow.start"
            )
        targets = spec.targets(reg, event, self.rules)
        timing = self._timing(reg, event)
        return self._refusals(reg, event, spec, targets, timing), spec, targets

    def _timing(
        self, reg: Registration, event: ev.Event
    ) -> tuple[bool, tuple[Refusal, ...]]:
        """Whether *event*'s time is inside the plan year, and its time refusals."""
        rules = self.rules
        if not rules.in_window(event.at):
            return False, in_plan_year.check(reg, event, rules)
        return True, not_before_start.check(reg, event, rules)

    def _refusals(
        self,
        reg: Registration,
        event: ev.Event,
        spec: EventSpec[Any],
        targets: frozenset[Track],
        timing: tuple[bool, tuple[Refusal, ...]],
    ) -> tuple[Refusal, ...]:
        """Every refusal of *event*, its time judged already (``explain`` judges
        it once for all its probes, which share one time)."""
        found: tuple[Refusal, ...] = ()
        impossible = self._engine.impossible
        kind = spec.kind
        if Track.INDIVIDUAL in targets:
            found = impossible.get((Track.INDIVIDUAL, reg.individual, kind), ())
        if Track.SHOP in targets:
            found += impossible.get((Track.SHOP, reg.shop, kind), ())
        inside, timed = timing
        if not inside:
            # Refused for its time alone: the other guards count business
            # days from it, which could be anywhere in Python's calendar.
            return found + timed
        found += timed
        rules = self.rules
        for item in spec.guards:
            refusals = item.check(reg, event, rules)
            if refusals:
                found += refusals
        return found

    def check(self, reg: Registration, event: ev.Event) -> Decision:
        """Return whether *event* may be applied to *reg*, with every reason if not."""
        refusals = self._decide(reg, event)[0]
        return Decision(refusals) if refusals else _ALLOWED

    def apply(self, reg: Registration, event: ev.Event) -> Registration:
        """Return the registration after *event*; *reg* itself never changes.

        Raises:
            StepRefused: carrying every refusal; nothing was changed.
        """
        refusals, spec, targets = self._decide(reg, event)
        if refusals:
            raise StepRefused(refusals, reg, event)
        return _fold(reg, event, spec, targets, self.rules, self._engine.fire)

    def explain(
        self, reg: Registration, *, at: dt.datetime | None = None, locale: str = "en"
    ) -> Menu:
        """What the agent may do now, and why not: the portal's menu.

        For every event type: whether some instance of it is allowed now,
        every refusal of the closest one, its label in *locale*, who sends
        it, the fields its form fills, and the concrete choices a menu offers
        (each allowed or not, and why). Time-dependent guards are judged at
        *at*, by default the time of the registration's last event: regflow
        never reads the clock.

        Returns:
            A :class:`regflow.Menu`.
        """
        from ._explain import explain

        return explain(self, reg, self._when(reg, at), locale)

    def available(
        self, reg: Registration, *, at: dt.datetime | None = None
    ) -> tuple[type[ev.Event], ...]:
        """The event types some instance of which would be accepted now.

        A view over :meth:`explain`, judged at *at* the same way.
        """
        from ._explain import allowed_types

        return allowed_types(self, reg, self._when(reg, at))

    @staticmethod
    def _when(reg: Registration, at: dt.datetime | None) -> dt.datetime:
        if at is None:
            return reg.history[-1].at
        if not isinstance(at, dt.datetime) or at.utcoffset() is None:
            raise NaiveDatetime("at", at)
        return at

    # -- the log ---------------------------------------------------------------

    def replay(self, history: Sequence[ev.Event]) -> Registration:
        """Rebuild a registration from its history without evaluating guards.

        Raises:
            ReplayError: the history is empty, does not begin with
                StartRegistration, or has an event its registration's state
                has no step for.
        """
        (last,) = deque(self.replay_steps(history), maxlen=1)
        return last

    def replay_steps(self, history: Sequence[ev.Event]) -> Iterator[Registration]:
        """Yield the registration after each event of *history*, as :meth:`replay`
        rebuilds it: where it stood at every point of its log (e.g. when it
        became certified).

        Raises:
            ReplayError: as :meth:`replay`, when the step is reached.
        """
        if not history:
            raise ReplayError("cannot replay an empty history")
        first = history[0]
        if not isinstance(first, ev.StartRegistration):
            raise ReplayError(
                f"a history begins with StartRegistration (got {type(first).__name__})"
            )
        reg = self._started(first)
        yield reg
        engine, rules = self._engine, self.rules
        routes, route = engine.routes, engine.route
        for seq, event in enumerate(history[1:], 2):
            spec = BY_TYPE.get(type(event))
            if spec is None or spec.type is ev.StartRegistration:
                raise ReplayError(
                    f"seq {seq}: {type(event).__name__} cannot follow a start"
                )
            targets = spec.targets(reg, event, rules)
            for track in targets:
                state = reg.individual if track is Track.INDIVIDUAL else reg.shop
                if (track, state, spec.kind) not in routes:
                    raise ReplayError(
                        f"seq {seq}: {spec.kind!r} has no step from {track.value} "
                        f"{state.value!r}"
                    )
            reg = _fold(reg, event, spec, targets, rules, route)
            yield reg

    def diagram(
        self,
        *,
        title: str | None = None,
        active: bool = False,
        format: str = "mermaid",
        track: Track | None = None,
    ) -> str:
        """Return the statechart: both tracks as parallel regions, each step
        labelled with its event and condition.

        Drawn by transitions' ``HierarchicalGraphMachine``: ``format="mermaid"``
        gives ``stateDiagram-v2`` text (no Graphviz needed), ``format="svg"``
        an SVG document through its Graphviz engine (``pip install graphviz``
        and Graphviz's ``dot``). No styling, and no state marked active,
        unless ``active=True``.

        Args:
            title: the drawing's title; by default it names the plan year
                (and the track, with *track*).
            active: keep transitions' styling, initial states marked active.
            format: ``"mermaid"`` or ``"svg"``.
            track: draw only this track's region (``Track.INDIVIDUAL`` or
                ``Track.SHOP``), a smaller drawing that reads better on a
                page; both tracks by default.

        Raises:
            InvalidValue: another format, a *track* that is not a
                :class:`Track`, or SVG without Graphviz installed.
        """
        if format not in ("mermaid", "svg"):
            raise InvalidValue(f"'format' must be 'mermaid' or 'svg' (got {format!r})")
        if track is not None and not isinstance(track, Track):
            raise InvalidValue(
                f"'track' must be a regflow.Track or None (got {track!r})"
            )
        tracks = tuple(Track) if track is None else (track,)
        if title is None:
            title = f"regflow registration, plan year {self.rules.plan_year}"
            if track is not None:
                title += f", {_TRACK_TITLES[track]} track"
        specs = self._engine.specs
        if format == "svg":
            return _svg(specs, tracks, title, active)
        text = _drawing(specs, tracks, "mermaid", title).draw(None)
        if not isinstance(text, str):  # draw(None) returns the text for mermaid
            raise DefinitionError("transitions' mermaid engine returned no text")
        if active:
            return text
        return (
            "\n".join(
                line for line in text.splitlines() if not _STYLING.match(line)
            ).rstrip()
            + "\n"
        )


_TRACK_TITLES: Final = {Track.INDIVIDUAL: "Individual", Track.SHOP: "SHOP"}


def _drawing(
    specs: Any,
    tracks: Sequence[Track],
    engine: Literal["graphviz", "mermaid"],
    title: str,
    active: bool = True,
) -> Any:
    """The combined graph of *tracks*, in transitions' *engine*."""
    import copy

    from transitions.extensions import HierarchicalGraphMachine
    from transitions.extensions.nesting import NestedState

    class _State(NestedState):
        # State values hold single underscores; the default separator
        # would nest "profile_incomplete" as "profile" > "incomplete".
        separator = "__"

    class _Machine(HierarchicalGraphMachine):
        state_cls = _State
        style_attributes = copy.deepcopy(HierarchicalGraphMachine.style_attributes)

    if not active:
        # The drawing is of the rules, not of one registration: the initial
        # states are drawn like any other.
        styles: dict[str, dict[str, Any]] = _Machine.style_attributes  # type: ignore[assignment]
        nodes, graphs = styles["node"], styles["graph"]
        nodes["active"] = nodes["previous"] = dict(nodes["inactive"])
        graphs["active"] = graphs["previous"] = dict(graphs["default"])

    class _Drawing:
        """A throwaway model: GraphMachine draws through one."""

    machine = _Machine(
        model=_Drawing(),
        graph_engine=engine,
        show_conditions=True,
        title=title,
        **drawing_kwargs(specs, tracks),
    )
    return machine.get_combined_graph()


def _svg(specs: Any, tracks: Sequence[Track], title: str, active: bool) -> str:
    import importlib.util
    import shutil

    # transitions' Graphviz engine needs the graphviz package and its 'dot'.
    if importlib.util.find_spec("graphviz") is None or shutil.which("dot") is None:
        raise InvalidValue(
            "an SVG diagram needs Graphviz: pip install graphviz, and install "
            "Graphviz's 'dot' (apt-get install graphviz); or ask for mermaid"
        )
    drawn = _drawing(specs, tracks, "graphviz", title, active).draw(None, format="svg")
    return drawn.decode("utf-8") if isinstance(drawn, bytes) else str(drawn)


_STYLING: Final = re.compile(r"^\s*(classDef |Class )")


def _fold(
    reg: Registration,
    event: ev.Event,
    spec: EventSpec[Any],
    targets: frozenset[Track],
    rules: PlanYearRules,
    router: Router,
) -> Registration:
    """The one fold ``apply`` and ``replay`` share: the effect, the snapshot,
    then each target track's next state (from transitions, or the table)."""
    changes = spec.effect(reg, event, rules)  # type: ignore[misc]
    changes["history"] = (*reg.history, event)
    new = clone(reg, changes)
    for track in targets:
        if track is Track.INDIVIDUAL:
            state = router(track, reg.individual, new, event, rules)
            if state is not reg.individual:
                object.__setattr__(new, "individual", state)  # still private
        else:
            state = router(track, reg.shop, new, event, rules)
            if state is not reg.shop:
                object.__setattr__(new, "shop", state)
    return new


@cache
def _for_plan_year(plan_year: int) -> Workflow:
    return Workflow(PlanYearRules.for_year(plan_year))
