"""Guards: one named function per seed rule, each returning its refusals.

A guard looks at a registration, an event and the plan-year rules, and
returns the reasons the event may not be applied (an empty tuple when it may).
Guards never raise for a refusal and never look at the clock: time comes from
the event. Which guards run for which event is data (:data:`GUARDS`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, Final

import attrs

from . import _events as ev
from ._calendar import add_business_days, cms_date
from ._messages import Refusal
from ._records import Curriculum, NpnValidity, Profile, Role
from ._registration import Registration, State
from ._rules import PlanYearRules

__all__ = [
    "GUARDS",
    "Guard",
    "in_plan_year",
    "missing_agreements",
    "missing_curricula",
    "not_before_start",
]

Refusals = tuple[Refusal, ...]
GuardFunc = Callable[[Registration, Any, PlanYearRules], Refusals]
OK: Final[Refusals] = ()
_EMPTY_PROFILE: Final = Profile()


@attrs.frozen(slots=True)
class Guard:
    """A named check enforcing one seed rule for some events."""

    name: str
    rule: str
    check: GuardFunc = attrs.field(repr=False)


def _refuse(code: str, **params: str | int | tuple[str, ...]) -> Refusals:
    return (Refusal(code, params),)


def missing_curricula(reg: Registration) -> tuple[Curriculum, ...]:
    """The enrolled curricula not completed yet."""
    done = reg.completed_curricula
    return tuple(c for c in reg.enrollments if c not in done)


def missing_agreements(reg: Registration, rules: PlanYearRules) -> tuple[str, ...]:
    """The applicable agreements not accepted yet, as their stable values."""
    accepted = reg.accepted_agreements
    return tuple(
        a.value for a in rules.required_agreements(reg.profile) if a not in accepted
    )


# -- Every event: its time --------------------------------------------------


def in_plan_year(
    reg: Registration | None, event: ev.Event, rules: PlanYearRules
) -> Refusals:
    """An event is dated inside its plan year's window (rules as data)."""
    if rules.in_window(event.at):
        return OK
    return _refuse(
        "time.outside_plan_year",
        plan_year=rules.plan_year,
        at=event.at.isoformat(),
        opens=rules.events_from.isoformat(),
        closes=rules.events_until.isoformat(),
    )


def not_before_start(
    reg: Registration | None, event: ev.Event, rules: PlanYearRules
) -> Refusals:
    """Nothing happens to a registration before it started."""
    if reg is None:
        return OK
    started = reg.history[0].event.at
    if event.at < started:
        return _refuse(
            "time.before_start", at=event.at.isoformat(), started=started.isoformat()
        )
    return OK


# -- Starting (S1, S2) ---------------------------------------------------------


def plan_year_matches(
    reg: Registration, event: ev.StartRegistration, rules: PlanYearRules
) -> Refusals:
    """The registration is for the plan year these rules govern."""
    found: Refusals = OK
    if event.plan_year != rules.plan_year:
        found += _refuse(
            "start.plan_year_mismatch",
            expected=rules.plan_year,
            plan_year=event.plan_year,
        )
    if event.prior_year is not None and event.prior_year >= event.plan_year:
        found += _refuse(
            "start.prior_year_not_before",
            prior_year=event.prior_year,
            plan_year=event.plan_year,
        )
    return found


# -- Step 1: the MLMS profile (S4-S9) ------------------------------------------


def profile_saved(reg: Registration, event: object, rules: PlanYearRules) -> Refusals:
    """S7: Save/Update comes before Next."""
    return _refuse("S7.profile_not_saved") if reg.profile == _EMPTY_PROFILE else OK


def role_chosen(reg: Registration, event: object, rules: PlanYearRules) -> Refusals:
    """S5: exactly one of the two roles is chosen."""
    return _refuse("S5.role_required") if reg.profile.role is None else OK


def contact_entered(reg: Registration, event: object, rules: PlanYearRules) -> Refusals:
    """S4, S6: an agent's contact details are entered; they feed Find Local Help."""
    profile = reg.profile
    if profile.role is not Role.MARKETPLACE_AGENT_BROKER:
        return OK
    if profile.contact is None:
        return _refuse("S4.contact_required")
    return OK


def zip_for_find_local_help(
    reg: Registration, event: object, rules: PlanYearRules
) -> Refusals:
    """S6: Find Local Help lists agents by place, so opting in needs a ZIP code."""
    profile = reg.profile
    if profile.find_local_help and (
        profile.contact is None or not profile.contact.zip_code
    ):
        return _refuse("S6.zip_required")
    return OK


def npn_entered(reg: Registration, event: object, rules: PlanYearRules) -> Refusals:
    """S8: every role but Not an Agent Broker enters its NPN."""
    profile = reg.profile
    if profile.role is Role.MARKETPLACE_AGENT_BROKER and profile.npn is None:
        return _refuse("S8.npn_required")
    return OK


def npn_exclusive(reg: Registration, event: object, rules: PlanYearRules) -> Refusals:
    """S9: the individual NPN is not copied into the business or web-broker field."""
    profile = reg.profile
    npn = profile.npn
    if npn is None:
        return OK
    found: Refusals = OK
    if profile.business_npn == npn:
        found += _refuse("S9.npn_reused", npn=npn.value, field="business_npn")
    if profile.web_broker_npn == npn:
        found += _refuse("S9.npn_reused", npn=npn.value, field="web_broker_npn")
    return found


# -- Step 2: training (S1, S10-S15) --------------------------------------------


def returning_eligible(
    reg: Registration, event: ev.EnrollCurriculum, rules: PlanYearRules
) -> Refusals:
    """S1: only an agent who completed the previous year may take Returning."""
    if event.curriculum is rules.returning_curriculum and not rules.is_returning(
        reg.prior_year
    ):
        return _refuse("S1.not_returning", previous_year=rules.previous_year)
    return OK


def curriculum_open(
    reg: Registration, event: ev.EnrollCurriculum, rules: PlanYearRules
) -> Refusals:
    """S11, S12: an added curriculum is offered and not already enrolled."""
    curriculum = event.curriculum
    if curriculum in reg.enrollments:
        return _refuse("S12.already_enrolled", curriculum=curriculum.value)
    if (
        curriculum not in rules.optional_curricula
        and curriculum is not rules.returning_curriculum
    ):
        return _refuse(
            "S12.curriculum_not_offered",
            curriculum=curriculum.value,
            plan_year=rules.plan_year,
        )
    return OK


def curriculum_to_complete(
    reg: Registration,
    event: ev.CompleteMlmsTraining | ev.LaunchVendorTraining,
    rules: PlanYearRules,
) -> Refusals:
    """S12: the curriculum is enrolled and not completed yet."""
    curriculum = event.curriculum
    if curriculum not in reg.enrollments:
        return _refuse("S12.not_enrolled", curriculum=curriculum.value)
    if curriculum in reg.completed_curricula:
        return _refuse("S12.already_completed", curriculum=curriculum.value)
    return OK


def vendor_approved(
    reg: Registration, event: ev.LaunchVendorTraining, rules: PlanYearRules
) -> Refusals:
    """S10: the vendor is HHS-approved for the plan year."""
    if event.vendor not in rules.approved_vendors:
        return _refuse(
            "S10.vendor_not_approved",
            vendor=event.vendor,
            plan_year=rules.plan_year,
            approved=", ".join(rules.approved_vendors),
        )
    return OK


def launch_expires_later(
    reg: Registration, event: ev.LaunchVendorTraining, rules: PlanYearRules
) -> Refusals:
    """S13: a launch the portal issues must still be valid when issued."""
    if event.expires_at <= event.at:
        return _refuse(
            "S13.launch_expiry_invalid",
            at=event.at.isoformat(),
            expires_at=event.expires_at.isoformat(),
        )
    if event.expires_at - event.at > rules.launch_lifetime:
        return _refuse(
            "S13.launch_expiry_too_far",
            days=rules.launch_lifetime.days,
            expires_at=event.expires_at.isoformat(),
        )
    return OK


def launch_presented(
    reg: Registration, event: ev.CompleteVendorTraining, rules: PlanYearRules
) -> Refusals:
    """S13, S14: a vendor completion presents the portal's launch, unexpired, unused."""
    launch = reg.launch
    if launch is None:
        return _refuse("S13.no_launch", vendor=event.vendor)
    found: Refusals = OK
    for field, given, expected in (
        ("launch_id", event.launch_id, launch.launch_id),
        ("vendor", event.vendor, launch.vendor),
        ("agent_id", event.agent_id, reg.agent_id),
        ("plan_year", str(event.plan_year), str(reg.plan_year)),
    ):
        if given != expected:
            found += _refuse(
                "S13.launch_mismatch", field=field, given=given, expected=expected
            )
    if launch.used:
        found += _refuse("S13.launch_used", launch_id=launch.launch_id)
    if event.at < launch.issued_at:
        found += _refuse(
            "S13.completed_before_launch",
            at=event.at.isoformat(),
            issued_at=launch.issued_at.isoformat(),
        )
    if event.at > launch.expires_at:
        found += _refuse("S13.launch_expired", expires_at=launch.expires_at.isoformat())
    return found


# -- Step 3: the agreements (S15, S16) ---------------------------------------


def ready_for_agreements(
    reg: Registration, event: object, rules: PlanYearRules
) -> Refusals:
    """S16: the profile is complete and every enrolled curriculum is done."""
    found: Refusals = OK
    if reg.state is State.PROFILE_INCOMPLETE:
        found += _refuse("S16.profile_incomplete")
    todo = missing_curricula(reg)
    if todo or not reg.enrollments:
        found += _refuse(
            "S16.training_incomplete", curricula=tuple(c.value for c in todo)
        )
    return found


def back_in_portal(reg: Registration, event: object, rules: PlanYearRules) -> Refusals:
    """S15: after vendor training the agent logs in to the portal again."""
    if reg.state is State.VENDOR_COMPLETED:
        return _refuse("S15.portal_login_required")
    return OK


def agreement_applicable(
    reg: Registration,
    event: ev.AcceptAgreement | ev.DeclineAgreement,
    rules: PlanYearRules,
) -> Refusals:
    """S16: the agreement applies to this role and SHOP choice."""
    if reg.profile.role is Role.NOT_AN_AGENT_BROKER:
        return _refuse("S16.no_agreements_for_role")
    if event.agreement not in rules.required_agreements(reg.profile):
        return _refuse("S16.agreement_not_applicable", agreement=event.agreement.value)
    return OK


def not_yet_accepted(
    reg: Registration, event: ev.AcceptAgreement, rules: PlanYearRules
) -> Refusals:
    """S16: each agreement is accepted once."""
    if event.agreement in reg.accepted_agreements:
        return _refuse("S16.already_accepted", agreement=event.agreement.value)
    return OK


# -- Step 4: certificate and public confirmations (S17-S22) ------------------


def every_step_done(reg: Registration, event: object, rules: PlanYearRules) -> Refusals:
    """S17: the certificate is printable only when every step is complete."""
    if reg.registered_at is not None:
        return OK
    steps: list[str] = []
    if reg.state is State.PROFILE_INCOMPLETE:
        steps.append("profile")
    if not reg.training_complete:
        steps.append("training")
    if reg.is_agent:
        steps.append("agreements")
    # Not an Agent Broker with training done: no step is missing; the state
    # refusal says there is no certificate on that path.
    return _refuse("S17.registration_incomplete", steps=tuple(steps)) if steps else OK


def agreements_done(reg: Registration, event: object, rules: PlanYearRules) -> Refusals:
    """S18: the public lists reflect an agent only after the agreements."""
    if reg.registered_at is not None or not reg.is_agent:
        return OK  # a role that signs nothing is refused by its state instead
    return _refuse("S18.agreements_pending", agreements=missing_agreements(reg, rules))


def current_validity(
    reg: Registration, event: ev.ObserveRclListing, rules: PlanYearRules
) -> Refusals:
    """S20: a '-' validity belongs to earlier plan years, never the current one."""
    if event.npn_valid is NpnValidity.NOT_APPLICABLE:
        return _refuse("S20.validity_not_current", plan_year=reg.plan_year)
    return OK


def opted_in_find_local_help(
    reg: Registration, event: object, rules: PlanYearRules
) -> Refusals:
    """S21: only an agent who chose Find Local Help is expected there."""
    return (
        OK if reg.profile.find_local_help else _refuse("S21.find_local_help_not_chosen")
    )


def rcl_overdue(
    reg: Registration, event: ev.ContactHelpDesk, rules: PlanYearRules
) -> Refusals:
    """S20, S22: write to the help desk once the RCL window has passed."""
    if reg.registered_at is None:
        return OK  # agreements_done explains this one
    due = add_business_days(cms_date(reg.registered_at), rules.rcl_days)
    if cms_date(event.at) <= due:
        return _refuse("S22.rcl_not_overdue", days=rules.rcl_days, due=due.isoformat())
    return OK


def _guards(*pairs: tuple[str, GuardFunc]) -> tuple[Guard, ...]:
    return tuple(Guard(func.__name__, rule, func) for rule, func in pairs)


_AGREEMENT_GATES = (
    ("S16", ready_for_agreements),
    ("S15", back_in_portal),
    ("S16", agreement_applicable),
)
_AFTER_AGREEMENTS = (("S18", agreements_done),)

GUARDS: Final[Mapping[str, tuple[Guard, ...]]] = {
    ev.StartRegistration.kind: _guards(("start", plan_year_matches)),
    ev.SaveProfile.kind: (),
    ev.CompleteProfile.kind: _guards(
        ("S7", profile_saved),
        ("S5", role_chosen),
        ("S4", contact_entered),
        ("S6", zip_for_find_local_help),
        ("S8", npn_entered),
        ("S9", npn_exclusive),
    ),
    ev.EnrollCurriculum.kind: _guards(
        ("S1", returning_eligible), ("S12", curriculum_open)
    ),
    ev.CompleteMlmsTraining.kind: _guards(("S12", curriculum_to_complete)),
    ev.LaunchVendorTraining.kind: _guards(
        ("S10", vendor_approved),
        ("S12", curriculum_to_complete),
        ("S13", launch_expires_later),
    ),
    ev.CompleteVendorTraining.kind: _guards(("S13", launch_presented)),
    ev.PortalLogin.kind: (),
    ev.AcceptAgreement.kind: _guards(*_AGREEMENT_GATES, ("S16", not_yet_accepted)),
    ev.DeclineAgreement.kind: _guards(*_AGREEMENT_GATES),
    ev.PrintCertificate.kind: _guards(("S17", every_step_done)),
    ev.ConfirmTracker.kind: _guards(*_AFTER_AGREEMENTS),
    ev.ObserveFindLocalHelp.kind: _guards(
        *_AFTER_AGREEMENTS, ("S21", opted_in_find_local_help)
    ),
    ev.ObserveRclListing.kind: _guards(*_AFTER_AGREEMENTS, ("S20", current_validity)),
    ev.ContactHelpDesk.kind: _guards(*_AFTER_AGREEMENTS, ("S22", rcl_overdue)),
    ev.Terminate.kind: (),
    ev.Reinstate.kind: (),
}
"""The guards each event kind runs, in the order their refusals are reported."""
