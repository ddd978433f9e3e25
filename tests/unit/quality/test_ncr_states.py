"""The NCR state machine, walked exhaustively: every status x every step
state x every event is either the one transition the table names or a
refusal with the error that says why."""

from __future__ import annotations

import itertools

import pytest

from portal.quality.ncr_states import (
    STEPS,
    TRANSITIONS,
    Event,
    NothingToDecide,
    NotVerified,
    Status,
    StepState,
    TransitionNotAllowed,
    next_state,
)

# The whole machine, written out by hand: (status, step state, event) -> next.
W, A = StepState.WAITING, StepState.ANSWERED
EXPECTED = {
    (Status.DRAFT, None, Event.ISSUE): (Status.CONTAINMENT, W),
    (Status.DRAFT, None, Event.CANCEL): (Status.CANCELLED, None),
    (Status.VERIFIED, None, Event.CLOSE): (Status.CLOSED, None),
}
for step, following in zip(STEPS, [*STEPS[1:], Status.VERIFIED], strict=True):
    EXPECTED[(step, W, Event.ANSWER)] = (step, A)
    EXPECTED[(step, A, Event.ANSWER)] = (step, A)
    EXPECTED[(step, A, Event.ACCEPT)] = (following, W if following in STEPS else None)
    EXPECTED[(step, A, Event.RETURN)] = (step, W)
    EXPECTED[(step, W, Event.CANCEL)] = (Status.CANCELLED, None)
    EXPECTED[(step, A, Event.CANCEL)] = (Status.CANCELLED, None)

CASES = list(itertools.product(Status, [None, *StepState], Event))


def test_the_table_is_the_machine_written_out() -> None:
    assert TRANSITIONS == EXPECTED


@pytest.mark.parametrize(("status", "step_state", "event"), CASES, ids=lambda value: str(value))
def test_every_status_state_and_event(status: Status, step_state: StepState | None, event: Event) -> None:
    key = (status, step_state, event)
    if key in EXPECTED:
        assert next_state(status, step_state, event) == EXPECTED[key]
        return
    with pytest.raises(TransitionNotAllowed) as refused:
        next_state(status, step_state, event)
    if event == Event.CLOSE and status not in (Status.CLOSED, Status.CANCELLED):
        assert isinstance(refused.value, NotVerified)
    elif event in (Event.ACCEPT, Event.RETURN) and status in STEPS:
        assert isinstance(refused.value, NothingToDecide)
    else:
        assert type(refused.value) is TransitionNotAllowed


def test_closed_and_cancelled_are_final() -> None:
    assert not [key for key in TRANSITIONS if key[0] in (Status.CLOSED, Status.CANCELLED)]
