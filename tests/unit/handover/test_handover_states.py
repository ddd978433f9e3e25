"""The handover state machine, every state x every event."""

from __future__ import annotations

import pytest

from portal.handover.states import TRANSITIONS, Event, Status, TransitionNotAllowed, next_status

EXPECTED = {
    (Status.DRAFT, Event.START): Status.IN_PROGRESS,
    (Status.DRAFT, Event.CANCEL): Status.CANCELLED,
    (Status.IN_PROGRESS, Event.SIGN_OFF): Status.IN_PROGRESS,
    (Status.IN_PROGRESS, Event.COMPLETE): Status.COMPLETED,
    (Status.IN_PROGRESS, Event.CANCEL): Status.CANCELLED,
}


@pytest.mark.parametrize("status", list(Status))
@pytest.mark.parametrize("event", list(Event))
def test_every_state_and_event(status: Status, event: Event) -> None:
    expected = EXPECTED.get((status, event))
    if expected is None:
        with pytest.raises(TransitionNotAllowed):
            next_status(status, event)
    else:
        assert next_status(status, event) is expected


def test_completed_and_cancelled_are_final() -> None:
    assert not [key for key in TRANSITIONS if key[0] in (Status.COMPLETED, Status.CANCELLED)]
