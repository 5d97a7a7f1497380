"""Business days: no weekends, no US federal holidays as observed (S19-S21)."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

import regflow
from regflow import add_business_days, business_days_between, is_business_day

D = dt.date


@pytest.mark.parametrize("day", [D(2024, 1, 13), D(2024, 1, 14)])
def test_weekend_days_are_not_business_days(day: dt.date) -> None:
    """Saturday and Sunday are not business days."""
    assert not is_business_day(day)


def test_an_ordinary_weekday_is_a_business_day() -> None:
    """A Wednesday with no holiday is a business day."""
    assert is_business_day(D(2024, 1, 10))


def test_two_business_days_after_a_friday_skip_the_weekend() -> None:
    """Two business days after an ordinary Friday are the Tuesday."""
    assert add_business_days(D(2024, 1, 5), 2) == D(2024, 1, 9)


def test_a_monday_federal_holiday_pushes_the_window_a_day() -> None:
    """Agreements on the Friday before MLK Day 2024 confirm by Wednesday, not Tuesday."""
    assert not is_business_day(D(2024, 1, 15))
    assert add_business_days(D(2024, 1, 12), 2) == D(2024, 1, 17)


@pytest.mark.parametrize(
    ("observed", "actual", "holiday"),
    [
        (D(2021, 6, 18), D(2021, 6, 19), "Juneteenth on a Saturday"),
        (D(2021, 12, 24), D(2021, 12, 25), "Christmas on a Saturday"),
        (D(2021, 12, 31), D(2022, 1, 1), "New Year's Day on a Saturday"),
    ],
)
def test_a_saturday_holiday_is_observed_the_friday_before(
    observed: dt.date, actual: dt.date, holiday: str
) -> None:
    """A holiday on a Saturday closes federal offices on the Friday before."""
    assert observed.weekday() == 4 and actual.weekday() == 5, holiday
    assert not is_business_day(observed), holiday


def test_a_sunday_holiday_is_observed_the_monday_after() -> None:
    """Independence Day 2021 fell on a Sunday and was observed Monday July 5."""
    assert D(2021, 7, 4).weekday() == 6
    assert not is_business_day(D(2021, 7, 5))
    assert add_business_days(D(2021, 7, 2), 1) == D(2021, 7, 6)


def test_an_observed_new_year_in_december_counts_across_the_year_end() -> None:
    """From Dec 23, 2021 to Jan 3, 2022 there are five business days."""
    # Dec 24 and Dec 31 are observed holidays, so only Dec 27-30 and Jan 3 count.
    assert business_days_between(D(2021, 12, 23), D(2022, 1, 3)) == 5
    assert add_business_days(D(2021, 12, 30), 1) == D(2022, 1, 3)


def test_zero_business_days_is_the_start_itself() -> None:
    """Adding no business days leaves the date as it is, even on a holiday."""
    assert add_business_days(D(2024, 1, 15), 0) == D(2024, 1, 15)


def test_negative_business_days_are_refused() -> None:
    """A negative number of business days is a mistake, not a date in the past."""
    with pytest.raises(
        regflow.InvalidValue, match="'days' must be an int, zero or more"
    ):
        add_business_days(D(2024, 1, 12), -1)


def test_between_a_date_and_itself_is_zero() -> None:
    """No business days lie between a date and itself."""
    assert business_days_between(D(2024, 1, 10), D(2024, 1, 10)) == 0


def test_between_counts_the_end_but_not_the_start() -> None:
    """Friday to Monday is one business day: the Monday."""
    assert business_days_between(D(2024, 1, 5), D(2024, 1, 8)) == 1


days = st.dates(D(2015, 1, 1), D(2030, 12, 31))


@given(start=days, n=st.integers(0, 40))
def test_between_undoes_add(start: dt.date, n: int) -> None:
    """n business days after start lie exactly n business days after it."""
    end = add_business_days(start, n)
    assert business_days_between(start, end) == n
    assert n == 0 or is_business_day(end)


@given(start=days, n=st.integers(1, 40))
def test_adding_business_days_moves_at_least_as_many_calendar_days(
    start: dt.date, n: int
) -> None:
    """Business days are never fewer calendar days than their count."""
    assert (add_business_days(start, n) - start).days >= n
