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
