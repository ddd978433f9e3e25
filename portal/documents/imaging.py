"""Previews: small WebP images of photos and of the first page of PDFs, so
that QA can review quickly on a tablet. Rendering is CPU work on untrusted
bytes: it runs in a worker thread, off the request path, with the same
pixel limit the upload check applies before a single pixel is decoded.

Pixels alone do not bound memory: a 346 KB PNG of 10,900 x 10,900 zero
pixels passes the pixel limit and decodes to half a gigabyte. So before
anything is decoded, the memory the decoding will take (pixels x bytes per
pixel in the decoder's own buffers) is checked against ``DECODE_BUDGET``;
a file over it gets no preview (the document itself is kept). JPEGs
decode at a reduced scale first, and every image is shrunk to the preview
size straight after decoding, so no full-size copy is ever made.
"""

from __future__ import annotations

import functools
import io
import shutil
import subprocess
import sys
import tempfile
from typing import IO, TYPE_CHECKING

from portal.documents.content import MAX_IMAGE_PIXELS, Kind
from portal.settings import MB

if TYPE_CHECKING:
    from PIL.Image import Image, Transpose

THUMB_SIZE = 320  # list rows and cards
PREVIEW_SIZE = 1600  # a tablet's screen
WEBP_QUALITY = 80
PIL_FORMATS = {Kind.JPEG: "JPEG", Kind.PNG: "PNG", Kind.WEBP: "WEBP", Kind.HEIC: "HEIF"}
PREVIEWABLE = frozenset({Kind.JPEG, Kind.PNG, Kind.WEBP, Kind.HEIC, Kind.PDF})
# Memory one rendering may take for decoded pixels; at most
# ``previews.RENDER_CONCURRENCY`` renderings run at a time per process.
DECODE_BUDGET = 320 * MB
# Bytes per pixel Pillow keeps for a mode (multi-band 8-bit modes are
# stored as 32-bit pixels); modes not named here take 4.
_PIL_BYTES = {"1": 1, "L": 1, "P": 1, "I;16": 2, "I;16L": 2, "I;16B": 2, "I;16N": 2}
# Modes the preview shrinks in directly; any other is converted at full
# size first (a palette would be resampled as indices).
_SHRINKABLE = frozenset({"L", "LA", "RGB", "RGBA"})
# Decoders' own buffers beside Pillow's, per pixel (measured): libheif's
# YCbCr planes and the RGB copy it hands over; libwebp's frame, canvas and
# the bytes Pillow copies them through.
_DECODER_BYTES = {Kind.HEIC: 6, Kind.WEBP: 12}
# A PDF page renders in a child process with this much address space: the
# budget plus the interpreter and PDFium themselves (about 45 MB mapped).
PDF_CHILD_MEMORY = DECODE_BUDGET + 128 * MB
PDF_TIMEOUT_SECONDS = 60
# What a rendering holds beside the pixels: the decoder's row buffers, the
# preview-sized copies and the WebP encoder (measured: under 24 MB).
_WORKING_SET = 32 * MB
ORIENTATION = 0x0112  # EXIF: how the camera was held


def _shrinkable_mode(mode: str, *, alpha: bool) -> str:
    if mode == "1":
        return "L"
    return "RGBA" if alpha else "RGB"


def decode_cost(width: int, height: int, mode: str, kind: Kind, *, alpha: bool) -> int:
    """Bytes of memory decoding and shrinking one image takes at its peak:
    the decoded pixels, a full-size conversion when the mode needs one, the
    alpha-premultiplied copy Pillow resamples transparent images through,
    the decoder's own buffers, and the first pass of the resampling."""
    per_pixel = _PIL_BYTES.get(mode, 4)
    shrunk_mode = mode
    if mode not in _SHRINKABLE:
        shrunk_mode = _shrinkable_mode(mode, alpha=alpha)
        per_pixel += _PIL_BYTES.get(shrunk_mode, 4)
    if shrunk_mode in ("LA", "RGBA"):
        per_pixel += 4
    per_pixel += _DECODER_BYTES.get(kind, 0)
    return width * height * per_pixel + PREVIEW_SIZE * max(width, height) * 4 + _WORKING_SET


class PreviewFailed(Exception):
    pass


@functools.cache
def setup(kind: Kind) -> None:
    """Pillow's own bomb limit (which refuses at twice its value, after our
    check at the value itself) and, for a HEIC image only, the HEIF decoder:
    its libraries (libheif and its codecs) add about 30 MB to the serving
    process, which the phone's JPEGs never need (docs/performance.md
    "Resident memory")."""
    from PIL import Image

    Image.MAX_IMAGE_PIXELS = MAX_IMAGE_PIXELS
    if kind is Kind.HEIC:
        from pillow_heif import register_heif_opener

        register_heif_opener()


@functools.cache
def _upright() -> dict[int, Transpose]:
    """EXIF orientation -> the transposition that turns the picture upright."""
    from PIL.Image import Transpose

    return {
        2: Transpose.FLIP_LEFT_RIGHT,
        3: Transpose.ROTATE_180,
        4: Transpose.FLIP_TOP_BOTTOM,
        5: Transpose.TRANSPOSE,
        6: Transpose.ROTATE_270,
        7: Transpose.TRANSVERSE,
        8: Transpose.ROTATE_90,
    }


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

    setup(kind)
    stream.seek(0)
    try:
        opened = PILImage.open(stream, formats=[PIL_FORMATS[kind]])
        width, height = opened.size
        if width * height > MAX_IMAGE_PIXELS:
            raise PreviewFailed("image too large")
        # JPEG decodes straight at a reduced scale: fast and small in memory.
        opened.draft("RGB", (PREVIEW_SIZE, PREVIEW_SIZE))
        alpha = opened.has_transparency_data
        cost = decode_cost(*opened.size, opened.mode, kind, alpha=alpha)
        if cost > DECODE_BUDGET:
            raise PreviewFailed(f"decoding would take {cost // MB} MB, over the {DECODE_BUDGET // MB} MB budget")
        orientation = opened.getexif().get(ORIENTATION, 1)
        opened.load()
        image: Image = opened
        if opened.mode not in _SHRINKABLE:
            image = opened.convert(_shrinkable_mode(opened.mode, alpha=alpha))
            opened.close()  # frees the decoded pixels now, not at return
        # Shrunk in place at once: the full-size pixels are freed here, and
        # every later step works on a preview-sized image.
        image.thumbnail((PREVIEW_SIZE, PREVIEW_SIZE), PILImage.Resampling.LANCZOS, reducing_gap=3.0)
        # Turned upright only now, on the small image.
        if orientation in _upright():
            image = image.transpose(_upright()[orientation])
        return image.convert("RGB") if image.mode not in ("RGB", "RGBA") else image
    except PreviewFailed:
        raise
    except Exception as exc:  # any decoder failure on untrusted bytes
        raise PreviewFailed(f"{type(exc).__name__}: {exc}") from exc


def _first_pdf_page(stream: IO[bytes]) -> Image:
    """Rendered by ``portal.documents.pdf_page`` in a child process whose
    address space is capped: PDFium's memory cannot be estimated beforehand."""
    from PIL import Image as PILImage

    from portal.documents import pdf_page

    stream.seek(0)
    with tempfile.NamedTemporaryFile(prefix="portal-preview-", suffix=".pdf") as copy:
        # Copied in chunks (a drawing set can be large), then PDFium in the
        # child reads what page 1 needs from the file.
        shutil.copyfileobj(stream, copy, 1024 * 1024)
        copy.flush()
        command = [sys.executable, "-m", "portal.documents.pdf_page", copy.name, str(PDF_CHILD_MEMORY), str(PREVIEW_SIZE)]
        try:
            child = subprocess.run(command, capture_output=True, timeout=PDF_TIMEOUT_SECONDS, check=False)
        except subprocess.TimeoutExpired:
            raise PreviewFailed("PDF page took too long to render") from None
    if child.returncode == pdf_page.NO_PAGES:
        raise PreviewFailed("no pages")
    if child.returncode != 0:
        reason = child.stderr.decode(errors="replace").strip().splitlines()[-1:] or [f"exit {child.returncode}"]
        raise PreviewFailed(f"PDF page not rendered within {PDF_CHILD_MEMORY // MB} MB: {reason[0]}")
    head, _, pixels = child.stdout.partition(b"\n")
    width, height = (int(number) for number in head.split())
    return PILImage.frombytes("RGB", (width, height), pixels)


def _webp(image: Image, size: int) -> bytes:
    from PIL import Image as PILImage

    copy = image.copy()
    copy.thumbnail((size, size), PILImage.Resampling.LANCZOS)
    out = io.BytesIO()
    copy.save(out, format="WEBP", quality=WEBP_QUALITY, method=4)
    return out.getvalue()
