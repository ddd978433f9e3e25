"""Twelve months of history for the demo tenants, so that the scorecards,
the ranking and the board's trends show something real: every active
supplier gets a few orders due in each of the twelve months before the
current one, delivered on time or late and partly rejected on receipt by
its own profile (one improving, one slipping, one steady), and the larger
rejections became NCRs that went through their steps and were closed.
The first supplier also has two orders in production that the board
lists: one late, one behind plan.

Written as rows with their historical times (the services stamp "now"):
orders, lines, deliveries and NCRs of a part without a bill of materials,
so no material balance moves. Numbers carry an ``H`` (``WO-H2605-003``)
and never meet the counters of new records. Deterministic per tenant.

Idempotent: a tenant that has history orders is left alone."""

from __future__ import annotations

import hashlib
import io
import random
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Any
from uuid import uuid4
from zoneinfo import ZoneInfo

import anyio

from portal.deliveries.tables import Delivery, DeliveryLine
from portal.documents.storage import Storage, object_key, open_storage
from portal.documents.tables import Document, DocumentVersion
from portal.items.services import ItemIn, create_item
from portal.items.tables import Item
from portal.kpi import store
from portal.orders.tables import Order, OrderLine
from portal.quality.ncr_states import DEFAULT_DAYS, STEPS
from portal.quality.tables import DocumentReview, Ncr, NcrStep
from portal.settings import get_settings
from tenants.context import current
from tenants.operators import for_each_tenant
from tenants.roles import Role
from tenants.scoping import scoped
from tenants.tables import Membership, Supplier, Tenant

PART = ("P-BR-30", "支架 Bracket 30", "Q235, 镀锌 zinc plated", "pcs")
MONTHS = 12
ORDERS_PER_MONTH = 3
# Per supplier (by code order): on-time share and rejected share a year ago
# and last month; the months between move in a straight line.
PROFILES = [((0.70, 0.95), (0.08, 0.02)), ((0.95, 0.72), (0.02, 0.07)), ((0.86, 0.88), (0.04, 0.04))]
REASON = "尺寸超差 Out of tolerance"
# QC documents each history delivery was preceded by, and per supplier (by
# code order, as PROFILES) the share of first versions QA rejected a year
# ago and last month: improving, slipping, steady.
QC_DOCUMENTS = (("material_certificate", "材质证明 Material certificate"), ("inspection_report", "检验报告 Inspection report"))
QC_PROFILES = [(0.40, 0.05), (0.05, 0.35), (0.15, 0.15)]
QC_REASONS = ("缺少孔径实测值 Bore not measured", "炉号与来料不符 Heat number does not match the material")
# Marks the history's files (original_name): the loader's idempotence test.
QC_PREFIX = "QC-H"
PUTS_AT_ONCE = 16


def _month_starts(today: date) -> list[date]:
    """The first days of the twelve months before ``today``'s, oldest first."""
    starts = []
    year, month = today.year, today.month
    for _ in range(MONTHS):
        year, month = (year, month - 1) if month > 1 else (year - 1, 12)
        starts.append(date(year, month, 1))
    return starts[::-1]


async def load_history_demo(slugs: list[str]) -> bool:
    storage = open_storage(get_settings())

    async def load(tenant: Tenant) -> bool:
        created = await _load_tenant(tenant.slug)
        created = await _load_reviews(tenant.slug, storage) or created
        # A read never computes scorecards: keep the demo's periods now, so
        # the board's trends and the scorecards show at once rather than
        # after the first run of the kpi.scorecards job.
        await store.refresh_tenant(datetime.now(UTC))
        return created

    return await for_each_tenant(slugs, load)


async def _part() -> Any:
    code, name, spec, unit = PART
    found = await scoped(Item).select(Item.id).where(Item.code == code).first()
    return found["id"] if found else (await create_item(ItemIn(code=code, name=name, spec=spec, unit=unit))).id


async def _load_tenant(slug: str) -> bool:
    if await scoped(Order).exists().where(Order.number.like("WO-H%")):
        return False
    context = current()
    zone = ZoneInfo(context.time_zone)
    now = datetime.now(UTC)
    suppliers = await scoped(Supplier).select(Supplier.id).where(Supplier.status == "active").order_by(Supplier.code)
    if not suppliers:
        return False
    part = await _part()
    rng = random.Random(f"history-{slug}")
    rows: dict[str, list[Any]] = {"orders": [], "lines": [], "deliveries": [], "delivery_lines": [], "ncrs": [], "steps": []}
    starts = _month_starts(now.astimezone(zone).date())
    for index, supplier in enumerate(suppliers):
        (on_time_from, on_time_to), (rejected_from, rejected_to) = PROFILES[index % len(PROFILES)]
        for month_index, start in enumerate(starts):
            share = month_index / (MONTHS - 1)
            on_time = on_time_from + (on_time_to - on_time_from) * share
            rejected = rejected_from + (rejected_to - rejected_from) * share
            for _ in range(ORDERS_PER_MONTH):
                _order(rows, rng, supplier["id"], part, start, on_time, rejected, zone, now)
    _at_work(rows, suppliers[0]["id"], part, zone, now)
    for table, key in (
        (Order, "orders"),
        (OrderLine, "lines"),
        (Delivery, "deliveries"),
        (DeliveryLine, "delivery_lines"),
        (Ncr, "ncrs"),
        (NcrStep, "steps"),
    ):
        if rows[key]:
            await table.insert(*rows[key])
    return True


def _order(
    rows: dict[str, list[Any]],
    rng: random.Random,
    supplier: Any,
    part: Any,
    start: date,
    on_time: float,
    rejected: float,
    zone: ZoneInfo,
    now: datetime,
) -> None:
    """One order due in the month of ``start``, its delivery and, when much
    was rejected, its closed NCR."""
    due = start + timedelta(days=rng.randint(1, 26))
    number = len(rows["orders"]) + 1
    label = f"{due:%y%m}-{number:03d}"
    issued = datetime.combine(due - timedelta(days=rng.randint(18, 30)), time(9), zone).astimezone(UTC)
    accepted = issued + timedelta(hours=rng.randint(2, 40))
    late = rng.random() >= on_time
    received_day = due + timedelta(days=rng.randint(2, 12)) if late else due - timedelta(days=rng.randint(0, 3))
    received = min(datetime.combine(received_day, time(10), zone).astimezone(UTC), now - timedelta(hours=1))
    order = scoped(Order).new(
        id=uuid4(),
        number=f"WO-H{label}",
        supplier=supplier,
        status="closed",
        due_date=due,
        revision=0,
        created_at=issued - timedelta(hours=2),
        updated_at=received,
        issued_at=issued,
        accepted_at=accepted,
    )
    delivery = scoped(Delivery).new(
        id=uuid4(),
        number=f"DN-H{label}",
        supplier=supplier,
        order=order.id,
        status="received",
        created_at=received - timedelta(days=1),
        updated_at=received,
        shipped_at=received - timedelta(days=1),
        received_at=received,
    )
    rows["orders"].append(order)
    rows["deliveries"].append(delivery)
    for line_no in range(1, rng.choice((1, 1, 2)) + 1):
        quantity = Decimal(rng.randrange(50, 400, 10))
        bad = Decimal(0)
        if rng.random() < rejected * 5:
            bad = min(quantity, Decimal(max(1, round(float(quantity) * rng.uniform(rejected * 0.5, rejected * 2)))))
        line = scoped(OrderLine).new(
            id=uuid4(),
            order=order.id,
            line_no=line_no,
            item=part,
            operation="冲压 Stamping",
            quantity=quantity,
            unit_price=Decimal("6.80"),
            due_date=due,
            delivered_quantity=quantity - bad,
        )
        lot = f"L{received_day:%y%m%d}-{line_no}"
        delivered = scoped(DeliveryLine).new(
            id=uuid4(),
            delivery=delivery.id,
            line_no=line_no,
            order_line=line.id,
            lot=lot,
            quantity=quantity,
            accepted_quantity=quantity - bad,
            rejected_quantity=bad,
            reject_reason=REASON if bad else "",
        )
        rows["lines"].append(line)
        rows["delivery_lines"].append(delivered)
        if bad and bad / quantity >= Decimal("0.03"):
            _ncr(rows, rng, supplier, order, line, delivered, bad, lot, received, now)


def _ncr(
    rows: dict[str, list[Any]],
    rng: random.Random,
    supplier: Any,
    order: Any,
    line: Any,
    delivered: Any,
    bad: Decimal,
    lot: str,
    received: datetime,
    now: datetime,
) -> None:
    """A closed NCR for a receipt's rejection: each step accepted within its
    days (containment in 8 to 40 hours), closed a day after verification.
    One that would close after now is left out: history only."""
    issued = received + timedelta(hours=2)
    accepted_at = {
        STEPS[0]: issued + timedelta(hours=rng.randint(8, 40)),
        STEPS[1]: issued + timedelta(days=rng.randint(3, 7)),
        STEPS[2]: issued + timedelta(days=rng.randint(9, 14)),
        STEPS[3]: issued + timedelta(days=rng.randint(18, 30)),
    }
    closed = accepted_at[STEPS[3]] + timedelta(days=1)
    if closed >= now:
        return
    severity = "major" if bad / line.quantity >= Decimal("0.08") else "minor"
    ncr = scoped(Ncr).new(
        id=uuid4(),
        number=f"NCR-H{issued:%y%m}-{len(rows['ncrs']) + 1:03d}",
        supplier=supplier,
        source="delivery_line",
        order=order.id,
        order_line=line.id,
        delivery_line=delivered.id,
        severity=severity,
        title=f"{REASON} · {order.number}",
        description="来料检验拒收，已返工并改进夹具 Rejected on receipt; reworked, fixture improved",
        lots=[lot],
        quantity=bad,
        status="closed",
        created_at=issued,
        updated_at=closed,
        issued_at=issued,
        verified_at=accepted_at[STEPS[3]],
        closed_at=closed,
    )
    rows["ncrs"].append(ncr)
    for position, step in enumerate(STEPS, start=1):
        rows["steps"].append(
            scoped(NcrStep).new(
                id=uuid4(),
                supplier=supplier,
                ncr=ncr.id,
                step=step.value,
                position=position,
                due_at=issued + timedelta(days=DEFAULT_DAYS[step]),
                started_at=issued if position == 1 else accepted_at[STEPS[position - 2]],
                answered_at=accepted_at[step] - timedelta(hours=2),
                accepted_at=accepted_at[step],
            )
        )


def _at_work(rows: dict[str, list[Any]], supplier: Any, part: Any, zone: ZoneInfo, now: datetime) -> None:
    """In production with nothing done: due 3 days ago (late), and due in 8
    days after 20 of its 28 days (behind plan)."""
    today = now.astimezone(zone).date()
    for name, due_in, issued_days_ago, quantity in (("W1", -3, 25, 200), ("W2", 8, 20, 300)):
        due = today + timedelta(days=due_in)
        issued = now - timedelta(days=issued_days_ago)
        order = scoped(Order).new(
            id=uuid4(),
            number=f"WO-H{today:%y%m}-{name}",
            supplier=supplier,
            status="in_production",
            due_date=due,
            revision=0,
            created_at=issued - timedelta(hours=2),
            updated_at=issued + timedelta(hours=8),
            issued_at=issued,
            accepted_at=issued + timedelta(hours=6),
        )
        rows["orders"].append(order)
        rows["lines"].append(
            scoped(OrderLine).new(
                id=uuid4(),
                order=order.id,
                line_no=1,
                item=part,
                operation="冲压 Stamping",
                quantity=Decimal(quantity),
                unit_price=Decimal("6.80"),
                due_date=due,
            )
        )


async def _load_reviews(slug: str, storage: Storage) -> bool:
    """QC documents of the history deliveries, reviewed at their historical
    times: each delivery's material certificate and inspection report were
    uploaded before it was received and reviewed by QA; a rejected first
    version (by the supplier's profile) was followed by a corrected one,
    approved. So the scorecards' QC rejection rate and the board's trend
    have twelve months behind them. Every version's file is stored (one
    small PDF per tenant), so each opens like any other."""
    if await scoped(DocumentVersion).exists().where(DocumentVersion.original_name.like(f"{QC_PREFIX}%")):
        return False
    context = current()
    zone = ZoneInfo(context.time_zone)
    now = datetime.now(UTC)
    deliveries = (
        await scoped(Delivery)
        .select(Delivery.order, Delivery.order.number, Delivery.supplier, Delivery.received_at)
        .where(Delivery.number.like("DN-H%"))
        .where(Delivery.received_at.is_not_null())
        .order_by(Delivery.received_at)
    )
    if not deliveries:
        return False
    codes = [row["id"] for row in await scoped(Supplier).select(Supplier.id).where(Supplier.status == "active").order_by(Supplier.code)]
    qa = await scoped(Membership).select(Membership.user).where(Membership.role == Role.QA.value).first()
    uploaders = {
        row["supplier"]: row["user"]
        for row in await scoped(Membership).select(Membership.supplier, Membership.user).where(Membership.supplier.is_not_null())
    }
    pdf = _history_pdf()
    sha256 = hashlib.sha256(pdf).hexdigest()
    rng = random.Random(f"qc-history-{slug}")
    first_month = _month_starts(now.astimezone(zone).date())[0]
    documents: list[Any] = []
    versions: list[Any] = []
    reviews: list[Any] = []
    for delivery in deliveries:
        supplier = delivery["supplier"]
        index = codes.index(supplier) if supplier in codes else 0
        rejected_from, rejected_to = QC_PROFILES[index % len(QC_PROFILES)]
        received: datetime = delivery["received_at"]
        months = (received.year - first_month.year) * 12 + received.month - first_month.month
        share = max(0.0, min(1.0, months / (MONTHS - 1)))
        rejected = rejected_from + (rejected_to - rejected_from) * share
        for category, title in QC_DOCUMENTS:
            document_id = uuid4()
            uploaded = received - timedelta(days=rng.randint(3, 6), hours=rng.randint(0, 8))
            decisions = [("rejected", rng.choice(QC_REASONS)), ("approved", "")] if rng.random() < rejected else [("approved", "")]
            for number, (decision, reason) in enumerate(decisions, start=1):
                version_id = uuid4()
                reviewed = min(uploaded + timedelta(hours=rng.randint(2, 20)), now - timedelta(hours=1))
                name = f"{QC_PREFIX}-{delivery['order.number'][4:]}-{category}-v{number}.pdf"
                versions.append(
                    scoped(DocumentVersion).new(
                        id=version_id,
                        document=document_id,
                        supplier=supplier,
                        version=number,
                        sha256=sha256,
                        size=len(pdf),
                        kind="pdf",
                        content_type="application/pdf",
                        original_name=name,
                        safe_name=name,
                        storage_key=object_key(context.tenant_id, document_id, version_id),
                        uploaded_by=uploaders.get(supplier),
                        uploaded_at=uploaded,
                    )
                )
                reviews.append(
                    scoped(DocumentReview).new(
                        id=uuid4(),
                        supplier=supplier,
                        document=document_id,
                        version=number,
                        decision=decision,
                        reason=reason,
                        reviewed_by=qa["user"] if qa else None,
                        reviewed_at=reviewed,
                    )
                )
                # The corrected version follows the rejection within a day.
                uploaded = reviewed + timedelta(hours=rng.randint(4, 24))
            documents.append(
                scoped(Document).new(
                    id=document_id,
                    supplier=supplier,
                    attached_type="order",
                    attached_id=delivery["order"],
                    category=category,
                    title=f"{delivery['order.number']} {title}",
                    current_version=len(decisions),
                    created_by=uploaders.get(supplier),
                    created_at=received - timedelta(days=6),
                )
            )
    # Each put makes its file and folder durable: many at a time, or the
    # fsyncs of a few hundred files take seconds one after another.
    limit = anyio.Semaphore(PUTS_AT_ONCE)

    async def put(key: str) -> None:
        async with limit:
            await storage.put_bytes(key, pdf)

    async with anyio.create_task_group() as group:
        for version in versions:
            group.start_soon(put, version.storage_key)
    for table, rows in ((Document, documents), (DocumentVersion, versions), (DocumentReview, reviews)):
        await table.insert(*rows)
    return True


def _history_pdf() -> bytes:
    """A one-page PDF standing for every history QC document of a tenant."""
    from PIL import Image, ImageDraw

    page = Image.new("RGB", (595, 842), (255, 255, 255))
    ImageDraw.Draw(page).text((60, 80), "QC document (demo history)", fill=(0, 0, 0))
    buffer = io.BytesIO()
    page.save(buffer, "PDF")
    return buffer.getvalue()
