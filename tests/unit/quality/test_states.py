"""A requirement's state from its documents' review states."""

from __future__ import annotations

import pytest

from portal.quality.services import requirement_state


@pytest.mark.parametrize(
    ("waived", "reviews", "expected"),
    [
        (False, [], "missing"),
        (False, ["rejected"], "rejected"),
        (False, ["rejected", "rejected"], "rejected"),
        (False, ["rejected", "pending"], "pending"),
        (False, ["pending", "approved", "rejected"], "approved"),
        (False, ["approved"], "approved"),
        # Waived wins: nothing is owed any more, whatever was sent.
        (True, [], "waived"),
        (True, ["rejected"], "waived"),
    ],
)
def test_the_best_document_decides_the_requirement(waived: bool, reviews: list[str], expected: str) -> None:
    assert requirement_state(waived, reviews) == expected
