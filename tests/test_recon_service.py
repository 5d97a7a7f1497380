"""The reconciliation service: plan, then record; refusals and bad rows as findings."""

from __future__ import annotations

import datetime as dt
import re
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import attrs
import pytest

import helpers
import regflow
from regflow import ListFormatError
from regflow import events as ev
from regflow.lists import Outcome, plan, record
from regflow.store import ANY_AGENCY, Repository, SQLiteStore

FLOW = regflow.Workflow.for_plan_year(2024)
ON = dt.date(2023, 10, 20)
RCL_HEADER = (
    "NPN,Applicable Plan Year,Individual Registration Completion Date,"
    "Individual Marketplace End Date,Shop Registration Completion Date,"
    "Shop End Date,NPN Valid (Current Plan Year Only)\r\n"
)
SRC = str(Path(regflow.__file__).parent.parent)


def registered(
    repo: Repository,
    agent_id: str,
    npn: str,
    agency: str | None = None,
    *,
    shop: bool = False,
) -> None:
    """Store an agent registered on October 3 (in *agency*; SHOP too)."""
    reg = helpers.returning_agent(FLOW, agent_id=agent_id)
    reg = helpers.in_training(FLOW, reg, helpers.agent_profile(npn=npn, shop=shop))
    reg = helpers.accept_all(FLOW, helpers.finish_training(FLOW, reg))
    first = reg.history[0]
    assert isinstance(first, ev.StartRegistration)
    scoped = repo.scoped(agency)
    scoped.start(attrs.evolve(first, agency_id=agency))
    for event in reg.history[1:]:
        scoped.apply(agent_id, 2024, event)


def rcl_file(path: Path, *rows: str) -> Path:
    """An RCL file in the published format with *rows*."""
    path.write_text(RCL_HEADER + "".join(r + "\r\n" for r in rows), encoding="utf-8")
    return path


TERM_HEADER = (
    "NPN,Effective Plan Year,Marketplaces,Registration Completion Date,"
    "Individual Registration Date,SHOP Registration Date,"
    "Termination or Suspension Date,Termination Reconsidered or Suspension Lifted,"
    "Status\r\n"
)


def term_file(path: Path, *rows: str) -> Path:
    """A termination list file in the published format with *rows*."""
    path.write_text(TERM_HEADER + "".join(r + "\r\n" for r in rows), encoding="utf-8")
    return path


def npn(n: int) -> str:
    """The n-th test NPN."""
    return str(1_000_000 + n)


def test_plan_writes_nothing_and_record_is_idempotent(tmp_path: Path) -> None:
    """A plan changes no version; recording it twice records once."""
    with Repository(SQLiteStore(str(tmp_path / "r.sqlite3"))) as repo:
        registered(repo, "a-1", npn(1))
        registered(repo, "a-2", npn(2))
        rcl = rcl_file(tmp_path / "TBL_RCL_1.csv", f"{npn(1)},2024,10/04/2023,,,,Y")
        before = repo.load("a-1", 2024).version
        found = plan(repo, rcl=rcl, on=ON)
        assert repo.load("a-1", 2024).version == before
        assert [(p.agent_id, p.outcome) for p in found.proposals] == [
            ("a-1", Outcome.CERTIFIED)
        ]
        done = record(repo, found)
        assert [p.agent_id for p in done.recorded] == ["a-1"]
        again = record(repo, found)
        assert again.recorded == () and [p.agent_id for p in again.already] == ["a-1"]
        assert plan(repo, rcl=rcl, on=ON).proposals == ()
        assert repo.load("a-1", 2024).individual.value == "certified"


def test_a_refused_proposal_is_a_finding_with_its_refusals(tmp_path: Path) -> None:
    """Judged on a day before the registrations began, every event is refused,
    reported with the workflow's reasons, and nothing aborts."""
    with Repository(SQLiteStore(str(tmp_path / "r.sqlite3"))) as repo:
        registered(repo, "a-1", npn(1))
        rcl = rcl_file(tmp_path / "TBL_RCL_1.csv", f"{npn(1)},2024,10/04/2023,,,,Y")
        found = plan(repo, rcl=rcl, on=dt.date(2023, 9, 1))
        assert found.proposals == ()
        (finding,) = found.findings
        assert finding.outcome is Outcome.REFUSED and finding.needs_action
        assert [r.code for r in finding.refusals] == ["time.before_start"]
        assert "ObserveRclListing" in finding.detail


def test_drift_between_plan_and_record_is_refused_not_an_abort(tmp_path: Path) -> None:
    """A registration terminated after planning is refused at recording; the
    others are still recorded."""
    with Repository(SQLiteStore(str(tmp_path / "r.sqlite3"))) as repo:
        for n in (1, 2, 3):
            registered(repo, f"a-{n}", npn(n))
        rows = [f"{npn(n)},2024,10/04/2023,,,,Y" for n in (1, 2, 3)]
        found = plan(repo, rcl=rcl_file(tmp_path / "TBL_RCL_1.csv", *rows), on=ON)
        assert len(found.proposals) == 3
        repo.apply(
            "a-2",
            2024,
            ev.Terminate(
                event_id="t-1",
                at=dt.datetime(2023, 10, 19, tzinfo=dt.timezone.utc),
                reason=regflow.TerminationReason.NON_COMPLIANCE,
            ),
        )
        done = record(repo, found)
        assert sorted(p.agent_id for p in done.recorded) == ["a-1", "a-3"]
        (refused,) = done.refused
        assert refused.agent_id == "a-2" and refused.outcome is Outcome.REFUSED
        assert refused.refusals


def test_a_bad_row_of_ours_is_unreadable_not_overdue(tmp_path: Path) -> None:
    """Our agent's skipped row names line, column and value; another NPN's bad
    row only counts in the summary."""
    with Repository(SQLiteStore(str(tmp_path / "r.sqlite3"))) as repo:
        registered(repo, "a-1", npn(1))
        registered(repo, "a-2", npn(2))
        rcl = rcl_file(
            tmp_path / "TBL_RCL_1.csv",
            f"{npn(1)},2024,13/45/2023,,,,Y",
            f"{npn(9)},2024,99/99/2023,,,,Y",
        )
        found = plan(repo, rcl=rcl, on=dt.date(2023, 11, 30))
        by_agent = {f.agent_id: f for f in found.findings}
        mine = by_agent["a-1"]
        assert mine.outcome is Outcome.UNREADABLE and mine.escalation is None
        assert mine.line == 2 and "13/45/2023" in mine.detail
        assert "Individual Registration Completion Date" in mine.detail
        assert by_agent["a-2"].outcome is Outcome.OVERDUE
        (kind,) = found.problem_kinds()
        assert (
            kind.count == 2 and kind.column == "Individual Registration Completion Date"
        )


def test_a_bad_row_beside_a_good_one_is_kept_and_needs_action(tmp_path: Path) -> None:
    """A readable row decides; the skipped one of the same NPN stays with it."""
    with Repository(SQLiteStore(str(tmp_path / "r.sqlite3"))) as repo:
        registered(repo, "a-1", npn(1))
        rcl = rcl_file(
            tmp_path / "TBL_RCL_1.csv",
            f"{npn(1)},2024,10/04/2023,,,,Y",
            f"{npn(1)},2024,10/04/2023,,,,Z",
        )
        found = plan(repo, rcl=rcl, on=ON)
        (finding,) = found.findings
        assert finding.outcome is Outcome.CERTIFIED and finding.line == 2
        assert [p.line for p in finding.problems] == [3]
        assert finding.needs_action and found.needs_action
        assert len(found.proposals) == 1


def test_agencies_are_planned_apart_and_recorded_into_their_own(tmp_path: Path) -> None:
    """A scoped repository plans its agency only; an ANY_AGENCY one records
    each registration into its own agency."""
    with Repository(SQLiteStore(str(tmp_path / "r.sqlite3"))) as repo:
        registered(repo, "a-1", npn(1), agency="north")
        registered(repo, "a-1", npn(2), agency="south")
        rows = [f"{npn(n)},2024,10/04/2023,,,,Y" for n in (1, 2)]
        rcl = rcl_file(tmp_path / "TBL_RCL_1.csv", *rows)
        north = plan(repo.scoped("north"), rcl=rcl, on=ON)
        assert [(p.agency_id, p.agent_id) for p in north.proposals] == [
            ("north", "a-1")
        ]
        every = repo.scoped(ANY_AGENCY)
        done = record(every, plan(every, rcl=rcl, on=ON))
        assert sorted(p.agency_id or "" for p in done.recorded) == ["north", "south"]
        for agency in ("north", "south"):
            reg = repo.scoped(agency).load("a-1", 2024)
            assert reg.individual.value == "certified"


WORKER = textwrap.dedent(
    """
    import datetime as dt, os, signal, sys
    sys.path.insert(0, {src!r})
    from regflow.lists import plan, record
    from regflow.store import Repository, SQLiteStore

    repo = Repository(SQLiteStore({db!r}))
    found = plan(repo, rcl={rcl!r}, on=dt.date(2023, 10, 20))
    seen = []

    def recorded(proposal):
        seen.append(proposal)
        if len(seen) == {kill_after}:
            os.kill(os.getpid(), signal.SIGKILL)

    record(repo, found, recorded=recorded)
    """
)


def test_killed_mid_run_a_rerun_records_the_rest_once(tmp_path: Path) -> None:
    """SIGKILL after 7 of 20 registrations; the rerun records the other 13,
    and every registration has its one listing event."""
    db = str(tmp_path / "r.sqlite3")
    total, kill_after = 20, 7
    with Repository(SQLiteStore(db)) as repo:
        for n in range(total):
            registered(repo, f"a-{n:02}", npn(n))
    rows = [f"{npn(n)},2024,10/04/2023,,,,Y" for n in range(total)]
    rcl = str(rcl_file(tmp_path / "TBL_RCL_1.csv", *rows))
    script = WORKER.format(src=SRC, db=db, rcl=rcl, kill_after=kill_after)
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=False
    )
    assert done.returncode == -signal.SIGKILL, done.stderr
    with Repository(SQLiteStore(db)) as repo:
        resumed = plan(repo, rcl=rcl, on=ON)
        assert len(resumed.proposals) == total - kill_after
        assert len(record(repo, resumed).recorded) == total - kill_after
        for n in range(total):
            history = repo.history(f"a-{n:02}", 2024)
            listings = [e for e in history if isinstance(e, ev.ObserveRclListing)]
            assert len(listings) == 1
        assert plan(repo, rcl=rcl, on=ON).proposals == ()


def test_each_track_gets_its_own_listing_end_date_and_termination(
    tmp_path: Path,
) -> None:
    """Individual and SHOP listings and end dates reach their tracks; a SHOP
    termination and its reinstatement touch SHOP only, and are proposed once."""
    with Repository(SQLiteStore(str(tmp_path / "r.sqlite3"))) as repo:
        registered(repo, "a-1", npn(1), shop=True)
        rcl = rcl_file(
            tmp_path / "TBL_RCL_1.csv",
            f"{npn(1)},2024,10/04/2023,12/31/2024,10/05/2023,11/30/2024,Y",
        )
        record(repo, plan(repo, rcl=rcl, on=ON))
        reg = repo.load("a-1", 2024)
        assert (reg.individual.value, reg.shop.value) == ("certified", "listed")
        assert reg.individual_listing is not None and reg.shop_listing is not None
        assert reg.individual_listing.ends_on == dt.date(2024, 12, 31)
        assert reg.shop_listing.completed_on == dt.date(2023, 10, 5)
        assert reg.shop_listing.ends_on == dt.date(2024, 11, 30)
        ended = term_file(
            tmp_path / "AB_Termination_List_1.csv",
            f"{npn(1)},2024,SHOP,10/03/2023,10/03/2023,10/03/2023,10/16/2023,,T3",
        )
        found = plan(repo, rcl=rcl, termination=ended, on=ON)
        assert [type(p.event).__name__ for p in found.proposals] == ["Terminate"]
        record(repo, found)
        reg = repo.load("a-1", 2024)
        assert (reg.individual.value, reg.shop.value) == ("certified", "terminated")
        again = plan(repo, rcl=rcl, termination=ended, on=ON)
        assert again.proposals == () and not again.needs_action
        lifted = term_file(
            tmp_path / "AB_Termination_List_2.csv",
            f"{npn(1)},2024,SHOP,10/03/2023,10/03/2023,10/03/2023,10/16/2023,"
            "10/18/2023,R3",
        )
        record(repo, plan(repo, rcl=rcl, termination=lifted, on=ON))
        reg = repo.load("a-1", 2024)
        assert (reg.individual.value, reg.shop.value) == ("certified", "reinstated")
        # Still on the RCL: the next run observes the listing again, which
        # certifies the reinstated track; the run after proposes nothing.
        relisted = plan(repo, rcl=rcl, termination=lifted, on=ON)
        assert [type(p.event).__name__ for p in relisted.proposals] == [
            "ObserveRclListing"
        ]
        record(repo, relisted)
        reg = repo.load("a-1", 2024)
        assert (reg.individual.value, reg.shop.value) == ("certified", "listed")
        assert plan(repo, rcl=rcl, termination=lifted, on=ON).proposals == ()


def test_a_file_that_cannot_be_read_is_a_regflow_error_and_writes_nothing(
    tmp_path: Path,
) -> None:
    """A missing file, or a termination list without its columns, raises
    before anything is written, naming the file."""
    with Repository(SQLiteStore(str(tmp_path / "r.sqlite3"))) as repo:
        registered(repo, "a-1", npn(1))
        rcl = rcl_file(tmp_path / "TBL_RCL_1.csv", f"{npn(1)},2024,10/04/2023,,,,Y")
        broken = tmp_path / "AB_Termination_List_9.csv"
        broken.write_text("NPN,Status\r\n1,T3\r\n", encoding="utf-8")
        for bad in (tmp_path / "missing.csv", broken):
            with pytest.raises(ListFormatError, match=re.escape(bad.name)):
                plan(repo, rcl=rcl, termination=bad, on=ON)
        with pytest.raises(ListFormatError, match=re.escape("missing.csv")):
            plan(repo, rcl=tmp_path / "missing.csv", on=ON)
        assert repo.load("a-1", 2024).individual.value == "registered"


def test_a_reinstated_individual_registration_is_certified_again_by_the_rcl(
    tmp_path: Path,
) -> None:
    """T, then R on the termination list: reinstated, then certified by the RCL."""
    with Repository(SQLiteStore(str(tmp_path / "r.sqlite3"))) as repo:
        registered(repo, "a-1", npn(1))
        rcl = rcl_file(tmp_path / "TBL_RCL_1.csv", f"{npn(1)},2024,10/04/2023,,,,Y")
        row = f"{npn(1)},2024,INDIVIDUAL,10/03/2023,10/03/2023,,10/16/2023,"
        ended = term_file(tmp_path / "AB_Termination_List_1.csv", row + ",T4")
        lifted = term_file(
            tmp_path / "AB_Termination_List_2.csv", row + "10/18/2023,R4"
        )
        states = []
        for termination in (None, ended, ended, lifted, lifted, lifted):
            found = plan(repo, rcl=rcl, termination=termination, on=ON)
            record(repo, found)
            states.append(repo.load("a-1", 2024).individual.value)
        assert states == [
            "certified",
            "terminated",
            "terminated",  # the T row stands: nothing more to do
            "reinstated",
            "certified",  # listed on the RCL again
            "certified",
        ]
        assert plan(repo, rcl=rcl, termination=lifted, on=ON).proposals == ()
        # Reinstated but off the RCL: the reinstatement is the finding, not "overdue".
        missing = rcl_file(tmp_path / "TBL_RCL_2.csv", f"{npn(2)},2024,10/04/2023,,,,Y")
        registered(repo, "a-2", npn(2))
        bare = plan(repo, rcl=missing, termination=lifted, on=ON)
        assert [f.outcome for f in bare.findings if f.agent_id == "a-1"] == [
            Outcome.REINSTATED
        ]
