"""Refusals and their texts: a stable code, parameters, and per-locale messages.

English and Spanish ship with regflow. A host application adds a locale with
:func:`register_locale` without editing regflow; codes it leaves out fall back
to another locale (English by default).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final

import attrs

from ._errors import InvalidValue

__all__ = ["Refusal", "locales", "register_locale"]

Param = str | int | tuple[str, ...]

# Parameters whose values are names of things, translated through the catalog
# under "<category>.<value>" so that Spanish messages do not embed English.
_LABELLED: Final = {
    "state": "state",
    "event": "event",
    "curriculum": "curriculum",
    "curricula": "curriculum",
    "agreement": "agreement",
    "agreements": "agreement",
    "steps": "step",
    "field": "field",
}

EN: Final[dict[str, str]] = {
    "state.not_allowed": "{event} is not possible in the current state: {state}.",
    "start.plan_year_mismatch": (
        "This workflow is for plan year {expected}; the registration is for {plan_year}."
    ),
    "start.prior_year_not_before": (
        "The last completed plan year ({prior_year}) must come before plan year "
        "{plan_year}."
    ),
    "time.outside_plan_year": (
        "Plan year {plan_year} takes events dated from {opens} to {closes}; this "
        "one is dated {at}."
    ),
    "time.before_start": (
        "This event is dated {at}, before the registration started ({started})."
    ),
    "S7.profile_not_saved": "Select Save/Update on the MLMS profile before Next.",
    "S5.role_required": (
        "Choose a role: Marketplace Agent Broker or Not an Agent Broker."
    ),
    "S4.contact_required": (
        "Enter your business or professional contact details; they feed Find "
        "Local Help and Help On Demand."
    ),
    "S6.zip_required": (
        "Enter a ZIP code so that Find Local Help can list you, or opt out of "
        "Find Local Help."
    ),
    "S8.npn_required": (
        "Enter your National Producer Number (NPN); every role except Not an "
        "Agent Broker needs it."
    ),
    "S9.npn_reused": (
        "Your individual NPN {npn} is also entered as the {field}; NPNs are "
        "exclusive to individual, business and web-broker profiles."
    ),
    "S1.not_returning": (
        "The Returning Agent/Broker training is only for agents who completed the "
        "{previous_year} Individual Marketplace registration and training; take "
        "the full Individual Marketplace training."
    ),
    "S12.curriculum_not_offered": (
        "The {curriculum} curriculum cannot be added for plan year {plan_year}."
    ),
    "S12.already_enrolled": "You are already enrolled in the {curriculum} curriculum.",
    "S12.not_enrolled": "Enroll in the {curriculum} curriculum before completing it.",
    "S12.already_completed": "The {curriculum} curriculum is already completed.",
    "S10.vendor_not_approved": (
        "{vendor} is not an HHS-approved training vendor for plan year "
        "{plan_year}; approved: {approved}."
    ),
    "S13.launch_expiry_invalid": (
        "A vendor launch must expire after it is issued (issued {at}, expires "
        "{expires_at})."
    ),
    "S13.launch_expiry_too_far": (
        "A vendor launch may stay valid for at most {days} days; this one expires "
        "at {expires_at}."
    ),
    "S13.completed_before_launch": (
        "The vendor completion is dated {at}, before the portal issued the launch "
        "({issued_at})."
    ),
    "S13.no_launch": (
        "Vendor training is reached only through the CMS Enterprise Portal's "
        "Access Training link; the portal issued no launch for {vendor}."
    ),
    "S13.launch_mismatch": (
        "The vendor completion's {field} ({given}) does not match the launch the "
        "portal issued ({expected})."
    ),
    "S13.launch_expired": (
        "The vendor launch expired at {expires_at}; start the training again from "
        "the portal."
    ),
    "S13.launch_used": (
        "The vendor launch {launch_id} was already used; start again from the portal."
    ),
    "S15.portal_login_required": (
        "Log in to the CMS Enterprise Portal again after vendor training to finish "
        "registration."
    ),
    "S16.profile_incomplete": "Complete the MLMS profile before the agreements.",
    "S16.training_incomplete": (
        "Complete the training before the agreements; still to do: {curricula}."
    ),
    "S16.no_agreements_for_role": (
        "The Not an Agent Broker role signs no Marketplace agreement."
    ),
    "S16.agreement_not_applicable": "The {agreement} does not apply to this profile.",
    "S16.already_accepted": "The {agreement} is already accepted.",
    "S17.registration_incomplete": (
        "The certificate can be printed only when every step is complete; still "
        "to do: {steps}."
    ),
    "S18.agreements_pending": (
        "Accept every applicable agreement first; still to accept: {agreements}."
    ),
    "S20.validity_not_current": (
        "An RCL row with NPN Valid '-' belongs to an earlier plan year; it cannot "
        "certify plan year {plan_year}."
    ),
    "S21.find_local_help_not_chosen": (
        "The profile did not opt in to Find Local Help."
    ),
    "S22.rcl_not_overdue": (
        "The RCL may take {days} business days; write to the help desk only if "
        "the NPN is still missing after {due}."
    ),
    "escalation.subject": "NPN {npn} missing from the RCL for plan year {plan_year}",
    "escalation.body": (
        "Hello,\n\nI completed my plan year {plan_year} Marketplace registration "
        "(all agreements accepted on {completed_on}), but my NPN {npn} does not "
        "appear on the Agent and Broker Registration Completion List {days} "
        "business days later (due by {due}). Could you please help?\n\n"
        "Name: {name}\nNPN: {npn}\nPlan year: {plan_year}\n"
    ),
    "state.profile_incomplete": "profile incomplete",
    "state.training": "training",
    "state.vendor_training": "training at a vendor",
    "state.vendor_completed": "vendor training done, portal login pending",
    "state.agreements_pending": "agreements pending",
    "state.registered": "registered",
    "state.npn_invalid": "on the RCL with NPN not valid",
    "state.escalated": "escalated to the help desk",
    "state.certified": "certified",
    "state.terminated": "terminated",
    "state.reinstated": "reinstated",
    "state.training_complete": "training complete (not an agent or broker)",
    "event.start": "Starting a registration",
    "event.save_profile": "Saving the profile",
    "event.complete_profile": "Completing the profile",
    "event.enroll_curriculum": "Enrolling in a curriculum",
    "event.complete_mlms_training": "Completing MLMS training",
    "event.launch_vendor_training": "Launching vendor training",
    "event.complete_vendor_training": "Completing vendor training",
    "event.portal_login": "Logging in after vendor training",
    "event.accept_agreement": "Accepting an agreement",
    "event.decline_agreement": "Declining an agreement",
    "event.print_certificate": "Printing the certificate",
    "event.confirm_tracker": "Confirming on the Registration Tracker",
    "event.observe_find_local_help": "Confirming the Find Local Help listing",
    "event.observe_rcl_listing": "Recording the RCL listing",
    "event.contact_help_desk": "Writing to the help desk",
    "event.terminate": "Terminating",
    "event.reinstate": "Reinstating",
    "curriculum.returning": "Returning Agent/Broker",
    "curriculum.individual": "Individual Marketplace",
    "curriculum.shop": "SHOP",
    "agreement.individual_general": "Individual Marketplace General Agreement",
    "agreement.individual_privacy_security": (
        "Individual Marketplace Privacy and Security Agreement"
    ),
    "agreement.shop_privacy_security": "SHOP Privacy and Security Agreement",
    "step.profile": "profile",
    "step.training": "training",
    "step.agreements": "agreements",
    "field.business_npn": "business NPN",
    "field.web_broker_npn": "web-broker NPN",
    "field.launch_id": "launch id",
    "field.vendor": "vendor",
    "field.agent_id": "agent",
    "field.plan_year": "plan year",
}

ES: Final[dict[str, str]] = {
    "state.not_allowed": "{event} no es posible en el estado actual: {state}.",
    "start.plan_year_mismatch": (
        "Este flujo es para el año del plan {expected}; el registro es del {plan_year}."
    ),
    "start.prior_year_not_before": (
        "El último año del plan completado ({prior_year}) debe ser anterior al año "
        "del plan {plan_year}."
    ),
    "time.outside_plan_year": (
        "El año del plan {plan_year} acepta eventos con fecha del {opens} al "
        "{closes}; este tiene fecha {at}."
    ),
    "time.before_start": (
        "Este evento tiene fecha {at}, anterior al inicio del registro ({started})."
    ),
    "S7.profile_not_saved": (
        "Seleccione Save/Update (Guardar/Actualizar) en el perfil de MLMS antes de "
        "Next (Siguiente)."
    ),
    "S5.role_required": (
        "Elija un rol: Marketplace Agent Broker (Agente/corredor del Mercado) o Not "
        "an Agent Broker (No un agente/corredor)."
    ),
    "S4.contact_required": (
        "Escriba su información de contacto comercial o profesional; se usa en Find "
        "Local Help y Help On Demand."
    ),
    "S6.zip_required": (
        "Escriba un código postal para que Find Local Help pueda mostrarlo, o no "
        "participe en Find Local Help."
    ),
    "S8.npn_required": (
        "Escriba su Número de productor nacional (NPN); todos los roles excepto Not "
        "an Agent Broker lo necesitan."
    ),
    "S9.npn_reused": (
        "Su NPN individual {npn} también figura como {field}; los NPN son exclusivos "
        "de los perfiles de individuos, negocios y entidades con base en la web."
    ),
    "S1.not_returning": (
        "La Capacitación para agentes y corredores que regresan es solo para quienes "
        "completaron el registro y la capacitación del Mercado Individual de "
        "{previous_year}; haga la capacitación completa del Mercado Individual."
    ),
    "S12.curriculum_not_offered": (
        "{curriculum} no se ofrece como adicional para el año del plan {plan_year}."
    ),
    "S12.already_enrolled": "Ya está inscrito en: {curriculum}.",
    "S12.not_enrolled": "Inscríbase en {curriculum} antes de completarlo.",
    "S12.already_completed": "Ya completó: {curriculum}.",
    "S10.vendor_not_approved": (
        "{vendor} no es un vendedor de capacitación aprobado por el HHS para el año "
        "del plan {plan_year}; aprobados: {approved}."
    ),
    "S13.launch_expiry_invalid": (
        "El acceso al vendedor debe vencer después de emitirse (emitido {at}, vence "
        "{expires_at})."
    ),
    "S13.launch_expiry_too_far": (
        "Un acceso al vendedor puede valer como máximo {days} días; este vence el "
        "{expires_at}."
    ),
    "S13.completed_before_launch": (
        "La finalización del vendedor tiene fecha {at}, anterior al acceso emitido "
        "por el portal ({issued_at})."
    ),
    "S13.no_launch": (
        "A la capacitación del vendedor solo se llega con el vínculo Access Training "
        "del Portal de Empresas de los CMS; el portal no emitió acceso para {vendor}."
    ),
    "S13.launch_mismatch": (
        "El dato {field} de la finalización del vendedor ({given}) no coincide con "
        "el acceso emitido por el portal ({expected})."
    ),
    "S13.launch_expired": (
        "El acceso al vendedor venció el {expires_at}; vuelva a empezar la "
        "capacitación desde el portal."
    ),
    "S13.launch_used": (
        "El acceso al vendedor {launch_id} ya se usó; vuelva a empezar desde el portal."
    ),
    "S15.portal_login_required": (
        "Inicie sesión nuevamente en el Portal de Empresas de los CMS después de la "
        "capacitación del vendedor para completar el registro."
    ),
    "S16.profile_incomplete": "Complete el perfil de MLMS antes de los Convenios.",
    "S16.training_incomplete": (
        "Complete la capacitación antes de los Convenios; falta: {curricula}."
    ),
    "S16.no_agreements_for_role": (
        "El rol Not an Agent Broker no firma ningún Convenio con el Mercado."
    ),
    "S16.agreement_not_applicable": "El {agreement} no corresponde a este perfil.",
    "S16.already_accepted": "El {agreement} ya está aceptado.",
    "S17.registration_incomplete": (
        "Solo se puede imprimir el certificado cuando todos los pasos están "
        "completos; falta: {steps}."
    ),
    "S18.agreements_pending": (
        "Primero acepte todos los Convenios que correspondan; falta aceptar: "
        "{agreements}."
    ),
    "S20.validity_not_current": (
        "Una fila de la RCL con NPN Valid '-' es de un año del plan anterior; no "
        "puede certificar el año del plan {plan_year}."
    ),
    "S21.find_local_help_not_chosen": "El perfil no eligió aparecer en Find Local Help.",
    "S22.rcl_not_overdue": (
        "La RCL puede tardar {days} días laborables; escriba a la mesa de ayuda solo "
        "si el NPN sigue sin aparecer después del {due}."
    ),
    "escalation.subject": "El NPN {npn} no aparece en la RCL del año del plan {plan_year}",
    "escalation.body": (
        "Hola:\n\nCompleté mi registro en el Mercado para el año del plan "
        "{plan_year} (todos los Convenios aceptados el {completed_on}), pero mi NPN "
        "{npn} no aparece en la Lista de cumplimiento de registro (RCL) {days} días "
        "laborables después (plazo: {due}). ¿Pueden ayudarme?\n\n"
        "Nombre: {name}\nNPN: {npn}\nAño del plan: {plan_year}\n"
    ),
    "state.profile_incomplete": "perfil incompleto",
    "state.training": "capacitación",
    "state.vendor_training": "capacitación con un vendedor",
    "state.vendor_completed": (
        "capacitación del vendedor completada, falta iniciar sesión en el portal"
    ),
    "state.agreements_pending": "Convenios pendientes",
    "state.registered": "registrado",
    "state.npn_invalid": "en la RCL con NPN no válido",
    "state.escalated": "escalado a la mesa de ayuda",
    "state.certified": "certificado",
    "state.terminated": "terminado",
    "state.reinstated": "restablecido",
    "state.training_complete": "capacitación completa (no es agente ni corredor)",
    "event.start": "Iniciar un registro",
    "event.save_profile": "Guardar el perfil",
    "event.complete_profile": "Completar el perfil",
    "event.enroll_curriculum": "Inscribirse en un plan de estudios",
    "event.complete_mlms_training": "Completar la capacitación de MLMS",
    "event.launch_vendor_training": "Acceder a la capacitación del vendedor",
    "event.complete_vendor_training": "Completar la capacitación del vendedor",
    "event.portal_login": "Iniciar sesión después de la capacitación del vendedor",
    "event.accept_agreement": "Aceptar un Convenio",
    "event.decline_agreement": "Rechazar un Convenio",
    "event.print_certificate": "Imprimir el certificado",
    "event.confirm_tracker": "Confirmar en el Rastreador de registro",
    "event.observe_find_local_help": "Confirmar la aparición en Find Local Help",
    "event.observe_rcl_listing": "Registrar la aparición en la RCL",
    "event.contact_help_desk": "Escribir a la mesa de ayuda",
    "event.terminate": "Terminar",
    "event.reinstate": "Restablecer",
    "curriculum.returning": "Capacitación para agentes y corredores que regresan",
    "curriculum.individual": "Capacitación en el Mercado Individual",
    "curriculum.shop": "plan de estudios de SHOP",
    "agreement.individual_general": "Convenio general del Mercado Individual",
    "agreement.individual_privacy_security": (
        "Convenio de privacidad y seguridad del Mercado Individual"
    ),
    "agreement.shop_privacy_security": "Convenio de privacidad y seguridad de SHOP",
    "step.profile": "perfil",
    "step.training": "capacitación",
    "step.agreements": "Convenios",
    "field.business_npn": "NPN del negocio",
    "field.web_broker_npn": "NPN de la entidad con base en la web",
    "field.launch_id": "identificador de acceso",
    "field.vendor": "vendedor",
    "field.agent_id": "agente",
    "field.plan_year": "año del plan",
}

_CATALOGS: dict[str, Mapping[str, str]] = {"en": EN, "es": ES}


def register_locale(
    locale: str, messages: Mapping[str, str], *, fallback: str = "en"
) -> None:
    """Add (or replace) the messages for *locale*.

    Codes that *messages* leaves out are taken from *fallback*. Templates use
    ``str.format`` fields named after the refusal's parameters.

    Raises:
        InvalidValue: *fallback* is not a known locale, or a key is not a code
            regflow knows.
    """
    if fallback not in _CATALOGS:
        raise InvalidValue(f"fallback locale {fallback!r} is not registered")
    unknown = sorted(set(messages) - set(EN))
    if unknown:
        raise InvalidValue(
            f"unknown message codes for locale {locale!r}: {', '.join(unknown)}"
        )
    _CATALOGS[locale] = {**_CATALOGS[fallback], **messages}


def locales() -> tuple[str, ...]:
    """The locales messages can be rendered in."""
    return tuple(sorted(_CATALOGS))


def render(code: str, locale: str, **params: str | int) -> str:
    """Render a catalog text that is not a refusal (e.g. an escalation email)."""
    return _catalog(locale)[code].format(**params)


def _catalog(locale: str) -> Mapping[str, str]:
    try:
        return _CATALOGS[locale]
    except KeyError:
        raise InvalidValue(
            f"no messages for locale {locale!r}; known: {', '.join(locales())}; "
            "add one with regflow.register_locale()"
        ) from None


@attrs.frozen(slots=True)
class Refusal:
    """Why an event may not be applied now.

    Attributes:
        code: stable, e.g. ``"S16.training_incomplete"``; the part before the dot
            is the seed rule it enforces (``S1``..``S22``) or ``state``/``start``.
        params: structured details, the same in every language.
    """

    code: str
    params: Mapping[str, Param] = attrs.field(factory=dict, hash=False)

    @property
    def rule(self) -> str:
        """The rule this refusal enforces, e.g. ``"S16"``."""
        return self.code.partition(".")[0]

    def message(self, locale: str = "en") -> str:
        """Return the refusal's text in *locale* (``"en"``, ``"es"``, or registered)."""
        catalog = _catalog(locale)
        values: dict[str, object] = {}
        for key, value in self.params.items():
            category = _LABELLED.get(key)
            items = value if isinstance(value, tuple) else (value,)
            if category is not None:
                items = tuple(
                    catalog.get(f"{category}.{item}", str(item)) for item in items
                )
            values[key] = ", ".join(str(item) for item in items)
        return catalog[self.code].format(**values)
