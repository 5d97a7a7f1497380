"""The documentation site's pages keep up with the code they describe.

The state diagrams are what ``Workflow.diagram()`` draws today; every CLI
command has its page naming each of its options and arguments; every
example script has its gallery page, which includes the file itself.
"""

from __future__ import annotations

import re
from pathlib import Path

import click
import pytest

import regflow
from regflow import Track
from regflow.cli import cli

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"
_MERMAID = re.compile(r"^```mermaid\n(.*?)^```", re.DOTALL | re.MULTILINE)
DIAGRAM_YEAR = 2024  # the year the pages draw


def mermaid_fences(page: Path) -> list[str]:
    """The page's ```mermaid blocks, in order."""
    return _MERMAID.findall(page.read_text(encoding="utf-8"))


def test_the_diagram_page_draws_each_track_as_diagram_does_now() -> None:
    """docs/diagram.md holds the Individual, then the SHOP drawing, as drawn today."""
    flow = regflow.Workflow.for_plan_year(DIAGRAM_YEAR)
    assert mermaid_fences(DOCS / "diagram.md") == [
        flow.diagram(track=Track.INDIVIDUAL),
        flow.diagram(track=Track.SHOP),
    ]


def test_every_mermaid_fence_in_the_docs_is_a_current_drawing() -> None:
    """No page keeps a copy of the diagram that the machine no longer draws."""
    flow = regflow.Workflow.for_plan_year(DIAGRAM_YEAR)
    drawings = {
        flow.diagram(),
        flow.diagram(track=Track.INDIVIDUAL),
        flow.diagram(track=Track.SHOP),
    }
    stale = [
        page.relative_to(ROOT).as_posix()
        for page in sorted(DOCS.glob("**/*.md"))
        for fence in mermaid_fences(page)
        if fence not in drawings
    ]
    assert stale == []
    assert mermaid_fences(DOCS / "machine.md") == [flow.diagram()]


def test_one_track_drawing_has_only_that_tracks_states() -> None:
    """diagram(track=...) draws one region, every state of that track, no other."""
    flow = regflow.Workflow.for_plan_year(DIAGRAM_YEAR)
    shop = flow.diagram(track=Track.SHOP)
    individual = flow.diagram(track=Track.INDIVIDUAL)
    assert "plan year 2024, SHOP track" in shop
    assert "plan year 2024, Individual track" in individual
    for state in regflow.ShopState:
        assert f"registration__shop__{state.value}" in shop
    for state in regflow.IndividualState:
        assert f"registration__individual__{state.value}" in individual
    assert "registration__individual" not in shop
    assert "registration__shop" not in individual
    assert "\n    --\n" not in shop  # no second concurrent region
    assert flow.diagram(track=None) == flow.diagram()
    assert "My title" in flow.diagram(track=Track.SHOP, title="My title")


def test_a_track_that_is_not_a_track_is_refused() -> None:
    """diagram(track="shop") is an InvalidValue naming the argument, not a crash."""
    flow = regflow.Workflow.for_plan_year(DIAGRAM_YEAR)
    with pytest.raises(regflow.InvalidValue, match=r"'track' must be a regflow\.Track"):
        flow.diagram(track="shop")  # type: ignore[arg-type]


COMMANDS = sorted(cli.commands)


def test_the_cli_has_commands_to_document() -> None:
    """The command group is introspected, not an empty list."""
    assert {"reconcile", "status", "overdue", "diagram", "demo"} <= set(COMMANDS)


@pytest.mark.parametrize("name", COMMANDS)
def test_every_command_has_a_page_naming_each_option(name: str) -> None:
    """docs/cli/<command>.md exists, is linked from the CLI index, and names
    every option (each spelling) and argument of the command."""
    page = DOCS / "cli" / f"{name}.md"
    assert page.is_file(), f"no page for 'regflow {name}': write {page}"
    text = page.read_text(encoding="utf-8")
    assert text.startswith(f"# `regflow {name}`")
    assert f"({name}.md)" in (DOCS / "cli" / "index.md").read_text(encoding="utf-8")
    command = cli.commands[name]
    unnamed = []
    for param in command.params:
        if isinstance(param, click.Argument):
            spellings = [param.human_readable_name]
        else:
            spellings = [*param.opts, *param.secondary_opts]
        unnamed += [f"`{s}" for s in spellings if f"`{s}" not in text]
    assert unnamed == [], f"docs/cli/{name}.md does not name {unnamed}"


EXAMPLES = sorted((ROOT / "examples").glob("*.py"))


@pytest.mark.parametrize("script", EXAMPLES, ids=lambda p: p.name)
def test_every_example_has_a_gallery_page_that_includes_it(script: Path) -> None:
    """docs/gallery/<example>.md includes the script itself and is in the index."""
    page = DOCS / "gallery" / f"{script.stem}.md"
    assert page.is_file(), f"no gallery page for {script.name}: write {page}"
    include = f'--8<-- "examples/{script.name}"'
    assert include in page.read_text(encoding="utf-8")
    index = (DOCS / "gallery" / "index.md").read_text(encoding="utf-8")
    assert f"({script.stem}.md)" in index
