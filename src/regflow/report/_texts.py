"""The report's own words, in English and Spanish.

Refusals, states, tracks and event labels come from regflow's catalog
(:mod:`regflow._messages`), so the report says what the menu says; this
holds only what a report adds: headings, the funnel's steps, the reasons an
agent needs action and the next step for each. A locale registered with
:func:`regflow.register_locale` but absent here gets the English words.
"""

from __future__ import annotations

from typing import Final

__all__ = ["REPORT_TEXTS", "text"]

_EN: Final[dict[str, str]] = {
    "title": "Registration readiness, plan year {plan_year}",
    "scope.all": "every agency",
    "scope.none": "registrations of no agency",
    "scope.agency": "agency {agency}",
    "summary": (
        "{certified} of {agents} agents certified for the Individual Marketplace "
        "on {on}; {action} need action."
    ),
    "open_enrollment": (
        "Open Enrollment begins {date}: {days} business day(s) left to finish "
        "registration."
    ),
    "open_enrollment.past": "Open Enrollment began {date}.",
    "heading.funnel": "Where the agents are",
    "heading.trend": "Certified agents over time",
    "heading.action": "Who needs action",
    "heading.lists": "Lists reconciled against",
    "heading.summary": "Summary",
    "col.step": "Step",
    "col.agent": "Agent",
    "col.agency": "Agency",
    "col.npn": "NPN",
    "col.track": "Track",
    "col.detail": "Why",
    "col.next": "Next step",
    "col.file": "File",
    "col.kind": "List",
    "col.read": "Rows read",
    "col.kept": "Ours",
    "col.skipped": "Skipped",
    "col.ignored": "Other portals'",
    "col.modified": "File date",
    "col.sha256": "SHA-256",
    "lists.none": "No list files were given: the report shows the store only.",
    "lists.reconciled": (
        "Reconciled on {on} without recording; {proposals} event(s) the lists "
        "call for are not recorded yet."
    ),
    "action.none": "Nobody needs action.",
    "action.more": (
        "... and {count} more: every agent is in the CSV and JSON files beside "
        "this page."
    ),
    "chart.agents": "agents",
    "chart.certified": "certified",
    "chart.oe": "Open Enrollment {date}",
    "chart.on": "report date",
    "card.days_left": "business days left before Open Enrollment ({date})",
    "card.certified": "certified for the Individual Marketplace",
    "card.action": "need action",
    "track.individual": "Individual",
    "track.shop": "SHOP",
    "step.profile": "profile",
    "step.training": "training",
    "step.agreements": "agreements",
    "step.registered": "registered",
    "step.listed": "listed, NPN not valid",
    "step.certified": "certified",
    "step.terminated": "terminated",
    "step.not_taking_part": "not taking part",
    "reason.refused": "Blocked: {message}",
    "reason.next_step": "Can take the next step now",
    "reason.rcl_overdue": "Missing from the RCL past its deadline: help-desk email ready",
    "reason.confirmation_overdue": "A public confirmation is overdue",
    "reason.npn_invalid": "On the RCL with the NPN not valid",
    "reason.terminated": "Terminated",
    "reason.lists": "The lists disagree with the store",
    "detail.overdue": "{kind} due {due}, {days} business day(s) late",
    "detail.escalated": "already written to the help desk",
    "detail.terminated": "{track}: {reason}",
    "next.step": "{label}",
    "next.rcl_overdue": "Send the prepared email to {to}",
    "next.escalated": "Wait for the help desk's answer; check the next RCL",
    "next.tracker": (
        "Look the agent up on the Agent Broker Registration Tracker: it should "
        "list them by now"
    ),
    "next.find_local_help": (
        "Look the agent up on Find Local Help: it should list them by now"
    ),
    "next.rcl": (
        "Check the next RCL for the SHOP listing; write to the help desk if it "
        "is still missing"
    ),
    "next.npn_invalid": (
        "Check NPN {npn} against NIPR (a valid license with a health line of "
        "authority) and correct the profile"
    ),
    "next.terminated": (
        "Resolve the termination with CMS; the agent may not assist on {track} "
        "until reinstated"
    ),
    "next.lists": "Review it with 'regflow reconcile', then record with --record",
    "link.email": "email",
    "kind.tracker": "Agent Broker Registration Tracker",
    "kind.rcl": "Registration Completion List",
    "kind.find_local_help": "Find Local Help",
}

_ES: Final[dict[str, str]] = {
    "title": "Preparación del registro, año del plan {plan_year}",
    "scope.all": "todas las agencias",
    "scope.none": "registros sin agencia",
    "scope.agency": "agencia {agency}",
    "summary": (
        "{certified} de {agents} agentes certificados para el Mercado Individual "
        "el {on}; {action} requieren acción."
    ),
    "open_enrollment": (
        "La Inscripción Abierta comienza el {date}: quedan {days} día(s) "
        "laborable(s) para terminar el registro."
    ),
    "open_enrollment.past": "La Inscripción Abierta comenzó el {date}.",
    "heading.funnel": "Dónde están los agentes",
    "heading.trend": "Agentes certificados en el tiempo",
    "heading.action": "Quién requiere acción",
    "heading.lists": "Listas con las que se concilió",
    "heading.summary": "Resumen",
    "col.step": "Paso",
    "col.agent": "Agente",
    "col.agency": "Agencia",
    "col.npn": "NPN",
    "col.track": "Mercado",
    "col.detail": "Motivo",
    "col.next": "Siguiente paso",
    "col.file": "Archivo",
    "col.kind": "Lista",
    "col.read": "Filas leídas",
    "col.kept": "Nuestras",
    "col.skipped": "Omitidas",
    "col.ignored": "De otros portales",
    "col.modified": "Fecha del archivo",
    "col.sha256": "SHA-256",
    "lists.none": "No se dieron listas: el informe muestra solo el almacén.",
    "lists.reconciled": (
        "Conciliado el {on} sin registrar; {proposals} evento(s) que piden las "
        "listas aún no están registrados."
    ),
    "action.none": "Nadie requiere acción.",
    "action.more": (
        "... y {count} más: todos los agentes están en los archivos CSV y JSON "
        "junto a esta página."
    ),
    "chart.agents": "agentes",
    "chart.certified": "certificados",
    "chart.oe": "Inscripción Abierta {date}",
    "chart.on": "fecha del informe",
    "card.days_left": "días laborables antes de la Inscripción Abierta ({date})",
    "card.certified": "certificados para el Mercado Individual",
    "card.action": "requieren acción",
    "track.individual": "Individual",
    "track.shop": "SHOP",
    "step.profile": "perfil",
    "step.training": "capacitación",
    "step.agreements": "Convenios",
    "step.registered": "registrado",
    "step.listed": "en la lista, NPN no válido",
    "step.certified": "certificado",
    "step.terminated": "terminado",
    "step.not_taking_part": "no participa",
    "reason.refused": "Bloqueado: {message}",
    "reason.next_step": "Puede dar el siguiente paso ahora",
    "reason.rcl_overdue": (
        "Falta en la RCL pasado el plazo: correo a la mesa de ayuda listo"
    ),
    "reason.confirmation_overdue": "Una confirmación pública está atrasada",
    "reason.npn_invalid": "En la RCL con el NPN no válido",
    "reason.terminated": "Terminado",
    "reason.lists": "Las listas no coinciden con el almacén",
    "detail.overdue": "{kind}: plazo {due}, {days} día(s) laborable(s) de atraso",
    "detail.escalated": "ya se escribió a la mesa de ayuda",
    "detail.terminated": "{track}: {reason}",
    "next.step": "{label}",
    "next.rcl_overdue": "Enviar el correo preparado a {to}",
    "next.escalated": "Esperar la respuesta de la mesa de ayuda; revisar la próxima RCL",
    "next.tracker": (
        "Buscar al agente en el Agent Broker Registration Tracker: ya debería aparecer"
    ),
    "next.find_local_help": "Buscar al agente en Find Local Help: ya debería aparecer",
    "next.rcl": (
        "Revisar la próxima RCL para la inscripción de SHOP; escribir a la mesa "
        "de ayuda si sigue faltando"
    ),
    "next.npn_invalid": (
        "Verificar el NPN {npn} en NIPR (licencia vigente con autorización de "
        "salud) y corregir el perfil"
    ),
    "next.terminated": (
        "Resolver la terminación con los CMS; el agente no puede ayudar en "
        "{track} hasta ser restablecido"
    ),
    "next.lists": "Revisarlo con 'regflow reconcile' y registrar con --record",
    "link.email": "correo",
    "kind.tracker": "Agent Broker Registration Tracker",
    "kind.rcl": "Registration Completion List",
    "kind.find_local_help": "Find Local Help",
}

REPORT_TEXTS: Final[dict[str, dict[str, str]]] = {"en": _EN, "es": _ES}


def text(code: str, locale: str, **params: object) -> str:
    """The report's text *code* in *locale* (English when it has none)."""
    words = REPORT_TEXTS.get(locale, _EN)
    return words.get(code, _EN[code]).format(**params)
