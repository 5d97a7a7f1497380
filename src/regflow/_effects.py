"""What each accepted event changes: the fold shared by apply and replay.

An effect reads the registration and the event and returns the changed fields.
Effects never refuse (guards did that) and never choose the state (the machine
does), so replaying a recorded history runs exactly this code again.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, Final

import attrs

from . import _events as ev
from ._records import (
    AgreementDecision,
    Completion,
    Confirmation,
    ConfirmationRecord,
    RclListing,
    TerminationRecord,
    TrainingProvider,
    VendorLaunch,
)
from ._registration import Registration
from ._rules import PlanYearRules

__all__ = ["EFFECTS", "clone"]

Changes = dict[str, Any]
Effect = Callable[[Registration, Any, PlanYearRules], Changes]

_MLMS: Final = TrainingProvider()
_FIELDS: Final = tuple(a.name for a in attrs.fields(Registration))


def _make_clone() -> Callable[[Registration, Mapping[str, Any]], Registration]:
    # Generated and unrolled, as attrs does for __init__: a loop of
    # object.__setattr__ calls with getattr by name was a fifth of apply's cost.
    lines = [
        "def clone(reg, changes):",
        "    new = _new(Registration)",
        "    put = _set.__get__(new)",
        "    get = changes.get",
        "    missing = _MISSING",
    ]
    for name in _FIELDS:
        lines.append(f"    value = get({name!r}, missing)")
        lines.append(f"    put({name!r}, reg.{name} if value is missing else value)")
    lines.append("    return new")
    namespace: dict[str, Any] = {
        "_new": object.__new__,
        "_set": object.__setattr__,
        "Registration": Registration,
        "_MISSING": object(),
    }
    exec(compile("\n".join(lines), "<regflow generated clone>", "exec"), namespace)
    made: Callable[[Registration, Mapping[str, Any]], Registration] = namespace["clone"]
    made.__doc__ = """Return a copy of *reg* with *changes*, without re-running attrs' init.

    Effects only produce values of the right types, so this skips the
    validation ``attrs.evolve`` would redo; apply and replay call it once per
    event, where that cost shows.
    """
    return made


clone: Final = _make_clone()


def _nothing(reg: Registration, event: object, rules: PlanYearRules) -> Changes:
    return {}


def _save_profile(
    reg: Registration, event: ev.SaveProfile, rules: PlanYearRules
) -> Changes:
    return {"profile": event.profile}


def _enroll(
    reg: Registration, event: ev.EnrollCurriculum, rules: PlanYearRules
) -> Changes:
    return {"enrollments": (*reg.enrollments, event.curriculum)}


def _complete_mlms(
    reg: Registration, event: ev.CompleteMlmsTraining, rules: PlanYearRules
) -> Changes:
    done = Completion(curriculum=event.curriculum, provider=_MLMS, at=event.at)
    return {"completions": (*reg.completions, done)}


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
    if reg.registered_at is None and accepted.issuperset(
        rules.required_agreements(reg.profile)
    ):
        changes["registered_at"] = event.at
    return changes


def _decline(
    reg: Registration, event: ev.DeclineAgreement, rules: PlanYearRules
) -> Changes:
    return {"agreements": _decide(reg, event, accepted=False)}


def _print(reg: Registration, event: object, rules: PlanYearRules) -> Changes:
    return {"certificate_printed": True}


def _confirming(kind: Confirmation) -> Effect:
    def effect(reg: Registration, event: ev.Event, rules: PlanYearRules) -> Changes:
        if any(c.kind is kind for c in reg.confirmations):
            return {}  # the first sighting is the one deadlines are checked against
        record = ConfirmationRecord(kind=kind, at=event.at)
        return {"confirmations": (*reg.confirmations, record)}

    return effect


_confirm_rcl = _confirming(Confirmation.RCL)


def _rcl(
    reg: Registration, event: ev.ObserveRclListing, rules: PlanYearRules
) -> Changes:
    changes = _confirm_rcl(reg, event, rules)
    changes["rcl"] = RclListing(
        npn_valid=event.npn_valid,
        individual_completion=event.individual_completion,
        shop_completion=event.shop_completion,
        at=event.at,
    )
    return changes


def _terminate(reg: Registration, event: ev.Terminate, rules: PlanYearRules) -> Changes:
    return {
        "termination": TerminationRecord(
            terminated=True, reason=event.reason, at=event.at
        )
    }


def _reinstate(reg: Registration, event: ev.Reinstate, rules: PlanYearRules) -> Changes:
    return {
        "termination": TerminationRecord(
            terminated=False, reason=event.reason, at=event.at
        )
    }


EFFECTS: Final[Mapping[str, Effect]] = {
    ev.SaveProfile.kind: _save_profile,
    ev.CompleteProfile.kind: _nothing,
    ev.EnrollCurriculum.kind: _enroll,
    ev.CompleteMlmsTraining.kind: _complete_mlms,
    ev.LaunchVendorTraining.kind: _launch,
    ev.CompleteVendorTraining.kind: _complete_vendor,
    ev.PortalLogin.kind: _nothing,
    ev.AcceptAgreement.kind: _accept,
    ev.DeclineAgreement.kind: _decline,
    ev.PrintCertificate.kind: _print,
    ev.ConfirmTracker.kind: _confirming(Confirmation.TRACKER),
    ev.ObserveFindLocalHelp.kind: _confirming(Confirmation.FIND_LOCAL_HELP),
    ev.ObserveRclListing.kind: _rcl,
    ev.ContactHelpDesk.kind: _nothing,
    ev.Terminate.kind: _terminate,
    ev.Reinstate.kind: _reinstate,
}
"""Each event kind's effect; starting a registration is :func:`Workflow.start`."""
