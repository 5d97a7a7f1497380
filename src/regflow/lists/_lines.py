"""A list file's bytes as numbered physical lines, read in blocks, within bounds.

The row loop takes lines by the thousand and the careful path asks for the
lines after a row by number; :class:`Lines` serves both from one pass over the
file, a block at a time, so nothing is read twice and nothing is read a line
at a time. Reading in blocks is also what keeps the reader safe: a line of
gigabytes is cut as soon as it passes every limit, and the rest of it skipped
unkept, only checked to be UTF-8.

The limits live here, the lowest of the reader's modules, because every stage
keeps them: lines are cut past them here, rows and quotes are bounded by them
on the careful path, and the header is read within them.
"""

from __future__ import annotations

import codecs
from collections import deque
from collections.abc import Iterable, Iterator
from functools import partial
from typing import Final, Protocol, cast

from .._errors import ListFormatError

__all__ = [
    "CHUNK",
    "MAX_HEADER_CHARS",
    "MAX_ROW_CHARS",
    "MAX_ROW_LINES",
    "Lines",
    "line_blocks",
    "streamed",
]

MAX_HEADER_CHARS: Final = 65_536
"""The most characters the header row, and any blank lines before it, may take."""

MAX_ROW_CHARS: Final = 65_536
"""The most characters one row may have, its line breaks not counted."""

MAX_ROW_LINES: Final = 100
"""The most physical lines one row may span; quoted cells can hold line breaks."""

# Characters (bytes, for a path) read at a time: big enough that a block's
# cost is nothing next to its rows, small enough that a block of one-character
# lines stays a few megabytes.
CHUNK: Final = 1 << 16

# A line is cut to this many bytes as soon as it is longer: even in UTF-8's
# longest characters, still more characters than any limit allows.
_LINE_CUT: Final = 4 * max(MAX_ROW_CHARS, MAX_HEADER_CHARS) + 8

_BYTES: Final = (
    "the file gives bytes, not text; open it in text mode, e.g. "
    "open(path, encoding='utf-8-sig', newline='')"
)


class _NotUtf8(Exception):
    """Raised when a file's bytes are found not to be UTF-8 before a line is read."""

    def __init__(self, reason: str, *, exact: bool, back: int = 0):
        super().__init__(reason)
        self.reason = reason
        self.exact = exact
        self.back = back  # 1 when the bytes are on the line handed out last


def streamed(source: object, name: str) -> Iterator[bytes]:
    """A file object's text, a block at a time, as the UTF-8 a path would give."""
    read = getattr(source, "read", None)
    pieces: Iterable[object] = (
        cast(Iterable[object], source)
        if read is None
        else iter(partial(read, CHUNK), "")
    )
    try:
        for piece in pieces:
            if not isinstance(piece, str):
                raise ListFormatError(name, _BYTES)
            # surrogatepass lets text a caller decoded with surrogateescape
            # through, to be reported as it is rather than raise.
            yield piece.encode("utf-8", "surrogatepass")
    except UnicodeDecodeError as error:
        raise _NotUtf8(error.reason, exact=False) from None


def _cr_lines(text: bytes) -> list[bytes]:
    """Split *text*, which holds no LF, after each CR it holds."""
    parts = text.split(b"\r")
    last = parts.pop()
    lines = [part + b"\r" for part in parts]
    if last:
        lines.append(last)
    return lines


def _after_break(text: bytes) -> int:
    """Where the line after *text*'s first one starts; -1 if not known yet."""
    lf = text.find(b"\n")
    cr = text.find(b"\r", 0, len(text) if lf < 0 else lf)
    if cr < 0:
        return -1 if lf < 0 else lf + 1
    if cr + 1 == len(text):
        return -1  # a LF may follow in the next piece
    return cr + 2 if text[cr + 1] == 10 else cr + 1


def line_blocks(pieces: Iterable[bytes], errors: str) -> Iterator[list[bytes]]:
    """Split a file's bytes into blocks of physical lines, holding no line whole.

    Lines end at LF, CRLF or a lone CR, as :mod:`csv` reads them. A line comes
    without its LF; a CR that ended it stays, at its end, so tails of CRLF
    files are as written. Lines are split at LF only, which is what keeps this
    fast: a lone CR inside a line is split off by :meth:`Lines.split_line`
    when a line holding one reaches the careful path, as it always does. A
    line longer than any limit is cut, and the rest of it checked to be
    UTF-8 as it is skipped; every other line is decoded when it is read.
    """
    carry = b""
    skipping = started = False
    check = codecs.getincrementaldecoder("utf-8")(errors).decode
    try:
        for piece in pieces:
            buffer = carry + piece
            if not started:
                buffer = buffer.removeprefix(codecs.BOM_UTF8)
                started = True
            if skipping:
                start = _after_break(buffer)
                check(buffer if start < 0 else buffer[:start], start >= 0)
                if start < 0:
                    carry = b"\r" if buffer.endswith(b"\r") else b""
                    continue
                skipping = False
                buffer = buffer[start:]
            lines = buffer.split(b"\n")
            carry = lines.pop()
            if b"\r" in carry:
                # A file with CR line ends only has no LF to split at.
                more = _cr_lines(carry)
                carry = more.pop()
                lines += more
            if len(carry) >= _LINE_CUT:
                lines.append(carry[:_LINE_CUT])
                skipping = True
                cut, carry = carry, b"\r" if carry.endswith(b"\r") else b""
                yield lines
                check(cut.removesuffix(b"\r"), False)
            elif lines:
                yield lines
        if skipping:
            check(b"", True)
    except UnicodeDecodeError as error:
        raise _NotUtf8(error.reason, exact=True, back=int(skipping)) from None
    except _NotUtf8 as error:
        error.back = int(skipping)
        raise
    if carry and not skipping:
        yield [carry]


class _Rows(Protocol):
    """A list iterator, which can say and set where it is."""

    def __iter__(self) -> Iterator[bytes]: ...
    def __next__(self) -> bytes: ...
    def __length_hint__(self) -> int: ...
    def __setstate__(self, index: int, /) -> None: ...


def _rows(block: list[bytes], index: int = 0) -> _Rows:
    rows = cast(_Rows, iter(block))
    if index:
        rows.__setstate__(index)
    return rows


class Lines:
    """A file's physical lines, in blocks, numbered from 1.

    The row loop iterates the current block's ``rows``; the careful path reads
    the lines after a row by number, pulling later blocks as it needs them,
    and calls :meth:`resume` to say where the loop goes on. Pulled blocks the
    loop has not reached wait in a queue, so nothing is read twice.
    """

    __slots__ = (
        "_borrowed",
        "_next",
        "_pending",
        "_read",
        "_source",
        "block",
        "errors",
        "first",
        "last",
        "rows",
    )

    def __init__(self, blocks: Iterator[list[bytes]], source: str, errors: str):
        self._read = blocks
        self._source = source
        # "strict" for a file's bytes; "surrogatepass" for text from a file
        # object, whatever it holds.
        self.errors = errors
        self._next = 1  # the number of the next line the file gives
        self._pending: deque[tuple[list[bytes], int, int]] = deque()
        self._borrowed: list[tuple[list[bytes], int]] = []
        self.block: list[bytes] = []
        self.first = 1  # the number of the block's first line
        self.last = 0
        self.rows = _rows(self.block)

    def blocks(self) -> Iterator[_Rows]:
        """Make each block in turn the current one; yield its rows."""
        while (taken := self._take()) is not None:
            block, index, first = taken
            self.block, self.first, self.last = block, first, first + len(block) - 1
            self.rows = _rows(block, index)
            yield self.rows

    def position(self) -> int:
        """The number of the next line the row loop reads."""
        return self.first + len(self.block) - self.rows.__length_hint__()

    @property
    def borrowing(self) -> bool:
        """Whether lines past the current block were read."""
        return bool(self._borrowed)

    def text(self, raw: bytes, number: int) -> str:
        """Line *number*, *raw*, decoded; or raise :class:`ListFormatError`."""
        try:
            return raw.decode("utf-8", self.errors)
        except UnicodeDecodeError as error:
            if len(raw) >= _LINE_CUT:
                # Cut anywhere, even inside a character; line_blocks checked it.
                return raw.decode("utf-8", "replace")
            raise ListFormatError(
                self._source,
                f"line {number:,} is not UTF-8 ({error.reason}); save the file as UTF-8",
            ) from None

    def line(self, number: int) -> bytes | None:
        """Line *number*, which is after the row being read; ``None`` past the end."""
        index = number - self.first
        if index < len(self.block):
            return self._whole(self.block, index, number)
        for block, first in self._borrowed:
            if number - first < len(block):
                return self._whole(block, number - first, number)
        while (taken := self._take()) is not None:
            block, _, first = taken
            self._borrowed.append((block, first))
            if number - first < len(block):
                return self._whole(block, number - first, number)
        return None

    def split_line(self, number: int) -> bytes:
        """Split the current block's line *number* at its lone CRs; return the first."""
        return self._whole(self.block, number - self.first, number)

    def resume(self, number: int) -> None:
        """Make line *number* the next one the row loop reads."""
        index = number - self.first
        if not self._borrowed and index <= len(self.block):
            self.rows.__setstate__(index)
            return
        later = [
            (block, max(number - first, 0), first)
            for block, first in self._borrowed
            if number - first < len(block)
        ]
        self._borrowed.clear()
        if index <= len(self.block):
            self.rows.__setstate__(index)
        else:
            # The loop ends this block; the queue holds where it goes on.
            self.rows.__setstate__(len(self.block))
            self.block, self.first, self.rows = [], number, _rows([])
        self._pending.extendleft(reversed(later))

    def _whole(self, block: list[bytes], index: int, number: int) -> bytes:
        raw = block[index]
        if raw.find(b"\r", 0, len(raw) - 1) < 0:
            return raw
        # A lone CR ends a line: split in place, renumber every later line.
        split = _cr_lines(raw)
        block[index : index + 1] = split
        grown = len(split) - 1
        self._next += grown
        self._pending = deque((b, i, f + grown) for b, i, f in self._pending)
        self._borrowed = [
            (b, f + grown if f > number else f) for b, f in self._borrowed
        ]
        if block is self.block:
            self.last += grown
        return split[0]

    def _take(self) -> tuple[list[bytes], int, int] | None:
        if self._pending:
            return self._pending.popleft()
        try:
            block = next(self._read)
        except StopIteration:
            return None
        except _NotUtf8 as error:
            line = self._next - error.back
            where = f"line {line:,}" if error.exact else f"the text near line {line:,}"
            raise ListFormatError(
                self._source,
                f"{where} is not UTF-8 ({error.reason}); save the file as UTF-8",
            ) from None
        first = self._next
        self._next += len(block)
        return block, 0, first
