"""QR codes that open a record: on its page and on printable labels.

segno makes them: pure Python (no Pillow or C library needed for SVG), no
dependencies, maintained, and it writes compact inline SVG that prints
sharp at any size. A code holds the absolute URL of the record's page (or
of a line's report screen); opening it goes through the same sign-in and
scoping as any link, so a label of another supplier's order answers the
same 404 as any id that is not the reader's.
"""

from __future__ import annotations

import functools

import segno
from markupsafe import Markup

from portal.settings import get_settings


def record_url(path: str) -> str:
    return get_settings().base_url.rstrip("/") + path


@functools.lru_cache(maxsize=512)
def _svg(url: str, scale: int) -> str:
    # Level M survives a smudged or creased label on the shop floor.
    return str(segno.make(url, error="m", micro=False).svg_inline(scale=scale, border=2, omitsize=False))


def qr_svg(path: str, scale: int = 4) -> Markup:
    """An inline SVG QR code opening ``path`` on this portal."""
    return Markup(_svg(record_url(path), scale))  # noqa: S704 - segno's own SVG, built from our URL
