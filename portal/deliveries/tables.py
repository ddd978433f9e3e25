"""Shipping notices (deliveries), their lines and per-tenant numbering."""

from __future__ import annotations

from piccolo.columns import UUID, ForeignKey, Integer, Text, Timestamptz, Varchar
from piccolo.columns.base import OnDelete
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table

from portal.decimals import ExactNumeric
from portal.items.tables import QUANTITY
from portal.lengths import free_text
from portal.orders.tables import Order, OrderLine
from tenants.tables import Supplier, Tenant, User


class Delivery(Table):
    """What a supplier ships against one order: a draft until shipped, then
    in transit until the buyer records the receipt (or the supplier cancels)."""

    supplier_scope = "supplier"
    supplier_parents = ("order",)

    id = UUID(primary_key=True)
    tenant = ForeignKey(Tenant, on_delete=OnDelete.restrict, null=False, index=True)
    number = Varchar(length=40)
    supplier = ForeignKey(Supplier, on_delete=OnDelete.restrict, null=False, index=True)
    order = ForeignKey(Order, on_delete=OnDelete.restrict, null=False, index=True)
    status = Varchar(length=20, default="draft")
    # Shared with the buyer: carrier, vehicle, anything the receiver needs.
    note = free_text(Text(default=""))
    # Why it was cancelled; the buyer's remark on receipt.
    status_reason = free_text(Text(default=""))
    receipt_note = free_text(Text(default=""))
    created_by = ForeignKey(User, on_delete=OnDelete.restrict, null=True, default=None)
    created_at = Timestamptz(default=TimestamptzNow())
    updated_at = Timestamptz(default=TimestamptzNow())
    shipped_at = Timestamptz(null=True, default=None)
    shipped_by = ForeignKey(User, on_delete=OnDelete.restrict, null=True, default=None)
    received_at = Timestamptz(null=True, default=None)
    received_by = ForeignKey(User, on_delete=OnDelete.restrict, null=True, default=None)
    cancelled_at = Timestamptz(null=True, default=None)


class DeliveryLine(Table):
    """One lot of one order line. Accepted and rejected stay null until the
    buyer records the receipt; then they add up to ``quantity``."""

    supplier_scope = "delivery.supplier"
    supplier_parents = ("delivery",)

    id = UUID(primary_key=True)
    tenant = ForeignKey(Tenant, on_delete=OnDelete.restrict, null=False, index=True)
    delivery = ForeignKey(Delivery, on_delete=OnDelete.restrict, null=False, index=True)
    line_no = Integer()
    order_line = ForeignKey(OrderLine, on_delete=OnDelete.restrict, null=False, index=True)
    lot = Varchar(length=60, default="")
    quantity = ExactNumeric(digits=QUANTITY)
    accepted_quantity = ExactNumeric(digits=QUANTITY, null=True, default=None)
    rejected_quantity = ExactNumeric(digits=QUANTITY, null=True, default=None)
    reject_reason = free_text(Text(default=""))
    # An entry of the tenant's reject reasons (portal/quality/reasons.py);
    # ``reject_reason`` says the details.
    reject_code = Varchar(length=40, default="")


class DeliveryCounter(Table):
    """The last delivery number used per tenant and year."""

    tenant = ForeignKey(Tenant, on_delete=OnDelete.restrict, null=False)
    year = Integer()
    last = Integer(default=0)


TABLES = (Delivery, DeliveryLine, DeliveryCounter)
