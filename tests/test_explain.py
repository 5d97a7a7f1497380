"""The portal's menu: explain() says, per event type, whether it may be sent and why not."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given, settings

import regflow
from helpers import (
    agent_profile,
    at,
    at_agreements,
    eid,
    in_training,
    new_agent,
    registered,
    returning_agent,
)
from regflow import Actor, Agreement, Curriculum, Track
from regflow import events as ev
from regflow._catalog import CATALOG
from regflow.testing import registrations

FLOW = regflow.Workflow.for_plan_year(2024)
KINDS = [spec.kind for spec in CATALOG if spec.type is not ev.StartRegistration]


def test_the_menu_has_one_option_per_event_type_in_catalog_order() -> None:
    """Every event type but the start is an option, in the catalog's order."""
    menu = FLOW.explain(returning_agent(FLOW))
    assert [o.kind for o in menu.options] == KINDS
    assert [o.event for o in menu.options][:2] == [ev.SaveProfile, ev.CompleteProfile]
    assert menu.agent_id == "agent-42" and menu.version == 1
    assert menu.status is regflow.Status.IN_PROGRESS


@settings(max_examples=40, deadline=None)
@given(registrations())
def test_available_is_the_view_of_the_allowed_options(
    reg: regflow.Registration,
) -> None:
    """available() lists exactly the event types explain() allows, in order."""
    menu = FLOW.explain(reg)
    assert tuple(o.event for o in menu.allowed) == FLOW.available(reg)
    for option in menu.options:
        assert option.allowed is any(c.allowed for c in option.choices)
        assert option.allowed is (not option.refusals)
        closest = min(len(c.refusals) for c in option.choices)
        assert len(option.refusals) == closest


@settings(max_examples=40, deadline=None)
@given(registrations())
def test_every_choice_is_what_check_says_of_it(reg: regflow.Registration) -> None:
    """A choice's verdict and refusals are check()'s for the event it stands for."""
    when = reg.history[-1].at
    for option in FLOW.explain(reg).options:
        spec = next(s for s in CATALOG if s.kind == option.kind)
        filled = spec.filled(reg, FLOW.rules, when)
        for choice in option.choices:
            event = option.event(event_id=eid(), at=when, **{**filled, **choice.values})
            assert FLOW.check(reg, event).refusals == choice.refusals


def test_a_refused_option_says_every_reason_in_the_locale() -> None:
    """An agreement before training: refused, with every reason, in Spanish too."""
    reg = FLOW.apply(
        returning_agent(FLOW),
        ev.SaveProfile(event_id=eid(), at=at(2), profile=agent_profile()),
    )
    english = FLOW.explain(reg).option(ev.AcceptAgreement)
    spanish = FLOW.explain(reg, locale="es").option("accept_agreement")
    assert not english.allowed
    assert [r.code for r in english.refusals] == [
        "state.not_allowed",
        "S16.profile_incomplete",
        "S16.training_incomplete",
    ]
    assert english.refusals == spanish.refusals
    assert english.label == "Accepting an agreement"
    assert spanish.label == "Aceptar un Convenio"
    assert spanish.messages[1] == "Complete el perfil de MLMS antes de los Convenios."
    assert spanish.messages == tuple(r.message("es") for r in spanish.refusals)


def test_choices_are_the_agreements_that_remain() -> None:
    """With one agreement accepted, the menu offers the others, labelled."""
    reg = at_agreements(FLOW, agent_profile(shop=True))
    reg = FLOW.apply(
        reg,
        ev.AcceptAgreement(
            event_id=eid(), at=at(3), agreement=Agreement.INDIVIDUAL_GENERAL
        ),
    )
    option = FLOW.explain(reg).option(ev.AcceptAgreement)
    assert [c.values["agreement"] for c in option.choices] == [
        Agreement.INDIVIDUAL_PRIVACY_SECURITY,
        Agreement.SHOP_PRIVACY_SECURITY,
    ]
    assert [c.tracks for c in option.choices] == [(Track.INDIVIDUAL,), (Track.SHOP,)]
    assert option.choices[1].label == "SHOP Privacy and Security Agreement"
    assert all(c.allowed for c in option.choices)


def test_choices_are_the_curricula_to_add_and_the_vendors() -> None:
    """Training: the curricula not yet enrolled, and each vendor for what is left."""
    reg = in_training(FLOW, returning_agent(FLOW))
    menu = FLOW.explain(reg)
    enroll = menu.option(ev.EnrollCurriculum)
    assert [c.values["curriculum"] for c in enroll.choices] == [
        Curriculum.INDIVIDUAL,
        Curriculum.SHOP,
    ]
    assert [c.allowed for c in enroll.choices] == [True, False]
    assert [r.code for r in enroll.choices[1].refusals] == ["S12.shop_not_chosen"]
    launch = menu.option(ev.LaunchVendorTraining)
    assert [c.label for c in launch.choices] == [
        "HealthSherpa, Returning Agent/Broker",
        "INSXCloud, Returning Agent/Broker",
    ]


def test_fields_say_who_fills_them() -> None:
    """A launch's id and expiry are the portal's to fill; its vendor the agent's."""
    option = FLOW.explain(in_training(FLOW, returning_agent(FLOW))).option(
        ev.LaunchVendorTraining
    )
    filled = {f.name: f.filled_by for f in option.fields}
    assert filled == {
        "vendor": Actor.AGENT,
        "launch_id": Actor.PORTAL,
        "curriculum": Actor.AGENT,
        "expires_at": Actor.PORTAL,
    }
    assert all(f.required for f in option.fields)
    assert option.actor is Actor.AGENT
    rcl = FLOW.explain(registered(FLOW)).option(ev.ObserveRclListing)
    assert rcl.actor is Actor.LISTS
    assert {f.name: f.required for f in rcl.fields}["individual_end"] is False


def test_rcl_choices_are_the_rows_a_list_import_would_record() -> None:
    """NPN valid or not, dated for each track on the lists now."""
    both = FLOW.explain(registered(FLOW, agent_profile(shop=True)))
    option = both.option(ev.ObserveRclListing)
    assert [c.label for c in option.choices] == ["NPN valid", "NPN not valid"]
    assert {c.tracks for c in option.choices} == {(Track.INDIVIDUAL, Track.SHOP)}
    shop_only = in_training(FLOW, new_agent(FLOW), agent_profile(shop=True))
    shop_only = FLOW.apply(
        shop_only,
        ev.AcceptAgreement(
            event_id=eid(), at=at(2), agreement=Agreement.SHOP_PRIVACY_SECURITY
        ),
    )
    option = FLOW.explain(shop_only).option(ev.ObserveRclListing)
    assert {c.tracks for c in option.choices} == {(Track.SHOP,)}
    assert option.allowed


def test_time_dependent_options_are_judged_at_the_given_time() -> None:
    """The help desk opens once the RCL window has passed; regflow reads no clock."""
    reg = registered(FLOW, day=3)
    assert not FLOW.explain(reg).option(ev.ContactHelpDesk).allowed
    assert [r.code for r in FLOW.explain(reg).option(ev.ContactHelpDesk).refusals] == [
        "S22.rcl_not_overdue"
    ]
    assert FLOW.explain(reg, at=at(6)).option(ev.ContactHelpDesk).allowed


def test_a_time_outside_the_plan_year_refuses_everything_for_that_alone() -> None:
    """At a time outside the plan year's window nothing is allowed, and says why."""
    menu = FLOW.explain(registered(FLOW), at=dt.datetime(2030, 1, 1, tzinfo=dt.UTC))
    assert menu.allowed == ()
    for option in menu.options:
        assert option.refusals[-1].code == "time.outside_plan_year"


def test_explain_in_a_registered_locale_and_refuses_an_unknown_one(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Labels render in a locale a host registered; an unknown locale is refused."""
    from regflow import _messages

    monkeypatch.setattr(_messages, "_CATALOGS", dict(_messages._CATALOGS))
    regflow.register_locale("fr", {"event.save_profile": "Enregistrer le profil"})
    menu = FLOW.explain(returning_agent(FLOW), locale="fr")
    assert menu.option(ev.SaveProfile).label == "Enregistrer le profil"
    assert menu.option(ev.CompleteProfile).label == "Completing the profile"  # fallback
    with pytest.raises(regflow.InvalidValue, match="no messages for locale 'xx'"):
        FLOW.explain(returning_agent(FLOW), locale="xx")


def test_explain_changes_nothing_and_refuses_naive_times() -> None:
    """explain() leaves the registration as it was; a naive `at` is refused."""
    reg = new_agent(FLOW)
    before = regflow.dumps(reg)
    FLOW.explain(reg)
    assert regflow.dumps(reg) == before
    with pytest.raises(regflow.NaiveDatetime):
        FLOW.explain(reg, at=dt.datetime(2023, 10, 2))
    with pytest.raises(regflow.InvalidValue, match="no event type"):
        FLOW.explain(reg).option("fly_away")
