"""Every error regflow raises, rooted in :class:`RegflowError`.

The tree::

    RegflowError
    ├── StepRefused                 an event's guards failed; carries the refusals
    ├── InvalidValue (ValueError)   a value regflow was handed is malformed
    │   ├── InvalidField            a field of the wrong type, named
    │   ├── InvalidNPN
    │   └── NaiveDatetime
    ├── RulesError (LookupError)    no rules for a plan year, or unknown names in them
    ├── DefinitionError             the machine definition is broken (raised at build)
    ├── ReplayError                 a history that cannot be replayed (gap, bad order)
    ├── SerializationError (ValueError)
    │   └── UnsupportedSchemaVersion
    ├── StoreError
    │   ├── StoreSchemaTooNew (also an UnsupportedSchemaVersion)
    │   ├── ConcurrencyConflict
    │   ├── DuplicateAccount
    │   ├── IdempotencyConflict
    │   ├── RegistrationNotFound (LookupError)
    │   └── CorruptRecord
    └── ListFormatError (ValueError)  a CMS list file that cannot be read

Errors subclass the built-in they behave like, so ``except ValueError`` in a host
application still catches a bad NPN. Each carries its data as attributes.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ._messages import Refusal
    from ._registration import Registration

__all__ = [
    "ConcurrencyConflict",
    "CorruptRecord",
    "DefinitionError",
    "DuplicateAccount",
    "IdempotencyConflict",
    "InvalidField",
    "InvalidNPN",
    "InvalidValue",
    "ListFormatError",
    "NaiveDatetime",
    "RegflowError",
    "RegistrationNotFound",
    "ReplayError",
    "RulesError",
    "SerializationError",
    "StepRefused",
    "StoreError",
    "StoreSchemaTooNew",
    "UnsupportedSchemaVersion",
]


class RegflowError(Exception):
    """The root of every error regflow raises."""


class StepRefused(RegflowError):
    """An event was refused; nothing was changed.

    Attributes:
        refusals: every reason the event was refused, never just the first.
        registration: the registration it was refused for (``None`` for a start).
        event: the refused event.
    """

    def __init__(
        self,
        refusals: Sequence[Refusal],
        registration: Registration | None,
        event: object,
    ):
        self.refusals = tuple(refusals)
        self.registration = registration
        self.event = event
        codes = ", ".join(r.code for r in self.refusals)
        name = type(event).__name__
        where = (
            "at the start"
            if registration is None
            else f"(individual {registration.individual}, shop {registration.shop})"
        )
        super().__init__(f"{name} refused {where}: {codes}")

    def messages(self, locale: str = "en") -> tuple[str, ...]:
        """Return every refusal's message in *locale*."""
        return tuple(r.message(locale) for r in self.refusals)


class InvalidValue(RegflowError, ValueError):
    """A value handed to regflow is malformed; the message names it and the fix."""


class InvalidField(InvalidValue, TypeError):
    """A field given a value of the wrong type, e.g. ``Terminate(reason="4")``.

    It is also a :class:`TypeError`, which is what it is.

    Attributes:
        owner: the class whose field it is, e.g. ``"Terminate"``.
        field: the field's name.
        expected: the type it takes, in words.
        value: what was given.
    """

    def __init__(self, owner: str, field: str, expected: str, value: object):
        self.owner = owner
        self.field = field
        self.expected = expected
        self.value = value
        shown = repr(value)
        if len(shown) > 80:
            shown = shown[:77] + "..."
        super().__init__(
            f"{owner}.{field} must be {expected} (got {type(value).__name__} {shown})"
        )


class InvalidNPN(InvalidValue):
    """A National Producer Number that is not 1 to 10 ASCII digits.

    Attributes:
        value: what was given.
        problem: a short machine-readable cause (``empty``, ``too_long``, ...).
    """

    def __init__(self, value: object, problem: str, detail: str):
        self.value = value
        self.problem = problem
        super().__init__(
            f"'npn' must be 1 to 10 ASCII digits, {detail} (got {value!r})"
        )


class NaiveDatetime(InvalidValue):
    """A datetime without a time zone where regflow needs an aware one."""

    def __init__(self, field: str, value: object):
        self.field = field
        self.value = value
        super().__init__(
            f"{field!r} must be a timezone-aware datetime (got naive {value!r}); "
            "pass tzinfo, e.g. datetime(..., tzinfo=timezone.utc)"
        )


class RulesError(RegflowError, LookupError):
    """No rules are known for a plan year, or rules refer to unknown names."""


class DefinitionError(RegflowError):
    """The state-machine definition is inconsistent; raised when it is built."""


class ReplayError(RegflowError):
    """A history that cannot be replayed: a sequence gap, or a wrong first event."""


class SerializationError(RegflowError, ValueError):
    """Text that is not a regflow snapshot or event, with what was wrong."""


class UnsupportedSchemaVersion(SerializationError):
    """A snapshot written by a newer regflow than this one."""

    def __init__(self, found: object, supported: int):
        self.found = found
        self.supported = supported
        super().__init__(
            f"snapshot schema_version {found!r} is newer than this regflow "
            f"understands ({supported}); upgrade regflow to read it"
        )


class StoreError(RegflowError):
    """A persistence problem."""


class StoreSchemaTooNew(UnsupportedSchemaVersion, StoreError):
    """A database written by a newer regflow, whose tables this one cannot use.

    Attributes:
        found: the database's schema version.
        supported: the newest schema version this regflow knows.
        where: the database (a file path or a PostgreSQL schema).
    """

    def __init__(self, found: int, supported: int, where: str):
        self.found = found
        self.supported = supported
        self.where = where
        Exception.__init__(
            self,
            f"store {where} has schema version {found}, newer than the version "
            f"{supported} this regflow understands; upgrade regflow to open it "
            "(regflow never downgrades a database)",
        )


def _named(agent_id: str, plan_year: int, agency: str) -> str:
    if agency:
        return f"registration ({agent_id!r}, {plan_year}) of agency {agency!r}"
    return f"registration ({agent_id!r}, {plan_year})"


class ConcurrencyConflict(StoreError):
    """Someone else wrote the registration since it was read."""

    def __init__(
        self,
        agent_id: str,
        plan_year: int,
        expected: int,
        actual: int,
        *,
        agency: str = "",
    ):
        self.agent_id = agent_id
        self.plan_year = plan_year
        self.expected = expected
        self.actual = actual
        self.agency = agency
        super().__init__(
            f"{_named(agent_id, plan_year, agency)} is at version {actual}, "
            f"not the version {expected} this write was based on; reload and retry"
        )


class DuplicateAccount(StoreError):
    """The NPN already has a registration for the plan year under another account."""

    def __init__(
        self,
        npn: str,
        plan_year: int,
        existing_account: str,
        agent_id: str,
        *,
        agency: str = "",
    ):
        self.npn = npn
        self.plan_year = plan_year
        self.existing_account = existing_account
        self.agent_id = agent_id
        self.agency = agency
        where = f" in agency {agency!r}" if agency else ""
        super().__init__(
            f"NPN {npn} already has a {plan_year} registration{where} under portal "
            f"account {existing_account!r} (agent {agent_id!r}); recover that "
            "account instead of creating a second one (S2)"
        )


class IdempotencyConflict(StoreError):
    """An event id was reused with a different payload."""

    def __init__(
        self, agent_id: str, plan_year: int, event_id: str, *, agency: str = ""
    ):
        self.agent_id = agent_id
        self.plan_year = plan_year
        self.event_id = event_id
        self.agency = agency
        super().__init__(
            f"event id {event_id!r} was already used for "
            f"{_named(agent_id, plan_year, agency)} with a different payload; "
            "give a new event a new id"
        )


class RegistrationNotFound(StoreError, LookupError):
    """No registration is stored under that agent id and plan year."""

    def __init__(self, agent_id: str, plan_year: int, *, agency: str = ""):
        self.agent_id = agent_id
        self.plan_year = plan_year
        self.agency = agency
        where = f" in agency {agency!r}" if agency else ""
        super().__init__(
            f"no registration for agent {agent_id!r}, plan year {plan_year}{where}"
        )


class CorruptRecord(StoreError):
    """A stored row cannot be read back; ``rebuild()`` recreates snapshots."""

    def __init__(
        self, agent_id: str, plan_year: int, problem: str, *, agency: str = ""
    ):
        self.agent_id = agent_id
        self.plan_year = plan_year
        self.problem = problem
        self.agency = agency
        super().__init__(
            f"stored {_named(agent_id, plan_year, agency)} is unreadable: "
            f"{problem}; run rebuild() to recreate snapshots from the event log"
        )


class ListFormatError(RegflowError, ValueError):
    """A CMS list file that cannot be read at all (e.g. a missing column)."""

    def __init__(self, source: str, problem: str):
        self.source = source
        self.problem = problem
        super().__init__(f"{source}: {problem}")
