"""Outsourced orders, their lines, revisions and per-tenant numbering."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from piccolo.columns import JSON, UUID, Boolean, Date, ForeignKey, Integer, Serial, Text, Timestamptz, Varchar
from piccolo.columns.base import OnDelete
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table

from portal.decimals import ExactNumeric
from portal.items.tables import QUANTITY, Item
from portal.lengths import free_text
from portal.orders.counting import CANCELLED_DRAFT
from tenants.tables import Supplier, Tenant, User

MONEY = (18, 4)


def shared_with_supplier(status: Any, issued_at: Any) -> Any:
    """An order (by its status and issue columns, its own or joined) is
    shared with its supplier once issued: not a draft, and not a draft
    cancelled before it was ever issued (cancelling shares nothing)."""
    return (status != "draft") & ((status != "cancelled") | issued_at.is_not_null())


class Order(Table, tablename="outsourced_order"):
    supplier_scope = "supplier"

    @classmethod
    def supplier_visible(cls) -> Any:
        """A draft is the buyer's own: the supplier sees the order once
        issued. A draft cancelled before it was ever issued stays the
        buyer's: cancelling shares nothing."""
        return shared_with_supplier(cls.status, cls.issued_at)

    id = UUID(primary_key=True)
    tenant = ForeignKey(Tenant, on_delete=OnDelete.restrict, null=False, index=True)
    number = Varchar(length=40)
    supplier = ForeignKey(Supplier, on_delete=OnDelete.restrict, null=False, index=True)
    status = Varchar(length=30, default="draft")
    currency = Varchar(length=3, default="CNY")
    notes_shared = free_text(Text(default=""))
    notes_internal = free_text(Text(default=""))
    # Earliest due date of the open lines: the board filters and sorts on it.
    due_date = Date(null=True, default=None)
    revision = Integer(default=0)
    # Bumped by every change: a save based on an older version is refused.
    version = Integer(default=1)
    status_reason = free_text(Text(default=""))
    created_by = ForeignKey(User, on_delete=OnDelete.restrict, null=True, default=None)
    created_at = Timestamptz(default=TimestamptzNow())
    updated_at = Timestamptz(default=TimestamptzNow())
    issued_at = Timestamptz(null=True, default=None)
    accepted_at = Timestamptz(null=True, default=None)


class OrderStatusCount(Table):
    """How many of the tenant's orders each supplier has in each status.
    Written only by the database's triggers (portal.orders.counting), in
    the transaction of each change, so it is exact; the app only reads it."""

    supplier_scope = "supplier"

    @classmethod
    def supplier_visible(cls) -> Any:
        # Drafts, and drafts cancelled before they were ever issued
        # (counted apart: portal.orders.counting), are the buyer's own.
        return cls.status.not_in(["draft", CANCELLED_DRAFT])

    id = Serial(primary_key=True)
    tenant = ForeignKey(Tenant, on_delete=OnDelete.restrict, null=False)
    supplier = ForeignKey(Supplier, on_delete=OnDelete.restrict, null=False)
    status = Varchar(length=30)
    orders = Integer(default=0)


class OrderLine(Table):
    supplier_scope = "order.supplier"
    supplier_parents = ("order",)

    id = UUID(primary_key=True)
    tenant = ForeignKey(Tenant, on_delete=OnDelete.restrict, null=False, index=True)
    order = ForeignKey(Order, on_delete=OnDelete.restrict, null=False, index=True)
    line_no = Integer()
    item = ForeignKey(Item, on_delete=OnDelete.restrict, null=False)
    operation = Varchar(length=200, default="")
    quantity = ExactNumeric(digits=QUANTITY)
    unit_price = ExactNumeric(digits=MONEY)
    due_date = Date()
    # Accepted by the buyer on receipt; the deliveries domain keeps it current.
    delivered_quantity = ExactNumeric(digits=QUANTITY, default=Decimal(0))
    # Lines dropped by a revision stay, marked: nothing is deleted.
    removed = Boolean(default=False)
    # The supplier's answer to this line (portal.orders.states.LineAnswer);
    # a line declined while others are accepted is also ``removed``: out of
    # the work, until the buyer revives it in a revision.
    answer = Varchar(length=10, default="")
    answer_reason = free_text(Text(default=""))


class OrderRevision(Table):
    """A change to an issued order: what changed, why, and when the supplier
    acknowledged it (null until then)."""

    supplier_scope = "order.supplier"
    supplier_parents = ("order",)

    id = UUID(primary_key=True)
    tenant = ForeignKey(Tenant, on_delete=OnDelete.restrict, null=False, index=True)
    order = ForeignKey(Order, on_delete=OnDelete.restrict, null=False, index=True)
    number = Integer()
    reason = free_text(Text())
    diff = JSON()
    created_by = ForeignKey(User, on_delete=OnDelete.restrict, null=True, default=None)
    created_at = Timestamptz(default=TimestamptzNow())
    acknowledged_at = Timestamptz(null=True, default=None)
    acknowledged_by = ForeignKey(User, on_delete=OnDelete.restrict, null=True, default=None)


class OrderCounter(Table):
    """The last order number used per tenant and year."""

    tenant = ForeignKey(Tenant, on_delete=OnDelete.restrict, null=False)
    year = Integer()
    last = Integer(default=0)


TABLES = (Order, OrderLine, OrderRevision, OrderCounter, OrderStatusCount)
