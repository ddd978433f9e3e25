"""The handover package: a ZIP holding the current version of every
handed-over document and a PDF index (the checklist, who signed off what
and when, the document list with sha256), built by a background job once
the handover is completed and stored as an immutable document that the
buyer downloads.

The ZIP is written to a temporary file one document at a time, each copied
from storage in chunks (never a whole file in memory), and stored with the
documents' own ``put_file``. The job may die at any point and run again: it
writes nothing until the very end, in one transaction that records the
document only if the handover has none yet.
"""

from __future__ import annotations

import hashlib
import shutil
import subprocess
import sys
import tempfile
import zipfile
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any
from uuid import UUID, uuid4

import anyio.to_thread
import structlog

from portal.days import local_minutes
from portal.documents.services import record_generated
from portal.documents.storage import Storage, object_key, open_storage
from portal.documents.tables import Document, DocumentVersion
from portal.errors import Conflict
from portal.handover.index_pdf import PARTS_PER_PROCESS
from portal.handover.tables import Handover, HandoverItem
from portal.i18n import N_, gettext, use_locale
from portal.jobs.queue import enqueue
from portal.settings import get_settings
from portal.weasy import css_string, page_counter
from tenants.context import current, operator_context, system_scope, tenant_scope
from tenants.scoping import scoped
from tenants.tables import Tenant

log = structlog.get_logger(__name__)

JOB = "handover.package"
CHUNK = 1024 * 1024
INDEX_NAME = "index.pdf"
# Table rows per WeasyPrint rendering of the index: a part of 100 rows takes
# about a third of the time and 20 MB less than one of 300.
INDEX_ROWS = 100


class PackageNotReady(Conflict):
    code = "package_not_ready"
    message = N_("The handover package is not ready yet: it is built shortly after completion. Try again in a minute.")


@dataclass(frozen=True)
class PackedFile:
    """One handed-over document in the ZIP."""

    name: str
    title: str
    version: int
    sha256: str
    size: int
    storage_key: str


async def request_package(handover_id: UUID, tenant_id: UUID) -> None:
    """Queue the build, in the completion's transaction (one per handover)."""
    await enqueue(JOB, {"handover_id": handover_id}, tenant=tenant_id, unique_key=f"{JOB}:{handover_id}")


async def packed_files(handover_id: UUID) -> list[PackedFile]:
    """The current version of each handed-over document (the checklist's
    document entries), withdrawn ones left out, named uniquely in the ZIP."""
    entries = await (
        scoped(HandoverItem)
        .select(HandoverItem.record_id)
        .where(HandoverItem.handover == handover_id)
        .where(HandoverItem.source == "document")
        .order_by(HandoverItem.position)
    )
    ids = [entry["record_id"] for entry in entries if entry["record_id"] is not None]
    if not ids:
        return []
    documents = {
        row["id"]: row
        for row in await scoped(Document)
        .select(Document.id, Document.title, Document.current_version)
        .where(Document.id.is_in(ids))
        .where(Document.withdrawn == False)  # noqa: E712
    }
    versions = await (
        scoped(DocumentVersion)
        .select(
            DocumentVersion.document,
            DocumentVersion.version,
            DocumentVersion.sha256,
            DocumentVersion.size,
            DocumentVersion.safe_name,
            DocumentVersion.storage_key,
        )
        .where(DocumentVersion.document.is_in(list(documents) or [UUID(int=0)]))
    )
    current = {row["document"]: row for row in versions if documents[row["document"]]["current_version"] == row["version"]}
    files = []
    for number, document_id in enumerate((d for d in ids if d in current), start=1):
        row = current[document_id]
        files.append(
            PackedFile(
                name=f"documents/{number:04d}-{row['safe_name']}",
                title=documents[document_id]["title"],
                version=row["version"],
                sha256=row["sha256"],
                size=row["size"],
                storage_key=row["storage_key"],
            )
        )
    return files


def write_zip(storage: Storage, files: list[PackedFile], index: Path, target: Path) -> tuple[str, int]:
    """The ZIP on disk; returns its sha256 and size. Files are stored, not
    deflated (drawings and photos are compressed already), and copied in
    chunks."""
    with zipfile.ZipFile(target, "w", compression=zipfile.ZIP_STORED, allowZip64=True) as archive:
        archive.write(index, INDEX_NAME)
        for packed in files:
            with storage.open(packed.storage_key) as source, archive.open(packed.name, "w", force_zip64=packed.size > 2**31) as sink:
                shutil.copyfileobj(source, sink, CHUNK)
    digest = hashlib.sha256()
    with target.open("rb") as stream:
        for block in iter(lambda: stream.read(CHUNK), b""):
            digest.update(block)
    return digest.hexdigest(), target.stat().st_size


def write_index(context: dict[str, Any], target: Path) -> None:
    """The PDF index, written to ``target``. The template is rendered here in
    parts of at most ``INDEX_ROWS`` rows (WeasyPrint's memory and time grow
    faster than a table's length); WeasyPrint turns them into PDFs in a
    process of its own (portal/handover/index_pdf.py), whose memory goes
    back to the system when it ends; the parts are joined here page by page.
    No part knows the pages before it or after it, so the page numbers
    ("page 3 of 12") and the handover's number come last: a stamp of as
    many empty pages as the joined parts have, each carrying only its
    footer, laid over them page by page."""
    from pypdf import PdfReader, PdfWriter

    from portal.templating import build_environment

    template = build_environment().get_template("handover/package_index.html")
    items, files = context["handover"].items, context["files"]
    parts = [
        {"items": items[start : start + INDEX_ROWS], "files": [], "first_items": start == 0} for start in range(0, len(items), INDEX_ROWS)
    ]
    parts += [
        {"items": [], "files": files[start : start + INDEX_ROWS], "first_files": start == 0} for start in range(0, len(files), INDEX_ROWS)
    ]
    if not files:
        parts.append({"items": [], "files": [], "first_files": True})
    with tempfile.TemporaryDirectory(prefix="index-", dir=target.parent) as name:
        folder = Path(name)
        pages = []
        for number, part in enumerate(parts):
            page = folder / f"part-{number:05d}.html"
            page.write_text(template.render(**context, part=part, first=number == 0, stamp=0), encoding="utf-8")
            pages.append(page)
        for start in range(0, len(pages), PARTS_PER_PROCESS):
            _render_parts(pages[start : start + PARTS_PER_PROCESS])
        stamp = folder / "stamp.html"
        count = sum(len(PdfReader(page.with_suffix(".pdf")).pages) for page in pages)
        stamp.write_text(template.render(**context, stamp=count), encoding="utf-8")
        _render_parts([stamp])
        footers = iter(PdfReader(stamp.with_suffix(".pdf")).pages)
        writer = PdfWriter()
        for page in pages:
            for sheet in PdfReader(page.with_suffix(".pdf")).pages:
                stamped = writer.add_page(sheet)
                stamped.merge_page(next(footers))
                # Merging leaves the page's drawing uncompressed: twice the bytes.
                stamped.compress_content_streams()
        with target.open("wb") as stream:
            writer.write(stream)


def _render_parts(parts: list[Path]) -> None:
    rendered = subprocess.run(
        [sys.executable, "-m", "portal.handover.index_pdf", *map(str, parts)], capture_output=True, text=True, check=False
    )
    if rendered.returncode != 0:
        raise IndexNotRendered(rendered.stderr[-2000:])


class IndexNotRendered(RuntimeError):
    """WeasyPrint's process failed: the job fails and is retried."""


async def _index_context(handover: Handover) -> dict[str, Any]:
    from portal.handover import services

    out = await services.get_handover(handover.id)
    zone = current().time_zone

    def when(moment: datetime | None) -> str:
        return local_minutes(moment, zone) if moment else ""

    return {
        "handover": out,
        "files": await packed_files(handover.id),
        "party_labels": services.party_labels(),
        "decision_labels": services.decision_labels(),
        # The tenant's wall clock, as on every other page and document, and
        # the index says which.
        "zone": zone,
        "when": when,
        "footer_number": css_string(out.number),
        "page_counter": page_counter(gettext("Page %(page)s of %(pages)s")),
    }


async def package_job(payload: dict[str, Any]) -> None:
    """Build and store the package of one completed handover, once. Three
    short transactions (read, then record) around the long part, which
    holds none: writing the ZIP and putting it into storage."""
    handover_id = UUID(str(payload["handover_id"]))
    async with system_scope("handover-package"):
        handover = await Handover.objects().where(Handover.id == handover_id).first()
        if handover is None or handover.status != "completed" or handover.package_document is not None:
            return
        tenant = await Tenant.objects().where(Tenant.id == handover.tenant).first()
    storage = open_storage(get_settings())
    context = operator_context(tenant, "handover-package")
    async with tenant_scope(context):
        files = await packed_files(handover.id)
        with use_locale(tenant.locale):
            index_context = await _index_context(handover)
            title = gettext("Handover package %(number)s", number=handover.number)
    folder = Path(tempfile.mkdtemp(prefix="handover-package-", dir=storage.staging_dir()))
    document_id, version_id = uuid4(), uuid4()
    key = object_key(tenant.id, document_id, version_id)
    try:
        index, path = folder / INDEX_NAME, folder / f"{handover.number}.zip"
        with use_locale(tenant.locale):
            await anyio.to_thread.run_sync(write_index, index_context, index)
        sha256, size = await anyio.to_thread.run_sync(write_zip, storage, files, index, path)
        await storage.put_file(key, path)
    finally:
        await anyio.to_thread.run_sync(shutil.rmtree, folder, True)
    async with tenant_scope(context):
        await record_generated(
            storage,
            key,
            document_id=document_id,
            version_id=version_id,
            attached_type="handover",
            attached_id=handover.id,
            title=title,
            sha256=sha256,
            size=size,
            filename=f"{handover.number}.zip",
            content_type="application/zip",
            kind="zip",
        )
        stored = (
            await scoped(Handover)
            .update({Handover.package_document: document_id})
            .where(Handover.id == handover.id)
            .where(Handover.package_document.is_null())
            .returning(Handover.id)
        )
        if not stored:
            # Another run got there first: this one's rows roll back.
            raise PackageStoredTwice()
    log.info("handover_package_stored", handover=str(handover.id), files=len(files), size=size)


class PackageStoredTwice(RuntimeError):
    pass
