"""The contract every :class:`~regflow.store.Store` keeps, as reusable checks.

Check your own store with pytest by subclassing :class:`StoreContract`::

    class TestMyStore(StoreContract):
        def make_store(self) -> Store:
            return MyStore(DSN)

or without pytest, with :func:`run_contract`. ``make_store`` must return a new
store object on the *same* database each time it is called (some checks open
two, like two workers); the database may already hold other registrations:
every check makes up its own agent ids and NPNs and looks only at those.
"""

from __future__ import annotations

import datetime as dt
import secrets
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import attrs

from .. import _events as ev
from .._errors import (
    ConcurrencyConflict,
    DuplicateAccount,
    IdempotencyConflict,
    InvalidValue,
    RegistrationNotFound,
    StepRefused,
)
from .._records import ContactDetails, Profile, Role
from .._registration import Registration
from .._states import IndividualState as State
from .._workflow import Workflow
from ._protocol import Store
from ._repository import Repository

__all__ = ["CHECKS", "StoreContract", "StoreFactory", "run_contract"]

StoreFactory = Callable[[], Store]
"""Returns a new store object on the same database at every call."""

_YEAR = 2024
_AT = dt.datetime(2023, 10, 2, 9, tzinfo=dt.UTC)


class _Agent:
    """Made-up events for one made-up agent, unique to one check."""

    def __init__(self, run: str, n: int = 0) -> None:
        self.agent_id = f"contract-{run}-agent-{n}"
        self.npn = str(secrets.randbelow(9 * 10**9) + 10**9)
        self._run = run
        self._count = 0
        self.flow = Workflow.for_plan_year(_YEAR)

    def eid(self) -> str:
        self._count += 1
        return f"{self.agent_id}-e{self._count}"

    def start(self, agency: str | None = None) -> ev.StartRegistration:
        return ev.StartRegistration(
            event_id=self.eid(),
            at=_AT,
            agent_id=self.agent_id,
            portal_account_id=f"portal-{self.agent_id}",
            plan_year=_YEAR,
            prior_year=_YEAR - 1,
            agency_id=agency,
        )

    def save(self, npn: str | None = "") -> ev.SaveProfile:
        profile = Profile(
            role=Role.MARKETPLACE_AGENT_BROKER,
            contact=ContactDetails(name="A. Agent", email="a@example.com", phone="555"),
            npn=self.npn if npn == "" else npn,
        )
        return ev.SaveProfile(event_id=self.eid(), at=_AT, profile=profile)

    def complete(self) -> ev.CompleteProfile:
        return ev.CompleteProfile(event_id=self.eid(), at=_AT)

    def started(self) -> Registration:
        return self.flow.start(self.start())


def _run() -> str:
    return secrets.token_hex(4)


@contextmanager
def _opened(make_store: StoreFactory) -> Iterator[Store]:
    store = make_store()
    try:
        yield store
    finally:
        store.close()


def _raises(kind: type[BaseException], call: Callable[[], Any]) -> Any:
    try:
        call()
    except kind as exc:
        return exc
    raise AssertionError(f"expected {kind.__name__}, nothing was raised")


# -- the checks ----------------------------------------------------------------


def check_round_trip(make_store: StoreFactory) -> None:
    """What is written is what is loaded, log and snapshot alike."""
    agent = _Agent(_run())
    with _opened(make_store) as store:
        reg = agent.started()
        store.write(reg, expected_version=0)
        assert store.load(agent.agent_id, _YEAR) == reg
        new = agent.flow.apply(agent.flow.apply(reg, agent.save()), agent.complete())
        store.write(new, expected_version=1)  # two events at once
        assert store.load(agent.agent_id, _YEAR) == new
        assert store.history(agent.agent_id, _YEAR) == new.history
    with _opened(make_store) as other:
        assert other.load(agent.agent_id, _YEAR) == new


def check_not_found(make_store: StoreFactory) -> None:
    """An unknown registration is RegistrationNotFound, naming it."""
    with _opened(make_store) as store:
        exc = _raises(RegistrationNotFound, lambda: store.load("nobody", _YEAR))
        assert (exc.agent_id, exc.plan_year) == ("nobody", _YEAR)
        _raises(RegistrationNotFound, lambda: store.history("nobody", _YEAR))


def check_stale_write(make_store: StoreFactory) -> None:
    """A write based on an old version is refused, naming both versions."""
    agent = _Agent(_run())
    with _opened(make_store) as store:
        reg = agent.started()
        store.write(reg, expected_version=0)
        saved = agent.flow.apply(reg, agent.save())
        store.write(saved, expected_version=1)
        late = agent.flow.apply(reg, agent.save())  # also based on version 1
        exc = _raises(
            ConcurrencyConflict, lambda: store.write(late, expected_version=1)
        )
        assert (exc.agent_id, exc.plan_year) == (agent.agent_id, _YEAR)
        assert (exc.expected, exc.actual) == (1, 2)
        again = _raises(
            ConcurrencyConflict, lambda: store.write(reg, expected_version=0)
        )
        assert (again.expected, again.actual) == (0, 2)
        assert store.load(agent.agent_id, _YEAR) == saved


def check_bad_input(make_store: StoreFactory) -> None:
    """Writes that do not fit their version are InvalidValue; nothing is written."""
    agent = _Agent(_run())
    with _opened(make_store) as store:
        reg = agent.started()
        _raises(InvalidValue, lambda: store.write(reg, expected_version=1))
        _raises(InvalidValue, lambda: store.write(reg, expected_version=-1))
        truncated = attrs.evolve(reg, history=())
        _raises(InvalidValue, lambda: store.write(truncated, expected_version=0))
        _raises(RegistrationNotFound, lambda: store.load(agent.agent_id, _YEAR))


def check_event_ids_unique(make_store: StoreFactory) -> None:
    """An event id already in the log is IdempotencyConflict; nothing is written."""
    agent = _Agent(_run())
    with _opened(make_store) as store:
        reg = agent.started()
        store.write(reg, expected_version=0)
        saved = agent.flow.apply(reg, agent.save())
        store.write(saved, expected_version=1)
        reused = attrs.evolve(agent.complete(), event_id=saved.history[-1].event_id)
        bad = agent.flow.apply(saved, reused)
        exc = _raises(IdempotencyConflict, lambda: store.write(bad, expected_version=2))
        assert exc.event_id == reused.event_id
        assert store.load(agent.agent_id, _YEAR) == saved
        assert store.history(agent.agent_id, _YEAR) == saved.history


def check_duplicate_account(make_store: StoreFactory) -> None:
    """An NPN held for the plan year by another registration is refused (S2)."""
    run = _run()
    first, second = _Agent(run, 1), _Agent(run, 2)
    second.npn = first.npn
    with _opened(make_store) as store:
        a = first.started()
        store.write(a, expected_version=0)
        a2 = first.flow.apply(a, first.save())
        store.write(a2, expected_version=1)
        b = second.started()
        store.write(b, expected_version=0)
        b2 = second.flow.apply(b, second.save())
        exc = _raises(DuplicateAccount, lambda: store.write(b2, expected_version=1))
        assert (exc.npn, exc.plan_year) == (first.npn, _YEAR)
        assert exc.existing_account == a.portal_account_id
        assert store.load(second.agent_id, _YEAR) == b
        # Saving its own NPN again is no duplicate; giving it up frees it.
        a3 = first.flow.apply(a2, first.save())
        store.write(a3, expected_version=2)
        a4 = first.flow.apply(a3, first.save(npn=None))
        store.write(a4, expected_version=3)
        store.write(b2, expected_version=1)
        assert store.load(second.agent_id, _YEAR).npn == b2.npn


def check_find(make_store: StoreFactory) -> None:
    """find() filters by state, NPN and plan year; keys list every registration."""
    run = _run()
    agents = [_Agent(run, n) for n in range(3)]
    with _opened(make_store) as store:
        regs = []
        for agent in agents:
            reg = agent.started()
            store.write(reg, expected_version=0)
            regs.append(reg)
        moved = agents[0].flow.apply(regs[0], agents[0].save())
        moved = agents[0].flow.apply(moved, agents[0].complete())
        store.write(moved, expected_version=1)

        def mine(found: Iterator[Registration]) -> list[str]:
            return [
                r.agent_id for r in found if r.agent_id.startswith(f"contract-{run}")
            ]

        ids = [a.agent_id for a in agents]
        assert mine(store.find(individual=State.TRAINING)) == ids[:1]
        assert (
            mine(store.find(individual=State.PROFILE_INCOMPLETE, plan_year=_YEAR))
            == ids[1:]
        )
        assert mine(store.find(plan_year=_YEAR)) == ids
        assert mine(store.find(plan_year=_YEAR + 1)) == []
        assert list(store.find(npn=moved.npn)) == [moved]
        keys = [k for k in store.registration_keys() if k.agent_id in ids]
        assert keys == [(agent_id, _YEAR, "") for agent_id in ids]


def check_agencies(make_store: StoreFactory) -> None:
    """Agencies are apart: one agent id and NPN in two agencies are two
    registrations, and each read names its agency."""
    agent = _Agent(_run())
    with _opened(make_store) as store:
        regs = {}
        for agency in ("acme", "beta"):
            reg = agent.flow.apply(agent.flow.start(agent.start(agency)), agent.save())
            store.write(reg, expected_version=0)
            regs[agency] = reg
        for agency, reg in regs.items():
            assert store.load(agent.agent_id, _YEAR, agency) == reg
            assert store.history(agent.agent_id, _YEAR, agency) == reg.history
            assert list(store.find(agency=agency, npn=reg.npn)) == [reg]
            keys = list(store.registration_keys(agency=agency))
            assert keys == [(agent.agent_id, _YEAR, agency)]
        _raises(RegistrationNotFound, lambda: store.load(agent.agent_id, _YEAR))
        both = [r for r in store.find(npn=regs["acme"].npn)]
        assert both == [regs["acme"], regs["beta"]]


def check_restore(make_store: StoreFactory) -> None:
    """restore() rewrites a snapshot from the log, unless the log moved on."""
    agent = _Agent(_run())
    with _opened(make_store) as store:
        reg = agent.started()
        store.write(reg, expected_version=0)
        saved = agent.flow.apply(reg, agent.save())
        store.write(saved, expected_version=1)
        store.restore(agent.flow.replay(store.history(agent.agent_id, _YEAR)))
        assert store.load(agent.agent_id, _YEAR) == saved
        exc = _raises(ConcurrencyConflict, lambda: store.restore(reg))
        assert (exc.expected, exc.actual) == (1, 2)
        _raises(RegistrationNotFound, lambda: store.restore(_Agent(_run()).started()))


def check_repository_idempotent(make_store: StoreFactory) -> None:
    """Submitting an event again returns the first outcome and changes nothing."""
    agent = _Agent(_run())
    with _opened(make_store) as store:
        repo = Repository(store)
        start = agent.start()
        reg = repo.start(start)
        assert repo.start(start) == reg
        save = agent.save()
        saved = repo.apply(agent.agent_id, _YEAR, save)
        done = repo.apply(agent.agent_id, _YEAR, agent.complete())
        assert repo.apply(agent.agent_id, _YEAR, save) == saved
        assert repo.load(agent.agent_id, _YEAR) == done
        assert store.history(agent.agent_id, _YEAR) == done.history
        # A resend stamped again by a server is the same fact...
        resent = attrs.evolve(save, at=save.at + dt.timedelta(seconds=1))
        assert repo.apply(agent.agent_id, _YEAR, resent) == saved
        # ...another fact under the same id is refused.
        assert save.profile.contact is not None
        contact = attrs.evolve(save.profile.contact, phone="556")
        other = attrs.evolve(save, profile=attrs.evolve(save.profile, contact=contact))
        exc = _raises(
            IdempotencyConflict, lambda: repo.apply(agent.agent_id, _YEAR, other)
        )
        assert exc.event_id == save.event_id
        restart = attrs.evolve(start, prior_year=None)
        _raises(IdempotencyConflict, lambda: repo.start(restart))
        _raises(
            ConcurrencyConflict, lambda: repo.start(attrs.evolve(start, event_id="x"))
        )
        assert repo.load(agent.agent_id, _YEAR) == done


def check_repository_refusal(make_store: StoreFactory) -> None:
    """A refused event stores nothing; an unknown registration is NotFound."""
    agent = _Agent(_run())
    with _opened(make_store) as store:
        repo = Repository(store)
        reg = repo.start(agent.start())
        _raises(
            StepRefused, lambda: repo.apply(agent.agent_id, _YEAR, agent.complete())
        )
        assert repo.load(agent.agent_id, _YEAR) == reg
        _raises(RegistrationNotFound, lambda: repo.apply("nobody", _YEAR, agent.save()))


def check_repository_retries(make_store: StoreFactory) -> None:
    """After a conflict the repository reloads and decides again on fresh data."""
    agent = _Agent(_run())
    with _opened(make_store) as store, _opened(make_store) as rival_store:
        repo, rival = Repository(store), Repository(rival_store)
        repo.start(agent.start())
        repo.apply(agent.agent_id, _YEAR, agent.save())
        racing = _Racing(
            store, lambda: rival.apply(agent.agent_id, _YEAR, agent.save())
        )
        saved = Repository(racing).apply(agent.agent_id, _YEAR, agent.save())
        assert saved.version == 4 and racing.conflicts == 1
        # The rival completes the profile first: completing again is refused.
        racing = _Racing(
            store, lambda: rival.apply(agent.agent_id, _YEAR, agent.complete())
        )
        _raises(
            StepRefused,
            lambda: Repository(racing).apply(agent.agent_id, _YEAR, agent.complete()),
        )
        assert repo.load(agent.agent_id, _YEAR).individual is State.TRAINING
        reg = repo.load(agent.agent_id, _YEAR)
        exc = _raises(
            ConcurrencyConflict,
            lambda: repo.apply(
                agent.agent_id, _YEAR, agent.save(), expected_version=reg.version - 1
            ),
        )
        assert (exc.expected, exc.actual) == (reg.version - 1, reg.version)


class _Racing:
    """A store whose first write loses a race to *rival*, run just before it."""

    def __init__(self, store: Store, rival: Callable[[], object]) -> None:
        self._store = store
        self._rival: Callable[[], object] | None = rival
        self.conflicts = 0

    def __getattr__(self, name: str) -> Any:
        return getattr(self._store, name)

    def write(self, registration: Registration, *, expected_version: int) -> None:
        if self._rival is not None:
            rival, self._rival = self._rival, None
            rival()
        try:
            self._store.write(registration, expected_version=expected_version)
        except ConcurrencyConflict:
            self.conflicts += 1
            raise


def check_rebuild(make_store: StoreFactory) -> None:
    """verify() finds nothing wrong in a store written by the repository."""
    agent = _Agent(_run())
    with _opened(make_store) as store:
        repo = Repository(store)
        repo.start(agent.start())
        repo.apply(agent.agent_id, _YEAR, agent.save())
        mine = [p for p in repo.verify() if p.agent_id == agent.agent_id]
        assert mine == []
        report = repo.rebuild()
        assert (agent.agent_id, _YEAR, "") not in report.restored


CHECKS: tuple[Callable[[StoreFactory], None], ...] = (
    check_round_trip,
    check_not_found,
    check_stale_write,
    check_bad_input,
    check_event_ids_unique,
    check_duplicate_account,
    check_find,
    check_agencies,
    check_restore,
    check_repository_idempotent,
    check_repository_refusal,
    check_repository_retries,
    check_rebuild,
)
"""Every check, in order; each takes a :data:`StoreFactory`."""


def run_contract(make_store: StoreFactory) -> None:
    """Run every check; the first that fails raises AssertionError (or its error)."""
    for check in CHECKS:
        check(make_store)


class StoreContract:
    """A pytest base class: one test per check. Subclass it as ``Test...`` and
    define :meth:`make_store`.

    Its tests are added when this module is imported, one per check of
    :data:`CHECKS`, each named for it and with its docstring:

    - ``test_round_trip``: what is written is what is loaded.
    - ``test_not_found``: an unknown registration is RegistrationNotFound.
    - ``test_stale_write``: a write based on an old version is refused.
    - ``test_bad_input``: writes that do not fit their version are InvalidValue.
    - ``test_event_ids_unique``: an event id already in the log is IdempotencyConflict.
    - ``test_duplicate_account``: one NPN per plan year (S2).
    - ``test_find``: ``find()`` filters; keys list every registration.
    - ``test_agencies``: one agent id in two agencies is two registrations.
    - ``test_restore``: ``restore()`` rewrites a snapshot from the log.
    - ``test_repository_idempotent``: an event submitted again changes nothing.
    - ``test_repository_refusal``: a refused event stores nothing.
    - ``test_repository_retries``: after a conflict the repository decides again.
    - ``test_rebuild``: ``verify()`` finds nothing wrong.
    """

    def make_store(self) -> Store:
        """Return a new store object on the database under test."""
        raise NotImplementedError("define make_store() in your StoreContract subclass")


def _add_tests() -> None:
    for check in CHECKS:

        def test(
            self: StoreContract, check: Callable[[StoreFactory], None] = check
        ) -> None:
            check(self.make_store)

        name = "test_" + check.__name__.removeprefix("check_")
        test.__name__ = test.__qualname__ = name
        test.__doc__ = check.__doc__
        setattr(StoreContract, name, test)


_add_tests()
