"""Plan-year rules as data: what changes from one plan year to the next.

The 2024 rules are the seed's. Any later (or earlier) plan year is the same
shape with the years moved, so a new plan year needs no code change; where CMS
changes something, build the year's rules with :func:`attrs.evolve`.
"""

from __future__ import annotations

import datetime as dt
from typing import Final

import attrs

from ._calendar import CMS_TIME
from ._errors import RulesError
from ._records import Agreement, Curriculum, Profile, Role
from ._states import Track

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
        shop_curriculum: the optional SHOP training, the SHOP track's.
        approved_vendors: HHS-approved training vendors (S10).
        vendor_curricula: what the approved vendors teach: the Individual
            Marketplace trainings; SHOP's is taken in MLMS (a project
            interpretation, see docs/rules.md).
        individual_agreements: what every agent signs (S16).
        shop_agreements: what an agent taking part in SHOP signs: SHOP
            registration is that agreement (with identity proofing).
        tracker_days, rcl_days, find_local_help_days: business days each
            public confirmation may take after the agreements (S19-S21).
        help_desk_email: the address for a missing RCL listing (S22).
        events_from, events_until: the first and last day (in CMS's time
            zone) an event of this plan year may be dated. By default from
            January 1 of the year before the plan year, when registration for
            it can first open, to December 31 of the plan year, after which
            nothing about it can still happen.
        launch_lifetime: the longest a vendor launch may stay valid (S13).
    """

    plan_year: int
    previous_year: int
    returning_curriculum: Curriculum = Curriculum.RETURNING
    full_curriculum: Curriculum = Curriculum.INDIVIDUAL
    optional_curricula: frozenset[Curriculum] = frozenset(
        {Curriculum.INDIVIDUAL, Curriculum.SHOP}
    )
    shop_curriculum: Curriculum = Curriculum.SHOP
    approved_vendors: tuple[str, ...] = ("HealthSherpa", "INSXCloud")
    vendor_curricula: frozenset[Curriculum] = frozenset(
        {Curriculum.RETURNING, Curriculum.INDIVIDUAL}
    )
    individual_agreements: tuple[Agreement, ...] = (
        Agreement.INDIVIDUAL_GENERAL,
        Agreement.INDIVIDUAL_PRIVACY_SECURITY,
    )
    shop_agreements: tuple[Agreement, ...] = (Agreement.SHOP_PRIVACY_SECURITY,)
    tracker_days: int = 2
    rcl_days: int = 2
    find_local_help_days: int = 3
    help_desk_email: str = HELP_DESK_EMAIL
    events_from: dt.date = attrs.field(
        default=attrs.Factory(lambda self: dt.date(self.plan_year - 1, 1, 1), True)
    )
    events_until: dt.date = attrs.field(
        default=attrs.Factory(lambda self: dt.date(self.plan_year, 12, 31), True)
    )
    launch_lifetime: dt.timedelta = dt.timedelta(days=30)
    # The window as instants, for a comparison per event without a zone lookup.
    _opens: dt.datetime = attrs.field(init=False, repr=False, eq=False)
    _closes: dt.datetime = attrs.field(init=False, repr=False, eq=False)

    def __attrs_post_init__(self) -> None:
        if self.events_until < self.events_from:
            raise RulesError(
                f"'events_until' ({self.events_until}) is before 'events_from' "
                f"({self.events_from})"
            )
        opens = dt.datetime.combine(self.events_from, dt.time(), CMS_TIME)
        after = dt.datetime.combine(
            self.events_until + dt.timedelta(days=1), dt.time(), CMS_TIME
        )
        object.__setattr__(self, "_opens", opens.astimezone(dt.timezone.utc))
        object.__setattr__(self, "_closes", after.astimezone(dt.timezone.utc))

    def in_window(self, at: dt.datetime) -> bool:
        """Whether an event at *at* may belong to this plan year."""
        return self._opens <= at < self._closes

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

    def curriculum_track(self, curriculum: Curriculum) -> Track:
        """The track whose training *curriculum* is."""
        return Track.SHOP if curriculum is self.shop_curriculum else Track.INDIVIDUAL

    def agreement_track(self, agreement: Agreement) -> Track:
        """The track *agreement* registers for."""
        return Track.SHOP if agreement in self.shop_agreements else Track.INDIVIDUAL

    def required_agreements(
        self, profile: Profile, track: Track | None = None
    ) -> tuple[Agreement, ...]:
        """The agreements this profile must accept (S16), on *track* or on both.

        None for Not an Agent Broker; SHOP's only when the profile takes SHOP.
        """
        if profile.role is Role.NOT_AN_AGENT_BROKER:
            return ()
        found: tuple[Agreement, ...] = ()
        if track is not Track.SHOP:
            found += self.individual_agreements
        if track is not Track.INDIVIDUAL and profile.shop:
            found += self.shop_agreements
        return found
