"""Every state x every event of the order state machine."""

from __future__ import annotations

import itertools

import pytest

from portal.orders.states import OPEN_STATES, TRANSITIONS, Event, Status, TransitionNotAllowed, next_status

EXPECTED = {
    (Status.DRAFT, Event.ISSUE): Status.ISSUED,
    (Status.DRAFT, Event.CANCEL): Status.CANCELLED,
    (Status.ISSUED, Event.ACCEPT): Status.ACCEPTED,
    (Status.ISSUED, Event.REJECT): Status.REJECTED,
    (Status.ISSUED, Event.CANCEL): Status.CANCELLED,
    (Status.REJECTED, Event.REISSUE): Status.ISSUED,
    (Status.REJECTED, Event.CANCEL): Status.CANCELLED,
    (Status.ACCEPTED, Event.START): Status.IN_PRODUCTION,
    (Status.ACCEPTED, Event.DELIVER_PART): Status.PARTIALLY_DELIVERED,
    (Status.ACCEPTED, Event.DELIVER_ALL): Status.DELIVERED,
    (Status.ACCEPTED, Event.CANCEL): Status.CANCELLED,
    (Status.IN_PRODUCTION, Event.DELIVER_PART): Status.PARTIALLY_DELIVERED,
    (Status.IN_PRODUCTION, Event.DELIVER_ALL): Status.DELIVERED,
    (Status.IN_PRODUCTION, Event.CANCEL): Status.CANCELLED,
    (Status.PARTIALLY_DELIVERED, Event.DELIVER_PART): Status.PARTIALLY_DELIVERED,
    (Status.PARTIALLY_DELIVERED, Event.DELIVER_ALL): Status.DELIVERED,
    (Status.PARTIALLY_DELIVERED, Event.CANCEL): Status.CANCELLED,
    (Status.DELIVERED, Event.CLOSE): Status.CLOSED,
}


@pytest.mark.parametrize(("status", "event"), list(itertools.product(Status, Event)))
def test_every_state_and_event(status: Status, event: Event) -> None:
    expected = EXPECTED.get((status, event))
    if expected is None:
        with pytest.raises(TransitionNotAllowed):
            next_status(status, event)
    else:
        assert next_status(status, event) is expected


def test_the_table_is_exactly_the_expected_one() -> None:
    assert TRANSITIONS == EXPECTED


def test_cancel_is_possible_from_every_open_state_and_no_other() -> None:
    cancellable = {status for (status, event) in TRANSITIONS if event is Event.CANCEL}
    assert cancellable == set(OPEN_STATES)


def test_closed_and_cancelled_are_final() -> None:
    assert not [key for key in TRANSITIONS if key[0] in (Status.CLOSED, Status.CANCELLED)]
