"""The machine definition: checked at build, one shared engine, nothing injected."""

from __future__ import annotations

import pytest

import regflow
from helpers import at, eid, registered, returning_agent
from regflow import NpnValidity, State
from regflow import events as ev
from regflow._machine import (
    CONDITIONS,
    GOAL,
    INITIAL,
    STEPS,
    Step,
    build,
    check_definition,
)

S = State


def without(*drop: Step) -> tuple[Step, ...]:
    """STEPS minus the rows in *drop* (each must be there)."""
    for step in drop:
        assert step in STEPS
    return tuple(step for step in STEPS if step not in drop)


def definition_error(steps, **kwargs) -> str:
    """The message check_definition raises for *steps*."""
    with pytest.raises(regflow.DefinitionError) as caught:
        check_definition(steps, **kwargs)
    return str(caught.value)


def test_the_shipped_definition_is_valid():
    """The registration machine passes its own checks and builds."""
    check_definition(STEPS)
    engine = build()
    assert engine.steps == STEPS
    assert INITIAL is S.PROFILE_INCOMPLETE and GOAL is S.CERTIFIED


def test_unreachable_state_is_named_with_the_fix():
    """A state no step leads to is reported with how to reach it."""
    steps = without(
        Step(
            "complete_mlms_training",
            (S.TRAINING,),
            S.TRAINING_COMPLETE,
            "training_only_done",
        ),
        Step(
            "portal_login",
            (S.VENDOR_COMPLETED,),
            S.TRAINING_COMPLETE,
            "training_only_done",
        ),
    )
    message = definition_error(steps)
    assert (
        "state 'training_complete' is unreachable from 'profile_incomplete': add a "
        "step whose dest is 'training_complete' from a reachable state"
    ) in message
    assert "'certified'" not in message


def test_unreachable_goal_is_reported():
    """Without a step into CERTIFIED the goal cannot be reached, and it says so."""
    (into_goal,) = [step for step in STEPS if step.dest is GOAL]
    steps = without(into_goal)
    message = definition_error(steps)
    assert "the goal state 'certified' cannot be reached" in message


def test_unknown_state_is_named_with_the_fix():
    """A step using a state outside the known states is reported."""
    known = [s for s in State if s is not S.ESCALATED]
    message = definition_error(STEPS, states=known)
    assert "unknown state" in message and "ESCALATED" in message
    assert "add it to State" in message


def test_unknown_event_is_named_with_the_fix():
    """A step for an event no Event subclass has is reported."""
    steps = (*STEPS, Step("fly_away", (S.TRAINING,), S.TRAINING))
    message = definition_error(steps)
    assert "unknown event 'fly_away'" in message
    assert "add an Event subclass with that kind" in message


def test_unknown_condition_is_named_with_the_fix():
    """A step whose condition is not registered is reported."""
    steps = (*STEPS, Step("print_certificate", (S.REGISTERED,), S.CERTIFIED, "magic"))
    message = definition_error(steps)
    assert "unknown condition 'magic'" in message
    assert "register it in CONDITIONS" in message
    assert "magic" not in CONDITIONS


def test_event_with_no_step_is_named_with_the_fix():
    """An event kind that no step handles is reported."""
    steps = tuple(step for step in STEPS if step.event != "print_certificate")
    message = definition_error(steps)
    assert "event 'print_certificate' has no step: add one or drop the event" in message


def test_every_problem_is_reported_at_once():
    """Several mistakes in one definition are all listed in one error."""
    steps = (
        *(step for step in STEPS if step.event != "print_certificate"),
        Step("fly_away", (S.TRAINING,), S.TRAINING, "magic"),
    )
    message = definition_error(steps)
    for part in (
        "unknown event 'fly_away'",
        "unknown condition 'magic'",
        "print_certificate",
    ):
        assert part in message


def test_build_refuses_a_last_step_with_a_condition():
    """An event/source whose rows all have conditions could match none: refused."""
    steps = without(Step("complete_mlms_training", (S.TRAINING,)))
    check_definition(steps)  # reachability alone is fine
    with pytest.raises(regflow.DefinitionError) as caught:
        build(steps)
    assert str(caught.value) == (
        "event 'complete_mlms_training' from 'training' can match no step: give its "
        "last step no condition"
    )


def test_build_checks_the_definition_first():
    """build() raises the definition's problems before building anything."""
    steps = (*STEPS, Step("fly_away", (S.TRAINING,), S.TRAINING))
    with pytest.raises(regflow.DefinitionError, match="unknown event 'fly_away'"):
        build(steps)


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
    """After many applies: no model on the machine, no new attributes anywhere."""
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
    assert reg.state is S.CERTIFIED
    assert flow._engine.machine.models == []
    assert vars(host) == host_before and set(dir(host)) == host_attrs
    assert set(dir(reg)) == set(dir(fresh))
    # transitions would add trigger, may_<event>, to_<STATE> and is_<STATE>.
    injected = [
        name
        for name in dir(reg) + dir(flow) + dir(regflow.Registration)
        if name == "trigger"
        or name.startswith(("may_", "to_"))
        or (name.startswith("is_") and name[3:] in State.__members__)
    ]
    assert injected == []


def test_diagram_is_mermaid_naming_every_state():
    """diagram() is mermaid stateDiagram-v2 text with every state and the title."""
    flow = regflow.Workflow.for_plan_year(2024)
    text = flow.diagram()
    assert "stateDiagram-v2" in text
    for state in State:
        assert f'state "{state.name}"' in text
    assert "plan year 2024" in text
    assert "My title" in flow.diagram(title="My title")
    assert flow._engine.machine.models == []
