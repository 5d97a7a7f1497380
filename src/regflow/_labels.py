"""The name of a state, status, track, role, curriculum or agreement, in a locale.

A portal shows these on every page (a status badge, a track's column, a
role's choice); the texts are the ones regflow's own refusals use, so the
page and the reasons on it agree, and a locale added with
:func:`~regflow.register_locale` names them too.
"""

from __future__ import annotations

import enum
from typing import Final

from ._errors import InvalidValue
from ._messages import label as _label
from ._messages import locales
from ._records import Agreement, Curriculum, Marketplaces, Role
from ._states import IndividualState, ShopState, Status, Track

__all__ = ["Labelled", "label"]

Labelled = (
    IndividualState
    | ShopState
    | Status
    | Track
    | Role
    | Curriculum
    | Agreement
    | Marketplaces
)
"""The values :func:`label` names."""

# Each enum's category in the message catalog ("<category>.<value>").
_CATEGORIES: Final[dict[type[enum.Enum], str]] = {
    IndividualState: "state",
    ShopState: "state.shop",
    Status: "status",
    Track: "track",
    Role: "role",
    Curriculum: "curriculum",
    Agreement: "agreement",
    Marketplaces: "marketplaces",
}


def label(value: Labelled, locale: str = "en") -> str:
    """The name of *value* in *locale*, as regflow's messages write it.

    >>> import regflow
    >>> regflow.label(regflow.IndividualState.AGREEMENTS_PENDING, "es")
    'convenios pendientes'
    >>> regflow.label(regflow.Status.CERTIFIED)
    'certified'

    A ``ShopState`` is named with its track ("SHOP: registered"), as in the
    refusals, so it reads alone.

    Raises:
        InvalidValue: *value* is not one of the enums above, or *locale* is
            not a registered locale.
    """
    category = _CATEGORIES.get(type(value))
    if category is None:
        names = ", ".join(kind.__name__ for kind in _CATEGORIES)
        raise InvalidValue(f"label() names a {names}, not {value!r}")
    if locale not in locales():
        raise InvalidValue(
            f"no messages for locale {locale!r}; known: {', '.join(locales())}"
        )
    return _label(category, str(value.value), locale)
