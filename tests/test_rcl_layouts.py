"""Every layout CMS publishes the RCL in gives the same rows through one reader."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import re
from collections.abc import Sequence
from pathlib import Path
from typing import IO, Any

import attrs
import pytest
from hypothesis import given
from hypothesis import strategies as st

from regflow import ListFormatError
from regflow.lists import RCL_COLUMNS, RCL_FIELD_NAMES, RclRow, plan, read_rcl
from regflow.store import Repository, SQLiteStore
from test_recon_service import ON, npn, registered

_DATE = st.dates(min_value=dt.date(2013, 1, 1), max_value=dt.date(2030, 12, 31))
_CELL = st.one_of(
    st.just(""),
    _DATE.map(lambda d: d.strftime("%m/%d/%Y")),
    st.sampled_from(["13/01/2024", " 1/5/2024 ", "x,y", 'say "no"', "a\nb"]),
)
_ROW = st.tuples(
    st.one_of(
        st.integers(1000, 99_999_999).map(str),
        st.sampled_from(["", "0000", "12a4", " 1234 ", "12345678901"]),
    ),
    st.one_of(st.integers(2014, 2026).map(str), st.sampled_from(["", "2013", "24"])),
    _CELL,
    _CELL,
    _CELL,
    _CELL,
    st.sampled_from(["Y", "N", "-", "y", "", "Q"]),
)


def csv_text(header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    """A CSV file of *rows* under *header*, CRLF line ends, as CMS writes it."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(header)
    writer.writerows(rows)
    return out.getvalue()


def page(rows: Sequence[Sequence[str]]) -> str:
    """An API result page of *rows*."""
    return json.dumps(
        {"results": [dict(zip(RCL_FIELD_NAMES, r, strict=True)) for r in rows]}
    )


def outcome(reading: Any) -> tuple[list[RclRow], list[tuple[str | None, str]]]:
    """The rows without their lines, and the problems' columns and reasons."""
    rows = [attrs.evolve(row, line=0) for row in reading]
    return rows, [(p.column, p.reason) for p in reading.problems]


def test_the_machine_names_are_the_published_columns_in_snake_case() -> None:
    expected = tuple(re.sub(r"[^a-z]+", "_", c.lower()).strip("_") for c in RCL_COLUMNS)
    assert expected == RCL_FIELD_NAMES


@given(st.lists(_ROW, max_size=12), st.integers(1, 5))
def test_the_three_layouts_give_the_same_rows_and_problems(
    rows: list[tuple[str, ...]], size: int
) -> None:
    """Published CSV, snake_case CSV and JSON pages of any size: the same."""
    published = read_rcl(io.StringIO(csv_text(RCL_COLUMNS, rows), newline=""))
    expected = outcome(published)
    snake = read_rcl(io.StringIO(csv_text(RCL_FIELD_NAMES, rows), newline=""))
    assert outcome(snake) == expected
    pages = [io.StringIO(page(rows[i : i + size])) for i in range(0, len(rows), size)]
    reading = read_rcl(pages or [io.StringIO(page([]))])
    assert outcome(reading) == expected
    # JSON rows and problems are numbered by result over all the pages.
    lines = sorted({row.line for row in reading} | {p.line for p in reading.problems})
    assert set(lines) <= set(range(1, len(rows) + 1))
    assert (reading.read, reading.kept, reading.skipped) == (
        published.read,
        published.kept,
        published.skipped,
    )


def test_json_rows_and_problems_name_their_result() -> None:
    good = ["12345678", "2024", "10/02/2023", "12/31/2024", "", "", "Y"]
    bad = ["7654321", "2024", "10/02/2023", "12/31/2024", "", "", "Q"]
    reading = read_rcl([io.StringIO(page([good, good])), io.StringIO(page([bad]))])
    assert [row.line for row in reading] == [1, 2]
    assert [str(p) for p in reading.problems] == [
        "line 3, column 'NPN Valid (Current Plan Year Only)': unknown NPN Valid "
        "flag; expected one of Y, N, - (got 'Q')"
    ]


def test_snake_case_headers_are_read_in_any_case_spacing_and_order() -> None:
    header = [f" {n.upper()} " for n in reversed(RCL_FIELD_NAMES)]
    row = ["Y", "", "", "12/31/2024", "10/02/2023", "2024", "12345678"]
    rows = list(read_rcl(io.StringIO(csv_text([*header, "extra"], [[*row, "x"]]))))
    assert [(r.npn, r.plan_year, r.npn_valid.value) for r in rows] == [
        ("12345678", 2024, "Y")
    ]


def test_a_snake_case_file_missing_a_column_names_the_machine_name() -> None:
    header = RCL_FIELD_NAMES[:-1]
    with pytest.raises(ListFormatError, match="'npn_valid_current_plan_year_only'"):
        list(read_rcl(io.StringIO(csv_text(header, []))))


@pytest.mark.parametrize("name", ["TBL_RCL_1.json", "results_page"])
def test_a_json_path_is_known_by_its_extension_or_its_start(
    tmp_path: Path, name: str
) -> None:
    path = tmp_path / name
    path.write_text(page([["1234", "2024", "", "", "", "", "-"]]), encoding="utf-8")
    assert [(r.npn, r.line) for r in read_rcl(path)] == [("1234", 1)]


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ('{"results": [', "is not JSON: Expecting value at line 1, column 14"),
        ("[]", 'a page is a JSON object with a "results" list'),
        ('{"results": {}}', 'a page is a JSON object with a "results" list'),
        ('{"results": [{}, 3]}', "result 1 of the page lacks 'npn', "),
        ('{"results": [3]}', "result 1 of the page is not a JSON object"),
        (
            page([["1234", "2024", "", "", "", "", "Y"]]).replace('"2024"', "2024"),
            "result 1 of the page has 'applicable_plan_year' as int, not a string",
        ),
    ],
)
def test_a_bad_page_raises_naming_its_file_and_where(
    tmp_path: Path, text: str, reason: str
) -> None:
    good = tmp_path / "page_1.json"
    good.write_text(page([["1234", "2024", "", "", "", "", "Y"]]), encoding="utf-8")
    bad = tmp_path / "page_2.json"
    bad.write_text(text, encoding="utf-8")
    reading = read_rcl([good, bad])
    with pytest.raises(ListFormatError) as raised:
        list(reading)
    assert raised.value.source == str(bad)
    assert reason in raised.value.problem


def test_a_page_that_is_not_utf8_raises_naming_it(tmp_path: Path) -> None:
    bad = tmp_path / "p.json"
    bad.write_bytes(b'{"results": ["\xff"]}')
    with pytest.raises(
        ListFormatError, match=re.escape("p.json: the page is not UTF-8")
    ):
        list(read_rcl(bad))


def test_a_bad_json_page_raises_before_plan_writes_anything(tmp_path: Path) -> None:
    with Repository(SQLiteStore(str(tmp_path / "r.sqlite3"))) as repo:
        registered(repo, "a-1", npn(1))
        rcl = tmp_path / "rcl.json"
        good = [npn(1), "2024", "10/04/2023", "", "", "", "Y"]
        rcl.write_text(page([good])[:-2] + ", 7]}", encoding="utf-8")
        with pytest.raises(
            ListFormatError, match=re.escape("rcl.json: result 2 of the page")
        ):
            plan(repo, rcl=rcl, on=ON)
        assert repo.load("a-1", 2024).individual.value == "registered"
        rcl.write_text(page([good]), encoding="utf-8")
        found = plan(repo, rcl=rcl, on=ON)
        assert [p.agent_id for p in found.proposals] == ["a-1"]


@pytest.mark.parametrize("bom", ["", "\ufeff"])
def test_a_page_may_start_with_a_byte_order_mark(tmp_path: Path, bom: str) -> None:
    text = bom + page([["1234", "2024", "", "", "", "", "Y"]])
    path = tmp_path / "p.json"
    path.write_text(text, encoding="utf-8")
    from_object = read_rcl([io.StringIO(text)])
    assert [r.npn for r in read_rcl(path)] == [r.npn for r in from_object] == ["1234"]


def test_a_bytes_page_object_raises_saying_open_it_as_text() -> None:
    with pytest.raises(ListFormatError, match="must be opened as text"):
        list(read_rcl([io.BytesIO(b'{"results": []}')]))  # type: ignore[list-item]


def test_plan_with_an_opener_reads_a_json_page_as_json(tmp_path: Path) -> None:
    """An opener (the command's progress bar) does not turn a page into a CSV."""
    opened: list[Path] = []

    def opener(path: Path) -> IO[str]:
        opened.append(path)
        return open(path, encoding="utf-8-sig", newline="")

    with Repository(SQLiteStore(str(tmp_path / "r.sqlite3"))) as repo:
        registered(repo, "a-1", npn(1))
        rcl = tmp_path / "rcl.json"
        rcl.write_text(
            page([[npn(1), "2024", "10/04/2023", "", "", "", "Y"]]), encoding="utf-8"
        )
        found = plan(repo, rcl=rcl, on=ON, opener=opener)
    assert opened == [rcl]
    assert [p.agent_id for p in found.proposals] == ["a-1"]
    assert found.files[0].kept == 1 and found.files[0].problems == ()
