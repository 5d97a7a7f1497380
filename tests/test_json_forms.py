"""JSON forms: to_dict/from_dict for every value, views, and JSON Schemas checked
against real output with the jsonschema package."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import jsonschema
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import regflow
from helpers import agent_profile, at, eid, registered, returning_agent
from regflow import events as ev
from regflow._schemas import SCHEMA_FILES, render_schema, shipped_schema
from regflow.testing import any_event, registrations

FLOW = regflow.Workflow.for_plan_year(2024)
T0 = dt.datetime(2023, 10, 2, 9, tzinfo=dt.UTC)


def validator(name: str) -> jsonschema.Draft202012Validator:
    """A validator of the shipped schema *name*, checking formats too."""
    schema = shipped_schema(name)
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(
        schema, format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER
    )


@pytest.mark.parametrize("name", sorted(SCHEMA_FILES))
def test_the_shipped_schema_files_are_what_regflow_generates(name: str) -> None:
    """Each file in regflow/schemas is current and a valid draft 2020-12 schema
    (run `make schemas` after changing a class)."""
    text = render_schema(name)
    assert shipped_schema(name) == json.loads(text), f"run make schemas ({name})"
    assert json.loads(text)["$schema"] == "https://json-schema.org/draft/2020-12/schema"


@settings(max_examples=40, deadline=None)
@given(registrations())
def test_snapshots_and_views_validate_against_their_schemas(
    reg: regflow.Registration,
) -> None:
    """to_dict of any reachable snapshot, and of its view, is valid by its schema."""
    validator("registration.json").validate(regflow.to_dict(reg))
    view = regflow.to_dict(reg, history=False)
    validator("registration-view.json").validate(view)
    assert "history" not in view
    assert view["version"] == reg.version and view["status"] == reg.status.value


@settings(max_examples=150, deadline=None)
@given(any_event(T0))
def test_events_validate_against_their_schemas(event: ev.Event) -> None:
    """to_dict of any event is valid by the union schema and by its own."""
    data = regflow.to_dict(event)
    validator("event.json").validate(data)
    validator(f"event-{event.kind}.json").validate(data)


@settings(max_examples=30, deadline=None)
@given(registrations(), any_event(T0))
def test_menus_decisions_and_refusals_validate(
    reg: regflow.Registration, event: ev.Event
) -> None:
    """explain(), check() and their refusals produce data their schemas accept."""
    menu = FLOW.explain(reg, locale="es")
    validator("menu.json").validate(regflow.to_dict(menu))
    decision = FLOW.check(reg, attrs_at(event, reg.history[-1].at))
    validator("decision.json").validate(regflow.to_dict(decision))
    for refusal in decision.refusals:
        validator("refusal.json").validate(regflow.to_dict(refusal))


def attrs_at(event: ev.Event, when: dt.datetime) -> ev.Event:
    """*event* moved to *when*."""
    import attrs

    return attrs.evolve(event, at=when)


@pytest.mark.parametrize(
    ("name", "data"),
    [
        (
            "event-accept_agreement.json",
            {
                "type": "accept_agreement",
                "event_id": "x",
                "at": "2023-10-02T09:00:00+00:00",
            },
        ),
        (
            "event-accept_agreement.json",
            {
                "type": "accept_agreement",
                "event_id": "x",
                "at": "2023-10-02T09:00:00+00:00",
                "agreement": "everything",
            },
        ),
        (
            "event-terminate.json",
            {
                "type": "terminate",
                "event_id": " ",
                "at": "2023-10-02T09:00:00+00:00",
                "reason": "4",
            },
        ),
        (
            "event.json",
            {"type": "fly_away", "event_id": "x", "at": "2023-10-02T09:00:00+00:00"},
        ),
        (
            "refusal.json",
            {"code": "S16.training_incomplete", "params": {"curricula": [1]}},
        ),
        ("decision.json", {"allowed": "yes", "refusals": []}),
    ],
)
def test_schemas_refuse_malformed_data(name: str, data: dict[str, Any]) -> None:
    """A missing field, an unknown enum value, a blank id, an unknown event type,
    a bad parameter or a wrong type fails the schema."""
    with pytest.raises(jsonschema.ValidationError):
        validator(name).validate(data)


# -- to_dict / from_dict ----------------------------------------------------------


@settings(max_examples=30, deadline=None)
@given(registrations())
def test_every_value_round_trips_through_to_dict_and_from_dict(
    reg: regflow.Registration,
) -> None:
    """Snapshots, events, decisions, refusals and menus come back equal."""
    assert regflow.from_dict(regflow.to_dict(reg), regflow.Registration) == reg
    for event in reg.history:
        assert regflow.from_dict(regflow.to_dict(event), ev.Event) == event
    menu = FLOW.explain(reg)
    assert regflow.from_dict(regflow.to_dict(menu), regflow.Menu) == menu
    for option in menu.options:
        decision = regflow.Decision(option.refusals)
        assert (
            regflow.from_dict(regflow.to_dict(decision), regflow.Decision) == decision
        )
        for refusal in option.refusals:
            assert (
                regflow.from_dict(regflow.to_dict(refusal), regflow.Refusal) == refusal
            )


def test_a_form_builds_an_event_in_one_call() -> None:
    """A front end's JSON becomes an event; the type may be left out at an
    event's own endpoint."""
    form = {
        "type": "accept_agreement",
        "event_id": "web-1",
        "at": "2023-10-03T09:00:00-04:00",
        "agreement": "individual_general",
    }
    event = regflow.from_dict(form, ev.Event)
    assert event == ev.AcceptAgreement(
        event_id="web-1", at=at(3), agreement=regflow.Agreement.INDIVIDUAL_GENERAL
    )
    del form["type"]
    assert regflow.from_dict(form, ev.AcceptAgreement) == event


def test_a_blank_optional_field_of_a_form_is_not_entered() -> None:
    """A blank NPN is no NPN: S8 refuses it where required, no InvalidNPN crash."""
    form = {
        "type": "save_profile",
        "event_id": "web-2",
        "at": "2023-10-02T09:00:00-04:00",
        "profile": {
            "role": "marketplace_agent_broker",
            "contact": {
                "name": "Ana Reyes",
                "email": "ana@example.com",
                "phone": "555-0100",
                "zip_code": "  ",
                "business_name": "",
            },
            "npn": "",
            "business_npn": " ",
            "find_local_help": False,
        },
    }
    event = regflow.from_dict(form, ev.Event)
    assert isinstance(event, ev.SaveProfile)
    assert event.profile.npn is None and event.profile.business_npn is None
    assert event.profile.contact is not None and event.profile.contact.zip_code is None
    reg = FLOW.apply(returning_agent(FLOW), event)
    decision = FLOW.check(reg, ev.CompleteProfile(event_id=eid(), at=at(2)))
    assert [r.code for r in decision.refusals] == ["S8.npn_required"]
    validator("event-save_profile.json").validate(form)


@pytest.mark.parametrize(
    ("form", "says"),
    [
        (
            {
                "type": "accept_agreement",
                "event_id": "x",
                "at": "2023-10-03T09:00:00-04:00",
                "agreement": "all",
            },
            "agreement",
        ),
        (
            {"type": "accept_agreement", "event_id": "x", "at": "2023-10-03T09:00:00"},
            "offset",
        ),
        (
            {
                "type": "save_profile",
                "event_id": "x",
                "at": "2023-10-03T09:00:00-04:00",
                "profile": {"npn": "12a"},
            },
            "$.profile.npn",
        ),
        (
            {
                "type": "save_profile",
                "event_id": "x",
                "at": "2023-10-03T09:00:00-04:00",
                "profile": {"role": 1},
            },
            "$.profile.role",
        ),
        (
            {
                "type": "terminate",
                "event_id": "x",
                "at": "2023-10-03T09:00:00-04:00",
                "reason": "4",
                "marketplaces": "ALL",
            },
            "$.marketplaces",
        ),
        ({"event_id": "x"}, "unknown event type None"),
    ],
)
def test_a_malformed_form_is_a_regflow_error_naming_the_field(
    form: dict[str, Any], says: str
) -> None:
    """Each malformed form raises SerializationError saying where."""
    with pytest.raises(regflow.SerializationError) as caught:
        regflow.from_dict(form, ev.Event)
    assert says in str(caught.value)


def test_a_view_cannot_be_read_back_as_a_snapshot() -> None:
    """A view has no history: from_dict refuses it instead of inventing one."""
    view = regflow.to_dict(registered(FLOW), history=False)
    with pytest.raises(regflow.SerializationError):
        regflow.from_dict(view, regflow.Registration)


def test_to_dict_refuses_what_is_not_regflows() -> None:
    """to_dict takes regflow's values only."""
    with pytest.raises(regflow.InvalidValue, match="to_dict takes"):
        regflow.to_dict({"a": 1})


@given(st.sampled_from(sorted(SCHEMA_FILES)))
def test_json_schema_is_public_for_every_shipped_value(name: str) -> None:
    """regflow.json_schema gives the same schema the package ships."""
    cls, view = SCHEMA_FILES[name]
    assert regflow.json_schema(cls, view=view) == shipped_schema(name)


def test_a_snapshot_view_for_a_page() -> None:
    """The view of a SHOP agent has both tracks and its status, without the log."""
    view = regflow.to_dict(registered(FLOW, agent_profile(shop=True)), history=False)
    assert (view["individual"], view["shop"], view["status"]) == (
        "registered",
        "registered",
        "registered",
    )
    assert view["profile"]["npn"] == "19876543"
