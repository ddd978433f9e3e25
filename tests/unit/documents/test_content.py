"""Checks by content: every accepted kind passes, every hostile file is
refused with its own reason, and names are made safe."""

from __future__ import annotations

import io

import pytest

from portal.documents import content
from portal.settings import MB, parse_upload_limits
from tests.support.documents import samples

LIMITS = parse_upload_limits(None)


def inspect(data: bytes, name: str, declared: str, category: str) -> content.Inspection:
    checked = content.check_name(name)
    content.check_size(len(data), category, LIMITS)
    return content.inspect(io.BytesIO(data), len(data), declared_type=declared, name=checked, category=category)


@pytest.mark.parametrize(
    ("label", "data", "name", "declared", "category"), samples.good_files(), ids=lambda v: v if isinstance(v, str) else ""
)
def test_accepted_kinds_pass_and_are_named_by_content(label: str, data: bytes, name: str, declared: str, category: str) -> None:
    result = inspect(data, name, declared, category)
    assert result.content_type == content.KINDS[result.kind].content_type
    assert content.extension_of(name) in content.KINDS[result.kind].extensions


@pytest.mark.parametrize("case", samples.hostile_corpus(), ids=lambda case: case.label)
def test_every_hostile_file_is_refused_with_its_reason(case: samples.Hostile) -> None:
    with pytest.raises(content.FileRefused) as refused:
        inspect(case.data, case.name, case.declared, case.category)
    assert refused.value.code == case.code


class CountingStream(io.BytesIO):
    """Counts the bytes read, the way ranged reads of an S3 object would."""

    def __init__(self, data: bytes) -> None:
        super().__init__(data)
        self.read_bytes = 0

    def read(self, size: int | None = -1) -> bytes:
        chunk = super().read(size)
        self.read_bytes += len(chunk)
        return chunk


@pytest.mark.parametrize(
    ("data", "name", "declared", "category"),
    [(samples.step(8 * 1024 * 1024), "big.step", "", "drawing"), (samples.dwg() * 20_000, "big.dwg", "", "drawing")],
    ids=["step", "dwg"],
)
def test_large_drawings_are_checked_from_their_head_and_tail(data: bytes, name: str, declared: str, category: str) -> None:
    stream = CountingStream(data)
    content.inspect(stream, len(data), declared_type=declared, name=content.check_name(name), category=category)
    assert stream.read_bytes <= content.HEAD_BYTES + content.TAIL_BYTES + 22


def test_markup_at_the_start_of_a_drawing_is_refused_but_deep_inside_it_is_inert() -> None:
    html_start = b"<html><script>alert(1)</script>" + samples.step()
    with pytest.raises(content.FileRefused):
        inspect(html_start, "x.step", "", "drawing")
    drawing = samples.step(512 * 1024)
    padded = drawing[: 200 * 1024] + b"#9=DESCRIPTION('<script>x</script>');\n" + drawing[200 * 1024 :]
    assert inspect(padded, "x.step", "", "drawing").kind == content.Kind.STEP


def test_refusal_messages_are_translated() -> None:
    from portal.i18n import use_locale

    error = content.FileTooLarge(limit=25)
    with use_locale("zh_CN"):
        chinese, _ = error.translated()
    with use_locale("en"):
        english, _ = error.translated()
    assert "25" in english
    assert "25" in chinese
    assert chinese != english


def test_oversized_files_are_refused_by_category_limit() -> None:
    with pytest.raises(content.FileTooLarge) as refused:
        content.check_size(26 * MB, "photo", LIMITS)
    assert refused.value.status_code == 413
    content.check_size(26 * MB, "drawing", LIMITS)


def test_the_image_bomb_is_refused_before_decoding() -> None:
    data = samples.png_bomb(20_000, 20_000)  # 400 MP: over our limit, under Pillow's own
    with pytest.raises(content.ImageTooLarge):
        inspect(data, "big.png", "image/png", "photo")


def test_a_large_photo_with_random_looking_data_is_not_a_false_polyglot() -> None:
    import os

    from PIL import Image

    noise = Image.frombytes("RGB", (1200, 900), os.urandom(1200 * 900 * 3))
    out = io.BytesIO()
    noise.save(out, format="JPEG", quality=95)
    assert inspect(out.getvalue(), "noise.jpg", "image/jpeg", "photo").kind == content.Kind.JPEG


@pytest.mark.parametrize(
    ("name", "safe"),
    [
        ("spec.pdf", "spec.pdf"),
        ("检验报告 2026.pdf", "检验报告 2026.pdf"),
        ('drawing "rev B" <final>.dxf', "drawing _rev B_ _final_.dxf"),
        ("...hidden.pdf", "hidden.pdf"),
        ("CON.pdf", "file_CON.pdf"),
        ("a" * 200 + ".step", "a" * 115 + ".step"),
        ("noextension", "noextension"),
        ("x.PDF", "x.pdf"),
    ],
)
def test_safe_names_keep_what_can_be_kept(name: str, safe: str) -> None:
    checked = content.check_name(name)
    assert checked.original == name
    assert checked.safe == safe


@pytest.mark.parametrize("name", ["", "   ", "../x.pdf", "a/b.pdf", "a\\b.pdf", "..", "tab\there.pdf", "e\u202etxt.pdf"])
def test_path_like_or_control_character_names_are_refused(name: str) -> None:
    with pytest.raises(content.BadFileName) as refused:
        content.check_name(name)
    assert refused.value.message == content.BadFileName.message


def test_a_name_too_long_is_refused_for_its_length() -> None:
    with pytest.raises(content.BadFileName) as refused:
        content.check_name("x" * 300 + ".pdf")
    assert refused.value.code == "file_name_invalid"
    assert str(refused.value) == "The file name is longer than 255 characters. Rename the file and try again."


def test_expected_kind_refuses_early_by_declaration() -> None:
    assert content.expected_kind("image/png", "a.png") == content.Kind.PNG
    assert content.expected_kind("", "a.stp") == content.Kind.STEP
    assert content.expected_kind("image/svg+xml", "a.svg") is None
    assert content.expected_kind("application/pdf", "a.png") is None


def test_zip_trailer_detection_needs_a_real_end_record() -> None:
    assert content.has_zip_trailer(samples.docx()[-200:])
    assert not content.has_zip_trailer(b"xxPK\x05\x06" + b"\x00" * 30)
