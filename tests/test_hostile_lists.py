"""Hostile list files: bounded time and memory, and only regflow's errors."""

from __future__ import annotations

import io

import pytest

from regflow import ListFormatError
from regflow.lists import (
    MAX_KEPT_PROBLEMS,
    RCL_COLUMNS,
    ListReading,
    RclRow,
    read_rcl,
)

HEADER = ",".join(RCL_COLUMNS)
GOOD = "12345678,2024,10/02/2023,12/31/2024,,,Y"


def drain(source: io.StringIO) -> tuple[list[RclRow], ListReading[RclRow]]:
    """Read every row of *source*, checking the counts add up."""
    reading = read_rcl(source)
    rows = list(reading)
    assert reading.read == reading.kept + reading.skipped + reading.filtered_out
    assert reading.kept == len(rows)
    return rows, reading


def stream(text: str) -> io.StringIO:
    """*text* as a file object opened with newline='', as csv asks."""
    return io.StringIO(text, newline="")


# -- the header ----------------------------------------------------------------


def test_missing_columns_message_is_short_however_wide_the_header() -> None:
    """A header of 9,000 unknown columns names a dozen, cut, then how many more."""
    header = ",".join(f"c{n}" for n in range(1, 9_001))
    with pytest.raises(ListFormatError) as caught:
        list(read_rcl(stream(header + "\n")))
    message = str(caught.value)
    assert "(the header has 'c1', 'c2'," in message
    assert "and 8,988 more" in message
    assert len(message) < 1_000


def test_duplicate_column_message_is_short_however_wide_the_header() -> None:
    """A duplicated column's message lists the header the same short way."""
    header = HEADER + ",NPN," + ",".join("x" * 40 for _ in range(1_000))
    with pytest.raises(ListFormatError, match="appears more than once") as caught:
        list(read_rcl(stream(header + "\n")))
    assert "and 996 more" in str(caught.value)
    assert len(str(caught.value)) < 1_000


def test_long_header_names_are_cut_in_the_message() -> None:
    """A header name of thousands of characters is shown cut to a few dozen."""
    with pytest.raises(ListFormatError) as caught:
        list(read_rcl(stream("NPN," + "y" * 50_000 + "\n")))
    assert "'" + "y" * 40 + "...'" in str(caught.value)
    assert len(str(caught.value)) < 1_000


# -- many problems -------------------------------------------------------------


def test_problems_past_the_limit_are_counted_not_kept() -> None:
    """Only the first MAX_KEPT_PROBLEMS problems are kept; every one is counted."""
    bad = 3 * MAX_KEPT_PROBLEMS
    text = "\n".join(
        [HEADER, *(["x"] * bad), "1,2024,02/30/2024,,,,Q", GOOD, ""],
    )
    rows, reading = drain(stream(text))
    assert [row.line for row in rows] == [bad + 3]
    assert len(reading.problems) == MAX_KEPT_PROBLEMS
    assert reading.problems[-1].line == MAX_KEPT_PROBLEMS + 1
    assert reading.problems_truncated
    assert reading.problem_count == bad + 2
    assert dict(reading.problem_counts) == {
        None: bad,
        "Individual Registration Completion Date": 1,
        "NPN Valid (Current Plan Year Only)": 1,
    }
    assert (reading.read, reading.skipped) == (bad + 2, bad + 1)


def test_problems_under_the_limit_are_all_kept() -> None:
    """With few problems, the list is complete and says so."""
    _, reading = drain(stream("\n".join([HEADER, "x", GOOD, "1,24,,,,,Y", ""])))
    assert not reading.problems_truncated
    assert reading.problem_count == len(reading.problems) == 2
    assert dict(reading.problem_counts) == {None: 1, "Applicable Plan Year": 1}
