"""How an event type is described: once, with everything derived from it.

An :class:`EventSpec` holds what regflow knows of one event type: who sends
it, its label in each shipped locale, the steps it takes on each track, the
guards that may refuse it (each with its refusal texts), the effect it has,
the tracks one instance acts on, and the concrete choices a menu offers for
it. The machine, ``explain()``/``available()``, the message catalogs and the
strategies of :mod:`regflow.testing` are built from these specs, and
:func:`regflow._catalog.check_catalog` checks them when regflow is imported.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Final, Generic, TypeVar

import attrs

from .._events import Event
from .._messages import Param, Refusal
from .._registration import Registration
from .._rules import PlanYearRules
from .._states import Actor, IndividualState, ShopState, Track

__all__ = [
    "OK",
    "Condition",
    "Effect",
    "EventSpec",
    "Guard",
    "Refusals",
    "Step",
    "TrackState",
    "Texts",
    "guard",
    "no_change",
    "refuse",
]

E = TypeVar("E", bound=Event)
# A guard of any event serves a spec of one kind of event: contravariant.
G = TypeVar("G", bound=Event, contravariant=True)

Refusals = tuple[Refusal, ...]
Texts = Mapping[str, str]
"""One text in each locale: ``{"en": ..., "es": ...}``."""
TrackState = IndividualState | ShopState
Changes = dict[str, Any]
Condition = Callable[[Registration, Any, PlanYearRules], bool]
"""Picks a step's destination from the registration *after* the effect."""
Effect = Callable[[Registration, Any, PlanYearRules], Changes]
"""Returns the fields an accepted event changes; never refuses, never sets a state."""
Values = Mapping[str, Any]

OK: Final[Refusals] = ()


def refuse(code: str, **params: Param) -> Refusals:
    """One refusal, as a guard returns it."""
    return (Refusal(code, params),)


@attrs.frozen(slots=True, eq=False)
class Guard(Generic[G]):
    """A named check enforcing one rule, and the texts of its refusals.

    Attributes:
        rule: the rule it enforces: a seed rule (``S1``..``S22``) or one of
            regflow's own (``start``, ``time``).
        check: ``(registration, event, rules) -> refusals``; the registration
            is the one the event is for (for a start: the agent's registration
            of the year before, if known, else ``None``).
        texts: each refusal code it may return, in each shipped locale.
        name: the function's name.
    """

    rule: str
    check: Callable[[Any, G, PlanYearRules], Refusals] = attrs.field(repr=False)
    texts: Mapping[str, Texts] = attrs.field(repr=False)
    name: str

    @property
    def codes(self) -> tuple[str, ...]:
        """The refusal codes this guard may return."""
        return tuple(self.texts)


def guard(
    rule: str, texts: Mapping[str, Texts]
) -> Callable[[Callable[[Any, E, PlanYearRules], Refusals]], Guard[E]]:
    """Declare a guard for *rule* whose refusals are *texts*' codes.

    Example::

        @guard("S21", {"S21.find_local_help_not_chosen": {"en": ..., "es": ...}})
        def opted_in_find_local_help(reg, event, rules): ...
    """

    def declare(check: Callable[[Any, E, PlanYearRules], Refusals]) -> Guard[E]:
        return Guard(rule=rule, check=check, texts=texts, name=check.__name__)

    return declare


@attrs.frozen(slots=True)
class Step:
    """On an event, from any of *sources* on *track*, go to *dest* if *when* holds.

    ``dest=None`` stays (an internal transition). The steps of one event on
    one track are tried in order; the last one from each source must have no
    condition, so that an accepted event always lands somewhere.
    """

    track: Track
    sources: tuple[TrackState, ...]
    dest: TrackState | None = None
    when: Condition | None = None


def no_change(reg: Registration, event: Event, rules: PlanYearRules) -> Changes:
    """The effect of an event that changes no field, only a track's state."""
    return {}


def _one_choice(
    reg: Registration, rules: PlanYearRules, at: dt.datetime
) -> Sequence[Values]:
    return ({},)


def _nothing_filled(reg: Registration, rules: PlanYearRules, at: dt.datetime) -> Values:
    return {}


@attrs.frozen(slots=True, eq=False)
class EventSpec(Generic[E]):
    """Everything regflow knows of one event type.

    Attributes:
        type: the event class.
        actor: who sends it.
        label: what a menu calls it, in each shipped locale.
        steps: its steps on each track.
        guards: what may refuse it, in the order refusals are reported.
        effect: the fields an accepted instance changes (:func:`no_change`
            for an event that only moves a state); the start has none.
        tracks: the tracks one instance acts on, when that depends on the
            instance (an agreement's, a curriculum's); by default the tracks
            of its steps.
        choices: the concrete choices a menu offers now, as field values
            (which agreements remain, which curricula may be added, which
            vendors); at least one, ``{}`` when there is nothing to choose.
        filled: values for the fields a person does not choose in a menu
            (the profile form, a launch's id and expiry), used to probe.
        filled_by: fields filled by someone other than the actor, e.g. the
            portal's launch id.
    """

    type: type[E]
    actor: Actor
    label: Texts
    steps: tuple[Step, ...]
    guards: tuple[Guard[E], ...] = ()
    effect: Effect | None = None
    tracks: Callable[[Registration, E, PlanYearRules], frozenset[Track]] | None = None
    choices: Callable[[Registration, PlanYearRules, dt.datetime], Sequence[Values]] = (
        _one_choice
    )
    filled: Callable[[Registration, PlanYearRules, dt.datetime], Values] = (
        _nothing_filled
    )
    filled_by: Mapping[str, Actor] = attrs.field(factory=dict)
    step_tracks: frozenset[Track] = attrs.field(init=False, eq=False, repr=False)

    def __attrs_post_init__(self) -> None:
        found = frozenset(step.track for step in self.steps)
        object.__setattr__(self, "step_tracks", found)

    @property
    def kind(self) -> str:
        """The event's stable tag, e.g. ``accept_agreement``."""
        return self.type.kind

    @property
    def fields(self) -> tuple[str, ...]:
        """The fields a form fills: every field but ``event_id`` and ``at``."""
        return tuple(
            f.name for f in attrs.fields(self.type) if f.name not in ("event_id", "at")
        )

    def targets(
        self, reg: Registration, event: E, rules: PlanYearRules
    ) -> frozenset[Track]:
        """The tracks *event* acts on."""
        if self.tracks is None:
            return self.step_tracks
        return self.tracks(reg, event, rules)
