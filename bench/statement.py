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

import msgspec

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


async def _compute(context: Any, supplier_id: UUID) -> tuple[float, float, float, Any]:
    """Median and fastest of 5 refreshes, and the median of 5 reads of the
    accepted lines alone."""
    from portal.reconciliation import services
    from portal.reconciliation.bulk import custom_plans
    from tenants.context import tenant_scope

    times, floors = [], []
    statement = None
    for _ in range(5):
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
    return statistics.median(times), min(times), statistics.median(floors), statement


# The line table's columns, as the template titles them.
COLUMNS = ("Line", "Date", "Reference", "Item code", "Item name", "Quantity", "Unit", "Unit price", "Amount", "Agreement")


def _floor_html(statement: Any, tenant: Any) -> str:
    """The floor: the statement's line table as a plain HTML table, its
    title row and then the same rows and columns with the same cell texts
    (dates, numbers and amounts formatted as the template formats them), in
    the same font and size, one face. No page margins' header, footer or
    page numbers, no rules, shading or column widths, no other sections."""
    from html import escape

    from portal.i18n import format_datetime, format_money, format_number, gettext, use_locale
    from portal.reconciliation.pdf import FONT_FAMILY
    from portal.reconciliation.states import LINE_STATE_LABELS, LineState

    def row(values: Any) -> str:
        return "<tr>" + "".join(f"<td>{escape(str(value))}</td>" for value in values) + "</tr>"

    with use_locale(tenant.locale):
        cells = [row(gettext(title) for title in COLUMNS)]
        for line in statement.lines:
            values = (
                line.line_no,
                format_datetime(line.occurred_at, tenant.time_zone, "short") if line.occurred_at else "",
                line.reference,
                line.item_code,
                line.item_name,
                format_number(line.quantity) if line.quantity is not None else "",
                line.unit,
                format_number(line.unit_price) if line.unit_price is not None else "",
                format_money(line.amount, statement.currency),
                # A draft's lines have no agreement yet, as in the template.
                gettext(LINE_STATE_LABELS[LineState(line.state)]) if statement.status != "draft" else "",
            )
            cells.append(row(values))
    return (
        f"<html><head><meta charset='utf-8'><style>html {{ font-family: {FONT_FAMILY}; font-size: 8.5pt }}"
        " table { width: 100%; border-collapse: collapse }</style></head><body><table>" + "".join(cells) + "</table></body></html>"
    )


def _timed(render: Any) -> tuple[float, float]:
    """Wall and CPU seconds of ``render()`` (CPU: this thread's, which the
    other sessions on a shared machine do not inflate as they do wall time)."""
    wall, cpu = time.perf_counter(), time.thread_time()
    render()
    return time.perf_counter() - wall, time.thread_time() - cpu


async def _pdf(context: Any, statement_id: UUID, rounds: int) -> dict[str, Any]:
    """The statement's PDF and the floor, ``rounds`` times each, alternating
    which goes first, after one rendering of both that is not counted
    (WeasyPrint's import, fontconfig and the font files are loaded once per
    process: the first document would pay for them)."""
    from portal import weasy
    from portal.reconciliation import pdf, services
    from tenants.context import tenant_scope
    from tenants.scoping import scoped
    from tenants.tables import Supplier

    async with tenant_scope(context):
        statement = await services.get_statement(statement_id)
        supplier = await scoped(Supplier).get(statement.supplier_id)
    tenant = await _tenant(context.tenant_id)
    pages: list[int] = []

    def render_statement(lines: Any = statement) -> None:
        document = pdf.layout(pdf.statement_html(lines, tenant, supplier))
        pdf.write(document, pdf.identifier(lines))
        pages.append(len(document.pages))

    def render_floor(lines: Any = statement) -> None:
        weasy.html(_floor_html(lines, tenant)).write_pdf()

    warm = msgspec.structs.replace(statement, lines=statement.lines[:20])
    render_statement(warm)
    render_floor(warm)
    measured: dict[str, list[tuple[float, float]]] = {"pdf": [], "floor": []}
    for round_ in range(rounds):
        order = (("pdf", render_statement), ("floor", render_floor))
        for name, render in order if round_ % 2 == 0 else order[::-1]:
            measured[name].append(_timed(render))
    result: dict[str, Any] = {"pages": pages[-1], "rounds": rounds}
    for name, times in measured.items():
        result[f"{name}_wall"] = statistics.median(wall for wall, _ in times)
        result[f"{name}_cpu"] = statistics.median(cpu for _, cpu in times)
    return result


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


PDF_HEADER = f"""\
PDF: statement_html + WeasyPrint lay-out and write, as the job does; median of 3 (1 at 5,000 lines), alternating with the floor.
floor: WeasyPrint alone on a plain <table>: the line table's title row and the same rows and 10 columns with the same cell
  texts, in the same font (Noto Sans CJK SC, regular, 8.5 pt); no page header, footer or numbers, no repeated header, rules,
  shading, column widths or other sections. cpu: the rendering thread's time, which other work on the machine inflates less.
{"lines":>6} {"pages":>6} {"PDF":>8} {"floor":>8} {"ratio":>6} {"PDF cpu":>8} {"floor":>8} {"ratio":>6} {"budget":>7} {"load":>6}"""


def _pdf_row(size: int, figures: dict[str, Any]) -> str:
    wall, floor_wall, cpu, floor_cpu = (figures[key] for key in ("pdf_wall", "floor_wall", "pdf_cpu", "floor_cpu"))
    return (
        f"{size:>6} {figures['pages']:>6} {wall:>7.2f}s {floor_wall:>7.2f}s {wall / floor_wall:>5.2f}x"
        f" {cpu:>7.2f}s {floor_cpu:>7.2f}s {cpu / floor_cpu:>5.2f}x {'<' + str(BUDGET_PDF_RATIO) + 'x':>7} {_load():>6}"
    )


def _load() -> str:
    return f"{os.getloadavg()[0]:.1f}"


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
                print(f"statement of N lines, PostgreSQL, period {PERIOD}; load average (1 min) beside each figure, {os.cpu_count()} CPUs")
                print("compute: services.refresh, median of 5; floor: the one query reading the period's accepted lines")
                print(f"{'lines':>6} {'compute':>9} {'min':>8} {'floor':>8} {'budget':>8} {'load':>6}")
                computed = []
                for size in sizes:
                    supplier = await _seed(context, size)
                    compute, fastest, floor, statement = await _compute(context, supplier)
                    computed.append(statement)
                    budget = f"<{BUDGET_COMPUTE_SECONDS:g} s"
                    print(f"{size:>6} {compute * 1000:>7.0f}ms {fastest * 1000:>6.0f}ms {floor * 1000:>6.0f}ms {budget:>8} {_load():>6}")
                largest = None
                rendered = [statement for statement in computed if len(statement.lines) in pdf_sizes]
                if rendered:
                    print()
                    print(PDF_HEADER)
                for statement in rendered:
                    size = len(statement.lines)
                    figures = await _pdf(context, statement.id, 3 if size <= 1000 else 1)
                    print(_pdf_row(size, figures), flush=True)
                    largest = statement
                if largest is not None and not args.no_health:
                    for in_process, where in ((True, "in the app's process (the default)"), (False, "in a separate worker")):
                        busy, idle, seconds = await _health_while_rendering(context, largest.id, env, in_process=in_process)
                        print(
                            f"/health while the {len(largest.lines):,}-line PDF renders {where}"
                            f" ({seconds:.1f} s, {len(busy)} requests, load {_load()})"
                        )
                        print(
                            f"  p50 {statistics.median(busy):6.1f} ms   p95 {_p95(busy):6.1f} ms   budget p95 <{BUDGET_HEALTH_P95_MS:g} ms"
                        )
                        print(
                            f"  floor (before it is asked for): p50 {statistics.median(idle):.1f} ms, p95 {_p95(idle):.1f} ms;"
                            f" p95 {_p95(busy) / _p95(idle):.2f}x the floor's"
                        )
            finally:
                await stop_engine(engine)

        asyncio.run(run())
    finally:
        cluster.stop()


if __name__ == "__main__":
    main()
