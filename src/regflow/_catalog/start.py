"""Starting a registration (S1, S2): the portal login for a plan year.

A start is checked against the agent's registration of the year before when
the caller knows it (``Workflow.start(event, previous=...)``,
``Workflow.renew``): a claim to have completed a year that the known
registration of that year denies is refused.
"""

from __future__ import annotations

from .. import _events as ev
from .._registration import Registration
from .._rules import PlanYearRules
from .._states import Actor
from ._spec import OK, EventSpec, Refusals, guard, refuse

__all__ = ["START"]


@guard(
    "start",
    {
        "start.plan_year_mismatch": {
            "en": (
                "This workflow is for plan year {expected}; the registration is for "
                "{plan_year}."
            ),
            "es": (
                "Este flujo es para el año del plan {expected}; el registro es del "
                "{plan_year}."
            ),
        },
        "start.prior_year_not_before": {
            "en": (
                "The last completed plan year ({prior_year}) must come before plan "
                "year {plan_year}."
            ),
            "es": (
                "El último año del plan completado ({prior_year}) debe ser anterior "
                "al año del plan {plan_year}."
            ),
        },
    },
)
def plan_year_matches(
    previous: Registration | None, event: ev.StartRegistration, rules: PlanYearRules
) -> Refusals:
    """The registration is for the plan year these rules govern."""
    found: Refusals = OK
    if event.plan_year != rules.plan_year:
        found += refuse(
            "start.plan_year_mismatch",
            expected=rules.plan_year,
            plan_year=event.plan_year,
        )
    if event.prior_year is not None and event.prior_year >= event.plan_year:
        found += refuse(
            "start.prior_year_not_before",
            prior_year=event.prior_year,
            plan_year=event.plan_year,
        )
    return found


@guard(
    "S1",
    {
        "S1.prior_year_contradicted": {
            "en": (
                "The registration says plan year {prior_year} was completed, but the "
                "agent's {prior_year} registration is {state}: not completed."
            ),
            "es": (
                "El registro dice que se completó el año del plan {prior_year}, pero "
                "el registro {prior_year} del agente está en {state}: sin completar."
            ),
        }
    },
)
def prior_year_known(
    previous: Registration | None, event: ev.StartRegistration, rules: PlanYearRules
) -> Refusals:
    """S1: a claimed completed year agrees with that year's known registration."""
    if (
        previous is not None
        and previous.plan_year == event.prior_year
        and previous.individual_registered_at is None
    ):
        return refuse(
            "S1.prior_year_contradicted",
            prior_year=previous.plan_year,
            state=previous.individual.value,
        )
    return OK


START: EventSpec[ev.StartRegistration] = EventSpec(
    type=ev.StartRegistration,
    actor=Actor.AGENT,
    label={"en": "Starting a registration", "es": "Iniciar un registro"},
    steps=(),
    guards=(plan_year_matches, prior_year_known),
)
