"""Invalid step orderings, each with the catalog's verdict on every event.

:func:`orderings` draws a path of accepted events and then breaks it the
ways real users and flaky networks do. The expected outcome of each event is
not hand-written: it is what :meth:`Workflow.check` says of it on the
registration the events accepted before it made, with a resend of an id
already accepted being the store's idempotent no-op. A host replays the
events through its own service layer and asserts it agrees
(:func:`assert_agrees`).
"""

from __future__ import annotations

import datetime as dt
import enum
from collections.abc import Callable, Sequence
from typing import Any, Final, Literal

import attrs
from hypothesis import strategies as st

from .. import _events as ev
from .._catalog import BY_TYPE
from .._errors import StepRefused
from .._records import TerminationReason
from .._registration import Registration
from .._workflow import Workflow
from ._core import _EPOCH, _choices, _good_profiles, _starts
from ._coverage import _observe

__all__ = ["MUTATIONS", "Ordering", "Outcome", "assert_agrees", "orderings"]

Mutation = Literal[
    "swap", "skip", "repeat", "resend", "wrong_track", "out_of_order", "terminated"
]
MUTATIONS: Final[tuple[Mutation, ...]] = (
    "swap",
    "skip",
    "repeat",
    "resend",
    "wrong_track",
    "out_of_order",
    "terminated",
)
"""The ways :func:`orderings` breaks a path, simplest first (shrinking
prefers the earlier ones)."""

Verdict = Literal["accepted", "refused", "resent"]


@attrs.frozen(slots=True)
class Outcome:
    """What must happen to one event of an ordering.

    Attributes:
        verdict: ``"accepted"`` (applied, version + 1), ``"refused"``
            (:class:`~regflow.StepRefused`, nothing changes) or ``"resent"``
            (its id was accepted before: the registration as that event left
            it comes back, nothing is applied again).
        codes: the refusal codes, in the order the catalog reports them;
            empty unless refused.
    """

    verdict: Verdict
    codes: tuple[str, ...] = ()


@attrs.frozen(slots=True)
class Ordering:
    """A start, events after it, and the catalog's verdict on each.

    Attributes:
        start: the :class:`~regflow.events.StartRegistration`.
        events: the events after it, in the order to send them.
        expected: one :class:`Outcome` per event.
        mutations: how the accepted path was broken, in the order applied.
        final: the registration the accepted events leave.
    """

    start: ev.StartRegistration
    events: tuple[ev.Event, ...]
    expected: tuple[Outcome, ...]
    mutations: tuple[str, ...]
    final: Registration = attrs.field(repr=False)

    def __len__(self) -> int:
        """Events sent, the start included."""
        return 1 + len(self.events)


def _verdicts(
    flow: Workflow, start: ev.StartRegistration, events: Sequence[ev.Event]
) -> tuple[tuple[Outcome, ...], Registration]:
    """The catalog's verdict on each of *events*, folded from *start*."""
    reg = flow.start(start)
    accepted = {start.event_id}
    found: list[Outcome] = []
    for event in events:
        if event.event_id in accepted:
            found.append(Outcome("resent"))
            continue
        decision = flow.check(reg, event)
        if decision.allowed:
            reg = flow.apply(reg, event)
            accepted.add(event.event_id)
            found.append(Outcome("accepted"))
        else:
            found.append(Outcome("refused", tuple(r.code for r in decision.refusals)))
    return tuple(found), reg


def _path(
    draw: st.DrawFn, flow: Workflow, start: ev.StartRegistration, length: int
) -> list[tuple[Registration, ev.Event]]:
    """Up to *length* accepted events, each with the registration it met."""
    reg = flow.start(start)
    at = start.at
    path: list[tuple[Registration, ev.Event]] = []
    for n in range(length):
        # "One more?" before each step, as st.lists draws: the shrinker
        # deletes a step whole (0 stops), where shrinking a drawn length would
        # shift every later draw and often get stuck. 1 in 8 stops: paths
        # long enough to reach agreements and lists.
        if draw(st.integers(0, 7)) == 0:
            break
        at += dt.timedelta(days=draw(st.integers(0, 3)), hours=1)
        _, valid = _choices(reg, flow, at)
        profile = attrs.evolve(draw(_good_profiles()), at=at)
        # A complete profile first when the menu still lacks one: a walk that
        # never passes the profile explores little.
        options = [profile, *valid] if flow.check(reg, profile) else valid
        if not options:
            break
        event = attrs.evolve(draw(st.sampled_from(options)), event_id=f"o{n + 1}")
        path.append((reg, event))
        reg = flow.apply(reg, event)
    return path


def _wrong_tracks(flow: Workflow, reg: Registration, event: ev.Event) -> list[ev.Event]:
    """*event* with one enum field changed so that it acts on other tracks.

    Derived from the catalog: the specs whose tracks depend on the instance
    (an agreement's, a curriculum's, a termination's scope) say which.
    """
    spec = BY_TYPE[type(event)]
    if spec.tracks is None:
        return []
    own = spec.targets(reg, event, flow.rules)
    attrs.resolve_types(spec.type)
    found: list[ev.Event] = []
    for field in attrs.fields(spec.type):
        hint = field.type
        if not (isinstance(hint, type) and issubclass(hint, enum.Enum)):
            continue
        for value in hint:
            changes: dict[str, Any] = {field.name: value}
            moved = attrs.evolve(event, **changes)
            if spec.targets(reg, moved, flow.rules) != own:
                found.append(moved)
    return found


def _mutate(
    draw: st.DrawFn,
    flow: Workflow,
    kind: Mutation,
    events: list[ev.Event],
    met: list[Registration],
    start: ev.StartRegistration,
    n: int,
) -> bool:
    """Break *events* in place the way *kind* says; False if it cannot here.

    An event made anew gets an id of its own, suffixed with *n* (the
    mutation's number): two double clicks are two ids, not a resend.
    """
    if kind == "terminated":
        i = draw(st.integers(0, len(events)))
        at = events[i - 1].at if i else start.at
        reason = draw(st.sampled_from(TerminationReason))
        row = ev.Terminate(event_id=f"t{n}", at=at, reason=reason)
        events.insert(i, row)
        met.insert(i, met[i - 1] if i else flow.start(start))
        return True
    if not events:
        return False
    i = draw(st.integers(0, len(events) - 1))
    event = events[i]
    if kind == "swap":
        if len(events) < 2:
            return False
        j = i + 1 if i + 1 < len(events) else i - 1
        events[i], events[j] = events[j], events[i]
    elif kind == "skip":
        del events[i]
        del met[i]
    elif kind == "repeat":
        # The same fact again under a new id: a double click.
        events.insert(i + 1, attrs.evolve(event, event_id=f"{event.event_id}+{n}"))
        met.insert(i + 1, met[i])
    elif kind == "resend":
        # The same id again, maybe stamped later: a retry after a timeout.
        later = draw(st.sampled_from([0, 1]))
        again = attrs.evolve(event, at=event.at + dt.timedelta(minutes=later))
        j = draw(st.integers(i + 1, len(events)))
        events.insert(j, again)
        met.insert(j, met[i])
    elif kind == "wrong_track":
        wrong = _wrong_tracks(flow, met[i], event)
        if not wrong:
            return False
        changed = draw(st.sampled_from(wrong))
        events[i] = attrs.evolve(changed, event_id=f"{event.event_id}~{n}")
    elif kind == "out_of_order":
        # Dated before the start, or before the event before it.
        before = events[i - 1].at if i else start.at
        gap = dt.timedelta(days=draw(st.sampled_from([1, 40])))
        events[i] = attrs.evolve(
            event, event_id=f"{event.event_id}<{n}", at=before - gap
        )
    return True


def orderings(
    plan_year: int = 2024,
    max_events: int = 12,
    max_mutations: int = 3,
    mutations: Sequence[Mutation] = MUTATIONS,
) -> st.SearchStrategy[Ordering]:
    """A path of accepted events broken by up to *max_mutations* *mutations*.

    Each :class:`Ordering` carries the catalog's verdict on every event.
    Shrinking drops mutations and events, so a host that disagrees is shown
    a minimal wrong ordering.

    Raises:
        ValueError: *mutations* is empty or names one not in :data:`MUTATIONS`.
    """
    unknown = set(mutations) - set(MUTATIONS)
    if unknown or not mutations:
        raise ValueError(f"mutations must be some of {MUTATIONS} (got {mutations!r})")
    return _orderings(plan_year, max_events, max_mutations, tuple(mutations))


@st.composite
def _orderings(
    draw: st.DrawFn,
    plan_year: int,
    max_events: int,
    max_mutations: int,
    mutations: tuple[Mutation, ...],
) -> Ordering:
    flow = Workflow.for_plan_year(plan_year)
    start = attrs.evolve(
        draw(_starts(plan_year, _EPOCH.replace(year=plan_year - 1))), event_id="o0"
    )
    # The mutations first: shrinking the path then leaves them in place.
    kinds = draw(
        st.lists(st.sampled_from(mutations), min_size=1, max_size=max_mutations)
    )
    path = _path(draw, flow, start, max_events)
    events = [event for _, event in path]
    met = [reg for reg, _ in path]
    applied: list[str] = []
    for n, kind in enumerate(kinds):
        if _mutate(draw, flow, kind, events, met, start, n):
            applied.append(kind)
    expected, final = _verdicts(flow, start, events)
    return Ordering(start, tuple(events), expected, tuple(applied), final)


Start = Callable[[ev.StartRegistration], Registration]
Apply = Callable[[Registration, ev.Event], Registration]


def assert_agrees(ordering: Ordering, start: Start, apply: Apply) -> Registration:
    """Send *ordering* through a host's *start* and *apply*; assert each verdict.

    Each event but a resent one is recorded by an active
    :class:`~regflow.testing.Coverage`.

    *apply* must behave like :meth:`regflow.store.Repository.apply`: return
    the registration after the event (as it was, for a resent id), or raise
    :class:`~regflow.StepRefused`.

    Returns:
        The last registration, which must equal ``ordering.final``.
    """
    reg = start(ordering.start)
    flow = Workflow.for_plan_year(ordering.start.plan_year)
    for n, (event, want) in enumerate(
        zip(ordering.events, ordering.expected, strict=True)
    ):
        where = f"event {n + 1} of {len(ordering.events)} ({event!r})"
        if want.verdict != "resent":
            _observe(flow, reg, event)
        try:
            after = apply(reg, event)
        except StepRefused as refused:
            codes = tuple(r.code for r in refused.refusals)
            assert want.verdict == "refused", f"{where}: refused {codes}, want {want}"
            assert codes == want.codes, f"{where}: refused {codes}, want {want.codes}"
            continue
        if want.verdict == "accepted":
            assert after.version == reg.version + 1, f"{where}: accepted, not applied"
            reg = after
        else:
            assert want.verdict == "resent", f"{where}: accepted, want {want}"
            # The store answers a resend with the registration as that event
            # left it, which may be older than the latest.
            assert after.version <= reg.version, f"{where}: a resend applied again"
    assert reg == ordering.final, "the host's registration differs from the catalog's"
    return reg
