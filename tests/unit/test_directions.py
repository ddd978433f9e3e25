"""Direction controls leave printed text, and nothing else does."""

from __future__ import annotations

from markupsafe import Markup

from portal.directions import printed, without_direction_controls


def test_every_embedding_override_and_isolate_control_is_removed() -> None:
    controls = "".join(chr(code) for code in (*range(0x202A, 0x202F), *range(0x2066, 0x206A)))
    assert without_direction_controls(f"Corrected {controls}see 1234") == "Corrected see 1234"


def test_text_without_them_is_kept_as_it_is_marks_and_chinese_included() -> None:
    text = "李测试 \u200e 图纸 A-12 <b>"
    assert without_direction_controls(text) is text


def test_markup_stays_markup_and_other_values_pass() -> None:
    cleaned = printed(Markup("<b>ok</b>\u202e"))
    assert isinstance(cleaned, Markup)
    assert cleaned == Markup("<b>ok</b>")
    assert printed(12) == 12
    assert printed(None) is None
