"""The machine built from the catalog: one flat transitions ``Machine`` per track.

The two tracks are parallel regions. Each is its own flat transitions
``Machine`` with no model, built once and shared by every registration: an
event is fired on each track it acts on, with a throwaway carrier as the
model for the length of one call, so nothing is injected into a host's
objects and nothing accumulates between calls. (transitions'
``HierarchicalMachine`` runs parallel states too, but a prototype of it
spent over ten times as long per event as a flat machine; it is used here
only to draw the statechart.) A route table built from the same steps is
replay's fast path.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any, Final

import attrs
from transitions import Machine

from . import _events as ev
from ._catalog import CATALOG, INITIAL, TRACK_STATES, EventSpec, Step
from ._catalog._spec import Condition, TrackState
from ._errors import DefinitionError
from ._messages import Refusal
from ._registration import Registration
from ._rules import PlanYearRules
from ._states import Track

__all__ = ["Engine", "Route", "build", "drawing_kwargs"]

Route = tuple[TrackState | None, Condition | None]
Router = Callable[
    [Track, TrackState, Registration, ev.Event, PlanYearRules], TrackState
]


class _Carrier:
    """What transitions sees as the model for one call; it never outlives it."""

    __slots__ = ("event", "reg", "rules", "state")

    def __init__(
        self,
        state: TrackState,
        reg: Registration,
        event: ev.Event,
        rules: PlanYearRules,
    ) -> None:
        self.state = state
        self.reg = reg
        self.event = event
        self.rules = rules


def _transition(step: Step, kind: str) -> dict[str, Any]:
    spec: dict[str, Any] = {
        "trigger": kind,
        "source": list(step.sources),
        "dest": step.dest,
    }
    if step.when is not None:
        condition = step.when

        def check(event_data: Any, _condition: Condition = condition) -> bool:
            carrier = event_data.model
            return _condition(carrier.reg, carrier.event, carrier.rules)

        check.__name__ = condition.__name__  # shown in the diagram
        spec["conditions"] = [check]
    return spec


def _track_kwargs(specs: Sequence[EventSpec[Any]], track: Track) -> dict[str, Any]:
    return {
        "states": list(TRACK_STATES[track]),
        "transitions": [
            _transition(step, spec.kind)
            for spec in specs
            for step in spec.steps
            if step.track is track
        ],
        "initial": INITIAL[track],
        "auto_transitions": False,
        "send_event": True,
        "ignore_invalid_triggers": False,
    }


@attrs.frozen(slots=True)
class Engine:
    """The built machine: a transitions ``Machine`` per track, and the route table."""

    machines: Mapping[Track, Any]
    routes: Mapping[tuple[Track, TrackState, str], tuple[Route, ...]]
    specs: tuple[EventSpec[Any], ...]
    impossible: Mapping[tuple[Track, TrackState, str], tuple[Refusal]]
    """The ``state.not_allowed`` refusal of every (track, state, event) with no
    step, made once: ``check`` and ``explain`` look them up."""

    def allows(self, track: Track, state: TrackState, kind: str) -> bool:
        """Whether *kind* has a transition from *state* on *track* at all."""
        return (track, state, kind) in self.routes

    def fire(
        self,
        track: Track,
        source: TrackState,
        reg: Registration,
        event: ev.Event,
        rules: PlanYearRules,
    ) -> TrackState:
        """Run *event* through *track*'s transitions machine; return the new state.

        *reg* is the registration after the event's effect, which conditions read.
        """
        carrier = _Carrier(source, reg, event, rules)
        if not self.machines[track].events[event.kind].trigger(carrier):
            raise DefinitionError(
                f"no transition for {event.kind!r} from {track.value} "
                f"{source.value!r} matched; give the last step no condition"
            )
        state: TrackState = carrier.state
        return state

    def route(
        self,
        track: Track,
        source: TrackState,
        reg: Registration,
        event: ev.Event,
        rules: PlanYearRules,
    ) -> TrackState:
        """The state *event* leads to on *track*, from the table: replay's fast path."""
        for dest, condition in self.routes[(track, source, event.kind)]:
            if condition is None or condition(reg, event, rules):
                return source if dest is None else dest
        raise DefinitionError(
            f"no route for {event.kind!r} from {track.value} {source.value!r}"
        )


def build(specs: Sequence[EventSpec[Any]] = CATALOG) -> Engine:
    """Build the shared engine for *specs* (checked by the catalog already)."""
    machines = {
        track: Machine(model=None, **_track_kwargs(specs, track)) for track in Track
    }
    routes: dict[tuple[Track, TrackState, str], list[Route]] = {}
    for spec in specs:
        for step in spec.steps:
            for source in step.sources:
                key = (step.track, source, spec.kind)
                routes.setdefault(key, []).append((step.dest, step.when))
    frozen = {key: tuple(value) for key, value in routes.items()}
    impossible = {
        (track, state, spec.kind): (
            Refusal(
                "state.not_allowed",
                {"event": spec.kind, "state": _state_name(track, state)},
            ),
        )
        for spec in specs
        for track in Track
        for state in TRACK_STATES[track]
        if (track, state, spec.kind) not in frozen
    }
    return Engine(
        machines=machines, routes=frozen, specs=tuple(specs), impossible=impossible
    )


def _state_name(track: Track, state: TrackState) -> str:
    # SHOP states share names with Individual ones; refusals tell them apart.
    return f"shop.{state.value}" if track is Track.SHOP else state.value


_TRACK_NAMES: Final = {Track.INDIVIDUAL: "individual", Track.SHOP: "shop"}


def drawing_kwargs(
    specs: Sequence[EventSpec[Any]] = CATALOG, tracks: Sequence[Track] = tuple(Track)
) -> dict[str, Any]:
    """A ``HierarchicalGraphMachine`` of *tracks* (both, by default) as parallel
    regions, to draw.

    An event possible in every state of a track that moves none (erasing
    contact details) is left out of the drawing.
    """
    regions = []
    transitions: list[dict[str, Any]] = []
    for track in tracks:
        name = _TRACK_NAMES[track]
        regions.append(
            {
                "name": name,
                "children": [state.value for state in TRACK_STATES[track]],
                "initial": INITIAL[track].value,
            }
        )
        everywhere = set(TRACK_STATES[track])
        for item in _track_kwargs(specs, track)["transitions"]:
            if item["dest"] is None and set(item["source"]) == everywhere:
                continue  # possible in every state, moving none: noise in a drawing
            drawn = dict(item)
            drawn["source"] = [
                f"registration__{name}__{s.value}" for s in item["source"]
            ]
            if item["dest"] is not None:
                drawn["dest"] = f"registration__{name}__{item['dest'].value}"
            transitions.append(drawn)
    return {
        "states": [{"name": "registration", "parallel": regions}],
        "transitions": transitions,
        "initial": "registration",
        "auto_transitions": False,
    }
