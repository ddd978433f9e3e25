"""Receiving an import upload and answering with a built file (the HTTP
side every importer and exporter shares)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from litestar import Request, Response
from litestar.datastructures import UploadFile
from litestar.exceptions import HTTPException
from litestar.params import QueryParameter

from portal.documents.intake import SPOOL_OPT
from portal.forms import read_form
from portal.imports.errors import MB, ImportFileTooLarge, InvalidImport
from portal.imports.sheets import MAX_FILE_BYTES
from portal.imports.writers import BuiltFile

# Up to this the body is received and the file's own size checked, with a
# message naming the limit; a larger body gets the framework's 413.
BODY_LIMIT = 4 * MAX_FILE_BYTES
# The body is received onto disk before the request's transaction opens
# (portal/documents/intake.py): a slow upload holds no database lock.
UPLOAD_ROUTE: dict[str, Any] = {"opt": {SPOOL_OPT: True}, "request_max_body_size": BODY_LIMIT}
# The API's ``format``: anything else is refused by the framework (400,
# field ``format``) and the description lists the two. Pages keep a plain
# string and refuse with their own message (portal.imports.exports).
ApiFormat = Annotated[Literal["csv", "xlsx"], QueryParameter(name="format")]
PageFormat = Annotated[str, QueryParameter(name="format")]
DOWNLOAD_HEADERS = {"cache-control": "private, no-store", "x-content-type-options": "nosniff"}


async def receive_file(request: Request[Any, Any, Any], part: str = "file") -> tuple[bytes, str]:
    """The bytes and the client's file name (data only) of the multipart
    part ``file``; refused with a clear message when missing or too large."""
    try:
        form = await read_form(request)
    except HTTPException as exc:
        if exc.status_code == 413:
            raise ImportFileTooLarge(limit=MAX_FILE_BYTES // MB) from None
        raise InvalidImport(fields={part: InvalidImport.message}) from None
    upload = form.get(part)
    if not isinstance(upload, UploadFile):
        raise InvalidImport(fields={part: InvalidImport.message})
    try:
        data = await upload.read(MAX_FILE_BYTES + 1)
    finally:
        await upload.close()
    if len(data) > MAX_FILE_BYTES:
        raise ImportFileTooLarge(limit=MAX_FILE_BYTES // MB)
    return data, upload.filename or ""


def file_response(built: BuiltFile) -> Response[bytes]:
    # Litestar appends the charset of a text/* type itself.
    return Response(
        built.content,
        media_type=built.media_type.split(";")[0],
        headers={**DOWNLOAD_HEADERS, "content-disposition": built.disposition},
    )
