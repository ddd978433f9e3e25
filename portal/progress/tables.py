"""Production stages per tenant, progress reports and their photos."""

from __future__ import annotations

from decimal import Decimal

from piccolo.columns import UUID, Boolean, ForeignKey, Integer, Text, Timestamptz, Varchar
from piccolo.columns.base import OnDelete
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table

from portal.decimals import ExactNumeric
from portal.documents.tables import Document
from portal.items.tables import QUANTITY
from portal.lengths import free_text
from portal.orders.tables import Order, OrderLine
from tenants.scoping import SHARED_WITH_SUPPLIERS
from tenants.tables import Supplier, Tenant, User


class ProgressStage(Table):
    """A stage work passes through, in the buyer's words. A tenant that has
    configured none uses the built-in list (portal/progress/stages.py)."""

    supplier_scope = SHARED_WITH_SUPPLIERS

    id = UUID(primary_key=True)
    tenant = ForeignKey(Tenant, on_delete=OnDelete.restrict, null=False, index=True)
    code = Varchar(length=40)
    label = Varchar(length=100)
    position = Integer()
    # Stages are retired, never deleted: old reports still name them.
    active = Boolean(default=True)


class ProgressReport(Table):
    """Where one order line stands: the stage reached, how many pieces are
    good at it, how many were scrapped on the way. Made on the phone, maybe
    offline; ``client_id`` (generated there) makes every retry the same
    report."""

    supplier_scope = "supplier"
    supplier_parents = ("order",)

    id = UUID(primary_key=True)
    tenant = ForeignKey(Tenant, on_delete=OnDelete.restrict, null=False, index=True)
    supplier = ForeignKey(Supplier, on_delete=OnDelete.restrict, null=False, index=True)
    order = ForeignKey(Order, on_delete=OnDelete.restrict, null=False, index=True)
    order_line = ForeignKey(OrderLine, on_delete=OnDelete.restrict, null=False, index=True)
    client_id = UUID()
    stage = Varchar(length=40)
    # The stage's name when reported: renaming a stage does not rewrite history.
    stage_label = Varchar(length=100)
    good_quantity = ExactNumeric(digits=QUANTITY)
    scrap_quantity = ExactNumeric(digits=QUANTITY, default=Decimal(0))
    scrap_reason = free_text(Text(default=""))
    note = free_text(Text(default=""))
    photos_expected = Integer(default=0)
    photos_received = Integer(default=0)
    reported_by = ForeignKey(User, on_delete=OnDelete.restrict, null=True, default=None)
    # When the person made it (the phone's clock, bounded by the server's),
    # and when it reached the server: hours apart after a day offline.
    made_at = Timestamptz(default=TimestamptzNow())
    received_at = Timestamptz(default=TimestamptzNow())


class ProgressPhoto(Table):
    """A photo of a report: a document (stored, checked and versioned by the
    documents domain) with the time the camera took it."""

    supplier_scope = "supplier"
    supplier_parents = ("report",)

    id = UUID(primary_key=True)
    tenant = ForeignKey(Tenant, on_delete=OnDelete.restrict, null=False, index=True)
    supplier = ForeignKey(Supplier, on_delete=OnDelete.restrict, null=False)
    report = ForeignKey(ProgressReport, on_delete=OnDelete.restrict, null=False, index=True)
    document = ForeignKey(Document, on_delete=OnDelete.restrict, null=False)
    # The same bytes sent again (a retry) are the same photo.
    sha256 = Varchar(length=64)
    position = Integer()
    captured_at = Timestamptz(null=True, default=None)


TABLES = (ProgressStage, ProgressReport, ProgressPhoto)
