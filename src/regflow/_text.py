"""The text the ``regflow`` command prints for a reconciliation run.

Every value from outside (file names, agent ids, cells, event ids) reaches
rich through :func:`text`: a :class:`~rich.text.Text`, never markup, with
control characters shown as escapes, since rich passes ESC through and a
cell could otherwise recolour, retitle or rewrite the analyst's terminal.
"""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

from rich.console import Console
from rich.table import Table
from rich.text import Text

from .lists import Outcome, Plan, Recording

__all__ = ["print_events", "print_plan", "shown", "text"]

# C0 and C1 controls, DEL, and the bidirectional overrides that can make a
# line read differently from what it holds.
_CONTROLS = re.compile("[\x00-\x1f\x7f-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069]")


def _escape(match: re.Match[str]) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def shown(value: str) -> str:
    """*value* with its control characters written as escapes."""
    return _CONTROLS.sub(_escape, value)


def text(value: str, style: str = "") -> Text:
    """*value* as rich text (never markup), its control characters escaped."""
    return Text(shown(value), style=style)


def _iso(day: dt.date | None) -> str:
    return "" if day is None else day.isoformat()


def print_plan(
    out: Console, found: Plan, done: Recording | None, examples: int
) -> None:
    """Print a reconciliation run: files, problems, outcomes, what needs action, events."""
    files = Table(title="Files read")
    for column in ("file", "rows", "kept", "ignored", "skipped"):
        files.add_column(column, justify="left" if column == "file" else "right")
    for listed in found.files:
        files.add_row(
            text(Path(listed.file).name),
            str(listed.read),
            str(listed.kept),
            str(listed.ignored),
            str(listed.skipped),
        )
    out.print(files)
    _print_problems(out, found, examples)
    table = Table(title=f"Reconciliation on {found.on.isoformat()}")
    table.add_column("outcome")
    table.add_column("agents", justify="right")
    for outcome, count in found.counts().items():
        if count:
            table.add_row(outcome.value, str(count))
    out.print(table)
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
                text(f.agent_id),
                text(f.npn or ""),
                f.outcome.value,
                _iso(f.due),
                text(what),
            )
        out.print(detail)
    print_events(out, found, done)


def _print_problems(out: Console, found: Plan, examples: int) -> None:
    # Summarised by kind: 2,000 bad dates are one line and a few examples,
    # not 2,000 lines before the summary; --json has them all.
    for kind in found.problem_kinds(examples):
        column = kind.column or "whole row"
        out.print(
            text(f"{Path(kind.file).name}: {kind.count} row(s) skipped, bad {column}")
        )
        for problem in kind.examples:
            out.print(
                text(f"  line {problem.line}: {problem.reason} ({problem.value!r})")
            )
        if kind.count > len(kind.examples):
            out.print(
                text(f"  ... and {kind.count - len(kind.examples)} more (see --json)")
            )


def print_events(out: Console, found: Plan, done: Recording | None) -> None:
    """Print what was, or (without *done*) would be, recorded."""
    events = found.proposals if done is None else done.recorded
    if events:
        table = Table(title="Would record" if done is None else "Recorded")
        for column in ("agent", "plan year", "event", "id"):
            table.add_column(column)
        for p in events:
            table.add_row(
                text(p.agent_id),
                str(p.plan_year),
                type(p.event).__name__,
                text(p.event.event_id),
            )
        out.print(table)
    if done is None:
        out.print(
            f"would record {len(found.proposals)} event(s); "
            "run again with --record to record them"
        )
    else:
        out.print(
            f"recorded {len(done.recorded)} event(s)"
            + (f", {len(done.already)} already recorded" if done.already else "")
            + (f", {len(done.refused)} refused" if done.refused else "")
        )
