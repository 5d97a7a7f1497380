"""The JSON forms the ``regflow`` command prints, built by regflow's converter.

Every value goes through :data:`~regflow._converter.converter`, as snapshots
and events do, so dates are ISO, enums their stable values and events
tagged with their ``kind``; this module only adds what a value computes
rather than stores: an escalation's email in English and Spanish, a plan's
problem summary, a registration's deadlines.
"""

from __future__ import annotations

import csv
import datetime as dt
import re
from collections.abc import Iterable
from typing import TextIO

from ._converter import converter
from ._deadlines import Escalation, Overdue, deadlines, overdue
from ._registration import Registration
from ._serialization import to_dict
from ._workflow import Workflow
from .lists import Finding, Plan, Proposal, Recording

__all__ = [
    "JSONObject",
    "escalation_json",
    "finding_json",
    "overdue_json",
    "plan_json",
    "status_json",
    "write_findings_csv",
]

JSONObject = dict[str, object]
LOCALES = ("en", "es")


def escalation_json(escalation: Escalation) -> JSONObject:
    """The escalation's fields, with its email in English and Spanish."""
    data: JSONObject = converter.unstructure(escalation)
    for locale in LOCALES:
        suffix = "" if locale == "en" else f"_{locale}"
        data[f"subject{suffix}"] = escalation.subject(locale)
        data[f"body{suffix}"] = escalation.body(locale)
        data[f"mailto{suffix}"] = escalation.mailto(locale)
    return data


def finding_json(finding: Finding) -> JSONObject:
    """One finding: its fields, the proposed event tagged, the escalation's email."""
    data: JSONObject = converter.unstructure(finding)
    data["needs_action"] = finding.needs_action
    if finding.escalation is not None:
        data["escalation"] = escalation_json(finding.escalation)
    return data


def _proposal_json(proposal: Proposal) -> JSONObject:
    data: JSONObject = converter.unstructure(proposal)
    return data


def plan_json(
    plan: Plan, recording: Recording | None, *, examples: int = 3
) -> JSONObject:
    """A reconciliation run: what was (or, without *recording*, would be) recorded."""
    events = recording.recorded if recording is not None else plan.proposals
    return {
        "on": plan.on.isoformat(),
        "recorded": recording is not None,
        "needs_action": plan.needs_action,
        "counts": {k.value: v for k, v in plan.counts().items()},
        "events_proposed": len(plan.proposals),
        "events_recorded": 0 if recording is None else len(recording.recorded),
        "events_already_recorded": 0 if recording is None else len(recording.already),
        "events": [_proposal_json(p) for p in events],
        "refused_at_recording": []
        if recording is None
        else [finding_json(f) for f in recording.refused],
        "files": [converter.unstructure(f) for f in plan.files],
        "problem_summary": [
            converter.unstructure(k) for k in plan.problem_kinds(examples)
        ],
        "findings": [finding_json(f) for f in plan.findings],
    }


def overdue_json(item: Overdue) -> JSONObject:
    """One late confirmation, with the help-desk email in English and Spanish."""
    data: JSONObject = converter.unstructure(item)
    if item.escalation is not None:
        data["escalation"] = escalation_json(item.escalation)
    return data


def status_json(
    regs: Iterable[Registration], on: dt.date, *, history: bool = False
) -> JSONObject:
    """Registrations as of *on*: their view, deadlines and what is overdue.

    Overdue is :func:`regflow.overdue` on the same registrations and day, so
    ``status --json`` and ``overdue --json`` agree.
    """
    shown: list[JSONObject] = []
    counts: dict[str, int] = {}
    late = 0
    for reg in regs:
        view = to_dict(reg, history=history)
        due = deadlines(reg, Workflow.for_plan_year(reg.plan_year).rules)
        view["deadlines"] = None if due is None else converter.unstructure(due)
        items = overdue([reg], on=on)
        late += len(items)
        view["overdue"] = [overdue_json(o) for o in items]
        counts[reg.status.value] = counts.get(reg.status.value, 0) + 1
        shown.append(view)
    return {
        "on": on.isoformat(),
        "counts": counts,
        "overdue": late,
        "registrations": shown,
    }


# OWASP's list, with the full-width forms some spreadsheets also take as a
# formula's start.
_CELL_PREFIXES = (
    "=",
    "+",
    "-",
    "@",
    "\t",
    "\r",
    "\uff1d",
    "\uff0b",
    "\uff0d",
    "\uff20",
)
# A line break inside a cell followed by a formula start: spreadsheets may read
# each line of a cell on its own. Every break str.splitlines knows, not only
# CR and LF, as an importer may split on any of them.
_LINE_PREFIX = re.compile(
    "(\r\n|[\n\r\v\f\x1c\x1d\x1e\x85\u2028\u2029])(?=[=+\\-@\t\uff1d\uff0b\uff0d\uff20])"
)


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


def write_findings_csv(findings: Iterable[Finding], out: TextIO) -> None:
    # Every cell quoted: minimal quoting leaves a bare CR unquoted with this
    # line terminator, and a reader ends the row there and starts a new one
    # with what follows. "\n" and not "\r\n", as a text-mode stdout on
    # Windows turns each "\n" into "\r\n" itself.
    """Write one row per finding, every cell quoted and none runnable as a formula."""
    writer = csv.writer(out, lineterminator="\n", quoting=csv.QUOTE_ALL)
    writer.writerow(_CSV_COLUMNS)
    for finding in findings:
        row = finding_json(finding)
        writer.writerow([_cell(row[c]) for c in _CSV_COLUMNS])
