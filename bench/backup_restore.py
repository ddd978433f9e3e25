"""Times ``portal backup`` and ``portal restore`` of the demo data, on SQLite
and on a throwaway PostgreSQL cluster, with a round-trip check
(``portal storage verify`` and ``portal audit verify`` on the restored copy).

    .venv/bin/python -m bench.backup_restore

Prints one line per database: objects, bytes, seconds for each step.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from tests.support.postgres import PostgresCluster

ROOT = Path(__file__).resolve().parents[1]


def portal(env: dict[str, str], *args: str) -> float:
    started = time.perf_counter()
    result = subprocess.run([sys.executable, "-m", "portal", *args], env=env, cwd=ROOT, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise SystemExit(f"portal {' '.join(args)} failed: {result.stderr}")
    return time.perf_counter() - started


def installation(var: Path, cluster: PostgresCluster | None, name: str) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if not key.startswith("PORTAL_")}
    env.update(
        PORTAL_VAR_DIR=str(var),
        PORTAL_STORAGE_URL=f"file://{var}/blobs",
        PORTAL_SECRET_KEY="bench-secret-key-that-is-long-enough-0123456789",
    )
    if cluster is None:
        env["PORTAL_DATABASE_URL"] = f"sqlite:///{var}/portal.db"
    else:
        cluster.psql(f"CREATE DATABASE {name}", database="postgres")
        env["PORTAL_DATABASE_URL"] = cluster.app_url.rsplit("/", 1)[0] + "/" + name
        env["PORTAL_MIGRATION_DATABASE_URL"] = cluster.owner_url.rsplit("/", 1)[0] + "/" + name
    return env


def measure(kind: str, cluster: PostgresCluster | None) -> None:
    root = Path(tempfile.mkdtemp(prefix=f"bench-backup-{kind}-"))
    source = installation(root / "source", cluster, "bench_source")
    portal(source, "migrate")
    portal(source, "demo")
    portal(source, "audit", "checkpoint")
    backup_seconds = portal(source, "backup", str(root / "backup"))
    manifest = json.loads((root / "backup" / "manifest.json").read_text())
    target = installation(root / "target", cluster, "bench_target")
    restore_seconds = portal(target, "restore", str(root / "backup"))
    verify_seconds = portal(target, "storage", "verify") + portal(target, "audit", "verify")
    size = sum(entry["size"] for entry in manifest["objects"])
    dump = (root / "backup" / manifest["database"]["file"]).stat().st_size
    print(
        f"{kind}: {len(manifest['objects'])} objects, {size / 1e6:.1f} MB, dump {dump / 1e6:.1f} MB; "
        f"backup {backup_seconds:.1f} s, restore (with migrate) {restore_seconds:.1f} s, verify both {verify_seconds:.1f} s"
    )


def main() -> None:
    measure("sqlite", None)
    cluster = PostgresCluster.start()
    try:
        measure("postgresql", cluster)
    finally:
        cluster.stop()


if __name__ == "__main__":
    main()
