"""The delivery state machine, walked exhaustively: every state x every event."""

from __future__ import annotations

import pytest

from portal.deliveries.states import (
    BUYER_EVENTS,
    EVENT_ACTIONS,
    IN_TRANSIT,
    STATUS_LABELS,
    SUPPLIER_EVENTS,
    TRANSITIONS,
    Event,
    Status,
    TransitionNotAllowed,
    next_status,
)
from tenants.roles import POLICY, SUPPLIER_ROLES, Role

EXPECTED = {
    (Status.DRAFT, Event.SHIP): Status.SHIPPED,
    (Status.DRAFT, Event.RECEIVE): None,
    (Status.DRAFT, Event.CANCEL): Status.CANCELLED,
    (Status.SHIPPED, Event.SHIP): None,
    (Status.SHIPPED, Event.RECEIVE): Status.RECEIVED,
    (Status.SHIPPED, Event.CANCEL): Status.CANCELLED,
    (Status.RECEIVED, Event.SHIP): None,
    (Status.RECEIVED, Event.RECEIVE): None,
    (Status.RECEIVED, Event.CANCEL): None,
    (Status.CANCELLED, Event.SHIP): None,
    (Status.CANCELLED, Event.RECEIVE): None,
    (Status.CANCELLED, Event.CANCEL): None,
}


def test_the_expectation_covers_every_state_and_event() -> None:
    assert set(EXPECTED) == {(state, event) for state in Status for event in Event}


@pytest.mark.parametrize(("state", "event"), sorted(EXPECTED, key=str))
def test_every_state_and_event(state: Status, event: Event) -> None:
    expected = EXPECTED[(state, event)]
    if expected is None:
        with pytest.raises(TransitionNotAllowed) as refused:
            next_status(state, event)
        assert refused.value.status_code == 409
        assert refused.value.code == "transition_not_allowed"
    else:
        assert next_status(state, event) is expected


def test_the_table_allows_nothing_else() -> None:
    assert {key: value for key, value in EXPECTED.items() if value is not None} == TRANSITIONS


def test_received_and_cancelled_are_final() -> None:
    for final in (Status.RECEIVED, Status.CANCELLED):
        assert not any(state is final for state, _ in TRANSITIONS)


def test_only_shipped_notices_are_in_transit() -> None:
    assert frozenset({Status.SHIPPED}) == IN_TRANSIT


def test_each_event_has_one_side_and_a_policy_action_for_that_side() -> None:
    assert set(Event) == SUPPLIER_EVENTS | BUYER_EVENTS
    assert not SUPPLIER_EVENTS & BUYER_EVENTS
    for event in Event:
        roles = POLICY[EVENT_ACTIONS[event]]
        if event in SUPPLIER_EVENTS:
            assert roles == SUPPLIER_ROLES
        else:
            assert roles
            assert not roles & SUPPLIER_ROLES
    assert POLICY["deliveries.view"] == frozenset(Role)


def test_every_status_has_a_label() -> None:
    assert set(STATUS_LABELS) == set(Status)
