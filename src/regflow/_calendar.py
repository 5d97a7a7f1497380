"""Business days: no Saturdays, Sundays or US federal holidays as observed.

The confirmation windows of S19-S21 are counted in these days.
"""

from __future__ import annotations

import datetime as dt
from functools import lru_cache
from typing import Final
from zoneinfo import ZoneInfo

import holidays

from ._errors import InvalidValue

__all__ = [
    "CALENDAR_RANGE",
    "CMS_TIME",
    "add_business_days",
    "business_days_between",
    "check_day",
    "cms_date",
    "is_business_day",
]

CMS_TIME: Final = ZoneInfo("America/New_York")
"""The zone business days are counted in: CMS's, in Baltimore."""

CALENDAR_RANGE: Final = (dt.date(1970, 1, 1), dt.date(2199, 12, 31))
"""The days regflow counts business days on. Plan years run from 2014 to
2100; a day far outside that is a mistake, refused with a clear error rather
than left to overflow Python's date arithmetic."""

_ONE_DAY = dt.timedelta(days=1)


def check_day(day: object, name: str = "day") -> dt.date:
    """Return *day* if it is a date in :data:`CALENDAR_RANGE`.

    Raises:
        InvalidValue: it is not a date (a datetime is not one), or outside the range.
    """
    if not isinstance(day, dt.date) or isinstance(day, dt.datetime):
        raise InvalidValue(
            f"{name!r} must be a date, e.g. date(2023, 10, 20) (got {day!r})"
        )
    first, last = CALENDAR_RANGE
    if not first <= day <= last:
        raise InvalidValue(
            f"{name!r} is {day.isoformat()}, outside the days regflow counts "
            f"business days on ({first.isoformat()} to {last.isoformat()})"
        )
    return day


@lru_cache(maxsize=64)
def _federal_holidays(year: int) -> frozenset[dt.date]:
    # observed=True moves a Saturday holiday to the Friday before and a Sunday
    # one to the Monday after, the days federal offices actually close. An
    # observed New Year's Day can fall on Dec 31 of the year before; the
    # package files it under the year whose calendar it sits in, as we look up.
    found = holidays.country_holidays("US", years=[year], observed=True)
    return frozenset(day for day in found if day.year == year)


def cms_date(moment: dt.datetime) -> dt.date:
    """The calendar day *moment* falls on in CMS's time zone.

    One instant written with different offsets must give one answer, so
    deadlines never take ``.date()`` of a time in whatever offset it came with.

    Raises:
        InvalidValue: *moment* is too near the ends of Python's calendar to
            convert (e.g. year 1 or 9999).
    """
    try:
        return moment.astimezone(CMS_TIME).date()
    except OverflowError:
        raise InvalidValue(
            f"{moment.isoformat()} is too near the ends of the calendar to convert "
            "to CMS time"
        ) from None


def is_business_day(day: dt.date) -> bool:
    """Return whether *day* is a weekday that is not a US federal holiday.

    Raises:
        InvalidValue: *day* is outside :data:`CALENDAR_RANGE`.
    """
    check_day(day)
    return _is_business_day(day)


def _is_business_day(day: dt.date) -> bool:
    return day.weekday() < 5 and day not in _federal_holidays(day.year)


@lru_cache(maxsize=8192)
def add_business_days(start: dt.date, days: int) -> dt.date:
    """Return the date *days* business days after *start*.

    *start* itself never counts: two business days after a Friday are the next
    Tuesday, or Wednesday when that Monday is a federal holiday. Cached: a
    reconciliation asks the same few (day, window) pairs for thousands of agents.
    """
    if isinstance(days, bool) or not isinstance(days, int) or days < 0:
        raise InvalidValue(f"'days' must be an int, zero or more (got {days!r})")
    check_day(start, "start")
    last = CALENDAR_RANGE[1]
    current = start
    remaining = days
    while remaining:
        if current >= last:
            check_day(current + _ONE_DAY, "the deadline")  # raises
        current += _ONE_DAY
        if _is_business_day(current):
            remaining -= 1
    return current


def business_days_between(start: dt.date, end: dt.date) -> int:
    """Return how many business days lie after *start*, up to and including *end*.

    Raises:
        InvalidValue: either day is outside :data:`CALENDAR_RANGE`.
    """
    check_day(start, "start")
    check_day(end, "end")
    count = 0
    current = start
    while current < end:
        current += _ONE_DAY
        if _is_business_day(current):
            count += 1
    return count
