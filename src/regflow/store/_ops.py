"""What an operation of the SQL stores is: a generator of :class:`Query`
objects, run by a driver (see ``_core``)."""

from __future__ import annotations

from collections.abc import Callable, Generator, Sequence
from typing import Any, Literal, NamedTuple, TypeVar

__all__ = ["Constraint", "Fetch", "Op", "Query", "Violation", "run"]

T = TypeVar("T")
Fetch = Literal["none", "one", "all", "count"]
Constraint = Literal["npn", "seq"]
"""The constraints a write can break that regflow explains: one NPN per plan
year in an agency, and unique sequence numbers (a concurrent append)."""


class Query(NamedTuple):
    """One statement for the driver to run, and what to bring back of it."""

    sql: str
    params: Sequence[Any]
    fetch: Fetch = "none"
    many: bool = False


Op = Generator[Query, Any, T]
"""An operation: yields queries, receives their results, returns its value."""


class Violation(Exception):
    """A driver's integrity error, named: raised out of an operation's run."""

    def __init__(self, constraint: Constraint | None, error: BaseException):
        super().__init__(str(error))
        self.constraint = constraint
        self.error = error


def run(execute: Callable[[Query], Any], op: Op[T]) -> T:
    """Drive *op* to its end, running each query with *execute*."""
    result: Any = None
    while True:
        try:
            query = op.send(result)
        except StopIteration as done:
            value: T = done.value
            return value
        result = execute(query)
