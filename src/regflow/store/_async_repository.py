"""The async repository: :class:`Repository`'s decisions, awaited.

It runs the very flows the synchronous repository runs (``_flows``), on an
:class:`AsyncPostgresStore` or an :class:`AsyncSQLiteStore`, so starting,
applying, idempotency, conflict handling and erasure behave the same.
Listing is by page (:meth:`AsyncRepository.page`); the repair jobs
(``verify``, ``rebuild``) are batch work and stay on :class:`Repository`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from types import TracebackType
from typing import Any

from .. import _events as ev
from .._errors import InvalidValue
from .._explain import Menu
from .._npn import NPN
from .._registration import Registration
from .._states import IndividualState, ShopState, Status
from .._workflow import Decision, Workflow
from ._async import AsyncPostgresStore
from ._async_sqlite import AsyncSQLiteStore
from ._flows import apply_flow, drive_async, erase_flow, start_flow
from ._protocol import Agency, Change, Page, RegistrationKey
from ._scope import (
    check_agency,
    check_feed_args,
    check_limit,
    check_scope,
    cursor_after,
    cursor_key,
    scoped_key,
)

__all__ = ["AsyncFeed", "AsyncRepository"]

AsyncStore = AsyncPostgresStore | AsyncSQLiteStore


class AsyncRepository:
    """Registrations of one agency in an async store, moved only by the workflow.

    The arguments, the agency scope and the errors are :class:`Repository`'s;
    every method is awaited. After a conflict the store decides again under
    the registration's lock, so no :class:`~regflow.ConcurrencyConflict`
    gets through unless you pass ``expected_version``.
    """

    def __init__(
        self,
        store: AsyncStore,
        *,
        agency: Agency = None,
        workflows: Callable[[int], Workflow] = Workflow.for_plan_year,
    ) -> None:
        if not isinstance(store, AsyncPostgresStore | AsyncSQLiteStore):
            raise InvalidValue(
                "AsyncRepository needs an AsyncPostgresStore or an AsyncSQLiteStore "
                f"(got {type(store).__name__}); wrap a synchronous store in Repository"
            )
        self.store = store
        self.agency = check_scope(agency)
        self.workflows = workflows

    def __repr__(self) -> str:
        return f"AsyncRepository({self.store!r}, agency={self.agency!r})"

    async def __aenter__(self) -> AsyncRepository:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    async def close(self) -> None:
        """Close the store."""
        await self.store.close()

    def scoped(self, agency: Agency) -> AsyncRepository:
        """This repository's store and settings, serving *agency* instead."""
        return AsyncRepository(self.store, agency=agency, workflows=self.workflows)

    def using(self, connection: Any) -> AsyncRepository:
        """This repository on the host's ``psycopg.AsyncConnection``: inside the
        host's transaction, its writes join it.

        Raises:
            InvalidValue: the store is not an :class:`AsyncPostgresStore`.
        """
        if not isinstance(self.store, AsyncPostgresStore):
            raise InvalidValue(
                "only AsyncPostgresStore runs on the host's connection; "
                "for SQLite, use the synchronous store's using()"
            )
        return AsyncRepository(
            self.store.using(connection), agency=self.agency, workflows=self.workflows
        )

    def transaction(self) -> AbstractAsyncContextManager[Any]:
        """A unit of work: every call of this repository inside the block
        commits together (PostgreSQL only).

        Raises:
            InvalidValue: the store is not an :class:`AsyncPostgresStore`.
        """
        if not isinstance(self.store, AsyncPostgresStore):
            raise InvalidValue(
                "AsyncSQLiteStore runs each call in a transaction of its own; "
                "use AsyncPostgresStore for units of work"
            )
        return self.store.transaction()

    def _key(self, agent_id: str, plan_year: int) -> RegistrationKey:
        return scoped_key(self.agency, agent_id, plan_year)

    # -- reading ---------------------------------------------------------------

    async def load(self, agent_id: str, plan_year: int) -> Registration:
        """Return the registration as stored (see :meth:`Repository.load`)."""
        return await self.store.load(*self._key(agent_id, plan_year))

    async def history(self, agent_id: str, plan_year: int) -> tuple[ev.Event, ...]:
        """The registration's event log (see :meth:`Repository.history`)."""
        return await self.store.history(*self._key(agent_id, plan_year))

    async def check(self, agent_id: str, plan_year: int, event: ev.Event) -> Decision:
        """Whether *event* may be applied to the stored registration now."""
        reg = await self.load(agent_id, plan_year)
        return self.workflows(plan_year).check(reg, event)

    async def explain(
        self,
        agent_id: str,
        plan_year: int,
        *,
        at: dt.datetime | None = None,
        locale: str = "en",
    ) -> Menu:
        """The menu of the stored registration (see :meth:`Workflow.explain`)."""
        reg = await self.load(agent_id, plan_year)
        return self.workflows(plan_year).explain(reg, at=at, locale=locale)

    async def page(
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
        """One page of this agency's registrations (see :meth:`Repository.page`)."""
        check_limit(limit)
        items = await self.store.page(
            agency=self.agency,
            plan_year=plan_year,
            status=status,
            individual=individual,
            shop=shop,
            npn=None if npn is None else NPN.parse(str(npn)),
            after=cursor_key(after),
            limit=limit,
        )
        return Page(tuple(items), cursor_after(items, limit))

    async def count(
        self,
        *,
        plan_year: int | None = None,
        status: Status | None = None,
        individual: IndividualState | None = None,
        shop: ShopState | None = None,
    ) -> int:
        """How many of this agency's registrations match every filter."""
        return await self.store.count(
            agency=self.agency,
            plan_year=plan_year,
            status=status,
            individual=individual,
            shop=shop,
        )

    # -- writing ---------------------------------------------------------------

    async def start(self, event: ev.StartRegistration) -> Registration:
        """Start a registration and store it (see :meth:`Repository.start`)."""
        check_agency(self.agency, event)
        flow = start_flow(self.workflows(event.plan_year), event)
        return await drive_async(self.store, flow)

    async def renew(
        self,
        agent_id: str,
        plan_year: int,
        *,
        event_id: str,
        at: dt.datetime,
        portal_account_id: str | None = None,
    ) -> Registration:
        """Start *plan_year* from the stored year before (see :meth:`Repository.renew`)."""
        previous = await self.load(agent_id, plan_year - 1)
        flow = self.workflows(plan_year)
        first = flow.renew(
            previous,
            event_id=event_id,
            at=at,
            portal_account_id=portal_account_id,
            agency_id=previous.agency_id,
        ).history[0]
        assert isinstance(first, ev.StartRegistration)
        return await drive_async(self.store, start_flow(flow, first, renewing=previous))

    async def apply(
        self,
        agent_id: str,
        plan_year: int,
        event: ev.Event,
        *,
        expected_version: int | None = None,
    ) -> Registration:
        """Apply *event* and store the result (see :meth:`Repository.apply`)."""
        if isinstance(event, ev.StartRegistration):
            raise InvalidValue(
                "StartRegistration begins a registration: use AsyncRepository.start"
            )
        flow = apply_flow(
            self.workflows(plan_year),
            self._key(agent_id, plan_year),
            event,
            expected_version=expected_version,
            locking=True,
            retries=0,
        )
        return await drive_async(self.store, flow)

    async def erase(
        self, agent_id: str, *, event_id: str, at: dt.datetime
    ) -> tuple[Registration, ...]:
        """Erase an agent's contact details, log included (see :meth:`Repository.erase`)."""
        agency = self._key(agent_id, 0).agency
        event = ev.EraseContactDetails(event_id=event_id, at=at)
        return await drive_async(
            self.store, erase_flow(self.workflows, agency, agent_id, event)
        )

    # -- the change feed -------------------------------------------------------

    async def changes(self, *, after: int = 0, limit: int = 100) -> list[Change]:
        """This agency's stored events after *after* (see :meth:`Repository.changes`)."""
        check_feed_args(after, limit)
        return await self.store.changes(after=after, limit=limit, agency=self.agency)

    def feed(self, name: str) -> AsyncFeed:
        """The consumer *name* of this agency's changes, its checkpoint in the database."""
        return AsyncFeed(self, name)


class AsyncFeed:
    """A named consumer of an async repository's changes (see :class:`Feed`)."""

    def __init__(self, repository: AsyncRepository, name: str) -> None:
        if not isinstance(name, str) or not name.strip():
            raise InvalidValue(f"a consumer's 'name' is a non-empty str (got {name!r})")
        self.repository = repository
        self.name = name

    async def position(self) -> int:
        """The last position this consumer handled (0 before any)."""
        found = await self.repository.store.checkpoint(self.name)
        return found or 0

    async def pending(self, limit: int = 100) -> list[Change]:
        """The changes after this consumer's checkpoint, in feed order."""
        return await self.repository.changes(after=await self.position(), limit=limit)

    async def done(self, change: Change | int) -> None:
        """Move the checkpoint to *change* (or a position): it is handled."""
        position = change.position if isinstance(change, Change) else change
        await self.repository.store.save_checkpoint(self.name, position)
