"""PostgreSQL row-level security on the delivery tables: queries with no
filter at all still see only the current tenant's rows, and a supplier
user's deliveries only."""

from __future__ import annotations

from typing import Any
from uuid import UUID

import pytest

from tests.integration.deliveries.conftest import accepted_order, create
from tests.integration.orders.conftest import OrderWorld
from tests.support.factories import make_world

pytestmark = pytest.mark.postgres


async def _unfiltered(tenant_id: UUID, supplier_id: UUID | None = None, role: str = "planner") -> dict[str, set[Any]]:
    from portal.deliveries.tables import Delivery, DeliveryCounter, DeliveryLine
    from tenants.context import TenantContext, tenant_scope
    from tenants.roles import Role

    context = TenantContext(
        tenant_id=tenant_id, tenant_slug="x", tenant_name="x", time_zone="UTC", currency="CNY", role=Role(role), supplier_id=supplier_id
    )
    async with tenant_scope(context):
        return {
            "delivery": {row["tenant"] for row in await Delivery.select(Delivery.tenant)},
            "delivery_ids": {row["id"] for row in await Delivery.select(Delivery.id)},
            "delivery_line": {row["tenant"] for row in await DeliveryLine.select(DeliveryLine.tenant)},
            "delivery_counter": {row["tenant"] for row in await DeliveryCounter.select(DeliveryCounter.tenant)},
        }


def test_unfiltered_delivery_queries_stay_in_the_tenant_and_the_supplier(client: Any, shop: OrderWorld, run: Any) -> None:
    notice = create(client, shop, accepted_order(client, shop), "5").json()
    world = shop.world
    own = run(_unfiltered, world.tenant_id)
    assert own["delivery"] == own["delivery_line"] == own["delivery_counter"] == {world.tenant_id}
    assert UUID(notice["id"]) in own["delivery_ids"]
    stranger = run(make_world, "rls")
    assert all(rows == set() for rows in run(_unfiltered, stranger.tenant_id).values())
    other_supplier = run(_unfiltered, world.tenant_id, world.supplier_ids[1], "supplier_admin")
    assert other_supplier["delivery_ids"] == set()
    first_supplier = run(_unfiltered, world.tenant_id, world.supplier_ids[0], "supplier_operator")
    assert UUID(notice["id"]) in first_supplier["delivery_ids"]


def test_the_delivery_tables_force_row_level_security(postgres: Any) -> None:
    forced = postgres.psql(
        "SELECT relname FROM pg_class WHERE relname IN ('delivery','delivery_line','delivery_counter') AND relforcerowsecurity"
    )
    assert set(forced.split()) == {"delivery", "delivery_line", "delivery_counter"}
