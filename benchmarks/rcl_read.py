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
import random
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from _rcl_data import write_rcl

from regflow.lists import read_rcl

FILTER_LISTED = 45_000
FILTER_UNLISTED = 5_000


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


def timed(work: Callable[[], int]) -> tuple[float, float, int]:
    """Run *work*; return its wall-clock and CPU seconds, and its result."""
    wall, cpu = time.perf_counter(), time.process_time()
    result = work()
    return time.perf_counter() - wall, time.process_time() - cpu, result


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
        runs: dict[str, list[tuple[float, float]]] = {"bare": [], "regflow": []}
        for _ in range(args.runs):
            # Alternating keeps a slow moment of the machine from favouring one.
            wall, cpu, rows = timed(lambda: bare_csv_reader(path))
            assert rows == args.rows
            runs["bare"].append((wall, cpu))
            wall, cpu, rows = timed(lambda: regflow_read(path, wanted))
            assert rows == args.rows
            runs["regflow"].append((wall, cpu))
    bare_wall, bare_cpu = (min(t[i] for t in runs["bare"]) for i in (0, 1))
    ours_wall, ours_cpu = (min(t[i] for t in runs["regflow"]) for i in (0, 1))
    print(f"best of {args.runs}             wall       cpu")
    print(f"csv.reader pass        {bare_wall:7.3f} s  {bare_cpu:7.3f} s")
    print(f"read_rcl, {len(wanted):,} NPNs {ours_wall:7.3f} s  {ours_cpu:7.3f} s")
    print(f"cpu-time ratio {ours_cpu / bare_cpu:.2f}")
    print(f"ratios rcl_read/csv_reader={ours_wall / bare_wall:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
