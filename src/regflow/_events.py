"""The events a portal sends: immutable facts with their own id and time.

Every event carries ``event_id`` (unique per registration; a store uses it for
idempotency) and ``at``, an aware datetime: the engine never reads the clock,
so the time of each fact comes with it.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, ClassVar

import attrs

from ._checks import check_fields, fixed_offset
from ._errors import InvalidValue, NaiveDatetime
from ._records import (
    Agreement,
    Curriculum,
    Marketplaces,
    NpnValidity,
    Profile,
    TerminationReason,
)

__all__ = [
    "AcceptAgreement",
    "CompleteMlmsTraining",
    "CompleteProfile",
    "CompleteVendorTraining",
    "ConfirmTracker",
    "ContactHelpDesk",
    "DeclineAgreement",
    "EnrollCurriculum",
    "EraseContactDetails",
    "Event",
    "LaunchVendorTraining",
    "ObserveFindLocalHelp",
    "ObserveRclListing",
    "PortalLogin",
    "PrintCertificate",
    "Reinstate",
    "SaveProfile",
    "StartRegistration",
    "Terminate",
]


def _aware(
    instance: object, attribute: attrs.Attribute[dt.datetime], value: object
) -> None:
    if not isinstance(value, dt.datetime):
        raise InvalidValue(
            f"{attribute.name!r} must be a datetime (got {type(value).__name__} {value!r})"
        )
    if value.utcoffset() is None:
        raise NaiveDatetime(attribute.name, value)


def _nonblank(instance: object, attribute: attrs.Attribute[str], value: object) -> None:
    if not isinstance(value, str) or not value.strip():
        raise InvalidValue(
            f"{attribute.name!r} must be a non-empty string (got {value!r})"
        )


def _optional_nonblank(instance: object, attribute: Any, value: object) -> None:
    if value is not None:
        _nonblank(instance, attribute, value)


@attrs.frozen(kw_only=True, slots=True)
class Event:
    """The base of every event. Subclasses name their machine trigger in ``kind``.

    Every field is checked against its annotation when the event is built:
    a wrong type raises :class:`~regflow.InvalidField` naming it. Times keep
    their instant and UTC offset (see ``fixed_offset``), so that an event
    reads back from JSON or a database equal to itself, DST folds included.

    Attributes:
        event_id: the sender's id for this event, unique in the store: sending
            the same id again returns the first outcome (idempotency).
        at: when it happened, timezone-aware; deadlines and the plan year's
            window are judged at this time, never at the clock's.
    """

    kind: ClassVar[str] = ""

    event_id: str = attrs.field(validator=_nonblank)
    at: dt.datetime = attrs.field(converter=fixed_offset, validator=_aware)

    def __attrs_post_init__(self) -> None:
        check_fields(self)


@attrs.frozen(kw_only=True, slots=True)
class StartRegistration(Event):
    """The agent logs in to the CMS Enterprise Portal for the plan year (S2, S3).

    ``prior_year`` is the plan year of the agent's last completed Individual
    Marketplace registration and training, if any: it decides the returning
    track (S1). :meth:`regflow.Workflow.renew` derives it, and ``profile``,
    from the agent's registration of the year before. ``agency_id`` is the
    agency (tenant) the registration belongs to, if the portal has several.
    """

    kind: ClassVar[str] = "start"

    agent_id: str = attrs.field(validator=_nonblank)
    portal_account_id: str = attrs.field(validator=_nonblank)
    plan_year: int
    prior_year: int | None = None
    agency_id: str | None = attrs.field(default=None, validator=_optional_nonblank)
    profile: Profile | None = None


@attrs.frozen(kw_only=True, slots=True)
class SaveProfile(Event):
    """Save/Update on the MLMS profile page: role and contact details (S4-S9)."""

    kind: ClassVar[str] = "save_profile"

    profile: Profile


@attrs.frozen(kw_only=True, slots=True)
class CompleteProfile(Event):
    """Next on the MLMS profile page, which completes the profile (S7)."""

    kind: ClassVar[str] = "complete_profile"


@attrs.frozen(kw_only=True, slots=True)
class EnrollCurriculum(Event):
    """Enroll in an additional curriculum in MLMS (S11, S12)."""

    kind: ClassVar[str] = "enroll_curriculum"

    curriculum: Curriculum


@attrs.frozen(kw_only=True, slots=True)
class CompleteMlmsTraining(Event):
    """A curriculum completed in MLMS itself (S10, S12)."""

    kind: ClassVar[str] = "complete_mlms_training"

    curriculum: Curriculum


@attrs.frozen(kw_only=True, slots=True)
class LaunchVendorTraining(Event):
    """The portal's "Access Training" link redirects the agent to a vendor (S13, S14).

    The portal issues ``launch_id``; the vendor's completion must present it.
    """

    kind: ClassVar[str] = "launch_vendor_training"

    vendor: str = attrs.field(validator=_nonblank)
    launch_id: str = attrs.field(validator=_nonblank)
    curriculum: Curriculum
    expires_at: dt.datetime = attrs.field(converter=fixed_offset, validator=_aware)


@attrs.frozen(kw_only=True, slots=True)
class CompleteVendorTraining(Event):
    """The vendor reports a completion, presenting the portal's launch (S13-S15)."""

    kind: ClassVar[str] = "complete_vendor_training"

    vendor: str
    launch_id: str
    agent_id: str
    plan_year: int


@attrs.frozen(kw_only=True, slots=True)
class PortalLogin(Event):
    """The agent logs in to the portal again after vendor training (S15)."""

    kind: ClassVar[str] = "portal_login"


@attrs.frozen(kw_only=True, slots=True)
class AcceptAgreement(Event):
    """ "I Agree" on one applicable agreement (S16)."""

    kind: ClassVar[str] = "accept_agreement"

    agreement: Agreement


@attrs.frozen(kw_only=True, slots=True)
class DeclineAgreement(Event):
    """ "I Do Not Agree" on one agreement; the registration stays incomplete (S16)."""

    kind: ClassVar[str] = "decline_agreement"

    agreement: Agreement


@attrs.frozen(kw_only=True, slots=True)
class PrintCertificate(Event):
    """Print Certificate(s) on the MLMS home page (S17)."""

    kind: ClassVar[str] = "print_certificate"


@attrs.frozen(kw_only=True, slots=True)
class ConfirmTracker(Event):
    """The Registration Tracker shows every step complete (S18, S19)."""

    kind: ClassVar[str] = "confirm_tracker"


@attrs.frozen(kw_only=True, slots=True)
class ObserveFindLocalHelp(Event):
    """The agent appears on Find Local Help (S6, S21)."""

    kind: ClassVar[str] = "observe_find_local_help"


@attrs.frozen(kw_only=True, slots=True)
class ObserveRclListing(Event):
    """The NPN appears on the Registration Completion List (S20).

    A row lists each track apart: a SHOP completion date makes it a listing
    of the SHOP track, an Individual date (or no date at all) one of the
    Individual track. With ``npn_valid`` Y a listed track is certified; with
    N it is flagged; with '-', an earlier plan year's listing, certified too
    (refused for a plan year not yet begun). The end dates say until when
    each listing holds.
    """

    kind: ClassVar[str] = "observe_rcl_listing"

    npn_valid: NpnValidity
    individual_completion: dt.date | None = None
    individual_end: dt.date | None = None
    shop_completion: dt.date | None = None
    shop_end: dt.date | None = None


@attrs.frozen(kw_only=True, slots=True)
class ContactHelpDesk(Event):
    """The agent wrote to the FFM Producer and Assister Help Desk (S22)."""

    kind: ClassVar[str] = "contact_help_desk"


@attrs.frozen(kw_only=True, slots=True)
class Terminate(Event):
    """A T row on CMS's termination list for the plan year.

    ``marketplaces`` scopes it: a SHOP row leaves the Individual track alone,
    BOTH ends every track the agent takes part in.
    """

    kind: ClassVar[str] = "terminate"

    reason: TerminationReason
    marketplaces: Marketplaces = Marketplaces.BOTH


@attrs.frozen(kw_only=True, slots=True)
class Reinstate(Event):
    """An R row on CMS's termination list lifts an earlier termination."""

    kind: ClassVar[str] = "reinstate"

    reason: TerminationReason
    marketplaces: Marketplaces = Marketplaces.BOTH


@attrs.frozen(kw_only=True, slots=True)
class EraseContactDetails(Event):
    """The agent's contact details are erased on request (a privacy request).

    The profile's contact reads as erased from here on; the state, the NPN
    and every compliance date remain. A store erases the details from its
    earlier events too (:meth:`regflow.store.Repository.erase`).
    """

    kind: ClassVar[str] = "erase_contact_details"
