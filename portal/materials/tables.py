"""Material sent to suppliers (dispatches and their lines), material coming
back or lost (returns and scrap reports), and per-tenant dispatch numbers."""

from __future__ import annotations

from typing import Any

from piccolo.columns import UUID, Boolean, ForeignKey, Integer, Text, Timestamptz, Varchar
from piccolo.columns.base import OnDelete
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table

from portal.decimals import ExactNumeric
from portal.items.tables import QUANTITY, Item
from portal.lengths import free_text
from portal.orders.tables import Order
from tenants.tables import Supplier, Tenant, User


class Dispatch(Table):
    """Material the buyer sends to one supplier, optionally against one of
    its orders. Numbered per tenant and year (MD-2026-00001)."""

    supplier_scope = "supplier"
    supplier_parents = ("order",)

    @classmethod
    def supplier_visible(cls) -> Any:
        """A draft is the buyer's own: the supplier sees the dispatch once sent."""
        return cls.status != "draft"

    id = UUID(primary_key=True)
    tenant = ForeignKey(Tenant, on_delete=OnDelete.restrict, null=False, index=True)
    number = Varchar(length=40)
    supplier = ForeignKey(Supplier, on_delete=OnDelete.restrict, null=False, index=True)
    order = ForeignKey(Order, on_delete=OnDelete.restrict, null=True, default=None)
    status = Varchar(length=30, default="draft")
    note = free_text(Text(default=""))
    created_by = ForeignKey(User, on_delete=OnDelete.restrict, null=True, default=None)
    created_at = Timestamptz(default=TimestamptzNow())
    sent_at = Timestamptz(null=True, default=None)
    sent_by = ForeignKey(User, on_delete=OnDelete.restrict, null=True, default=None)
    received_at = Timestamptz(null=True, default=None)
    received_by = ForeignKey(User, on_delete=OnDelete.restrict, null=True, default=None)


class DispatchLine(Table):
    """One material and lot on a dispatch. The supplier is copied from the
    dispatch so that row-level security limits lines to their supplier in
    the database as well, not only through the scoping layer."""

    supplier_scope = "supplier"
    supplier_parents = ("dispatch",)

    id = UUID(primary_key=True)
    tenant = ForeignKey(Tenant, on_delete=OnDelete.restrict, null=False, index=True)
    dispatch = ForeignKey(Dispatch, on_delete=OnDelete.restrict, null=False, index=True)
    supplier = ForeignKey(Supplier, on_delete=OnDelete.restrict, null=False)
    line_no = Integer()
    item = ForeignKey(Item, on_delete=OnDelete.restrict, null=False)
    lot = Varchar(length=80, default="")
    quantity = ExactNumeric(digits=QUANTITY)
    # Null until the supplier confirms the receipt.
    received_quantity = ExactNumeric(digits=QUANTITY, null=True, default=None)
    discrepancy_reason = free_text(Text(default=""))
    # Received quantity outside the tenant's dispatch tolerance.
    flagged = Boolean(default=False)


class MaterialMovement(Table):
    """Material leaving the supplier other than as accepted output: returned
    to the buyer (kind "return") or scrapped (kind "scrap"). Reported by the
    supplier; never edited or deleted."""

    supplier_scope = "supplier"
    supplier_parents = ("dispatch",)

    id = UUID(primary_key=True)
    tenant = ForeignKey(Tenant, on_delete=OnDelete.restrict, null=False, index=True)
    supplier = ForeignKey(Supplier, on_delete=OnDelete.restrict, null=False, index=True)
    kind = Varchar(length=20)
    item = ForeignKey(Item, on_delete=OnDelete.restrict, null=False)
    lot = Varchar(length=80, default="")
    quantity = ExactNumeric(digits=QUANTITY)
    reason = free_text(Text(default=""))
    # The dispatch the material came with, when the supplier names it.
    dispatch = ForeignKey(Dispatch, on_delete=OnDelete.restrict, null=True, default=None)
    reported_by = ForeignKey(User, on_delete=OnDelete.restrict, null=True, default=None)
    reported_at = Timestamptz(default=TimestamptzNow())


class DispatchCounter(Table):
    """The last dispatch number used per tenant and year."""

    tenant = ForeignKey(Tenant, on_delete=OnDelete.restrict, null=False)
    year = Integer()
    last = Integer(default=0)


TABLES = (Dispatch, DispatchLine, MaterialMovement, DispatchCounter)
