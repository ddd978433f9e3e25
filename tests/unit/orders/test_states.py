"""Every state x every event of the order state machine."""

from __future__ import annotations

import itertools

import pytest

from portal.orders.states import (
    LINE_TRANSITIONS,
    OPEN_STATES,
    TRANSITIONS,
    Event,
    LineAlreadyAnswered,
    LineAnswer,
    LineEvent,
    Status,
    TransitionNotAllowed,
    answer_event,
    next_answer,
    next_status,
)

EXPECTED = {
    (Status.DRAFT, Event.ISSUE): Status.ISSUED,
    (Status.DRAFT, Event.CANCEL): Status.CANCELLED,
    (Status.ISSUED, Event.ACCEPT): Status.ACCEPTED,
    (Status.ISSUED, Event.REJECT): Status.REJECTED,
    (Status.ISSUED, Event.ACCEPT_IN_PART): Status.ACCEPTED,
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


LINE_EXPECTED = {
    (LineAnswer.PENDING, LineEvent.ACCEPT): LineAnswer.ACCEPTED,
    (LineAnswer.PENDING, LineEvent.DECLINE): LineAnswer.DECLINED,
    (LineAnswer.PENDING, LineEvent.RESET): LineAnswer.PENDING,
    (LineAnswer.ACCEPTED, LineEvent.RESET): LineAnswer.PENDING,
    (LineAnswer.DECLINED, LineEvent.RESET): LineAnswer.PENDING,
}


@pytest.mark.parametrize(("answer", "event"), list(itertools.product(LineAnswer, LineEvent)))
def test_every_line_answer_and_event(answer: LineAnswer, event: LineEvent) -> None:
    expected = LINE_EXPECTED.get((answer, event))
    if expected is None:
        with pytest.raises(LineAlreadyAnswered):
            next_answer(answer, event)
    else:
        assert next_answer(answer, event) is expected
    assert LINE_TRANSITIONS == LINE_EXPECTED


@pytest.mark.parametrize(
    ("accepted", "declined", "event"),
    [(3, 0, Event.ACCEPT), (0, 2, Event.REJECT), (2, 1, Event.ACCEPT_IN_PART), (1, 0, Event.ACCEPT), (0, 1, Event.REJECT)],
)
def test_the_line_answers_decide_the_orders_event(accepted: int, declined: int, event: Event) -> None:
    assert answer_event(accepted, declined) is event
