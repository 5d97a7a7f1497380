"""How long does ``regflow report`` take next to ``regflow status --json``?

Builds one SQLite store of ``--agents`` registrations for plan year 2024
(untimed, once): each agent taken through the lifecycle to a random step,
so the roster holds every funnel step (profile, training, agreements,
registered and waiting, some past their RCL deadline, some written in to
the help desk, listed with NPN Valid Y or N, terminated, reinstated, not
an agent), decided by ``Workflow.apply`` in memory and written with
``Store.write`` a thousand registrations per transaction.

Then both commands run in-process through ``regflow.cli.main`` on that
store, side by side in one run: ``--rounds`` times each (default once; more
alternate which goes first), best kept:

* ``status --json --plan-year 2024 --on 2023-10-20``, its output discarded:
  every snapshot read, its view, deadlines and overdue confirmations
  rendered as JSON;
* ``report --plan-year 2024 --on 2023-10-20``: every snapshot read, the
  funnel, the trend (each listed registration's log replayed), overdue and
  explain's refusals for whoever needs action, then the HTML page (Jinja2,
  two matplotlib charts), CSV and JSON written.

The last line printed is ``ratios report/status_json=X.XX``::

    PYTHONPATH=src python benchmarks/report.py --agents 50000
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import io
import os
import random
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import regflow
from regflow import events as ev
from regflow._calendar import cms_date
from regflow.cli import main
from regflow.store import SQLiteStore

YEAR = 2024
ON = dt.date(2023, 10, 20)
ET = dt.timezone(dt.timedelta(hours=-4))
BATCH = 1000
FLOW = regflow.Workflow.for_plan_year(YEAR)


def agent(n: int, rng: random.Random) -> regflow.Registration:
    """Agent *n*, through the lifecycle up to a random step."""
    shop = rng.random() < 0.3
    non_agent = rng.random() < 0.02
    at = dt.datetime(2023, 9, 5, 9, tzinfo=ET) + dt.timedelta(days=rng.randrange(40))
    ids = iter(range(1, 100))
    reg = FLOW.start(
        ev.StartRegistration(
            event_id=f"{n}-0",
            at=at,
            agent_id=f"agent-{n:06d}",
            agency_id=f"agency-{n % 7}",
            portal_account_id=f"portal-{n}",
            plan_year=YEAR,
            prior_year=None if non_agent else YEAR - 1,
        )
    )
    role = (
        regflow.Role.NOT_AN_AGENT_BROKER
        if non_agent
        else regflow.Role.MARKETPLACE_AGENT_BROKER
    )
    profile = regflow.Profile(
        role=role,
        contact=regflow.ContactDetails(
            name=f"Agent {n}",
            email=f"agent{n}@example.com",
            phone=f"555-{n % 10_000:04d}",
            zip_code="33101",
        ),
        find_local_help=not non_agent and rng.random() < 0.5,
        shop=shop and not non_agent,
        npn=None if non_agent else str(10_000_000 + n),
    )
    valid = (
        regflow.NpnValidity.VALID if rng.random() < 0.9 else regflow.NpnValidity.INVALID
    )
    where = rng.choice(list(regflow.Marketplaces))
    reason = rng.choice(list(regflow.TerminationReason))
    agreement = regflow.Agreement

    def listing(reg: regflow.Registration) -> dict[str, object]:
        done, shop_done = reg.individual_registered_at, reg.shop_registered_at
        return {
            "npn_valid": valid,
            "individual_completion": done and cms_date(done),
            "shop_completion": shop_done and cms_date(shop_done),
        }

    curriculum = (
        regflow.Curriculum.INDIVIDUAL if non_agent else regflow.Curriculum.RETURNING
    )
    steps: list[tuple[type[ev.Event], object]] = [
        (ev.SaveProfile, {"profile": profile}),
        (ev.CompleteProfile, {}),
        (ev.CompleteMlmsTraining, {"curriculum": curriculum}),
        (ev.AcceptAgreement, {"agreement": agreement.INDIVIDUAL_GENERAL}),
        (ev.AcceptAgreement, {"agreement": agreement.INDIVIDUAL_PRIVACY_SECURITY}),
        *(
            [(ev.AcceptAgreement, {"agreement": agreement.SHOP_PRIVACY_SECURITY})]
            if shop
            else []
        ),
        (ev.PrintCertificate, {}),
        (ev.ConfirmTracker, {}),
        (ev.ContactHelpDesk, {}),
        (ev.ObserveRclListing, listing),
        (ev.Terminate, {"reason": reason, "marketplaces": where}),
        (ev.Reinstate, {"reason": reason, "marketplaces": where}),
    ]
    # Most agents get far: a compliance lead's roster in October.
    stop = rng.choices(
        range(len(steps) + 1),
        weights=[2, 5, 4, 4, 1, 6, *([1] if shop else []), 3, 8, 4, 55, 3, 1],
    )[0]
    for kind, fields in steps[:stop]:
        at += dt.timedelta(days=rng.randrange(3), hours=1)
        if at.date() > ON:
            break
        values = fields(reg) if callable(fields) else fields
        event = kind(event_id=f"{n}-{next(ids)}", at=at, **values)
        # Refused (writing in before the RCL is late, a step too early):
        # the agent stays where they are.
        with contextlib.suppress(regflow.StepRefused):
            reg = FLOW.apply(reg, event)
    return reg


def build(path: Path, agents: int, seed: int) -> Counter[str]:
    """Write *agents* registrations to a fresh store at *path*; their statuses."""
    rng = random.Random(seed)
    store = SQLiteStore(str(path))
    statuses: Counter[str] = Counter()
    try:
        for first in range(0, agents, BATCH):
            regs = [agent(n, rng) for n in range(first, min(first + BATCH, agents))]
            with store.transaction():
                for reg in regs:
                    store.write(reg, expected_version=0)
                    statuses[reg.status.value] += 1
    finally:
        store.close()
    return statuses


def timed(work: Callable[[], None]) -> float:
    began = time.perf_counter()
    work()
    return time.perf_counter() - began


def command(*args: str) -> Callable[[], None]:
    """Run ``regflow ARGS`` in-process, its stdout discarded; fail on a non-zero exit."""

    def run() -> None:
        with contextlib.redirect_stdout(io.StringIO()):
            try:
                main(list(args))
            except SystemExit as done:
                if done.code:
                    raise RuntimeError(
                        f"regflow {' '.join(args)}: exit {done.code}"
                    ) from None

    return run


def main_bench(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--agents", type=int, default=50_000)
    parser.add_argument("--rounds", type=int, default=1)
    parser.add_argument("--seed", type=int, default=13)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as folder:
        db = Path(folder) / "roster.sqlite3"
        began = time.perf_counter()
        statuses = build(db, args.agents, args.seed)
        print(
            f"built {args.agents} registrations in {time.perf_counter() - began:.1f} s: "
            + ", ".join(f"{k} {v}" for k, v in sorted(statuses.items()))
        )
        day = ON.isoformat()
        report_path = Path(folder) / "report.html"
        status = command(
            "status", "--db", str(db), "--on", day, "--plan-year", str(YEAR), "--json"
        )
        report = command(
            "report", "--db", str(db), "--on", day, "--plan-year", str(YEAR),
            "-o", str(report_path),
        )  # fmt: skip
        best = {"status --json": float("inf"), "report": float("inf")}
        for round_ in range(args.rounds):
            order = [("status --json", status), ("report", report)]
            for name, work in order if round_ % 2 == 0 else order[::-1]:
                best[name] = min(best[name], timed(work))
        sizes = {
            ext: os.path.getsize(report_path.with_suffix(ext))
            for ext in (".html", ".csv", ".json")
        }
    print(f"{'side':<16}{'best of ' + str(args.rounds):>12}{'per agent':>14}")
    for name, seconds in best.items():
        print(f"{name:<16}{seconds:>10.2f} s{seconds / args.agents * 1e6:>11.0f} us")
    print("report files: " + ", ".join(f"{k} {v:,} bytes" for k, v in sizes.items()))
    ratio = best["report"] / best["status --json"]
    print(f"ratios report/status_json={ratio:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main_bench())
