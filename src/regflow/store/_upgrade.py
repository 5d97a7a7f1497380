"""Upgrading a database's tables: the steps of ``_ddl``, run as one operation.

Both databases run this same operation, each with its dialect's statements,
inside one transaction the store holds under its lock: each step's
statements, the rows moved where a step moves them (layout 2 kept contact
details in the clear: its events are read, sealed as they are written again,
and each snapshot rebuilt by replaying them), the step's clean-up, and the
version reached.
"""

from __future__ import annotations

from collections.abc import Callable

from .._errors import StoreError
from ._codec import decode_events
from ._core import Core, Op, Query
from ._ddl import STEPS, check_schema_version
from ._protocol import RegistrationKey

__all__ = ["upgrade"]


def upgrade(core: Core, found: int, render: Callable[[str], str]) -> Op[None]:
    """Take the tables from version *found* to the newest.

    *render* fills ``{s}`` (PostgreSQL's schema) into a step's statement.
    """
    check_schema_version(found, core.where)
    d = core.sql.dialect
    for step in STEPS:
        if step.version <= found:
            continue
        for statement in step.statements(d.name):
            yield Query(render(statement), ())
        if step.moves and found > 0:
            old = render("{s}.events") if d.name == "postgresql" else "regflow_events"
            yield from _move(core, old)
        for statement in step.cleanup(d.name):
            yield Query(render(statement), ())
        yield Query(
            f"INSERT INTO {d.schema} (version) VALUES ({d.mark})", (step.version,)
        )


def _move(core: Core, old: str) -> Op[None]:
    from .._workflow import Workflow

    m = core.sql.dialect.mark
    keys = yield Query(
        f"SELECT plan_year, agent_id FROM {old} GROUP BY plan_year, agent_id "
        "ORDER BY min(recorded_at), plan_year, agent_id",
        (),
        "all",
    )
    for year, agent in keys:
        key = RegistrationKey(agent, year, "")
        rows = yield Query(
            f"SELECT seq, body FROM {old} WHERE plan_year = {m} AND agent_id = {m} "
            "ORDER BY seq",
            (year, agent),
            "all",
        )
        events = decode_events(key, rows, core.sealer(key, None))
        try:
            reg = Workflow.for_plan_year(year).replay(events)
        except Exception as exc:
            raise StoreError(
                f"{core.where}: registration ({agent!r}, {year}) cannot move to "
                f"store layout 3: {exc}"
            ) from exc
        yield from core.write(reg, 0)
