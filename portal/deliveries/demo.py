"""Demo deliveries: a received notice with a rejected quantity against the
partially delivered demo order, and a notice in transit against the order in
production, waiting for the planner to receive it.

Idempotent: a tenant that has these two notices (by their lots) is left
alone, and a tenant without such orders is skipped. The orders keep their status (a partial receipt of a
partially delivered order leaves it partially delivered; a notice in transit
changes nothing), so the demo still shows an order in every status."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal
from typing import Any
from uuid import UUID

from portal.deliveries.schemas import DeliveryCreate, DeliveryLineIn, ReceiptIn, ReceiptLineIn
from portal.deliveries.services import create_delivery, get_delivery, receive_delivery, shipping_form
from portal.deliveries.tables import DeliveryLine
from portal.orders.states import Status as OrderStatus
from portal.orders.tables import Order
from tenants.context import TenantContext, current, tenant_scope
from tenants.operators import for_each_tenant
from tenants.roles import Role
from tenants.scoping import scoped
from tenants.tables import Membership

REJECT_REASON = "表面划伤 Surface scratches"
PARTIAL_LOT, TRANSIT_LOT = "L2611-01", "L2611-02"


async def load_deliveries_demo(slugs: list[str]) -> bool:
    """Deliveries for each demo tenant (by slug) that has suitable orders and
    no deliveries yet; returns whether anything was created."""
    return await for_each_tenant(slugs, lambda tenant: _load_tenant())


async def as_member(role: Role, supplier_id: UUID | None = None) -> TenantContext:
    """The tenant's own person in ``role`` when there is one, so the demo
    shows who shipped and who received."""
    query = scoped(Membership).select(Membership.user, Membership.user.name, Membership.id).where(Membership.role == role.value)
    if supplier_id is not None:
        query = query.where(Membership.supplier == supplier_id)
    member = await query.first()
    base = replace(current(), role=role, supplier_id=supplier_id, user_name=f"demo-{role.value}")
    if member is None:
        return base
    return replace(base, user_id=member["user"], user_name=member["user.name"], membership_id=member["id"])


async def _order(status: OrderStatus) -> dict[str, Any] | None:
    row: dict[str, Any] | None = (
        await scoped(Order).select(Order.id, Order.supplier).where(Order.status == status.value).order_by(Order.number).first()
    )
    return row


async def _ship(order: dict[str, Any], most: Decimal, lot: str, note: str) -> tuple[UUID, Decimal] | None:
    """Ships up to ``most`` of the first line with something open."""
    async with tenant_scope(await as_member(Role.SUPPLIER_ADMIN, order["supplier"])):
        form = await shipping_form(order["id"])
        line = next((line for line in form.lines if line.suggested > 0), None)
        if line is None:
            return None
        quantity = min(most, line.suggested)
        lines = [DeliveryLineIn(order_line_id=line.order_line_id, quantity=quantity, lot=lot)]
        delivery = await create_delivery(DeliveryCreate(order_id=order["id"], lines=lines, note=note, ship=True))
    return delivery.id, quantity


async def _load_tenant() -> bool:
    # The demo orders come with notices of their own (what they delivered):
    # look for these two by their lots.
    if await scoped(DeliveryLine).exists().where(DeliveryLine.lot.is_in([PARTIAL_LOT, TRANSIT_LOT])):
        return False
    created = False
    partial = await _order(OrderStatus.PARTIALLY_DELIVERED)
    if partial is not None:
        shipped = await _ship(partial, Decimal(20), PARTIAL_LOT, "顺丰快运 SF Freight, 沪A-12345")
        if shipped is not None:
            delivery_id, quantity = shipped
            rejected = min(Decimal(2), quantity)
            async with tenant_scope(await as_member(Role.QA)):
                line = (await get_delivery(delivery_id)).lines[0]
                receipt = ReceiptLineIn(
                    line_id=line.id, accepted_quantity=quantity - rejected, rejected_quantity=rejected, reject_reason=REJECT_REASON
                )
                await receive_delivery(delivery_id, ReceiptIn(lines=[receipt], note="来料检验 Incoming inspection"))
            created = True
    producing = await _order(OrderStatus.IN_PRODUCTION)
    if producing is not None:
        created = await _ship(producing, Decimal(30), TRANSIT_LOT, "自提 Picked up by the buyer's truck") is not None or created
    return created
