"""Step four: the public confirmations after the agreements (S18-S22), and
what CMS's lists say of each track: listings, terminations, reinstatements.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any, Final

from .. import _events as ev
from .._calendar import add_business_days, cms_date
from .._records import (
    Confirmation,
    ConfirmationRecord,
    NpnValidity,
    RclListing,
    TerminationReason,
    TerminationRecord,
)
from .._registration import Registration
from .._rules import PlanYearRules
from .._states import Actor, IndividualState, ShopState, Track
from ._common import (
    INDIVIDUAL_ON_LISTS,
    SHOP_ON_LISTS,
    missing_agreements,
    on_lists,
    registered_at,
)
from ._spec import (
    OK,
    Changes,
    EventSpec,
    Refusals,
    Step,
    Values,
    guard,
    no_change,
    refuse,
)

__all__ = [
    "CONFIRM_TRACKER",
    "CONTACT_HELP_DESK",
    "OBSERVE_FIND_LOCAL_HELP",
    "OBSERVE_RCL_LISTING",
    "REINSTATE",
    "TERMINATE",
]

IS, SS = IndividualState, ShopState
_INDIVIDUAL: Final = frozenset({Track.INDIVIDUAL})
_SHOP: Final = frozenset({Track.SHOP})
_BOTH: Final = frozenset(Track)


@guard(
    "S18",
    {
        "S18.agreements_pending": {
            "en": (
                "Accept every applicable agreement first; still to accept: "
                "{agreements}."
            ),
            "es": (
                "Primero acepte todos los Convenios que correspondan; falta aceptar: "
                "{agreements}."
            ),
        }
    },
)
def agreements_done(reg: Registration, event: Any, rules: PlanYearRules) -> Refusals:
    """S18: the public lists reflect a track only after its agreements."""
    if not reg.is_agent:
        return OK  # a role that signs nothing is refused by its state instead
    found: Refusals = OK
    for track in Track:
        if track in _tracks_of(reg, event, rules) and registered_at(reg, track) is None:
            found += refuse(
                "S18.agreements_pending",
                agreements=missing_agreements(reg, rules, track),
            )
    return found


def _tracks_of(reg: Registration, event: Any, rules: PlanYearRules) -> frozenset[Track]:
    if isinstance(event, ev.ObserveRclListing):
        return _listed_tracks(reg, event, rules)
    return _INDIVIDUAL


def _confirming(kind: Confirmation) -> Any:
    def effect(reg: Registration, event: ev.Event, rules: PlanYearRules) -> Changes:
        if any(c.kind is kind for c in reg.confirmations):
            return {}  # the first sighting is the one deadlines are checked against
        record = ConfirmationRecord(kind=kind, at=event.at)
        return {"confirmations": (*reg.confirmations, record)}

    return effect


CONFIRM_TRACKER: EventSpec[ev.ConfirmTracker] = EventSpec(
    type=ev.ConfirmTracker,
    actor=Actor.AGENT,
    label={
        "en": "Confirming on the Registration Tracker",
        "es": "Confirmar en el Rastreador de registro",
    },
    steps=(Step(Track.INDIVIDUAL, INDIVIDUAL_ON_LISTS),),
    guards=(agreements_done,),
    effect=_confirming(Confirmation.TRACKER),
)


@guard(
    "S21",
    {
        "S21.find_local_help_not_chosen": {
            "en": "The profile did not opt in to Find Local Help.",
            "es": "El perfil no eligió aparecer en Find Local Help.",
        }
    },
)
def opted_in_find_local_help(
    reg: Registration, event: object, rules: PlanYearRules
) -> Refusals:
    """S21: only an agent who chose Find Local Help is expected there."""
    if reg.profile.find_local_help:
        return OK
    return refuse("S21.find_local_help_not_chosen")


OBSERVE_FIND_LOCAL_HELP: EventSpec[ev.ObserveFindLocalHelp] = EventSpec(
    type=ev.ObserveFindLocalHelp,
    actor=Actor.AGENT,
    label={
        "en": "Confirming the Find Local Help listing",
        "es": "Confirmar la aparición en Find Local Help",
    },
    steps=(Step(Track.INDIVIDUAL, INDIVIDUAL_ON_LISTS),),
    guards=(agreements_done, opted_in_find_local_help),
    effect=_confirming(Confirmation.FIND_LOCAL_HELP),
)

# -- the RCL ---------------------------------------------------------------------


def _listed_tracks(
    reg: Registration, event: ev.ObserveRclListing, rules: PlanYearRules
) -> frozenset[Track]:
    # A row lists each track apart. A row with no date at all (as regflow
    # 0.1 recorded them) is the Individual track's.
    shop = event.shop_completion is not None
    if event.individual_completion is not None or not shop:
        return _BOTH if shop else _INDIVIDUAL
    return _SHOP


@guard(
    "S20",
    {
        "S20.validity_not_current": {
            "en": (
                "An RCL row with NPN Valid '-' belongs to an earlier plan year; "
                "plan year {plan_year} is not one before it begins."
            ),
            "es": (
                "Una fila de la RCL con NPN Valid '-' es de un año del plan anterior; "
                "el año del plan {plan_year} no lo es antes de empezar."
            ),
        }
    },
)
def current_validity(
    reg: Registration, event: ev.ObserveRclListing, rules: PlanYearRules
) -> Refusals:
    """S20: a '-' validity belongs to earlier plan years, never the current one.

    An earlier year's '-' certifies it (see ``NpnValidity.certifies``); only a
    '-' dated before its plan year begins, when it can be no earlier one, is
    refused.
    """
    flag = event.npn_valid
    if flag is NpnValidity.NOT_APPLICABLE and not flag.certifies(
        reg.plan_year, cms_date(event.at)
    ):
        return refuse("S20.validity_not_current", plan_year=reg.plan_year)
    return OK


_confirm_rcl = _confirming(Confirmation.RCL)


def _listed(
    reg: Registration, event: ev.ObserveRclListing, rules: PlanYearRules
) -> Changes:
    changes: Changes = _confirm_rcl(reg, event, rules)
    tracks = _listed_tracks(reg, event, rules)
    if Track.INDIVIDUAL in tracks:
        changes["individual_listing"] = RclListing(
            npn_valid=event.npn_valid,
            completed_on=event.individual_completion,
            ends_on=event.individual_end,
            at=event.at,
        )
    if Track.SHOP in tracks:
        changes["shop_listing"] = RclListing(
            npn_valid=event.npn_valid,
            completed_on=event.shop_completion,
            ends_on=event.shop_end,
            at=event.at,
        )
    return changes


def npn_valid(
    reg: Registration, event: ev.ObserveRclListing, rules: PlanYearRules
) -> bool:
    """The listing certifies: NPN Valid Y, or '-' for an earlier plan year.

    The guard has refused a '-' that cannot be of an earlier year already.
    """
    return event.npn_valid is not NpnValidity.INVALID


def _listings(
    reg: Registration, rules: PlanYearRules, at: dt.datetime
) -> Sequence[Values]:
    # The row a list import would record now: NPN valid or not, with a date
    # for each track on the lists (the Individual one while none is yet).
    day = cms_date(at)
    shape: Values = {"individual_completion": day}
    if reg.takes_shop and on_lists(reg, Track.SHOP):
        if on_lists(reg, Track.INDIVIDUAL):
            shape = {"individual_completion": day, "shop_completion": day}
        else:
            shape = {"shop_completion": day}
    return [
        {"npn_valid": validity, **shape}
        for validity in (NpnValidity.VALID, NpnValidity.INVALID)
    ]


OBSERVE_RCL_LISTING: EventSpec[ev.ObserveRclListing] = EventSpec(
    type=ev.ObserveRclListing,
    actor=Actor.LISTS,
    label={"en": "Recording the RCL listing", "es": "Registrar la aparición en la RCL"},
    steps=(
        Step(Track.INDIVIDUAL, INDIVIDUAL_ON_LISTS, IS.CERTIFIED, npn_valid),
        Step(Track.INDIVIDUAL, INDIVIDUAL_ON_LISTS, IS.NPN_INVALID),
        Step(Track.SHOP, SHOP_ON_LISTS, SS.LISTED, npn_valid),
        Step(Track.SHOP, SHOP_ON_LISTS, SS.NPN_INVALID),
    ),
    guards=(agreements_done, current_validity),
    effect=_listed,
    tracks=_listed_tracks,
    choices=_listings,
)


@guard(
    "S22",
    {
        "S22.rcl_not_overdue": {
            "en": (
                "The RCL may take {days} business days; write to the help desk only "
                "if the NPN is still missing after {due}."
            ),
            "es": (
                "La RCL puede tardar {days} días laborables; escriba a la mesa de "
                "ayuda solo si el NPN sigue sin aparecer después del {due}."
            ),
        }
    },
)
def rcl_overdue(
    reg: Registration, event: ev.ContactHelpDesk, rules: PlanYearRules
) -> Refusals:
    """S20, S22: write to the help desk once the RCL window has passed."""
    registered = reg.individual_registered_at
    if registered is None:
        return OK  # agreements_done explains this one
    due = add_business_days(cms_date(registered), rules.rcl_days)
    if cms_date(event.at) <= due:
        return refuse("S22.rcl_not_overdue", days=rules.rcl_days, due=due.isoformat())
    return OK


CONTACT_HELP_DESK: EventSpec[ev.ContactHelpDesk] = EventSpec(
    type=ev.ContactHelpDesk,
    actor=Actor.AGENT,
    label={"en": "Writing to the help desk", "es": "Escribir a la mesa de ayuda"},
    steps=(Step(Track.INDIVIDUAL, (IS.REGISTERED, IS.ESCALATED), IS.ESCALATED),),
    guards=(agreements_done, rcl_overdue),
    effect=no_change,
)

# -- the termination list -------------------------------------------------------


def _covered(event: Any) -> tuple[Track, ...]:
    markets = event.marketplaces
    return tuple(
        track
        for track, covered in (
            (Track.INDIVIDUAL, markets.individual),
            (Track.SHOP, markets.shop),
        )
        if covered
    )


def _terminated_tracks(
    reg: Registration, event: ev.Terminate, rules: PlanYearRules
) -> frozenset[Track]:
    # Only a track on the lists (its agreements accepted) can be terminated; a
    # BOTH row ends every one of them. With none there, the state refusal
    # names the first track the row covers.
    covered = _covered(event)
    found = frozenset(t for t in covered if on_lists(reg, t))
    return found or frozenset(covered[:1])


def _reinstated_tracks(
    reg: Registration, event: ev.Reinstate, rules: PlanYearRules
) -> frozenset[Track]:
    covered = _covered(event)
    ended = {
        Track.INDIVIDUAL: reg.individual is IS.TERMINATED,
        Track.SHOP: reg.shop is SS.TERMINATED,
    }
    found = frozenset(t for t in covered if ended[t])
    return found or frozenset(covered[:1])


def _ended(terminated: bool) -> Any:
    def effect(reg: Registration, event: Any, rules: PlanYearRules) -> Changes:
        record = TerminationRecord(
            terminated=terminated, reason=event.reason, at=event.at
        )
        which = _terminated_tracks if terminated else _reinstated_tracks
        return {
            f"{track.value}_termination": record for track in which(reg, event, rules)
        }

    return effect


def _a_row(
    reg: Registration, rules: PlanYearRules, at: dt.datetime
) -> Sequence[Values]:
    return ({"reason": TerminationReason.NON_COMPLIANCE},)


TERMINATE: EventSpec[ev.Terminate] = EventSpec(
    type=ev.Terminate,
    actor=Actor.LISTS,
    label={"en": "Terminating", "es": "Terminar"},
    steps=(
        Step(Track.INDIVIDUAL, INDIVIDUAL_ON_LISTS, IS.TERMINATED),
        Step(Track.SHOP, SHOP_ON_LISTS, SS.TERMINATED),
    ),
    effect=_ended(True),
    tracks=_terminated_tracks,
    choices=_a_row,
)

REINSTATE: EventSpec[ev.Reinstate] = EventSpec(
    type=ev.Reinstate,
    actor=Actor.LISTS,
    label={"en": "Reinstating", "es": "Restablecer"},
    steps=(
        Step(Track.INDIVIDUAL, (IS.TERMINATED,), IS.REINSTATED),
        Step(Track.SHOP, (SS.TERMINATED,), SS.REINSTATED),
    ),
    effect=_ended(False),
    tracks=_reinstated_tracks,
    choices=_a_row,
)
