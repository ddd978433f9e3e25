"""Material dispatch and balance: the buyer sends material, the supplier
confirms what arrived, reports returns and scrap, and both sides read what
the supplier should still hold.

Rules enforced here (never in a controller):

- a dispatch goes draft -> sent -> received | received_with_discrepancy
  (``portal.materials.states``), each change in the audit trail;
- a received quantity further from the dispatched one than the tenant's
  ``dispatch_tolerance`` (a fraction) needs a reason and flags the line;
- balance per supplier x material = dispatched (corrected by the receipts)
  - consumed by accepted output - returned - scrapped, in ``Decimal``.
"""

from __future__ import annotations

import base64
import re
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any
from uuid import UUID, uuid5
from zoneinfo import ZoneInfo

from piccolo.query.functions.aggregate import Count

from portal.audit.services import record
from portal.configuration.services import dispatch_tolerances
from portal.conversations.services import share_thread_files
from portal.documents.attachments import register_attachment_target
from portal.documents.services import share_attached
from portal.errors import Conflict, DomainError, NotFound, PermissionDenied
from portal.i18n import N_
from portal.items.tables import BomLine, Item
from portal.materials.schemas import (
    BalanceOut,
    DispatchCreate,
    DispatchLineOut,
    DispatchOut,
    DispatchSummary,
    MovementCreate,
    MovementOut,
    ReceiptIn,
)
from portal.materials.states import COUNTED_STATES, SHARED_STATES, Event, Status, next_status
from portal.materials.tables import Dispatch, DispatchCounter, DispatchLine, MaterialMovement
from portal.notifications.services import emit
from portal.orders.states import OPEN_STATES as ORDER_OPEN_STATES
from portal.orders.states import Status as OrderStatus
from portal.orders.tables import Order, OrderLine
from portal.pagination import Shown
from portal.quantities import plain, quantity_problem
from tenants.context import TenantContext, current
from tenants.scoping import scoped
from tenants.tables import Supplier

PAGE_SIZE = 50
MAX_PAGE = 200
MAX_LINES = 200
MAX_LOT = 80
MAX_TEXT = 2000
DISPATCHABLE_KINDS = ("material", "part")
# What the dispatch form offers at most (it says when there are more).
CHOICES = 500
ORDER_CHOICES = 200
RETURN, SCRAP = "return", "scrap"
MOVEMENT_KINDS = (RETURN, SCRAP)
# Material can go out against an order the supplier has seen and that is
# still open.
ORDER_STATES_FOR_DISPATCH = frozenset(ORDER_OPEN_STATES - {OrderStatus.DRAFT})
# Names the stable id of a balance row (supplier x material).
BALANCE_NAMESPACE = UUID("6b1f7a52-3c1e-4d5e-9a51-0d3f6f1c2b7e")
ZERO = Decimal(0)
NOT_POSITIVE = quantity_problem(0)[1]


class InvalidDispatch(DomainError):
    code = "invalid_dispatch"
    message = N_("Some fields are missing or not valid.")


class InvalidMaterialReport(DomainError):
    code = "invalid_material_report"
    message = N_("Some fields are missing or not valid.")


class DispatchChanged(Conflict):
    code = "dispatch_changed"
    message = N_("Someone else changed this dispatch in the meantime. Reload it; your changes were not saved.")


# ---------------------------------------------------------------- rules as plain functions


def is_out_of_tolerance(dispatched: Decimal, received: Decimal, tolerance: Decimal) -> bool:
    """A received quantity further from the dispatched one than
    ``dispatched x tolerance`` (either way) is a discrepancy: it needs a
    reason and is flagged."""
    return abs(received - dispatched) > dispatched * tolerance


@dataclass(frozen=True)
class Consumption:
    """One order line's accepted output of an item that uses the material."""

    accepted: Decimal
    quantity_per_unit: Decimal
    scrap_rate: Decimal


@dataclass
class Figures:
    """The arithmetic of one balance row, all ``Decimal``."""

    dispatched: Decimal = ZERO
    in_transit: Decimal = ZERO
    receipt_difference: Decimal = ZERO
    returned: Decimal = ZERO
    scrapped: Decimal = ZERO
    uses: list[Consumption] = field(default_factory=list)

    @property
    def consumed(self) -> Decimal:
        """Accepted output x quantity per unit: the BOM's net use. The scrap
        rate is not consumption: it is the allowance reported scrap is set
        against, and reported scrap already leaves ``held`` by itself, so
        counting the allowance here as well would take a supplier that
        scraps within it short twice."""
        return sum((use.accepted * use.quantity_per_unit for use in self.uses), ZERO)

    @property
    def scrap_allowance(self) -> Decimal:
        return sum((use.accepted * use.quantity_per_unit * use.scrap_rate for use in self.uses), ZERO)

    @property
    def held(self) -> Decimal:
        return self.dispatched + self.receipt_difference - self.consumed - self.returned - self.scrapped

    @property
    def over_consumption(self) -> bool:
        return self.held < 0

    @property
    def excess_scrap(self) -> bool:
        return self.scrapped > self.scrap_allowance


# ---------------------------------------------------------------- helpers


def _require(action: str) -> TenantContext:
    context = current()
    if not context.can(action):
        raise PermissionDenied()
    return context


def _today(context: TenantContext) -> date:
    return datetime.now(ZoneInfo(context.time_zone)).date()


async def _visible_dispatch(dispatch_id: UUID | str) -> Dispatch:
    """A draft is the buyer's own: to a supplier user it does not exist."""
    dispatch = await scoped(Dispatch).get(dispatch_id)
    if current().is_supplier and dispatch.status not in SHARED_STATES:
        raise NotFound()
    return dispatch


async def _next_number(tenant_id: UUID, year: int) -> str:
    # The UPDATE locks the tenant's counter row until the transaction ends,
    # so two planners creating dispatches at once get consecutive numbers.
    rows = await DispatchCounter.raw(
        "UPDATE dispatch_counter SET last = last + 1 WHERE tenant = {} AND year = {} RETURNING last", tenant_id, year
    )
    if not rows:
        await scoped(DispatchCounter).new(tenant=tenant_id, year=year, last=0).save()
        rows = await DispatchCounter.raw(
            "UPDATE dispatch_counter SET last = last + 1 WHERE tenant = {} AND year = {} RETURNING last", tenant_id, year
        )
    return f"MD-{year}-{int(rows[0]['last']):05d}"


def _text_problem(value: str, limit: int) -> str | None:
    return N_("This text is too long.") if len(value) > limit else None


_DISPATCH_NUMBER = re.compile(r"MD-\d{4}-\d{5,}")


def _encode(*parts: str) -> str:
    return base64.urlsafe_b64encode("|".join(parts).encode()).decode()


def _decode(cursor: str, count: int) -> list[str]:
    try:
        parts = base64.b64decode(cursor.encode(), altchars=b"-_", validate=True).decode().split("|")
    except (ValueError, UnicodeDecodeError):
        parts = []
    if len(parts) != count or not all(parts):
        raise InvalidDispatch(fields={"cursor": N_("This page link is not valid.")})
    return parts


def _limit(limit: int) -> int:
    return max(1, min(limit, MAX_PAGE))


# ---------------------------------------------------------------- reading dispatches


async def get_dispatch(dispatch_id: UUID | str) -> DispatchOut:
    _require("materials.view")
    return await _to_out(await _visible_dispatch(dispatch_id))


async def _to_out(dispatch: Dispatch) -> DispatchOut:
    rows = (
        await scoped(DispatchLine)
        .select(
            DispatchLine.id,
            DispatchLine.line_no,
            DispatchLine.item.id,
            DispatchLine.item.code,
            DispatchLine.item.name,
            DispatchLine.item.unit,
            DispatchLine.lot,
            DispatchLine.quantity,
            DispatchLine.received_quantity,
            DispatchLine.discrepancy_reason,
            DispatchLine.flagged,
        )
        .where(DispatchLine.dispatch == dispatch.id)
        .order_by(DispatchLine.line_no)
        .output(nested=True)
    )
    supplier = await Supplier.select(Supplier.name).where(Supplier.id == dispatch.supplier).first()
    order_number = None
    if dispatch.order is not None:
        order = await scoped(Order).select(Order.number).where(Order.id == dispatch.order).first()
        order_number = order["number"] if order else None
    tolerance, own = await dispatch_tolerances({row["item"]["id"] for row in rows})
    lines = [
        DispatchLineOut(
            id=row["id"],
            line_no=row["line_no"],
            item_id=row["item"]["id"],
            item_code=row["item"]["code"],
            item_name=row["item"]["name"],
            unit=row["item"]["unit"],
            lot=row["lot"],
            quantity=plain(row["quantity"]),
            received_quantity=None if row["received_quantity"] is None else plain(row["received_quantity"]),
            difference=None if row["received_quantity"] is None else plain(Decimal(row["received_quantity"]) - Decimal(row["quantity"])),
            discrepancy_reason=row["discrepancy_reason"],
            flagged=row["flagged"],
            tolerance=plain(own.get(row["item"]["id"], tolerance)),
        )
        for row in rows
    ]
    return DispatchOut(
        id=dispatch.id,
        number=dispatch.number,
        supplier_id=dispatch.supplier,
        supplier_name=supplier["name"] if supplier else "",
        order_id=dispatch.order,
        order_number=order_number,
        status=dispatch.status,
        note=dispatch.note,
        tolerance=plain(tolerance),
        lines=lines,
        created_at=dispatch.created_at,
        sent_at=dispatch.sent_at,
        received_at=dispatch.received_at,
    )


async def list_dispatches(
    status: str | None = None,
    supplier_id: UUID | None = None,
    order_id: UUID | None = None,
    item_id: UUID | None = None,
    cursor: str | None = None,
    limit: int = PAGE_SIZE,
) -> tuple[list[DispatchSummary], str | None]:
    """Newest number first; supplier users see only their own, sent
    dispatches. Returns the page and the cursor of the next one."""
    context = _require("materials.view")
    limit = _limit(limit)
    query = scoped(Dispatch).select(
        Dispatch.id,
        Dispatch.number,
        Dispatch.supplier,
        Dispatch.supplier.name,
        Dispatch.order,
        Dispatch.order.number,
        Dispatch.status,
        Dispatch.created_at,
        Dispatch.sent_at,
    )
    if context.is_supplier:
        query = query.where(Dispatch.status.is_in([state.value for state in SHARED_STATES]))
    if status:
        query = query.where(Dispatch.status == status)
    if supplier_id:
        query = query.where(Dispatch.supplier == supplier_id)
    if order_id:
        query = query.where(Dispatch.order == order_id)
    if item_id:
        query = query.where(Dispatch.id.is_in(scoped(DispatchLine).select(DispatchLine.dispatch).where(DispatchLine.item == item_id)))
    if cursor:
        (after,) = _decode(cursor, 1)
        # Any base64 word decodes to something: only a number is a page link.
        if not _DISPATCH_NUMBER.fullmatch(after):
            raise InvalidDispatch(fields={"cursor": N_("This page link is not valid.")})
        query = query.where(Dispatch.number < after)
    rows = await query.order_by(Dispatch.number, ascending=False).limit(limit + 1)
    page = rows[:limit]
    counts: dict[UUID, int] = {}
    if page:
        counted = (
            await scoped(DispatchLine)
            .select(DispatchLine.dispatch, Count(alias="lines"))
            .where(DispatchLine.dispatch.is_in([row["id"] for row in page]))
            .group_by(DispatchLine.dispatch)
        )
        counts = {row["dispatch"]: int(row["lines"]) for row in counted}
    items = [
        DispatchSummary(
            id=row["id"],
            number=row["number"],
            supplier_id=row["supplier"],
            supplier_name=row["supplier.name"],
            order_id=row["order"],
            order_number=row["order.number"],
            status=row["status"],
            lines=counts.get(row["id"], 0),
            created_at=row["created_at"],
            sent_at=row["sent_at"],
        )
        for row in page
    ]
    next_cursor = _encode(page[-1]["number"]) if len(rows) > limit else None
    return items, next_cursor


async def dispatches_to_confirm() -> list[DispatchSummary]:
    """For the supplier inbox: sent dispatches of the acting supplier that
    wait for its receipt, oldest first. Buyer roles get an empty list."""
    context = _require("materials.view")
    if not context.is_supplier:
        return []
    items: list[DispatchSummary] = []
    cursor: str | None = None
    while True:
        page, cursor = await list_dispatches(status=Status.SENT.value, cursor=cursor, limit=MAX_PAGE)
        items.extend(page)
        if cursor is None:
            return list(reversed(items))


async def dispatch_attachment_supplier(dispatch_id: UUID) -> UUID | None:
    """Hook for the documents package (receipt photos, damage reports): the
    resolver of ``attached_type="dispatch"``. A foreign, missing or (for
    supplier users) draft dispatch raises NotFound. Documents on a sent
    dispatch are shared with its supplier; on a draft they are the buyer's
    own until ``send_dispatch`` shares them."""
    dispatch = await _visible_dispatch(dispatch_id)
    if dispatch.status not in SHARED_STATES:
        return None
    supplier: UUID = dispatch.supplier
    return supplier


# ---------------------------------------------------------------- the buyer's side


async def dispatchable_items() -> Shown[Item]:
    """Active materials and parts of the tenant, materials first: the first
    ``CHOICES``, with the count of all (the form says when it offers fewer)."""
    _require("materials.dispatch")

    def dispatchable(query: Any) -> Any:
        return query.where(Item.active.eq(True)).where(Item.kind.is_in(list(DISPATCHABLE_KINDS)))

    rows = list(await dispatchable(scoped(Item).objects()).order_by(Item.kind).order_by(Item.code).limit(CHOICES + 1))
    total = len(rows) if len(rows) <= CHOICES else await dispatchable(scoped(Item).count())
    return Shown(rows[:CHOICES], total)


async def dispatch_targets() -> tuple[list[Supplier], Shown[dict[str, Any]]]:
    """Active suppliers and the open orders material can go out against
    (the newest ``ORDER_CHOICES``, with the count of all)."""
    _require("materials.dispatch")
    suppliers = await scoped(Supplier).objects().where(Supplier.status == "active").order_by(Supplier.code)
    open_orders = Order.status.is_in([state.value for state in ORDER_STATES_FOR_DISPATCH])
    orders = list(
        await scoped(Order)
        .select(Order.id, Order.number, Order.supplier, Order.supplier.code)
        .where(open_orders)
        .order_by(Order.number, ascending=False)
        .limit(ORDER_CHOICES + 1)
    )
    total = len(orders) if len(orders) <= ORDER_CHOICES else await scoped(Order).count().where(open_orders)
    return list(suppliers), Shown(orders[:ORDER_CHOICES], total)


async def balance_suppliers() -> list[Supplier]:
    """Suppliers a buyer can filter balances by; none for supplier users,
    who only ever see their own."""
    context = _require("materials.view")
    if context.is_supplier:
        return []
    return list(await scoped(Supplier).objects().order_by(Supplier.code))


async def _check_order(order_id: UUID, supplier_id: UUID) -> str | None:
    order = await scoped(Order).select(Order.supplier, Order.status).where(Order.id == order_id).first()
    if order is None:
        return N_("This order does not exist.")
    if order["supplier"] != supplier_id:
        return N_("This order belongs to another supplier.")
    if order["status"] not in ORDER_STATES_FOR_DISPATCH:
        return N_("This order is not open: issue it first, or choose another.")
    return None


async def create_dispatch(data: DispatchCreate) -> DispatchOut:
    """A draft dispatch to one supplier of this tenant (optionally against
    one of its open orders), numbered per tenant and year."""
    context = _require("materials.dispatch")
    problems: dict[str, str] = {}
    supplier = await scoped(Supplier).select(Supplier.id).where(Supplier.id == data.supplier_id).first()
    if supplier is None:
        problems["supplier_id"] = N_("This supplier does not exist.")
    elif data.order_id is not None:
        problem = await _check_order(data.order_id, data.supplier_id)
        if problem:
            problems["order_id"] = problem
    problem = _text_problem(data.note, MAX_TEXT)
    if problem:
        problems["note"] = problem
    if not data.lines:
        problems["lines"] = N_("Add at least one line.")
    if len(data.lines) > MAX_LINES:
        problems["lines"] = N_("A dispatch has at most 200 lines.")
    known: set[UUID] = set()
    if data.lines:
        rows = await (
            scoped(Item)
            .select(Item.id)
            .where(Item.id.is_in([line.item_id for line in data.lines]))
            .where(Item.active.eq(True))
            .where(Item.kind.is_in(list(DISPATCHABLE_KINDS)))
        )
        known = {row["id"] for row in rows}
    for index, line in enumerate(data.lines):
        _, problem = quantity_problem(line.quantity)
        if problem:
            problems[f"lines.{index}.quantity"] = problem
        if line.item_id not in known:
            problems[f"lines.{index}.item_id"] = N_("This material does not exist.")
        problem = _text_problem(line.lot, MAX_LOT)
        if problem:
            problems[f"lines.{index}.lot"] = problem
    if problems:
        raise InvalidDispatch(fields=problems)
    number = await _next_number(context.tenant_id, _today(context).year)
    dispatch = scoped(Dispatch).new(
        number=number, supplier=data.supplier_id, order=data.order_id, note=data.note.strip(), created_by=context.user_id
    )
    await dispatch.save()
    for index, line in enumerate(data.lines, start=1):
        await (
            scoped(DispatchLine)
            .new(
                dispatch=dispatch.id,
                supplier=data.supplier_id,
                line_no=index,
                item=line.item_id,
                lot=line.lot.strip(),
                quantity=Decimal(line.quantity),
            )
            .save()
        )
    await record(
        "dispatch.create",
        entity_type="dispatch",
        entity_id=dispatch.id,
        after={"number": number, "supplier": data.supplier_id, "order": data.order_id, "lines": len(data.lines)},
    )
    return await _to_out(dispatch)


async def _move(dispatch: Dispatch, before: Status, after: Status, **changes: Any) -> None:
    """Write the new status only if nobody moved the dispatch meanwhile: the
    second of two concurrent sends or receipts gets a conflict."""
    values = {getattr(Dispatch, key): value for key, value in changes.items()}
    values[Dispatch.status] = after.value
    updated = (
        await scoped(Dispatch)
        .update(values)
        .where(Dispatch.id == dispatch.id)
        .where(Dispatch.status == before.value)
        .returning(Dispatch.id)
    )
    if not updated:
        raise DispatchChanged()
    for key, value in changes.items():
        setattr(dispatch, key, value)
    dispatch.status = after.value


async def send_dispatch(dispatch_id: UUID | str) -> DispatchOut:
    """The buyer sends a draft: the supplier sees it from now on and is
    emailed at once. The supplier must be active and the order still open."""
    context = _require("materials.dispatch")
    dispatch = await _visible_dispatch(dispatch_id)
    before = Status(dispatch.status)
    after = next_status(before, Event.SEND)
    supplier = await scoped(Supplier).get(dispatch.supplier)
    problems: dict[str, str] = {}
    if supplier.status != "active":
        problems["supplier_id"] = N_("This supplier is not active.")
    if dispatch.order is not None:
        problem = await _check_order(dispatch.order, dispatch.supplier)
        if problem:
            problems["order_id"] = problem
    if not await scoped(DispatchLine).exists().where(DispatchLine.dispatch == dispatch.id):
        problems["lines"] = N_("Add at least one line.")
    if problems:
        raise InvalidDispatch(fields=problems)
    await _move(dispatch, before, after, sent_at=datetime.now(UTC), sent_by=context.user_id)
    await share_attached({"dispatch": [dispatch.id]}, dispatch.supplier)
    await share_thread_files("dispatch", dispatch.id)
    await record(
        "dispatch.send", entity_type="dispatch", entity_id=dispatch.id, before={"status": before.value}, after={"status": after.value}
    )
    await _tell("dispatch.sent", dispatch)
    return await _to_out(dispatch)


async def _tell(kind: str, dispatch: Dispatch) -> None:
    """Record an event about ``dispatch`` for the notifications."""
    context = current()
    supplier = await Supplier.select(Supplier.name).where(Supplier.id == dispatch.supplier).first()
    params = {"number": dispatch.number, "buyer": context.tenant_name, "supplier": supplier["name"] if supplier else ""}
    await emit(
        kind, link=f"/materials/dispatches/{dispatch.id}", supplier=dispatch.supplier, record=("dispatch", dispatch.id), params=params
    )


# ---------------------------------------------------------------- the supplier's receipt


async def confirm_receipt(dispatch_id: UUID | str, data: ReceiptIn) -> DispatchOut:
    """The supplier confirms, once, what arrived: every line with its
    received quantity. A line further from the dispatched quantity than the
    tenant's tolerance needs a reason and is flagged; any flagged line makes
    the dispatch "received with discrepancy". A second confirmation is a
    conflict."""
    context = _require("materials.confirm")
    dispatch = await _visible_dispatch(dispatch_id)
    before = Status(dispatch.status)
    # A dispatch that is not waiting for a receipt is refused before the
    # lines are even read: confirming twice is a conflict, not a typo.
    next_status(before, Event.CONFIRM)
    lines = {line.id: line for line in await scoped(DispatchLine).objects().where(DispatchLine.dispatch == dispatch.id)}
    tolerance, own = await dispatch_tolerances({line.item for line in lines.values()})
    problems: dict[str, str] = {}
    seen: set[UUID] = set()
    accepted: list[tuple[DispatchLine, Decimal, str, bool]] = []
    for index, entry in enumerate(data.lines):
        line = lines.get(entry.line_id)
        if line is None or entry.line_id in seen:
            problems[f"lines.{index}.line_id"] = N_("This line is not on the dispatch, or is given twice.")
            continue
        seen.add(entry.line_id)
        received, problem = quantity_problem(entry.received_quantity, allow_zero=True)
        if problem == NOT_POSITIVE:
            # Zero is allowed here (nothing arrived), so say so.
            problem = N_("Enter zero or more.")
        if problem or received is None:
            problems[f"lines.{index}.received_quantity"] = problem or N_("Enter a number.")
            continue
        reason = entry.reason.strip()
        problem = _text_problem(reason, MAX_TEXT)
        if problem:
            problems[f"lines.{index}.reason"] = problem
        flagged = is_out_of_tolerance(Decimal(line.quantity), received, own.get(line.item, tolerance))
        if flagged and not reason:
            problems[f"lines.{index}.reason"] = N_("This differs from the dispatched quantity by more than the tolerance: say why.")
        accepted.append((line, received, reason, flagged))
    if set(lines) - seen and not problems:
        problems["lines"] = N_("Confirm every line of the dispatch.")
    if problems:
        raise InvalidDispatch(fields=problems)
    discrepancy = any(flagged for _, _, _, flagged in accepted)
    after = next_status(before, Event.CONFIRM_WITH_DISCREPANCY if discrepancy else Event.CONFIRM)
    await _move(dispatch, before, after, received_at=datetime.now(UTC), received_by=context.user_id)
    for line, received, reason, flagged in accepted:
        line.received_quantity, line.discrepancy_reason, line.flagged = received, reason, flagged
        await line.save([DispatchLine.received_quantity, DispatchLine.discrepancy_reason, DispatchLine.flagged])
    await record(
        "dispatch.receive",
        entity_type="dispatch",
        entity_id=dispatch.id,
        before={"status": before.value},
        after={
            "status": after.value,
            "tolerance": str(tolerance),
            "lines": [
                {
                    "line_no": line.line_no,
                    "quantity": str(line.quantity),
                    "received": str(received),
                    "reason": reason,
                    "flagged": flagged,
                    "tolerance": str(own.get(line.item, tolerance)),
                }
                for line, received, reason, flagged in accepted
            ],
        },
    )
    if discrepancy:
        await _tell("dispatch.discrepancy", dispatch)
    return await _to_out(dispatch)


# ---------------------------------------------------------------- returns and scrap


MOVEMENT_COLUMNS = (
    MaterialMovement.id,
    MaterialMovement.kind,
    MaterialMovement.supplier,
    MaterialMovement.supplier.name,
    MaterialMovement.item,
    MaterialMovement.item.code,
    MaterialMovement.item.name,
    MaterialMovement.item.unit,
    MaterialMovement.lot,
    MaterialMovement.quantity,
    MaterialMovement.reason,
    MaterialMovement.dispatch,
    MaterialMovement.reported_by.name,
    MaterialMovement.reported_at,
)


def _movement_out(row: dict[str, Any]) -> MovementOut:
    return MovementOut(
        id=row["id"],
        kind=row["kind"],
        supplier_id=row["supplier"],
        supplier_name=row["supplier.name"],
        item_id=row["item"],
        item_code=row["item.code"],
        item_name=row["item.name"],
        unit=row["item.unit"],
        lot=row["lot"],
        quantity=plain(row["quantity"]),
        reason=row["reason"],
        dispatch_id=row["dispatch"],
        reported_by=row["reported_by.name"] or "",
        reported_at=row["reported_at"],
    )


async def received_materials() -> list[dict[str, Any]]:
    """Items sent to the acting supplier (for its report form): id, code,
    name, unit."""
    _require("materials.report")
    rows = (
        await scoped(DispatchLine)
        .select(DispatchLine.item, DispatchLine.item.code, DispatchLine.item.name, DispatchLine.item.unit)
        .where(DispatchLine.dispatch.status.is_in([state.value for state in COUNTED_STATES]))
        .distinct()
    )
    return sorted(rows, key=lambda row: row["item.code"])


async def report_movement(kind: str, data: MovementCreate) -> MovementOut:
    """The supplier reports material returned to the buyer or scrapped. Only
    material that was sent to this supplier can be reported; scrap needs a
    reason. Neither is refused for exceeding the balance: the balance flags
    it instead, so that what physically happened is always recorded."""
    context = _require("materials.report")
    if context.supplier_id is None:
        raise PermissionDenied()
    if kind not in MOVEMENT_KINDS:
        raise InvalidMaterialReport(fields={"kind": N_("This value is missing or not valid.")})
    problems: dict[str, str] = {}
    _, problem = quantity_problem(data.quantity)
    if problem:
        problems["quantity"] = problem
    sent_here = (
        scoped(DispatchLine)
        .exists()
        .where(DispatchLine.item == data.item_id)
        .where(DispatchLine.dispatch.status.is_in([state.value for state in COUNTED_STATES]))
    )
    if not await sent_here:
        problems["item_id"] = N_("This material was never sent to you.")
    if data.dispatch_id is not None:
        dispatch = await scoped(Dispatch).select(Dispatch.id, Dispatch.status).where(Dispatch.id == data.dispatch_id).first()
        if dispatch is None or dispatch["status"] not in SHARED_STATES:
            problems["dispatch_id"] = N_("This dispatch does not exist.")
        elif (
            not await scoped(DispatchLine)
            .exists()
            .where(DispatchLine.dispatch == data.dispatch_id)
            .where(DispatchLine.item == data.item_id)
        ):
            problems["dispatch_id"] = N_("This material is not on that dispatch.")
    reason = data.reason.strip()
    if kind == SCRAP and not reason:
        problems["reason"] = N_("Say why the material was scrapped.")
    for name, value, limit in (("reason", reason, MAX_TEXT), ("lot", data.lot.strip(), MAX_LOT)):
        problem = _text_problem(value, limit)
        if problem:
            problems[name] = problem
    if problems:
        raise InvalidMaterialReport(fields=problems)
    movement = scoped(MaterialMovement).new(
        supplier=context.supplier_id,
        kind=kind,
        item=data.item_id,
        lot=data.lot.strip(),
        quantity=Decimal(data.quantity),
        reason=reason,
        dispatch=data.dispatch_id,
        reported_by=context.user_id,
        reported_at=datetime.now(UTC),
    )
    await movement.save()
    await record(
        f"material.{kind}",
        entity_type="material_movement",
        entity_id=movement.id,
        after={"kind": kind, "item": data.item_id, "lot": movement.lot, "quantity": str(movement.quantity), "reason": reason},
    )
    return await get_movement(kind, movement.id)


async def get_movement(kind: str, movement_id: UUID | str) -> MovementOut:
    _require("materials.view")
    row = await scoped(MaterialMovement).get(movement_id)
    if row.kind != kind:
        raise NotFound()
    found = await scoped(MaterialMovement).select(*MOVEMENT_COLUMNS).where(MaterialMovement.id == row.id).first()
    return _movement_out(found)


async def list_movements(
    kind: str,
    supplier_id: UUID | None = None,
    item_id: UUID | None = None,
    cursor: str | None = None,
    limit: int = PAGE_SIZE,
) -> tuple[list[MovementOut], str | None]:
    """Newest first; supplier users see their own reports only."""
    _require("materials.view")
    limit = _limit(limit)
    query = scoped(MaterialMovement).select(*MOVEMENT_COLUMNS).where(MaterialMovement.kind == kind)
    if supplier_id:
        query = query.where(MaterialMovement.supplier == supplier_id)
    if item_id:
        query = query.where(MaterialMovement.item == item_id)
    if cursor:
        at, after_id = _decode(cursor, 2)
        try:
            after_at, after = datetime.fromisoformat(at), UUID(after_id)
        except ValueError:
            raise InvalidDispatch(fields={"cursor": N_("This page link is not valid.")}) from None
        query = query.where(
            (MaterialMovement.reported_at < after_at) | ((MaterialMovement.reported_at == after_at) & (MaterialMovement.id < after))
        )
    rows = await query.order_by(MaterialMovement.reported_at, MaterialMovement.id, ascending=False).limit(limit + 1)
    page = rows[:limit]
    next_cursor = _encode(page[-1]["reported_at"].isoformat(), str(page[-1]["id"])) if len(rows) > limit else None
    return [_movement_out(row) for row in page], next_cursor


# ---------------------------------------------------------------- the balance


async def settle_balance(
    item_id: UUID, quantity: Decimal, from_supplier: UUID, kind: str, reason: str, to_supplier: UUID | None = None
) -> tuple[UUID, UUID | None]:
    """For a handover: material held by ``from_supplier`` leaves its balance
    as a return (``kind`` "return") or scrap (a write-off), with ``reason``
    naming the handover. With ``to_supplier`` it goes on to that supplier as
    a sent dispatch, which the new supplier confirms on receipt like any
    other. Returns (movement, dispatch or None)."""
    context = _require("materials.dispatch")
    if kind not in MOVEMENT_KINDS or quantity <= 0:
        raise InvalidMaterialReport(fields={"quantity": NOT_POSITIVE or ""})
    movement = scoped(MaterialMovement).new(
        supplier=from_supplier, kind=kind, item=item_id, quantity=quantity, reason=reason, reported_by=context.user_id
    )
    await movement.save()
    await record(
        "material." + kind, entity_type="material_movement", entity_id=movement.id, after={"quantity": str(quantity), "reason": reason}
    )
    if to_supplier is None:
        return movement.id, None
    now = datetime.now(UTC)
    dispatch = scoped(Dispatch).new(
        number=await _next_number(context.tenant_id, _today(context).year),
        supplier=to_supplier,
        status=Status.SENT.value,
        note=reason,
        created_by=context.user_id,
        sent_at=now,
        sent_by=context.user_id,
    )
    await dispatch.save()
    await scoped(DispatchLine).new(dispatch=dispatch.id, supplier=to_supplier, line_no=1, item=item_id, quantity=quantity).save()
    await record("dispatch.send", entity_type="dispatch", entity_id=dispatch.id, after={"status": Status.SENT.value, "reason": reason})
    await _tell("dispatch.sent", dispatch)
    return movement.id, dispatch.id


async def _bom_uses(item_ids: set[UUID]) -> dict[UUID, list[tuple[UUID, Decimal, Decimal]]]:
    """Material per unit and scrap rate of each item: item -> [(material,
    quantity per unit, scrap rate)]."""
    if not item_ids:
        return {}
    context = current()
    if context.is_supplier:
        # A bill of material belongs to an item, not to a supplier, so
        # scoped() hides BomLine from supplier roles. The items asked for
        # here come from the supplier's own order lines (read through
        # scoped() by the caller), the tenant is the context's own, and on
        # PostgreSQL row-level security limits the table to it again; only
        # the computed consumption leaves this function, never the BOM.
        query = BomLine.select(BomLine.item, BomLine.material, BomLine.quantity_per_unit, BomLine.scrap_rate).where(
            BomLine.tenant == context.tenant_id
        )
    else:
        query = scoped(BomLine).select(BomLine.item, BomLine.material, BomLine.quantity_per_unit, BomLine.scrap_rate)
    uses: dict[UUID, list[tuple[UUID, Decimal, Decimal]]] = defaultdict(list)
    for row in await query.where(BomLine.item.is_in(list(item_ids))):
        uses[row["item"]].append((row["material"], Decimal(row["quantity_per_unit"]), Decimal(row["scrap_rate"] or 0)))
    return uses


async def balances(supplier_id: UUID | None = None, item_id: UUID | None = None) -> list[BalanceOut]:
    """Material held per supplier x material: dispatched (corrected by what
    the supplier confirmed receiving) - consumed by accepted output -
    returned - scrapped. Consumed = for each order line of that supplier,
    accepted quantity x BOM quantity per unit (net: the scrap rate is the
    allowance reported scrap is compared with, not use). Rows exist
    for every material sent to or reported by a supplier; flags: held < 0
    (over-consumption) and scrap reported beyond the BOM's allowance.
    Supplier users get their own supplier's rows only."""
    _require("materials.view")
    figures: dict[tuple[UUID, UUID], Figures] = defaultdict(Figures)
    names: dict[UUID, str] = {}
    items: dict[UUID, tuple[str, str, str]] = {}

    lines = scoped(DispatchLine).select(
        DispatchLine.supplier,
        DispatchLine.supplier.name,
        DispatchLine.item,
        DispatchLine.item.code,
        DispatchLine.item.name,
        DispatchLine.item.unit,
        DispatchLine.quantity,
        DispatchLine.received_quantity,
    )
    lines = lines.where(DispatchLine.dispatch.status.is_in([state.value for state in COUNTED_STATES]))
    movements = scoped(MaterialMovement).select(
        MaterialMovement.supplier,
        MaterialMovement.supplier.name,
        MaterialMovement.item,
        MaterialMovement.item.code,
        MaterialMovement.item.name,
        MaterialMovement.item.unit,
        MaterialMovement.kind,
        MaterialMovement.quantity,
    )
    if supplier_id:
        lines = lines.where(DispatchLine.supplier == supplier_id)
        movements = movements.where(MaterialMovement.supplier == supplier_id)
    if item_id:
        lines = lines.where(DispatchLine.item == item_id)
        movements = movements.where(MaterialMovement.item == item_id)
    for row in await lines:
        key = (row["supplier"], row["item"])
        names[row["supplier"]] = row["supplier.name"]
        items[row["item"]] = (row["item.code"], row["item.name"], row["item.unit"])
        entry = figures[key]
        quantity = Decimal(row["quantity"])
        entry.dispatched += quantity
        if row["received_quantity"] is None:
            entry.in_transit += quantity
        else:
            entry.receipt_difference += Decimal(row["received_quantity"]) - quantity
    for row in await movements:
        key = (row["supplier"], row["item"])
        names[row["supplier"]] = row["supplier.name"]
        items[row["item"]] = (row["item.code"], row["item.name"], row["item.unit"])
        if row["kind"] == RETURN:
            figures[key].returned += Decimal(row["quantity"])
        elif row["kind"] == SCRAP:
            figures[key].scrapped += Decimal(row["quantity"])

    # Consumption by accepted output, only for pairs that have a balance:
    # a BOM material never sent to the supplier is the supplier's own.
    suppliers = {supplier for supplier, _ in figures}
    if suppliers:
        lines = (
            await scoped(OrderLine)
            .select(OrderLine.order.supplier, OrderLine.item, OrderLine.delivered_quantity)
            .where(OrderLine.order.supplier.is_in(list(suppliers)))
            .where(OrderLine.order.status != OrderStatus.DRAFT.value)
        )
        # Compared here, not in SQL: SQLite keeps exact decimals as text
        # (portal/decimals.py), where "0.000" > "0".
        output = [row for row in lines if Decimal(row["delivered_quantity"]) > 0]
        uses = await _bom_uses({row["item"] for row in output})
        for row in output:
            for material, per_unit, scrap_rate in uses.get(row["item"], []):
                key = (row["order.supplier"], material)
                if key in figures:
                    figures[key].uses.append(Consumption(Decimal(row["delivered_quantity"]), per_unit, scrap_rate))

    result = [_balance_out(supplier, item, names[supplier], items[item], entry) for (supplier, item), entry in figures.items()]
    return sorted(result, key=lambda row: (row.supplier_name, row.item_code))


def _balance_out(supplier: UUID, item: UUID, supplier_name: str, info: tuple[str, str, str], entry: Figures) -> BalanceOut:
    return BalanceOut(
        id=uuid5(BALANCE_NAMESPACE, f"{supplier}/{item}"),
        supplier_id=supplier,
        supplier_name=supplier_name,
        item_id=item,
        item_code=info[0],
        item_name=info[1],
        unit=info[2],
        dispatched=plain(entry.dispatched),
        in_transit=plain(entry.in_transit),
        receipt_difference=plain(entry.receipt_difference),
        consumed=plain(entry.consumed),
        scrap_allowance=plain(entry.scrap_allowance),
        returned=plain(entry.returned),
        scrapped=plain(entry.scrapped),
        held=plain(entry.held),
        over_consumption=entry.over_consumption,
        excess_scrap=entry.excess_scrap,
        flagged=entry.over_consumption or entry.excess_scrap,
    )


register_attachment_target("dispatch", dispatch_attachment_supplier, table=Dispatch)
