"""Hostile list files: bounded time and memory, and only regflow's errors."""

from __future__ import annotations

import gc
import io
import time
import tracemalloc
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from regflow import ListFormatError
from regflow.lists import (
    MAX_HEADER_CHARS,
    MAX_KEPT_PROBLEMS,
    MAX_ROW_CHARS,
    MAX_ROW_LINES,
    RCL_COLUMNS,
    TERMINATION_COLUMNS,
    ListReading,
    RclRow,
    read_rcl,
    read_termination_list,
)

HEADER = ",".join(RCL_COLUMNS)
GOOD = "12345678,2024,10/02/2023,12/31/2024,,,Y"
MB = 1 << 20


def good(n: int) -> str:
    """A valid RCL row for NPN *n*."""
    return f"{n},2024,10/02/2023,12/31/2024,,,Y"


def write(folder: Path, text: str, name: str = "TBL_RCL_1.csv") -> Path:
    """Write *text* as it is, line ends untranslated, and return its path."""
    path = folder / name
    path.write_text(text, encoding="utf-8", newline="")
    return path


def drain(source: Path | io.StringIO) -> tuple[list[RclRow], ListReading[RclRow]]:
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


def test_header_past_the_limit_is_refused_quickly_and_briefly(tmp_path: Path) -> None:
    """An 8 MB header is refused at once, with a short message naming the limit."""
    path = write(tmp_path, "NPN," + "x" * (8 * MB) + "\n" + GOOD + "\n")
    start = time.process_time()
    with pytest.raises(ListFormatError, match=f"first {MAX_HEADER_CHARS:,} characters"):
        list(read_rcl(path))
    assert time.process_time() - start < 0.5


def test_header_at_the_limit_is_read_and_one_more_character_is_not() -> None:
    """The header limit is exact: MAX_HEADER_CHARS characters read, one more refused."""
    header = HEADER + " " * (MAX_HEADER_CHARS - len(HEADER))
    rows, _ = drain(stream(header + "\n" + GOOD + "\n"))
    assert [row.line for row in rows] == [2]
    with pytest.raises(ListFormatError, match="no header row ends within"):
        list(read_rcl(stream(header + " \n" + GOOD + "\n")))


def test_blank_lines_before_the_header_count_towards_its_limit() -> None:
    """Blank lines may precede the header, but not a header's worth of them."""
    rows, _ = drain(stream("\n\n" + HEADER + "\n" + GOOD + "\n"))
    assert [row.line for row in rows] == [4]
    with pytest.raises(ListFormatError, match="no header row ends within"):
        list(read_rcl(stream("\n" * MAX_HEADER_CHARS + HEADER + "\n")))


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


def test_quote_left_open_in_the_header_is_refused() -> None:
    """A header whose quote never closes is refused, naming its line."""
    with pytest.raises(ListFormatError, match="header at line 1 is never closed"):
        list(read_rcl(stream('NPN,"Applicable\n' + GOOD + "\n")))
    with pytest.raises(ListFormatError, match=f"within {MAX_ROW_LINES} lines"):
        list(read_rcl(stream('NPN,"Applicable\n' + (GOOD + "\n") * 200)))


# -- rows ----------------------------------------------------------------------


@pytest.mark.parametrize("end", ["\n", "\r\n", "\r"])
def test_row_past_the_limit_is_one_problem_and_reading_goes_on(
    tmp_path: Path, end: str
) -> None:
    """An 8 MB row is one short problem; the rows after it keep their lines."""
    text = end.join([HEADER, GOOD, "," * (8 * MB), GOOD, ""])
    rows, reading = drain(write(tmp_path, text))
    assert [row.line for row in rows] == [2, 4]
    (problem,) = reading.problems
    assert problem.line == 3 and problem.column is None
    assert f"{MAX_ROW_CHARS:,} characters" in problem.reason
    assert len(problem.value) == 203


def test_row_at_the_limit_is_read_and_one_more_character_is_not() -> None:
    """The row limit is exact: MAX_ROW_CHARS characters read, one more reported."""
    row = GOOD[:-1] + " " * (MAX_ROW_CHARS - len(GOOD)) + "Y"
    assert len(row) == MAX_ROW_CHARS
    rows, reading = drain(stream("\r\n".join([HEADER, row, " " + row, GOOD, ""])))
    assert [r.line for r in rows] == [2, 4]
    assert [p.line for p in reading.problems] == [3]


def test_row_problems_quote_at_most_200_characters() -> None:
    """Every kind of row problem quotes the row or cell cut at 200 characters."""
    long_cell = "9" * 5_000
    text = "\n".join(
        [
            HEADER,
            long_cell + ",2024,,,,,Y",
            "," * 5_000,
            '"' + long_cell,
            *[good(n) for n in range(1, 150)],
            "",
        ]
    )
    _, reading = drain(stream(text))
    assert reading.problem_count == 3
    assert all(len(p.value) <= 203 for p in reading.problems)
    assert all(len(p.reason) <= 300 for p in reading.problems)


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


def test_counts_of_many_repeated_bad_lines_are_exact(tmp_path: Path) -> None:
    """Blocks of one repeated bad line are counted exactly, mixed with good rows."""
    block = ["x"] * 40_000 + ["1234567A,2024,,,,,Y"] * 30_000 + [GOOD]
    path = write(tmp_path, "\n".join([HEADER, *(block * 3), ""]))
    rows, reading = drain(path)
    assert [row.line for row in rows] == [70_002, 140_003, 210_004]
    assert dict(reading.problem_counts) == {None: 120_000, "NPN": 90_000}
    assert reading.skipped == 210_000


# -- quotes left open ----------------------------------------------------------


def test_stray_quote_costs_its_own_row_only(tmp_path: Path) -> None:
    """One stray quote in 10,000 rows loses that row; every later row is kept."""
    lines = [good(n) for n in range(1_000_000, 1_010_000)]
    lines[5_000] = lines[5_000].replace(",2024", ',"2024')
    rows, reading = drain(write(tmp_path, "\r\n".join([HEADER, *lines, ""])))
    assert len(rows) == 9_999
    assert [row.line for row in rows] == [n for n in range(2, 10_002) if n != 5_002]
    (problem,) = reading.problems
    assert problem.line == 5_002 and problem.column is None
    assert problem.reason.startswith(
        f"a quote opened on this line is not closed within {MAX_ROW_LINES} lines"
    )
    assert f"it would swallow more than {MAX_ROW_LINES - 1} lines" in problem.reason


def test_quote_left_open_near_the_end_says_what_it_would_swallow() -> None:
    """A quote open to the end of the file counts the lines it would take."""
    text = "\n".join([HEADER, GOOD, '1,"2024,,,,,Y', good(2), good(3), ""])
    rows, reading = drain(stream(text))
    assert [row.line for row in rows] == [2, 4, 5]
    (problem,) = reading.problems
    assert problem.line == 3
    assert problem.reason == (
        "a quote opened on this line is never closed; it would swallow the 2 "
        "lines after it, to the end of the file, which are read as rows instead"
    )


def test_quote_left_open_on_the_last_line() -> None:
    """A quote opened on the last line is reported; nothing is swallowed."""
    _, reading = drain(stream("\n".join([HEADER, GOOD, '2,2024,,,,,"Y'])))
    (problem,) = reading.problems
    assert (problem.line, problem.reason) == (
        3,
        "a quote opened on this line is never closed",
    )


def test_quoted_line_breaks_up_to_the_limit_still_read() -> None:
    """A quoted cell may span MAX_ROW_LINES lines; one more is a runaway."""
    within = '12345678,2024,,,,,"Y' + "\n" * (MAX_ROW_LINES - 1) + '"'
    past = '12345678,2024,,,,,"Y' + "\n" * MAX_ROW_LINES + '"'
    rows, reading = drain(stream("\n".join([HEADER, within, GOOD, ""])))
    assert [row.line for row in rows] == [2, MAX_ROW_LINES + 2]
    assert reading.problems == ()
    rows, reading = drain(stream("\n".join([HEADER, past, GOOD, ""])))
    assert [row.line for row in rows] == [MAX_ROW_LINES + 3]
    assert [p.line for p in reading.problems] == [2, MAX_ROW_LINES + 2]


def test_lines_an_unclosed_quote_took_are_read_one_per_row() -> None:
    """After a runaway quote, a line that opens a quote is not given the next lines."""
    lines = [GOOD] * (MAX_ROW_LINES + 10)
    lines[0] = '1,"2024,,,,,Y'
    # Inside the first quote this closes it and opens another, so the first
    # row still runs away; read on its own line, it leaves a quote open.
    lines[5] = '2,2024,x","'
    rows, reading = drain(stream("\n".join([HEADER, *lines, ""])))
    assert [p.line for p in reading.problems] == [2, 7]
    assert reading.problems[1].reason == (
        "a quote opened on this line is not closed on it; the lines an "
        "unclosed quote would have swallowed are read one line per row"
    )
    assert len(rows) == len(lines) - 2


def test_quotes_that_pair_up_make_one_bad_row_saying_so() -> None:
    """Two stray quotes a few lines apart join those lines into one row, as csv does."""
    lines = [good(n) for n in range(1, 10)]
    lines[2] = lines[2].replace(",2024", ',"2024')
    lines[5] = lines[5].replace(",Y", ',"Y')
    rows, reading = drain(stream("\n".join([HEADER, *lines, ""])))
    assert [row.line for row in rows] == [2, 3, 8, 9, 10]
    (problem,) = reading.problems
    assert problem.line == 4
    assert problem.reason.startswith(
        "the header has 7 cells but this row, lines 4 to 7"
    )


def test_legit_quoted_line_breaks_read_across_blocks(tmp_path: Path) -> None:
    """Rows whose quoted cells hold line breaks read right wherever blocks split."""
    lines, starts, line = [], [], 2
    for n in range(1, 30_001):
        starts.append(line)
        if n % 7:
            lines.append(good(n))
            line += 1
        else:
            lines.append(f'"{n}\r\n",2024,10/02/2023,"12/31/2024\n",,,"Y\r"')
            line += 4
    text = "\r\n".join([HEADER, *lines, "x"])
    for source in (write(tmp_path, text), stream(text)):
        rows, reading = drain(source)
        assert [row.line for row in rows] == starts
        assert {row.individual_end for row in rows} == {rows[0].individual_end}
        assert [p.line for p in reading.problems] == [line]


# -- line ends and text --------------------------------------------------------


@pytest.mark.parametrize("through", ["path", "stream"])
def test_cr_and_mixed_line_ends_are_lines(tmp_path: Path, through: str) -> None:
    """CR, LF and CRLF all end a line; line numbers count each."""
    text = (
        HEADER
        + "\r"
        + GOOD
        + "\rx\n"
        + good(2)
        + "\r\n\r"
        + good(3)
        + "\r"
        + '"4\r",2024,,,,,Y'
        + "\r"
    )
    source = write(tmp_path, text) if through == "path" else stream(text)
    rows, reading = drain(source)
    assert [(row.npn, row.line) for row in rows] == [
        ("12345678", 2),
        ("2", 4),
        ("3", 6),
        ("4", 7),
    ]
    assert [p.line for p in reading.problems] == [3]


def test_cr_only_file_of_many_rows_reads_in_blocks(tmp_path: Path) -> None:
    """A file with CR line ends only is split into lines, not one giant line."""
    text = "\r".join([HEADER, *(good(n) for n in range(1, 20_001)), ""])
    rows, _ = drain(write(tmp_path, text))
    assert [row.line for row in rows] == list(range(2, 20_002))


def test_lone_surrogates_from_a_stream_are_problems_not_errors() -> None:
    """Text a caller decoded with surrogateescape gives problems, never a raw error."""
    text = "\n".join(
        [HEADER, "1234\udc80,2024,,,,,Y", "1,2024,\ud800,,,,Y", "1,\udfff", GOOD, ""]
    )
    rows, reading = drain(stream(text))
    assert [row.line for row in rows] == [5]
    assert [p.line for p in reading.problems] == [2, 3, 4]
    assert "\\udc80" in str(reading.problems[0])
    with pytest.raises(ListFormatError, match="missing required"):
        list(read_rcl(stream("NPN\ud800,x\n")))


def test_bad_utf8_is_named_at_its_line(tmp_path: Path) -> None:
    """A bad byte deep in a file is named at its very line, not its block's."""
    lines = [good(n).encode() for n in range(1, 9_001)]
    lines[7_000] = lines[7_000].replace(b"Y", b"\xff")
    path = tmp_path / "TBL_RCL_1.csv"
    path.write_bytes(b"\r\n".join([HEADER.encode(), *lines, b""]))
    reading = read_rcl(path)
    with pytest.raises(ListFormatError, match="line 7,002 is not UTF-8"):
        list(reading)
    assert reading.read == 7_000


def test_bad_utf8_in_a_skipped_long_line_is_named_at_that_line(tmp_path: Path) -> None:
    """A bad byte in the unkept part of a long line is named at that line."""
    path = tmp_path / "TBL_RCL_1.csv"
    path.write_bytes(
        (HEADER + "\n" + GOOD + "\n").encode() + b"," * (2 * MB) + b"\xff\n"
    )
    with pytest.raises(ListFormatError, match="line 3 is not UTF-8"):
        list(read_rcl(path))


def test_termination_list_is_read_with_the_same_bounds() -> None:
    """The termination list reader shares the bounds: a stray quote costs one row."""
    row = "12345678,2024,BOTH,10/02/2023,10/02/2023,10/05/2023,03/01/2024,,T3"
    lines = [row] * 300
    lines[10] = row.replace("BOTH", '"BOTH')
    lines[20] = "," * (MAX_ROW_CHARS + 1)
    header = ",".join(TERMINATION_COLUMNS)
    reading = read_termination_list(stream("\n".join([header, *lines, ""])))
    assert len(list(reading)) == 298
    assert [p.line for p in reading.problems] == [12, 22]


# -- any content at all --------------------------------------------------------

ATOMS = st.sampled_from(
    [
        GOOD,
        HEADER,
        '"',
        '""',
        ",",
        "\n",
        "\r",
        "\r\n",
        "\x00",
        "\ufeff",
        "\ud800",
        "x",
        " ",
        "12/31/2024",
        "2024",
        "Y",
        "é",
    ]
)
TEXTS = st.lists(
    st.one_of(
        ATOMS,
        st.text(max_size=20),
        st.tuples(ATOMS, st.integers(1, 3_000)).map(lambda pair: pair[0] * pair[1]),
    ),
    max_size=60,
).map("".join)


def check_reading(reading: ListReading[RclRow]) -> None:
    """Drain *reading*; any error must be regflow's and the counts must add up."""
    try:
        rows = list(reading)
    except ListFormatError as error:
        assert len(str(error)) < 2_000
        return
    assert reading.read == reading.kept + reading.skipped + reading.filtered_out
    assert len(rows) == reading.kept
    assert [row.line for row in rows] == sorted({row.line for row in rows})
    assert reading.problem_count >= len(reading.problems)
    assert sum(reading.problem_counts.values()) == reading.problem_count
    for problem in reading.problems:
        assert len(problem.value) <= 203 and len(problem.reason) <= 300
        str(problem)


@settings(deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(body=TEXTS, header=st.booleans(), npns=st.none() | st.just(["12345678"]))
def test_any_text_reads_or_fails_with_a_regflow_error(
    body: str, header: bool, npns: list[str] | None
) -> None:
    """Any text, quotes, NULs, CRs and surrogates included, gives rows or ListFormatError."""
    text = (HEADER + "\n" if header else "") + body
    check_reading(read_rcl(stream(text), npns=npns))


def outcome(reading: ListReading[RclRow]) -> object:
    """What a reading gives: its rows, problems and counts, or its error."""
    try:
        rows = [(row.npn, row.line) for row in reading]
    except ListFormatError as error:
        return error.problem.split(" is not UTF-8")[0]
    problems = [(p.line, p.column, p.reason) for p in reading.problems]
    return rows, problems, reading.read, reading.skipped, reading.problem_count


def encodable(text: str) -> bool:
    """Whether *text* can be saved as UTF-8, lone surrogates being what cannot."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


@settings(deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(body=TEXTS.filter(encodable))
def test_a_path_and_a_file_object_read_alike(tmp_path: Path, body: str) -> None:
    """The same text gives the same rows, problems and counts from a path and a stream."""
    text = HEADER + "\n" + body
    path = tmp_path / "TBL_RCL_1.csv"
    path.write_bytes(text.encode("utf-8"))
    assert outcome(read_rcl(path)) == outcome(read_rcl(stream(text)))


@settings(deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.binary(max_size=2_000), header=st.booleans())
def test_any_bytes_read_or_fail_with_a_regflow_error(
    tmp_path: Path, data: bytes, header: bool
) -> None:
    """Any bytes in a file give rows or ListFormatError, never a raw exception."""
    path = tmp_path / "TBL_RCL_1.csv"
    path.write_bytes((HEADER.encode() + b"\r\n" if header else b"") + data)
    check_reading(read_rcl(path))


# -- memory and time -----------------------------------------------------------


def hostile(shape: str, size: int) -> str:
    """A hostile RCL of about *size* characters, of the named shape."""
    head = HEADER + "\n"
    if shape == "long row":
        return head + GOOD + "\n" + "," * size + "\n" + GOOD + "\n"
    if shape == "short bad rows":
        return head + "x\n" * (size // 2)
    if shape == "distinct bad rows":
        return head + "".join(f"{n},x\n" for n in range(size // 8))
    if shape == "quoted line breaks":
        return head + '1,"' + "a\n" * (size // 2) + '",,,,,\n' + GOOD + "\n"
    if shape == "stray quotes":
        return head + 'x","\n' * (size // 5)
    if shape == "padded rows":
        # Valid rows padded differently, so most tails and cells are new.
        return head + "".join(
            f"{n},2024{' ' * (n % 800)},10/02/2023,12/31/2024,,,Y\n"
            for n in range(1, size // 440)
        )
    if shape == "cr only":
        return head.replace("\n", "\r") + "x\r" * (size // 2)
    raise AssertionError(shape)


# Each shape with the smaller of the two sizes compared, in MiB: the densest
# shapes are smaller, as tracing every allocation of a million rows is slow.
SHAPES = {
    "long row": 2,
    "short bad rows": 0.5,
    "distinct bad rows": 0.125,
    "quoted line breaks": 0.5,
    "stray quotes": 1,
    "padded rows": 2,
    "cr only": 0.25,
}


def traced_peak(path: Path) -> int:
    """The peak of memory traced while *path* is read, its rows not kept, in bytes."""
    tracemalloc.start()
    try:
        reading = read_rcl(path)
        for _row in reading:
            pass
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


@pytest.mark.parametrize("shape", SHAPES)
def test_memory_stays_flat_whatever_the_content(tmp_path: Path, shape: str) -> None:
    """Reading four times as much of a hostile shape peaks no higher, and low."""
    small = int(SHAPES[shape] * MB)
    paths = [
        write(tmp_path, hostile(shape, size), f"{size}.csv")
        for size in (small, 4 * small)
    ]
    peaks = [traced_peak(path) for path in paths]
    assert peaks[1] < peaks[0] * 1.1 + 64 * 1024, peaks
    assert peaks[1] < 6 * MB, peaks


@pytest.mark.parametrize("shape", SHAPES)
def test_hostile_8_mb_file_reads_in_well_under_two_seconds(
    tmp_path: Path, shape: str
) -> None:
    """8 MB of a hostile shape reads in a fraction of the time a user would wait."""
    path = write(tmp_path, hostile(shape, 8 * MB))
    # The reader's time, not the collector's walks over whatever earlier
    # tests left alive (matplotlib's modules alone are some 70,000 objects).
    gc.collect()
    gc.freeze()
    try:
        start = time.process_time()
        drain(path)
        spent = time.process_time() - start
    finally:
        gc.unfreeze()
    assert spent < 1.5
