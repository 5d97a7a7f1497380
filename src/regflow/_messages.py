"""Refusals and their texts: a stable code, parameters, and per-locale messages.

English and Spanish ship with regflow. The texts of refusals and the labels
of events are declared with the guards and events themselves, in the
catalog, which installs them here when regflow is imported; this module
holds the rest (states, curricula, agreements, ...). A host application adds a
locale with :func:`register_locale` without editing regflow; codes it leaves
out fall back to another locale (English by default).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Final

import attrs

from ._errors import InvalidValue

__all__ = [
    "SHIPPED_LOCALES",
    "Param",
    "Refusal",
    "install",
    "label",
    "locales",
    "on_catalog_change",
    "register_locale",
    "render",
]

Param = str | int | tuple[str, ...]

SHIPPED_LOCALES: Final = ("en", "es")
"""The locales regflow ships every text in; the catalog is checked against them."""

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
    "track": "track",
    "tracks": "track",
}

EN: Final[dict[str, str]] = {
    "state.not_allowed": "{event} is not possible in the current state: {state}.",
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
    "state.shop.profile_incomplete": "SHOP: profile incomplete",
    "state.shop.not_taken": "SHOP: not taken",
    "state.shop.training": "SHOP: training",
    "state.shop.agreement_pending": "SHOP: agreement pending",
    "state.shop.registered": "SHOP: registered",
    "state.shop.npn_invalid": "SHOP: on the RCL with NPN not valid",
    "state.shop.listed": "SHOP: listed on the RCL",
    "state.shop.terminated": "SHOP: terminated",
    "state.shop.reinstated": "SHOP: reinstated",
    "status.in_progress": "in progress",
    "status.registered": "registered, waiting for the lists",
    "status.certified": "certified",
    "status.action_needed": "action needed",
    "status.terminated": "terminated",
    "status.training_complete": "training complete",
    "track.individual": "Individual Marketplace",
    "track.shop": "SHOP",
    "actor.agent": "the agent",
    "actor.portal": "the portal",
    "actor.lists": "CMS's lists",
    "npn_valid.Y": "NPN valid",
    "npn_valid.N": "NPN not valid",
    "npn_valid.-": "an earlier plan year",
    "reason.1": "resident-state license or authority",
    "reason.2": "non-resident-state license or authority",
    "reason.3": "fraud or abusive conduct",
    "reason.4": "non-compliance",
    "role.marketplace_agent_broker": "Marketplace Agent Broker",
    "role.not_an_agent_broker": "Not an Agent Broker",
    "marketplaces.INDIVIDUAL": "Individual Marketplace",
    "marketplaces.SHOP": "SHOP",
    "marketplaces.BOTH": "Individual Marketplace and SHOP",
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
    "state.agreements_pending": "convenios pendientes",
    "state.registered": "registrado",
    "state.npn_invalid": "en la RCL con NPN no válido",
    "state.escalated": "escalado a la mesa de ayuda",
    "state.certified": "certificado",
    "state.terminated": "terminado",
    "state.reinstated": "restablecido",
    "state.training_complete": "capacitación completa (no es agente ni corredor)",
    "state.shop.profile_incomplete": "SHOP: perfil incompleto",
    "state.shop.not_taken": "SHOP: no participa",
    "state.shop.training": "SHOP: capacitación",
    "state.shop.agreement_pending": "SHOP: Convenio pendiente",
    "state.shop.registered": "SHOP: registrado",
    "state.shop.npn_invalid": "SHOP: en la RCL con NPN no válido",
    "state.shop.listed": "SHOP: en la RCL",
    "state.shop.terminated": "SHOP: terminado",
    "state.shop.reinstated": "SHOP: restablecido",
    "status.in_progress": "en curso",
    "status.registered": "registrado, en espera de las listas",
    "status.certified": "certificado",
    "status.action_needed": "requiere acción",
    "status.terminated": "terminado",
    "status.training_complete": "capacitación completa",
    "track.individual": "Mercado Individual",
    "track.shop": "SHOP",
    "actor.agent": "el agente",
    "actor.portal": "el portal",
    "actor.lists": "las listas de los CMS",
    "npn_valid.Y": "NPN válido",
    "npn_valid.N": "NPN no válido",
    "npn_valid.-": "un año del plan anterior",
    "reason.1": "licencia o autorización del estado de residencia",
    "reason.2": "licencia o autorización de otro estado",
    "reason.3": "fraude o conducta abusiva",
    "reason.4": "incumplimiento",
    # The seed's own gloss of each MLMS role.
    "role.marketplace_agent_broker": "Agente/corredor del Mercado",
    "role.not_an_agent_broker": "No un agente/corredor",
    "marketplaces.INDIVIDUAL": "Mercado Individual",
    "marketplaces.SHOP": "SHOP",
    "marketplaces.BOTH": "Mercado Individual y SHOP",
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

# Rendered refusals by (refusal, locale): a menu renders the same few dozen
# over and over. Emptied whenever a catalog changes, and when it grows large.
_RENDERED: dict[tuple[str, tuple[tuple[str, Param], ...], str], str] = {}
_RENDERED_LIMIT: Final = 4096
_LABELS: dict[tuple[str, str, str], str] = {}


_LISTENERS: list[Callable[[], None]] = []


def on_catalog_change(forget: Callable[[], None]) -> None:
    """Call *forget* whenever a catalog changes: for memos of rendered text."""
    _LISTENERS.append(forget)


def _changed() -> None:
    _RENDERED.clear()
    _LABELS.clear()
    for forget in _LISTENERS:
        forget()


def install(texts: Mapping[str, Mapping[str, str]]) -> None:
    """Add the catalog's texts (by shipped locale) to the shipped catalogs."""
    for locale, found in texts.items():
        base = EN if locale == "en" else ES if locale == "es" else None
        if base is None:
            raise InvalidValue(f"{locale!r} is not a locale regflow ships")
        base.update(found)
    _changed()


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
    _changed()


def locales() -> tuple[str, ...]:
    """The locales messages can be rendered in."""
    return tuple(sorted(_CATALOGS))


def render(code: str, locale: str, **params: str | int) -> str:
    """Render a catalog text that is not a refusal (e.g. an escalation email)."""
    return _catalog(locale)[code].format(**params)


def label(category: str, value: str, locale: str) -> str:
    """The name of *value* in *locale*, e.g. ``label("agreement", "shop_privacy_security")``."""
    key = (category, value, locale)
    found = _LABELS.get(key)
    if found is None:
        found = _catalog(locale).get(f"{category}.{value}", value)
        if len(_LABELS) < _RENDERED_LIMIT:
            _LABELS[key] = found
    return found


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
        if locale not in _CATALOGS:
            _catalog(locale)  # raises, naming the locales there are
        # By content, not by the refusal: Refusal hashes by its code alone
        # (its params are a dict), and a menu holds dozens sharing a code.
        key = (self.code, tuple(self.params.items()), locale)
        text = _RENDERED.get(key)
        if text is None:
            text = self._render(locale)
            if len(_RENDERED) >= _RENDERED_LIMIT:
                _RENDERED.clear()
            _RENDERED[key] = text
        return text

    def _render(self, locale: str) -> str:
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
