"""Lot traceability: from a lot name to what carries it and what it went
into, across dispatches, returns and scrap, deliveries, progress reports and
NCRs.

Lots are names the people type (a heat number, a batch), so a trace starts
from the text. The link between material and goods is what the supplier
recorded for each delivery (portal/quality/lot_use.py: "via" ``record``);
for a delivery it recorded nothing for, the order (``order``): material
sent against an order is taken as consumed by that order's reports and
deliveries, and a delivered lot goes back to the material lots dispatched
against its order. Every read goes through the scoping layer: a supplier
user traces within its own records only.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any
from uuid import UUID

import msgspec

from portal.deliveries.tables import DeliveryLine
from portal.errors import DomainError, PermissionDenied
from portal.i18n import N_
from portal.materials.tables import DispatchLine, MaterialMovement
from portal.progress.tables import ProgressReport
from portal.quality.tables import DeliveryMaterialLot, Ncr
from tenants.context import current
from tenants.scoping import scoped

LOT_MAX = 80
LIMIT = 200


class InvalidLot(DomainError):
    code = "invalid_lot"
    message = N_("Some fields are missing or not valid.")


class MaterialLot(msgspec.Struct, frozen=True):
    dispatch_id: UUID
    dispatch_number: str
    order_id: UUID | None
    supplier_id: UUID
    item_code: str
    lot: str
    quantity: Decimal
    # How it is linked to the goods: "record" (the supplier said the
    # delivery used it) or "order" (sent for the delivery's order).
    via: str = "order"


class MovementRow(msgspec.Struct, frozen=True):
    id: UUID
    kind: str
    supplier_id: UUID
    item_code: str
    lot: str
    quantity: Decimal
    reported_at: datetime


class DeliveredLot(msgspec.Struct, frozen=True):
    delivery_id: UUID
    delivery_number: str
    order_id: UUID
    supplier_id: UUID
    lot: str
    quantity: Decimal
    accepted_quantity: Decimal | None
    rejected_quantity: Decimal | None
    via: str = "order"


class ReportRow(msgspec.Struct, frozen=True):
    id: UUID
    order_id: UUID
    stage: str
    good_quantity: Decimal


class NcrRef(msgspec.Struct, frozen=True):
    id: UUID
    number: str
    status: str
    severity: str
    lots: list[str]


class LotTrace(msgspec.Struct, frozen=True):
    """``material``: dispatch lines of the lot; ``movements``: its returns
    and scrap; ``delivered``: delivery lines of the lot; ``consumed_by``:
    deliveries whose supplier recorded the lot as used (``via`` record),
    else those on the orders the material was sent for (``via`` order), and
    ``reports`` on those orders; ``made_from``: material lots the delivered
    lot's supplier recorded, else those sent for its order; ``ncrs``: NCRs
    naming the lot or on those orders. Each section holds at most ``LIMIT``
    rows; ``cut`` names those that hold more (the page says so, and the
    trace read from them goes no further)."""

    lot: str
    material: list[MaterialLot]
    movements: list[MovementRow]
    delivered: list[DeliveredLot]
    consumed_by: list[DeliveredLot]
    reports: list[ReportRow]
    made_from: list[MaterialLot]
    ncrs: list[NcrRef]
    cut: list[str] = []


_DISPATCH_COLUMNS = (
    DispatchLine.dispatch,
    DispatchLine.dispatch.number,
    DispatchLine.dispatch.order,
    DispatchLine.supplier,
    DispatchLine.item.code,
    DispatchLine.lot,
    DispatchLine.quantity,
)
_DELIVERY_COLUMNS = (
    DeliveryLine.delivery,
    DeliveryLine.delivery.number,
    DeliveryLine.delivery.order,
    DeliveryLine.delivery.supplier,
    DeliveryLine.lot,
    DeliveryLine.quantity,
    DeliveryLine.accepted_quantity,
    DeliveryLine.rejected_quantity,
)


def _material(rows: list[dict], via: str = "order") -> list[MaterialLot]:  # type: ignore[type-arg]
    return [
        MaterialLot(
            dispatch_id=row["dispatch"],
            dispatch_number=row["dispatch.number"],
            order_id=row["dispatch.order"],
            supplier_id=row["supplier"],
            item_code=row["item.code"],
            lot=row["lot"],
            quantity=row["quantity"],
            via=via,
        )
        for row in rows
    ]


def _delivered(rows: list[dict], via: str = "order") -> list[DeliveredLot]:  # type: ignore[type-arg]
    return [
        DeliveredLot(
            delivery_id=row["delivery"],
            delivery_number=row["delivery.number"],
            order_id=row["delivery.order"],
            supplier_id=row["delivery.supplier"],
            lot=row["lot"],
            quantity=row["quantity"],
            accepted_quantity=row["accepted_quantity"],
            rejected_quantity=row["rejected_quantity"],
            via=via,
        )
        for row in rows
    ]


async def _recorded(deliveries: list[UUID]) -> dict[UUID, list[UUID]]:
    """The dispatch lines each of ``deliveries`` was recorded to have used
    (a delivery with none recorded is not a key)."""
    if not deliveries:
        return {}
    rows = (
        await scoped(DeliveryMaterialLot)
        .select(DeliveryMaterialLot.delivery, DeliveryMaterialLot.dispatch_line)
        .where(DeliveryMaterialLot.delivery.is_in(deliveries))
    )
    found: dict[UUID, list[UUID]] = {}
    for row in rows:
        found.setdefault(row["delivery"], []).append(row["dispatch_line"])
    return found


def _lots(value: object) -> list[str]:
    if isinstance(value, (str, bytes)):
        value = msgspec.json.decode(value or "[]")
    return [str(lot) for lot in value or []]  # type: ignore[attr-defined]


async def trace_lot(text: str) -> LotTrace:
    """Everything the actor may see that carries the lot ``text`` (exact
    match, case and spaces as typed, trimmed) or was made from it."""
    context = current()
    if not context.can("quality.view"):
        raise PermissionDenied()
    lot = text.strip()
    if not 1 <= len(lot) <= LOT_MAX:
        raise InvalidLot(fields={"lot": N_("Give a lot of 1 to 80 characters.")})
    cut: set[str] = set()

    def first(section: str, rows: list[Any]) -> list[Any]:
        if len(rows) > LIMIT:
            cut.add(section)
        return rows[:LIMIT]

    material = first(
        "material", _material(list(await scoped(DispatchLine).select(*_DISPATCH_COLUMNS).where(DispatchLine.lot == lot).limit(LIMIT + 1)))
    )
    movements = first(
        "movements",
        await scoped(MaterialMovement)
        .select(
            MaterialMovement.id,
            MaterialMovement.kind,
            MaterialMovement.supplier,
            MaterialMovement.item.code,
            MaterialMovement.lot,
            MaterialMovement.quantity,
            MaterialMovement.reported_at,
        )
        .where(MaterialMovement.lot == lot)
        .limit(LIMIT + 1),
    )
    delivered = first(
        "delivered", _delivered(list(await scoped(DeliveryLine).select(*_DELIVERY_COLUMNS).where(DeliveryLine.lot == lot).limit(LIMIT + 1)))
    )
    # Forward: the shipped deliveries whose supplier recorded this lot; for
    # those it recorded nothing for, the orders the material was sent for.
    used = await (
        scoped(DeliveryMaterialLot)
        .select(DeliveryMaterialLot.delivery)
        .where(DeliveryMaterialLot.lot == lot)
        .where(DeliveryMaterialLot.delivery.shipped_at.is_not_null())
        .limit(LIMIT + 1)
    )
    used_in = sorted({row["delivery"] for row in first("consumed_by", list(used))}, key=str)
    consumed_by: list[DeliveredLot] = []
    if used_in:
        found_lines = await scoped(DeliveryLine).select(*_DELIVERY_COLUMNS).where(DeliveryLine.delivery.is_in(used_in)).limit(LIMIT + 1)
        consumed_by = _delivered(list(found_lines), via="record")
    forward_orders = sorted({row.order_id for row in material if row.order_id is not None}, key=str)
    reports: list[ReportRow] = []
    if forward_orders:
        on_orders = _delivered(
            list(
                await scoped(DeliveryLine)
                .select(*_DELIVERY_COLUMNS)
                .where(DeliveryLine.delivery.order.is_in(forward_orders))
                .limit(LIMIT + 1)
            )
        )
        recorded = await _recorded(sorted({row.delivery_id for row in on_orders}, key=str))
        consumed_by += [row for row in on_orders if row.delivery_id not in recorded]
        found = await (
            scoped(ProgressReport)
            .select(ProgressReport.id, ProgressReport.order_line.order, ProgressReport.stage, ProgressReport.good_quantity)
            .where(ProgressReport.order_line.order.is_in(forward_orders))
            .limit(LIMIT + 1)
        )
        reports = [
            ReportRow(id=row["id"], order_id=row["order_line.order"], stage=row["stage"], good_quantity=row["good_quantity"])
            for row in first("reports", list(found))
        ]
    # Back: what the delivered lot's supplier recorded, else its order's material.
    recorded = await _recorded(sorted({row.delivery_id for row in delivered}, key=str))
    made_from: list[MaterialLot] = []
    named = sorted({line for lines in recorded.values() for line in lines}, key=str)
    if named:
        made_from = _material(
            list(await scoped(DispatchLine).select(*_DISPATCH_COLUMNS).where(DispatchLine.id.is_in(named)).limit(LIMIT + 1)), via="record"
        )
    backward_orders = sorted({row.order_id for row in delivered if row.delivery_id not in recorded}, key=str)
    if backward_orders:
        made_from += _material(
            list(
                await scoped(DispatchLine)
                .select(*_DISPATCH_COLUMNS)
                .where(DispatchLine.dispatch.order.is_in(backward_orders))
                .limit(LIMIT + 1)
            )
        )
    orders = set(forward_orders) | {row.order_id for row in delivered} | {row.order_id for row in consumed_by}
    ncr_rows = await scoped(Ncr).select(Ncr.id, Ncr.number, Ncr.status, Ncr.severity, Ncr.lots, Ncr.order)
    ncrs = first(
        "ncrs",
        [
            NcrRef(id=row["id"], number=row["number"], status=row["status"], severity=row["severity"], lots=_lots(row["lots"]))
            for row in ncr_rows
            if lot in _lots(row["lots"]) or row["order"] in orders
        ],
    )
    return LotTrace(
        lot=lot,
        material=material,
        movements=[
            MovementRow(
                id=row["id"],
                kind=row["kind"],
                supplier_id=row["supplier"],
                item_code=row["item.code"],
                lot=row["lot"],
                quantity=row["quantity"],
                reported_at=row["reported_at"],
            )
            for row in movements
        ],
        delivered=delivered,
        consumed_by=first("consumed_by", consumed_by),
        reports=reports,
        made_from=first("made_from", made_from),
        ncrs=ncrs,
        cut=sorted(cut),
    )
