"""Refusal messages: every code renders in English and Spanish; locales plug in."""

from __future__ import annotations

import enum
import string

import pytest

import regflow
from helpers import at, eid, returning_agent
from regflow import Refusal, _messages
from regflow import events as ev
from regflow._labels import _CATEGORIES
from regflow._messages import EN, ES

# Sample parameters for every template with placeholders, as regflow sends them.
SAMPLE_PARAMS: dict[str, dict[str, str | int | tuple[str, ...]]] = {
    "state.not_allowed": {"event": "accept_agreement", "state": "training"},
    "start.plan_year_mismatch": {"expected": 2024, "plan_year": 2025},
    "start.prior_year_not_before": {"prior_year": 2024, "plan_year": 2024},
    "time.outside_plan_year": {
        "plan_year": 2024,
        "at": "1990-01-01T00:00:00+00:00",
        "opens": "2023-01-01",
        "closes": "2024-12-31",
    },
    "time.before_start": {
        "at": "2023-10-01T09:00:00-04:00",
        "started": "2023-10-02T09:00:00-04:00",
    },
    "S13.launch_expiry_too_far": {"days": 30, "expires_at": "2100-01-01T00:00:00Z"},
    "S13.completed_before_launch": {
        "at": "2023-10-03T08:55:00-04:00",
        "issued_at": "2023-10-03T09:00:00-04:00",
    },
    "S9.npn_reused": {"npn": "19876543", "field": "business_npn"},
    "S1.not_returning": {"previous_year": 2023},
    "S1.prior_year_contradicted": {"prior_year": 2023, "state": "training"},
    "S10.curriculum_not_at_vendor": {"curriculum": "shop"},
    "S12.curriculum_not_offered": {"curriculum": "shop", "plan_year": 2024},
    "S12.already_enrolled": {"curriculum": "returning"},
    "S12.not_enrolled": {"curriculum": "shop"},
    "S12.already_completed": {"curriculum": "individual"},
    "S10.vendor_not_approved": {
        "vendor": "Acme",
        "plan_year": 2024,
        "approved": "HealthSherpa, INSXCloud",
    },
    "S13.launch_expiry_invalid": {
        "at": "2023-10-03T09:00:00-05:00",
        "expires_at": "2023-10-03T08:00:00-05:00",
    },
    "S13.no_launch": {"vendor": "HealthSherpa"},
    "S13.launch_mismatch": {"field": "plan_year", "given": "2025", "expected": "2024"},
    "S13.launch_expired": {"expires_at": "2023-10-03T11:00:00-05:00"},
    "S13.launch_used": {"launch_id": "launch-1"},
    "S16.training_incomplete": {"curricula": ("returning", "shop")},
    "S16.agreement_not_applicable": {"agreement": "shop_privacy_security"},
    "S16.already_accepted": {"agreement": "individual_general"},
    "S17.registration_incomplete": {"steps": ("profile", "training", "agreements")},
    "S18.agreements_pending": {
        "agreements": ("individual_general", "individual_privacy_security")
    },
    "S20.validity_not_current": {"plan_year": 2024},
    "S22.rcl_not_overdue": {"days": 2, "due": "2023-10-05"},
    "escalation.subject": {"npn": "19876543", "plan_year": 2024},
    "escalation.body": {
        "plan_year": 2024,
        "completed_on": "2023-10-03",
        "npn": "19876543",
        "days": 2,
        "due": "2023-10-05",
        "name": "Ana Reyes",
    },
}


def fields(template: str) -> set[str]:
    """The ``str.format`` field names in *template*."""
    return {name for _, name, _, _ in string.Formatter().parse(template) if name}


@pytest.fixture
def catalogs(monkeypatch):
    """Let a test register locales without leaking them into other tests."""
    monkeypatch.setattr(_messages, "_CATALOGS", dict(_messages._CATALOGS))


def test_en_and_es_have_the_same_codes():
    """Every English code has a Spanish text and vice versa."""
    assert set(EN) == set(ES)


@pytest.mark.parametrize("code", sorted(EN))
def test_en_and_es_templates_use_the_same_fields(code):
    """A code's English and Spanish templates take the same parameters."""
    assert fields(EN[code]) == fields(ES[code])


def test_sample_params_cover_every_template_with_fields():
    """Every template with placeholders has sample parameters naming exactly them."""
    with_fields = {code: fields(text) for code, text in EN.items() if fields(text)}
    assert set(with_fields) == set(SAMPLE_PARAMS)
    for code, names in with_fields.items():
        assert set(SAMPLE_PARAMS[code]) == names, code


@pytest.mark.parametrize("locale", ["en", "es"])
@pytest.mark.parametrize("code", sorted(EN))
def test_every_code_renders(code, locale):
    """Each code renders in each shipped locale with no field left unfilled."""
    text = Refusal(code, SAMPLE_PARAMS.get(code, {})).message(locale)
    assert text.strip()
    assert "{" not in text and "}" not in text


@pytest.mark.parametrize(
    ("refusal", "en", "es"),
    [
        (
            Refusal(
                "state.not_allowed", {"event": "accept_agreement", "state": "training"}
            ),
            "Accepting an agreement is not possible in the current state: training.",
            "Aceptar un Convenio no es posible en el estado actual: capacitación.",
        ),
        (
            Refusal("S16.training_incomplete", {"curricula": ("returning", "shop")}),
            "still to do: Returning Agent/Broker, SHOP.",
            "falta: Capacitación para agentes y corredores que regresan, plan de "
            "estudios de SHOP.",
        ),
        (
            Refusal("S9.npn_reused", {"npn": "19876543", "field": "web_broker_npn"}),
            "NPN 19876543 is also entered as the web-broker NPN;",
            "NPN individual 19876543 también figura como NPN de la entidad con base en "
            "la web;",
        ),
        (
            Refusal(
                "S17.registration_incomplete", {"steps": ("training", "agreements")}
            ),
            "still to do: training, agreements.",
            "falta: capacitación, Convenios.",
        ),
    ],
)
def test_labelled_params_are_translated(refusal, en, es):
    """Names of states, events, curricula, steps and fields come from the catalog."""
    assert en in refusal.message("en")
    assert es in refusal.message("es")


def test_refusal_rule_is_the_code_prefix():
    """A refusal's rule is the part of its code before the dot."""
    assert Refusal("S16.training_incomplete").rule == "S16"
    assert Refusal("state.not_allowed").rule == "state"


def test_decision_and_step_refused_render_every_refusal():
    """Decision.messages and StepRefused.messages give one text per refusal."""
    flow = regflow.Workflow.for_plan_year(2024)
    reg = returning_agent(flow)
    event = ev.AcceptAgreement(
        event_id=eid(), at=at(2), agreement=regflow.Agreement.INDIVIDUAL_GENERAL
    )
    decision = flow.check(reg, event)
    assert len(decision.messages("es")) == len(decision.refusals) == 3
    assert decision.messages() == decision.messages("en")
    assert decision.messages("es")[1] == ES["S16.profile_incomplete"]
    with pytest.raises(regflow.StepRefused) as caught:
        flow.apply(reg, event)
    assert caught.value.messages("es") == decision.messages("es")


def test_unknown_locale_names_the_fix():
    """Rendering in a locale nobody registered raises InvalidValue saying how to add it."""
    with pytest.raises(regflow.InvalidValue) as caught:
        Refusal("S5.role_required").message("fr")
    text = str(caught.value)
    assert "'fr'" in text
    assert "en, es" in text
    assert "register_locale" in text


def test_locales_lists_the_shipped_ones():
    """English and Spanish ship with regflow."""
    assert {"en", "es"} <= set(regflow.locales())


def test_register_locale_adds_a_locale_with_fallback(catalogs):
    """A registered locale renders its own texts and falls back for the rest."""
    regflow.register_locale("fr", {"S5.role_required": "Choisissez un rôle."})
    assert "fr" in regflow.locales()
    assert Refusal("S5.role_required").message("fr") == "Choisissez un rôle."
    assert Refusal("S8.npn_required").message("fr") == EN["S8.npn_required"]
    assert Refusal("S12.already_enrolled", {"curriculum": "shop"}).message("fr") == (
        "You are already enrolled in the SHOP curriculum."
    )


def test_register_locale_falls_back_to_a_chosen_locale(catalogs):
    """With ``fallback="es"`` the missing codes come from Spanish."""
    regflow.register_locale(
        "pt", {"S5.role_required": "Escolha uma função."}, fallback="es"
    )
    assert Refusal("S5.role_required").message("pt") == "Escolha uma função."
    assert Refusal("S8.npn_required").message("pt") == ES["S8.npn_required"]


def test_register_locale_rejects_unknown_codes(catalogs):
    """Keys that are not regflow codes are refused, named, and nothing is added."""
    with pytest.raises(regflow.InvalidValue) as caught:
        regflow.register_locale("fr", {"S5.role_required": "x", "S99.nope": "y"})
    assert "S99.nope" in str(caught.value)
    assert "fr" not in regflow.locales()


def test_register_locale_rejects_an_unknown_fallback(catalogs):
    """A fallback that is not registered is refused."""
    with pytest.raises(regflow.InvalidValue) as caught:
        regflow.register_locale("fr", {}, fallback="de")
    assert "'de'" in str(caught.value)
    assert "fr" not in regflow.locales()


LABELLED_ENUMS = (
    regflow.IndividualState,
    regflow.ShopState,
    regflow.Status,
    regflow.Track,
    regflow.Role,
    regflow.Curriculum,
    regflow.Agreement,
    regflow.Marketplaces,
)


@pytest.mark.parametrize("kind", LABELLED_ENUMS, ids=lambda k: k.__name__)
@pytest.mark.parametrize("locale", ["en", "es"])
def test_every_state_status_role_and_track_has_a_label_in_each_locale(
    kind: type[enum.Enum], locale: str
) -> None:
    """label() names every value from the shipped catalog, not by falling back."""
    catalog = {"en": EN, "es": ES}[locale]
    category = _CATEGORIES[kind]
    names = [regflow.label(value, locale) for value in kind]  # type: ignore[arg-type]
    for value, name in zip(kind, names, strict=True):
        assert catalog.get(f"{category}.{value.value}") == name, (value, locale)
    assert len(set(names)) == len(names), names  # two values, one name: ambiguous


def test_label_is_the_name_the_refusals_use() -> None:
    """A refusal naming a state and label() of that state agree, in Spanish too."""
    flow = regflow.Workflow.for_plan_year(2024)
    reg = returning_agent(flow)
    sign = ev.AcceptAgreement(
        event_id=eid(), at=at(2), agreement=regflow.Agreement.INDIVIDUAL_GENERAL
    )
    refusal = flow.check(reg, sign).refusals[0]
    assert refusal.code == "state.not_allowed"
    state = regflow.label(reg.individual, "es")
    assert state in refusal.message("es")
    assert regflow.label(regflow.ShopState.REGISTERED) == "SHOP: registered"


def test_label_refuses_what_it_cannot_name() -> None:
    with pytest.raises(
        regflow.InvalidValue, match="label\\(\\) names a IndividualState"
    ):
        regflow.label("certified")  # type: ignore[arg-type]
    with pytest.raises(regflow.InvalidValue, match="no messages for locale 'fr'"):
        regflow.label(regflow.Status.CERTIFIED, "fr")
