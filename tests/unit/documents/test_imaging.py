"""Previews: every previewable kind renders to small WebP images without
metadata, upright, and a bomb is refused before decoding."""

from __future__ import annotations

import io

import pytest
from PIL import Image

from portal.documents.content import Kind
from portal.documents.imaging import PREVIEW_SIZE, THUMB_SIZE, PreviewFailed, render_previews
from tests.support.documents import samples


@pytest.mark.parametrize(
    ("kind", "data"),
    [
        (Kind.JPEG, samples.jpeg(3000, 2000)),
        (Kind.PNG, samples.png(800, 600)),
        (Kind.WEBP, samples.webp(640, 480)),
        (Kind.HEIC, samples.heic(640, 480)),
        (Kind.PDF, samples.pdf(3)),
    ],
)
def test_previewable_kinds_render_to_small_webp(kind: Kind, data: bytes) -> None:
    thumb, preview = render_previews(io.BytesIO(data), kind)
    for rendered, limit in ((thumb, THUMB_SIZE), (preview, PREVIEW_SIZE)):
        image = Image.open(io.BytesIO(rendered))
        assert image.format == "WEBP"
        assert max(image.size) <= limit
        assert not image.getexif()


def test_photos_are_turned_upright_and_lose_their_exif() -> None:
    source = Image.new("RGB", (400, 200), (10, 20, 30))
    exif = source.getexif()
    exif[0x0112] = 6  # rotated 90°: the camera was held upright
    exif[0x010F] = "PortalCam"  # camera metadata, to be dropped
    out = io.BytesIO()
    source.save(out, format="JPEG", exif=exif)
    _, preview = render_previews(io.BytesIO(out.getvalue()), Kind.JPEG)
    image = Image.open(io.BytesIO(preview))
    assert image.size == (200, 400)
    assert not image.getexif()


def test_a_bomb_is_refused_before_decoding() -> None:
    with pytest.raises(PreviewFailed):
        render_previews(io.BytesIO(samples.png_bomb(20_000, 20_000)), Kind.PNG)


def test_a_broken_file_fails_cleanly() -> None:
    from portal import weasy

    weasy.html("<p>PDF</p>").render()  # a PDF rendered before in this process, as in the worker

    with pytest.raises(PreviewFailed):
        render_previews(io.BytesIO(samples.pdf()[:300]), Kind.PDF)
    with pytest.raises(PreviewFailed):
        render_previews(io.BytesIO(samples.png()[:80]), Kind.PNG)
