"""Demo statements: for the first supplier of each demo tenant, the period
before last finalized (agreed by both sides), last period sent with a
disputed line, and the current period as a draft.

The orders demo receives its notices today; to give the demo a history,
the notices of its closed order go to the period before last and those of
its delivered and partially delivered orders to last period, and the
material dispatched to the supplier to the start of the period before last
(the times move, nothing else). The deliveries demo's partial receipt stays in
the current period. Idempotent: a tenant with any statement is left alone."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from portal.deliveries.demo import PARTIAL_LOT, TRANSIT_LOT, as_member
from portal.deliveries.tables import Delivery, DeliveryLine
from portal.items.tables import Item
from portal.materials.tables import Dispatch
from portal.reconciliation import periods, services
from portal.reconciliation.schemas import MaterialPriceIn, SettingsIn
from portal.reconciliation.tables import Statement
from tenants.context import current, tenant_scope
from tenants.operators import for_each_tenant
from tenants.roles import Role
from tenants.scoping import scoped
from tenants.tables import Supplier

TAX = {"acme": "0.13", "globex": "0"}
# Per kg, in the tenant's currency.
MATERIAL_PRICES = {"acme": {"M-Q235-8": "5.80", "M-45-R25": "6.50"}, "globex": {"M-Q235-8": "0.85", "M-45-R25": "0.95"}}
DISPUTE = "第1行数量与送货单不符，送货单为 50 件 The delivery note says 50 pcs"


async def load_statements_demo(slugs: list[str]) -> bool:
    return await for_each_tenant(slugs, lambda tenant: _load_tenant(tenant.slug))


async def _notices(supplier_id: Any) -> list[dict[str, Any]]:
    """The supplier's received notices from the orders demo, oldest number first."""
    rows = (
        await scoped(Delivery)
        .select(Delivery.id, Delivery.number, Delivery.order.status)
        .where(Delivery.supplier == supplier_id, Delivery.status == "received")
        .order_by(Delivery.number)
    )
    own = {
        row["delivery"]
        for row in await scoped(DeliveryLine).select(DeliveryLine.delivery).where(DeliveryLine.lot.is_in([PARTIAL_LOT, TRANSIT_LOT]))
    }
    return [row for row in rows if row["id"] not in own]


async def _date_into(delivery_id: Any, start: datetime) -> None:
    received = start + timedelta(days=9, hours=2)
    await (
        scoped(Delivery)
        .update({Delivery.shipped_at: received - timedelta(days=1), Delivery.received_at: received})
        .where(Delivery.id == delivery_id)
    )


async def _load_tenant(slug: str) -> bool:
    if await scoped(Statement).exists():
        return False
    supplier = await scoped(Supplier).select(Supplier.id).where(Supplier.code.is_in(["S-PM", "G-CAST"])).first()
    if supplier is None:
        return False
    supplier_id = supplier["id"]
    finance = await as_member(Role.FINANCE)
    boss = await as_member(Role.SUPPLIER_ADMIN, supplier_id)
    context = current()
    async with tenant_scope(finance):
        await services.update_settings(SettingsIn(tax_rate=TAX.get(slug, "0")))
        for code, price in MATERIAL_PRICES.get(slug, {}).items():
            item = await scoped(Item).select(Item.id).where(Item.code == code).first()
            if item is not None:
                await services.set_material_price(MaterialPriceIn(item_id=item["id"], unit_price=price))
        rules = await services.rules()
        current_label = periods.label_at(datetime.now(UTC), context.time_zone, rules.cutoff_day, rules.cutoff_minutes)
        last = periods.previous_label(current_label)
        before_last = periods.previous_label(last)
        notices = await _notices(supplier_id)
        earlier = [row for row in notices if row["order.status"] == "closed"] or notices[:1]
        later = [row for row in notices if row not in earlier]
        for label, group in ((before_last, earlier), (last, later)):
            period = await services.ensure_period(label)
            for row in group:
                await _date_into(row["id"], period.starts_at)
            if label == before_last:
                # The material the output was made of arrived before it.
                sent = scoped(Dispatch).update({Dispatch.sent_at: period.starts_at})
                await sent.where(Dispatch.supplier == supplier_id, Dispatch.status != "draft")
                received = scoped(Dispatch).update({Dispatch.received_at: period.starts_at + timedelta(days=1)})
                await received.where(Dispatch.supplier == supplier_id, Dispatch.received_at.is_not_null())
    finalized = await _closed_and_sent(finance, supplier_id, before_last)
    if finalized is not None:
        async with tenant_scope(boss):
            for line in finalized.lines:
                await services.confirm_line(finalized.id, line.id)
            await services.confirm_statement(finalized.id)
        async with tenant_scope(finance):
            await services.finalize_statement(finalized.id)
    disputed = await _closed_and_sent(finance, supplier_id, last)
    if disputed is not None:
        async with tenant_scope(boss):
            await services.dispute_line(disputed.id, disputed.lines[0].id, DISPUTE)
            for line in disputed.lines[1:]:
                await services.confirm_line(disputed.id, line.id)
    async with tenant_scope(finance):
        await services.refresh(supplier_id, current_label)
    return True


async def _closed_and_sent(finance: Any, supplier_id: Any, label: str) -> Any:
    """The period closed for the supplier and its statement in the tenant's
    currency sent, when it has lines."""
    async with tenant_scope(finance):
        statements = await services.close_period(supplier_id, label)
        statement = next((s for s in statements if s.currency == finance.currency and s.lines), None)
        if statement is None:
            return None
        return await services.send_statement(statement.id)
