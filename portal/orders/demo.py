"""Demo orders: one in every status, and a change waiting for the
supplier's acknowledgement. Idempotent: a tenant that has orders is left alone."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta
from decimal import Decimal
from uuid import UUID

from portal.items.services import BomLineIn, ItemIn, create_item, set_bom
from portal.items.tables import Item
from portal.orders import services
from portal.orders.schemas import OrderCreate, OrderLineIn, OrderUpdate
from portal.orders.tables import Order
from tenants.context import current, tenant_scope
from tenants.roles import Role
from tenants.scoping import scoped

PARTS = [
    ("P-FL-100", "法兰盘 Flange DN100", "Q235, Ra3.2", "pcs", "material"),
    ("P-SH-20", "传动轴 Shaft Ø20", "45# steel, HRC28-32", "pcs", "material"),
]
MATERIALS = [("M-Q235-8", "Q235 钢板 8mm", "kg"), ("M-45-R25", "45# 圆钢 Ø25", "kg")]

SUPPLIER_SIDE = {"accept", "reject", "start"}

# status -> the events that lead there from a draft
PATHS: dict[str, list[str | tuple[str, str]]] = {
    "draft": [],
    "issued": ["issue"],
    "accepted": ["issue", "accept"],
    "rejected": ["issue", ("reject", "材料短缺 Material shortage")],
    "in_production": ["issue", "accept", "start"],
    "partially_delivered": ["issue", "accept", "start", "receive_part"],
    "delivered": ["issue", "accept", "start", "receive_all"],
    "closed": ["issue", "accept", "start", "receive_all", "close"],
    "cancelled": ["issue", ("cancel", "客户取消 Customer cancelled")],
}


async def _items() -> list[Item]:
    parts = []
    for (code, name, spec, unit, _), (m_code, m_name, m_unit) in zip(PARTS, MATERIALS, strict=True):
        if not await scoped(Item).exists().where(Item.code == code):
            material = await create_item(ItemIn(code=m_code, name=m_name, unit=m_unit, kind="material"))
            part = await create_item(ItemIn(code=code, name=name, spec=spec, unit=unit))
            await set_bom(part.id, [BomLineIn(material_id=material.id, quantity_per_unit=Decimal("2.4"), scrap_rate=Decimal("0.03"))])
        parts.append(await scoped(Item).objects().where(Item.code == code).first())
    return parts


async def load_orders(supplier_ids: list[UUID]) -> bool:
    """Orders for the first supplier of the acting tenant, in every status."""
    if await scoped(Order).exists():
        return False
    parts = await _items()
    today = date.today()
    supplier = replace(current(), role=Role.SUPPLIER_ADMIN, supplier_id=supplier_ids[0], user_name="demo-supplier")
    for offset, (status, path) in enumerate(PATHS.items()):
        lines = [
            OrderLineIn(
                item_id=part.id,
                quantity=Decimal(100 + 50 * index),
                unit_price=Decimal("18.50") + index,
                due_date=today + timedelta(days=5 + offset + index),
                operation="CNC",
            )
            for index, part in enumerate(parts)
        ]
        order = await services.create_order(
            OrderCreate(
                supplier_id=supplier_ids[0],
                lines=lines,
                notes_shared="请按图纸加工 Machine per drawing",
                notes_internal="目标成本 Target cost -5%",
            )
        )
        for step in path:
            event, reason = step if isinstance(step, tuple) else (step, "")
            if event in ("receive_part", "receive_all"):
                share = Decimal("0.5") if event == "receive_part" else Decimal(1)
                order = await services.apply_accepted_quantities(order.id, {line.id: line.quantity * share for line in order.lines})
            elif event in SUPPLIER_SIDE:
                async with tenant_scope(supplier):
                    order = await services.fire(order.id, event, reason)
            else:
                order = await services.fire(order.id, event, reason)
        if status == "accepted":
            first = order.lines[0]
            changed = OrderLineIn(
                id=first.id,
                item_id=first.item_id,
                quantity=first.quantity + 20,
                unit_price=first.unit_price,
                due_date=first.due_date,
                operation=first.operation,
            )
            keep = [
                OrderLineIn(
                    id=line.id,
                    item_id=line.item_id,
                    quantity=line.quantity,
                    unit_price=line.unit_price,
                    due_date=line.due_date,
                    operation=line.operation,
                )
                for line in order.lines[1:]
            ]
            await services.update_order(
                order.id, OrderUpdate(version=order.version, lines=[changed, *keep], reason="客户追加 20 件 Customer added 20 pcs")
            )
    return True
