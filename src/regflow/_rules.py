"""Plan-year rules as data: what changes from one plan year to the next.

The 2024 rules are the seed's. Any later (or earlier) plan year is the same
shape with the years moved, so a new plan year needs no code change; where CMS
changes something, build the year's rules with :func:`attrs.evolve`.
"""

from __future__ import annotations

from typing import Final

import attrs

from ._errors import RulesError
from ._records import Agreement, Curriculum, Profile, Role

__all__ = ["HELP_DESK_EMAIL", "PlanYearRules"]

HELP_DESK_EMAIL: Final = "FFMProducer-AssisterHelpDesk@cms.hhs.gov"
"""Where an agent missing from the RCL writes for help (S22)."""

_FIRST_PLAN_YEAR: Final = (
    2014  # the first year of the federally-facilitated Marketplace
)
_LAST_PLAN_YEAR: Final = 2100


@attrs.frozen(kw_only=True, slots=True)
class PlanYearRules:
    """Everything about registration that is a fact of one plan year.

    Attributes:
        plan_year: the year these rules govern.
        previous_year: the year whose completed Individual registration makes
            an agent *returning* (S1).
        returning_curriculum: what a returning agent is auto-enrolled in (S11).
        full_curriculum: what everyone else is enrolled in (S1).
        optional_curricula: what an agent may add (S11, S12).
        approved_vendors: HHS-approved training vendors (S10).
        individual_agreements: what every agent signs (S16).
        shop_agreements: what an agent taking part in SHOP signs as well.
        tracker_days, rcl_days, find_local_help_days: business days each
            public confirmation may take after the agreements (S19-S21).
        help_desk_email: the address for a missing RCL listing (S22).
    """

    plan_year: int
    previous_year: int
    returning_curriculum: Curriculum = Curriculum.RETURNING
    full_curriculum: Curriculum = Curriculum.INDIVIDUAL
    optional_curricula: frozenset[Curriculum] = frozenset(
        {Curriculum.INDIVIDUAL, Curriculum.SHOP}
    )
    approved_vendors: tuple[str, ...] = ("HealthSherpa", "INSXCloud")
    individual_agreements: tuple[Agreement, ...] = (
        Agreement.INDIVIDUAL_GENERAL,
        Agreement.INDIVIDUAL_PRIVACY_SECURITY,
    )
    shop_agreements: tuple[Agreement, ...] = (Agreement.SHOP_PRIVACY_SECURITY,)
    tracker_days: int = 2
    rcl_days: int = 2
    find_local_help_days: int = 3
    help_desk_email: str = HELP_DESK_EMAIL

    @classmethod
    def for_year(cls, plan_year: int) -> PlanYearRules:
        """Return the rules for *plan_year*: the seed's shape, previous year = year - 1.

        Raises:
            RulesError: *plan_year* is not a year the Marketplace could have.
        """
        if (
            isinstance(plan_year, bool)
            or not isinstance(plan_year, int)
            or not _FIRST_PLAN_YEAR <= plan_year <= _LAST_PLAN_YEAR
        ):
            raise RulesError(
                f"'plan_year' must be a year from {_FIRST_PLAN_YEAR} to "
                f"{_LAST_PLAN_YEAR} (got {plan_year!r})"
            )
        return cls(plan_year=plan_year, previous_year=plan_year - 1)

    def is_returning(self, prior_year: int | None) -> bool:
        """Whether an agent whose last completed Individual year is *prior_year*
        may take the Returning training (S1)."""
        return prior_year == self.previous_year

    def initial_enrollment(self, prior_year: int | None) -> Curriculum:
        """The curriculum an agent is enrolled in automatically (S1, S11)."""
        if self.is_returning(prior_year):
            return self.returning_curriculum
        return self.full_curriculum

    def required_agreements(self, profile: Profile) -> tuple[Agreement, ...]:
        """The agreements this profile must accept (S16); none for Not an Agent Broker."""
        if profile.role is Role.NOT_AN_AGENT_BROKER:
            return ()
        if profile.shop:
            return self.individual_agreements + self.shop_agreements
        return self.individual_agreements
