"""Exporting the delivery list to CSV or XLSX.

The export is the list: the same filters and the same service
(``services.list_deliveries``, walked page by page), so a supplier user
exports only its own notices and buyer roles only notices that shipped.
One row per delivery line, with what the buyer accepted and rejected once
received. Deliveries carry no prices.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any
from uuid import UUID

from portal.deliveries import services
from portal.deliveries.schemas import DeliverySummary
from portal.deliveries.states import STATUS_LABELS
from portal.deliveries.tables import Delivery, DeliveryLine
from portal.i18n import N_, gettext
from portal.imports.exports import check_format, check_size, export_file, local_time
from portal.imports.writers import BuiltFile, Cell
from tenants.scoping import scoped

CHUNK = 500

COLUMNS = (
    ("number", N_("Delivery number")),
    ("status", N_("Status")),
    ("supplier_name", N_("Supplier name")),
    ("order", N_("Order number")),
    ("order_line", N_("Order line")),
    ("item_code", N_("Item code")),
    ("item_name", N_("Item name")),
    ("unit", N_("Unit")),
    ("lot", N_("Lot")),
    ("quantity", N_("Shipped quantity")),
    ("accepted_quantity", N_("Accepted quantity")),
    ("rejected_quantity", N_("Rejected quantity")),
    ("reject_reason", N_("Reject reason")),
    ("note", N_("Note")),
    ("receipt_note", N_("Receipt note")),
    ("shipped_at", N_("Shipped at")),
    ("received_at", N_("Received at")),
)
WIDTHS = {"number": 16, "supplier_name": 24, "order": 16, "item_code": 16, "item_name": 24, "reject_reason": 30, "note": 30}


@dataclass(frozen=True)
class DeliveryFilters:
    """The delivery list's filters (``GET /api/v1/deliveries``)."""

    status: str | None = None
    supplier_id: UUID | None = None
    order_id: UUID | None = None


def _quantity(value: Any) -> Decimal | None:
    return None if value is None else Decimal(services.plain(Decimal(value)))


async def _deliveries(filters: DeliveryFilters) -> list[DeliverySummary]:
    found: list[DeliverySummary] = []
    cursor: str | None = None
    while True:
        page = await services.list_deliveries(filters.status, filters.supplier_id, filters.order_id, cursor)
        found += page.items
        check_size(len(found))
        if page.next is None:
            return found
        cursor = page.next


async def _details(ids: list[UUID]) -> tuple[dict[UUID, dict[str, Any]], dict[UUID, list[dict[str, Any]]]]:
    heads: dict[UUID, dict[str, Any]] = {}
    lines: dict[UUID, list[dict[str, Any]]] = {}
    count = 0
    for start in range(0, len(ids), CHUNK):
        chunk = ids[start : start + CHUNK]
        for row in await scoped(Delivery).select(Delivery.id, Delivery.note, Delivery.receipt_note).where(Delivery.id.is_in(chunk)):
            heads[row["id"]] = row
        query = (
            scoped(DeliveryLine)
            .select(
                DeliveryLine.delivery,
                DeliveryLine.order_line.line_no,
                DeliveryLine.order_line._.item._.code,
                DeliveryLine.order_line._.item._.name,
                DeliveryLine.order_line._.item._.unit,
                DeliveryLine.lot,
                DeliveryLine.quantity,
                DeliveryLine.accepted_quantity,
                DeliveryLine.rejected_quantity,
                DeliveryLine.reject_reason,
            )
            .where(DeliveryLine.delivery.is_in(chunk))
            .order_by(DeliveryLine.delivery)
            .order_by(DeliveryLine.line_no)
            .output(nested=True)
        )
        for row in await query:
            lines.setdefault(row["delivery"], []).append(row)
            count += 1
        check_size(count)
    return heads, lines


async def delivery_rows(filters: DeliveryFilters) -> list[list[Cell]]:
    """The list's notices (newest number first), one row per line."""
    deliveries = await _deliveries(filters)
    heads, lines = await _details([delivery.id for delivery in deliveries])
    labels = {status.value: gettext(label) for status, label in STATUS_LABELS.items()}
    rows: list[list[Cell]] = []
    for delivery in deliveries:
        head = heads.get(delivery.id)
        if head is None:
            continue
        for line in lines.get(delivery.id, []):
            item = line["order_line"]["item"]
            rows.append(
                [
                    delivery.number,
                    labels.get(delivery.status, delivery.status),
                    delivery.supplier_name,
                    delivery.order_number,
                    line["order_line"]["line_no"],
                    item["code"],
                    item["name"],
                    item["unit"],
                    line["lot"],
                    _quantity(line["quantity"]),
                    _quantity(line["accepted_quantity"]),
                    _quantity(line["rejected_quantity"]),
                    line["reject_reason"],
                    head["note"],
                    head["receipt_note"],
                    local_time(delivery.shipped_at),
                    local_time(delivery.received_at),
                ]
            )
    return rows


async def export_deliveries(filters: DeliveryFilters, fmt: str) -> BuiltFile:
    """The delivery list as a CSV (UTF-8 with BOM) or XLSX file."""
    check_format(fmt)
    rows = await delivery_rows(filters)
    return await export_file(fmt, title=N_("Deliveries"), columns=COLUMNS, rows=rows, stem="deliveries", widths=WIDTHS)
