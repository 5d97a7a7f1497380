"""The registration snapshot: one agent, one plan year, two tracks."""

from __future__ import annotations

import datetime as dt
from typing import ClassVar, Final

import attrs

from ._events import Event, SaveProfile
from ._npn import NPN
from ._records import (
    Agreement,
    AgreementDecision,
    Completion,
    Confirmation,
    ConfirmationRecord,
    Curriculum,
    NpnValidity,
    Profile,
    RclListing,
    Role,
    TerminationRecord,
    VendorLaunch,
)
from ._states import IndividualState, ShopState, Status, Track

__all__ = ["SCHEMA_VERSION", "Registration", "TrackView"]

SCHEMA_VERSION: Final = 2
"""The snapshot layout this regflow writes; see :func:`regflow.loads`.

Version 1 had one state and no SHOP track; :data:`regflow.MIGRATIONS`
upgrades it."""

_EMPTY_PROFILE: Final = Profile()
IS, SS = IndividualState, ShopState
_SHOP_CURRICULUM: Final = Curriculum.SHOP
_WAITING: Final = frozenset({IS.REGISTERED, IS.ESCALATED, IS.REINSTATED})
_SHOP_STEPS_LEFT: Final = frozenset(
    {SS.PROFILE_INCOMPLETE, SS.TRAINING, SS.AGREEMENT_PENDING}
)
_FLAGGED: Final = frozenset(
    {IS.NPN_INVALID, IS.TERMINATED, SS.NPN_INVALID, SS.TERMINATED}
)


@attrs.frozen(kw_only=True, slots=True)
class TrackView:
    """One track of a registration, with what CMS's lists said of it.

    Attributes:
        track: which track.
        state: where it stands.
        taken: whether the agent takes part in it (SHOP is chosen in the
            profile; the Individual track is every role's).
        registered_at: when its last agreement was accepted.
        listing: what the RCL last showed for it.
        termination: its last termination or reinstatement.
        plan_year: the registration's plan year.
    """

    track: Track
    state: IndividualState | ShopState
    taken: bool
    registered_at: dt.datetime | None
    listing: RclListing | None
    termination: TerminationRecord | None
    plan_year: int

    @property
    def certified(self) -> bool:
        """Listed on the RCL with NPN Valid Y (and not terminated since)."""
        return self.state in (IndividualState.CERTIFIED, ShopState.LISTED)

    def certified_on(self, day: dt.date) -> bool:
        """Whether the track is certified and its listing holds on *day*.

        A listing holds from its completion date to its end date; a listing
        that gave no end date holds to December 31 of the plan year.
        """
        listing = self.listing
        if not self.certified or listing is None:
            return False
        if listing.npn_valid is NpnValidity.INVALID:
            return False  # certified tracks have no N listing; kept as a guard
        if listing.completed_on is not None and day < listing.completed_on:
            return False
        ends = listing.ends_on or dt.date(self.plan_year, 12, 31)
        return day <= ends


@attrs.frozen(kw_only=True, slots=True)
class Registration:
    """An immutable snapshot of one agent's registration for one plan year.

    Build it with :meth:`regflow.Workflow.start` and move it with
    :meth:`regflow.Workflow.apply`; ``history`` holds every accepted event,
    in order (event *n* is version *n*), and replaying it rebuilds this
    snapshot. The Individual and SHOP registrations are two tracks,
    ``individual`` and ``shop``, summed up by :attr:`status`.

    Attributes:
        agent_id: the portal's id for the agent.
        portal_account_id: the agent's CMS Enterprise Portal account.
        plan_year: the plan year this registration is for.
        agency_id: the agency (tenant) it belongs to, if the portal has several.
        prior_year: the plan year of the agent's last completed Individual
            registration, if any: it decides the returning track (S1).
        individual: the Individual track's state.
        shop: the SHOP track's state.
        profile: the MLMS profile as last saved.
        enrollments: the curricula enrolled in, in order.
        completions: the curricula completed, with provider and time.
        launch: the open launch to an approved training vendor, if any.
        agreements: every agreement accepted or declined, in order.
        individual_registered_at: when every required Individual agreement
            was accepted (the registration's completion); deadlines count from it.
        shop_registered_at: the same for the SHOP agreement.
        certificate_printed: whether the certificate was printed (S17).
        confirmations: the public confirmations recorded after the
            agreements (S18-S21): the Tracker, the RCL, Find Local Help.
        individual_listing: what the RCL last showed for the Individual track.
        shop_listing: what the RCL last showed for the SHOP track.
        individual_termination: the Individual track's termination, if any.
        shop_termination: the SHOP track's termination, if any.
        history: every accepted event, in order; event *n* is version *n*.
    """

    schema_version: ClassVar[int] = SCHEMA_VERSION

    agent_id: str
    portal_account_id: str
    plan_year: int
    agency_id: str | None = None
    prior_year: int | None = None
    individual: IndividualState = IndividualState.PROFILE_INCOMPLETE
    shop: ShopState = ShopState.PROFILE_INCOMPLETE
    profile: Profile = _EMPTY_PROFILE
    enrollments: tuple[Curriculum, ...] = ()
    completions: tuple[Completion, ...] = ()
    launch: VendorLaunch | None = None
    agreements: tuple[AgreementDecision, ...] = ()
    individual_registered_at: dt.datetime | None = None
    shop_registered_at: dt.datetime | None = None
    certificate_printed: bool = False
    confirmations: tuple[ConfirmationRecord, ...] = ()
    individual_listing: RclListing | None = None
    shop_listing: RclListing | None = None
    individual_termination: TerminationRecord | None = None
    shop_termination: TerminationRecord | None = None
    history: tuple[Event, ...] = ()

    @property
    def version(self) -> int:
        """How many events the registration has taken: its optimistic-lock version."""
        return len(self.history)

    @property
    def started_at(self) -> dt.datetime:
        """When the registration started (its first event)."""
        return self.history[0].at

    @property
    def npn(self) -> NPN | None:
        """The individual NPN from the profile, if entered."""
        return self.profile.npn

    @property
    def is_agent(self) -> bool:
        """Whether the role needs an NPN and agreements (every role but one)."""
        return self.profile.role is not Role.NOT_AN_AGENT_BROKER

    @property
    def takes_shop(self) -> bool:
        """Whether the agent takes part in SHOP: the profile's one SHOP fact."""
        return self.profile.shop and self.is_agent

    @property
    def profile_saved(self) -> bool:
        """Whether Save/Update was selected on the profile in this registration (S7)."""
        return any(type(event) is SaveProfile for event in self.history)

    @property
    def completed_curricula(self) -> frozenset[Curriculum]:
        """The curricula completed, by any provider."""
        return frozenset(c.curriculum for c in self.completions)

    @property
    def individual_curricula(self) -> tuple[Curriculum, ...]:
        """The enrolled curricula of the Individual track (all but SHOP's)."""
        return tuple(c for c in self.enrollments if c is not _SHOP_CURRICULUM)

    @property
    def training_complete(self) -> bool:
        """Whether the Individual track's training is done: every enrolled
        curriculum but SHOP's is completed (and there is one). SHOP's optional
        curriculum never holds the Individual track back."""
        done = self.completed_curricula
        mine = self.individual_curricula
        return bool(mine) and all(c in done for c in mine)

    @property
    def shop_training_complete(self) -> bool:
        """Whether the SHOP curriculum, if enrolled, is completed."""
        return (
            _SHOP_CURRICULUM not in self.enrollments
            or _SHOP_CURRICULUM in self.completed_curricula
        )

    @property
    def accepted_agreements(self) -> frozenset[Agreement]:
        """The agreements whose latest answer is "I Agree"."""
        return frozenset(d.agreement for d in self.agreements if d.accepted)

    @property
    def confirmed(self) -> frozenset[Confirmation]:
        """The public confirmations observed so far."""
        return frozenset(c.kind for c in self.confirmations)

    @property
    def is_certified(self) -> bool:
        """Listed on the RCL for the plan year with NPN Valid Y (Individual)."""
        return self.individual is IndividualState.CERTIFIED

    def track(self, track: Track) -> TrackView:
        """One track, with its state and what the lists said of it."""
        if track is Track.INDIVIDUAL:
            return TrackView(
                track=track,
                state=self.individual,
                taken=True,
                registered_at=self.individual_registered_at,
                listing=self.individual_listing,
                termination=self.individual_termination,
                plan_year=self.plan_year,
            )
        return TrackView(
            track=Track.SHOP,
            state=self.shop,
            taken=self.takes_shop,
            registered_at=self.shop_registered_at,
            listing=self.shop_listing,
            termination=self.shop_termination,
            plan_year=self.plan_year,
        )

    @property
    def tracks(self) -> tuple[TrackView, ...]:
        """Both tracks: Individual, then SHOP."""
        return (self.track(Track.INDIVIDUAL), self.track(Track.SHOP))

    def certified_on(self, day: dt.date, track: Track = Track.INDIVIDUAL) -> bool:
        """Whether *track* is certified and its RCL listing holds on *day*."""
        return self.track(track).certified_on(day)

    @property
    def status(self) -> Status:
        """One word for a dashboard, from both tracks.

        ``training_complete`` for the Not an Agent Broker role done;
        ``terminated`` when every track taken is; ``action_needed`` when a
        track is flagged on the RCL or terminated; ``certified`` when the
        Individual track is; ``registered`` while every step of every track
        taken is done and the lists are awaited; otherwise ``in_progress``.
        """
        individual, shop = self.individual, self.shop
        if individual is IS.TRAINING_COMPLETE:
            return Status.TRAINING_COMPLETE
        if individual is IS.TERMINATED and shop in (SS.NOT_TAKEN, SS.TERMINATED):
            return Status.TERMINATED
        if individual in _FLAGGED or shop in _FLAGGED:
            return Status.ACTION_NEEDED
        if individual is IS.CERTIFIED:
            return Status.CERTIFIED
        if individual in _WAITING and shop not in _SHOP_STEPS_LEFT:
            return Status.REGISTERED
        return Status.IN_PROGRESS
