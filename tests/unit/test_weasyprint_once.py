"""WeasyPrint is imported in one place (``portal.weasy``), which puts back
the Pillow flag its import changes: after a statement PDF or a handover
index was rendered in a process, an upload cut off halfway is still refused
there instead of decoding into a half-grey preview."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

AFTER_RENDERING = """
import io, sys
from PIL import Image, ImageFile
{render}
print("flag", ImageFile.LOAD_TRUNCATED_IMAGES)
out = io.BytesIO()
Image.effect_noise((640, 480), 60).convert("RGB").save(out, format="JPEG", quality=90)
cut = out.getvalue()[: len(out.getvalue()) // 2]
from portal.documents.content import Kind
from portal.documents.imaging import PreviewFailed, render_previews
try:
    render_previews(io.BytesIO(cut), Kind.JPEG)
    print("decoded")
except PreviewFailed:
    print("refused")
"""

RENDERERS = {
    "statement": "from portal.reconciliation.pdf import render_pdf\nrender_pdf('<p>PDF</p>', b'0' * 32)",
    "handover index": (
        "import pathlib, tempfile\nfrom portal.handover.index_pdf import render\n"
        "part = pathlib.Path(tempfile.mkdtemp()) / 'part.html'\npart.write_text('<p>index</p>')\nrender([part])"
    ),
}


def test_rendering_a_pdf_leaves_uploads_refusing_truncated_pictures() -> None:
    for name, render in RENDERERS.items():
        done = subprocess.run(
            [sys.executable, "-c", AFTER_RENDERING.format(render=render)],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        assert done.returncode == 0, done.stderr
        assert done.stdout.split() == ["flag", "False", "refused"], (name, done.stdout)


def test_only_portal_weasy_imports_weasyprint() -> None:
    importers = []
    for path in [*ROOT.joinpath("portal").rglob("*.py"), *ROOT.joinpath("bench").rglob("*.py"), *ROOT.joinpath("tenants").rglob("*.py")]:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = [alias.name for alias in node.names] if isinstance(node, ast.Import) else []
            if isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            if any(name == "weasyprint" or name.startswith("weasyprint.") for name in names):
                importers.append(str(path.relative_to(ROOT)))
    assert sorted(set(importers)) == ["portal/weasy.py"]
