"""The API reference: every public name has a docstring, and the built site shows it.

The public modules are the five the reference documents; "public" is what
their ``__all__`` lists, plus the public methods and properties of the
classes there (those a class inherits from regflow's own private bases
included, which the reference shows on the class).
"""

from __future__ import annotations

import functools
import importlib
import inspect
import os
import re
import subprocess
import sys
import types
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
# module -> its page under docs/api/
MODULES = {
    "regflow": "regflow",
    "regflow.events": "events",
    "regflow.store": "store",
    "regflow.lists": "lists",
    "regflow.testing": "testing",
    "regflow.report": "report",
}
_ID = re.compile(r'\bid="([^"]+)"')
# a role left as written: ":class:`X`", or after markdown ":class:<code>X</code>"
_RAW_ROLE = re.compile(r":(?:class|meth|func|mod|data|attr|exc|obj|const):(?:`|<code>)")


def public_names() -> Iterator[tuple[str, str, object]]:
    """(module, name, object) for every name of the public modules' ``__all__``."""
    for module_name in MODULES:
        module = importlib.import_module(module_name)
        for name in module.__all__:
            yield module_name, name, getattr(module, name)


def public_members(cls: type) -> Iterator[tuple[str, object]]:
    """(name, function or property) for the public callables of *cls*.

    Walks the class and its bases defined in regflow (a private base's
    members are shown on the public class); members of other libraries'
    bases (hypothesis's, enum's) are theirs to document.
    """
    seen: set[str] = set()
    for base in cls.__mro__:
        if not base.__module__.startswith("regflow"):
            continue
        for name, value in vars(base).items():
            if name.startswith("_") or name in seen:
                continue
            seen.add(name)
            if isinstance(value, classmethod | staticmethod):
                yield name, value.__func__
            elif isinstance(
                value, property | functools.cached_property
            ) or inspect.isfunction(value):
                yield name, value


def _has_docstring(obj: object) -> bool:
    doc = getattr(obj, "__doc__", None)
    return isinstance(doc, str) and bool(doc.strip())


def test_every_public_class_function_and_method_has_a_docstring() -> None:
    """No public class, function, method or property lacks its own docstring."""
    missing = []
    for module_name, name, obj in public_names():
        documentable = inspect.isclass(obj) or inspect.isfunction(obj)
        if documentable and not _has_docstring(obj):
            missing.append(f"{module_name}.{name}")
        if inspect.isclass(obj):
            missing += [
                f"{module_name}.{name}.{member}"
                for member, value in public_members(obj)
                if not _has_docstring(value)
            ]
    assert missing == [], f"public names without a docstring: {missing}"


def test_the_walk_finds_methods_properties_and_inherited_members() -> None:
    """The docstring walk sees what it must check (so it cannot pass vacuously)."""
    import regflow
    from regflow.store import SQLiteStore

    names = dict(public_members(regflow.Workflow))
    assert {"apply", "explain", "for_plan_year", "diagram"} <= set(names)
    assert isinstance(names["for_plan_year"], types.FunctionType)  # a classmethod's
    assert isinstance(dict(public_members(regflow.Decision))["allowed"], property)
    assert "write" in dict(public_members(SQLiteStore))  # from a private base
    assert not _has_docstring(lambda: None)


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The documentation built with ``mkdocs build --strict`` into a temp folder.

    In a child process: a build changes the interpreter's global state (it
    doubles the recursion limit, which other tests rely on).
    """
    pytest.importorskip("mkdocs", reason="the docs extra is not installed")
    folder = tmp_path_factory.mktemp("site")
    env = {**os.environ, "NO_MKDOCS_2_WARNING": "1"}
    # strict: any warning (a broken link, a missing file or anchor) aborts.
    built = subprocess.run(
        [
            sys.executable,
            "-m",
            "mkdocs",
            "build",
            "--strict",
            "--site-dir",
            str(folder),
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert built.returncode == 0, built.stderr[-4000:]
    return folder


def page_ids(site: Path, page: str) -> set[str]:
    """The element ids of docs/api/<page>.md as built."""
    return set(_ID.findall((site / "api" / page / "index.html").read_text("utf-8")))


def test_every_public_name_is_in_the_api_reference(site: Path) -> None:
    """Each name of ``__all__`` (and each public method) has its entry on its page."""
    missing = []
    for module_name, name, obj in public_names():
        page = MODULES[module_name]
        ids = page_ids(site, page)
        if isinstance(obj, types.ModuleType):
            # a submodule is a link to its own page, which documents it
            html = (site / "api" / page / "index.html").read_text("utf-8")
            if f'href="../{MODULES[obj.__name__]}/' not in html:
                missing.append(f"{module_name}.{name} (a link to its page)")
            continue
        if f"{module_name}.{name}" not in ids:
            missing.append(f"{module_name}.{name}")
        if inspect.isclass(obj):
            missing += [
                f"{module_name}.{name}.{member}"
                for member, _ in public_members(obj)
                if f"{module_name}.{name}.{member}" not in ids
                and not _listed(site, page, member)
            ]
    assert missing == [], f"not in the API reference: {missing}"


def _listed(site: Path, page: str, member: str) -> bool:
    # A member made when its module is imported (StoreContract's tests) is
    # out of the static analysis' sight: its class's docstring lists it.
    html = (site / "api" / page / "index.html").read_text("utf-8")
    return f"<code>{member}</code>" in html


def test_the_reference_shows_public_paths_and_no_private_modules(site: Path) -> None:
    """Entries are ``regflow.X``, never ``regflow._module.X``, and roles are rendered."""
    for page in MODULES.values():
        html = (site / "api" / page / "index.html").read_text("utf-8")
        private = sorted(i for i in _ID.findall(html) if re.search(r"(^|\.)_[a-z]", i))
        assert private == [], f"api/{page}: private entries {private}"
        raw = _RAW_ROLE.findall(html)
        assert raw == [], f"api/{page}: Sphinx roles printed as written: {raw[:5]}"
