"""The item master and bills of material."""

from __future__ import annotations

from decimal import Decimal

from piccolo.columns import UUID, Boolean, ForeignKey, Timestamptz, Varchar
from piccolo.columns.base import OnDelete
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table

from portal.decimals import ExactNumeric
from tenants.tables import Tenant

QUANTITY = (18, 6)


class Item(Table):
    """A part made by suppliers ("part") or a material sent to them ("material")."""

    id = UUID(primary_key=True)
    tenant = ForeignKey(Tenant, on_delete=OnDelete.restrict, null=False, index=True)
    code = Varchar(length=60)
    name = Varchar(length=200)
    spec = Varchar(length=500, default="")
    unit = Varchar(length=20, default="pcs")
    kind = Varchar(length=20, default="part")
    active = Boolean(default=True)
    created_at = Timestamptz(default=TimestamptzNow())


class BomLine(Table):
    """Material consumed per unit of an outsourced item, with the scrap the
    supplier is allowed (a fraction: 0.02 is 2 %)."""

    id = UUID(primary_key=True)
    tenant = ForeignKey(Tenant, on_delete=OnDelete.restrict, null=False, index=True)
    item = ForeignKey(Item, on_delete=OnDelete.restrict, null=False, index=True)
    material = ForeignKey(Item, on_delete=OnDelete.restrict, null=False)
    quantity_per_unit = ExactNumeric(digits=QUANTITY)
    scrap_rate = ExactNumeric(digits=(6, 4), default=Decimal(0))


TABLES = (Item, BomLine)
