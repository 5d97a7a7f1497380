"""regflow: CMS Marketplace registration of agents and brokers as a state machine.

One agent's registration for one plan year is an immutable
:class:`Registration`; a :class:`Workflow` checks and applies
:mod:`regflow.events` to it, explaining every refusal in English and Spanish.
"""

from importlib.metadata import PackageNotFoundError, version

import attrs as _attrs

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
from ._messages import Refusal, locales, register_locale
from ._npn import NPN
from ._records import (
    Agreement,
    AgreementDecision,
    Completion,
    Confirmation,
    ConfirmationRecord,
    ContactDetails,
    Curriculum,
    NpnValidity,
    Profile,
    RclListing,
    Role,
    TerminationReason,
    TerminationRecord,
    TrainingProvider,
    VendorLaunch,
)
from ._registration import SCHEMA_VERSION, Recorded, Registration, State
from ._rules import HELP_DESK_EMAIL, PlanYearRules
from ._serialization import dumps, loads
from ._workflow import Decision, Workflow

try:
    __version__ = version("regflow")
except PackageNotFoundError:  # pragma: no cover - running from a bare checkout
    __version__ = "0+unknown"

__all__ = [
    "HELP_DESK_EMAIL",
    "NPN",
    "SCHEMA_VERSION",
    "Agreement",
    "AgreementDecision",
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
    "IdempotencyConflict",
    "InvalidField",
    "InvalidNPN",
    "InvalidValue",
    "ListFormatError",
    "NaiveDatetime",
    "NpnValidity",
    "Overdue",
    "PlanYearRules",
    "Profile",
    "RclListing",
    "Recorded",
    "Refusal",
    "RegflowError",
    "Registration",
    "RegistrationNotFound",
    "ReplayError",
    "Role",
    "RulesError",
    "SerializationError",
    "State",
    "StepRefused",
    "StoreError",
    "StoreSchemaTooNew",
    "TerminationReason",
    "TerminationRecord",
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
    "is_business_day",
    "loads",
    "locales",
    "overdue",
    "register_locale",
]


def _publish() -> None:
    # Show the public path in reprs and tracebacks (as httpx does). String
    # annotations are resolved first: they are looked up in __module__.
    for name in __all__:
        obj = globals()[name]
        if isinstance(obj, type) and obj.__module__.startswith("regflow._"):
            if _attrs.has(obj):
                _attrs.resolve_types(obj)
            obj.__module__ = "regflow"
    for name in events.__all__:
        cls = getattr(events, name)
        _attrs.resolve_types(cls)
        cls.__module__ = "regflow.events"


_publish()
