"""Supplier scorecards at scale on PostgreSQL: the time to compute one
month's scorecards for a tenant with 200 suppliers, and the QA board's
p95, each at 10k order lines and at 1M order lines over 12 months.

    .venv/bin/python bench/scorecards.py                      # 10k beside 1M lines (loading 1M takes minutes)
    .venv/bin/python bench/scorecards.py --lines 100000       # a quick run
    .venv/bin/python bench/scorecards.py --lines 20000 --repeat 5   # smoke test

One throwaway PostgreSQL cluster (tests/support/postgres.py), migrated as
the owner; two tenants of 200 suppliers loaded with COPY as the table owner
(the ORM would take too long): the small one with ``--small-lines`` lines,
the large one with ``--lines``, due over the last 12 months, each order
delivered once (80 % on time, 5 % of the quantity rejected). The service
functions then run as the unprivileged app role under row-level security
inside ``tenant_scope``, as a request does:

- scorecards: ``scorecards.scorecards(<a month>)``, every supplier, ranked;
  floor: one ``count(*)`` of the tenant's lines due that month, the least a
  scorecard must read. Budget: under 2 s (else precompute in a job and
  read under 100 ms).
- board: what QA's home computes (open NCRs by age, QC documents waiting,
  deliveries to receive); the trend charts load afterwards as images and
  are timed on their own. Budget: p95 at 1M lines within 1.5x the p95 at
  10k lines.

It prints figures and never asserts timings.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, date, datetime, timedelta
from datetime import time as clock
from decimal import Decimal
from pathlib import Path
from types import SimpleNamespace
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.support.postgres import PostgresCluster  # noqa: E402

SUPPLIERS = 200
BUDGET_SCORECARDS_S = 2.0
BUDGET_BOARD_RATIO = 1.5
COPY_BATCH = 50_000


def _id(rng: random.Random) -> uuid.UUID:
    return uuid.UUID(int=rng.getrandbits(128), version=4)


async def _copy(connection: Any, table: str, columns: list[str], rows: list[tuple[Any, ...]]) -> None:
    if rows:
        await connection.copy_records_to_table(table, records=rows, columns=columns)
        rows.clear()


async def load_tenant(connection: Any, slug: str, lines: int, rng: random.Random) -> tuple[Any, uuid.UUID]:
    """A tenant of 200 suppliers whose ``lines`` order lines fall due over
    the last 12 months, each order delivered once."""
    tenant_id = _id(rng)
    suppliers = [_id(rng) for _ in range(SUPPLIERS)]
    item = _id(rng)
    await _copy(connection, "tenant", ["id", "slug", "name"], [(tenant_id, slug, slug)])
    await _copy(
        connection,
        "supplier",
        ["id", "tenant", "code", "name"],
        [(s, tenant_id, f"S{n:03d}", f"Supplier {n}") for n, s in enumerate(suppliers)],
    )
    await _copy(connection, "item", ["id", "tenant", "code", "name"], [(item, tenant_id, "P-1", "Part")])
    orders: list[tuple[Any, ...]] = []
    order_lines: list[tuple[Any, ...]] = []
    deliveries: list[tuple[Any, ...]] = []
    delivery_lines: list[tuple[Any, ...]] = []
    today = date.today()
    number = 0
    while lines > 0:
        count = min(lines, rng.randint(1, 7))
        lines -= count
        number += 1
        order_id, delivery_id, supplier = _id(rng), _id(rng), rng.choice(suppliers)
        due = today - timedelta(days=rng.randint(0, 364))
        issued = datetime.combine(due - timedelta(days=30), clock(2), tzinfo=UTC)
        received = datetime.combine(due + timedelta(days=0 if rng.random() < 0.8 else rng.randint(1, 10)), clock(3), tzinfo=UTC)
        orders.append(
            (
                order_id,
                tenant_id,
                f"WO-{number:07d}",
                supplier,
                "delivered",
                "CNY",
                due,
                1,
                2,
                issued,
                issued,
                issued + timedelta(hours=rng.randint(1, 48)),
            )
        )
        deliveries.append((delivery_id, tenant_id, f"DN-{number:07d}", supplier, order_id, "received", issued, issued, received))
        for line_no in range(1, count + 1):
            line_id, quantity = _id(rng), Decimal(rng.randint(1, 500))
            rejected = Decimal(0) if rng.random() > 0.05 else min(quantity, Decimal(rng.randint(1, 5)))
            order_lines.append((line_id, tenant_id, order_id, line_no, item, quantity, Decimal(2), due, quantity - rejected, False))
            delivery_lines.append((_id(rng), tenant_id, delivery_id, line_no, line_id, "L-1", quantity, quantity - rejected, rejected))
        if len(order_lines) >= COPY_BATCH or lines == 0:
            await _copy(
                connection,
                "outsourced_order",
                [
                    "id",
                    "tenant",
                    "number",
                    "supplier",
                    "status",
                    "currency",
                    "due_date",
                    "revision",
                    "version",
                    "created_at",
                    "issued_at",
                    "accepted_at",
                ],
                orders,
            )
            await _copy(
                connection,
                "order_line",
                ["id", "tenant", "order", "line_no", "item", "quantity", "unit_price", "due_date", "delivered_quantity", "removed"],
                order_lines,
            )
            await _copy(
                connection,
                "delivery",
                ["id", "tenant", "number", "supplier", "order", "status", "created_at", "shipped_at", "received_at"],
                deliveries,
            )
            await _copy(
                connection,
                "delivery_line",
                ["id", "tenant", "delivery", "line_no", "order_line", "lot", "quantity", "accepted_quantity", "rejected_quantity"],
                delivery_lines,
            )
    row = await connection.fetchrow("SELECT id, slug, name, time_zone, currency FROM tenant WHERE id = $1", tenant_id)
    return SimpleNamespace(**dict(row)), tenant_id


def _p(samples: list[float], share: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


async def timed(context: Any, call: Callable[[], Awaitable[Any]], repeat: int) -> list[float]:
    from tenants.context import tenant_scope

    samples = []
    for _ in range(repeat):
        async with tenant_scope(context):
            started = time.perf_counter()
            await call()
            samples.append(time.perf_counter() - started)
    return samples


async def measure(tenant: Any, repeat: int) -> dict[str, list[float]]:
    from dataclasses import replace

    from portal.db import get_engine
    from portal.deliveries.services import deliveries_to_receive
    from portal.kpi import store
    from portal.quality import ncrs, scorecards
    from portal.quality.services import qc_todo
    from tenants.context import operator_context
    from tenants.roles import Role

    qa = replace(operator_context(tenant, "bench"), role=Role.QA)
    month = (date.today().replace(day=1) - timedelta(days=1)).strftime("%Y-%m")

    async def floor() -> None:
        engine: Any = get_engine()
        start, end = (
            scorecards.parse_period(month, tenant.time_zone).first_day,
            scorecards.parse_period(month, tenant.time_zone).next_first_day,
        )
        await engine.current_transaction.get().connection.fetchval(
            "SELECT count(*) FROM order_line WHERE tenant = $1 AND due_date >= $2 AND due_date < $3", tenant.id, start, end
        )

    async def board() -> None:
        await ncrs.open_ages()
        await qc_todo()
        await deliveries_to_receive()

    return {
        "floor": await timed(qa, floor, repeat),
        "scorecards": await timed(qa, lambda: scorecards.scorecards(month), repeat),
        "board": await timed(qa, board, repeat * 4),
        "trend": await timed(qa, store.trend, max(1, repeat // 3)),
    }


async def bench(args: argparse.Namespace, cluster: PostgresCluster) -> None:
    import asyncpg

    from portal.db import get_engine, start_engine, stop_engine

    rng = random.Random(7)
    owner = await asyncpg.connect(cluster.owner_url)
    engine = get_engine()
    await start_engine(engine)
    try:
        started = time.perf_counter()
        small, _ = await load_tenant(owner, "bench-small", args.small_lines, rng)
        large, _ = await load_tenant(owner, "bench-large", args.lines, rng)
        for table in ("outsourced_order", "order_line", "delivery", "delivery_line", "supplier", "tenant"):
            await owner.execute(f'VACUUM (ANALYZE) "{table}"')
        print(f"loaded {args.small_lines:,} and {args.lines:,} lines in {time.perf_counter() - started:.0f} s", flush=True)
        figures = {"small": await measure(small, args.repeat), "large": await measure(large, args.repeat)}
    finally:
        await stop_engine(engine)
        await owner.close()
    print(f"{'figure':<12}{'lines':>12}{'p50 s':>10}{'p95 s':>10}{'floor p50 s':>14}  budget")
    for scale, lines in (("small", args.small_lines), ("large", args.lines)):
        floor = statistics.median(figures[scale]["floor"])
        for name in ("scorecards", "board", "trend"):
            samples = figures[scale][name]
            budget = {
                "scorecards": f"< {BUDGET_SCORECARDS_S} s",
                "board": f"p95 <= {BUDGET_BOARD_RATIO}x the 10k p95",
                "trend": "loads after the page",
            }[name]
            print(f"{name:<12}{lines:>12,}{statistics.median(samples):>10.3f}{_p(samples, 0.95):>10.3f}{floor:>14.4f}  {budget}")
    ratio = _p(figures["large"]["board"], 0.95) / _p(figures["small"]["board"], 0.95)
    print(f"board p95 ratio large/small: {ratio:.2f} (budget {BUDGET_BOARD_RATIO})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--lines", type=int, default=1_000_000)
    parser.add_argument("--small-lines", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=10)
    args = parser.parse_args()
    cluster = PostgresCluster.start()
    var_dir = tempfile.mkdtemp(prefix="portal-bench-")
    try:
        os.environ.update(
            PORTAL_DATABASE_URL=cluster.app_url,
            PORTAL_MIGRATION_DATABASE_URL=cluster.owner_url,
            PORTAL_VAR_DIR=var_dir,
            PORTAL_STORAGE_URL=f"file://{var_dir}/blobs",
            PORTAL_SECRET_KEY="bench-secret-key-that-is-long-enough-0123456789",
        )
        os.environ.pop("PORTAL_SMTP_URL", None)
        subprocess.run([sys.executable, "-m", "portal", "migrate"], check=True, capture_output=True, cwd=ROOT)
        asyncio.run(bench(args, cluster))
    finally:
        cluster.stop()
        shutil.rmtree(var_dir, ignore_errors=True)


if __name__ == "__main__":
    main()
