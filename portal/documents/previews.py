"""Rendering thumbnails and previews off the request path.

An upload queues a ``documents.preview`` job in its own transaction; a job
runner (the app process in the embedded default, ``portal worker`` in
production) renders it, and retries it when the storage was down. The
periodic ``documents.previews`` sweep and ``portal storage thumbnails``
render whatever is still pending (versions stored before jobs existed, a
job parked after repeated failures); running either twice does nothing the
second time. Previews are derived data, not business state:
they are not written to the audit trail.

Renderings run on a small executor of their own, never on the shared
thread pool: however many uploads arrive, at most ``RENDER_CONCURRENCY``
decode at once, each within ``imaging.DECODE_BUDGET``, and the others wait.
"""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any
from uuid import UUID

import structlog

from portal.documents.content import Kind
from portal.documents.imaging import PreviewFailed, render_previews
from portal.documents.storage import Storage, preview_keys, process_storage
from portal.documents.tables import DocumentVersion
from tenants.context import system_scope

log = structlog.get_logger(__name__)

RENDER_CONCURRENCY = 2
# Threads start on first use; shared by every event loop of the process.
_RENDERERS = ThreadPoolExecutor(max_workers=RENDER_CONCURRENCY, thread_name_prefix="preview")


@dataclass(frozen=True)
class PreviewJob:
    version_id: UUID
    tenant_id: UUID
    key: str
    kind: Kind


class PreviewNotRendered(Exception):
    """The storage could not be read or written: the job tries again."""


async def preview_job(payload: dict[str, Any]) -> None:
    """The ``documents.preview`` job: one version's previews."""
    status = await render_preview(process_storage(), UUID(payload["version_id"]))
    if status == "pending":
        raise PreviewNotRendered(f"version {payload['version_id']}: still pending, see the log")


async def sweep_job(payload: dict[str, Any]) -> None:
    """The periodic ``documents.previews`` job: every preview still pending."""
    await render_pending_previews(process_storage())


async def _pending(version_id: UUID | None = None, limit: int | None = None) -> list[PreviewJob]:
    async with system_scope("previews"):
        query = DocumentVersion.select(DocumentVersion.id, DocumentVersion.tenant, DocumentVersion.storage_key, DocumentVersion.kind).where(
            DocumentVersion.preview_status == "pending"
        )
        if version_id is not None:
            query = query.where(DocumentVersion.id == version_id)
        if limit is not None:
            query = query.limit(limit)
        rows = await query.order_by(DocumentVersion.uploaded_at)
    return [PreviewJob(row["id"], row["tenant"], row["storage_key"], Kind(row["kind"])) for row in rows]


async def render_preview(storage: Storage, version_id: UUID) -> str:
    """Render one pending version's previews; returns its new status."""
    jobs = await _pending(version_id)
    if not jobs:
        return "skipped"
    return await _render(storage, jobs[0])


async def render_pending_previews(storage: Storage, limit: int | None = None) -> dict[str, int]:
    """Every preview still pending (idempotent): ``portal storage thumbnails``."""
    counts = {"ready": 0, "failed": 0}
    for job in await _pending(limit=limit):
        status = await _render(storage, job)
        counts[status] = counts.get(status, 0) + 1
    return counts


async def _render(storage: Storage, job: PreviewJob) -> str:
    thumb_key, preview_key = preview_keys(job.key)
    keys: tuple[str | None, str | None]
    try:
        thumb, preview = await asyncio.get_running_loop().run_in_executor(_RENDERERS, _render_blocking, storage, job)
        await storage.put_bytes(thumb_key, thumb)
        await storage.put_bytes(preview_key, preview)
        status, keys = "ready", (thumb_key, preview_key)
    except (PreviewFailed, FileNotFoundError) as exc:
        log.warning("preview_failed", version=str(job.version_id), error=str(exc))
        status, keys = "failed", (None, None)
    except Exception:
        # Storage down or the like: stays pending for the next sweep.
        log.exception("preview_error", version=str(job.version_id))
        return "pending"
    async with system_scope("previews"):
        await DocumentVersion.update(
            {DocumentVersion.preview_status: status, DocumentVersion.thumbnail_key: keys[0], DocumentVersion.preview_key: keys[1]}
        ).where(
            (DocumentVersion.id == job.version_id)
            & (DocumentVersion.tenant == job.tenant_id)
            & (DocumentVersion.preview_status == "pending")
        )
    log.info("preview_rendered", version=str(job.version_id), status=status)
    return status


def _render_blocking(storage: Storage, job: PreviewJob) -> tuple[bytes, bytes]:
    # PDFs are rendered from ranged reads (PDFium reads what page 1 needs);
    # images are decoded entirely, so they are fetched in one go.
    with storage.open(job.key, whole=job.kind != Kind.PDF) as stream:
        return render_previews(stream, job.kind)
