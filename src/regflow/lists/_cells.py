"""The cells of the CMS lists: parsing one, and saying why it is wrong.

Each parser takes a cell's text with surrounding spaces already trimmed and
returns its value, or raises :class:`CellError` with a plain English reason.
:class:`Columns` finds the cells' columns in a header; :class:`ProblemLog`
keeps what was wrong.
"""

from __future__ import annotations

import calendar
import collections
import datetime as dt
import enum
import re
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Final, TypeVar

import attrs

from .._errors import ListFormatError
from .._npn import NPN

__all__ = [
    "CACHE_LIMIT",
    "MAX_CACHED_CHARS",
    "MAX_KEPT_PROBLEMS",
    "MAX_NPN_DIGITS",
    "ZERO_NPNS",
    "CellCache",
    "CellError",
    "Columns",
    "Field",
    "ProblemLog",
    "RowProblem",
    "check_npn",
    "enum_parser",
    "header_key",
    "parse_date",
    "parse_plan_year",
    "shown",
    "slot_setters",
]

T = TypeVar("T")
E = TypeVar("E", bound=enum.Enum)

MAX_NPN_DIGITS: Final = 10

# NPN.problem refuses an all-zeros NPN; the hot loop tests this set instead of
# counting zeros, which costs one hash lookup per row.
ZERO_NPNS: Final = frozenset("0" * n for n in range(1, MAX_NPN_DIGITS + 1))

# Distinct cell texts are few (dates, years, flags), but a broken or hostile
# file could make every one different; past this many a cache stops growing
# and the reader stays correct, only slower.
CACHE_LIMIT: Final = 50_000

# A cache bounded only in entries could still hold 50,000 cells padded to
# the row limit; a longer text is parsed each time instead, as no real cell of
# these lists (a date, a year, a flag) comes near this length.
MAX_CACHED_CHARS: Final = 64

MAX_KEPT_PROBLEMS: Final = 1_000
"""The most :class:`RowProblem` objects a reading keeps; later ones are only counted."""

# Bad lines are remembered (see ProblemLog) only if this short, and only so
# many: the lines a file repeats by the million are short and few, and what
# is remembered stays about a megabyte.
_REMEMBERED_CHARS: Final = 100
_REMEMBERED: Final = 10_000

# A shown value longer than this is cut, so one runaway cell cannot make a
# problem report megabytes long.
_SHOWN_LIMIT: Final = 200

# A header with thousands of columns must not make an error thousands of
# names long: this many are named, each cut to _NAME_LIMIT characters.
_NAMES_SHOWN: Final = 12
_NAME_LIMIT: Final = 40

_FIRST_PLAN_YEAR: Final = 2014
_DATE = re.compile(r"(\d{1,2})/(\d{1,2})/(\d{4})", re.ASCII)

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
            as a whole is wrong (a wrong number of cells, broken quoting).
        value: the cell as written, or the row as written; cut at 200
            characters.
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


@attrs.frozen(slots=True)
class Field:
    """One column of a list: where its value goes and how it is parsed.

    Attributes:
        name: the row class's attribute.
        column: the published header.
        parse: turns the trimmed cell text into the value, or raises
            :class:`CellError`.
        alias: the machine name of the column, as data.healthcare.gov's API
            and older files spell it (``applicable_plan_year``), or ``""``.
    """

    name: str
    column: str
    parse: Callable[[str], object]
    alias: str = ""


class CellCache(dict[str, T]):
    """Parsed cells keyed by their raw text, so a repeated cell is parsed once.

    Keys are the raw text, surrounding spaces included: only a miss pays for
    trimming and parsing. A cell that does not parse is not kept.
    """

    __slots__ = ("_parse",)

    def __init__(self, parse: Callable[[str], T]):
        super().__init__()
        self._parse = parse

    def value(self, raw: str) -> T:
        """Return the parsed *raw*, or raise :class:`CellError` saying why not."""
        try:
            return self[raw]
        except KeyError:
            pass
        parsed = self._parse(raw.strip())
        if len(self) < CACHE_LIMIT and len(raw) <= MAX_CACHED_CHARS:
            self[raw] = parsed
        return parsed


class ProblemLog:
    """A reading's problems: the first :data:`MAX_KEPT_PROBLEMS` kept, all counted.

    A file of millions of bad rows would otherwise keep millions of problems;
    past the limit only the counts grow, so memory stays flat however bad the
    file is, and the counts stay complete. Past it too, a short bad line can
    be remembered with the columns of its problems, so a block of lines all
    known bad is counted at once: a file of millions of copies of one bad
    line, the cheapest file to write, then reads fast as well.

    Attributes:
        kept: the first problems, in file order.
        counts: how many problems each column had; ``None`` counts problems
            of a row as a whole.
        total: how many problems were found.
        full: whether problems are now only counted.
    """

    __slots__ = ("_alone", "_known", "counts", "full", "kept", "shift", "total")

    def __init__(self) -> None:
        # Subtracted from a line to number a problem: 1 for JSON pages, whose
        # rows are numbered by result, after the header their reader writes.
        self.shift = 0
        self.kept: list[RowProblem] = []
        self.counts: dict[str | None, int] = {}
        self.total = 0
        self.full = False
        self._known: dict[bytes, tuple[str | None, ...]] = {}
        self._alone: set[bytes] = set()

    def add(
        self, line: int, column: str | None, value: str, reason: str, *args: object
    ) -> None:
        """Count a problem; keep it while fewer than the limit are kept.

        Args:
            line: the row's first physical line.
            column: the published header of the bad cell, or ``None``.
            value: the cell or row as written; cut when kept.
            reason: the plain English reason, formatted with *args* only when
                kept, so counting a problem past the limit builds no text.
        """
        self.total += 1
        self.counts[column] = self.counts.get(column, 0) + 1
        if not self.full:
            text = reason.format(*args) if args else reason
            self.kept.append(
                RowProblem(
                    line=line - self.shift,
                    column=column,
                    value=shown(value),
                    reason=text,
                )
            )
            self.full = len(self.kept) >= MAX_KEPT_PROBLEMS

    def remember(
        self, text: bytes, columns: tuple[str | None, ...], *, alone: bool = False
    ) -> None:
        """Note that the line *text* is bad wherever it is, with *columns*' problems.

        With *alone*, only among lines read one line per row (see
        :meth:`counted`); its one problem is then of the whole row.
        """
        if self.full and len(text) <= _REMEMBERED_CHARS:
            if alone and len(self._alone) < _REMEMBERED:
                self._alone.add(text)
            elif not alone and len(self._known) < _REMEMBERED:
                self._known[text] = columns

    def counted(self, texts: list[bytes], alone: bool) -> bool:
        """Count the problems of *texts*, if all are remembered bad; say if they were.

        Args:
            texts: whole lines, each a row.
            alone: whether they are read one line per row.
        """
        if not (self.full and texts):
            return False
        if alone:
            if not all(map(self._alone.__contains__, texts)):
                return False
            self.total += len(texts)
            self.counts[None] = self.counts.get(None, 0) + len(texts)
            return True
        known = self._known
        if not all(map(known.__contains__, texts)):
            return False
        for text, times in collections.Counter(texts).items():
            for column in known[text]:
                self.counts[column] = self.counts.get(column, 0) + times
            self.total += times * len(known[text])
        return True


def slot_setters(cls: type[Any]) -> dict[str, Callable[[object, Any], None]]:
    """The setters of a frozen, slotted attrs class's fields, by field name.

    A row built with them costs half what attrs' ``__init__`` does, as that
    sets each field through ``object.__setattr__``, which looks the slot up by
    name; a reading builds a row for every row it hands out. They stand in for
    ``__init__`` only while it does nothing but set the fields.

    Raises:
        TypeError: if *cls* has a validator, a converter or a post-init
            hook, which the setters would skip.
    """
    fields = attrs.fields(cls)
    if any(f.validator or f.converter for f in fields) or hasattr(
        cls, "__attrs_post_init__"
    ):
        raise TypeError(
            f"{cls.__name__}.__init__ does more than set its fields; "
            "build its rows with it instead of slot_setters()"
        )
    return {f.name: cls.__dict__[f.name].__set__ for f in fields}


def shown(text: str, limit: int = _SHOWN_LIMIT) -> str:
    """Return *text*, cut to a length fit for a problem report."""
    if len(text) <= limit:
        return text
    return text[:limit] + "..."


def header_key(name: str) -> str:
    """The name a header cell means, whatever its case, spacing or BOM."""
    # Copies of the lists differ in case ("Shop" / "SHOP"), spacing and a
    # leading byte-order mark; none of that changes which column is meant.
    return " ".join(name.replace("\ufeff", "").split()).casefold()


def _named(header: Sequence[str]) -> str:
    names = ", ".join(
        repr(shown(name.strip(), _NAME_LIMIT)) for name in header[:_NAMES_SHOWN]
    )
    if len(header) > _NAMES_SHOWN:
        names += f" and {len(header) - _NAMES_SHOWN:,} more"
    return names


@attrs.frozen(slots=True)
class Columns:
    """Where each field's column sits, resolved once from the header.

    Attributes:
        indexes: the position of each field's column, in the layout's order.
        width: how many cells the header has; every row must have as many.
    """

    indexes: tuple[int, ...]
    width: int

    @classmethod
    def resolve(
        cls,
        source: str,
        header: Sequence[str],
        wanted: Sequence[str],
        aliases: Sequence[str] = (),
    ) -> Columns:
        """Find each of *wanted* in *header*, or raise :class:`ListFormatError`.

        When *aliases* (the same columns' machine names, in *wanted*'s order)
        are given and the header names more of them than of *wanted*, the
        header is of that layout and the aliases are looked for instead, so
        one reader, and one row loop, reads both layouts. Errors then name
        the aliases, as those are what the file was written with.
        """
        positions: dict[str, list[int]] = {}
        for index, name in enumerate(header):
            positions.setdefault(header_key(name), []).append(index)
        if aliases:
            published = sum(header_key(name) in positions for name in wanted)
            if sum(header_key(name) in positions for name in aliases) > published:
                wanted = aliases
        missing = [name for name in wanted if header_key(name) not in positions]
        if missing:
            names = ", ".join(repr(name) for name in missing)
            plural = "s" if len(missing) > 1 else ""
            raise ListFormatError(
                source,
                f"missing required column{plural} {names} "
                f"(the header has {_named(header)})",
            )
        for name in wanted:
            if len(positions[header_key(name)]) > 1:
                raise ListFormatError(
                    source,
                    f"column {name!r} appears more than once in the header "
                    f"({_named(header)})",
                )
        return cls(
            tuple(positions[header_key(name)][0] for name in wanted), len(header)
        )


def parse_date(text: str) -> dt.date | None:
    """Return the date in *text*, written ``MM/DD/YYYY``; blank means none.

    A one-digit month or day (``1/5/2024``, as a spreadsheet may save it) is
    read too.
    """
    if not text:
        return None
    found = _DATE.fullmatch(text)
    if found is None:
        raise CellError("a date is written MM/DD/YYYY, or left blank")
    month, day, year = (int(part) for part in found.groups())
    if year < dt.MINYEAR:
        raise CellError("there is no year 0; a date is written MM/DD/YYYY")
    if not 1 <= month <= 12:
        raise CellError(f"there is no month {month}; a date is written MM/DD/YYYY")
    days = calendar.monthrange(year, month)[1]
    if not 1 <= day <= days:
        name = calendar.month_name[month]
        raise CellError(f"there is no day {day} in {name} {year}, which has {days}")
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
    """Return a parser of *members*' codes (case-insensitive) that names *what*."""
    expected = ", ".join(members)

    def parse(text: str) -> E:
        try:
            return members[text.upper()]
        except KeyError:
            raise CellError(f"unknown {what}; expected one of {expected}") from None

    return parse


def check_npn(text: str) -> str:
    """Return *text* if it is an NPN, or raise :class:`CellError` saying why."""
    problem = NPN.problem(text)
    if problem is None:
        return text
    if problem == "too_long":
        reason = f"an NPN has at most {MAX_NPN_DIGITS} digits, this one has {len(text)}"
    elif problem == "not_digit":
        bad = next(c for c in text if not (c.isascii() and c.isdigit()))
        reason = f"an NPN is digits only, this one contains {bad!r}"
    else:
        reason = _NPN_REASONS.get(problem, f"not an NPN ({problem})")
    raise CellError(reason)
