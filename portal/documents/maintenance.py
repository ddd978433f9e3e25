"""``portal storage gc``, ``portal storage verify`` and ``portal storage cors``.

gc: an object whose version row does not exist is an orphan (an upload
interrupted after its bytes were stored, a refused direct upload whose
delete failed, an abandoned presigned upload). Objects younger than the
grace period are left alone: they may belong to an upload still in flight.
Keys that ``object_key`` could not have built are reported, never deleted.

verify: re-hash every stored version and report each missing object and
each size or SHA-256 mismatch.

cors: the CORS rule an S3 bucket needs so that browsers may PUT direct
uploads from the portal's origin, and setting it without losing the
bucket's other rules.
"""

from __future__ import annotations

import functools
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from itertools import islice
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import anyio.to_thread
import structlog

from portal.documents.storage import KEY_PATTERN, S3Storage, Storage, StoredObject, base_key, sha256_of
from portal.documents.tables import DocumentVersion
from tenants.context import system_scope

log = structlog.get_logger(__name__)

BATCH = 500


@dataclass
class GcReport:
    scanned: int = 0
    orphans: list[str] = field(default_factory=list)
    too_young: int = 0
    unknown: list[str] = field(default_factory=list)
    staged: list[str] = field(default_factory=list)


def _batches(items: Iterator[StoredObject], size: int) -> Iterator[list[StoredObject]]:
    while batch := list(islice(items, size)):
        yield batch


async def _known_keys(keys: list[str]) -> set[str]:
    if not keys:
        return set()
    async with system_scope("storage-gc"):
        rows = await DocumentVersion.select(DocumentVersion.storage_key).where(DocumentVersion.storage_key.is_in(keys))
    return {row["storage_key"] for row in rows}


async def collect_garbage(storage: Storage, *, grace: timedelta, dry_run: bool = False, scratch: Sequence[Path] = ()) -> GcReport:
    """Remove orphan objects older than ``grace``, and files older than
    that left in the staging folder and the ``scratch`` folders (upload
    bodies) by a process that was killed mid-upload."""
    report = GcReport()
    cutoff = datetime.now(UTC) - grace
    objects = await anyio.to_thread.run_sync(lambda: list(storage.walk()))
    for batch in _batches(iter(objects), BATCH):
        bases: dict[str, str] = {}
        for item in batch:
            report.scanned += 1
            if not KEY_PATTERN.match(item.key):
                report.unknown.append(item.key)
                continue
            bases[item.key] = base_key(item.key)
        known = await _known_keys(sorted(set(bases.values())))
        for item in batch:
            base = bases.get(item.key)
            if base is None or base in known:
                continue
            if item.modified > cutoff:
                report.too_young += 1
                continue
            report.orphans.append(item.key)
            if not dry_run:
                await storage.delete(item.key)
                log.info("storage_orphan_removed", key=item.key, size=item.size)
    folders = [storage.staging_dir(), *scratch]
    for path in await anyio.to_thread.run_sync(_stale_files, folders, cutoff):
        report.staged.append(path.name)
        if not dry_run:
            await anyio.to_thread.run_sync(functools.partial(path.unlink, missing_ok=True))
    return report


def _stale_files(folders: list[Path], cutoff: datetime) -> list[Path]:
    stale = []
    for folder in folders:
        if not folder.is_dir():
            continue
        for path in sorted(folder.iterdir()):
            try:
                modified = datetime.fromtimestamp(path.stat().st_mtime, UTC)
            except FileNotFoundError:
                continue
            if path.is_file() and modified <= cutoff:
                stale.append(path)
    return stale


@dataclass
class Problem:
    key: str
    problem: str
    tenant: Any
    document: Any
    version: Any

    def __str__(self) -> str:
        return f"{self.problem}: {self.key} (tenant {self.tenant}, document {self.document}, version {self.version})"


async def _versions() -> list[dict[str, Any]]:
    async with system_scope("storage-verify"):
        return list(
            await DocumentVersion.select(
                DocumentVersion.id,
                DocumentVersion.tenant,
                DocumentVersion.document,
                DocumentVersion.version,
                DocumentVersion.storage_key,
                DocumentVersion.size,
                DocumentVersion.sha256,
            ).order_by(DocumentVersion.uploaded_at)
        )


async def verify_objects(storage: Storage) -> tuple[int, list[Problem]]:
    """Re-hash every stored version; (how many were checked, problems)."""
    problems: list[Problem] = []
    rows = await _versions()
    for row in rows:
        key = row["storage_key"]
        problem = await anyio.to_thread.run_sync(_check_one, storage, key, row["size"], row["sha256"])
        if problem:
            problems.append(Problem(key, problem, row["tenant"], row["document"], row["version"]))
            log.warning("storage_verify_mismatch", key=key, problem=problem)
    return len(rows), problems


def _check_one(storage: Storage, key: str, size: int, sha256: str) -> str | None:
    try:
        with storage.open(key, whole=True) as stream:
            stream.seek(0, 2)
            actual_size = stream.tell()
            if actual_size != size:
                return f"size {actual_size} != recorded {size}"
            if sha256_of(stream) != sha256:
                return "sha256 mismatch"
    except FileNotFoundError:
        return "missing"
    return None


# -- CORS for direct uploads ----------------------------------------------------------

CORS_RULE_ID = "portal-direct-uploads"
# The headers S3Storage.direct_upload signs into the presigned PUT; the
# browser sends exactly these, so the preflight must allow them.
DIRECT_UPLOAD_HEADERS = ("Content-Type", "Content-MD5", "x-amz-checksum-sha256")
# Browsers cache the preflight this long (Chromium caps it at 2 hours).
CORS_MAX_AGE_SECONDS = 3600


class CorsNotKept(Exception):
    pass


def origin_of(base_url: str) -> str:
    parts = urlsplit(base_url)
    return f"{parts.scheme}://{parts.netloc}".lower()


def cors_rule(base_url: str) -> dict[str, Any]:
    """PUT from the portal's origin with the signed upload headers; nothing
    else: downloads are presigned GETs the browser navigates to, and
    thumbnails come through the app, so neither needs CORS."""
    return {
        "ID": CORS_RULE_ID,
        "AllowedOrigins": [origin_of(base_url)],
        "AllowedMethods": ["PUT"],
        "AllowedHeaders": list(DIRECT_UPLOAD_HEADERS),
        "MaxAgeSeconds": CORS_MAX_AGE_SECONDS,
    }


def with_cors_rule(rules: list[dict[str, Any]], rule: dict[str, Any]) -> list[dict[str, Any]]:
    """The bucket's rules with ours added or replaced; rules of others stay."""
    return [existing for existing in rules if existing.get("ID") != rule["ID"]] + [rule]


async def apply_cors_rule(storage: S3Storage, rule: dict[str, Any]) -> list[dict[str, Any]]:
    """Set the rule and read it back: a server that answers the PUT without
    keeping the rule (some S3-compatible ones) is reported, not trusted."""
    rules = with_cors_rule(await storage.cors_rules(), rule)
    await storage.set_cors_rules(rules)
    kept = [existing for existing in await storage.cors_rules() if existing.get("ID") == rule["ID"]]
    if not kept or kept[0].get("AllowedOrigins") != rule["AllowedOrigins"]:
        raise CorsNotKept("the storage accepted the CORS rule but does not return it")
    return rules
