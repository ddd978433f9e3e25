"""PostgreSQL row-level security: the second wall. These queries bypass the
scoping layer on purpose (no tenant filter at all) and still see nothing of
another tenant, because the app's role cannot bypass the policies."""

from __future__ import annotations

from typing import Any

import pytest

from tests.support.factories import make_world

pytestmark = pytest.mark.postgres


async def _unfiltered_rows(tenant_id: Any, supplier_id: Any = None, role: str = "planner") -> dict[str, set[Any]]:
    from portal.audit.tables import AuditEvent
    from tenants.context import TenantContext, tenant_scope
    from tenants.roles import Role
    from tenants.tables import Invitation, Membership, Supplier

    context = TenantContext(
        tenant_id=tenant_id, tenant_slug="x", tenant_name="x", time_zone="UTC", currency="CNY", role=Role(role), supplier_id=supplier_id
    )
    async with tenant_scope(context):
        return {
            "supplier": {row["tenant"] for row in await Supplier.select(Supplier.tenant)},
            "supplier_ids": {row["id"] for row in await Supplier.select(Supplier.id)},
            "membership": {row["tenant"] for row in await Membership.select(Membership.tenant)},
            "invitation": {row["tenant"] for row in await Invitation.select(Invitation.tenant)},
            "audit_event": {row["tenant"] for row in await AuditEvent.select(AuditEvent.tenant)},
        }


async def _rows_without_context() -> int:
    from portal.db import get_engine
    from tenants.tables import Supplier

    async with get_engine().transaction():
        return len(await Supplier.select(Supplier.id))


def test_unfiltered_queries_see_only_the_current_tenant(run: Any) -> None:
    home, foreign = run(make_world, "rls"), run(make_world, "rls")
    rows = run(_unfiltered_rows, home.tenant_id)
    for table in ("supplier", "membership", "audit_event"):
        assert rows[table] == {home.tenant_id}, table
    assert foreign.tenant_id not in rows["invitation"]


def test_unfiltered_supplier_query_of_a_supplier_user_sees_only_its_supplier(run: Any) -> None:
    home = run(make_world, "rls")
    rows = run(_unfiltered_rows, home.tenant_id, home.supplier_ids[0], "supplier_operator")
    assert rows["supplier_ids"] == {home.supplier_ids[0]}


def test_a_connection_without_context_sees_no_tenant_rows(run: Any) -> None:
    run(make_world, "rls")
    assert run(_rows_without_context) == 0


def test_the_app_role_cannot_bypass_rls(postgres: Any) -> None:
    flags = postgres.psql("SELECT rolsuper, rolbypassrls FROM pg_roles WHERE rolname = 'portal_app'").strip()
    assert flags == "f|f"
    forced = postgres.psql(
        "SELECT relname FROM pg_class WHERE relname IN ('supplier','membership','invitation','audit_event') AND relforcerowsecurity"
    )
    assert set(forced.split()) == {"supplier", "membership", "invitation", "audit_event"}
