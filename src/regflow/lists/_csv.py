"""The engine every CMS list reader shares: the file, the header, the row loop.

A list is described by a :class:`Layout` (its fields, the NPN first, and how
to build its row); :class:`ListReading` streams any such list.

Speed comes from how repetitive the lists are. Apart from the NPN, a row's
text (its plan year, dates and flags, called its *tail* here) repeats across
thousands of rows. The first time a tail is seen, its line goes the careful
way (``_careful``): parsed like :mod:`csv` does, every cell checked. A tail
found valid is remembered with its parsed values, so the next line with the
same tail costs the row loop here a split at the first comma, one lookup and
a check of the NPN's characters: every row is still validated, without paying
for :mod:`csv` and a parser per cell.

Safety comes from bounds, so that no file, whatever its bytes, can make the
reader slow or big. The file is read in blocks and split into lines there
(``_lines``), so a line of gigabytes is cut as soon as it passes the row
limit; the careful path bounds the lines a quote left open may take; and the
header, read here, must end within :data:`MAX_HEADER_CHARS` characters.
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
from ._careful import SKIPPED, VALID, Careful, Records
from ._cells import MAX_NPN_DIGITS, ZERO_NPNS, Columns, Field, ProblemLog, RowProblem
from ._json import Page, is_json_path, page_lines, page_name
from ._lines import CHUNK, MAX_HEADER_CHARS, MAX_ROW_LINES, Lines, line_blocks, streamed

__all__ = ["Layout", "ListReading", "Source"]

Source: TypeAlias = "str | os.PathLike[str] | IO[str]"
"""A path to a CSV file, or a text file object already open on one."""

RowT = TypeVar("RowT")

_ZEROS: Final = frozenset(npn.encode() for npn in ZERO_NPNS)


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

    @property
    def aliases(self) -> tuple[str, ...]:
        """The machine names of the columns, or ``()`` if the list has none."""
        names = tuple(field.alias for field in self.fields)
        return names if all(names) else ()


def _is_blank(row: Sequence[str]) -> bool:
    return not row or (len(row) == 1 and not row[0].strip())


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
        "_pages",
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
        pages: Sequence[Page] | None = None,
    ):
        # *pages*, JSON result pages, are read instead of *source* when given.
        self.source = _source_name(source)
        if pages is not None:
            self.source = page_name(pages[0]) if pages else "<no pages>"
            if len(pages) > 1:
                self.source += f" and {len(pages) - 1:,} more pages"
        self._pages = None if pages is None else tuple(pages)
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

    def _open(self) -> tuple[Careful, int]:
        """Open the source, read its header; return the careful path, the header's line."""
        source = self._source
        pieces: Iterator[bytes]
        json_path = isinstance(source, str | os.PathLike) and is_json_path(source)
        if self._pages is None and json_path:
            self._pages = (source,)
        if self._pages is not None:
            aliases = self._layout.aliases
            if not aliases:
                raise ListFormatError(self.source, "this list has no JSON layout")
            pieces = page_lines(self._pages, aliases)
            # JSON text may hold lone surrogates; they reach a cell, and are
            # reported there, as they are from a text file object.
            errors = "surrogatepass"
            # The first line is the header page_lines wrote: a result's
            # number is its line less one.
            self._log.shift = 1
        elif isinstance(source, str | os.PathLike):
            # Read as bytes and decoded line by line, which costs less than a
            # text file's decoding and names a bad byte at its very line.
            self._file = raw = open(source, "rb")  # noqa: SIM115
            pieces = iter(lambda: raw.read(CHUNK), b"")
            errors = "strict"
        else:
            pieces = streamed(source, self.source)
            errors = "surrogatepass"
        lines = Lines(line_blocks(pieces, errors), self.source, errors)
        records = Records(lines)
        try:
            columns, top = self._header(lines, records)
        except BaseException:
            self.close()
            raise
        return Careful(self._layout.fields, columns, lines, records, self._log), top

    def _header(self, lines: Lines, records: Records) -> tuple[Columns, int]:
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
                layout = self._layout
                columns = Columns.resolve(
                    self.source, row, layout.columns, layout.aliases
                )
                return columns, number
        names = ", ".join(repr(c) for c in self._layout.columns)
        raise ListFormatError(
            self.source, f"the file is empty; expected a header row naming {names}"
        )

    def _loop(self, careful: Careful, top: int) -> Generator[RowT, None, None]:
        # This loop runs once per row of files of millions of rows; its first
        # `if` is the fast path: a split, two lookups, a few checks of the
        # NPN's characters, no call of ours. Anything else goes to Careful.
        build = self._layout.build
        if self._log.shift:
            # JSON pages only, whose rows are numbered by result, not line.
            shift, whole = self._log.shift, build

            def build(npn: str, line: int, values: tuple[Any, ...]) -> RowT:
                return whole(npn, line - shift, values)

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
                    if kind is VALID:
                        if wanted is None or values[0] in wanted:
                            kept += 1
                            self._kept = kept
                            end = lines.position() - 1
                            self._filtered_out = careful.filtered(
                                end, top, kept, skipped
                            )
                            yield build(values[0], line, values[1:])
                    elif kind is SKIPPED:
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
