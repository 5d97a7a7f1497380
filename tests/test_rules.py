"""One test per refusal code (named after it), then the rules effects enforce.

Every code a guard can refuse with has a test whose name holds the code in
snake form (``S16.training_incomplete`` -> ``S16_training_incomplete``); the
last test here fails when a code has none.
"""

from __future__ import annotations

import datetime as dt
import re

import attrs
import pytest

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
    registered,
    returning_agent,
    run,
    start,
)
from regflow import (
    Agreement,
    Curriculum,
    IndividualState,
    NpnValidity,
    Refusal,
    ShopState,
)
from regflow import events as ev
from regflow._messages import EN

FLOW = regflow.Workflow.for_plan_year(2024)
GENERAL = Agreement.INDIVIDUAL_GENERAL
PRIVACY = Agreement.INDIVIDUAL_PRIVACY_SECURITY
SHOP_PRIVACY = Agreement.SHOP_PRIVACY_SECURITY


def codes(decision: regflow.Decision) -> tuple[str, ...]:
    """The refusal codes of *decision*, in order."""
    return tuple(r.code for r in decision.refusals)


def refused(reg: regflow.Registration, event: ev.Event) -> tuple[Refusal, ...]:
    """Check *event*, insist it is refused, and return the refusals."""
    decision = FLOW.check(reg, event)
    assert not decision.allowed
    return decision.refusals


def saved(profile: regflow.Profile) -> regflow.Registration:
    """A returning agent's registration with *profile* saved, not completed."""
    reg = returning_agent(FLOW)
    return FLOW.apply(reg, ev.SaveProfile(event_id=eid(), at=at(2), profile=profile))


def complete_profile() -> ev.CompleteProfile:
    """A Next on the profile page."""
    return ev.CompleteProfile(event_id=eid(), at=at(2))


def accept(agreement: Agreement, day: int = 3) -> ev.AcceptAgreement:
    """An "I Agree"."""
    return ev.AcceptAgreement(event_id=eid(), at=at(day), agreement=agreement)


def decline(agreement: Agreement, day: int = 3) -> ev.DeclineAgreement:
    """An "I Do Not Agree"."""
    return ev.DeclineAgreement(event_id=eid(), at=at(day), agreement=agreement)


def enroll(curriculum: Curriculum) -> ev.EnrollCurriculum:
    """Enroll in *curriculum*."""
    return ev.EnrollCurriculum(event_id=eid(), at=at(2), curriculum=curriculum)


def complete(curriculum: Curriculum, day: int = 3) -> ev.CompleteMlmsTraining:
    """Complete *curriculum* in MLMS."""
    return ev.CompleteMlmsTraining(event_id=eid(), at=at(day), curriculum=curriculum)


def launch(
    curriculum: Curriculum = Curriculum.RETURNING,
    *,
    vendor: str = "HealthSherpa",
    launch_id: str = "launch-1",
    when: dt.datetime | None = None,
    expires_at: dt.datetime | None = None,
) -> ev.LaunchVendorTraining:
    """The portal's Access Training link for *vendor*, valid two hours by default."""
    when = when or at(3, 9)
    return ev.LaunchVendorTraining(
        event_id=eid(),
        at=when,
        vendor=vendor,
        launch_id=launch_id,
        curriculum=curriculum,
        expires_at=expires_at or when + dt.timedelta(hours=2),
    )


def vendor_done(
    reg: regflow.Registration, *, when: dt.datetime | None = None, **changes: object
) -> ev.CompleteVendorTraining:
    """The vendor's completion presenting *reg*'s launch; *changes* tamper with it."""
    assert reg.launch is not None
    fields: dict[str, object] = {
        "vendor": reg.launch.vendor,
        "launch_id": reg.launch.launch_id,
        "agent_id": reg.agent_id,
        "plan_year": reg.plan_year,
    }
    fields.update(changes)
    return ev.CompleteVendorTraining(
        event_id=eid(),
        at=when or at(3, 10),
        **fields,  # type: ignore[arg-type]
    )


def login(day: int = 3) -> ev.PortalLogin:
    """Logging in to the portal again."""
    return ev.PortalLogin(event_id=eid(), at=at(day, 11))


def rcl(validity: NpnValidity, day: int = 5) -> ev.ObserveRclListing:
    """The NPN seen on the RCL with *validity*."""
    return ev.ObserveRclListing(event_id=eid(), at=at(day), npn_valid=validity)


def help_desk(when: dt.datetime) -> ev.ContactHelpDesk:
    """A mail to the FFM help desk."""
    return ev.ContactHelpDesk(event_id=eid(), at=when)


def vendor_training() -> regflow.Registration:
    """A returning agent whose Returning training was launched at a vendor."""
    return FLOW.apply(in_training(FLOW, returning_agent(FLOW)), launch())


# -- state and start ----------------------------------------------------------


def test_state_not_allowed_names_the_event_and_the_state():
    """An event with no transition from the state is refused with both named."""
    reg = returning_agent(FLOW)
    refusals = refused(reg, ev.PortalLogin(event_id=eid(), at=at(2)))
    assert refusals == (
        Refusal(
            "state.not_allowed",
            {"event": "portal_login", "state": "profile_incomplete"},
        ),
    )


def test_state_not_allowed_for_termination_before_registration():
    """CMS terminates registered agents only; a terminate in TRAINING is refused."""
    reg = in_training(FLOW, returning_agent(FLOW))
    event = ev.Terminate(
        event_id=eid(), at=at(3), reason=regflow.TerminationReason.FRAUD_OR_ABUSE
    )
    assert codes(FLOW.check(reg, event)) == ("state.not_allowed",)


def test_start_plan_year_mismatch_refuses_another_years_registration():
    """The 2024 workflow will not start a 2025 registration."""
    event = ev.StartRegistration(
        event_id=eid(),
        at=at(2),
        agent_id="a",
        portal_account_id="p",
        plan_year=2025,
        prior_year=2024,
    )
    with pytest.raises(regflow.StepRefused) as caught:
        FLOW.start(event)
    assert caught.value.refusals == (
        Refusal("start.plan_year_mismatch", {"expected": 2024, "plan_year": 2025}),
    )
    assert caught.value.registration is None
    assert caught.value.event is event


@pytest.mark.parametrize("prior_year", [2024, 2025])
def test_start_prior_year_not_before_the_plan_year(prior_year):
    """A last completed year that is not before the plan year is refused."""
    with pytest.raises(regflow.StepRefused) as caught:
        start(FLOW, prior_year=prior_year)
    assert caught.value.refusals == (
        Refusal(
            "start.prior_year_not_before", {"prior_year": prior_year, "plan_year": 2024}
        ),
    )


def test_start_refuses_with_every_reason_at_once():
    """A wrong plan year and a prior year after it are both reported, not one."""
    event = ev.StartRegistration(
        event_id=eid(),
        at=at(2),
        agent_id="a",
        portal_account_id="p",
        plan_year=2025,
        prior_year=2026,
    )
    with pytest.raises(regflow.StepRefused) as caught:
        FLOW.start(event)
    assert [r.code for r in caught.value.refusals] == [
        "start.plan_year_mismatch",
        "start.prior_year_not_before",
    ]


# -- Step 1: the profile (S4-S9) --------------------------------------------


def test_S7_profile_not_saved_refuses_next_before_save():
    """Next before any Save/Update is refused; the role is missing too."""
    reg = returning_agent(FLOW)
    assert refused(reg, complete_profile()) == (
        Refusal("S7.profile_not_saved"),
        Refusal("S5.role_required"),
    )


def test_S7_save_then_next_completes_the_profile():
    """Save/Update then Next moves the registration to TRAINING."""
    reg = saved(agent_profile())
    assert reg.individual is IndividualState.PROFILE_INCOMPLETE
    assert FLOW.apply(reg, complete_profile()).individual is IndividualState.TRAINING


def test_S5_role_required_when_no_role_chosen():
    """A saved profile without a role cannot be completed."""
    contact = agent_profile().contact
    reg = saved(regflow.Profile(contact=contact))
    assert refused(reg, complete_profile()) == (Refusal("S5.role_required"),)


def test_S4_contact_required_for_an_agent():
    """An agent's profile without contact details cannot be completed."""
    reg = saved(agent_profile(contact=None, find_local_help=False))
    assert refused(reg, complete_profile()) == (Refusal("S4.contact_required"),)


def test_S6_zip_required_to_appear_on_find_local_help():
    """Opting in to Find Local Help without a ZIP code is refused."""
    contact = regflow.ContactDetails(name="Ana", email="a@example.com", phone="555")
    reg = saved(agent_profile(contact=contact, find_local_help=True))
    assert refused(reg, complete_profile()) == (Refusal("S6.zip_required"),)


def test_S6_no_zip_needed_without_find_local_help():
    """An agent who opts out of Find Local Help needs no ZIP code."""
    contact = regflow.ContactDetails(name="Ana", email="a@example.com", phone="555")
    reg = saved(agent_profile(contact=contact, find_local_help=False))
    assert FLOW.check(reg, complete_profile()).allowed


def test_S8_npn_required_for_an_agent():
    """An agent's profile without an NPN cannot be completed."""
    reg = saved(agent_profile(npn=None))
    assert refused(reg, complete_profile()) == (Refusal("S8.npn_required"),)


def test_S9_npn_reused_in_business_field():
    """The individual NPN copied into the business NPN field is refused."""
    reg = saved(agent_profile(npn="19876543", business_npn=" 19876543 "))
    assert refused(reg, complete_profile()) == (
        Refusal("S9.npn_reused", {"npn": "19876543", "field": "business_npn"}),
    )


def test_S9_npn_reused_in_both_fields_reports_both():
    """Copied into both the business and web-broker fields: two refusals."""
    reg = saved(
        agent_profile(
            npn="19876543", business_npn="19876543", web_broker_npn="19876543"
        )
    )
    assert refused(reg, complete_profile()) == (
        Refusal("S9.npn_reused", {"npn": "19876543", "field": "business_npn"}),
        Refusal("S9.npn_reused", {"npn": "19876543", "field": "web_broker_npn"}),
    )


def test_S9_distinct_business_and_web_broker_npns_are_accepted():
    """Separate business and web-broker NPNs complete the profile."""
    reg = saved(agent_profile(business_npn="555111", web_broker_npn="7777777"))
    assert FLOW.apply(reg, complete_profile()).individual is IndividualState.TRAINING


def test_S4_S6_S8_profile_problems_reported_together():
    """An agent profile missing contact, ZIP and NPN gets all three reasons."""
    reg = saved(agent_profile(contact=None, find_local_help=True, npn=None))
    assert codes(FLOW.check(reg, complete_profile())) == (
        "S4.contact_required",
        "S6.zip_required",
        "S8.npn_required",
    )


# -- Step 2: training (S1, S10-S15) -------------------------------------------


def test_S1_S11_returning_agent_is_enrolled_in_returning_training():
    """An agent who completed the previous year starts enrolled in Returning."""
    reg = returning_agent(FLOW)
    assert reg.prior_year == 2023
    assert reg.enrollments == (Curriculum.RETURNING,)


@pytest.mark.parametrize("prior_year", [None, 2022, 2014])
def test_S1_other_agents_are_enrolled_in_individual_training(prior_year):
    """New and lapsed agents start enrolled in the full Individual training."""
    reg = start(FLOW, prior_year=prior_year)
    assert reg.enrollments == (Curriculum.INDIVIDUAL,)


@pytest.mark.parametrize("prior_year", [None, 2022])
def test_S1_not_returning_refuses_returning_training(prior_year):
    """A new or lapsed agent may not enroll in the Returning training."""
    reg = in_training(FLOW, start(FLOW, prior_year=prior_year))
    assert refused(reg, enroll(Curriculum.RETURNING)) == (
        Refusal("S1.not_returning", {"previous_year": 2023}),
    )


def test_S11_returning_agent_adds_shop_which_never_holds_back_individual():
    """Returning plus SHOP: the Individual track moves on when Returning is done;
    the SHOP agreement waits for the SHOP curriculum alone."""
    reg = in_training(FLOW, returning_agent(FLOW), agent_profile(shop=True))
    assert reg.shop is ShopState.AGREEMENT_PENDING
    reg = FLOW.apply(reg, enroll(Curriculum.SHOP))
    assert reg.enrollments == (Curriculum.RETURNING, Curriculum.SHOP)
    assert reg.shop is ShopState.TRAINING
    reg = FLOW.apply(reg, complete(Curriculum.RETURNING))
    assert reg.individual is IndividualState.AGREEMENTS_PENDING
    assert FLOW.check(reg, accept(GENERAL)).allowed
    assert refused(reg, accept(SHOP_PRIVACY))[-1] == Refusal(
        "S16.training_incomplete", {"curricula": ("shop",)}
    )
    reg = FLOW.apply(reg, complete(Curriculum.SHOP))
    assert reg.shop is ShopState.AGREEMENT_PENDING
    assert reg.individual is IndividualState.AGREEMENTS_PENDING


def test_S11_returning_agent_adds_full_individual_training():
    """Returning plus the full Individual training: both must be completed."""
    reg = in_training(FLOW, returning_agent(FLOW))
    reg = FLOW.apply(reg, enroll(Curriculum.INDIVIDUAL))
    reg = FLOW.apply(reg, complete(Curriculum.INDIVIDUAL))
    assert reg.individual is IndividualState.TRAINING
    reg = FLOW.apply(reg, complete(Curriculum.RETURNING))
    assert reg.individual is IndividualState.AGREEMENTS_PENDING
    assert reg.completed_curricula == {Curriculum.RETURNING, Curriculum.INDIVIDUAL}


def test_S12_curriculum_not_offered_when_the_year_does_not_offer_it():
    """A plan year whose rules drop SHOP refuses enrolling in it."""
    rules = attrs.evolve(
        regflow.PlanYearRules.for_year(2024),
        optional_curricula=frozenset({Curriculum.INDIVIDUAL}),
    )
    flow = regflow.Workflow(rules)
    reg = in_training(flow, returning_agent(flow), agent_profile(shop=True))
    assert flow.check(reg, enroll(Curriculum.SHOP)).refusals == (
        Refusal(
            "S12.curriculum_not_offered", {"curriculum": "shop", "plan_year": 2024}
        ),
    )


@pytest.mark.parametrize("curriculum", list(Curriculum))
def test_S12_already_enrolled_refuses_enrolling_twice(curriculum):
    """Enrolling in a curriculum already enrolled is refused."""
    reg = in_training(FLOW, returning_agent(FLOW), agent_profile(shop=True))
    if curriculum is not Curriculum.RETURNING:
        reg = FLOW.apply(reg, enroll(curriculum))
    found = refused(reg, enroll(curriculum))
    assert found[-1] == Refusal(
        "S12.already_enrolled", {"curriculum": curriculum.value}
    )
    if curriculum is Curriculum.SHOP:  # the SHOP track is in its training now
        assert found[0].code == "state.not_allowed"


def test_S12_not_enrolled_refuses_completing_or_launching():
    """A curriculum not enrolled can be neither completed nor launched."""
    reg = in_training(FLOW, returning_agent(FLOW), agent_profile(shop=True))
    expected = (Refusal("S12.not_enrolled", {"curriculum": "individual"}),)
    assert refused(reg, complete(Curriculum.INDIVIDUAL)) == expected
    assert refused(reg, launch(Curriculum.INDIVIDUAL)) == expected
    assert refused(reg, complete(Curriculum.SHOP)) == (
        Refusal(
            "state.not_allowed",
            {"event": "complete_mlms_training", "state": "shop.agreement_pending"},
        ),
        Refusal("S12.not_enrolled", {"curriculum": "shop"}),
    )


def test_S12_already_completed_refuses_completing_twice():
    """A completed curriculum cannot be completed again while others remain."""
    reg = in_training(FLOW, returning_agent(FLOW))
    reg = run(
        FLOW, reg, [enroll(Curriculum.INDIVIDUAL), complete(Curriculum.RETURNING)]
    )
    assert refused(reg, complete(Curriculum.RETURNING)) == (
        Refusal("S12.already_completed", {"curriculum": "returning"}),
    )
    assert refused(reg, launch(Curriculum.RETURNING)) == (
        Refusal("S12.already_completed", {"curriculum": "returning"}),
    )


def test_S12_new_agent_adds_shop_to_individual():
    """A new agent taking SHOP finishes SHOP's curriculum for the SHOP track and
    the Individual one for the Individual track, each on its own."""
    reg = in_training(FLOW, new_agent(FLOW), agent_profile(shop=True))
    reg = run(FLOW, reg, [enroll(Curriculum.SHOP), complete(Curriculum.SHOP)])
    assert reg.individual is IndividualState.TRAINING
    assert reg.shop is ShopState.AGREEMENT_PENDING
    reg = FLOW.apply(reg, complete(Curriculum.INDIVIDUAL))
    assert reg.individual is IndividualState.AGREEMENTS_PENDING


def test_S12_shop_not_chosen_refuses_the_shop_curriculum_without_shop():
    """Without SHOP in the profile, the SHOP curriculum cannot be taken: one fact,
    the profile's, decides SHOP."""
    reg = in_training(FLOW, returning_agent(FLOW))
    assert reg.shop is ShopState.NOT_TAKEN
    assert refused(reg, enroll(Curriculum.SHOP)) == (Refusal("S12.shop_not_chosen"),)
    assert refused(reg, complete(Curriculum.SHOP)) == (
        Refusal("S12.shop_not_chosen"),
        Refusal("S12.not_enrolled", {"curriculum": "shop"}),
    )


def test_S10_vendor_not_approved_refuses_the_launch():
    """Only HHS-approved vendors can be launched; the message lists them."""
    reg = in_training(FLOW, returning_agent(FLOW))
    assert refused(reg, launch(vendor="Acme Training")) == (
        Refusal(
            "S10.vendor_not_approved",
            {
                "vendor": "Acme Training",
                "plan_year": 2024,
                "approved": "HealthSherpa, INSXCloud",
            },
        ),
    )


@pytest.mark.parametrize("vendor", ["HealthSherpa", "INSXCloud"])
def test_S10_approved_vendors_can_be_launched(vendor):
    """Each approved vendor's launch is accepted."""
    reg = in_training(FLOW, returning_agent(FLOW))
    reg = FLOW.apply(reg, launch(vendor=vendor))
    assert reg.individual is IndividualState.VENDOR_TRAINING
    assert reg.launch is not None and reg.launch.vendor == vendor


@pytest.mark.parametrize("minutes", [0, -1])
def test_S13_launch_expiry_invalid_when_not_after_issue(minutes):
    """A launch that expires at or before it is issued is refused."""
    reg = in_training(FLOW, returning_agent(FLOW))
    when = at(3, 9)
    expires = when + dt.timedelta(minutes=minutes)
    assert refused(reg, launch(when=when, expires_at=expires)) == (
        Refusal(
            "S13.launch_expiry_invalid",
            {"at": when.isoformat(), "expires_at": expires.isoformat()},
        ),
    )


def test_S10_S12_S13_launch_problems_reported_together():
    """Bad vendor, unenrolled curriculum and bad expiry: three reasons at once."""
    reg = in_training(FLOW, returning_agent(FLOW))
    when = at(3)
    event = launch(Curriculum.SHOP, vendor="Acme", when=when, expires_at=when)
    assert codes(FLOW.check(reg, event)) == (
        "S10.vendor_not_approved",
        "S10.curriculum_not_at_vendor",
        "S12.not_enrolled",
        "S13.launch_expiry_invalid",
    )


def test_S10_curriculum_not_at_vendor_sends_the_shop_curriculum_to_mlms():
    """Vendors teach the Individual trainings; SHOP's is taken in MLMS."""
    reg = in_training(FLOW, returning_agent(FLOW), agent_profile(shop=True))
    reg = FLOW.apply(reg, enroll(Curriculum.SHOP))
    assert refused(reg, launch(Curriculum.SHOP)) == (
        Refusal("S10.curriculum_not_at_vendor", {"curriculum": "shop"}),
    )
    assert FLOW.check(reg, complete(Curriculum.SHOP)).allowed


def test_S13_no_launch_refuses_a_completion_straight_from_the_vendor():
    """A vendor completion with no portal launch is refused (direct access)."""
    reg = in_training(FLOW, returning_agent(FLOW))
    event = ev.CompleteVendorTraining(
        event_id=eid(),
        at=at(3),
        vendor="HealthSherpa",
        launch_id="forged",
        agent_id=reg.agent_id,
        plan_year=2024,
    )
    assert refused(reg, event) == (
        Refusal(
            "state.not_allowed",
            {"event": "complete_vendor_training", "state": "training"},
        ),
        Refusal("S13.no_launch", {"vendor": "HealthSherpa"}),
    )


def test_S13_launch_mismatch_names_every_field_that_differs():
    """A completion whose id, vendor, agent and year all differ gets four reasons."""
    reg = vendor_training()
    event = vendor_done(
        reg, launch_id="other", vendor="INSXCloud", agent_id="agent-9", plan_year=2025
    )
    assert refused(reg, event) == (
        Refusal(
            "S13.launch_mismatch",
            {"field": "launch_id", "given": "other", "expected": "launch-1"},
        ),
        Refusal(
            "S13.launch_mismatch",
            {"field": "vendor", "given": "INSXCloud", "expected": "HealthSherpa"},
        ),
        Refusal(
            "S13.launch_mismatch",
            {"field": "agent_id", "given": "agent-9", "expected": "agent-42"},
        ),
        Refusal(
            "S13.launch_mismatch",
            {"field": "plan_year", "given": "2025", "expected": "2024"},
        ),
    )


def test_S13_launch_expired_refuses_a_late_completion():
    """A completion after the launch expired is refused; at the expiry it is not."""
    reg = vendor_training()
    assert reg.launch is not None
    expires = reg.launch.expires_at
    late = vendor_done(reg, when=expires + dt.timedelta(seconds=1))
    assert refused(reg, late) == (
        Refusal("S13.launch_expired", {"expires_at": expires.isoformat()}),
    )
    assert FLOW.check(reg, vendor_done(reg, when=expires)).allowed


def test_S13_launch_used_refuses_presenting_a_launch_twice():
    """A launch is single use: a second completion with it is refused."""
    reg = vendor_training()
    reg = FLOW.apply(reg, vendor_done(reg))
    assert reg.launch is not None and reg.launch.used
    assert codes(FLOW.check(reg, vendor_done(reg))) == (
        "state.not_allowed",
        "S13.launch_used",
    )


def test_S15_vendor_path_launch_complete_login_then_agreements():
    """Vendor training: launch, completion, portal login, then the agreements."""
    reg = vendor_training()
    assert reg.individual is IndividualState.VENDOR_TRAINING
    reg = FLOW.apply(reg, vendor_done(reg))
    assert reg.individual is IndividualState.VENDOR_COMPLETED
    (done,) = reg.completions
    assert done.curriculum is Curriculum.RETURNING
    assert done.provider == regflow.TrainingProvider("HealthSherpa")
    reg = FLOW.apply(reg, login())
    assert reg.individual is IndividualState.AGREEMENTS_PENDING
    reg = accept_all(FLOW, reg)
    assert reg.individual is IndividualState.REGISTERED


def test_S15_portal_login_required_before_the_agreements():
    """Right after vendor training an agreement is refused until the agent logs in."""
    reg = vendor_training()
    reg = FLOW.apply(reg, vendor_done(reg))
    assert refused(reg, accept(GENERAL)) == (
        Refusal(
            "state.not_allowed",
            {"event": "accept_agreement", "state": "vendor_completed"},
        ),
        Refusal("S15.portal_login_required"),
    )


def test_S15_login_with_training_left_returns_to_training():
    """After a vendor course with another curriculum left, login leads to TRAINING."""
    reg = in_training(FLOW, returning_agent(FLOW))
    reg = run(FLOW, reg, [enroll(Curriculum.INDIVIDUAL), launch(Curriculum.INDIVIDUAL)])
    reg = run(FLOW, reg, [vendor_done(reg), login()])
    assert reg.individual is IndividualState.TRAINING
    assert reg.completed_curricula == {Curriculum.INDIVIDUAL}
    reg = FLOW.apply(reg, complete(Curriculum.RETURNING))
    assert reg.individual is IndividualState.AGREEMENTS_PENDING


# -- Step 3: the agreements (S16) -----------------------------------------------


def test_S16_profile_incomplete_refuses_agreement():
    """An agreement before the profile is complete gets every reason."""
    reg = returning_agent(FLOW)
    assert refused(reg, accept(GENERAL)) == (
        Refusal(
            "state.not_allowed",
            {"event": "accept_agreement", "state": "profile_incomplete"},
        ),
        Refusal("S16.profile_incomplete"),
        Refusal("S16.training_incomplete", {"curricula": ("returning",)}),
    )


def test_S16_training_incomplete_refuses_agreement():
    """An agreement with training left is refused, naming what is left."""
    reg = in_training(FLOW, new_agent(FLOW))
    assert refused(reg, decline(GENERAL)) == (
        Refusal(
            "state.not_allowed", {"event": "decline_agreement", "state": "training"}
        ),
        Refusal("S16.training_incomplete", {"curricula": ("individual",)}),
    )


def test_S16_no_agreements_for_role_not_an_agent_broker():
    """A Not an Agent Broker signs no agreement."""
    reg = finish_training(FLOW, in_training(FLOW, new_agent(FLOW), non_agent_profile()))
    assert reg.individual is IndividualState.TRAINING_COMPLETE
    assert refused(reg, accept(GENERAL)) == (
        Refusal(
            "state.not_allowed",
            {"event": "accept_agreement", "state": "training_complete"},
        ),
        Refusal("S16.no_agreements_for_role"),
    )


def test_S16_agreement_not_applicable_shop_agreement_without_shop():
    """The SHOP agreement does not apply to a profile without SHOP, whose SHOP
    track is not taken."""
    reg = at_agreements(FLOW)
    expected = (
        Refusal(
            "state.not_allowed",
            {"event": "accept_agreement", "state": "shop.not_taken"},
        ),
        Refusal("S16.agreement_not_applicable", {"agreement": "shop_privacy_security"}),
    )
    expected_decline = (
        Refusal(
            "state.not_allowed",
            {"event": "decline_agreement", "state": "shop.not_taken"},
        ),
        *expected[1:],
    )
    assert refused(reg, accept(SHOP_PRIVACY)) == expected
    assert refused(reg, decline(SHOP_PRIVACY)) == expected_decline


def test_S16_shop_profile_registers_each_track_with_its_own_agreements():
    """The Individual agreements register the Individual track, the SHOP
    agreement the SHOP track; the registration is registered when both are."""
    reg = at_agreements(FLOW, agent_profile(shop=True))
    reg = run(FLOW, reg, [accept(GENERAL), accept(PRIVACY)])
    assert reg.individual is IndividualState.REGISTERED
    assert reg.shop is ShopState.AGREEMENT_PENDING
    assert reg.status is regflow.Status.IN_PROGRESS
    reg = FLOW.apply(reg, accept(SHOP_PRIVACY))
    assert reg.shop is ShopState.REGISTERED
    assert reg.status is regflow.Status.REGISTERED
    assert reg.shop_registered_at == at(3) and reg.individual_registered_at == at(3)


def test_S16_the_shop_agreement_needs_no_individual_training():
    """An agent taking SHOP may sign the SHOP agreement before any Individual
    training is done: SHOP never waits for training it does not need."""
    reg = in_training(FLOW, new_agent(FLOW), agent_profile(shop=True))
    reg = FLOW.apply(reg, accept(SHOP_PRIVACY))
    assert reg.shop is ShopState.REGISTERED
    assert reg.individual is IndividualState.TRAINING


def test_S16_already_accepted_refuses_accepting_twice():
    """An agreement already accepted cannot be accepted again."""
    reg = FLOW.apply(at_agreements(FLOW), accept(GENERAL))
    assert refused(reg, accept(GENERAL)) == (
        Refusal("S16.already_accepted", {"agreement": "individual_general"}),
    )


def test_S16_decline_keeps_it_incomplete_and_a_later_accept_completes():
    """I Do Not Agree leaves the registration pending; I Agree later registers it."""
    reg = at_agreements(FLOW)
    reg = run(FLOW, reg, [accept(PRIVACY), decline(GENERAL)])
    assert reg.individual is IndividualState.AGREEMENTS_PENDING
    assert reg.individual_registered_at is None
    assert reg.accepted_agreements == {PRIVACY}
    reg = FLOW.apply(reg, accept(GENERAL, day=4))
    assert reg.individual is IndividualState.REGISTERED
    assert reg.individual_registered_at == at(4)


def test_S16_declining_an_accepted_agreement_withdraws_it():
    """The latest answer counts: accept then decline leaves it unaccepted."""
    reg = at_agreements(FLOW)
    reg = run(FLOW, reg, [accept(GENERAL), decline(GENERAL), accept(PRIVACY)])
    assert reg.individual is IndividualState.AGREEMENTS_PENDING
    assert reg.accepted_agreements == {PRIVACY}
    assert [(d.agreement, d.accepted) for d in reg.agreements] == [
        (GENERAL, False),
        (PRIVACY, True),
    ]
    assert FLOW.apply(reg, accept(GENERAL)).individual is IndividualState.REGISTERED


# -- Step 4: certificate and confirmations (S17-S22) ---------------------------


def test_S17_registration_incomplete_lists_the_missing_steps():
    """A certificate before registration is refused, naming every missing step."""
    fresh = returning_agent(FLOW)
    assert refused(fresh, ev.PrintCertificate(event_id=eid(), at=at(2)))[-1] == Refusal(
        "S17.registration_incomplete", {"steps": ("profile", "training", "agreements")}
    )
    pending = at_agreements(FLOW)
    assert refused(pending, ev.PrintCertificate(event_id=eid(), at=at(3))) == (
        Refusal(
            "state.not_allowed",
            {"event": "print_certificate", "state": "agreements_pending"},
        ),
        Refusal("S17.registration_incomplete", {"steps": ("agreements",)}),
    )


def test_S17_certificate_printable_once_registered():
    """A registered agent prints the certificate; the state does not change."""
    reg = registered(FLOW)
    assert not reg.certificate_printed
    reg = FLOW.apply(reg, ev.PrintCertificate(event_id=eid(), at=at(3, 10)))
    assert reg.certificate_printed
    assert reg.individual is IndividualState.REGISTERED


def test_S18_agreements_pending_refuses_public_confirmations():
    """The Tracker, RCL and Find Local Help come after the agreements."""
    reg = FLOW.apply(at_agreements(FLOW), accept(GENERAL))
    expected = Refusal(
        "S18.agreements_pending", {"agreements": ("individual_privacy_security",)}
    )
    for event in (
        ev.ConfirmTracker(event_id=eid(), at=at(4)),
        ev.ObserveFindLocalHelp(event_id=eid(), at=at(4)),
        rcl(NpnValidity.VALID, day=4),
        help_desk(at(20)),
    ):
        assert refused(reg, event) == (
            Refusal(
                "state.not_allowed",
                {"event": event.kind, "state": "agreements_pending"},
            ),
            expected,
        )


def test_S18_S19_tracker_confirmation_is_recorded_once():
    """The Tracker sighting is recorded; a later one keeps the first time."""
    reg = registered(FLOW)
    reg = FLOW.apply(reg, ev.ConfirmTracker(event_id=eid(), at=at(4)))
    reg = FLOW.apply(reg, ev.ConfirmTracker(event_id=eid(), at=at(5)))
    assert reg.individual is IndividualState.REGISTERED
    assert reg.confirmations == (
        regflow.ConfirmationRecord(kind=regflow.Confirmation.TRACKER, at=at(4)),
    )


def test_S19_S20_S21_confirmation_windows_are_the_seeds():
    """Tracker and RCL take up to two business days, Find Local Help three."""
    rules = FLOW.rules
    assert (rules.tracker_days, rules.rcl_days, rules.find_local_help_days) == (2, 2, 3)


def test_S20_valid_rcl_listing_certifies():
    """An RCL row with NPN Valid Y certifies the agent."""
    reg = FLOW.apply(registered(FLOW), rcl(NpnValidity.VALID))
    assert reg.individual is IndividualState.CERTIFIED and reg.is_certified
    assert (
        reg.individual_listing is not None
        and reg.individual_listing.npn_valid is NpnValidity.VALID
    )
    assert regflow.Confirmation.RCL in reg.confirmed


def test_S20_invalid_npn_then_valid_listing_certifies():
    """NPN Valid N flags the agent; a later Y row certifies it."""
    reg = FLOW.apply(registered(FLOW), rcl(NpnValidity.INVALID))
    assert reg.individual is IndividualState.NPN_INVALID and not reg.is_certified
    reg = FLOW.apply(reg, rcl(NpnValidity.VALID, day=6))
    assert reg.individual is IndividualState.CERTIFIED
    assert reg.individual_listing is not None and reg.individual_listing.at == at(6)


def test_S20_validity_not_current_refuses_a_dash_row():
    """An RCL row with NPN Valid '-' belongs to earlier years and is refused."""
    reg = registered(FLOW)
    assert refused(reg, rcl(NpnValidity.NOT_APPLICABLE)) == (
        Refusal("S20.validity_not_current", {"plan_year": 2024}),
    )


@pytest.mark.parametrize(
    ("day", "certifies"),
    [
        (dt.date(2023, 12, 31), False),
        (dt.date(2024, 1, 1), True),
        (dt.date(2024, 10, 1), True),
    ],
)
def test_npn_validity_dash_certifies_once_the_plan_year_has_begun(day, certifies):
    """'-' lists an earlier plan year: it certifies from January 1 of the plan
    year on, when a later one may be current; Y always does, N never."""
    assert NpnValidity.NOT_APPLICABLE.certifies(2024, day) is certifies
    assert NpnValidity.VALID.certifies(2024, day)
    assert not NpnValidity.INVALID.certifies(2024, day)


def test_S20_a_dash_row_of_an_earlier_plan_year_certifies():
    """A '-' row dated once 2024 has begun certifies the 2024 registration."""
    reg = registered(FLOW)
    event = ev.ObserveRclListing(
        event_id=eid(),
        at=dt.datetime(2024, 11, 4, 12, tzinfo=dt.timezone.utc),
        npn_valid=NpnValidity.NOT_APPLICABLE,
    )
    reg = FLOW.apply(reg, event)
    assert reg.individual is IndividualState.CERTIFIED and reg.is_certified


def test_S21_find_local_help_not_chosen_refuses_the_sighting():
    """An agent who opted out of Find Local Help is not expected there."""
    reg = registered(FLOW, agent_profile(find_local_help=False))
    event = ev.ObserveFindLocalHelp(event_id=eid(), at=at(6))
    assert refused(reg, event) == (Refusal("S21.find_local_help_not_chosen"),)


def test_S21_find_local_help_sighting_is_recorded():
    """An agent who opted in is confirmed on Find Local Help."""
    reg = registered(FLOW)
    reg = FLOW.apply(reg, ev.ObserveFindLocalHelp(event_id=eid(), at=at(6)))
    assert reg.confirmed == {regflow.Confirmation.FIND_LOCAL_HELP}


def test_S22_rcl_not_overdue_refuses_writing_early():
    """Registered on Tuesday the 3rd: the help desk is for after Thursday the 5th."""
    reg = registered(FLOW, day=3)
    assert refused(reg, help_desk(at(5, 17))) == (
        Refusal("S22.rcl_not_overdue", {"days": 2, "due": "2023-10-05"}),
    )
    assert FLOW.apply(reg, help_desk(at(6))).individual is IndividualState.ESCALATED


def test_S22_rcl_not_overdue_skips_weekend_and_holiday():
    """Registered Friday the 6th: the weekend and Columbus Day push it to the 11th."""
    reg = registered(FLOW, day=6)
    assert refused(reg, help_desk(at(11, 16))) == (
        Refusal("S22.rcl_not_overdue", {"days": 2, "due": "2023-10-11"}),
    )
    assert FLOW.check(reg, help_desk(at(12))).allowed


def test_S22_rcl_not_overdue_judged_on_the_instant_not_its_offset():
    """The same instant in ET or UTC gets the same answer from the help-desk window."""
    reg = registered(FLOW, day=6, hour=9)
    late_evening = at(11, 21)  # already the 12th in UTC
    in_et = FLOW.check(reg, help_desk(late_evening))
    in_utc = FLOW.check(reg, help_desk(late_evening.astimezone(UTC)))
    assert in_et.refusals == in_utc.refusals


def test_S22_escalation_then_a_later_rcl_listing_still_certifies():
    """After writing to the help desk, a valid RCL row still certifies the agent."""
    reg = registered(FLOW, day=3)
    reg = FLOW.apply(reg, help_desk(at(10)))
    assert reg.individual is IndividualState.ESCALATED
    reg = FLOW.apply(reg, help_desk(at(16)))  # writing again is fine
    assert reg.individual is IndividualState.ESCALATED
    reg = FLOW.apply(reg, rcl(NpnValidity.VALID, day=17))
    assert reg.individual is IndividualState.CERTIFIED
    assert regflow.HELP_DESK_EMAIL == "FFMProducer-AssisterHelpDesk@cms.hhs.gov"
    assert FLOW.rules.help_desk_email == regflow.HELP_DESK_EMAIL


# -- termination, reinstatement, Not an Agent Broker ---------------------------


def test_termination_and_reinstatement():
    """A certified agent is terminated, then reinstated and certified again."""
    reg = FLOW.apply(registered(FLOW), rcl(NpnValidity.VALID))
    reason = regflow.TerminationReason.RESIDENT_LICENSE
    reg = FLOW.apply(reg, ev.Terminate(event_id=eid(), at=at(20), reason=reason))
    assert reg.individual is IndividualState.TERMINATED
    assert reg.individual_termination == regflow.TerminationRecord(
        terminated=True, reason=reason, at=at(20)
    )
    assert FLOW.available(reg) == (ev.Reinstate, ev.EraseContactDetails)
    assert codes(FLOW.check(reg, rcl(NpnValidity.VALID, day=21))) == (
        "state.not_allowed",
    )
    reg = FLOW.apply(reg, ev.Reinstate(event_id=eid(), at=at(25), reason=reason))
    assert reg.individual is IndividualState.REINSTATED
    assert reg.individual_termination == regflow.TerminationRecord(
        terminated=False, reason=reason, at=at(25)
    )
    assert not reg.is_certified
    reg = FLOW.apply(reg, rcl(NpnValidity.VALID, day=26))
    assert reg.individual is IndividualState.CERTIFIED


def test_not_an_agent_broker_ends_in_training_complete():
    """Not an Agent Broker: no NPN, no contact, no agreements; done after training."""
    reg = in_training(FLOW, new_agent(FLOW), non_agent_profile())
    assert reg.individual is IndividualState.TRAINING
    assert reg.npn is None and not reg.is_agent
    reg = FLOW.apply(reg, complete(Curriculum.INDIVIDUAL))
    assert reg.individual is IndividualState.TRAINING_COMPLETE
    assert reg.agreements == () and reg.individual_registered_at is None
    assert FLOW.available(reg) == (ev.EraseContactDetails,)
    assert FLOW.rules.required_agreements(reg.profile) == ()


def test_not_an_agent_broker_through_a_vendor_ends_in_training_complete():
    """The vendor path of a Not an Agent Broker also ends in TRAINING_COMPLETE."""
    reg = in_training(FLOW, new_agent(FLOW), non_agent_profile())
    reg = FLOW.apply(reg, launch(Curriculum.INDIVIDUAL))
    reg = run(FLOW, reg, [vendor_done(reg), login()])
    assert reg.individual is IndividualState.TRAINING_COMPLETE


# -- the meta-test ---------------------------------------------------------------

# -- renewal (S1, S11) ------------------------------------------------------

FLOW_2025 = regflow.Workflow.for_plan_year(2025)


def test_S1_prior_year_contradicted_refuses_a_claim_the_known_year_denies():
    """Claiming 2024 was completed while the agent's 2024 registration is still in
    training is refused, naming that registration's state."""
    previous = in_training(FLOW, returning_agent(FLOW))
    event = ev.StartRegistration(
        event_id=eid(),
        at=at(5).replace(year=2024),
        agent_id=previous.agent_id,
        portal_account_id=previous.portal_account_id,
        plan_year=2025,
        prior_year=2024,
    )
    with pytest.raises(regflow.StepRefused) as caught:
        FLOW_2025.start(event, previous=previous)
    assert caught.value.refusals == (
        Refusal(
            "S1.prior_year_contradicted", {"prior_year": 2024, "state": "training"}
        ),
    )
    # Without what the caller knows, the claim is taken at its word.
    assert FLOW_2025.start(event).enrollments == (Curriculum.RETURNING,)


def test_S1_renewal_derives_the_prior_year_from_the_year_before():
    """renew() makes a completed 2024 agent returning for 2025 and carries the
    profile over, to be saved again before it is completed (S7)."""
    previous = registered(FLOW, agent_profile(shop=True))
    reg = FLOW_2025.renew(previous, event_id=eid(), at=at(5).replace(year=2024))
    assert (reg.plan_year, reg.prior_year) == (2025, 2024)
    assert reg.enrollments == (Curriculum.RETURNING,)
    assert reg.profile == previous.profile and reg.profile.shop
    complete_now = ev.CompleteProfile(event_id=eid(), at=at(5).replace(year=2024))
    assert codes(FLOW_2025.check(reg, complete_now)) == ("S7.profile_not_saved",)
    saved = FLOW_2025.apply(
        reg, ev.SaveProfile(event_id=eid(), at=complete_now.at, profile=reg.profile)
    )
    assert FLOW_2025.apply(saved, complete_now).shop is ShopState.AGREEMENT_PENDING
    assert FLOW_2025.replay(reg.history) == reg


def test_S1_renewal_of_an_unfinished_year_is_not_returning():
    """An agent who did not finish 2024 renews into the full training."""
    previous = in_training(FLOW, returning_agent(FLOW))
    reg = FLOW_2025.renew(previous, event_id=eid(), at=at(5).replace(year=2024))
    assert reg.prior_year == 2023  # the last year it did complete
    assert reg.enrollments == (Curriculum.INDIVIDUAL,)
    with pytest.raises(regflow.InvalidValue, match="takes the agent's 2025"):
        regflow.Workflow.for_plan_year(2026).renew(previous, event_id=eid(), at=at(5))


# -- the profile's SHOP choice (S5) --------------------------------------------


def test_S5_shop_not_for_role_refuses_shop_for_not_an_agent_broker():
    """The Not an Agent Broker role cannot take part in SHOP."""
    profile = attrs.evolve(non_agent_profile(), shop=True)
    reg = saved(profile)
    assert refused(reg, complete_profile()) == (Refusal("S5.shop_not_for_role"),)


# -- times (every event) ----------------------------------------------------


@pytest.mark.parametrize(
    "when",
    [
        dt.datetime(1990, 6, 1, tzinfo=UTC),
        dt.datetime(2099, 6, 1, tzinfo=UTC),
        dt.datetime(2022, 12, 31, 23, 59, tzinfo=regflow._calendar.CMS_TIME),
        dt.datetime(2025, 1, 1, 0, 0, tzinfo=regflow._calendar.CMS_TIME),
        dt.datetime(1, 1, 1, tzinfo=UTC),
        dt.datetime(9999, 12, 31, 23, tzinfo=UTC),
    ],
)
def test_time_outside_plan_year_refuses_events_far_from_the_plan_year(when):
    """An event dated outside Jan 1 of the year before to Dec 31 of the plan year
    is refused for that alone, even near the ends of Python's calendar."""
    reg = registered(FLOW)
    for event in (
        ev.ContactHelpDesk(event_id=eid(), at=when),
        ev.ObserveRclListing(event_id=eid(), at=when, npn_valid=NpnValidity.VALID),
        ev.ConfirmTracker(event_id=eid(), at=when),
    ):
        assert refused(reg, event) == (
            Refusal(
                "time.outside_plan_year",
                {
                    "plan_year": 2024,
                    "at": when.isoformat(),
                    "opens": "2023-01-01",
                    "closes": "2024-12-31",
                },
            ),
        )
    assert FLOW.available(reg, at=when) == ()


def test_time_outside_plan_year_refuses_a_start_from_another_decade():
    """A registration cannot start decades away from its plan year."""
    event = ev.StartRegistration(
        event_id=eid(),
        at=dt.datetime(1990, 1, 1, tzinfo=UTC),
        agent_id="a",
        portal_account_id="p",
        plan_year=2024,
    )
    with pytest.raises(regflow.StepRefused) as caught:
        FLOW.start(event)
    assert [r.code for r in caught.value.refusals] == ["time.outside_plan_year"]


def test_time_outside_plan_year_window_edges_are_inside():
    """The first and last instant of the window (CMS time) are accepted."""
    rules = FLOW.rules
    first = dt.datetime(2023, 1, 1, tzinfo=regflow._calendar.CMS_TIME)
    last = dt.datetime(2024, 12, 31, 23, 59, 59, tzinfo=regflow._calendar.CMS_TIME)
    assert rules.in_window(first) and rules.in_window(last)
    assert not rules.in_window(first - dt.timedelta(microseconds=1))
    assert not rules.in_window(last + dt.timedelta(seconds=1))


def test_time_outside_plan_year_window_is_rules_data():
    """A plan year's window can be set in its rules, without code."""
    rules = attrs.evolve(FLOW.rules, events_until=dt.date(2023, 10, 2))
    flow = regflow.Workflow(rules)
    reg = returning_agent(flow)  # started on October 2
    event = ev.CompleteProfile(event_id=eid(), at=at(3))
    assert codes(flow.check(reg, event)) == ("time.outside_plan_year",)
    with pytest.raises(regflow.RulesError, match="before 'events_from'"):
        attrs.evolve(FLOW.rules, events_until=dt.date(2022, 1, 1))


def test_time_before_start_refuses_an_event_before_the_registration_began():
    """An event dated before the registration's start is refused, with both times."""
    reg = returning_agent(FLOW, day=4)
    when = at(3)
    event = ev.SaveProfile(event_id=eid(), at=when, profile=agent_profile())
    assert refused(reg, event) == (
        Refusal(
            "time.before_start",
            {"at": when.isoformat(), "started": at(4).isoformat()},
        ),
    )
    assert FLOW.check(reg, attrs.evolve(event, at=at(4))).allowed


def test_S13_launch_expiry_too_far_bounds_a_launch_lifetime():
    """A launch valid for more than the rules' lifetime (30 days) is refused."""
    reg = in_training(FLOW, returning_agent(FLOW))
    when = at(3, 9)
    for expires in (when + dt.timedelta(days=30, seconds=1), when.replace(year=2100)):
        assert refused(reg, launch(when=when, expires_at=expires)) == (
            Refusal(
                "S13.launch_expiry_too_far",
                {"days": 30, "expires_at": expires.isoformat()},
            ),
        )
    assert FLOW.check(
        reg, launch(when=when, expires_at=when + dt.timedelta(30))
    ).allowed


def test_S13_completed_before_launch_refuses_a_completion_dated_earlier():
    """A vendor completion dated before the portal issued its launch is refused."""
    reg = vendor_training()
    assert reg.launch is not None
    issued = reg.launch.issued_at
    early = issued - dt.timedelta(minutes=5)
    assert refused(reg, vendor_done(reg, when=early)) == (
        Refusal(
            "S13.completed_before_launch",
            {"at": early.isoformat(), "issued_at": issued.isoformat()},
        ),
    )


_CODE = re.compile(r"^(S\d+\.|start\.|time\.|state\.not_allowed$)")


def refusal_codes() -> list[str]:
    """Every code the guards can refuse with, from the English catalog."""
    return sorted(code for code in EN if _CODE.match(code))


def test_every_refusal_code_has_a_test_named_after_it():
    """Each refusal code has a test in this module whose name holds it in snake form."""
    names = [name for name in globals() if name.startswith("test_")]
    codes_found = refusal_codes()
    assert len(codes_found) > 25  # the scan itself found the catalog's codes
    missing = [
        code
        for code in codes_found
        if not any(code.replace(".", "_") in name for name in names)
    ]
    assert missing == []
