"""The catalog and the machine built from it: checked at import, shared, injecting nothing."""

from __future__ import annotations

from typing import Any

import attrs
import pytest

import regflow
from helpers import at, eid, registered, returning_agent
from regflow import IndividualState, NpnValidity, ShopState, Track
from regflow import events as ev
from regflow._catalog import (
    BY_KIND,
    CATALOG,
    EventSpec,
    Step,
    catalog_texts,
    check_catalog,
    guard,
    no_change,
)
from regflow._catalog._spec import OK
from regflow._messages import EN, ES

IS, SS = IndividualState, ShopState


def replaced(kind: str, **changes: Any) -> list[EventSpec[Any]]:
    """The catalog with the spec of *kind* changed."""
    return [attrs.evolve(s, **changes) if s.kind == kind else s for s in CATALOG]


def definition_error(specs: Any, **kwargs: Any) -> str:
    """The message check_catalog raises for *specs*."""
    with pytest.raises(regflow.DefinitionError) as caught:
        check_catalog(specs, **kwargs)
    return str(caught.value)


def test_the_shipped_catalog_is_valid():
    """Every event type has a spec and the catalog passes its own checks."""
    check_catalog(CATALOG)
    kinds = {spec.kind for spec in CATALOG}
    assert kinds == {getattr(ev, n).kind for n in ev.__all__ if n != "Event"}


def test_an_event_type_without_a_spec_is_named_with_the_fix():
    """Dropping an event's spec is reported, saying to add one."""
    specs = [s for s in CATALOG if s.kind != "print_certificate"]
    message = definition_error(specs)
    assert (
        "event 'print_certificate' (PrintCertificate) has no spec: add an EventSpec "
        "for it to the catalog"
    ) in message


def test_an_event_with_no_step_is_named_with_the_fix():
    """A spec with no step is reported."""
    message = definition_error(replaced("print_certificate", steps=()))
    assert "event 'print_certificate' has no step: give it one" in message


def test_an_event_with_no_effect_is_named_with_the_fix():
    """A spec with no effect is reported, naming no_change for state-only events."""
    message = definition_error(replaced("portal_login", effect=None))
    assert "event 'portal_login' has no effect" in message
    assert "effect=no_change" in message


def test_a_label_missing_in_a_shipped_locale_is_named():
    """An event label without Spanish is reported with the key to add."""
    message = definition_error(
        replaced("portal_login", label={"en": "Logging in again"})
    )
    assert "event 'portal_login' has no label in 'es': add label['es']" in message


def test_a_guard_naming_an_unknown_rule_is_named_with_the_fix():
    """A guard for a rule that is not S1-S22, start or time is reported."""

    @guard("S99", {"S99.nope": {"en": "No.", "es": "No."}})
    def made_up(reg: Any, event: Any, rules: Any) -> Any:
        return OK

    spec = BY_KIND["portal_login"]
    message = definition_error(replaced("portal_login", guards=(*spec.guards, made_up)))
    assert "guard 'made_up' enforces unknown rule 'S99'" in message
    assert "one of S1-S22, 'start' or 'time'" in message


def test_a_refusal_outside_its_rule_or_without_a_locale_is_named():
    """A code not under its guard's rule, or missing a locale's text, is reported."""

    @guard("S15", {"S16.borrowed": {"en": "Borrowed.", "es": ""}})
    def borrowing(reg: Any, event: Any, rules: Any) -> Any:
        return OK

    message = definition_error(replaced("portal_login", guards=(borrowing,)))
    assert "refuses with 'S16.borrowed', which is not under its rule 'S15'" in message
    assert "refusal 'S16.borrowed' has no text in 'es'" in message


def test_a_state_of_the_wrong_track_in_a_step_is_named():
    """A SHOP state used in an Individual step is reported with the enum to use."""
    spec = BY_KIND["portal_login"]
    bad = Step(Track.INDIVIDUAL, (SS.REGISTERED,), IS.TRAINING)
    message = definition_error(replaced("portal_login", steps=(*spec.steps, bad)))
    assert "is not a state of the individual track; use IndividualState" in message


def test_an_unreachable_state_is_named_with_the_fix():
    """A state no step leads to is reported with how to reach it."""
    specs = [
        attrs.evolve(
            s,
            steps=tuple(st for st in s.steps if st.dest is not IS.TRAINING_COMPLETE),
        )
        for s in CATALOG
    ]
    message = definition_error(specs)
    assert (
        "state 'training_complete' of the individual track is unreachable: add a "
        "step whose dest it is, from a reachable state"
    ) in message


def test_an_unreachable_goal_is_reported_per_track():
    """Without a step into SHOP's listed state, the SHOP goal cannot be reached."""
    specs = [
        attrs.evolve(s, steps=tuple(st for st in s.steps if st.dest is not SS.LISTED))
        for s in CATALOG
    ]
    message = definition_error(specs)
    assert "the shop track's goal 'listed' cannot be reached" in message
    assert "individual track's goal" not in message


def test_a_last_step_with_a_condition_is_refused():
    """An event and source whose steps all have conditions could match none."""
    spec = BY_KIND["complete_mlms_training"]
    steps = tuple(
        s for s in spec.steps if not (s.track is Track.INDIVIDUAL and s.when is None)
    )
    message = definition_error(replaced("complete_mlms_training", steps=steps))
    assert (
        "event 'complete_mlms_training' from individual 'training' can match no step: "
        "give its last step there no condition"
    ) in message


def test_every_problem_is_reported_at_once():
    """Several mistakes in one catalog are all listed in one error."""
    specs = [
        attrs.evolve(s, label={"en": "x"}, effect=None)
        if s.kind == "portal_login"
        else s
        for s in CATALOG
        if s.kind != "reinstate"
    ]
    message = definition_error(specs)
    for part in ("no spec", "no effect", "no label in 'es'", "'reinstated'"):
        assert part in message


def test_the_message_catalogs_are_derived_from_the_catalog():
    """Every event label and refusal text of the catalog is in the shipped locales."""
    texts = catalog_texts()
    for locale, catalog in (("en", EN), ("es", ES)):
        for code, text in texts[locale].items():
            assert catalog[code] == text
    assert EN["event.accept_agreement"] == BY_KIND["accept_agreement"].label["en"]
    assert (
        no_change(returning_agent(regflow.Workflow.for_plan_year(2024)), None, None)
        == {}
    )  # type: ignore[arg-type]


def test_definition_error_is_a_regflow_error():
    """DefinitionError roots in RegflowError."""
    assert issubclass(regflow.DefinitionError, regflow.RegflowError)


def test_workflows_share_one_engine():
    """Building workflows for several years, or twice, shares one engine."""
    first = regflow.Workflow.for_plan_year(2024)
    assert regflow.Workflow.for_plan_year(2024) is first
    others = [
        regflow.Workflow.for_plan_year(2026),
        regflow.Workflow(regflow.PlanYearRules.for_year(2024)),
        regflow.Workflow(regflow.PlanYearRules.for_year(2025)),
    ]
    for flow in others:
        assert flow._engine is first._engine


def test_nothing_is_injected_into_registrations_or_hosts():
    """After many applies: no model on either machine, no new attributes anywhere."""
    flow = regflow.Workflow.for_plan_year(2024)

    class Host:
        """A host application's object holding a registration."""

        def __init__(self, reg: regflow.Registration) -> None:
            self.reg = reg

    fresh = returning_agent(flow)
    host = Host(fresh)
    host_before = dict(vars(host))
    host_attrs = set(dir(host))
    reg = registered(flow)
    for day in range(4, 9):
        reg = flow.apply(reg, ev.ConfirmTracker(event_id=eid(), at=at(day)))
        reg = flow.apply(
            reg,
            ev.ObserveRclListing(
                event_id=eid(), at=at(day), npn_valid=NpnValidity.VALID
            ),
        )
    flow.explain(reg)
    assert reg.individual is IS.CERTIFIED
    assert all(m.models == [] for m in flow._engine.machines.values())
    assert vars(host) == host_before and set(dir(host)) == host_attrs
    assert set(dir(reg)) == set(dir(fresh))
    # transitions would add trigger, may_<event>, to_<STATE> and is_<STATE>.
    injected = [
        name
        for name in dir(reg) + dir(flow) + dir(regflow.Registration)
        if name == "trigger"
        or name.startswith(("may_", "to_"))
        or (name.startswith("is_") and name[3:] in IndividualState.__members__)
    ]
    assert injected == []


def test_diagram_draws_both_tracks_as_parallel_regions():
    """diagram() is mermaid with both tracks, every state of each, and no styling."""
    flow = regflow.Workflow.for_plan_year(2024)
    text = flow.diagram()
    assert "stateDiagram-v2" in text and "plan year 2024" in text
    assert "state registration__individual {" in text
    assert "state registration__shop {" in text
    assert "\n    --\n" in text  # mermaid's separator of concurrent regions
    for state in IndividualState:
        assert f"registration__individual__{state.value}" in text
    for state in ShopState:
        assert f"registration__shop__{state.value}" in text
    assert "classDef" not in text and "s_active" not in text
    assert "s_active" in flow.diagram(active=True)
    assert "My title" in flow.diagram(title="My title")
    assert all(m.models == [] for m in flow._engine.machines.values())
