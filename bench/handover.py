"""Supplier-change handover at scale, on a throwaway PostgreSQL cluster (the
app connecting as the unprivileged role, under row-level security):

    .venv/bin/python bench/handover.py           # small: 200 open lines, 500 documents, 50 MB package
    .venv/bin/python bench/handover.py --full    # the issue's size: 2,000 lines, 5,000 documents, 1 GB

A child process (settings are read once per process) loads one tenant whose
outgoing supplier holds ``--lines`` open order lines (10 per order, issued
through the order services) and ``--documents`` documents on those orders
(rows written through the scoping layer; their files, ``--package-mb`` in
all, written to the local storage), then times, through the real services
inside a tenant scope (one transaction with the RLS settings, as a request
has): the pre-fill (``create_handover`` of all the supplier's work) and the
completion (``complete_handover``, every entry signed off, every order
transferred). Beside each: a floor measured in the same run, reading the
same orders and lines through the scoping layer.

Then the package job runs in a process of its own, whose peak RSS is read
from the operating system when it ends, beside the peak of the WeasyPrint
processes it starts for the index (portal/handover/index_pdf.py); the floor
is a process that loads the same modules and renders the same index PDF
without writing the ZIP.
It prints figures and budgets; it asserts nothing.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.support.postgres import PostgresCluster  # noqa: E402

COMPLETION_BUDGET_S = 5.0
RSS_BUDGET_MB = 200
LINES_PER_ORDER = 10


def _child(*args: str, env: dict[str, str]) -> tuple[str, int]:
    """Run this script as a child; returns its last output line and its peak RSS (kB)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    result = subprocess.run([sys.executable, __file__, *args], env=env, cwd=ROOT, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise SystemExit(f"{' '.join(args)} failed:\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}")
    # ru_maxrss of children is the largest of any child so far: children run
    # smallest first (migrate, floor) so that each reading is its own.
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return result.stdout.strip().splitlines()[-1], peak if peak > before else before


async def _load(lines: int, documents: int, package_mb: int) -> dict[str, Any]:
    from datetime import date, timedelta
    from decimal import Decimal
    from uuid import uuid4

    from portal.documents.storage import object_key, open_storage
    from portal.documents.tables import Document, DocumentVersion
    from portal.items.services import ItemIn, create_item
    from portal.orders import services as orders
    from portal.orders.schemas import OrderCreate, OrderLineIn
    from portal.settings import get_settings
    from tenants.context import operator_context, tenant_scope
    from tenants.scoping import scoped
    from tenants.services.suppliers import SupplierCreate, create_supplier
    from tenants.services.tenants import TenantCreate, create_tenant

    tenant = await create_tenant(TenantCreate(slug="bench", name="Bench"))
    context = operator_context(tenant, "bench")
    async with tenant_scope(context):
        a = (await create_supplier(SupplierCreate(code="A", name="Outgoing"))).id
        b = (await create_supplier(SupplierCreate(code="B", name="Incoming"))).id
        parts = [(await create_item(ItemIn(code=f"P-{n:03d}", name=f"Part {n}"))).id for n in range(20)]
    order_ids = []
    due = date.today() + timedelta(days=30)
    for start in range(0, lines, LINES_PER_ORDER):
        async with tenant_scope(context):
            body = [
                OrderLineIn(item_id=parts[(start + n) % len(parts)], quantity=Decimal(10), unit_price=Decimal("2.5"), due_date=due)
                for n in range(min(LINES_PER_ORDER, lines - start))
            ]
            order = await orders.create_order(OrderCreate(supplier_id=a, lines=body))
            order_ids.append((await orders.fire(order.id, "issue")).id)
    storage = open_storage(get_settings())
    size = max(1, package_mb * 1024 * 1024 // max(documents, 1))
    block = os.urandom(min(size, 1024 * 1024))
    async with tenant_scope(context):
        rows, versions = [], []
        for n in range(documents):
            document_id, version_id = uuid4(), uuid4()
            key = object_key(tenant.id, document_id, version_id)
            path = storage.local_path(key)
            assert path is not None, "the bench writes to local storage"
            path.parent.mkdir(parents=True, exist_ok=True)
            digest = hashlib.sha256()
            with path.open("wb") as out:
                head = f"document {n}\n".encode()
                out.write(head)
                digest.update(head)
                left = size
                while left > 0:
                    chunk = block[: min(left, len(block))]
                    out.write(chunk)
                    digest.update(chunk)
                    left -= len(chunk)
            order_id = order_ids[n % len(order_ids)]
            rows.append(
                scoped(Document).new(
                    id=document_id,
                    supplier=a,
                    attached_type="order",
                    attached_id=order_id,
                    category="drawing",
                    title=f"Drawing {n}",
                    current_version=1,
                )
            )
            versions.append(
                scoped(DocumentVersion).new(
                    id=version_id,
                    document=document_id,
                    supplier=a,
                    version=1,
                    sha256=digest.hexdigest(),
                    size=size + len(head),
                    kind="pdf",
                    content_type="application/pdf",
                    original_name=f"d{n}.pdf",
                    safe_name=f"d{n}.pdf",
                    storage_key=key,
                )
            )
        for start in range(0, len(rows), 500):
            await Document.insert(*rows[start : start + 500])
            await DocumentVersion.insert(*versions[start : start + 500])
    return {"tenant": str(tenant.id), "a": str(a), "b": str(b)}


async def _measure(lines: int, documents: int, package_mb: int) -> dict[str, Any]:
    from datetime import UTC, datetime
    from uuid import UUID

    from portal.handover import services
    from portal.handover.schemas import HandoverCreate
    from portal.handover.tables import HandoverItem
    from portal.orders.tables import Order, OrderLine
    from tenants.context import operator_context, system_scope, tenant_scope
    from tenants.scoping import scoped
    from tenants.tables import Tenant

    ids = await _load(lines, documents, package_mb)
    async with system_scope("bench"):
        tenant = await Tenant.objects().where(Tenant.slug == "bench").first()
    context = operator_context(tenant, "bench")

    async def floor() -> float:
        started = time.perf_counter()
        async with tenant_scope(context):
            await scoped(Order).select(Order.id, Order.number).where(Order.supplier == ids["a"])
            await (
                scoped(OrderLine)
                .select(OrderLine.id, OrderLine.quantity, OrderLine.delivered_quantity)
                .where(OrderLine.order.supplier == ids["a"])
            )
        return time.perf_counter() - started

    floor_s = min([await floor() for _ in range(3)])
    started = time.perf_counter()
    async with tenant_scope(context):
        handover = await services.create_handover(HandoverCreate(from_supplier_id=UUID(ids["a"]), to_supplier_id=UUID(ids["b"])))
    prefill_s = time.perf_counter() - started
    async with tenant_scope(context):
        handover = await services.start_handover(handover.id, handover.version)
        # Sign-offs are the parties' clicks, not what is measured: written at once.
        await (
            scoped(HandoverItem)
            .update({HandoverItem.decision: "transfer", HandoverItem.signed_off_at: datetime.now(UTC)})
            .where((HandoverItem.handover == handover.id) & (HandoverItem.source == "order"))
        )
        await (
            scoped(HandoverItem)
            .update({HandoverItem.signed_off_at: datetime.now(UTC)})
            .where((HandoverItem.handover == handover.id) & HandoverItem.signed_off_at.is_null())
        )
    started = time.perf_counter()
    async with tenant_scope(context):
        done = await services.complete_handover(handover.id, handover.version)
    complete_s = time.perf_counter() - started
    return {
        "handover": str(handover.id),
        "entries": len(handover.items),
        "transferred": len(done.transferred_orders),
        "floor_s": floor_s,
        "prefill_s": prefill_s,
        "complete_s": complete_s,
    }


async def _package(handover_id: str, floor_only: bool) -> dict[str, Any]:
    from uuid import UUID

    from portal.handover import package
    from portal.handover.tables import Handover
    from tenants.context import operator_context, system_scope, tenant_scope
    from tenants.tables import Tenant

    if floor_only:
        async with system_scope("bench"):
            handover = await Handover.objects().where(Handover.id == UUID(handover_id)).first()
            assert handover is not None
            tenant = await Tenant.objects().where(Tenant.id == handover.tenant).first()
        async with tenant_scope(operator_context(tenant, "bench")):
            files = await package.packed_files(handover.id)
            context = await package._index_context(handover)
        import tempfile

        with tempfile.TemporaryDirectory() as folder:
            package.write_index(context, Path(folder) / "index.pdf")
        return {"files": len(files), **_peaks()}
    started = time.perf_counter()
    await package.package_job({"handover_id": handover_id})
    async with system_scope("bench"):
        row = await Handover.select(Handover.package_document).where(Handover.id == UUID(handover_id)).first()
    assert row is not None
    return {"seconds": time.perf_counter() - started, "document": str(row["package_document"]), **_peaks()}


def _peaks() -> dict[str, int]:
    """This process's own peak RSS and the largest of its children's (the
    index renderers), in kB."""
    return {
        "self_kb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
        "renderer_kb": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--full", action="store_true", help="the issue's size: 2,000 lines, 5,000 documents, a 1 GB package")
    parser.add_argument("--lines", type=int)
    parser.add_argument("--documents", type=int)
    parser.add_argument("--package-mb", type=int)
    parser.add_argument("--child", choices=["measure", "package", "floor"])
    parser.add_argument("--handover")
    args = parser.parse_args()
    lines = args.lines or (2000 if args.full else 200)
    documents = args.documents or (5000 if args.full else 500)
    package_mb = args.package_mb or (1024 if args.full else 50)
    if args.child == "measure":
        print(json.dumps(asyncio.run(_measure(lines, documents, package_mb))))
        return
    if args.child in ("package", "floor"):
        print(json.dumps(asyncio.run(_package(args.handover, args.child == "floor"))))
        return

    import tempfile

    var = Path(tempfile.mkdtemp(prefix="bench-handover-"))
    cluster = PostgresCluster.start()
    try:
        env = {key: value for key, value in os.environ.items() if not key.startswith("PORTAL_")}
        env.update(
            PORTAL_VAR_DIR=str(var),
            PORTAL_STORAGE_URL=f"file://{var}/blobs",
            PORTAL_SECRET_KEY="bench-secret-key-that-is-long-enough-0123456789",
            PORTAL_DATABASE_URL=cluster.app_url,
            PORTAL_MIGRATION_DATABASE_URL=cluster.owner_url,
            PORTAL_JOBS_IN_PROCESS="false",
        )
        subprocess.run([sys.executable, "-m", "portal", "migrate"], env=env, cwd=ROOT, check=True, capture_output=True)
        out, _ = _child(
            "--child", "measure", "--lines", str(lines), "--documents", str(documents), "--package-mb", str(package_mb), env=env
        )
        figures = json.loads(out)
        print(
            f"handover of {lines} open lines ({figures['transferred']} orders), {documents} documents, "
            f"{figures['entries']} checklist entries, PostgreSQL + RLS"
        )
        print(f"  floor (read the supplier's orders and lines):  {figures['floor_s']:.2f} s")
        print(f"  pre-fill (create_handover):                  {figures['prefill_s']:.2f} s")
        print(f"  completion (complete_handover):              {figures['complete_s']:.2f} s   budget {COMPLETION_BUDGET_S:.0f} s")
        floor = json.loads(_child("--child", "floor", "--handover", figures["handover"], env=env)[0])
        started = time.perf_counter()
        job = json.loads(_child("--child", "package", "--handover", figures["handover"], env=env)[0])
        seconds = time.perf_counter() - started
        print(f"package of {package_mb} MB in {documents} files, built in {seconds:.1f} s")
        print(f"  floor RSS (modules + index PDF, no ZIP):     {floor['self_kb'] / 1024:.0f} MB")
        print(f"  peak RSS of the package job:                 {job['self_kb'] / 1024:.0f} MB   budget {RSS_BUDGET_MB} MB")
        print(f"  peak RSS of its index renderers (WeasyPrint): {job['renderer_kb'] / 1024:.0f} MB   budget {RSS_BUDGET_MB} MB")
    finally:
        cluster.stop()
        import shutil

        shutil.rmtree(var, ignore_errors=True)


if __name__ == "__main__":
    main()
