"""What a serving process loads: libraries the portal does not use, or not
for this request, stay out of its memory (docs/performance.md "Resident
memory")."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from tests.support.documents import samples

ROOT = Path(__file__).resolve().parents[2]
UNUSED = ("pydantic", "polyfactory", "faker")

PROBE = """
import json, sys
from portal.asgi import create_app
app = create_app()
described = json.dumps(app.openapi_schema.to_schema(), default=str)
print(json.dumps({"loaded": sorted(name for name in sys.modules if name.split(".")[0] in %r), "examples": '"examples"' in described}))
"""


def test_create_app_loads_neither_pydantic_nor_the_example_factories(tmp_path: Path) -> None:
    """Litestar adds its Pydantic plugin whenever Pydantic is installed (it
    is, for Piccolo), and makes up OpenAPI examples with polyfactory and
    Faker for every ``ResponseSpec`` that does not say otherwise."""
    env = {
        **os.environ,
        "PORTAL_VAR_DIR": str(tmp_path),
        "PORTAL_DATABASE_URL": f"sqlite:///{tmp_path}/portal.db",
        "PORTAL_STORAGE_URL": f"file://{tmp_path}/blobs",
    }
    answer = subprocess.run([sys.executable, "-c", PROBE % (UNUSED,)], env=env, capture_output=True, text=True, timeout=120, check=True)
    result = json.loads(answer.stdout.strip().splitlines()[-1])
    assert result == {"loaded": [], "examples": False}


INSPECT = """
import io, json, sys
from pathlib import Path
from portal.documents.content import check_name, inspect
path = Path(sys.argv[1])
data = path.read_bytes()
found = inspect(io.BytesIO(data), len(data), declared_type=sys.argv[2], name=check_name(path.name), category="photo")
print(json.dumps({"kind": found.kind.value, "heif": "pillow_heif" in sys.modules}))
"""


def _inspected(path: Path, declared_type: str) -> dict[str, object]:
    answer = subprocess.run(
        [sys.executable, "-c", INSPECT, str(path), declared_type], cwd=ROOT, capture_output=True, text=True, timeout=120, check=True
    )
    return json.loads(answer.stdout.strip().splitlines()[-1])  # type: ignore[no-any-return]


def test_a_jpeg_photo_is_checked_without_the_heif_decoder(tmp_path: Path) -> None:
    """libheif and its codecs (about 30 MB) load for a HEIC image only; a
    HEIC is still opened (in a process that never registered the decoder
    before: the file is made here)."""
    jpeg, heic = tmp_path / "photo.jpg", tmp_path / "photo.heic"
    jpeg.write_bytes(samples.jpeg())
    heic.write_bytes(samples.heic())
    assert _inspected(jpeg, "image/jpeg") == {"kind": "jpeg", "heif": False}
    assert _inspected(heic, "image/heic") == {"kind": "heic", "heif": True}
