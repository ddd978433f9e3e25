"""``portal backup DEST`` and ``portal restore SRC``: the database and every
stored object, and back into an empty installation.

A backup folder holds ``database.sqlite3`` (SQLite's online backup) or
``database.pgdump`` (``pg_dump --format=custom``, one consistent snapshot),
the objects under ``objects/<key>``, and ``manifest.json`` naming the dump
and every object with its size and sha256. The manifest is written last: a
folder without one is an unfinished backup.

The database is dumped first and the objects copied after it. Objects are
never changed once written (a new version is a new key) and documents are
never deleted, so every object the dump points to is still there when it is
copied; objects stored after the dump come along as harmless orphans that
``portal storage gc`` removes after a restore.

Restore refuses a database or bucket that is not empty, checks every
object's hash against the manifest before it writes anything, then loads the
dump, puts the objects and runs the migrations (grants for the app role,
and any migration newer than the backup).
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import sqlite3
import subprocess
import tempfile
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import anyio.to_thread

from portal.documents.storage import CHECKPOINTS_PREFIX, DOCUMENTS_PREFIX, Storage, checked
from portal.settings import Settings

FORMAT = 1
MANIFEST = "manifest.json"
OBJECTS = "objects"
SQLITE_DUMP = "database.sqlite3"
POSTGRES_DUMP = "database.pgdump"
CHUNK = 1024 * 1024


class BackupError(Exception):
    """A backup or restore that cannot go on; the message says why."""


@dataclass(frozen=True)
class Summary:
    database: str
    objects: int
    bytes: int


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def _libpq(url: str) -> tuple[str, dict[str, str]]:
    """The URL without its password, and the environment that carries it:
    a password in argv would show in every process listing."""
    parts = urlsplit(url.replace("postgres://", "postgresql://", 1))
    env = dict(os.environ)
    if parts.password:
        env["PGPASSWORD"] = parts.password
        netloc = parts.netloc.rsplit("@", 1)
        user = (parts.username or "") + "@" if parts.username else ""
        parts = parts._replace(netloc=user + netloc[-1])
    return urlunsplit(parts), env


def _run(command: list[str], env: dict[str, str]) -> None:
    try:
        result = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    except FileNotFoundError:
        raise BackupError(f"{command[0]} not found: install the PostgreSQL client (Debian: postgresql-client)") from None
    if result.returncode != 0:
        raise BackupError(f"{command[0]} failed: {result.stderr.strip().splitlines()[-1] if result.stderr.strip() else result.returncode}")


# --- backup ------------------------------------------------------------------


def dump_database(settings: Settings, folder: Path) -> tuple[str, str]:
    """(file name, sha256) of a consistent dump of the whole database."""
    if settings.database_kind == "sqlite":
        target = folder / SQLITE_DUMP
        source = sqlite3.connect(settings.sqlite_path)
        copy = sqlite3.connect(target)
        try:
            # SQLite's online backup: one consistent copy while others write.
            source.backup(copy)
        finally:
            copy.close()
            source.close()
        return SQLITE_DUMP, sha256_of(target)
    # The owner's URL: pg_dump must see every row, and row-level security
    # hides them from the app role (the role needs BYPASSRLS, as a
    # superuser has; docs/operations.md).
    url, env = _libpq(settings.migration_database_url)
    target = folder / POSTGRES_DUMP
    _run(["pg_dump", "--format=custom", "--no-owner", "--no-privileges", f"--file={target}", f"--dbname={url}"], env)
    return POSTGRES_DUMP, sha256_of(target)


def copy_objects(storage: Storage, folder: Path) -> list[dict[str, Any]]:
    """Every stored object into ``folder/<key>``, hashed on the way."""
    entries = []
    for stored in [*storage.walk(DOCUMENTS_PREFIX), *storage.walk(CHECKPOINTS_PREFIX)]:
        target = folder / checked(stored.key)
        target.parent.mkdir(parents=True, exist_ok=True)
        digest = hashlib.sha256()
        size = 0
        with storage.open(stored.key, whole=True) as source, target.open("wb") as handle:
            while chunk := source.read(CHUNK):
                digest.update(chunk)
                handle.write(chunk)
                size += len(chunk)
        entries.append({"key": stored.key, "size": size, "sha256": digest.hexdigest()})
    return entries


def prepare_destination(destination: Path) -> None:
    if destination.exists() and (not destination.is_dir() or any(destination.iterdir())):
        raise BackupError(f"{destination} must be a new or empty folder")
    destination.mkdir(parents=True, exist_ok=True)


def write_manifest(destination: Path, manifest: dict[str, Any]) -> None:
    partial = destination / f".{MANIFEST}.partial"
    partial.write_text(json.dumps(manifest, indent=1))
    partial.replace(destination / MANIFEST)


async def backup(settings: Settings, storage: Storage, destination: Path) -> Summary:
    await anyio.to_thread.run_sync(prepare_destination, destination)
    started = datetime.now(UTC)
    name, digest = await anyio.to_thread.run_sync(dump_database, settings, destination)
    objects = await anyio.to_thread.run_sync(copy_objects, storage, destination / OBJECTS)
    manifest = {
        "format": FORMAT,
        "started_at": started.isoformat(),
        "finished_at": datetime.now(UTC).isoformat(),
        "database": {"kind": settings.database_kind, "file": name, "sha256": digest},
        "objects": objects,
    }
    await anyio.to_thread.run_sync(write_manifest, destination, manifest)
    return Summary(settings.database_kind, len(objects), sum(entry["size"] for entry in objects))


# --- restore -----------------------------------------------------------------


def read_manifest(source: Path) -> dict[str, Any]:
    try:
        manifest: dict[str, Any] = json.loads((source / MANIFEST).read_text())
    except FileNotFoundError:
        raise BackupError(f"{source} has no {MANIFEST}: not a backup, or an unfinished one") from None
    if manifest.get("format") != FORMAT:
        raise BackupError(f"{source}: backup format {manifest.get('format')!r}, this version reads {FORMAT}")
    return manifest


def check_backup(source: Path, manifest: dict[str, Any], settings: Settings) -> None:
    """Every file present with the hash the manifest names, before anything
    is written: a damaged backup restores nothing rather than half."""
    database = manifest["database"]
    if database["kind"] != settings.database_kind:
        raise BackupError(f"the backup holds a {database['kind']} database; PORTAL_DATABASE_URL is {settings.database_kind}")
    problems = []
    if sha256_of(source / database["file"]) != database["sha256"]:
        problems.append(database["file"])
    for entry in manifest["objects"]:
        path = source / OBJECTS / checked(entry["key"])
        if not path.is_file() or sha256_of(path) != entry["sha256"]:
            problems.append(entry["key"])
    if problems:
        raise BackupError(f"{len(problems)} files of the backup are missing or changed, e.g. {problems[0]}")


def storage_is_empty(storage: Storage) -> bool:
    return all(next(iter(storage.walk(prefix)), None) is None for prefix in (DOCUMENTS_PREFIX, CHECKPOINTS_PREFIX))


def sqlite_is_empty(path: Path) -> bool:
    if not path.exists():
        return True
    with sqlite3.connect(path) as connection:
        (tables,) = connection.execute("SELECT count(*) FROM sqlite_master WHERE type = 'table'").fetchone()
    return int(tables) == 0


async def database_is_empty(settings: Settings) -> bool:
    if settings.database_kind == "sqlite":
        return await anyio.to_thread.run_sync(sqlite_is_empty, settings.sqlite_path)
    import asyncpg

    connection = await asyncpg.connect(settings.migration_database_url.replace("postgres://", "postgresql://", 1))
    try:
        tables = await connection.fetchval("SELECT count(*) FROM pg_tables WHERE schemaname = 'public'")
    finally:
        await connection.close()
    return int(tables) == 0


def load_database(settings: Settings, source: Path, manifest: dict[str, Any]) -> None:
    dump = source / manifest["database"]["file"]
    if settings.database_kind == "sqlite":
        target = settings.sqlite_path
        target.parent.mkdir(parents=True, exist_ok=True)
        for leftover in (target, target.with_name(target.name + "-wal"), target.with_name(target.name + "-shm")):
            leftover.unlink(missing_ok=True)
        partial = target.with_name(target.name + ".restoring")
        shutil.copyfile(dump, partial)
        partial.replace(target)
        return
    url, env = _libpq(settings.migration_database_url)
    _run(["pg_restore", "--no-owner", "--no-privileges", "--exit-on-error", "--single-transaction", f"--dbname={url}", str(dump)], env)


def put_objects(storage: Storage, source: Path, manifest: dict[str, Any]) -> int:
    written = 0
    for entry in manifest["objects"]:
        # put_file consumes its file: hand it a copy, never the backup's.
        with tempfile.NamedTemporaryFile(dir=storage.staging_dir(), prefix="restore-", delete=False) as handle:
            with (source / OBJECTS / checked(entry["key"])).open("rb") as original:
                shutil.copyfileobj(original, handle, CHUNK)
            handle.flush()
            os.fsync(handle.fileno())
        anyio.from_thread.run(storage.put_file, entry["key"], Path(handle.name))
        written += entry["size"]
    return written


async def check_target(settings: Settings, storage: Storage) -> None:
    if not await database_is_empty(settings):
        raise BackupError("the database is not empty: restore goes into a new, empty database")
    if not await anyio.to_thread.run_sync(storage_is_empty, storage):
        raise BackupError("the document storage is not empty: restore goes into a new, empty bucket or folder")


async def restore_files(settings: Settings, storage: Storage, source: Path) -> Summary:
    """Check the backup and the target, then load the database and objects;
    the caller runs the migrations afterwards."""
    manifest = read_manifest(source)
    await check_target(settings, storage)
    await anyio.to_thread.run_sync(check_backup, source, manifest, settings)
    await anyio.to_thread.run_sync(load_database, settings, source, manifest)
    written = await anyio.to_thread.run_sync(put_objects, storage, source, manifest)
    return Summary(settings.database_kind, len(manifest["objects"]), written)
