"""What a store is: the :class:`Store` protocol and the types it shares.

A store keeps, for every registration (one agent, one plan year), an
append-only log of its accepted events and a snapshot of the registration
after the last of them. It knows nothing about guards: the
:class:`~regflow.store.Repository` decides, the store persists.
"""

from __future__ import annotations

from collections.abc import Iterator
from types import TracebackType
from typing import NamedTuple, Protocol, Self, runtime_checkable

import attrs

from .._errors import StoreSchemaTooNew
from .._events import Event
from .._npn import NPN
from .._registration import Registration
from .._states import IndividualState

__all__ = ["History", "RegistrationKey", "Store", "StoreSchemaTooNew"]


class RegistrationKey(NamedTuple):
    """What identifies a registration: the agent and the plan year."""

    agent_id: str
    plan_year: int


@attrs.frozen(slots=True)
class History:
    """One registration's event log, as stored."""

    agent_id: str
    plan_year: int
    events: tuple[Event, ...]

    @property
    def key(self) -> RegistrationKey:
        """The registration this log belongs to."""
        return RegistrationKey(self.agent_id, self.plan_year)


class Closing:
    """Mixin: ``with obj:`` gives *obj* and calls its ``close()`` on leaving.

    Shared by the bundled stores and the repository, which each close what
    they hold the same way.
    """

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
    it either happens completely or raises and changes nothing.
    """

    def load(self, agent_id: str, plan_year: int) -> Registration:
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
                another registration.
            IdempotencyConflict: an event id is already in this registration's log.
            InvalidValue: *registration* and *expected_version* do not fit
                together (nothing new to append, a history with a gap, ...).
        """
        ...

    def restore(self, registration: Registration) -> None:
        """Replace a snapshot with *registration*, rebuilt from the stored log.

        Raises:
            ConcurrencyConflict: the log's last sequence number is not
                ``registration.version`` (it moved on since it was read).
            RegistrationNotFound: there is no log for that registration.
        """
        ...

    def history(self, agent_id: str, plan_year: int) -> tuple[Event, ...]:
        """Return a registration's event log, from the log itself (not the snapshot).

        Raises:
            RegistrationNotFound: nothing is stored under that key.
            CorruptRecord: a stored event cannot be read back.
        """
        ...

    def registration_keys(
        self, *, plan_year: int | None = None
    ) -> Iterator[RegistrationKey]:
        """Yield every stored registration's key, by plan year then agent id."""
        ...

    def find(
        self,
        *,
        state: IndividualState | None = None,
        npn: NPN | None = None,
        plan_year: int | None = None,
    ) -> Iterator[Registration]:
        """Yield the snapshots matching every given filter, by plan year then agent id.

        Raises:
            CorruptRecord: when it reaches a snapshot that cannot be read back.
        """
        ...

    def close(self) -> None:
        """Release connections; the store is unusable afterwards."""
        ...
