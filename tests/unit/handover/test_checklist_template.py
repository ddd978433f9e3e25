"""The checklist template: the default is valid, bad templates are refused
field by field."""

from __future__ import annotations

import pytest

from portal.handover.checklist import DEFAULT_SECTIONS, InvalidTemplate, clean_sections


def test_the_default_template_is_valid() -> None:
    assert clean_sections(DEFAULT_SECTIONS) == DEFAULT_SECTIONS


def test_a_bad_template_names_each_problem() -> None:
    with pytest.raises(InvalidTemplate) as refused:
        clean_sections([{"title": "", "items": [{"title": "x", "party": "boss", "source": "ncr?"}]}])
    assert set(refused.value.fields) == {"sections.0.title", "sections.0.items.0.party", "sections.0.items.0.source"}
    with pytest.raises(InvalidTemplate):
        clean_sections([])
