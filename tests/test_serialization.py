"""JSON for snapshots and events: round trips, versions, malformed input."""

from __future__ import annotations

import datetime as dt
import json
import re
from pathlib import Path

import pytest
from hypothesis import given, settings

import regflow
from regflow import _serialization
from regflow import events as ev
from regflow.testing import any_event, registrations

DOCS = Path(__file__).resolve().parent.parent / "docs"


@settings(max_examples=40, deadline=None)
@given(registrations())
def test_snapshot_round_trips(reg: regflow.Registration) -> None:
    """A snapshot in any reachable state survives dumps/loads unchanged."""
    assert regflow.loads(regflow.dumps(reg)) == reg


@settings(max_examples=100, deadline=None)
@given(any_event())
def test_event_round_trips(event: ev.Event) -> None:
    """Any event survives dumps/loads as its own type, tagged with its kind."""
    text = regflow.dumps(event)
    assert json.loads(text)["type"] == event.kind
    back = regflow.loads(text, ev.Event)
    assert back == event and type(back) is type(event)
    assert regflow.loads(text, type(event)) == event


def test_snapshot_carries_schema_version() -> None:
    """Every dumped snapshot says which layout it uses."""
    reg = _started()
    assert json.loads(regflow.dumps(reg))["schema_version"] == regflow.SCHEMA_VERSION


def test_newer_schema_version_is_refused() -> None:
    """A snapshot from a newer regflow raises UnsupportedSchemaVersion naming both."""
    data = json.loads(regflow.dumps(_started()))
    data["schema_version"] = regflow.SCHEMA_VERSION + 1
    with pytest.raises(regflow.UnsupportedSchemaVersion) as info:
        regflow.loads(json.dumps(data))
    assert info.value.found == regflow.SCHEMA_VERSION + 1
    assert info.value.supported == regflow.SCHEMA_VERSION


def test_missing_schema_version_is_refused() -> None:
    """A snapshot without a schema_version is a SerializationError saying so."""
    data = json.loads(regflow.dumps(_started()))
    del data["schema_version"]
    with pytest.raises(regflow.SerializationError, match="schema_version"):
        regflow.loads(json.dumps(data))


def test_older_version_is_upgraded_by_migration(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """An older snapshot is upgraded step by step by the registered migrations."""
    reg = _started()
    data = json.loads(regflow.dumps(reg))
    data["schema_version"] = regflow.SCHEMA_VERSION - 1
    data["portal_account"] = data.pop("portal_account_id")  # the "old" layout

    def upgrade(old: dict[str, object]) -> dict[str, object]:
        old["portal_account_id"] = old.pop("portal_account")
        return old

    monkeypatch.setitem(_serialization.MIGRATIONS, regflow.SCHEMA_VERSION - 1, upgrade)
    assert regflow.loads(json.dumps(data)) == reg


def test_older_version_without_migration_is_refused() -> None:
    """An older snapshot with no migration path raises, naming the versions."""
    data = json.loads(regflow.dumps(_started()))
    data["schema_version"] = 0
    with pytest.raises(regflow.SerializationError, match="no migration"):
        regflow.loads(json.dumps(data))


@pytest.mark.parametrize(
    ("text", "match"),
    [
        ("{not json", "not JSON"),
        ("[1, 2]", "JSON object"),
        ('{"schema_version": 2}', "not a valid Registration"),
        ('{"schema_version": 1}', "holds its history as a non-empty array"),
    ],
)
def test_malformed_snapshot_text_is_refused(text: str, match: str) -> None:
    """Malformed text raises SerializationError saying what is wrong."""
    with pytest.raises(regflow.SerializationError, match=match):
        regflow.loads(text)


def test_bad_field_value_names_the_field() -> None:
    """A bad NPN inside a stored snapshot is reported with where it is."""
    profile = regflow.Profile(role=regflow.Role.MARKETPLACE_AGENT_BROKER, npn="123")
    reg = regflow.Workflow.for_plan_year(2024).apply(
        _started(), ev.SaveProfile(event_id="p", at=_T0, profile=profile)
    )
    text = regflow.dumps(reg).replace('"npn":"123"', '"npn":"12a"', 1)
    with pytest.raises(regflow.SerializationError, match="npn"):
        regflow.loads(text)


def test_naive_timestamp_in_text_is_refused() -> None:
    """A stored event time without an offset is refused, not read as local time."""
    text = regflow.dumps(_started()).replace("+00:00", "")
    with pytest.raises(regflow.SerializationError, match="offset"):
        regflow.loads(text)


def test_unknown_event_type_is_refused() -> None:
    """An event of a type regflow does not know is refused with the known ones."""
    with pytest.raises(regflow.SerializationError, match="unknown event type"):
        regflow.loads('{"type": "hack", "event_id": "x"}', ev.Event)


def test_event_of_another_type_is_refused() -> None:
    """Asking for one event class and finding another is an error, not a cast."""
    text = regflow.dumps(ev.PortalLogin(event_id="x", at=_T0))
    with pytest.raises(regflow.SerializationError, match="expected a CompleteProfile"):
        regflow.loads(text, ev.CompleteProfile)


def test_docs_diagram_is_current() -> None:
    """The mermaid diagram in docs/machine.md is what diagram() draws today."""
    page = (DOCS / "machine.md").read_text(encoding="utf-8")
    found = re.search(r"```mermaid\n(.*?)```", page, re.DOTALL)
    assert found is not None
    drawn = regflow.Workflow.for_plan_year(2024).diagram()
    assert found.group(1).strip() == drawn.strip()


_T0 = dt.datetime(2023, 10, 2, 9, tzinfo=dt.timezone.utc)


def _started() -> regflow.Registration:
    return regflow.Workflow.for_plan_year(2024).start(
        ev.StartRegistration(
            event_id="s",
            at=_T0,
            agent_id="a-1",
            portal_account_id="p-1",
            plan_year=2024,
            prior_year=2023,
        )
    )
