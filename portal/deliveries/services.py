"""Deliveries: the supplier's shipping notice against an order, and the
buyer's receipt with accepted and rejected quantities.

The rules, in one place:

- A notice belongs to one order of the supplier's in a receiving state
  (accepted, in production, partially delivered); its lines name lines of
  that order, with a lot and a quantity greater than zero. Several lines may
  name the same order line (several lots).
- Over-delivery: on each order line, what a notice ships plus what other
  notices already have in transit may not exceed the open quantity
  (ordered - accepted so far) x (1 + the tenant's over-delivery tolerance).
  Drafts are not in transit; the check runs when a notice is created and
  again when it ships.
- A draft is the supplier's own: buyer roles do not see it until it ships.
- The receipt covers every line: accepted + rejected = shipped, both zero or
  more; a rejected quantity needs a reason (the supplier sees it): a code of
  the tenant's reject reasons (portal/quality/reasons.py), with details in
  words; words alone count as "other". Photos of rejects are documents
  attached to the delivery line.
- The receiving gate (portal/quality/gate.py): a receipt that accepts any
  quantity needs the order's QC checklist approved or waived, or QA's
  override with a reason. Accepted
  quantities may not exceed what is open on the order line: a surplus within
  the tolerance is shipped but must be rejected (returned), because an order
  line never counts more delivered than ordered.
- The accepted quantities reach the order (``apply_accepted_quantities``) in
  the same transaction; rejected quantities stay open on the order line for
  the supplier to replace.
- Shipping and receiving take the order's row lock first (PostgreSQL; SQLite
  serialises writers anyway), and every transition is a compare-and-set on
  the status: a second receipt of the same notice is refused (409), never
  counted twice.
"""

from __future__ import annotations

import base64
import re
from collections import defaultdict
from collections.abc import Iterable
from datetime import UTC, datetime
from decimal import ROUND_DOWN, Decimal
from typing import Any
from uuid import UUID

from piccolo.engine.postgres import PostgresEngine

from portal.audit.services import record
from portal.db import get_engine
from portal.deliveries.schemas import (
    DeliveryCreate,
    DeliveryLineIn,
    DeliveryLineOut,
    DeliveryList,
    DeliveryOut,
    DeliverySummary,
    ReceiptIn,
    ShippableLine,
    ShippableOrder,
)
from portal.deliveries.states import EVENT_ACTIONS, IN_TRANSIT, Event, Status, next_status
from portal.deliveries.tables import Delivery, DeliveryCounter, DeliveryLine
from portal.documents.attachments import register_attachment_target
from portal.errors import Conflict, DomainError, NotFound, PermissionDenied
from portal.i18n import N_, gettext
from portal.notifications.services import emit
from portal.orders.services import apply_accepted_quantities
from portal.orders.states import RECEIVING_STATES, SHARED_STATES
from portal.orders.states import Status as OrderStatus
from portal.orders.tables import Order, OrderLine
from portal.pagination import Shown
from portal.quality import reasons
from portal.quality.gate import check_gate, delivery_override, record_override
from portal.quality.services import RequirementOut
from portal.quantities import QUANTITY_DECIMALS, quantity_problem
from tenants.context import TenantContext, current
from tenants.scoping import scoped
from tenants.tables import Supplier, Tenant, User

PAGE_SIZE = 50
MAX_LINES = 200
MAX_LOT = 60
MAX_TEXT = 2000
MAX_TO_RECEIVE = 200
QUANTUM = Decimal(1).scaleb(-QUANTITY_DECIMALS)
ZERO = Decimal(0)


# ---------------------------------------------------------------- errors


class InvalidDelivery(DomainError):
    """Field problems, each field with its own message parameters (two lines
    over the tolerance say two different limits)."""

    code = "invalid_delivery"
    message = N_("Some fields are missing or not valid.")

    def __init__(self, problems: dict[str, tuple[str, dict[str, Any]]], message: str | None = None, **params: Any) -> None:
        super().__init__(message, fields={name: text for name, (text, _) in problems.items()}, **params)
        self.field_params = {name: field_params for name, (_, field_params) in problems.items()}

    def translated(self) -> tuple[str, dict[str, str]]:
        fields = {name: gettext(text, **self.field_params.get(name, {})) for name, text in self.fields.items()}
        return gettext(self.message, **self.params), fields


class OverDelivery(InvalidDelivery):
    code = "over_delivery"
    message = N_("More than is open on the order, beyond the over-delivery tolerance.")


class OrderNotShippable(Conflict):
    code = "order_not_shippable"
    message = N_("An order that is %(status)s takes no deliveries.")


class GoodsOnTheWay(Conflict):
    code = "deliveries_in_transit"
    message = N_("Goods are still on their way (%(numbers)s): receive them, or have the supplier cancel the notice, first.")


class AlreadyReceived(Conflict):
    code = "already_received"
    message = N_("This delivery was already received; the receipt was not recorded again.")


class Problems:
    """Collects field problems; ``raise_if_any`` raises them together."""

    def __init__(self) -> None:
        self.items: dict[str, tuple[str, dict[str, Any]]] = {}
        self.over_delivery = False

    def add(self, name: str, message: str, **params: Any) -> None:
        self.items.setdefault(name, (message, params))

    def __bool__(self) -> bool:
        return bool(self.items)

    def raise_if_any(self) -> None:
        if self.items:
            raise (OverDelivery if self.over_delivery else InvalidDelivery)(self.items)


# ---------------------------------------------------------------- arithmetic


def plain(value: Decimal) -> str:
    """A quantity as people write it: 12.5, not 12.500000 or 1.25E+1."""
    text = format(value.normalize(), "f")
    return "0" if text in ("-0", "") else text


def open_quantity(ordered: Decimal, delivered: Decimal) -> Decimal:
    return max(ZERO, ordered - delivered)


def shippable_quantity(ordered: Decimal, delivered: Decimal, in_transit: Decimal, tolerance: Decimal) -> Decimal:
    """What may still ship on an order line: open x (1 + tolerance) minus
    what is already on the way, never below zero, rounded down to the
    precision quantities are entered in (so "at most X" is exactly true)."""
    limit = open_quantity(ordered, delivered) * (1 + tolerance) - in_transit
    return max(ZERO, limit).quantize(QUANTUM, rounding=ROUND_DOWN)


def suggested_quantity(ordered: Decimal, delivered: Decimal, in_transit: Decimal) -> Decimal:
    """The ship form's prefill: open and not yet on the way."""
    return max(ZERO, open_quantity(ordered, delivered) - in_transit)


def percent(fraction: Decimal) -> str:
    return f"{plain(fraction * 100)}%"


# ---------------------------------------------------------------- helpers


def _require(action: str) -> TenantContext:
    context = current()
    if not context.can(action):
        raise PermissionDenied()
    return context


async def _visible(delivery_id: UUID | str) -> Delivery:
    """A draft is the supplier's own: to buyer roles it does not exist."""
    delivery = await scoped(Delivery).get(delivery_id)
    if not current().is_supplier and delivery.shipped_at is None:
        raise NotFound()
    return delivery


async def _tolerance(context: TenantContext) -> Decimal:
    row = await Tenant.select(Tenant.over_delivery_tolerance).where(Tenant.id == context.tenant_id).first()
    return Decimal(row["over_delivery_tolerance"]) if row else ZERO


async def _lock_order(order_id: UUID) -> None:
    """Serialises shipping and receiving on one order: the over-delivery
    check and the receipt read what the previous writer committed. SQLite
    runs one writer at a time already (IMMEDIATE transactions)."""
    if isinstance(get_engine(), PostgresEngine):
        await scoped(Order).select(Order.id).where(Order.id == order_id).lock_rows()


async def refuse_with_goods_on_the_way(order_id: UUID) -> None:
    """Before an order is cancelled: goods shipped against it and not
    received yet could no longer be received, so the order waits for them.
    The order is locked first, so that a notice shipping at the same moment
    is either seen here or refused by the cancelled order."""
    await _lock_order(order_id)
    rows = (
        await scoped(Delivery)
        .select(Delivery.number)
        .where(Delivery.order == order_id)
        .where(Delivery.status.is_in([status.value for status in IN_TRANSIT]))
        .order_by(Delivery.number)
    )
    if rows:
        raise GoodsOnTheWay(numbers=", ".join(row["number"] for row in rows))


async def _order_lines(order_id: UUID) -> dict[UUID, OrderLine]:
    return {line.id: line for line in await scoped(OrderLine).objects().where(OrderLine.order == order_id)}


async def _in_transit(order_line_ids: Iterable[UUID], exclude: UUID | None = None) -> dict[UUID, Decimal]:
    """Quantities on notices that shipped and are not received yet, per
    order line (summed here: SQLite would sum numerics as floats)."""
    ids = list(order_line_ids)
    totals: dict[UUID, Decimal] = defaultdict(Decimal)
    if not ids:
        return totals
    query = (
        scoped(DeliveryLine)
        .select(DeliveryLine.order_line, DeliveryLine.quantity, DeliveryLine.delivery)
        .where(DeliveryLine.order_line.is_in(ids))
        .where(DeliveryLine.delivery.status.is_in([status.value for status in IN_TRANSIT]))
    )
    for row in await query:
        if row["delivery"] != exclude:
            totals[row["order_line"]] += Decimal(row["quantity"])
    return totals


async def _next_number(tenant_id: UUID, year: int) -> str:
    # The UPDATE locks the tenant's counter row until the transaction ends,
    # so two suppliers creating notices at once get consecutive numbers; the
    # first notice of a year creates the row, once, even when two race.
    advance = "UPDATE delivery_counter SET last = last + 1 WHERE tenant = {} AND year = {} RETURNING last"
    rows = await DeliveryCounter.raw(advance, tenant_id, year)
    if not rows:
        await DeliveryCounter.raw(
            "INSERT INTO delivery_counter (tenant, year, last) VALUES ({}, {}, 0) ON CONFLICT (tenant, year) DO NOTHING", tenant_id, year
        )
        rows = await DeliveryCounter.raw(advance, tenant_id, year)
    return f"DN-{year}-{int(rows[0]['last']):05d}"


def _check_shipped_quantities(
    problems: Problems,
    lines: list[tuple[int, UUID, Decimal]],
    order_lines: dict[UUID, OrderLine],
    in_transit: dict[UUID, Decimal],
    tolerance: Decimal,
) -> None:
    """``lines`` are (index, order line id, quantity); each order line's
    total on this notice must fit what may still ship on it."""
    by_order_line: dict[UUID, list[tuple[int, Decimal]]] = defaultdict(list)
    for index, order_line_id, quantity in lines:
        by_order_line[order_line_id].append((index, quantity))
    for order_line_id, entries in by_order_line.items():
        line = order_lines[order_line_id]
        total = sum((quantity for _, quantity in entries), ZERO)
        allowed = shippable_quantity(line.quantity, line.delivered_quantity, in_transit.get(order_line_id, ZERO), tolerance)
        if total > allowed:
            problems.over_delivery = True
            for index, _ in entries:
                problems.add(
                    f"lines.{index}.quantity",
                    N_(
                        "At most %(allowed)s can still ship on order line %(line_no)s: %(open)s open,"
                        " %(tolerance)s tolerance, %(in_transit)s already on the way."
                    ),
                    allowed=plain(allowed),
                    line_no=line.line_no,
                    open=plain(open_quantity(line.quantity, line.delivered_quantity)),
                    tolerance=percent(tolerance),
                    in_transit=plain(in_transit.get(order_line_id, ZERO)),
                )


async def _move(delivery: Delivery, event: Event, **changes: Any) -> tuple[Status, Status]:
    """Compare-and-set on the status: of two requests that both read the
    same status, the second changes nothing and gets a conflict."""
    before = Status(delivery.status)
    after = next_status(before, event)
    values = {getattr(Delivery, key): value for key, value in changes.items()}
    values[Delivery.status] = after.value
    values[Delivery.updated_at] = datetime.now(UTC)
    updated = (
        await scoped(Delivery)
        .update(values)
        .where(Delivery.id == delivery.id)
        .where(Delivery.status == before.value)
        .returning(Delivery.id)
    )
    if not updated:
        raise AlreadyReceived() if event is Event.RECEIVE else Conflict()
    for key, value in changes.items():
        setattr(delivery, key, value)
    delivery.status = after.value
    return before, after


def _check_event(delivery: Delivery, event: Event) -> None:
    if event is Event.RECEIVE and delivery.status == Status.RECEIVED.value:
        raise AlreadyReceived()
    next_status(Status(delivery.status), event)


# ---------------------------------------------------------------- reading


async def get_delivery(delivery_id: UUID | str) -> DeliveryOut:
    _require("deliveries.view")
    return await _to_out(await _visible(delivery_id))


def _label(labels: dict[str, str], code: str) -> str:
    """A reject reason's label in the reader's language (as typed, for one an admin named)."""
    return gettext(labels.get(code, code)) if code else ""


async def _to_out(delivery: Delivery) -> DeliveryOut:
    rows = (
        await scoped(DeliveryLine)
        .select(
            DeliveryLine.id,
            DeliveryLine.line_no,
            DeliveryLine.order_line.id,
            DeliveryLine.order_line.line_no,
            DeliveryLine.order_line._.item._.code,
            DeliveryLine.order_line._.item._.name,
            DeliveryLine.order_line._.item._.unit,
            DeliveryLine.lot,
            DeliveryLine.quantity,
            DeliveryLine.accepted_quantity,
            DeliveryLine.rejected_quantity,
            DeliveryLine.reject_reason,
            DeliveryLine.reject_code,
        )
        .where(DeliveryLine.delivery == delivery.id)
        .order_by(DeliveryLine.line_no)
        .output(nested=True)
    )
    order = await scoped(Order).select(Order.number).where(Order.id == delivery.order).first()
    supplier = await scoped(Supplier).select(Supplier.name).where(Supplier.id == delivery.supplier).first()
    receiver = await User.select(User.name).where(User.id == delivery.received_by).first() if delivery.received_by else None
    labels = await reasons.reason_labels()
    override = await delivery_override(delivery.id)
    return DeliveryOut(
        id=delivery.id,
        number=delivery.number,
        order_id=delivery.order,
        order_number=order["number"] if order else "",
        supplier_id=delivery.supplier,
        supplier_name=supplier["name"] if supplier else "",
        status=delivery.status,
        note=delivery.note,
        status_reason=delivery.status_reason,
        receipt_note=delivery.receipt_note,
        created_at=delivery.created_at,
        shipped_at=delivery.shipped_at,
        received_at=delivery.received_at,
        received_by=delivery.received_by,
        received_by_name=receiver["name"] if receiver else "",
        cancelled_at=delivery.cancelled_at,
        lines=[
            DeliveryLineOut(
                id=row["id"],
                line_no=row["line_no"],
                order_line_id=row["order_line"]["id"],
                order_line_no=row["order_line"]["line_no"],
                item_code=row["order_line"]["item"]["code"],
                item_name=row["order_line"]["item"]["name"],
                unit=row["order_line"]["item"]["unit"],
                lot=row["lot"],
                quantity=row["quantity"],
                accepted_quantity=row["accepted_quantity"],
                rejected_quantity=row["rejected_quantity"],
                reject_reason=row["reject_reason"],
                reject_code=row["reject_code"],
                reject_label=_label(labels, row["reject_code"]),
            )
            for row in rows
        ],
        qc_override_reason=override.reason if override else "",
        qc_override_by=override.created_by if override else "",
        qc_override_at=override.created_at if override else None,
    )


SUMMARY_COLUMNS = (
    Delivery.id,
    Delivery.number,
    Delivery.order,
    Delivery.order.number,
    Delivery.supplier,
    Delivery.supplier.name,
    Delivery.status,
    Delivery.shipped_at,
    Delivery.received_at,
)


async def _summaries(rows: list[dict[str, Any]]) -> list[DeliverySummary]:
    ids = [row["id"] for row in rows]
    totals: dict[UUID, list[Any]] = {delivery_id: [0, ZERO, None, None] for delivery_id in ids}
    if ids:
        lines = (
            await scoped(DeliveryLine)
            .select(DeliveryLine.delivery, DeliveryLine.quantity, DeliveryLine.accepted_quantity, DeliveryLine.rejected_quantity)
            .where(DeliveryLine.delivery.is_in(ids))
        )
        for line in lines:
            total = totals[line["delivery"]]
            total[0] += 1
            total[1] += Decimal(line["quantity"])
            if line["accepted_quantity"] is not None:
                total[2] = (total[2] or ZERO) + Decimal(line["accepted_quantity"])
                total[3] = (total[3] or ZERO) + Decimal(line["rejected_quantity"] or 0)
    return [
        DeliverySummary(
            id=row["id"],
            number=row["number"],
            order_id=row["order"],
            order_number=row["order.number"],
            supplier_id=row["supplier"],
            supplier_name=row["supplier.name"],
            status=row["status"],
            shipped_at=row["shipped_at"],
            received_at=row["received_at"],
            line_count=totals[row["id"]][0],
            quantity=totals[row["id"]][1],
            accepted_quantity=totals[row["id"]][2],
            rejected_quantity=totals[row["id"]][3],
        )
        for row in rows
    ]


def _encode_cursor(number: str) -> str:
    return base64.urlsafe_b64encode(number.encode()).decode()


# A notice number: DN-2026-00042 as numbered here, or another DN- number
# recorded with the history a tenant brought (DN-H2608-063, the demo's).
_NUMBER = re.compile(r"DN-[A-Z0-9-]{1,37}")


def _decode_cursor(cursor: str) -> str:
    """Most strings decode as base64 to something: only a notice number that
    encodes back to the same cursor is one this API handed out."""
    try:
        number = base64.urlsafe_b64decode(cursor.encode()).decode()
    except (ValueError, UnicodeDecodeError):
        number = ""
    if not _NUMBER.fullmatch(number) or _encode_cursor(number) != cursor:
        raise InvalidDelivery({"cursor": (N_("This page link is not valid."), {})})
    return number


async def list_deliveries(
    status: str | None = None,
    supplier_id: UUID | None = None,
    order_id: UUID | None = None,
    cursor: str | None = None,
    limit: int | None = None,
) -> DeliveryList:
    """Newest number first, filtered by status, supplier and order. Supplier
    users see their own notices (drafts included), buyer roles every notice
    that shipped."""
    context = _require("deliveries.view")
    if status and status not in {s.value for s in Status}:
        raise InvalidDelivery({"status": (N_("Unknown status."), {})})
    query = scoped(Delivery).select(*SUMMARY_COLUMNS)
    if not context.is_supplier:
        query = query.where(Delivery.shipped_at.is_not_null())
    if status:
        query = query.where(Delivery.status == status)
    if supplier_id:
        query = query.where(Delivery.supplier == supplier_id)
    if order_id:
        query = query.where(Delivery.order == order_id)
    if cursor:
        query = query.where(Delivery.number < _decode_cursor(cursor))
    limit = max(1, min(limit or PAGE_SIZE, PAGE_SIZE))
    rows = await query.order_by(Delivery.number, ascending=False).limit(limit + 1)
    next_cursor = _encode_cursor(rows[limit - 1]["number"]) if len(rows) > limit else None
    return DeliveryList(items=await _summaries(rows[:limit]), next=next_cursor)


async def deliveries_to_receive() -> Shown[DeliverySummary]:
    """For the buyer's board: notices in transit, the longest on the way
    first (supplier users get their own notices in transit); the first
    ``MAX_TO_RECEIVE``, with the count of all."""
    _require("deliveries.view")
    in_transit = Delivery.status == Status.SHIPPED.value
    rows = (
        await scoped(Delivery)
        .select(*SUMMARY_COLUMNS)
        .where(in_transit)
        .order_by(Delivery.shipped_at)
        .order_by(Delivery.number)
        .limit(MAX_TO_RECEIVE + 1)
    )
    total = len(rows) if len(rows) <= MAX_TO_RECEIVE else await scoped(Delivery).count().where(in_transit)
    return Shown(await _summaries(rows[:MAX_TO_RECEIVE]), total)


async def orders_to_ship() -> Shown[dict[str, Any]]:
    """Orders the acting supplier (or, for buyer roles, any supplier) can
    ship against: in a receiving state, soonest due first; the first
    ``MAX_TO_RECEIVE``, with the count of all."""
    _require("deliveries.view")
    receiving = Order.status.is_in([status.value for status in RECEIVING_STATES])
    rows = (
        await scoped(Order)
        .select(Order.id, Order.number, Order.status, Order.due_date, Order.supplier.name)
        .where(receiving)
        .order_by(Order.due_date)
        .order_by(Order.number)
        .limit(MAX_TO_RECEIVE + 1)
    )
    total = len(rows) if len(rows) <= MAX_TO_RECEIVE else await scoped(Order).count().where(receiving)
    return Shown(
        [
            {
                "id": row["id"],
                "number": row["number"],
                "status": row["status"],
                "due_date": row["due_date"],
                "supplier_name": row["supplier.name"],
            }
            for row in rows[:MAX_TO_RECEIVE]
        ],
        total,
    )


async def _order_for_shipping(order_id: UUID | str) -> Order:
    """The order as the supplier sees it: missing, foreign, another
    supplier's and a buyer's draft all raise NotFound."""
    order = await scoped(Order).get(order_id)
    if current().is_supplier and order.status not in SHARED_STATES:
        raise NotFound()
    return order


async def shipping_form(order_id: UUID | str) -> ShippableOrder:
    """An order's open lines with what may still ship on each, for the
    supplier's ship form (prefilled with what is open and not on the way)."""
    context = _require("deliveries.ship")
    order = await _order_for_shipping(order_id)
    tolerance = await _tolerance(context)
    rows = (
        await scoped(OrderLine)
        .select(
            OrderLine.id,
            OrderLine.line_no,
            OrderLine.item.code,
            OrderLine.item.name,
            OrderLine.item.unit,
            OrderLine.quantity,
            OrderLine.delivered_quantity,
        )
        .where(OrderLine.order == order.id)
        .where(OrderLine.removed.eq(False))
        .order_by(OrderLine.line_no)
    )
    in_transit = await _in_transit(row["id"] for row in rows)
    supplier = await scoped(Supplier).select(Supplier.name).where(Supplier.id == order.supplier).first()
    lines = [
        ShippableLine(
            order_line_id=row["id"],
            line_no=row["line_no"],
            item_code=row["item.code"],
            item_name=row["item.name"],
            unit=row["item.unit"],
            ordered=row["quantity"],
            delivered=row["delivered_quantity"],
            open_quantity=open_quantity(row["quantity"], row["delivered_quantity"]),
            in_transit=in_transit.get(row["id"], ZERO),
            shippable=shippable_quantity(row["quantity"], row["delivered_quantity"], in_transit.get(row["id"], ZERO), tolerance),
            suggested=suggested_quantity(row["quantity"], row["delivered_quantity"], in_transit.get(row["id"], ZERO)),
        )
        for row in rows
    ]
    return ShippableOrder(
        order_id=order.id,
        order_number=order.number,
        supplier_id=order.supplier,
        supplier_name=supplier["name"] if supplier else "",
        status=order.status,
        tolerance=tolerance,
        lines=lines,
    )


async def attachment_supplier(delivery_id: UUID) -> UUID | None:
    """For the documents package ("delivery" attachments, e.g. the packing
    list): the supplier a notice is shared with; NotFound when the acting
    user cannot see it."""
    return (await _visible(delivery_id)).supplier  # type: ignore[no-any-return]


# ---------------------------------------------------------------- the supplier ships


def _ensure_receiving(order: Order) -> None:
    if order.status not in {status.value for status in RECEIVING_STATES}:
        raise OrderNotShippable(fields={"order_id": OrderNotShippable.message}, status=gettext(OrderStatus(order.status).label))


async def create_delivery(data: DeliveryCreate) -> DeliveryOut:
    """A shipping notice of the acting supplier against one of its orders
    in a receiving state; ``ship`` sends it at once. Refuses zero or
    negative quantities, lines of another order and over-delivery."""
    context = _require("deliveries.ship")
    try:
        order = await _order_for_shipping(data.order_id)
    except NotFound:
        raise InvalidDelivery({"order_id": (N_("This order does not exist."), {})}) from None
    _ensure_receiving(order)
    await _lock_order(order.id)
    problems = Problems()
    if len(data.note) > MAX_TEXT:
        problems.add("note", N_("At most %(max)s characters."), max=MAX_TEXT)
    if not data.lines:
        problems.add("lines", N_("Add at least one line."))
    if len(data.lines) > MAX_LINES:
        problems.add("lines", N_("A delivery has at most %(max)s lines."), max=MAX_LINES)
    order_lines = await _order_lines(order.id)
    checked: list[tuple[int, UUID, Decimal]] = []
    for index, line in enumerate(data.lines):
        quantity, problem = quantity_problem(line.quantity)
        if problem:
            problems.add(f"lines.{index}.quantity", problem)
        if len(line.lot.strip()) > MAX_LOT:
            problems.add(f"lines.{index}.lot", N_("At most %(max)s characters."), max=MAX_LOT)
        order_line = order_lines.get(line.order_line_id)
        if order_line is None:
            problems.add(f"lines.{index}.order_line_id", N_("This line is not on the order."))
        elif order_line.removed:
            problems.add(f"lines.{index}.order_line_id", N_("This line was removed from the order."))
        elif quantity is not None:
            checked.append((index, order_line.id, quantity))
    in_transit = await _in_transit({order_line_id for _, order_line_id, _ in checked})
    _check_shipped_quantities(problems, checked, order_lines, in_transit, await _tolerance(context))
    problems.raise_if_any()
    delivery = scoped(Delivery).new(
        number=await _next_number(context.tenant_id, datetime.now(UTC).year),
        supplier=order.supplier,
        order=order.id,
        note=data.note.strip(),
        created_by=context.user_id,
    )
    await delivery.save()
    for line_no, line in enumerate(data.lines, start=1):
        await (
            scoped(DeliveryLine)
            .new(
                delivery=delivery.id, line_no=line_no, order_line=line.order_line_id, lot=line.lot.strip(), quantity=Decimal(line.quantity)
            )
            .save()
        )
    await record(
        "delivery.create",
        entity_type="delivery",
        entity_id=delivery.id,
        after={"number": delivery.number, "order": order.id, "lines": [_line_state(line) for line in data.lines]},
    )
    if data.ship:
        await _ship(delivery, context)
    return await _to_out(delivery)


def _line_state(line: DeliveryLineIn) -> dict[str, str]:
    return {"order_line": str(line.order_line_id), "lot": line.lot.strip(), "quantity": plain(Decimal(line.quantity))}


async def ship_delivery(delivery_id: UUID | str) -> DeliveryOut:
    """Sends a draft: the goods are in transit from now on. The
    over-delivery check runs again, counting what shipped since the draft
    was written."""
    context = _require(EVENT_ACTIONS[Event.SHIP])
    delivery = await _visible(delivery_id)
    _check_event(delivery, Event.SHIP)
    await _ship(delivery, context)
    return await _to_out(delivery)


async def _ship(delivery: Delivery, context: TenantContext) -> None:
    await _lock_order(delivery.order)
    order = await scoped(Order).get(delivery.order)
    _ensure_receiving(order)
    lines = list(await scoped(DeliveryLine).objects().where(DeliveryLine.delivery == delivery.id).order_by(DeliveryLine.line_no))
    order_lines = await _order_lines(order.id)
    problems = Problems()
    checked: list[tuple[int, UUID, Decimal]] = []
    for index, line in enumerate(lines):
        order_line = order_lines.get(line.order_line)
        if order_line is None or order_line.removed:
            problems.add(f"lines.{index}.order_line_id", N_("This line was removed from the order."))
        else:
            checked.append((index, line.order_line, line.quantity))
    in_transit = await _in_transit({order_line_id for _, order_line_id, _ in checked}, exclude=delivery.id)
    _check_shipped_quantities(problems, checked, order_lines, in_transit, await _tolerance(context))
    problems.raise_if_any()
    before, after = await _move(delivery, Event.SHIP, shipped_at=datetime.now(UTC), shipped_by=context.user_id)
    await record(
        "delivery.ship",
        entity_type="delivery",
        entity_id=delivery.id,
        before={"status": before.value},
        after={"status": after.value, "number": delivery.number, "order": order.id},
    )
    await _tell("delivery.shipped", delivery)


async def cancel_delivery(delivery_id: UUID | str, reason: str) -> DeliveryOut:
    """The supplier withdraws a draft or a notice in transit, with a reason
    the buyer sees; what it shipped no longer counts as on the way."""
    context = _require(EVENT_ACTIONS[Event.CANCEL])
    delivery = await _visible(delivery_id)
    _check_event(delivery, Event.CANCEL)
    reason = reason.strip()
    if not reason:
        raise InvalidDelivery({"reason": (N_("Give a reason: the buyer sees it."), {})})
    if len(reason) > MAX_TEXT:
        raise InvalidDelivery({"reason": (N_("At most %(max)s characters."), {"max": MAX_TEXT})})
    before, after = await _move(delivery, Event.CANCEL, status_reason=reason, cancelled_at=datetime.now(UTC))
    await record(
        "delivery.cancel",
        entity_type="delivery",
        entity_id=delivery.id,
        before={"status": before.value},
        after={"status": after.value, "reason": reason, "by": str(context.user_id or context.user_name)},
    )
    return await _to_out(delivery)


# ---------------------------------------------------------------- the buyer receives


async def receive_delivery(delivery_id: UUID | str, data: ReceiptIn) -> DeliveryOut:
    """Records what the buyer accepted and rejected on every line and adds
    the accepted quantities to the order in the same transaction, moving it
    to partially delivered or delivered. Rejected quantities stay open."""
    context = _require(EVENT_ACTIONS[Event.RECEIVE])
    delivery = await _visible(delivery_id)
    _check_event(delivery, Event.RECEIVE)
    lines = list(await scoped(DeliveryLine).objects().where(DeliveryLine.delivery == delivery.id).order_by(DeliveryLine.line_no))
    by_id = {line.id: line for line in lines}
    problems = Problems()
    if len(data.note) > MAX_TEXT:
        problems.add("note", N_("At most %(max)s characters."), max=MAX_TEXT)
    recorded: dict[UUID, tuple[int, Decimal, Decimal, str, str]] = {}
    active_codes = {reason.code for reason in await reasons.active_reasons()}
    for index, given in enumerate(data.lines):
        line = by_id.get(given.line_id)
        if line is None:
            problems.add(f"lines.{index}.line_id", N_("This line is not on the delivery."))
            continue
        if given.line_id in recorded:
            problems.add(f"lines.{index}.line_id", N_("This line is given twice."))
            continue
        accepted, accepted_problem = quantity_problem(given.accepted_quantity, allow_zero=True)
        rejected, rejected_problem = quantity_problem(given.rejected_quantity, allow_zero=True)
        if accepted_problem:
            problems.add(f"lines.{index}.accepted_quantity", accepted_problem)
        if rejected_problem:
            problems.add(f"lines.{index}.rejected_quantity", rejected_problem)
        reason = given.reject_reason.strip()
        if len(reason) > MAX_TEXT:
            problems.add(f"lines.{index}.reject_reason", N_("At most %(max)s characters."), max=MAX_TEXT)
        if accepted is None or rejected is None:
            continue
        if accepted + rejected != line.quantity:
            for name in ("accepted_quantity", "rejected_quantity"):
                problems.add(
                    f"lines.{index}.{name}",
                    N_("Accepted and rejected must add up to the %(quantity)s delivered."),
                    quantity=plain(line.quantity),
                )
        code = given.reject_code.strip() or (reasons.OTHER if reason else "")
        if rejected > 0 and not code:
            problems.add(f"lines.{index}.reject_reason", N_("Say why it is rejected: the supplier sees it."))
        elif rejected > 0 and code not in active_codes:
            problems.add(f"lines.{index}.reject_code", N_("Choose a reason from the list."))
        recorded[given.line_id] = (index, accepted, rejected, reason, code)
    if not problems and len(recorded) != len(lines):
        problems.add("lines", N_("Record every line of the delivery."))
    problems.raise_if_any()

    await _lock_order(delivery.order)
    order = await scoped(Order).get(delivery.order)
    order_lines = await _order_lines(order.id)
    accepted_per_order_line: dict[UUID, Decimal] = defaultdict(Decimal)
    for line_id, (_, accepted, _, _, _) in recorded.items():
        accepted_per_order_line[by_id[line_id].order_line] += accepted
    for line_id, (index, accepted, _, _, _) in recorded.items():
        order_line = order_lines[by_id[line_id].order_line]
        still_open = open_quantity(order_line.quantity, order_line.delivered_quantity) if not order_line.removed else ZERO
        if accepted > 0 and accepted_per_order_line[order_line.id] > still_open:
            problems.add(
                f"lines.{index}.accepted_quantity",
                N_("Only %(open)s is still open on order line %(line_no)s: reject the surplus."),
                open=plain(still_open),
                line_no=order_line.line_no,
            )
    problems.raise_if_any()
    accepted_total = sum(accepted_per_order_line.values(), ZERO)
    owed: list[RequirementOut] = []
    if accepted_total > 0:
        _ensure_receiving(order)
        owed = await check_gate(order.id, data.qc_override_reason)

    before, after = await _move(
        delivery, Event.RECEIVE, received_at=datetime.now(UTC), received_by=context.user_id, receipt_note=data.note.strip()
    )
    for line_id, (_, accepted, rejected, reason, code) in recorded.items():
        line = by_id[line_id]
        await (
            scoped(DeliveryLine)
            .update(
                {
                    DeliveryLine.accepted_quantity: accepted,
                    DeliveryLine.rejected_quantity: rejected,
                    DeliveryLine.reject_reason: reason if rejected > 0 else "",
                    DeliveryLine.reject_code: code if rejected > 0 else "",
                }
            )
            .where(DeliveryLine.id == line.id)
        )
    await record(
        "delivery.receive",
        entity_type="delivery",
        entity_id=delivery.id,
        before={"status": before.value},
        after={
            "status": after.value,
            "order": order.id,
            "lines": [
                {
                    "line_no": by_id[line_id].line_no,
                    "accepted": plain(accepted),
                    "rejected": plain(rejected),
                    "reason": reason,
                    "code": code if rejected > 0 else "",
                }
                for line_id, (_, accepted, rejected, reason, code) in recorded.items()
            ],
        },
    )
    if owed:
        await record_override(delivery, data.qc_override_reason, owed)
    if accepted_total > 0:
        await apply_accepted_quantities(order.id, {key: value for key, value in accepted_per_order_line.items() if value > 0})
    await _tell("delivery.received", delivery)
    return await _to_out(delivery)


async def _tell(kind: str, delivery: Delivery) -> None:
    """Record an event about ``delivery`` for the notifications."""
    supplier = await Supplier.select(Supplier.name).where(Supplier.id == delivery.supplier).first()
    params = {"number": delivery.number, "buyer": current().tenant_name, "supplier": supplier["name"] if supplier else ""}
    await emit(kind, link=f"/deliveries/{delivery.id}", supplier=delivery.supplier, record=("delivery", delivery.id), params=params)


async def line_attachment_supplier(line_id: UUID) -> UUID | None:
    """For photos of rejected goods ("delivery_line" attachments): shared
    like the notice the line is on."""
    line = await scoped(DeliveryLine).get(line_id)
    return (await _visible(line.delivery)).supplier  # type: ignore[no-any-return]


register_attachment_target("delivery", attachment_supplier, table=Delivery)
register_attachment_target("delivery_line", line_attachment_supplier, table=DeliveryLine)
