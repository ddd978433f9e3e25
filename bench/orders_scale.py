"""Orders at scale on PostgreSQL: does a tenant's board stay fast when the
other tenants' data grows a hundredfold?

    .venv/bin/python bench/orders_scale.py                        # 1,000 tenants: 10k lines beside 1M lines
    .venv/bin/python bench/orders_scale.py --lines 100000         # a quick run (two to three minutes)
    .venv/bin/python bench/orders_scale.py --small-lines 0 --lines 10000 --repeat 50 --skip-import   # smoke test

Each scale gets its own throwaway PostgreSQL cluster (tests/support/
postgres.py: ``initdb`` + ``pg_ctl``, fsync off) in a worker process,
migrated with ``python -m portal migrate`` as the owner role; the app
connects as the unprivileged role under row-level security, as in
production. Each worker:

1. loads ``--tenants`` tenants (10 suppliers and 50 items each), a probe
   tenant's orders (``--probe-lines`` lines, the same rows at every scale:
   seeded generator) and the other tenants' orders up to the scale's line
   count, with COPY as the table owner (1M lines through the ORM would take
   too long). Rows match what the services write: per-tenant WO-YYYY-NNNNN
   numbers and counters, every status, the order's due date = earliest open
   line (9999-12-31 when none is open), delivered quantities, revisions
   (some unacknowledged). Then VACUUM ANALYZE.
2. times, through the real service functions inside ``tenant_scope`` (a
   transaction with the RLS settings, as a request has; no HTTP): the probe
   tenant's board as a planner (first page filtered by status, and
   unfiltered), and as the admin of one of its suppliers the inbox
   (``services.inbox``: orders to accept, revisions to acknowledge, due
   soon, late) and the supplier's board.

The orchestrator interleaves the scales in ``--rounds`` rounds, so that
other work on the machine weighs on both alike, and prints p50/p95 side by
side, EXPLAIN (ANALYZE) of the SQL the board and the inbox ran (captured
from the engine), and the time to import an ``--import-lines``-line XLSX
through the real import path (``read_upload`` + ``run_import``, as the API
handler calls them) at the large scale. It prints figures and never
asserts timings.
"""

from __future__ import annotations

import argparse
import asyncio
import io
import json
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.support.postgres import PostgresCluster  # noqa: E402

YEAR = date.today().year
NO_DUE_DATE = date(9999, 12, 31)
SUPPLIERS_PER_TENANT = 10
ITEMS_PER_TENANT = 50
COPY_BATCH = 50_000
BOARD = "board, status=in_production (planner)"
INBOX = "inbox (supplier admin)"
# Status mix of a live tenant: most work is in production, a long tail closed.
STATUS_WEIGHTS = {
    "draft": 8,
    "issued": 12,
    "accepted": 10,
    "rejected": 2,
    "in_production": 25,
    "partially_delivered": 10,
    "delivered": 10,
    "closed": 20,
    "cancelled": 3,
}
STATUSES = list(STATUS_WEIGHTS)
WEIGHTS = list(STATUS_WEIGHTS.values())
ORDER_COLUMNS = [
    "id",
    "tenant",
    "number",
    "supplier",
    "status",
    "currency",
    "notes_shared",
    "notes_internal",
    "due_date",
    "revision",
    "version",
    "status_reason",
    "created_at",
    "updated_at",
    "issued_at",
    "accepted_at",
]
LINE_COLUMNS = [
    "id",
    "tenant",
    "order",
    "line_no",
    "item",
    "operation",
    "quantity",
    "unit_price",
    "due_date",
    "delivered_quantity",
    "removed",
]
REVISION_COLUMNS = ["id", "tenant", "order", "number", "reason", "diff", "created_at", "acknowledged_at"]


@dataclass
class TenantData:
    id: uuid.UUID
    slug: str
    suppliers: list[uuid.UUID]
    supplier_codes: list[str]
    items: list[uuid.UUID]
    item_codes: list[str]
    next_number: int = 1
    lines: int = 0


@dataclass
class Stat:
    label: str
    samples: list[float]

    @property
    def p50(self) -> float:
        return statistics.median(self.samples)

    @property
    def p95(self) -> float:
        ordered = sorted(self.samples)
        return ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]


# -- loading ------------------------------------------------------------------


def new_id(rng: random.Random) -> uuid.UUID:
    """A version-4 UUID from the seeded generator: the same data every run."""
    return uuid.UUID(int=rng.getrandbits(128), version=4)


def _orders_for(tenant: TenantData, lines_wanted: int, rng: random.Random, today: date) -> Iterator[tuple[str, tuple[Any, ...]]]:
    """("order" | "line" | "revision", row) tuples for ``lines_wanted`` lines."""
    now = datetime.now(UTC)
    while lines_wanted > 0:
        count = min(lines_wanted, rng.randint(1, 7))
        lines_wanted -= count
        order_id = new_id(rng)
        status = rng.choices(STATUSES, WEIGHTS)[0]
        number = f"WO-{YEAR}-{tenant.next_number:05d}"
        tenant.next_number += 1
        created = now - timedelta(days=rng.randint(1, 200), seconds=rng.randint(0, 86_000))
        issued = created + timedelta(hours=2) if status != "draft" else None
        accepted = created + timedelta(days=1) if status not in ("draft", "issued", "rejected") else None
        open_dates = []
        for line_no in range(1, count + 1):
            quantity = Decimal(rng.randint(1, 2000))
            due = today + timedelta(days=rng.randint(-60, 120))
            if status in ("delivered", "closed") or (status == "partially_delivered" and line_no == 1):
                delivered = quantity
            else:
                delivered = Decimal(0)
                open_dates.append(due)
            price = Decimal(rng.randint(1, 500_000)) / 100
            operation = rng.choice(("CNC", "Turning", "Plating", "Assembly", "Heat treatment"))
            yield (
                "line",
                (new_id(rng), tenant.id, order_id, line_no, rng.choice(tenant.items), operation, quantity, price, due, delivered, False),
            )
        tenant.lines += count
        revisions = 1 if status not in ("draft", "rejected") and rng.random() < 0.2 else 0
        due_date = min(open_dates) if open_dates else NO_DUE_DATE
        yield (
            "order",
            (
                order_id,
                tenant.id,
                number,
                rng.choice(tenant.suppliers),
                status,
                "CNY",
                "",
                "",
                due_date,
                revisions,
                1 + revisions + (status != "draft"),
                "Material not available" if status in ("rejected", "cancelled") else "",
                created,
                created + timedelta(days=1),
                issued,
                accepted,
            ),
        )
        if revisions:
            pending = status in ("issued", "accepted", "in_production") and rng.random() < 0.3
            acknowledged = None if pending else created + timedelta(days=2)
            yield (
                "revision",
                (
                    new_id(rng),
                    tenant.id,
                    order_id,
                    1,
                    "Customer forecast changed",
                    '{"lines": []}',
                    created + timedelta(days=1),
                    acknowledged,
                ),
            )


async def _copy(connection: Any, table: str, columns: list[str], rows: list[tuple[Any, ...]]) -> None:
    if rows:
        await connection.copy_records_to_table(table, records=rows, columns=columns)


async def load_orders(connection: Any, plan: list[tuple[TenantData, int]], rng: random.Random) -> int:
    """COPY orders, lines and revisions for (tenant, lines) pairs; returns
    the number of orders written. Orders are written before their lines
    (foreign keys), batch by batch."""
    today = date.today()
    buffers: dict[str, list[tuple[Any, ...]]] = {"order": [], "line": [], "revision": []}
    orders = 0

    async def flush() -> None:
        await _copy(connection, "outsourced_order", ORDER_COLUMNS, buffers["order"])
        await _copy(connection, "order_line", LINE_COLUMNS, buffers["line"])
        await _copy(connection, "order_revision", REVISION_COLUMNS, buffers["revision"])
        for rows in buffers.values():
            rows.clear()

    for tenant, lines in plan:
        for kind, row in _orders_for(tenant, lines, rng, today):
            buffers[kind].append(row)
            orders += kind == "order"
        if len(buffers["line"]) >= COPY_BATCH:
            await flush()
    await flush()
    counters = [(tenant.id, YEAR, tenant.next_number - 1) for tenant, _ in plan]
    await connection.executemany(
        "INSERT INTO order_counter (tenant, year, last) VALUES ($1, $2, $3) ON CONFLICT (tenant, year) DO UPDATE SET last = EXCLUDED.last",
        counters,
    )
    return orders


async def load_tenants(connection: Any, count: int, rng: random.Random) -> list[TenantData]:
    tenants = []
    tenant_rows, supplier_rows, item_rows = [], [], []
    for index in range(count):
        tenant = TenantData(
            id=new_id(rng),
            slug=f"bench-{index:04d}",
            suppliers=[new_id(rng) for _ in range(SUPPLIERS_PER_TENANT)],
            supplier_codes=[f"S{n:03d}" for n in range(1, SUPPLIERS_PER_TENANT + 1)],
            items=[new_id(rng) for _ in range(ITEMS_PER_TENANT)],
            item_codes=[f"P-{n:04d}" for n in range(1, ITEMS_PER_TENANT + 1)],
        )
        tenants.append(tenant)
        tenant_rows.append((tenant.id, tenant.slug, f"Bench tenant {index}"))
        supplier_rows += [
            (sid, tenant.id, code, f"Supplier {code}") for sid, code in zip(tenant.suppliers, tenant.supplier_codes, strict=True)
        ]
        item_rows += [(iid, tenant.id, code, f"Part {code}") for iid, code in zip(tenant.items, tenant.item_codes, strict=True)]
    await _copy(connection, "tenant", ["id", "slug", "name"], tenant_rows)
    await _copy(connection, "supplier", ["id", "tenant", "code", "name"], supplier_rows)
    await _copy(connection, "item", ["id", "tenant", "code", "name"], item_rows)
    return tenants


def spread(tenants: list[TenantData], lines: int) -> list[tuple[TenantData, int]]:
    if lines <= 0 or not tenants:
        return []
    share, rest = divmod(lines, len(tenants))
    return [(tenant, share + (index < rest)) for index, tenant in enumerate(tenants) if share + (index < rest) > 0]


async def vacuum_analyze(connection: Any) -> None:
    # VACUUM sets the visibility map, so index-only scans (status counts)
    # behave as on a database that has been running for a while.
    for table in ("outsourced_order", "order_line", "order_revision", "order_counter", "supplier", "item", "tenant"):
        await connection.execute(f'VACUUM (ANALYZE) "{table}"')


# -- measuring ----------------------------------------------------------------


@asynccontextmanager
async def captured_sql() -> AsyncIterator[list[tuple[str, list[Any]]]]:
    """Every statement the engine runs meanwhile, with its arguments."""
    from portal.db import get_engine

    engine_class: Any = type(get_engine())
    original = engine_class.run_querystring
    statements: list[tuple[str, list[Any]]] = []

    async def recording(self: Any, querystring: Any, in_pool: bool = True) -> Any:
        sql, args = querystring.compile_string(engine_type=self.engine_type)
        statements.append((sql, list(args)))
        return await original(self, querystring, in_pool=in_pool)

    # The engine class has slots: the method is swapped on the class.
    engine_class.run_querystring = recording
    try:
        yield statements
    finally:
        engine_class.run_querystring = original


async def timed(call: Callable[[], Awaitable[Any]], repeat: int, warmup: int = 20) -> Stat:
    for _ in range(warmup):
        await call()
    samples = []
    for _ in range(repeat):
        start = time.perf_counter()
        await call()
        samples.append((time.perf_counter() - start) * 1000)
    return Stat("", samples)


async def explain(context: Any, call: Callable[[], Awaitable[Any]]) -> str:
    """EXPLAIN ANALYZE of each statement ``call`` runs, as the app role under RLS."""
    from portal.db import get_engine
    from tenants.context import tenant_scope

    async with captured_sql() as statements, tenant_scope(context):
        await call()
    engine: Any = get_engine()
    parts = []
    async with tenant_scope(context):
        connection = engine.current_transaction.get().connection
        for sql, args in statements:
            if not sql.lstrip().upper().startswith("SELECT"):
                continue
            rows = await connection.fetch("EXPLAIN (ANALYZE, BUFFERS, COSTS OFF) " + sql, *args)
            plan = [row[0] for row in rows]
            parts.append("  " + _short(sql) + "\n" + "\n".join("    " + line for line in _summary(plan)))
    return "\n".join(parts)


def _short(sql: str) -> str:
    text = " ".join(sql.split())
    where = text.find(" WHERE ")
    head = text[: text.find(" FROM ")] if " FROM " in text else text[:60]
    return (head[:50] + " … " + text[where:][:170]) if where > 0 else text[:220]


def _summary(plan: list[str]) -> list[str]:
    """The plan's nodes and timing, without the per-node buffer noise."""
    keep = (
        "Scan",
        "Sort",
        "Limit",
        "Join",
        "Loop",
        "Aggregate",
        "Index Cond",
        "Planning Time",
        "Execution Time",
        "Rows Removed",
        "Sort Method",
    )
    lines = [line.rstrip() for line in plan if any(word in line for word in keep)]
    return lines[:16]


def probe_calls(probe: TenantData) -> dict[str, tuple[Any, Callable[[], Awaitable[Any]]]]:
    """What is timed: label -> (acting context, service call)."""
    from portal.orders import services
    from tenants.context import TenantContext, operator_context
    from tenants.roles import Role

    planner = operator_context(_tenant_record(probe), "bench")
    supplier = TenantContext(
        tenant_id=probe.id,
        tenant_slug=probe.slug,
        tenant_name="probe",
        time_zone="Asia/Shanghai",
        currency="CNY",
        role=Role.SUPPLIER_ADMIN,
        supplier_id=probe.suppliers[0],
    )
    return {
        BOARD: (planner, lambda: services.board(status="in_production")),
        "board, all statuses (planner)": (planner, lambda: services.board()),
        INBOX: (supplier, lambda: services.inbox(7)),
        "board (supplier admin)": (supplier, lambda: services.board()),
    }


def _tenant_record(probe: TenantData) -> Any:
    class Record:
        id, slug, name, time_zone, currency = probe.id, probe.slug, "probe", "Asia/Shanghai", "CNY"

    return Record


async def measure_round(probe: TenantData, repeat: int, warm: bool) -> dict[str, list[float]]:
    from tenants.context import tenant_scope

    samples: dict[str, list[float]] = {}
    for label, (context, fn) in probe_calls(probe).items():

        async def call(context: Any = context, fn: Callable[[], Awaitable[Any]] = fn) -> Any:
            async with tenant_scope(context):
                return await fn()

        samples[label] = (await timed(call, repeat, warmup=0 if warm else 20)).samples
    return samples


async def plans(probe: TenantData) -> dict[str, str]:
    calls = probe_calls(probe)
    return {label: await explain(*calls[label]) for label in (BOARD, INBOX)}


# -- import -------------------------------------------------------------------


def import_workbook(tenant: TenantData, lines: int, rows_per_order: int = 250) -> bytes:
    import openpyxl

    workbook = openpyxl.Workbook(write_only=True)
    sheet = workbook.create_sheet("Orders")
    sheet.append(["order", "supplier_code", "item_code", "operation", "quantity", "unit_price", "due_date", "shared_note"])
    rng = random.Random(7)
    due = date.today() + timedelta(days=30)
    for index in range(lines):
        order = index // rows_per_order
        sheet.append(
            [
                f"IMP-{order:05d}",
                tenant.supplier_codes[order % len(tenant.supplier_codes)],
                rng.choice(tenant.item_codes),
                "CNC",
                rng.randint(1, 500),
                rng.randint(100, 99_999) / 100,
                due + timedelta(days=rng.randint(0, 60)),
                "Imported by the benchmark" if index % rows_per_order == 0 else None,
            ]
        )
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


async def bench_import(probe: TenantData, lines: int) -> dict[str, float]:
    from portal.imports.registry import read_upload, run_import
    from portal.orders.importing import ORDERS
    from tenants.context import operator_context, tenant_scope

    data = import_workbook(probe, lines)
    figures: dict[str, float] = {"file_kb": len(data) / 1024, "load_average": os.getloadavg()[0]}
    start = time.perf_counter()
    sheet = await read_upload(ORDERS, data, "bench.xlsx")
    figures["parse_s"] = time.perf_counter() - start
    async with tenant_scope(operator_context(_tenant_record(probe), "bench-import")):
        started = time.perf_counter()
        dry = await run_import(ORDERS, sheet, dry_run=True)
        figures["check_s"] = time.perf_counter() - started
        assert not dry.errors, [error.translated() for error in dry.errors[:5]]
        started = time.perf_counter()
        report = await run_import(ORDERS, sheet, dry_run=False)
        figures["save_s"] = time.perf_counter() - started
    figures["total_s"] = time.perf_counter() - start
    figures["orders"] = len(report.created)
    figures["load_average"] = max(figures["load_average"], os.getloadavg()[0])
    return figures


# -- worker: one cluster at one scale -----------------------------------------


async def worker(args: argparse.Namespace, cluster: PostgresCluster) -> None:
    """Load one scale, then answer the orchestrator's commands on stdin
    (``measure N``, ``plans``, ``import N``, ``quit``) with one JSON line each."""
    import asyncpg

    from portal.db import get_engine, start_engine, stop_engine

    rng = random.Random(42)  # the probe tenant gets the same rows at every scale
    owner = await asyncpg.connect(cluster.owner_url)
    engine = get_engine()
    await start_engine(engine)
    try:
        started = time.perf_counter()
        tenants = await load_tenants(owner, args.tenants, rng)
        probe, others = tenants[0], tenants[1:]
        orders = await load_orders(owner, [(probe, args.probe_lines)], rng)
        orders += await load_orders(owner, spread(others, args.lines - args.probe_lines), rng)
        await vacuum_analyze(owner)
        lines = args.probe_lines + max(0, args.lines - args.probe_lines)
        _answer({"lines": lines, "orders": orders, "probe_lines": probe.lines, "load_s": time.perf_counter() - started})
        warm = False
        for command in sys.stdin:
            verb, _, argument = command.strip().partition(" ")
            if verb == "measure":
                _answer(await measure_round(probe, int(argument), warm))
                warm = True
            elif verb == "plans":
                _answer(await plans(probe))
            elif verb == "import":
                _answer(await bench_import(probe, int(argument)))
            else:
                break
    finally:
        await stop_engine(engine)
        await owner.close()


def _answer(payload: Any) -> None:
    sys.stdout.write(json.dumps(payload) + "\n")
    sys.stdout.flush()


def run_worker(args: argparse.Namespace) -> None:
    cluster = PostgresCluster.start()
    var_dir = tempfile.mkdtemp(prefix="portal-bench-")
    try:
        # Before any portal module is imported: settings are read once.
        os.environ.update(
            PORTAL_DATABASE_URL=cluster.app_url,
            PORTAL_MIGRATION_DATABASE_URL=cluster.owner_url,
            PORTAL_VAR_DIR=var_dir,
            PORTAL_STORAGE_URL=f"file://{var_dir}/blobs",
            PORTAL_SECRET_KEY="bench-secret-key-that-is-long-enough-0123456789",
        )
        os.environ.pop("PORTAL_SMTP_URL", None)
        subprocess.run([sys.executable, "-m", "portal", "migrate"], check=True, capture_output=True, cwd=ROOT)
        asyncio.run(worker(args, cluster))
    finally:
        cluster.stop()
        shutil.rmtree(var_dir, ignore_errors=True)


# -- orchestrator -------------------------------------------------------------


class Worker:
    def __init__(self, args: argparse.Namespace, lines: int) -> None:
        command = [sys.executable, __file__, "--worker", "--lines", str(lines), "--tenants", str(args.tenants)]
        command += ["--probe-lines", str(args.probe_lines)]
        self.process = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        self.lines = lines
        self.ready: dict[str, Any] = {}

    def ask(self, command: str | None = None) -> Any:
        assert self.process.stdin is not None
        assert self.process.stdout is not None
        if command is not None:
            self.process.stdin.write(command + "\n")
            self.process.stdin.flush()
        answer = self.process.stdout.readline()
        if not answer:
            raise RuntimeError(f"the worker for {self.lines:,} lines stopped")
        return json.loads(answer)

    def close(self) -> None:
        if self.process.poll() is None and self.process.stdin is not None:
            self.process.stdin.write("quit\n")
            self.process.stdin.flush()
            self.process.wait(timeout=120)


def orchestrate(args: argparse.Namespace) -> None:
    from tests.support.postgres import postgres_bin

    version = subprocess.run([str(postgres_bin() / "postgres"), "--version"], capture_output=True, text=True).stdout.strip()
    print(f"{version}; {os.cpu_count()} CPUs; {args.tenants:,} tenants, {SUPPLIERS_PER_TENANT} suppliers and {ITEMS_PER_TENANT} items each")
    scales = [size for size in (args.small_lines, args.lines) if size > 0]
    workers = []
    try:
        for size in scales:
            # One at a time: two loads at once would only slow each other.
            started = time.perf_counter()
            current = Worker(args, size)
            workers.append(current)
            current.ready = current.ask()
            print(
                f"loaded {current.ready['lines']:,} lines ({current.ready['orders']:,} orders) in {time.perf_counter() - started:.0f} s",
                flush=True,
            )
        samples: dict[int, dict[str, list[float]]] = {worker.lines: {} for worker in workers}
        loads = []
        per_round = max(1, args.repeat // args.rounds)
        for round_number in range(args.rounds):
            # Interleaved, in alternating order: load from other processes
            # on the machine falls on both scales alike.
            loads.append(os.getloadavg()[0])
            for current in workers if round_number % 2 == 0 else list(reversed(workers)):
                for label, values in current.ask(f"measure {per_round}").items():
                    samples[current.lines].setdefault(label, []).extend(values)
        loads.append(os.getloadavg()[0])
        report(args, workers, samples, loads)
        for current in workers:
            print(f"\nPlans at {current.lines:,} lines ({current.ready['orders']:,} orders), EXPLAIN ANALYZE as the app role under RLS:")
            found = current.ask("plans")
            for label, plan in found.items():
                print(f"- {label}\n{plan}")
            verdict = "uses" if "order_tenant_status_due" in found[BOARD] else "does NOT use"
            print(f"=> the board query {verdict} the (tenant, status, due_date, id) index order_tenant_status_due")
        if not args.skip_import:
            figures = workers[-1].ask(f"import {args.import_lines}")
            print(
                f"\nImport of a {args.import_lines:,}-line XLSX ({figures['file_kb']:.0f} KB, {figures['orders']:.0f} orders)"
                f" into the probe tenant at {workers[-1].lines:,} lines, real import path (read_upload + run_import):"
            )
            print(
                f"  parse {figures['parse_s']:.2f} s, check (dry run) {figures['check_s']:.2f} s, save {figures['save_s']:.2f} s;"
                f" upload to saved {figures['parse_s'] + figures['save_s']:.2f} s (load average {figures['load_average']:.1f})"
            )
    finally:
        for current in workers:
            current.close()


def report(args: argparse.Namespace, workers: list[Worker], samples: dict[int, dict[str, list[float]]], loads: list[float]) -> None:
    probe_lines = workers[0].ready["probe_lines"]
    print(
        f"\nProbe tenant: {probe_lines:,} lines at every scale. p50 / p95 in ms, {args.rounds} interleaved rounds,"
        f" {max(1, args.repeat // args.rounds) * args.rounds} calls per figure; service functions in tenant_scope (no HTTP),"
        " app role, RLS on"
    )
    header = f"{'':40}" + "".join(f"{f'{worker.lines:,} lines':>22}" for worker in workers)
    print(header + (f"{'p95 ratio':>12}" if len(workers) == 2 else ""))
    for label in samples[workers[0].lines]:
        stats = [Stat(label, samples[worker.lines][label]) for worker in workers]
        cells = "".join(f"{stat.p50:>11.2f} / {stat.p95:>8.2f}" for stat in stats)
        ratio = f"{stats[1].p95 / stats[0].p95:>11.2f}x" if len(stats) == 2 else ""
        print(f"{label:40}{cells}{ratio}")
    print(f"load average while measuring: {min(loads):.1f} to {max(loads):.1f} ({os.cpu_count()} CPUs)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tenants", type=int, default=1000)
    parser.add_argument("--lines", type=int, default=1_000_000, help="order lines in all tenants at the large scale")
    parser.add_argument("--small-lines", type=int, default=10_000, help="order lines at the small scale (0: only the large one)")
    parser.add_argument("--probe-lines", type=int, default=5_000, help="lines of the measured tenant, the same at every scale")
    parser.add_argument("--repeat", type=int, default=400, help="timed calls per figure")
    parser.add_argument("--rounds", type=int, default=10, help="interleaved rounds the calls are split into")
    parser.add_argument("--import-lines", type=int, default=10_000)
    parser.add_argument("--skip-import", action="store_true")
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if min(size for size in (args.small_lines or args.lines, args.lines)) < args.probe_lines:
        parser.error("every scale needs at least --probe-lines lines")
    if args.worker:
        run_worker(args)
    else:
        orchestrate(args)


if __name__ == "__main__":
    main()
