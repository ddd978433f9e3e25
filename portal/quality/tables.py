"""QC requirements per order and QA's decisions on document versions."""

from __future__ import annotations

from piccolo.columns import JSON, UUID, Boolean, ForeignKey, Integer, Text, Timestamptz, Varchar
from piccolo.columns.base import OnDelete
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table

from portal.deliveries.tables import Delivery
from portal.documents.tables import Document
from portal.items.tables import Item
from portal.orders.tables import Order
from tenants.scoping import SHARED_WITH_SUPPLIERS
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
    # How many approved documents of the category satisfy it, and when in
    # the work the supplier sends them (portal/quality/templates.py STAGES).
    needed = Integer(default=1)
    stage = Varchar(length=20, default="before_delivery")
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


class QcTemplate(Table):
    """What an item's orders require by default: issuing an order adds a
    requirement per category from the templates of its items. Buyer master
    data: suppliers see the requirements on their orders, not these."""

    id = UUID(primary_key=True)
    tenant = ForeignKey(Tenant, on_delete=OnDelete.restrict, null=False, index=True)
    item = ForeignKey(Item, on_delete=OnDelete.restrict, null=False, index=True)
    position = Integer(default=0)
    category = Varchar(length=30)
    needed = Integer(default=1)
    stage = Varchar(length=20, default="before_delivery")
    note = Text(default="")


class RejectReason(Table):
    """Why goods are rejected on receipt, in the buyer's words. A tenant that
    has configured none uses the built-in list (portal/quality/reasons.py).
    Suppliers read the list: their rejected lines name its entries."""

    supplier_scope = SHARED_WITH_SUPPLIERS

    id = UUID(primary_key=True)
    tenant = ForeignKey(Tenant, on_delete=OnDelete.restrict, null=False, index=True)
    code = Varchar(length=40)
    label = Varchar(length=100)
    position = Integer()
    # Retired, never deleted: received lines still name them.
    active = Boolean(default=True)


class QcGateOverride(Table):
    """QA accepted goods while QC documents of the order were still owed:
    who, why, and which requirements were open at that moment. The buyer's
    own record: the supplier sees the receipt, not this."""

    id = UUID(primary_key=True)
    tenant = ForeignKey(Tenant, on_delete=OnDelete.restrict, null=False, index=True)
    supplier = ForeignKey(Supplier, on_delete=OnDelete.restrict, null=False)
    delivery = ForeignKey(Delivery, on_delete=OnDelete.restrict, null=False, index=True)
    order = ForeignKey(Order, on_delete=OnDelete.restrict, null=False)
    reason = Text()
    # [{"category", "state"}] of the requirements that were not satisfied.
    open_requirements = JSON(default=[])
    created_by = ForeignKey(User, on_delete=OnDelete.restrict, null=True, default=None)
    created_at = Timestamptz(default=TimestamptzNow())


TABLES = (QcRequirement, DocumentReview, QcTemplate, RejectReason, QcGateOverride)
