"""The public path of every public name: one way, for each package.

A class or function defined in a private module (``regflow._npn``) but
exported by a package shows the package's path in reprs, tracebacks and the
API reference (``regflow.NPN``), as httpx does. String annotations of attrs
classes are resolved first: they are looked up in ``__module__``.
"""

from __future__ import annotations

import types
from collections.abc import Iterable, Mapping

import attrs

__all__ = ["publish"]


def publish(
    namespace: Mapping[str, object],
    package: str,
    names: Iterable[str],
    *,
    private: str | None = None,
) -> None:
    """Give each of *names* in *namespace*, if defined in a module whose name
    starts with *private* (default ``package._``), the public ``__module__``
    *package*.

    A name re-exported from elsewhere (another package's, or the standard
    library's) keeps its own path.
    """
    private = f"{package}._" if private is None else private
    for name in names:
        obj = namespace[name]
        if not isinstance(obj, type | types.FunctionType):
            continue
        if not obj.__module__.startswith(private):
            continue
        if isinstance(obj, type) and attrs.has(obj):
            attrs.resolve_types(obj)
        obj.__module__ = package
