"""The Registration Completion List (RCL), ``TBL_RCL_<n>.csv``.

An NPN on the RCL for a plan year has finished Marketplace registration for
it (S20); regflow calls an agent listed with NPN Valid ``Y`` *certified*.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from typing import Any, Final, cast

import attrs

from .._npn import NPN
from .._records import NpnValidity
from ._cells import (
    Field,
    check_npn,
    enum_parser,
    parse_date,
    parse_plan_year,
    slot_setters,
)
from ._csv import Layout, ListReading, Source
from ._json import Page

__all__ = ["RCL_COLUMNS", "RCL_FIELD_NAMES", "NpnValidity", "RclRow", "read_rcl"]

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

RCL_FIELD_NAMES: Final = (
    "npn",
    "applicable_plan_year",
    "individual_registration_completion_date",
    "individual_marketplace_end_date",
    "shop_registration_completion_date",
    "shop_end_date",
    "npn_valid_current_plan_year_only",
)
"""The RCL's machine names, in the same order: the headers of the 2014-2015
file and of data.healthcare.gov's API CSV, and the keys of its JSON results."""


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
        npn_valid: the NIPR check, for the current plan year only: ``Y`` valid
            with an active health line of authority, ``N`` not, ``-`` a row
            of an earlier plan year. The same enum as :class:`regflow.NpnValidity`.
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
_new: Final = object.__new__


_SET: Final = slot_setters(RclRow)
_npn, _year, _ic, _ie, _sc, _se, _flag, _line = (
    _SET[field.name] for field in attrs.fields(RclRow)
)


def _build(npn: str, line: int, values: tuple[Any, ...]) -> RclRow:
    # Written out, with the slots' own setters: this runs once per row kept.
    plan_year, ic, ie, sc, se, npn_valid = values
    row = _new(RclRow)
    _npn(row, npn)
    _year(row, plan_year)
    _ic(row, ic)
    _ie(row, ie)
    _sc(row, sc)
    _se(row, se)
    _flag(row, npn_valid)
    _line(row, line)
    return row


_LAYOUT: Final = Layout(
    _build,
    (
        Field("npn", RCL_COLUMNS[0], check_npn, RCL_FIELD_NAMES[0]),
        Field("plan_year", RCL_COLUMNS[1], parse_plan_year, RCL_FIELD_NAMES[1]),
        Field("individual_completion", RCL_COLUMNS[2], parse_date, RCL_FIELD_NAMES[2]),
        Field("individual_end", RCL_COLUMNS[3], parse_date, RCL_FIELD_NAMES[3]),
        Field("shop_completion", RCL_COLUMNS[4], parse_date, RCL_FIELD_NAMES[4]),
        Field("shop_end", RCL_COLUMNS[5], parse_date, RCL_FIELD_NAMES[5]),
        Field(
            "npn_valid",
            RCL_COLUMNS[6],
            enum_parser(_FLAGS, "NPN Valid flag"),
            RCL_FIELD_NAMES[6],
        ),
    ),
)


def read_rcl(
    source: Source | Sequence[Page], *, npns: Iterable[str | NPN] | None = None
) -> ListReading[RclRow]:
    """Read an RCL file, one row at a time, in any layout CMS publishes it.

    A CSV file's header says its layout: the published headers
    (:data:`RCL_COLUMNS`) or the machine names (:data:`RCL_FIELD_NAMES`) of
    the 2014-2015 file and the API's CSV, in any case and spacing. A path
    ending ``.json``, or whose file starts with ``{``, and a list or tuple of
    pages (paths or text file objects), are read as the API's JSON result
    pages, ``{"results": [...]}``; their rows' and problems' ``line`` is the
    result's 1-based position over all the pages. All layouts give the same
    rows, and problems name the published column.

    Every row is validated; a bad one becomes a :class:`RowProblem` and the
    rest of the file is still read, in bounded time and memory whatever it
    holds (see ``docs/rcl.md``, "Limits"). The file is opened when the first
    row is asked for, so a missing column raises then.

    Args:
        source: a path, or a text file object (left open).
        npns: when given, only rows with one of these NPNs are handed out; the
            others are still validated, and counted as ``filtered_out``.

    Returns:
        An iterator of :class:`RclRow` whose ``read``, ``kept``, ``skipped``,
        ``filtered_out`` and ``problems`` are complete once it is exhausted.

    Raises:
        ListFormatError: when iterated, if the file is empty, lacks a column,
            has no header within :data:`MAX_HEADER_CHARS` characters, or is
            not UTF-8 text; or if a JSON page is not JSON, not an object with
            a ``results`` list, or has a result that is not an object with a
            string for each machine name. Rows of earlier pages have then
            been handed out already.
    """
    if isinstance(source, list | tuple):
        return ListReading("<pages>", _LAYOUT, npns, pages=source)
    return ListReading(cast(Source, source), _LAYOUT, npns)
