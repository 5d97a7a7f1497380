"""The Agent/Broker Suspension and Termination List, ``AB_Termination_List_<n>.csv``.

A CMS termination or suspension ends an agent's Marketplace agreements for
cause (45 CFR 155.220(g)-(h)); it does not change a state license, and a later
reconsideration or lifted suspension shows as a reinstatement.
"""

from __future__ import annotations

import datetime as dt
import enum
from collections.abc import Iterable, Mapping
from types import MappingProxyType
from typing import Any, Final

import attrs

from .._npn import NPN
from .._records import Marketplaces, TerminationReason
from ._cells import (
    CellError,
    Field,
    check_npn,
    enum_parser,
    parse_date,
    parse_plan_year,
    slot_setters,
)
from ._csv import Layout, ListReading, Source

__all__ = [
    "REASON_DESCRIPTIONS",
    "TERMINATION_COLUMNS",
    "Marketplaces",
    "TerminationAction",
    "TerminationRow",
    "TerminationStatus",
    "read_termination_list",
]

TERMINATION_COLUMNS: Final = (
    "NPN",
    "Effective Plan Year",
    "Marketplaces",
    "Registration Completion Date",
    "Individual Registration Date",
    "SHOP Registration Date",
    "Termination or Suspension Date",
    "Termination Reconsidered or Suspension Lifted",
    "Status",
)
"""The termination list's published headers, in the published order."""


class TerminationAction(enum.Enum):
    """The letter of a ``Status`` cell: what CMS did."""

    TERMINATED = "T"
    """Terminated, suspended or barred from the Marketplaces."""
    REINSTATED = "R"
    """Reinstated: the termination was reconsidered or the suspension lifted."""


REASON_DESCRIPTIONS: Final[Mapping[TerminationReason, str]] = MappingProxyType(
    {
        TerminationReason.RESIDENT_LICENSE: (
            "resident-state license expired, or missing a line of authority or an appointment"
        ),
        TerminationReason.NON_RESIDENT_LICENSE: (
            "non-resident-state license expired, or missing a line of authority or an "
            "appointment"
        ),
        TerminationReason.FRAUD_OR_ABUSE: "fraud or abusive conduct",
        TerminationReason.NON_COMPLIANCE: "non-compliance with Marketplace standards",
    }
)
"""Each :class:`regflow.TerminationReason` (the digit of a ``Status``) in plain English."""


@attrs.frozen(slots=True)
class TerminationStatus:
    """A decoded ``Status`` cell, such as ``T3``.

    Attributes:
        action: terminated or reinstated.
        reason: why; the same enum as :class:`regflow.TerminationReason`.
    """

    action: TerminationAction
    reason: TerminationReason

    @property
    def code(self) -> str:
        """The status as CMS writes it, e.g. ``T3``."""
        return f"{self.action.value}{self.reason.value}"

    @property
    def description(self) -> str:
        """The reason in plain English, e.g. ``fraud or abusive conduct``."""
        return REASON_DESCRIPTIONS[self.reason]


_STATUSES: Final = {
    f"{action.value}{reason.value}": TerminationStatus(action, reason)
    for action in TerminationAction
    for reason in TerminationReason
}


def _parse_status(text: str) -> TerminationStatus:
    try:
        return _STATUSES[text.upper()]
    except KeyError:
        raise CellError(
            "a status is T (terminated) or R (reinstated) followed by a reason "
            "from 1 to 4, e.g. T3"
        ) from None


@attrs.frozen(slots=True, kw_only=True)
class TerminationRow:
    """One valid row of the termination list.

    Attributes:
        npn: the agent's or broker's NPN, as listed.
        plan_year: the ``Effective Plan Year``.
        marketplaces: which Marketplaces the action covers.
        registration_completion: when registration was completed, or ``None``.
        individual_registration: when Individual Marketplace registration was
            completed, or ``None``.
        shop_registration: when SHOP registration was completed, or ``None``.
        terminated_on: the ``Termination or Suspension Date``, or ``None``.
        reinstated_on: the ``Termination Reconsidered or Suspension Lifted``
            date, or ``None``.
        status: the decoded ``Status`` cell; also as :attr:`action` and
            :attr:`reason`.
        line: the 1-based physical line of the file where the row starts.
    """

    npn: str
    plan_year: int
    marketplaces: Marketplaces
    registration_completion: dt.date | None
    individual_registration: dt.date | None
    shop_registration: dt.date | None
    terminated_on: dt.date | None
    reinstated_on: dt.date | None
    status: TerminationStatus
    line: int

    @property
    def action(self) -> TerminationAction:
        """Terminated or reinstated."""
        return self.status.action

    @property
    def reason(self) -> TerminationReason:
        """Why CMS acted."""
        return self.status.reason


_MARKETPLACES: Final = {member.value: member for member in Marketplaces}


_new: Final = object.__new__
_SET: Final = slot_setters(TerminationRow)
_npn, _year, _markets, _done, _individual, _shop, _ended, _back, _status, _line = (
    _SET[field.name] for field in attrs.fields(TerminationRow)
)


def _build(npn: str, line: int, values: tuple[Any, ...]) -> TerminationRow:
    # Written out, with the slots' own setters: this runs once per row kept.
    year, markets, completion, individual, shop, terminated, reinstated, status = values
    row = _new(TerminationRow)
    _npn(row, npn)
    _year(row, year)
    _markets(row, markets)
    _done(row, completion)
    _individual(row, individual)
    _shop(row, shop)
    _ended(row, terminated)
    _back(row, reinstated)
    _status(row, status)
    _line(row, line)
    return row


_LAYOUT: Final = Layout(
    _build,
    (
        Field("npn", TERMINATION_COLUMNS[0], check_npn),
        Field("plan_year", TERMINATION_COLUMNS[1], parse_plan_year),
        Field(
            "marketplaces",
            TERMINATION_COLUMNS[2],
            enum_parser(_MARKETPLACES, "Marketplaces value"),
        ),
        Field("registration_completion", TERMINATION_COLUMNS[3], parse_date),
        Field("individual_registration", TERMINATION_COLUMNS[4], parse_date),
        Field("shop_registration", TERMINATION_COLUMNS[5], parse_date),
        Field("terminated_on", TERMINATION_COLUMNS[6], parse_date),
        Field("reinstated_on", TERMINATION_COLUMNS[7], parse_date),
        Field("status", TERMINATION_COLUMNS[8], _parse_status),
    ),
)


def read_termination_list(
    source: Source, *, npns: Iterable[str | NPN] | None = None
) -> ListReading[TerminationRow]:
    """Read a termination list file, one row at a time.

    Every row is validated; a bad one becomes a :class:`RowProblem` and the
    rest of the file is still read, in bounded time and memory whatever it
    holds (see ``docs/rcl.md``, "Limits"). The file is opened when the first
    row is asked for, so a missing column raises then.

    Args:
        source: a path, or a text file object (left open).
        npns: when given, only rows with one of these NPNs are handed out; the
            others are still validated, and counted as ``filtered_out``.

    Returns:
        An iterator of :class:`TerminationRow` whose ``read``, ``kept``,
        ``skipped``, ``filtered_out`` and ``problems`` are complete once it is
        exhausted.

    Raises:
        ListFormatError: when iterated, if the file is empty, lacks a column,
            has no header within :data:`MAX_HEADER_CHARS` characters, or is
            not UTF-8 text.
    """
    return ListReading(source, _LAYOUT, npns)
