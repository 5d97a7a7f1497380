"""The engine every CMS list reader shares: the file, the header, the row loop.

A list is described by a :class:`Layout` (its fields, the NPN first, and how
to build its row); :class:`ListReading` streams any such list.

Speed comes from how repetitive the lists are. Apart from the NPN, a row's
text (its plan year, dates and flags, called its *tail* here) repeats across
thousands of rows. The first time a tail is seen, its line goes the careful
way: parsed like :mod:`csv` does, every cell checked. A tail found valid is
remembered with its parsed values, so the next line with the same tail costs a
split at the first comma, one lookup and a check of the NPN's characters:
every row is still validated, without paying for :mod:`csv` and a parser per
cell.
"""

from __future__ import annotations

import csv
import itertools
import os
from collections.abc import Callable, Generator, Iterable, Iterator, Sequence
from types import MappingProxyType, TracebackType
from typing import IO, Any, Final, Generic, TypeAlias, TypeVar

import attrs

from .._errors import ListFormatError
from .._npn import NPN
from ._cells import (
    CACHE_LIMIT,
    MAX_NPN_DIGITS,
    ZERO_NPNS,
    CellCache,
    CellError,
    Columns,
    Field,
    ProblemLog,
    RowProblem,
    check_npn,
)

__all__ = ["Layout", "ListReading", "Source"]

Source: TypeAlias = "str | os.PathLike[str] | IO[str]"
"""A path to a CSV file, or a text file object already open on one."""

RowT = TypeVar("RowT")

_BOM: Final = "\ufeff"


@attrs.frozen(slots=True)
class Layout(Generic[RowT]):
    """What a list's rows hold and how to build one.

    Attributes:
        build: makes a row from its NPN, its line and the other fields'
            values in field order; written out per list, as keyword
            arguments spelled out are cheaper than a dict spread with ``**``.
        fields: the list's columns; the first is the NPN.
    """

    build: Callable[[str, int, tuple[Any, ...]], RowT]
    fields: tuple[Field, ...]

    @property
    def columns(self) -> tuple[str, ...]:
        """The published headers, in the published order."""
        return tuple(field.column for field in self.fields)


def _is_blank(row: Sequence[str]) -> bool:
    return not row or (len(row) == 1 and not row[0].strip())


def _npn_cell(raw: str) -> str:
    return check_npn(raw.strip())


def _valid_npns(npns: Iterable[str | NPN]) -> frozenset[str]:
    texts = (str(npn).strip() for npn in npns)
    return frozenset(
        text
        for text in texts
        if text.isdigit() and text.isascii() and len(text) <= MAX_NPN_DIGITS
        if text not in ZERO_NPNS
    )


def _source_name(source: Source) -> str:
    if isinstance(source, str | os.PathLike):
        return os.fsdecode(source)
    name = getattr(source, "name", None)
    return name if isinstance(name, str) else "<stream>"


class ListReading(Generic[RowT]):
    """One pass over a CMS list file: an iterator of rows, plus what it found.

    Nothing is opened or read until the first row is asked for; then the file
    streams one row at a time, so memory does not grow with the file. Like a
    file, a reading is consumed once; ``close()``, or leaving a ``with``
    block, stops it early. Every row read lands in exactly one count, so
    ``read == kept + skipped + filtered_out`` always holds, also part way
    through.

    Attributes:
        source: the file's path or name, as shown in errors.
    """

    __slots__ = (
        "_file",
        "_filtered_out",
        "_kept",
        "_layout",
        "_log",
        "_npns",
        "_rows",
        "_skipped",
        "_source",
        "source",
    )

    def __init__(
        self,
        source: Source,
        layout: Layout[RowT],
        npns: Iterable[str | NPN] | None = None,
    ):
        self.source = _source_name(source)
        self._source = source
        self._layout = layout
        # str() lets NPN objects in. An entry that is no NPN is dropped: the
        # fast path takes a row whose NPN is in the set as valid.
        self._npns = None if npns is None else _valid_npns(npns)
        self._kept = self._skipped = self._filtered_out = 0
        self._log = ProblemLog()
        self._file: IO[str] | None = None
        self._rows: Generator[RowT, None, None] | None = None

    @property
    def read(self) -> int:
        """How many rows were read so far; blank lines are no rows."""
        return self._kept + self._skipped + self._filtered_out

    @property
    def kept(self) -> int:
        """How many valid rows were handed out."""
        return self._kept

    @property
    def skipped(self) -> int:
        """How many rows had a problem, and were not handed out."""
        return self._skipped

    @property
    def filtered_out(self) -> int:
        """How many valid rows were left out because their NPN was not asked for."""
        return self._filtered_out

    @property
    def problems(self) -> tuple[RowProblem, ...]:
        """The problems found so far, in file order: the first 1,000 of them.

        See :attr:`problem_count` for how many there were in all.
        """
        return tuple(self._log.kept)

    @property
    def problem_count(self) -> int:
        """How many problems were found so far, kept in :attr:`problems` or not."""
        return self._log.total

    @property
    def problem_counts(self) -> MappingProxyType[str | None, int]:
        """How many problems each column had; ``None`` counts whole-row problems.

        Complete even when :attr:`problems` was cut.
        """
        return MappingProxyType(dict(self._log.counts))

    @property
    def problems_truncated(self) -> bool:
        """Whether :attr:`problems` holds fewer problems than were found."""
        return self._log.total > len(self._log.kept)

    def __iter__(self) -> Iterator[RowT]:
        # The row generator itself, so a for loop resumes it directly,
        # without a call of ours per row.
        if self._rows is None:
            self._rows = self._loop(*self._open())
        return self._rows

    def __next__(self) -> RowT:
        return next(iter(self))

    def close(self) -> None:
        """Stop reading; close the file if this reading opened it.

        A file object the caller passed in is left open.
        """
        if self._rows is not None:
            self._rows.close()
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
        self.close()

    def __repr__(self) -> str:
        return (
            f"<{type(self).__name__} {self.source!r}: read={self.read} kept={self.kept} "
            f"skipped={self.skipped} filtered_out={self.filtered_out}>"
        )

    def _open(self) -> tuple[Iterator[str], Columns, int]:
        """Open the source and read its header; return the lines that follow."""
        source = self._source
        if isinstance(source, str | os.PathLike):
            # utf-8-sig drops a byte-order mark; newline="" keeps line ends as
            # written, which csv needs for line breaks inside quoted cells.
            self._file = open(source, encoding="utf-8-sig", newline="")  # noqa: SIM115
            lines: Iterator[str] = iter(self._file)
        else:
            lines = iter(source)
        try:
            columns, consumed = self._header(lines)
        except BaseException:
            self.close()
            raise
        return lines, columns, consumed

    def _header(self, lines: Iterator[str]) -> tuple[Columns, int]:
        """Read up to the header; return its columns and the lines it took."""
        consumed = 0
        try:
            for text in lines:
                if not isinstance(text, str):
                    raise ListFormatError(
                        self.source,
                        "the file gives bytes, not text; open it in text mode, e.g. "
                        "open(path, encoding='utf-8-sig', newline='')",
                    )
                if consumed == 0:
                    # A file object opened as plain utf-8 keeps the mark.
                    text = text.removeprefix(_BOM)
                record = csv.reader(itertools.chain((text,), lines))
                header = next(record, [])
                consumed += record.line_num
                if not _is_blank(header):
                    wanted = self._layout.columns
                    return Columns.resolve(self.source, header, wanted), consumed
        except UnicodeDecodeError as error:
            raise self._not_utf8(consumed + 1, error) from error
        except csv.Error as error:
            problem = (
                f"the header at line {consumed + 1} is not readable as CSV: {error}"
            )
            raise ListFormatError(self.source, problem) from error
        names = ", ".join(repr(c) for c in self._layout.columns)
        raise ListFormatError(
            self.source, f"the file is empty; expected a header row naming {names}"
        )

    def _not_utf8(self, line: int, error: UnicodeDecodeError) -> ListFormatError:
        return ListFormatError(
            self.source,
            f"the text near line {line} is not UTF-8 ({error.reason}); save the file as UTF-8",
        )

    def _loop(
        self, lines: Iterator[str], columns: Columns, consumed: int
    ) -> Generator[RowT, None, None]:
        # This loop runs once per row of files of millions of rows; its first
        # `if` is the fast path: a split, a lookup, a few checks of the NPN's
        # characters, no call of ours. Anything else goes to _Careful.
        build = self._layout.build
        # map splits each line at its first comma in C, with no bytecode of
        # ours per line. It takes a line from `lines` only when asked, so the
        # careful path can pull a row's further lines from `lines` itself.
        split = map(str.partition, lines, itertools.repeat(","))
        careful = _Careful(self._layout.fields, columns, self._log)
        tails = careful.tails
        zeros = ZERO_NPNS
        most = MAX_NPN_DIGITS
        wanted = self._npns
        # Line n of the loop (1-based) starts on physical line consumed + n +
        # extra, extra counting the further lines of rows whose quoted cells
        # hold line breaks; n - blank rows have been read.
        extra = blank = kept = skipped = 0
        n = 0
        try:
            if wanted is None:
                for n, (npn, sep, tail) in enumerate(split, 1):
                    if (
                        tail in tails
                        and npn.isdigit()
                        and npn.isascii()
                        and len(npn) <= most
                        and npn not in zeros
                    ):
                        kept += 1
                        self._kept = kept
                        yield build(npn, consumed + n + extra, tails[tail])
                        continue
                    line = consumed + n + extra
                    kind, spans, values = careful.check(npn + sep + tail, lines, line)
                    extra += spans - 1
                    if kind is _VALID:
                        kept += 1
                        self._kept = kept
                        yield build(values[0], line, values[1:])
                    elif kind is _SKIPPED:
                        skipped += 1
                        self._skipped = skipped
                    else:
                        blank += 1
            else:
                # One lookup serves the filter and the all-zeros check: both
                # are rare, and a lookup in a set of 50,000 NPNs, which misses
                # the processor's caches, is the dearest step of this loop.
                special = wanted | zeros
                for n, (npn, sep, tail) in enumerate(split, 1):
                    # The lookup goes first: while it waits on memory, the
                    # processor can already run the cheap checks after it.
                    if npn not in special:
                        if (
                            tail in tails
                            and npn.isdigit()
                            and npn.isascii()
                            and len(npn) <= most
                        ):
                            continue
                    elif npn not in zeros and tail in tails:
                        # In `special` and not all zeros, so in `wanted`, which
                        # only valid NPNs were let into.
                        kept += 1
                        self._kept = kept
                        self._filtered_out = n - blank - kept - skipped
                        yield build(npn, consumed + n + extra, tails[tail])
                        continue
                    line = consumed + n + extra
                    kind, spans, values = careful.check(npn + sep + tail, lines, line)
                    extra += spans - 1
                    if kind is _VALID:
                        if values[0] in wanted:
                            kept += 1
                            self._kept = kept
                            self._filtered_out = n - blank - kept - skipped
                            yield build(values[0], line, values[1:])
                    elif kind is _SKIPPED:
                        skipped += 1
                        self._skipped = skipped
                    else:
                        blank += 1
        except UnicodeDecodeError as error:
            raise self._not_utf8(consumed + n + extra + 1, error) from error
        finally:
            self._kept, self._skipped = kept, skipped
            self._filtered_out = n - blank - kept - skipped
            if self._file is not None:
                self._file.close()
                self._file = None


_VALID: Final = "valid"
_SKIPPED: Final = "skipped"
_BLANK: Final = "blank"


class _Careful:
    """The slow, thorough path: a line the fast path could not vouch for.

    It parses the row with :mod:`csv` (pulling further lines for quoted line
    breaks), checks every cell, and remembers a valid row's tail so the fast
    path accepts the next line that shares it.
    """

    __slots__ = ("_checks", "_log", "_npn_first", "_width", "tails")

    def __init__(self, fields: Sequence[Field], columns: Columns, log: ProblemLog):
        caches: dict[object, CellCache[object]] = {}
        parsers = [_npn_cell] + [
            caches.setdefault(f.parse, CellCache(f.parse)).value for f in fields[1:]
        ]
        self._checks = list(zip(fields, columns.indexes, parsers, strict=True))
        self._width = columns.width
        # Tails are only remembered when the NPN is the first column, as CMS
        # publishes the lists; another order is read correctly, the slow way.
        self._npn_first = columns.indexes[0] == 0
        self._log = log
        self.tails: dict[str, tuple[Any, ...]] = {}

    def check(
        self, text: str, lines: Iterator[str], line: int
    ) -> tuple[str, int, tuple[Any, ...]]:
        """Check the row starting with *text* on *line*.

        Returns:
            Whether the row is valid, skipped or blank; how many physical
            lines it took; and, when valid, its values in field order, the
            NPN first.
        """
        body = text.rstrip("\r\n")
        if '"' in body or "\r" in body or "\n" in body:
            record = csv.reader(itertools.chain((text,), lines))
            try:
                row = next(record, [])
            except csv.Error as error:
                reason = "the row is not readable as CSV: {}"
                self._log.add(line, None, text, reason, error)
                return _SKIPPED, record.line_num, ()
            spans = record.line_num
        else:
            # Without quotes a line is just its cells between commas; this
            # spares building a csv reader for every new tail.
            row = body.split(",")
            spans = 1
        if _is_blank(row):
            return _BLANK, spans, ()
        if len(row) != self._width:
            reason = "the header has {} cells but this row has {}"
            self._log.add(line, None, ",".join(row), reason, self._width, len(row))
            return _SKIPPED, spans, ()
        try:
            values = tuple([parse(row[i]) for _, i, parse in self._checks])
        except CellError:
            # Check again, cell by cell, to report every bad cell, not the first.
            for f, i, parse in self._checks:
                try:
                    parse(row[i])
                except CellError as error:
                    self._log.add(line, f.column, row[i], error.reason)
            return _SKIPPED, spans, ()
        npn, _, tail = text.partition(",")
        if (
            self._npn_first
            and spans == 1
            and '"' not in npn
            and len(self.tails) < CACHE_LIMIT
        ):
            # The NPN cell is plain text up to the first comma, so the rest of
            # the line parses the same wherever it recurs.
            self.tails[tail] = values[1:]
        return _VALID, spans, values
