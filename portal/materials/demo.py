"""Demo material flow: dispatches (one received with a discrepancy, one
received as sent, one waiting for the supplier), a return and a scrap report,
so that the balances show both a normal and an over-consumed material.

Idempotent: a tenant that has dispatches is left alone, and a tenant without
orders yet is skipped (the material goes to the supplier of its orders)."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal
from typing import Any

from portal.items.tables import Item
from portal.materials import services
from portal.materials.schemas import DispatchCreate, DispatchLineIn, MovementCreate, ReceiptIn, ReceiptLineIn
from portal.materials.tables import Dispatch
from portal.orders.tables import Order
from tenants.context import TenantContext, current, tenant_scope
from tenants.operators import for_each_tenant
from tenants.roles import Role
from tenants.scoping import scoped
from tenants.tables import Membership


async def load_materials_demo(slugs: list[str]) -> bool:
    """Material flow for each demo tenant (by slug) that has orders and no
    dispatches yet; returns whether anything was created."""
    return await for_each_tenant(slugs, lambda tenant: _load_tenant())


async def _supplier_context(supplier_id: Any) -> TenantContext:
    """The supplier's own admin when there is one, so the demo shows who
    confirmed and reported."""
    member = (
        await scoped(Membership)
        .select(Membership.user, Membership.user.name, Membership.id)
        .where(Membership.supplier == supplier_id)
        .where(Membership.role == Role.SUPPLIER_ADMIN.value)
        .first()
    )
    base = replace(current(), role=Role.SUPPLIER_ADMIN, supplier_id=supplier_id, user_name="demo-supplier")
    if member is None:
        return base
    return replace(base, user_id=member["user"], user_name=member["user.name"], membership_id=member["id"])


async def _load_tenant() -> bool:
    if await scoped(Dispatch).exists():
        return False
    order = (
        await scoped(Order)
        .select(Order.id, Order.supplier, Order.status)
        .where(Order.status.is_in([state.value for state in services.ORDER_STATES_FOR_DISPATCH]))
        .order_by(Order.number)
        .first()
    )
    if order is None:
        order = await scoped(Order).select(Order.id, Order.supplier, Order.status).order_by(Order.number).first()
    if order is None:
        return False
    materials = list(await scoped(Item).objects().where(Item.kind == "material").where(Item.active.eq(True)).order_by(Item.code).limit(2))
    if not materials:
        return False
    first, second = materials[0], materials[-1]
    supplier_id = order["supplier"]
    order_id = order["id"] if order["status"] in services.ORDER_STATES_FOR_DISPATCH else None

    async def send(*lines: tuple[Item, str, str], note: str = "", for_order: Any = None) -> Any:
        draft = await services.create_dispatch(
            DispatchCreate(
                supplier_id=supplier_id,
                order_id=for_order,
                note=note,
                lines=[DispatchLineIn(item_id=item.id, quantity=Decimal(quantity), lot=lot) for item, quantity, lot in lines],
            )
        )
        return await services.send_dispatch(draft.id)

    damaged = await send((first, "400", "H-2026-001"), (first, "300", "H-2026-002"), note="首批板材 First plates", for_order=order_id)
    complete = await send((second, "900", "R-2026-001"))
    await send((first, "200", "H-2026-003"), note="补料 Top-up")
    async with tenant_scope(await _supplier_context(supplier_id)):
        await services.confirm_receipt(
            damaged.id,
            ReceiptIn(
                lines=[
                    ReceiptLineIn(line_id=damaged.lines[0].id, received_quantity=Decimal("400")),
                    ReceiptLineIn(
                        line_id=damaged.lines[1].id,
                        received_quantity=Decimal("290"),
                        reason="10 kg 运输途中受潮生锈 10 kg rusted in transit",
                    ),
                ]
            ),
        )
        await services.confirm_receipt(
            complete.id, ReceiptIn(lines=[ReceiptLineIn(line_id=complete.lines[0].id, received_quantity=Decimal("900"))])
        )
        await services.report_movement(
            services.RETURN,
            MovementCreate(item_id=first.id, quantity=Decimal("20"), lot="H-2026-001", reason="余料退回 Leftover returned"),
        )
        await services.report_movement(
            services.SCRAP,
            MovementCreate(item_id=second.id, quantity=Decimal("15"), lot="R-2026-001", reason="锯切尺寸错误 Cut to the wrong length"),
        )
    return True
