"""Statements at scale on PostgreSQL: computing a statement of 100, 1,000
and 5,000 lines, rendering its PDF, and the app's ``/health`` while a
worker renders the largest; each figure beside a floor measured in the same
run and its budget.

    .venv/bin/python bench/statement.py                            # compute at 100, 1,000 and 5,000 lines; PDFs of 100 and 1,000
    .venv/bin/python bench/statement.py --pdf-sizes 100,1000,5000  # the budgets' run: the 5,000-line PDF too (many minutes)

A throwaway PostgreSQL cluster (tests/support/postgres.py), migrated as the
owner; the app, the worker and the bench connect as the unprivileged app
role, as in production. Each size has a supplier of its own whose
received deliveries in one closed month hold that many accepted lines (20
items with Chinese names, one order, a delivery per 100 lines), written
straight into the tables: the bench measures the statement, not the
order and delivery services.

- Compute: ``services.refresh`` (every record of the period read, priced,
  rounded, stored as the draft's lines), median of 3. Floor: the one query
  that reads the period's accepted delivery lines, alone (planned for its
  supplier, as the computation plans it). Budget: under
  1 s at 5,000 lines (printed beside every size).
- PDF: ``pdf.statement_html`` + WeasyPrint (lay out and write), as the job
  does it, in this process. Floor: WeasyPrint alone on a plain HTML table
  of the same rows and columns (the same cell texts and font, no header,
  footer, borders or other sections). Budget: within 1.3x the floor.
- /health: sequential requests to ``portal serve`` while the largest PDF
  renders through the ``statements.pdf`` job, twice: with the jobs in the
  app's own process (the default, ``PORTAL_JOBS_IN_PROCESS``) and with
  them in a separate ``portal worker``; floor: the same requests before
  the rendering is asked for. Budget: p95 under 50 ms.

It prints figures and never asserts timings.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any
from uuid import UUID, uuid4

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

PERIOD = "2025-03"
# 10 March 2025, inside the month in any time zone.
RECEIVED = datetime(2025, 3, 10, 4, tzinfo=UTC)
BUDGET_COMPUTE_SECONDS = 1.0
BUDGET_PDF_RATIO = 1.3
BUDGET_HEALTH_P95_MS = 50.0
NAMES = ("法兰盘", "轴套", "端盖", "支架", "齿轮", "连接板", "壳体", "衬套", "压盖", "销轴")


async def _world() -> Any:
    from tenants.context import operator_context, system_scope
    from tenants.tables import Tenant
    from tests.support.factories import make_world

    world = await make_world("bench")
    async with system_scope("bench"):
        tenant = await Tenant.objects().where(Tenant.id == world.tenant_id).first()
    return operator_context(tenant, "bench")


async def _seed(context: Any, lines: int) -> UUID:
    """A supplier with ``lines`` accepted delivery lines received in PERIOD."""
    from portal.deliveries.tables import Delivery, DeliveryLine
    from portal.items.tables import Item
    from portal.orders.tables import Order, OrderLine
    from tenants.context import tenant_scope
    from tenants.scoping import scoped
    from tenants.services.suppliers import SupplierCreate, create_supplier

    async with tenant_scope(context):
        supplier = await create_supplier(SupplierCreate(code=f"B{lines}", name=f"苏州精密机械 {lines} 行有限公司"))
        items = [
            scoped(Item).new(id=uuid4(), code=f"P-{lines}-{index:02d}", name=f"{NAMES[index % len(NAMES)]} {index}", unit="件")
            for index in range(20)
        ]
        await Item.insert(*items)
        order = scoped(Order).new(id=uuid4(), number=f"WO-BENCH-{lines}", supplier=supplier.id, status="delivered", currency="CNY")
        await order.save()
        order_lines = [
            scoped(OrderLine).new(
                id=uuid4(),
                order=order.id,
                line_no=index + 1,
                item=items[index % len(items)].id,
                quantity=Decimal(100),
                unit_price=Decimal("12.35") + Decimal(index % 50) / 4,
                due_date=date(2025, 3, 31),
            )
            for index in range(lines)
        ]
        for start in range(0, lines, 500):
            await OrderLine.insert(*order_lines[start : start + 500])
        for start in range(0, lines, 100):
            delivery = scoped(Delivery).new(
                id=uuid4(),
                number=f"DN-BENCH-{lines}-{start // 100:03d}",
                supplier=supplier.id,
                order=order.id,
                status="received",
                shipped_at=RECEIVED - timedelta(days=1),
                received_at=RECEIVED + timedelta(minutes=start // 100),
            )
            await delivery.save()
            rows = [
                scoped(DeliveryLine).new(
                    delivery=delivery.id,
                    line_no=number + 1,
                    order_line=order_line.id,
                    quantity=Decimal(100),
                    accepted_quantity=Decimal(97) + Decimal(number % 3),
                    rejected_quantity=Decimal(3) - Decimal(number % 3),
                )
                for number, order_line in enumerate(order_lines[start : start + 100])
            ]
            await DeliveryLine.insert(*rows)
    return supplier.id


async def _compute(context: Any, supplier_id: UUID) -> tuple[float, float, Any]:
    """Median of 3 refreshes, and of 3 reads of the accepted lines alone."""
    from portal.reconciliation import services
    from portal.reconciliation.bulk import custom_plans
    from tenants.context import tenant_scope

    times, floors = [], []
    statement = None
    for _ in range(3):
        async with tenant_scope(context):
            started = time.perf_counter()
            [statement] = await services.refresh(supplier_id, PERIOD)
            times.append(time.perf_counter() - started)
            period = await services.ensure_period(PERIOD)
            started = time.perf_counter()
            # Planned as the computation plans it (bulk.custom_plans).
            async with custom_plans():
                await services._accepted_lines(supplier_id, period.ends_at)
            floors.append(time.perf_counter() - started)
    return statistics.median(times), statistics.median(floors), statement


def _floor_html(statement: Any) -> str:
    """The same rows and columns as the statement's lines, as a plain table."""
    from html import escape

    from portal.reconciliation.pdf import FONT_FAMILY

    cells = []
    for line in statement.lines:
        values = (
            line.line_no,
            line.occurred_at.strftime("%Y/%m/%d %H:%M") if line.occurred_at else "",
            line.reference,
            line.item_code,
            line.item_name,
            line.quantity,
            line.unit,
            line.unit_price,
            f"¥{line.amount}",
            "已确认",
        )
        cells.append("<tr>" + "".join(f"<td>{escape(str(value))}</td>" for value in values) + "</tr>")
    return (
        f"<html><head><meta charset='utf-8'><style>html {{ font-family: {FONT_FAMILY}; font-size: 8.5pt }}"
        " table { width: 100%; border-collapse: collapse }</style></head><body><table>" + "".join(cells) + "</table></body></html>"
    )


async def _pdf(context: Any, statement_id: UUID) -> tuple[float, float, int]:
    from weasyprint import HTML

    from portal.reconciliation import pdf, services
    from tenants.context import tenant_scope
    from tenants.scoping import scoped
    from tenants.tables import Supplier

    async with tenant_scope(context):
        statement = await services.get_statement(statement_id)
        supplier = await scoped(Supplier).get(statement.supplier_id)
    tenant = await _tenant(context.tenant_id)
    started = time.perf_counter()
    document = pdf.layout(pdf.statement_html(statement, tenant, supplier))
    pdf.write(document, pdf.identifier(statement))
    rendered = time.perf_counter() - started
    started = time.perf_counter()
    HTML(string=_floor_html(statement)).write_pdf()
    floor = time.perf_counter() - started
    return rendered, floor, len(document.pages)


async def _tenant(tenant_id: UUID) -> Any:
    from tenants.context import system_scope
    from tenants.tables import Tenant

    async with system_scope("bench"):
        return await Tenant.objects().where(Tenant.id == tenant_id).first()


def _health(base: str, until: Any = None, count: int = 200) -> list[float]:
    """Sequential GET /health, 20 a second: ``count`` of them, or until ``until()``."""
    import httpx

    times: list[float] = []
    with httpx.Client(base_url=base, timeout=10) as client:
        while (until is None and len(times) < count) or (until is not None and not until()):
            started = time.perf_counter()
            response = client.get("/health")
            times.append((time.perf_counter() - started) * 1000)
            if response.status_code != 200:
                raise SystemExit(f"/health answered {response.status_code}")
            time.sleep(max(0.0, 0.05 - (time.perf_counter() - started)))
    return times


def _p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[max(int(len(ordered) * 0.95) - 1, 0)]


def _start(args: list[str], env: dict[str, str]) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "portal", *args], env=env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )


async def _status(statement_id: UUID, version: int) -> str:
    from portal.reconciliation.tables import StatementPdf
    from tenants.context import system_scope

    async with system_scope("bench"):
        query = StatementPdf.select(StatementPdf.status).where(StatementPdf.statement == statement_id)
        row = await query.where(StatementPdf.statement_version == version).first()
    return str(row["status"]) if row else "none"


async def _health_while_rendering(
    context: Any, statement_id: UUID, env: dict[str, str], *, in_process: bool
) -> tuple[list[float], list[float], float]:
    from portal.reconciliation import pdf, services
    from tenants.context import tenant_scope
    from tests.support.ports import free_port

    port = free_port()
    base = f"http://127.0.0.1:{port}"
    serve = _start(["serve", "--port", str(port)], {**env, "PORTAL_JOBS_IN_PROCESS": "true" if in_process else "false"})
    processes = [serve] if in_process else [serve, _start(["worker", "--concurrency", "1"], env)]
    try:
        await asyncio.to_thread(_wait_up, base)
        await asyncio.sleep(2)  # the worker starts
        idle = await asyncio.to_thread(_health, base)
        async with tenant_scope(context):
            # A new version each time: its PDF is not rendered yet.
            await services.refresh((await services.get_statement(statement_id)).supplier_id, PERIOD)
            asked = await pdf.request_pdf(statement_id)
        loop = asyncio.get_running_loop()

        def finished() -> bool:
            # Asked from the requests' thread; the query runs on this loop.
            status = asyncio.run_coroutine_threadsafe(_status(statement_id, asked.statement_version), loop).result()
            return status in ("ready", "failed")

        started = time.perf_counter()
        busy = await asyncio.to_thread(_health, base, finished)
        seconds = time.perf_counter() - started
        if await _status(statement_id, asked.statement_version) != "ready":
            raise SystemExit("the worker's rendering failed")
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            process.wait(timeout=60)
    return busy, idle, seconds


def _wait_up(base: str) -> None:
    import httpx

    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{base}/health", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise SystemExit("portal serve did not start")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    # Short by default: the 5,000-line PDF alone takes a core for a while.
    parser.add_argument("--sizes", default="100,1000,5000", help="statement lines to compute, comma-separated")
    parser.add_argument("--pdf-sizes", default="100,1000", help="of those, the ones rendered (100,1000,5000 for the budgets)")
    parser.add_argument("--no-health", action="store_true", help="skip /health during the rendering")
    args = parser.parse_args()
    sizes = [int(size) for size in args.sizes.split(",")]
    pdf_sizes = {int(size) for size in args.pdf_sizes.split(",") if size}

    from tests.support.postgres import PostgresCluster

    cluster = PostgresCluster.start()
    var = Path(tempfile.mkdtemp(prefix="bench-statement-"))
    try:
        env = {key: value for key, value in os.environ.items() if not key.startswith("PORTAL_")}
        env.update(
            PORTAL_VAR_DIR=str(var),
            PORTAL_STORAGE_URL=f"file://{var}/blobs",
            PORTAL_DATABASE_URL=cluster.app_url,
            PORTAL_MIGRATION_DATABASE_URL=cluster.owner_url,
            PORTAL_SECRET_KEY="bench-secret-key-that-is-long-enough-0123456789",
            PORTAL_PASSWORD_HASH="cheap",
            PORTAL_JOBS_POLL_SECONDS="0.2",
        )
        migrated = subprocess.run([sys.executable, "-m", "portal", "migrate"], capture_output=True, text=True, cwd=ROOT, env=env)
        if migrated.returncode:
            raise SystemExit(f"portal migrate failed: {migrated.stderr[-2000:]}")
        os.environ.update(env)

        async def run() -> None:
            from portal.db import get_engine, start_engine, stop_engine

            engine = get_engine()
            await start_engine(engine)
            try:
                context = await _world()
                print(f"statement of N lines, PostgreSQL, period {PERIOD}")
                print(f"{'lines':>6} {'compute':>9} {'floor':>8} {'budget':>8}", end="   ")
                print(f"{'PDF':>8} {'floor':>8} {'ratio':>6} {'budget':>7} {'pages':>6}")
                largest = None
                for size in sizes:
                    supplier = await _seed(context, size)
                    compute, floor, statement = await _compute(context, supplier)
                    budget = f"<{BUDGET_COMPUTE_SECONDS:g} s"
                    print(f"{size:>6} {compute * 1000:>7.0f}ms {floor * 1000:>6.0f}ms {budget:>8}", end="   ", flush=True)
                    if size not in pdf_sizes:
                        print(f"{'-':>8} {'-':>8} {'-':>6} {'<' + str(BUDGET_PDF_RATIO) + 'x':>7} {'-':>6}")
                        continue
                    rendered, plain, pages = await _pdf(context, statement.id)
                    print(f"{rendered:>7.2f}s {plain:>7.2f}s {rendered / plain:>6.2f} {'<' + str(BUDGET_PDF_RATIO) + 'x':>7} {pages:>6}")
                    largest = statement
                if largest is not None and not args.no_health:
                    for in_process, where in ((True, "in the app's process (the default)"), (False, "in a separate worker")):
                        busy, idle, seconds = await _health_while_rendering(context, largest.id, env, in_process=in_process)
                        print(f"/health while the {len(largest.lines):,}-line PDF renders {where} ({seconds:.1f} s, {len(busy)} requests)")
                        print(
                            f"  p50 {statistics.median(busy):6.1f} ms   p95 {_p95(busy):6.1f} ms   budget p95 <{BUDGET_HEALTH_P95_MS:g} ms"
                        )
                        print(f"  floor (before it is asked for): p50 {statistics.median(idle):.1f} ms, p95 {_p95(idle):.1f} ms")
            finally:
                await stop_engine(engine)

        asyncio.run(run())
    finally:
        cluster.stop()


if __name__ == "__main__":
    main()
