"""The careful path: a line the row loop's fast path could not vouch for.

The fast path takes a line only when its tail, everything after the NPN, was
seen valid before; every other line comes here, the first line of each tail
among them. It is parsed like :mod:`csv` does (with :mod:`csv` itself, through
:class:`Records`, when it has quotes, which may pull the lines after it),
every cell is checked and every problem reported, and a valid row's tail is
remembered for the fast path. This lives apart from the row loop because it
is everything the loop is not: slow, thorough, and run about once per
distinct tail rather than once per row.

It is also where a quote left open is bounded: it swallows at most
:data:`MAX_ROW_LINES` lines, and past that it is reported at its line and the
lines it took are read again as rows of their own, so one stray quote costs
one row, not the rest of the file. The header's quotes, rarer still, are read
by the same :class:`Records`, within the header's own bound.
"""

from __future__ import annotations

import csv
from collections.abc import Iterator, Sequence
from typing import Any, Final

from ._cells import (
    CACHE_LIMIT,
    MAX_NPN_DIGITS,
    ZERO_NPNS,
    CellCache,
    CellError,
    Columns,
    Field,
    ProblemLog,
    check_npn,
)
from ._lines import MAX_ROW_CHARS, MAX_ROW_LINES, Lines

__all__ = ["BLANK", "SKIPPED", "VALID", "Careful", "Records"]

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

# A tail longer than this is not remembered, so the tail cache stays small
# even when every row is padded differently; a real tail is under 100.
_TAIL_CHARS: Final = 160

# What Careful.check says of a row; the row loop tells them apart by identity.
VALID: Final = "valid"
SKIPPED: Final = "skipped"
BLANK: Final = "blank"


class Records:
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


def _npn_cell(raw: str) -> str:
    text = raw.strip()
    # Most NPNs are plain: saying so needs no NPN.problem(), which finds why not.
    plain = text.isdigit() and text.isascii() and len(text) <= MAX_NPN_DIGITS
    return text if plain and text not in ZERO_NPNS else check_npn(text)


class Careful:
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
        records: Records,
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
            return SKIPPED, ()
        quoted = '"' in body
        if quoted:
            found = self._quoted(text, raw, line)
            if found is None:
                return SKIPPED, ()
            row = found
        else:
            row = body.split(",")
        if len(row) == 1 and not row[0].strip():
            self.blank += 1
            return BLANK, ()
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
            return SKIPPED, ()
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
            return SKIPPED, ()
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
        return VALID, values

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
