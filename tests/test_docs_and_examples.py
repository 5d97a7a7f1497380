"""Every example script and every ```python block in docs/ (and its folders) runs, as written.

A block whose first line is ``# needs: postgres`` runs with ``DSN`` (the test
server, from ``REGFLOW_TEST_POSTGRES_DSN``) and ``SCHEMA`` (a fresh schema,
dropped afterwards) in its namespace; without a server it is skipped, unless
``REGFLOW_REQUIRE_POSTGRES=1`` makes that a failure. Such blocks must not be
needed by the blocks after them.
"""

from __future__ import annotations

import os
import re
import runpy
import secrets
import sys
from pathlib import Path

import pytest

from regflow import _messages
from store_fixtures import DSN_VAR, REQUIRE_VAR, drop_schema

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = sorted((ROOT / "examples").glob("*.py"))
PAGES = [*sorted((ROOT / "docs").glob("**/*.md")), ROOT / "README.md"]
# A fence may carry attributes (```python title="..."); a block may be a
# file included whole by pymdownx.snippets, run as the site shows it.
_BLOCK = re.compile(r"^```python(?: [^\n]*)?\n(.*?)^```", re.DOTALL | re.MULTILINE)
_SNIPPET = re.compile(r'^--8<-- "([^"]+)"\n', re.MULTILINE)


def python_blocks(page: Path) -> list[str]:
    """The page's ```python blocks, in order, with included files expanded."""
    return [
        _SNIPPET.sub(_included, block)
        for block in _BLOCK.findall(page.read_text(encoding="utf-8"))
    ]


def _included(line: re.Match[str]) -> str:
    return (ROOT / line.group(1)).read_text(encoding="utf-8")


@pytest.mark.parametrize("script", EXAMPLES, ids=lambda p: p.name)
def test_example_runs(
    script: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """An example script runs to the end as __main__."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(sys, "argv", [str(script)])
    runpy.run_path(str(script), run_name="__main__")


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.relative_to(ROOT).as_posix())
def test_docs_page_blocks_run(
    page: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """The page's python blocks run in order in one namespace, in a temp dir."""
    monkeypatch.chdir(tmp_path)
    # A page may register a locale; keep that from leaking into other tests.
    monkeypatch.setattr(_messages, "_CATALOGS", dict(_messages._CATALOGS))
    name = page.relative_to(ROOT).as_posix()
    namespace: dict[str, object] = {"__name__": f"docs_{page.stem}"}
    for number, block in enumerate(python_blocks(page), 1):
        code = compile(block, f"{name} block {number}", "exec")
        if block.startswith(_NEEDS_POSTGRES):
            _run_with_postgres(code, namespace, f"{name} block {number}")
        else:
            exec(code, namespace)


_NEEDS_POSTGRES = "# needs: postgres\n"


def _run_with_postgres(code: object, namespace: dict[str, object], where: str) -> None:
    dsn = os.environ.get(DSN_VAR, "")
    if not dsn:
        if os.environ.get(REQUIRE_VAR) == "1":
            pytest.fail(f"{where} needs PostgreSQL and {DSN_VAR} is not set")
        return  # the rest of the page does not depend on it
    schema = f"regflow_docs_{secrets.token_hex(4)}"
    try:
        exec(code, {**namespace, "DSN": dsn, "SCHEMA": schema})  # type: ignore[call-overload]
    finally:
        drop_schema(dsn, schema)


def test_every_page_is_collected() -> None:
    """The docs folder has pages and the examples folder has scripts to run."""
    assert EXAMPLES, "no examples found"
    assert any(python_blocks(p) for p in PAGES), "no python blocks found in docs"
