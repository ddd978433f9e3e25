"""What a supplier user's everyday reads cost under row-level security
does not grow with its supplier's or its tenant's data.

The supplier policies, and the scoping layer's conditions, follow a row's
parent (a photo its report, the report its order, a document the record it
is attached to) through a subquery the parent's own policy limits. Written
``col IN (SELECT id FROM parent)``, PostgreSQL read every parent row the
user can see to build a hash, on every statement, before the first row of
the page. Looked up by key (``EXISTS (... OFFSET 0)``), each row read costs
a few index probes. With thousands of orders, order lines, progress
reports, documents and messages for one supplier (and as many for another
supplier, and another tenant), EXPLAIN ANALYZE of every statement the
requests run (as the app role, with the request's settings) finds no plan
node reading more than MOST_ROWS_READ rows of a loaded table, and no JIT.
``PORTAL_PLAN_REPORT=path`` writes the figures (docs/performance.md).
"""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from uuid import UUID

import pytest

from tests.support.factories import World, api_token, bearer, make_world, page_token
from tests.support.plans import explain_selects, recorded_statements

pytestmark = pytest.mark.postgres

ORDERS = 2_000  # per supplier: two suppliers in the tenant
LINES = 5  # per order
REPORTS = 3  # per order, each with one photo
MESSAGES = 3  # per order's thread
NOTIFICATIONS = 5  # per order, for the first supplier's admin
# A page is 50 rows; a few index lookups per row read stay far below this.
# Reading what a supplier can see of one table is 2,000 rows and more.
MOST_ROWS_READ = 1_000
BULK_TABLES = (
    "notification",
    "document_review",
    "conversation_message",
    "conversation_thread",
    "progress_photo",
    "document_version",
    "document",
    "progress_report",
    "order_line",
    "outsourced_order",
)


@dataclass
class Bulk:
    world: World
    headers: dict[str, dict[str, str]]
    order_id: UUID
    thread_id: UUID
    document_id: UUID
    line_id: UUID


def seed_sql(tenant: UUID, suppliers: list[UUID], item: UUID, user: UUID, orders: int) -> str:
    """Orders, lines, reports with photos, documents on orders, reports and
    messages, threads with messages, reviews and notifications, shaped as
    the services write them, for both suppliers of ``tenant``."""
    s = f"(ARRAY['{suppliers[0]}'::uuid, '{suppliers[1]}'::uuid])[1 + g % 2]"
    return f"""
SET app.system = 'on';
CREATE TEMP TABLE bulk_order AS
  SELECT gen_random_uuid() AS id, g, {s} AS supplier FROM generate_series(1, {2 * orders}) AS g;
INSERT INTO outsourced_order (id, tenant, number, supplier, status, due_date)
  SELECT id, '{tenant}', 'BULK-' || g, supplier, (ARRAY['issued', 'accepted', 'in_production', 'draft'])[1 + g % 4],
         current_date + (g % 90) FROM bulk_order;
CREATE TEMP TABLE bulk_line AS
  SELECT gen_random_uuid() AS id, o.id AS "order", o.supplier, n FROM bulk_order o, generate_series(1, {LINES}) AS n;
INSERT INTO order_line (id, tenant, "order", line_no, item, quantity, unit_price, due_date)
  SELECT id, '{tenant}', "order", n, '{item}', 100, 12.5, current_date + 30 FROM bulk_line;
CREATE TEMP TABLE bulk_report AS
  SELECT gen_random_uuid() AS id, gen_random_uuid() AS document, l."order", l.id AS line, l.supplier
  FROM bulk_line l WHERE l.n <= {REPORTS};
INSERT INTO progress_report (id, tenant, supplier, "order", order_line, client_id, stage, stage_label, good_quantity,
                             photos_expected, photos_received)
  SELECT id, '{tenant}', supplier, "order", line, gen_random_uuid(), 'machining', 'Machining', 10, 1, 1 FROM bulk_report;
INSERT INTO document (id, tenant, supplier, attached_type, attached_id, category, title, current_version)
  SELECT document, '{tenant}', supplier, 'progress_report', id, 'photo', 'photo', 1 FROM bulk_report;
INSERT INTO progress_photo (id, tenant, supplier, report, document, sha256, position)
  SELECT gen_random_uuid(), '{tenant}', supplier, id, document, repeat('0', 64), 0 FROM bulk_report;
INSERT INTO document (id, tenant, supplier, attached_type, attached_id, category, title, current_version)
  SELECT gen_random_uuid(), '{tenant}', supplier, 'order', id, kind, 'bulk ' || kind, 1
  FROM bulk_order, unnest(ARRAY['inspection_report', 'material_certificate']) AS kind;
INSERT INTO document_review (id, tenant, supplier, document, version, decision)
  SELECT gen_random_uuid(), '{tenant}', supplier, id, 1, 'accepted' FROM document
  WHERE tenant = '{tenant}' AND category = 'inspection_report' AND attached_type = 'order';
CREATE TEMP TABLE bulk_thread AS SELECT gen_random_uuid() AS id, id AS "order", supplier FROM bulk_order;
INSERT INTO conversation_thread (id, tenant, supplier, record_type, record_id, side, "order", message_count)
  SELECT id, '{tenant}', supplier, 'order', "order", 'shared', "order", {MESSAGES} FROM bulk_thread;
CREATE TEMP TABLE bulk_message AS
  SELECT gen_random_uuid() AS id, t.id AS thread, t.supplier, n FROM bulk_thread t, generate_series(1, {MESSAGES}) AS n;
INSERT INTO conversation_message (id, tenant, supplier, thread, client_id, author_name, author_side, body, seq)
  SELECT id, '{tenant}', supplier, thread, gen_random_uuid(), 'bulk', 'supplier', 'message ' || n, n FROM bulk_message;
INSERT INTO document (id, tenant, supplier, attached_type, attached_id, category, title, current_version)
  SELECT gen_random_uuid(), '{tenant}', supplier, 'message', id, 'attachment', 'attachment', 1 FROM bulk_message WHERE n = 1;
INSERT INTO document_version (id, tenant, document, supplier, version, sha256, size, kind, content_type, original_name,
                              safe_name, storage_key)
  SELECT gen_random_uuid(), '{tenant}', id, supplier, 1, repeat('0', 64), 1000, 'image', 'image/jpeg', 'bulk.jpg',
         'bulk.jpg', 'bulk/' || id FROM document WHERE tenant = '{tenant}' AND title IN ('photo', 'attachment')
         OR tenant = '{tenant}' AND title LIKE 'bulk %';
INSERT INTO notification (id, tenant, "user", supplier, event_id, kind, record_type, record_id, created_at)
  SELECT gen_random_uuid(), '{tenant}', '{user}', supplier, gen_random_uuid(), 'order.issued', 'order', id,
         now() - g * interval '1 minute'
  FROM bulk_order, generate_series(1, {NOTIFICATIONS}) AS n WHERE supplier = '{suppliers[0]}';
"""  # noqa: S608 - ids of the test's own worlds


def seed(postgres: Any, client: Any, world: World, orders: int) -> None:
    planner = bearer(api_token(client, world.accounts["planner"], world.slug))
    item = client.post("/api/v1/items", json={"code": "P-BULK", "name": "Bulk part", "unit": "pcs"}, headers=planner)
    assert item.status_code == 201, item.text
    user = world.accounts["supplier_admin"].user_id
    try:
        postgres.psql(seed_sql(world.tenant_id, world.supplier_ids, UUID(item.json()["id"]), user, orders))
    except subprocess.CalledProcessError as failed:
        raise AssertionError(failed.stderr) from None


def clean(postgres: Any, tenants: list[UUID]) -> None:
    ids = ", ".join(f"'{tenant}'" for tenant in tenants)
    deletes = "".join(f'DELETE FROM "{table}" WHERE tenant IN ({ids});' for table in BULK_TABLES)  # noqa: S608 - the test's own worlds
    postgres.psql("SET app.system = 'on';" + deletes + "".join(f'ANALYZE "{table}";' for table in BULK_TABLES))


@pytest.fixture(scope="module")
def bulk(postgres: Any, client: Any, run: Any) -> Iterator[Bulk]:
    """One tenant with ORDERS orders for each of its two suppliers and all
    that hangs off them, another tenant with half as much; removed again
    afterwards (the worker's database serves every later test)."""
    world = run(make_world, "rlsplan")
    other = run(make_world, "rlsother")
    try:
        seed(postgres, client, world, ORDERS)
        seed(postgres, client, other, ORDERS // 2)
        postgres.psql("".join(f'ANALYZE "{table}";' for table in BULK_TABLES))
        supplier = str(world.supplier_ids[0])
        row = postgres.psql(
            'SELECT o.id, t.id, d.id, l.id FROM outsourced_order o JOIN conversation_thread t ON t."order" = o.id'  # noqa: S608
            f' JOIN document d ON d.attached_id = o.id JOIN order_line l ON l."order" = o.id'
            f" WHERE o.supplier = '{supplier}' AND o.status = 'in_production' AND d.category = 'inspection_report' LIMIT 1"
        ).strip()
        order_id, thread_id, document_id, line_id = (UUID(part) for part in row.split("|"))
        headers = {key: bearer(api_token(client, world.accounts[key], world.slug)) for key in ("supplier_admin", "planner", "qa")}
        page = page_token(client, world.accounts["supplier_admin"], world.slug)
        headers["supplier_page"] = {"cookie": f"portal_session={page}"}
        yield Bulk(world, headers, order_id, thread_id, document_id, line_id)
    finally:
        clean(postgres, [world.tenant_id, other.tenant_id])


def plan_nodes(plan: dict[str, Any]) -> Iterator[dict[str, Any]]:
    yield plan
    for child in plan.get("Plans", []):
        yield from plan_nodes(child)


def outline(plan: dict[str, Any], depth: int = 0) -> str:
    """The plan as indented lines: node, relation, index, rows read x loops."""
    parts = [plan["Node Type"], plan.get("Relation Name", ""), plan.get("Index Name", ""), plan.get("Subplan Name", "")]
    line = " " * depth + " ".join(p for p in parts if p) + f" rows={read_by(plan)} loops={plan.get('Actual Loops')}"
    return "\n".join([line, *(outline(child, depth + 2) for child in plan.get("Plans", []))])


def read_by(node: dict[str, Any]) -> int:
    """Rows a node read: those it returned and those its filter dropped, in
    all its loops."""
    return int((node.get("Actual Rows", 0) + node.get("Rows Removed by Filter", 0)) * node.get("Actual Loops", 1))


def explained(client: Any, run: Any, context: Any, method: str, path: str, headers: dict[str, str]) -> list[tuple[str, dict[str, Any]]]:
    """Each SELECT the request runs, with its EXPLAIN (ANALYZE, BUFFERS)
    plan, as the app role inside ``context``'s row-level security settings."""
    client.cookies.clear()
    with recorded_statements() as statements:
        response = client.request(method, path, headers=headers, follow_redirects=False)
    assert response.status_code == 200, (path, response.status_code, response.text[:500])
    found: list[tuple[str, dict[str, Any]]] = run(lambda: explain_selects(context, statements, "ANALYZE, BUFFERS"))
    return found


def context_of(bulk: Bulk, key: str) -> Any:
    from tenants.context import TenantContext
    from tenants.roles import Role

    account = bulk.world.accounts["supplier_admin" if key == "supplier_page" else key]
    return TenantContext(
        tenant_id=bulk.world.tenant_id,
        tenant_slug=bulk.world.slug,
        tenant_name="t",
        time_zone="UTC",
        currency="CNY",
        role=Role(account.role),
        user_id=account.user_id,
        membership_id=account.membership_id,
        supplier_id=account.supplier_id,
    )


# The progress overview lists up to 500 open lines of the supplier sorted
# by their orders' due dates: it reads every open line to sort them, by the
# page's own query, not by a policy (docs/performance.md). It is measured
# beside the others, not held to a page.
WHOLE_LIST = {"progress page"}


def requests(bulk: Bulk) -> list[tuple[str, str, str]]:
    """(who, what, path) of the hot reads."""
    return [
        ("supplier_admin", "open one document", f"/api/v1/documents/{bulk.document_id}"),
        ("supplier_admin", "an order's documents", f"/api/v1/documents?attached_type=order&attached_id={bulk.order_id}"),
        ("supplier_admin", "QC documents", "/api/v1/documents?category=inspection_report"),
        ("supplier_admin", "all documents", "/api/v1/documents"),
        ("supplier_admin", "an order's progress reports", f"/api/v1/progress-reports?order_id={bulk.order_id}"),
        ("supplier_page", "progress page of a line", f"/progress/lines/{bulk.line_id}"),
        ("supplier_page", "progress page", "/progress"),
        ("supplier_admin", "a thread's messages", f"/api/v1/threads/{bulk.thread_id}/messages"),
        ("supplier_admin", "notifications", "/api/v1/notifications"),
        ("supplier_admin", "one order", f"/api/v1/orders/{bulk.order_id}"),
        ("planner", "all documents", "/api/v1/documents"),
        ("qa", "QC documents", "/api/v1/documents?category=inspection_report"),
    ]


def summary(plans: list[tuple[str, dict[str, Any]]]) -> tuple[float, float, int, int, str]:
    """A request's statements together: ms planning, ms executing, shared
    buffers hit or read, and the most rows any one plan node read (with its
    table)."""
    planning = sum(plan["Planning Time"] for _sql, plan in plans)
    ms = sum(plan["Execution Time"] for _sql, plan in plans)
    buffers = sum(plan["Plan"].get("Shared Hit Blocks", 0) + plan["Plan"].get("Shared Read Blocks", 0) for _sql, plan in plans)
    nodes = [node for _sql, plan in plans for node in plan_nodes(plan["Plan"])]
    worst = max(nodes, key=read_by)
    return planning, ms, buffers, read_by(worst), f"{worst['Node Type']} {worst.get('Relation Name', '')}".strip()


def floor(run: Any, bulk: Bulk) -> float:
    """One document by its primary key as the planner (the tenant's check
    only), in ms: what the supplier's reads stand beside."""
    from portal.db import get_engine
    from tenants.context import tenant_scope

    async def explain() -> float:
        engine: Any = get_engine()
        async with tenant_scope(context_of(bulk, "planner")):
            connection = engine.current_transaction.get().connection
            (row,) = await connection.fetch("EXPLAIN (ANALYZE, FORMAT JSON) SELECT * FROM document WHERE id = $1", bulk.document_id)
            return float(json.loads(row[0])[0]["Execution Time"])

    return min(float(run(explain)) for _ in range(5))


def test_hot_reads_read_a_page_not_the_suppliers_rows(bulk: Bulk, client: Any, run: Any) -> None:
    report = [f"floor (a document by primary key, buyer): {floor(run, bulk):.2f} ms"]
    outlines: list[str] = []
    failures: list[str] = []
    for who, what, path in requests(bulk):
        plans = explained(client, run, context_of(bulk, who), "GET", path, bulk.headers[who])
        assert plans, path
        planning, ms, buffers, most, where = summary(plans)
        report.append(f"{who} | {what} | {len(plans)} | {planning:.1f} | {ms:.1f} | {buffers} | {most} ({where})")
        outlines += [f"## {who}: {what}\n{sql}\n{outline(plan['Plan'])}" for sql, plan in plans]
        for sql, plan in plans:
            # JIT compiles a plan the policies make look expensive: seconds
            # of LLVM for a page (tenants.context.apply_database_settings).
            if "JIT" in plan:
                failures.append(f"{who}: {what}: JIT\n{sql}")
            for node in plan_nodes(plan["Plan"]):
                if what not in WHOLE_LIST and node.get("Relation Name") in BULK_TABLES and read_by(node) > MOST_ROWS_READ:
                    failures.append(f"{who}: {what}: {read_by(node)} rows of {node['Relation Name']}\n{sql}\n{outline(plan['Plan'])}")
    if os.environ.get("PORTAL_PLAN_REPORT"):
        with open(os.environ["PORTAL_PLAN_REPORT"], "w") as handle:
            handle.write("\n".join(report) + "\n")
        with open(os.environ["PORTAL_PLAN_REPORT"] + ".plans", "w") as handle:
            handle.write("\n".join(outlines) + "\n")
    assert not failures, "\n\n".join(failures)
