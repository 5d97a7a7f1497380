"""Shared builders for tests: times, event ids, and registrations part-way along.

Times are in October 2023, Eastern: the 2nd is a Monday and the 9th (Columbus
Day) a federal holiday, which the business-day windows (S19-S22) skip.
"""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Iterable
from zoneinfo import ZoneInfo

import regflow
from regflow import events as ev

ET = ZoneInfo("America/New_York")  # what CMS counts business days in
UTC = dt.UTC

_ids = itertools.count(1)


def at(day: int, hour: int = 9, minute: int = 0) -> dt.datetime:
    """A time on *day* of October 2023, Eastern."""
    return dt.datetime(2023, 10, day, hour, minute, tzinfo=ET)


def on(flow: regflow.Workflow, day: int, hour: int = 9) -> dt.datetime:
    """:func:`at` moved to the year before *flow*'s plan year, inside its window."""
    return at(day, hour).replace(year=flow.rules.plan_year - 1)


def eid() -> str:
    """A fresh event id, as a portal would issue."""
    return f"evt-{next(_ids)}"


def agent_profile(**changes: object) -> regflow.Profile:
    """A complete Marketplace Agent Broker profile; *changes* override fields."""
    fields: dict[str, object] = {
        "role": regflow.Role.MARKETPLACE_AGENT_BROKER,
        "contact": regflow.ContactDetails(
            name="Ana Reyes",
            email="ana@example.com",
            phone="555-0100",
            zip_code="33101",
        ),
        "find_local_help": True,
        "npn": "19876543",
    }
    fields.update(changes)
    return regflow.Profile(**fields)  # type: ignore[arg-type]


def non_agent_profile() -> regflow.Profile:
    """A complete Not an Agent Broker profile: no NPN, no contact details."""
    return regflow.Profile(role=regflow.Role.NOT_AN_AGENT_BROKER)


def start(
    flow: regflow.Workflow,
    *,
    prior_year: int | None,
    agent_id: str = "agent-42",
    day: int = 2,
) -> regflow.Registration:
    """A registration started on *day* for the workflow's plan year."""
    return flow.start(
        ev.StartRegistration(
            event_id=eid(),
            at=on(flow, day),
            agent_id=agent_id,
            portal_account_id=f"portal-{agent_id}",
            plan_year=flow.rules.plan_year,
            prior_year=prior_year,
        )
    )


def returning_agent(flow: regflow.Workflow, **kwargs: object) -> regflow.Registration:
    """A started registration of an agent who completed the previous plan year."""
    return start(flow, prior_year=flow.rules.previous_year, **kwargs)  # type: ignore[arg-type]


def new_agent(flow: regflow.Workflow, **kwargs: object) -> regflow.Registration:
    """A started registration of an agent with no previous registration."""
    return start(flow, prior_year=None, **kwargs)  # type: ignore[arg-type]


def run(
    flow: regflow.Workflow, reg: regflow.Registration, events: Iterable[ev.Event]
) -> regflow.Registration:
    """Apply *events* in order and return the result."""
    for event in events:
        reg = flow.apply(reg, event)
    return reg


def in_training(
    flow: regflow.Workflow,
    reg: regflow.Registration,
    profile: regflow.Profile | None = None,
    *,
    day: int = 2,
) -> regflow.Registration:
    """Save *profile* (an agent's by default) and complete it: state TRAINING."""
    return run(
        flow,
        reg,
        [
            ev.SaveProfile(
                event_id=eid(), at=on(flow, day), profile=profile or agent_profile()
            ),
            ev.CompleteProfile(event_id=eid(), at=on(flow, day)),
        ],
    )


def finish_training(
    flow: regflow.Workflow, reg: regflow.Registration, *, day: int = 3
) -> regflow.Registration:
    """Complete every enrolled curriculum in MLMS."""
    todo = [c for c in reg.enrollments if c not in reg.completed_curricula]
    return run(
        flow,
        reg,
        [
            ev.CompleteMlmsTraining(event_id=eid(), at=on(flow, day), curriculum=c)
            for c in todo
        ],
    )


def accept_all(
    flow: regflow.Workflow, reg: regflow.Registration, *, day: int = 3, hour: int = 9
) -> regflow.Registration:
    """Accept every applicable agreement not accepted yet."""
    todo = [
        a
        for a in flow.rules.required_agreements(reg.profile)
        if a not in reg.accepted_agreements
    ]
    return run(
        flow,
        reg,
        [
            ev.AcceptAgreement(event_id=eid(), at=on(flow, day, hour), agreement=a)
            for a in todo
        ],
    )


def at_agreements(
    flow: regflow.Workflow, profile: regflow.Profile | None = None
) -> regflow.Registration:
    """A returning agent with profile and training done: AGREEMENTS_PENDING."""
    return finish_training(flow, in_training(flow, returning_agent(flow), profile))


def registered(
    flow: regflow.Workflow,
    profile: regflow.Profile | None = None,
    *,
    day: int = 3,
    hour: int = 9,
) -> regflow.Registration:
    """A returning agent who accepted every agreement on *day*: REGISTERED."""
    return accept_all(flow, at_agreements(flow, profile), day=day, hour=hour)
