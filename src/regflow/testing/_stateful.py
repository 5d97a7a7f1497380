"""The reusable stateful test: random orders on both tracks, invariants after each.

Each step sends, through the host's embedding, every choice the menu
disables now (each must be refused as :meth:`Workflow.check` says) and then
one event, valid or not. Its ``TestCase`` first follows the planned tours of
:func:`~regflow.testing.reachable` (so that a run exercises every reachable
triple, which random walks alone seldom do), then runs hypothesis's random
walks. Every event sent is recorded by an active
:class:`~regflow.testing.Coverage`.
"""

from __future__ import annotations

import datetime as dt
import functools
from typing import Any

from hypothesis import HealthCheck, settings
from hypothesis import event as note
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule

from .. import _events as ev
from .._errors import StepRefused
from .._registration import Registration
from .._serialization import dumps
from .._workflow import Workflow
from ._core import (
    _EPOCH,
    Probe,
    _event_id,
    _fresh,
    _menu,
    _pick,
    _starts,
    assert_invariants,
)
from ._coverage import _observe
from ._explore import _WAIT, Tour, _planned, reachable

__all__ = ["RegistrationMachine"]

# Days between steps: mostly none to two; one step in sixteen a month, so a
# walk also meets a launch expiring and the RCL running late.
_DAYS = st.integers(0, 15).map(lambda n: 31 if n == 15 else n % 3)


class _WithTours:
    """``Machine.TestCase``: hypothesis's test case, which follows the tours first."""

    def __get__(
        self, obj: RegistrationMachine | None, owner: type[RegistrationMachine]
    ) -> type[Any]:
        return _test_case(owner if obj is None else type(obj))


@functools.cache
def _test_case(machine: type[RegistrationMachine]) -> type[Any]:
    base: type[Any] = RuleBasedStateMachine.__dict__["TestCase"].__get__(None, machine)

    class TestCase(base):  # type: ignore[misc]
        def runTest(self) -> None:
            if machine.tours:
                tours = reachable(machine.plan_year).tours
                for number, tour in enumerate(tours, 1):
                    try:
                        machine().follow(tour)
                    except AssertionError as failed:
                        message = f"tour {number} of {len(tours)}: {failed}"
                        raise AssertionError(message) from failed
            super().runTest()

    TestCase.__name__ = base.__name__
    TestCase.__qualname__ = base.__qualname__
    return TestCase


class RegistrationMachine(RuleBasedStateMachine):
    """Random valid and invalid events in random orders, invariants after each.

    Override :meth:`do_start` and :meth:`do_apply` to drive your own embedding
    (they must behave like :meth:`Workflow.start` and :meth:`Workflow.apply`:
    return the new registration, or raise :class:`regflow.StepRefused`).
    ``TestCase`` follows the planned tours first; at its default settings
    (60 walks of 40 steps, derandomized) a run exercises every triple
    :func:`~regflow.testing.reachable` finds.
    """

    plan_year = 2024
    tours = True
    """Follow the tours of :func:`~regflow.testing.reachable` before the
    random walks; ``False``: random walks only."""

    TestCase = _WithTours()

    def __init__(self) -> None:
        super().__init__()
        self.flow = Workflow.for_plan_year(self.plan_year)
        self.at = _EPOCH.replace(year=self.plan_year - 1)
        self.reg: Registration | None = None
        self.refused = 0
        self.accepted = 0

    def do_start(self, event: ev.StartRegistration) -> Registration:
        """Start a registration the way the embedding does."""
        return self.flow.start(event)

    def do_apply(self, reg: Registration, event: ev.Event) -> Registration:
        """Apply an event the way the embedding does."""
        return self.flow.apply(reg, event)

    @initialize(data=st.data())
    def begin(self, data: st.DataObject) -> None:
        """Hypothesis's initialize step: start a drawn registration with :meth:`do_start`."""
        self.reg = self.do_start(data.draw(_starts(self.plan_year, self.at)))

    @rule(data=st.data(), days=_DAYS)
    def fire(self, data: st.DataObject, days: int) -> None:
        """Hypothesis's rule: *days* later, send every choice the menu
        disables, then one drawn event, valid or not; check the embedding
        accepts or refuses each as the catalog says."""
        self.at += dt.timedelta(days=days, minutes=1)
        reg, frozen, menu = self._press()
        plausible = [event for event, _, _ in menu]
        valid = [event for event, refusals, _ in menu if not refusals]
        self._send(data.draw(_pick(reg, self.at, plausible, valid)), frozen)

    def follow(self, tour: Tour) -> None:
        """Follow one planned tour through the embedding, as :meth:`fire`
        does a walk: disabled choices pressed, invariants after each step."""
        start = ev.StartRegistration(
            event_id=_event_id(),
            at=self.at,
            agent_id="agent-1",
            portal_account_id="portal-1",
            plan_year=self.plan_year,
            prior_year=tour.prior_year,
        )
        self.reg = self.do_start(start)
        assert_invariants(self.reg, self.flow)
        for number, step in enumerate(tour.steps, 1):
            self.at += step[0] * _WAIT + dt.timedelta(hours=1)
            reg, frozen, _ = self._press()
            planned = _planned(self.flow, reg, self.at, step)
            assert planned is not None, (
                f"tour step {number}: {step[1]} is not allowed on the embedding's "
                "registration, which the catalog's registration would allow: they "
                "differ"
            )
            # A fresh id: a representative profile's is shared.
            self._send(_fresh(planned), frozen)
            assert_invariants(self.reg, self.flow)
        self.teardown()

    def _press(self) -> tuple[Registration, str, list[Probe]]:
        """Send every choice the menu disables now.

        Returns the registration, its JSON (to check nothing changes it) and
        the menu, each choice with its verdict.
        """
        reg = self.reg
        assert reg is not None
        frozen = dumps(reg)
        menu = _menu(reg, self.flow, self.at)
        for event, refusals, _ in menu:
            if refusals:
                self._send(event, frozen)
        return reg, frozen, menu

    def _send(self, event: ev.Event, frozen: str) -> None:
        before = self.reg
        assert before is not None
        decision = self.flow.check(before, event)
        _observe(self.flow, before, event)
        try:
            after = self.do_apply(before, event)
        except StepRefused as refused:
            assert not decision.allowed, f"check allowed {event!r}, apply refused it"
            assert refused.refusals == decision.refusals
            assert dumps(before) == frozen, "a refused event changed the registration"
            self.refused += 1
            return
        assert decision.allowed, f"apply accepted {event!r} that check refused"
        assert after.version == before.version + 1
        assert after.history[-1] == event
        assert dumps(before) == frozen, "apply mutated its input"
        self.reg = after
        self.accepted += 1

    @invariant()
    def holds(self) -> None:
        """Hypothesis's invariant: :func:`assert_invariants` after every step."""
        if self.reg is not None:
            note(f"reached individual {self.reg.individual.value}")
            note(f"reached shop {self.reg.shop.value}")
            note(f"accepted {min(self.accepted // 10 * 10, 40)}+")
            assert_invariants(self.reg, self.flow)


RegistrationMachine.TestCase.settings = settings(
    max_examples=60,
    stateful_step_count=40,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow],
)
