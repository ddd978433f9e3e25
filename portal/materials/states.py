"""The dispatch state machine: one table of allowed transitions.

A dispatch is drafted by the buyer, sent, and confirmed once by the supplier:
as received when every line arrived within the tenant's tolerance, or as
received with a discrepancy when at least one line did not. Every
(state, event) pair not in ``TRANSITIONS`` is refused; the tests walk every
state x every event.
"""

from __future__ import annotations

from enum import StrEnum

from portal.errors import Conflict
from portal.i18n import N_, gettext


class Status(StrEnum):
    DRAFT = "draft"
    SENT = "sent"
    RECEIVED = "received"
    RECEIVED_WITH_DISCREPANCY = "received_with_discrepancy"

    @property
    def label(self) -> str:
        return STATUS_LABELS[self]


class Event(StrEnum):
    SEND = "send"  # buyer sends the draft to the supplier
    CONFIRM = "confirm"  # supplier confirms receipt, every line within tolerance
    CONFIRM_WITH_DISCREPANCY = "confirm_with_discrepancy"  # supplier confirms, some line out of tolerance


STATUS_LABELS = {
    Status.DRAFT: N_("Draft"),
    Status.SENT: N_("Sent"),
    Status.RECEIVED: N_("Received"),
    Status.RECEIVED_WITH_DISCREPANCY: N_("Received with discrepancy"),
}

# Named in a refusal, in the reader's language.
EVENT_LABELS = {
    Event.SEND: N_("Send to the supplier"),
    Event.CONFIRM: N_("Confirm the receipt"),
    Event.CONFIRM_WITH_DISCREPANCY: N_("Confirm the receipt with a discrepancy"),
}

TRANSITIONS: dict[tuple[Status, Event], Status] = {
    (Status.DRAFT, Event.SEND): Status.SENT,
    (Status.SENT, Event.CONFIRM): Status.RECEIVED,
    (Status.SENT, Event.CONFIRM_WITH_DISCREPANCY): Status.RECEIVED_WITH_DISCREPANCY,
}

# States the supplier sees (a draft is the buyer's own).
SHARED_STATES = frozenset(Status) - {Status.DRAFT}
# States whose lines count towards the material balance.
COUNTED_STATES = SHARED_STATES
RECEIVED_STATES = frozenset({Status.RECEIVED, Status.RECEIVED_WITH_DISCREPANCY})


class TransitionNotAllowed(Conflict):
    code = "transition_not_allowed"
    message = N_("A dispatch that is %(status)s cannot be changed that way (%(event)s).")


def next_status(status: Status, event: Event) -> Status:
    try:
        return TRANSITIONS[(status, event)]
    except KeyError:
        raise TransitionNotAllowed(status=gettext(status.label), event=gettext(EVENT_LABELS[event])) from None
