"""Documents: the rules.

- A document exists only once its bytes are stored and checked: the object
  is written (and, locally, fsynced and renamed into place) before the rows
  are inserted in the request's transaction, so an upload interrupted at any
  point leaves at most an orphan object (removed by ``portal storage gc``),
  never a row pointing at nothing.
- Content is immutable: a new upload of the same document is a new version;
  old versions stay readable; nothing is overwritten or deleted. Withdrawing
  marks the document, with a reason, in the audit trail.
- Every lookup goes through the scoping layer; attachment targets are
  resolved by their own domain (``portal.documents.attachments``).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
import time
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID, uuid4

import anyio.to_thread
import jwt
import msgspec
import structlog

from portal.audit.services import record
from portal.documents import content
from portal.documents.attachments import may_upload, resolve_target, resolve_upload_target
from portal.documents.config import FULL_READ_LIMIT, UPLOAD_TICKET_SECONDS, UPLOAD_URL_SECONDS, upload_limits
from portal.documents.imaging import PREVIEWABLE
from portal.documents.intake import StagedFile
from portal.documents.storage import DirectUpload, S3Storage, Storage, StoredObject, object_key
from portal.documents.tables import Document, DocumentVersion
from portal.errors import Conflict, DomainError, NotFound, PermissionDenied
from portal.i18n import N_
from portal.jobs import enqueue
from portal.lengths import FreeText
from portal.metrics import observe_upload
from portal.pagination import read_time_cursor, time_cursor
from portal.rows import insert_row
from portal.settings import get_settings
from tenants.context import TenantContext, current
from tenants.prepared import ID_LIST_SIZES, id_slots, id_values, prepared
from tenants.scoping import scoped
from tenants.services.members import user_names
from tenants.tables import Membership

log = structlog.get_logger(__name__)

PAGE_SIZE = 50
TITLE_LENGTH = 200
REASON_MIN, REASON_MAX = 3, 1000
TICKET_AUDIENCE = "outsourcing-portal/upload"
_HEX64 = re.compile(r"^[0-9a-f]{64}$")
_HEX32 = re.compile(r"^[0-9a-f]{32}$")


# -- schemas --------------------------------------------------------------------


class VersionOut(msgspec.Struct, frozen=True):
    id: UUID
    document_id: UUID
    version: int
    sha256: str
    size: int
    kind: str
    content_type: str
    original_name: str
    uploaded_by_id: UUID | None
    uploaded_by: str
    uploaded_at: datetime
    preview: str
    width: int | None = None
    height: int | None = None


class DocumentOut(msgspec.Struct, frozen=True):
    id: UUID
    attached_type: str
    attached_id: UUID
    supplier_id: UUID | None
    category: str
    title: str
    status: str
    created_at: datetime
    current: VersionOut | None
    withdrawn_at: datetime | None = None
    withdrawn_reason: str = ""


class WithdrawRequest(msgspec.Struct, frozen=True):
    reason: FreeText = ""


class DirectUploadRequest(msgspec.Struct, frozen=True):
    """Ask for a presigned upload. ``sha256`` is hex; ``md5`` is hex or
    base64 (what the storage checks the body against)."""

    name: str = ""
    size: int = 0
    sha256: str = ""
    md5: str = ""
    content_type: str = ""
    category: str = ""
    title: str = ""
    attached_type: str = ""
    attached_id: UUID | None = None
    document_id: UUID | None = None


class DirectUploadOut(msgspec.Struct, frozen=True):
    ticket: str
    url: str
    method: str
    headers: dict[str, str]
    expires_in: int
    document_id: UUID
    version_id: UUID


class ConfirmRequest(msgspec.Struct, frozen=True):
    ticket: str = ""


# -- errors ---------------------------------------------------------------------


class InvalidDocument(DomainError):
    code = "invalid_document"
    message = N_("Some fields are missing or not valid.")


class DocumentWithdrawn(DomainError):
    status_code = 409
    code = "document_withdrawn"
    message = N_("This document has been withdrawn; it cannot get new versions.")


class AlreadyWithdrawn(DomainError):
    status_code = 409
    code = "already_withdrawn"
    message = N_("This document has already been withdrawn.")


class DirectUploadUnavailable(DomainError):
    status_code = 409
    code = "direct_upload_unavailable"
    message = N_("Direct uploads need S3 storage; send the file in a multipart upload instead.")


class UploadNotFound(DomainError):
    status_code = 404
    code = "upload_not_found"
    message = N_("This upload has expired or does not exist. Start the upload again.")


class UploadMissing(DomainError):
    status_code = 409
    code = "upload_missing"
    message = N_("The file has not arrived in storage. Upload it again.")


class UploadMismatch(content.FileRefused):
    code = "upload_mismatch"
    message = N_("The stored file does not match what was announced (size or checksum). Upload it again.")


# -- lookups ----------------------------------------------------------------------


# What a listing shows of a document and of its versions: plain rows
# (``select``), not Piccolo objects, which cost a default per column (a
# uuid4 for the id) before the row's values overwrite them.
DOCUMENT_COLUMNS = (
    Document.id,
    Document.supplier,
    Document.attached_type,
    Document.attached_id,
    Document.category,
    Document.title,
    Document.created_at,
    Document.withdrawn,
    Document.withdrawn_at,
    Document.withdrawn_reason,
)
VERSION_COLUMNS = (
    DocumentVersion.id,
    DocumentVersion.document,
    DocumentVersion.version,
    DocumentVersion.sha256,
    DocumentVersion.size,
    DocumentVersion.kind,
    DocumentVersion.content_type,
    DocumentVersion.original_name,
    DocumentVersion.uploaded_by,
    DocumentVersion.uploaded_at,
    DocumentVersion.preview_status,
    DocumentVersion.width,
    DocumentVersion.height,
)


def _version_out(row: Mapping[str, Any], names: dict[UUID, str]) -> VersionOut:
    uploaded_by = row["uploaded_by"]
    return VersionOut(
        id=row["id"],
        document_id=row["document"],
        version=row["version"],
        sha256=row["sha256"],
        size=row["size"],
        kind=row["kind"],
        content_type=row["content_type"],
        original_name=row["original_name"],
        uploaded_by_id=uploaded_by,
        uploaded_by=names.get(uploaded_by, "") if uploaded_by else "",
        uploaded_at=row["uploaded_at"],
        preview=row["preview_status"],
        width=row["width"],
        height=row["height"],
    )


def _document_out(row: Mapping[str, Any], current_version: VersionOut | None) -> DocumentOut:
    return DocumentOut(
        id=row["id"],
        attached_type=row["attached_type"],
        attached_id=row["attached_id"],
        supplier_id=row["supplier"],
        category=row["category"],
        title=row["title"],
        status="withdrawn" if row["withdrawn"] else "active",
        created_at=row["created_at"],
        current=current_version,
        withdrawn_at=row["withdrawn_at"],
        withdrawn_reason=row["withdrawn_reason"],
    )


async def _versions_of(document_ids: list[UUID]) -> list[dict[str, Any]]:
    ids = id_values("document", document_ids)
    return await prepared(  # type: ignore[no-any-return]
        ("documents.versions_of", len(ids)),
        lambda slot: scoped(DocumentVersion).select(*VERSION_COLUMNS).where(DocumentVersion.document.is_in(id_slots(slot, ids))),
        **ids,
    )


async def _with_current(rows: list[Mapping[str, Any]]) -> list[DocumentOut]:
    """The documents with their current (highest) version each."""
    if not rows:
        return []
    latest: dict[UUID, Mapping[str, Any]] = {}
    for start in range(0, len(rows), ID_LIST_SIZES[-1]):
        versions = await _versions_of([row["id"] for row in rows[start : start + ID_LIST_SIZES[-1]]])
        for version in versions:
            known = latest.get(version["document"])
            if known is None or version["version"] > known["version"]:
                latest[version["document"]] = version
    names = await user_names({version["uploaded_by"] for version in latest.values() if version["uploaded_by"]})
    return [_document_out(row, _version_out(latest[row["id"]], names) if row["id"] in latest else None) for row in rows]


async def list_documents(
    *,
    attached_type: str | None = None,
    attached_id: UUID | None = None,
    category: str | None = None,
    search: str = "",
    cursor: str | None = None,
    limit: int | None = None,
) -> tuple[list[DocumentOut], str | None]:
    """Documents the actor may see, newest first; supplier users only those
    shared with their supplier. ``search`` matches the title or the file
    name of any version. ``next`` is the cursor of the next page."""
    limit = max(1, min(limit or PAGE_SIZE, PAGE_SIZE))
    values: dict[str, Any] = {}
    if attached_type:
        values["attached_type"] = attached_type
    if attached_id:
        values["attached_id"] = attached_id
    if category:
        values["category"] = category
    if search.strip():
        values["term"] = f"%{search.strip()}%"
    if cursor:
        values["at"], values["key"] = read_time_cursor(cursor)

    def build(slot: Mapping[str, Any]) -> Any:
        query = scoped(Document).select(*DOCUMENT_COLUMNS)
        if "attached_type" in slot:
            query = query.where(Document.attached_type == slot["attached_type"])
        if "attached_id" in slot:
            query = query.where(Document.attached_id == slot["attached_id"])
        if "category" in slot:
            query = query.where(Document.category == slot["category"])
        if "term" in slot:
            named = scoped(DocumentVersion).select(DocumentVersion.document).where(DocumentVersion.original_name.ilike(slot["term"]))
            query = query.where(Document.title.ilike(slot["term"]) | Document.id.is_in(named))
        if "at" in slot:
            query = query.where((Document.created_at < slot["at"]) | ((Document.created_at == slot["at"]) & (Document.id < slot["key"])))
        return query.order_by(Document.created_at, Document.id, ascending=False).limit(limit + 1)

    # Built once per filter set and scope (tenants.prepared): QA's review
    # queue opens this list all day.
    rows = list(await prepared(("documents.list", limit), build, **values))
    next_cursor = time_cursor(rows[limit - 1]["created_at"], rows[limit - 1]["id"]) if len(rows) > limit else None
    # A supplier's own document on a record hidden from it since (a page may
    # come out shorter; the cursor still walks on).
    return await _with_current(await scoped(Document).readable(rows[:limit])), next_cursor


async def list_attached(attached_type: str, attached_ids: list[UUID]) -> dict[UUID, list[DocumentOut]]:
    """Documents the actor may see on several records of one kind (an
    order's items), newest first per record."""
    if not attached_ids:
        return {}
    rows = await (
        scoped(Document)
        .select(*DOCUMENT_COLUMNS)
        .where((Document.attached_type == attached_type) & Document.attached_id.is_in(list(attached_ids)))
        .order_by(Document.created_at, Document.id, ascending=False)
    )
    found: dict[UUID, list[DocumentOut]] = {}
    for document in await _with_current(await scoped(Document).readable(list(rows))):
        found.setdefault(document.attached_id, []).append(document)
    return found


async def share_attached(targets: dict[str, list[UUID]], supplier_id: UUID) -> list[UUID]:
    """Documents on these records that are not shared with anyone yet become
    shared with ``supplier_id``, versions included, each with an audit
    event. An order calls it when it is issued: until then its drawings are
    the buyer's own."""
    condition: Any = None
    for kind, ids in targets.items():
        if ids:
            part = (Document.attached_type == kind) & Document.attached_id.is_in(list(ids))
            condition = part if condition is None else condition | part
    if condition is None:
        return []
    rows = await (
        scoped(Document).update({Document.supplier: supplier_id}).where(Document.supplier.is_null()).where(condition).returning(Document.id)
    )
    shared = [row["id"] for row in rows]
    if not shared:
        return []
    await (
        scoped(DocumentVersion)
        .update({DocumentVersion.supplier: supplier_id})
        .where(DocumentVersion.document.is_in(shared) & DocumentVersion.supplier.is_null())
    )
    for document_id in shared:
        await record(
            "document.share",
            entity_type="document",
            entity_id=document_id,
            before={"supplier_id": None},
            after={"supplier_id": supplier_id},
        )
    return shared


async def get_document(document_id: UUID | str) -> DocumentOut:
    row = await scoped(Document).get(document_id)
    return (await _with_current([row.to_dict()]))[0]


async def list_versions(document_id: UUID | str) -> list[VersionOut]:
    """Every version of a document, newest first; old versions stay readable."""
    document = await scoped(Document).get(document_id)
    rows = (
        await scoped(DocumentVersion)
        .select(*VERSION_COLUMNS)
        .where(DocumentVersion.document == document.id)
        .order_by(DocumentVersion.version, ascending=False)
    )
    names = await user_names({row["uploaded_by"] for row in rows if row["uploaded_by"]})
    return [_version_out(row, names) for row in rows]


async def version_row(document_id: UUID | str, version_id: UUID | str | None = None) -> DocumentVersion:
    """A version of a visible document (its current one when no id is
    given); NotFound for anything foreign, missing or mismatched."""
    document = await scoped(Document).get(document_id)
    if version_id is not None:
        row = await scoped(DocumentVersion).get(version_id)
        if row.document != document.id:
            raise NotFound()
        return row
    query = scoped(DocumentVersion).objects().where(DocumentVersion.document == document.id)
    row = await query.order_by(DocumentVersion.version, ascending=False).first()
    if row is None:
        raise NotFound()
    return row  # type: ignore[no-any-return]


async def get_version(document_id: UUID | str, version_id: UUID | str) -> VersionOut:
    row = await version_row(document_id, version_id)
    return _version_out(row.to_dict(), await user_names({row.uploaded_by} if row.uploaded_by else set()))


# -- uploads -------------------------------------------------------------------------


def _require(action: str) -> TenantContext:
    context = current()
    if not context.can(action):
        raise PermissionDenied()
    return context


async def _file_rules(category: str, *, new: bool) -> str:
    """The built-in category whose file checks apply to the tenant's
    category: a new document needs one that is switched on; a new version
    keeps its document's, even one switched off since."""
    from portal.configuration.services import InvalidSetting, file_rules

    try:
        return await file_rules(category, include_inactive=not new)
    except InvalidSetting:
        if new:
            raise InvalidDocument(fields={"category": N_("Choose a category.")}) from None
        return category if category in content.CATEGORIES else "other"


def _check_title(title: str) -> str:
    title = " ".join((title or "").split())
    if len(title) > TITLE_LENGTH:
        raise InvalidDocument(fields={"title": N_("Use at most 200 characters.")})
    return title


@dataclass(frozen=True)
class Target:
    """Where a new version goes: a new document, or an existing one."""

    document_id: UUID
    new: bool
    attached_type: str
    attached_id: UUID
    supplier_id: UUID | None
    category: str
    title: str
    # The built-in category whose file types and size limit apply (empty:
    # the category itself, a built-in one).
    rules: str = ""

    @property
    def file_rules(self) -> str:
        return self.rules or self.category


async def new_document_target(attached_type: str, attached_id: UUID | str | None, category: str, title: str) -> Target:
    """Resolve the record a new document is attached to (scoped: NotFound
    for a foreign one) and the supplier it will be shared with."""
    rules = await _file_rules(category, new=True)
    title = _check_title(title)
    try:
        target_id = UUID(str(attached_id)) if attached_id else None
    except ValueError:
        target_id = None
    if target_id is None:
        raise InvalidDocument(fields={"attached_id": N_("This value is missing or not valid.")})
    supplier_id = await resolve_upload_target(attached_type, target_id)
    return Target(uuid4(), True, attached_type, target_id, supplier_id, category, title, rules)


async def attached_document_target(attached_type: str, attached_id: UUID, supplier_id: UUID | None, category: str, title: str) -> Target:
    """As ``new_document_target``, for a caller that has just read the
    record through the scoping layer in this transaction (and so knows it
    is visible, and its supplier): the same checks, one lookup fewer."""
    rules = await _file_rules(category, new=True)
    title = _check_title(title)
    if not may_upload(attached_type):
        raise PermissionDenied()
    return Target(uuid4(), True, attached_type, attached_id, supplier_id, category, title, rules)


def may_add_version(attached_type: str, supplier_id: UUID | None) -> bool:
    """New versions need the upload permissions of the document's kind; a
    document shared with a supplier only for reading (an item's drawing)
    takes no versions from supplier users."""
    context = current()
    if context.is_supplier and supplier_id != context.supplier_id:
        return False
    return may_upload(attached_type)


# Records whose documents are their archive: what is filed there is
# replaced by filing anew, never by a new version of someone's file (a
# supplier's version of a finalized statement's PDF became "the" statement
# and broke its download).
ARCHIVED_TYPES = frozenset({"statement"})


class ArchivedDocument(DomainError):
    status_code = 403
    code = "document_archived"
    message = N_("This file is part of a record's archive: it takes no new versions. Attach a new document instead.")


class FiledByTheBuyer(DomainError):
    status_code = 403
    code = "not_your_document"
    message = N_("The buyer filed this document: it takes new versions from the buyer only. Send yours as a new document.")


async def version_refusal(document: Document) -> DomainError | None:
    """Why the acting user may not add a version to ``document``, or None.
    Beyond the upload rights: a record's archive takes no versions, and a
    supplier versions only what its own people filed (a supplier's file
    would otherwise become the current version of the buyer's drawing)."""
    if document.attached_type in ARCHIVED_TYPES:
        return ArchivedDocument()
    if not may_add_version(document.attached_type, document.supplier):
        return PermissionDenied()
    context = current()
    # The supplier's own record (its certificates) it keeps up to date,
    # whoever filed the first version.
    if context.is_supplier and document.attached_type != "supplier":
        filed_here = document.created_by is not None and await scoped(Membership).exists().where(
            Membership.user == document.created_by, Membership.supplier == context.supplier_id
        )
        if not filed_here:
            return FiledByTheBuyer()
    return None


async def takes_versions_from_me(document_id: UUID | str) -> bool:
    """For the document's page: whether to offer the new-version form."""
    return await version_refusal(await scoped(Document).get(document_id)) is None


async def version_target(document_id: UUID | str) -> Target:
    """An existing, visible, not withdrawn document takes a new version."""
    document = await scoped(Document).get(document_id)
    refusal = await version_refusal(document)
    if refusal is not None:
        raise refusal
    if document.withdrawn:
        raise DocumentWithdrawn()
    rules = await _file_rules(document.category, new=False)
    return Target(
        document.id, False, document.attached_type, document.attached_id, document.supplier, document.category, document.title, rules
    )


async def store_upload(storage: Storage, target: Target, staged: StagedFile) -> DocumentOut:
    """Check a file received through the app, store it and record it as the
    target's next version. The staged file is consumed either way."""
    context = _require("documents.upload")
    started = time.perf_counter()
    try:
        name = content.check_name(staged.filename)
        content.check_size(staged.size, target.file_rules, dict(upload_limits()))
        inspection = await anyio.to_thread.run_sync(_inspect_local, staged, name, target.file_rules)
        version_id = uuid4()
        key = object_key(context.tenant_id, target.document_id, version_id)
        await storage.put_file(key, staged.path)
    finally:
        await anyio.to_thread.run_sync(staged.discard)
    try:
        document = await _record_version(context, target, version_id, key, staged.sha256, staged.size, name, inspection)
    except Exception:
        # The rows will not commit: take the object back at once (gc would
        # find it later anyway, e.g. after a crash right here).
        await _delete_quietly(storage, key)
        raise
    observe_upload("app", staged.size, time.perf_counter() - started)
    return document


async def store_generated(storage: Storage, target: Target, filename: str, data: bytes, kind: content.Kind) -> DocumentOut:
    """Archive a file the portal made itself (a statement PDF) as the
    target's next version, immutable like any upload, with its SHA-256.
    Nobody uploaded it: it skips the upload checks and permission, and the
    caller (a job in the tenant's scope) resolved the target itself."""
    context = current()
    name = content.check_name(filename)
    version_id = uuid4()
    key = object_key(context.tenant_id, target.document_id, version_id)
    await storage.put_bytes(key, data)
    inspection = content.Inspection(kind=kind, content_type=content.KINDS[kind].content_type)
    try:
        return await _record_version(context, target, version_id, key, hashlib.sha256(data).hexdigest(), len(data), name, inspection)
    except Exception:
        await _delete_quietly(storage, key)
        raise


def _inspect_local(staged: StagedFile, name: content.FileName, category: str) -> content.Inspection:
    with staged.path.open("rb") as stream:
        return content.inspect(stream, staged.size, declared_type=staged.declared_type, name=name, category=category)


async def _record_version(
    context: TenantContext,
    target: Target,
    version_id: UUID,
    key: str,
    sha256: str,
    size: int,
    name: content.FileName,
    inspection: content.Inspection,
) -> DocumentOut:
    if target.new:
        document = scoped(Document).new(
            id=target.document_id,
            supplier=target.supplier_id,
            attached_type=target.attached_type,
            attached_id=target.attached_id,
            category=target.category,
            title=target.title or name.original.rsplit(".", 1)[0][:TITLE_LENGTH],
            current_version=1,
            created_by=context.user_id,
        )
        await insert_row(document)
        number = 1
    else:
        # One statement takes the next number and locks the document row to
        # the end of the transaction: concurrent uploads get n+1 and n+2.
        rows = await (
            scoped(Document)
            .update({Document.current_version: Document.current_version + 1})
            .where((Document.id == target.document_id) & (Document.withdrawn == False))  # noqa: E712
            .returning(Document.current_version)
        )
        if not rows:
            raise DocumentWithdrawn()
        number = int(rows[0]["current_version"])
    version = scoped(DocumentVersion).new(
        id=version_id,
        document=target.document_id,
        supplier=target.supplier_id,
        version=number,
        sha256=sha256,
        size=size,
        kind=inspection.kind.value,
        content_type=inspection.content_type,
        original_name=name.original,
        safe_name=name.safe,
        storage_key=key,
        uploaded_by=context.user_id,
        width=inspection.width,
        height=inspection.height,
        preview_status="pending" if inspection.kind in PREVIEWABLE else "none",
    )
    await insert_row(version)
    if version.preview_status == "pending":
        # In this transaction: the preview job exists exactly when the version does.
        await enqueue("documents.preview", {"version_id": version_id}, tenant=version.tenant)
    await record(
        "document.upload" if target.new else "document.version",
        entity_type="document",
        entity_id=target.document_id,
        after={
            "version": number,
            "version_id": version_id,
            "sha256": sha256,
            "size": size,
            "content_type": inspection.content_type,
            "name": name.original,
            "category": target.category,
            "attached_type": target.attached_type,
            "attached_id": target.attached_id,
            "supplier_id": target.supplier_id,
        },
    )
    log.info("document_stored", document=str(target.document_id), version=number, size=size, kind=inspection.kind.value)
    if not target.new:
        return await get_document(target.document_id)
    # A new document is what this call just wrote: nothing to read back.
    uploader = {context.user_id: context.user_name} if context.user_id else {}
    return _document_out(document.to_dict(), _version_out(version.to_dict(), uploader))


async def _delete_quietly(storage: Storage, key: str) -> None:
    try:
        await storage.delete(key)
    except Exception:
        log.warning("document_object_cleanup_failed", key=key, exc_info=True)


async def record_generated(
    storage: Storage,
    key: str,
    *,
    document_id: UUID,
    version_id: UUID,
    attached_type: str,
    attached_id: UUID,
    title: str,
    sha256: str,
    size: int,
    filename: str,
    content_type: str,
    kind: str,
) -> None:
    """A file the app made itself (a handover package), already stored under
    ``key`` (``object_key`` of the ids: the caller puts it first, outside any
    transaction, because it may be large), recorded as a new document of the
    record, immutable like any other. No content inspection and no upload
    size limit: no user sent it. The record's resolver decides who reads it.
    On failure the object is taken back."""
    context = current()
    try:
        supplier_id = await resolve_target(attached_type, attached_id)
        name = content.check_name(filename)
        await (
            scoped(Document)
            .new(
                id=document_id,
                supplier=supplier_id,
                attached_type=attached_type,
                attached_id=attached_id,
                category="other",
                title=title[:TITLE_LENGTH],
                current_version=1,
                created_by=context.user_id,
            )
            .save()
        )
        await (
            scoped(DocumentVersion)
            .new(
                id=version_id,
                document=document_id,
                supplier=supplier_id,
                version=1,
                sha256=sha256,
                size=size,
                kind=kind,
                content_type=content_type,
                original_name=name.original,
                safe_name=name.safe,
                storage_key=key,
                uploaded_by=context.user_id,
            )
            .save()
        )
        await record(
            "document.generate",
            entity_type="document",
            entity_id=document_id,
            after={"version_id": version_id, "sha256": sha256, "size": size, "attached_type": attached_type, "attached_id": attached_id},
        )
    except Exception:
        await _delete_quietly(storage, key)
        raise


# -- direct uploads (S3) ------------------------------------------------------------------


def _md5_b64(value: str) -> str | None:
    value = value.strip()
    if _HEX32.match(value.lower()):
        return base64.b64encode(bytes.fromhex(value)).decode()
    try:
        raw = base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        return None
    return value if len(raw) == 16 else None


async def prepare_direct_upload(storage: Storage, data: DirectUploadRequest) -> DirectUploadOut:
    """A presigned PUT for one key, exactly the announced size and
    checksums, valid for minutes; plus a signed ticket that confirm takes.
    What can be refused before a byte moves is refused here."""
    context = _require("documents.upload")
    if not isinstance(storage, S3Storage):
        raise DirectUploadUnavailable()
    if data.document_id is not None:
        target = await version_target(data.document_id)
    else:
        target = await new_document_target(data.attached_type, data.attached_id, data.category, data.title)
    name = content.check_name(data.name)
    content.check_size(data.size, target.file_rules, dict(upload_limits()))
    promised = content.expected_kind(data.content_type, name.original)
    if promised is None:
        raise content.UnknownFileType()
    if promised not in content.CATEGORIES[target.file_rules].kinds:
        raise content.TypeNotAllowed(kind=content.KINDS[promised].label)
    sha256 = data.sha256.strip().lower()
    md5_b64 = _md5_b64(data.md5)
    if not _HEX64.match(sha256) or md5_b64 is None:
        raise InvalidDocument(fields={"sha256": N_("Checksums are missing or not valid.")})
    version_id = uuid4()
    key = object_key(context.tenant_id, target.document_id, version_id)
    upload: DirectUpload = await anyio.to_thread.run_sync(
        lambda: storage.direct_upload(
            key, size=data.size, md5_b64=md5_b64, sha256_b64=base64.b64encode(bytes.fromhex(sha256)).decode(), expires_in=UPLOAD_URL_SECONDS
        )
    )
    now = datetime.now(UTC)
    claims = {
        "aud": TICKET_AUDIENCE,
        "iat": now,
        "exp": now + timedelta(seconds=UPLOAD_TICKET_SECONDS),
        "tid": str(context.tenant_id),
        "sub": str(context.user_id or ""),
        "mid": str(context.membership_id or ""),
        "did": str(target.document_id),
        "vid": str(version_id),
        "new": target.new,
        "att": target.attached_type,
        "aid": str(target.attached_id),
        "cat": target.category,
        "ttl": target.title,
        "name": name.original,
        "ctype": data.content_type,
        "size": data.size,
        "sha256": sha256,
        "md5": md5_b64,
    }
    ticket = jwt.encode(claims, get_settings().secret_key, algorithm="HS256")
    return DirectUploadOut(
        ticket=ticket,
        url=upload.url,
        method=upload.method,
        headers=upload.headers,
        expires_in=upload.expires_in,
        document_id=target.document_id,
        version_id=version_id,
    )


def _read_ticket(ticket: str, context: TenantContext) -> dict[str, Any]:
    try:
        claims: dict[str, Any] = jwt.decode(
            ticket,
            get_settings().secret_key,
            algorithms=["HS256"],
            audience=TICKET_AUDIENCE,
            options={"require": ["exp", "aud", "tid", "vid"]},
        )
    except jwt.PyJWTError:
        raise UploadNotFound() from None
    # Another tenant's or another person's ticket is as unknown as none.
    if claims.get("tid") != str(context.tenant_id) or claims.get("sub") != str(context.user_id or ""):
        raise UploadNotFound()
    return claims


async def confirm_direct_upload(storage: Storage, ticket: str) -> DocumentOut:
    """Verify the object the browser put into storage and only then create
    the version: size from storage, MD5 and SHA-256 as checked by storage
    (and, for objects up to 16 MiB, the SHA-256 re-computed here), type by
    content. A refused object is deleted. Confirming twice is harmless."""
    context = _require("documents.upload")
    if not isinstance(storage, S3Storage):
        raise DirectUploadUnavailable()
    claims = _read_ticket(ticket, context)
    version_id = UUID(claims["vid"])
    existing = await scoped(DocumentVersion).objects().where(DocumentVersion.id == version_id).first()
    if existing is not None:
        return await get_document(existing.document)
    if claims["new"]:
        target = await new_document_target(claims["att"], claims["aid"], claims["cat"], claims["ttl"])
        target = Target(
            UUID(claims["did"]),
            True,
            target.attached_type,
            target.attached_id,
            target.supplier_id,
            target.category,
            target.title,
            target.rules,
        )
    else:
        target = await version_target(claims["did"])
    key = object_key(context.tenant_id, target.document_id, version_id)
    started = time.perf_counter()
    info = await storage.stat(key)
    if info is None:
        raise UploadMissing()
    name = content.check_name(claims["name"])
    try:
        _check_integrity(info, size=int(claims["size"]), md5_b64=claims["md5"], sha256=claims["sha256"])
        inspection = await anyio.to_thread.run_sync(_inspect_stored, storage, key, info.size, claims, name, target.file_rules)
    except content.FileRefused:
        await _delete_quietly(storage, key)
        raise
    try:
        document = await _record_version(context, target, version_id, key, claims["sha256"], info.size, name, inspection)
    except Exception:
        await _delete_quietly(storage, key)
        raise
    observe_upload("direct", info.size, time.perf_counter() - started)
    return document


def _check_integrity(info: StoredObject, *, size: int, md5_b64: str, sha256: str) -> None:
    if info.size != size:
        raise UploadMismatch()
    md5_hex = base64.b64decode(md5_b64).hex()
    checked = False
    if info.etag and _HEX32.match(info.etag.lower()):
        # A single-part PUT's ETag is the MD5 of the body, computed by storage.
        if info.etag.lower() != md5_hex:
            raise UploadMismatch()
        checked = True
    if info.checksum_sha256:
        if info.checksum_sha256 != base64.b64encode(bytes.fromhex(sha256)).decode():
            raise UploadMismatch()
        checked = True
    if not checked:
        raise UploadMismatch()


def _inspect_stored(
    storage: Storage, key: str, size: int, claims: dict[str, Any], name: content.FileName, category: str
) -> content.Inspection:
    """What verification reads: everything for objects up to FULL_READ_LIMIT
    (one GET; the SHA-256 is recomputed); for larger ones only the ranges the
    checks touch (see content.inspect), through ranged GETs."""
    whole = size <= FULL_READ_LIMIT
    with storage.open(key, whole=whole) as stream:
        if whole:
            import hashlib

            digest = hashlib.sha256()
            while chunk := stream.read(1024 * 1024):
                digest.update(chunk)
            if digest.hexdigest() != claims["sha256"]:
                raise UploadMismatch()
        return content.inspect(stream, size, declared_type=claims["ctype"], name=name, category=category)


# -- withdrawal ------------------------------------------------------------------------


async def withdraw_document(document_id: UUID | str, reason: str) -> DocumentOut:
    """Mark a document withdrawn, with a reason, in the audit trail. Its
    versions stay stored and readable: evidence is never deleted."""
    context = _require("documents.withdraw")
    document = await scoped(Document).get(document_id)
    reason = " ".join((reason or "").split())
    if not REASON_MIN <= len(reason) <= REASON_MAX:
        raise InvalidDocument(fields={"reason": N_("Give a reason of 3 to 1000 characters.")})
    if document.withdrawn:
        raise AlreadyWithdrawn()
    now = datetime.now(UTC)
    changed = await (
        scoped(Document)
        .update(
            {
                Document.withdrawn: True,
                Document.withdrawn_at: now,
                Document.withdrawn_by: context.user_id,
                Document.withdrawn_reason: reason,
            }
        )
        .where((Document.id == document.id) & (Document.withdrawn == False))  # noqa: E712
        .returning(Document.id)
    )
    if not changed:
        raise Conflict()
    await record(
        "document.withdraw",
        entity_type="document",
        entity_id=document.id,
        before={"status": "active"},
        after={"status": "withdrawn", "reason": reason, "withdrawn_at": now},
    )
    return await get_document(document.id)
