"""The command as an analyst uses it: plan then --record, problems, status, escaping."""

from __future__ import annotations

import json
import shlex
from pathlib import Path

import pytest

from regflow import cli
from regflow.store import Repository, SQLiteStore
from test_cli import EVIL, rcl_file, registered_db, run, wide  # noqa: F401


def versions(db: Path) -> dict[str, int]:
    """Every registration's version."""
    with Repository(SQLiteStore(str(db))) as repo:
        return {r.agent_id: r.version for r in repo.store.find()}


def test_reconcile_shows_the_plan_and_records_only_with_record(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Without --record nothing is written and the output says what would be."""
    db = registered_db(tmp_path / "r.sqlite3", ("a-1", "1234567"))
    rcl = rcl_file(tmp_path / "TBL_RCL_1.csv", "1234567,2024,10/04/2023,,,,Y")
    before = versions(db)
    args = ("reconcile", "--rcl", str(rcl), "--db", str(db), "--on", "2023-10-20")
    code, out, _ = run(capsys, *args)
    assert code == 0 and "would record 1 event(s)" in out and "--record" in out
    assert versions(db) == before
    code, out, _ = run(capsys, *args, "--json")
    report = json.loads(out)
    assert report["recorded"] is False and report["events_recorded"] == 0
    assert [e["event"]["type"] for e in report["events"]] == ["observe_rcl_listing"]
    assert versions(db) == before
    code, out, _ = run(capsys, *args, "--record")
    assert code == 0 and "recorded 1 event(s)" in out
    assert versions(db)["a-1"] == before["a-1"] + 1
    code, out, _ = run(capsys, *args, "--record")
    assert "recorded 0 event(s)" in out
    code, _, err = run(capsys, *args, "--record", "--dry-run")
    assert code == 2 and "exclude each other" in err


def test_many_bad_rows_are_summarised_and_all_are_in_json(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """2,000 bad dates of other NPNs: one summary line, N examples, exit 0;
    --json counts all 2,000 and lists the first 1,000 (MAX_KEPT_PROBLEMS)."""
    db = registered_db(tmp_path / "r.sqlite3", ("a-1", "1234567"))
    bad = [f"{2_000_000 + n},2024,31/31/2023,,,,Y" for n in range(2000)]
    rcl = rcl_file(tmp_path / "TBL_RCL_1.csv", "1234567,2024,10/04/2023,,,,Y", *bad)
    args = ("reconcile", "--rcl", str(rcl), "--db", str(db), "--on", "2023-10-20")
    code, out, _ = run(capsys, *args, "--problems", "2", "--fail-on-overdue")
    assert code == 0
    assert "2000 row(s) skipped, bad Individual Registration Completion Date" in out
    assert out.count("31/31/2023") == 2 and "and 1998 more (see --json)" in out
    assert len(out.splitlines()) < 60
    code, out, _ = run(capsys, *args, "--json", "--problems", "1")
    report = json.loads(out)
    assert len(report["files"][0]["problems"]) == 1000
    assert report["files"][0]["problem_counts"] == [
        ["Individual Registration Completion Date", 2000]
    ]
    (kind,) = report["problem_summary"]
    assert kind["count"] == 2000 and len(kind["examples"]) == 1


def test_a_bad_row_of_ours_needs_action(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Our agent's unreadable row is a finding for that agent, exit 1 with the flag."""
    db = registered_db(tmp_path / "r.sqlite3", ("a-1", "1234567"))
    rcl = rcl_file(tmp_path / "TBL_RCL_1.csv", "1234567,2024,10/04/2023,,,,Q")
    args = ("reconcile", "--rcl", str(rcl), "--db", str(db), "--on", "2023-11-30")
    code, out, _ = run(capsys, *args, "--json", "--fail-on-overdue")
    assert code == 1
    (finding,) = json.loads(out)["findings"]
    assert finding["outcome"] == "unreadable" and finding["escalation"] is None
    assert finding["problems"][0]["value"] == "Q"


def test_status_on_and_json_agree_with_overdue(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """status --on --json counts what overdue --json lists, on the same day."""
    db = registered_db(tmp_path / "r.sqlite3", ("a-1", "1234567"), ("a-2", "2345678"))
    for day, late in (("2023-10-02", 0), ("2023-10-20", None)):
        code, out, _ = run(capsys, "overdue", "--db", str(db), "--on", day, "--json")
        listed = json.loads(out)
        if late is not None:
            assert listed == []
        code, out, _ = run(capsys, "status", "--db", str(db), "--on", day, "--json")
        shown = json.loads(out)
        assert code == 0 and shown["overdue"] == len(listed)
        assert sum(len(r["overdue"]) for r in shown["registrations"]) == len(listed)
        code, out, _ = run(capsys, "status", "--db", str(db), "--on", day)
        assert f"{len(listed)} overdue confirmation(s) on {day}" in out
    code, out, _ = run(
        capsys, "status", "a-1", "--db", str(db), "--on", "2023-10-20", "--json"
    )
    (one,) = json.loads(out)["registrations"]
    assert one["agent_id"] == "a-1" and one["history"] and one["overdue"]


def test_overdue_json_has_the_escalation_in_english_and_spanish(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The help-desk email is given in both languages."""
    db = registered_db(tmp_path / "r.sqlite3", ("a-1", "1234567"))
    code, out, _ = run(
        capsys, "overdue", "--db", str(db), "--on", "2023-10-20", "--json"
    )
    assert code == 0
    escalation = next(o for o in json.loads(out) if o["kind"] == "rcl")["escalation"]
    assert escalation["subject"] and escalation["body"]
    assert escalation["subject_es"] and escalation["body_es"]
    assert escalation["subject"] != escalation["subject_es"]


@pytest.mark.usefixtures("wide")
@pytest.mark.parametrize(
    "command",
    [
        ("status", EVIL),
        ("status", EVIL, "--json"),
        ("overdue",),
        ("overdue", "--json"),
        ("reconcile",),
        ("reconcile", "--record"),
        ("reconcile", "--json"),
        ("reconcile", "--csv"),
    ],
)
def test_every_command_prints_a_markup_id_as_written(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], command: tuple[str, ...]
) -> None:
    """An agent id full of rich markup reaches the output as written."""
    db = registered_db(tmp_path / "m.sqlite3", (EVIL, "1234567"))
    args = [*command, "--db", str(db), "--on", "2023-10-20"]
    if command[0] == "reconcile":
        rcl = rcl_file(tmp_path / "TBL_RCL_1.csv", "1234567,2024,10/04/2023,,,,N")
        args += ["--rcl", str(rcl)]
    code, out, err = run(capsys, *args)
    assert code == 0, err
    assert "Traceback" not in out + err
    shown = json.dumps(EVIL)[1:-1] if "--json" in command else EVIL
    assert shown in out


def test_ctrl_c_exits_130(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """An interrupt is one line on stderr and the shell's exit code 130."""
    db = registered_db(tmp_path / "r.sqlite3", ("a-1", "1234567"))

    def interrupted(*_: object, **__: object) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(cli, "overdue", interrupted)
    code, _, err = run(capsys, "overdue", "--db", str(db), "--on", "2023-10-20")
    assert code == 130 and err.strip() == "regflow: interrupted"


def test_demo_suggestions_run_as_printed_within_80_columns(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each suggested command fits 80 columns and runs, exit 0."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("COLUMNS", "80")
    code, out, _ = run(capsys, "demo")
    assert code == 0
    assert "would record" in out and "Recording it" in out
    # The suggestions run to the blank line before the report's paths.
    lines = out.split("Try:", 1)[1].strip().split("\n\n", 1)[0].splitlines()
    assert all(len(line) <= 80 for line in lines), lines
    tried = "\n".join(lines).replace("\\\n", " ").splitlines()
    assert len(tried) == 4
    for line in tried:
        words = shlex.split(line)
        assert words[0] == "regflow"
        code, _, err = run(capsys, *words[1:])
        assert code == 0, (line, err)


def test_demo_lists_are_git_ignored() -> None:
    """The default demo folder is in .gitignore."""
    ignored = (Path(__file__).parent.parent / ".gitignore").read_text().splitlines()
    assert "regflow-demo-lists/" in ignored


def test_a_broken_list_exits_two_naming_it_and_records_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A good RCL and a termination list without its columns: exit 2, no writes."""
    db = registered_db(tmp_path / "r.sqlite3", ("a-1", "1234567"))
    rcl = rcl_file(tmp_path / "TBL_RCL_1.csv", "1234567,2024,10/04/2023,,,,Y")
    broken = tmp_path / "AB_Termination_List_1.csv"
    broken.write_text("NPN,Status\r\n1234567,T3\r\n", encoding="utf-8")
    before = versions(db)
    code, out, err = run(
        capsys,
        "reconcile",
        "--rcl",
        str(rcl),
        "--termination",
        str(broken),
        "--db",
        str(db),
        "--record",
    )
    assert code == 2 and out == "" and "AB_Termination_List_1.csv" in err
    assert len(err.strip().splitlines()) == 1 and versions(db) == before


def test_an_event_refused_while_recording_is_shown_and_needs_action(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A registration that moved between plan and record: named, exit 1 with the flag."""
    import attrs

    import regflow.lists

    db = registered_db(tmp_path / "r.sqlite3", ("a-1", "1234567"))
    rcl = rcl_file(tmp_path / "TBL_RCL_1.csv", "1234567,2024,10/04/2023,,,,Y")
    real = regflow.lists.record

    def drifted(repo: Repository, found: regflow.lists.Plan) -> regflow.lists.Recording:
        done = real(repo, attrs.evolve(found, proposals=()))
        moved = attrs.evolve(
            found.findings[0], outcome=regflow.lists.Outcome.REFUSED, detail="moved"
        )
        return attrs.evolve(done, refused=(moved,))

    monkeypatch.setattr(regflow.lists, "record", drifted)
    args = ("reconcile", "--rcl", str(rcl), "--db", str(db), "--on", "2023-10-08")
    code, out, _ = run(capsys, *args, "--record", "--fail-on-overdue", "--json")
    assert code == 1
    assert json.loads(out)["refused_at_recording"][0]["detail"] == "moved"
    code, out, _ = run(capsys, *args, "--record")
    assert code == 0 and "1 refused" in out and "moved" in out


def test_a_real_sigint_exits_130(tmp_path: Path) -> None:
    """SIGINT delivered to the process mid-command: one line, exit 130."""
    import subprocess
    import sys
    import textwrap

    import regflow

    db = registered_db(tmp_path / "r.sqlite3", ("a-1", "1234567"))
    script = textwrap.dedent(
        f"""
        import os, signal, sys
        sys.path.insert(0, {str(Path(regflow.__file__).parent.parent)!r})
        from regflow import cli

        def interrupted(*args, **kwargs):
            os.kill(os.getpid(), signal.SIGINT)
            signal.pause() if hasattr(signal, "pause") else None

        cli.overdue = interrupted
        cli.main(["overdue", "--db", {str(db)!r}, "--on", "2023-10-20"])
        """
    )
    done = subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    assert done.returncode == 130, done.stderr
    assert done.stderr.strip() == "regflow: interrupted"
