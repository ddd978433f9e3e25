"""The confirmation loop of a statement: one table of allowed transitions
for the statement, one for each of its lines.

Finance sends a draft of a closed period; the supplier admin confirms each
line or disputes it with a comment; finance answers a dispute (keeping the
line, or adding a correcting line), which puts the line before the supplier
again. When every line is confirmed the supplier admin confirms the
statement and finance finalizes it: finalized is locked. Every (state,
event) pair not in a table is refused; the tests walk them all.
"""

from __future__ import annotations

from enum import StrEnum

from portal.errors import Conflict
from portal.i18n import N_


class Status(StrEnum):
    DRAFT = "draft"
    SENT = "sent"
    DISPUTED = "disputed"
    FINALIZED = "finalized"


class Event(StrEnum):
    SEND = "send"  # finance sends the draft of a closed period
    CONFIRM_LINE = "confirm_line"  # supplier admin agrees to a line
    DISPUTE_LINE = "dispute_line"  # supplier admin disputes a line, with a comment
    ANSWER = "answer"  # finance answers a dispute; others remain
    ANSWER_LAST = "answer_last"  # finance answers the last open dispute
    CONFIRM = "confirm"  # supplier admin confirms the whole statement
    FINALIZE = "finalize"  # finance confirms after the supplier: locked


class LineState(StrEnum):
    OPEN = "open"
    CONFIRMED = "confirmed"
    DISPUTED = "disputed"


class LineEvent(StrEnum):
    CONFIRM = "confirm"
    DISPUTE = "dispute"
    ANSWER = "answer"


STATUS_LABELS = {
    Status.DRAFT: N_("Draft"),
    Status.SENT: N_("Sent"),
    Status.DISPUTED: N_("Disputed"),
    Status.FINALIZED: N_("Finalized"),
}

LINE_STATE_LABELS = {
    LineState.OPEN: N_("To confirm"),
    LineState.CONFIRMED: N_("Confirmed"),
    LineState.DISPUTED: N_("Disputed"),
}

# The history of a statement (its steps), on its page and in its PDF.
STEP_LABELS = {
    "send": N_("Sent"),
    "confirm_line": N_("Line confirmed"),
    "dispute_line": N_("Line disputed"),
    "answer": N_("Dispute answered"),
    "confirm": N_("Confirmed by the supplier"),
    "finalize": N_("Finalized"),
}

TRANSITIONS: dict[tuple[Status, Event], Status] = {
    (Status.DRAFT, Event.SEND): Status.SENT,
    (Status.SENT, Event.CONFIRM_LINE): Status.SENT,
    (Status.SENT, Event.DISPUTE_LINE): Status.DISPUTED,
    (Status.DISPUTED, Event.CONFIRM_LINE): Status.DISPUTED,
    (Status.DISPUTED, Event.DISPUTE_LINE): Status.DISPUTED,
    (Status.DISPUTED, Event.ANSWER): Status.DISPUTED,
    (Status.DISPUTED, Event.ANSWER_LAST): Status.SENT,
    (Status.SENT, Event.CONFIRM): Status.SENT,
    (Status.SENT, Event.FINALIZE): Status.FINALIZED,
}

LINE_TRANSITIONS: dict[tuple[LineState, LineEvent], LineState] = {
    (LineState.OPEN, LineEvent.CONFIRM): LineState.CONFIRMED,
    (LineState.OPEN, LineEvent.DISPUTE): LineState.DISPUTED,
    (LineState.DISPUTED, LineEvent.ANSWER): LineState.OPEN,
}

# Who fires each event (the permission policy's action).
FINANCE_EVENTS = frozenset({Event.SEND, Event.ANSWER, Event.ANSWER_LAST, Event.FINALIZE})
SUPPLIER_EVENTS = frozenset({Event.CONFIRM_LINE, Event.DISPUTE_LINE, Event.CONFIRM})


class TransitionNotAllowed(Conflict):
    code = "transition_not_allowed"
    message = N_("This step is not possible in the statement's current state.")


def next_status(status: Status, event: Event) -> Status:
    try:
        return TRANSITIONS[(status, event)]
    except KeyError:
        raise TransitionNotAllowed() from None


def next_line_state(state: LineState, event: LineEvent) -> LineState:
    try:
        return LINE_TRANSITIONS[(state, event)]
    except KeyError:
        raise TransitionNotAllowed() from None
