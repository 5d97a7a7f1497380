"""The Agent/Broker Suspension and Termination List reader."""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Iterable
from pathlib import Path

import attrs
import pytest
from hypothesis import given
from hypothesis import strategies as st

import regflow
from regflow import ListFormatError
from regflow.lists import (
    REASON_DESCRIPTIONS,
    TERMINATION_COLUMNS,
    ListReading,
    Marketplaces,
    TerminationAction,
    TerminationReason,
    TerminationRow,
    TerminationStatus,
    read_termination_list,
)

HEADER = ",".join(TERMINATION_COLUMNS)
TERMINATED = "12345678,2024,BOTH,10/02/2023,10/02/2023,10/05/2023,03/01/2024,,T3"
REINSTATED = "7654321,2024,INDIVIDUAL,11/01/2023,11/01/2023,,02/01/2024,04/15/2024,R1"


def text_of(*lines: str, header: str = HEADER, end: str = "\n") -> str:
    """Join a header and rows into the text of a termination list."""
    return "".join(line + end for line in (header, *lines))


def read_all(
    text: str, npns: Iterable[str] | None = None
) -> tuple[list[TerminationRow], ListReading[TerminationRow]]:
    """Read *text* as a termination list from memory."""
    reading = read_termination_list(io.StringIO(text, newline=""), npns=npns)
    return list(reading), reading


def test_reads_every_column_of_a_published_row() -> None:
    """A row in the published format becomes a TerminationRow with typed values."""
    rows, reading = read_all(text_of(TERMINATED, REINSTATED))
    assert rows[0] == TerminationRow(
        npn="12345678",
        plan_year=2024,
        marketplaces=Marketplaces.BOTH,
        registration_completion=dt.date(2023, 10, 2),
        individual_registration=dt.date(2023, 10, 2),
        shop_registration=dt.date(2023, 10, 5),
        terminated_on=dt.date(2024, 3, 1),
        reinstated_on=None,
        status=TerminationStatus(
            TerminationAction.TERMINATED, TerminationReason.FRAUD_OR_ABUSE
        ),
        line=2,
    )
    assert rows[1].reinstated_on == dt.date(2024, 4, 15)
    assert (reading.read, reading.kept, reading.skipped) == (2, 2, 0)


@pytest.mark.parametrize(
    ("code", "action", "reason"),
    [
        (f"{a.value}{r.value}", a, r)
        for a in TerminationAction
        for r in TerminationReason
    ],
)
def test_decodes_every_status(
    code: str, action: TerminationAction, reason: TerminationReason
) -> None:
    """T1-T4 and R1-R4 decode to an action and a reason."""
    rows, _ = read_all(text_of(TERMINATED[:-2] + code))
    assert (rows[0].action, rows[0].reason) == (action, reason)
    assert rows[0].status.code == code


def test_rows_the_reader_builds_equal_rows_built_by_init() -> None:
    """The reader's row maker, which sets slots directly, gives what TerminationRow() gives."""
    rows, _ = read_all(text_of(TERMINATED, REINSTATED))
    for row in rows:
        assert row == TerminationRow(**attrs.asdict(row, recurse=False))
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        rows[0].npn = "1"  # type: ignore[misc]


def test_status_letter_case_does_not_matter() -> None:
    """A status written in lower case reads the same."""
    rows, _ = read_all(text_of(TERMINATED[:-2] + "r2"))
    assert rows[0].status.code == "R2"


@pytest.mark.parametrize(
    ("reason", "words"),
    [
        (TerminationReason.RESIDENT_LICENSE, "resident-state license"),
        (TerminationReason.NON_RESIDENT_LICENSE, "non-resident-state license"),
        (TerminationReason.FRAUD_OR_ABUSE, "fraud or abusive conduct"),
        (TerminationReason.NON_COMPLIANCE, "non-compliance"),
    ],
)
def test_every_reason_has_a_description(reason: TerminationReason, words: str) -> None:
    """Each reason says in plain English why CMS acted."""
    assert REASON_DESCRIPTIONS[reason].startswith(words)
    status = TerminationStatus(TerminationAction.TERMINATED, reason)
    assert status.description == REASON_DESCRIPTIONS[reason]


def test_reasons_are_regflows_own_enum() -> None:
    """The reader decodes into the TerminationReason that regflow's events take."""
    assert TerminationReason is regflow.TerminationReason
    assert set(REASON_DESCRIPTIONS) == set(TerminationReason)


@pytest.mark.parametrize(
    ("written", "member", "individual", "shop"),
    [
        ("INDIVIDUAL", Marketplaces.INDIVIDUAL, True, False),
        ("SHOP", Marketplaces.SHOP, False, True),
        ("BOTH", Marketplaces.BOTH, True, True),
        (" both ", Marketplaces.BOTH, True, True),
    ],
)
def test_reads_marketplaces(
    written: str, member: Marketplaces, individual: bool, shop: bool
) -> None:
    """INDIVIDUAL, SHOP and BOTH say which Marketplaces the action covers."""
    rows, _ = read_all(text_of(TERMINATED.replace("BOTH", written)))
    assert rows[0].marketplaces is member
    assert (member.individual, member.shop) == (individual, shop)


def test_reads_bom_crlf_and_padded_headers(tmp_path: Path) -> None:
    """A BOM, CRLF line ends and spaces around headers change nothing."""
    path = tmp_path / "AB_Termination_List_3.csv"
    header = ",".join(f" {name.lower()} " for name in TERMINATION_COLUMNS)
    text = text_of(TERMINATED, " " + REINSTATED + " ", header=header, end="\r\n")
    path.write_text(text, encoding="utf-8-sig", newline="")
    rows = list(read_termination_list(path))
    assert [(row.npn, row.line) for row in rows] == [("12345678", 2), ("7654321", 3)]
    assert rows[1].status.code == "R1"


def test_reads_a_file_object_and_leaves_it_open(tmp_path: Path) -> None:
    """A file object the caller opened is read, then left open."""
    path = tmp_path / "AB_Termination_List_3.csv"
    path.write_text(text_of(TERMINATED), encoding="utf-8")
    with path.open(encoding="utf-8", newline="") as source:
        assert [row.npn for row in read_termination_list(source)] == ["12345678"]
        assert not source.closed


def test_reads_blank_dates_as_none() -> None:
    """Blank date cells mean no such date."""
    rows, _ = read_all(text_of("12345678,2022,SHOP,,,,,,T4"))
    row = rows[0]
    assert (row.registration_completion, row.terminated_on, row.reinstated_on) == (
        None,
        None,
        None,
    )


def test_missing_column_raises_naming_it_and_the_file(tmp_path: Path) -> None:
    """A header without Status is refused, naming the column and the file."""
    path = tmp_path / "AB_Termination_List_9.csv"
    path.write_text(text_of(header=HEADER.removesuffix(",Status")), encoding="utf-8")
    with pytest.raises(
        ListFormatError, match="missing required column 'Status'"
    ) as caught:
        list(read_termination_list(path))
    assert str(path) in str(caught.value)


def test_empty_file_raises() -> None:
    """A file with no header is refused."""
    with pytest.raises(ListFormatError, match="empty"):
        list(read_termination_list(io.StringIO("")))


@pytest.mark.parametrize(
    ("row", "column", "value", "reason"),
    [
        (TERMINATED[:-2] + "T5", "Status", "T5", "from 1 to 4"),
        (TERMINATED[:-2] + "X1", "Status", "X1", "T (terminated) or R (reinstated)"),
        (TERMINATED[:-3] + ",", "Status", "", "e.g. T3"),
        (
            TERMINATED.replace("BOTH", "ALL"),
            "Marketplaces",
            "ALL",
            "expected one of INDIVIDUAL, SHOP, BOTH",
        ),
        (
            TERMINATED.replace("03/01/2024", "02/30/2024"),
            "Termination or Suspension Date",
            "02/30/2024",
            "no day 30 in February 2024",
        ),
        (
            TERMINATED.replace(",,T3", ",2024-04-01,T3"),
            "Termination Reconsidered or Suspension Lifted",
            "2024-04-01",
            "MM/DD/YYYY",
        ),
        (TERMINATED.replace("12345678", "NPN-1"), "NPN", "NPN-1", "contains 'N'"),
        (
            TERMINATED.replace("2024", "202", 1),
            "Effective Plan Year",
            "202",
            "four digits",
        ),
    ],
)
def test_bad_cell_is_reported_and_later_rows_read(
    row: str, column: str, value: str, reason: str
) -> None:
    """A bad cell skips its row with line, column, value and reason; reading goes on."""
    rows, reading = read_all(text_of(REINSTATED, row, TERMINATED))
    assert [r.npn for r in rows] == ["7654321", "12345678"]
    (problem,) = reading.problems
    assert (problem.line, problem.column, problem.value) == (3, column, value)
    assert reason in problem.reason


def test_wrong_cell_count_is_reported() -> None:
    """A row with too few cells is skipped, saying how many it has."""
    rows, reading = read_all(text_of("12345678,2024,BOTH,T3", REINSTATED))
    assert [r.npn for r in rows] == ["7654321"]
    (problem,) = reading.problems
    assert problem.column is None
    assert problem.reason == "the header has 9 cells but this row has 4"


def test_filter_counts_and_still_validates_every_row() -> None:
    """With npns, other rows are validated and counted, not handed out."""
    text = text_of(TERMINATED, REINSTATED, "1,2024,BOTH,,,,,,T9", REINSTATED)
    rows, reading = read_all(text, npns={"7654321"})
    assert [row.line for row in rows] == [3, 5]
    assert [p.line for p in reading.problems] == [4]
    assert (reading.read, reading.kept, reading.skipped, reading.filtered_out) == (
        4,
        2,
        1,
        1,
    )


# Property: rows written by any CSV writer read back as they were.

dates = st.none() | st.dates(dt.date(2014, 1, 1), dt.date(2030, 12, 31))


@given(
    rows=st.lists(
        st.tuples(
            st.integers(1, 9_999_999_999).map(str),
            st.integers(2014, 2030),
            st.sampled_from(Marketplaces),
            st.tuples(dates, dates, dates, dates, dates),
            st.sampled_from(TerminationAction),
            st.sampled_from(TerminationReason),
        ),
        max_size=20,
    ),
    quoting=st.sampled_from([csv.QUOTE_MINIMAL, csv.QUOTE_ALL]),
    end=st.sampled_from(["\n", "\r\n"]),
)
def test_written_rows_read_back_equal(
    rows: list[
        tuple[
            str,
            int,
            Marketplaces,
            tuple[dt.date | None, ...],
            TerminationAction,
            TerminationReason,
        ]
    ],
    quoting: int,
    end: str,
) -> None:
    """Any valid rows, however quoted and ended, read back as the same values."""
    out = io.StringIO(newline="")
    writer = csv.writer(out, quoting=quoting, lineterminator=end)
    writer.writerow(TERMINATION_COLUMNS)
    for npn, year, markets, days, action, reason in rows:
        written = [d.strftime("%m/%d/%Y") if d else "" for d in days]
        status = f"{action.value}{reason.value}"
        writer.writerow([npn, year, markets.value, *written, status])
    read, reading = read_all(out.getvalue())
    assert reading.problems == ()
    assert [
        (
            r.npn,
            r.plan_year,
            r.marketplaces,
            (
                r.registration_completion,
                r.individual_registration,
                r.shop_registration,
                r.terminated_on,
                r.reinstated_on,
            ),
            r.action,
            r.reason,
        )
        for r in read
    ] == rows
    assert [r.line for r in read] == list(range(2, len(rows) + 2))
