"""QC requirements per order and QA's decisions on document versions."""

from __future__ import annotations

from decimal import Decimal
from typing import Any
from uuid import UUID as UUIDValue

from piccolo.columns import JSON, UUID, Boolean, ForeignKey, Integer, Text, Timestamptz, Varchar
from piccolo.columns.base import OnDelete
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table

from portal.decimals import ExactNumeric
from portal.deliveries.tables import Delivery, DeliveryLine
from portal.documents.tables import Document
from portal.items.tables import QUANTITY, Item
from portal.lengths import free_text
from portal.materials.tables import DispatchLine
from portal.orders.tables import MONEY, Order, OrderLine
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
    note = free_text(Text(default=""))
    # How many approved documents of the category satisfy it, and when in
    # the work the supplier sends them (portal/quality/templates.py STAGES).
    needed = Integer(default=1)
    stage = Varchar(length=20, default="before_delivery")
    created_by = ForeignKey(User, on_delete=OnDelete.restrict, null=True, default=None)
    created_at = Timestamptz(default=TimestamptzNow())
    waived_at = Timestamptz(null=True, default=None)
    waived_by = ForeignKey(User, on_delete=OnDelete.restrict, null=True, default=None)
    waived_reason = free_text(Text(default=""))


class DocumentReview(Table):
    """QA's decision on one version of a document, one per version (the
    service refuses a second). Append-only: the decision on a document's
    current version is its review state (the latest, for rows stored
    before a second was refused); a new version has none until QA looks at
    it (pending)."""

    supplier_scope = "supplier"
    supplier_parents = ("document",)

    id = UUID(primary_key=True)
    tenant = ForeignKey(Tenant, on_delete=OnDelete.restrict, null=False, index=True)
    # The document's supplier (none for the buyer's own documents).
    supplier = ForeignKey(Supplier, on_delete=OnDelete.restrict, null=True, default=None)
    document = ForeignKey(Document, on_delete=OnDelete.restrict, null=False, index=True)
    version = Integer()
    decision = Varchar(length=10)
    reason = free_text(Text(default=""))
    reviewed_by = ForeignKey(User, on_delete=OnDelete.restrict, null=True, default=None)
    reviewed_at = Timestamptz(default=TimestamptzNow())

    @classmethod
    def supplier_share(cls, supplier_id: UUIDValue) -> Any | None:
        """QA's decisions on the documents a supplier reads though they are
        not its own (the old supplier's QC documents a handover handed on):
        the QC history goes with the document. ``supplier_parents`` keeps it
        to documents the supplier reads."""
        condition = Document.supplier_share(supplier_id)
        if condition is None:
            return None
        return cls.document.is_in(Document.select(Document.id).where(condition))


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
    note = free_text(Text(default=""))


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
    reason = free_text(Text())
    # [{"category", "state"}] of the requirements that were not satisfied.
    open_requirements = JSON(default=[])
    created_by = ForeignKey(User, on_delete=OnDelete.restrict, null=True, default=None)
    created_at = Timestamptz(default=TimestamptzNow())


class Ncr(Table):
    """A nonconformance: goods or work that failed the buyer's requirements,
    run step by step to closure (portal/quality/ncr_states.py). A draft is
    QA's own; once issued the supplier sees it and answers its steps."""

    supplier_scope = "supplier"
    supplier_parents = ("order",)

    id = UUID(primary_key=True)
    tenant = ForeignKey(Tenant, on_delete=OnDelete.restrict, null=False, index=True)
    number = Varchar(length=40)
    supplier = ForeignKey(Supplier, on_delete=OnDelete.restrict, null=False, index=True)
    # What it was opened from: a rejected delivery line, a rejected QC
    # document, or nothing (QA opened it directly, maybe naming a line).
    source = Varchar(length=20, default="direct")
    order = ForeignKey(Order, on_delete=OnDelete.restrict, null=True, default=None, index=True)
    order_line = ForeignKey(OrderLine, on_delete=OnDelete.restrict, null=True, default=None)
    delivery_line = ForeignKey(DeliveryLine, on_delete=OnDelete.restrict, null=True, default=None)
    document = ForeignKey(Document, on_delete=OnDelete.restrict, null=True, default=None)
    severity = Varchar(length=10, default="minor")
    title = Varchar(length=200, default="")
    description = free_text(Text(default=""))
    # The affected lots, as the delivery or the dispatch named them.
    lots = JSON(default=[])
    quantity = ExactNumeric(digits=QUANTITY, null=True, default=None)
    owner = ForeignKey(User, on_delete=OnDelete.restrict, null=True, default=None)
    status = Varchar(length=20, default="draft")
    step_state = Varchar(length=10, null=True, default=None)
    # Optimistic concurrency: every transition moves it; a decision made on
    # an older version is refused (two QA deciding the same step at once).
    version = Integer(default=1)
    created_by = ForeignKey(User, on_delete=OnDelete.restrict, null=True, default=None)
    created_at = Timestamptz(default=TimestamptzNow())
    updated_at = Timestamptz(default=TimestamptzNow())
    issued_at = Timestamptz(null=True, default=None)
    verified_at = Timestamptz(null=True, default=None)
    closed_at = Timestamptz(null=True, default=None)
    cancelled_at = Timestamptz(null=True, default=None)
    cancel_reason = free_text(Text(default=""))

    @classmethod
    def supplier_visible(cls) -> Any:
        """Once issued; a draft QA cancelled before issuing it stays QA's."""
        return (cls.status != "draft") & ((cls.status != "cancelled") | cls.issued_at.is_not_null())


class NcrStep(Table):
    """One step of an issued NCR with its due date. The NCR's status says
    which step is current; a step's times say when it started, was answered
    last and was accepted, and whether its reminder and escalation went out."""

    supplier_scope = "supplier"
    supplier_parents = ("ncr",)

    id = UUID(primary_key=True)
    tenant = ForeignKey(Tenant, on_delete=OnDelete.restrict, null=False, index=True)
    supplier = ForeignKey(Supplier, on_delete=OnDelete.restrict, null=False)
    ncr = ForeignKey(Ncr, on_delete=OnDelete.restrict, null=False, index=True)
    step = Varchar(length=20)
    position = Integer()
    due_at = Timestamptz()
    started_at = Timestamptz(null=True, default=None)
    answered_at = Timestamptz(null=True, default=None)
    accepted_at = Timestamptz(null=True, default=None)
    reminded_at = Timestamptz(null=True, default=None)
    escalated_at = Timestamptz(null=True, default=None)


class NcrEntry(Table):
    """What was said on an NCR's step, append-only: the supplier's answers
    (with the evidence documents it named) and QA's decisions with their
    comments. A returned answer stays; the next one is added after it."""

    supplier_scope = "supplier"
    supplier_parents = ("ncr",)

    id = UUID(primary_key=True)
    tenant = ForeignKey(Tenant, on_delete=OnDelete.restrict, null=False, index=True)
    supplier = ForeignKey(Supplier, on_delete=OnDelete.restrict, null=False)
    ncr = ForeignKey(Ncr, on_delete=OnDelete.restrict, null=False, index=True)
    step = ForeignKey(NcrStep, on_delete=OnDelete.restrict, null=True, default=None)
    kind = Varchar(length=10)
    text = free_text(Text(default=""))
    documents = JSON(default=[])
    # Made by the phone when the answer was written (maybe offline): a
    # retry of the same answer is stored once.
    client_id = UUID(null=True, default=None)
    created_by = ForeignKey(User, on_delete=OnDelete.restrict, null=True, default=None)
    created_at = Timestamptz(default=TimestamptzNow())


class NcrDisposition(Table):
    """What becomes of the nonconforming goods: reworked, returned, scrapped
    or used as is under a concession; a chargeable one is deducted from the
    supplier's statement (``amount``)."""

    supplier_scope = "supplier"
    supplier_parents = ("ncr",)

    id = UUID(primary_key=True)
    tenant = ForeignKey(Tenant, on_delete=OnDelete.restrict, null=False, index=True)
    supplier = ForeignKey(Supplier, on_delete=OnDelete.restrict, null=False, index=True)
    ncr = ForeignKey(Ncr, on_delete=OnDelete.restrict, null=False, index=True)
    kind = Varchar(length=20)
    quantity = ExactNumeric(digits=QUANTITY)
    chargeable = Boolean(default=False)
    amount = ExactNumeric(digits=MONEY, default=Decimal(0))
    note = free_text(Text(default=""))
    created_by = ForeignKey(User, on_delete=OnDelete.restrict, null=True, default=None)
    created_at = Timestamptz(default=TimestamptzNow())


class DeliveryMaterialLot(Table):
    """A material lot a delivery's goods were made from, as its supplier
    recorded it (portal/quality/lot_use.py): a line of a dispatch sent to
    it. The lot trace follows these; a delivery with none falls back on
    its order."""

    supplier_scope = "supplier"
    supplier_parents = ("delivery",)

    id = UUID(primary_key=True)
    tenant = ForeignKey(Tenant, on_delete=OnDelete.restrict, null=False, index=True)
    supplier = ForeignKey(Supplier, on_delete=OnDelete.restrict, null=False)
    delivery = ForeignKey(Delivery, on_delete=OnDelete.restrict, null=False, index=True)
    dispatch_line = ForeignKey(DispatchLine, on_delete=OnDelete.restrict, null=False)
    item = ForeignKey(Item, on_delete=OnDelete.restrict, null=False)
    # The dispatch line's lot, kept here so that a trace finds it by name.
    lot = Varchar(length=80)
    position = Integer(default=0)
    created_by = ForeignKey(User, on_delete=OnDelete.restrict, null=True, default=None)
    created_at = Timestamptz(default=TimestamptzNow())


class NcrCounter(Table):
    """The last NCR number used per tenant and year."""

    tenant = ForeignKey(Tenant, on_delete=OnDelete.restrict, null=False)
    year = Integer()
    last = Integer(default=0)


class NcrStepDays(Table):
    """The tenant's own days from issue to each step's due date; a step
    without a row uses the default (portal/quality/ncr_states.py)."""

    id = UUID(primary_key=True)
    tenant = ForeignKey(Tenant, on_delete=OnDelete.restrict, null=False, index=True)
    step = Varchar(length=20)
    days = Integer()


TABLES = (
    QcRequirement,
    DocumentReview,
    QcTemplate,
    RejectReason,
    QcGateOverride,
    Ncr,
    NcrStep,
    NcrEntry,
    NcrDisposition,
    NcrCounter,
    NcrStepDays,
    DeliveryMaterialLot,
)
