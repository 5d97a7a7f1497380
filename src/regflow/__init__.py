"""regflow: CMS Marketplace registration of agents and brokers as a state machine.

One agent's registration for one plan year is an immutable
:class:`Registration` with two tracks, Individual and SHOP; a
:class:`Workflow` checks and applies :mod:`regflow.events` to it, says what
the agent may do next (:meth:`Workflow.explain`), and explains every refusal
in English and Spanish.
"""

from importlib.metadata import PackageNotFoundError, version

from . import events
from ._calendar import add_business_days, business_days_between, is_business_day
from ._deadlines import Deadlines, Escalation, Overdue, deadlines, overdue
from ._errors import (
    ConcurrencyConflict,
    CorruptRecord,
    DefinitionError,
    DuplicateAccount,
    IdempotencyConflict,
    InvalidField,
    InvalidNPN,
    InvalidValue,
    ListFormatError,
    NaiveDatetime,
    RegflowError,
    RegistrationNotFound,
    ReplayError,
    RulesError,
    SerializationError,
    StepRefused,
    StoreError,
    StoreSchemaTooNew,
    UnsupportedSchemaVersion,
)
from ._explain import Choice, FormField, Menu, Option
from ._labels import label
from ._messages import Refusal, locales, register_locale
from ._migrations import MIGRATIONS
from ._npn import NPN
from ._public import publish as _publish
from ._records import (
    ERASED,
    ERASED_CONTACT,
    Agreement,
    AgreementDecision,
    Completion,
    Confirmation,
    ConfirmationRecord,
    ContactDetails,
    Curriculum,
    Marketplaces,
    NpnValidity,
    Profile,
    RclListing,
    Role,
    TerminationReason,
    TerminationRecord,
    TrainingProvider,
    VendorLaunch,
)
from ._registration import SCHEMA_VERSION, Registration, TrackView
from ._rules import HELP_DESK_EMAIL, PlanYearRules
from ._schemas import json_schema
from ._serialization import dumps, from_dict, loads, to_dict
from ._states import Actor, IndividualState, ShopState, Status, Track
from ._workflow import Decision, Workflow

try:
    __version__ = version("regflow")
    """The installed distribution's version, from its metadata (PEP 440)."""
except PackageNotFoundError:  # pragma: no cover - running from a bare checkout
    __version__ = "0+unknown"

__all__ = [
    "ERASED",
    "ERASED_CONTACT",
    "HELP_DESK_EMAIL",
    "MIGRATIONS",
    "NPN",
    "SCHEMA_VERSION",
    "Actor",
    "Agreement",
    "AgreementDecision",
    "Choice",
    "Completion",
    "ConcurrencyConflict",
    "Confirmation",
    "ConfirmationRecord",
    "ContactDetails",
    "CorruptRecord",
    "Curriculum",
    "Deadlines",
    "Decision",
    "DefinitionError",
    "DuplicateAccount",
    "Escalation",
    "FormField",
    "IdempotencyConflict",
    "IndividualState",
    "InvalidField",
    "InvalidNPN",
    "InvalidValue",
    "ListFormatError",
    "Marketplaces",
    "Menu",
    "NaiveDatetime",
    "NpnValidity",
    "Option",
    "Overdue",
    "PlanYearRules",
    "Profile",
    "RclListing",
    "Refusal",
    "RegflowError",
    "Registration",
    "RegistrationNotFound",
    "ReplayError",
    "Role",
    "RulesError",
    "SerializationError",
    "ShopState",
    "Status",
    "StepRefused",
    "StoreError",
    "StoreSchemaTooNew",
    "TerminationReason",
    "TerminationRecord",
    "Track",
    "TrackView",
    "TrainingProvider",
    "UnsupportedSchemaVersion",
    "VendorLaunch",
    "Workflow",
    "__version__",
    "add_business_days",
    "business_days_between",
    "deadlines",
    "dumps",
    "events",
    "from_dict",
    "is_business_day",
    "json_schema",
    "label",
    "loads",
    "locales",
    "overdue",
    "register_locale",
    "to_dict",
]


_publish(globals(), "regflow", __all__)
_publish(vars(events), "regflow.events", events.__all__, private="regflow._events")
