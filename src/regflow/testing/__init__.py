"""Hypothesis strategies and a reusable stateful test for code that embeds regflow.

Strategies::

    npns(), invalid_npns(), profiles(), events(), any_event(), registrations(),
    orderings()

All are derived from regflow's catalog of events: a new event type, field or
choice shows up here without a line of this module changing.

The stateful test, :class:`RegistrationMachine`, fires random valid and invalid
events on both tracks in random orders and checks regflow's invariants after
each step. Run it against your own embedding by subclassing and overriding
:meth:`~RegistrationMachine.do_start` and :meth:`~RegistrationMachine.do_apply`
(for example to go through your service layer and store), then
``TestMine = MyMachine.TestCase``.

:func:`orderings` draws invalid step orderings (swapped, skipped, repeated,
resent, wrong-track, out-of-order, after termination), each with the
catalog's verdict on every event; :func:`assert_agrees` sends one through a
host's own service layer and checks it agrees event by event.

:class:`Coverage` records the (state, event, outcome) triples a run sends
through the host; :func:`reachable` explores the catalog for every triple a
run could reach, and plans the tours the stateful test follows so that its
default run reaches them all.

For a store of your own, :class:`StoreContract` and :func:`run_contract`
(from :mod:`regflow.store.contract`) check it against the contract regflow's
SQLite and PostgreSQL stores pass.

Requires ``hypothesis`` (regflow's ``test`` extra).
"""

from ..store.contract import StoreContract, run_contract
from ._core import (
    any_event,
    assert_invariants,
    event_of,
    events,
    invalid_npns,
    npns,
    profiles,
    registrations,
)
from ._coverage import Coverage
from ._explore import Reachable, Tour, reachable
from ._orderings import MUTATIONS, Ordering, Outcome, assert_agrees, orderings
from ._stateful import RegistrationMachine
from ._triple import Triple, triples

__all__ = [
    "MUTATIONS",
    "Coverage",
    "Ordering",
    "Outcome",
    "Reachable",
    "RegistrationMachine",
    "StoreContract",
    "Tour",
    "Triple",
    "any_event",
    "assert_agrees",
    "assert_invariants",
    "event_of",
    "events",
    "invalid_npns",
    "npns",
    "orderings",
    "profiles",
    "reachable",
    "registrations",
    "run_contract",
    "triples",
]
