"""regflow.pytest_plugin, run in a pytest of its own (pytester) as a host would."""

from __future__ import annotations

import pytest

pytest_plugins = ["pytester"]

# The plugin by its module, whether or not regflow's pytest11 entry point
# (named "regflow") is installed: an installed one is blocked first, else
# pytest would see the same module under two names.
_PLUGIN = ("-p", "no:regflow", "-p", "regflow.pytest_plugin")

HOST_TESTS = """
from hypothesis import given, settings, strategies as st

import regflow
from regflow import events as ev
from regflow.store import Repository


def test_workflow_is_the_plan_year(regflow_workflow):
    assert regflow_workflow.rules.plan_year == 2024


def test_event_factory_fills_ids_and_times(regflow_event, regflow_workflow):
    start = regflow_event(ev.StartRegistration)
    login = regflow_event(ev.PortalLogin)
    assert start.event_id != login.event_id and start.at < login.at
    reg = regflow_workflow.start(start)
    assert reg.plan_year == 2024 and reg.agent_id == "agent-1"


def test_sqlite_store_is_fresh(regflow_sqlite_store, regflow_event, tmp_path):
    with Repository(regflow_sqlite_store) as repo:
        reg = repo.start(regflow_event(ev.StartRegistration))
        assert repo.load("agent-1", 2024) == reg
    assert list(tmp_path.iterdir())


def test_postgres_store(regflow_postgres_store, regflow_event):
    with Repository(regflow_postgres_store) as repo:
        reg = repo.start(regflow_event(ev.StartRegistration))
        assert repo.load("agent-1", 2024) == reg


@settings(max_examples=5, deadline=None)
@given(st.from_type(regflow.Registration), st.from_type(ev.AcceptAgreement))
def test_from_type(reg, event):
    assert isinstance(reg, regflow.Registration)
    assert isinstance(event, ev.AcceptAgreement)


@settings(max_examples=3, deadline=None)
@given(st.from_type(ev.StartRegistration), st.from_type(ev.Terminate))
def test_from_type_start(start, row):
    assert start.plan_year == 2024 and isinstance(row, ev.Terminate)
"""


def test_the_plugin_gives_a_host_its_fixtures(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(HOST_TESTS)
    result = pytester.runpytest_subprocess(*_PLUGIN, "-p", "no:cacheprovider", "-rs")
    # PostgreSQL runs when the suite's DSN is set, else skips saying why.
    outcomes = result.parseoutcomes()
    assert not outcomes.keys() & {"warning", "warnings"}, result.stdout.str()
    assert outcomes.get("failed", 0) == 0, result.stdout.str()
    assert outcomes["passed"] + outcomes.get("skipped", 0) == 6


def test_without_a_dsn_the_postgres_fixture_skips(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("REGFLOW_TEST_POSTGRES_DSN", raising=False)
    pytester.makepyfile(HOST_TESTS)
    result = pytester.runpytest_subprocess(
        *_PLUGIN,
        "-p",
        "no:cacheprovider",
        "-rs",
        "-k",
        "test_postgres_store",
    )
    result.assert_outcomes(skipped=1)
    result.stdout.fnmatch_lines(["*--regflow-postgres-dsn*"])


def test_a_plan_year_override_reaches_every_fixture(pytester: pytest.Pytester) -> None:
    pytester.makeconftest(
        "import pytest\n\n@pytest.fixture\ndef regflow_plan_year():\n    return 2026\n"
    )
    pytester.makepyfile(
        """
from regflow import events as ev

def test_year(regflow_workflow, regflow_event):
    reg = regflow_workflow.start(regflow_event(ev.StartRegistration))
    assert reg.plan_year == 2026 == regflow_workflow.rules.plan_year
"""
    )
    result = pytester.runpytest_subprocess(*_PLUGIN)
    result.assert_outcomes(passed=1)


def test_the_entry_point_is_declared() -> None:
    """pyproject declares the pytest11 entry point that loads the plugin."""
    import tomllib
    from pathlib import Path

    project = tomllib.loads(
        (Path(__file__).parent.parent / "pyproject.toml").read_text(encoding="utf-8")
    )
    points = project["project"]["entry-points"]["pytest11"]
    assert points == {"regflow": "regflow._pytest_entry"}


def test_the_entry_point_loads_nothing_without_hypothesis(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """An application without hypothesis gets no plugin, and no error."""
    import importlib
    import importlib.util

    import regflow._pytest_entry as entry

    real = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util,
        "find_spec",
        lambda name, *a: None if name == "hypothesis" else real(name, *a),
    )
    assert importlib.reload(entry).pytest_plugins == []
    monkeypatch.undo()
    assert importlib.reload(entry).pytest_plugins == ["regflow.pytest_plugin"]


COVERED_HOST = """
from hypothesis import settings

from regflow.testing import RegistrationMachine


class HostMachine(RegistrationMachine):
    tours = False  # a few random steps: most triples stay unreached


HostMachine.TestCase.settings = settings(
    max_examples=3, stateful_step_count=5, deadline=None, database=None
)
TestHost = HostMachine.TestCase
"""


def test_the_coverage_option_reports_what_was_never_reached(
    pytester: pytest.Pytester,
) -> None:
    from regflow.testing import reachable

    total = len(reachable(2024).triples)  # explored once, in this process
    pytester.makepyfile(COVERED_HOST)
    result = pytester.runpytest_inprocess(
        *_PLUGIN, "-p", "no:cacheprovider", "--regflow-coverage"
    )
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(
        [
            "*regflow coverage*",
            f"regflow coverage, plan year 2024: * of {total} reachable triples",
            "  individual: * of *",
            "    never: individual *",
            "  shop: * of *",
        ]
    )


def test_without_the_option_no_coverage_is_reported(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(COVERED_HOST)
    result = pytester.runpytest_inprocess(*_PLUGIN, "-p", "no:cacheprovider")
    result.assert_outcomes(passed=1)
    assert "regflow coverage" not in result.stdout.str()
