"""The order state machine: one table of allowed transitions.

Every (state, event) pair not in ``TRANSITIONS`` is refused with a clear
error; the tests walk every state x every event.
"""

from __future__ import annotations

from enum import StrEnum

from portal.errors import Conflict
from portal.i18n import N_, gettext


class Status(StrEnum):
    DRAFT = "draft"
    ISSUED = "issued"
    ACCEPTED = "accepted"
    REJECTED = "rejected"
    IN_PRODUCTION = "in_production"
    PARTIALLY_DELIVERED = "partially_delivered"
    DELIVERED = "delivered"
    CLOSED = "closed"
    CANCELLED = "cancelled"

    @property
    def label(self) -> str:
        return STATUS_LABELS[self]


class Event(StrEnum):
    ISSUE = "issue"  # buyer sends the draft to the supplier
    ACCEPT = "accept"  # supplier takes the order
    REJECT = "reject"  # supplier declines, with a reason
    REISSUE = "reissue"  # buyer sends a rejected order again (after revising it)
    START = "start"  # supplier starts production
    DELIVER_PART = "deliver_part"  # receipts accepted, some quantity still open
    DELIVER_ALL = "deliver_all"  # receipts accepted, nothing open
    CLOSE = "close"  # buyer closes a delivered order
    CANCEL = "cancel"  # buyer cancels an open order, with a reason


STATUS_LABELS = {
    Status.DRAFT: N_("Draft"),
    Status.ISSUED: N_("Issued"),
    Status.ACCEPTED: N_("Accepted"),
    Status.REJECTED: N_("Rejected"),
    Status.IN_PRODUCTION: N_("In production"),
    Status.PARTIALLY_DELIVERED: N_("Partially delivered"),
    Status.DELIVERED: N_("Delivered"),
    Status.CLOSED: N_("Closed"),
    Status.CANCELLED: N_("Cancelled"),
}

EVENT_LABELS = {
    Event.ISSUE: N_("Issue to the supplier"),
    Event.ACCEPT: N_("Accept the order"),
    Event.REJECT: N_("Reject the order"),
    Event.REISSUE: N_("Send to the supplier again"),
    Event.START: N_("Production started"),
    Event.DELIVER_PART: N_("Partly delivered"),
    Event.DELIVER_ALL: N_("Fully delivered"),
    Event.CLOSE: N_("Close the order"),
    Event.CANCEL: N_("Cancel the order"),
}

OPEN_STATES = frozenset({Status.DRAFT, Status.ISSUED, Status.ACCEPTED, Status.REJECTED, Status.IN_PRODUCTION, Status.PARTIALLY_DELIVERED})
# States in which the supplier sees the order (a draft is the buyer's own).
SHARED_STATES = frozenset(Status) - {Status.DRAFT}
# States in which goods can arrive against the order.
RECEIVING_STATES = frozenset({Status.ACCEPTED, Status.IN_PRODUCTION, Status.PARTIALLY_DELIVERED})

TRANSITIONS: dict[tuple[Status, Event], Status] = {
    (Status.DRAFT, Event.ISSUE): Status.ISSUED,
    (Status.ISSUED, Event.ACCEPT): Status.ACCEPTED,
    (Status.ISSUED, Event.REJECT): Status.REJECTED,
    (Status.REJECTED, Event.REISSUE): Status.ISSUED,
    (Status.ACCEPTED, Event.START): Status.IN_PRODUCTION,
    **{(state, Event.DELIVER_PART): Status.PARTIALLY_DELIVERED for state in RECEIVING_STATES},
    **{(state, Event.DELIVER_ALL): Status.DELIVERED for state in RECEIVING_STATES},
    (Status.DELIVERED, Event.CLOSE): Status.CLOSED,
    **{(state, Event.CANCEL): Status.CANCELLED for state in OPEN_STATES},
}

# Events that need a reason from the person firing them.
NEEDS_REASON = frozenset({Event.REJECT, Event.CANCEL})
# Who fires which event by hand; deliveries fire DELIVER_* themselves.
BUYER_EVENTS = frozenset({Event.ISSUE, Event.REISSUE, Event.CLOSE, Event.CANCEL})
SUPPLIER_EVENTS = frozenset({Event.ACCEPT, Event.REJECT, Event.START})


class TransitionNotAllowed(Conflict):
    code = "transition_not_allowed"
    message = N_("An order that is %(status)s cannot be changed that way (%(event)s).")


def next_status(status: Status, event: Event) -> Status:
    try:
        return TRANSITIONS[(status, event)]
    except KeyError:
        raise TransitionNotAllowed(status=gettext(status.label), event=event.value) from None
