"""Step three: the agreements (S15, S16), and the certificate (S17).

The Individual agreements register the Individual track; the SHOP Privacy
and Security Agreement registers the SHOP track, which needs only its own
optional curriculum done, never the Individual training.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any, Final

from .. import _events as ev
from .._records import Agreement, AgreementDecision, Role
from .._registration import Registration
from .._rules import PlanYearRules
from .._states import Actor, IndividualState, ShopState, Track
from ._common import INDIVIDUAL_ON_LISTS, missing_curricula
from ._spec import OK, Changes, EventSpec, Refusals, Step, Values, guard, refuse

__all__ = ["ACCEPT_AGREEMENT", "DECLINE_AGREEMENT", "PRINT_CERTIFICATE"]

IS, SS = IndividualState, ShopState
_TRACKS: Final = {
    Track.INDIVIDUAL: frozenset({Track.INDIVIDUAL}),
    Track.SHOP: frozenset({Track.SHOP}),
}


def _agreement_tracks(
    reg: Registration, event: Any, rules: PlanYearRules
) -> frozenset[Track]:
    return _TRACKS[rules.agreement_track(event.agreement)]


def individual_registered(
    reg: Registration, event: object, rules: PlanYearRules
) -> bool:
    """Every Individual agreement is accepted (after the event's effect)."""
    return reg.individual_registered_at is not None


def shop_registered(reg: Registration, event: object, rules: PlanYearRules) -> bool:
    """The SHOP agreement is accepted (after the event's effect)."""
    return reg.shop_registered_at is not None


@guard(
    "S16",
    {
        "S16.profile_incomplete": {
            "en": "Complete the MLMS profile before the agreements.",
            "es": "Complete el perfil de MLMS antes de los Convenios.",
        },
        "S16.training_incomplete": {
            "en": "Complete the training before the agreements; still to do: {curricula}.",
            "es": "Complete la capacitación antes de los Convenios; falta: {curricula}.",
        },
    },
)
def ready_for_agreements(
    reg: Registration, event: Any, rules: PlanYearRules
) -> Refusals:
    """S16: the profile is complete and the agreement's track's training is done."""
    found: Refusals = OK
    if reg.individual is IS.PROFILE_INCOMPLETE:
        found += refuse("S16.profile_incomplete")
    track = rules.agreement_track(event.agreement)
    todo = missing_curricula(reg, track)
    if todo or (track is Track.INDIVIDUAL and not reg.individual_curricula):
        found += refuse(
            "S16.training_incomplete", curricula=tuple(c.value for c in todo)
        )
    return found


@guard(
    "S15",
    {
        "S15.portal_login_required": {
            "en": (
                "Log in to the CMS Enterprise Portal again after vendor training to "
                "finish registration."
            ),
            "es": (
                "Inicie sesión nuevamente en el Portal de Empresas de los CMS después "
                "de la capacitación del vendedor para completar el registro."
            ),
        }
    },
)
def back_in_portal(reg: Registration, event: object, rules: PlanYearRules) -> Refusals:
    """S15: after vendor training the agent logs in to the portal again."""
    if reg.individual is IS.VENDOR_COMPLETED:
        return refuse("S15.portal_login_required")
    return OK


@guard(
    "S16",
    {
        "S16.no_agreements_for_role": {
            "en": "The Not an Agent Broker role signs no Marketplace agreement.",
            "es": "El rol Not an Agent Broker no firma ningún Convenio con el Mercado.",
        },
        "S16.agreement_not_applicable": {
            "en": "The {agreement} does not apply to this profile.",
            "es": "El {agreement} no corresponde a este perfil.",
        },
    },
)
def agreement_applicable(
    reg: Registration, event: Any, rules: PlanYearRules
) -> Refusals:
    """S16: the agreement applies to this role and SHOP choice."""
    if reg.profile.role is Role.NOT_AN_AGENT_BROKER:
        return refuse("S16.no_agreements_for_role")
    if event.agreement not in rules.required_agreements(reg.profile):
        return refuse("S16.agreement_not_applicable", agreement=event.agreement.value)
    return OK


@guard(
    "S16",
    {
        "S16.already_accepted": {
            "en": "The {agreement} is already accepted.",
            "es": "El {agreement} ya está aceptado.",
        }
    },
)
def not_yet_accepted(
    reg: Registration, event: ev.AcceptAgreement, rules: PlanYearRules
) -> Refusals:
    """S16: each agreement is accepted once."""
    if event.agreement in reg.accepted_agreements:
        return refuse("S16.already_accepted", agreement=event.agreement.value)
    return OK


def _decide(
    reg: Registration, event: Any, accepted: bool
) -> tuple[AgreementDecision, ...]:
    decision = AgreementDecision(
        agreement=event.agreement, accepted=accepted, at=event.at
    )
    kept = tuple(d for d in reg.agreements if d.agreement is not event.agreement)
    return (*kept, decision)


def _accept(
    reg: Registration, event: ev.AcceptAgreement, rules: PlanYearRules
) -> Changes:
    agreements = _decide(reg, event, accepted=True)
    changes: Changes = {"agreements": agreements}
    accepted = {d.agreement for d in agreements if d.accepted}
    track = rules.agreement_track(event.agreement)
    field = "shop_registered_at" if track is Track.SHOP else "individual_registered_at"
    if getattr(reg, field) is None and accepted.issuperset(
        rules.required_agreements(reg.profile, track)
    ):
        changes[field] = event.at
    return changes


def _decline(
    reg: Registration, event: ev.DeclineAgreement, rules: PlanYearRules
) -> Changes:
    return {"agreements": _decide(reg, event, accepted=False)}


def _to_accept(
    reg: Registration, rules: PlanYearRules, at: dt.datetime
) -> Sequence[Values]:
    accepted = reg.accepted_agreements
    found = [
        {"agreement": a}
        for a in rules.required_agreements(reg.profile)
        if a not in accepted
    ]
    return found or [{"agreement": _first_agreement(reg, rules)}]


def _to_decline(
    reg: Registration, rules: PlanYearRules, at: dt.datetime
) -> Sequence[Values]:
    found = [{"agreement": a} for a in rules.required_agreements(reg.profile)]
    return found or [{"agreement": _first_agreement(reg, rules)}]


def _first_agreement(reg: Registration, rules: PlanYearRules) -> Agreement:
    return (rules.required_agreements(reg.profile) or rules.individual_agreements)[0]


_AGREEMENT_GATES = (ready_for_agreements, back_in_portal, agreement_applicable)

ACCEPT_AGREEMENT: EventSpec[ev.AcceptAgreement] = EventSpec(
    type=ev.AcceptAgreement,
    actor=Actor.AGENT,
    label={"en": "Accepting an agreement", "es": "Aceptar un Convenio"},
    steps=(
        Step(
            Track.INDIVIDUAL,
            (IS.AGREEMENTS_PENDING,),
            IS.REGISTERED,
            individual_registered,
        ),
        Step(Track.INDIVIDUAL, (IS.AGREEMENTS_PENDING,)),
        Step(Track.SHOP, (SS.AGREEMENT_PENDING,), SS.REGISTERED, shop_registered),
        Step(Track.SHOP, (SS.AGREEMENT_PENDING,)),
    ),
    guards=(*_AGREEMENT_GATES, not_yet_accepted),
    effect=_accept,
    tracks=_agreement_tracks,
    choices=_to_accept,
)

DECLINE_AGREEMENT: EventSpec[ev.DeclineAgreement] = EventSpec(
    type=ev.DeclineAgreement,
    actor=Actor.AGENT,
    label={"en": "Declining an agreement", "es": "Rechazar un Convenio"},
    steps=(
        Step(Track.INDIVIDUAL, (IS.AGREEMENTS_PENDING,)),
        Step(Track.SHOP, (SS.AGREEMENT_PENDING,)),
    ),
    guards=_AGREEMENT_GATES,
    effect=_decline,
    tracks=_agreement_tracks,
    choices=_to_decline,
)


@guard(
    "S17",
    {
        "S17.registration_incomplete": {
            "en": (
                "The certificate can be printed only when every step is complete; "
                "still to do: {steps}."
            ),
            "es": (
                "Solo se puede imprimir el certificado cuando todos los pasos están "
                "completos; falta: {steps}."
            ),
        }
    },
)
def every_step_done(reg: Registration, event: object, rules: PlanYearRules) -> Refusals:
    """S17: the certificate is printable only when every step is complete."""
    if reg.individual_registered_at is not None:
        return OK
    steps: list[str] = []
    if reg.individual is IS.PROFILE_INCOMPLETE:
        steps.append("profile")
    if not reg.training_complete:
        steps.append("training")
    if reg.is_agent:
        steps.append("agreements")
    # Not an Agent Broker with training done: no step is missing; the state
    # refusal says there is no certificate on that path.
    return refuse("S17.registration_incomplete", steps=tuple(steps)) if steps else OK


def _printed(reg: Registration, event: object, rules: PlanYearRules) -> Changes:
    return {"certificate_printed": True}


PRINT_CERTIFICATE: EventSpec[ev.PrintCertificate] = EventSpec(
    type=ev.PrintCertificate,
    actor=Actor.AGENT,
    label={"en": "Printing the certificate", "es": "Imprimir el certificado"},
    steps=(Step(Track.INDIVIDUAL, INDIVIDUAL_ON_LISTS),),
    guards=(every_step_done,),
    effect=_printed,
)
