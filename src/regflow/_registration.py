"""The registration snapshot: one agent, one plan year, one state."""

from __future__ import annotations

import datetime as dt
import enum
from typing import Final

import attrs

from ._events import Event
from ._npn import NPN
from ._records import (
    Agreement,
    AgreementDecision,
    Completion,
    Confirmation,
    ConfirmationRecord,
    Curriculum,
    Profile,
    RclListing,
    Role,
    TerminationRecord,
    VendorLaunch,
)

__all__ = ["SCHEMA_VERSION", "Recorded", "Registration", "State"]

SCHEMA_VERSION: Final = 1
"""The snapshot layout this regflow writes; see :func:`regflow.loads`."""


class State(enum.Enum):
    """Where a registration stands. Values are stable strings, safe to store."""

    PROFILE_INCOMPLETE = "profile_incomplete"
    TRAINING = "training"
    VENDOR_TRAINING = "vendor_training"
    VENDOR_COMPLETED = "vendor_completed"
    AGREEMENTS_PENDING = "agreements_pending"
    REGISTERED = "registered"
    NPN_INVALID = "npn_invalid"
    ESCALATED = "escalated"
    CERTIFIED = "certified"
    TERMINATED = "terminated"
    REINSTATED = "reinstated"
    TRAINING_COMPLETE = "training_complete"

    def __str__(self) -> str:
        return self.value


@attrs.frozen(slots=True)
class Recorded:
    """One accepted event in a registration's history, with its sequence number."""

    seq: int
    event: Event


_EMPTY_PROFILE: Final = Profile()


@attrs.frozen(kw_only=True, slots=True)
class Registration:
    """An immutable snapshot of one agent's registration for one plan year.

    Build it with :meth:`regflow.Workflow.start` and move it with
    :meth:`regflow.Workflow.apply`; ``history`` holds every accepted event, and
    replaying it rebuilds this snapshot.
    """

    agent_id: str
    portal_account_id: str
    plan_year: int
    prior_year: int | None = None
    state: State = State.PROFILE_INCOMPLETE
    profile: Profile = _EMPTY_PROFILE
    enrollments: tuple[Curriculum, ...] = ()
    completions: tuple[Completion, ...] = ()
    launch: VendorLaunch | None = None
    agreements: tuple[AgreementDecision, ...] = ()
    registered_at: dt.datetime | None = None
    certificate_printed: bool = False
    confirmations: tuple[ConfirmationRecord, ...] = ()
    rcl: RclListing | None = None
    termination: TerminationRecord | None = None
    history: tuple[Recorded, ...] = ()
    version: int = 0
    schema_version: int = SCHEMA_VERSION

    @property
    def npn(self) -> NPN | None:
        """The individual NPN from the profile, if entered."""
        return self.profile.npn

    @property
    def is_agent(self) -> bool:
        """Whether the role needs an NPN and agreements (every role but one)."""
        return self.profile.role is not Role.NOT_AN_AGENT_BROKER

    @property
    def completed_curricula(self) -> frozenset[Curriculum]:
        """The curricula completed, by any provider."""
        return frozenset(c.curriculum for c in self.completions)

    @property
    def training_complete(self) -> bool:
        """Whether every enrolled curriculum is completed (and there is one)."""
        done = self.completed_curricula
        return bool(self.enrollments) and all(c in done for c in self.enrollments)

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
        """Listed on the RCL for the plan year with NPN Valid Y."""
        return self.state is State.CERTIFIED
