"""The delivery (shipping notice) state machine: one table of allowed
transitions.

    draft --ship--> shipped --receive--> received
      |                |
      +----cancel------+--> cancelled

A draft is the supplier's own (it can attach the packing list before it
ships); once shipped the goods are in transit and count against the order
line's open quantity; the buyer's receipt closes it. Every (state, event)
pair not in ``TRANSITIONS`` is refused; the tests walk every state x every
event.
"""

from __future__ import annotations

from enum import StrEnum

from portal.errors import Conflict
from portal.i18n import N_, gettext


class Status(StrEnum):
    DRAFT = "draft"
    SHIPPED = "shipped"
    RECEIVED = "received"
    CANCELLED = "cancelled"

    @property
    def label(self) -> str:
        return STATUS_LABELS[self]


class Event(StrEnum):
    SHIP = "ship"  # supplier sends the goods
    RECEIVE = "receive"  # buyer records accepted and rejected quantities
    CANCEL = "cancel"  # supplier withdraws a draft or a notice in transit, with a reason


STATUS_LABELS = {
    Status.DRAFT: N_("Draft"),
    Status.SHIPPED: N_("Shipped"),
    Status.RECEIVED: N_("Received"),
    Status.CANCELLED: N_("Cancelled"),
}

# Named in a refusal, in the reader's language.
EVENT_LABELS = {
    Event.SHIP: N_("Ship"),
    Event.RECEIVE: N_("Receive"),
    Event.CANCEL: N_("Cancel the notice"),
}

TRANSITIONS: dict[tuple[Status, Event], Status] = {
    (Status.DRAFT, Event.SHIP): Status.SHIPPED,
    (Status.SHIPPED, Event.RECEIVE): Status.RECEIVED,
    (Status.DRAFT, Event.CANCEL): Status.CANCELLED,
    (Status.SHIPPED, Event.CANCEL): Status.CANCELLED,
}

# Goods on the way: they count against the order line's open quantity.
IN_TRANSIT = frozenset({Status.SHIPPED})
# The supplier fires these; the buyer fires RECEIVE.
SUPPLIER_EVENTS = frozenset({Event.SHIP, Event.CANCEL})
BUYER_EVENTS = frozenset({Event.RECEIVE})
# The policy action each event needs.
EVENT_ACTIONS = {Event.SHIP: "deliveries.ship", Event.CANCEL: "deliveries.ship", Event.RECEIVE: "deliveries.receive"}
NEEDS_REASON = frozenset({Event.CANCEL})


class TransitionNotAllowed(Conflict):
    code = "transition_not_allowed"
    message = N_("A delivery that is %(status)s cannot be changed that way (%(event)s).")


def next_status(status: Status, event: Event) -> Status:
    try:
        return TRANSITIONS[(status, event)]
    except KeyError:
        raise TransitionNotAllowed(status=gettext(status.label), event=gettext(EVENT_LABELS[event])) from None
