"""A (state, event, outcome) triple: what one event sent to a registration exercises."""

from __future__ import annotations

import functools
from collections.abc import Iterable
from typing import Final

import attrs

from .. import _events as ev
from .._messages import Refusal
from .._registration import Registration
from .._states import Track
from .._workflow import Workflow

__all__ = ["ACCEPTED", "Triple", "triples"]

ACCEPTED: Final = "accepted"


@attrs.frozen(order=True, slots=True)
class Triple:
    """One track's state, an event type sent in it, and its outcome.

    Attributes:
        track: ``"individual"`` or ``"shop"``.
        state: the track's state when the event was sent.
        event: the event's kind, e.g. ``"accept_agreement"``.
        outcome: ``"accepted"``, or one refusal code it was refused with.
    """

    track: str
    state: str
    event: str
    outcome: str

    def __str__(self) -> str:
        """``shop training: enroll_curriculum -> accepted``."""
        return f"{self.track} {self.state}: {self.event} -> {self.outcome}"


def triples(flow: Workflow, reg: Registration, event: ev.Event) -> frozenset[Triple]:
    """The triples sending *event* to *reg* exercises, as the catalog judges it.

    One per track the event acts on (the tracks of its steps when it acts on
    none, e.g. a SHOP agreement for an agent without SHOP), and per refusal
    code when refused.
    """
    refusals, spec, targets = flow._decide(reg, event)
    return _triples(reg, spec.kind, targets or spec.step_tracks, refusals)


def _triples(
    reg: Registration,
    kind: str,
    tracks: Iterable[Track],
    refusals: Iterable[Refusal],
) -> frozenset[Triple]:
    return _triples_of(
        reg.individual.value,
        reg.shop.value,
        kind,
        tuple(tracks),
        tuple(sorted({r.code for r in refusals})),
    )


@functools.lru_cache(maxsize=4096)
def _triples_of(
    individual: str,
    shop: str,
    kind: str,
    tracks: tuple[Track, ...],
    codes: tuple[str, ...],
) -> frozenset[Triple]:
    # Memoized: exploring the catalog judges about a million choices.
    found = set()
    for track in tracks:
        state = individual if track is Track.INDIVIDUAL else shop
        for outcome in codes or (ACCEPTED,):
            found.add(Triple(track.value, state, kind, outcome))
    return frozenset(found)
