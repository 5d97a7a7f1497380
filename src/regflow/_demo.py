"""The demo data set: agents in every state, and CMS lists that mention them.

``regflow demo`` builds it in a fresh SQLite file and reconciles it, so a new
user sees every outcome (certified, flagged, waiting, overdue with its
help-desk email, terminated, reinstated, a discrepancy, ignored NPNs and a
malformed row reported with its line) from one command. Dates are fixed, so
the output is the same on every machine.
"""

from __future__ import annotations

import csv
import datetime as dt
import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Final
from zoneinfo import ZoneInfo

from . import _events as ev
from ._records import (
    Agreement,
    ContactDetails,
    Curriculum,
    NpnValidity,
    Profile,
    Role,
    TerminationReason,
)
from ._registration import Registration
from .lists import RCL_COLUMNS, TERMINATION_COLUMNS

__all__ = ["DEMO_ON", "DEMO_PLAN_YEAR", "build_demo", "write_demo_lists"]

DEMO_PLAN_YEAR: Final = 2024
DEMO_ON: Final = dt.date(2023, 10, 20)
"""The day the demo reconciles on: a Friday, with Columbus Day in the window."""

_ET: Final = ZoneInfo("America/New_York")
Apply = Callable[[str, ev.Event], Registration]


def _at(month: int, day: int, hour: int = 10) -> dt.datetime:
    return dt.datetime(2023, month, day, hour, tzinfo=_ET)


class _Agent:
    """Builds one demo agent's events with stable ids."""

    def __init__(
        self,
        number: int,
        apply: Apply,
        start: Callable[[ev.StartRegistration], Registration],
    ):
        self.agent_id = f"agent-{number:03d}"
        self.npn = str(17000000 + number * 37)
        self.number = number
        self._apply = apply
        self._start = start
        self._count = 0

    def _id(self) -> str:
        self._count += 1
        return f"demo-{self.agent_id}-{self._count}"

    def send(
        self, event_type: type[ev.Event], when: dt.datetime, **fields: object
    ) -> Registration:
        event = event_type(event_id=self._id(), at=when, **fields)
        return self._apply(self.agent_id, event)

    def start(self, *, returning: bool = True, when: dt.datetime) -> Registration:
        return self._start(
            ev.StartRegistration(
                event_id=self._id(),
                at=when,
                agent_id=self.agent_id,
                portal_account_id=f"portal-{self.number:04d}",
                plan_year=DEMO_PLAN_YEAR,
                prior_year=DEMO_PLAN_YEAR - 1 if returning else None,
            )
        )

    def profile(
        self, *, role: Role = Role.MARKETPLACE_AGENT_BROKER, shop: bool = False
    ) -> Profile:
        agent = role is Role.MARKETPLACE_AGENT_BROKER
        return Profile(
            role=role,
            contact=ContactDetails(
                name=f"Demo Agent {self.number}",
                email=f"{self.agent_id}@example.com",
                phone=f"555-{self.number:04d}",
                zip_code="33101",
            ),
            find_local_help=agent,
            shop=shop,
            npn=self.npn if agent else None,
        )


def build_demo(
    start: Callable[[ev.StartRegistration], Registration], apply: Apply
) -> dict[str, list[str]]:
    """Create the demo agents through *start* and *apply* (a repository's).

    Returns:
        Agent ids by the role each plays in the demo lists, e.g.
        ``"rcl_valid"`` for agents the demo RCL lists with NPN Valid Y.
    """
    roles: dict[str, list[str]] = {}
    numbers = iter(range(1, 1000))

    def agent() -> _Agent:
        return _Agent(next(numbers), apply, start)

    def note(role: str, who: _Agent) -> None:
        roles.setdefault(role, []).append(who.agent_id)

    for scenario in _SCENARIOS:
        scenario(agent, note)
    return roles


def _to_profile(a: _Agent, *, returning: bool = True, shop: bool = False) -> None:
    a.start(returning=returning, when=_at(10, 2, 9))
    a.send(ev.SaveProfile, _at(10, 2, 9), profile=a.profile(shop=shop))


def _to_training(a: _Agent, **kw: bool) -> None:
    _to_profile(a, **kw)
    a.send(ev.CompleteProfile, _at(10, 2, 9))


def _to_agreements(a: _Agent, **kw: bool) -> None:
    _to_training(a, **kw)
    a.send(ev.CompleteMlmsTraining, _at(10, 2, 11), curriculum=Curriculum.RETURNING)


def _to_registered(a: _Agent, day: int) -> None:
    _to_agreements(a)
    for agreement in (
        Agreement.INDIVIDUAL_GENERAL,
        Agreement.INDIVIDUAL_PRIVACY_SECURITY,
    ):
        a.send(ev.AcceptAgreement, _at(10, day, 14), agreement=agreement)


def _profiles(agent: Callable[[], _Agent], note: Callable[[str, _Agent], None]) -> None:
    for _ in range(2):
        a = agent()
        _to_profile(a)
        note("in_progress", a)
    a = agent()
    a.start(when=_at(10, 3))
    note("in_progress", a)


def _training(agent: Callable[[], _Agent], note: Callable[[str, _Agent], None]) -> None:
    a = agent()
    _to_training(a, returning=False)
    note("in_progress", a)
    a = agent()
    _to_training(a, shop=True)
    a.send(ev.EnrollCurriculum, _at(10, 3), curriculum=Curriculum.SHOP)
    a.send(ev.CompleteMlmsTraining, _at(10, 3), curriculum=Curriculum.RETURNING)
    note("in_progress", a)
    for vendor, finish in (("HealthSherpa", False), ("INSXCloud", True)):
        for _ in range(2):
            a = agent()
            _to_training(a)
            launch = f"launch-{a.agent_id}"
            a.send(
                ev.LaunchVendorTraining,
                _at(10, 4),
                vendor=vendor,
                launch_id=launch,
                curriculum=Curriculum.RETURNING,
                expires_at=_at(10, 11),
            )
            if finish:
                a.send(
                    ev.CompleteVendorTraining,
                    _at(10, 5),
                    vendor=vendor,
                    launch_id=launch,
                    agent_id=a.agent_id,
                    plan_year=DEMO_PLAN_YEAR,
                )
            note("in_progress", a)


def _agreements(
    agent: Callable[[], _Agent], note: Callable[[str, _Agent], None]
) -> None:
    for decline in (False, True, False):
        a = agent()
        _to_agreements(a)
        if decline:
            a.send(
                ev.DeclineAgreement, _at(10, 3), agreement=Agreement.INDIVIDUAL_GENERAL
            )
        note("in_progress", a)
    a = agent()
    _to_agreements(a)
    note("discrepancy", a)  # the demo RCL lists it; we never saw its agreements


def _registered(
    agent: Callable[[], _Agent], note: Callable[[str, _Agent], None]
) -> None:
    for role, day, count in (
        ("rcl_valid", 3, 4),
        ("rcl_invalid", 4, 2),
        ("overdue", 5, 2),
        ("waiting", 19, 2),
        ("terminate", 3, 1),
    ):
        for _ in range(count):
            a = agent()
            _to_registered(a, day)
            a.send(ev.PrintCertificate, _at(10, day, 15))
            a.send(ev.ConfirmTracker, _at(10, day + 1 if day < 19 else day, 16))
            note(role, a)


def _escalated(
    agent: Callable[[], _Agent], note: Callable[[str, _Agent], None]
) -> None:
    for role in ("rcl_valid", "overdue"):
        a = agent()
        _to_registered(a, 2)
        a.send(ev.ContactHelpDesk, _at(10, 6))
        note(role, a)


def _terminated(
    agent: Callable[[], _Agent], note: Callable[[str, _Agent], None]
) -> None:
    a = agent()
    _to_registered(a, 2)
    a.send(
        ev.ObserveRclListing,
        _at(10, 4),
        npn_valid=NpnValidity.VALID,
        individual_completion=dt.date(2023, 10, 2),
    )
    a.send(ev.Terminate, _at(10, 10), reason=TerminationReason.RESIDENT_LICENSE)
    note("reinstate", a)


def _non_agents(
    agent: Callable[[], _Agent], note: Callable[[str, _Agent], None]
) -> None:
    for _ in range(2):
        a = agent()
        a.start(returning=False, when=_at(10, 2))
        a.send(
            ev.SaveProfile, _at(10, 2), profile=a.profile(role=Role.NOT_AN_AGENT_BROKER)
        )
        a.send(ev.CompleteProfile, _at(10, 2))
        a.send(ev.CompleteMlmsTraining, _at(10, 3), curriculum=Curriculum.INDIVIDUAL)
        note("not_an_agent", a)


_SCENARIOS: Final = (
    _profiles,
    _training,
    _agreements,
    _registered,
    _escalated,
    _terminated,
    _non_agents,
)


def _demo_npn(agent_id: str) -> str:
    return str(17000000 + int(agent_id.rsplit("-", 1)[1]) * 37)


def write_demo_lists(folder: Path, roles: dict[str, list[str]]) -> tuple[Path, Path]:
    """Write a small RCL and termination list in the published format.

    Returns:
        The paths of ``TBL_RCL_1.csv`` and ``AB_Termination_List_1.csv``.
    """
    folder.mkdir(parents=True, exist_ok=True)
    rcl = folder / "TBL_RCL_1.csv"
    with rcl.open("w", newline="", encoding="utf-8-sig") as out:
        writer = csv.writer(out, lineterminator="\r\n")
        writer.writerow(RCL_COLUMNS)
        for row in _rcl_rows(roles):
            writer.writerow(row)
    termination = folder / "AB_Termination_List_1.csv"
    with termination.open("w", newline="", encoding="utf-8") as out:
        writer = csv.writer(out, lineterminator="\r\n")
        writer.writerow(TERMINATION_COLUMNS)
        for row in _termination_rows(roles):
            writer.writerow(row)
    # Dated as if downloaded the morning of the demo's day, so the report,
    # which names each list's date, is the same on every run.
    stamp = dt.datetime.combine(DEMO_ON, dt.time(8), tzinfo=_ET).timestamp()
    for path in (rcl, termination):
        os.utime(path, (stamp, stamp))
    return rcl, termination


def _rcl_rows(roles: dict[str, list[str]]) -> Iterator[tuple[str, ...]]:
    end = "12/31/2024"
    for agent_id in roles.get("rcl_valid", []):
        yield (_demo_npn(agent_id), "2024", "10/04/2023", end, "", "", "Y")
    for agent_id in roles.get("rcl_invalid", []):
        yield (_demo_npn(agent_id), "2024", "10/05/2023", end, "", "", "N")
    for agent_id in roles.get("discrepancy", []) + roles.get("terminate", []):
        yield (_demo_npn(agent_id), "2024", "10/04/2023", end, "", "", "Y")
    for n in range(12):  # agents of other portals: read, counted, ignored
        yield (str(24000000 + n), "2024", "10/03/2023", end, "10/03/2023", end, "Y")
    yield ("18000001", "2023", "10/12/2022", "12/31/2023", "", "", "-")
    yield ("18000002", "2024", "13/45/2023", end, "", "", "Y")  # malformed date


def _termination_rows(roles: dict[str, list[str]]) -> Iterator[tuple[str, ...]]:
    for agent_id in roles.get("terminate", []):
        yield (
            _demo_npn(agent_id),
            "2024",
            "INDIVIDUAL",
            "10/03/2023",
            "10/03/2023",
            "",
            "10/16/2023",
            "",
            "T3",
        )
    for agent_id in roles.get("reinstate", []):
        npn = _demo_npn(agent_id)
        yield (
            npn,
            "2024",
            "INDIVIDUAL",
            "10/02/2023",
            "10/02/2023",
            "",
            "10/10/2023",
            "",
            "T1",
        )
        yield (
            npn,
            "2024",
            "INDIVIDUAL",
            "10/02/2023",
            "10/02/2023",
            "",
            "10/10/2023",
            "10/17/2023",
            "R1",
        )
    yield (
        "24000005",
        "2024",
        "BOTH",
        "10/03/2023",
        "10/03/2023",
        "10/03/2023",
        "10/12/2023",
        "",
        "T4",
    )
