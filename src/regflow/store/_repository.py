"""The repository: the workflow's decisions, made durable through a :class:`Store`.

The repository loads a snapshot, lets :class:`~regflow.Workflow` decide, and
writes the result stating the version it read. When another writer got
there first, a bundled SQL store decides again under the registration's row
lock (load, decide, write in one transaction), so a second conflict cannot
happen; a store of your own is retried with jittered backoff instead. Event
ids make every write idempotent. A repository is scoped to one agency (a
tenant): every read, listing, count and change it hands out is that
agency's.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from typing import Any

import attrs

from .. import _events as ev
from .._errors import (
    ConcurrencyConflict,
    CorruptRecord,
    InvalidValue,
    RegflowError,
)
from .._explain import Menu
from .._npn import NPN
from .._registration import Registration
from .._states import IndividualState, ShopState, Status
from .._workflow import Decision, Workflow
from ._flows import apply_flow, drive, erase_flow, start_flow
from ._protocol import (
    Agency,
    Change,
    Closing,
    History,
    Page,
    RegistrationKey,
    Store,
)
from ._scope import (
    check_agency,
    check_feed_args,
    check_limit,
    check_scope,
    cursor_after,
    cursor_key,
    scoped_key,
)
from ._sql import SQLStore

__all__ = ["Feed", "RebuildReport", "Repository"]


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


class Repository(Closing):
    """Registrations of one agency kept in a :class:`Store`, moved only by the workflow.

    Args:
        store: where registrations live, e.g. :class:`~regflow.store.SQLiteStore`.
        agency: the agency (tenant) this repository serves: ``None`` for
            registrations of no agency, or :data:`ANY_AGENCY` for a view
            across every agency (reads only: scope it with :meth:`scoped`
            to write).
        workflows: the workflow of a plan year (default
            :meth:`Workflow.for_plan_year`).
        retries: for a store of your own, how many times :meth:`apply`
            loads again and re-decides after a conflict before raising it.
    """

    def __init__(
        self,
        store: Store,
        *,
        agency: Agency = None,
        workflows: Callable[[int], Workflow] = Workflow.for_plan_year,
        retries: int = 50,
    ) -> None:
        if isinstance(retries, bool) or not isinstance(retries, int) or retries < 0:
            raise InvalidValue(f"'retries' must be an int >= 0 (got {retries!r})")
        self.store = store
        self.agency = check_scope(agency)
        self.workflows = workflows
        self.retries = retries

    def __repr__(self) -> str:
        return f"Repository({self.store!r}, agency={self.agency!r})"

    def close(self) -> None:
        """Close the store."""
        self.store.close()

    def scoped(self, agency: Agency) -> Repository:
        """This repository's store and settings, serving *agency* instead."""
        return Repository(
            self.store, agency=agency, workflows=self.workflows, retries=self.retries
        )

    def using(self, connection: Any) -> Repository:
        """This repository on *connection*: inside the host's transaction there,
        its writes join that transaction (commit and roll back with it).

        Raises:
            InvalidValue: the store is not one of regflow's SQL stores.
        """
        store = self._sql("run on the host's connection")
        return Repository(
            store.using(connection),
            agency=self.agency,
            workflows=self.workflows,
            retries=self.retries,
        )

    # -- scope -----------------------------------------------------------------

    def _key(self, agent_id: str, plan_year: int) -> RegistrationKey:
        return scoped_key(self.agency, agent_id, plan_year)

    def _sql(self, what: str) -> SQLStore:
        if not isinstance(self.store, SQLStore):
            raise InvalidValue(
                f"only regflow's SQL stores can {what}; {type(self.store).__name__} "
                "does not"
            )
        return self.store

    # -- reading ---------------------------------------------------------------

    def load(self, agent_id: str, plan_year: int) -> Registration:
        """Return the registration as stored.

        Raises:
            RegistrationNotFound: nothing is stored under that key in this agency.
            CorruptRecord: the snapshot cannot be read; see :meth:`rebuild`.
        """
        return self.store.load(*self._key(agent_id, plan_year))

    def history(self, agent_id: str, plan_year: int) -> tuple[ev.Event, ...]:
        """The registration's event log, read from the log itself.

        Raises:
            RegistrationNotFound: nothing is stored under that key in this agency.
        """
        return self.store.history(*self._key(agent_id, plan_year))

    def check(self, agent_id: str, plan_year: int, event: ev.Event) -> Decision:
        """Return whether *event* may be applied to the stored registration now."""
        reg = self.load(agent_id, plan_year)
        return self.workflows(plan_year).check(reg, event)

    def explain(
        self,
        agent_id: str,
        plan_year: int,
        *,
        at: dt.datetime | None = None,
        locale: str = "en",
    ) -> Menu:
        """The menu of the stored registration (see :meth:`Workflow.explain`)."""
        reg = self.load(agent_id, plan_year)
        return self.workflows(plan_year).explain(reg, at=at, locale=locale)

    def page(
        self,
        *,
        plan_year: int | None = None,
        status: Status | None = None,
        individual: IndividualState | None = None,
        shop: ShopState | None = None,
        npn: NPN | str | None = None,
        after: str | None = None,
        limit: int = 100,
    ) -> Page:
        """One page of this agency's registrations, in a stable order.

        Keyset paging: ``after`` is the previous page's ``next``; no offsets,
        so a page never shifts when others are added.

        Raises:
            InvalidValue: a bad ``after`` or ``limit``.
        """
        check_limit(limit)
        start = cursor_key(after)
        items = self._sql("list by page").page(
            agency=self.agency,
            plan_year=plan_year,
            status=status,
            individual=individual,
            shop=shop,
            npn=None if npn is None else NPN.parse(str(npn)),
            after=start,
            limit=limit,
        )
        return Page(tuple(items), cursor_after(items, limit))

    def count(
        self,
        *,
        plan_year: int | None = None,
        status: Status | None = None,
        individual: IndividualState | None = None,
        shop: ShopState | None = None,
    ) -> int:
        """How many of this agency's registrations match every filter."""
        return self._sql("count").count(
            agency=self.agency,
            plan_year=plan_year,
            status=status,
            individual=individual,
            shop=shop,
        )

    def by_status(
        self, status: Status, *, plan_year: int | None = None
    ) -> Iterator[Registration]:
        """Yield this agency's registrations with *status* (of *plan_year*)."""
        return self.store.find(
            agency=self.agency, status=Status(status), plan_year=plan_year
        )

    def by_state(
        self, state: IndividualState, *, plan_year: int | None = None
    ) -> Iterator[Registration]:
        """Yield this agency's registrations whose Individual track is in *state*."""
        return self.store.find(
            agency=self.agency, individual=IndividualState(state), plan_year=plan_year
        )

    def by_npn(
        self, npn: NPN | str, *, plan_year: int | None = None
    ) -> Iterator[Registration]:
        """Yield this agency's registrations of an individual NPN.

        Raises:
            InvalidNPN: *npn* is not an NPN.
        """
        return self.store.find(
            agency=self.agency, npn=NPN.parse(str(npn)), plan_year=plan_year
        )

    def by_plan_year(self, plan_year: int) -> Iterator[Registration]:
        """Yield every registration of this agency for *plan_year*."""
        return self.store.find(agency=self.agency, plan_year=plan_year)

    def histories(self, *, plan_year: int | None = None) -> Iterator[History]:
        """Yield this agency's event logs, read from the log itself."""
        for key in self.store.registration_keys(
            agency=self.agency, plan_year=plan_year
        ):
            yield History(
                key.agent_id, key.plan_year, self.store.history(*key), key.agency
            )

    # -- writing ---------------------------------------------------------------

    def start(self, event: ev.StartRegistration) -> Registration:
        """Start a registration and store it; idempotent by ``event.event_id``.

        The agent's registration of the year before, if stored, is given to
        :meth:`Workflow.start`, so that a ``prior_year`` it contradicts is
        refused (``S1.prior_year_contradicted``).

        Raises:
            StepRefused: the workflow refused the event.
            InvalidValue: the event is for another agency than this repository's.
            ConcurrencyConflict: the registration exists, begun by another event.
            IdempotencyConflict: it was begun by an event with this id and a
                different payload.
        """
        check_agency(self.agency, event)
        return drive(self.store, start_flow(self.workflows(event.plan_year), event))

    def renew(
        self,
        agent_id: str,
        plan_year: int,
        *,
        event_id: str,
        at: dt.datetime,
        portal_account_id: str | None = None,
    ) -> Registration:
        """Start *plan_year* from the agent's stored registration of the year
        before (see :meth:`Workflow.renew`).

        Raises:
            RegistrationNotFound: no registration of the year before.
        """
        previous = self.load(agent_id, plan_year - 1)
        flow = self.workflows(plan_year)
        first = flow.renew(
            previous,
            event_id=event_id,
            at=at,
            portal_account_id=portal_account_id,
            agency_id=previous.agency_id,
        ).history[0]
        assert isinstance(first, ev.StartRegistration)
        return drive(self.store, start_flow(flow, first, renewing=previous))

    def apply(
        self,
        agent_id: str,
        plan_year: int,
        event: ev.Event,
        *,
        expected_version: int | None = None,
    ) -> Registration:
        """Apply *event* to the stored registration and store the result.

        Idempotent: an event whose id is already in the registration's log
        is not applied again (a resend whose ``at`` differs is the same fact);
        the registration as it left it is returned. When another writer got
        there first, a SQL store decides again under the row's lock, so the
        default settings never let a :class:`~regflow.ConcurrencyConflict`
        through.

        Args:
            expected_version: refuse (with :class:`~regflow.ConcurrencyConflict`,
                without retrying) unless the registration is still at this
                version, e.g. the one shown to the user.

        Raises:
            StepRefused: the workflow refused the event; nothing was stored.
            RegistrationNotFound: no such registration in this agency.
            IdempotencyConflict: the event id was used for another fact.
            DuplicateAccount: the event gives the registration an NPN that
                another registration of the agency holds for the plan year (S2).
            ConcurrencyConflict: with *expected_version*, or after every retry
                on a store of your own.
        """
        if isinstance(event, ev.StartRegistration):
            raise InvalidValue(
                "StartRegistration begins a registration: use Repository.start"
            )
        key = self._key(agent_id, plan_year)
        flow = apply_flow(
            self.workflows(plan_year),
            key,
            event,
            expected_version=expected_version,
            locking=isinstance(self.store, SQLStore),
            retries=self.retries,
        )
        return drive(self.store, flow)

    # -- erasure ---------------------------------------------------------------

    def erase(
        self, agent_id: str, *, event_id: str, at: dt.datetime
    ) -> tuple[Registration, ...]:
        """Erase an agent's contact details from every plan year, log included.

        In one transaction: an :class:`~regflow.events.EraseContactDetails` is
        appended to each of the agent's registrations in this agency, and the
        agent's sealing key is deleted, so that every sealed copy of the
        details, in every event and snapshot, reads as erased. State, NPN and
        compliance dates remain; the logs still replay. Idempotent by
        *event_id*.

        Raises:
            RegistrationNotFound: the agent has no registration in this agency.
            InvalidValue: the store is not one of regflow's SQL stores.
        """
        self._sql("erase contact details")
        agency = self._key(agent_id, 0).agency
        event = ev.EraseContactDetails(event_id=event_id, at=at)
        return drive(self.store, erase_flow(self.workflows, agency, agent_id, event))

    # -- the change feed -------------------------------------------------------

    def changes(self, *, after: int = 0, limit: int = 100) -> list[Change]:
        """This agency's stored events after position *after*, in feed order.

        The order never skips a committed event, even when writers commit
        out of order, and keeps each registration's events in their order.
        A consumer passes the last position it handled (see :meth:`feed` for
        one whose checkpoint is kept in the database).
        """
        check_feed_args(after, limit)
        return self._sql("follow a change feed").changes(
            after=after, limit=limit, agency=self.agency
        )

    def feed(self, name: str) -> Feed:
        """The consumer *name* of this agency's changes, with a durable checkpoint."""
        return Feed(self, name)

    # -- repair ----------------------------------------------------------------

    def verify(self) -> tuple[CorruptRecord, ...]:
        """One :class:`~regflow.CorruptRecord` per registration of this agency
        whose snapshot is unreadable or differs from the replay of its log."""
        found: list[CorruptRecord] = []
        for key in self.store.registration_keys(agency=self.agency):
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
                key.agent_id,
                key.plan_year,
                f"snapshot at version {stored.version} differs from the replay of "
                f"its log ({replayed.version} events)",
                agency=key.agency,
            )
        return None

    def _replay(self, key: RegistrationKey) -> Registration:
        history = self.store.history(*key)
        try:
            return self.workflows(key.plan_year).replay(history)
        except RegflowError as exc:
            raise CorruptRecord(
                key.agent_id, key.plan_year, f"event log: {exc}", agency=key.agency
            ) from exc

    def rebuild(self) -> RebuildReport:
        """Recreate every snapshot of this agency that is not the replay of its log.

        Safe while other workers write: a snapshot is only replaced if its log
        has not moved on in the meantime (otherwise the log is read again).
        """
        restored: list[RegistrationKey] = []
        unreadable: list[CorruptRecord] = []
        for key in self.store.registration_keys(agency=self.agency):
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


class Feed:
    """A named consumer of a repository's change feed, its checkpoint kept in
    the database.

    Drive a side effect exactly once: read :meth:`pending`, do the effect,
    and save the checkpoint with :meth:`done`, both in the same transaction
    of the same database (``repo.using(connection).feed(name)``), so that
    either both happen or neither does.
    """

    def __init__(self, repository: Repository, name: str) -> None:
        if not isinstance(name, str) or not name.strip():
            raise InvalidValue(f"a consumer's 'name' is a non-empty str (got {name!r})")
        self.repository = repository
        self.name = name

    @property
    def position(self) -> int:
        """The last position this consumer handled (0 before any)."""
        found = self.repository._sql("keep checkpoints").checkpoint(self.name)
        return found or 0

    def pending(self, limit: int = 100) -> list[Change]:
        """The changes after this consumer's checkpoint, in feed order."""
        return self.repository.changes(after=self.position, limit=limit)

    def done(self, change: Change | int) -> None:
        """Move the checkpoint to *change* (or a position): it is handled."""
        position = change.position if isinstance(change, Change) else change
        self.repository._sql("keep checkpoints").save_checkpoint(self.name, position)
