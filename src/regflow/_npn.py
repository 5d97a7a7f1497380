"""The National Producer Number as a validated value type (S8, S9)."""

from __future__ import annotations

import attrs

from ._errors import InvalidNPN

__all__ = ["NPN"]

_MAX_DIGITS = 10


def _diagnose(raw: object) -> tuple[str, str] | None:
    """Return ``(problem, detail)`` when *raw* is not an NPN, else ``None``."""
    if not isinstance(raw, str):
        return "not_text", f"given as {type(raw).__name__}, not text"
    text = raw.strip()
    if not text:
        return "empty", "but it is empty"
    if text.isascii() and text.isdigit():
        if len(text) > _MAX_DIGITS:
            return "too_long", f"but it has {len(text)} digits"
        if text.count("0") == len(text):
            return "all_zeros", "and not all zeros"
        return None
    if any(c.isspace() for c in text):
        return "inner_space", "with no spaces inside"
    if any(c.isdigit() and not c.isascii() for c in text):
        return "non_ascii_digit", "and non-ASCII digits are not accepted"
    bad = next(c for c in text if not (c.isascii() and c.isdigit()))
    return "not_digit", f"but it contains {bad!r}"


@attrs.frozen(slots=True)
class NPN:
    """A National Producer Number: 1 to 10 ASCII digits, not all zeros.

    Build one with :meth:`parse`, which trims surrounding whitespace and says
    what is wrong with a bad value::

        >>> NPN.parse(" 12345678 ")
        NPN('12345678')
        >>> NPN.parse("12 34a")
        Traceback (most recent call last):
        ...
        regflow.InvalidNPN: 'npn' must be 1 to 10 ASCII digits, with no spaces inside (got '12 34a')
    """

    value: str = attrs.field()

    @value.validator
    def _check(self, _attribute: attrs.Attribute[str], value: str) -> None:
        found = _diagnose(value)
        if found is not None or value != value.strip():
            problem, detail = found or ("untrimmed", "without surrounding spaces")
            raise InvalidNPN(value, problem, detail)

    @classmethod
    def parse(cls, raw: object) -> NPN:
        """Return the NPN in *raw*, trimmed, or raise :class:`InvalidNPN`."""
        found = _diagnose(raw)
        if found is not None:
            raise InvalidNPN(raw, *found)
        assert isinstance(raw, str)
        return cls(raw.strip())

    @staticmethod
    def problem(raw: object) -> str | None:
        """Return why *raw* is not an NPN (a short code), or ``None`` if it is one."""
        found = _diagnose(raw)
        return None if found is None else found[0]

    def __str__(self) -> str:
        return self.value

    def __repr__(self) -> str:
        return f"NPN({self.value!r})"
