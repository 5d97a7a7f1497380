"""The ``regflow`` command: reconcile with CMS's lists, status, overdue, report, diagram, demo.

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

import datetime as dt
import io
import json
import shlex
import sys
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import IO, TYPE_CHECKING, NoReturn

import click
from rich.markup import escape
from rich.progress import Progress
from rich.table import Table
from rich.text import Text

from ._cli_common import (
    EXIT_BAD_INPUT,
    EXIT_FINDINGS,
    EXIT_INTERRUPTED,
    EXIT_OK,
    BadInput,
)
from ._cli_common import db_option as _db_option
from ._cli_common import err as _err
from ._cli_common import on_option as _on_option
from ._cli_common import out as _out
from ._cli_common import repository as _repository
from ._cli_report import demo_report, report
from ._deadlines import Overdue, deadlines, overdue
from ._errors import RegflowError
from ._registration import Registration
from ._reports import overdue_json, plan_json, status_json
from ._reports import write_findings_csv as _write_csv
from ._states import Status
from ._text import print_events, print_plan, shown, text
from ._workflow import Workflow

if TYPE_CHECKING:
    from .lists import Plan
    from .store import Repository

__all__ = ["main"]


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="regflow")
def cli() -> None:
    """Track agents' CMS Marketplace registration for a plan year."""


# -- reconcile ----------------------------------------------------------------


def _opener(progress: Progress) -> Callable[[Path], IO[str]]:
    def open_with_progress(path: Path) -> IO[str]:
        # The description is interpolated into the column's markup.
        handle = progress.open(
            path, "rb", description=f"reading {escape(shown(path.name))}"
        )
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
        print_plan(_out, found, done, examples)
    # An event refused while recording (the registration moved since the
    # plan) needs someone as much as one refused in the plan.
    if fail_on_overdue and (found.needs_action or (done is not None and done.refused)):
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
            text(reg.agent_id, "bold"),
            f" plan year {reg.plan_year}: {reg.status.value} (Individual "
            f"{reg.individual.value}, SHOP {reg.shop.value})",
        )
    )
    _out.print(
        text(
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
            text(item.agent_id),
            text(item.npn or ""),
            item.kind.value,
            item.due.isoformat(),
            str(item.business_days_late),
            text(action),
        )
    _out.print(table)
    _out.print(f"{len(late)} overdue confirmation(s)")


@cli.command()
@click.option("--plan-year", type=int, default=2024, show_default=True)
@click.option(
    "--output",
    "-o",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write to FILE: .svg draws with Graphviz, anything else is mermaid text.",
)
def diagram(plan_year: int, output: Path | None) -> None:
    """Print (or write) the registration machine: mermaid text, or SVG."""
    svg = output is not None and output.suffix.lower() == ".svg"
    # Without Graphviz, an SVG is an InvalidValue saying what to install:
    # main() prints it as one line and exits 2, as for an unwritable FILE.
    drawn = Workflow.for_plan_year(plan_year).diagram(
        format="svg" if svg else "mermaid"
    )
    if output is None:
        click.echo(drawn, nl=False)
        return
    output.write_text(drawn, encoding="utf-8")
    _out.print(text(f"wrote {output}"))


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
@click.option(
    "--report",
    "report_path",
    type=click.Path(dir_okay=False, path_type=Path),
    help="The demo's readiness report (and its .csv, .json) [default: beside "
    "--db, regflow-demo-report.html].",
)
def demo(db: str, folder: Path, report_path: Path | None) -> None:
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
        _out.print(text(f"wrote {rcl} and {termination}"))
        _out.print("\nThe plan (what 'regflow reconcile' shows without --record):")
        found = _plan(repo, rcl, termination, DEMO_ON, quiet=True)
        print_plan(_out, found, None, 3)
        _out.print("\nRecording it (what 'regflow reconcile --record' does):")
        print_events(_out, found, record(repo, found))
        _print_states(list(repo.store.find()))
    _out.print("\nTry:")
    day = DEMO_ON.isoformat()
    for args in (
        ["status", "agent-020", "--db", db, "--on", day],
        ["overdue", "--db", db, "--on", day],
        ["reconcile", "--db", db, "--on", day, "--rcl", str(rcl)],
        ["report", "--db", db, "--on", day, "--locale", "es", "-o", "informe.html"],
    ):
        for line in _shell_lines(["regflow", *args]):
            _out.print(text(line))
    demo_report(db, report_path, rcl, termination)


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


cli.add_command(report)


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
        _err.print(text(f"regflow: error: {error.format_message()}{hint}"))
        sys.exit(EXIT_BAD_INPUT)
    except click.ClickException as error:
        _err.print(text(f"regflow: error: {error.format_message()}"))
        sys.exit(error.exit_code)
    except (click.Abort, KeyboardInterrupt):
        # Ctrl-C: the shell's convention, 128 + SIGINT.
        _err.print("regflow: interrupted", markup=False)
        sys.exit(EXIT_INTERRUPTED)
    except RegflowError as error:
        _err.print(text(f"regflow: error: {error}"))
        sys.exit(EXIT_BAD_INPUT)
    except OSError as error:
        _err.print(text(f"regflow: error: {error}"))
        sys.exit(EXIT_BAD_INPUT)
    sys.exit(EXIT_OK)


if __name__ == "__main__":
    main()
