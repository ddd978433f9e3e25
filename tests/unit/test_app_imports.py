"""What a serving process loads: libraries the portal does not use stay out
of its memory (docs/performance.md "Resident memory")."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

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
