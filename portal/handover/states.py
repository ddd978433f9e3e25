"""The handover state machine: one table of allowed transitions.

A handover is drafted by the buyer (checklist pre-filled from the records),
started (both suppliers see their part), and then either completed (once
every blocking entry is signed off: the work moves in one transaction) or
cancelled (before completion, with no side effect). Every (state, event)
pair not in ``TRANSITIONS`` is refused; the tests walk every pair.
"""

from __future__ import annotations

from enum import StrEnum

from portal.errors import Conflict
from portal.i18n import N_, gettext


class Status(StrEnum):
    DRAFT = "draft"
    IN_PROGRESS = "in_progress"
    COMPLETED = "completed"
    CANCELLED = "cancelled"

    @property
    def label(self) -> str:
        return STATUS_LABELS[self]


class Event(StrEnum):
    START = "start"  # the buyer shares the checklist with both suppliers
    SIGN_OFF = "sign_off"  # a party signs off one entry
    COMPLETE = "complete"  # every blocking entry is done: the work moves
    CANCEL = "cancel"  # before completion, nothing moves


STATUS_LABELS = {
    Status.DRAFT: N_("Draft"),
    Status.IN_PROGRESS: N_("In progress"),
    Status.COMPLETED: N_("Completed"),
    Status.CANCELLED: N_("Cancelled"),
}

TRANSITIONS: dict[tuple[Status, Event], Status] = {
    (Status.DRAFT, Event.START): Status.IN_PROGRESS,
    (Status.IN_PROGRESS, Event.SIGN_OFF): Status.IN_PROGRESS,
    (Status.IN_PROGRESS, Event.COMPLETE): Status.COMPLETED,
    (Status.DRAFT, Event.CANCEL): Status.CANCELLED,
    (Status.IN_PROGRESS, Event.CANCEL): Status.CANCELLED,
}

OPEN_STATES = frozenset({Status.DRAFT, Status.IN_PROGRESS})


class TransitionNotAllowed(Conflict):
    code = "transition_not_allowed"
    message = N_("A handover that is %(status)s cannot be changed that way.")


def next_status(status: Status, event: Event) -> Status:
    try:
        return TRANSITIONS[(status, event)]
    except KeyError:
        raise TransitionNotAllowed(status=gettext(status.label)) from None
