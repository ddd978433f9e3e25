"""A tenant's own settings beside the built-in defaults: the document
categories it uses and the dispatch tolerance of single items. The
tenant-wide tolerances live on the tenant row itself."""

from __future__ import annotations

from piccolo.columns import UUID, Boolean, ForeignKey, Integer, Timestamptz, Varchar
from piccolo.columns.base import OnDelete
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table

from portal.decimals import ExactNumeric
from portal.items.tables import Item
from tenants.scoping import SHARED_WITH_SUPPLIERS
from tenants.tables import Tenant, User


class DocumentCategory(Table):
    """A category the tenant changed (label, switched off) or added. A
    category takes the file types and size limit of one built-in category
    (``base``), so that every file still passes the same content checks.
    Suppliers upload into these categories, so they read them."""

    supplier_scope = SHARED_WITH_SUPPLIERS

    id = UUID(primary_key=True)
    tenant = ForeignKey(Tenant, on_delete=OnDelete.restrict, null=False, index=True)
    key = Varchar(length=40)
    label = Varchar(length=100, default="")
    base = Varchar(length=40)
    active = Boolean(default=True)
    position = Integer(default=0)
    updated_by = ForeignKey(User, on_delete=OnDelete.restrict, null=True, default=None)
    updated_at = Timestamptz(default=TimestamptzNow())


class ItemTolerance(Table):
    """How far a received quantity of one material may differ from the
    dispatched one before it is a discrepancy, overriding the tenant's
    dispatch tolerance. Read while a supplier confirms a receipt."""

    supplier_scope = SHARED_WITH_SUPPLIERS

    id = UUID(primary_key=True)
    tenant = ForeignKey(Tenant, on_delete=OnDelete.restrict, null=False, index=True)
    item = ForeignKey(Item, on_delete=OnDelete.restrict, null=False, index=True)
    dispatch_tolerance = ExactNumeric(digits=(6, 4))
    updated_by = ForeignKey(User, on_delete=OnDelete.restrict, null=True, default=None)
    updated_at = Timestamptz(default=TimestamptzNow())


TABLES = (DocumentCategory, ItemTolerance)
