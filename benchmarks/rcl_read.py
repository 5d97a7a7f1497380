"""How much slower is reading an RCL with regflow than a bare ``csv.reader`` pass?

Writes a synthetic ``TBL_RCL_<n>.csv`` in the published format to a temporary
folder, then times, side by side and best of three each:

* a bare ``csv.reader`` pass over the file, doing nothing with the rows;
* ``read_rcl`` with a filter of 50,000 NPNs (45,000 listed, 5,000 not), which
  still validates every row of the file.

The last line printed is ``ratios rcl_read/csv_reader=X``. Run it with::

    PYTHONPATH=src python benchmarks/rcl_read.py --rows 2000000
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import random
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from regflow.lists import RCL_COLUMNS, read_rcl

CURRENT_PLAN_YEAR = 2025
FILTER_LISTED = 45_000
FILTER_UNLISTED = 5_000


def _mdy(day: dt.date) -> str:
    return day.strftime("%m/%d/%Y")


def write_rcl(path: Path, rows: int, seed: int = 2024) -> list[str]:
    """Write *rows* synthetic RCL rows to *path*; return their NPNs."""
    rng = random.Random(seed)
    npns = [str(n) for n in rng.sample(range(1_000_000, 99_999_999), rows)]
    years = (2022, 2023, 2024, 2025)
    # Registrations open in the summer before the plan year and run through it,
    # so completion dates spread over about 500 distinct days per year, as in
    # the real lists, where dates repeat heavily.
    starts = {y: dt.date(y - 1, 6, 1) for y in years}
    ends = {y: _mdy(dt.date(y, 12, 31)) for y in years}
    with path.open("w", encoding="utf-8", newline="") as out:
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(RCL_COLUMNS)
        for npn in npns:
            year = rng.choice(years)
            done = _mdy(starts[year] + dt.timedelta(days=rng.randrange(560)))
            shop = rng.random() < 0.1
            if year == CURRENT_PLAN_YEAR:
                flag = "Y" if rng.random() < 0.97 else "N"
            else:
                flag = "-"
            writer.writerow(
                (
                    npn,
                    year,
                    done,
                    ends[year],
                    done if shop else "",
                    ends[year] if shop else "",
                    flag,
                )
            )
    return npns


def bare_csv_reader(path: Path) -> int:
    """Count the rows of *path* with nothing but ``csv.reader``."""
    count = 0
    with path.open(encoding="utf-8-sig", newline="") as source:
        for _row in csv.reader(source):
            count += 1
    return count - 1


def regflow_read(path: Path, npns: frozenset[str]) -> int:
    """Read *path* with ``read_rcl`` filtered on *npns*; return the rows read."""
    reading = read_rcl(path, npns=npns)
    kept = sum(1 for _row in reading)
    assert kept == reading.kept
    assert reading.read == reading.kept + reading.skipped + reading.filtered_out
    assert not reading.problems, reading.problems[:3]
    return reading.read


def best_of(runs: int, work: Callable[[], int]) -> tuple[float, int]:
    """Return the fastest of *runs* timings of *work*, and its result."""
    best = float("inf")
    result = 0
    for _ in range(runs):
        start = time.perf_counter()
        result = work()
        best = min(best, time.perf_counter() - start)
    return best, result


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark; print timings and the ratios line."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=2_000_000)
    parser.add_argument("--runs", type=int, default=3, help="best of this many")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "TBL_RCL_1.csv"
        start = time.perf_counter()
        npns = write_rcl(path, args.rows)
        took = time.perf_counter() - start
        size = path.stat().st_size / 1e6
        print(f"wrote {args.rows:,} rows ({size:.0f} MB) in {took:.1f} s")
        rng = random.Random(7)
        listed = rng.sample(npns, min(FILTER_LISTED, len(npns)))
        unlisted = [str(n) for n in range(100_000, 100_000 + FILTER_UNLISTED)]
        wanted = frozenset(listed + unlisted)
        bare = regflow = float("inf")
        for _ in range(args.runs):
            # Alternating keeps a slow moment of the machine from favouring one.
            took, rows = best_of(1, lambda: bare_csv_reader(path))
            bare = min(bare, took)
            assert rows == args.rows
            took, rows = best_of(1, lambda: regflow_read(path, wanted))
            regflow = min(regflow, took)
            assert rows == args.rows
    print(f"csv.reader pass:          {bare:.3f} s")
    print(f"read_rcl, {len(wanted):,} NPNs:  {regflow:.3f} s")
    print(f"ratios rcl_read/csv_reader={regflow / bare:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
