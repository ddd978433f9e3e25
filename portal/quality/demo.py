"""Demo QC checklists: the order in production and the partly delivered
order of each demo tenant require a material certificate and an inspection
report; the supplier has sent them, and QA has approved one, rejected one
(the supplier owes a corrected version) and not yet looked at the rest, so
QC documents appear in every review state.

Idempotent: a tenant that has QC requirements is left alone."""

from __future__ import annotations

import io

from portal.deliveries.demo import as_member
from portal.documents.intake import StagedFile
from portal.documents.services import new_document_target, store_upload
from portal.documents.storage import Storage, open_storage
from portal.orders.states import Status as OrderStatus
from portal.orders.tables import Order
from portal.quality.services import RequirementIn, ReviewIn, add_requirement, review_document
from portal.quality.tables import QcRequirement
from portal.settings import get_settings
from tenants.context import tenant_scope
from tenants.operators import for_each_tenant
from tenants.roles import Role
from tenants.scoping import scoped

# What a supplier would call its files (the demo speaks both languages).
TITLES = {"material_certificate": "材质证明 Material certificate", "inspection_report": "检验报告 Inspection report"}

# (order status, category, note, QA's decision or None for pending, reason)
PLAN = [
    (OrderStatus.IN_PRODUCTION, "material_certificate", "EN 10204 3.1", "approved", ""),
    (OrderStatus.IN_PRODUCTION, "inspection_report", "首件全尺寸 First article, all dimensions", None, ""),
    (OrderStatus.PARTIALLY_DELIVERED, "inspection_report", "", "rejected", "缺少孔径 Ø12H7 实测值 Bore Ø12H7 not measured"),
]


async def load_quality_demo(slugs: list[str]) -> bool:
    storage = open_storage(get_settings())
    return await for_each_tenant(slugs, lambda tenant: _load_tenant(storage))


def _pdf(storage: Storage, title: str) -> StagedFile:
    """A one-page PDF with the title on it."""
    from PIL import Image, ImageDraw

    page = Image.new("RGB", (595, 842), (255, 255, 255))
    ImageDraw.Draw(page).text((60, 80), title, fill=(0, 0, 0))
    buffer = io.BytesIO()
    page.save(buffer, "PDF")
    return StagedFile.from_bytes(storage.staging_dir(), buffer.getvalue(), f"{title}.pdf", "application/pdf")


async def _load_tenant(storage: Storage) -> bool:
    if await scoped(QcRequirement).exists():
        return False
    created = False
    for status, category, note, decision, reason in PLAN:
        order = (
            await scoped(Order)
            .select(Order.id, Order.number, Order.supplier)
            .where(Order.status == status.value)
            .order_by(Order.number)
            .first()
        )
        if order is None:
            continue
        async with tenant_scope(await as_member(Role.QA)):
            await add_requirement(order["id"], RequirementIn(category=category, note=note))
        async with tenant_scope(await as_member(Role.SUPPLIER_OPERATOR, order["supplier"])):
            title = f"{order['number']} {TITLES[category]}"
            target = await new_document_target("order", order["id"], category, title)
            document = await store_upload(storage, target, _pdf(storage, title))
        if decision is not None:
            async with tenant_scope(await as_member(Role.QA)):
                await review_document(document.id, ReviewIn(decision=decision, reason=reason, version=1))
        created = True
    return created
