"""The demo holds NCRs in every state, one of them overdue, and one opened
from the demo's rejected delivery line."""

from __future__ import annotations

from typing import Any

from portal.quality.ncr_states import Status
from tenants.context import operator_context, system_scope, tenant_scope
from tenants.demo import load_demo
from tenants.tables import Tenant


async def _ncrs(slug: str) -> list[Any]:
    from portal.quality import ncrs

    async with system_scope("test"):
        tenant = await Tenant.objects().where(Tenant.slug == slug).first()
    async with tenant_scope(operator_context(tenant, "test")):
        items, _ = await ncrs.list_ncrs()
        return items


def test_the_demo_has_ncrs_in_every_state(run: Any) -> None:
    run(load_demo)
    for slug in ("acme", "globex"):
        found = run(_ncrs, slug)
        assert {item.status for item in found} == {status.value for status in Status}, slug
        assert {item.step_state for item in found if item.status == "containment"} == {"waiting", "answered"}, slug
        assert [item.status for item in found if item.overdue] == ["containment"], slug
        assert "delivery_line" in {item.source for item in found}, slug
