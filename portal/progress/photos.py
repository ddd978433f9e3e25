"""Receiving one report photo over HTTP (API and pages alike)."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from litestar import MediaType, Request, Response

from portal.documents.config import largest_limit
from portal.documents.controllers import storage_of
from portal.documents.intake import SPOOL_OPT, read_upload_form
from portal.documents.services import InvalidDocument
from portal.i18n import N_
from portal.progress import services
from portal.progress.schemas import PhotoOut
from tenants.guards import requires

# Spooled to disk before the transaction opens, like every upload.
PHOTO_ROUTE: dict[str, Any] = {"opt": {SPOOL_OPT: True}, "request_max_body_size": None, "guards": [requires("progress.report")]}


def parse_time(value: str | None) -> datetime | None:
    """An ISO 8601 time from a form field; None when absent or unreadable
    (the service then takes the time of arrival)."""
    if not value:
        return None
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None


async def photo_response(request: Request[Any, Any, Any], report_id: UUID) -> Response[PhotoOut]:
    """201 with the photo when stored, 200 when these bytes were already a
    photo of the report. The thumbnail is rendered by a job queued with
    the version."""
    # The scoped lookup first: a foreign report answers 404 before the form is read.
    report = await services.report_for_photo(report_id)
    storage = storage_of(request)
    form = await read_upload_form(request, storage.staging_dir(), largest_limit())
    try:
        if form.file is None:
            raise InvalidDocument(fields={"file": N_("Choose a file.")})
        photo, created = await services.add_photo(storage, report_id, form.file, parse_time(form.fields.get("captured_at")), report=report)
    finally:
        form.discard()
    return Response(photo, status_code=201 if created else 200, media_type=MediaType.JSON)
