"""Reconciliation of registrations with the RCL and the termination list."""

from __future__ import annotations

import datetime as dt
import io
from pathlib import Path

import pytest

import regflow
from helpers import (
    ET,
    accept_all,
    agent_profile,
    finish_training,
    in_training,
    non_agent_profile,
    returning_agent,
)
from regflow import events as ev
from regflow.lists import (
    Outcome,
    Reconciliation,
    read_rcl,
    read_termination_list,
    reconcile,
)
from regflow.store import Repository, SQLiteStore

RCL_HEADER = (
    "NPN,Applicable Plan Year,Individual Registration Completion Date,"
    "Individual Marketplace End Date,Shop Registration Completion Date,"
    "Shop End Date,NPN Valid (Current Plan Year Only)\r\n"
)
TERM_HEADER = (
    "NPN,Effective Plan Year,Marketplaces,Registration Completion Date,"
    "Individual Registration Date,SHOP Registration Date,"
    "Termination or Suspension Date,Termination Reconsidered or Suspension Lifted,"
    "Status\r\n"
)
ON = dt.date(2023, 10, 20)
FLOW = regflow.Workflow.for_plan_year(2024)


def rcl(*rows: str) -> io.StringIO:
    """An RCL file in the published format."""
    return io.StringIO(RCL_HEADER + "".join(r + "\r\n" for r in rows))


def termination(*rows: str) -> io.StringIO:
    """A termination list file in the published format."""
    return io.StringIO(TERM_HEADER + "".join(r + "\r\n" for r in rows))


def agent(
    name: str, npn: str, *, day: int = 3, shop: bool = False
) -> regflow.Registration:
    """A registered agent with its own NPN, agreements accepted on October *day*."""
    reg = returning_agent(FLOW, agent_id=name)
    reg = in_training(FLOW, reg, agent_profile(npn=npn, shop=shop))
    return accept_all(FLOW, finish_training(FLOW, reg), day=day)


def only(result: regflow.lists.Reconciliation) -> regflow.lists.Finding:
    """The single finding of a one-registration reconciliation."""
    [finding] = result.findings
    return finding


def test_listed_valid_is_certified_with_individual_and_shop_dates() -> None:
    """NPN Valid Y certifies; Individual and SHOP are reported separately with dates."""
    reg = agent("a-1", "1234567", shop=True)
    row = "1234567,2024,10/04/2023,12/31/2024,10/05/2023,12/31/2024,Y"
    finding = only(reconcile([reg], rcl=read_rcl(rcl(row)), on=ON))
    assert finding.outcome is Outcome.CERTIFIED
    assert finding.individual_certified and finding.shop_certified
    assert finding.individual_completion == dt.date(2023, 10, 4)
    assert finding.shop_completion == dt.date(2023, 10, 5)
    assert isinstance(finding.event, ev.ObserveRclListing)
    assert (
        FLOW.apply(reg, finding.event).individual is regflow.IndividualState.CERTIFIED
    )


def test_listed_without_shop_date_is_certified_for_individual_only() -> None:
    """A Y row with no SHOP completion certifies Individual and not SHOP."""
    reg = agent("a-1", "1234567", shop=True)
    row = "1234567,2024,10/04/2023,12/31/2024,,,Y"
    finding = only(reconcile([reg], rcl=read_rcl(rcl(row)), on=ON))
    assert finding.individual_certified and not finding.shop_certified


def test_listed_invalid_is_flagged_not_certified() -> None:
    """NPN Valid N flags the registration; applying the event moves it to npn_invalid."""
    reg = agent("a-1", "1234567")
    finding = only(
        reconcile([reg], rcl=read_rcl(rcl("1234567,2024,10/04/2023,,,,N")), on=ON)
    )
    assert finding.outcome is Outcome.FLAGGED and not finding.individual_certified
    assert finding.event is not None
    assert (
        FLOW.apply(reg, finding.event).individual is regflow.IndividualState.NPN_INVALID
    )


def test_not_listed_and_not_due_is_waiting() -> None:
    """Agreements on Oct 19: the RCL is not due until Oct 23, so the agent waits."""
    finding = only(
        reconcile([agent("a-1", "1234567", day=19)], rcl=read_rcl(rcl()), on=ON)
    )
    assert finding.outcome is Outcome.WAITING
    assert finding.due == dt.date(2023, 10, 23) and finding.event is None


def test_not_listed_and_past_due_is_overdue_with_escalation() -> None:
    """Past the RCL window, the finding carries the S22 help-desk email."""
    finding = only(
        reconcile([agent("a-1", "1234567", day=3)], rcl=read_rcl(rcl()), on=ON)
    )
    assert finding.outcome is Outcome.OVERDUE
    assert finding.escalation is not None
    assert finding.escalation.to == regflow.HELP_DESK_EMAIL
    assert "1234567" in finding.escalation.body("es")


def test_terminated_for_the_plan_year_is_terminated() -> None:
    """A T row for the plan year terminates the registration."""
    reg = agent("a-1", "1234567")
    rows = termination("1234567,2024,INDIVIDUAL,10/03/2023,10/03/2023,,10/16/2023,,T3")
    finding = only(
        reconcile(
            [reg], rcl=read_rcl(rcl()), termination=read_termination_list(rows), on=ON
        )
    )
    assert finding.outcome is Outcome.TERMINATED
    assert isinstance(finding.event, ev.Terminate)
    assert finding.event.reason is regflow.TerminationReason.FRAUD_OR_ABUSE
    assert (
        FLOW.apply(reg, finding.event).individual is regflow.IndividualState.TERMINATED
    )


def test_reinstated_when_an_r_row_lifts_the_termination() -> None:
    """A later R row lifts a termination: the terminated registration is reinstated."""
    reg = agent("a-1", "1234567")
    reg = FLOW.apply(
        reg,
        ev.Terminate(
            event_id="t",
            at=dt.datetime(2023, 10, 10, tzinfo=ET),
            reason=regflow.TerminationReason.RESIDENT_LICENSE,
        ),
    )
    rows = termination(
        "1234567,2024,INDIVIDUAL,10/03/2023,10/03/2023,,10/10/2023,,T1",
        "1234567,2024,INDIVIDUAL,10/03/2023,10/03/2023,,10/10/2023,10/17/2023,R1",
    )
    finding = only(
        reconcile(
            [reg], rcl=read_rcl(rcl()), termination=read_termination_list(rows), on=ON
        )
    )
    assert finding.outcome is Outcome.REINSTATED
    assert isinstance(finding.event, ev.Reinstate)
    assert (
        FLOW.apply(reg, finding.event).individual is regflow.IndividualState.REINSTATED
    )


def test_termination_of_another_plan_year_is_ignored() -> None:
    """A T row for 2023 does not touch a 2024 registration."""
    reg = agent("a-1", "1234567")
    rows = termination("1234567,2023,INDIVIDUAL,10/03/2022,10/03/2022,,10/16/2023,,T3")
    finding = only(
        reconcile(
            [reg], rcl=read_rcl(rcl()), termination=read_termination_list(rows), on=ON
        )
    )
    assert finding.outcome is Outcome.OVERDUE


def test_npns_that_are_not_ours_are_ignored() -> None:
    """List rows for NPNs with no registration of ours produce no finding."""
    reg = agent("a-1", "1234567")
    reading = read_rcl(
        rcl("7654321,2024,10/04/2023,,,,Y", "1234567,2024,10/04/2023,,,,Y"),
        npns={"1234567"},
    )
    result = reconcile([reg], rcl=reading, on=ON)
    assert [f.agent_id for f in result.findings] == ["a-1"]
    assert reading.filtered_out == 1 and reading.kept == 1


def test_listing_without_our_agreements_is_a_discrepancy() -> None:
    """Listed on the RCL while we never saw the agreements: a discrepancy, no event."""
    reg = in_training(
        FLOW, returning_agent(FLOW, agent_id="a-1"), agent_profile(npn="1234567")
    )
    finding = only(
        reconcile([reg], rcl=read_rcl(rcl("1234567,2024,10/04/2023,,,,Y")), on=ON)
    )
    assert finding.outcome is Outcome.DISCREPANCY and finding.event is None


def test_reconciling_twice_changes_nothing_the_second_time(tmp_path: Path) -> None:
    """Applying a reconciliation's events, then reconciling again, proposes nothing."""
    with Repository(SQLiteStore(str(tmp_path / "r.sqlite3"))) as repo:
        for reg in (agent("a-1", "1234567"), agent("a-2", "2345678")):
            repo.start(reg.history[0])
            for recorded in reg.history[1:]:
                repo.apply(reg.agent_id, 2024, recorded)
        rows = ("1234567,2024,10/04/2023,,,,Y", "2345678,2024,10/04/2023,,,,N")
        first = reconcile(list(repo.store.find()), rcl=read_rcl(rcl(*rows)), on=ON)
        assert len(first.events) == 2
        for finding, event in first.events:
            repo.apply(finding.agent_id, finding.plan_year, event)
            repo.apply(
                finding.agent_id, finding.plan_year, event
            )  # resent: applied once
        versions = {r.agent_id: r.version for r in repo.store.find()}
        second = reconcile(list(repo.store.find()), rcl=read_rcl(rcl(*rows)), on=ON)
        assert second.events == ()
        assert [f.outcome for f in second.findings] == [
            Outcome.CERTIFIED,
            Outcome.FLAGGED,
        ]
        assert {r.agent_id: r.version for r in repo.store.find()} == versions


def test_a_valid_row_wins_over_an_invalid_one_for_the_same_npn() -> None:
    """Two rows for one NPN and year: the Y row decides."""
    reg = agent("a-1", "1234567")
    rows = ("1234567,2024,10/04/2023,,,,Y", "1234567,2024,10/04/2023,,,,N")
    assert (
        only(reconcile([reg], rcl=read_rcl(rcl(*rows)), on=ON)).outcome
        is Outcome.CERTIFIED
    )


def test_not_an_agent_is_not_looked_up() -> None:
    """A Not an Agent Broker registration is never expected on the RCL."""
    reg = in_training(FLOW, returning_agent(FLOW, agent_id="n-1"), non_agent_profile())
    assert (
        only(reconcile([reg], rcl=read_rcl(rcl()), on=ON)).outcome
        is Outcome.NOT_APPLICABLE
    )


def test_counts_cover_every_outcome() -> None:
    """counts() names every outcome, zero included, and adds up to the findings."""
    result = reconcile([agent("a-1", "1234567")], rcl=read_rcl(rcl()), on=ON)
    counts = result.counts()
    assert set(counts) == set(Outcome) and sum(counts.values()) == 1
    assert result.needs_action


def stored(repo: Repository, reg: regflow.Registration) -> None:
    """Record *reg*'s history in *repo*, as the portal would have."""
    first = reg.history[0]
    assert isinstance(first, ev.StartRegistration)
    repo.start(first)
    for recorded in reg.history[1:]:
        repo.apply(reg.agent_id, reg.plan_year, recorded)


def record(repo: Repository, result: Reconciliation) -> None:
    """Apply every event *result* proposes through *repo*."""
    for finding, event in result.events:
        repo.apply(finding.agent_id, finding.plan_year, event)


def with_termination(
    repo: Repository, rows: tuple[str, ...], day: dt.date
) -> Reconciliation:
    """Reconcile *repo*'s registrations with an empty RCL and termination *rows*."""
    return reconcile(
        list(repo.store.find()),
        rcl=read_rcl(rcl()),
        termination=read_termination_list(termination(*rows)),
        on=day,
    )


@pytest.mark.parametrize(
    "days",
    [
        (dt.date(2023, 10, 20), dt.date(2023, 10, 23), dt.date(2023, 10, 24)),
        (ON, ON, ON),
    ],
    ids=["later-days", "same-day"],
)
def test_npn_valid_y_then_n_then_y_again_records_each_listing(
    tmp_path: Path, days: tuple[dt.date, dt.date, dt.date]
) -> None:
    """Y, N, Y are three events with distinct ids, the last certifying, on any days."""
    with Repository(SQLiteStore(str(tmp_path / "r.sqlite3"))) as repo:
        stored(repo, agent("a-1", "1234567"))
        for day, flag in zip(days, "YNY", strict=True):
            row = f"1234567,2024,10/04/2023,,,,{flag}"
            first = reconcile(list(repo.store.find()), rcl=read_rcl(rcl(row)), on=day)
            # A crash before recording: the re-run proposes the very same event.
            again = reconcile(list(repo.store.find()), rcl=read_rcl(rcl(row)), on=day)
            assert len(first.events) == 1 and again.events == first.events
            record(repo, first)
            after = reconcile(list(repo.store.find()), rcl=read_rcl(rcl(row)), on=day)
            assert after.events == ()
        reg = repo.load("a-1", 2024)
        assert reg.individual is regflow.IndividualState.CERTIFIED
        ids = [r.event_id for r in reg.history if isinstance(r, ev.ObserveRclListing)]
        assert len(ids) == len(set(ids)) == 3


def test_terminated_reinstated_and_terminated_again_records_each_action(
    tmp_path: Path,
) -> None:
    """T, then R, then the same T row alone again: three events, distinct ids."""
    t_row = "1234567,2024,INDIVIDUAL,10/03/2023,10/03/2023,,10/10/2023,,T1"
    r_row = "1234567,2024,INDIVIDUAL,10/03/2023,10/03/2023,,10/10/2023,10/17/2023,R1"
    runs = (
        (dt.date(2023, 10, 11), (t_row,), regflow.IndividualState.TERMINATED),
        (dt.date(2023, 10, 18), (t_row, r_row), regflow.IndividualState.REINSTATED),
        (dt.date(2023, 10, 20), (t_row,), regflow.IndividualState.TERMINATED),
    )
    with Repository(SQLiteStore(str(tmp_path / "r.sqlite3"))) as repo:
        stored(repo, agent("a-1", "1234567"))
        for day, rows, state in runs:
            first = with_termination(repo, rows, day)
            # A crash before recording: the re-run proposes the very same event.
            again = with_termination(repo, rows, day)
            assert len(first.events) == 1 and again.events == first.events
            record(repo, first)
            assert with_termination(repo, rows, day).events == ()
            assert repo.load("a-1", 2024).individual is state
        ids = [
            r.event_id
            for r in repo.load("a-1", 2024).history
            if isinstance(r, ev.Terminate | ev.Reinstate)
        ]
        assert len(ids) == len(set(ids)) == 3


@pytest.mark.parametrize("flag", ["Y", "N"])
def test_a_termination_stands_whatever_the_rcl_says(flag: str) -> None:
    """A terminated registration on the RCL, with no termination list: terminated."""
    reg = FLOW.apply(
        agent("a-1", "1234567", shop=True),
        ev.Terminate(
            event_id="t",
            at=dt.datetime(2023, 10, 10, tzinfo=ET),
            reason=regflow.TerminationReason.RESIDENT_LICENSE,
        ),
    )
    row = f"1234567,2024,10/04/2023,,10/05/2023,,{flag}"
    finding = only(reconcile([reg], rcl=read_rcl(rcl(row)), on=ON))
    assert finding.outcome is Outcome.TERMINATED
    assert not finding.individual_certified and not finding.shop_certified
    assert finding.event is None and finding.state is regflow.IndividualState.TERMINATED


def test_an_earlier_plan_year_listed_with_a_dash_is_certified_not_flagged() -> None:
    """'-' is how the RCL lists every earlier plan year: once 2024 can be one
    (any day of 2024, when 2025 registration opens), its '-' row certifies
    it, and the event applies."""
    reg = agent("a-1", "1234567", shop=True)
    row = "1234567,2024,10/04/2023,12/31/2024,10/05/2023,12/31/2024,-"
    later = dt.date(2024, 11, 4)
    finding = only(reconcile([reg], rcl=read_rcl(rcl(row)), on=later))
    assert finding.outcome is Outcome.CERTIFIED and finding.detail == ""
    assert finding.individual_certified and finding.shop_certified
    assert isinstance(finding.event, ev.ObserveRclListing)
    assert FLOW.check(reg, finding.event)
    certified = FLOW.apply(reg, finding.event)
    assert certified.status is regflow.Status.CERTIFIED
    assert certified.certified_on(later)
    assert certified.certified_on(later, regflow.Track.SHOP)
    again = reconcile([certified], rcl=read_rcl(rcl(row)), on=later)
    assert only(again).outcome is Outcome.CERTIFIED and only(again).event is None


def test_a_dash_for_a_plan_year_not_yet_begun_is_flagged_and_proposes_nothing() -> None:
    """On October 20, 2023, 2024 is the newest plan year a list can hold: a '-'
    for it cannot be an earlier year's, so it certifies nothing."""
    reg = agent("a-1", "1234567")
    row = "1234567,2024,10/04/2023,12/31/2024,,,-"
    finding = only(reconcile([reg], rcl=read_rcl(rcl(row)), on=ON))
    assert finding.outcome is Outcome.FLAGGED and finding.event is None
    assert finding.detail == "NPN Valid is '-' on the RCL"


def test_a_dash_row_and_a_valid_row_of_an_earlier_year_both_certify() -> None:
    """Two rows for one NPN and earlier year, '-' and N: the '-' row decides."""
    reg = agent("a-1", "1234567")
    rows = ("1234567,2024,10/04/2023,,,,N", "1234567,2024,10/04/2023,,,,-")
    finding = only(reconcile([reg], rcl=read_rcl(rcl(*rows)), on=dt.date(2024, 2, 1)))
    assert finding.outcome is Outcome.CERTIFIED and finding.line == 3
