"""A griffe extension: regflow's docstrings cross-reference in Sphinx roles.

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
        root[rest] if rest else root  # noqa: B018 - the lookup is the test
    except Exception:  # a missing member, or an alias griffe cannot resolve
        return False
    return True


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

    return _ROLE.sub(link, text)


def _walk(obj: Object, root: Module) -> None:
    if obj.docstring is not None:
        obj.docstring.value = _rewrite(obj, obj.docstring.value, root)
    for member in obj.members.values():
        if member.is_alias:  # documented where it is defined
            continue
        _walk(member, root)  # type: ignore[arg-type]


class SphinxRoles(Extension):
    """Rewrite Sphinx cross-reference roles once the package is loaded."""

    def on_package(self, *, pkg: Module, **kwargs: Any) -> None:
        """Rewrite every docstring of *pkg* and its members."""
        _walk(pkg, pkg)
