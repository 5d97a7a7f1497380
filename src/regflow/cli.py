"""The ``regflow`` command: reconcile with CMS's lists, status, overdue, diagram, demo.

Exit codes: 0 done; 1 findings that need action, when ``--fail-on-overdue``
is given; 2 bad input (an unknown option, a missing or malformed file, a bad
date). Errors are one line on stderr, never a traceback.

Agent ids, file names and list cells come from outside; they reach rich as
:class:`~rich.text.Text` (or escaped), never as markup, so ``[/bold]`` in an id
is printed as written instead of failing or restyling the output.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import re
import sys
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any, NoReturn, TextIO

import click
from rich.console import Console
from rich.markup import escape
from rich.progress import Progress
from rich.table import Table
from rich.text import Text

from ._deadlines import Overdue, deadlines, overdue
from ._errors import RegflowError
from ._registration import Registration
from ._states import Status
from ._workflow import Workflow

__all__ = ["main"]

EXIT_OK, EXIT_FINDINGS, EXIT_BAD_INPUT = 0, 1, 2
DEFAULT_DB = "regflow.sqlite3"

# No emoji codes either: an agent id ":thumbs_up:" is printed as written.
_out = Console(highlight=False, soft_wrap=True, emoji=False)
_err = Console(stderr=True, highlight=False, soft_wrap=True, emoji=False)


class BadInput(click.ClickException):
    """Input the command cannot use; exit code 2."""

    exit_code = EXIT_BAD_INPUT


def _parse_day(
    _ctx: click.Context, _param: click.Parameter, value: str | None
) -> dt.date | None:
    if value is None:
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise click.BadParameter(f"{value!r} is not a date like 2023-10-20") from None


_db_option = click.option(
    "--db",
    default=DEFAULT_DB,
    show_default=True,
    help="SQLite file, or a postgresql:// URL.",
)
_on_option = click.option(
    "--on",
    "on",
    callback=_parse_day,
    help="The day to judge deadlines on (YYYY-MM-DD); default today.",
)


@contextmanager
def _repository(location: str, *, create: bool = False) -> Iterator[Any]:
    from .store import Repository, open_store

    if not create and "://" not in location and not Path(location).exists():
        raise BadInput(f"no database at {location!r}; run 'regflow demo' or pass --db")
    repo = Repository(open_store(location))
    try:
        yield repo
    finally:
        repo.close()


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="regflow")
def cli() -> None:
    """Track agents' CMS Marketplace registration for a plan year."""


# -- reconcile ----------------------------------------------------------------


def _reading(
    kind: str, path: Path, npns: frozenset[str], progress: Progress | None
) -> Any:
    from .lists import read_rcl, read_termination_list

    reader = read_rcl if kind == "rcl" else read_termination_list
    if progress is None:
        return reader(path, npns=npns)
    # The description is interpolated into the column's markup.
    handle = progress.open(path, "rb", description=f"reading {escape(path.name)}")
    text = io.TextIOWrapper(handle, encoding="utf-8-sig", newline="")
    return reader(text, npns=npns)


def _read_all(reading: Any) -> list[Any]:
    try:
        return list(reading)
    except RegflowError as error:
        raise BadInput(str(error)) from None
    except OSError as error:
        raise BadInput(
            f"cannot read {reading.source}: {error.strerror or error}"
        ) from None


@cli.command()
@click.option(
    "--rcl",
    "rcl_path",
    required=True,
    type=click.Path(path_type=Path),
    help="A TBL_RCL_<n>.csv file.",
)
@click.option(
    "--termination",
    "termination_path",
    type=click.Path(path_type=Path),
    help="An AB_Termination_List_<n>.csv file.",
)
@_db_option
@_on_option
@click.option("--json", "as_json", is_flag=True, help="Print the findings as JSON.")
@click.option("--csv", "as_csv", is_flag=True, help="Print the findings as CSV.")
@click.option("--dry-run", is_flag=True, help="Report only; record no events.")
@click.option(
    "--fail-on-overdue", is_flag=True, help="Exit 1 when something needs action."
)
def reconcile(
    rcl_path: Path,
    termination_path: Path | None,
    db: str,
    on: dt.date | None,
    as_json: bool,
    as_csv: bool,
    dry_run: bool,
    fail_on_overdue: bool,
) -> None:
    """Compare the registrations with the RCL (and termination list) and record what they show."""
    if as_json and as_csv:
        raise click.UsageError("--json and --csv exclude each other")
    for path in (rcl_path, termination_path):
        if path is not None and not path.is_file():
            raise BadInput(f"no such file: {path}")
    day = on or dt.date.today()
    quiet = as_json or as_csv or not _err.is_terminal
    with _repository(db) as repo:
        regs = list(repo.store.find())
        result, readings = _reconcile(regs, rcl_path, termination_path, day, quiet)
        applied = 0 if dry_run else _record(repo, result)
    if as_json:
        click.echo(json.dumps(_as_json(result, readings, applied), indent=2))
    elif as_csv:
        _write_csv(result.findings, sys.stdout)
    else:
        _print_summary(result, readings, applied, dry_run)
    if fail_on_overdue and result.needs_action:
        sys.exit(EXIT_FINDINGS)


def _reconcile(
    regs: list[Registration],
    rcl_path: Path,
    termination_path: Path | None,
    day: dt.date,
    quiet: bool,
) -> tuple[Any, list[Any]]:
    from .lists import reconcile as run

    npns = frozenset(r.npn.value for r in regs if r.npn is not None)
    progress = None if quiet else Progress(console=_err, transient=True)
    with progress or _nothing():
        rcl = _reading("rcl", rcl_path, npns, progress)
        rows = _read_all(rcl)
        readings = [rcl]
        trows: list[Any] = []
        if termination_path is not None:
            term = _reading("termination", termination_path, npns, progress)
            trows = _read_all(term)
            readings.append(term)
    return run(regs, rcl=rows, termination=trows, on=day), readings


@contextmanager
def _nothing() -> Iterator[None]:
    yield


def _record(repo: Any, result: Any) -> int:
    applied = 0
    for finding, event in result.events:
        before = repo.load(finding.agent_id, finding.plan_year).version
        after = repo.apply(finding.agent_id, finding.plan_year, event)
        applied += after.version > before
    return applied


_CELL_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
# A line break inside a cell followed by a formula start: spreadsheets may read
# each line of a cell on its own.
_LINE_PREFIX = re.compile(r"(\r\n|\r|\n)(?=[=+\-@\t])")


def _cell(value: object) -> str:
    text = "" if value is None else str(value)
    # A spreadsheet runs a cell, or a line of one, starting with these as a
    # formula (CSV injection); an apostrophe makes it text.
    text = _LINE_PREFIX.sub(r"\1'", text)
    return "'" + text if text.startswith(_CELL_PREFIXES) else text


_CSV_COLUMNS = (
    "agent_id",
    "plan_year",
    "npn",
    "state",
    "outcome",
    "individual_completion",
    "shop_completion",
    "individual_certified",
    "shop_certified",
    "due",
    "line",
    "detail",
)


def _finding_row(finding: Any) -> dict[str, Any]:
    return {
        "agent_id": finding.agent_id,
        "plan_year": finding.plan_year,
        "npn": finding.npn,
        "state": finding.state.value,
        "outcome": finding.outcome.value,
        "individual_completion": _iso(finding.individual_completion),
        "shop_completion": _iso(finding.shop_completion),
        "individual_certified": finding.individual_certified,
        "shop_certified": finding.shop_certified,
        "due": _iso(finding.due),
        "line": finding.line,
        "detail": finding.detail,
    }


def _iso(day: dt.date | None) -> str | None:
    return None if day is None else day.isoformat()


def _write_csv(findings: Iterable[Any], out: TextIO) -> None:
    # Every cell quoted: minimal quoting leaves a bare CR unquoted with this
    # line terminator, and a reader ends the row there and starts a new one
    # with what follows. "\n" and not "\r\n", as a text-mode stdout on
    # Windows turns each "\n" into "\r\n" itself.
    writer = csv.writer(out, lineterminator="\n", quoting=csv.QUOTE_ALL)
    writer.writerow(_CSV_COLUMNS)
    for finding in findings:
        row = _finding_row(finding)
        writer.writerow([_cell(row[c]) for c in _CSV_COLUMNS])


def _reading_summary(reading: Any) -> dict[str, Any]:
    return {
        "file": reading.source,
        "read": reading.read,
        "kept": reading.kept,
        "skipped": reading.skipped,
        "ignored": reading.filtered_out,
        "problems": [
            {"line": p.line, "column": p.column, "value": p.value, "reason": p.reason}
            for p in reading.problems
        ],
    }


def _as_json(result: Any, readings: Sequence[Any], applied: int) -> dict[str, Any]:
    findings = []
    for finding in result.findings:
        row = _finding_row(finding)
        if finding.escalation is not None:
            row["escalation"] = {
                "to": finding.escalation.to,
                "subject": finding.escalation.subject("en"),
                "body": finding.escalation.body("en"),
                "subject_es": finding.escalation.subject("es"),
                "body_es": finding.escalation.body("es"),
            }
        findings.append(row)
    return {
        "on": result.on.isoformat(),
        "counts": {k.value: v for k, v in result.counts().items()},
        "events_recorded": applied,
        "files": [_reading_summary(r) for r in readings],
        "findings": findings,
    }


def _print_summary(
    result: Any, readings: Sequence[Any], applied: int, dry_run: bool
) -> None:
    files = Table(title="Files read")
    for column in ("file", "rows", "kept", "ignored", "skipped"):
        files.add_column(column, justify="left" if column == "file" else "right")
    for reading in readings:
        files.add_row(
            Text(Path(reading.source).name),
            str(reading.read),
            str(reading.kept),
            str(reading.filtered_out),
            str(reading.skipped),
        )
    _out.print(files)
    for reading in readings:
        for problem in reading.problems:
            _out.print(
                Text(
                    f"  {Path(reading.source).name} line {problem.line}: {problem.reason} ({problem.column}: {problem.value!r})"
                )
            )
    table = Table(title=f"Reconciliation on {result.on.isoformat()}")
    table.add_column("outcome")
    table.add_column("agents", justify="right")
    for outcome, count in result.counts().items():
        if count:
            table.add_row(outcome.value, str(count))
    _out.print(table)
    action = [
        f
        for f in result.findings
        if f.outcome.value in ("overdue", "flagged", "discrepancy")
    ]
    if action:
        detail = Table(title="Needs action")
        for column in ("agent", "npn", "outcome", "due", "detail"):
            detail.add_column(column)
        for f in action:
            detail.add_row(
                Text(f.agent_id),
                Text(f.npn or ""),
                f.outcome.value,
                _iso(f.due) or "",
                Text(
                    f.detail or ("write to " + f.escalation.to if f.escalation else "")
                ),
            )
        _out.print(detail)
    verb = "would record" if dry_run else "recorded"
    count = len(result.events) if dry_run else applied
    _out.print(f"{verb} {count} event(s)")


# -- status, overdue, diagram ---------------------------------------------------


@cli.command()
@click.argument("agent", required=False)
@_db_option
@click.option("--plan-year", type=int, help="Only this plan year.")
def status(agent: str | None, db: str, plan_year: int | None) -> None:
    """Show every registration's state, or one AGENT's in detail."""
    with _repository(db) as repo:
        if agent is None:
            _print_states(list(repo.store.find(plan_year=plan_year)))
            return
        regs = [r for r in repo.store.find(plan_year=plan_year) if r.agent_id == agent]
        if not regs:
            raise BadInput(f"no registration for agent {agent!r}")
        for reg in regs:
            _print_agent(reg)


def _print_states(regs: list[Registration]) -> None:
    table = Table(title="Registrations by status")
    table.add_column("status")
    table.add_column("agents", justify="right")
    for status in Status:
        count = sum(1 for r in regs if r.status is status)
        if count:
            table.add_row(status.value, str(count))
    _out.print(table)
    _out.print(f"{len(regs)} registration(s)")


def _print_agent(reg: Registration) -> None:
    flow = Workflow.for_plan_year(reg.plan_year)
    _out.print(
        Text.assemble(
            (reg.agent_id, "bold"),
            f" plan year {reg.plan_year}: {reg.status.value} (Individual "
            f"{reg.individual.value}, SHOP {reg.shop.value})",
        )
    )
    _out.print(
        Text(
            f"  NPN {reg.npn or '-'}, portal account {reg.portal_account_id}, version {reg.version}"
        )
    )
    due = deadlines(reg, flow.rules)
    if due is not None:
        _out.print(
            f"  registered {due.registered_on}; Tracker by {due.tracker}, RCL by {due.rcl}"
            + (
                f", Find Local Help by {due.find_local_help}"
                if due.find_local_help
                else ""
            )
        )
    nxt = ", ".join(cls.__name__ for cls in flow.available(reg)) or "nothing"
    _out.print(f"  may do next: {nxt}")
    for seq, event in enumerate(reg.history, 1):
        _out.print(f"  {seq:>3} {event.at.isoformat()} {type(event).__name__}")


@cli.command("overdue")
@_db_option
@_on_option
@click.option("--json", "as_json", is_flag=True, help="Print as JSON.")
@click.option(
    "--fail-on-overdue", is_flag=True, help="Exit 1 when anything is overdue."
)
def overdue_command(
    db: str, on: dt.date | None, as_json: bool, fail_on_overdue: bool
) -> None:
    """List confirmations that are late as of --on, with help-desk emails for the RCL."""
    day = on or dt.date.today()
    with _repository(db) as repo:
        late = overdue(repo.store.find(), on=day)
    if as_json:
        click.echo(json.dumps([_overdue_json(o) for o in late], indent=2))
    else:
        _print_overdue(late, day)
    if fail_on_overdue and late:
        sys.exit(EXIT_FINDINGS)


def _overdue_json(item: Overdue) -> dict[str, Any]:
    return {
        "agent_id": item.agent_id,
        "plan_year": item.plan_year,
        "npn": item.npn,
        "kind": item.kind.value,
        "due": item.due.isoformat(),
        "business_days_late": item.business_days_late,
        "escalated": item.escalated,
        "escalation": None
        if item.escalation is None
        else {
            "to": item.escalation.to,
            "subject": item.escalation.subject("en"),
            "body": item.escalation.body("en"),
        },
    }


def _print_overdue(late: list[Overdue], day: dt.date) -> None:
    table = Table(title=f"Overdue on {day.isoformat()}")
    for column in ("agent", "npn", "list", "due", "late (business days)", "action"):
        table.add_column(column)
    for item in late:
        action = (
            "escalated"
            if item.escalated
            else (
                f"write to {item.escalation.to}"
                if item.escalation
                else "tell the agent"
            )
        )
        table.add_row(
            Text(item.agent_id),
            Text(item.npn or ""),
            item.kind.value,
            item.due.isoformat(),
            str(item.business_days_late),
            Text(action),
        )
    _out.print(table)
    _out.print(f"{len(late)} overdue confirmation(s)")


@cli.command()
@click.option("--plan-year", type=int, default=2024, show_default=True)
def diagram(plan_year: int) -> None:
    """Print the registration machine as mermaid text."""
    click.echo(Workflow.for_plan_year(plan_year).diagram())


# -- demo -----------------------------------------------------------------------


@cli.command()
@click.option(
    "--db",
    default="regflow-demo.sqlite3",
    show_default=True,
    help="The demo SQLite file (replaced).",
)
@click.option(
    "--dir",
    "folder",
    default="regflow-demo-lists",
    show_default=True,
    type=click.Path(path_type=Path),
    help="Where to write the demo lists.",
)
def demo(db: str, folder: Path) -> None:
    """Build a demo database and lists, reconcile them, and show the result."""
    from ._demo import DEMO_ON, build_demo, write_demo_lists

    for suffix in ("", "-wal", "-shm"):
        Path(db + suffix).unlink(missing_ok=True)
    with _repository(db, create=True) as repo:
        roles = build_demo(
            repo.start, lambda agent, event: repo.apply(agent, 2024, event)
        )
        regs = list(repo.store.find())
        _print_states(regs)
        rcl, termination = write_demo_lists(folder, roles)
        _out.print(Text(f"wrote {rcl} and {termination}"))
        result, readings = _reconcile(regs, rcl, termination, DEMO_ON, quiet=True)
        applied = _record(repo, result)
        _print_summary(result, readings, applied, dry_run=False)
        _print_states(list(repo.store.find()))
    _out.print(
        Text(
            f"\nTry: regflow status agent-020 --db {db}   regflow overdue --db {db} --on {DEMO_ON}"
        )
    )


def main(argv: Sequence[str] | None = None) -> NoReturn:
    """Run the command; one line on stderr for any error."""
    try:
        cli.main(
            args=list(argv) if argv is not None else None,
            prog_name="regflow",
            standalone_mode=False,
        )
    except click.exceptions.Exit as done:
        sys.exit(done.exit_code)
    except click.UsageError as error:
        hint = (
            f" (see 'regflow {error.ctx.info_name} --help')"
            if error.ctx and error.ctx.info_name != "regflow"
            else " (see 'regflow --help')"
        )
        _err.print(f"regflow: error: {error.format_message()}{hint}", markup=False)
        sys.exit(EXIT_BAD_INPUT)
    except click.ClickException as error:
        _err.print(f"regflow: error: {error.format_message()}", markup=False)
        sys.exit(error.exit_code)
    except click.Abort:
        _err.print("regflow: aborted", markup=False)
        sys.exit(EXIT_FINDINGS)
    except RegflowError as error:
        _err.print(f"regflow: error: {error}", markup=False)
        sys.exit(EXIT_BAD_INPUT)
    except OSError as error:
        _err.print(f"regflow: error: {error}", markup=False)
        sys.exit(EXIT_BAD_INPUT)
    sys.exit(EXIT_OK)


if __name__ == "__main__":
    main()
