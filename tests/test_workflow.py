"""The Workflow API: check, apply, available, replay, plan-year rules, aware times."""

from __future__ import annotations

import copy
import datetime as dt
from collections.abc import Callable

import attrs
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import regflow
from helpers import (
    UTC,
    accept_all,
    agent_profile,
    at,
    at_agreements,
    eid,
    finish_training,
    in_training,
    new_agent,
    non_agent_profile,
    on,
    registered,
    returning_agent,
    run,
    start,
)
from regflow import Agreement, Curriculum, IndividualState, NpnValidity, PlanYearRules
from regflow import events as ev

FLOW = regflow.Workflow.for_plan_year(2024)
GENERAL = Agreement.INDIVIDUAL_GENERAL
LISTS = (
    ev.PrintCertificate,
    ev.ConfirmTracker,
    ev.ObserveFindLocalHelp,
    ev.ObserveRclListing,
)


def bad_launch() -> ev.LaunchVendorTraining:
    """A launch wrong in every way: vendor, curriculum and expiry."""
    return ev.LaunchVendorTraining(
        event_id=eid(),
        at=at(3),
        vendor="Acme",
        launch_id="l-1",
        curriculum=Curriculum.SHOP,
        expires_at=at(3),
    )


def launched(flow: regflow.Workflow = FLOW) -> regflow.Registration:
    """A returning agent at a vendor, launched on the 3rd at 9:00 for two hours."""
    reg = in_training(flow, returning_agent(flow))
    return flow.apply(
        reg,
        ev.LaunchVendorTraining(
            event_id=eid(),
            at=at(3),
            vendor="INSXCloud",
            launch_id="l-1",
            curriculum=Curriculum.RETURNING,
            expires_at=at(3, 11),
        ),
    )


def vendor_completed() -> regflow.Registration:
    """A returning agent back from vendor training, not logged in yet."""
    reg = launched()
    assert reg.launch is not None
    return FLOW.apply(
        reg,
        ev.CompleteVendorTraining(
            event_id=eid(),
            at=at(3, 10),
            vendor="INSXCloud",
            launch_id="l-1",
            agent_id=reg.agent_id,
            plan_year=2024,
        ),
    )


def certified() -> regflow.Registration:
    """A certified agent."""
    return FLOW.apply(
        registered(FLOW),
        ev.ObserveRclListing(event_id=eid(), at=at(5), npn_valid=NpnValidity.VALID),
    )


def terminated() -> regflow.Registration:
    """A certified agent terminated for non-compliance."""
    return FLOW.apply(
        certified(),
        ev.Terminate(
            event_id=eid(), at=at(20), reason=regflow.TerminationReason.NON_COMPLIANCE
        ),
    )


# -- check and apply ----------------------------------------------------------


def test_check_returns_every_failing_reason_at_once():
    """A launch wrong in five ways gets all five reasons, in guard order."""
    reg = returning_agent(FLOW)
    decision = FLOW.check(reg, bad_launch())
    assert [r.code for r in decision.refusals] == [
        "state.not_allowed",
        "S10.vendor_not_approved",
        "S10.curriculum_not_at_vendor",
        "S12.not_enrolled",
        "S13.launch_expiry_invalid",
    ]
    assert not decision.allowed and not decision


def test_check_allows_with_no_refusals():
    """An allowed event's decision is truthy with no refusals."""
    reg = returning_agent(FLOW)
    decision = FLOW.check(
        reg, ev.SaveProfile(event_id=eid(), at=at(2), profile=agent_profile())
    )
    assert decision.allowed and decision
    assert decision.refusals == () and decision.messages() == ()


@pytest.mark.parametrize(
    ("build", "event"),
    [
        (returning_agent, bad_launch),
        (at_agreements, lambda: ev.PrintCertificate(event_id=eid(), at=at(3))),
        (
            registered,
            lambda: ev.ObserveRclListing(
                event_id=eid(), at=at(5), npn_valid=NpnValidity.NOT_APPLICABLE
            ),
        ),
    ],
    ids=["launch at start", "certificate too early", "dash RCL row"],
)
def test_apply_raises_step_refused_and_changes_nothing(build, event):
    """A refused apply raises StepRefused with check's refusals; the input is intact."""
    reg = build(FLOW)
    snapshot = regflow.dumps(reg)
    twin = copy.copy(reg)
    refused = event()
    expected = FLOW.check(reg, refused).refusals
    with pytest.raises(regflow.StepRefused) as caught:
        FLOW.apply(reg, refused)
    error = caught.value
    assert error.refusals == expected
    assert error.registration is reg
    assert error.event is refused
    for refusal in expected:
        assert refusal.code in str(error)
    assert regflow.dumps(reg) == snapshot
    assert reg == twin


def test_apply_returns_a_new_registration_and_leaves_the_input_alone():
    """An accepted event yields a new snapshot one version on; the old one is intact."""
    reg = returning_agent(FLOW)
    snapshot = regflow.dumps(reg)
    event = ev.SaveProfile(event_id=eid(), at=at(2), profile=agent_profile())
    new = FLOW.apply(reg, event)
    assert new is not reg
    assert regflow.dumps(reg) == snapshot
    assert (reg.version, new.version) == (1, 2)
    assert new.history[-1] is event
    assert new.history[:-1] == reg.history
    assert new.profile == agent_profile()


# -- available ------------------------------------------------------------------

# Erasing contact details is possible in every state of both tracks.
ERASE = ev.EraseContactDetails

SCENARIOS: dict[str, tuple[Callable[[], regflow.Registration], tuple[type, ...]]] = {
    "fresh": (lambda: returning_agent(FLOW), (ev.SaveProfile, ERASE)),
    "profile saved": (
        lambda: FLOW.apply(
            returning_agent(FLOW),
            ev.SaveProfile(event_id=eid(), at=at(2), profile=agent_profile()),
        ),
        (ev.SaveProfile, ev.CompleteProfile, ERASE),
    ),
    "training": (
        lambda: in_training(FLOW, returning_agent(FLOW)),
        (ev.EnrollCurriculum, ev.CompleteMlmsTraining, ev.LaunchVendorTraining, ERASE),
    ),
    "training, everything enrolled": (
        lambda: run(
            FLOW,
            in_training(FLOW, returning_agent(FLOW), agent_profile(shop=True)),
            [
                ev.EnrollCurriculum(event_id=eid(), at=at(2), curriculum=c)
                for c in (Curriculum.SHOP, Curriculum.INDIVIDUAL)
            ],
        ),
        (ev.CompleteMlmsTraining, ev.LaunchVendorTraining, ERASE),
    ),
    "vendor training": (launched, (ev.CompleteVendorTraining, ERASE)),
    "vendor completed": (vendor_completed, (ev.PortalLogin, ERASE)),
    "agreements pending": (
        lambda: at_agreements(FLOW),
        # More training may still be added (S11), which reopens the training.
        (ev.EnrollCurriculum, ev.AcceptAgreement, ev.DeclineAgreement, ERASE),
    ),
    "registered": (lambda: registered(FLOW), (*LISTS, ev.Terminate, ERASE)),
    "registered, no Find Local Help": (
        lambda: registered(FLOW, agent_profile(find_local_help=False)),
        (
            ev.PrintCertificate,
            ev.ConfirmTracker,
            ev.ObserveRclListing,
            ev.Terminate,
            ERASE,
        ),
    ),
    "certified": (certified, (*LISTS, ev.Terminate, ERASE)),
    "terminated": (terminated, (ev.Reinstate, ERASE)),
    "training complete (not an agent)": (
        lambda: finish_training(
            FLOW, in_training(FLOW, new_agent(FLOW), non_agent_profile())
        ),
        (ERASE,),
    ),
}


@pytest.mark.parametrize("name", list(SCENARIOS))
def test_available_lists_exactly_the_acceptable_event_types(name):
    """available() lists exactly the event types some instance of which is accepted."""
    build, expected = SCENARIOS[name]
    assert FLOW.available(build()) == expected


def test_available_judges_the_help_desk_window_at_the_given_time():
    """ContactHelpDesk becomes available only once the RCL window has passed."""
    reg = registered(FLOW, day=3)
    assert ev.ContactHelpDesk not in FLOW.available(reg)
    assert ev.ContactHelpDesk not in FLOW.available(reg, at=at(5, 23))
    assert FLOW.available(reg, at=at(6)) == (
        *LISTS,
        ev.ContactHelpDesk,
        ev.Terminate,
        ERASE,
    )


def test_available_judges_a_launch_expiry_at_the_given_time():
    """A vendor completion is available until the launch expires, not after."""
    reg = launched()
    assert FLOW.available(reg, at=at(3, 11)) == (ev.CompleteVendorTraining, ERASE)
    assert FLOW.available(reg, at=at(3, 12)) == (ERASE,)


def test_available_reads_no_clock_and_changes_nothing():
    """available() with no time uses the last event's time and leaves reg intact."""
    reg = registered(FLOW)
    snapshot = regflow.dumps(reg)
    assert FLOW.available(reg) == FLOW.available(reg, at=reg.history[-1].at)
    assert regflow.dumps(reg) == snapshot


# -- replay -----------------------------------------------------------------------


def escalated_then_certified() -> regflow.Registration:
    """Registered, escalated to the help desk, then certified."""
    return run(
        FLOW,
        registered(FLOW),
        [
            ev.ContactHelpDesk(event_id=eid(), at=at(10)),
            ev.ObserveRclListing(
                event_id=eid(), at=at(11), npn_valid=NpnValidity.VALID
            ),
        ],
    )


def reinstated() -> regflow.Registration:
    """Terminated, then reinstated and seen on the RCL again."""
    return run(
        FLOW,
        terminated(),
        [
            ev.Reinstate(
                event_id=eid(),
                at=at(25),
                reason=regflow.TerminationReason.NON_COMPLIANCE,
            ),
            ev.ObserveRclListing(
                event_id=eid(), at=at(26), npn_valid=NpnValidity.INVALID
            ),
        ],
    )


def declined_then_accepted() -> regflow.Registration:
    """A vendor course, a declined agreement, then every agreement accepted."""
    reg = FLOW.apply(vendor_completed(), ev.PortalLogin(event_id=eid(), at=at(3, 12)))
    reg = FLOW.apply(
        reg, ev.DeclineAgreement(event_id=eid(), at=at(4), agreement=GENERAL)
    )
    return accept_all(FLOW, reg, day=5)


@pytest.mark.parametrize(
    "build",
    [
        lambda: returning_agent(FLOW),
        lambda: in_training(FLOW, new_agent(FLOW), non_agent_profile()),
        lambda: finish_training(
            FLOW, in_training(FLOW, new_agent(FLOW), non_agent_profile())
        ),
        launched,
        vendor_completed,
        declined_then_accepted,
        certified,
        escalated_then_certified,
        reinstated,
    ],
    ids=[
        "started",
        "non-agent training",
        "non-agent done",
        "vendor training",
        "vendor completed",
        "declined then accepted",
        "certified",
        "escalated then certified",
        "reinstated",
    ],
)
def test_replay_equals_apply(build):
    """Replaying a registration's history rebuilds exactly the applied snapshot."""
    reg = build()
    again = FLOW.replay(reg.history)
    assert again == reg
    assert regflow.dumps(again) == regflow.dumps(reg)


def test_replay_refuses_a_broken_history():
    """Empty histories, a wrong first event and a missing event raise ReplayError."""
    history = certified().history
    with pytest.raises(regflow.ReplayError, match="empty"):
        FLOW.replay(())
    with pytest.raises(regflow.ReplayError, match="begins with StartRegistration"):
        FLOW.replay(history[1:])
    with pytest.raises(
        regflow.ReplayError,
        match="seq 3: 'complete_mlms_training' has no step from individual 'profile_incomplete'",
    ):
        FLOW.replay((*history[:2], *history[3:]))


# A random walk: events drawn from a vocabulary, applied when check allows them.

PROFILES = (
    agent_profile(),
    agent_profile(shop=True, find_local_help=False),
    agent_profile(npn=None),
    non_agent_profile(),
)


def _launch_for(
    reg: regflow.Registration, when: dt.datetime, c: Curriculum
) -> ev.Event:
    return ev.LaunchVendorTraining(
        event_id=eid(),
        at=when,
        vendor="HealthSherpa",
        launch_id=f"l-{reg.version}",
        curriculum=c,
        expires_at=when + dt.timedelta(hours=3),
    )


def _vendor_done(reg: regflow.Registration, when: dt.datetime) -> ev.Event:
    launch = reg.launch
    return ev.CompleteVendorTraining(
        event_id=eid(),
        at=when,
        vendor=launch.vendor if launch else "HealthSherpa",
        launch_id=launch.launch_id if launch else "none",
        agent_id=reg.agent_id,
        plan_year=reg.plan_year,
    )


Maker = Callable[[regflow.Registration, dt.datetime], ev.Event]
VOCABULARY: list[Maker] = [
    *(
        (lambda reg, when, p=p: ev.SaveProfile(event_id=eid(), at=when, profile=p))
        for p in PROFILES
    ),
    lambda reg, when: ev.CompleteProfile(event_id=eid(), at=when),
    *(
        (
            lambda reg, when, c=c: ev.EnrollCurriculum(
                event_id=eid(), at=when, curriculum=c
            )
        )
        for c in Curriculum
    ),
    *(
        (
            lambda reg, when, c=c: ev.CompleteMlmsTraining(
                event_id=eid(), at=when, curriculum=c
            )
        )
        for c in Curriculum
    ),
    *((lambda reg, when, c=c: _launch_for(reg, when, c)) for c in Curriculum),
    _vendor_done,
    lambda reg, when: ev.PortalLogin(event_id=eid(), at=when),
    *(
        (
            lambda reg, when, a=a: ev.AcceptAgreement(
                event_id=eid(), at=when, agreement=a
            )
        )
        for a in Agreement
    ),
    *(
        (
            lambda reg, when, a=a: ev.DeclineAgreement(
                event_id=eid(), at=when, agreement=a
            )
        )
        for a in Agreement
    ),
    lambda reg, when: ev.PrintCertificate(event_id=eid(), at=when),
    lambda reg, when: ev.ConfirmTracker(event_id=eid(), at=when),
    lambda reg, when: ev.ObserveFindLocalHelp(event_id=eid(), at=when),
    *(
        (
            lambda reg, when, v=v, d=d: ev.ObserveRclListing(
                event_id=eid(),
                at=when,
                npn_valid=v,
                individual_completion=when.date()
                if d in ("individual", "both")
                else None,
                shop_completion=when.date() if d in ("shop", "both") else None,
            )
        )
        for v in NpnValidity
        for d in ("none", "individual", "shop", "both")
    ),
    lambda reg, when: ev.ContactHelpDesk(event_id=eid(), at=when),
    lambda reg, when: ev.Terminate(
        event_id=eid(), at=when, reason=regflow.TerminationReason.FRAUD_OR_ABUSE
    ),
    lambda reg, when: ev.Reinstate(
        event_id=eid(), at=when, reason=regflow.TerminationReason.FRAUD_OR_ABUSE
    ),
    lambda reg, when: ev.EraseContactDetails(event_id=eid(), at=when),
]


@settings(deadline=None, max_examples=60)
@given(prior_year=st.sampled_from([None, 2022, 2023]), data=st.data())
def test_random_walk_check_apply_available_and_replay_agree(prior_year, data):
    """Along any walk: apply follows check, available covers it, replay matches."""
    reg = start(FLOW, prior_year=prior_year)
    when = reg.history[0].at
    for _ in range(data.draw(st.integers(0, 30), label="length")):
        when += dt.timedelta(hours=data.draw(st.integers(0, 60), label="hours"))
        candidates = [make(reg, when) for make in VOCABULARY]
        allowed = [e for e in candidates if FLOW.check(reg, e).allowed]
        # Mostly steps that are accepted, so the walk gets past the profile.
        pool = allowed if allowed and data.draw(st.integers(0, 3)) else candidates
        event = data.draw(st.sampled_from(pool), label="event")
        decision = FLOW.check(reg, event)
        assert decision.allowed is (event in allowed)
        if decision.allowed:
            assert type(event) in FLOW.available(reg, at=when)
            reg = FLOW.apply(reg, event)
        else:
            with pytest.raises(regflow.StepRefused) as caught:
                FLOW.apply(reg, event)
            assert caught.value.refusals == decision.refusals
    assert {type(e) for e in allowed_at(reg, when)} == set(FLOW.available(reg, at=when))
    assert FLOW.replay(reg.history) == reg


def allowed_at(reg: regflow.Registration, when: dt.datetime) -> list[ev.Event]:
    """The vocabulary's events that would be accepted at *when*."""
    return [
        e
        for e in (make(reg, when) for make in VOCABULARY)
        if FLOW.check(reg, e).allowed
    ]


# -- aware datetimes --------------------------------------------------------------

NAIVE = dt.datetime(2023, 10, 2, 9)


@pytest.mark.parametrize("cls", ev.Event.__subclasses__(), ids=lambda c: c.__name__)
def test_naive_event_time_is_refused(cls):
    """Every event refuses a naive ``at`` with NaiveDatetime naming the field."""
    fields = {
        a.name: None for a in attrs.fields(cls) if a.name not in ("event_id", "at")
    }
    with pytest.raises(regflow.NaiveDatetime) as caught:
        cls(event_id=eid(), at=NAIVE, **fields)
    assert caught.value.field == "at"
    assert caught.value.value == NAIVE
    assert "tzinfo" in str(caught.value)


def test_naive_launch_expiry_is_refused():
    """A vendor launch's expiry must be aware too."""
    with pytest.raises(regflow.NaiveDatetime) as caught:
        ev.LaunchVendorTraining(
            event_id=eid(),
            at=at(3),
            vendor="HealthSherpa",
            launch_id="l",
            curriculum=Curriculum.RETURNING,
            expires_at=NAIVE,
        )
    assert caught.value.field == "expires_at"


def test_a_date_is_not_a_time():
    """A date where a datetime is needed is refused as InvalidValue."""
    with pytest.raises(regflow.InvalidValue, match="must be a datetime"):
        ev.PortalLogin(event_id=eid(), at=dt.date(2023, 10, 2))


@pytest.mark.parametrize(
    "build",
    [
        lambda: returning_agent(FLOW),
        launched,
        lambda: registered(FLOW),
        terminated,
        lambda: finish_training(
            FLOW, in_training(FLOW, new_agent(FLOW), non_agent_profile())
        ),
    ],
    ids=["started", "vendor training", "registered", "terminated", "training complete"],
)
def test_available_refuses_a_naive_time(build):
    """available(at=...) refuses a naive time in any state, even with nothing to offer."""
    reg = build()
    with pytest.raises(regflow.NaiveDatetime):
        FLOW.available(reg, at=NAIVE)


def test_aware_times_in_any_zone_are_accepted():
    """Events in UTC and in Eastern time both apply."""
    reg = returning_agent(FLOW)
    reg = FLOW.apply(
        reg,
        ev.SaveProfile(
            event_id=eid(), at=at(2).astimezone(UTC), profile=agent_profile()
        ),
    )
    reg = FLOW.apply(reg, ev.CompleteProfile(event_id=eid(), at=at(2, 10)))
    assert reg.individual is IndividualState.TRAINING
    last = reg.history[-1].at
    # The instant and its offset are kept; the zone's rules are not (DST folds).
    assert last == at(2, 10) and last.utcoffset() == at(2, 10).utcoffset()


# -- plan-year rules ----------------------------------------------------------------


def test_2024_rules_are_the_seeds():
    """Plan year 2024: previous year 2023, windows 2/2/3, the seed's curricula."""
    rules = PlanYearRules.for_year(2024)
    assert rules == PlanYearRules(plan_year=2024, previous_year=2023)
    assert rules.previous_year == 2023
    assert (rules.tracker_days, rules.rcl_days, rules.find_local_help_days) == (2, 2, 3)
    assert rules.returning_curriculum is Curriculum.RETURNING
    assert rules.full_curriculum is Curriculum.INDIVIDUAL
    assert rules.optional_curricula == {Curriculum.INDIVIDUAL, Curriculum.SHOP}
    assert rules.individual_agreements == (
        GENERAL,
        Agreement.INDIVIDUAL_PRIVACY_SECURITY,
    )
    assert rules.shop_agreements == (Agreement.SHOP_PRIVACY_SECURITY,)
    assert FLOW.rules == rules


@pytest.mark.parametrize("year", [2025, 2026])
def test_later_years_have_the_same_shape(year):
    """2025 and 2026 are 2024's rules with the years moved on."""
    rules = PlanYearRules.for_year(year)
    seed = PlanYearRules.for_year(2024)
    assert rules.previous_year == year - 1
    assert rules == attrs.evolve(
        seed,
        plan_year=year,
        previous_year=year - 1,
        events_from=dt.date(year - 1, 1, 1),
        events_until=dt.date(year, 12, 31),
    )
    assert regflow.Workflow.for_plan_year(year).rules == rules


def test_a_2025_agent_is_returning_for_2026():
    """Completing 2025 makes an agent returning for 2026, and 2024 no longer does."""
    flow = regflow.Workflow.for_plan_year(2026)
    assert flow.rules.is_returning(2025)
    assert not flow.rules.is_returning(2024)
    assert start(flow, prior_year=2025).enrollments == (Curriculum.RETURNING,)
    assert start(flow, prior_year=2024).enrollments == (Curriculum.INDIVIDUAL,)


def test_a_2026_registration_runs_to_certified():
    """The 2026 workflow certifies a returning agent the same way as 2024's."""
    flow = regflow.Workflow.for_plan_year(2026)
    reg = registered(flow)
    reg = flow.apply(
        reg,
        ev.ObserveRclListing(
            event_id=eid(), at=on(flow, 5), npn_valid=NpnValidity.VALID
        ),
    )
    assert reg.individual is IndividualState.CERTIFIED and reg.plan_year == 2026
    assert flow.replay(reg.history) == reg


@pytest.mark.parametrize(
    "year", [0, -2024, 1999, 2013, 2101, 10_000, True, 2024.0, "2024", None]
)
def test_absurd_plan_years_raise_rules_error(year):
    """A plan year the Marketplace could not have raises RulesError naming it."""
    with pytest.raises(regflow.RulesError) as caught:
        PlanYearRules.for_year(year)
    assert repr(year) in str(caught.value)
    with pytest.raises(regflow.RulesError):
        regflow.Workflow.for_plan_year(year)
    assert issubclass(regflow.RulesError, LookupError)


@pytest.mark.parametrize("year", [2014, 2100])
def test_the_first_and_last_plan_years_are_accepted(year):
    """2014, the Marketplace's first year, and 2100 have rules."""
    assert PlanYearRules.for_year(year).previous_year == year - 1
