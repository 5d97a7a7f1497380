"""Readers for CMS's public agent and broker lists.

Each reader streams one file, validates every row, and says what it skipped
and why::

    reading = read_rcl("TBL_RCL_42.csv", npns={"12345678"})
    for row in reading:
        ...
    reading.read == reading.kept + reading.skipped + reading.filtered_out
"""

from __future__ import annotations

from ._csv import ListReading, RowProblem
from ._rcl import RCL_COLUMNS, NpnValidity, RclRow, read_rcl

__all__ = [
    "RCL_COLUMNS",
    "ListReading",
    "NpnValidity",
    "RclRow",
    "RowProblem",
    "read_rcl",
]
