"""``decode_cost`` is what the budget check trusts, so it must never be
lower than what rendering really takes: each kind and mode is rendered in a
fresh process and its peak resident memory (VmHWM) compared with the
estimate. A change that makes rendering copy full-size pixels again fails
here."""

from __future__ import annotations

import io
import json
import subprocess
import sys
from pathlib import Path

import pytest
from PIL import Image

from portal.documents.content import Kind
from portal.documents.imaging import DECODE_BUDGET, PreviewFailed, decode_cost, render_previews, setup
from tests.support import bombs

ROOT = Path(__file__).resolve().parents[3]

MEASURE = """
import io, json, sys
from portal.documents.content import Kind
from portal.documents.imaging import render_previews
from tests.support.documents import samples

def peak():
    for line in open("/proc/self/status"):
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) * 1024

kind = Kind(sys.argv[2])
# Warm up: libraries and encoders loaded, small buffers allocated.
render_previews(io.BytesIO(getattr(samples, sys.argv[3])()), kind)
data = open(sys.argv[1], "rb").read()
before = peak()
render_previews(io.BytesIO(data), kind)
print(json.dumps(peak() - before))
"""


def _encoded(mode: str, size: tuple[int, int], fmt: str) -> bytes:
    gradient = Image.radial_gradient("L").resize(size)
    image = gradient.convert(mode) if mode != "P" else gradient.convert("RGB").quantize(64)
    out = io.BytesIO()
    image.save(out, format=fmt, **({"quality": 60} if fmt in ("WEBP", "HEIF", "JPEG") else {}))
    return out.getvalue()


CASES = {
    "png-rgb": (Kind.PNG, "png", lambda: bombs.png(4_000, 3_000, pattern=True)),
    "png-rgba": (Kind.PNG, "png", lambda: bombs.png(3_000, 2_500, color_type=6, pattern=True)),
    "png-palette": (Kind.PNG, "png", lambda: bombs.png(5_000, 4_000, color_type=3, pattern=True)),
    "png-bilevel": (Kind.PNG, "png", lambda: bombs.png(8_000, 8_000, bit_depth=1, color_type=0, pattern=True)),
    "jpeg": (Kind.JPEG, "jpeg", lambda: _encoded("RGB", (6_000, 4_000), "JPEG")),
    "jpeg-cmyk": (Kind.JPEG, "jpeg", lambda: _encoded("CMYK", (4_000, 3_000), "JPEG")),
    "webp": (Kind.WEBP, "webp", lambda: _encoded("RGB", (2_500, 2_000), "WEBP")),
    "heic": (Kind.HEIC, "heic", lambda: _encoded("RGB", (2_000, 1_500), "HEIF")),
}


@pytest.mark.parametrize("case", list(CASES))
def test_the_estimate_bounds_what_rendering_takes(case: str, tmp_path: Path) -> None:
    setup(Kind.HEIC)  # every decoder: the cases are encoded here too
    kind, warm_up, build = CASES[case]
    data = build()
    image = Image.open(io.BytesIO(data))
    image.draft("RGB", (1600, 1600))
    estimate = decode_cost(*image.size, image.mode, kind, alpha=image.has_transparency_data)
    assert estimate <= DECODE_BUDGET  # so it is rendered, not refused
    path = tmp_path / "image"
    path.write_bytes(data)
    measured = subprocess.run(
        [sys.executable, "-c", MEASURE, str(path), kind.value, warm_up], cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert measured.returncode == 0, measured.stderr
    grown = json.loads(measured.stdout)
    assert 0 < grown <= estimate, f"{case}: rendering took {grown >> 20} MiB, estimated {estimate >> 20} MiB"


def test_an_image_over_the_budget_is_refused_before_decoding() -> None:
    bomb = bombs.png(10_900, 10_900)  # the outside probe's file: 346 KB, 119 MP
    with pytest.raises(PreviewFailed, match="budget"):
        render_previews(io.BytesIO(bomb), Kind.PNG)
