"""Every triple a run can reach, and tours that reach them all.

:func:`reachable` explores the catalog breadth first: every registration the
menu reaches from the starts, every choice it offers there (allowed or not)
with its triples. From the explored graph it plans :class:`Tour` paths that,
followed as the stateful test does, exercise every reachable triple.
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import json
import os
import tempfile
from collections import deque
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import Final

import attrs
import cattrs
from cattrs.preconf.json import make_converter

from .. import _events as ev
from .._catalog import BY_TYPE
from .._records import ContactDetails, Profile, Role
from .._registration import Registration
from .._states import Track
from .._workflow import Workflow
from ._core import _EPOCH, Probe, _menu
from ._triple import Triple, _triples

__all__ = ["Reachable", "Tour", "reachable"]

# A month: longer than a vendor launch may live (30 days) and than the RCL
# may take (2 business days), so a wait shows every time-dependent refusal.
_WAIT: Final = dt.timedelta(days=31)
_WAITS: Final = 2  # the stateful test's runs span at most about three months


@attrs.frozen(slots=True)
class Reachable:
    """Every triple a run of a plan year can reach, found by :func:`reachable`.

    Attributes:
        plan_year: the plan year explored.
        triples: every reachable triple.
        registrations: how many distinct registrations were explored.
        tours: planned paths that, followed, exercise every triple the
            explored graph leads to (the stateful test follows them).
    """

    plan_year: int
    triples: frozenset[Triple] = attrs.field(repr=False)
    registrations: int
    tours: tuple[Tour, ...] = attrs.field(repr=False)

    def on(self, track: Track) -> frozenset[Triple]:
        """The triples of one track."""
        return frozenset(t for t in self.triples if t.track == track.value)


def representative_profiles() -> tuple[Profile, ...]:
    """A complete profile for each role, SHOP choice and Find Local Help choice."""
    with_zip = ContactDetails(
        name="Ana Reyes", email="ana@example.com", phone="555-0100", zip_code="33101"
    )
    found = []
    for role in Role:
        agent = role is Role.MARKETPLACE_AGENT_BROKER
        for shop in (False, True) if agent else (False,):
            for local_help in (False, True):
                found.append(
                    Profile(
                        role=role,
                        contact=with_zip,
                        find_local_help=local_help,
                        shop=shop,
                        npn="12345678" if agent else None,
                    )
                )
    return tuple(found)


def _key(reg: Registration, menu: Iterable[tuple[str, tuple[str, ...]]]) -> str:
    # Two registrations are explored once when their tracks, profile, the
    # progress the guards count (agreements accepted, curricula enrolled and
    # completed) and their menu (each event type's verdicts now) agree. Time
    # shows in the menu: a launch expired, the RCL late.
    progress = (
        sorted(a.value for a in reg.accepted_agreements),
        sorted(c.value for c in reg.enrollments),
        sorted(c.curriculum.value for c in reg.completions),
    )
    return repr((reg.individual, reg.shop, reg.profile, progress, sorted(set(menu))))


def _same(reg: Registration, waits: int) -> str:
    plain = attrs.asdict(
        attrs.evolve(reg, history=()),
        value_serializer=lambda _, __, v: None if isinstance(v, dt.datetime) else v,
    )
    canon = {
        k: sorted(map(repr, v)) if isinstance(v, list) else v for k, v in plain.items()
    }
    return repr((canon, waits))


def shape(event: ev.Event) -> str:
    """An event's fields but its id and times: which menu choice it is."""
    fields = attrs.asdict(
        event,
        recurse=False,
        filter=lambda a, v: (
            a.name not in ("event_id", "at") and not isinstance(v, dt.date)
        ),
    )
    return repr(sorted(fields.items()))


@attrs.frozen(slots=True)
class _Edge:
    waits: int  # months waited before the event
    kind: str
    shape: str
    gives: frozenset[Triple]  # the event's own triples
    child: str


@attrs.define
class _Node:
    refused: frozenset[Triple]  # what pressing every disabled choice gives
    edges: list[_Edge] = attrs.Factory(list)


Step = tuple[int, str, str]
"""A tour's step: months to wait, then the menu choice to send: its kind and
its fields but id and times (:func:`shape`)."""


@attrs.frozen(slots=True)
class Tour:
    """A planned path that exercises triples a random walk seldom meets.

    Attributes:
        prior_year: the start's ``prior_year``.
        steps: one a rule step: months to wait, then the kind of the menu
            choice to send and its fields but id and times, as ``repr`` text.
    """

    prior_year: int | None
    steps: tuple[Step, ...]


def _probes(flow: Workflow, reg: Registration, at: dt.datetime) -> list[Probe]:
    probes = _menu(reg, flow, at)
    for profile in representative_profiles():
        event = ev.SaveProfile(event_id="p", at=at, profile=profile)
        refusals, _, targets = flow._decide(reg, event)
        probes.append((event, refusals, targets))
    return probes


def _judged(reg: Registration, probe: Probe) -> frozenset[Triple]:
    event, refusals, targets = probe
    spec = BY_TYPE[type(event)]
    return _triples(reg, spec.kind, targets or spec.step_tracks, refusals)


def _starts(plan_year: int) -> list[ev.StartRegistration]:
    begin = _EPOCH.replace(year=plan_year - 1)
    return [
        ev.StartRegistration(
            event_id=f"s{n}",
            at=begin,
            agent_id="agent-1",
            portal_account_id="portal-1",
            plan_year=plan_year,
            prior_year=prior,
        )
        for n, prior in enumerate((None, plan_year - 1, plan_year - 2))
    ]


# (registration, its time, months waited, the parent's key, months this edge
# waits, the event that made it, that event's triples)
_Queued = tuple[
    Registration, dt.datetime, int, str, int, ev.Event | None, frozenset[Triple]
]


@functools.cache
def reachable(plan_year: int) -> Reachable:
    """Every triple a run of *plan_year* can reach, and tours that reach them.

    Explored once per process, and kept in a cache folder between processes
    (``$REGFLOW_CACHE_DIR``, else ``regflow`` under ``$XDG_CACHE_HOME`` or
    ``~/.cache``), keyed by a hash of regflow's own source, so that any change
    to regflow explores anew. A folder that cannot be written is skipped.
    """
    folder = _cache_folder()
    found = _load(folder, plan_year)
    if found is None:
        found = _explore(plan_year)
        _save(folder, found)
    return found


def _cache_folder() -> Path:
    named = os.environ.get("REGFLOW_CACHE_DIR")
    if named:
        return Path(named)
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "regflow"


@functools.cache
def _fingerprint() -> str:
    digest = hashlib.sha256()
    root = Path(__file__).resolve().parent.parent
    for path in sorted(root.rglob("*.py")):
        digest.update(path.relative_to(root).as_posix().encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:20]


def _path(folder: Path, plan_year: int) -> Path:
    return folder / f"reachable-{plan_year}-{_fingerprint()}.json"


_CONVERTER = make_converter()  # sets as lists


def _load(folder: Path, plan_year: int) -> Reachable | None:
    try:
        text = _path(folder, plan_year).read_text(encoding="utf-8")
        found = _CONVERTER.structure(json.loads(text), Reachable)
    except (OSError, ValueError, TypeError, KeyError, cattrs.BaseValidationError):
        return None  # none yet, or unreadable: explore anew
    return found if found.plan_year == plan_year else None


def _save(folder: Path, found: Reachable) -> None:
    path = _path(folder, found.plan_year)
    try:
        folder.mkdir(parents=True, exist_ok=True)
        fd, temporary = tempfile.mkstemp(dir=folder, suffix=".tmp")
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            json.dump(_CONVERTER.unstructure(found), out)
        os.replace(temporary, path)  # whole or not at all, for parallel runs
    except OSError:
        return  # a read-only home: explore again next time


def _explore(plan_year: int) -> Reachable:
    """Explore every registration the menu reaches, and the triples of each.

    From each start (new, returning from one or two years before), every
    allowed menu choice and every representative profile is taken, and a
    month's wait (twice at most), breadth first; every choice the menu
    offers at each registration, allowed or not, gives its triples. Two
    registrations whose tracks, profile, progress and menu verdicts agree
    are explored once. The tours the stateful test follows are planned from
    the explored graph and checked by replaying them.
    """
    flow = Workflow.for_plan_year(plan_year)
    found: set[Triple] = set()
    nodes: dict[str, _Node] = {}
    roots: dict[str, int | None] = {}
    met: dict[str, str] = {}
    queue: deque[_Queued] = deque(
        (flow.start(start), start.at, 0, "", 0, None, frozenset())
        for start in _starts(plan_year)
    )
    while queue:
        reg, at, waits, parent, wait, made, gives = queue.popleft()
        # The same registration reached in another order (times aside) is
        # not probed again: most of the queue is such.
        same = _same(reg, waits)
        known = met.get(same)
        now = at + dt.timedelta(hours=1)
        if known is None:
            judged = [(probe, _judged(reg, probe)) for probe in _probes(flow, reg, now)]
            verdicts = [(p[0].kind, tuple(r.code for r in p[1])) for p, _ in judged]
            key = met[same] = _key(reg, verdicts)
        else:
            key = known
        if parent:
            kind, form = ("", "") if made is None else (made.kind, shape(made))
            nodes[parent].edges.append(_Edge(wait, kind, form, gives, key))
        else:
            roots.setdefault(key, reg.prior_year)
        if key in nodes or known is not None:
            continue
        refused = [got for probe, got in judged[:_PROFILES] if probe[1]]
        nodes[key] = _Node(frozenset().union(*refused))
        for (event, refusals, _), got in judged:
            found |= got
            if not refusals:
                queue.append((flow.apply(reg, event), now, waits, key, 0, event, got))
        if waits < _WAITS:
            queue.append((reg, at + _WAIT, waits + 1, key, 1, None, frozenset()))
    universe = frozenset(found)
    tours = _plan(flow, nodes, roots, universe)
    return Reachable(plan_year, universe, len(nodes), tours)


_PROFILES: Final = -6  # _probes ends with the representative profiles
_STEPS: Final = 38  # a tour's rule steps: the default run has 40, one the start


def _nearest(
    nodes: Mapping[str, _Node], here: str, left: set[Triple], budget: int
) -> list[_Edge] | None:
    """The shortest path from *here* whose last event exercises something in *left*.

    The path's event edges each cost a step; the last one's value is what
    pressing at its node and sending it give.
    """
    paths: dict[str, list[_Edge]] = {here: []}
    frontier = deque([here])
    while frontier:
        key = frontier.popleft()
        path = paths[key]
        if sum(1 for e in path if e.kind) >= budget:
            continue
        node = nodes[key]
        for edge in node.edges:
            if edge.kind and (node.refused | edge.gives) & left:
                return [*path, edge]
            if edge.child not in paths and edge.child in nodes:
                paths[edge.child] = [*path, edge]
                frontier.append(edge.child)
    return None


def _steps(path: list[_Edge]) -> list[Step]:
    found: list[Step] = []
    waits = 0
    for edge in path:
        if edge.kind:
            found.append((waits, edge.kind, edge.shape))
            waits = 0
        else:
            waits += edge.waits
    return found


def _plan(
    flow: Workflow,
    nodes: Mapping[str, _Node],
    roots: Mapping[str, int | None],
    universe: frozenset[Triple],
) -> tuple[Tour, ...]:
    """Greedy tours, each step toward the nearest registration with triples left.

    Each step is taken on a real registration (the explored graph merges
    some), and the next is planned from where it really led.
    """
    left = set(universe)
    tours: list[Tour] = []
    while left:
        best: tuple[Tour, set[Triple]] | None = None
        for prior in sorted(set(roots.values()), key=str):
            tour, got = _walk(flow, nodes, prior, left)
            if best is None or len(got) > len(best[1]):
                best = (tour, got)
        if best is None or not best[1]:
            break  # what is left no tour leads to
        tours.append(best[0])
        left -= best[1]
    return tuple(tours)


def _walk(
    flow: Workflow, nodes: Mapping[str, _Node], prior: int | None, left: set[Triple]
) -> tuple[Tour, set[Triple]]:
    start = next(s for s in _starts(flow.rules.plan_year) if s.prior_year == prior)
    reg, at = flow.start(start), start.at
    steps: list[Step] = []
    got: set[Triple] = set()
    while len(steps) < _STEPS:
        # Where the registration is now, judged at the time of the next event
        # (a wait is planned from the node before it, as explored).
        probes = _probes(flow, reg, at + dt.timedelta(hours=1))
        key = _key(reg, [(p[0].kind, tuple(r.code for r in p[1])) for p in probes])
        if key not in nodes:
            break
        path = _nearest(nodes, key, left - got, _STEPS - len(steps))
        if path is None:
            break
        step = _steps(path)[0]
        followed = list(_follow(flow, Tour(prior, (step,)), reg, at))
        if not followed:
            break
        reg, at, exercised = followed[0]
        steps.append(step)
        got |= exercised & left
    return Tour(prior, tuple(steps)), got


def _chosen(probes: Iterable[Probe], kind: str, form: str) -> Probe | None:
    """The allowed probe that is the menu choice *kind* and *form*."""
    for probe in probes:
        event, refusals, _ = probe
        if not refusals and event.kind == kind and shape(event) == form:
            return probe
    return None


def _planned(
    flow: Workflow, reg: Registration, at: dt.datetime, step: Step
) -> ev.Event | None:
    """The event *step* of a tour sends to *reg* at *at*, if it is allowed there."""
    chosen = _chosen(_probes(flow, reg, at), step[1], step[2])
    return None if chosen is None else chosen[0]


def _follow(
    flow: Workflow,
    tour: Tour,
    reg: Registration | None = None,
    at: dt.datetime | None = None,
) -> Iterator[tuple[Registration, dt.datetime, frozenset[Triple]]]:
    """Each registration *tour* leads to, its time, and what its step exercised.

    From *reg* at *at* when given, else from the tour's start.
    """
    if reg is None or at is None:
        plan_year = flow.rules.plan_year
        start = next(s for s in _starts(plan_year) if s.prior_year == tour.prior_year)
        reg, at = flow.start(start), start.at
    for waits, kind, form in tour.steps:
        at += waits * _WAIT + dt.timedelta(hours=1)
        found: set[Triple] = set()
        probes = _probes(flow, reg, at)
        for probe in probes[:_PROFILES]:
            if probe[1]:
                found |= _judged(reg, probe)
        chosen = _chosen(probes, kind, form)
        if chosen is None:
            return
        found |= _judged(reg, chosen)
        reg = flow.apply(reg, chosen[0])
        yield reg, at, frozenset(found)
