"""The portal's menu: what may this agent do now, and if not, why.

``Workflow.explain`` probes every event type of the catalog with the
concrete choices its spec offers (which agreements remain, which curricula
may be added, which vendors), runs the same checks ``apply`` runs on each,
and reports, per event type, whether some choice is allowed, every refusal
of the closest one, and everything a page needs to draw the button and its
form, in the requested locale.
"""

from __future__ import annotations

import datetime as dt
import enum
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, Final

import attrs

from . import _events as ev
from ._catalog import CATALOG, EventSpec
from ._errors import InvalidValue
from ._messages import Refusal, label, locales, on_catalog_change
from ._registration import Registration
from ._states import Actor, IndividualState, ShopState, Status, Track

if TYPE_CHECKING:
    from ._workflow import Workflow

__all__ = ["Choice", "FormField", "Menu", "Option", "allowed_types", "explain"]

PROBE_ID: Final = "regflow-probe"
_SPECS: Final = tuple(spec for spec in CATALOG if spec.type is not ev.StartRegistration)
_CATEGORIES: Final = {
    "agreement": "agreement",
    "curriculum": "curriculum",
    "npn_valid": "npn_valid",
    "reason": "reason",
    "marketplaces": "marketplaces",
}


@attrs.frozen(slots=True)
class FormField:
    """One field a form for an event fills.

    Attributes:
        name: the event's field.
        required: whether it has no default.
        filled_by: who fills it: the event's actor, or the portal (a launch's
            id and expiry).
    """

    name: str
    required: bool
    filled_by: Actor


@attrs.frozen(slots=True)
class Choice:
    """One concrete choice a menu offers for an event type.

    Attributes:
        values: the fields the choice sets, e.g. ``{"agreement": ...}``.
        label: the choice in the menu's locale.
        tracks: the tracks an event of this choice acts on.
        allowed: whether it may be sent now.
        refusals: every reason it may not.
        messages: those reasons in the menu's locale.
    """

    values: Mapping[str, Any] = attrs.field(hash=False)
    label: str
    tracks: tuple[Track, ...]
    allowed: bool
    refusals: tuple[Refusal, ...]
    messages: tuple[str, ...]


@attrs.frozen(slots=True)
class Option:
    """One button of the menu: an event type, now.

    Attributes:
        kind: the event's stable tag, e.g. ``accept_agreement``.
        label: what to call it, in the menu's locale.
        actor: who sends it.
        allowed: whether some choice of it may be sent now.
        refusals: every refusal of the closest choice (none when allowed).
        messages: those refusals in the menu's locale.
        fields: what its form fills.
        choices: the concrete choices, each allowed or not, and why.
    """

    kind: str
    label: str
    actor: Actor
    allowed: bool
    refusals: tuple[Refusal, ...]
    messages: tuple[str, ...]
    fields: tuple[FormField, ...]
    choices: tuple[Choice, ...]

    @property
    def event(self) -> type[ev.Event]:
        """The event class."""
        return _BY_KIND[self.kind].type


@attrs.frozen(slots=True)
class Menu:
    """What :meth:`Workflow.explain` found: every event type, allowed or not.

    Attributes:
        agent_id, plan_year, version: the registration explained.
        status, individual, shop: where it stands.
        at: the time guards were judged at.
        locale: what labels and messages are written in.
        options: one per event type, in the catalog's order.
    """

    agent_id: str
    plan_year: int
    version: int
    status: Status
    individual: IndividualState
    shop: ShopState
    at: dt.datetime
    locale: str
    options: tuple[Option, ...]

    @property
    def allowed(self) -> tuple[Option, ...]:
        """The options some choice of which may be sent now."""
        return tuple(o for o in self.options if o.allowed)

    def option(self, event: str | type[ev.Event]) -> Option:
        """The option of an event type, by class or kind.

        Raises:
            InvalidValue: no event type of that name.
        """
        kind = event if isinstance(event, str) else getattr(event, "kind", None)
        for found in self.options:
            if found.kind == kind:
                return found
        raise InvalidValue(f"no event type {event!r} in the menu")


_BY_KIND: Final = {spec.kind: spec for spec in _SPECS}


def _make_builder(cls: type[ev.Event]) -> Callable[[dict[str, Any]], ev.Event]:
    # Probes are built from regflow's own well-typed values, many per
    # explain: skip the field checks, as clone() does for snapshots.
    lines = [
        "def build(values):",
        "    event = _new(_cls)",
        "    put = _set.__get__(event)",
    ]
    namespace: dict[str, Any] = {
        "_new": object.__new__,
        "_set": object.__setattr__,
        "_cls": cls,
    }
    for number, field in enumerate(attrs.fields(cls)):
        if field.default is attrs.NOTHING:
            lines.append(f"    put({field.name!r}, values[{field.name!r}])")
        else:
            namespace[f"_d{number}"] = field.default
            lines.append(
                f"    put({field.name!r}, values.get({field.name!r}, _d{number}))"
            )
    lines.append("    return event")
    exec(
        compile("\n".join(lines), f"<regflow probe of {cls.__name__}>", "exec"),
        namespace,
    )
    build: Callable[[dict[str, Any]], ev.Event] = namespace["build"]
    return build


def _form_fields(spec: EventSpec[Any]) -> tuple[FormField, ...]:
    return tuple(
        FormField(
            name=field.name,
            required=field.default is attrs.NOTHING,
            filled_by=spec.filled_by.get(field.name, spec.actor),
        )
        for field in attrs.fields(spec.type)
        if field.name not in ("event_id", "at")
    )


_BUILDERS: Final = {spec: _make_builder(spec.type) for spec in _SPECS}
_FIELDS: Final = {spec: _form_fields(spec) for spec in _SPECS}


def _choice_label(values: Mapping[str, Any], locale: str) -> str:
    key = (locale, *values.items())
    found = _CHOICE_LABELS.get(key)
    if found is not None:
        return found
    parts = []
    for name, value in values.items():
        category = _CATEGORIES.get(name)
        if category is not None and isinstance(value, enum.Enum):
            parts.append(label(category, str(value.value), locale))
        elif isinstance(value, str):
            parts.append(value)
    found = ", ".join(parts)
    if len(_CHOICE_LABELS) < 4096:  # a few dozen in practice
        _CHOICE_LABELS[key] = found
    return found


# Choice labels by (locale, values): emptied with the message catalogs' memos.
_CHOICE_LABELS: dict[tuple[Any, ...], str] = {}
on_catalog_change(_CHOICE_LABELS.clear)


_Probe = tuple[Mapping[str, Any], tuple[Refusal, ...], frozenset[Track]]


def _probe(
    flow: Workflow,
    reg: Registration,
    spec: EventSpec[Any],
    at: dt.datetime,
    timing: tuple[bool, tuple[Refusal, ...]] | None = None,
) -> list[_Probe]:
    """Each choice of *spec* now, with its refusals and the tracks it acts on.

    *timing* is the probes' shared time verdict (``Workflow._timing``), when
    the caller judged it already.
    """
    rules = flow.rules
    build = _BUILDERS[spec]
    filled = spec.filled(reg, rules, at)
    found: list[_Probe] = []
    for values in spec.choices(reg, rules, at):
        fields = {"event_id": PROBE_ID, "at": at, **filled, **values}
        event = build(fields)
        if timing is None:
            timing = flow._timing(reg, event)
        targets = spec.targets(reg, event, rules)
        found.append(
            (values, flow._refusals(reg, event, spec, targets, timing), targets)
        )
    return found


def allowed_types(
    flow: Workflow, reg: Registration, at: dt.datetime
) -> tuple[type[ev.Event], ...]:
    """The event types some choice of which is allowed now (no texts rendered)."""
    if not flow.rules.in_window(at):
        return ()  # every event would be refused for its time
    return tuple(
        spec.type
        for spec in _SPECS
        if any(not refusals for _, refusals, _ in _probe(flow, reg, spec, at))
    )


def explain(flow: Workflow, reg: Registration, at: dt.datetime, locale: str) -> Menu:
    """Build the menu of *reg* at *at*, in *locale* (see ``Workflow.explain``)."""
    if locale not in locales():
        raise InvalidValue(
            f"no messages for locale {locale!r}; known: {', '.join(locales())}; "
            "add one with regflow.register_locale()"
        )
    timing = flow._timing(reg, _BUILDERS[_LOGIN]({"event_id": PROBE_ID, "at": at}))
    options = []
    for spec in _SPECS:
        choices = []
        closest: Choice | None = None
        for values, refusals, targets in _probe(flow, reg, spec, at, timing):
            choice = Choice(
                values=values,
                label=_choice_label(values, locale) if values else "",
                tracks=_ORDERED[targets],
                allowed=not refusals,
                refusals=refusals,
                messages=tuple([r.message(locale) for r in refusals])
                if refusals
                else (),
            )
            choices.append(choice)
            if closest is None or len(refusals) < len(closest.refusals):
                closest = choice
        assert closest is not None  # every spec offers at least one choice
        options.append(
            Option(
                kind=spec.kind,
                label=label("event", spec.kind, locale),
                actor=spec.actor,
                allowed=closest.allowed,
                refusals=closest.refusals,
                messages=closest.messages,
                fields=_FIELDS[spec],
                choices=tuple(choices),
            )
        )
    return Menu(
        agent_id=reg.agent_id,
        plan_year=reg.plan_year,
        version=reg.version,
        status=reg.status,
        individual=reg.individual,
        shop=reg.shop,
        at=at,
        locale=locale,
        options=tuple(options),
    )


_ORDERED: Final = {
    frozenset(): (),
    frozenset({Track.INDIVIDUAL}): (Track.INDIVIDUAL,),
    frozenset({Track.SHOP}): (Track.SHOP,),
    frozenset(Track): (Track.INDIVIDUAL, Track.SHOP),
}
_LOGIN: Final = next(spec for spec in _SPECS if spec.type is ev.PortalLogin)
