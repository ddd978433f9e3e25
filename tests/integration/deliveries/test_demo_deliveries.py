"""The demo's delivered quantities have received notices behind them, and
its documents panels have something to show."""

from __future__ import annotations

from collections import defaultdict
from decimal import Decimal
from typing import Any

from portal.deliveries.tables import DeliveryLine
from portal.documents.tables import Document
from portal.orders.states import Status
from portal.orders.tables import Order, OrderLine
from tenants.context import operator_context, system_scope, tenant_scope
from tenants.demo import load_demo
from tenants.scoping import scoped
from tenants.tables import Tenant


async def _figures(slug: str) -> dict[str, Any]:
    async with system_scope("test"):
        tenant = await Tenant.objects().where(Tenant.slug == slug).first()
    async with tenant_scope(operator_context(tenant, "test")):
        lines = await scoped(OrderLine).select(OrderLine.id, OrderLine.delivered_quantity)
        received = await (
            scoped(DeliveryLine)
            .select(DeliveryLine.order_line, DeliveryLine.accepted_quantity)
            .where(DeliveryLine.delivery.status == "received")
        )
        accepted: dict[Any, Decimal] = defaultdict(Decimal)
        for row in received:
            accepted[row["order_line"]] += Decimal(row["accepted_quantity"])
        statuses = {row["status"] for row in await scoped(Order).select(Order.status)}
        documents = {row["attached_type"] for row in await scoped(Document).select(Document.attached_type)}
    return {
        "delivered": {row["id"]: Decimal(row["delivered_quantity"]) for row in lines if row["delivered_quantity"]},
        "accepted": dict(accepted),
        "statuses": statuses,
        "documents": documents,
    }


def test_demo_deliveries_account_for_every_delivered_quantity(run: Any) -> None:
    run(load_demo)
    assert run(load_demo) is False  # idempotent: nothing created the second time
    for slug in ("acme", "globex"):
        figures = run(_figures, slug)
        assert figures["delivered"], slug
        assert figures["delivered"] == figures["accepted"], slug
        assert figures["statuses"] == {status.value for status in Status}, slug
        assert {"item", "order"} <= figures["documents"], slug
