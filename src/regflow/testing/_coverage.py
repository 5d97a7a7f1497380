"""Transition coverage: which (state, event, outcome) triples a run exercised.

:class:`Coverage` records the :class:`~regflow.testing.Triple` of every
event the stateful test and :func:`~regflow.testing.assert_agrees` send
through a host while it is active; its report lists, per plan year and
track, the triples :func:`~regflow.testing.reachable` finds that the run
never exercised.
"""

from __future__ import annotations

from collections.abc import Iterable
from types import TracebackType

from .. import _events as ev
from .._registration import Registration
from .._states import Track
from .._workflow import Workflow
from ._explore import reachable
from ._triple import Triple, triples

__all__ = ["Coverage"]


_ACTIVE: list[Coverage] = []


def _observe(flow: Workflow, reg: Registration, event: ev.Event) -> None:
    """Record *event* sent to *reg* in every active :class:`Coverage`."""
    if _ACTIVE:
        found = triples(flow, reg, event)
        for coverage in _ACTIVE:
            coverage.add(flow.rules.plan_year, found)


class Coverage:
    """The triples exercised while it is active (``with Coverage() as c:``).

    Active ones nest: each records everything sent while it is active. The
    pytest plugin's ``--regflow-coverage`` keeps one active for the session.
    """

    def __init__(self) -> None:
        self._reached: dict[int, set[Triple]] = {}

    def __enter__(self) -> Coverage:
        _ACTIVE.append(self)
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        _ACTIVE.remove(self)

    def add(self, plan_year: int, found: Iterable[Triple]) -> None:
        """Count *found* as exercised in *plan_year*."""
        self._reached.setdefault(plan_year, set()).update(found)

    @property
    def plan_years(self) -> tuple[int, ...]:
        """The plan years something was recorded for."""
        return tuple(sorted(self._reached))

    def reached(self, plan_year: int) -> frozenset[Triple]:
        """Every triple exercised in *plan_year*."""
        return frozenset(self._reached.get(plan_year, ()))

    def missing(self, plan_year: int) -> tuple[Triple, ...]:
        """The reachable triples of *plan_year* never exercised, sorted."""
        return tuple(sorted(reachable(plan_year).triples - self.reached(plan_year)))

    def report(self) -> str:
        """What was reached and what never was, per plan year and track."""
        if not self._reached:
            return "regflow coverage: no event was sent through a host"
        lines: list[str] = []
        for year in self.plan_years:
            universe = reachable(year)
            got = self.reached(year)
            lines.append(
                f"regflow coverage, plan year {year}: "
                f"{len(universe.triples & got)} of {len(universe.triples)} "
                "reachable triples"
            )
            missing = self.missing(year)
            for track in Track:
                left = [t for t in missing if t.track == track.value]
                total = len(universe.on(track))
                lines.append(f"  {track.value}: {total - len(left)} of {total}")
                lines += [f"    never: {t}" for t in left]
            beyond = len(got - universe.triples)
            if beyond:
                # Arbitrary events (a malformed profile, odd values) reach
                # triples no menu offers: counted, not listed.
                lines.append(f"  beyond the exploration: {beyond} more reached")
        return "\n".join(lines)
