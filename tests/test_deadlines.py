"""Deadlines of the public confirmations and the S22 escalation."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

import regflow
from regflow import events as ev

ET = ZoneInfo("America/New_York")
FLOW = regflow.Workflow.for_plan_year(2024)


def registered(on: dt.date, *, find_local_help: bool = True) -> regflow.Registration:
    """A returning agent whose last agreement was accepted on *on*."""
    at = dt.datetime(on.year, on.month, on.day, 10, tzinfo=ET)
    profile = regflow.Profile(
        role=regflow.Role.MARKETPLACE_AGENT_BROKER,
        contact=regflow.ContactDetails(
            name="Ana Reyes",
            email="ana@example.com",
            phone="555-0100",
            zip_code="33101",
        ),
        find_local_help=find_local_help,
        npn="19876543",
    )
    reg = FLOW.start(
        ev.StartRegistration(
            event_id="s",
            at=at,
            agent_id="agent-42",
            portal_account_id="p-1",
            plan_year=2024,
            prior_year=2023,
        )
    )
    for event in (
        ev.SaveProfile(event_id="e1", at=at, profile=profile),
        ev.CompleteProfile(event_id="e2", at=at),
        ev.CompleteMlmsTraining(
            event_id="e3", at=at, curriculum=regflow.Curriculum.RETURNING
        ),
        ev.AcceptAgreement(
            event_id="e4", at=at, agreement=regflow.Agreement.INDIVIDUAL_GENERAL
        ),
        ev.AcceptAgreement(
            event_id="e5",
            at=at,
            agreement=regflow.Agreement.INDIVIDUAL_PRIVACY_SECURITY,
        ),
    ):
        reg = FLOW.apply(reg, event)
    assert reg.individual is regflow.IndividualState.REGISTERED
    return reg


def test_deadlines_count_business_days_from_the_agreements() -> None:
    """Tracker and RCL 2, Find Local Help 3 business days after a Tuesday."""
    found = regflow.deadlines(registered(dt.date(2023, 10, 3)), FLOW.rules)
    assert found == regflow.Deadlines(
        registered_on=dt.date(2023, 10, 3),
        tracker=dt.date(2023, 10, 5),
        rcl=dt.date(2023, 10, 5),
        find_local_help=dt.date(2023, 10, 6),
    )


def test_deadlines_skip_a_monday_federal_holiday() -> None:
    """Agreements on the Friday before Columbus Day: RCL due Wednesday, not Tuesday."""
    found = regflow.deadlines(registered(dt.date(2023, 10, 6)), FLOW.rules)
    assert found is not None
    assert found.rcl == dt.date(2023, 10, 11)
    assert found.find_local_help == dt.date(2023, 10, 12)


def test_deadlines_skip_a_saturday_holiday_observed_on_friday() -> None:
    """Veterans Day 2023 fell on Saturday and was observed Friday Nov 10."""
    found = regflow.deadlines(registered(dt.date(2023, 11, 9)), FLOW.rules)
    assert found is not None
    assert found.rcl == dt.date(2023, 11, 14)  # skips Fri 10 (observed), Sat, Sun


def test_no_find_local_help_deadline_without_opting_in() -> None:
    """An agent who did not opt in is never expected on Find Local Help."""
    found = regflow.deadlines(
        registered(dt.date(2023, 10, 3), find_local_help=False), FLOW.rules
    )
    assert found is not None and found.find_local_help is None


def test_no_deadlines_before_the_agreements() -> None:
    """A registration still in training has no deadlines yet."""
    reg = registered(dt.date(2023, 10, 3))
    early = FLOW.replay(reg.history[:3])
    assert regflow.deadlines(early, FLOW.rules) is None


def test_nothing_is_overdue_on_the_due_date() -> None:
    """On the due date itself nothing is late yet."""
    reg = registered(dt.date(2023, 10, 3))
    assert regflow.overdue([reg], on=dt.date(2023, 10, 5)) == []


def test_late_rcl_listing_produces_an_escalation() -> None:
    """After the RCL window the listing is overdue with a prefilled help-desk email."""
    reg = registered(dt.date(2023, 10, 3))
    late = regflow.overdue([reg], on=dt.date(2023, 10, 10))
    kinds = {o.kind: o for o in late}
    assert set(kinds) == {
        regflow.Confirmation.TRACKER,
        regflow.Confirmation.RCL,
        regflow.Confirmation.FIND_LOCAL_HELP,
    }
    rcl = kinds[regflow.Confirmation.RCL]
    assert rcl.business_days_late == 2  # Fri 6 and Tue 10 (Mon 9 is Columbus Day)
    assert rcl.escalation is not None
    assert kinds[regflow.Confirmation.TRACKER].escalation is None
    mail = rcl.escalation
    assert mail.to == "FFMProducer-AssisterHelpDesk@cms.hhs.gov"
    for locale in ("en", "es"):
        assert "19876543" in mail.subject(locale)
        assert "2024" in mail.body(locale) and "2023-10-03" in mail.body(locale)
    assert mail.mailto().startswith("mailto:FFMProducer-AssisterHelpDesk@cms.hhs.gov?")


def test_observed_confirmations_are_not_overdue() -> None:
    """A Tracker confirmation already seen is not reported late."""
    reg = registered(dt.date(2023, 10, 3))
    at = dt.datetime(2023, 10, 4, 9, tzinfo=ET)
    reg = FLOW.apply(reg, ev.ConfirmTracker(event_id="t", at=at))
    kinds = {o.kind for o in regflow.overdue([reg], on=dt.date(2023, 10, 20))}
    assert regflow.Confirmation.TRACKER not in kinds


def test_escalated_then_listed_is_certified_and_no_longer_overdue() -> None:
    """Writing to the help desk escalates; a later RCL listing still certifies."""
    reg = registered(dt.date(2023, 10, 3))
    wrote = dt.datetime(2023, 10, 10, 9, tzinfo=ET)
    reg = FLOW.apply(reg, ev.ContactHelpDesk(event_id="h", at=wrote))
    assert reg.individual is regflow.IndividualState.ESCALATED
    late = regflow.overdue([reg], on=dt.date(2023, 10, 11))
    assert all(o.escalated for o in late)
    reg = FLOW.apply(
        reg,
        ev.ObserveRclListing(
            event_id="r",
            at=wrote + dt.timedelta(days=2),
            npn_valid=regflow.NpnValidity.VALID,
        ),
    )
    assert reg.individual is regflow.IndividualState.CERTIFIED
    assert regflow.overdue([reg], on=dt.date(2023, 10, 30)) == []


def test_help_desk_contact_before_the_window_is_refused() -> None:
    """Writing before the RCL window has passed is refused with the due date (S22)."""
    reg = registered(dt.date(2023, 10, 3))
    early = ev.ContactHelpDesk(event_id="h", at=dt.datetime(2023, 10, 5, 17, tzinfo=ET))
    with pytest.raises(regflow.StepRefused) as info:
        FLOW.apply(reg, early)
    [refusal] = info.value.refusals
    assert refusal.code == "S22.rcl_not_overdue"
    assert refusal.params["due"] == "2023-10-05"
