"""The board, a supplier's board and inbox, a later page and the status
counts read only what they show, however many orders the tenant has: with
20,000 orders in one tenant, EXPLAIN ANALYZE (as the app role, under
row-level security) of every statement these services run finds no
sequential scan of the orders and no plan node that reads more than a
small fraction of the tenant's orders (a sort of every matching order
down to one page is what this catches)."""

from __future__ import annotations

import subprocess
from collections.abc import Awaitable, Callable, Iterator
from typing import Any
from uuid import UUID

import pytest

from tests.integration.orders.conftest import OrderWorld
from tests.support.plans import explain_selects, recorded_statements

pytestmark = pytest.mark.postgres

ORDERS = 20_000
# A page is 50 rows; an index walk that skips the other suppliers' or the
# drafts on the way reads a few more. A scan of the tenant reads 20,000, a
# read of every order in one status 2,222 and of one supplier's 10,000.
MOST_ROWS_READ = ORDERS // 10
STATUSES = ("draft", "issued", "accepted", "rejected", "in_production", "partially_delivered", "delivered", "closed", "cancelled")
DONE = ("delivered", "closed", "cancelled")


def seed_orders(postgres: Any, tenant_id: UUID, suppliers: list[UUID]) -> None:
    """Orders shaped as the services write them (an order with nothing open
    is due 9999-12-31), loaded in one statement; the triggers count them."""
    statuses = "(ARRAY[" + ",".join(f"'{status}'" for status in STATUSES) + "])"
    done = "ARRAY[" + ",".join(f"'{status}'" for status in DONE) + "]"
    try:
        postgres.psql(
            "SET app.system = 'on';"  # noqa: S608 - ids from the test's own world
            "INSERT INTO outsourced_order (id, tenant, number, supplier, status, due_date)"
            f" SELECT gen_random_uuid(), '{tenant_id}', 'BULK-' || g,"
            f" (ARRAY['{suppliers[0]}'::uuid, '{suppliers[1]}'::uuid])[1 + g % 2],"
            f" {statuses}[1 + g % 9],"
            f" CASE WHEN {statuses}[1 + g % 9] = ANY({done}) THEN DATE '9999-12-31' ELSE current_date - 60 + (g % 240) END"
            f" FROM generate_series(1, {ORDERS}) AS g;"
            "ANALYZE outsourced_order; ANALYZE order_status_count;"
        )
    except subprocess.CalledProcessError as failed:
        raise AssertionError(failed.stderr) from None


@pytest.fixture
def bulk(postgres: Any, shop: OrderWorld) -> Iterator[OrderWorld]:
    """``shop`` with ORDERS orders, removed again afterwards: the worker's
    database serves every later test of its files, and 20,000 orders each
    of them would read past (under row-level security) made that worker's
    remaining files several times slower."""
    seed_orders(postgres, shop.world.tenant_id, shop.world.supplier_ids)
    yield shop
    postgres.psql(
        f"SET app.system = 'on'; DELETE FROM outsourced_order WHERE tenant = '{shop.world.tenant_id}' AND number LIKE 'BULK-%';"  # noqa: S608 - the test's own world
        " ANALYZE outsourced_order; ANALYZE order_status_count;"
    )


def outline(plan: dict[str, Any], depth: int = 0) -> str:
    """The plan as indented lines: node, relation, index, rows read."""
    line = " " * depth + " ".join(
        str(part)
        for part in (
            plan["Node Type"],
            plan.get("Relation Name", ""),
            plan.get("Index Name", ""),
            plan.get("Actual Rows"),
            plan.get("Filter", ""),
        )
        if part != ""
    )
    return "\n".join([line, *(outline(child, depth + 2) for child in plan.get("Plans", []))])


def plan_nodes(plan: dict[str, Any]) -> Iterator[dict[str, Any]]:
    yield plan
    for child in plan.get("Plans", []):
        yield from plan_nodes(child)


async def _explained(context: Any, call: Callable[[], Awaitable[Any]]) -> list[tuple[str, dict[str, Any]]]:
    """Each SELECT ``call`` runs, with its EXPLAIN ANALYZE plan, as the app
    role inside the context's RLS settings."""
    from tenants.context import tenant_scope

    with recorded_statements() as statements:
        async with tenant_scope(context):
            await call()
    return [(sql, plan["Plan"]) for sql, plan in await explain_selects(context, statements, "ANALYZE")]


async def _plans(world: Any) -> dict[str, list[tuple[str, dict[str, Any]]]]:
    from portal.orders import services
    from tenants.context import TenantContext
    from tenants.roles import Role

    def as_(role: Role, supplier: UUID | None = None) -> TenantContext:
        return TenantContext(
            tenant_id=world.tenant_id,
            tenant_slug=world.slug,
            tenant_name="t",
            time_zone="UTC",
            currency="CNY",
            role=role,
            supplier_id=supplier,
        )

    planner, supplier = as_(Role.PLANNER), as_(Role.SUPPLIER_ADMIN, world.supplier_ids[0])
    first_page: Any = None

    async def board() -> None:
        nonlocal first_page
        first_page = await services.board()

    plans = {
        "board (planner)": await _explained(planner, board),
        "board, in production (planner)": await _explained(planner, lambda: services.board(status="in_production")),
        "board, one supplier (planner)": await _explained(planner, lambda: services.board(supplier_id=world.supplier_ids[1])),
        "board (supplier)": await _explained(supplier, lambda: services.board()),
        "board, in production (supplier)": await _explained(supplier, lambda: services.board(status="in_production")),
        "inbox (supplier)": await _explained(supplier, lambda: services.inbox(7)),
    }
    assert first_page is not None
    assert first_page.next
    plans["board, a later page (planner)"] = await _explained(planner, lambda: services.board(cursor=first_page.next))
    return plans


def test_hot_order_queries_never_scan_the_tenants_orders(bulk: OrderWorld, run: Any) -> None:
    world = bulk.world
    plans = run(_plans, world)
    assert len(plans) == 7
    for name, statements in plans.items():
        assert statements, name
        for sql, plan in statements:
            for node in plan_nodes(plan):
                if node.get("Relation Name") != "outsourced_order":
                    continue
                read = (node["Actual Rows"] + node.get("Rows Removed by Filter", 0)) * node["Actual Loops"]
                assert node["Node Type"] != "Seq Scan" or read == 0, (name, sql, outline(plan))
                assert read <= MOST_ROWS_READ, (name, read, sql, outline(plan))


def test_status_counts_do_not_read_the_orders(bulk: OrderWorld, run: Any) -> None:
    from portal.orders import services

    world = bulk.world

    async def counts() -> dict[str, Any]:
        from tenants.context import TenantContext
        from tenants.roles import Role

        context = TenantContext(
            tenant_id=world.tenant_id, tenant_slug=world.slug, tenant_name="t", time_zone="UTC", currency="CNY", role=Role.PLANNER
        )
        statements = await _explained(context, services.status_counts)
        from tenants.context import tenant_scope

        async with tenant_scope(context):
            found = await services.status_counts()
        return {"statements": statements, "counts": found}

    result = run(counts)
    assert sum(result["counts"].values()) == ORDERS
    position = STATUSES.index("in_production") + 1
    assert result["counts"]["in_production"] == sum(1 for g in range(1, ORDERS + 1) if 1 + g % 9 == position)
    for _sql, plan in result["statements"]:
        assert {node.get("Relation Name") for node in plan_nodes(plan)} - {None} == {"order_status_count"}
