"""Demo orders: one in every status, and a change waiting for the
supplier's acknowledgement. Delivered quantities come from real notices,
shipped by the supplier and received by QA through the deliveries services.
A drawing on the first part and a document on the issued order give the
documents panels something to show. Idempotent: a tenant that has orders is
left alone."""

from __future__ import annotations

import hashlib
import io
from dataclasses import replace
from datetime import date, timedelta
from decimal import Decimal
from uuid import UUID, uuid4

from portal.deliveries.demo import as_member
from portal.deliveries.schemas import DeliveryCreate, DeliveryLineIn, ReceiptIn, ReceiptLineIn
from portal.deliveries.services import create_delivery, receive_delivery
from portal.documents.intake import StagedFile
from portal.documents.services import new_document_target, store_upload
from portal.documents.storage import Storage, open_storage
from portal.items.services import BomLineIn, ItemIn, create_item, set_bom
from portal.items.tables import Item
from portal.orders import services
from portal.orders.schemas import OrderCreate, OrderLineIn, OrderOut, OrderUpdate
from portal.orders.tables import Order
from portal.settings import get_settings
from tenants.context import current, tenant_scope
from tenants.roles import Role
from tenants.scoping import scoped

PARTS = [
    ("P-FL-100", "法兰盘 Flange DN100", "Q235, Ra3.2", "pcs", "material"),
    ("P-SH-20", "传动轴 Shaft Ø20", "45# steel, HRC28-32", "pcs", "material"),
]
MATERIALS = [("M-Q235-8", "Q235 钢板 8mm", "kg"), ("M-45-R25", "45# 圆钢 Ø25", "kg")]

SUPPLIER_SIDE = {"accept", "reject", "start"}

# status -> the events that lead there from a draft
PATHS: dict[str, list[str | tuple[str, str]]] = {
    "draft": [],
    "issued": ["issue"],
    "accepted": ["issue", "accept"],
    "rejected": ["issue", ("reject", "材料短缺 Material shortage")],
    "in_production": ["issue", "accept", "start"],
    "partially_delivered": ["issue", "accept", "start", "receive_part"],
    "delivered": ["issue", "accept", "start", "receive_all"],
    "closed": ["issue", "accept", "start", "receive_all", "close"],
    "cancelled": ["issue", ("cancel", "客户取消 Customer cancelled")],
}


async def _items() -> list[Item]:
    parts = []
    for (code, name, spec, unit, _), (m_code, m_name, m_unit) in zip(PARTS, MATERIALS, strict=True):
        if not await scoped(Item).exists().where(Item.code == code):
            material = await create_item(ItemIn(code=m_code, name=m_name, unit=m_unit, kind="material"))
            part = await create_item(ItemIn(code=code, name=name, spec=spec, unit=unit))
            await set_bom(part.id, [BomLineIn(material_id=material.id, quantity_per_unit=Decimal("2.4"), scrap_rate=Decimal("0.03"))])
        parts.append(await scoped(Item).objects().where(Item.code == code).first())
    return parts


async def load_orders(supplier_ids: list[UUID]) -> bool:
    """Orders for the first supplier of the acting tenant, in every status."""
    if await scoped(Order).exists():
        return False
    parts = await _items()
    today = date.today()
    supplier = replace(current(), role=Role.SUPPLIER_ADMIN, supplier_id=supplier_ids[0], user_name="demo-supplier")
    for offset, (status, path) in enumerate(PATHS.items()):
        lines = [
            OrderLineIn(
                item_id=part.id,
                quantity=Decimal(100 + 50 * index),
                unit_price=Decimal("18.50") + index,
                due_date=today + timedelta(days=5 + offset + index),
                operation="CNC",
            )
            for index, part in enumerate(parts)
        ]
        order = await services.create_order(
            OrderCreate(
                supplier_id=supplier_ids[0],
                lines=lines,
                notes_shared="请按图纸加工 Machine per drawing",
                notes_internal="目标成本 Target cost -5%",
            )
        )
        for step in path:
            event, reason = step if isinstance(step, tuple) else (step, "")
            if event in ("receive_part", "receive_all"):
                order = await _deliver(order, Decimal("0.5") if event == "receive_part" else Decimal(1), offset)
            elif event in SUPPLIER_SIDE:
                async with tenant_scope(supplier):
                    order = await services.fire(order.id, event, reason)
            else:
                order = await services.fire(order.id, event, reason)
        if status == "issued":
            await _attach(order, parts[0])
        if status == "accepted":
            first = order.lines[0]
            changed = OrderLineIn(
                id=first.id,
                item_id=first.item_id,
                quantity=first.quantity + 20,
                unit_price=first.unit_price,
                due_date=first.due_date,
                operation=first.operation,
            )
            keep = [
                OrderLineIn(
                    id=line.id,
                    item_id=line.item_id,
                    quantity=line.quantity,
                    unit_price=line.unit_price,
                    due_date=line.due_date,
                    operation=line.operation,
                )
                for line in order.lines[1:]
            ]
            await services.update_order(
                order.id, OrderUpdate(version=order.version, lines=[changed, *keep], reason="客户追加 20 件 Customer added 20 pcs")
            )
    return True


async def _deliver(order: OrderOut, share: Decimal, number: int) -> OrderOut:
    """Ships ``share`` of every line as the supplier and receives it in full
    as QA: the receipt moves the order on (partially delivered, delivered)."""
    lines = [
        DeliveryLineIn(order_line_id=line.id, quantity=line.quantity * share, lot=f"L2610-{number:02d}-{line.line_no}")
        for line in order.lines
    ]
    async with tenant_scope(await as_member(Role.SUPPLIER_ADMIN, order.supplier_id)):
        delivery = await create_delivery(DeliveryCreate(order_id=order.id, lines=lines, note="德邦物流 Deppon Logistics", ship=True))
    async with tenant_scope(await as_member(Role.QA)):
        receipt = [ReceiptLineIn(line_id=line.id, accepted_quantity=line.quantity) for line in delivery.lines]
        await receive_delivery(delivery.id, ReceiptIn(lines=receipt, note="来料检验合格 Incoming inspection passed"))
    return await services.get_order(order.id)


async def _attach(order: OrderOut, part: Item) -> None:
    """A drawing of the part (its suppliers read it once an order is issued)
    and an assembly note on the order."""
    storage = open_storage(get_settings())
    for attached_type, attached_id, title in (
        ("item", part.id, f"{part.code} 图纸 Drawing rev A"),
        ("order", order.id, f"{order.number} 装配说明 Assembly note"),
    ):
        target = await new_document_target(attached_type, attached_id, "drawing", title)
        await store_upload(storage, target, _drawing(storage, title))


def _drawing(storage: Storage, caption: str) -> StagedFile:
    """A small PNG that looks like a dimensioned drawing."""
    from PIL import Image, ImageDraw

    image = Image.new("RGB", (1200, 850), (250, 250, 245))
    draw = ImageDraw.Draw(image)
    draw.rectangle((20, 20, 1180, 830), outline=(20, 40, 90), width=4)
    draw.ellipse((350, 175, 850, 675), outline=(20, 40, 90), width=6)
    draw.ellipse((525, 350, 675, 500), outline=(20, 40, 90), width=4)
    draw.line((330, 425, 870, 425), fill=(200, 60, 60), width=2)
    draw.line((600, 155, 600, 695), fill=(200, 60, 60), width=2)
    draw.text((40, 790), caption, fill=(20, 40, 90))
    buffer = io.BytesIO()
    image.save(buffer, "PNG")
    data = buffer.getvalue()
    staging = storage.staging_dir()
    staging.mkdir(parents=True, exist_ok=True)
    path = staging / f"demo-{uuid4()}.png"
    path.write_bytes(data)
    return StagedFile(path=path, size=len(data), sha256=hashlib.sha256(data).hexdigest(), filename="drawing.png", declared_type="image/png")
