"""Rendering thumbnails and previews off the request path.

After an upload the response carries a background task that starts the
rendering in a task of its own (a fresh context: no request transaction,
no tenant context) and returns at once; the decoding runs in a worker
thread. Nothing depends on that task having run: ``portal storage
thumbnails`` renders every preview still pending, and running it twice does
nothing the second time. Previews are derived data, not business state:
they are not written to the audit trail.

Renderings run on a small executor of their own, never on the shared
thread pool: however many uploads arrive, at most ``RENDER_CONCURRENCY``
decode at once, each within ``imaging.DECODE_BUDGET``, and the others wait.
"""

from __future__ import annotations

import asyncio
import contextvars
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any
from uuid import UUID

import structlog

from portal.documents.content import Kind
from portal.documents.imaging import PreviewFailed, render_previews
from portal.documents.storage import Storage, preview_keys
from portal.documents.tables import DocumentVersion
from tenants.context import system_scope

log = structlog.get_logger(__name__)

_RUNNING: set[asyncio.Task[Any]] = set()
RENDER_CONCURRENCY = 2
# Threads start on first use; shared by every event loop of the process.
_RENDERERS = ThreadPoolExecutor(max_workers=RENDER_CONCURRENCY, thread_name_prefix="preview")


@dataclass(frozen=True)
class PreviewJob:
    version_id: UUID
    tenant_id: UUID
    key: str
    kind: Kind


async def schedule_preview(storage: Storage, version_id: UUID) -> None:
    """Start rendering one version's previews without waiting for it (a
    response's background task: returns at once, so the connection is free
    for the client's next request).

    Runs in an empty context: the request's (already committed)
    transaction and its tenant context must not leak into the job."""
    task = asyncio.get_running_loop().create_task(render_preview(storage, version_id), context=contextvars.Context())
    _RUNNING.add(task)
    task.add_done_callback(_RUNNING.discard)


async def wait_for_previews() -> None:
    """For tests and shutdown: wait until scheduled renderings finish."""
    while _RUNNING:
        await asyncio.gather(*list(_RUNNING), return_exceptions=True)


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
