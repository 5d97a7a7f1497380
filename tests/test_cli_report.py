"""``regflow report`` end to end: three files or none, and one line for bad input."""

from __future__ import annotations

import datetime as dt
import importlib.util
import json
import subprocess
import sys
from pathlib import Path

import pytest

from regflow import _cli_report
from regflow.cli import main

ON = "2023-10-20"


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    """Run the command in-process; return (exit code, stdout, stderr)."""
    with pytest.raises(SystemExit) as done:
        main(list(args))
    out, err = capsys.readouterr()
    code = done.value.code
    return (code if isinstance(code, int) else 1), out, err


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, Path]:
    """The demo database and lists, built once."""
    folder = tmp_path_factory.mktemp("demo")
    db = folder / "demo.sqlite3"
    with pytest.raises(SystemExit) as done:
        main(["demo", "--db", str(db), "--dir", str(folder / "lists")])
    assert done.value.code == 0
    lists = folder / "lists"
    return db, lists / "TBL_RCL_1.csv", lists / "AB_Termination_List_1.csv"


def test_report_writes_html_csv_and_json(
    demo: tuple[Path, Path, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """One stem, three files, their paths printed; the JSON's numbers are the page's."""
    db, rcl, termination = demo
    out_html = tmp_path / "r.html"
    code, out, err = run(
        capsys, "report", "--db", str(db), "--on", ON, "--rcl", str(rcl),
        "--termination", str(termination), "-o", str(out_html),
    )  # fmt: skip
    assert (code, err) == (0, "")
    assert (
        out.strip() == f"wrote {out_html}, {tmp_path / 'r.csv'}, {tmp_path / 'r.json'}"
    )
    data = json.loads((tmp_path / "r.json").read_text())
    assert data["plan_year"] == 2024 and data["on"] == ON
    assert [f["file"] for f in data["lists"]] == [rcl.name, termination.name]
    html = out_html.read_text()
    assert f"<b>{data['certified']}</b>" in html
    assert sorted(p.name for p in tmp_path.iterdir()) == ["r.csv", "r.html", "r.json"]


def test_report_of_one_agency(
    demo: tuple[Path, Path, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """--agency of an agency with no registrations is refused, naming it."""
    db, _, _ = demo
    code, _, err = run(
        capsys, "report", "--db", str(db), "--on", ON, "--agency", "nobody",
        "-o", str(tmp_path / "r.html"),
    )  # fmt: skip
    assert code == 2
    assert err.strip() == f"regflow: error: no registrations of agency 'nobody' in {db}"
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--on", "2023-13-01"], "'2023-13-01' is not a date like 2023-10-20"),
        (["--locale", "fr"], "unknown locale 'fr'; known: en, es"),
        (["--termination", "x.csv"], "--termination needs --rcl"),
        (["--rcl", "missing.csv"], "no such file: missing.csv"),
        (["-o", "no/such/folder/r.html"], "cannot write no/such/folder/r.html"),
        (["-o", "r.txt"], "--output must name an .html file"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(
    demo: tuple[Path, Path, Path],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    args: list[str],
    message: str,
) -> None:
    """Each bad input: exit 2, one line naming the culprit, no file written."""
    monkeypatch.chdir(tmp_path)
    base = ["report", "--db", str(demo[0])]
    if "--on" not in args:
        base += ["--on", ON]
    code, out, err = run(capsys, *base, *args)
    assert code == 2 and out == ""
    assert len(err.strip().splitlines()) == 1 and message in err, err
    assert list(tmp_path.iterdir()) == []


def test_unreadable_list_writes_nothing(
    demo: tuple[Path, Path, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A list that is not an RCL: one line naming it, exit 2, no report."""
    bad = tmp_path / "TBL_RCL_9.csv"
    bad.write_text("not,an,rcl\n1,2,3\n")
    code, _, err = run(
        capsys, "report", "--db", str(demo[0]), "--on", ON, "--rcl", str(bad),
        "-o", str(tmp_path / "r.html"),
    )  # fmt: skip
    assert code == 2 and str(bad) in err and len(err.strip().splitlines()) == 1
    assert sorted(p.name for p in tmp_path.iterdir()) == ["TBL_RCL_9.csv"]


def test_a_folder_in_the_way_writes_nothing(
    demo: tuple[Path, Path, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The .json name taken by a folder: refused before any file is renamed in."""
    (tmp_path / "r.json").mkdir()
    code, _, err = run(
        capsys,
        "report",
        "--db",
        str(demo[0]),
        "--on",
        ON,
        "-o",
        str(tmp_path / "r.html"),
    )
    assert code == 2 and f"cannot write {tmp_path / 'r.json'}: it is a folder" in err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["r.json"]


def test_without_the_extra_one_line_says_what_to_install(
    demo: tuple[Path, Path, Path],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """No Jinja2 or matplotlib: exit 2 and the pip line; the demo still runs."""
    real = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util,
        "find_spec",
        lambda name, *a: None if name == "matplotlib" else real(name, *a),
    )
    code, _, err = run(
        capsys,
        "report",
        "--db",
        str(demo[0]),
        "--on",
        ON,
        "-o",
        str(tmp_path / "r.html"),
    )
    assert code == 2
    assert (
        err
        == "regflow: error: the HTML report needs its extra: pip install 'regflow[report]'\n"
    )
    monkeypatch.chdir(tmp_path)
    code, out, _ = run(capsys, "demo")
    assert code == 0 and out.rstrip().endswith("pip install 'regflow[report]'")
    assert not list(tmp_path.glob("*report*"))


def test_to_html_without_jinja2_raises_the_hint(
    demo: tuple[Path, Path, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The library call says what to install too (a typed InvalidValue)."""
    import regflow
    from regflow.report import readiness, to_html
    from regflow.store import ANY_AGENCY, Repository, SQLiteStore

    with Repository(SQLiteStore(str(demo[0])), agency=ANY_AGENCY) as repo:
        found = readiness(repo, plan_year=2024, on=dt.date(2023, 10, 20))
    monkeypatch.setitem(sys.modules, "jinja2", None)
    with pytest.raises(regflow.InvalidValue, match=r"pip install 'regflow\[report\]'"):
        to_html(found)


def test_demo_ends_with_its_report_the_same_every_run(tmp_path: Path) -> None:
    """`regflow demo` ends by printing the report's path; two runs, same bytes."""
    runs = []
    for name in ("one", "two"):
        folder = tmp_path / name
        folder.mkdir()
        done = subprocess.run(
            [sys.executable, "-m", "regflow.cli", "demo"],
            cwd=folder,
            capture_output=True,
            text=True,
            check=True,
        )
        assert done.stdout.rstrip().splitlines()[-1] == "wrote regflow-demo-report.html"
        runs.append(
            (done.stdout, *(
                (folder / f"regflow-demo-report.{ext}").read_bytes()
                for ext in ("html", "csv", "json")
            ))
        )  # fmt: skip
    assert runs[0] == runs[1]


def test_report_module_is_registered_on_the_group() -> None:
    """`regflow report --help` is reachable from the group."""
    from regflow.cli import cli

    assert cli.commands["report"] is _cli_report.report
