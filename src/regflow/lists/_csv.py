"""What every CMS list reader shares: opening, the header, cells, the tally.

The readers' hot loops live in their own modules (one per list) because a
generic loop would need a function call or a dispatch per cell; this module
holds everything that runs once per file, once per distinct cell text, or
only for a row that is not plainly valid.
"""

from __future__ import annotations

import calendar
import csv
import datetime as dt
import enum
import itertools
import os
import re
from collections.abc import Callable, Generator, Iterable, Iterator, Mapping, Sequence
from types import TracebackType
from typing import IO, Final, Generic, Protocol, TypeAlias, TypeVar

import attrs

from .._errors import ListFormatError
from .._npn import NPN

__all__ = [
    "MAX_NPN_DIGITS",
    "ZERO_NPNS",
    "CellCache",
    "CellError",
    "Columns",
    "CsvRows",
    "ListReading",
    "RowCheck",
    "RowProblem",
    "Source",
    "Tally",
    "check_npn",
    "enum_parser",
    "first_line",
    "is_blank",
    "parse_date",
    "parse_plan_year",
    "width_problem",
]

Source: TypeAlias = "str | os.PathLike[str] | IO[str]"
"""A path to a CSV file, or a text file object already open on one."""

RowT = TypeVar("RowT")
E = TypeVar("E", bound=enum.Enum)
T = TypeVar("T")

MAX_NPN_DIGITS: Final = 10

# NPN.problem refuses an all-zeros NPN; the hot loops test this set instead of
# counting zeros, which costs one hash lookup per row.
ZERO_NPNS: Final = frozenset("0" * n for n in range(1, MAX_NPN_DIGITS + 1))

# Distinct cell texts are few (dates, years, flags), but a hostile or broken
# file could make every one different; past this many a cache stops growing and
# the reader stays correct, only slower.
_CACHE_LIMIT: Final = 100_000

# A shown value longer than this is cut, so one runaway cell cannot make a
# problem report megabytes long.
_SHOWN_LIMIT: Final = 200

_FIRST_PLAN_YEAR: Final = 2014
_DATE = re.compile(r"(\d{1,2})/(\d{1,2})/(\d{4})", re.ASCII)
_BOM: Final = "\ufeff"

_NPN_REASONS: Final = {
    "empty": "the NPN is empty",
    "inner_space": "an NPN has no spaces inside",
    "non_ascii_digit": "an NPN is written with the digits 0-9 only",
    "all_zeros": "an NPN cannot be all zeros",
}


@attrs.frozen(slots=True, kw_only=True)
class RowProblem:
    """Why one row of a list file was skipped.

    A row with several bad cells gives one problem per cell, all with the
    same line.

    Attributes:
        line: the 1-based physical line where the row starts.
        column: the published header of the bad cell, or ``None`` when the row
            as a whole is wrong (a wrong number of cells).
        value: the cell as written, or the row's cells joined by commas.
        reason: a plain English sentence saying what is wrong.
    """

    line: int
    column: str | None
    value: str
    reason: str

    def __str__(self) -> str:
        where = f"line {self.line}"
        if self.column is not None:
            where += f", column {self.column!r}"
        return f"{where}: {self.reason} (got {self.value!r})"


class CellError(Exception):
    """Raised by a cell parser; carries the plain English reason."""

    def __init__(self, reason: str):
        self.reason = reason
        super().__init__(reason)


class CellCache(dict[str, T]):
    """Parsed cells keyed by their raw text, so a repeated cell is parsed once.

    Keys are the raw cell text, surrounding spaces included: a hot loop tests
    ``raw in cache`` and only a miss pays for stripping and parsing.
    """

    __slots__ = ("_parse",)

    def __init__(self, parse: Callable[[str], T], known: Mapping[str, T] | None = None):
        super().__init__(known or {})
        self._parse = parse

    def value(self, raw: str) -> T:
        """Return the parsed *raw*, or raise :class:`CellError` saying why not."""
        try:
            return self[raw]
        except KeyError:
            pass
        parsed = self._parse(raw.strip())
        if len(self) < _CACHE_LIMIT:
            self[raw] = parsed
        return parsed


def parse_date(text: str) -> dt.date | None:
    """Return the date in *text* (``MM/DD/YYYY``, blank for none)."""
    if not text:
        return None
    found = _DATE.fullmatch(text)
    if found is None:
        raise CellError("a date must be written MM/DD/YYYY, or left blank")
    month, day, year = (int(part) for part in found.groups())
    if not 1 <= month <= 12:
        raise CellError(f"there is no month {month}; a date is written MM/DD/YYYY")
    days = calendar.monthrange(year, month)[1]
    if not 1 <= day <= days:
        name = calendar.month_name[month]
        raise CellError(f"there is no day {day} in {name} {year}, it has {days}")
    return dt.date(year, month, day)


def parse_plan_year(text: str) -> int:
    """Return the plan year in *text*: four digits, 2014 or later."""
    if not (len(text) == 4 and text.isascii() and text.isdigit()):
        raise CellError("a plan year is four digits, e.g. 2024")
    year = int(text)
    if year < _FIRST_PLAN_YEAR:
        raise CellError(
            f"the Marketplace's first plan year was {_FIRST_PLAN_YEAR}; "
            "no list covers an earlier one"
        )
    return year


def enum_parser(members: Mapping[str, E], what: str) -> Callable[[str], E]:
    """Return a parser of *members*' codes, case-insensitive, for *what*."""
    expected = ", ".join(members)

    def parse(text: str) -> E:
        try:
            return members[text.upper()]
        except KeyError:
            raise CellError(f"unknown {what}; expected one of {expected}") from None

    return parse


def check_npn(raw: str) -> str:
    """Return the NPN in *raw*, trimmed, or raise :class:`CellError` saying why."""
    problem = NPN.problem(raw)
    if problem is None:
        return raw.strip()
    text = raw.strip()
    if problem == "too_long":
        reason = f"an NPN has at most {MAX_NPN_DIGITS} digits, this one {len(text)}"
    elif problem == "not_digit":
        bad = next(c for c in text if not (c.isascii() and c.isdigit()))
        reason = f"an NPN is digits only, this one contains {bad!r}"
    else:
        reason = _NPN_REASONS.get(problem, f"not an NPN ({problem})")
    raise CellError(reason)


def first_line(row: Sequence[str], last_line: int) -> int:
    """Return the physical line where *row* starts, given where it ends.

    Only a quoted cell can hold a line break; counting them here, for the rare
    rows that need a line number, spares the hot loop tracking the previous
    row's end.
    """
    breaks = 0
    for cell in row:
        if "\n" in cell or "\r" in cell:
            breaks += cell.count("\n") + cell.count("\r") - cell.count("\r\n")
    return last_line - breaks


def width_problem(row: Sequence[str], line: int, width: int) -> RowProblem:
    """Return the problem of a row whose cell count differs from the header's."""
    return RowProblem(
        line=line,
        column=None,
        value=_shown(",".join(row)),
        reason=f"the header has {width} cells but this row has {len(row)}",
    )


class RowCheck:
    """The careful check of one row: parses cells and collects their problems."""

    __slots__ = ("line", "problems")

    def __init__(self, line: int):
        self.line = line
        self.problems: list[RowProblem] = []

    def cell(self, column: str, raw: str, parse: Callable[[str], T], fallback: T) -> T:
        """Return *raw* parsed, or note why it cannot be and return *fallback*."""
        try:
            return parse(raw)
        except CellError as error:
            problem = RowProblem(
                line=self.line, column=column, value=_shown(raw), reason=error.reason
            )
            self.problems.append(problem)
            return fallback


def _shown(text: str) -> str:
    if len(text) <= _SHOWN_LIMIT:
        return text
    return text[:_SHOWN_LIMIT] + "..."


def is_blank(row: Sequence[str]) -> bool:
    """Return whether *row* is an empty line, which holds no row at all."""
    return not row or (len(row) == 1 and not row[0].strip())


def _header_key(name: str) -> str:
    # Copies of the lists differ in case ("Shop" / "SHOP"), spacing and a
    # leading byte-order mark; none of that changes which column is meant.
    return " ".join(name.replace(_BOM, "").split()).casefold()


@attrs.frozen(slots=True)
class Columns:
    """Where each required column sits, resolved once from the header.

    Attributes:
        indexes: the position of each required column, in the order asked.
        width: how many cells the header has; every row must have as many.
    """

    indexes: tuple[int, ...]
    width: int

    @classmethod
    def resolve(cls, source: str, header: Sequence[str], required: Sequence[str]) -> Columns:
        """Find each of *required* in *header*, or raise :class:`ListFormatError`."""
        positions: dict[str, list[int]] = {}
        for index, name in enumerate(header):
            positions.setdefault(_header_key(name), []).append(index)
        missing = [name for name in required if _header_key(name) not in positions]
        found = ", ".join(repr(name.strip()) for name in header)
        if missing:
            names = ", ".join(repr(name) for name in missing)
            plural = "s" if len(missing) > 1 else ""
            raise ListFormatError(
                source, f"missing required column{plural} {names} (the header has {found})"
            )
        for name in required:
            if len(positions[_header_key(name)]) > 1:
                raise ListFormatError(
                    source,
                    f"column {name!r} appears more than once in the header ({found}); "
                    "keep one",
                )
        return cls(tuple(positions[_header_key(n)][0] for n in required), len(header))


class Tally:
    """The counts and problems of one reading, written by its row loop."""

    __slots__ = ("filtered_out", "kept", "problems", "skipped")

    def __init__(self) -> None:
        self.kept = 0
        self.skipped = 0
        self.filtered_out = 0
        self.problems: list[RowProblem] = []


class CsvRows(Protocol):
    """What a row loop needs of :func:`csv.reader`: rows, and the line reached."""

    @property
    def line_num(self) -> int: ...

    def __iter__(self) -> Iterator[list[str]]: ...

    def __next__(self) -> list[str]: ...


RowLoop: TypeAlias = Callable[
    [CsvRows, Columns, "frozenset[str] | None", Tally], Iterator[RowT]
]
"""A list's row loop: validates and yields rows, keeping *tally* up to date."""


def _source_name(source: Source) -> str:
    if isinstance(source, str | os.PathLike):
        return os.fsdecode(source)
    name = getattr(source, "name", None)
    return name if isinstance(name, str) else "<stream>"


class ListReading(Generic[RowT]):
    """One pass over a CMS list file: an iterator of rows, plus what it found.

    Nothing is opened or read until the first row is asked for; then the file
    streams one row at a time, so memory does not grow with the file. Like a
    file, a reading is consumed once. Every row read lands in exactly one
    count, so ``read == kept + skipped + filtered_out`` always holds.

    Attributes:
        source: the file's path or name, as shown in errors.
    """

    __slots__ = ("_columns", "_file", "_loop", "_npns", "_rows", "_source", "_tally", "source")

    def __init__(
        self,
        source: Source,
        columns: Sequence[str],
        loop: RowLoop[RowT],
        npns: Iterable[str | NPN] | None,
    ):
        self.source = _source_name(source)
        self._source = source
        self._columns = tuple(columns)
        self._loop = loop
        # str() so NPN objects work too; a filter entry that is no NPN simply
        # never matches, as only valid rows are compared with it.
        self._npns = None if npns is None else frozenset(str(n).strip() for n in npns)
        self._tally = Tally()
        self._file: IO[str] | None = None
        self._rows: Generator[RowT, None, None] | None = None

    @property
    def read(self) -> int:
        """How many rows were read so far (blank lines are no rows)."""
        tally = self._tally
        return tally.kept + tally.skipped + tally.filtered_out

    @property
    def kept(self) -> int:
        """How many valid rows were handed out."""
        return self._tally.kept

    @property
    def skipped(self) -> int:
        """How many rows had a problem and were not handed out."""
        return self._tally.skipped

    @property
    def filtered_out(self) -> int:
        """How many valid rows were left out because their NPN was not asked for."""
        return self._tally.filtered_out

    @property
    def problems(self) -> tuple[RowProblem, ...]:
        """Every problem found so far, in file order."""
        return tuple(self._tally.problems)

    def __iter__(self) -> ListReading[RowT]:
        return self

    def __next__(self) -> RowT:
        if self._rows is None:
            self._rows = self._start()
        return next(self._rows)

    def _start(self) -> Generator[RowT, None, None]:
        if isinstance(self._source, str | os.PathLike):
            # utf-8-sig drops a byte-order mark; newline="" is what csv needs
            # to keep line breaks inside quoted cells and count CRLF as one.
            self._file = open(self._source, encoding="utf-8-sig", newline="")  # noqa: SIM115
            lines: Iterator[str] = iter(self._file)
        else:
            lines = iter(self._source)
        return self._stream(lines)

    def _stream(self, lines: Iterator[str]) -> Generator[RowT, None, None]:
        reader: CsvRows | None = None
        try:
            first = next(lines, None)
            if first is not None and first.startswith(_BOM):
                # A caller's file object opened as plain utf-8 keeps the mark.
                first = first[1:]
            reader = csv.reader(itertools.chain(() if first is None else (first,), lines))
            header = next((row for row in reader if not is_blank(row)), None)
            if header is None:
                raise ListFormatError(
                    self.source,
                    "the file is empty; expected a header row naming the columns "
                    + ", ".join(repr(c) for c in self._columns),
                )
            columns = Columns.resolve(self.source, header, self._columns)
            yield from self._loop(reader, columns, self._npns, self._tally)
        except UnicodeDecodeError as error:
            line = 1 if reader is None else reader.line_num + 1
            raise ListFormatError(
                self.source,
                f"the text near line {line} is not UTF-8 ({error.reason}); save the file as UTF-8",
            ) from error
        except csv.Error as error:
            line = 1 if reader is None else reader.line_num
            raise ListFormatError(
                self.source, f"line {line} is not readable as CSV: {error}"
            ) from error
        finally:
            self.close()

    def close(self) -> None:
        """Close the file if this reading opened it; a caller's file is left open."""
        if self._file is not None:
            self._file.close()
            self._file = None

    def __enter__(self) -> ListReading[RowT]:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        if self._rows is not None:
            self._rows.close()
        self.close()

    def __repr__(self) -> str:
        return (
            f"<{type(self).__name__} {self.source!r}: read={self.read} kept={self.kept} "
            f"skipped={self.skipped} filtered_out={self.filtered_out}>"
        )
