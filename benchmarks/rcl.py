"""How much does reconciling with an RCL cost, next to a bare ``csv.reader`` pass?

Writes a synthetic ``TBL_RCL_<n>.csv`` of 2,000,000 rows in the published
format (the published headers, CRLF line ends, a byte-order mark, 7 and 8
digit NPNs, plan years 2023 to 2025, dates or blanks, flags ``Y``/``N``/``-``,
NPNs listed for two plan years, and about one row in 2,000 malformed) to a
temporary folder, and builds 50,000 registrations for plan year 2024 through
``Workflow.for_plan_year(2024)``: agents with an NPN who accepted every
agreement, registered over the two weeks before the reconciliation day.
About 60% of them are listed for 2024 (a few twice, some for 2023 as well),
about 10% only for 2023, the rest not at all, so reconcile finds certified,
flagged, waiting and overdue agents. All of that happens before any timing.

Then it times, side by side, interleaved, best of three each:

* the full reconcile, ``reconcile(regs, rcl=read_rcl(path, npns=...),
  on=...)``: the reader streaming and validating every row of the file, and
  reconcile computing every finding and the event it proposes. Applying those
  events to a store is *not* part of it;
* ``read_rcl`` alone, drained, for the split between reader and reconcile;
* a bare ``csv.reader`` pass over the same file, doing nothing with the rows.

Last, the peak memory of the full reconcile (``tracemalloc``, in an untimed
run, the registrations built before tracing starts) over a file of half the
rows and over the full file, with the same registrations and the same listed
NPNs in both. Memory should not grow with the file: what the reconcile keeps
grows with the registrations, plus one reported problem per malformed row.

It also times the full reconcile over the same rows in the other layouts CMS
publishes: the file with the snake_case headers of the 2014-2015 file and the
API's CSV, and the API's JSON result pages (``{"results": [...]}``, 500
results a page; the malformed rows a JSON object cannot hold, those with a
wrong number of cells, left out), each next to the published file.

The last line printed is
``ratios rcl/csv_reader=X peak_mb_2m/peak_mb_1m=X snake/published=X
json/published=X``; the targets are 1.5, 1.1, 1.1 and 2. Run it with::

    python benchmarks/rcl.py            # 2,000,000 rows, 50,000 registrations
    python benchmarks/rcl.py --quick    # 200,000 rows, 5,000 registrations
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import gc
import json
import random
import sys
import tempfile
import time
import tracemalloc
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import TypeVar
from zoneinfo import ZoneInfo

import attrs
from _rcl_data import write_rcl

import regflow
from regflow import events as ev
from regflow.lists import (
    RCL_FIELD_NAMES,
    ListReading,
    Outcome,
    RclRow,
    Reconciliation,
    read_rcl,
    reconcile,
)

T = TypeVar("T")

PLAN_YEAR = 2024
ON = dt.date(2023, 10, 20)
"""The reconciliation day, a Friday."""
ET = ZoneInfo("America/New_York")
YEARS = (2023, 2024, 2025)
MALFORMED = 1 / 2_000
LISTED = 0.6
"""The fraction of registrations listed for 2024."""
ONLY_EARLIER = 0.1
"""The fraction listed for 2023 only: returning agents the RCL does not show yet."""
ALSO_EARLIER = 0.5
"""The fraction of those listed for 2024 that have a 2023 row as well."""
TWICE = 0.01
"""The fraction of those listed for 2024 that have two 2024 rows."""
ESCALATED = 0.1
PAGE_SIZE = 500
"""Results per JSON page, as the API hands them out."""
"""The fraction who write to the help desk the day before ON, if overdue by then."""


# -- inputs --------------------------------------------------------------------


def _business_days(first: dt.date, last: dt.date) -> list[dt.date]:
    days = (first + dt.timedelta(days=d) for d in range((last - first).days + 1))
    return [day for day in days if regflow.is_business_day(day)]


def build_registrations(
    count: int, seed: int = 8
) -> tuple[list[regflow.Registration], list[tuple[str, int]]]:
    """Register *count* agents for 2024 with regflow's own API.

    Returns:
        The registrations, and the ``(npn, plan year)`` rows the RCL should
        have for them, in a random order.
    """
    rng = random.Random(seed)
    flow = regflow.Workflow.for_plan_year(PLAN_YEAR)
    days = _business_days(ON - dt.timedelta(days=14), ON - dt.timedelta(days=1))
    # Listed NPNs have 7 or 8 digits like the rest of the file, which never
    # draws them again; the unlisted have 9, which the file never has.
    listed = rng.sample(range(1_000_000, 99_999_999), count)
    planted: list[tuple[str, int]] = []
    regs: list[regflow.Registration] = []
    for n in range(count):
        draw = rng.random()
        if draw < LISTED:
            npn = str(listed[n])
            planted.append((npn, PLAN_YEAR))
            if rng.random() < ALSO_EARLIER:
                planted.append((npn, PLAN_YEAR - 1))
            if rng.random() < TWICE:
                planted.append((npn, PLAN_YEAR))
        elif draw < LISTED + ONLY_EARLIER:
            npn = str(listed[n])
            planted.append((npn, PLAN_YEAR - 1))
        else:
            npn = str(100_000_000 + n)
        regs.append(_register(flow, n, npn, rng.choice(days), rng))
    rng.shuffle(planted)
    return regs, planted


def _register(
    flow: regflow.Workflow, n: int, npn: str, day: dt.date, rng: random.Random
) -> regflow.Registration:
    base = dt.datetime.combine(day, dt.time(9), tzinfo=ET)
    agent = f"agent-{n}"
    ids = iter(range(1, 100))

    def event(kind: Callable[..., T], hours: float, **fields: object) -> T:
        at = base + dt.timedelta(hours=hours)
        return kind(event_id=f"{agent}-{next(ids)}", at=at, **fields)

    reg = flow.start(
        event(
            ev.StartRegistration,
            0,
            agent_id=agent,
            portal_account_id=f"portal-{n}",
            plan_year=PLAN_YEAR,
            prior_year=PLAN_YEAR - 1,
        )
    )
    profile = regflow.Profile(
        role=regflow.Role.MARKETPLACE_AGENT_BROKER,
        contact=regflow.ContactDetails(
            name=f"Agent {n}",
            email=f"agent{n}@example.com",
            phone=f"555-{n % 10_000:04d}",
            zip_code=f"{10_000 + n % 89_999:05d}",
        ),
        find_local_help=n % 2 == 0,
        npn=npn,
    )
    steps: list[ev.Event] = [
        event(ev.SaveProfile, 0.1, profile=profile),
        event(ev.CompleteProfile, 0.2),
        event(ev.CompleteMlmsTraining, 2, curriculum=regflow.Curriculum.RETURNING),
        event(ev.AcceptAgreement, 3, agreement=regflow.Agreement.INDIVIDUAL_GENERAL),
        event(
            ev.AcceptAgreement,
            3.1,
            agreement=regflow.Agreement.INDIVIDUAL_PRIVACY_SECURITY,
        ),
    ]
    for step in steps:
        reg = flow.apply(reg, step)
    # Writing in is refused until the RCL window has closed (S22).
    hours = (ON - day).days * 24 - 23
    if rng.random() < ESCALATED:
        write_in = event(ev.ContactHelpDesk, hours)
        if flow.check(reg, write_in):
            reg = flow.apply(reg, write_in)
    assert reg.status is regflow.Status.REGISTERED
    return reg


# -- the work ------------------------------------------------------------------


def full_reconcile(
    path: Path | list[Path], regs: Sequence[regflow.Registration]
) -> tuple[ListReading[RclRow], Reconciliation]:
    """What a caller runs: read the RCL for the registrations' NPNs, reconcile."""
    npns = [reg.npn.value for reg in regs if reg.npn is not None]
    reading = read_rcl(path, npns=npns)
    return reading, reconcile(regs, rcl=reading, on=ON)


def read_only(path: Path, regs: Sequence[regflow.Registration]) -> int:
    """The reader of :func:`full_reconcile` alone, drained; return the rows kept."""
    npns = [reg.npn.value for reg in regs if reg.npn is not None]
    return sum(1 for _row in read_rcl(path, npns=npns))


def bare_csv_reader(path: Path) -> int:
    """Count the rows of *path* with nothing but ``csv.reader``."""
    count = 0
    with path.open(encoding="utf-8-sig", newline="") as source:
        for _row in csv.reader(source):
            count += 1
    return count - 1


def timed(work: Callable[[], T]) -> tuple[float, float, T]:
    """Run *work*; return its wall-clock and CPU seconds, and its result."""
    gc.collect()
    wall, cpu = time.perf_counter(), time.process_time()
    result = work()
    return time.perf_counter() - wall, time.process_time() - cpu, result


def peak_mb(path: Path, regs: Sequence[regflow.Registration]) -> tuple[float, Summary]:
    """The traced peak of :func:`full_reconcile` in MB (its result included)."""
    gc.collect()
    tracemalloc.start()
    try:
        tracemalloc.reset_peak()
        reading, result = full_reconcile(path, regs)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return peak / 1e6, Summary.of(reading, result)


def _snake(path: Path, to: Path) -> None:
    """Copy the published file *path* to *to* under the snake_case headers."""
    with path.open("rb") as source, to.open("wb") as out:
        source.readline()
        out.write(",".join(RCL_FIELD_NAMES).encode() + b"\r\n")
        while block := source.read(1 << 20):
            out.write(block)


def _pages(path: Path, folder: Path) -> list[Path]:
    """Write the rows of *path* as JSON result pages in *folder*; return them."""
    pages: list[Path] = []
    results: list[dict[str, str]] = []

    def flush() -> None:
        page = folder / f"page_{len(pages) + 1:05}.json"
        page.write_text(json.dumps({"results": results}), encoding="utf-8")
        pages.append(page)
        results.clear()

    with path.open(encoding="utf-8-sig", newline="") as source:
        rows = csv.reader(source)
        next(rows)
        for row in rows:
            if len(row) == len(RCL_FIELD_NAMES):
                results.append(dict(zip(RCL_FIELD_NAMES, row, strict=True)))
            if len(results) == PAGE_SIZE:
                flush()
    if results:
        flush()
    return pages


def _write(path: Path, rows: int, planted: Sequence[tuple[str, int]]) -> int:
    """Write the benchmark's RCL; return how many rows are malformed."""
    start = time.perf_counter()
    valid = len(
        write_rcl(
            path,
            rows,
            years=YEARS,
            current=PLAN_YEAR,
            crlf=True,
            bom=True,
            shop_only=0.02,
            repeats=0.05,
            malformed=MALFORMED,
            planted=planted,
        )
    )
    size = path.stat().st_size / 1e6
    took = time.perf_counter() - start
    print(f"wrote {rows:,} rows ({size:.0f} MB) in {took:.1f} s")
    return rows - valid


@attrs.frozen
class Summary:
    """What one full reconcile read and found: the counts, not the rows."""

    read: int
    kept: int
    skipped: int
    filtered_out: int
    problems: dict[str, int]
    findings: dict[Outcome, int]
    events: int

    @classmethod
    def of(cls, reading: ListReading[RclRow], result: Reconciliation) -> Summary:
        assert reading.read == reading.kept + reading.skipped + reading.filtered_out
        problems: dict[str, int] = {}
        for problem in reading.problems:
            problems[problem.reason] = problems.get(problem.reason, 0) + 1
        return cls(
            reading.read,
            reading.kept,
            reading.skipped,
            reading.filtered_out,
            problems,
            result.counts(),
            len(result.events),
        )

    def check(self, rows: int, malformed: int) -> None:
        """Fail unless every row was read and every kind of finding turned up."""
        assert self.read == rows, (self.read, rows)
        assert self.skipped == malformed, (self.skipped, malformed)
        for outcome in (Outcome.CERTIFIED, Outcome.FLAGGED, Outcome.WAITING):
            assert self.findings[outcome], outcome
        assert self.findings[Outcome.OVERDUE]

    def lines(self) -> Iterator[str]:
        """The counts, for a reader to see the work happened."""
        yield (
            f"read={self.read:,} kept={self.kept:,} skipped={self.skipped:,} "
            f"filtered_out={self.filtered_out:,}"
        )
        for reason, count in sorted(self.problems.items(), key=lambda kv: -kv[1]):
            yield f"  {count:5,}  {reason}"
        found = ", ".join(
            f"{outcome.value}={count:,}"
            for outcome, count in self.findings.items()
            if count
        )
        yield f"findings: {found}; events proposed: {self.events:,}"


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark; print timings, counts and the ratios line."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=2_000_000)
    parser.add_argument(
        "--quick",
        action="store_true",
        help="200,000 rows and 5,000 registrations, whatever --rows says",
    )
    parser.add_argument("--runs", type=int, default=3, help="best of this many")
    args = parser.parse_args(argv)
    rows = 200_000 if args.quick else args.rows
    agents = 5_000 if args.quick else 50_000

    start = time.perf_counter()
    regs, planted = build_registrations(agents)
    took = time.perf_counter() - start
    print(f"registered {len(regs):,} agents for {PLAN_YEAR} in {took:.1f} s")

    if rows // 2 < len(planted):
        parser.error(f"--rows {rows:,} is too few for {len(planted):,} listed rows")

    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "TBL_RCL_2.csv"
        malformed = _write(path, rows, planted)
        snake = Path(folder) / "rcl_snake.csv"
        _snake(path, snake)
        pages_folder = Path(folder) / "pages"
        pages_folder.mkdir()
        pages = _pages(path, pages_folder)
        runs: dict[str, list[tuple[float, float]]] = {
            "bare": [],
            "read": [],
            "full": [],
            "snake": [],
            "json": [],
        }
        for _ in range(args.runs):
            # Alternating keeps a slow moment of the machine from favouring one.
            wall, cpu, count = timed(lambda: bare_csv_reader(path))
            assert count == rows
            runs["bare"].append((wall, cpu))
            wall, cpu, _kept = timed(lambda: read_only(path, regs))
            runs["read"].append((wall, cpu))
            wall, cpu, (reading, result) = timed(lambda: full_reconcile(path, regs))
            runs["full"].append((wall, cpu))
            summary = Summary.of(reading, result)
            summary.check(rows, malformed)
            del reading, result
            wall, cpu, (reading, result) = timed(lambda: full_reconcile(snake, regs))
            runs["snake"].append((wall, cpu))
            assert Summary.of(reading, result) == summary
            del reading, result
            wall, cpu, (reading, result) = timed(lambda: full_reconcile(pages, regs))
            runs["json"].append((wall, cpu))
            assert reading.read <= rows and reading.kept == summary.kept
            del reading, result

        half = Path(folder) / "TBL_RCL_1.csv"
        half_malformed = _write(half, rows // 2, planted)
        peak_half, half_summary = peak_mb(half, regs)
        half.unlink()
        half_summary.check(rows // 2, half_malformed)
        peak_full, full_summary = peak_mb(path, regs)
        assert full_summary == summary
        # The same registrations, listed the same way: the same findings.
        assert half_summary.findings == summary.findings

    best = {
        name: tuple(min(t[i] for t in times) for i in (0, 1))
        for name, times in runs.items()
    }
    per_row = 1e6 / rows
    print(f"\nbest of {args.runs}, {rows:,} rows        wall       cpu   us/row")
    labels = {
        "bare": "csv.reader pass",
        "read": f"read_rcl, {len(regs):,} NPNs",
        "full": "full reconcile",
        "snake": "full reconcile, snake_case",
        "json": f"full reconcile, {len(pages):,} pages",
    }
    for name, label in labels.items():
        wall, cpu = best[name]
        print(f"{label:<28} {wall:7.3f} s {cpu:7.3f} s  {wall * per_row:6.3f}")
    over = best["full"][0] - best["read"][0]
    each = over / len(regs) * 1e6
    print(f"reconcile beyond the reader  {over:7.3f} s  ({each:.1f} us/registration)")
    print(
        f"cpu-time ratios rcl/csv_reader={best['full'][1] / best['bare'][1]:.2f} "
        f"read_rcl/csv_reader={best['read'][1] / best['bare'][1]:.2f}"
    )
    # On a shared machine the best of each can come from different moments;
    # each round's own ratio shows how far to trust the best-of line.
    paired = " ".join(
        f"{full[0] / bare[0]:.2f}"
        for bare, full in zip(runs["bare"], runs["full"], strict=True)
    )
    print(f"rcl/csv_reader round by round: {paired}")
    print()
    for line in summary.lines():
        print(line)
    print(
        f"peak memory of the full reconcile: {peak_half:.1f} MB at {rows // 2:,} "
        f"rows, {peak_full:.1f} MB at {rows:,} rows"
    )
    print(
        f"ratios rcl/csv_reader={best['full'][0] / best['bare'][0]:.2f} "
        f"peak_mb_2m/peak_mb_1m={peak_full / peak_half:.2f} "
        f"snake/published={best['snake'][0] / best['full'][0]:.2f} "
        f"json/published={best['json'][0] / best['full'][0]:.2f}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
