"""Hypothesis strategies and a reusable stateful test for code that embeds regflow.

Strategies::

    npns(), invalid_npns(), profiles(), events(), any_event(), registrations()

The stateful test, :class:`RegistrationMachine`, fires random valid and invalid
events in random orders and checks regflow's invariants after each step. Run it
against your own embedding by subclassing and overriding :meth:`~RegistrationMachine.do_start`
and :meth:`~RegistrationMachine.do_apply` (for example to go through your
service layer and store), then ``TestMine = MyMachine.TestCase``.

For a store of your own, :class:`StoreContract` and :func:`run_contract`
(from :mod:`regflow.store.contract`) check it against the contract regflow's
SQLite and PostgreSQL stores pass.

Requires ``hypothesis`` (regflow's ``test`` extra).
"""

from __future__ import annotations

import datetime as dt
import functools
import itertools
from typing import Any

import attrs
from hypothesis import event as note
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule

from . import _events as ev
from ._errors import StepRefused
from ._guards import missing_agreements
from ._records import (
    Agreement,
    ContactDetails,
    Curriculum,
    NpnValidity,
    Profile,
    Role,
    TerminationReason,
)
from ._registration import Registration, State
from ._serialization import dumps, loads
from ._workflow import Workflow, _probes
from .store.contract import StoreContract, run_contract

__all__ = [
    "RegistrationMachine",
    "StoreContract",
    "any_event",
    "assert_invariants",
    "events",
    "invalid_npns",
    "npns",
    "profiles",
    "registrations",
    "run_contract",
]

_UTC = dt.UTC
_EPOCH = dt.datetime(2023, 9, 1, 9, tzinfo=_UTC)
_ids = itertools.count(1)


def _event_id() -> str:
    return f"hyp-{next(_ids)}"


def npns() -> st.SearchStrategy[str]:
    """Valid NPN text: 1-10 ASCII digits, not all zeros, maybe padded with spaces."""
    digits = st.text("0123456789", min_size=1, max_size=10).filter(
        lambda s: s.strip("0") != ""
    )
    pad = st.sampled_from(["", " ", "\t", "  "])
    return st.builds(lambda a, d, b: a + d + b, pad, digits, pad)


def invalid_npns() -> st.SearchStrategy[str]:
    """Text that is not an NPN, one strategy per way to get it wrong."""
    return st.one_of(
        st.just(""),
        st.sampled_from([" ", "\t\n"]),
        st.text("0", min_size=1, max_size=10),
        st.text("0123456789", min_size=11, max_size=20),
        st.builds(
            lambda a, b: f"{a} {b}",
            st.text("123", min_size=1, max_size=4),
            st.text("456", min_size=1, max_size=4),
        ),
        st.text("0123456789", min_size=1, max_size=5).map(lambda s: s + "a"),
        st.sampled_from(["١٢٣", "12٣", "NPN123", "12-34", "+123"]),
    )


def _contacts() -> st.SearchStrategy[ContactDetails]:
    return st.builds(
        ContactDetails,
        name=st.sampled_from(["Ana Reyes", "Bo Chen", "Chidi Okafor"]),
        email=st.sampled_from(["ana@example.com", "bo@example.org"]),
        phone=st.sampled_from(["555-0100", "555-0199"]),
        zip_code=st.one_of(st.none(), st.sampled_from(["33101", "60601"])),
    )


def profiles(
    *, role: Role | None = None, complete: bool | None = None
) -> st.SearchStrategy[Profile]:
    """MLMS profiles; ``complete=True`` gives ones that pass every profile guard."""
    roles = st.just(role) if role is not None else st.sampled_from(Role)
    if complete:

        @st.composite
        def build(draw: st.DrawFn) -> Profile:
            chosen = draw(roles)
            contact = draw(_contacts())
            flh = draw(st.booleans()) and contact.zip_code is not None
            npn = draw(npns()) if chosen is Role.MARKETPLACE_AGENT_BROKER else None
            return Profile(
                role=chosen,
                contact=contact,
                find_local_help=flh,
                shop=draw(st.booleans()),
                npn=npn,
            )

        return build()
    return st.builds(
        Profile,
        role=st.one_of(st.none(), roles),
        contact=st.one_of(st.none(), _contacts()),
        find_local_help=st.booleans(),
        shop=st.booleans(),
        npn=st.one_of(st.none(), npns()),
        business_npn=st.one_of(st.none(), st.sampled_from(["12345678", "555"])),
        web_broker_npn=st.one_of(st.none(), st.sampled_from(["12345678", "7777"])),
    )


def any_event(at: dt.datetime = _EPOCH) -> st.SearchStrategy[ev.Event]:
    """Any event with arbitrary (often nonsensical) fields, at *at*."""
    common: dict[str, Any] = {"event_id": st.builds(_event_id), "at": st.just(at)}
    later = st.just(at + dt.timedelta(hours=2))
    return st.one_of(
        st.builds(ev.SaveProfile, profile=profiles(), **common),
        st.builds(ev.CompleteProfile, **common),
        st.builds(
            ev.EnrollCurriculum, curriculum=st.sampled_from(Curriculum), **common
        ),
        st.builds(
            ev.CompleteMlmsTraining, curriculum=st.sampled_from(Curriculum), **common
        ),
        st.builds(
            ev.LaunchVendorTraining,
            vendor=st.sampled_from(["HealthSherpa", "INSXCloud", "Shady Courses"]),
            launch_id=st.sampled_from(["L1", "L2"]),
            curriculum=st.sampled_from(Curriculum),
            expires_at=st.one_of(later, st.just(at)),
            **common,
        ),
        st.builds(
            ev.CompleteVendorTraining,
            vendor=st.sampled_from(["HealthSherpa", "INSXCloud"]),
            launch_id=st.sampled_from(["L1", "L2"]),
            agent_id=st.sampled_from(["agent-1", "someone-else"]),
            plan_year=st.sampled_from([2023, 2024]),
            **common,
        ),
        st.builds(ev.PortalLogin, **common),
        st.builds(ev.AcceptAgreement, agreement=st.sampled_from(Agreement), **common),
        st.builds(ev.DeclineAgreement, agreement=st.sampled_from(Agreement), **common),
        st.builds(ev.PrintCertificate, **common),
        st.builds(ev.ConfirmTracker, **common),
        st.builds(ev.ObserveFindLocalHelp, **common),
        st.builds(
            ev.ObserveRclListing,
            npn_valid=st.sampled_from(NpnValidity),
            individual_completion=st.one_of(st.none(), st.just(at.date())),
            **common,
        ),
        st.builds(ev.ContactHelpDesk, **common),
        st.builds(ev.Terminate, reason=st.sampled_from(TerminationReason), **common),
        st.builds(ev.Reinstate, reason=st.sampled_from(TerminationReason), **common),
    )


def _fresh(event: ev.Event) -> ev.Event:
    """A probe with its own event id, as a portal would send it."""
    return attrs.evolve(event, event_id=_event_id())


def _moved(event: ev.Event, at: dt.datetime) -> ev.Event:
    """*event* with a fresh id, moved to *at* (a launch's expiry moves along)."""
    changes: dict[str, Any] = {"event_id": _event_id(), "at": at}
    if isinstance(event, ev.LaunchVendorTraining):
        changes["expires_at"] = at + (event.expires_at - event.at)
    return attrs.evolve(event, **changes)


@functools.cache
def _arbitrary() -> st.SearchStrategy[ev.Event]:
    # Built once: building a large one_of on every step is most of the cost.
    return any_event(_EPOCH)


@functools.cache
def _good_profiles() -> st.SearchStrategy[ev.Event]:
    return st.builds(
        ev.SaveProfile,
        event_id=st.just("template"),
        at=st.just(_EPOCH),
        profile=profiles(complete=True),
    )


def events(
    reg: Registration, flow: Workflow, at: dt.datetime
) -> st.SearchStrategy[ev.Event]:
    """Events for *reg* at *at*: mostly plausible next steps, some arbitrary ones."""
    plausible = [
        probe
        for cls in ev.EVENT_TYPES.values()
        if cls is not ev.StartRegistration
        for probe in _probes(reg, cls, at, flow.rules)
    ]
    valid = [p for p in plausible if flow.check(reg, p).allowed]
    arbitrary = _arbitrary().map(lambda e: _moved(e, at))
    good_profile = _good_profiles().map(lambda e: _moved(e, at))

    @st.composite
    def pick(draw: st.DrawFn) -> ev.Event:
        # Mostly valid steps (and the simplest choice, 0, is one): a random
        # walk that never gets past the profile tests little.
        roll = draw(st.integers(0, 9))
        if valid and roll < 6:
            return _fresh(draw(st.sampled_from(valid)))
        if roll < 8 and reg.state is State.PROFILE_INCOMPLETE:
            return draw(good_profile)
        if plausible and roll < 9:
            return _fresh(draw(st.sampled_from(plausible)))
        return draw(arbitrary)

    return pick()


def _starts(plan_year: int, at: dt.datetime) -> st.SearchStrategy[ev.StartRegistration]:
    return st.builds(
        ev.StartRegistration,
        event_id=st.builds(_event_id),
        at=st.just(at),
        agent_id=st.just("agent-1"),
        portal_account_id=st.just("portal-1"),
        plan_year=st.just(plan_year),
        prior_year=st.sampled_from([None, plan_year - 1, plan_year - 2]),
    )


@st.composite
def registrations(
    draw: st.DrawFn, plan_year: int = 2024, max_events: int = 25
) -> Registration:
    """A registration in any reachable state, reached through accepted events."""
    flow = Workflow.for_plan_year(plan_year)
    at = _EPOCH.replace(year=plan_year - 1)
    reg = flow.start(draw(_starts(plan_year, at)))
    for _ in range(draw(st.integers(0, max_events))):
        at += dt.timedelta(days=draw(st.integers(0, 4)), hours=1)
        options = [
            p
            for cls in flow.available(reg, at=at)
            for p in _probes(reg, cls, at, flow.rules)
            if flow.check(reg, p).allowed
        ]
        if not options:
            break
        reg = flow.apply(reg, _fresh(draw(st.sampled_from(options))))
    return reg


def assert_invariants(reg: Registration, flow: Workflow) -> None:
    """Check what must hold of every registration regflow produces."""
    seqs = [r.seq for r in reg.history]
    assert seqs == list(range(1, reg.version + 1)), f"history not gapless: {seqs}"
    assert flow.replay(reg.history) == reg, "replay differs from the snapshot"
    assert loads(dumps(reg)) == reg, "JSON round trip differs"
    if reg.state is State.CERTIFIED:
        assert reg.profile.role is Role.MARKETPLACE_AGENT_BROKER
        assert reg.npn is not None, "certified without an NPN"
        assert reg.training_complete, "certified without training"
        assert not missing_agreements(reg, flow.rules), (
            "certified with agreements missing"
        )
        assert reg.rcl is not None and reg.rcl.npn_valid is NpnValidity.VALID
    if reg.state is State.TRAINING_COMPLETE:
        assert not reg.is_agent and reg.training_complete


class RegistrationMachine(RuleBasedStateMachine):
    """Random valid and invalid events in random orders, invariants after each.

    Override :meth:`do_start` and :meth:`do_apply` to drive your own embedding
    (they must behave like :meth:`Workflow.start` and :meth:`Workflow.apply`:
    return the new registration, or raise :class:`regflow.StepRefused`).
    """

    plan_year = 2024

    def __init__(self) -> None:
        super().__init__()
        self.flow = Workflow.for_plan_year(self.plan_year)
        self.at = _EPOCH.replace(year=self.plan_year - 1)
        self.reg: Registration | None = None
        self.refused = 0
        self.accepted = 0

    def do_start(self, event: ev.StartRegistration) -> Registration:
        """Start a registration the way the embedding does."""
        return self.flow.start(event)

    def do_apply(self, reg: Registration, event: ev.Event) -> Registration:
        """Apply an event the way the embedding does."""
        return self.flow.apply(reg, event)

    @initialize(data=st.data())
    def begin(self, data: st.DataObject) -> None:
        self.reg = self.do_start(data.draw(_starts(self.plan_year, self.at)))

    @rule(data=st.data(), days=st.integers(0, 2))
    def fire(self, data: st.DataObject, days: int) -> None:
        assert self.reg is not None
        self.at += dt.timedelta(days=days, minutes=1)
        before = self.reg
        frozen = dumps(before)
        event = data.draw(events(before, self.flow, self.at))
        decision = self.flow.check(before, event)
        try:
            after = self.do_apply(before, event)
        except StepRefused as refused:
            assert not decision.allowed, f"check allowed {event!r}, apply refused it"
            assert refused.refusals == decision.refusals
            assert dumps(before) == frozen, "a refused event changed the registration"
            self.refused += 1
            return
        assert decision.allowed, f"apply accepted {event!r} that check refused"
        assert after.version == before.version + 1
        assert after.history[-1].event == event
        assert dumps(before) == frozen, "apply mutated its input"
        self.reg = after
        self.accepted += 1

    @invariant()
    def holds(self) -> None:
        if self.reg is not None:
            note(f"reached {self.reg.state.value}")
            note(f"accepted {min(self.accepted // 10 * 10, 40)}+")
            assert_invariants(self.reg, self.flow)
