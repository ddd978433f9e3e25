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


@pytest.mark.parametrize(
    ("reviews", "count", "expected"),
    [
        (["approved"], 2, "missing"),
        (["approved", "pending"], 2, "pending"),
        (["approved", "rejected"], 2, "missing"),
        (["approved", "approved"], 2, "approved"),
        (["rejected", "rejected"], 3, "rejected"),
    ],
)
def test_a_requirement_for_several_documents_needs_that_many_approved(reviews: list[str], count: int, expected: str) -> None:
    assert requirement_state(False, reviews, count) == expected


def test_templates_of_several_items_merge_per_category() -> None:
    from portal.quality.templates import TemplateOut, merge

    merged = merge(
        [
            TemplateOut("photo", 2, "before_delivery", "Flange"),
            TemplateOut("photo", 3, "in_process", ""),
            TemplateOut("photo", 1, "first_article", "Flange"),
            TemplateOut("material_certificate", 1, "before_delivery", "3.1"),
        ]
    )
    assert merged["photo"] == TemplateOut("photo", 3, "first_article", "Flange")
    assert merged["material_certificate"] == TemplateOut("material_certificate", 1, "before_delivery", "3.1")
