"""Synthetic Registration Completion Lists for the benchmarks.

:func:`write_rcl` writes a ``TBL_RCL_<n>.csv`` in the published format, with
the published headers (:data:`regflow.lists.RCL_COLUMNS`). Its defaults give
the plain file ``rcl_read.py`` has always timed; the keyword arguments add what
real copies of the list have as well: CRLF line ends and a byte-order mark,
SHOP-only agents, NPNs listed for several plan years, a few malformed rows,
and rows planted for NPNs a benchmark wants listed.
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Sequence
from pathlib import Path

from regflow.lists import RCL_COLUMNS

__all__ = ["MALFORMED_KINDS", "write_rcl"]

MALFORMED_KINDS = (
    "bad date",
    "letter in NPN",
    "empty NPN",
    "NPN too long",
    "two-digit plan year",
    "unknown flag",
    "missing cell",
)
"""The ways a malformed row is broken, one drawn at random per row."""


def _mdy(day: dt.date) -> str:
    return day.strftime("%m/%d/%Y")


def _malformed(rng: random.Random, npn: str, good: str, newline: str) -> str:
    """A row like *good* (NPN first, no line end), broken one way."""
    cells = [npn, *good.split(",")[1:]]
    kind = rng.choice(MALFORMED_KINDS)
    if kind == "bad date":
        cells[2] = f"13/32/{cells[1]}"
    elif kind == "letter in NPN":
        cells[0] = npn[:3] + "O" + npn[4:]
    elif kind == "empty NPN":
        cells[0] = ""
    elif kind == "NPN too long":
        cells[0] = npn + "0000"
    elif kind == "two-digit plan year":
        cells[1] = cells[1][2:]
    elif kind == "unknown flag":
        cells[6] = "X"
    else:
        del cells[5]
    return ",".join(cells) + newline


def write_rcl(
    path: Path,
    rows: int,
    seed: int = 2024,
    *,
    years: Sequence[int] = (2022, 2023, 2024, 2025),
    current: int = 2025,
    crlf: bool = False,
    bom: bool = False,
    shop_only: float = 0.0,
    repeats: float = 0.0,
    malformed: float = 0.0,
    planted: Sequence[tuple[str, int]] = (),
) -> list[str]:
    """Write *rows* synthetic RCL rows to *path*; return the NPNs written.

    NPNs are drawn without repetition from the 7 and 8 digit numbers. Rows of
    a plan year from *current* on are flagged ``Y`` (97%) or ``N``; earlier
    ones ``-``.

    Args:
        path: the file to write.
        rows: how many rows, header excluded, every kind counted.
        seed: the random seed; the same arguments give the same file.
        years: the plan years rows are spread over.
        current: the first plan year NPN Valid is checked for.
        crlf: end lines with CRLF, as CMS publishes the file.
        bom: start the file with a UTF-8 byte-order mark.
        shop_only: the fraction of rows with a SHOP completion only.
        repeats: the fraction of rows that list an NPN already written for
            another plan year.
        malformed: the fraction of rows that are broken (see
            :data:`MALFORMED_KINDS`); their NPNs are not returned.
        planted: ``(npn, plan year)`` rows to write as well, spread evenly
            over the file; their NPNs are never drawn for other rows, and
            they are written the same whatever *rows* is.

    Returns:
        The NPN of every valid row, in file order (an NPN listed for several
        plan years appears once per row).
    """
    rng = random.Random(seed)
    wanted = {npn for npn, _ in planted}
    fill = rows - len(planted)
    if fill < 0:
        raise ValueError(f"{len(planted)} planted rows do not fit in {rows}")
    drawn = rng.sample(range(1_000_000, 99_999_999), fill + len(wanted))
    fresh = (text for text in map(str, drawn) if text not in wanted)
    newline = "\r\n" if crlf else "\n"
    # Registrations open in the summer before the plan year and run through
    # it, so completion dates spread over about 560 days per plan year; as in
    # the real lists, dates repeat heavily.
    done = {
        y: [_mdy(dt.date(y - 1, 6, 1) + dt.timedelta(days=d)) for d in range(560)]
        for y in years
    }
    ends = {y: _mdy(dt.date(y, 12, 31)) for y in years}
    every = rows // len(planted) if planted else 0
    plants = iter(planted)
    # Planted rows draw from their own generator, so they read the same in
    # files of any length.
    plant_rng = random.Random(seed + 1)
    written: list[str] = []
    recent: list[tuple[str, int]] = []

    def row(npn: str, year: int, rng: random.Random) -> str:
        day = rng.choice(done[year])
        end = ends[year]
        flag = ("Y" if rng.random() < 0.97 else "N") if year >= current else "-"
        if shop_only and rng.random() < shop_only:
            return f"{npn},{year},,,{day},{end},{flag}"
        if rng.random() < 0.1:
            return f"{npn},{year},{day},{end},{day},{end},{flag}"
        return f"{npn},{year},{day},{end},,,{flag}"

    with path.open("w", encoding="utf-8", newline="") as out:
        out.write(("\ufeff" if bom else "") + ",".join(RCL_COLUMNS) + newline)
        lines: list[str] = []
        for n in range(rows):
            if every and n % every == every - 1:
                planted_row = next(plants, None)
                if planted_row is not None:
                    npn, year = planted_row
                    lines.append(row(npn, year, plant_rng) + newline)
                    written.append(npn)
                    continue
            if repeats and recent and rng.random() < repeats:
                npn, listed = recent.pop(rng.randrange(len(recent)))
                year = rng.choice([y for y in years if y != listed] or [listed])
            else:
                npn = next(fresh)
                year = rng.choice(years)
                if repeats:
                    recent.append((npn, year))
                    if len(recent) > 1_000:
                        recent.pop(0)
            text = row(npn, year, rng)
            if malformed and rng.random() < malformed:
                lines.append(_malformed(rng, npn, text, newline))
            else:
                lines.append(text + newline)
                written.append(npn)
            if len(lines) == 10_000:
                out.writelines(lines)
                lines.clear()
        out.writelines(lines)
    return written
