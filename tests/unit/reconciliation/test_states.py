"""The statement's confirmation loop, walked exhaustively: every state x
every event, for the statement and for a line."""

from __future__ import annotations

import pytest

from portal.reconciliation.states import (
    FINANCE_EVENTS,
    LINE_TRANSITIONS,
    SUPPLIER_EVENTS,
    TRANSITIONS,
    Event,
    LineEvent,
    LineState,
    Status,
    TransitionNotAllowed,
    next_line_state,
    next_status,
)

S, E = Status, Event
EXPECTED: dict[tuple[Status, Event], Status | None] = {
    (S.DRAFT, E.SEND): S.SENT,
    (S.DRAFT, E.CONFIRM_LINE): None,
    (S.DRAFT, E.DISPUTE_LINE): None,
    (S.DRAFT, E.ANSWER): None,
    (S.DRAFT, E.ANSWER_LAST): None,
    (S.DRAFT, E.CONFIRM): None,
    (S.DRAFT, E.FINALIZE): None,
    (S.SENT, E.SEND): None,
    (S.SENT, E.CONFIRM_LINE): S.SENT,
    (S.SENT, E.DISPUTE_LINE): S.DISPUTED,
    (S.SENT, E.ANSWER): None,
    (S.SENT, E.ANSWER_LAST): None,
    (S.SENT, E.CONFIRM): S.SENT,
    (S.SENT, E.FINALIZE): S.FINALIZED,
    (S.DISPUTED, E.SEND): None,
    (S.DISPUTED, E.CONFIRM_LINE): S.DISPUTED,
    (S.DISPUTED, E.DISPUTE_LINE): S.DISPUTED,
    (S.DISPUTED, E.ANSWER): S.DISPUTED,
    (S.DISPUTED, E.ANSWER_LAST): S.SENT,
    (S.DISPUTED, E.CONFIRM): None,
    (S.DISPUTED, E.FINALIZE): None,
    **{(S.FINALIZED, event): None for event in Event},
}

LINE_EXPECTED: dict[tuple[LineState, LineEvent], LineState | None] = {
    (LineState.OPEN, LineEvent.CONFIRM): LineState.CONFIRMED,
    (LineState.OPEN, LineEvent.DISPUTE): LineState.DISPUTED,
    (LineState.OPEN, LineEvent.ANSWER): None,
    (LineState.CONFIRMED, LineEvent.CONFIRM): None,
    (LineState.CONFIRMED, LineEvent.DISPUTE): None,
    (LineState.CONFIRMED, LineEvent.ANSWER): None,
    (LineState.DISPUTED, LineEvent.CONFIRM): None,
    (LineState.DISPUTED, LineEvent.DISPUTE): None,
    (LineState.DISPUTED, LineEvent.ANSWER): LineState.OPEN,
}


def test_the_expectations_cover_every_state_and_event() -> None:
    assert set(EXPECTED) == {(state, event) for state in Status for event in Event}
    assert set(LINE_EXPECTED) == {(state, event) for state in LineState for event in LineEvent}


@pytest.mark.parametrize(("state", "event"), list(EXPECTED), ids=lambda value: str(value))
def test_each_statement_transition(state: Status, event: Event) -> None:
    expected = EXPECTED[(state, event)]
    if expected is None:
        with pytest.raises(TransitionNotAllowed):
            next_status(state, event)
    else:
        assert next_status(state, event) == expected


@pytest.mark.parametrize(("state", "event"), list(LINE_EXPECTED), ids=lambda value: str(value))
def test_each_line_transition(state: LineState, event: LineEvent) -> None:
    expected = LINE_EXPECTED[(state, event)]
    if expected is None:
        with pytest.raises(TransitionNotAllowed):
            next_line_state(state, event)
    else:
        assert next_line_state(state, event) == expected


def test_the_tables_hold_nothing_beyond_the_expectation() -> None:
    assert {key: value for key, value in EXPECTED.items() if value is not None} == TRANSITIONS
    assert {key: value for key, value in LINE_EXPECTED.items() if value is not None} == LINE_TRANSITIONS


def test_a_finalized_statement_takes_no_event() -> None:
    assert not [event for (state, event) in TRANSITIONS if state == Status.FINALIZED]


def test_every_event_belongs_to_one_side() -> None:
    assert set(Event) == FINANCE_EVENTS | SUPPLIER_EVENTS
    assert set() == FINANCE_EVENTS & SUPPLIER_EVENTS
