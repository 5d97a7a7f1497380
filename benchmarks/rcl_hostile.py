"""How fast, and in how little memory, does ``read_rcl`` get through hostile files?

Writes, one at a time, an 8 MB file of each hostile shape below to a
temporary folder and reads it with ``read_rcl``: best of three, CPU time. Then
the traced peak memory (``tracemalloc``) of reading 2 MB and 8 MB of the same
shape, which should be the same: memory does not grow with the file.

The shapes are the ones a fuzzer or a broken export makes: a header or a row
of megabytes, millions of short bad lines (alike or all different), a quoted
cell holding millions of line breaks, stray quotes on every line, CR line
ends, and rows of two lines each (a quoted cell with a line break in every
row), the dearest shape per byte. Run it with::

    python benchmarks/rcl_hostile.py
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path

from regflow import ListFormatError
from regflow.lists import RCL_COLUMNS, read_rcl

HEADER = ",".join(RCL_COLUMNS) + "\n"
GOOD = "12345678,2024,10/02/2023,12/31/2024,,,Y\n"
MB = 1 << 20

SHAPES: dict[str, Callable[[int], str]] = {
    # The baseline the others are compared with: a well-formed file.
    "clean rows": lambda size: HEADER + GOOD * (size // len(GOOD)),
    "long header": lambda size: "NPN," + "x" * size + "\n" + GOOD,
    "long row": lambda size: HEADER + GOOD + "," * size + "\n" + GOOD,
    "short bad lines": lambda size: HEADER + "x\n" * (size // 2),
    "distinct bad lines": lambda size: (
        HEADER + "".join(f"{n},x\n" for n in range(size // 8))
    ),
    "quoted line breaks": lambda size: (
        HEADER + '1,"' + "a\n" * (size // 2) + '",,,,,\n' + GOOD
    ),
    "stray quotes": lambda size: HEADER + 'x","\n' * (size // 5),
    "one stray quote": lambda size: (
        HEADER + GOOD.replace(",2024,", ',"2024,') + GOOD * (size // len(GOOD))
    ),
    "cr only": lambda size: HEADER.replace("\n", "\r") + "x\r" * (size // 2),
    "two-line rows": lambda size: HEADER + '"\n"\n' * (size // 4),
}


def read(path: Path) -> str:
    """Read *path* to the end; return what it found, in a few words."""
    reading = read_rcl(path)
    try:
        for _row in reading:
            pass
    except ListFormatError as error:
        return f"ListFormatError ({len(str(error))} characters)"
    assert reading.read == reading.kept + reading.skipped + reading.filtered_out
    return (
        f"read={reading.read:,} kept={reading.kept:,} "
        f"problems={reading.problem_count:,}"
    )


def peak_mb(path: Path) -> float:
    """The traced peak of reading *path*, in MB."""
    tracemalloc.start()
    try:
        read(path)
        return tracemalloc.get_traced_memory()[1] / 1e6
    finally:
        tracemalloc.stop()


def main(argv: list[str] | None = None) -> int:
    """Time and measure every shape; print one line each."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mb", type=int, default=8, help="the size timed, in MB")
    parser.add_argument("--runs", type=int, default=3, help="best of this many")
    args = parser.parse_args(argv)
    print(f"{'shape':<20} {'cpu s':>6} {'MB/s':>6} {'peak MB':>13}  found")
    per_mb: dict[str, float] = {}
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "TBL_RCL_1.csv"
        for name, shape in SHAPES.items():
            peaks = []
            for size in (args.mb * MB // 4, args.mb * MB):
                path.write_text(shape(size), encoding="utf-8", newline="")
                peaks.append(peak_mb(path))
            best = float("inf")
            for _ in range(args.runs):
                start = time.process_time()
                found = read(path)
                best = min(best, time.process_time() - start)
            rate = path.stat().st_size / 1e6 / best if best else float("inf")
            per_mb[name] = best / (path.stat().st_size / 1e6)
            print(
                f"{name:<20} {best:6.2f} {rate:6.0f} "
                f"{peaks[0]:5.1f} -> {peaks[1]:4.1f}  {found}"
            )
    # CPU per MB of each hostile shape against the clean file's: how much
    # dearer a byte of hostile input is than a byte of a good list.
    clean = per_mb.pop("clean rows")
    worst = max(per_mb, key=per_mb.__getitem__)
    print(
        "ratios "
        + " ".join(
            f"{name.replace(' ', '_')}/clean={cost / clean:.2f}"
            for name, cost in per_mb.items()
        )
    )
    print(f"dearest per byte: {worst}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
