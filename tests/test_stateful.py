"""The stateful test: random valid and invalid events, invariants after each."""

from hypothesis import settings

from regflow.testing import RegistrationMachine

RegistrationMachine.TestCase.settings = settings(
    max_examples=60, stateful_step_count=40, deadline=None
)
TestRegistrationMachine = RegistrationMachine.TestCase


class NextYearMachine(RegistrationMachine):
    """The same machine for plan year 2026, built from the same rule shape."""

    plan_year = 2026


NextYearMachine.TestCase.settings = settings(
    max_examples=20, stateful_step_count=30, deadline=None
)
TestNextYear = NextYearMachine.TestCase
