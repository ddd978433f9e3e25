"""Demo progress: on the first order in production and the first partly
delivered order of each demo tenant, the supplier's operator has reported a
few stages of one line, with photos of the latest ones.

Idempotent: a tenant that has progress reports is left alone."""

from __future__ import annotations

import io
from decimal import ROUND_DOWN, Decimal
from uuid import uuid4

from portal.deliveries.demo import as_member
from portal.documents.intake import StagedFile
from portal.documents.storage import Storage, open_storage
from portal.orders.states import Status as OrderStatus
from portal.orders.tables import Order
from portal.progress.schemas import ReportIn
from portal.progress.services import add_photo, create_report, open_work
from portal.progress.tables import ProgressReport
from portal.settings import get_settings
from tenants.context import tenant_scope
from tenants.operators import for_each_tenant
from tenants.roles import Role
from tenants.scoping import scoped

# (stage, share of the open quantity good at it, photos, note)
PLAN = {
    OrderStatus.IN_PRODUCTION: [
        ("material_received", Decimal("1"), 0, "棒料已到 Bar stock arrived"),
        ("machining", Decimal("0.4"), 2, "首件已检 First piece checked"),
    ],
    OrderStatus.PARTIALLY_DELIVERED: [
        ("surface_treatment", Decimal("0.8"), 1, "镀锌完成 Zinc plating done"),
    ],
}


async def load_progress_demo(slugs: list[str]) -> bool:
    storage = open_storage(get_settings())
    return await for_each_tenant(slugs, lambda tenant: _load_tenant(storage))


def _photo(storage: Storage, caption: str, shade: int) -> StagedFile:
    """A small photo-like JPEG with the stage written on it."""
    from PIL import Image, ImageDraw

    image = Image.new("RGB", (960, 720), (90 + shade * 40, 110, 130))
    draw = ImageDraw.Draw(image)
    draw.rectangle((240, 180, 720, 540), outline=(230, 230, 230), width=12)
    draw.text((260, 560), caption, fill=(255, 255, 255))
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=80)
    return StagedFile.from_bytes(storage.staging_dir(), buffer.getvalue(), f"{caption}.jpg", "image/jpeg")


async def _load_tenant(storage: Storage) -> bool:
    if await scoped(ProgressReport).exists():
        return False
    created = False
    for status, steps in PLAN.items():
        order = await scoped(Order).select(Order.id, Order.supplier).where(Order.status == status.value).order_by(Order.number).first()
        if order is None:
            continue
        async with tenant_scope(await as_member(Role.SUPPLIER_OPERATOR, order["supplier"])):
            work, _ = await open_work()
            lines = [line for found in work if found.id == order["id"] for line in found.lines]
            if not lines:
                continue
            line = lines[0]
            for stage, share, photos, note in steps:
                good = (line.open_quantity * share).quantize(Decimal(1), rounding=ROUND_DOWN)
                report, _ = await create_report(
                    ReportIn(client_id=uuid4(), order_line_id=line.id, stage=stage, good_quantity=good, note=note, photos_expected=photos)
                )
                for shade in range(photos):
                    await add_photo(storage, report.id, _photo(storage, f"{line.item_code} {stage} {shade + 1}", shade), None)
                created = True
    return created
