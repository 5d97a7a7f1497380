"""Where a registration stands: two tracks side by side, and one overall status.

CMS records an agent's Individual Marketplace and SHOP registrations apart
(the RCL has a completion and an end date for each; a termination names
INDIVIDUAL, SHOP or BOTH), so a registration is a statechart of two parallel
regions: :class:`IndividualState` and :class:`ShopState`. :class:`Status`
sums both up for a dashboard. Values are stable strings, safe to store.

Every regflow enum hashes by identity (``__hash__ = object.__hash__``): its
members are singletons compared by identity, so this agrees with equality,
and it spares a Python-level call per lookup in the tables and sets that
``apply`` and ``explain`` consult many times per event.
"""

from __future__ import annotations

import enum

__all__ = ["Actor", "IndividualState", "ShopState", "Status", "Track"]


class Track(enum.Enum):
    """One of the two registrations CMS records apart."""

    __hash__ = object.__hash__  # members are singletons (see above)

    INDIVIDUAL = "individual"
    SHOP = "shop"

    def __str__(self) -> str:
        return self.value


class IndividualState(enum.Enum):
    """Where the Individual Marketplace registration stands."""

    __hash__ = object.__hash__  # members are singletons (see above)

    PROFILE_INCOMPLETE = "profile_incomplete"
    TRAINING = "training"
    VENDOR_TRAINING = "vendor_training"
    VENDOR_COMPLETED = "vendor_completed"
    AGREEMENTS_PENDING = "agreements_pending"
    REGISTERED = "registered"
    NPN_INVALID = "npn_invalid"
    ESCALATED = "escalated"
    CERTIFIED = "certified"
    TERMINATED = "terminated"
    REINSTATED = "reinstated"
    TRAINING_COMPLETE = "training_complete"

    def __str__(self) -> str:
        return self.value


class ShopState(enum.Enum):
    """Where the SHOP registration stands (the SHOP agreement, S16)."""

    __hash__ = object.__hash__  # members are singletons (see above)

    PROFILE_INCOMPLETE = "profile_incomplete"
    NOT_TAKEN = "not_taken"
    TRAINING = "training"
    AGREEMENT_PENDING = "agreement_pending"
    REGISTERED = "registered"
    NPN_INVALID = "npn_invalid"
    LISTED = "listed"
    TERMINATED = "terminated"
    REINSTATED = "reinstated"

    def __str__(self) -> str:
        return self.value


class Status(enum.Enum):
    """One word for a dashboard, from both tracks (see ``Registration.status``)."""

    __hash__ = object.__hash__  # members are singletons (see above)

    IN_PROGRESS = "in_progress"
    """Steps of the MLMS profile, training or agreements are still to do."""
    REGISTERED = "registered"
    """Every step done; waiting for CMS's public lists (S18-S22)."""
    CERTIFIED = "certified"
    """Listed on the RCL with a valid NPN for the Individual Marketplace."""
    ACTION_NEEDED = "action_needed"
    """The RCL shows the NPN invalid, or a track is terminated."""
    TERMINATED = "terminated"
    """Terminated on every track the agent takes part in."""
    TRAINING_COMPLETE = "training_complete"
    """The Not an Agent Broker role, whose registration ends with training."""

    def __str__(self) -> str:
        return self.value


class Actor(enum.Enum):
    """Who sends an event."""

    __hash__ = object.__hash__  # members are singletons (see above)

    AGENT = "agent"
    """The agent, through the portal's pages."""
    PORTAL = "portal"
    """The portal itself (issuing a vendor launch, a vendor's callback)."""
    LISTS = "lists"
    """An observation of CMS's published lists (the RCL, the termination list)."""

    def __str__(self) -> str:
        return self.value
