"""PostgreSQL row-level security on the quality tables: queries with no
filter at all see only the current tenant's rows, and a supplier user only
its own supplier's requirements and reviews."""

from __future__ import annotations

from typing import Any
from uuid import UUID

import pytest

from tests.integration.orders.conftest import OrderWorld
from tests.integration.quality.conftest import accepted_order, require, review, send
from tests.support.factories import make_world

pytestmark = pytest.mark.postgres


async def _unfiltered(tenant_id: UUID, supplier_id: UUID | None = None, role: str = "planner") -> dict[str, set[Any]]:
    from portal.quality.tables import DocumentReview, QcRequirement
    from tenants.context import TenantContext, tenant_scope
    from tenants.roles import Role

    context = TenantContext(
        tenant_id=tenant_id, tenant_slug="x", tenant_name="x", time_zone="UTC", currency="CNY", role=Role(role), supplier_id=supplier_id
    )
    async with tenant_scope(context):
        return {
            "requirements": {row["id"] for row in await QcRequirement.select(QcRequirement.id)},
            "reviews": {row["id"] for row in await DocumentReview.select(DocumentReview.id)},
        }


def test_unfiltered_quality_queries_stay_in_the_tenant_and_the_supplier(client: Any, shop: OrderWorld, run: Any) -> None:
    order = accepted_order(client, shop)
    requirement = require(client, shop, order["id"]).json()
    decision = review(client, shop, send(client, shop, order["id"])["id"], "approved").json()
    world = shop.world
    expected = {"requirements": {UUID(requirement["id"])}, "reviews": {UUID(decision["id"])}}
    assert run(_unfiltered, world.tenant_id) == expected
    assert run(_unfiltered, world.tenant_id, world.supplier_ids[0], "supplier_operator") == expected
    assert run(_unfiltered, world.tenant_id, world.supplier_ids[1], "supplier_admin") == {"requirements": set(), "reviews": set()}
    stranger = run(make_world, "rls")
    assert run(_unfiltered, stranger.tenant_id) == {"requirements": set(), "reviews": set()}


def test_the_quality_tables_force_row_level_security(postgres: Any) -> None:
    forced = postgres.psql("SELECT relname FROM pg_class WHERE relname IN ('qc_requirement','document_review') AND relforcerowsecurity")
    assert set(forced.split()) == {"qc_requirement", "document_review"}


async def _buyer_only(tenant_id: UUID, supplier_id: UUID | None, role: str) -> dict[str, int]:
    from portal.quality.tables import QcGateOverride, QcTemplate, RejectReason
    from tenants.context import TenantContext, tenant_scope
    from tenants.roles import Role

    context = TenantContext(
        tenant_id=tenant_id, tenant_slug="x", tenant_name="x", time_zone="UTC", currency="CNY", role=Role(role), supplier_id=supplier_id
    )
    async with tenant_scope(context):
        return {
            "templates": len(await QcTemplate.select(QcTemplate.id)),
            "overrides": len(await QcGateOverride.select(QcGateOverride.id)),
            "reasons": len(await RejectReason.select(RejectReason.id)),
        }


def test_templates_and_overrides_stay_with_the_buyer_and_reject_reasons_reach_its_suppliers(
    client: Any, shop: OrderWorld, run: Any
) -> None:
    template = {"category": "photo", "count": 1, "stage": "before_delivery", "note": ""}
    assert client.put(f"/api/v1/items/{shop.part_id}/qc-templates", json=[template], headers=shop.as_("qa")).status_code == 200
    assert client.put("/api/v1/reject-reasons", json={"labels": ["Burrs"]}, headers=shop.as_("admin")).status_code == 200
    order = accepted_order(client, shop)
    require(client, shop, order["id"])
    body = {"order_id": order["id"], "lines": [{"order_line_id": order["lines"][0]["id"], "quantity": "1", "lot": "L"}], "ship": True}
    delivery = client.post("/api/v1/deliveries", json=body, headers=shop.as_("supplier_operator")).json()
    receipt = {"lines": [{"line_id": delivery["lines"][0]["id"], "accepted_quantity": "1"}], "qc_override_reason": "Line stop"}
    assert client.post(f"/api/v1/deliveries/{delivery['id']}/receipt", json=receipt, headers=shop.as_("qa")).status_code == 200
    world = shop.world
    reasons = run(_buyer_only, world.tenant_id, None, "qa")["reasons"]
    assert run(_buyer_only, world.tenant_id, None, "qa") == {"templates": 1, "overrides": 1, "reasons": reasons}
    assert reasons >= 2
    assert run(_buyer_only, world.tenant_id, world.supplier_ids[0], "supplier_admin") == {
        "templates": 0,
        "overrides": 0,
        "reasons": reasons,
    }
    stranger = run(make_world, "rls")
    assert run(_buyer_only, stranger.tenant_id, None, "admin") == {"templates": 0, "overrides": 0, "reasons": 0}
