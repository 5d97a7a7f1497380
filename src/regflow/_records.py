"""The records a registration is made of: roles, profile, training, agreements.

All are frozen attrs classes with keyword-only fields; enums carry stable
string values so that stored snapshots survive a rename of a Python name.
"""

from __future__ import annotations

import datetime as dt
import enum
from typing import Final

import attrs

from ._checks import check_fields
from ._errors import InvalidValue
from ._npn import NPN

__all__ = [
    "Agreement",
    "AgreementDecision",
    "Completion",
    "Confirmation",
    "ConfirmationRecord",
    "ERASED",
    "ERASED_CONTACT",
    "ContactDetails",
    "Curriculum",
    "Marketplaces",
    "NpnValidity",
    "Profile",
    "RclListing",
    "Role",
    "TerminationRecord",
    "TerminationReason",
    "TrainingProvider",
    "VendorLaunch",
]


class Role(enum.Enum):
    """The MLMS user role (S5): exactly one of two."""

    __hash__ = object.__hash__  # singletons; see regflow._states

    MARKETPLACE_AGENT_BROKER = "marketplace_agent_broker"
    NOT_AN_AGENT_BROKER = "not_an_agent_broker"


class Curriculum(enum.Enum):
    """A training curriculum (S1, S11, S12)."""

    __hash__ = object.__hash__  # singletons; see regflow._states

    RETURNING = "returning"
    INDIVIDUAL = "individual"
    SHOP = "shop"


class Agreement(enum.Enum):
    """A Marketplace agreement accepted with "I Agree" (S16)."""

    __hash__ = object.__hash__  # singletons; see regflow._states

    INDIVIDUAL_GENERAL = "individual_general"
    INDIVIDUAL_PRIVACY_SECURITY = "individual_privacy_security"
    SHOP_PRIVACY_SECURITY = "shop_privacy_security"


class Confirmation(enum.Enum):
    """A public confirmation after the agreements (S18-S21)."""

    __hash__ = object.__hash__  # singletons; see regflow._states

    TRACKER = "tracker"
    RCL = "rcl"
    FIND_LOCAL_HELP = "find_local_help"


class NpnValidity(enum.Enum):
    """The RCL's ``NPN Valid (Current Plan Year Only)`` flag."""

    __hash__ = object.__hash__  # singletons; see regflow._states

    VALID = "Y"
    INVALID = "N"
    NOT_APPLICABLE = "-"

    def certifies(self, plan_year: int, day: dt.date) -> bool:
        """Whether a listing with this flag for *plan_year*, seen on *day*, certifies.

        ``Y`` does; ``N`` does not. ``-`` is how the RCL lists every earlier
        plan year ("Previous plan years will have a dash"), whose
        registration it still shows completed: it certifies for that year,
        once the year can be an earlier one. Registration for a plan year
        opens during the year before it, so from January 1 of *plan_year*
        on a later plan year may be the RCL's current one; before that day
        *plan_year* is the newest a list can hold, and a ``-`` for it
        contradicts the flag's own meaning.
        """
        if self is NpnValidity.NOT_APPLICABLE:
            return day >= dt.date(plan_year, 1, 1)
        return self is NpnValidity.VALID


class Marketplaces(enum.Enum):
    """Which Marketplaces a termination or reinstatement covers."""

    __hash__ = object.__hash__  # singletons; see regflow._states

    INDIVIDUAL = "INDIVIDUAL"
    SHOP = "SHOP"
    BOTH = "BOTH"

    @property
    def individual(self) -> bool:
        """Whether the Individual Marketplace is covered."""
        return self is not Marketplaces.SHOP

    @property
    def shop(self) -> bool:
        """Whether the SHOP Marketplace is covered."""
        return self is not Marketplaces.INDIVIDUAL


class TerminationReason(enum.Enum):
    """Why CMS terminated (T) or reinstated (R): the digit of the list's status."""

    __hash__ = object.__hash__  # singletons; see regflow._states

    RESIDENT_LICENSE = "1"
    NON_RESIDENT_LICENSE = "2"
    FRAUD_OR_ABUSE = "3"
    NON_COMPLIANCE = "4"


def _nonblank(instance: object, attribute: attrs.Attribute[str], value: object) -> None:
    if not isinstance(value, str):
        return  # the field check says what type it takes
    if not value.strip():
        raise InvalidValue(f"{attribute.name!r} must not be blank (got {value!r})")


def _optional_npn(value: object) -> NPN | None:
    # A blank field of a form is "not entered": no NPN, which S8 refuses
    # where one is required, rather than a malformed one.
    if value is None or isinstance(value, NPN):
        return value
    if isinstance(value, str) and not value.strip():
        return None
    return NPN.parse(value)


def _optional_text(value: object) -> object:
    # A blank optional field is "not entered", the same as None, so that the
    # two never compare or serialize differently.
    if isinstance(value, str) and not value.strip():
        return None
    return value


@attrs.frozen(kw_only=True, slots=True)
class ContactDetails:
    """Business or professional contact details; they feed Find Local Help and
    Help On Demand (S6)."""

    name: str = attrs.field(validator=_nonblank)
    email: str = attrs.field(validator=_nonblank)
    phone: str = attrs.field(validator=_nonblank)
    business_name: str | None = attrs.field(default=None, converter=_optional_text)
    zip_code: str | None = attrs.field(default=None, converter=_optional_text)

    def __attrs_post_init__(self) -> None:
        check_fields(self)


ERASED: Final = "[erased]"
"""What an erased contact detail reads as."""


@attrs.frozen(kw_only=True, slots=True)
class Profile:
    """The MLMS profile (S4-S9).

    NPN fields accept an :class:`NPN` or text, which is parsed (and refused with
    :class:`~regflow.InvalidNPN` when malformed); blank text is no NPN. Which
    fields are required depends on the role; the guards, not this class, say
    what is missing, so a portal can save a half-filled profile (S7:
    Save/Update before Next).

    ``shop`` is the one fact that says whether the agent takes part in SHOP:
    with it the registration's SHOP track asks for the SHOP agreement, and
    the SHOP curriculum may be taken; without it the SHOP track is not taken.
    """

    role: Role | None = None
    contact: ContactDetails | None = None
    find_local_help: bool = False
    shop: bool = False
    npn: NPN | None = attrs.field(default=None, converter=_optional_npn)
    business_npn: NPN | None = attrs.field(default=None, converter=_optional_npn)
    web_broker_npn: NPN | None = attrs.field(default=None, converter=_optional_npn)

    def __attrs_post_init__(self) -> None:
        check_fields(self)


ERASED_CONTACT: Final = ContactDetails(name=ERASED, email=ERASED, phone=ERASED)
"""The contact details of an agent whose details were erased."""


@attrs.frozen(slots=True)
class TrainingProvider:
    """Who delivered training: MLMS itself, or an HHS-approved vendor by name."""

    vendor: str | None = None

    @property
    def is_mlms(self) -> bool:
        """Whether this is MLMS rather than a vendor."""
        return self.vendor is None

    def __str__(self) -> str:
        return "MLMS" if self.vendor is None else self.vendor


@attrs.frozen(kw_only=True, slots=True)
class Completion:
    """A curriculum completed, through which provider, and when."""

    curriculum: Curriculum
    provider: TrainingProvider
    at: dt.datetime


@attrs.frozen(kw_only=True, slots=True)
class VendorLaunch:
    """A vendor-training launch issued by the portal's "Access Training" link.

    It binds the agent, plan year and vendor, is single use and expires
    (S13, S14: vendor training is reached only through the portal).
    """

    launch_id: str
    vendor: str
    curriculum: Curriculum
    issued_at: dt.datetime
    expires_at: dt.datetime
    used: bool = False


@attrs.frozen(kw_only=True, slots=True)
class AgreementDecision:
    """The agent's latest answer to one agreement: accepted or declined."""

    agreement: Agreement
    accepted: bool
    at: dt.datetime


@attrs.frozen(kw_only=True, slots=True)
class ConfirmationRecord:
    """A public confirmation the agent (or the portal) observed, and when."""

    kind: Confirmation
    at: dt.datetime


@attrs.frozen(kw_only=True, slots=True)
class RclListing:
    """What the Registration Completion List showed for one track of the NPN.

    Attributes:
        npn_valid: the list's ``NPN Valid`` flag.
        completed_on: the track's registration completion date, as listed.
        ends_on: the track's end date (the end of the registration's
            validity), as listed; ``None`` if the list gave none.
        at: when the listing was observed.
    """

    npn_valid: NpnValidity
    completed_on: dt.date | None = None
    ends_on: dt.date | None = None
    at: dt.datetime


@attrs.frozen(kw_only=True, slots=True)
class TerminationRecord:
    """A termination or reinstatement read from CMS's termination list."""

    terminated: bool
    reason: TerminationReason
    at: dt.datetime
