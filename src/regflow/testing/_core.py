"""The strategies and the stateful test :mod:`regflow.testing` publishes."""

from __future__ import annotations

import datetime as dt
import enum
import functools
import itertools
import types
import typing
from typing import Any, Final

import attrs
from hypothesis import strategies as st

from .. import _events as ev
from .._catalog import CATALOG
from .._catalog._common import missing_agreements
from .._explain import _probe
from .._messages import Refusal
from .._npn import NPN
from .._records import ContactDetails, NpnValidity, Profile, Role
from .._registration import Registration
from .._serialization import dumps, loads
from .._states import IndividualState, ShopState, Track
from .._workflow import Workflow

__all__ = [
    "any_event",
    "assert_invariants",
    "event_of",
    "events",
    "invalid_npns",
    "npns",
    "profiles",
    "registrations",
]

_UTC = dt.UTC
_EPOCH = dt.datetime(2023, 9, 1, 9, tzinfo=_UTC)
_ids = itertools.count(1)
_SPECS: Final = tuple(spec for spec in CATALOG if spec.type is not ev.StartRegistration)

# Text a field of an event may hold, good and bad: vendors approved and not,
# launch ids the portal issued and not, this agent and another.
_TEXTS: Final = (
    "HealthSherpa",
    "INSXCloud",
    "Shady Courses",
    "L1",
    "L2",
    "agent-1",
    "someone-else",
)


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
    """Text that is not an NPN, one strategy per way to get it wrong.

    Blank text is among them: ``NPN.parse`` refuses it, though a profile
    reads a blank NPN field as "not entered".
    """
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
            agent = chosen is Role.MARKETPLACE_AGENT_BROKER
            return Profile(
                role=chosen,
                contact=contact,
                find_local_help=draw(st.booleans()) and contact.zip_code is not None,
                shop=agent and draw(st.booleans()),
                npn=draw(npns()) if agent else None,
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


def _values(hint: Any, at: dt.datetime) -> st.SearchStrategy[Any]:
    """Values of a field's type, often nonsensical for the event."""
    origin = typing.get_origin(hint)
    if origin in (typing.Union, types.UnionType):
        return st.one_of(*(_values(arg, at) for arg in typing.get_args(hint)))
    if hint is type(None):
        return st.none()
    if isinstance(hint, type) and issubclass(hint, enum.Enum):
        return st.sampled_from(hint)
    if hint is Profile:
        return profiles()
    if hint is str:
        return st.sampled_from(_TEXTS)
    if hint is int:
        return st.sampled_from([at.year, at.year + 1])
    if hint is dt.datetime:
        return st.sampled_from([at + dt.timedelta(hours=2), at])
    if hint is dt.date:
        return st.just(at.date())
    if hint is NPN:
        return npns().map(NPN.parse)
    raise TypeError(f"no strategy for {hint!r}")


def event_of(
    kind: type[ev.Event], at: dt.datetime = _EPOCH
) -> st.SearchStrategy[ev.Event]:
    """Events of type *kind* (not the start), fields arbitrary as in :func:`any_event`."""
    attrs.resolve_types(kind)
    fields = {
        field.name: _values(field.type, at)
        for field in attrs.fields(kind)
        if field.name not in ("event_id", "at")
    }
    return st.builds(kind, event_id=st.builds(_event_id), at=st.just(at), **fields)


def any_event(at: dt.datetime = _EPOCH) -> st.SearchStrategy[ev.Event]:
    """Any event type of the catalog, with arbitrary (often nonsensical) fields, at *at*."""
    return st.one_of([event_of(spec.type, at) for spec in _SPECS])


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


Probe = tuple[ev.Event, tuple[Refusal, ...], frozenset[Track]]
"""A menu choice as an event, its refusals now, and the tracks it acts on."""


def _menu(reg: Registration, flow: Workflow, at: dt.datetime) -> list[Probe]:
    """Every choice the menu offers now, as events, each with its verdict."""
    found: list[Probe] = []
    rules = flow.rules
    for spec in _SPECS:
        base = {"at": at, **spec.filled(reg, rules, at)}
        for values, refusals, targets in _probe(flow, reg, spec, at):
            event = spec.type(event_id=_event_id(), **base, **values)
            found.append((event, refusals, targets))
    return found


def _choices(
    reg: Registration, flow: Workflow, at: dt.datetime
) -> tuple[list[ev.Event], list[ev.Event]]:
    """Every choice the menu offers now, and those of them allowed, as events."""
    menu = _menu(reg, flow, at)
    return [event for event, _, _ in menu], [e for e, refused, _ in menu if not refused]


def events(
    reg: Registration, flow: Workflow, at: dt.datetime
) -> st.SearchStrategy[ev.Event]:
    """Events for *reg* at *at*: mostly the menu's choices, some arbitrary ones."""
    return _pick(reg, at, *_choices(reg, flow, at))


def _pick(
    reg: Registration,
    at: dt.datetime,
    plausible: list[ev.Event],
    valid: list[ev.Event],
) -> st.SearchStrategy[ev.Event]:
    """:func:`events`, from the menu's choices already made into events."""
    arbitrary = _arbitrary().map(lambda e: _moved(e, at))
    good_profile = _good_profiles().map(lambda e: _moved(e, at))

    @st.composite
    def pick(draw: st.DrawFn) -> ev.Event:
        # Mostly valid steps (and the simplest choice, 0, is one): a random
        # walk that never gets past the profile tests little.
        roll = draw(st.integers(0, 9))
        if valid and roll < 6:
            # An event type first, then one of its choices: a type with one
            # choice (erasing the contact) is as likely as one with many.
            kind = draw(st.sampled_from(sorted({e.kind for e in valid})))
            return _fresh(draw(st.sampled_from([e for e in valid if e.kind == kind])))
        if roll < 8 and reg.individual is IndividualState.PROFILE_INCOMPLETE:
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
    """A registration in any reachable state of both tracks, through accepted events."""
    flow = Workflow.for_plan_year(plan_year)
    at = _EPOCH.replace(year=plan_year - 1)
    reg = flow.start(draw(_starts(plan_year, at)))
    for _ in range(draw(st.integers(0, max_events))):
        at += dt.timedelta(days=draw(st.integers(0, 4)), hours=1)
        _, valid = _choices(reg, flow, at)
        if reg.individual is IndividualState.PROFILE_INCOMPLETE and draw(st.booleans()):
            valid.append(_moved(draw(_good_profiles()), at))
        if not valid:
            break
        reg = flow.apply(reg, _fresh(draw(st.sampled_from(valid))))
    return reg


def assert_invariants(reg: Registration, flow: Workflow) -> None:
    """Check what must hold of every registration regflow produces."""
    assert reg.version == len(reg.history) >= 1
    assert isinstance(reg.history[0], ev.StartRegistration)
    assert flow.replay(reg.history) == reg, "replay differs from the snapshot"
    assert loads(dumps(reg)) == reg, "JSON round trip differs"
    rules = flow.rules
    if reg.individual is IndividualState.CERTIFIED:
        assert reg.profile.role is Role.MARKETPLACE_AGENT_BROKER
        assert reg.npn is not None, "certified without an NPN"
        assert reg.training_complete, "certified without training"
        assert not missing_agreements(reg, rules, Track.INDIVIDUAL), (
            "certified with Individual agreements missing"
        )
        listing = reg.individual_listing
        assert listing is not None and listing.npn_valid is not NpnValidity.INVALID
    if reg.shop is ShopState.LISTED:
        assert reg.takes_shop, "SHOP listed for an agent who did not choose SHOP"
        assert reg.shop_training_complete, "SHOP listed with its curriculum unfinished"
        assert not missing_agreements(reg, rules, Track.SHOP), (
            "SHOP listed without the SHOP agreement"
        )
        listing = reg.shop_listing
        assert listing is not None and listing.npn_valid is not NpnValidity.INVALID
    if reg.shop is ShopState.NOT_TAKEN:
        assert not reg.takes_shop
    elif reg.shop is not ShopState.PROFILE_INCOMPLETE:
        assert reg.takes_shop, "a SHOP track moved for an agent without SHOP"
    if reg.individual is IndividualState.TRAINING_COMPLETE:
        assert not reg.is_agent and reg.training_complete
