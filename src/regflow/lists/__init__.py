"""Readers for CMS's public agent and broker lists.

Each reader streams one file, validates every row, and says what it skipped
and why; :func:`reconcile` compares registrations with what the lists show,
and :func:`plan` and :func:`record` do so for a repository's registrations,
checked with the workflow and written only when asked::

    reading = read_rcl("TBL_RCL_42.csv", npns={"12345678"})
    for row in reading:
        ...
    assert reading.read == reading.kept + reading.skipped + reading.filtered_out

Whatever a file holds, reading it takes bounded memory and fails, if at all,
with :class:`regflow.ListFormatError`: a header or row past
:data:`MAX_HEADER_CHARS` or :data:`MAX_ROW_CHARS` characters, or a quote
open past :data:`MAX_ROW_LINES` lines, is refused or reported, and only the
first :data:`MAX_KEPT_PROBLEMS` problems are kept (all are counted).
"""

from __future__ import annotations

from .._public import publish as _publish
from .._records import NpnValidity, TerminationReason
from ._cells import MAX_KEPT_PROBLEMS, RowProblem
from ._csv import ListReading
from ._lines import MAX_HEADER_CHARS, MAX_ROW_CHARS, MAX_ROW_LINES
from ._rcl import RCL_COLUMNS, RCL_FIELD_NAMES, RclRow, read_rcl
from ._reconcile import Finding, Outcome, Reconciliation, reconcile
from ._service import ListFile, Plan, ProblemKind, Proposal, Recording, plan, record
from ._termination import (
    REASON_DESCRIPTIONS,
    TERMINATION_COLUMNS,
    Marketplaces,
    TerminationAction,
    TerminationRow,
    TerminationStatus,
    read_termination_list,
)

__all__ = [
    "MAX_HEADER_CHARS",
    "MAX_KEPT_PROBLEMS",
    "MAX_ROW_CHARS",
    "MAX_ROW_LINES",
    "RCL_COLUMNS",
    "RCL_FIELD_NAMES",
    "REASON_DESCRIPTIONS",
    "TERMINATION_COLUMNS",
    "Finding",
    "ListFile",
    "ListReading",
    "Marketplaces",
    "NpnValidity",
    "Outcome",
    "Plan",
    "ProblemKind",
    "Proposal",
    "RclRow",
    "Reconciliation",
    "Recording",
    "RowProblem",
    "TerminationAction",
    "TerminationReason",
    "TerminationRow",
    "TerminationStatus",
    "plan",
    "read_rcl",
    "read_termination_list",
    "reconcile",
    "record",
]

# Reprs, docs and pickles show the public path, not the private module.
# NpnValidity, Marketplaces and TerminationReason belong to regflow itself:
# re-exported here, not renamed.
_publish(globals(), __name__, __all__)
