"""What the repositories do, written once for the synchronous and the async one.

A flow is a generator: it yields a :class:`Call` of the store (or a pause,
for backoff) and receives its result, or has the store's exception thrown
into it. :func:`drive` runs a flow on a synchronous store;
:func:`drive_async` on an async one. So starting, applying, erasing and
the retry rules exist once.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Callable, Generator, Mapping
from types import MappingProxyType
from typing import Any, Final, NamedTuple, TypeVar

from .. import _events as ev
from .._errors import ConcurrencyConflict, IdempotencyConflict, RegistrationNotFound
from .._registration import Registration
from .._serialization import to_dict
from .._workflow import Workflow
from ._protocol import RegistrationKey, agency_key

__all__ = [
    "Call",
    "Flow",
    "Sleep",
    "applied_before",
    "apply_flow",
    "drive",
    "drive_async",
    "erase_flow",
    "same_fact",
    "start_flow",
]

T = TypeVar("T")
_BACKOFF: Final = 0.002  # seconds; doubled per attempt, with full jitter
_MAX_BACKOFF: Final = 0.1


class Call(NamedTuple):
    """Call the store's method *name* with these arguments."""

    name: str
    args: tuple[Any, ...] = ()
    kwargs: Mapping[str, Any] = MappingProxyType({})


class Sleep(NamedTuple):
    """Wait *seconds* before going on (a backoff)."""

    seconds: float


Flow = Generator[Call | Sleep, Any, T]


def drive(store: Any, flow: Flow[T]) -> T:
    """Run *flow* on a synchronous store."""
    result: Any = None
    error: BaseException | None = None
    while True:
        try:
            step = flow.throw(error) if error is not None else flow.send(result)
        except StopIteration as done:
            value: T = done.value
            return value
        error = None
        if isinstance(step, Sleep):
            time.sleep(step.seconds)
            result = None
            continue
        try:
            result = getattr(store, step.name)(*step.args, **step.kwargs)
        except Exception as exc:  # handed to the flow, which decides
            error = exc


async def drive_async(store: Any, flow: Flow[T]) -> T:
    """Run *flow* on an async store."""
    result: Any = None
    error: BaseException | None = None
    while True:
        try:
            step = flow.throw(error) if error is not None else flow.send(result)
        except StopIteration as done:
            value: T = done.value
            return value
        error = None
        if isinstance(step, Sleep):
            await asyncio.sleep(step.seconds)
            result = None
            continue
        try:
            result = await getattr(store, step.name)(*step.args, **step.kwargs)
        except Exception as exc:
            error = exc


def same_fact(a: ev.Event, b: ev.Event) -> bool:
    """Whether *a* and *b* are one fact: the same kind and fields, whatever
    their ``at`` (a server may stamp a resend again)."""
    if type(a) is not type(b):
        return False
    first, second = to_dict(a), to_dict(b)
    first.pop("at")
    second.pop("at")
    return first == second


def applied_before(reg: Registration, event: ev.Event) -> int | None:
    """The version at which *event* (by id) was applied, or ``None``.

    Raises:
        IdempotencyConflict: the id was used for another fact.
    """
    event_id = event.event_id
    for seq in range(reg.version, 0, -1):
        recorded = reg.history[seq - 1]
        if recorded.event_id == event_id:
            if not same_fact(recorded, event):
                raise IdempotencyConflict(
                    reg.agent_id, reg.plan_year, event_id, agency=reg.agency_id or ""
                )
            return seq
    return None


def as_of(flow: Workflow, reg: Registration, seq: int) -> Registration:
    """*reg* as its event *seq* left it."""
    return reg if seq == reg.version else flow.replay(reg.history[:seq])


def start_flow(
    flow: Workflow, event: ev.StartRegistration, *, renewing: Registration | None = None
) -> Flow[Registration]:
    """Start (or, given the year before, renew) a registration; idempotent by id."""
    key = RegistrationKey(event.agent_id, event.plan_year, agency_key(event.agency_id))
    previous = renewing
    if previous is None:
        try:
            previous = yield Call("load", (key.agent_id, key.plan_year - 1, key.agency))
        except RegistrationNotFound:
            previous = None
    reg = flow.start(event, previous=previous)
    try:
        yield Call("write", (reg,), {"expected_version": 0})
    except ConcurrencyConflict:
        stored = yield Call("load", tuple(key))
        first = stored.history[0]
        if first.event_id != event.event_id:
            raise
        if not same_fact(first, event):
            raise IdempotencyConflict(
                key.agent_id, key.plan_year, event.event_id, agency=key.agency
            ) from None
        return as_of(flow, stored, 1)
    return reg


def apply_flow(
    flow: Workflow,
    key: RegistrationKey,
    event: ev.Event,
    *,
    expected_version: int | None,
    locking: bool,
    retries: int,
) -> Flow[Registration]:
    """Apply *event* to the stored registration; idempotent; conflicts decided again.

    *locking*: the store decides under the row's lock after a conflict;
    otherwise retry up to *retries* times with full-jitter backoff.
    """
    reg = yield Call("load", tuple(key))
    seq = applied_before(reg, event)
    if seq is not None:
        return as_of(flow, reg, seq)
    if expected_version is not None and reg.version != expected_version:
        raise ConcurrencyConflict(
            key.agent_id,
            key.plan_year,
            expected_version,
            reg.version,
            agency=key.agency,
        )
    new = flow.apply(reg, event)
    try:
        yield Call("write", (new,), {"expected_version": reg.version})
        return new
    except ConcurrencyConflict:
        if expected_version is not None:
            raise
    if locking:
        found: list[Registration] = []
        written = yield Call("decide", (key, _decider(flow, event, found)))
        return found[0] if found else written
    for attempt in range(1, retries + 1):
        yield Sleep(random.uniform(0, min(_MAX_BACKOFF, _BACKOFF * 2**attempt)))
        reg = yield Call("load", tuple(key))
        seq = applied_before(reg, event)
        if seq is not None:
            return as_of(flow, reg, seq)
        new = flow.apply(reg, event)
        try:
            yield Call("write", (new,), {"expected_version": reg.version})
            return new
        except ConcurrencyConflict:
            if attempt == retries:
                raise
    raise ConcurrencyConflict(
        key.agent_id, key.plan_year, reg.version, reg.version, agency=key.agency
    )  # retries == 0


def _decider(
    flow: Workflow, event: ev.Event, found: list[Registration]
) -> Callable[[Registration], Registration | None]:
    def decide(reg: Registration) -> Registration | None:
        seq = applied_before(reg, event)
        if seq is not None:
            found.append(as_of(flow, reg, seq))
            return None
        return flow.apply(reg, event)

    return decide


def erase_flow(
    workflows: Callable[[int], Workflow],
    agency: str,
    agent_id: str,
    event: ev.EraseContactDetails,
) -> Flow[tuple[Registration, ...]]:
    """Append the erasure to each of the agent's registrations and delete its key,
    in one transaction of the store."""

    def decide(reg: Registration) -> Registration | None:
        flow = workflows(reg.plan_year)
        seq = applied_before(reg, event)
        if seq is not None:
            return None
        return flow.apply(reg, event)

    erased = yield Call("erase_agent", (agency, agent_id, decide))
    if not erased:
        raise RegistrationNotFound(agent_id, 0, agency=agency)
    return tuple(erased)
