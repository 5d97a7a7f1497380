"""The regflow command, end to end on the demo data, and its exit codes."""

from __future__ import annotations

import csv
import io
import json
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from rich.console import Console

import helpers
import regflow
from regflow import cli
from regflow import events as ev
from regflow.cli import _write_csv, main
from regflow.lists import Finding, Outcome
from regflow.store import Repository, SQLiteStore

FLOW = regflow.Workflow.for_plan_year(2024)
RCL_HEADER = (
    "NPN,Applicable Plan Year,Individual Registration Completion Date,"
    "Individual Marketplace End Date,Shop Registration Completion Date,"
    "Shop End Date,NPN Valid (Current Plan Year Only)\r\n"
)
# Markup that crashes rich, markup it would render, a link and an emoji code.
EVIL = "[/bold]evil[red]x[/red][link=https://example.com]y[/link]:thumbs_up:"
FORMULA = ("=", "+", "-", "@", "\t", "\uff1d", "\uff0b", "\uff0d", "\uff20")


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    """Run the command in-process; return (exit code, stdout, stderr)."""
    with pytest.raises(SystemExit) as done:
        main(list(args))
    out, err = capsys.readouterr()
    code = done.value.code
    return (code if isinstance(code, int) else 1), out, err


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A demo database (reconciled once) and its list folder."""
    folder = tmp_path_factory.mktemp("demo")
    db, lists = folder / "demo.sqlite3", folder / "lists"
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "regflow.cli",
            "demo",
            "--db",
            str(db),
            "--dir",
            str(lists),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert "certified" in done.stdout and "overdue" in done.stdout
    return db, lists


def test_demo_reaches_every_outcome(
    demo: tuple[Path, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    """Reconciling the demo lists again finds every outcome and records nothing new."""
    db, lists = demo
    code, out, _ = run(
        capsys,
        "reconcile",
        "--rcl",
        str(lists / "TBL_RCL_1.csv"),
        "--termination",
        str(lists / "AB_Termination_List_1.csv"),
        "--db",
        str(db),
        "--on",
        "2023-10-20",
        "--json",
    )
    assert code == 0
    report = json.loads(out)
    counts = report["counts"]
    for outcome in (
        "certified",
        "flagged",
        "waiting",
        "overdue",
        "terminated",
        "reinstated",
        "discrepancy",
        "in_progress",
    ):
        assert counts[outcome] >= 1, outcome
    assert report["events_recorded"] == 0  # the demo already recorded them: idempotent
    rcl = report["files"][0]
    assert rcl["read"] == rcl["kept"] + rcl["skipped"] + rcl["ignored"]
    assert rcl["skipped"] == 1 and rcl["problems"][0]["line"] > 1
    overdue = [f for f in report["findings"] if f["outcome"] == "overdue"]
    assert any("escalation" in f for f in overdue)


def test_status_lists_states_and_one_agent(
    demo: tuple[Path, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    """status counts registrations by state, and shows one agent's history."""
    db, _ = demo
    code, out, _ = run(capsys, "status", "--db", str(db))
    assert code == 0 and "certified" in out and "registration(s)" in out
    code, out, _ = run(capsys, "status", "agent-001", "--db", str(db))
    assert code == 0 and "agent-001" in out and "StartRegistration" in out


def test_overdue_json_and_fail_flag(
    demo: tuple[Path, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    """overdue lists late RCL listings with the help-desk email; the flag exits 1."""
    db, _ = demo
    code, out, _ = run(
        capsys, "overdue", "--db", str(db), "--on", "2023-10-20", "--json"
    )
    assert code == 0
    late = json.loads(out)
    rcl = [o for o in late if o["kind"] == "rcl"]
    assert (
        rcl and rcl[0]["escalation"]["to"] == "FFMProducer-AssisterHelpDesk@cms.hhs.gov"
    )
    code, _, _ = run(
        capsys, "overdue", "--db", str(db), "--on", "2023-10-20", "--fail-on-overdue"
    )
    assert code == 1
    code, _, _ = run(
        capsys, "overdue", "--db", str(db), "--on", "2023-10-02", "--fail-on-overdue"
    )
    assert code == 0


def test_csv_output_escapes_formula_cells(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A cell that a spreadsheet would run as a formula is written with a quote first."""
    import datetime as dt

    from regflow import events as ev
    from regflow.store import Repository, SQLiteStore

    db = tmp_path / "x.sqlite3"
    at = dt.datetime(2023, 10, 2, 9, tzinfo=dt.timezone.utc)
    with Repository(SQLiteStore(str(db))) as repo:
        repo.start(
            ev.StartRegistration(
                event_id="s",
                at=at,
                agent_id="=HYPERLINK(1)",
                portal_account_id="-p",
                plan_year=2024,
            )
        )
    rcl = tmp_path / "TBL_RCL_9.csv"
    rcl.write_text(
        "NPN,Applicable Plan Year,Individual Registration Completion Date,"
        "Individual Marketplace End Date,Shop Registration Completion Date,"
        "Shop End Date,NPN Valid (Current Plan Year Only)\n",
        encoding="utf-8",
    )
    code, out, _ = run(
        capsys,
        "reconcile",
        "--rcl",
        str(rcl),
        "--db",
        str(db),
        "--on",
        "2023-10-20",
        "--csv",
    )
    assert code == 0
    rows = list(csv.reader(io.StringIO(out)))
    assert rows[0][0] == "agent_id"
    assert rows[1][0] == "'=HYPERLINK(1)"


def test_fail_on_overdue_exits_one_when_action_is_needed(
    demo: tuple[Path, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    """reconcile --fail-on-overdue exits 1 when something is overdue or flagged."""
    db, lists = demo
    code, _, _ = run(
        capsys,
        "reconcile",
        "--rcl",
        str(lists / "TBL_RCL_1.csv"),
        "--db",
        str(db),
        "--on",
        "2023-10-20",
        "--dry-run",
        "--fail-on-overdue",
    )
    assert code == 1


def test_diagram_prints_mermaid(capsys: pytest.CaptureFixture[str]) -> None:
    """diagram prints the machine as mermaid text."""
    code, out, _ = run(capsys, "diagram")
    assert (
        code == 0 and "stateDiagram-v2" in out and "registration__shop__listed" in out
    )


def test_diagram_output_writes_mermaid_to_a_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """--output FILE writes the same mermaid text, with no styling."""
    code, printed, _ = run(capsys, "diagram")
    code, out, _ = run(capsys, "diagram", "--output", str(tmp_path / "m.mmd"))
    written = (tmp_path / "m.mmd").read_text(encoding="utf-8")
    assert code == 0 and "wrote" in out and written == printed
    assert "classDef" not in written


def _graphviz() -> bool:
    import importlib.util
    import shutil

    return importlib.util.find_spec("graphviz") is not None and bool(
        shutil.which("dot")
    )


def test_diagram_output_svg_draws_with_graphviz_or_says_what_to_install(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """An .svg FILE is an SVG drawing of both tracks, no state marked active;
    without Graphviz, one line naming what to install, exit 2, no file."""
    target = tmp_path / "m.svg"
    code, _, err = run(capsys, "diagram", "-o", str(target))
    if not _graphviz():
        assert code == 2 and "needs Graphviz" in err and not target.exists()
        assert len(err.strip().splitlines()) == 1
        return
    svg = target.read_text(encoding="utf-8")
    assert code == 0 and svg.lstrip().startswith("<?xml") and "<svg" in svg
    assert "registration__shop__listed" in svg or "listed" in svg
    assert "darksalmon" not in svg  # transitions' "active" fill


def test_diagram_svg_without_dot_says_what_to_install(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """With no Graphviz 'dot' on the PATH, whatever this machine has."""
    import shutil

    monkeypatch.setattr(shutil, "which", lambda name, *a, **k: None)
    code, _, err = run(capsys, "diagram", "-o", str(tmp_path / "m.svg"))
    assert code == 2 and "apt-get install graphviz" in err
    assert not (tmp_path / "m.svg").exists()


def test_diagram_output_to_a_missing_folder_is_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """An unwritable FILE is one error line, exit 2."""
    code, _, err = run(capsys, "diagram", "-o", str(tmp_path / "no" / "m.mmd"))
    assert code == 2 and "No such file or directory" in err
    assert "Traceback" not in err


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["reconcile", "--bogus"], "No such option"),
        (["reconcile"], "--rcl"),
        (["frobnicate"], "No such command"),
        (["overdue", "--on", "20/10/2023", "--db", "x"], "is not a date"),
    ],
)
def test_bad_usage_is_one_line_and_exit_two(
    args: list[str], needle: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """Unknown options, missing options and bad dates: one line, exit 2, no traceback."""
    code, _, err = run(capsys, *args)
    assert code == 2
    assert needle in err
    assert len(err.strip().splitlines()) == 1
    assert "Traceback" not in err


def test_missing_files_and_databases_exit_two(
    tmp_path: Path, demo: tuple[Path, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    """A missing list file or database is one clear line and exit 2."""
    db, _ = demo
    code, _, err = run(
        capsys, "reconcile", "--rcl", str(tmp_path / "nope.csv"), "--db", str(db)
    )
    assert code == 2 and "no such file" in err and len(err.strip().splitlines()) == 1
    code, _, err = run(capsys, "status", "--db", str(tmp_path / "none.sqlite3"))
    assert code == 2 and "no database" in err


def test_malformed_list_exits_two_naming_the_column(
    tmp_path: Path, demo: tuple[Path, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    """An RCL without a required column stops with exit 2, naming the column."""
    db, _ = demo
    bad = tmp_path / "TBL_RCL_2.csv"
    bad.write_text("NPN,Applicable Plan Year\n123,2024\n", encoding="utf-8")
    code, _, err = run(
        capsys, "reconcile", "--rcl", str(bad), "--db", str(db), "--on", "2023-10-20"
    )
    assert code == 2
    assert "Individual Registration Completion Date" in err
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err


def registered_db(path: Path, *agents: tuple[str, str]) -> Path:
    """A database of agents (id, NPN) registered on October 3, through the store."""
    with Repository(SQLiteStore(str(path))) as repo:
        for agent_id, npn in agents:
            reg = helpers.returning_agent(FLOW, agent_id=agent_id)
            reg = helpers.in_training(FLOW, reg, helpers.agent_profile(npn=npn))
            reg = helpers.accept_all(FLOW, helpers.finish_training(FLOW, reg))
            first = reg.history[0]
            assert isinstance(first, ev.StartRegistration)
            repo.start(first)
            for recorded in reg.history[1:]:
                repo.apply(agent_id, 2024, recorded)
    return path


def rcl_file(path: Path, *rows: str) -> Path:
    """Write an RCL file in the published format with *rows*."""
    path.write_text(RCL_HEADER + "".join(r + "\r\n" for r in rows), encoding="utf-8")
    return path


def test_reconcile_records_a_flag_that_comes_back(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Runs on Y, N and Y files each record an event; the same Y again records none."""
    db = registered_db(tmp_path / "r.sqlite3", ("a-1", "1234567"))
    runs = (("20", "Y", 1), ("23", "N", 1), ("24", "Y", 1), ("25", "Y", 0))
    for number, (day, flag, recorded) in enumerate(runs, 1):
        rcl = rcl_file(
            tmp_path / f"TBL_RCL_{number}.csv", f"1234567,2024,10/04/2023,,,,{flag}"
        )
        code, out, err = run(
            capsys,
            "reconcile",
            "--rcl",
            str(rcl),
            "--db",
            str(db),
            "--on",
            f"2023-10-{day}",
            "--json",
            "--record",
        )
        assert code == 0, err
        assert json.loads(out)["events_recorded"] == recorded
    code, out, _ = run(capsys, "status", "a-1", "--db", str(db))
    assert code == 0 and "a-1 plan year 2024: certified" in out


def lines_of(cell: str) -> list[str]:
    """The lines a spreadsheet (or any importer) may make of *cell*."""
    return cell.splitlines()


def assert_spreadsheet_safe(cell: str) -> None:
    """Neither *cell* nor any line in it starts like a formula."""
    assert not cell.startswith((*FORMULA, "\r")), repr(cell)
    for line in lines_of(cell):
        assert not line.startswith(FORMULA), repr(cell)


def assert_intact(written: str, original: str) -> None:
    """*written* is *original* with apostrophes added, nothing else."""
    assert written.replace("'", "") == original.replace("'", "")
    assert written.count("'") >= original.count("'")


TRICKY_IDS = (
    *("x\r=2+2", "'\r=1", "a\n@b", "c\r\n+d", "\t-x", "e\r\r-f\n\tg", "=1"),
    *("h\u2028=1", "i\x0b+1", "j\x85@k", "\uff1dSUM(A1)", "l\f\uff0bm"),
)


def test_csv_cells_with_line_breaks_keep_their_row_and_cannot_run(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Ids with CR, LF and formula starts read back as one row each, neutralised."""
    agents = [(a, str(1234567 + n)) for n, a in enumerate(TRICKY_IDS)]
    db = registered_db(tmp_path / "c.sqlite3", *agents)
    rcl = rcl_file(tmp_path / "TBL_RCL_1.csv")
    code, out, _ = run(
        capsys,
        "reconcile",
        "--rcl",
        str(rcl),
        "--db",
        str(db),
        "--on",
        "2023-10-20",
        "--csv",
    )
    assert code == 0
    rows = list(csv.reader(io.StringIO(out, newline="")))
    assert len(rows) == len(TRICKY_IDS) + 1
    assert all(len(row) == len(rows[0]) for row in rows)
    for row in rows[1:]:
        for cell in row:
            assert_spreadsheet_safe(cell)
    written = sorted(rows[1:], key=lambda row: row[0].replace("'", ""))
    originals = sorted(TRICKY_IDS, key=lambda a: a.replace("'", ""))
    for row, original in zip(written, originals, strict=True):
        assert_intact(row[0], original)


# Any text, and text of little but the characters that break rows or start
# formulas, which arbitrary text rarely puts side by side.
CELL_TEXT = st.text() | st.text(st.sampled_from("=+-@\t\r\n'x"))


@given(st.lists(st.tuples(CELL_TEXT, CELL_TEXT), min_size=1, max_size=3))
def test_csv_export_of_any_text_reads_back_whole_and_safe(
    texts: list[tuple[str, str]],
) -> None:
    """Any agent id and detail: one row per finding, values intact, nothing runs."""
    findings = [
        Finding(
            agent_id=agent_id,
            plan_year=2024,
            npn="1234567",
            state=regflow.IndividualState.REGISTERED,
            outcome=Outcome.OVERDUE,
            detail=detail,
        )
        for agent_id, detail in texts
    ]
    out = io.StringIO(newline="")
    _write_csv(findings, out)
    rows = list(csv.reader(io.StringIO(out.getvalue(), newline="")))
    assert len(rows) == len(findings) + 1
    header = rows[0]
    for row, (agent_id, detail) in zip(rows[1:], texts, strict=True):
        assert len(row) == len(header)
        for cell in row:
            assert_spreadsheet_safe(cell)
        assert_intact(row[header.index("agent_id")], agent_id)
        assert_intact(row[header.index("detail")], detail)


@pytest.fixture
def wide(monkeypatch: pytest.MonkeyPatch) -> None:
    """A console wide enough that rich tables do not wrap the values checked."""
    monkeypatch.setenv("COLUMNS", "400")


def assert_clean(code: int, out: str, err: str) -> None:
    """Exit 0, nothing on stderr that looks like a crash."""
    assert code == 0, err
    assert "Traceback" not in out + err and "Error" not in err


@pytest.mark.usefixtures("wide")
def test_status_shows_agent_ids_as_written(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """status of one agent prints markup in its id and portal account literally."""
    db = registered_db(
        tmp_path / "m.sqlite3", (EVIL, "1234567"), ("[/bold]", "2345678")
    )
    for agent in (EVIL, "[/bold]"):
        code, out, err = run(capsys, "status", agent, "--db", str(db))
        assert_clean(code, out, err)
        assert f"{agent} plan year 2024: registered" in out
        assert f"portal account portal-{agent}, version" in out
    code, out, err = run(capsys, "status", "--db", str(db))
    assert_clean(code, out, err)
    assert "2 registration(s)" in out
    code, _, err = run(capsys, "status", ":thumbs_up:[red]", "--db", str(db))
    assert code == 2 and "agent ':thumbs_up:[red]'" in err


@pytest.mark.usefixtures("wide")
def test_overdue_shows_agent_ids_as_written(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """overdue prints an overdue agent's markup-laden id literally."""
    db = registered_db(
        tmp_path / "m.sqlite3", (EVIL, "1234567"), ("[/bold]", "2345678")
    )
    code, out, err = run(capsys, "overdue", "--db", str(db), "--on", "2023-10-20")
    assert_clean(code, out, err)
    assert EVIL in out and "[/bold] " in out


@pytest.mark.usefixtures("wide")
def test_reconcile_text_shows_ids_cells_and_file_names_as_written(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The text report prints a bad cell, a file name and an agent id literally."""
    db = registered_db(tmp_path / "m.sqlite3", (EVIL, "1234567"))
    rcl = rcl_file(tmp_path / "TBL_RCL_[red]1.csv", "1234567,2024,[/x],,,,Y")
    code, out, err = run(
        capsys, "reconcile", "--rcl", str(rcl), "--db", str(db), "--on", "2023-10-20"
    )
    assert_clean(code, out, err)
    assert "│ TBL_RCL_[red]1.csv │" in out  # in the files table
    assert "TBL_RCL_[red]1.csv: 1 row(s) skipped" in out
    assert "line 2:" in out and "'[/x]'" in out
    assert f"{EVIL} " in out  # in the needs-action table
    assert "unreadable" in out and "overdue" not in out


@pytest.mark.usefixtures("wide")
def test_demo_shows_paths_as_written(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """demo prints a database and folder whose names hold markup literally."""
    monkeypatch.chdir(tmp_path)
    db, folder = "demo[red]x.sqlite3", "lists[/bold]"
    code, out, err = run(capsys, "demo", "--db", db, "--dir", folder)
    assert_clean(code, out, err)
    assert f"wrote {Path(folder) / 'TBL_RCL_1.csv'} and" in out
    assert f"--db '{db}'" in out  # quoted for the shell, runnable as printed


def test_reconcile_progress_shows_the_file_name_as_written(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """On a terminal, the progress bar names a file holding markup as written."""
    db = registered_db(tmp_path / "m.sqlite3", ("a-1", "1234567"))
    rcl = rcl_file(tmp_path / "TBL_RCL_[red]1.csv", "1234567,2024,10/04/2023,,,,Y")
    terminal = io.StringIO()
    console = Console(file=terminal, force_terminal=True, width=400)
    monkeypatch.setattr(cli, "_err", console)
    code, out, err = run(
        capsys, "reconcile", "--rcl", str(rcl), "--db", str(db), "--on", "2023-10-20"
    )
    assert_clean(code, out, err)
    assert "reading TBL_RCL_[red]1.csv " in terminal.getvalue()


# A terminal escape (clear screen, set the window title, bell), a C1 control
# and a right-to-left override, as a hostile id or file name would carry them.
CONTROLS = "\x1b[2J\x1b]0;pwned\x07\x9b\u202e"


@pytest.mark.usefixtures("wide")
def test_control_characters_are_shown_as_escapes_never_sent_to_the_terminal(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Ids, cells and file names holding terminal controls print them escaped."""
    agent = f"agent{CONTROLS}"
    db = registered_db(tmp_path / "c.sqlite3", (agent, "1234567"))
    rcl = rcl_file(
        tmp_path / f"TBL_RCL_{CONTROLS}1.csv", f"1234567,2024,x{CONTROLS},,,,Y"
    )
    runs = [
        ("status", agent, "--db", str(db)),
        ("overdue", "--db", str(db), "--on", "2023-10-20"),
        ("reconcile", "--rcl", str(rcl), "--db", str(db), "--on", "2023-10-20"),
        ("status", f"nobody{CONTROLS}", "--db", str(db)),  # the error line too
    ]
    for args in runs:
        _code, out, err = run(capsys, *args)
        assert "Traceback" not in out + err
        for control in ("\x1b", "\x07", "\x9b", "\u202e"):
            assert control not in out + err, (args, out, err)
        assert "\\x1b[2J\\x1b]0;pwned\\x07\\x9b\\u202e" in out + err, (args, out, err)
