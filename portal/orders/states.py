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
    # Supplier answers line by line: some accepted, the others declined with
    # a reason (all accepted is ACCEPT, all declined REJECT: ``answer_event``).
    ACCEPT_IN_PART = "accept_in_part"


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
    Event.ACCEPT_IN_PART: N_("Accept some lines"),
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
    (Status.ISSUED, Event.ACCEPT_IN_PART): Status.ACCEPTED,
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


class LineAnswer(StrEnum):
    """A line's own answer from the supplier."""

    PENDING = ""
    ACCEPTED = "accepted"
    DECLINED = "declined"


class LineEvent(StrEnum):
    ACCEPT = "accept"
    DECLINE = "decline"  # with a reason
    RESET = "reset"  # the order goes back to the supplier (reissue, a revived line)


LINE_TRANSITIONS: dict[tuple[LineAnswer, LineEvent], LineAnswer] = {
    (LineAnswer.PENDING, LineEvent.ACCEPT): LineAnswer.ACCEPTED,
    (LineAnswer.PENDING, LineEvent.DECLINE): LineAnswer.DECLINED,
    **{(answer, LineEvent.RESET): LineAnswer.PENDING for answer in LineAnswer},
}


def next_answer(answer: LineAnswer, event: LineEvent) -> LineAnswer:
    try:
        return LINE_TRANSITIONS[(answer, event)]
    except KeyError:
        raise LineAlreadyAnswered() from None


def answer_event(accepted: int, declined: int) -> Event:
    """The order's event for a set of line answers."""
    if not declined:
        return Event.ACCEPT
    return Event.REJECT if not accepted else Event.ACCEPT_IN_PART


class LineAlreadyAnswered(Conflict):
    code = "line_already_answered"
    message = N_("This line was already answered.")


class TransitionNotAllowed(Conflict):
    code = "transition_not_allowed"
    message = N_("An order that is %(status)s cannot be changed that way (%(event)s).")


def next_status(status: Status, event: Event) -> Status:
    try:
        return TRANSITIONS[(status, event)]
    except KeyError:
        raise TransitionNotAllowed(status=gettext(status.label), event=gettext(EVENT_LABELS[event])) from None
