"""The ``regflow`` command: reconcile with CMS's lists, status, overdue, diagram, demo.

Exit codes: 0 done; 1 findings that need action, when ``--fail-on-overdue``
is given (for ``reconcile``: overdue, flagged, a discrepancy, an event the
workflow refuses, or a skipped row of one of our own agents); 2 bad input (an
unknown option, a missing or malformed file, a bad date); 130 interrupted
(Ctrl-C). Errors are one line on stderr, never a traceback.

``reconcile`` shows the plan and records nothing unless given ``--record``.

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
import shlex
import sys
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import IO, TYPE_CHECKING, NoReturn, TextIO

import click
from rich.console import Console
from rich.markup import escape
from rich.progress import Progress
from rich.table import Table
from rich.text import Text

from ._deadlines import Overdue, deadlines, overdue
from ._errors import RegflowError
from ._registration import Registration
from ._reports import finding_json, overdue_json, plan_json, status_json
from ._states import Status
from ._workflow import Workflow
from .lists import Outcome

if TYPE_CHECKING:
    from .lists import Finding, Plan, Recording
    from .store import Repository

__all__ = ["main"]

EXIT_OK, EXIT_FINDINGS, EXIT_BAD_INPUT, EXIT_INTERRUPTED = 0, 1, 2, 130
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
def _repository(location: str, *, create: bool = False) -> Iterator[Repository]:
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


def _opener(progress: Progress) -> Callable[[Path], IO[str]]:
    def open_with_progress(path: Path) -> IO[str]:
        # The description is interpolated into the column's markup.
        handle = progress.open(path, "rb", description=f"reading {escape(path.name)}")
        return io.TextIOWrapper(handle, encoding="utf-8-sig", newline="")

    return open_with_progress


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
@click.option(
    "--record",
    "write",
    is_flag=True,
    help="Record the events in the database (default: only show the plan).",
)
@click.option(
    "--dry-run",
    is_flag=True,
    help="Show the plan and record nothing (the default; kept for scripts).",
)
@click.option(
    "--problems",
    "examples",
    type=click.IntRange(min=0),
    default=3,
    show_default=True,
    help="Examples shown per kind of skipped row (all are in --json).",
)
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
    write: bool,
    dry_run: bool,
    examples: int,
    fail_on_overdue: bool,
) -> None:
    """Compare the registrations with the RCL (and termination list).

    Shows what would be recorded; --record records it.
    """
    from .lists import record

    if as_json and as_csv:
        raise click.UsageError("--json and --csv exclude each other")
    if write and dry_run:
        raise click.UsageError("--record and --dry-run exclude each other")
    for path in (rcl_path, termination_path):
        if path is not None and not path.is_file():
            raise BadInput(f"no such file: {path}")
    day = on or dt.date.today()
    quiet = as_json or as_csv or not _err.is_terminal
    with _repository(db) as repo:
        found = _plan(repo, rcl_path, termination_path, day, quiet)
        done = record(repo, found) if write else None
    if as_json:
        click.echo(json.dumps(plan_json(found, done, examples=examples), indent=2))
    elif as_csv:
        _write_csv(found.findings, sys.stdout)
    else:
        _print_summary(found, done, examples)
    if fail_on_overdue and found.needs_action:
        sys.exit(EXIT_FINDINGS)


def _plan(
    repo: Repository,
    rcl_path: Path,
    termination_path: Path | None,
    day: dt.date,
    quiet: bool,
) -> Plan:
    from .lists import plan

    progress = None if quiet else Progress(console=_err, transient=True)
    try:
        with progress or _nothing():
            return plan(
                repo,
                rcl=rcl_path,
                termination=termination_path,
                on=day,
                opener=None if progress is None else _opener(progress),
            )
    except RegflowError as error:
        raise BadInput(str(error)) from None
    except OSError as error:
        raise BadInput(
            f"cannot read {error.filename}: {error.strerror or error}"
        ) from None


@contextmanager
def _nothing() -> Iterator[None]:
    yield


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
    "needs_action",
)


def _iso(day: dt.date | None) -> str:
    return "" if day is None else day.isoformat()


def _write_csv(findings: Iterable[Finding], out: TextIO) -> None:
    # Every cell quoted: minimal quoting leaves a bare CR unquoted with this
    # line terminator, and a reader ends the row there and starts a new one
    # with what follows. "\n" and not "\r\n", as a text-mode stdout on
    # Windows turns each "\n" into "\r\n" itself.
    writer = csv.writer(out, lineterminator="\n", quoting=csv.QUOTE_ALL)
    writer.writerow(_CSV_COLUMNS)
    for finding in findings:
        row = finding_json(finding)
        writer.writerow([_cell(row[c]) for c in _CSV_COLUMNS])


def _print_summary(found: Plan, done: Recording | None, examples: int) -> None:
    files = Table(title="Files read")
    for column in ("file", "rows", "kept", "ignored", "skipped"):
        files.add_column(column, justify="left" if column == "file" else "right")
    for listed in found.files:
        files.add_row(
            Text(Path(listed.file).name),
            str(listed.read),
            str(listed.kept),
            str(listed.ignored),
            str(listed.skipped),
        )
    _out.print(files)
    _print_problems(found, examples)
    table = Table(title=f"Reconciliation on {found.on.isoformat()}")
    table.add_column("outcome")
    table.add_column("agents", justify="right")
    for outcome, count in found.counts().items():
        if count:
            table.add_row(outcome.value, str(count))
    _out.print(table)
    action = [f for f in found.findings if f.needs_action]
    if done is not None:
        action += done.refused
    if action:
        detail = Table(title="Needs action")
        for column in ("agent", "npn", "outcome", "due", "detail"):
            detail.add_column(column)
        for f in action:
            what = f.detail or ("write to " + f.escalation.to if f.escalation else "")
            if f.problems and f.outcome is not Outcome.UNREADABLE:
                what = f"{what}; also a skipped row: {f.problems[0]}".lstrip("; ")
            detail.add_row(
                Text(f.agent_id),
                Text(f.npn or ""),
                f.outcome.value,
                _iso(f.due),
                Text(what),
            )
        _out.print(detail)
    _print_events(found, done)


def _print_problems(found: Plan, examples: int) -> None:
    # Summarised by kind: 2,000 bad dates are one line and a few examples,
    # not 2,000 lines before the summary; --json has them all.
    for kind in found.problem_kinds(examples):
        column = kind.column or "whole row"
        _out.print(
            Text(f"{Path(kind.file).name}: {kind.count} row(s) skipped, bad {column}")
        )
        for problem in kind.examples:
            _out.print(
                Text(f"  line {problem.line}: {problem.reason} ({problem.value!r})")
            )
        if kind.count > len(kind.examples):
            _out.print(
                Text(f"  ... and {kind.count - len(kind.examples)} more (see --json)")
            )


def _print_events(found: Plan, done: Recording | None) -> None:
    events = found.proposals if done is None else done.recorded
    if events:
        table = Table(title="Would record" if done is None else "Recorded")
        for column in ("agent", "plan year", "event", "id"):
            table.add_column(column)
        for p in events:
            table.add_row(
                Text(p.agent_id),
                str(p.plan_year),
                type(p.event).__name__,
                Text(p.event.event_id),
            )
        _out.print(table)
    if done is None:
        _out.print(
            f"would record {len(found.proposals)} event(s); "
            "run again with --record to record them"
        )
    else:
        _out.print(
            f"recorded {len(done.recorded)} event(s)"
            + (f", {len(done.already)} already recorded" if done.already else "")
            + (f", {len(done.refused)} refused" if done.refused else "")
        )


# -- status, overdue, diagram ---------------------------------------------------


@cli.command()
@click.argument("agent", required=False)
@_db_option
@_on_option
@click.option("--plan-year", type=int, help="Only this plan year.")
@click.option("--json", "as_json", is_flag=True, help="Print as JSON.")
def status(
    agent: str | None,
    db: str,
    on: dt.date | None,
    plan_year: int | None,
    as_json: bool,
) -> None:
    """Show every registration's state, or one AGENT's in detail, as of --on."""
    day = on or dt.date.today()
    with _repository(db) as repo:
        regs = list(repo.store.find(plan_year=plan_year))
    if agent is not None:
        regs = [r for r in regs if r.agent_id == agent]
        if not regs:
            raise BadInput(f"no registration for agent {agent!r}")
    if as_json:
        click.echo(
            json.dumps(status_json(regs, day, history=agent is not None), indent=2)
        )
    elif agent is None:
        _print_states(regs)
        late = overdue(regs, on=day)
        _out.print(f"{len(late)} overdue confirmation(s) on {day.isoformat()}")
    else:
        for reg in regs:
            _print_agent(reg, day)


def _print_states(regs: list[Registration]) -> None:
    table = Table(title="Registrations by status")
    table.add_column("status")
    table.add_column("agents", justify="right")
    for state in Status:
        count = sum(1 for r in regs if r.status is state)
        if count:
            table.add_row(state.value, str(count))
    _out.print(table)
    _out.print(f"{len(regs)} registration(s)")


def _print_agent(reg: Registration, day: dt.date) -> None:
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
            f"  NPN {reg.npn or '-'}, portal account {reg.portal_account_id}, "
            f"version {reg.version}"
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
    for item in overdue([reg], on=day):
        _out.print(
            f"  overdue on {day.isoformat()}: {item.kind.value} due {item.due}, "
            f"{item.business_days_late} business day(s) late"
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
        click.echo(json.dumps([overdue_json(o) for o in late], indent=2))
    else:
        _print_overdue(late, day)
    if fail_on_overdue and late:
        sys.exit(EXIT_FINDINGS)


def _print_overdue(late: list[Overdue], day: dt.date) -> None:
    table = Table(title=f"Overdue on {day.isoformat()}")
    for column in ("agent", "npn", "list", "due", "late (business days)", "action"):
        table.add_column(column)
    for item in late:
        if item.escalated:
            action = "escalated"
        elif item.escalation:
            action = f"write to {item.escalation.to}"
        else:
            action = "tell the agent"
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
    from .lists import record

    for suffix in ("", "-wal", "-shm"):
        Path(db + suffix).unlink(missing_ok=True)
    with _repository(db, create=True) as repo:
        roles = build_demo(
            repo.start, lambda agent, event: repo.apply(agent, 2024, event)
        )
        _print_states(list(repo.store.find()))
        rcl, termination = write_demo_lists(folder, roles)
        _out.print(Text(f"wrote {rcl} and {termination}"))
        _out.print("\nThe plan (what 'regflow reconcile' shows without --record):")
        found = _plan(repo, rcl, termination, DEMO_ON, quiet=True)
        _print_summary(found, None, 3)
        _out.print("\nRecording it (what 'regflow reconcile --record' does):")
        _print_events(found, record(repo, found))
        _print_states(list(repo.store.find()))
    _out.print("\nTry:")
    day = DEMO_ON.isoformat()
    for args in (
        ["status", "agent-020", "--db", db, "--on", day],
        ["overdue", "--db", db, "--on", day],
        ["reconcile", "--db", db, "--on", day, "--rcl", str(rcl)],
    ):
        for line in _shell_lines(["regflow", *args]):
            _out.print(Text(line))


def _shell_lines(words: list[str], width: int = 80) -> list[str]:
    # Quoted for the shell, so each command runs as printed (paths with
    # spaces or brackets too), and continued with a backslash rather than
    # wrapped by the terminal, so it stays runnable when pasted.
    lines = ["  "]
    for word in map(shlex.quote, words):
        if len(lines[-1]) > 2 and len(lines[-1]) + len(word) + 3 > width:
            lines[-1] += " \\"
            lines.append("      ")
        lines[-1] += word if lines[-1].isspace() else " " + word
    return lines


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
    except (click.Abort, KeyboardInterrupt):
        # Ctrl-C: the shell's convention, 128 + SIGINT.
        _err.print("regflow: interrupted", markup=False)
        sys.exit(EXIT_INTERRUPTED)
    except RegflowError as error:
        _err.print(f"regflow: error: {error}", markup=False)
        sys.exit(EXIT_BAD_INPUT)
    except OSError as error:
        _err.print(f"regflow: error: {error}", markup=False)
        sys.exit(EXIT_BAD_INPUT)
    sys.exit(EXIT_OK)


if __name__ == "__main__":
    main()
