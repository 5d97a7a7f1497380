"""The demo data: two agencies, agents in every state that needs a portal's eye.

Dates are fixed relative to the plan year (early October of the year
before it, when registration opens), so a fresh database looks the same
every time for a plan year. Everything goes through regflow's public API,
as the portal's own pages do.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Final
from zoneinfo import ZoneInfo

import regflow
from regflow import events as ev
from regflow.store import (
    ANY_AGENCY,
    AsyncPostgresStore,
    AsyncRepository,
    AsyncSQLiteStore,
)

__all__ = ["AGENCIES", "seed", "seed_if_empty"]

AGENCIES: Final[Mapping[str, str]] = {
    "acme": "Acme Insurance Agency",
    "sunbelt": "Sunbelt Benefits Group",
}
_ET: Final = ZoneInfo("America/New_York")
_FIRST: Final = ("Ana", "Ben", "Carla", "Dev", "Elena", "Femi", "Gus", "Hana", "Ivan")
_LAST: Final = ("Reyes", "Okafor", "Lindqvist", "Patel", "Moreau", "Kim", "Silva")

# Where each demo agent stops, per agency, in order.
_PLAN: Final[Mapping[str, tuple[str, ...]]] = {
    "acme": (
        *("certified",) * 12,  # enough for a second page
        "started",
        "training",
        "agreements",
        "rcl_overdue",
        "escalated",
        "npn_invalid",
        "terminated",
        "shop",
    ),
    "sunbelt": ("certified", "certified", "certified", "training", "rcl_overdue"),
}


class _Agent:
    def __init__(self, repo: AsyncRepository, agency: str, number: int, plan_year: int):
        self.repo, self.plan_year = repo, plan_year
        self.agent_id = f"{agency}-{number:03d}"
        self.number = number + (0 if agency == "acme" else 500)
        self.count = 0

    def at(self, day: int, hour: int = 10) -> dt.datetime:
        return dt.datetime(self.plan_year - 1, 10, day, hour, tzinfo=_ET)

    def _id(self) -> str:
        self.count += 1
        return f"seed-{self.agent_id}-{self.count}"

    async def start(self, agency: str) -> None:
        await self.repo.start(
            ev.StartRegistration(
                event_id=self._id(),
                at=self.at(2, 9),
                agent_id=self.agent_id,
                agency_id=agency,
                portal_account_id=f"portal-{self.number:04d}",
                plan_year=self.plan_year,
                prior_year=self.plan_year - 1,
            )
        )

    async def send(self, cls: type[ev.Event], day: int, **fields: object) -> None:
        event = cls(event_id=self._id(), at=self.at(day), **fields)
        await self.repo.apply(self.agent_id, self.plan_year, event)

    def profile(self, *, shop: bool = False) -> regflow.Profile:
        n = self.number
        name = f"{_FIRST[n % len(_FIRST)]} {_LAST[n * 5 % len(_LAST)]}"
        return regflow.Profile(
            role=regflow.Role.MARKETPLACE_AGENT_BROKER,
            contact=regflow.ContactDetails(
                name=name,
                email=f"{self.agent_id}@example.com",
                phone=f"555-{n:04d}",
                zip_code="33101",
            ),
            shop=shop,
            npn=str(17000000 + n * 37),
        )


async def _walk(a: _Agent, agency: str, stop: str) -> None:
    await a.start(agency)
    if stop == "started":
        return
    await a.send(ev.SaveProfile, 2, profile=a.profile(shop=stop == "shop"))
    await a.send(ev.CompleteProfile, 2)
    if stop == "training":
        return
    await a.send(ev.CompleteMlmsTraining, 2, curriculum=regflow.Curriculum.RETURNING)
    if stop == "agreements":
        return
    agreements = regflow.PlanYearRules.for_year(a.plan_year).individual_agreements
    if stop == "shop":
        agreements += (regflow.Agreement.SHOP_PRIVACY_SECURITY,)
    for agreement in agreements:
        await a.send(ev.AcceptAgreement, 2, agreement=agreement)
    if stop == "rcl_overdue":
        return
    if stop == "escalated":
        await a.send(ev.ContactHelpDesk, 9)
        return
    valid = (
        regflow.NpnValidity.INVALID
        if stop == "npn_invalid"
        else regflow.NpnValidity.VALID
    )
    completed = a.at(2).date()
    await a.send(
        ev.ObserveRclListing, 5, npn_valid=valid, individual_completion=completed
    )
    if stop == "terminated":
        await a.send(ev.Terminate, 12, reason=regflow.TerminationReason.NON_COMPLIANCE)


async def seed(store: AsyncPostgresStore | AsyncSQLiteStore, plan_year: int) -> int:
    """Create the demo agents for *plan_year*; return how many."""
    made = 0
    for agency, stops in _PLAN.items():
        repo = AsyncRepository(store, agency=agency)
        for number, stop in enumerate(stops, start=1):
            await _walk(_Agent(repo, agency, number, plan_year), agency, stop)
            made += 1
    return made


async def seed_if_empty(
    store: AsyncPostgresStore | AsyncSQLiteStore, plan_year: int
) -> int:
    """Seed a database that holds no registration yet; return how many agents."""
    if await AsyncRepository(store, agency=ANY_AGENCY).count() > 0:
        return 0
    return await seed(store, plan_year)
