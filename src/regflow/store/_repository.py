"""The repository: the workflow's decisions, made durable through a :class:`Store`.

The repository loads a snapshot, lets :class:`~regflow.Workflow` decide, and
writes the result stating the version it read. When another worker wrote
first, it loads again and decides again (guards see the fresh snapshot), a
bounded number of times. Event ids make every apply idempotent.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Iterator
from typing import Final

import attrs

from .._errors import (
    ConcurrencyConflict,
    CorruptRecord,
    IdempotencyConflict,
    InvalidValue,
    RegflowError,
)
from .._events import Event, StartRegistration
from .._npn import NPN
from .._registration import Registration
from .._serialization import dumps
from .._states import IndividualState
from .._workflow import Decision, Workflow
from ._protocol import Closing, History, RegistrationKey, Store

__all__ = ["RebuildReport", "Repository"]

_BACKOFF: Final = 0.002  # seconds; doubled per attempt, with jitter
_MAX_BACKOFF: Final = 0.05


@attrs.frozen(slots=True)
class RebuildReport:
    """What :meth:`Repository.rebuild` did.

    Attributes:
        restored: the registrations whose snapshot was missing, unreadable or
            different from the replay of their log, and was rewritten.
        unreadable: the registrations whose *log* cannot be replayed; their
            snapshots were left alone.
    """

    restored: tuple[RegistrationKey, ...]
    unreadable: tuple[CorruptRecord, ...]


def _same(a: Event, b: Event) -> bool:
    # Canonical JSON, not ==: the same instant written with another UTC offset
    # is another payload.
    return dumps(a) == dumps(b)


class Repository(Closing):
    """Registrations kept in a :class:`Store`, moved only by the workflow.

    Args:
        store: where registrations live, e.g. :class:`~regflow.store.SQLiteStore`.
        workflows: the workflow of a plan year (default
            :meth:`Workflow.for_plan_year`).
        retries: how many times :meth:`apply` loads again and re-decides after
            a :class:`~regflow.ConcurrencyConflict` before raising it.
    """

    def __init__(
        self,
        store: Store,
        *,
        workflows: Callable[[int], Workflow] = Workflow.for_plan_year,
        retries: int = 10,
    ) -> None:
        if isinstance(retries, bool) or not isinstance(retries, int) or retries < 0:
            raise InvalidValue(f"'retries' must be an int >= 0 (got {retries!r})")
        self.store = store
        self.workflows = workflows
        self.retries = retries

    def __repr__(self) -> str:
        return f"Repository({self.store!r})"

    def close(self) -> None:
        """Close the store."""
        self.store.close()

    # -- reading ---------------------------------------------------------------

    def load(self, agent_id: str, plan_year: int) -> Registration:
        """Return the registration as stored.

        Raises:
            RegistrationNotFound: nothing is stored under that key.
            CorruptRecord: the snapshot cannot be read; see :meth:`rebuild`.
        """
        return self.store.load(agent_id, plan_year)

    def check(self, agent_id: str, plan_year: int, event: Event) -> Decision:
        """Return whether *event* may be applied to the stored registration now."""
        reg = self.store.load(agent_id, plan_year)
        return self.workflows(plan_year).check(reg, event)

    def by_state(
        self, state: IndividualState, *, plan_year: int | None = None
    ) -> Iterator[Registration]:
        """Yield the registrations whose Individual track is in *state*
        (of *plan_year*, if given)."""
        return self.store.find(state=IndividualState(state), plan_year=plan_year)

    def by_npn(
        self, npn: NPN | str, *, plan_year: int | None = None
    ) -> Iterator[Registration]:
        """Yield the registrations of an individual NPN, one per plan year at most.

        Raises:
            InvalidNPN: *npn* is not an NPN.
        """
        return self.store.find(npn=NPN.parse(str(npn)), plan_year=plan_year)

    def by_plan_year(self, plan_year: int) -> Iterator[Registration]:
        """Yield every registration of *plan_year*."""
        return self.store.find(plan_year=plan_year)

    def histories(self, *, plan_year: int | None = None) -> Iterator[History]:
        """Yield every registration's event log, read from the log itself.

        Raises:
            CorruptRecord: when it reaches an event that cannot be read back.
        """
        for agent_id, year in self.store.registration_keys(plan_year=plan_year):
            yield History(agent_id, year, self.store.history(agent_id, year))

    # -- writing ---------------------------------------------------------------

    def start(self, event: StartRegistration) -> Registration:
        """Start a registration and store it; idempotent by ``event.event_id``.

        Returns:
            The new registration, or, if this very event started it before,
            the registration as that event left it.

        Raises:
            StepRefused: the workflow refused the event.
            ConcurrencyConflict: the registration exists, begun by another event.
            IdempotencyConflict: it was begun by an event with this id and a
                different payload.
        """
        reg = self.workflows(event.plan_year).start(event)
        try:
            self.store.write(reg, expected_version=0)
        except ConcurrencyConflict:
            stored = self.store.load(event.agent_id, event.plan_year)
            first = stored.history[0]
            if first.event_id != event.event_id:
                raise
            if not _same(first, event):
                raise IdempotencyConflict(
                    event.agent_id, event.plan_year, event.event_id
                ) from None
            return self._as_of(stored, 1)
        return reg

    def apply(
        self,
        agent_id: str,
        plan_year: int,
        event: Event,
        *,
        expected_version: int | None = None,
    ) -> Registration:
        """Apply *event* to the stored registration and store the result.

        Idempotent: an event whose id is already in the registration's log is
        not applied again; the registration as it left it is returned. On a
        concurrent write the repository loads again and re-checks the guards.

        Args:
            expected_version: refuse (with :class:`~regflow.ConcurrencyConflict`,
                without retrying) unless the registration is still at this
                version, e.g. the one shown to the user.

        Raises:
            StepRefused: the workflow refused the event; nothing was stored.
            RegistrationNotFound: no such registration.
            IdempotencyConflict: the event id was used with another payload.
            DuplicateAccount: the event gives the registration an NPN that
                another registration holds for the plan year (S2).
            ConcurrencyConflict: still conflicting after every retry.
        """
        if isinstance(event, StartRegistration):
            raise InvalidValue(
                "StartRegistration begins a registration: use Repository.start"
            )
        flow = self.workflows(plan_year)
        attempt = 0
        while True:
            reg = self.store.load(agent_id, plan_year)
            done = self._applied_before(reg, event)
            if done is not None:
                return done
            if expected_version is not None and reg.version != expected_version:
                raise ConcurrencyConflict(
                    agent_id, plan_year, expected_version, reg.version
                )
            new = flow.apply(reg, event)
            try:
                self.store.write(new, expected_version=reg.version)
            except ConcurrencyConflict:
                if expected_version is not None or attempt >= self.retries:
                    raise
                attempt += 1
                ceiling = min(_MAX_BACKOFF, _BACKOFF * 2**attempt)
                time.sleep(random.uniform(0, ceiling))  # jitter, not secrets
                continue
            return new

    def _applied_before(self, reg: Registration, event: Event) -> Registration | None:
        event_id = event.event_id
        for seq in range(reg.version, 0, -1):
            recorded = reg.history[seq - 1]
            if recorded.event_id == event_id:
                if not _same(recorded, event):
                    raise IdempotencyConflict(reg.agent_id, reg.plan_year, event_id)
                return self._as_of(reg, seq)
        return None

    def _as_of(self, reg: Registration, seq: int) -> Registration:
        if seq == reg.version:
            return reg
        return self.workflows(reg.plan_year).replay(reg.history[:seq])

    # -- repair ----------------------------------------------------------------

    def verify(self) -> tuple[CorruptRecord, ...]:
        """Return one :class:`~regflow.CorruptRecord` per registration whose
        snapshot is unreadable or differs from the replay of its log."""
        found: list[CorruptRecord] = []
        for key in self.store.registration_keys():
            problem = self._problem(key)
            if problem is not None:
                found.append(problem)
        return tuple(found)

    def _problem(self, key: RegistrationKey) -> CorruptRecord | None:
        try:
            replayed = self._replay(key)
        except CorruptRecord as exc:
            return exc
        try:
            stored = self.store.load(*key)
        except CorruptRecord as exc:
            return exc
        if stored != replayed:
            return CorruptRecord(
                *key,
                f"snapshot at version {stored.version} differs from the replay of "
                f"its log ({replayed.version} events)",
            )
        return None

    def _replay(self, key: RegistrationKey) -> Registration:
        history = self.store.history(*key)
        try:
            return self.workflows(key.plan_year).replay(history)
        except RegflowError as exc:
            raise CorruptRecord(*key, f"event log: {exc}") from exc

    def rebuild(self) -> RebuildReport:
        """Recreate every snapshot that is not the replay of its event log.

        Safe while other workers write: a snapshot is only replaced if its log
        has not moved on in the meantime (otherwise the log is read again).
        """
        restored: list[RegistrationKey] = []
        unreadable: list[CorruptRecord] = []
        for key in self.store.registration_keys():
            for attempt in range(self.retries + 1):
                try:
                    replayed = self._replay(key)
                except CorruptRecord as exc:
                    unreadable.append(exc)
                    break
                try:
                    if self.store.load(*key) == replayed:
                        break
                except CorruptRecord:
                    pass
                try:
                    self.store.restore(replayed)
                except ConcurrencyConflict:
                    if attempt == self.retries:
                        raise
                    continue
                restored.append(key)
                break
        return RebuildReport(tuple(restored), tuple(unreadable))
