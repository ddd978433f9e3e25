"""Documents over HTTP: the JSON API and the pages (list panel, detail,
upload widget endpoints). Thin: parse, call one service, answer."""

from __future__ import annotations

from typing import Any, Literal
from urllib.parse import urlencode
from uuid import UUID

import anyio.to_thread
from jinja2_fragments.litestar import HTMXBlockTemplate
from litestar import Controller, MediaType, Request, Response, get, post
from litestar.params import FromPath, FromQuery, JSONBody
from litestar.response import File, Redirect, Template

from portal.documents import services
from portal.documents.attachments import attachment_kinds, may_upload, resolve_target
from portal.documents.config import largest_limit, upload_limits
from portal.documents.content import CATEGORIES, KINDS
from portal.documents.intake import SPOOL_OPT, UploadForm, read_upload_form
from portal.documents.services import (
    ConfirmRequest,
    DirectUploadOut,
    DirectUploadRequest,
    DocumentOut,
    InvalidDocument,
    VersionOut,
    WithdrawRequest,
)
from portal.documents.storage import Storage, content_disposition
from portal.documents.tables import DocumentVersion
from portal.errors import DomainError, NotFound
from portal.forms import form_page, form_values
from portal.i18n import N_, gettext
from portal.openapi import Form
from portal.pages import safe_next
from portal.pagination import Page, page_of
from tenants.guards import acting, requires

# A stored file is never rendered as a page of the portal: it is downloaded
# (attachment) with its detected type, and even if a browser did render it,
# the sandbox gives it an opaque origin with no script.
DOWNLOAD_HEADERS = {
    "content-security-policy": "default-src 'none'; sandbox; frame-ancestors 'none'",
    "cache-control": "private, no-store",
    "cross-origin-resource-policy": "same-origin",
    "x-content-type-options": "nosniff",
}
UPLOAD_ROUTE: dict[str, Any] = {
    "opt": {SPOOL_OPT: True},
    "request_max_body_size": None,
    "guards": [requires("documents.upload")],
}
# A download answers with the stored file's own (detected) type.
STORED_TYPES = tuple(sorted({info.content_type for info in KINDS.values()}))
NEW_DOCUMENT_FORM = Form(
    fields={
        "attached_type": {"description": "What the document is attached to: order, order_line, item, dispatch, ..."},
        "attached_id": {"format": "uuid"},
        "category": {"description": "One of the tenant's document categories switched on (GET /api/v1/settings/document-categories)"},
        "title": {"max_length": 200},
    },
    required=("file", "attached_type", "attached_id", "category"),
)


def storage_of(request: Request[Any, Any, Any]) -> Storage:
    storage: Storage = request.app.state.storage
    return storage


def _uuid(value: str | None) -> UUID | None:
    try:
        return UUID(value) if value else None
    except ValueError:
        return None


async def _receive(request: Request[Any, Any, Any], typed: dict[str, str] | None = None) -> UploadForm:
    """The upload form, its file spooled; ``typed`` gets its other fields,
    for the page that answers a refusal."""
    storage = storage_of(request)
    form = await read_upload_form(request, storage.staging_dir(), largest_limit())
    if typed is not None:
        typed.update(form.fields)
    if form.file is None:
        form.discard()
        raise InvalidDocument(fields={"file": N_("Choose a file.")})
    return form


async def _upload_new(request: Request[Any, Any, Any], typed: dict[str, str] | None = None) -> DocumentOut:
    form = await _receive(request, typed)
    try:
        fields = form.fields
        target = await services.new_document_target(
            fields.get("attached_type", ""), fields.get("attached_id"), fields.get("category", ""), fields.get("title", "")
        )
        assert form.file is not None
        return await services.store_upload(storage_of(request), target, form.file)
    finally:
        form.discard()


async def _upload_version(request: Request[Any, Any, Any], document_id: UUID) -> DocumentOut:
    # The scoped lookup comes first: a foreign id answers 404 before any
    # byte of the body is parsed.
    target = await services.version_target(document_id)
    form = await _receive(request)
    try:
        assert form.file is not None
        return await services.store_upload(storage_of(request), target, form.file)
    finally:
        form.discard()


def download(storage: Storage, row: DocumentVersion) -> Response[Any]:
    """S3: a redirect to a presigned URL valid for a minute; local: the file,
    streamed. Either way as an attachment with its detected type."""
    url = storage.download_url(row.storage_key, filename=row.safe_name, content_type=row.content_type, inline=False)
    if url is not None:
        return Redirect(path=url, status_code=303, headers={"cache-control": "no-store"})
    path = storage.local_path(row.storage_key)
    assert path is not None
    headers = {**DOWNLOAD_HEADERS, "content-disposition": content_disposition("attachment", row.safe_name)}
    return File(path=path, media_type=row.content_type, filename=row.safe_name, headers=headers, etag=None)


async def preview_image(storage: Storage, row: DocumentVersion, size: str) -> Response[bytes]:
    """Our own WebP rendering, served through the app (small), so pages
    need no image source but their own origin."""
    key = row.thumbnail_key if size != "preview" else row.preview_key
    if row.preview_status != "ready" or not key:
        raise NotFound()

    def read() -> bytes:
        with storage.open(key, whole=True) as stream:
            return stream.read()

    try:
        data = await anyio.to_thread.run_sync(read)
    except FileNotFoundError:
        raise NotFound() from None
    headers = {**DOWNLOAD_HEADERS, "content-disposition": content_disposition("inline", f"{row.safe_name}.{size}.webp")}
    return Response(data, media_type="image/webp", headers=headers)


class DocumentApi(Controller):
    path = "/api/v1/documents"
    tags = ["documents"]
    guards = [requires("documents.view")]

    @get("/")
    async def list_documents(
        self,
        attached_type: FromQuery[str | None] = None,
        attached_id: FromQuery[UUID | None] = None,
        category: FromQuery[str | None] = None,
        q: FromQuery[str] = "",
        cursor: FromQuery[str | None] = None,
    ) -> Page[DocumentOut]:
        """Documents shared with the caller, newest first, each with its
        current version; filter by what they are attached to, by category,
        and by ``q`` in the title or a version's file name."""
        rows, next_cursor = await services.list_documents(
            attached_type=attached_type, attached_id=attached_id, category=category, search=q, cursor=cursor
        )
        return page_of(rows, next_cursor)

    @post("/", status_code=201, form=NEW_DOCUMENT_FORM, errors=[422], **UPLOAD_ROUTE)
    async def upload_document(self, request: Request[Any, Any, Any]) -> Response[DocumentOut]:
        """Multipart upload through the app: fields ``attached_type``,
        ``attached_id``, ``category``, ``title`` (optional) and the part
        ``file``. On S3 storage prefer ``POST /uploads`` + ``/uploads/confirm``."""
        document = await _upload_new(request)
        return Response(document, status_code=201)

    @post("/uploads", status_code=201, guards=[requires("documents.upload")], errors=[404, 409])
    async def prepare_upload(self, request: Request[Any, Any, Any], data: JSONBody[DirectUploadRequest]) -> DirectUploadOut:
        """S3 only: a presigned PUT limited to one key, the announced size,
        MD5 and SHA-256, valid 15 minutes; send the returned headers with
        the PUT, then confirm with the ticket."""
        return await services.prepare_direct_upload(storage_of(request), data)

    @post("/uploads/confirm", status_code=201, guards=[requires("documents.upload")], errors=[409, 422])
    async def confirm_upload(self, request: Request[Any, Any, Any], data: JSONBody[ConfirmRequest]) -> Response[DocumentOut]:
        """The server checks the stored object (size, checksums, type by
        content) and only then creates the document or version."""
        document = await services.confirm_direct_upload(storage_of(request), data.ticket)
        return Response(document, status_code=201)

    @get("/{document_id:uuid}")
    async def get_document(self, document_id: FromPath[UUID]) -> DocumentOut:
        return await services.get_document(document_id)

    @get("/{document_id:uuid}/content", media_type=MediaType.TEXT, files=STORED_TYPES, redirect=True)
    async def download_document(self, request: Request[Any, Any, Any], document_id: FromPath[UUID]) -> Response[Any]:
        """The current version's bytes (local storage) or a redirect to a
        presigned URL valid for one minute (S3)."""
        return download(storage_of(request), await services.version_row(document_id))

    @post("/{document_id:uuid}/withdraw", status_code=200, guards=[requires("documents.withdraw")])
    async def withdraw_document(self, document_id: FromPath[UUID], data: JSONBody[WithdrawRequest]) -> DocumentOut:
        """Mark withdrawn, with a reason (kept in the audit trail); nothing is deleted."""
        return await services.withdraw_document(document_id, data.reason)

    @get("/{document_id:uuid}/versions")
    async def list_versions(self, document_id: FromPath[UUID]) -> Page[VersionOut]:
        return page_of(await services.list_versions(document_id))

    @post("/{document_id:uuid}/versions", status_code=201, form=Form(), errors=[422], **UPLOAD_ROUTE)
    async def upload_version(self, request: Request[Any, Any, Any], document_id: FromPath[UUID]) -> Response[DocumentOut]:
        """A new version of the same document (multipart part ``file``)."""
        document = await _upload_version(request, document_id)
        return Response(document, status_code=201)

    @get("/{document_id:uuid}/versions/{version_id:uuid}")
    async def get_version(self, document_id: FromPath[UUID], version_id: FromPath[UUID]) -> VersionOut:
        return await services.get_version(document_id, version_id)

    @get("/{document_id:uuid}/versions/{version_id:uuid}/content", media_type=MediaType.TEXT, files=STORED_TYPES, redirect=True)
    async def download_version(
        self, request: Request[Any, Any, Any], document_id: FromPath[UUID], version_id: FromPath[UUID]
    ) -> Response[Any]:
        return download(storage_of(request), await services.version_row(document_id, version_id))

    @get("/{document_id:uuid}/versions/{version_id:uuid}/thumbnail", media_type="image/webp", files=("image/webp",))
    async def get_thumbnail(
        self,
        request: Request[Any, Any, Any],
        document_id: FromPath[UUID],
        version_id: FromPath[UUID],
        size: FromQuery[Literal["thumb", "preview"]] = "thumb",
    ) -> Response[bytes]:
        """WebP thumbnail (``size=thumb``, 320 px) or preview (``size=preview``, 1600 px); 404 until rendered."""
        return await preview_image(storage_of(request), await services.version_row(document_id, version_id), size)


# -- pages ---------------------------------------------------------------------------


def wants_json(request: Request[Any, Any, Any]) -> bool:
    return "application/json" in request.headers.get("accept", "")


def json_error(exc: DomainError) -> Response[Any]:
    message, fields = exc.translated()
    body: dict[str, Any] = {"code": exc.code, "message": message}
    if fields:
        body["fields"] = fields
    return Response({"error": body}, status_code=exc.status_code, media_type=MediaType.JSON)


def all_category_options() -> list[tuple[str, str]]:
    """Every category's name, those switched off too (documents keep theirs)."""
    from portal.configuration.services import choices

    return choices(include_inactive=True)


def category_options() -> list[tuple[str, str]]:
    from portal.configuration.services import choices

    return choices()


# Names of the records documents hang on, for the list's filter; a kind
# registered without one here shows its key.
ATTACHMENT_LABELS = {
    "supplier": N_("Supplier"),
    "order": N_("Order"),
    "order_line": N_("Order line"),
    "dispatch": N_("Material dispatch"),
    "delivery": N_("Delivery"),
    "delivery_line": N_("Delivery line"),
    "progress_report": N_("Progress report"),
    "item": N_("Item"),
}


def attachment_options() -> list[tuple[str, str]]:
    return [(kind, gettext(ATTACHMENT_LABELS[kind]) if kind in ATTACHMENT_LABELS else kind) for kind in attachment_kinds()]


def widget_context(
    storage: Storage, *, attached_type: str = "", attached_id: Any = "", document: DocumentOut | None = None, category: str = "other"
) -> dict[str, Any]:
    """What ``documents/_upload.html`` needs. ``key`` starts the ids of the
    widget's fields: a page may hold several panels (a delivery and each of
    its lines), and a label must name its own panel's field."""
    from portal.configuration.services import bases

    limits = upload_limits()
    rules = bases()
    accept = {
        key: ",".join(sorted({f".{ext}" for kind in CATEGORIES[base].kinds for ext in KINDS[kind].extensions}))
        for key, base in rules.items()
    }
    return {
        "key": f"up-{document.id}" if document is not None else f"up-{attached_id}" if attached_id else "up",
        "mode": "direct" if storage.direct_uploads else "form",
        "attached_type": attached_type,
        "attached_id": str(attached_id),
        "document": document,
        "categories": category_options(),
        "category": category if category in rules else "other",
        "accept": accept,
        "limits_mb": {key: limits[base] // (1024 * 1024) for key, base in rules.items()},
    }


async def _documents_context(
    request: Request[Any, Any, Any],
    attached_type: str | None,
    attached_id: str | None,
    category: str | None = None,
    q: str = "",
    cursor: str | None = None,
    upload_category: str | None = None,
) -> dict[str, Any]:
    """The documents page's context: the list (of one record's documents
    with an attachment target) and the upload widget."""
    target_id = _uuid(attached_id)
    can_upload = False
    if attached_type and target_id:
        await resolve_target(attached_type, target_id)  # 404 for a foreign record
        can_upload = may_upload(attached_type)
    rows, next_cursor = await services.list_documents(
        attached_type=attached_type or None, attached_id=target_id, category=category or None, search=q, cursor=cursor
    )
    filters = {"attached_type": attached_type or "", "attached_id": str(target_id or ""), "category": category or "", "q": q}
    attachments = attachment_options()
    context = {
        "documents": rows,
        "next_cursor": next_cursor,
        "filters": filters,
        "more_url": "/documents?" + urlencode({**filters, "cursor": next_cursor or ""}),
        "can_upload": can_upload,
        "widget": widget_context(
            storage_of(request), attached_type=attached_type or "", attached_id=target_id or "", category=upload_category or "other"
        ),
        "category_labels": dict(all_category_options()),
        "attachment_labels": dict(attachments),
        "attachment_options": attachments,
        "active_nav": "documents",
    }
    return context


def _refusal(error: DomainError, title: str = "") -> dict[str, Any]:
    """What the upload widget shows of a refused plain form post (no
    JavaScript to show the JSON error): the reasons, and the typed title."""
    message, fields = error.translated()
    return {"texts": [message, *fields.values()], "title": title}


class DocumentPages(Controller):
    path = "/documents"
    include_in_schema = False
    guards = [requires("documents.view")]

    @get("/", name="documents")
    async def show_documents(
        self,
        request: Request[Any, Any, Any],
        attached_type: FromQuery[str | None] = None,
        attached_id: FromQuery[str | None] = None,
        category: FromQuery[str | None] = None,
        q: FromQuery[str] = "",
        cursor: FromQuery[str | None] = None,
        upload_category: FromQuery[str | None] = None,
    ) -> Template:
        """All documents the user may see, filtered and searched; with an
        attachment target, the panel for that record (list + upload widget).
        The panel is rendered alone for htmx (another page embeds it, the
        filters swap it), the whole page for a boosted navigation.
        ``upload_category`` is the widget's preselected category (a packing
        list on a delivery)."""
        context = await _documents_context(request, attached_type, attached_id, category, q, cursor, upload_category)
        headers = {"vary": "HX-Request"}
        if request.headers.get("hx-request") and not request.headers.get("hx-boosted"):
            return HTMXBlockTemplate(template_name="documents/index.html", block_name="document_panel", context=context, headers=headers)
        return Template(template_name="documents/index.html", context=context, headers=headers)

    @post("/", **UPLOAD_ROUTE)
    async def upload_document(self, request: Request[Any, Any, Any]) -> Response[Any]:
        """The upload widget (multipart through the app, local storage).
        Refused, it answers the script with the JSON error; a plain form
        post (no JavaScript) with the record's documents page again, the
        widget showing why and keeping the typed title."""
        typed: dict[str, str] = {}
        try:
            document = await _upload_new(request, typed)
        except DomainError as exc:
            if wants_json(request):
                return json_error(exc)
            if isinstance(exc, NotFound) or not typed:
                raise
            return await self._upload_refused(request, typed, exc)
        return self._uploaded(request, document)

    async def _upload_refused(self, request: Request[Any, Any, Any], typed: dict[str, str], error: DomainError) -> Template:
        attached_type, attached_id = typed.get("attached_type") or None, typed.get("attached_id") or None
        context = await _documents_context(request, attached_type, attached_id, upload_category=typed.get("category"))
        context["upload_refusal"] = _refusal(error, typed.get("title", ""))
        return Template(template_name="documents/index.html", context=context, status_code=error.status_code)

    def _uploaded(self, request: Request[Any, Any, Any], document: DocumentOut) -> Response[Any]:
        location = f"/documents/{document.id}"
        if wants_json(request):
            return Response({"document": document, "location": location}, status_code=201, media_type=MediaType.JSON)
        target = safe_next(request.query_params.get("next")) if request.query_params.get("next") else location
        return Redirect(path=target, status_code=303)

    @post("/uploads", guards=[requires("documents.upload")])
    async def prepare_upload(self, request: Request[Any, Any, Any], data: JSONBody[DirectUploadRequest]) -> Response[Any]:
        """The widget's direct path (S3): step 1, a presigned PUT."""
        try:
            ticket = await services.prepare_direct_upload(storage_of(request), data)
        except DomainError as exc:
            return json_error(exc)
        return Response(ticket, status_code=201, media_type=MediaType.JSON)

    @post("/uploads/confirm", guards=[requires("documents.upload")])
    async def confirm_upload(self, request: Request[Any, Any, Any], data: JSONBody[ConfirmRequest]) -> Response[Any]:
        """The widget's direct path (S3): step 3, after the PUT."""
        try:
            document = await services.confirm_direct_upload(storage_of(request), data.ticket)
        except DomainError as exc:
            return json_error(exc)
        return Response(
            {"document": document, "location": f"/documents/{document.id}"},
            status_code=201,
            media_type=MediaType.JSON,
        )

    @get("/{document_id:uuid}", name="document")
    async def show_document(self, request: Request[Any, Any, Any], document_id: FromPath[UUID]) -> Template:
        return await self._detail(request, document_id)

    async def _detail(
        self,
        request: Request[Any, Any, Any],
        document_id: UUID,
        error: DomainError | None = None,
        values: dict[str, str] | None = None,
        upload_refusal: dict[str, Any] | None = None,
    ) -> Template:
        document = await services.get_document(document_id)
        versions = await services.list_versions(document_id)
        me = acting()
        return form_page(
            "documents/detail.html",
            values=values,
            error=error,
            document=document,
            versions=versions,
            can_upload=document.status == "active" and await services.takes_versions_from_me(document_id),
            can_withdraw=me.can("documents.withdraw") and document.status == "active",
            widget=widget_context(storage_of(request), document=document),
            category_labels=dict(all_category_options()),
            upload_refusal=upload_refusal,
            active_nav="documents",
        )

    @get("/{document_id:uuid}/content")
    async def download_document(self, request: Request[Any, Any, Any], document_id: FromPath[UUID]) -> Response[Any]:
        return download(storage_of(request), await services.version_row(document_id))

    @post("/{document_id:uuid}/versions", **UPLOAD_ROUTE)
    async def upload_version(self, request: Request[Any, Any, Any], document_id: FromPath[UUID]) -> Response[Any]:
        try:
            document = await _upload_version(request, document_id)
        except DomainError as exc:
            if isinstance(exc, NotFound):
                raise
            if wants_json(request):
                return json_error(exc)
            page = await self._detail(request, document_id, upload_refusal=_refusal(exc))
            if not page.context["can_upload"]:
                raise  # no widget to show it in (withdrawn meanwhile): the error page
            page.status_code = exc.status_code
            return page
        return self._uploaded(request, document)

    @post("/{document_id:uuid}/withdraw", guards=[requires("documents.withdraw")])
    async def withdraw_document(self, request: Request[Any, Any, Any], document_id: FromPath[UUID]) -> Response[Any]:
        await services.get_document(document_id)  # 404 first for a foreign id
        values = await form_values(request)
        try:
            await services.withdraw_document(document_id, values.get("reason", ""))
        except DomainError as exc:
            if isinstance(exc, NotFound):
                raise
            return await self._detail(request, document_id, error=exc, values=values)
        return Redirect(path=f"/documents/{document_id}", status_code=303)

    @get("/{document_id:uuid}/versions/{version_id:uuid}/content")
    async def download_version(
        self, request: Request[Any, Any, Any], document_id: FromPath[UUID], version_id: FromPath[UUID]
    ) -> Response[Any]:
        return download(storage_of(request), await services.version_row(document_id, version_id))

    @get("/{document_id:uuid}/versions/{version_id:uuid}/thumbnail")
    async def show_thumbnail(
        self, request: Request[Any, Any, Any], document_id: FromPath[UUID], version_id: FromPath[UUID], size: FromQuery[str] = "thumb"
    ) -> Response[bytes]:
        return await preview_image(storage_of(request), await services.version_row(document_id, version_id), size)
