"""Step two: training in MLMS or at an HHS-approved vendor (S1, S10-S15).

Returning and Individual Marketplace training belong to the Individual
track; the optional SHOP curriculum to the SHOP track, so that neither waits
for the other. Vendors are reached only through the portal's launch (S13).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any, Final

import attrs

from .. import _events as ev
from .._records import Completion, Curriculum, TrainingProvider, VendorLaunch
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

__all__ = [
    "COMPLETE_MLMS_TRAINING",
    "COMPLETE_VENDOR_TRAINING",
    "ENROLL_CURRICULUM",
    "LAUNCH_VENDOR_TRAINING",
    "PORTAL_LOGIN",
    "training_done",
    "training_only_done",
]

IS, SS = IndividualState, ShopState
_MLMS: Final = TrainingProvider()
_PROBE: Final = "regflow-probe"
_NONE: Final[frozenset[Track]] = frozenset()
_INDIVIDUAL: Final = frozenset({Track.INDIVIDUAL})
_SHOP: Final = frozenset({Track.SHOP})


def _curriculum_tracks(
    reg: Registration, event: Any, rules: PlanYearRules
) -> frozenset[Track]:
    # The SHOP curriculum is the SHOP track's; taken without SHOP in the
    # profile it moves no track (a guard refuses it; an old history replays).
    if event.curriculum is not rules.shop_curriculum:
        return _INDIVIDUAL
    return _SHOP if reg.takes_shop else _NONE


def training_done(reg: Registration, event: object, rules: PlanYearRules) -> bool:
    """The Individual track's training is complete (after the event's effect)."""
    return reg.training_complete


def training_only_done(reg: Registration, event: object, rules: PlanYearRules) -> bool:
    """Training is complete for the Not an Agent Broker role, which ends there."""
    return reg.training_complete and not reg.is_agent


# -- enrolling ----------------------------------------------------------------


@guard(
    "S1",
    {
        "S1.not_returning": {
            "en": (
                "The Returning Agent/Broker training is only for agents who completed "
                "the {previous_year} Individual Marketplace registration and training; "
                "take the full Individual Marketplace training."
            ),
            "es": (
                "La Capacitación para agentes y corredores que regresan es solo para "
                "quienes completaron el registro y la capacitación del Mercado "
                "Individual de {previous_year}; haga la capacitación completa del "
                "Mercado Individual."
            ),
        }
    },
)
def returning_eligible(
    reg: Registration, event: ev.EnrollCurriculum, rules: PlanYearRules
) -> Refusals:
    """S1: only an agent who completed the previous year may take Returning."""
    if event.curriculum is rules.returning_curriculum and not rules.is_returning(
        reg.prior_year
    ):
        return refuse("S1.not_returning", previous_year=rules.previous_year)
    return OK


@guard(
    "S12",
    {
        "S12.already_enrolled": {
            "en": "You are already enrolled in the {curriculum} curriculum.",
            "es": "Ya está inscrito en: {curriculum}.",
        },
        "S12.curriculum_not_offered": {
            "en": "The {curriculum} curriculum cannot be added for plan year {plan_year}.",
            "es": (
                "{curriculum} no se ofrece como adicional para el año del plan "
                "{plan_year}."
            ),
        },
    },
)
def curriculum_open(
    reg: Registration, event: ev.EnrollCurriculum, rules: PlanYearRules
) -> Refusals:
    """S11, S12: an added curriculum is offered and not already enrolled."""
    curriculum = event.curriculum
    if curriculum in reg.enrollments:
        return refuse("S12.already_enrolled", curriculum=curriculum.value)
    if (
        curriculum not in rules.optional_curricula
        and curriculum is not rules.returning_curriculum
    ):
        return refuse(
            "S12.curriculum_not_offered",
            curriculum=curriculum.value,
            plan_year=rules.plan_year,
        )
    return OK


@guard(
    "S12",
    {
        "S12.shop_not_chosen": {
            "en": (
                "The SHOP curriculum is for agents taking part in SHOP; choose SHOP "
                "in the MLMS profile first."
            ),
            "es": (
                "El plan de estudios de SHOP es para agentes que participan en SHOP; "
                "elija SHOP primero en el perfil de MLMS."
            ),
        }
    },
)
def shop_chosen(reg: Registration, event: Any, rules: PlanYearRules) -> Refusals:
    """S12: the SHOP curriculum is the SHOP track's, which the profile opens."""
    if event.curriculum is rules.shop_curriculum and not reg.takes_shop:
        return refuse("S12.shop_not_chosen")
    return OK


def _enroll(
    reg: Registration, event: ev.EnrollCurriculum, rules: PlanYearRules
) -> Changes:
    return {"enrollments": (*reg.enrollments, event.curriculum)}


def _addable(
    reg: Registration, rules: PlanYearRules, at: dt.datetime
) -> Sequence[Values]:
    found = [{"curriculum": c} for c in Curriculum if c not in reg.enrollments]
    return found or [{"curriculum": rules.full_curriculum}]


ENROLL_CURRICULUM: EventSpec[ev.EnrollCurriculum] = EventSpec(
    type=ev.EnrollCurriculum,
    actor=Actor.AGENT,
    label={
        "en": "Enrolling in a curriculum",
        "es": "Inscribirse en un plan de estudios",
    },
    steps=(
        Step(Track.INDIVIDUAL, (IS.TRAINING,)),
        Step(Track.INDIVIDUAL, (IS.AGREEMENTS_PENDING,), IS.TRAINING),
        Step(Track.SHOP, (SS.AGREEMENT_PENDING,), SS.TRAINING),
    ),
    guards=(returning_eligible, curriculum_open, shop_chosen),
    effect=_enroll,
    tracks=_curriculum_tracks,
    choices=_addable,
)

# -- completing in MLMS ------------------------------------------------------


@guard(
    "S12",
    {
        "S12.not_enrolled": {
            "en": "Enroll in the {curriculum} curriculum before completing it.",
            "es": "Inscríbase en {curriculum} antes de completarlo.",
        },
        "S12.already_completed": {
            "en": "The {curriculum} curriculum is already completed.",
            "es": "Ya completó: {curriculum}.",
        },
    },
)
def curriculum_to_complete(
    reg: Registration, event: Any, rules: PlanYearRules
) -> Refusals:
    """S12: the curriculum is enrolled and not completed yet."""
    curriculum = event.curriculum
    if curriculum not in reg.enrollments:
        return refuse("S12.not_enrolled", curriculum=curriculum.value)
    if curriculum in reg.completed_curricula:
        return refuse("S12.already_completed", curriculum=curriculum.value)
    return OK


def _complete_mlms(
    reg: Registration, event: ev.CompleteMlmsTraining, rules: PlanYearRules
) -> Changes:
    done = Completion(curriculum=event.curriculum, provider=_MLMS, at=event.at)
    return {"completions": (*reg.completions, done)}


def _to_complete(
    reg: Registration, rules: PlanYearRules, at: dt.datetime
) -> Sequence[Values]:
    done = reg.completed_curricula
    found = [{"curriculum": c} for c in reg.enrollments if c not in done]
    return found or [{"curriculum": reg.enrollments[0]}]


COMPLETE_MLMS_TRAINING: EventSpec[ev.CompleteMlmsTraining] = EventSpec(
    type=ev.CompleteMlmsTraining,
    actor=Actor.AGENT,
    label={
        "en": "Completing MLMS training",
        "es": "Completar la capacitación de MLMS",
    },
    steps=(
        Step(
            Track.INDIVIDUAL, (IS.TRAINING,), IS.TRAINING_COMPLETE, training_only_done
        ),
        Step(Track.INDIVIDUAL, (IS.TRAINING,), IS.AGREEMENTS_PENDING, training_done),
        Step(Track.INDIVIDUAL, (IS.TRAINING,)),
        Step(Track.SHOP, (SS.TRAINING,), SS.AGREEMENT_PENDING),
    ),
    guards=(shop_chosen, curriculum_to_complete),
    effect=_complete_mlms,
    tracks=_curriculum_tracks,
    choices=_to_complete,
)

# -- at a vendor ---------------------------------------------------------------


@guard(
    "S10",
    {
        "S10.vendor_not_approved": {
            "en": (
                "{vendor} is not an HHS-approved training vendor for plan year "
                "{plan_year}; approved: {approved}."
            ),
            "es": (
                "{vendor} no es un vendedor de capacitación aprobado por el HHS para "
                "el año del plan {plan_year}; aprobados: {approved}."
            ),
        },
        "S10.curriculum_not_at_vendor": {
            "en": (
                "HHS-approved vendors teach the Individual Marketplace trainings; take "
                "the {curriculum} curriculum in MLMS."
            ),
            "es": (
                "Los vendedores aprobados por el HHS imparten las capacitaciones del "
                "Mercado Individual; haga {curriculum} en MLMS."
            ),
        },
    },
)
def vendor_approved(
    reg: Registration, event: ev.LaunchVendorTraining, rules: PlanYearRules
) -> Refusals:
    """S10: the vendor is HHS-approved for the plan year, and teaches the curriculum."""
    found: Refusals = OK
    if event.vendor not in rules.approved_vendors:
        found += refuse(
            "S10.vendor_not_approved",
            vendor=event.vendor,
            plan_year=rules.plan_year,
            approved=", ".join(rules.approved_vendors),
        )
    if event.curriculum not in rules.vendor_curricula:
        found += refuse(
            "S10.curriculum_not_at_vendor", curriculum=event.curriculum.value
        )
    return found


@guard(
    "S13",
    {
        "S13.launch_expiry_invalid": {
            "en": (
                "A vendor launch must expire after it is issued (issued {at}, expires "
                "{expires_at})."
            ),
            "es": (
                "El acceso al vendedor debe vencer después de emitirse (emitido {at}, "
                "vence {expires_at})."
            ),
        },
        "S13.launch_expiry_too_far": {
            "en": (
                "A vendor launch may stay valid for at most {days} days; this one "
                "expires at {expires_at}."
            ),
            "es": (
                "Un acceso al vendedor puede valer como máximo {days} días; este vence "
                "el {expires_at}."
            ),
        },
    },
)
def launch_expires_later(
    reg: Registration, event: ev.LaunchVendorTraining, rules: PlanYearRules
) -> Refusals:
    """S13: a launch the portal issues is valid when issued, for a bounded time."""
    if event.expires_at <= event.at:
        return refuse(
            "S13.launch_expiry_invalid",
            at=event.at.isoformat(),
            expires_at=event.expires_at.isoformat(),
        )
    if event.expires_at - event.at > rules.launch_lifetime:
        return refuse(
            "S13.launch_expiry_too_far",
            days=rules.launch_lifetime.days,
            expires_at=event.expires_at.isoformat(),
        )
    return OK


def _launch(
    reg: Registration, event: ev.LaunchVendorTraining, rules: PlanYearRules
) -> Changes:
    launch = VendorLaunch(
        launch_id=event.launch_id,
        vendor=event.vendor,
        curriculum=event.curriculum,
        issued_at=event.at,
        expires_at=event.expires_at,
    )
    return {"launch": launch}


def _launchable(
    reg: Registration, rules: PlanYearRules, at: dt.datetime
) -> Sequence[Values]:
    done = reg.completed_curricula
    curricula = [
        c
        for c in reg.individual_curricula
        if c not in done and c in rules.vendor_curricula
    ] or list(reg.enrollments[:1])
    return [
        {"vendor": vendor, "curriculum": curriculum}
        for vendor in rules.approved_vendors
        for curriculum in curricula
    ]


def _a_launch(reg: Registration, rules: PlanYearRules, at: dt.datetime) -> Values:
    return {"launch_id": _PROBE, "expires_at": at + rules.launch_lifetime}


LAUNCH_VENDOR_TRAINING: EventSpec[ev.LaunchVendorTraining] = EventSpec(
    type=ev.LaunchVendorTraining,
    actor=Actor.AGENT,
    label={
        "en": "Launching vendor training",
        "es": "Acceder a la capacitación del vendedor",
    },
    steps=(Step(Track.INDIVIDUAL, (IS.TRAINING,), IS.VENDOR_TRAINING),),
    guards=(vendor_approved, curriculum_to_complete, launch_expires_later),
    effect=_launch,
    choices=_launchable,
    filled=_a_launch,
    filled_by={"launch_id": Actor.PORTAL, "expires_at": Actor.PORTAL},
)


@guard(
    "S13",
    {
        "S13.no_launch": {
            "en": (
                "Vendor training is reached only through the CMS Enterprise Portal's "
                "Access Training link; the portal issued no launch for {vendor}."
            ),
            "es": (
                "A la capacitación del vendedor solo se llega con el vínculo Access "
                "Training del Portal de Empresas de los CMS; el portal no emitió acceso "
                "para {vendor}."
            ),
        },
        "S13.launch_mismatch": {
            "en": (
                "The vendor completion's {field} ({given}) does not match the launch "
                "the portal issued ({expected})."
            ),
            "es": (
                "El dato {field} de la finalización del vendedor ({given}) no coincide "
                "con el acceso emitido por el portal ({expected})."
            ),
        },
        "S13.launch_used": {
            "en": (
                "The vendor launch {launch_id} was already used; start again from the "
                "portal."
            ),
            "es": (
                "El acceso al vendedor {launch_id} ya se usó; vuelva a empezar desde el "
                "portal."
            ),
        },
        "S13.launch_expired": {
            "en": (
                "The vendor launch expired at {expires_at}; start the training again "
                "from the portal."
            ),
            "es": (
                "El acceso al vendedor venció el {expires_at}; vuelva a empezar la "
                "capacitación desde el portal."
            ),
        },
        "S13.completed_before_launch": {
            "en": (
                "The vendor completion is dated {at}, before the portal issued the "
                "launch ({issued_at})."
            ),
            "es": (
                "La finalización del vendedor tiene fecha {at}, anterior al acceso "
                "emitido por el portal ({issued_at})."
            ),
        },
    },
)
def launch_presented(
    reg: Registration, event: ev.CompleteVendorTraining, rules: PlanYearRules
) -> Refusals:
    """S13, S14: a vendor completion presents the portal's launch, unexpired, unused."""
    launch = reg.launch
    if launch is None:
        return refuse("S13.no_launch", vendor=event.vendor)
    found: Refusals = OK
    for field, given, expected in (
        ("launch_id", event.launch_id, launch.launch_id),
        ("vendor", event.vendor, launch.vendor),
        ("agent_id", event.agent_id, reg.agent_id),
        ("plan_year", str(event.plan_year), str(reg.plan_year)),
    ):
        if given != expected:
            found += refuse(
                "S13.launch_mismatch", field=field, given=given, expected=expected
            )
    if launch.used:
        found += refuse("S13.launch_used", launch_id=launch.launch_id)
    if event.at > launch.expires_at:
        found += refuse("S13.launch_expired", expires_at=launch.expires_at.isoformat())
    if event.at < launch.issued_at:
        found += refuse(
            "S13.completed_before_launch",
            at=event.at.isoformat(),
            issued_at=launch.issued_at.isoformat(),
        )
    return found


def _complete_vendor(
    reg: Registration, event: ev.CompleteVendorTraining, rules: PlanYearRules
) -> Changes:
    launch = reg.launch
    assert launch is not None  # the S13 guard saw to it when the event was accepted
    done = Completion(
        curriculum=launch.curriculum,
        provider=TrainingProvider(launch.vendor),
        at=event.at,
    )
    return {
        "completions": (*reg.completions, done),
        "launch": attrs.evolve(launch, used=True),
    }


def _the_launch(reg: Registration, rules: PlanYearRules, at: dt.datetime) -> Values:
    # What the vendor's callback would present: the launch the portal issued.
    launch = reg.launch
    return {
        "vendor": launch.vendor if launch else rules.approved_vendors[0],
        "launch_id": launch.launch_id if launch else _PROBE,
        "agent_id": reg.agent_id,
        "plan_year": reg.plan_year,
    }


COMPLETE_VENDOR_TRAINING: EventSpec[ev.CompleteVendorTraining] = EventSpec(
    type=ev.CompleteVendorTraining,
    actor=Actor.PORTAL,
    label={
        "en": "Completing vendor training",
        "es": "Completar la capacitación del vendedor",
    },
    steps=(Step(Track.INDIVIDUAL, (IS.VENDOR_TRAINING,), IS.VENDOR_COMPLETED),),
    guards=(launch_presented,),
    effect=_complete_vendor,
    filled=_the_launch,
)

PORTAL_LOGIN: EventSpec[ev.PortalLogin] = EventSpec(
    type=ev.PortalLogin,
    actor=Actor.AGENT,
    label={
        "en": "Logging in after vendor training",
        "es": "Iniciar sesión después de la capacitación del vendedor",
    },
    steps=(
        Step(
            Track.INDIVIDUAL,
            (IS.VENDOR_COMPLETED,),
            IS.TRAINING_COMPLETE,
            training_only_done,
        ),
        Step(
            Track.INDIVIDUAL,
            (IS.VENDOR_COMPLETED,),
            IS.AGREEMENTS_PENDING,
            training_done,
        ),
        Step(Track.INDIVIDUAL, (IS.VENDOR_COMPLETED,), IS.TRAINING),
    ),
    effect=no_change,
)
