"""Step one: the MLMS profile (S4-S9). Its SHOP choice opens the SHOP track."""

from __future__ import annotations

import datetime as dt
from typing import Any

import attrs

from .. import _events as ev
from .._records import ERASED_CONTACT, Role
from .._registration import Registration
from .._rules import PlanYearRules
from .._states import Actor, IndividualState, ShopState, Track
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

__all__ = ["COMPLETE_PROFILE", "ERASE_CONTACT_DETAILS", "SAVE_PROFILE"]

IS, SS = IndividualState, ShopState


def _save(reg: Registration, event: ev.SaveProfile, rules: PlanYearRules) -> Changes:
    return {"profile": event.profile}


def _current_profile(
    reg: Registration, rules: PlanYearRules, at: dt.datetime
) -> Values:
    return {"profile": reg.profile}


SAVE_PROFILE: EventSpec[ev.SaveProfile] = EventSpec(
    type=ev.SaveProfile,
    actor=Actor.AGENT,
    label={"en": "Saving the profile", "es": "Guardar el perfil"},
    steps=(Step(Track.INDIVIDUAL, (IS.PROFILE_INCOMPLETE,)),),
    effect=_save,
    filled=_current_profile,
)


@guard(
    "S7",
    {
        "S7.profile_not_saved": {
            "en": "Select Save/Update on the MLMS profile before Next.",
            "es": (
                "Seleccione Save/Update (Guardar/Actualizar) en el perfil de MLMS "
                "antes de Next (Siguiente)."
            ),
        }
    },
)
def profile_saved(reg: Registration, event: Any, rules: PlanYearRules) -> Refusals:
    """S7: Save/Update comes before Next, even for a profile carried over."""
    return OK if reg.profile_saved else refuse("S7.profile_not_saved")


@guard(
    "S5",
    {
        "S5.role_required": {
            "en": "Choose a role: Marketplace Agent Broker or Not an Agent Broker.",
            "es": (
                "Elija un rol: Marketplace Agent Broker (Agente/corredor del Mercado) "
                "o Not an Agent Broker (No un agente/corredor)."
            ),
        },
        "S5.shop_not_for_role": {
            "en": (
                "The Not an Agent Broker role takes no part in SHOP; clear the SHOP "
                "choice or choose Marketplace Agent Broker."
            ),
            "es": (
                "El rol Not an Agent Broker no participa en SHOP; quite la opción de "
                "SHOP o elija Marketplace Agent Broker."
            ),
        },
    },
)
def role_chosen(reg: Registration, event: Any, rules: PlanYearRules) -> Refusals:
    """S5: exactly one of the two roles is chosen, and SHOP is an agent's."""
    profile = reg.profile
    if profile.role is None:
        return refuse("S5.role_required")
    if profile.role is Role.NOT_AN_AGENT_BROKER and profile.shop:
        return refuse("S5.shop_not_for_role")
    return OK


@guard(
    "S4",
    {
        "S4.contact_required": {
            "en": (
                "Enter your business or professional contact details; they feed Find "
                "Local Help and Help On Demand."
            ),
            "es": (
                "Escriba su información de contacto comercial o profesional; se usa "
                "en Find Local Help y Help On Demand."
            ),
        }
    },
)
def contact_entered(reg: Registration, event: Any, rules: PlanYearRules) -> Refusals:
    """S4, S6: an agent's contact details are entered; they feed Find Local Help."""
    profile = reg.profile
    if profile.role is Role.MARKETPLACE_AGENT_BROKER and profile.contact is None:
        return refuse("S4.contact_required")
    return OK


@guard(
    "S6",
    {
        "S6.zip_required": {
            "en": (
                "Enter a ZIP code so that Find Local Help can list you, or opt out of "
                "Find Local Help."
            ),
            "es": (
                "Escriba un código postal para que Find Local Help pueda mostrarlo, o "
                "no participe en Find Local Help."
            ),
        }
    },
)
def zip_for_find_local_help(
    reg: Registration, event: Any, rules: PlanYearRules
) -> Refusals:
    """S6: Find Local Help lists agents by place, so opting in needs a ZIP code."""
    profile = reg.profile
    if profile.find_local_help and (
        profile.contact is None or not profile.contact.zip_code
    ):
        return refuse("S6.zip_required")
    return OK


@guard(
    "S8",
    {
        "S8.npn_required": {
            "en": (
                "Enter your National Producer Number (NPN); every role except Not an "
                "Agent Broker needs it."
            ),
            "es": (
                "Escriba su Número de productor nacional (NPN); todos los roles "
                "excepto Not an Agent Broker lo necesitan."
            ),
        }
    },
)
def npn_entered(reg: Registration, event: Any, rules: PlanYearRules) -> Refusals:
    """S8: every role but Not an Agent Broker enters its NPN."""
    profile = reg.profile
    if profile.role is Role.MARKETPLACE_AGENT_BROKER and profile.npn is None:
        return refuse("S8.npn_required")
    return OK


@guard(
    "S9",
    {
        "S9.npn_reused": {
            "en": (
                "Your individual NPN {npn} is also entered as the {field}; NPNs are "
                "exclusive to individual, business and web-broker profiles."
            ),
            "es": (
                "Su NPN individual {npn} también figura como {field}; los NPN son "
                "exclusivos de los perfiles de individuos, negocios y entidades con "
                "base en la web."
            ),
        }
    },
)
def npn_exclusive(reg: Registration, event: Any, rules: PlanYearRules) -> Refusals:
    """S9: the individual NPN is not copied into the business or web-broker field."""
    profile = reg.profile
    npn = profile.npn
    if npn is None:
        return OK
    found: Refusals = OK
    if profile.business_npn == npn:
        found += refuse("S9.npn_reused", npn=npn.value, field="business_npn")
    if profile.web_broker_npn == npn:
        found += refuse("S9.npn_reused", npn=npn.value, field="web_broker_npn")
    return found


def takes_shop(reg: Registration, event: object, rules: PlanYearRules) -> bool:
    return reg.takes_shop


COMPLETE_PROFILE: EventSpec[ev.CompleteProfile] = EventSpec(
    type=ev.CompleteProfile,
    actor=Actor.AGENT,
    label={"en": "Completing the profile", "es": "Completar el perfil"},
    steps=(
        Step(Track.INDIVIDUAL, (IS.PROFILE_INCOMPLETE,), IS.TRAINING),
        Step(Track.SHOP, (SS.PROFILE_INCOMPLETE,), SS.AGREEMENT_PENDING, takes_shop),
        Step(Track.SHOP, (SS.PROFILE_INCOMPLETE,), SS.NOT_TAKEN),
    ),
    guards=(
        profile_saved,
        role_chosen,
        contact_entered,
        zip_for_find_local_help,
        npn_entered,
        npn_exclusive,
    ),
    effect=no_change,
)


def _erase(
    reg: Registration, event: ev.EraseContactDetails, rules: PlanYearRules
) -> Changes:
    profile = reg.profile
    if profile.contact is None or profile.contact == ERASED_CONTACT:
        return {}
    return {"profile": attrs.evolve(profile, contact=ERASED_CONTACT)}


ERASE_CONTACT_DETAILS: EventSpec[ev.EraseContactDetails] = EventSpec(
    type=ev.EraseContactDetails,
    actor=Actor.PORTAL,
    label={
        "en": "Erasing the contact details",
        "es": "Borrar los datos de contacto",
    },
    # Possible in every state of both tracks, and it moves neither.
    steps=(
        Step(Track.INDIVIDUAL, tuple(IndividualState)),
        Step(Track.SHOP, tuple(ShopState)),
    ),
    effect=_erase,
)
