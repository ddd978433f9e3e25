"""QC requirements per order and QA's decisions on document versions."""

from __future__ import annotations

from piccolo.columns import UUID, ForeignKey, Integer, Text, Timestamptz, Varchar
from piccolo.columns.base import OnDelete
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table

from portal.documents.tables import Document
from portal.orders.tables import Order
from tenants.tables import Supplier, Tenant, User


class QcRequirement(Table):
    """A kind of document (a category: material certificate, inspection
    report, ...) the buyer needs on an order before its deliveries are
    accepted. Together they are the order's QC checklist. Waived, never
    deleted: the checklist keeps its history."""

    supplier_scope = "supplier"
    supplier_parents = ("order",)

    id = UUID(primary_key=True)
    tenant = ForeignKey(Tenant, on_delete=OnDelete.restrict, null=False, index=True)
    # The order's supplier, so that scoping and row-level security need no join.
    supplier = ForeignKey(Supplier, on_delete=OnDelete.restrict, null=False, index=True)
    order = ForeignKey(Order, on_delete=OnDelete.restrict, null=False, index=True)
    category = Varchar(length=30)
    note = Text(default="")
    created_by = ForeignKey(User, on_delete=OnDelete.restrict, null=True, default=None)
    created_at = Timestamptz(default=TimestamptzNow())
    waived_at = Timestamptz(null=True, default=None)
    waived_by = ForeignKey(User, on_delete=OnDelete.restrict, null=True, default=None)
    waived_reason = Text(default="")


class DocumentReview(Table):
    """One QA decision on one version of a document. Append-only: the latest
    decision on a document's current version is its review state; a new
    version has none until QA looks at it (pending)."""

    supplier_scope = "supplier"
    supplier_parents = ("document",)

    id = UUID(primary_key=True)
    tenant = ForeignKey(Tenant, on_delete=OnDelete.restrict, null=False, index=True)
    # The document's supplier (none for the buyer's own documents).
    supplier = ForeignKey(Supplier, on_delete=OnDelete.restrict, null=True, default=None)
    document = ForeignKey(Document, on_delete=OnDelete.restrict, null=False, index=True)
    version = Integer()
    decision = Varchar(length=10)
    reason = Text(default="")
    reviewed_by = ForeignKey(User, on_delete=OnDelete.restrict, null=True, default=None)
    reviewed_at = Timestamptz(default=TimestamptzNow())


TABLES = (QcRequirement, DocumentReview)
