"""Lot traceability: from a lot name to what carries it and what it went
into, across dispatches, returns and scrap, deliveries, progress reports and
NCRs.

Lots are names the people type (a heat number, a batch), so a trace starts
from the text. Until suppliers record which material lots each delivery
consumed, the link between material and goods is the order: material sent
against an order is taken as consumed by that order's reports and
deliveries, and a delivered lot goes back to the material lots dispatched
against its order. Every read goes through the scoping layer: a supplier
user traces within its own records only.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from uuid import UUID

import msgspec

from portal.deliveries.tables import DeliveryLine
from portal.errors import DomainError, PermissionDenied
from portal.i18n import N_
from portal.materials.tables import DispatchLine, MaterialMovement
from portal.progress.tables import ProgressReport
from portal.quality.tables import Ncr
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
    deliveries and ``reports`` on the orders the material was sent for;
    ``made_from``: material lots sent for the orders of the delivered lot;
    ``ncrs``: NCRs naming the lot or on those orders."""

    lot: str
    material: list[MaterialLot]
    movements: list[MovementRow]
    delivered: list[DeliveredLot]
    consumed_by: list[DeliveredLot]
    reports: list[ReportRow]
    made_from: list[MaterialLot]
    ncrs: list[NcrRef]


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


def _material(rows: list[dict]) -> list[MaterialLot]:  # type: ignore[type-arg]
    return [
        MaterialLot(
            dispatch_id=row["dispatch"],
            dispatch_number=row["dispatch.number"],
            order_id=row["dispatch.order"],
            supplier_id=row["supplier"],
            item_code=row["item.code"],
            lot=row["lot"],
            quantity=row["quantity"],
        )
        for row in rows
    ]


def _delivered(rows: list[dict]) -> list[DeliveredLot]:  # type: ignore[type-arg]
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
        )
        for row in rows
    ]


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
    material = _material(list(await scoped(DispatchLine).select(*_DISPATCH_COLUMNS).where(DispatchLine.lot == lot).limit(LIMIT)))
    movements = await (
        scoped(MaterialMovement)
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
        .limit(LIMIT)
    )
    delivered = _delivered(list(await scoped(DeliveryLine).select(*_DELIVERY_COLUMNS).where(DeliveryLine.lot == lot).limit(LIMIT)))
    forward_orders = sorted({row.order_id for row in material if row.order_id is not None}, key=str)
    backward_orders = sorted({row.order_id for row in delivered}, key=str)
    consumed_by: list[DeliveredLot] = []
    reports: list[ReportRow] = []
    if forward_orders:
        consumed_by = _delivered(
            list(
                await scoped(DeliveryLine).select(*_DELIVERY_COLUMNS).where(DeliveryLine.delivery.order.is_in(forward_orders)).limit(LIMIT)
            )
        )
        found = await (
            scoped(ProgressReport)
            .select(ProgressReport.id, ProgressReport.order_line.order, ProgressReport.stage, ProgressReport.good_quantity)
            .where(ProgressReport.order_line.order.is_in(forward_orders))
            .limit(LIMIT)
        )
        reports = [
            ReportRow(id=row["id"], order_id=row["order_line.order"], stage=row["stage"], good_quantity=row["good_quantity"])
            for row in found
        ]
    made_from: list[MaterialLot] = []
    if backward_orders:
        made_from = _material(
            list(
                await scoped(DispatchLine).select(*_DISPATCH_COLUMNS).where(DispatchLine.dispatch.order.is_in(backward_orders)).limit(LIMIT)
            )
        )
    orders = set(forward_orders) | set(backward_orders)
    ncr_rows = await scoped(Ncr).select(Ncr.id, Ncr.number, Ncr.status, Ncr.severity, Ncr.lots, Ncr.order)
    ncrs = [
        NcrRef(id=row["id"], number=row["number"], status=row["status"], severity=row["severity"], lots=_lots(row["lots"]))
        for row in ncr_rows
        if lot in _lots(row["lots"]) or row["order"] in orders
    ]
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
        consumed_by=consumed_by,
        reports=reports,
        made_from=made_from,
        ncrs=ncrs[:LIMIT],
    )
