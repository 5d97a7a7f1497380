"""Hostile input to the core: wrong types, deep nesting, lying snapshots, odd times.

Each test here reproduces a defect a fuzzing run found (issue 7, items 5-7):
values that used to be coerced or accepted, and times that used to raise
``OverflowError`` or fail to round-trip.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any
from zoneinfo import ZoneInfo, available_timezones

import attrs
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import regflow
from helpers import (
    agent_profile,
    at,
    eid,
    registered,
    returning_agent,
)
from regflow import events as ev
from regflow.testing import any_event

FLOW = regflow.Workflow.for_plan_year(2024)
T0 = dt.datetime(2023, 10, 2, 9, tzinfo=dt.UTC)
NEW_YORK = ZoneInfo("America/New_York")


def snapshot_json() -> dict[str, Any]:
    """A registered agent's snapshot as plain JSON data."""
    data: dict[str, Any] = json.loads(regflow.dumps(registered(FLOW)))
    return data


# -- loads: wrong types are refused with the field's path --------------------


@pytest.mark.parametrize(
    ("path", "value", "says"),
    [
        (["agent_id"], None, "expected a string, got null"),
        (["agent_id"], {"x": 1}, "expected a string, got an object"),
        (["agent_id"], 7, "expected a string, got a number"),
        (["certificate_printed"], "false", "expected true or false, got a string"),
        (["certificate_printed"], 0, "expected true or false, got a number"),
        (["plan_year"], 2.9, "expected an integer, got a number"),
        (["plan_year"], "2024", "expected an integer, got a string"),
        (["plan_year"], True, "expected an integer, got a boolean"),
        (["enrollments"], "returning", "expected an array, got a string"),
        (["profile", "contact", "email"], ["a@b"], "expected a string, got an array"),
        (["profile", "find_local_help"], "yes", "expected true or false"),
        (["history", 0, "plan_year"], "2024", "expected an integer"),
        (["history", 1, "profile", "npn"], 19876543, "expected an NPN as text"),
        (["individual"], "certifed", "not a valid IndividualState"),
    ],
)
def test_loads_refuses_a_wrong_json_type_naming_its_path(
    path: list[str | int], value: object, says: str
) -> None:
    """A value of the wrong JSON type is a SerializationError at its path, never coerced."""
    data = snapshot_json()
    target: Any = data
    for step in path[:-1]:
        target = target[step]
    target[path[-1]] = value
    where = "$" + "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in path)
    with pytest.raises(regflow.SerializationError) as caught:
        regflow.loads(json.dumps(data))
    assert says in str(caught.value)
    assert where in str(caught.value)


def test_loads_refuses_an_unknown_key() -> None:
    """A key regflow does not write (a typo, a forged field) is refused by name."""
    data = snapshot_json()
    data["is_certified"] = True
    with pytest.raises(regflow.SerializationError, match="extra fields found"):
        regflow.loads(json.dumps(data))


def test_loads_refuses_an_unknown_key_in_an_event() -> None:
    """An event with a field it does not have is refused too."""
    text = regflow.dumps(ev.PortalLogin(event_id="x", at=T0))
    forged = text[:-1] + ',"admin":true}'
    with pytest.raises(regflow.SerializationError, match="admin"):
        regflow.loads(forged, ev.Event)


@pytest.mark.parametrize("depth", [994, 5_000, 100_000])
def test_loads_refuses_deep_nesting_with_a_regflow_error(depth: int) -> None:
    """JSON nested past Python's recursion limit is a SerializationError, not a crash."""
    for text in ("[" * depth + "]" * depth, '{"a":' * depth + "1" + "}" * depth):
        with pytest.raises(regflow.SerializationError, match="nested too deeply"):
            regflow.loads(text)
        with pytest.raises(regflow.SerializationError):
            regflow.loads(text, ev.Event)


def test_loads_refuses_a_snapshot_whose_states_its_history_denies() -> None:
    """A one-event history claiming both tracks listed is refused, naming both."""
    data = json.loads(regflow.dumps(returning_agent(FLOW)))
    data["individual"] = "certified"
    data["shop"] = "listed"
    with pytest.raises(regflow.SerializationError) as caught:
        regflow.loads(json.dumps(data))
    text = str(caught.value)
    assert "disagrees with its history" in text
    assert "individual is <IndividualState.CERTIFIED" in text
    assert "shop is <ShopState.LISTED" in text


def test_loads_refuses_a_stored_version() -> None:
    """The version is the history's length: a snapshot cannot claim another."""
    data = json.loads(regflow.dumps(returning_agent(FLOW)))
    data["version"] = 7
    with pytest.raises(regflow.SerializationError, match="extra fields found"):
        regflow.loads(json.dumps(data))


def test_loads_refuses_a_snapshot_whose_fields_its_history_denies() -> None:
    """A snapshot that says an agreement was accepted its history never shows is refused."""
    data = snapshot_json()
    data["certificate_printed"] = True
    with pytest.raises(regflow.SerializationError, match="certificate_printed"):
        regflow.loads(json.dumps(data))


def test_loads_refuses_a_history_that_cannot_be_replayed() -> None:
    """A history with an event missing is refused, saying why."""
    data = snapshot_json()
    del data["history"][2]  # Next on the profile page
    with pytest.raises(regflow.SerializationError, match="cannot be replayed"):
        regflow.loads(json.dumps(data))


# -- events are checked when they are built -----------------------------------


@pytest.mark.parametrize(
    ("build", "owner", "field", "expected"),
    [
        (
            lambda: ev.Terminate(event_id="x", at=T0, reason="4"),
            "Terminate",
            "reason",
            "a TerminationReason",
        ),
        (
            lambda: ev.ObserveRclListing(event_id="x", at=T0, npn_valid="Y"),
            "ObserveRclListing",
            "npn_valid",
            "a NpnValidity",
        ),
        (
            lambda: ev.SaveProfile(event_id="x", at=T0, profile=None),
            "SaveProfile",
            "profile",
            "a Profile",
        ),
        (
            lambda: ev.CompleteVendorTraining(
                event_id="x",
                at=T0,
                vendor="HealthSherpa",
                launch_id="l",
                agent_id="a",
                plan_year="2024",
            ),
            "CompleteVendorTraining",
            "plan_year",
            "an int",
        ),
        (
            lambda: ev.StartRegistration(
                event_id="x",
                at=T0,
                agent_id="a",
                portal_account_id="p",
                plan_year=2024,
                prior_year=True,
            ),
            "StartRegistration",
            "prior_year",
            "an int or None",
        ),
        (
            lambda: ev.ObserveRclListing(
                event_id="x",
                at=T0,
                npn_valid=regflow.NpnValidity.VALID,
                individual_completion=T0,
            ),
            "ObserveRclListing",
            "individual_completion",
            "a date or None",
        ),
        (
            lambda: regflow.Profile(role="marketplace_agent_broker"),
            "Profile",
            "role",
            "a Role or None",
        ),
        (
            lambda: regflow.Profile(find_local_help="no"),
            "Profile",
            "find_local_help",
            "a bool",
        ),
        (
            lambda: regflow.ContactDetails(name=None, email="a@b", phone="5"),
            "ContactDetails",
            "name",
            "a str",
        ),
    ],
)
def test_an_event_of_wrong_field_types_is_refused_when_built(
    build: Any, owner: str, field: str, expected: str
) -> None:
    """A wrong type raises InvalidField (an InvalidValue and a TypeError) naming it."""
    with pytest.raises(regflow.InvalidField) as caught:
        build()
    error = caught.value
    assert (error.owner, error.field, error.expected) == (owner, field, expected)
    assert str(error).startswith(f"{owner}.{field} must be {expected} (got ")
    assert isinstance(error, regflow.InvalidValue) and isinstance(error, TypeError)


_START = ev.StartRegistration(
    event_id="s", at=T0, agent_id="a", portal_account_id="p", plan_year=2024
)


@settings(max_examples=300, deadline=None)
@given(
    valid=st.one_of(any_event(T0), st.just(_START)),
    # No field of any event takes these types, so each must be refused.
    junk=st.one_of(
        st.floats(allow_nan=False),
        st.lists(st.integers(), max_size=2),
        st.dictionaries(st.text(max_size=2), st.integers(), max_size=2),
        st.binary(max_size=3),
    ),
    data=st.data(),
)
def test_any_field_given_junk_is_a_regflow_error(
    valid: ev.Event, junk: object, data: st.DataObject
) -> None:
    """Junk in any one field of any event is refused with a regflow error naming it."""
    cls = type(valid)
    field = data.draw(st.sampled_from([f.name for f in attrs.fields(cls)]))
    with pytest.raises(regflow.InvalidValue) as caught:
        attrs.evolve(valid, **{field: junk})
    assert field in str(caught.value)


def test_a_required_field_given_none_is_refused() -> None:
    """None where a field has no default is refused for every event type."""
    for valid in (_START, *[e for e in _SAMPLES]):
        for field in attrs.fields(type(valid)):
            if field.default is None:
                continue  # optional: None is its "not given"
            with pytest.raises(regflow.InvalidValue, match=field.name):
                attrs.evolve(valid, **{field.name: None})


_SAMPLES = (
    ev.SaveProfile(event_id="x", at=T0, profile=regflow.Profile()),
    ev.CompleteProfile(event_id="x", at=T0),
    ev.EnrollCurriculum(event_id="x", at=T0, curriculum=regflow.Curriculum.SHOP),
    ev.CompleteMlmsTraining(event_id="x", at=T0, curriculum=regflow.Curriculum.SHOP),
    ev.LaunchVendorTraining(
        event_id="x",
        at=T0,
        vendor="v",
        launch_id="l",
        curriculum=regflow.Curriculum.SHOP,
        expires_at=T0,
    ),
    ev.CompleteVendorTraining(
        event_id="x", at=T0, vendor="v", launch_id="l", agent_id="a", plan_year=2024
    ),
    ev.AcceptAgreement(
        event_id="x", at=T0, agreement=regflow.Agreement.INDIVIDUAL_GENERAL
    ),
    ev.ObserveRclListing(event_id="x", at=T0, npn_valid=regflow.NpnValidity.VALID),
    ev.Terminate(event_id="x", at=T0, reason=regflow.TerminationReason.NON_COMPLIANCE),
)


def test_an_event_refused_at_construction_never_reaches_dumps() -> None:
    """What used to fail in dumps with AttributeError now fails when built."""
    with pytest.raises(regflow.InvalidField):
        regflow.dumps(ev.Terminate(event_id="x", at=T0, reason="4"))  # type: ignore[arg-type]


# -- times: every zone round-trips; arithmetic is total ------------------------


@pytest.mark.parametrize(
    "when",
    [
        dt.datetime(2023, 11, 5, 1, 30, tzinfo=NEW_YORK),  # DST overlap, first
        dt.datetime(2023, 11, 5, 1, 30, fold=1, tzinfo=NEW_YORK),  # and second
        dt.datetime(2023, 3, 12, 2, 30, tzinfo=NEW_YORK),  # DST gap
        dt.datetime(2023, 10, 2, 9, tzinfo=dt.timezone(dt.timedelta(seconds=-17762))),
        dt.datetime(
            2023,
            10,
            2,
            9,
            tzinfo=dt.timezone(dt.timedelta(hours=5, seconds=15, microseconds=3)),
        ),
    ],
)
def test_times_in_folds_gaps_and_odd_offsets_round_trip(when: dt.datetime) -> None:
    """An event dated in a DST fold or gap, or with a seconds offset, reads back equal."""
    event = ev.PortalLogin(event_id="x", at=when)
    assert event.at.utcoffset() == when.utcoffset()
    assert event.at.timestamp() == when.timestamp()  # the same instant
    back = regflow.loads(regflow.dumps(event), ev.Event)
    assert back == event
    assert back.at.utcoffset() == event.at.utcoffset()


@settings(max_examples=150, deadline=None)
@given(
    zone=st.sampled_from(sorted(available_timezones())),
    moment=st.datetimes(
        min_value=dt.datetime(2023, 1, 1), max_value=dt.datetime(2024, 12, 30)
    ),
    fold=st.sampled_from([0, 1]),
)
def test_a_snapshot_dated_in_any_zone_round_trips(
    zone: str, moment: dt.datetime, fold: int
) -> None:
    """A registration whose events are dated in any IANA zone survives dumps/loads."""
    when = moment.replace(tzinfo=ZoneInfo(zone), fold=fold)
    if not FLOW.rules.in_window(when):
        return
    reg = FLOW.start(
        ev.StartRegistration(
            event_id="s",
            at=when,
            agent_id="a",
            portal_account_id="p",
            plan_year=2024,
        )
    )
    reg = FLOW.apply(
        reg, ev.SaveProfile(event_id="p", at=when, profile=agent_profile())
    )
    assert regflow.loads(regflow.dumps(reg)) == reg


def test_deadlines_and_overdue_never_overflow() -> None:
    """Dates near the ends of Python's calendar are InvalidValue, never OverflowError."""
    reg = registered(FLOW)
    for on in (dt.date(1, 1, 1), dt.date(9999, 12, 31), dt.date(1969, 12, 31)):
        with pytest.raises(regflow.InvalidValue, match="'on' is"):
            regflow.overdue([reg], on=on)
    # A history dated at the end of time replays (replay trusts recorded facts),
    # but no business day is counted from it.
    end = dt.datetime(9999, 12, 31, 23, tzinfo=dt.UTC)
    forged = [reg.history[0], *(attrs.evolve(e, at=end) for e in reg.history[1:])]
    late = FLOW.replay(forged)
    with pytest.raises(regflow.InvalidValue, match="outside the days"):
        regflow.deadlines(late, FLOW.rules)
    with pytest.raises(regflow.InvalidValue):
        regflow.add_business_days(dt.date(2199, 12, 30), 5)
    with pytest.raises(regflow.InvalidValue):
        regflow.business_days_between(dt.date(2023, 1, 1), dt.date.max)


def test_cms_date_of_the_first_instant_is_a_regflow_error() -> None:
    """Converting year 1 to CMS time is refused clearly instead of overflowing."""
    from regflow._calendar import cms_date

    with pytest.raises(regflow.InvalidValue, match="too near the ends"):
        cms_date(dt.datetime(1, 1, 1, tzinfo=dt.UTC))


@pytest.mark.parametrize(
    "when",
    [dt.datetime(1, 1, 1, tzinfo=dt.UTC), dt.datetime.max.replace(tzinfo=dt.UTC)],
)
def test_check_and_available_at_the_ends_of_time_refuse_without_overflow(
    when: dt.datetime,
) -> None:
    """check() refuses and available() offers nothing, with no OverflowError."""
    reg = FLOW.apply(
        returning_agent(FLOW),
        ev.SaveProfile(event_id=eid(), at=at(2), profile=agent_profile()),
    )
    for event in (
        ev.CompleteProfile(event_id=eid(), at=when),
        ev.LaunchVendorTraining(
            event_id=eid(),
            at=when,
            vendor="HealthSherpa",
            launch_id="l",
            curriculum=regflow.Curriculum.RETURNING,
            expires_at=when,
        ),
    ):
        assert not FLOW.check(reg, event).allowed
    assert FLOW.available(reg, at=when) == ()


@pytest.mark.parametrize("on", [dt.date(1, 1, 1), dt.date(9999, 12, 31)])
def test_reconcile_refuses_a_day_outside_the_calendar(on: dt.date) -> None:
    """reconcile(on=...) far from any plan year is InvalidValue, not a silent answer."""
    from regflow.lists import reconcile

    with pytest.raises(regflow.InvalidValue, match="'on' is"):
        reconcile([registered(FLOW)], rcl=[], on=on)
