"""A griffe extension: regflow's docstrings cross-reference in Sphinx roles.

(And mark literal blocks the reST way, ``Example::``; see ``_LITERAL``.)

The docstrings are Google style, but name other objects the Sphinx way
(:class:`Registration`, :meth:`~RegistrationMachine.do_start`), which
mkdocstrings would print verbatim. This turns each role into an optional
autorefs link: resolved the way Sphinx would (from the docstring's own
object outwards, then as an absolute path), linked when the target is
rendered somewhere, plain code when it is not (a private helper, the
standard library), so the API reference never shows ``:class:``.
"""

from __future__ import annotations

import html
import re
from typing import Any

from griffe import Extension, Module, Object

# reST's literal-block marker: "Strategies::" reads "Strategies:" (and a
# lone "::" disappears) before the indented block markdown shows as code.
_LITERAL = re.compile(r"(\S)?[ ]?::\n(?=\n)")
_ROLE = re.compile(
    r":(?:py:)?(?P<role>class|meth|func|mod|data|attr|exc|obj|const):"
    r"`(?P<tilde>~?)(?P<target>[^`]+)`"
)


def _resolve(scope: Object, target: str, root: Module) -> str | None:
    """The path of *target* as seen from *scope*, or None if griffe has no such object."""
    target = target.rstrip("()")
    here: Object | None = scope
    while here is not None:
        candidate = f"{here.path}.{target}"
        if _exists(root, candidate):
            return candidate
        here = here.parent
    return target if _exists(root, target) else None


def _exists(root: Module, path: str) -> bool:
    head, _, rest = path.partition(".")
    if head != root.name:
        return False
    try:
        found = root[rest] if rest else root
    except Exception:  # a missing member, or an alias griffe cannot resolve
        return False
    return found is not None


def _rewrite(obj: Object, text: str, root: Module) -> str:
    def link(match: re.Match[str]) -> str:
        target = match["target"]
        shown = target.rsplit(".", 1)[-1] if match["tilde"] else target
        if match["role"] in ("meth", "func") and not shown.endswith(")"):
            shown += "()"
        code = f"<code>{html.escape(shown)}</code>"
        path = _resolve(obj, target, root)
        if path is None:
            return code
        return f'<autoref identifier="{html.escape(path)}" optional>{code}</autoref>'

    text = _LITERAL.sub(lambda m: f"{m[1]}:\n" if m[1] else "\n", text)
    return _ROLE.sub(link, text)


def _walk(obj: Object, root: Module) -> None:
    docstring = obj.docstring
    if docstring is not None:
        docstring.value = _rewrite(obj, docstring.value, root)
        # Parsed already (griffe_fieldz reads the sections to add the attrs
        # fields): the sections are what is rendered, so rewrite them too.
        for section in docstring.__dict__.get("parsed", ()):
            _rewrite_section(obj, section, root)
    for member in obj.members.values():
        if member.is_alias:  # documented where it is defined
            continue
        _walk(member, root)  # type: ignore[arg-type]


def _rewrite_section(obj: Object, section: Any, root: Module) -> None:
    if isinstance(section.value, str):
        section.value = _rewrite(obj, section.value, root)
        return
    items = section.value if isinstance(section.value, list) else [section.value]
    for item in items:
        description = getattr(item, "description", None)
        if isinstance(description, str):
            item.description = _rewrite(obj, description, root)


class SphinxRoles(Extension):
    """Rewrite Sphinx cross-reference roles once the package is loaded."""

    def on_package(self, *, pkg: Module, **kwargs: Any) -> None:
        """Rewrite every docstring of *pkg* and its members."""
        _walk(pkg, pkg)
