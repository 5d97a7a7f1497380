"""orderings(): broken step orderings with the catalog's verdict on each event."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, Phase, find, given, settings

import regflow
from regflow import events as ev
from regflow.store import Repository, SQLiteStore
from regflow.store._flows import applied_before
from regflow.testing import (
    MUTATIONS,
    Coverage,
    Ordering,
    Triple,
    assert_agrees,
    orderings,
    triples,
)

FAST = settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)


class MemoryHost:
    """A correct host: idempotent by event id, else the workflow's verdict."""

    def __init__(self, plan_year: int = 2024) -> None:
        self.flow = regflow.Workflow.for_plan_year(plan_year)
        self.reg: regflow.Registration | None = None

    def start(self, event: ev.StartRegistration) -> regflow.Registration:
        self.reg = self.flow.start(event)
        return self.reg

    def apply(self, reg: regflow.Registration, event: ev.Event) -> regflow.Registration:
        assert self.reg is not None
        seq = applied_before(self.reg, event)
        if seq is not None:
            return self.flow.replay(self.reg.history[:seq])
        self.reg = self.flow.apply(self.reg, event)
        return self.reg


class ForgetfulHost(MemoryHost):
    """A planted bug: a resend is applied again instead of recognised."""

    def apply(self, reg: regflow.Registration, event: ev.Event) -> regflow.Registration:
        assert self.reg is not None
        self.reg = self.flow.apply(self.reg, event)
        return self.reg


def _disagrees(host: type[MemoryHost], ordering: Ordering) -> bool:
    try:
        assert_agrees(ordering, (made := host()).start, made.apply)
    except AssertionError:
        return True
    except regflow.RegflowError:
        return True
    return False


@FAST
@given(orderings())
def test_a_correct_host_agrees_with_every_ordering(ordering: Ordering) -> None:
    host = MemoryHost()
    assert assert_agrees(ordering, host.start, host.apply) == ordering.final
    assert len(ordering.expected) == len(ordering.events)
    for outcome in ordering.expected:
        assert (outcome.verdict == "refused") == bool(outcome.codes)


@settings(max_examples=15, deadline=None)
@given(orderings(max_events=6))
def test_a_store_backed_host_agrees(
    tmp_path_factory: pytest.TempPathFactory, ordering: Ordering
) -> None:
    path = tmp_path_factory.mktemp("orderings") / "r.sqlite3"
    with Repository(SQLiteStore(str(path))) as repo:
        key = (ordering.start.agent_id, ordering.start.plan_year)
        assert_agrees(ordering, repo.start, lambda reg, event: repo.apply(*key, event))


@pytest.mark.parametrize("kind", MUTATIONS)
def test_each_mutation_happens_and_breaks_the_path(kind: str) -> None:
    # Some draw of each kind applies it and makes an event refused or resent.
    found = find(
        orderings(mutations=[kind]),  # type: ignore[list-item]
        lambda o: (
            kind in o.mutations and any(out.verdict != "accepted" for out in o.expected)
        ),
        # The first found is enough: shrinking it is what costs.
        settings=settings(
            max_examples=2000, deadline=None, database=None, phases=[Phase.generate]
        ),
    )
    assert kind in found.mutations


def test_a_planted_host_bug_shrinks_to_three_events() -> None:
    minimal = find(
        orderings(),
        lambda o: _disagrees(ForgetfulHost, o),
        settings=settings(max_examples=500, deadline=None, database=None),
    )
    assert len(minimal) <= 3, minimal
    assert minimal.mutations == ("resend",)
    assert [o.verdict for o in minimal.expected][-1] == "resent"


@FAST
@given(orderings(mutations=["out_of_order"]))
def test_an_event_dated_before_the_start_is_refused_for_its_time(
    ordering: Ordering,
) -> None:
    # Dated before the event before it is the catalog's business (often
    # allowed); before the start never is.
    for event, outcome in zip(ordering.events, ordering.expected, strict=True):
        if event.at < ordering.start.at and outcome.verdict != "resent":
            assert outcome.verdict == "refused"
            assert {"time.before_start", "time.outside_plan_year"} & set(outcome.codes)


def test_unknown_mutations_are_refused() -> None:
    with pytest.raises(ValueError, match="mutations must be"):
        orderings(mutations=["shuffle"])  # type: ignore[list-item]


@settings(max_examples=20, deadline=None, database=None)
@given(orderings(max_events=6))
def test_orderings_sent_through_a_host_are_recorded_as_coverage(
    ordering: Ordering,
) -> None:
    host = MemoryHost()
    with Coverage() as coverage:
        assert_agrees(ordering, host.start, host.apply)
    flow = host.flow
    expected: set[Triple] = set()
    reg = flow.start(ordering.start)
    for event, want in zip(ordering.events, ordering.expected, strict=True):
        if want.verdict == "resent":
            continue  # the store answers it: nothing is judged again
        expected |= triples(flow, reg, event)
        if want.verdict == "accepted":
            reg = flow.apply(reg, event)
    assert coverage.reached(2024) == expected
