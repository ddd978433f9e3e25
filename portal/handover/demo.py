"""Demo handovers in ``acme``: a new supplier, Nova Precision, has taken
over the bracket from East Surface (completed: two orders transferred, the
drawings and the process spec read by Nova, none of it by East Surface any
more), and is taking over a part from Precision Machining (in progress,
partly signed off). Idempotent: a tenant with any handover is left alone."""

from __future__ import annotations

import io
from datetime import date, timedelta
from decimal import Decimal
from typing import Any
from uuid import UUID

from portal.deliveries.demo import as_member
from portal.documents.intake import StagedFile
from portal.documents.services import new_document_target, store_upload
from portal.documents.storage import Storage, open_storage
from portal.handover import services
from portal.handover.checklist import Party
from portal.handover.schemas import HandoverCreate, HandoverOut
from portal.handover.tables import Handover
from portal.items.services import ItemIn, create_item
from portal.orders import services as orders
from portal.orders.schemas import OrderCreate, OrderLineIn
from portal.orders.states import Status as OrderStatus
from portal.orders.tables import OrderLine
from portal.settings import get_settings
from tenants.context import TenantContext, tenant_scope
from tenants.operators import for_each_tenant
from tenants.roles import Role
from tenants.scoping import scoped
from tenants.services.members import add_membership, ensure_user
from tenants.services.suppliers import SupplierCreate, create_supplier
from tenants.tables import Supplier, Tenant

NOVA = SupplierCreate(code="S-NV", name="新锐精工 Nova Precision", contact_name="赵工", contact_phone="13800000003")
# (email, name, role) of Nova's people; tenants.demo lists them with the other demo accounts.
NOVA_PEOPLE = [("boss@nova.example", "赵刚 (Nova admin)", Role.SUPPLIER_ADMIN)]
BRACKET = ItemIn(code="P-BRK-01", name="支架 Bracket", unit="pcs")


async def load_handover_demo(slugs: list[str]) -> bool:
    return await for_each_tenant([slug for slug in slugs if slug == "acme"], _load_tenant)


async def _load_tenant(tenant: Tenant) -> bool:
    if await scoped(Handover).exists():
        return False
    await _load(tenant)
    return True


async def _load(tenant: Any) -> None:
    from tenants.demo import DEMO_PASSWORD

    codes = {row["code"]: row["id"] for row in await scoped(Supplier).select(Supplier.code, Supplier.id)}
    nova = codes.get(NOVA.code) or (await create_supplier(NOVA)).id
    for email, name, role in NOVA_PEOPLE:
        user = await ensure_user(email, name, DEMO_PASSWORD, locale="zh_CN")
        await add_membership(user, role, nova)
    storage = open_storage(get_settings())
    # Completed: East Surface's brackets go to Nova.
    surface = codes["S-ST"]
    bracket = await create_item(BRACKET)
    await _upload(storage, "item", bracket.id, "drawing", "P-BRK-01 图纸 Drawing rev B")
    for quantity, days in (("120", 12), ("80", 25)):
        line = OrderLineIn(
            item_id=bracket.id, quantity=Decimal(quantity), unit_price=Decimal("18.60"), due_date=date.today() + timedelta(days=days)
        )
        order = await orders.fire((await orders.create_order(OrderCreate(supplier_id=surface, lines=[line]))).id, "issue")
        await _upload(storage, "order", order.id, "drawing", f"{order.number} 镀锌工艺 Zinc plating spec")
        async with tenant_scope(await as_member(Role.SUPPLIER_ADMIN, surface)):
            await orders.fire(order.id, "accept")
    done = await services.create_handover(
        HandoverCreate(
            from_supplier_id=surface,
            to_supplier_id=nova,
            item_ids=[bracket.id],
            note_internal="华东产能不足 East Surface is short of capacity",
        )
    )
    done = await services.start_handover(done.id, done.version)
    await _sign(storage, done, every=True)
    done = await services.get_handover(done.id)
    await services.complete_handover(done.id, done.version)
    # In progress: a part of Precision Machining's open work goes to Nova.
    part = await _open_part(codes["S-PM"])
    if part is None:
        return
    running = await services.create_handover(HandoverCreate(from_supplier_id=codes["S-PM"], to_supplier_id=nova, item_ids=[part]))
    running = await services.start_handover(running.id, running.version)
    await _sign(storage, running, every=False)


async def _open_part(supplier_id: UUID) -> UUID | None:
    row = (
        await scoped(OrderLine)
        .select(OrderLine.item)
        .where(OrderLine.order.supplier == supplier_id)
        .where(OrderLine.order.status.is_in([OrderStatus.ACCEPTED.value, OrderStatus.IN_PRODUCTION.value]))
        .order_by(OrderLine.order.number)
        .first()
    )
    return row["item"] if row else None


async def _party(party: Party, handover: HandoverOut) -> TenantContext:
    if party is Party.OUTGOING_SUPPLIER:
        return await as_member(Role.SUPPLIER_ADMIN, handover.from_supplier_id)
    if party is Party.INCOMING_SUPPLIER:
        assert handover.to_supplier_id is not None
        return await as_member(Role.SUPPLIER_ADMIN, handover.to_supplier_id)
    return await as_member(Role(party.value))


async def _sign(storage: Storage, handover: HandoverOut, *, every: bool) -> None:
    """Each party signs its entries (all of them, or the planner's and the
    outgoing supplier's first few), evidence attached where asked; orders
    are transferred."""
    for item in handover.items:
        party = Party(item.party)
        if not every and party not in (Party.PLANNER, Party.OUTGOING_SUPPLIER):
            continue
        if not every and (item.decisions or item.evidence):
            continue
        async with tenant_scope(await _party(party, handover)):
            if item.evidence:
                await _upload(storage, "handover_item", item.id, "photo", "盘点照片 Count photo")
            decision = "transfer" if item.decisions else ""
            await services.sign_off(handover.id, item.id, decision, "已核对 Checked")


async def _upload(storage: Storage, attached_type: str, attached_id: UUID, category: str, title: str) -> None:
    target = await new_document_target(attached_type, attached_id, category, title)
    await store_upload(storage, target, _picture(storage, title))


def _picture(storage: Storage, caption: str) -> StagedFile:
    """A small PNG standing in for a drawing, a spec page or a photo."""
    from PIL import Image, ImageDraw

    image = Image.new("RGB", (800, 560), (248, 248, 244))
    draw = ImageDraw.Draw(image)
    draw.rectangle((16, 16, 784, 544), outline=(20, 40, 90), width=4)
    draw.rectangle((200, 160, 600, 380), outline=(20, 40, 90), width=5)
    draw.text((32, 510), caption, fill=(20, 40, 90))
    buffer = io.BytesIO()
    image.save(buffer, "PNG")
    return StagedFile.from_bytes(storage.staging_dir(), buffer.getvalue(), "demo.png", "image/png")
