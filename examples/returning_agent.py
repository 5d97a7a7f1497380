"""Walk a returning agent through plan-year 2024 registration, step by step.

Run it with ``make demo`` (until the CLI's demo exists) or ``python
examples/returning_agent.py``. It prints each step, one refusal with its
reasons in English and Spanish, and the machine as a mermaid diagram.
"""

from __future__ import annotations

import datetime as dt
import itertools
from zoneinfo import ZoneInfo

import regflow
from regflow import events as ev

ET = ZoneInfo("America/New_York")  # what CMS counts business days in
_ids = itertools.count(1)


def at(day: int, hour: int = 9) -> dt.datetime:
    """A time in October 2023, Eastern."""
    return dt.datetime(2023, 10, day, hour, tzinfo=ET)


def eid() -> str:
    """A fresh event id, as a portal would issue."""
    return f"evt-{next(_ids)}"


def main() -> regflow.Registration:
    """Run the walk-through and return the final registration."""
    flow = regflow.Workflow.for_plan_year(2024)
    reg = flow.start(
        ev.StartRegistration(
            event_id=eid(),
            at=at(2),
            agent_id="agent-42",
            portal_account_id="portal-7781",
            plan_year=2024,
            prior_year=2023,  # completed PY2023 Individual registration: returning
        )
    )
    print(f"started: {reg.individual}, auto-enrolled in {reg.enrollments[0].value}")

    # Trying to sign an agreement first shows every reason at once.
    early = ev.AcceptAgreement(
        event_id=eid(), at=at(2), agreement=regflow.Agreement.INDIVIDUAL_GENERAL
    )
    decision = flow.check(reg, early)
    print("refused: accepting an agreement now")
    for en, es in zip(decision.messages("en"), decision.messages("es"), strict=True):
        print(f"  - {en}\n    {es}")

    profile = regflow.Profile(
        role=regflow.Role.MARKETPLACE_AGENT_BROKER,
        contact=regflow.ContactDetails(
            name="Ana Reyes",
            email="ana@example.com",
            phone="555-0100",
            zip_code="33101",
        ),
        find_local_help=True,
        npn=" 19876543 ",  # trimmed and validated
    )
    steps: list[ev.Event] = [
        ev.SaveProfile(event_id=eid(), at=at(2), profile=profile),
        ev.CompleteProfile(event_id=eid(), at=at(2)),
        ev.CompleteMlmsTraining(
            event_id=eid(), at=at(3), curriculum=regflow.Curriculum.RETURNING
        ),
        ev.AcceptAgreement(
            event_id=eid(), at=at(3), agreement=regflow.Agreement.INDIVIDUAL_GENERAL
        ),
        ev.AcceptAgreement(
            event_id=eid(),
            at=at(3),
            agreement=regflow.Agreement.INDIVIDUAL_PRIVACY_SECURITY,
        ),
        ev.PrintCertificate(event_id=eid(), at=at(3)),
        ev.ConfirmTracker(event_id=eid(), at=at(4)),
        ev.ObserveRclListing(
            event_id=eid(),
            at=at(5),
            npn_valid=regflow.NpnValidity.VALID,
            individual_completion=dt.date(2023, 10, 3),
        ),
        ev.ObserveFindLocalHelp(event_id=eid(), at=at(6)),
    ]
    for event in steps:
        reg = flow.apply(reg, event)
        print(f"{type(event).__name__:<22} -> {reg.individual}")

    assert flow.replay(reg.history) == reg
    assert regflow.loads(regflow.dumps(reg)) == reg
    print(f"certified: {reg.is_certified}; {reg.version} events; replay and JSON agree")
    print()
    print(flow.diagram())
    return reg


if __name__ == "__main__":
    main()
