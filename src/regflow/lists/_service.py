"""Reconcile and record: the lists, our registrations and the workflow, together.

:func:`plan` reads the lists, loads the repository's registrations (of its
agency, or of every agency), compares them with :func:`reconcile`, and asks
:meth:`Workflow.check` about every event it would propose. Nothing is
written: a :class:`Plan` is what ``terraform plan`` is to ``apply``.
:func:`record` then applies the plan's proposals.

Why it is safe to run again, or after a crash:

- an event's id is derived from the list row and the registration's own
  log (see :mod:`._reconcile`), so planning again proposes the same ids,
  and a registration that already shows a row is proposed nothing;
- each registration gets at most one event per plan, written in one store
  transaction, so a registration is either recorded or untouched;
- the repository skips an event id already in the log.

A proposal the workflow refuses, at planning or at recording (the
registration moved meanwhile), becomes a finding with the refusals; it never
stops the other registrations.
"""

from __future__ import annotations

import csv
import datetime as dt
import os
from collections.abc import Callable, Iterable, Iterator, Mapping
from pathlib import Path
from typing import IO, TypeVar

import attrs

from .. import _events as ev
from .._errors import ListFormatError, StepRefused
from .._messages import Refusal
from .._rules import PlanYearRules
from ..store import ANY_AGENCY, Repository
from ._cells import RowProblem
from ._csv import ListReading
from ._json import is_json_path
from ._rcl import read_rcl
from ._reconcile import Finding, Outcome, reconcile
from ._termination import TerminationRow, read_termination_list

__all__ = [
    "ListFile",
    "Plan",
    "ProblemKind",
    "Proposal",
    "Recording",
    "plan",
    "record",
]

RowT = TypeVar("RowT")

Opener = Callable[[Path], IO[str]]
"""Opens a list file as text; the CLI passes one that shows progress."""


@attrs.frozen(kw_only=True, slots=True)
class ListFile:
    """One list file as read: its counts and the rows it skipped.

    Attributes:
        problems: the first problems found (at most ``MAX_KEPT_PROBLEMS``).
        problem_counts: every problem counted, by column (``None`` for a
            whole-row problem), kept or not.
    """

    kind: str
    file: str
    read: int
    kept: int
    skipped: int
    ignored: int
    problems: tuple[RowProblem, ...]
    problem_counts: tuple[tuple[str | None, int], ...] = ()

    @property
    def problems_truncated(self) -> bool:
        """Whether more problems were found than :attr:`problems` holds."""
        return sum(n for _, n in self.problem_counts) > len(self.problems)


@attrs.frozen(kw_only=True, slots=True)
class ProblemKind:
    """The skipped rows of one file with the same bad column, summarised."""

    file: str
    column: str | None
    count: int
    examples: tuple[RowProblem, ...]


@attrs.frozen(kw_only=True, slots=True)
class Proposal:
    """An event the lists call for, which the workflow allows now."""

    agency_id: str | None
    agent_id: str
    plan_year: int
    outcome: Outcome
    event: ev.Event


@attrs.frozen(kw_only=True, slots=True)
class Plan:
    """What the lists show and what recording them would write.

    Attributes:
        findings: one per registration, in key order; a refused proposal is a
            finding with outcome ``refused`` and its refusals.
        proposals: the events :func:`record` would apply, each allowed by
            the workflow when planned.
    """

    on: dt.date
    findings: tuple[Finding, ...]
    proposals: tuple[Proposal, ...]
    files: tuple[ListFile, ...]

    def counts(self) -> dict[Outcome, int]:
        """How many findings of each outcome (every outcome present, maybe 0)."""
        found = dict.fromkeys(Outcome, 0)
        for finding in self.findings:
            found[finding.outcome] += 1
        return found

    @property
    def needs_action(self) -> bool:
        """Whether a finding needs someone (overdue, flagged, refused, ...)."""
        return any(f.needs_action for f in self.findings)

    def problem_kinds(self, examples: int = 3) -> tuple[ProblemKind, ...]:
        """The skipped rows by file and bad column, with the first *examples*."""
        kinds: list[ProblemKind] = []
        for listed in self.files:
            by_column: dict[str | None, list[RowProblem]] = {}
            for problem in listed.problems:
                by_column.setdefault(problem.column, []).append(problem)
            # The counts are complete even when only the first problems were kept.
            counted = dict(listed.problem_counts) or {
                column: len(found) for column, found in by_column.items()
            }
            kinds.extend(
                ProblemKind(
                    file=listed.file,
                    column=column,
                    count=count,
                    examples=tuple(by_column.get(column, [])[: max(examples, 0)]),
                )
                for column, count in counted.items()
            )
        return tuple(kinds)


@attrs.frozen(kw_only=True, slots=True)
class Recording:
    """What :func:`record` did with a plan's proposals."""

    recorded: tuple[Proposal, ...]
    already: tuple[Proposal, ...]
    refused: tuple[Finding, ...]


def plan(
    repository: Repository,
    *,
    rcl: str | os.PathLike[str],
    termination: str | os.PathLike[str] | None = None,
    on: dt.date,
    rules: type[PlanYearRules] | None = None,
    opener: Opener | None = None,
) -> Plan:
    """Compare the repository's registrations with the lists as of *on*.

    Reads every file before deciding anything, so a file that cannot be read
    raises before anything could be written.

    Raises:
        ListFormatError: a file cannot be read, or is not a list of its kind
            (a missing column, not UTF-8), naming the file.
        InvalidValue: *on* is not a date.
    """
    agency = repository.agency
    regs = sorted(
        repository.store.find(agency=agency),
        key=lambda r: (r.agency_id or "", r.agent_id, r.plan_year),
    )
    npns = frozenset(r.npn.value for r in regs if r.npn is not None)
    rcl_rows, rcl_file = _read(read_rcl, "rcl", Path(rcl), npns, opener)
    term_rows: list[TerminationRow] = []
    files = [rcl_file]
    if termination is not None:
        term_rows, term_file = _read(
            read_termination_list, "termination", Path(termination), npns, opener
        )
        files.append(term_file)
    result = reconcile(regs, rcl=rcl_rows, termination=term_rows, on=on, rules=rules)
    bad = _our_bad_rows(files, npns)
    by_key = {(r.agency_id, r.agent_id, r.plan_year): r for r in regs}
    findings: list[Finding] = []
    proposals: list[Proposal] = []
    for finding in result.findings:
        reg = by_key[(finding.agency_id, finding.agent_id, finding.plan_year)]
        finding = _with_problems(finding, bad.get(finding.npn or "", ()))
        event = finding.event
        if event is not None:
            decision = repository.workflows(reg.plan_year).check(reg, event)
            if not decision.allowed:
                finding = _refused(finding, decision.refusals)
            else:
                proposals.append(_proposal(finding, event))
        findings.append(finding)
    return Plan(
        on=result.on,
        findings=tuple(findings),
        proposals=tuple(proposals),
        files=tuple(files),
    )


def record(
    repository: Repository,
    plan: Plan,
    *,
    recorded: Callable[[Proposal], None] | None = None,
) -> Recording:
    """Apply *plan*'s proposals, one registration at a time.

    Each is one transaction of the store; one the workflow now refuses is
    reported, and the others are still recorded. *recorded* is called after
    each registration is written (e.g. to show progress).
    """
    done: list[Proposal] = []
    already: list[Proposal] = []
    refused: list[Finding] = []
    findings = {(f.agency_id, f.agent_id, f.plan_year): f for f in plan.findings}
    for proposal in plan.proposals:
        scoped = (
            repository.scoped(proposal.agency_id)
            if repository.agency is ANY_AGENCY
            else repository
        )
        key = (proposal.agency_id, proposal.agent_id, proposal.plan_year)
        before = scoped.load(proposal.agent_id, proposal.plan_year)
        if any(e.event_id == proposal.event.event_id for e in before.history):
            already.append(proposal)
            continue
        try:
            scoped.apply(proposal.agent_id, proposal.plan_year, proposal.event)
        except StepRefused as refusal:
            refused.append(_refused(findings[key], refusal.refusals))
            continue
        done.append(proposal)
        if recorded is not None:
            recorded(proposal)
    return Recording(
        recorded=tuple(done), already=tuple(already), refused=tuple(refused)
    )


def _read(
    reader: Callable[..., ListReading[RowT]],
    kind: str,
    path: Path,
    npns: frozenset[str],
    opener: Opener | None,
) -> tuple[list[RowT], ListFile]:
    handle: IO[str] | None = None
    try:
        handle = None if opener is None else opener(path)
        source: str | os.PathLike[str] | IO[str] | list[IO[str]] = path
        if handle is not None:
            # An open file is read as CSV; a JSON page opened for us must be
            # passed as a page list to be read as one.
            source = [handle] if is_json_path(path) else handle
        reading = reader(source, npns=npns)
        rows = list(reading)
    except OSError as error:
        # A typed error naming the file, as a malformed one gets.
        raise ListFormatError(
            str(path), f"cannot be read: {error.strerror or error}"
        ) from error
    finally:
        if handle is not None:
            handle.close()
    listed = ListFile(
        kind=kind,
        file=str(path),
        read=reading.read,
        kept=reading.kept,
        skipped=reading.skipped,
        ignored=reading.filtered_out,
        problems=reading.problems,
        problem_counts=tuple(reading.problem_counts.items()),
    )
    return rows, listed


def _our_bad_rows(
    files: Iterable[ListFile], npns: frozenset[str]
) -> Mapping[str, tuple[RowProblem, ...]]:
    # A skipped row is only reported by line; its NPN, when readable, tells
    # whose it is. Only files with problems are read a second time.
    found: dict[str, list[RowProblem]] = {}
    for listed in files:
        if not listed.problems:
            continue
        lines = {p.line for p in listed.problems}
        owners = dict(_npns_on_lines(Path(listed.file), lines))
        for problem in listed.problems:
            npn = owners.get(problem.line)
            if npn in npns and problem.column != "NPN":
                found.setdefault(npn, []).append(problem)
    return {npn: tuple(problems) for npn, problems in found.items()}


def _npns_on_lines(path: Path, lines: set[int]) -> Iterator[tuple[int, str]]:
    try:
        with path.open(encoding="utf-8-sig", newline="") as handle:
            records = csv.reader(handle)
            header = next(records, [])
            names = [name.strip().casefold() for name in header]
            if "npn" not in names:
                return
            column = names.index("npn")
            start = records.line_num + 1
            last = max(lines)
            for row in records:
                if start in lines and column < len(row):
                    yield start, row[column].strip()
                start = records.line_num + 1
                if start > last:
                    return
    except (OSError, UnicodeDecodeError, csv.Error):
        # The first pass read the file; a second that fails only loses the
        # owners of its bad rows, which are still reported by line.
        return


def _with_problems(finding: Finding, problems: tuple[RowProblem, ...]) -> Finding:
    if not problems:
        return finding
    if finding.line is not None or finding.event is not None:
        # A readable row of ours decided; the bad one is still shown with it.
        return attrs.evolve(finding, problems=problems)
    first = problems[0]
    return attrs.evolve(
        finding,
        outcome=Outcome.UNREADABLE,
        problems=problems,
        escalation=None,
        line=first.line,
        detail=(
            f"a row for this NPN was skipped: line {first.line}, column "
            f"{first.column or '(whole row)'}, value {first.value!r}: {first.reason}"
        ),
    )


def _refused(finding: Finding, refusals: tuple[Refusal, ...]) -> Finding:
    kept = tuple(refusals)
    event = finding.event
    name = type(event).__name__ if event is not None else "the event"
    return attrs.evolve(
        finding,
        outcome=Outcome.REFUSED,
        event=None,
        refusals=kept,
        detail=(
            f"the lists show {finding.outcome.value}, but the workflow refuses "
            f"{name}: " + "; ".join(r.message("en") for r in kept)
        ),
    )


def _proposal(finding: Finding, event: ev.Event) -> Proposal:
    return Proposal(
        agency_id=finding.agency_id,
        agent_id=finding.agent_id,
        plan_year=finding.plan_year,
        outcome=finding.outcome,
        event=event,
    )
