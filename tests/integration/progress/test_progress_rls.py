"""PostgreSQL row-level security on the progress tables: queries with no
filter at all see only the current tenant's rows, a supplier user only its
own reports and photos, and every supplier of the tenant its stages."""

from __future__ import annotations

from typing import Any
from uuid import UUID

import pytest

from tests.integration.orders.conftest import OrderWorld
from tests.integration.progress.conftest import accepted_order, jpeg, photo, report
from tests.support.factories import make_world

pytestmark = pytest.mark.postgres


async def _unfiltered(tenant_id: UUID, supplier_id: UUID | None = None, role: str = "planner") -> dict[str, set[Any]]:
    from portal.progress.tables import ProgressPhoto, ProgressReport, ProgressStage
    from tenants.context import TenantContext, tenant_scope
    from tenants.roles import Role

    context = TenantContext(
        tenant_id=tenant_id, tenant_slug="x", tenant_name="x", time_zone="UTC", currency="CNY", role=Role(role), supplier_id=supplier_id
    )
    async with tenant_scope(context):
        return {
            "report_ids": {row["id"] for row in await ProgressReport.select(ProgressReport.id)},
            "photo_tenants": {row["tenant"] for row in await ProgressPhoto.select(ProgressPhoto.tenant)},
            "stage_tenants": {row["tenant"] for row in await ProgressStage.select(ProgressStage.tenant)},
        }


def test_unfiltered_progress_queries_stay_in_the_tenant_and_the_supplier(client: Any, shop: OrderWorld, run: Any) -> None:
    stored = report(client, shop, accepted_order(client, shop)["lines"][0]["id"], photos_expected=1).json()
    assert photo(client, shop, stored["id"], jpeg(5)).status_code == 201
    assert client.put("/api/v1/progress-stages", json={"labels": ["Machining"]}, headers=shop.as_("admin")).status_code == 200
    world = shop.world
    own = run(_unfiltered, world.tenant_id)
    assert own["report_ids"] == {UUID(stored["id"])}
    assert own["photo_tenants"] == own["stage_tenants"] == {world.tenant_id}
    stranger = run(make_world, "rls")
    assert all(rows == set() for rows in run(_unfiltered, stranger.tenant_id).values())
    other_supplier = run(_unfiltered, world.tenant_id, world.supplier_ids[1], "supplier_admin")
    assert other_supplier["report_ids"] == other_supplier["photo_tenants"] == set()
    assert other_supplier["stage_tenants"] == {world.tenant_id}
    first_supplier = run(_unfiltered, world.tenant_id, world.supplier_ids[0], "supplier_operator")
    assert first_supplier["report_ids"] == {UUID(stored["id"])}


def test_the_progress_tables_force_row_level_security(postgres: Any) -> None:
    forced = postgres.psql(
        "SELECT relname FROM pg_class WHERE relname IN ('progress_stage','progress_report','progress_photo') AND relforcerowsecurity"
    )
    assert set(forced.split()) == {"progress_stage", "progress_report", "progress_photo"}
