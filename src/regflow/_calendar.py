"""Business days: no Saturdays, Sundays or US federal holidays as observed.

The confirmation windows of S19-S21 are counted in these days.
"""

from __future__ import annotations

import datetime as dt
from functools import lru_cache
from typing import Final
from zoneinfo import ZoneInfo

import holidays

__all__ = [
    "CMS_TIME",
    "add_business_days",
    "business_days_between",
    "cms_date",
    "is_business_day",
]

CMS_TIME: Final = ZoneInfo("America/New_York")
"""The zone business days are counted in: CMS's, in Baltimore."""

_ONE_DAY = dt.timedelta(days=1)


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
    """
    return moment.astimezone(CMS_TIME).date()


def is_business_day(day: dt.date) -> bool:
    """Return whether *day* is a weekday that is not a US federal holiday."""
    return day.weekday() < 5 and day not in _federal_holidays(day.year)


@lru_cache(maxsize=8192)
def add_business_days(start: dt.date, days: int) -> dt.date:
    """Return the date *days* business days after *start*.

    *start* itself never counts: two business days after a Friday are the next
    Tuesday, or Wednesday when that Monday is a federal holiday. Cached: a
    reconciliation asks the same few (day, window) pairs for thousands of agents.
    """
    if days < 0:
        raise ValueError(f"'days' must be zero or more (got {days})")
    current = start
    remaining = days
    while remaining:
        current += _ONE_DAY
        if is_business_day(current):
            remaining -= 1
    return current


def business_days_between(start: dt.date, end: dt.date) -> int:
    """Return how many business days lie after *start*, up to and including *end*."""
    count = 0
    current = start
    while current < end:
        current += _ONE_DAY
        if is_business_day(current):
            count += 1
    return count
