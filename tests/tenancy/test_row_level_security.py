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


async def _rows_by_table(tenant_id: Any, role: str, supplier_id: Any = None) -> dict[str, set[Any]]:
    """Every row id of the tables hanging off orders, dispatches and
    documents, read with no filter at all: only the policies limit them."""
    from portal.conversations.tables import Message, Thread
    from portal.deliveries.tables import Delivery, DeliveryLine
    from portal.documents.tables import Document, DocumentVersion
    from portal.materials.tables import Dispatch, DispatchLine
    from portal.orders.tables import Order, OrderLine, OrderRevision
    from portal.progress.tables import ProgressReport
    from portal.quality.tables import QcRequirement
    from portal.reconciliation.tables import Adjustment, Statement, StatementLine
    from tenants.context import TenantContext, tenant_scope
    from tenants.roles import Role

    tables: dict[str, Any] = {
        "thread": Thread,
        "message": Message,
        "statement": Statement,
        "statement_line": StatementLine,
        "adjustment": Adjustment,
        "order": Order,
        "line": OrderLine,
        "revision": OrderRevision,
        "requirement": QcRequirement,
        "delivery": Delivery,
        "delivery_line": DeliveryLine,
        "report": ProgressReport,
        "document": Document,
        "version": DocumentVersion,
        "dispatch": Dispatch,
        "dispatch_line": DispatchLine,
    }
    context = TenantContext(
        tenant_id=tenant_id, tenant_slug="x", tenant_name="x", time_zone="UTC", currency="CNY", role=Role(role), supplier_id=supplier_id
    )
    async with tenant_scope(context):
        return {name: {row["id"] for row in await table.select(table.id)} for name, table in tables.items()}


async def _children(seeded: Any) -> dict[str, dict[str, set[Any]]]:
    """The lines of the seeded orders and dispatches, by who may see them."""
    from portal.conversations.tables import Message, Thread
    from portal.deliveries.tables import DeliveryLine
    from portal.materials.tables import DispatchLine
    from portal.orders.tables import OrderLine
    from portal.reconciliation.tables import StatementLine
    from tenants.context import system_scope

    found: dict[str, dict[str, set[Any]]] = {}
    async with system_scope("rls-test"):
        for label, ids in (("own", seeded.first), ("other", seeded.second), ("hidden", seeded.hidden)):
            lines = await OrderLine.select(OrderLine.id).where(OrderLine.order == ids["order_id"])
            dispatch_lines = await DispatchLine.select(DispatchLine.id).where(DispatchLine.dispatch == ids["dispatch_id"])
            delivery_lines = await DeliveryLine.select(DeliveryLine.id).where(DeliveryLine.delivery == ids["delivery_id"])
            statement_lines = await StatementLine.select(StatementLine.id).where(StatementLine.statement == ids["statement_id"])
            threads = await Thread.select(Thread.id).where(Thread.order == ids["order_id"])
            messages = await Message.select(Message.id).where(Message.thread.is_in([row["id"] for row in threads]))
            found[label] = {
                "thread": {row["id"] for row in threads},
                "message": {row["id"] for row in messages},
                "statement_line": {row["id"] for row in statement_lines},
                "line": {row["id"] for row in lines},
                "dispatch_line": {row["id"] for row in dispatch_lines},
                "delivery_line": {row["id"] for row in delivery_lines},
            }
        internal = await Thread.select(Thread.id).where(Thread.id == seeded.hidden["thread_id"])
        notes = await Message.select(Message.id).where(Message.thread.is_in([row["id"] for row in internal]))
        found["internal"] = {"message": {row["id"] for row in notes}}
    return found


def test_a_supplier_user_sees_nothing_that_hangs_off_a_record_not_shared_with_it(run: Any) -> None:
    """Draft orders and dispatches, their lines, QC requirements and drawings,
    and another supplier's order and delivery lines stay out of unfiltered
    queries of a supplier user; the buyer sees them all."""
    from tests.tenancy.matrix_seed import seed

    home = run(make_world, "rls")
    seeded = run(seed, home)
    children = run(_children, seeded)
    supplier = run(_rows_by_table, home.tenant_id, "supplier_admin", home.supplier_ids[0])
    planner = run(_rows_by_table, home.tenant_id, "planner")

    hidden = {
        "order": {seeded.hidden["order_id"]},
        "line": {seeded.hidden["line_id"]} | children["hidden"]["line"],
        "requirement": {seeded.hidden["requirement_id"]},
        "document": {seeded.hidden["document_id"]},
        "version": {seeded.hidden["version_id"]},
        "dispatch": {seeded.hidden["dispatch_id"]},
        "dispatch_line": children["hidden"]["dispatch_line"],
        # A draft statement and its lines, a pending adjustment: finance's own.
        "statement": {seeded.hidden["statement_id"]},
        "statement_line": children["hidden"]["statement_line"],
        "adjustment": {seeded.hidden["adjustment_id"]},
        # Both sides of a draft order's conversation, and the buyer's
        # internal side of the supplier's own order.
        "thread": children["hidden"]["thread"] | {seeded.hidden["thread_id"]},
        "message": children["hidden"]["message"] | children["internal"]["message"],
    }
    other = {
        "line": children["other"]["line"],
        "revision": {seeded.second["revision_id"]},
        "delivery_line": children["other"]["delivery_line"],
        "report": {seeded.second["report_id"]},
        "statement": {seeded.second["statement_id"]},
        "statement_line": children["other"]["statement_line"],
        "thread": children["other"]["thread"],
        "message": children["other"]["message"],
    }
    own = {
        "line": children["own"]["line"],
        "revision": {seeded.first["revision_id"]},
        "delivery_line": children["own"]["delivery_line"],
        "dispatch_line": children["own"]["dispatch_line"],
        "version": {seeded.first["version_id"]},
        "statement": {seeded.first["statement_id"]},
        "statement_line": children["own"]["statement_line"],
        "thread": {seeded.first["thread_id"]},
        "message": children["own"]["message"] - children["internal"]["message"],
    }
    for table, ids in {**hidden, **other}.items():
        assert ids, table
    for table, ids in hidden.items():
        assert supplier[table] & ids == set(), f"a supplier user reads {table} rows of a draft"
        assert ids <= planner[table], table
    for table, ids in other.items():
        assert supplier[table] & ids == set(), f"a supplier user reads another supplier's {table} rows"
    for table, ids in own.items():
        assert ids, table
        assert ids <= supplier[table], f"a supplier user no longer reads its own {table} rows"
