"""``portal backup`` and ``portal restore``, a round trip between two
installations: documents uploaded to S3 (``rclone serve s3``) through a
running server, an audit checkpoint, a backup taken while the server runs,
a restore into an empty database and an empty document folder, after which
``portal storage verify`` and ``portal audit verify`` pass and a document
downloads with the same hash. Restore refuses a target that is not empty
and a backup that was damaged, and then writes nothing."""

from __future__ import annotations

import functools
import hashlib
import json
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from uuid import uuid4

import httpx
import pytest

from tests.support.documents import samples
from tests.support.documents.rclone import RcloneS3, rclone_s3
from tests.support.live import LiveWorld, Server, install, installation_env, portal
from tests.support.postgres import PostgresCluster

# A loaded machine (the suite runs beside other work) can take seconds to
# answer; httpx's default of 5 s would fail a test that is right.
get = functools.partial(httpx.get, timeout=120)
post = functools.partial(httpx.post, timeout=120)


@dataclass
class Backup:
    folder: Path
    world: LiveWorld
    documents: dict[str, str]  # id -> sha256 of what was uploaded
    source: dict[str, str]  # the backed-up installation's environment


@pytest.fixture(scope="module")
def s3_server() -> Iterator[RcloneS3]:
    with rclone_s3() as server:
        yield server


@pytest.fixture(scope="module")
def backup(tmp_path_factory: pytest.TempPathFactory, pass_cluster: PostgresCluster | None, s3_server: RcloneS3) -> Backup:
    root = Path(tmp_path_factory.mktemp("backup"))
    bucket = s3_server.create_bucket(f"backup-{uuid4().hex[:8]}")
    env = installation_env(
        root / "source",
        pass_cluster,
        PORTAL_STORAGE_URL=f"s3://{bucket}",
        PORTAL_S3_ENDPOINT=s3_server.endpoint,
        AWS_ACCESS_KEY_ID=s3_server.access_key,
        AWS_SECRET_ACCESS_KEY=s3_server.secret_key,
        AWS_REGION=s3_server.region,
    )
    world = install(env)
    server = Server(env)
    server.start()
    try:
        auth = {"authorization": f"Bearer {server.token(world.emails['admin'], world.slug)}"}
        documents = {}
        for name, data, kind, category in (
            ("photo.png", samples.png(width=90, height=60), "image/png", "photo"),
            ("spec.pdf", samples.pdf(pages=2), "application/pdf", "spec"),
        ):
            fields = {"attached_type": "supplier", "attached_id": world.suppliers[0], "category": category, "title": name}
            files = {"file": (name, data, kind)}
            uploaded = post(f"{server.base}/api/v1/documents", data=fields, files=files, headers=auth, timeout=60)
            assert uploaded.status_code == 201, uploaded.text
            documents[uploaded.json()["id"]] = hashlib.sha256(data).hexdigest()
        checkpoint = portal(env, "audit", "checkpoint")
        assert checkpoint.returncode == 0, checkpoint.stderr
        # Taken while the server is up, as an operator's schedule would.
        folder = root / "backup"
        made = portal(env, "backup", str(folder))
        assert made.returncode == 0, made.stderr
    finally:
        server.stop()
    return Backup(folder, world, documents, env)


def empty_target(root: Path, cluster: PostgresCluster | None) -> dict[str, str]:
    """A new installation's environment with nothing in it: no tables, no
    files (installation_env does not migrate)."""
    return installation_env(root, cluster)


def test_the_manifest_names_every_document_with_its_hash(backup: Backup) -> None:
    manifest = json.loads((backup.folder / "manifest.json").read_text())
    hashes = {entry["sha256"] for entry in manifest["objects"]}
    assert set(backup.documents.values()) <= hashes
    for entry in manifest["objects"]:
        stored = backup.folder / "objects" / entry["key"]
        assert hashlib.sha256(stored.read_bytes()).hexdigest() == entry["sha256"]
        assert stored.stat().st_size == entry["size"]
    # Previews and the audit checkpoint are objects too.
    assert any("/audit/" in entry["key"] or "checkpoint" in entry["key"] for entry in manifest["objects"])
    database = backup.folder / manifest["database"]["file"]
    assert hashlib.sha256(database.read_bytes()).hexdigest() == manifest["database"]["sha256"]


def test_restore_into_an_empty_installation_verifies_and_serves_the_same_bytes(
    backup: Backup, tmp_path: Path, pass_cluster: PostgresCluster | None
) -> None:
    env = empty_target(tmp_path / "target", pass_cluster)
    restored = portal(env, "restore", str(backup.folder))
    assert restored.returncode == 0, restored.stderr
    verified = portal(env, "storage", "verify")
    assert verified.returncode == 0, verified.stderr + verified.stdout
    audited = portal(env, "audit", "verify")
    assert audited.returncode == 0, audited.stderr + audited.stdout
    assert "intact" in audited.stdout
    server = Server(env)
    server.start()
    try:
        auth = {"authorization": f"Bearer {server.token(backup.world.emails['admin'], backup.world.slug)}"}
        for document, digest in backup.documents.items():
            download = get(f"{server.base}/api/v1/documents/{document}/content", headers=auth, timeout=120)
            assert download.status_code == 200
            assert hashlib.sha256(download.content).hexdigest() == digest
    finally:
        server.stop()
    again = portal(env, "restore", str(backup.folder))
    assert again.returncode == 1
    assert "not empty" in again.stderr


def test_a_damaged_backup_restores_nothing(backup: Backup, tmp_path: Path, pass_cluster: PostgresCluster | None) -> None:
    damaged = tmp_path / "damaged"
    shutil.copytree(backup.folder, damaged)
    manifest = json.loads((damaged / "manifest.json").read_text())
    victim = damaged / "objects" / manifest["objects"][0]["key"]
    victim.write_bytes(victim.read_bytes() + b"tampered")
    env = empty_target(tmp_path / "target", pass_cluster)
    refused = portal(env, "restore", str(damaged))
    assert refused.returncode == 1
    assert manifest["objects"][0]["key"] in refused.stderr
    # Nothing was written: the same target takes the intact backup.
    restored = portal(env, "restore", str(backup.folder))
    assert restored.returncode == 0, restored.stderr


def test_a_backup_never_writes_into_a_folder_that_holds_something(backup: Backup) -> None:
    before = sorted(path.name for path in backup.folder.iterdir())
    refused = portal(backup.source, "backup", str(backup.folder))
    assert refused.returncode == 1
    assert "new or empty folder" in refused.stderr
    assert sorted(path.name for path in backup.folder.iterdir()) == before


def test_an_unfinished_backup_is_refused(tmp_path: Path, backup: Backup, pass_cluster: PostgresCluster | None) -> None:
    unfinished = tmp_path / "unfinished"
    shutil.copytree(backup.folder, unfinished)
    (unfinished / "manifest.json").unlink()
    refused = portal(empty_target(tmp_path / "target", pass_cluster), "restore", str(unfinished))
    assert refused.returncode == 1
    assert "manifest.json" in refused.stderr
