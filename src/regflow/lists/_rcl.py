"""The Registration Completion List (RCL), ``TBL_RCL_<n>.csv``.

An NPN on the RCL for a plan year has finished Marketplace registration for
it (S20); regflow calls an agent listed with NPN Valid ``Y`` *certified*.
"""

from __future__ import annotations

import datetime as dt
import enum
from collections.abc import Iterable, Iterator
from operator import itemgetter
from typing import Final

import attrs

from .._npn import NPN
from ._csv import (
    MAX_NPN_DIGITS,
    ZERO_NPNS,
    CellCache,
    Columns,
    CsvRows,
    ListReading,
    RowCheck,
    RowProblem,
    Source,
    Tally,
    check_npn,
    enum_parser,
    first_line,
    is_blank,
    parse_date,
    parse_plan_year,
    width_problem,
)

__all__ = ["RCL_COLUMNS", "NpnValidity", "RclRow", "read_rcl"]

RCL_COLUMNS: Final = (
    "NPN",
    "Applicable Plan Year",
    "Individual Registration Completion Date",
    "Individual Marketplace End Date",
    "Shop Registration Completion Date",
    "Shop End Date",
    "NPN Valid (Current Plan Year Only)",
)
"""The RCL's published headers, in the published order."""


class NpnValidity(enum.Enum):
    """The RCL's ``NPN Valid (Current Plan Year Only)`` flag."""

    VALID = "Y"
    """Valid in NIPR with an active health line of authority."""
    INVALID = "N"
    """Not valid in NIPR, or no active health line of authority."""
    NOT_APPLICABLE = "-"
    """A row of an earlier plan year: CMS checks the current plan year only."""


@attrs.frozen(slots=True, kw_only=True)
class RclRow:
    """One valid row of the RCL.

    Attributes:
        npn: the personal, business-entity or web-broker NPN, as listed.
        plan_year: the ``Applicable Plan Year``.
        individual_completion: when Individual Marketplace registration was
            completed, or ``None``.
        individual_end: when the Individual Marketplace registration ends.
        shop_completion: when SHOP registration was completed, or ``None``.
        shop_end: when the SHOP registration ends.
        npn_valid: the NIPR check, for the current plan year only.
        line: the 1-based physical line of the file where the row starts.
    """

    npn: str
    plan_year: int
    individual_completion: dt.date | None
    individual_end: dt.date | None
    shop_completion: dt.date | None
    shop_end: dt.date | None
    npn_valid: NpnValidity
    line: int


_FLAGS: Final = {member.value: member for member in NpnValidity}


def read_rcl(
    source: Source, *, npns: Iterable[str | NPN] | None = None
) -> ListReading[RclRow]:
    """Read an RCL file, one row at a time.

    Every row is validated; a bad one becomes a :class:`RowProblem` and the
    rest of the file is still read. The file is opened at the first row
    asked for, so a missing column raises then.

    Args:
        source: a path, or a text file object (left open).
        npns: when given, only rows with one of these NPNs are handed out; the
            others are still validated, and counted as ``filtered_out``.

    Returns:
        An iterator of :class:`RclRow` whose ``read``, ``kept``, ``skipped``,
        ``filtered_out`` and ``problems`` are complete once it is exhausted.

    Raises:
        ListFormatError: when iterated, if the file is empty, lacks a column,
            or is not UTF-8 CSV.
    """
    return ListReading(source, RCL_COLUMNS, _rows, npns)


def _rows(
    reader: CsvRows, columns: Columns, wanted: frozenset[str] | None, tally: Tally
) -> Iterator[RclRow]:
    # This loop runs once per row of files of millions of rows: a row that
    # is plainly valid costs a few set lookups and no function call of ours.
    # The caches hold every cell text seen valid, raw, so a cell that misses
    # (first sight, padding, an error) takes the careful path in _check.
    width = columns.width
    pick = itemgetter(*columns.indexes)
    years = CellCache(parse_plan_year)
    dates = CellCache(parse_date, {"": None})
    flags = CellCache(enum_parser(_FLAGS, "NPN Valid flag"))
    zeros = ZERO_NPNS
    most = MAX_NPN_DIGITS
    keep_all = wanted is None
    want = wanted or frozenset()
    kept = skipped = filtered = 0
    try:
        for row in reader:
            if len(row) == width:
                npn, year, ic, ie, sc, se, flag = pick(row)
                if (
                    year in years
                    and ic in dates
                    and ie in dates
                    and sc in dates
                    and se in dates
                    and flag in flags
                    and npn.isdigit()
                    and npn.isascii()
                    and len(npn) <= most
                    and npn not in zeros
                ):
                    if keep_all or npn in want:
                        kept += 1
                        tally.kept = kept
                        tally.skipped = skipped
                        tally.filtered_out = filtered
                        yield RclRow(
                            npn=npn,
                            plan_year=years[year],
                            individual_completion=dates[ic],
                            individual_end=dates[ie],
                            shop_completion=dates[sc],
                            shop_end=dates[se],
                            npn_valid=flags[flag],
                            line=first_line(row, reader.line_num),
                        )
                    else:
                        filtered += 1
                    continue
            elif is_blank(row):
                continue
            line = first_line(row, reader.line_num)
            found = _check(row, line, columns, years, dates, flags)
            if isinstance(found, RclRow):
                if keep_all or found.npn in want:
                    kept += 1
                    tally.kept = kept
                    tally.skipped = skipped
                    tally.filtered_out = filtered
                    yield found
                else:
                    filtered += 1
            else:
                skipped += 1
                tally.problems.extend(found)
    finally:
        tally.kept = kept
        tally.skipped = skipped
        tally.filtered_out = filtered


def _check(
    row: list[str],
    line: int,
    columns: Columns,
    years: CellCache[int],
    dates: CellCache[dt.date | None],
    flags: CellCache[NpnValidity],
) -> RclRow | list[RowProblem]:
    """Return *row* as an :class:`RclRow`, or every problem it has."""
    if len(row) != columns.width:
        return [width_problem(row, line, columns.width)]
    raw = [row[i] for i in columns.indexes]
    check = RowCheck(line)
    names = RCL_COLUMNS
    npn = check.cell(names[0], raw[0], check_npn, "")
    year = check.cell(names[1], raw[1], years.value, 0)
    ic = check.cell(names[2], raw[2], dates.value, None)
    ie = check.cell(names[3], raw[3], dates.value, None)
    sc = check.cell(names[4], raw[4], dates.value, None)
    se = check.cell(names[5], raw[5], dates.value, None)
    flag = check.cell(names[6], raw[6], flags.value, NpnValidity.NOT_APPLICABLE)
    if check.problems:
        return check.problems
    return RclRow(
        npn=npn,
        plan_year=year,
        individual_completion=ic,
        individual_end=ie,
        shop_completion=sc,
        shop_end=se,
        npn_valid=flag,
        line=line,
    )
