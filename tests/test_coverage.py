"""Transition coverage: the triples, the explored universe, the shipped run."""

from __future__ import annotations

import datetime as dt
import unittest
from pathlib import Path

from hypothesis import settings

from regflow import StepRefused, Workflow
from regflow import events as ev
from regflow._catalog import BY_KIND, CATALOG, TRACK_STATES
from regflow.testing import (
    Coverage,
    RegistrationMachine,
    Triple,
    reachable,
    triples,
)
from regflow.testing._explore import _load, _save

AT = dt.datetime(2023, 9, 1, 10, tzinfo=dt.UTC)
FLOW = Workflow.for_plan_year(2024)


def _start() -> ev.StartRegistration:
    return ev.StartRegistration(
        event_id="s", at=AT, agent_id="a", portal_account_id="p", plan_year=2024
    )


def test_the_shipped_stateful_test_covers_every_reachable_triple() -> None:
    # RegistrationMachine.TestCase as shipped, at its default settings: the
    # suite's one run of it (tests/test_stateful.py runs another plan year).
    case = RegistrationMachine.TestCase
    assert case.settings.max_examples == 60
    assert case.settings.stateful_step_count == 40
    with Coverage() as coverage:
        result = unittest.TextTestRunner(verbosity=0).run(
            unittest.defaultTestLoader.loadTestsFromTestCase(case)
        )
    assert result.wasSuccessful(), result.failures + result.errors
    universe = reachable(2024)
    assert coverage.missing(2024) == (), coverage.report()
    assert universe.triples <= coverage.reached(2024)
    # Every (track, state) pair of both tracks is met, and each event type.
    met = {(t.track, t.state) for t in universe.triples}
    for track, states in TRACK_STATES.items():
        assert {(track.value, s.value) for s in states} <= met
    assert {t.event for t in universe.triples} == {s.kind for s in CATALOG[1:]}


def test_every_reachable_triple_names_a_real_state_event_and_code() -> None:
    universe = reachable(2024)
    assert universe.registrations > 1000
    for triple in universe.triples:
        spec = BY_KIND[triple.event]
        states = {s.value for enum in TRACK_STATES.values() for s in enum}
        assert triple.state in states
        if triple.outcome != "accepted":
            codes = {c for g in spec.guards for c in g.codes}
            assert triple.outcome in codes or triple.outcome.split(".")[0] in {
                "state",
                "time",
                "start",
            }, triple


def test_a_refused_event_gives_one_triple_per_code_and_an_accepted_one_one() -> None:
    reg = FLOW.start(_start())
    login = ev.PortalLogin(event_id="l", at=AT)
    found = triples(FLOW, reg, login)
    assert found and all(t.outcome != "accepted" for t in found)
    assert {t.outcome for t in found} == {
        r.code for r in FLOW.check(reg, login).refusals
    }
    save = ev.SaveProfile(event_id="p", at=AT, profile=reg.profile)
    assert triples(FLOW, reg, save) == {
        Triple("individual", "profile_incomplete", "save_profile", "accepted")
    }
    assert str(next(iter(triples(FLOW, reg, save)))) == (
        "individual profile_incomplete: save_profile -> accepted"
    )


def test_coverage_records_only_while_active_and_nested_ones_both() -> None:
    class Once(RegistrationMachine):
        tours = False

    def walk() -> None:
        Once.TestCase.settings = settings(
            max_examples=2, stateful_step_count=3, database=None, deadline=None
        )
        unittest.TextTestRunner(verbosity=0).run(
            unittest.defaultTestLoader.loadTestsFromTestCase(Once.TestCase)
        )

    outside = Coverage()
    walk()
    assert outside.plan_years == ()
    with Coverage() as outer:
        with Coverage() as inner:
            walk()
        walk()
    assert inner.reached(2024) and inner.reached(2024) <= outer.reached(2024)
    assert outside.report() == "regflow coverage: no event was sent through a host"


def test_the_report_lists_what_was_never_reached_per_track() -> None:
    reg = FLOW.start(_start())
    with Coverage() as coverage:
        from regflow.testing._coverage import _observe

        _observe(FLOW, reg, ev.SaveProfile(event_id="p", at=AT, profile=reg.profile))
    report = coverage.report()
    total = len(reachable(2024).triples)
    assert report.splitlines()[0] == (
        f"regflow coverage, plan year 2024: 1 of {total} reachable triples"
    )
    assert "  individual: 1 of " in report and "  shop: 0 of " in report
    assert "    never: shop profile_incomplete: complete_profile -> " in report
    assert len(coverage.missing(2024)) == total - 1


def test_each_tour_is_followed_to_its_end_through_a_host() -> None:
    tours = reachable(2024).tours
    assert 1 <= len(tours) <= 30
    for number, tour in enumerate(tours, 1):
        machine = RegistrationMachine()
        machine.follow(tour)
        assert machine.reg is not None, number
        assert machine.accepted == len(tour.steps), f"tour {number} went off"
        assert len(tour.steps) <= 38, "a tour must fit in the default 40 steps"


def test_random_walks_alone_leave_triples_unreached_and_the_check_says_so() -> None:
    # The check above can fail: without the tours, a short run misses some.
    class Walks(RegistrationMachine):
        tours = False

    Walks.TestCase.settings = settings(
        max_examples=5, stateful_step_count=10, database=None, deadline=None
    )
    with Coverage() as coverage:
        unittest.TextTestRunner(verbosity=0).run(
            unittest.defaultTestLoader.loadTestsFromTestCase(Walks.TestCase)
        )
    missing = coverage.missing(2024)
    assert missing
    assert f"    never: {missing[0]}" in coverage.report()


def test_the_report_counts_triples_beyond_the_exploration() -> None:
    reg = FLOW.start(_start())
    odd = ev.SaveProfile(event_id="p", at=AT.replace(year=2030), profile=reg.profile)
    assert not triples(FLOW, reg, odd) <= reachable(2024).triples  # out of window
    with Coverage() as coverage:
        from regflow.testing._coverage import _observe

        _observe(FLOW, reg, odd)
    beyond = len(triples(FLOW, reg, odd) - reachable(2024).triples)
    assert coverage.report().splitlines()[-1] == (
        f"  beyond the exploration: {beyond} more reached"
    )


def test_the_exploration_is_kept_between_processes_and_refound_when_unreadable(
    tmp_path: Path,
) -> None:
    found = reachable(2024)
    _save(tmp_path, found)
    (path,) = tmp_path.glob("reachable-2024-*.json")
    assert _load(tmp_path, 2024) == found
    assert _load(tmp_path, 2026) is None  # another year: not this file
    path.write_text('{"plan_year": 2024, "triples": [', encoding="utf-8")
    assert _load(tmp_path, 2024) is None  # half written: explored anew
    path.write_text('{"plan_year": "x"}', encoding="utf-8")
    assert _load(tmp_path, 2024) is None
    blocked = tmp_path / "file"
    blocked.write_text("", encoding="utf-8")
    _save(blocked / "sub", found)  # cannot be a folder: skipped, no error
    assert not list(tmp_path.glob("*.tmp"))


def test_a_host_bug_on_a_tour_fails_the_test_case_naming_the_tour() -> None:
    class LosesTheSecondAgreement(RegistrationMachine):
        """A planted bug: a second accepted agreement is refused."""

        def do_apply(self, reg, event):  # type: ignore[no-untyped-def]
            if isinstance(event, ev.AcceptAgreement) and reg.accepted_agreements:
                raise StepRefused((), reg, event)
            return super().do_apply(reg, event)

    LosesTheSecondAgreement.TestCase.settings = settings(
        max_examples=1, stateful_step_count=2, database=None, deadline=None
    )
    result = unittest.TextTestRunner(verbosity=0).run(
        unittest.defaultTestLoader.loadTestsFromTestCase(
            LosesTheSecondAgreement.TestCase
        )
    )
    assert not result.wasSuccessful()
    (_, trace), *_ = result.failures
    assert "AssertionError: tour " in trace and "check allowed" in trace
