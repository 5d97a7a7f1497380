"""Individual and SHOP as two tracks: independence, listings, terminations, status,
validity by date, and snapshots of regflow 0.1 read into the new shape."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest

import regflow
from helpers import (
    agent_profile,
    at,
    at_agreements,
    eid,
    finish_training,
    in_training,
    new_agent,
    non_agent_profile,
    registered,
    returning_agent,
)
from regflow import (
    Agreement,
    Curriculum,
    IndividualState,
    Marketplaces,
    NpnValidity,
    ShopState,
    Status,
    Track,
)
from regflow import events as ev

FLOW = regflow.Workflow.for_plan_year(2024)
FIXTURES = Path(__file__).parent / "fixtures"
IS, SS = IndividualState, ShopState
SHOP_AGREEMENT = Agreement.SHOP_PRIVACY_SECURITY


def both_registered() -> regflow.Registration:
    """An agent registered on both tracks on October 3."""
    reg = registered(FLOW, agent_profile(shop=True))
    assert (reg.individual, reg.shop) == (IS.REGISTERED, SS.REGISTERED)
    return reg


def listing(
    *, individual: bool = True, shop: bool = True, valid: bool = True, day: int = 5
) -> ev.ObserveRclListing:
    """An RCL row for the tracks asked for, ending October 31, 2024."""
    ends = dt.date(2024, 10, 31)
    return ev.ObserveRclListing(
        event_id=eid(),
        at=at(day),
        npn_valid=NpnValidity.VALID if valid else NpnValidity.INVALID,
        individual_completion=dt.date(2023, 10, 3) if individual else None,
        individual_end=ends if individual else None,
        shop_completion=dt.date(2023, 10, 3) if shop else None,
        shop_end=ends if shop else None,
    )


def ended(
    markets: Marketplaces, *, day: int = 10, cls: type[ev.Event] = ev.Terminate
) -> ev.Event:
    """A termination-list row for *markets*."""
    return cls(  # type: ignore[call-arg]
        event_id=eid(),
        at=at(day),
        reason=regflow.TerminationReason.NON_COMPLIANCE,
        marketplaces=markets,
    )


# -- one fact decides SHOP ------------------------------------------------------


@pytest.mark.parametrize("shop", [False, True])
def test_the_profile_alone_decides_whether_the_shop_track_is_taken(shop: bool) -> None:
    """Completing the profile sends SHOP to agreement_pending or not_taken."""
    reg = in_training(FLOW, returning_agent(FLOW), agent_profile(shop=shop))
    assert reg.takes_shop is shop
    assert reg.shop is (SS.AGREEMENT_PENDING if shop else SS.NOT_TAKEN)
    assert reg.track(Track.SHOP).taken is shop


def test_the_individual_track_never_waits_for_shop() -> None:
    """Individual reaches registered and certified while SHOP is still to do."""
    reg = in_training(FLOW, returning_agent(FLOW), agent_profile(shop=True))
    reg = FLOW.apply(
        reg, ev.EnrollCurriculum(event_id=eid(), at=at(3), curriculum=Curriculum.SHOP)
    )
    reg = finish_training_individual(reg)
    for agreement in FLOW.rules.individual_agreements:
        reg = FLOW.apply(
            reg, ev.AcceptAgreement(event_id=eid(), at=at(3), agreement=agreement)
        )
    assert reg.individual is IS.REGISTERED
    assert reg.shop is SS.TRAINING
    reg = FLOW.apply(reg, listing(shop=False))
    assert reg.individual is IS.CERTIFIED and reg.status is Status.CERTIFIED
    assert reg.shop is SS.TRAINING


def finish_training_individual(reg: regflow.Registration) -> regflow.Registration:
    """Complete the Returning curriculum only."""
    return FLOW.apply(
        reg,
        ev.CompleteMlmsTraining(
            event_id=eid(), at=at(3), curriculum=Curriculum.RETURNING
        ),
    )


# -- listings -------------------------------------------------------------------


def test_one_rcl_row_lists_each_track_with_its_own_dates() -> None:
    """A row with both dates lists both tracks; each keeps its own end date."""
    reg = FLOW.apply(both_registered(), listing())
    assert (reg.individual, reg.shop) == (IS.CERTIFIED, SS.LISTED)
    assert reg.individual_listing is not None and reg.shop_listing is not None
    assert reg.shop_listing.ends_on == dt.date(2024, 10, 31)


def test_a_shop_only_row_lists_shop_and_leaves_individual_alone() -> None:
    """A row with only a SHOP date moves the SHOP track only."""
    reg = FLOW.apply(both_registered(), listing(individual=False))
    assert (reg.individual, reg.shop) == (IS.REGISTERED, SS.LISTED)
    assert reg.individual_listing is None


def test_a_shop_date_before_the_shop_agreement_is_refused() -> None:
    """The SHOP track is listed only after its agreement (S18)."""
    reg = at_agreements(FLOW, agent_profile(shop=True))
    for agreement in FLOW.rules.individual_agreements:
        reg = FLOW.apply(
            reg, ev.AcceptAgreement(event_id=eid(), at=at(3), agreement=agreement)
        )
    assert (reg.individual, reg.shop) == (IS.REGISTERED, SS.AGREEMENT_PENDING)
    decision = FLOW.check(reg, listing())
    assert [r.code for r in decision.refusals] == [
        "state.not_allowed",
        "S18.agreements_pending",
    ]
    assert decision.refusals[1].params == {"agreements": ("shop_privacy_security",)}
    assert FLOW.check(reg, listing(shop=False)).allowed


# -- terminations -----------------------------------------------------------------


def test_a_shop_termination_leaves_individual_alone() -> None:
    """A SHOP row ends the SHOP track; Individual stays certified."""
    reg = FLOW.apply(FLOW.apply(both_registered(), listing()), ended(Marketplaces.SHOP))
    assert (reg.individual, reg.shop) == (IS.CERTIFIED, SS.TERMINATED)
    assert reg.status is Status.ACTION_NEEDED
    assert reg.individual_termination is None and reg.shop_termination is not None


def test_a_both_termination_ends_every_track_taken() -> None:
    """A BOTH row ends both tracks; a BOTH reinstatement lifts both."""
    reg = FLOW.apply(FLOW.apply(both_registered(), listing()), ended(Marketplaces.BOTH))
    assert (reg.individual, reg.shop) == (IS.TERMINATED, SS.TERMINATED)
    assert reg.status is Status.TERMINATED
    reg = FLOW.apply(reg, ended(Marketplaces.BOTH, day=12, cls=ev.Reinstate))
    assert (reg.individual, reg.shop) == (IS.REINSTATED, SS.REINSTATED)
    assert reg.status is Status.REGISTERED


def test_a_both_termination_of_an_individual_only_agent_ends_individual() -> None:
    """BOTH for an agent without SHOP ends the one track taken."""
    reg = FLOW.apply(registered(FLOW), ended(Marketplaces.BOTH))
    assert (reg.individual, reg.shop) == (IS.TERMINATED, SS.NOT_TAKEN)
    assert reg.status is Status.TERMINATED


def test_a_shop_termination_of_an_agent_without_shop_is_refused() -> None:
    """A SHOP row for an agent who never took SHOP has nothing to end."""
    decision = FLOW.check(registered(FLOW), ended(Marketplaces.SHOP))
    assert [r.code for r in decision.refusals] == ["state.not_allowed"]
    assert decision.refusals[0].params["state"] == "shop.not_taken"


def test_an_individual_reinstatement_lifts_individual_only() -> None:
    """An INDIVIDUAL R row lifts the Individual termination, not SHOP's."""
    reg = FLOW.apply(FLOW.apply(both_registered(), listing()), ended(Marketplaces.BOTH))
    reg = FLOW.apply(reg, ended(Marketplaces.INDIVIDUAL, day=12, cls=ev.Reinstate))
    assert (reg.individual, reg.shop) == (IS.REINSTATED, SS.TERMINATED)


# -- status and validity ------------------------------------------------------------


def test_status_sums_up_both_tracks() -> None:
    """in_progress, registered, certified, action_needed, training_complete."""
    assert returning_agent(FLOW).status is Status.IN_PROGRESS
    assert registered(FLOW).status is Status.REGISTERED
    half = registered(FLOW, agent_profile(shop=True))
    assert half.status is Status.REGISTERED  # both tracks registered
    flagged = FLOW.apply(both_registered(), listing(valid=False, individual=False))
    assert (flagged.individual, flagged.shop) == (IS.REGISTERED, SS.NPN_INVALID)
    assert flagged.status is Status.ACTION_NEEDED
    nab = finish_training(FLOW, in_training(FLOW, new_agent(FLOW), non_agent_profile()))
    assert nab.status is Status.TRAINING_COMPLETE and nab.shop is SS.NOT_TAKEN


def test_certified_on_holds_from_completion_to_the_end_date() -> None:
    """A certified track is valid from its completion date to its RCL end date."""
    reg = FLOW.apply(both_registered(), listing())
    assert not reg.certified_on(dt.date(2023, 10, 2))
    assert reg.certified_on(dt.date(2023, 10, 3))
    assert reg.certified_on(dt.date(2024, 10, 31), Track.SHOP)
    assert not reg.certified_on(dt.date(2024, 11, 1))
    assert not reg.certified_on(dt.date(2024, 11, 1), Track.SHOP)


def test_certified_on_without_an_end_date_holds_to_the_plan_years_end() -> None:
    """A listing that gave no end date holds through December 31 of the plan year."""
    reg = FLOW.apply(
        registered(FLOW),
        ev.ObserveRclListing(event_id=eid(), at=at(5), npn_valid=NpnValidity.VALID),
    )
    assert reg.certified_on(dt.date(2024, 12, 31))
    assert not reg.certified_on(dt.date(2025, 1, 1))
    assert not registered(FLOW).certified_on(dt.date(2023, 12, 1))


def test_the_not_an_agent_broker_path_still_ends_in_training() -> None:
    """Training only, no NPN, no agreements, never on the lists."""
    reg = finish_training(FLOW, in_training(FLOW, new_agent(FLOW), non_agent_profile()))
    assert reg.individual is IS.TRAINING_COMPLETE
    assert FLOW.available(reg) == (ev.EraseContactDetails,)
    assert FLOW.check(reg, listing(shop=False)).allowed is False


# -- snapshots of regflow 0.1 --------------------------------------------------------


def v1_snapshots() -> dict[str, dict[str, object]]:
    """Snapshots written by regflow 0.1 (schema_version 1), committed as a fixture."""
    data: dict[str, dict[str, object]] = json.loads(
        (FIXTURES / "v1_snapshots.json").read_text(encoding="utf-8")
    )
    return data


@pytest.mark.parametrize(
    ("name", "individual", "shop"),
    [
        ("certified_with_shop", IS.CERTIFIED, SS.LISTED),
        ("terminated", IS.TERMINATED, SS.NOT_TAKEN),
        ("not_an_agent_broker", IS.TRAINING_COMPLETE, SS.NOT_TAKEN),
        # regflow 0.1 held the Individual track back for a SHOP curriculum
        # taken without SHOP; read again under v2's rules it moves on.
        ("shop_curriculum_without_shop", IS.AGREEMENTS_PENDING, SS.NOT_TAKEN),
    ],
)
def test_a_v1_snapshot_loads_into_the_two_tracks(
    name: str, individual: IndividualState, shop: ShopState
) -> None:
    """Each committed schema-1 snapshot loads through the migration into v2."""
    data = v1_snapshots()[name]
    assert data["schema_version"] == 1 and "state" in data
    reg = regflow.loads(json.dumps(data))
    assert (reg.individual, reg.shop) == (individual, shop)
    assert reg.version == data["version"] == len(data["history"])  # type: ignore[arg-type]
    assert regflow.loads(regflow.dumps(reg)) == reg
    assert json.loads(regflow.dumps(reg))["schema_version"] == regflow.SCHEMA_VERSION


def test_a_v1_snapshot_whose_fields_deny_its_history_is_refused() -> None:
    """A schema-1 snapshot must agree with its own history on who and when."""
    data = v1_snapshots()["terminated"]
    data["agent_id"] = "someone-else"
    with pytest.raises(regflow.SerializationError, match="says agent_id"):
        regflow.loads(json.dumps(data))


def test_a_v1_snapshot_with_a_history_gap_is_refused() -> None:
    """A schema-1 history must be numbered 1, 2, 3..."""
    data = v1_snapshots()["terminated"]
    history = data["history"]
    assert isinstance(history, list)
    history[1]["seq"] = 7
    with pytest.raises(regflow.SerializationError, match="has a gap"):
        regflow.loads(json.dumps(data))


def test_a_v1_shop_vendor_launch_cannot_be_read_and_says_so() -> None:
    """A SHOP curriculum launched at a vendor (v2 sends SHOP to MLMS) is refused
    by name rather than read wrongly."""
    data = v1_snapshots()["certified_with_shop"]
    history = data["history"]
    assert isinstance(history, list)
    launch = next(h for h in history if h["event"]["type"] == "launch_vendor_training")
    launch["event"]["curriculum"] = "shop"
    with pytest.raises(regflow.SerializationError, match="cannot be read as version 2"):
        regflow.loads(json.dumps(data))


def test_a_shop_agreement_accepted_first_is_dated_for_its_track() -> None:
    """Each track keeps the time its own last agreement was accepted."""
    reg = in_training(FLOW, new_agent(FLOW), agent_profile(shop=True))
    reg = FLOW.apply(
        reg, ev.AcceptAgreement(event_id=eid(), at=at(2, 15), agreement=SHOP_AGREEMENT)
    )
    assert reg.shop_registered_at == at(2, 15) and reg.individual_registered_at is None
    assert regflow.deadlines(reg, FLOW.rules) is None
    shop_due = regflow.deadlines(reg, FLOW.rules, Track.SHOP)
    assert shop_due is not None and shop_due.tracker is None
    assert shop_due.rcl == dt.date(2023, 10, 4)
