"""data.healthcare.gov's JSON result pages, read through the CSV row loop.

The API hands a list out as pages, each ``{"results": [...]}``, every result
an object keyed by the list's machine names with string values. Rather than
a second row loop to keep in step with the CSV one, each page is turned
into CSV lines under a header of the machine names, and those lines go
through the very reader a CSV file does: the same validation, the same
problems, the same rows.

Numbering: a result's ``line`` is its 1-based position over all the pages,
in the order given (result 3 of a second page of 500 is 503). A page that is
not such JSON is no rows at all, so it raises :class:`ListFormatError`
naming its file and where in it.
"""

from __future__ import annotations

import json
import operator
import os
from collections.abc import Iterator, Sequence
from typing import IO, Any, Final, TypeAlias

from .._errors import ListFormatError

__all__ = ["MAX_PAGE_BYTES", "Page", "is_json_path", "page_lines", "page_name"]

Page: TypeAlias = "str | os.PathLike[str] | IO[str]"
"""A path to a page file, or a text file object open on one."""

MAX_PAGE_BYTES: Final = 256 * 1024 * 1024
"""The largest page file read. A page is parsed whole, so this bounds memory;
the API's pages are far smaller (thousands of results, a few megabytes)."""

_SNIFFED: Final = 64

# A value holding a line break would take two physical lines and shift every
# later result's number; written as the escape instead, it stays one line and
# is reported as the bad cell it is (no RCL value holds one).
_BREAKS: Final = str.maketrans({"\r": "\\r", "\n": "\\n"})


def page_name(page: Page) -> str:
    """The page's path or name, as shown in errors."""
    if isinstance(page, str | os.PathLike):
        return os.fsdecode(page)
    name = getattr(page, "name", None)
    return name if isinstance(name, str) else "<stream>"


def is_json_path(path: str | os.PathLike[str]) -> bool:
    """Whether the file at *path* is a JSON page: by its extension, else its start."""
    if os.fsdecode(path).lower().endswith(".json"):
        return True
    try:
        with open(path, "rb") as file:
            start = file.read(_SNIFFED)
    except OSError:
        return False  # the CSV reader opens it again and says why not
    # A CMS CSV starts with its header, never with a brace.
    return start.removeprefix(b"\xef\xbb\xbf").lstrip().startswith(b"{")


def _load(page: Page, name: str) -> object:
    if isinstance(page, str | os.PathLike):
        with open(page, "rb") as file:
            data: bytes | str = file.read(MAX_PAGE_BYTES + 1)
    else:
        data = page.read(MAX_PAGE_BYTES + 1)
        if not isinstance(data, str):
            raise ListFormatError(name, "a page's file object must be opened as text")
        # json.loads takes a byte-order mark in bytes, not in text.
        data = data.removeprefix("\ufeff")
    if len(data) > MAX_PAGE_BYTES:
        raise ListFormatError(
            name, f"the page is larger than {MAX_PAGE_BYTES:,} bytes; no API page is"
        )
    try:
        return json.loads(data)
    except UnicodeDecodeError as error:
        problem = f"the page is not UTF-8 text (byte {error.start:,}: {error.reason})"
        raise ListFormatError(name, problem) from None
    except json.JSONDecodeError as error:
        problem = (
            f"the page is not JSON: {error.msg} at line {error.lineno:,}, "
            f"column {error.colno:,}"
        )
        raise ListFormatError(name, problem) from None
    except RecursionError:
        raise ListFormatError(name, "the page is not JSON: nested too deep") from None


def _cell(value: str) -> str:
    if "," in value or '"' in value:
        return '"' + value.replace('"', '""') + '"'
    return value


def page_lines(pages: Sequence[Page], keys: Sequence[str]) -> Iterator[bytes]:
    """The CSV text of *pages*, a block per page: a header of *keys*, then a line each.

    Raises:
        ListFormatError: naming the page's file, if it is not JSON, is not an
            object with a ``results`` list, or a result is not an object with
            a string for every one of *keys*.
    """
    yield (",".join(keys) + "\n").encode()
    for page in pages:
        name = page_name(page)
        body = _load(page, name)
        results = body.get("results") if isinstance(body, dict) else None
        if not isinstance(results, list):
            raise ListFormatError(
                name,
                'a page is a JSON object with a "results" list, as the API returns',
            )
        if results:
            yield _csv_of(results, keys, name)


def _csv_of(results: list[Any], keys: Sequence[str], name: str) -> bytes:
    """The CSV lines of a page's *results*, each ended by a LF."""
    # The page in a few passes in C (pick the values, join them, join the
    # lines), with a check of the whole text that no value held a comma, a
    # quote or a break; only a page failing it goes result by result.
    pick = operator.itemgetter(*keys)
    try:
        lines = list(map(",".join, map(pick, results)))
    except (KeyError, TypeError):
        lines = []  # some result is bad; the careful pass below says which
    text = "\n".join(lines)
    plain = (
        len(lines) == len(results)
        and text.count(",") == (len(keys) - 1) * len(lines)
        and text.count("\n") == len(lines) - 1
        and '"' not in text
        and "\r" not in text
    )
    if not plain:
        text = "\n".join(_careful_lines(results, keys, name))
    return (text + "\n").encode("utf-8", "surrogatepass")


def _careful_lines(results: list[Any], keys: Sequence[str], name: str) -> Iterator[str]:
    width = len(keys) - 1
    for index, result in enumerate(results, 1):
        try:
            values = [result[key] for key in keys]
            line = ",".join(values)
        except (KeyError, TypeError):
            raise ListFormatError(name, _bad(index, result, keys)) from None
        if line.count(",") != width or '"' in line:
            line = ",".join(map(_cell, values))
        if "\n" in line or "\r" in line:
            line = line.translate(_BREAKS)
        yield line


def _bad(index: int, result: object, keys: Sequence[str]) -> str:
    where = f"result {index:,} of the page"
    if not isinstance(result, dict):
        return f"{where} is not a JSON object"
    missing = [key for key in keys if key not in result]
    if missing:
        return f"{where} lacks {', '.join(repr(k) for k in missing)}"
    wrong = next(key for key in keys if not isinstance(result[key], str))
    return f"{where} has {wrong!r} as {type(result[wrong]).__name__}, not a string"
