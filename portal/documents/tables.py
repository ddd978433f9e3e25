"""Documents and their versions.

A ``Document`` is the logical document (what it is attached to, who it is
shared with, its category and title); each upload of its content is an
immutable ``DocumentVersion``. Nothing here is updated in place except the
document's current version number, its withdrawal and a version's preview
keys; nothing is deleted by users.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID as UUIDValue

from piccolo.columns import UUID, BigInt, Boolean, ForeignKey, Integer, Text, Timestamptz, Varchar
from piccolo.columns.base import OnDelete, OnUpdate
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table

from portal.documents.attachments import attachment_tables, shared_condition, view_actions
from portal.lengths import free_text
from tenants.tables import Supplier, Tenant, User

HASH_LENGTH = 64


class Document(Table):
    # Supplier users see the documents shared with their supplier; a
    # document with no supplier is buyer-internal.
    supplier_scope = "supplier"
    # ... and only while they read the record it is attached to.
    supplier_record = ("attached_type", "attached_id")

    id = UUID(primary_key=True)
    # RESTRICT: evidence outlives any attempt to delete what it belongs to.
    tenant = ForeignKey(Tenant, null=False, on_delete=OnDelete.restrict, on_update=OnUpdate.restrict)
    supplier = ForeignKey(Supplier, null=True, default=None, on_delete=OnDelete.restrict, on_update=OnUpdate.restrict)
    attached_type = Varchar(length=30)
    attached_id = UUID()
    category = Varchar(length=30)
    title = Varchar(length=200)
    current_version = Integer(default=0)
    created_by = ForeignKey(User, null=True, default=None, on_delete=OnDelete.restrict, on_update=OnUpdate.restrict)
    created_at = Timestamptz(default=TimestamptzNow())
    withdrawn = Boolean(default=False)
    withdrawn_at = Timestamptz(null=True, default=None)
    withdrawn_by = ForeignKey(User, null=True, default=None, on_delete=OnDelete.restrict, on_update=OnUpdate.restrict)
    withdrawn_reason = free_text(Text(default=""))

    @classmethod
    def supplier_share(cls, supplier_id: UUIDValue) -> Any | None:
        """What a supplier reads beyond its own documents (the scoping layer
        widens reads, never writes, with it)."""
        return shared_condition(cls.attached_type, cls.attached_id, supplier_id)

    @classmethod
    def record_tables(cls) -> dict[str, Any]:
        return attachment_tables()

    @classmethod
    def record_actions(cls) -> dict[str, str]:
        return view_actions()


class DocumentVersion(Table):
    # The version carries its document's supplier, so that scoping and the
    # row-level security policy need no join to keep supplier users out.
    supplier_scope = "supplier"
    supplier_parents = ("document",)

    id = UUID(primary_key=True)
    tenant = ForeignKey(Tenant, null=False, on_delete=OnDelete.restrict, on_update=OnUpdate.restrict)
    document = ForeignKey(Document, null=False, on_delete=OnDelete.restrict, on_update=OnUpdate.restrict)
    supplier = ForeignKey(Supplier, null=True, default=None, on_delete=OnDelete.restrict, on_update=OnUpdate.restrict)
    version = Integer()
    sha256 = Varchar(length=HASH_LENGTH)
    size = BigInt()
    kind = Varchar(length=10)
    content_type = Varchar(length=100)
    original_name = Varchar(length=255)
    safe_name = Varchar(length=255)
    storage_key = Varchar(length=300, unique=True)
    uploaded_by = ForeignKey(User, null=True, default=None, on_delete=OnDelete.restrict, on_update=OnUpdate.restrict)
    uploaded_at = Timestamptz(default=TimestamptzNow())
    width = Integer(null=True, default=None)
    height = Integer(null=True, default=None)
    # pending -> ready | failed for previewable kinds; none for the others.
    preview_status = Varchar(length=10, default="none")
    thumbnail_key = Varchar(length=320, null=True, default=None)
    preview_key = Varchar(length=320, null=True, default=None)

    @classmethod
    def supplier_share(cls, supplier_id: UUIDValue) -> Any | None:
        condition = Document.supplier_share(supplier_id)
        if condition is None:
            return None
        return cls.document.is_in(Document.select(Document.id).where(condition))


TABLES = (Document, DocumentVersion)
