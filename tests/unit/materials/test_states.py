"""Every state x every event of the dispatch state machine."""

from __future__ import annotations

import itertools

import pytest

from portal.materials.states import RECEIVED_STATES, SHARED_STATES, TRANSITIONS, Event, Status, TransitionNotAllowed, next_status

EXPECTED = {
    (Status.DRAFT, Event.SEND): Status.SENT,
    (Status.SENT, Event.CONFIRM): Status.RECEIVED,
    (Status.SENT, Event.CONFIRM_WITH_DISCREPANCY): Status.RECEIVED_WITH_DISCREPANCY,
}


@pytest.mark.parametrize(("status", "event"), list(itertools.product(Status, Event)))
def test_every_state_and_event(status: Status, event: Event) -> None:
    expected = EXPECTED.get((status, event))
    if expected is None:
        with pytest.raises(TransitionNotAllowed) as refused:
            next_status(status, event)
        assert refused.value.status_code == 409
    else:
        assert next_status(status, event) is expected


def test_the_table_is_exactly_the_expected_one() -> None:
    assert TRANSITIONS == EXPECTED


def test_a_receipt_is_final() -> None:
    assert not any(status in RECEIVED_STATES for status, _ in TRANSITIONS)


def test_only_drafts_are_hidden_from_the_supplier() -> None:
    assert set(Status) - SHARED_STATES == {Status.DRAFT}


def test_every_status_has_a_label() -> None:
    assert all(status.label for status in Status)
