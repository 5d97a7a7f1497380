"""The catalog of events: every event type described once, and checked.

:data:`CATALOG` lists an :class:`EventSpec` per event type, the start first.
:func:`check_catalog` runs when regflow is imported (and on any catalog a
test builds): an event type with no spec, a spec with no step or no effect, a
label or refusal text missing in a shipped locale, a guard naming a rule
regflow does not know, a state no step reaches, a goal no track reaches, or
steps that can leave an accepted event nowhere is a
:class:`~regflow.DefinitionError` that says how to fix it.
"""

from __future__ import annotations

import string
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, Final

from .. import _events as ev
from .._errors import DefinitionError
from .._messages import SHIPPED_LOCALES
from .._messages import install as _install_texts
from .._states import IndividualState, ShopState, Track
from ._common import in_plan_year, not_before_start
from ._spec import (
    OK,
    Effect,
    EventSpec,
    Guard,
    Refusals,
    Step,
    TrackState,
    guard,
    no_change,
    refuse,
)
from .agreements import ACCEPT_AGREEMENT, DECLINE_AGREEMENT, PRINT_CERTIFICATE
from .lists import (
    CONFIRM_TRACKER,
    CONTACT_HELP_DESK,
    OBSERVE_FIND_LOCAL_HELP,
    OBSERVE_RCL_LISTING,
    REINSTATE,
    TERMINATE,
)
from .profile import COMPLETE_PROFILE, ERASE_CONTACT_DETAILS, SAVE_PROFILE
from .start import START
from .training import (
    COMPLETE_MLMS_TRAINING,
    COMPLETE_VENDOR_TRAINING,
    ENROLL_CURRICULUM,
    LAUNCH_VENDOR_TRAINING,
    PORTAL_LOGIN,
)

__all__ = [
    "BY_KIND",
    "BY_TYPE",
    "CATALOG",
    "COMMON_GUARDS",
    "GOALS",
    "INITIAL",
    "KNOWN_RULES",
    "OK",
    "TRACK_STATES",
    "Effect",
    "EventSpec",
    "Guard",
    "Refusals",
    "Step",
    "catalog_texts",
    "check_catalog",
    "guard",
    "no_change",
    "refuse",
]

KNOWN_RULES: Final = frozenset({f"S{n}" for n in range(1, 23)} | {"start", "time"})
"""The rules a guard may enforce: the seed's S1-S22, and regflow's own
``start`` (which plan year) and ``time`` (when an event may be dated)."""

TRACK_STATES: Final[Mapping[Track, type[IndividualState] | type[ShopState]]] = {
    Track.INDIVIDUAL: IndividualState,
    Track.SHOP: ShopState,
}
INITIAL: Final[Mapping[Track, TrackState]] = {
    Track.INDIVIDUAL: IndividualState.PROFILE_INCOMPLETE,
    Track.SHOP: ShopState.PROFILE_INCOMPLETE,
}
GOALS: Final[Mapping[Track, TrackState]] = {
    Track.INDIVIDUAL: IndividualState.CERTIFIED,
    Track.SHOP: ShopState.LISTED,
}

CATALOG: Final[tuple[EventSpec[Any], ...]] = (
    START,
    SAVE_PROFILE,
    COMPLETE_PROFILE,
    ENROLL_CURRICULUM,
    COMPLETE_MLMS_TRAINING,
    LAUNCH_VENDOR_TRAINING,
    COMPLETE_VENDOR_TRAINING,
    PORTAL_LOGIN,
    ACCEPT_AGREEMENT,
    DECLINE_AGREEMENT,
    PRINT_CERTIFICATE,
    CONFIRM_TRACKER,
    OBSERVE_FIND_LOCAL_HELP,
    OBSERVE_RCL_LISTING,
    CONTACT_HELP_DESK,
    TERMINATE,
    REINSTATE,
    ERASE_CONTACT_DETAILS,
)
"""Every event type regflow knows, in the order a registration meets them."""

COMMON_GUARDS: Final[tuple[Guard[Any], ...]] = (in_plan_year, not_before_start)
"""Run before every event's own guards (the start runs the first only)."""


def _event_types() -> list[type[ev.Event]]:
    return [getattr(ev, name) for name in ev.__all__ if name != "Event"]


def check_catalog(
    specs: Sequence[EventSpec[Any]],
    *,
    event_types: Iterable[type[ev.Event]] | None = None,
    locales: Sequence[str] = SHIPPED_LOCALES,
) -> None:
    """Raise :class:`DefinitionError` naming every fix *specs* need."""
    problems: list[str] = []
    wanted = list(_event_types() if event_types is None else event_types)
    seen: dict[str, EventSpec[Any]] = {}
    for spec in specs:
        if spec.kind in seen:
            problems.append(f"event {spec.kind!r} is described twice: keep one spec")
        seen[spec.kind] = spec
    for cls in wanted:
        if cls.kind not in seen:
            problems.append(
                f"event {cls.kind!r} ({cls.__name__}) has no spec: add an EventSpec "
                "for it to the catalog"
            )
    owners: dict[str, str] = {}
    for item in COMMON_GUARDS:
        problems += _guard_problems("every event", item, locales, owners)
    for spec in specs:
        problems += _spec_problems(spec, locales, owners)
    problems += _track_problems(specs)
    if problems:
        raise DefinitionError(
            "broken registration catalog:\n  " + "\n  ".join(problems)
        )


def _spec_problems(
    spec: EventSpec[Any], locales: Sequence[str], owners: dict[str, str]
) -> list[str]:
    where = f"event {spec.kind!r}"
    problems: list[str] = []
    starts = spec.type is ev.StartRegistration
    if not starts and not spec.steps:
        problems.append(f"{where} has no step: give it one, or drop the event")
    if not starts and spec.effect is None:
        problems.append(
            f"{where} has no effect: give it one (effect=no_change if it only "
            "moves a state)"
        )
    for locale in locales:
        if not spec.label.get(locale, "").strip():
            problems.append(
                f"{where} has no label in {locale!r}: add label[{locale!r}]"
            )
    for item in spec.guards:
        problems += _guard_problems(where, item, locales, owners)
    for number, step in enumerate(spec.steps, 1):
        enum = TRACK_STATES[step.track]
        for state in (*step.sources, step.dest):
            if state is not None and not isinstance(state, enum):
                problems.append(
                    f"{where} step {number}: {state!r} is not a state of the "
                    f"{step.track.value} track; use {enum.__name__}"
                )
    return problems


def _guard_problems(
    where: str, item: Guard[Any], locales: Sequence[str], owners: dict[str, str]
) -> list[str]:
    problems: list[str] = []
    if item.rule not in KNOWN_RULES:
        problems.append(
            f"{where}: guard {item.name!r} enforces unknown rule {item.rule!r}; name "
            "one of S1-S22, 'start' or 'time'"
        )
    for code, texts in item.texts.items():
        if not code.startswith(f"{item.rule}."):
            problems.append(
                f"{where}: guard {item.name!r} refuses with {code!r}, which is not "
                f"under its rule {item.rule!r}: name it {item.rule}.<reason>"
            )
        owner = owners.setdefault(code, item.name)
        if owner != item.name:
            problems.append(
                f"refusal {code!r} is declared by guards {owner!r} and {item.name!r}: "
                "give each its own code"
            )
        fields = None
        for locale in locales:
            text = texts.get(locale, "")
            if not text.strip():
                problems.append(
                    f"{where}: refusal {code!r} has no text in {locale!r}: add it "
                    f"to guard {item.name!r}"
                )
                continue
            names = {f for _, f, _, _ in string.Formatter().parse(text) if f}
            if fields is not None and names != fields:
                problems.append(
                    f"refusal {code!r} uses fields {sorted(names)} in {locale!r} but "
                    f"{sorted(fields)} elsewhere: use the same ones"
                )
            fields = names
    return problems


def _track_problems(specs: Sequence[EventSpec[Any]]) -> list[str]:
    problems: list[str] = []
    for track, enum in TRACK_STATES.items():
        steps = [
            (spec.kind, s) for spec in specs for s in spec.steps if s.track is track
        ]
        reachable: set[TrackState] = {INITIAL[track]}
        changed = True
        while changed:
            changed = False
            for _, step in steps:
                dest = step.dest
                if (
                    dest is not None
                    and dest not in reachable
                    and reachable.intersection(step.sources)
                ):
                    reachable.add(dest)
                    changed = True
        for state in enum:
            if state not in reachable:
                problems.append(
                    f"state {state.value!r} of the {track.value} track is unreachable: "
                    "add a step whose dest it is, from a reachable state"
                )
        if GOALS[track] not in reachable:
            problems.append(
                f"the {track.value} track's goal {GOALS[track].value!r} cannot be reached"
            )
        last: dict[tuple[TrackState, str], Step] = {}
        for kind, step in steps:
            for source in step.sources:
                last[(source, kind)] = step
        for (source, kind), step in last.items():
            if step.when is not None:
                problems.append(
                    f"event {kind!r} from {track.value} {source.value!r} can match no "
                    "step: give its last step there no condition"
                )
    return problems


def catalog_texts(
    specs: Sequence[EventSpec[Any]] = CATALOG,
    locales: Sequence[str] = SHIPPED_LOCALES,
) -> dict[str, dict[str, str]]:
    """Every text the catalog defines, by locale: event labels and refusals."""
    found: dict[str, dict[str, str]] = {locale: {} for locale in locales}
    guards = [item for spec in specs for item in spec.guards]
    for spec in specs:
        for locale in locales:
            found[locale][f"event.{spec.kind}"] = spec.label[locale]
    for item in (*COMMON_GUARDS, *guards):
        for code, texts in item.texts.items():
            for locale in locales:
                found[locale][code] = texts[locale]
    return found


BY_KIND: Final[Mapping[str, EventSpec[Any]]] = {spec.kind: spec for spec in CATALOG}
BY_TYPE: Final[Mapping[type[ev.Event], EventSpec[Any]]] = {
    spec.type: spec for spec in CATALOG
}

check_catalog(CATALOG)
_install_texts(catalog_texts())
