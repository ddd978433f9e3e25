"""Previews: small WebP images of photos and of the first page of PDFs, so
that QA can review quickly on a tablet. Rendering is CPU work on untrusted
bytes: it runs in a worker thread, off the request path, with the same
pixel limit the upload check applies before a single pixel is decoded.
"""

from __future__ import annotations

import functools
import io
import threading
from typing import IO, TYPE_CHECKING

from portal.documents.content import MAX_IMAGE_PIXELS, Kind

if TYPE_CHECKING:
    from PIL.Image import Image

THUMB_SIZE = 320  # list rows and cards
PREVIEW_SIZE = 1600  # a tablet's screen
WEBP_QUALITY = 80
PIL_FORMATS = {Kind.JPEG: "JPEG", Kind.PNG: "PNG", Kind.WEBP: "WEBP", Kind.HEIC: "HEIF"}
PREVIEWABLE = frozenset({Kind.JPEG, Kind.PNG, Kind.WEBP, Kind.HEIC, Kind.PDF})
# PDFium is not thread-safe: one rendering at a time per process.
_PDFIUM_LOCK = threading.Lock()


class PreviewFailed(Exception):
    pass


@functools.cache
def setup() -> None:
    """Register the HEIF decoder and Pillow's own bomb limit (which refuses
    at twice its value, after our check at the value itself)."""
    from PIL import Image
    from pillow_heif import register_heif_opener

    Image.MAX_IMAGE_PIXELS = MAX_IMAGE_PIXELS
    register_heif_opener()


def render_previews(stream: IO[bytes], kind: Kind) -> tuple[bytes, bytes]:
    """The thumbnail and the preview of one stored file, as WebP bytes,
    with no metadata (EXIF location and the like stay in the original)."""
    if kind == Kind.PDF:
        image = _first_pdf_page(stream)
    else:
        image = _decoded_image(stream, kind)
    try:
        return _webp(image, THUMB_SIZE), _webp(image, PREVIEW_SIZE)
    finally:
        image.close()


def _decoded_image(stream: IO[bytes], kind: Kind) -> Image:
    from PIL import Image as PILImage
    from PIL import ImageOps

    setup()
    stream.seek(0)
    try:
        image = PILImage.open(stream, formats=[PIL_FORMATS[kind]])
        width, height = image.size
        if width * height > MAX_IMAGE_PIXELS:
            raise PreviewFailed("image too large")
        # JPEG decodes straight at a reduced scale: fast and small in memory.
        image.draft("RGB", (PREVIEW_SIZE, PREVIEW_SIZE))
        image.load()
        upright = ImageOps.exif_transpose(image)
        return upright.convert("RGB") if upright.mode not in ("RGB", "RGBA") else upright
    except PreviewFailed:
        raise
    except Exception as exc:  # any decoder failure on untrusted bytes
        raise PreviewFailed(f"{type(exc).__name__}: {exc}") from exc


def _first_pdf_page(stream: IO[bytes]) -> Image:
    import pypdfium2  # type: ignore[import-untyped]

    stream.seek(0)
    with _PDFIUM_LOCK:
        try:
            # PDFium reads the stream on demand (seek + readinto): a large
            # drawing set is not loaded into memory to render its first page.
            document = pypdfium2.PdfDocument(stream)
            try:
                if len(document) == 0:
                    raise PreviewFailed("no pages")
                page = document[0]
                width, height = page.get_size()
                scale = min(PREVIEW_SIZE / max(width, height, 1.0), 4.0)
                bitmap = page.render(scale=scale)
                image = bitmap.to_pil()
                page.close()
                converted: Image = image.convert("RGB")
                return converted
            finally:
                document.close()
        except PreviewFailed:
            raise
        except Exception as exc:  # PDFium errors on untrusted bytes
            raise PreviewFailed(f"{type(exc).__name__}: {exc}") from exc


def _webp(image: Image, size: int) -> bytes:
    from PIL import Image as PILImage

    copy = image.copy()
    copy.thumbnail((size, size), PILImage.Resampling.LANCZOS)
    out = io.BytesIO()
    copy.save(out, format="WEBP", quality=WEBP_QUALITY, method=4)
    return out.getvalue()
