"""Which material lots a delivery was made from, as its supplier says.

The supplier picks, from its phone, among the lots of material the buyer
sent it (lines of dispatches it was sent, with a lot); the choice replaces
the one before and is audited. The lot trace (portal/quality/trace.py)
follows these records from a material lot to the deliveries that used it
and back; a delivery without any falls back on its order.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

import msgspec

from portal.audit.services import record
from portal.deliveries.services import get_delivery
from portal.errors import Conflict, DomainError, PermissionDenied
from portal.i18n import N_
from portal.materials.tables import DispatchLine
from portal.quality.tables import DeliveryMaterialLot
from tenants.context import current
from tenants.scoping import scoped
from tenants.services.members import user_names

MAX_LOTS = 50
# The lots offered on the form: the order's, then the newest others.
CHOICES = 200


class LotUseLineIn(msgspec.Struct, frozen=True):
    dispatch_line_id: UUID


class LotUseIn(msgspec.Struct, frozen=True):
    """Every material lot the delivery used (the list replaces the one
    recorded before; empty clears it): lines of dispatches sent to the
    supplier, with a lot."""

    lots: list[LotUseLineIn] = []


class MaterialLotOut(msgspec.Struct, frozen=True):
    dispatch_line_id: UUID
    dispatch_id: UUID
    dispatch_number: str
    order_id: UUID | None  # the order the material was sent for, if any
    item_id: UUID
    item_code: str
    item_name: str
    lot: str


class LotUseOut(msgspec.Struct, frozen=True):
    delivery_id: UUID
    lots: list[MaterialLotOut]
    recorded_at: datetime | None
    recorded_by: str


class InvalidLotUse(DomainError):
    code = "invalid_material_lots"
    message = N_("Some fields are missing or not valid.")


class DeliveryCancelled(Conflict):
    code = "delivery_cancelled"
    message = N_("This delivery was cancelled: it used no material.")


_COLUMNS = (
    DispatchLine.id,
    DispatchLine.dispatch,
    DispatchLine.dispatch.number,
    DispatchLine.dispatch.order,
    DispatchLine.item,
    DispatchLine.item.code,
    DispatchLine.item.name,
    DispatchLine.lot,
)


def _lot_out(row: dict[str, Any]) -> MaterialLotOut:
    return MaterialLotOut(
        dispatch_line_id=row["id"],
        dispatch_id=row["dispatch"],
        dispatch_number=row["dispatch.number"],
        order_id=row["dispatch.order"],
        item_id=row["item"],
        item_code=row["item.code"],
        item_name=row["item.name"],
        lot=row["lot"],
    )


def _nameable(supplier_id: UUID, query: Any) -> Any:
    """``query`` narrowed to the dispatch lines the supplier may name: sent
    to it (drafts are the buyer's own), with a lot."""
    return query.where(DispatchLine.supplier == supplier_id).where(DispatchLine.dispatch.status != "draft").where(DispatchLine.lot != "")


async def lot_choices(delivery_id: UUID | str) -> list[MaterialLotOut]:
    """The lots the delivery's supplier may name: those sent for the
    delivery's order first, then the newest others, ``CHOICES`` in all;
    the lots already recorded are always among them."""
    return (await lot_choice_list(delivery_id))[0]


async def lot_choice_list(delivery_id: UUID | str) -> tuple[list[MaterialLotOut], int]:
    """``lot_choices`` and how many lots the supplier may name in all (the
    form says when it offers fewer). The order's lots and the others are
    two queries, each newest first, so the order's are never cut behind
    newer lots sent for other orders."""
    delivery = await get_delivery(delivery_id)

    def nameable() -> Any:
        return _nameable(delivery.supplier_id, scoped(DispatchLine).select(*_COLUMNS))

    newest = (DispatchLine.dispatch.sent_at, DispatchLine.id)
    for_order = list(
        await nameable().where(DispatchLine.dispatch.order == delivery.order_id).order_by(*newest, ascending=False).limit(CHOICES)
    )
    others = list(
        await nameable()
        .where(DispatchLine.dispatch.order.is_null() | (DispatchLine.dispatch.order != delivery.order_id))
        .order_by(*newest, ascending=False)
        .limit(CHOICES - len(for_order) + 1)
    )
    rows = for_order + others[: CHOICES - len(for_order)]
    shown = {row["id"] for row in rows}
    recorded = [
        row["dispatch_line"]
        for row in await scoped(DeliveryMaterialLot)
        .select(DeliveryMaterialLot.dispatch_line)
        .where(DeliveryMaterialLot.delivery == delivery.id)
    ]
    missing = [line for line in recorded if line not in shown]
    if missing:
        rows += list(await nameable().where(DispatchLine.id.is_in(missing)))
    cut = len(for_order) == CHOICES or len(others) > CHOICES - len(for_order)
    total = await _nameable(delivery.supplier_id, scoped(DispatchLine).count()) if cut else len(rows)
    return [_lot_out(row) for row in rows], total


async def get_lot_use(delivery_id: UUID | str) -> LotUseOut:
    """The material lots recorded for a delivery the actor may see."""
    if not current().can("deliveries.view"):
        raise PermissionDenied()
    delivery = await get_delivery(delivery_id)
    rows = (
        await scoped(DeliveryMaterialLot)
        .select(DeliveryMaterialLot.dispatch_line, DeliveryMaterialLot.created_by, DeliveryMaterialLot.created_at)
        .where(DeliveryMaterialLot.delivery == delivery.id)
        .order_by(DeliveryMaterialLot.position)
    )
    named = [row["dispatch_line"] for row in rows]
    lines = {row["id"]: row for row in await scoped(DispatchLine).select(*_COLUMNS).where(DispatchLine.id.is_in(named))} if named else {}
    names = await user_names({row["created_by"] for row in rows if row["created_by"]})
    return LotUseOut(
        delivery_id=delivery.id,
        lots=[_lot_out(lines[row["dispatch_line"]]) for row in rows if row["dispatch_line"] in lines],
        recorded_at=rows[0]["created_at"] if rows else None,
        recorded_by=names.get(rows[0]["created_by"], "") if rows and rows[0]["created_by"] else "",
    )


async def record_lot_use(delivery_id: UUID | str, data: LotUseIn) -> LotUseOut:
    """The supplier says which material lots its delivery used: lots sent to
    it only (anything else is refused, as unknown as a missing one); the list
    replaces the one before; audited. A cancelled delivery used nothing."""
    context = current()
    if not context.can("deliveries.ship"):
        raise PermissionDenied()
    delivery = await get_delivery(delivery_id)
    if delivery.status == "cancelled":
        raise DeliveryCancelled()
    wanted = list(dict.fromkeys(line.dispatch_line_id for line in data.lots))
    if len(wanted) > MAX_LOTS:
        raise InvalidLotUse(fields={"lots": N_("At most 50 material lots per delivery.")})
    # Any lot the supplier may name, not only those the form offered.
    found = await _nameable(delivery.supplier_id, scoped(DispatchLine).select(*_COLUMNS)).where(
        DispatchLine.id.is_in(wanted or [UUID(int=0)])
    )
    choices = {row["id"]: _lot_out(row) for row in found}
    if any(line not in choices for line in wanted):
        raise InvalidLotUse(fields={"lots": N_("Choose among the lots of material sent to you.")})
    before = await get_lot_use(delivery.id)
    await scoped(DeliveryMaterialLot).delete().where(DeliveryMaterialLot.delivery == delivery.id)
    for position, line in enumerate(wanted):
        chosen = choices[line]
        row = scoped(DeliveryMaterialLot).new(
            supplier=delivery.supplier_id,
            delivery=delivery.id,
            dispatch_line=line,
            item=chosen.item_id,
            lot=chosen.lot,
            position=position,
            created_by=context.user_id,
        )
        await row.save()
    await record(
        "delivery.material_lots",
        entity_type="delivery",
        entity_id=delivery.id,
        before={"lots": [f"{lot.item_code} {lot.lot}" for lot in before.lots]},
        after={"lots": [f"{choices[line].item_code} {choices[line].lot}" for line in wanted]},
    )
    return await get_lot_use(delivery.id)
