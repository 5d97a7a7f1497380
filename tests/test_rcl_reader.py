"""The Registration Completion List reader: every row checked, nothing dropped unsaid."""

from __future__ import annotations

import calendar
import csv
import datetime as dt
import io
from collections.abc import Iterable, Sequence
from pathlib import Path

import attrs
import pytest
from hypothesis import given
from hypothesis import strategies as st

import regflow
from regflow import NPN, ListFormatError
from regflow.lists import RCL_COLUMNS, NpnValidity, RclRow, RowProblem, read_rcl
from regflow.lists._cells import slot_setters

HEADER = ",".join(RCL_COLUMNS)
GOOD = "12345678,2024,10/02/2023,12/31/2024,,,Y"
OTHER = "7654321,2023,11/15/2022,12/31/2023,11/16/2022,12/31/2023,-"


def text_of(*lines: str, header: str = HEADER, end: str = "\n") -> str:
    """Join a header and rows into the text of a list file."""
    return "".join(line + end for line in (header, *lines))


def read_all(
    text: str, npns: Iterable[str | NPN] | None = None
) -> tuple[list[RclRow], object]:
    """Read *text* as an RCL from memory; return the rows and the reading."""
    reading = read_rcl(io.StringIO(text, newline=""), npns=npns)
    return list(reading), reading


def only_problem(text: str) -> RowProblem:
    """Read *text*, which must have exactly one problem, and return it."""
    reading = read_rcl(io.StringIO(text, newline=""))
    list(reading)
    assert len(reading.problems) == 1, reading.problems
    return reading.problems[0]


def test_reads_every_column_of_a_published_row() -> None:
    """A row in the published format becomes an RclRow with typed values."""
    rows, _ = read_all(text_of(GOOD, OTHER))
    assert rows == [
        RclRow(
            npn="12345678",
            plan_year=2024,
            individual_completion=dt.date(2023, 10, 2),
            individual_end=dt.date(2024, 12, 31),
            shop_completion=None,
            shop_end=None,
            npn_valid=NpnValidity.VALID,
            line=2,
        ),
        RclRow(
            npn="7654321",
            plan_year=2023,
            individual_completion=dt.date(2022, 11, 15),
            individual_end=dt.date(2023, 12, 31),
            shop_completion=dt.date(2022, 11, 16),
            shop_end=dt.date(2023, 12, 31),
            npn_valid=NpnValidity.NOT_APPLICABLE,
            line=3,
        ),
    ]


def test_counts_a_clean_file_as_all_kept() -> None:
    """Every row of a clean file is read and kept; none skipped or filtered."""
    _, reading = read_all(text_of(GOOD, OTHER, GOOD.replace("12345678", "1")))
    assert (reading.read, reading.kept, reading.skipped, reading.filtered_out) == (
        3,
        3,
        0,
        0,
    )
    assert reading.problems == ()


@pytest.mark.parametrize("flag", list(NpnValidity))
def test_reads_each_npn_valid_flag(flag: NpnValidity) -> None:
    """Y, N and - decode to VALID, INVALID and NOT_APPLICABLE."""
    rows, _ = read_all(text_of(GOOD[:-1] + flag.value))
    assert rows[0].npn_valid is flag


@pytest.mark.parametrize("shop", ["Shop", "SHOP", "shop"])
def test_accepts_any_case_of_shop_in_headers(shop: str) -> None:
    """Copies spell the SHOP columns Shop or SHOP; both are the same column."""
    header = HEADER.replace("Shop", shop)
    rows, _ = read_all(text_of(OTHER, header=header))
    assert rows[0].shop_completion == dt.date(2022, 11, 16)


def test_accepts_columns_in_another_order_and_extra_columns() -> None:
    """Columns are found by header; an unknown extra column is ignored."""
    columns = ["Note", *reversed(RCL_COLUMNS)]
    cells = ["x", *reversed(GOOD.split(","))]
    rows, reading = read_all(
        text_of(",".join(cells), ",".join(cells), header=",".join(columns))
    )
    assert [row.npn for row in rows] == ["12345678", "12345678"]
    assert rows[0].individual_completion == dt.date(2023, 10, 2)
    assert reading.skipped == 0


def test_strips_a_byte_order_mark_from_a_path(tmp_path: Path) -> None:
    """A file saved with a UTF-8 BOM reads as if it had none."""
    path = tmp_path / "TBL_RCL_1.csv"
    path.write_text(text_of(GOOD), encoding="utf-8-sig")
    assert [row.npn for row in read_rcl(path)] == ["12345678"]


def test_strips_a_byte_order_mark_from_a_file_object(tmp_path: Path) -> None:
    """A BOM kept by a file object opened as plain utf-8 is dropped too."""
    path = tmp_path / "TBL_RCL_1.csv"
    path.write_text(text_of(GOOD), encoding="utf-8-sig")
    with path.open(encoding="utf-8", newline="") as source:
        assert [row.npn for row in read_rcl(source)] == ["12345678"]


def test_reads_crlf_line_ends() -> None:
    """CRLF line ends read like LF ones, with the same line numbers."""
    rows, reading = read_all(text_of(GOOD, "bad", OTHER, end="\r\n"))
    assert [row.line for row in rows] == [2, 4]
    assert reading.problems[0].line == 3


def test_trims_spaces_around_headers_and_cells() -> None:
    """Spaces around a header or a cell are not part of it."""
    header = ",".join(f"  {name} " for name in RCL_COLUMNS)
    row = " 12345678 , 2024 ,10/02/2023 , 12/31/2024,  ,,  y "
    rows, reading = read_all(text_of(row, row, header=header))
    assert reading.skipped == 0
    assert rows[0] == attrs.evolve(rows[1], line=2)
    assert rows[0].npn == "12345678"
    assert rows[0].plan_year == 2024
    assert rows[0].shop_completion is None
    assert rows[0].npn_valid is NpnValidity.VALID


def test_reads_blank_dates_as_none() -> None:
    """A blank date cell means no such registration."""
    rows, _ = read_all(text_of("12345678,2025,,,,,N"))
    row = rows[0]
    assert (row.individual_completion, row.individual_end) == (None, None)
    assert (row.shop_completion, row.shop_end) == (None, None)


def test_reads_one_digit_months_and_days() -> None:
    """A date a spreadsheet saved as M/D/YYYY is read as well."""
    rows, _ = read_all(text_of("12345678,2024,1/5/2024,12/31/2024,,,Y"))
    assert rows[0].individual_completion == dt.date(2024, 1, 5)


def test_reads_a_path_and_closes_it(tmp_path: Path) -> None:
    """A path is opened at the first row and closed when reading ends."""
    path = tmp_path / "TBL_RCL_7.csv"
    path.write_text(text_of(GOOD, OTHER), encoding="utf-8")
    reading = read_rcl(str(path))
    assert reading.source == str(path)
    assert [row.npn for row in reading] == ["12345678", "7654321"]
    assert reading._file is None


def test_reads_a_file_object_and_leaves_it_open(tmp_path: Path) -> None:
    """A file object the caller opened is read and left open for the caller."""
    path = tmp_path / "TBL_RCL_7.csv"
    path.write_text(text_of(GOOD), encoding="utf-8")
    with path.open(encoding="utf-8", newline="") as source:
        reading = read_rcl(source)
        assert [row.npn for row in reading] == ["12345678"]
        assert not source.closed
        assert reading.source == str(path)


def test_opens_nothing_until_the_first_row_is_asked_for(tmp_path: Path) -> None:
    """read_rcl is lazy: a missing file only fails when iterated."""
    reading = read_rcl(tmp_path / "missing.csv")
    with pytest.raises(FileNotFoundError):
        next(reading)


def test_is_consumed_once_like_a_file() -> None:
    """Iterating a reading a second time yields nothing more."""
    reading = read_rcl(io.StringIO(text_of(GOOD)))
    assert len(list(reading)) == 1
    assert list(reading) == []
    assert reading.read == 1


def test_close_stops_reading_and_closes_the_file(tmp_path: Path) -> None:
    """Leaving a with block early closes the file; counts cover what was read."""
    path = tmp_path / "TBL_RCL_2.csv"
    path.write_text(text_of(GOOD, OTHER, GOOD), encoding="utf-8")
    with read_rcl(path) as reading:
        first = next(reading)
    assert first.line == 2
    assert reading._file is None
    assert reading.read == reading.kept == 1


def test_missing_column_raises_naming_it_and_the_file(tmp_path: Path) -> None:
    """A header without a required column is refused, naming column and file."""
    path = tmp_path / "TBL_RCL_3.csv"
    header = ",".join(c for c in RCL_COLUMNS if c != "Shop End Date")
    path.write_text(text_of("1,2024,,,,Y", header=header), encoding="utf-8")
    with pytest.raises(ListFormatError) as caught:
        list(read_rcl(path))
    assert "'Shop End Date'" in str(caught.value)
    assert str(path) in str(caught.value)
    assert caught.value.source == str(path)
    assert isinstance(caught.value, ValueError)


def test_missing_columns_are_all_named() -> None:
    """Every missing column is named at once, not one per attempt."""
    with pytest.raises(ListFormatError, match="'Shop End Date', 'NPN Valid"):
        list(read_rcl(io.StringIO(text_of(header=",".join(RCL_COLUMNS[:5])))))


@pytest.mark.parametrize("text", ["", "\n\n", "\r\n  \r\n"])
def test_empty_file_raises(text: str) -> None:
    """A file without a header row is refused."""
    with pytest.raises(ListFormatError, match="the file is empty"):
        list(read_rcl(io.StringIO(text)))


def test_header_only_file_reads_no_rows() -> None:
    """A file with a header and no rows is valid, and empty."""
    rows, reading = read_all(text_of())
    assert rows == [] and reading.read == 0


def test_duplicated_column_raises() -> None:
    """A header naming a required column twice is ambiguous, so refused."""
    with pytest.raises(ListFormatError, match="'NPN' appears more than once"):
        list(read_rcl(io.StringIO(text_of(header=HEADER + ",npn"))))


def test_bytes_file_object_raises_saying_open_it_as_text() -> None:
    """A file opened in binary mode gets a message that says how to open it."""
    with pytest.raises(ListFormatError, match="text mode"):
        list(read_rcl(io.BytesIO(text_of(GOOD).encode())))  # type: ignore[arg-type]


def test_text_that_is_not_utf8_raises(tmp_path: Path) -> None:
    """A file in another encoding is refused, saying to save it as UTF-8."""
    path = tmp_path / "TBL_RCL_4.csv"
    path.write_bytes(
        text_of(GOOD, "12345679,2024,10/02/2023,12/31/2024,,,\xd1").encode("cp1252")
    )
    with pytest.raises(ListFormatError, match="not UTF-8"):
        list(read_rcl(path))


BAD_CELLS = [
    pytest.param(
        "12345678,2024,2023-10-02,12/31/2024,,,Y",
        "Individual Registration Completion Date",
        "2023-10-02",
        "MM/DD/YYYY",
        id="iso-date",
    ),
    pytest.param(
        "12345678,2024,02/30/2024,12/31/2024,,,Y",
        "Individual Registration Completion Date",
        "02/30/2024",
        "no day 30 in February 2024",
        id="impossible-date",
    ),
    pytest.param(
        "12345678,2024,10/02/2023,13/01/2024,,,Y",
        "Individual Marketplace End Date",
        "13/01/2024",
        "no month 13",
        id="month-13",
    ),
    pytest.param(
        "12345678,2024,10/02/2023,12/31/2024,02/29/2023,,Y",
        "Shop Registration Completion Date",
        "02/29/2023",
        "no day 29 in February 2023",
        id="not-a-leap-year",
    ),
    pytest.param(
        "1234567A,2024,10/02/2023,12/31/2024,,,Y",
        "NPN",
        "1234567A",
        "contains 'A'",
        id="letter-in-npn",
    ),
    pytest.param(
        "12345678901,2024,10/02/2023,12/31/2024,,,Y",
        "NPN",
        "12345678901",
        "at most 10 digits",
        id="npn-too-long",
    ),
    pytest.param(
        "00000000,2024,10/02/2023,12/31/2024,,,Y",
        "NPN",
        "00000000",
        "all zeros",
        id="npn-all-zeros",
    ),
    pytest.param(",2024,10/02/2023,12/31/2024,,,Y", "NPN", "", "empty", id="npn-empty"),
    pytest.param(
        "1234 5678,2024,10/02/2023,12/31/2024,,,Y",
        "NPN",
        "1234 5678",
        "no spaces inside",
        id="npn-inner-space",
    ),
    pytest.param(
        "١٢٣٤,2024,10/02/2023,12/31/2024,,,Y",
        "NPN",
        "١٢٣٤",
        "digits 0-9",
        id="npn-arabic-indic-digits",
    ),
    pytest.param(
        "12345678,2024,10/02/2023,12/31/2024,,,X",
        "NPN Valid (Current Plan Year Only)",
        "X",
        "expected one of Y, N, -",
        id="unknown-flag",
    ),
    pytest.param(
        "12345678,2024,10/02/2023,12/31/2024,,,",
        "NPN Valid (Current Plan Year Only)",
        "",
        "expected one of Y, N, -",
        id="blank-flag",
    ),
    pytest.param(
        "12345678,24,10/02/2023,12/31/2024,,,Y",
        "Applicable Plan Year",
        "24",
        "four digits",
        id="two-digit-year",
    ),
    pytest.param(
        "12345678,2013,10/02/2013,12/31/2013,,,-",
        "Applicable Plan Year",
        "2013",
        "first plan year was 2014",
        id="year-before-marketplace",
    ),
]


@pytest.mark.parametrize(("row", "column", "value", "reason"), BAD_CELLS)
def test_bad_cell_is_reported_with_line_column_value_and_reason(
    row: str, column: str, value: str, reason: str
) -> None:
    """A bad cell skips its row with a problem naming line, column, value, reason."""
    rows, reading = read_all(text_of(GOOD, row, OTHER))
    assert [r.npn for r in rows] == ["12345678", "7654321"]
    (problem,) = reading.problems
    assert (problem.line, problem.column, problem.value) == (3, column, value)
    assert reason in problem.reason
    assert (reading.read, reading.kept, reading.skipped) == (3, 2, 1)


@pytest.mark.parametrize(
    "row", [p.values[0] for p in BAD_CELLS if p.values[1] == "NPN"], ids=str
)
def test_bad_npn_is_caught_when_the_rest_of_its_line_was_seen_valid(row: str) -> None:
    """A bad NPN is reported even when the rest of its line repeats a valid row's."""
    tail = row.partition(",")[2]
    _, reading = read_all(text_of("99999999," + tail, "99999998," + tail, row))
    assert [(p.line, p.column) for p in reading.problems] == [(4, "NPN")]
    assert (reading.kept, reading.skipped) == (2, 1)


@pytest.mark.parametrize(
    ("row", "cells"),
    [
        ("12345678,2024,10/02/2023,12/31/2024,,Y", 6),
        (GOOD + ",extra", 8),
        ("12345678", 1),
    ],
)
def test_wrong_cell_count_is_reported_and_later_rows_read(row: str, cells: int) -> None:
    """A row with too few or too many cells is skipped, saying how many it has."""
    rows, reading = read_all(text_of(row, OTHER))
    assert [r.npn for r in rows] == ["7654321"]
    (problem,) = reading.problems
    assert problem.line == 2 and problem.column is None
    assert problem.value == row
    assert problem.reason == f"the header has 7 cells but this row has {cells}"


def test_every_bad_cell_of_a_row_is_reported() -> None:
    """A row with three bad cells gives three problems and one skipped row."""
    _, reading = read_all(text_of("12a,2024,02/30/2024,12/31/2024,,,Q"))
    assert [p.column for p in reading.problems] == [
        "NPN",
        "Individual Registration Completion Date",
        "NPN Valid (Current Plan Year Only)",
    ]
    assert {p.line for p in reading.problems} == {2}
    assert (reading.read, reading.skipped) == (1, 1)


def test_problem_reads_as_a_sentence() -> None:
    """str() of a problem gives line, column, reason and the value as written."""
    problem = only_problem(text_of("12345678,2024,02/30/2024,12/31/2024,,,Y"))
    assert str(problem) == (
        "line 2, column 'Individual Registration Completion Date': "
        "there is no day 30 in February 2024, which has 29 (got '02/30/2024')"
    )


def test_long_values_are_cut_in_problems() -> None:
    """A runaway cell is shown cut, so a report stays readable."""
    problem = only_problem(text_of("9" * 500 + ",2024,,,,,Y"))
    assert problem.value == "9" * 200 + "..."


def test_blank_lines_are_not_rows_but_count_as_lines() -> None:
    """Blank lines hold no row, so no count; later line numbers stay physical."""
    rows, reading = read_all(text_of(GOOD, "", "   ", OTHER, "bad"))
    assert [row.line for row in rows] == [2, 5]
    assert reading.problems[0].line == 6
    assert reading.read == 3


def test_line_numbers_count_line_breaks_inside_quoted_cells() -> None:
    """A quoted cell with line breaks moves later rows down by as many lines."""
    quoted = '"12345678\n",2024,10/02/2023,12/31/2024,,,"Y\r\n"'
    rows, reading = read_all(text_of(quoted, OTHER, "x"))
    assert [(row.npn, row.line) for row in rows] == [("12345678", 2), ("7654321", 5)]
    assert reading.problems[0].line == 6


def test_broken_quoting_is_a_problem_not_an_error() -> None:
    """A row csv cannot parse is skipped with a problem; reading goes on."""
    # A field past csv's size limit is what csv refuses; the limit is
    # lowered so the row stays within the reader's own row limit.
    limit = csv.field_size_limit(10)
    try:
        rows, reading = read_all(text_of('"' + "x" * 20 + '",2024,,,,,Y', GOOD))
    finally:
        csv.field_size_limit(limit)
    assert [row.npn for row in rows] == ["12345678"]
    (problem,) = reading.problems
    assert problem.line == 2 and "not readable as CSV" in problem.reason


def test_counts_are_honest_part_way_through() -> None:
    """While reading, read equals kept plus skipped plus filtered_out."""
    reading = read_rcl(io.StringIO(text_of(GOOD, "bad", OTHER, "bad", GOOD)))
    seen = []
    for _row in reading:
        assert reading.read == reading.kept + reading.skipped + reading.filtered_out
        seen.append(reading.kept)
    assert seen == [1, 2, 3]
    assert (reading.read, reading.skipped) == (5, 2)


def test_filter_yields_only_the_npns_asked_for() -> None:
    """With npns, only rows with one of them are handed out; others are counted."""
    text = text_of(GOOD, OTHER, GOOD.replace("12345678", "555"), OTHER)
    rows, reading = read_all(text, npns=frozenset({"7654321"}))
    assert [(row.npn, row.line) for row in rows] == [("7654321", 3), ("7654321", 5)]
    assert (reading.read, reading.kept, reading.skipped, reading.filtered_out) == (
        4,
        2,
        0,
        2,
    )


def test_filter_still_reports_problems_of_rows_not_asked_for() -> None:
    """Rows outside the filter are still validated, and their problems reported."""
    text = text_of(GOOD, "1,2024,02/30/2024,,,,Y", OTHER, "00,2024,,,,,-")
    rows, reading = read_all(text, npns=["7654321"])
    assert [row.npn for row in rows] == ["7654321"]
    assert [p.line for p in reading.problems] == [3, 5]
    assert (reading.read, reading.kept, reading.skipped, reading.filtered_out) == (
        4,
        1,
        2,
        1,
    )


def test_filter_accepts_npn_objects_and_ignores_entries_that_are_no_npn() -> None:
    """The filter takes NPN objects too; an entry like '00' or 'x' matches nothing."""
    text = text_of(GOOD, OTHER, "00,2024,,,,,-")
    rows, reading = read_all(text, npns=[NPN.parse("12345678"), " 7654321 ", "00", "x"])
    assert [row.npn for row in rows] == ["12345678", "7654321"]
    assert [p.column for p in reading.problems] == ["NPN"]


def test_empty_filter_keeps_nothing_but_validates_everything() -> None:
    """An empty filter hands out no row, yet counts and checks every one."""
    rows, reading = read_all(text_of(GOOD, "bad", OTHER), npns=())
    assert rows == []
    assert (reading.read, reading.skipped, reading.filtered_out) == (3, 1, 2)


def test_repeated_rows_read_the_same_as_the_first() -> None:
    """Rows sharing everything but the NPN give the same values each time."""
    lines = [f"{n},2024,10/02/2023,12/31/2024,,,Y" for n in range(1, 50)]
    rows, _ = read_all(text_of(*lines))
    assert {(r.plan_year, r.individual_completion, r.npn_valid) for r in rows} == {
        (2024, dt.date(2023, 10, 2), NpnValidity.VALID)
    }
    assert [r.line for r in rows] == list(range(2, 51))


def test_rows_the_reader_builds_equal_rows_built_by_init() -> None:
    """The reader's row maker, which sets slots directly, gives what RclRow() gives."""
    rows, _ = read_all(text_of(GOOD, OTHER, GOOD), npns=None)
    filtered, _ = read_all(text_of(GOOD, OTHER), npns=["7654321"])
    for row in [*rows, *filtered]:
        assert row == RclRow(**attrs.asdict(row, recurse=False))
        assert repr(row) == repr(RclRow(**attrs.asdict(row, recurse=False)))


def test_slot_setters_refuse_a_row_class_whose_init_does_more() -> None:
    """A row class with a validator must be built by its __init__, not its slots."""

    @attrs.frozen(slots=True)
    class Checked:
        value: int = attrs.field(validator=attrs.validators.gt(0))

    with pytest.raises(TypeError, match="does more than set its fields"):
        slot_setters(Checked)


def test_row_is_frozen() -> None:
    """An RclRow cannot be changed after it is built."""
    rows, _ = read_all(text_of(GOOD))
    with pytest.raises(AttributeError):
        rows[0].npn = "1"  # type: ignore[misc]


def test_public_classes_show_the_public_module() -> None:
    """Reprs, docs and pickles show regflow.lists, not the private module."""
    assert RclRow.__module__ == RowProblem.__module__ == "regflow.lists"


def test_npn_validity_is_regflows_own_enum() -> None:
    """The reader decodes into the NpnValidity that regflow's events take."""
    assert NpnValidity is regflow.NpnValidity


# Property: rows written by any CSV writer read back as they were.

npns = st.integers(1, 9_999_999_999).map(str)
years = st.integers(2014, 2030)
days = st.dates(dt.date(2013, 1, 1), dt.date(2031, 12, 31))
maybe_days = st.none() | days
flags = st.sampled_from(NpnValidity)


def written_date(day: dt.date | None, short: bool) -> str:
    """Write *day* as the lists do, or as a spreadsheet might (M/D/YYYY)."""
    if day is None:
        return ""
    if short:
        return f"{day.month}/{day.day}/{day.year}"
    return day.strftime("%m/%d/%Y")


@st.composite
def rcl_rows(
    draw: st.DrawFn,
) -> tuple[str, int, tuple[dt.date | None, ...], NpnValidity]:
    """An RCL row's values: NPN, plan year, four dates, flag."""
    return (
        draw(npns),
        draw(years),
        tuple(draw(maybe_days) for _ in range(4)),
        draw(flags),
    )


def write_rcl(
    rows: Sequence[tuple[str, int, tuple[dt.date | None, ...], NpnValidity]],
    *,
    quoting: int,
    end: str,
    short: bool,
    pad: str,
) -> str:
    """Write *rows* as an RCL file with the given CSV conventions."""
    out = io.StringIO(newline="")
    writer = csv.writer(out, quoting=quoting, lineterminator=end)
    writer.writerow(RCL_COLUMNS)
    for npn, year, dates, flag in rows:
        cells = [npn, str(year), *(written_date(d, short) for d in dates), flag.value]
        writer.writerow([pad + cell + pad for cell in cells])
    return out.getvalue()


@given(
    rows=st.lists(rcl_rows(), max_size=30),
    quoting=st.sampled_from([csv.QUOTE_MINIMAL, csv.QUOTE_ALL]),
    end=st.sampled_from(["\n", "\r\n"]),
    short=st.booleans(),
    pad=st.sampled_from(["", " ", "  "]),
)
def test_written_rows_read_back_equal(
    rows: list[tuple[str, int, tuple[dt.date | None, ...], NpnValidity]],
    quoting: int,
    end: str,
    short: bool,
    pad: str,
) -> None:
    """Any valid rows, however written, read back as the same values, in order."""
    text = write_rcl(rows, quoting=quoting, end=end, short=short, pad=pad)
    read, reading = read_all(text)
    assert [(r.npn, r.plan_year, r.npn_valid) for r in read] == [
        (npn, year, flag) for npn, year, _, flag in rows
    ]
    assert [
        (r.individual_completion, r.individual_end, r.shop_completion, r.shop_end)
        for r in read
    ] == [dates for _, _, dates, _ in rows]
    assert [r.line for r in read] == list(range(2, len(rows) + 2))
    assert reading.problems == ()


# Property: any cells at all; the reader never fails, and says what it skipped.

cell_texts = st.text(st.characters(exclude_categories=("Cs",)), max_size=12)
npn_cells = (
    npns | st.sampled_from(["0", "00", " 12 ", "12 34", "1" * 11, "١٢"]) | cell_texts
)
year_cells = (
    years.map(str)
    | st.sampled_from(["2013", "24", " 2024", "\uff12\uff10\uff12\uff14"])
    | cell_texts
)
date_cells = (
    st.builds(written_date, maybe_days, st.booleans())
    | st.sampled_from(
        [
            "02/30/2024",
            "13/01/2024",
            "00/10/2024",
            "1/1/0000",
            "2024-01-02",
            " 01/02/2024 ",
        ]
    )
    | cell_texts
)
flag_cells = st.sampled_from(["Y", "N", "-", "y", " n ", "X", "", "YES"]) | cell_texts


def is_valid(cells: Sequence[str]) -> bool:
    """An independent statement of when a row's cells are all valid."""
    npn, year, *dates, flag = (c.strip() for c in cells)
    if NPN.problem(npn) is not None:
        return False
    if not (len(year) == 4 and year.isascii() and year.isdigit() and int(year) >= 2014):
        return False
    for date in dates:
        if not date:
            continue
        parts = date.split("/")
        if len(parts) != 3 or not all(p.isascii() and p.isdigit() for p in parts):
            return False
        month, day, year_ = parts
        if not (1 <= len(month) <= 2 and 1 <= len(day) <= 2 and len(year_) == 4):
            return False
        if int(year_) < 1 or not 1 <= int(month) <= 12:
            return False
        if not 1 <= int(day) <= calendar.monthrange(int(year_), int(month))[1]:
            return False
    return flag.upper() in {"Y", "N", "-"}


@given(
    rows=st.lists(
        st.tuples(
            npn_cells,
            year_cells,
            date_cells,
            date_cells,
            date_cells,
            date_cells,
            flag_cells,
        ),
        max_size=20,
    ),
    wanted=st.none() | st.frozensets(npns | npn_cells, max_size=5),
)
def test_any_cells_are_read_kept_or_reported(
    rows: list[tuple[str, ...]], wanted: frozenset[str] | None
) -> None:
    """Whatever the cells, every row is kept, filtered out or reported, at its line."""
    out = io.StringIO(newline="")
    writer = csv.writer(out)
    writer.writerow(RCL_COLUMNS)
    starts = []
    line = 2
    for cells in rows:
        starts.append(line)
        before = out.tell()
        writer.writerow(cells)
        written = out.getvalue()[before:]
        line += len(io.StringIO(written, newline="").readlines())
    read, reading = read_all(out.getvalue(), npns=wanted)
    valid = [
        (start, cells)
        for start, cells in zip(starts, rows, strict=True)
        if is_valid(cells)
    ]
    asked = {w.strip() for w in wanted} if wanted is not None else None
    expected_kept = [
        (start, cells[0].strip())
        for start, cells in valid
        if asked is None or cells[0].strip() in asked
    ]
    assert [(r.line, r.npn) for r in read] == expected_kept
    assert reading.read == len(rows)
    assert reading.skipped == len(rows) - len(valid)
    assert reading.read == reading.kept + reading.skipped + reading.filtered_out
    invalid_starts = sorted(set(starts) - {start for start, _ in valid})
    assert sorted({p.line for p in reading.problems}) == invalid_starts
