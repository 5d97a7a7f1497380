"""The events a portal sends to a registration (see :mod:`regflow`).

Each is an immutable fact with its own ``event_id`` and an aware ``at``;
:meth:`regflow.Workflow.explain` says which may be sent now, and why not.
"""

from ._events import *  # noqa: F403 - the module's public names, listed once
from ._events import __all__ as __all__
