"""What a store is: the :class:`Store` protocol and the values it hands out.

A store keeps, for every registration (one agent of one agency, one plan
year), an append-only log of its accepted events and a snapshot of the
registration after the last of them. It knows nothing about guards: the
:class:`~regflow.store.Repository` decides, the store persists.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from types import TracebackType
from typing import Final, NamedTuple, Protocol, Self, runtime_checkable

import attrs

from .._errors import StoreSchemaTooNew
from .._events import Event
from .._npn import NPN
from .._registration import Registration
from .._states import IndividualState, ShopState, Status

__all__ = [
    "ANY_AGENCY",
    "Change",
    "History",
    "Page",
    "RegistrationKey",
    "Store",
    "StoreSchemaTooNew",
    "agency_key",
]


class _AnyAgency:
    """The scope of a repository that reads every agency's registrations."""

    _instance: _AnyAgency | None = None

    def __new__(cls) -> _AnyAgency:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "ANY_AGENCY"

    def __reduce__(self) -> str:
        return "ANY_AGENCY"


ANY_AGENCY: Final = _AnyAgency()
"""Pass as ``agency=`` to read across every agency (a compliance job's view).

A portal scopes its repository to the agency of the signed-in user instead;
listings, counts and the change feed then never reach another agency's rows.
"""

Agency = str | None | _AnyAgency


def agency_key(agency: str | None) -> str:
    """The stored form of an agency id: ``None`` (no agency) is ``""``."""
    return "" if agency is None else agency


class RegistrationKey(NamedTuple):
    """What identifies a registration: the agent, the plan year, the agency."""

    agent_id: str
    plan_year: int
    agency: str = ""


@attrs.frozen(slots=True)
class History:
    """One registration's event log, as stored (event *n* is version *n*)."""

    agent_id: str
    plan_year: int
    events: tuple[Event, ...]
    agency: str = ""

    @property
    def key(self) -> RegistrationKey:
        """The registration this log belongs to."""
        return RegistrationKey(self.agent_id, self.plan_year, self.agency)


@attrs.frozen(slots=True)
class Change:
    """One stored event, as the change feed hands it out.

    Attributes:
        position: the event's global position: every stored event has one,
            and :meth:`Repository.changes` continues after it.
        key: the registration the event is for.
        seq: the event's place in that registration's log (its version).
        event: the event itself.
        recorded_at: when the store committed it.
    """

    position: int
    key: RegistrationKey
    seq: int
    event: Event
    recorded_at: dt.datetime


@attrs.frozen(slots=True)
class Page:
    """One page of a listing, in a stable order, and where the next begins.

    Attributes:
        items: the registrations of this page.
        next: pass as ``after=`` for the next page; ``None`` on the last.
    """

    items: tuple[Registration, ...]
    next: str | None

    def __iter__(self) -> Iterator[Registration]:
        return iter(self.items)

    def __len__(self) -> int:
        return len(self.items)


class Closing:
    """Mixin: ``with obj:`` gives *obj* and calls its ``close()`` on leaving."""

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def close(self) -> None:
        """Release what the object holds; subclasses say what that is."""
        raise NotImplementedError


@runtime_checkable
class Store(Protocol):
    """Persistence for registrations: an append-only event log plus snapshots.

    Implement these methods to keep registrations anywhere; check an
    implementation with :mod:`regflow.store.contract`. Every method is atomic:
    it either happens completely or raises and changes nothing. ``agency`` is
    the stored form (``""`` for none, see :func:`agency_key`).
    """

    def load(self, agent_id: str, plan_year: int, agency: str = "") -> Registration:
        """Return the latest snapshot of a registration.

        Raises:
            RegistrationNotFound: nothing is stored under that key.
            CorruptRecord: the stored snapshot cannot be read back.
        """
        ...

    def write(self, registration: Registration, *, expected_version: int) -> None:
        """Append ``registration.history[expected_version:]`` and store the snapshot.

        Both happen in one transaction, and only if the stored version is still
        *expected_version* (``0``: the registration must not exist yet).

        Raises:
            ConcurrencyConflict: the stored version is not *expected_version*.
            DuplicateAccount: the snapshot's NPN is held for its plan year by
                another registration of its agency.
            IdempotencyConflict: an event id is twice in the history.
            InvalidValue: *registration* and *expected_version* do not fit
                together (nothing new to append, ...).
        """
        ...

    def restore(self, registration: Registration) -> None:
        """Replace a snapshot with *registration*, rebuilt from the stored log.

        Raises:
            ConcurrencyConflict: the log's last event is not
                ``registration.version`` (it moved on since it was read).
            RegistrationNotFound: there is no log for that registration.
        """
        ...

    def history(
        self, agent_id: str, plan_year: int, agency: str = ""
    ) -> tuple[Event, ...]:
        """Return a registration's event log, from the log itself.

        Raises:
            RegistrationNotFound: nothing is stored under that key.
            CorruptRecord: a stored event cannot be read back.
        """
        ...

    def registration_keys(
        self, *, agency: Agency = ANY_AGENCY, plan_year: int | None = None
    ) -> Iterator[RegistrationKey]:
        """Yield the stored registrations' keys, by agency, plan year, agent id."""
        ...

    def find(
        self,
        *,
        agency: Agency = ANY_AGENCY,
        plan_year: int | None = None,
        status: Status | None = None,
        individual: IndividualState | None = None,
        shop: ShopState | None = None,
        npn: NPN | None = None,
    ) -> Iterator[Registration]:
        """Yield the snapshots matching every given filter, in key order.

        Raises:
            CorruptRecord: when it reaches a snapshot that cannot be read back.
        """
        ...

    def close(self) -> None:
        """Release connections; the store is unusable afterwards."""
        ...
