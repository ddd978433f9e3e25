"""The nonconformance (NCR) state machine: one table of allowed transitions.

An NCR's state is a pair: its status (draft, the step it stands at,
verified, closed, cancelled) and, while it stands at a step, that step's
state (waiting for the supplier, or answered and waiting for QA). Steps run
in order, in the spirit of 8D: containment, root cause, corrective action,
verification. QA accepting the verification step makes the NCR verified;
only then may QA close it. Every (status, step state, event) not in
``TRANSITIONS`` is refused with a clear error; the tests walk all of them.
"""

from __future__ import annotations

from enum import StrEnum

from portal.errors import Conflict
from portal.i18n import N_, gettext


class Status(StrEnum):
    DRAFT = "draft"  # QA prepares it (description, photos); the supplier does not see it yet
    CONTAINMENT = "containment"
    ROOT_CAUSE = "root_cause"
    CORRECTIVE_ACTION = "corrective_action"
    VERIFICATION = "verification"
    VERIFIED = "verified"  # every step accepted: QA may close it
    CLOSED = "closed"
    CANCELLED = "cancelled"

    @property
    def label(self) -> str:
        return STATUS_LABELS[self]


class StepState(StrEnum):
    WAITING = "waiting"  # for the supplier's answer (again, after QA returned it)
    ANSWERED = "answered"  # for QA's decision


class Event(StrEnum):
    ISSUE = "issue"  # QA sends the draft to the supplier; the steps' clocks start
    ANSWER = "answer"  # the supplier answers the current step (again, until QA decides)
    ACCEPT = "accept"  # QA accepts the answer; the next step starts
    RETURN = "return"  # QA sends the answer back with a comment
    CLOSE = "close"  # QA closes a verified NCR
    CANCEL = "cancel"  # QA cancels an NCR opened in error, with a reason


# The steps in order, and the status each one is.
STEPS = (Status.CONTAINMENT, Status.ROOT_CAUSE, Status.CORRECTIVE_ACTION, Status.VERIFICATION)
# Days from issue to each step's due date, unless the tenant's admin set others.
DEFAULT_DAYS = {Status.CONTAINMENT: 1, Status.ROOT_CAUSE: 7, Status.CORRECTIVE_ACTION: 14, Status.VERIFICATION: 30}
OPEN_STATES = frozenset({Status.DRAFT, *STEPS, Status.VERIFIED})
# States in which the supplier sees the NCR (a draft is QA's own).
SHARED_STATES = frozenset(Status) - {Status.DRAFT}

STATUS_LABELS = {
    Status.DRAFT: N_("Draft"),
    Status.CONTAINMENT: N_("Containment"),
    Status.ROOT_CAUSE: N_("Root cause"),
    Status.CORRECTIVE_ACTION: N_("Corrective action"),
    Status.VERIFICATION: N_("Verification"),
    Status.VERIFIED: N_("Verified"),
    Status.CLOSED: N_("Closed"),
    Status.CANCELLED: N_("Cancelled"),
}
STEP_STATE_LABELS = {
    StepState.WAITING: N_("Waiting for the supplier"),
    StepState.ANSWERED: N_("Waiting for QA"),
}
EVENT_LABELS = {
    Event.ISSUE: N_("Send to the supplier"),
    Event.ANSWER: N_("Answer the step"),
    Event.ACCEPT: N_("Accept the answer"),
    Event.RETURN: N_("Send the answer back"),
    Event.CLOSE: N_("Close the NCR"),
    Event.CANCEL: N_("Cancel the NCR"),
}

State = tuple[Status, StepState | None]


def _step_transitions() -> dict[tuple[Status, StepState | None, Event], State]:
    table: dict[tuple[Status, StepState | None, Event], State] = {}
    for index, step in enumerate(STEPS):
        after: State = (STEPS[index + 1], StepState.WAITING) if index + 1 < len(STEPS) else (Status.VERIFIED, None)
        table[(step, StepState.WAITING, Event.ANSWER)] = (step, StepState.ANSWERED)
        # Until QA decides, the supplier may add to or correct its answer.
        table[(step, StepState.ANSWERED, Event.ANSWER)] = (step, StepState.ANSWERED)
        table[(step, StepState.ANSWERED, Event.ACCEPT)] = after
        table[(step, StepState.ANSWERED, Event.RETURN)] = (step, StepState.WAITING)
        for state in StepState:
            table[(step, state, Event.CANCEL)] = (Status.CANCELLED, None)
    return table


TRANSITIONS: dict[tuple[Status, StepState | None, Event], State] = {
    (Status.DRAFT, None, Event.ISSUE): (STEPS[0], StepState.WAITING),
    (Status.DRAFT, None, Event.CANCEL): (Status.CANCELLED, None),
    **_step_transitions(),
    (Status.VERIFIED, None, Event.CLOSE): (Status.CLOSED, None),
}

# Who fires which event: the supplier answers, QA does the rest.
SUPPLIER_EVENTS = frozenset({Event.ANSWER})
QA_EVENTS = frozenset(Event) - SUPPLIER_EVENTS
# Events that name a step (the one the NCR stands at).
STEP_EVENTS = frozenset({Event.ANSWER, Event.ACCEPT, Event.RETURN})


class TransitionNotAllowed(Conflict):
    code = "ncr_transition_not_allowed"
    message = N_("An NCR at %(status)s cannot be changed that way (%(event)s).")


class NotVerified(TransitionNotAllowed):
    code = "ncr_not_verified"
    message = N_("QA must accept the verification step before the NCR can be closed.")


class NothingToDecide(TransitionNotAllowed):
    code = "ncr_step_not_answered"
    message = N_("This step has no answer waiting for a decision: it was already decided, or the supplier has not answered it yet.")


def next_state(status: Status, step_state: StepState | None, event: Event) -> State:
    try:
        return TRANSITIONS[(status, step_state, event)]
    except KeyError:
        if event == Event.CLOSE and status in OPEN_STATES:
            raise NotVerified() from None
        if event in (Event.ACCEPT, Event.RETURN) and status in STEPS:
            raise NothingToDecide() from None
        raise TransitionNotAllowed(status=gettext(status.label), event=gettext(EVENT_LABELS[event])) from None
