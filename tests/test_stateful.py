"""The stateful test for another plan year.

The shipped ``RegistrationMachine.TestCase`` for 2024, at its default
settings, runs in ``test_coverage.py``, which also checks what it covered.
"""

from hypothesis import settings

from regflow.testing import RegistrationMachine


class NextYearMachine(RegistrationMachine):
    """The same machine for plan year 2026, random walks only."""

    plan_year = 2026
    tours = False


NextYearMachine.TestCase.settings = settings(
    max_examples=20, stateful_step_count=30, deadline=None
)
TestNextYear = NextYearMachine.TestCase
