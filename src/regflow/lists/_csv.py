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

Safety comes from bounds, so that no file, whatever its bytes, can make the
reader slow or big. The file is read in blocks and split into lines there
(``_lines``), so a line of gigabytes is cut as soon as it passes the row
limit. A quote left open swallows at most :data:`MAX_ROW_LINES` lines: past
that it is reported at its line, and the lines it took are read again as rows
of their own.
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
from ._lines import (
    CHUNK,
    MAX_HEADER_CHARS,
    MAX_ROW_CHARS,
    MAX_ROW_LINES,
    Lines,
    line_blocks,
    streamed,
)

__all__ = [
    "Layout",
    "ListReading",
    "Source",
]

Source: TypeAlias = "str | os.PathLike[str] | IO[str]"
"""A path to a CSV file, or a text file object already open on one."""

RowT = TypeVar("RowT")

_ZEROS: Final = frozenset(npn.encode() for npn in ZERO_NPNS)

# A tail longer than this is not remembered, so the tail cache stays small
# even when every row is padded differently; a real tail is under 100.
_TAIL_CHARS: Final = 160

_TOO_LONG: Final = f"a row has at most {MAX_ROW_CHARS:,} characters; this one has more"
_CELL_COUNT: Final = "the header has {} cells but this row has {}"
_JOINED: Final = (
    "the header has {} cells but this row, lines {:,} to {:,}, has {}; "
    "a quote left open may have joined those lines"
)
_NOT_CSV: Final = "the row is not readable as CSV: {}"
_NEVER_CLOSED: Final = "a quote opened on this line is never closed"
_SWALLOWS_REST: Final = (
    "; it would swallow the {:,} lines after it, to the end of the file, "
    "which are read as rows instead"
)
_NOT_CLOSED: Final = (
    f"a quote opened on this line is not closed within {MAX_ROW_LINES} lines "
    f"or {MAX_ROW_CHARS:,} characters, the most a row may span; it would "
    "swallow more than {:,} lines, which are read as rows instead"
)
_NOT_CLOSED_ALONE: Final = (
    "a quote opened on this line is not closed on it; the lines an unclosed "
    "quote would have swallowed are read one line per row"
)


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


class _Records:
    """Rows with quotes, read as :mod:`csv` reads them, within the bounds.

    One reader serves the whole file, fed one row at a time: building a
    reader per quoted row would cost more than the row.

    Attributes:
        taken: how many lines after its first the last row took.
        open: whether the last row's quote was still open at a bound; its
            cells are then nothing to go by.
        ended: whether that bound was the end of the file.
        horizon: the last line an unclosed quote took; up to it, a row
            must close its quotes on its own line.
    """

    __slots__ = (
        "_chars",
        "_first",
        "_limit",
        "_lines",
        "_next",
        "_reader",
        "_record",
        "_window",
        "ended",
        "horizon",
        "open",
        "taken",
    )

    def __init__(self, lines: Lines):
        self._lines = lines
        self._first = ""
        self._record = self._next = self._chars = self._limit = self._window = 0
        self.taken = self.horizon = 0
        self.open = self.ended = False
        self._reader = csv.reader(self._feed())

    def read(self, text: str, line: int, limit: int) -> list[str]:
        """Parse the row that starts with *text*, on *line*, in *limit* characters.

        Raises:
            csv.Error: if :mod:`csv` cannot read the row.
        """
        self._first = text + "\n"
        self._record += 1
        self._next = line + 1
        self._chars = len(text)
        self._limit = limit
        # Re-reading what an unclosed quote took, a quote that does not close
        # on its line is not given the next lines: that would read them all
        # again for each line, and a file of such lines would take hours.
        self._window = 1 if line <= self.horizon else MAX_ROW_LINES
        self.taken = 0
        self.open = self.ended = False
        return next(self._reader)

    def _feed(self) -> Iterator[str]:
        record = 0
        lines = self._lines
        while True:
            if record != self._record:
                record = self._record
                yield self._first
                continue
            # csv asks for another line only while a quote is open.
            if not self.open and self.taken + 1 < self._window:
                # The next line is most often in the current block: looked up
                # here, which saves calls per line of a quoted row.
                number = self._next
                index = number - lines.first
                here = lines.block[index] if index < len(lines.block) else b"\r\r"
                plain = here.find(b"\r", 0, len(here) - 1) < 0
                raw = here if plain else lines.line(number)
                text = None if raw is None else lines.text(raw, number)
                if text is not None and self._chars + len(text) <= self._limit:
                    self.taken += 1
                    self._next = number + 1
                    self._chars += len(text)
                    yield text + "\n"
                    continue
                self.ended = text is None
            self.open = True
            yield '"\n'  # closes the quote, so csv hands the row back


def _is_blank(row: Sequence[str]) -> bool:
    return not row or (len(row) == 1 and not row[0].strip())


def _npn_cell(raw: str) -> str:
    text = raw.strip()
    # Most NPNs are plain: saying so needs no NPN.problem(), which finds why not.
    plain = text.isdigit() and text.isascii() and len(text) <= MAX_NPN_DIGITS
    return text if plain and text not in ZERO_NPNS else check_npn(text)


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
    streams a block at a time, so memory does not grow with the file, whatever
    it holds. Like a file, a reading is consumed once; ``close()``, or leaving
    a ``with`` block, stops it early. Every row read lands in exactly one
    count, so ``read == kept + skipped + filtered_out`` always holds, also
    part way through.

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
        self._file: IO[Any] | None = None
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

    def _open(self) -> tuple[_Careful, int]:
        """Open the source, read its header; return the careful path, the header's line."""
        source = self._source
        if isinstance(source, str | os.PathLike):
            # Read as bytes and decoded line by line, which costs less than a
            # text file's decoding and names a bad byte at its very line.
            self._file = raw = open(source, "rb")  # noqa: SIM115
            pieces: Iterator[bytes] = iter(lambda: raw.read(CHUNK), b"")
            errors = "strict"
        else:
            pieces = streamed(source, self.source)
            errors = "surrogatepass"
        lines = Lines(line_blocks(pieces, errors), self.source, errors)
        records = _Records(lines)
        try:
            columns, top = self._header(lines, records)
        except BaseException:
            self.close()
            raise
        return _Careful(self._layout.fields, columns, lines, records, self._log), top

    def _header(self, lines: Lines, records: _Records) -> tuple[Columns, int]:
        """Read up to the header; return its columns and its last line."""
        number = used = 0
        while (raw := lines.line(number := number + 1)) is not None:
            text = lines.text(raw, number)
            if used + len(text) > MAX_HEADER_CHARS:
                raise ListFormatError(
                    self.source,
                    f"no header row ends within the first {MAX_HEADER_CHARS:,} "
                    f"characters (line {number:,} runs past them); a CMS list "
                    "starts with one short line naming its columns",
                )
            if '"' not in text:
                row = text.removesuffix("\r").split(",")
            else:
                where = f"the header at line {number:,}"
                try:
                    row = records.read(text, number, MAX_HEADER_CHARS - used)
                except csv.Error as error:
                    problem = f"{where} is not readable as CSV: {error}"
                    raise ListFormatError(self.source, problem) from error
                if records.open:
                    problem = (
                        f"a quote opened in {where} is never closed"
                        if records.ended
                        else f"a quote opened in {where} is not closed within "
                        f"{MAX_ROW_LINES} lines or {MAX_HEADER_CHARS:,} characters"
                    )
                    raise ListFormatError(self.source, problem)
                number += records.taken
            used += len(text) + 1
            if not _is_blank(row):
                lines.resume(number + 1)
                wanted = self._layout.columns
                return Columns.resolve(self.source, row, wanted), number
        names = ", ".join(repr(c) for c in self._layout.columns)
        raise ListFormatError(
            self.source, f"the file is empty; expected a header row naming {names}"
        )

    def _loop(self, careful: _Careful, top: int) -> Generator[RowT, None, None]:
        # This loop runs once per row of files of millions of rows; its first
        # `if` is the fast path: a split, two lookups, a few checks of the
        # NPN's characters, no call of ours. Anything else goes to _Careful.
        build = self._layout.build
        log = self._log
        lines = careful.lines
        tails = careful.tails
        zeros = _ZEROS
        most = MAX_NPN_DIGITS
        wanted = self._npns
        everything = wanted is None
        # One lookup serves the filter and the all-zeros check: both are
        # rare, and a lookup in a set of 50,000 NPNs, which misses the
        # processor's caches, is the dearest step of this loop.
        special = zeros | {npn.encode() for npn in wanted or ()}
        # Lines are bytes, so isdigit() takes ASCII digits only, and a line
        # the fast path takes is never decoded: its NPN is ASCII digits and
        # its tail the bytes of one decoded before.
        partition = bytes.partition
        comma = itertools.repeat(b",")
        kept = skipped = unfinished = 0
        try:
            for rows in lines.blocks():
                if log.full and (bad := careful.counted()):
                    skipped += bad
                    self._skipped = skipped
                    continue
                # A row's line is where its block's iterator stands: cheaper
                # than counting every row, and only asked for the rows kept.
                last = lines.last
                left = rows.__length_hint__
                # map splits each line at its first comma in C, with no
                # bytecode of ours per line.
                for npn, sep, tail in map(partition, rows, comma):
                    # The lookup goes first: while it waits on memory, the
                    # processor can already run the cheap checks after it.
                    if npn not in special:
                        if tail in tails and npn.isdigit() and len(npn) <= most:
                            if everything:
                                kept += 1
                                self._kept = kept
                                yield build(npn.decode(), last - left(), tails[tail])
                            continue
                    elif npn not in zeros and tail in tails:
                        # In `special` and not all zeros, so in `wanted`,
                        # which only valid NPNs were let into.
                        kept += 1
                        line = last - left()
                        self._kept = kept
                        self._filtered_out = (
                            line - top - careful.blank - careful.joined - kept - skipped
                        )
                        yield build(npn.decode(), line, tails[tail])
                        continue
                    line = unfinished = last - left()
                    kind, values = careful.check(npn + sep + tail, line)
                    unfinished = 0
                    last = lines.last  # splitting at a lone CR renumbers
                    if kind is _VALID:
                        if wanted is None or values[0] in wanted:
                            kept += 1
                            self._kept = kept
                            end = lines.position() - 1
                            self._filtered_out = careful.filtered(
                                end, top, kept, skipped
                            )
                            yield build(values[0], line, values[1:])
                    elif kind is _SKIPPED:
                        skipped += 1
                        self._skipped = skipped
        finally:
            self._kept, self._skipped = kept, skipped
            # A row that raised is in no count.
            end = unfinished - 1 if unfinished else lines.position() - 1
            self._filtered_out = careful.filtered(end, top, kept, skipped)
            if self._file is not None:
                self._file.close()
                self._file = None


_VALID: Final = "valid"
_SKIPPED: Final = "skipped"
_BLANK: Final = "blank"


class _Careful:
    """The slow, thorough path: a line the fast path could not vouch for.

    It parses the row (with :mod:`csv` when it has quotes, which may pull
    further lines), checks every cell, and remembers a valid row's tail so the
    fast path accepts the next line that shares it.

    Attributes:
        lines: the file's lines.
        tails: the parsed values of each tail found valid.
        blank: how many blank lines were seen.
        joined: how many lines were read as part of an earlier line's row.
    """

    __slots__ = (
        "_checks",
        "_log",
        "_npn_first",
        "_records",
        "_width",
        "blank",
        "joined",
        "lines",
        "tails",
    )

    def __init__(
        self,
        fields: Sequence[Field],
        columns: Columns,
        lines: Lines,
        records: _Records,
        log: ProblemLog,
    ):
        caches: dict[object, CellCache[object]] = {}
        parsers = [_npn_cell] + [
            caches.setdefault(f.parse, CellCache(f.parse)).value for f in fields[1:]
        ]
        self._checks = [
            (f.column, i, parse)
            for f, i, parse in zip(fields, columns.indexes, parsers, strict=True)
        ]
        self._width = columns.width
        # Tails are only remembered when the NPN is the first column, as CMS
        # publishes the lists; another order is read correctly, the slow way.
        self._npn_first = columns.indexes[0] == 0
        self._records = records
        self._log = log
        self.lines = lines
        self.tails: dict[bytes, tuple[Any, ...]] = {}
        self.blank = self.joined = 0

    def filtered(self, end: int, top: int, kept: int, skipped: int) -> int:
        """How many rows were filtered out, once the lines up to *end* are read."""
        return end - top - self.blank - self.joined - kept - skipped

    def check(self, raw: bytes, line: int) -> tuple[str, tuple[Any, ...]]:
        """Check the row starting with the line *raw*, line number *line*.

        Returns:
            Whether the row is valid, skipped or blank, and, when valid, its
            values in field order, the NPN first.

        Raises:
            ListFormatError: if the line is not UTF-8.
        """
        lines = self.lines
        if raw.find(b"\r", 0, len(raw) - 1) >= 0:
            raw = lines.split_line(line)
        try:
            text = raw.decode("utf-8", lines.errors)
        except UnicodeDecodeError:
            text = lines.text(raw, line)
        body = text.removesuffix("\r")
        log = self._log
        if len(body) > MAX_ROW_CHARS:
            log.add(line, None, body, _TOO_LONG)
            return _SKIPPED, ()
        quoted = '"' in body
        if quoted:
            found = self._quoted(text, raw, line)
            if found is None:
                return _SKIPPED, ()
            row = found
        else:
            row = body.split(",")
        if len(row) == 1 and not row[0].strip():
            self.blank += 1
            return _BLANK, ()
        # Only a line that is a row by itself is remembered: what a quoted row
        # spanning lines makes of them depends on the lines.
        single = not (quoted and self._records.taken)
        if len(row) != self._width:
            width, cells = self._width, len(row)
            if not single:
                end = line + self._records.taken
                log.add(line, None, ",".join(row), _JOINED, width, line, end, cells)
            else:
                shown = ",".join(row) if quoted else body
                log.add(line, None, shown, _CELL_COUNT, width, cells)
                if log.full:
                    log.remember(raw, (None,))
            return _SKIPPED, ()
        try:
            values = tuple([parse(row[i]) for _, i, parse in self._checks])
        except CellError:
            # Check again, cell by cell, to report every bad cell, not the first.
            bad: list[str | None] = []
            for column, i, parse in self._checks:
                try:
                    parse(row[i])
                except CellError as error:
                    log.add(line, column, row[i], error.reason)
                    bad.append(column)
            if log.full and single:
                log.remember(raw, tuple(bad))
            return _SKIPPED, ()
        npn, _, tail = raw.partition(b",")
        if (
            self._npn_first
            and single
            and b'"' not in npn
            and len(tail) <= _TAIL_CHARS
            and len(self.tails) < CACHE_LIMIT
        ):
            # The NPN cell is plain text up to the first comma, so the rest of
            # the line parses the same wherever it recurs.
            self.tails[tail] = values[1:]
        return _VALID, values

    def counted(self) -> int:
        """Count the rest of the block at once if it is all known bad lines.

        Returns:
            How many rows were counted, all skipped; 0 if none were.
        """
        lines = self.lines
        index = len(lines.block) - lines.rows.__length_hint__()
        texts = lines.block[index:] if index else lines.block
        alone = lines.first + index <= self._records.horizon
        if not self._log.counted(texts, alone):
            return 0
        if alone:
            self._records.horizon = lines.last + 1
        lines.rows.__setstate__(len(lines.block))
        return len(texts)

    def _quoted(self, text: str, raw: bytes, line: int) -> list[str] | None:
        """The cells of a row with quotes, or ``None`` if it is reported."""
        records = self._records
        alone = line <= records.horizon
        args: tuple[object, ...]
        try:
            row = records.read(text, line, MAX_ROW_CHARS)
        except csv.Error as error:
            reason, args = _NOT_CSV, (error,)
            taken = records.taken
        else:
            if not records.open:
                if records.taken or self.lines.borrowing:
                    self.lines.resume(line + 1 + records.taken)
                self.joined += records.taken
                return row
            if alone:
                reason, args = _NOT_CLOSED_ALONE, ()
            elif records.ended:
                reason = _NEVER_CLOSED + (_SWALLOWS_REST if records.taken else "")
                args = (records.taken,)
            else:
                reason, args = _NOT_CLOSED, (records.taken,)
            # A line after them that leaves a quote open is read alone too.
            taken = max(records.taken, 1)
        self._log.add(line, None, text.removesuffix("\r"), reason, *args)
        if alone and self._log.full:
            self._log.remember(raw, (None,), alone=True)
        # What the row took is read again, a line per row, so one stray
        # quote costs one row, not the rest of the file.
        records.horizon = max(records.horizon, line + taken)
        if records.taken or self.lines.borrowing:
            self.lines.resume(line + 1)
        return None
