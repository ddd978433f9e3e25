"""Outsourced orders: drafting, issue, the supplier's answer, revisions with
acknowledgement, the buyer's board and the supplier's inbox."""

from __future__ import annotations

import base64
import contextlib
import json
from collections.abc import Mapping
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any
from uuid import UUID
from zoneinfo import ZoneInfo

import msgspec
from piccolo.columns.combination import WhereRaw
from piccolo.engine.postgres import PostgresEngine
from piccolo.query import OrderByRaw
from piccolo.query.functions.aggregate import Sum

from portal.approvals import services as approvals
from portal.audit.services import record
from portal.conversations.services import share_thread_files
from portal.days import DUE_HORIZON_YEARS, due_date_problem, latest_due
from portal.db import get_engine, in_index_order
from portal.documents.attachments import register_attachment_target, share_with_suppliers
from portal.documents.services import DocumentOut, list_attached, share_attached
from portal.errors import Conflict, DomainError, NotFound, PermissionDenied
from portal.i18n import N_
from portal.items.tables import Item
from portal.lengths import TEXT_LENGTH, TOO_LONG
from portal.notifications.services import emit
from portal.orders.counting import CANCELLED_DRAFT
from portal.orders.schemas import (
    BOARD_SORTS,
    BoardOut,
    InboxOut,
    LineAnswerIn,
    LineAnswersIn,
    OrderCreate,
    OrderLineIn,
    OrderLineOut,
    OrderOut,
    OrderSummary,
    OrderUpdate,
    PendingRevision,
    RevisionOut,
)
from portal.orders.states import (
    BUYER_EVENTS,
    NEEDS_REASON,
    OPEN_STATES,
    SHARED_STATES,
    SUPPLIER_EVENTS,
    Event,
    LineAnswer,
    LineEvent,
    Status,
    answer_event,
    next_answer,
    next_status,
)
from portal.orders.tables import Order, OrderCounter, OrderLine, OrderRevision, OrderStatusCount, shared_with_supplier
from portal.quantities import CURRENCY_DECIMALS, plain, price_problem, quantity_problem
from tenants.context import TenantContext, current
from tenants.prepared import prepared
from tenants.scoping import scoped
from tenants.tables import Supplier

PAGE_SIZE = 50
REASON_MAX = 500
MAX_LINES = 500
EDITABLE_STATES = OPEN_STATES - {Status.DRAFT}
NO_DUE_DATE = date(9999, 12, 31)
LINE_COLUMNS = (
    OrderLine.id,
    OrderLine.line_no,
    OrderLine.item.id,
    OrderLine.item.code,
    OrderLine.item.name,
    OrderLine.item.unit,
    OrderLine.operation,
    OrderLine.quantity,
    OrderLine.unit_price,
    OrderLine.due_date,
    OrderLine.delivered_quantity,
    OrderLine.removed,
    OrderLine.answer,
    OrderLine.answer_reason,
)


class InvalidOrder(DomainError):
    code = "invalid_order"
    message = N_("Some fields are missing or not valid.")


class OrderNumberTaken(DomainError):
    status_code = 409
    code = "order_number_taken"
    message = N_("Another order already has this number.")


class StaleOrder(Conflict):
    code = "stale_order"
    message = N_("Someone else changed this order in the meantime. Reload it; your changes were not saved.")


class OrderNotEditable(Conflict):
    code = "order_not_editable"
    message = N_("This order can no longer be changed.")


# ---------------------------------------------------------------- helpers


# Rows per INSERT: well under the databases' limits on parameters.
INSERT_BATCH = 500


def _today(context: TenantContext) -> date:
    """Due dates are calendar days in the tenant's time zone."""
    return datetime.now(ZoneInfo(context.time_zone)).date()


def _require(action: str) -> TenantContext:
    context = current()
    if not context.can(action):
        raise PermissionDenied()
    return context


async def visible_order(order_id: UUID | str) -> Order:
    """A draft is the buyer's own: to a supplier user it does not exist."""
    try:
        key = order_id if isinstance(order_id, UUID) else UUID(str(order_id))
    except ValueError:
        raise NotFound() from None
    # What scoped(Order).get() runs, built once per scope (tenants.prepared):
    # every order page and action opens the order this way.
    found = await prepared("orders.one", lambda slot: scoped(Order).objects().where(Order.id == slot["id"]).limit(1), id=key)
    if not found:
        raise NotFound()
    order: Order = found[0]
    if current().is_supplier and order.status not in SHARED_STATES:
        raise NotFound()
    return order


async def _next_number(tenant_id: UUID, year: int) -> str:
    # The UPDATE locks the tenant's counter row until the transaction ends,
    # so two planners issuing at once get consecutive numbers.
    rows = await OrderCounter.raw(
        "UPDATE order_counter SET last = last + 1 WHERE tenant = {} AND year = {} RETURNING last", tenant_id, year
    )
    if not rows:
        await scoped(OrderCounter).new(tenant=tenant_id, year=year, last=0).save()
        rows = await OrderCounter.raw(
            "UPDATE order_counter SET last = last + 1 WHERE tenant = {} AND year = {} RETURNING last", tenant_id, year
        )
    return f"WO-{year}-{int(rows[0]['last']):05d}"


async def _check_lines(lines: list[OrderLineIn], currency: str, *, today: date) -> dict[str, str]:
    """Each line on its own; a due date in the past is the issue's and the
    revision's to refuse (a draft may keep one until then)."""
    problems: dict[str, str] = {}
    if not lines:
        problems["lines"] = N_("Add at least one line.")
    if len(lines) > MAX_LINES:
        problems["lines"] = N_("An order has at most 500 lines.")
    for index, line in enumerate(lines):
        _, problem = quantity_problem(line.quantity)
        if problem:
            problems[f"lines.{index}.quantity"] = problem
        _, problem = price_problem(line.unit_price, currency)
        if problem:
            problems[f"lines.{index}.unit_price"] = problem
        if line.due_date > latest_due(today):
            problems[f"lines.{index}.due_date"] = N_("The due date is more than %(years)s years away.")
    # One query for all items: a 500-line order must not cost 500 round trips.
    wanted = list({line.item_id for line in lines})
    known = {row["id"] for row in await scoped(Item).select(Item.id).where(Item.id.is_in(wanted))} if wanted else set()
    for index, line in enumerate(lines):
        if line.item_id not in known:
            problems[f"lines.{index}.item_id"] = N_("This item does not exist.")
    return problems


def _due_date(lines: list[OrderLine]) -> date:
    """The earliest due date of the open lines; NO_DUE_DATE when none is open,
    so the board sorts on a column that is never NULL (SQLite and PostgreSQL
    order NULLs differently, which would break keyset paging)."""
    open_dates = [line.due_date for line in lines if not line.removed and line.delivered_quantity < line.quantity]
    return min(open_dates) if open_dates else NO_DUE_DATE


def shown_due(due: date | None) -> date | None:
    return None if due is None or due == NO_DUE_DATE else due


async def _lines_of(order: Order) -> list[OrderLine]:
    return list(await scoped(OrderLine).objects().where(OrderLine.order == order.id).order_by(OrderLine.line_no))


async def _save_guarded(order: Order, expected_version: int | None, **changes: Any) -> None:
    """Write ``changes`` only if nobody changed the order since
    ``expected_version``: the second of two concurrent saves gets a conflict,
    never a silent overwrite."""
    version = order.version if expected_version is None else expected_version
    values = {getattr(Order, key): value for key, value in changes.items()}
    values[Order.version] = version + 1
    values[Order.updated_at] = datetime.now(UTC)
    updated = await scoped(Order).update(values).where(Order.id == order.id).where(Order.version == version).returning(Order.version)
    if not updated:
        raise StaleOrder()
    for key, value in changes.items():
        setattr(order, key, value)
    order.version = version + 1


# ---------------------------------------------------------------- reading


async def get_order(order_id: UUID | str) -> OrderOut:
    _require("orders.view")
    order = await visible_order(order_id)
    return await _to_out(order)


async def _to_out(order: Order) -> OrderOut:
    context = current()
    # Built once per scope (tenants.prepared): the order's detail is the
    # supplier's most frequent request after the list.
    rows = await prepared(
        "orders.lines",
        lambda slot: (
            scoped(OrderLine).select(*LINE_COLUMNS).where(OrderLine.order == slot["order"]).order_by(OrderLine.line_no).output(nested=True)
        ),
        order=order.id,
    )
    names = await prepared(
        "orders.supplier_name",
        lambda slot: Supplier.select(Supplier.name).where(Supplier.id == slot["supplier"]).limit(1),
        supplier=order.supplier,
    )
    supplier = names[0] if names else None
    pending = await prepared(
        "orders.pending_revisions",
        lambda slot: (
            scoped(OrderRevision).count().where(OrderRevision.order == slot["order"]).where(OrderRevision.acknowledged_at.is_null())
        ),
        order=order.id,
    )
    lines = [
        OrderLineOut(
            id=row["id"],
            line_no=row["line_no"],
            item_id=row["item"]["id"],
            item_code=row["item"]["code"],
            item_name=row["item"]["name"],
            unit=row["item"]["unit"],
            operation=row["operation"],
            quantity=row["quantity"],
            unit_price=row["unit_price"],
            due_date=row["due_date"],
            delivered_quantity=row["delivered_quantity"],
            open_quantity=max(Decimal(0), row["quantity"] - row["delivered_quantity"]) if not row["removed"] else Decimal(0),
            removed=row["removed"],
            answer=row["answer"],
            answer_reason=row["answer_reason"],
        )
        for row in rows
    ]
    return OrderOut(
        id=order.id,
        number=order.number,
        supplier_id=order.supplier,
        supplier_name=supplier["name"] if supplier else "",
        status=order.status,
        currency=order.currency,
        due_date=shown_due(order.due_date),
        revision=order.revision,
        version=order.version,
        notes_shared=order.notes_shared,
        notes_internal=order.notes_internal if context.can("notes.view_internal") else None,
        status_reason=order.status_reason,
        overdue=_overdue(order.status, order.due_date, context),
        unacknowledged_revisions=pending,
        lines=lines,
        created_at=order.created_at,
        issued_at=order.issued_at,
        awaiting_approval=[] if context.is_supplier else [request.kind for request in await approvals.pending_for("order", order.id)],
    )


def _overdue(status: str, due: date | None, context: TenantContext) -> bool:
    return due is not None and Status(status) in EDITABLE_STATES and due < _today(context)


async def list_revisions(order_id: UUID | str) -> list[RevisionOut]:
    _require("orders.view")
    order = await visible_order(order_id)
    rows = await scoped(OrderRevision).objects().where(OrderRevision.order == order.id).order_by(OrderRevision.number, ascending=False)
    return [RevisionOut(row.id, row.number, row.reason, _json(row.diff), row.created_at, row.acknowledged_at) for row in rows]


def _json(value: Any) -> dict[str, Any]:
    parsed = json.loads(value) if isinstance(value, str) else value
    return parsed if isinstance(parsed, dict) else {}


# ---------------------------------------------------------------- drafting


async def create_order(data: OrderCreate) -> OrderOut:
    """A draft order for one supplier of this tenant, numbered per tenant
    unless an ERP number is given (which must be new)."""
    context = _require("orders.manage")
    try:
        supplier = await scoped(Supplier).get(data.supplier_id)
    except NotFound:
        raise InvalidOrder(fields={"supplier_id": N_("This supplier does not exist.")}) from None
    currency = (data.currency or context.currency).strip().upper()
    problems = await _check_lines(data.lines, currency, today=_today(context))
    if currency not in CURRENCY_DECIMALS:
        problems["currency"] = N_("This currency is not supported.")
    if problems:
        raise InvalidOrder(fields=problems, decimals=CURRENCY_DECIMALS.get(currency, 2), years=DUE_HORIZON_YEARS)
    number = (data.number or "").strip()
    if number and await scoped(Order).exists().where(Order.number == number):
        raise OrderNumberTaken(fields={"number": OrderNumberTaken.message})
    number = number or await _next_number(context.tenant_id, _today(context).year)
    order = scoped(Order).new(
        number=number,
        supplier=supplier.id,
        currency=currency,
        notes_shared=data.notes_shared.strip(),
        notes_internal=data.notes_internal.strip(),
        created_by=context.user_id,
    )
    await order.save()
    lines = []
    for index, line in enumerate(data.lines, start=1):
        lines.append(
            scoped(OrderLine).new(
                order=order.id,
                line_no=index,
                item=line.item_id,
                operation=line.operation.strip(),
                quantity=Decimal(line.quantity),
                unit_price=Decimal(line.unit_price),
                due_date=line.due_date,
            )
        )
    await OrderLine.insert(*lines)
    order.due_date = _due_date(lines)
    await scoped(Order).update({Order.due_date: order.due_date}).where(Order.id == order.id)
    await record(
        "order.create", entity_type="order", entity_id=order.id, after={"number": number, "supplier": supplier.id, "lines": len(lines)}
    )
    return await _to_out(order)


async def update_order(order_id: UUID | str, data: OrderUpdate, *, approved: bool = False) -> OrderOut:
    """A draft changes freely. An issued order changes only with a reason,
    and each change becomes a revision the supplier must acknowledge. A
    line never drops below what was already delivered. A revision raising a
    price waits for approval when the tenant says so (``approved``: the
    approval applies it now, unless the order changed meanwhile)."""
    context = current() if approved else _require("orders.manage")
    order = await visible_order(order_id)
    status = Status(order.status)
    if status not in OPEN_STATES:
        raise OrderNotEditable()
    if order.version != data.version:
        raise StaleOrder()
    issued = status != Status.DRAFT
    if issued and not data.reason.strip():
        raise InvalidOrder(fields={"reason": N_("Say why the order changes: the supplier sees it.")})
    if len(data.reason.strip()) > TEXT_LENGTH:
        # Refused even when nothing else changed (then nothing is written
        # that the column check would stop).
        raise InvalidOrder(fields={"reason": TOO_LONG}, max=TEXT_LENGTH)
    today = _today(context)
    problems = await _check_lines(data.lines, order.currency, today=today)
    existing = {line.id: line for line in await _lines_of(order)}
    for index, wanted in enumerate(data.lines):
        current_line = existing.get(wanted.id) if wanted.id is not None else None
        if wanted.id is not None and current_line is None:
            problems[f"lines.{index}.id"] = N_("This line is not on the order.")
        elif (
            current_line is not None
            and f"lines.{index}.quantity" not in problems
            and Decimal(wanted.quantity) < current_line.delivered_quantity
        ):
            problems[f"lines.{index}.quantity"] = N_("Already delivered: the quantity cannot go below that.")
        # A revision may keep an old date, but never set a new one in the past.
        new_date = current_line is None or current_line.due_date != wanted.due_date
        if issued and new_date and wanted.due_date < today:
            problems[f"lines.{index}.due_date"] = N_("The due date is in the past.")
    kept = {wanted.id for wanted in data.lines if wanted.id is not None}
    for row in existing.values():
        if row.id not in kept and not row.removed and row.delivered_quantity > 0:
            problems["lines"] = N_("A line with deliveries cannot be removed.")
    if problems:
        raise InvalidOrder(fields=problems, decimals=CURRENCY_DECIMALS.get(order.currency, 2), years=DUE_HORIZON_YEARS)
    if issued and not approved and _raises_price(existing, data.lines):
        rule = await approvals.rule_for("order.price_increase")
        if rule is not None:
            payload = {"order_id": str(order.id), "update": msgspec.json.encode(data).decode()}
            await approvals.hold("order.price_increase", "order", order.id, f"{order.number}: {data.reason.strip()}", payload, rule)
            return await _to_out(order)
    diff = await _apply_lines(order, existing, data.lines)
    changes: dict[str, Any] = {}
    if data.notes_shared is not None and data.notes_shared.strip() != order.notes_shared:
        diff["notes_shared"] = [order.notes_shared, data.notes_shared.strip()]
        changes["notes_shared"] = data.notes_shared.strip()
    if data.notes_internal is not None:
        changes["notes_internal"] = data.notes_internal.strip()
    lines = await _lines_of(order)
    changes["due_date"] = _due_date(lines)
    if issued and diff:
        changes["revision"] = order.revision + 1
    await _save_guarded(order, data.version, **changes)
    await approvals.withdraw("order", [order.id], approvals.RECORD_CHANGED, kinds=("order.issue", "order.price_increase"))
    if issued and diff:
        revision = scoped(OrderRevision).new(
            order=order.id, number=order.revision, reason=data.reason.strip(), diff=json.dumps(diff), created_by=context.user_id
        )
        await revision.save()
        await record(
            "order.revise",
            entity_type="order",
            entity_id=order.id,
            after={"revision": order.revision, "reason": data.reason.strip(), "diff": diff},
        )
        await tell("order.revised", order, reason=data.reason.strip())
    elif diff or changes:
        await record("order.update", entity_type="order", entity_id=order.id, after={"diff": diff})
    return await _to_out(order)


# The words of a revision's diff (kept in English in the stored diff), as
# the order page shows them to each reader in their language.
REVISION_WORDS = {
    "added": N_("added"),
    "changed": N_("changed"),
    "removed": N_("removed"),
    "item": N_("Item"),
    "quantity": N_("Quantity"),
    "unit_price": N_("Unit price"),
    "due_date": N_("Due date"),
    "operation": N_("Operation"),
}


def _line_state(line: OrderLine) -> dict[str, str]:
    return {
        "item": str(line.item),
        "quantity": str(plain(line.quantity)),
        "unit_price": str(plain(line.unit_price)),
        "due_date": line.due_date.isoformat(),
        "operation": line.operation,
    }


async def _apply_lines(order: Order, existing: dict[UUID, OrderLine], wanted: list[OrderLineIn]) -> dict[str, Any]:
    """Brings the lines to ``wanted`` and returns what changed, line by line."""
    changes: list[dict[str, Any]] = []
    next_no = max((line.line_no for line in existing.values()), default=0) + 1
    kept: set[UUID] = set()
    for line in wanted:
        new_state = {
            "item": str(line.item_id),
            "quantity": str(plain(line.quantity)),
            "unit_price": str(plain(line.unit_price)),
            "due_date": line.due_date.isoformat(),
            "operation": line.operation.strip(),
        }
        if line.id is None:
            row = scoped(OrderLine).new(
                order=order.id,
                line_no=next_no,
                item=line.item_id,
                operation=line.operation.strip(),
                quantity=Decimal(line.quantity),
                unit_price=Decimal(line.unit_price),
                due_date=line.due_date,
            )
            await row.save()
            changes.append({"line_no": next_no, "change": "added", "after": new_state})
            next_no += 1
            continue
        kept.add(line.id)
        row = existing[line.id]
        old_state = _line_state(row)
        fields = {key: [old_state[key], value] for key, value in new_state.items() if _differs(old_state[key], value)}
        if fields or row.removed:
            if row.removed:
                # Revived (a declined line, say): the supplier answers it anew.
                row.answer, row.answer_reason = next_answer(LineAnswer(row.answer), LineEvent.RESET).value, ""
            row.item, row.operation, row.quantity = line.item_id, line.operation.strip(), Decimal(line.quantity)
            row.unit_price, row.due_date, row.removed = Decimal(line.unit_price), line.due_date, False
            await row.save()
            changes.append({"line_no": row.line_no, "change": "changed", "fields": fields})
    for row in existing.values():
        if row.id not in kept and not row.removed:
            row.removed = True
            await row.save()
            changes.append({"line_no": row.line_no, "change": "removed", "before": _line_state(row)})
    return {"lines": changes} if changes else {}


def _differs(old: str, new: str) -> bool:
    try:
        return Decimal(old) != Decimal(new)
    except ArithmeticError:
        return old != new


# ---------------------------------------------------------------- the loop


async def fire(order_id: UUID | str, event_name: str, reason: str = "", version: int | None = None, *, approved: bool = False) -> OrderOut:
    """Moves the order through the state machine. Buyer events need
    orders.manage, the supplier's answer orders.respond, starting production
    orders.start; reject and cancel need a reason. Issuing above the
    tenant's approval amount is held until approved (``approved``: the
    approval performs it now)."""
    context = current()
    try:
        event = Event(event_name)
    except ValueError:
        raise InvalidOrder(fields={"event": N_("Unknown action.")}) from None
    if event is Event.ACCEPT_IN_PART:
        raise InvalidOrder(fields={"event": N_("To accept some lines, answer each line.")})
    action = (
        "orders.manage"
        if event in BUYER_EVENTS
        else "orders.respond"
        if event in {Event.ACCEPT, Event.REJECT}
        else "orders.start"
        if event in SUPPLIER_EVENTS
        else None
    )
    if not approved and (action is None or not context.can(action)):
        raise PermissionDenied()
    order = await visible_order(order_id)
    before = Status(order.status)
    after = next_status(before, event)
    if event in NEEDS_REASON and not reason.strip():
        raise InvalidOrder(fields={"reason": N_("Give a reason: the other side sees it.")})
    changes: dict[str, Any] = {"status": after.value}
    if event in NEEDS_REASON:
        changes["status_reason"] = reason.strip()
    if event is Event.CANCEL:
        # Deliveries build on orders (and import them): reached here.
        from portal.deliveries.services import refuse_with_goods_on_the_way

        await refuse_with_goods_on_the_way(order.id)
    if event in {Event.ISSUE, Event.REISSUE}:
        await _check_issuable(order, context)
        if not approved and await _held_issue(order, event):
            return await _to_out(order)
        changes["issued_at"] = datetime.now(UTC)
    if event is Event.ACCEPT:
        changes["accepted_at"] = datetime.now(UTC)
    await _save_guarded(order, version, **changes)
    if after not in OPEN_STATES:
        await approvals.withdraw("order", [order.id], approvals.RECORD_ENDED)
    await _answer_all(order, event, reason.strip())
    if event in {Event.ISSUE, Event.REISSUE}:
        await _share_order_documents(order)
        # Quality builds on orders (and imports them), so it is reached here
        # rather than at the top: the items' QC templates fill the checklist.
        from portal.quality.templates import fill_checklist

        await fill_checklist(order)
    await record(
        f"order.{event.value}",
        entity_type="order",
        entity_id=order.id,
        before={"status": before.value},
        after={"status": after.value, "reason": reason.strip()},
    )
    if event in {Event.ISSUE, Event.REISSUE}:
        await tell("order.issued", order)
    elif event is Event.ACCEPT:
        await tell("order.accepted", order)
    elif event is Event.REJECT:
        await tell("order.rejected", order, reason=reason.strip())
    return await _to_out(order)


async def _answer_all(order: Order, event: Event, reason: str) -> None:
    """A whole-order answer is every line's answer; a reissued order is
    answered anew."""
    line_event = {Event.ACCEPT: LineEvent.ACCEPT, Event.REJECT: LineEvent.DECLINE, Event.REISSUE: LineEvent.RESET}.get(event)
    if line_event is None:
        return
    for line in await _lines_of(order):
        if line.removed and line_event is not LineEvent.RESET:
            continue
        if line_event is LineEvent.RESET and line.removed and line.answer == LineAnswer.DECLINED.value:
            # Declined in a partial answer: the buyer decides in a revision.
            continue
        line.answer = next_answer(LineAnswer(line.answer), line_event).value
        line.answer_reason = reason if line_event is LineEvent.DECLINE else ""
        await line.save([OrderLine.answer, OrderLine.answer_reason])


async def answer_lines(order_id: UUID | str, data: LineAnswersIn) -> OrderOut:
    """The supplier answers an issued order line by line: every line
    accepted or declined with a reason. All accepted is the order's
    acceptance, all declined its rejection (the reasons together); some of
    each accepts the order without the declined lines, which leave the
    work (removed) until the buyer revives them in a revision. Through the
    order state machine and the lines' (``portal.orders.states``)."""
    _require("orders.respond")
    order = await visible_order(order_id)
    before = Status(order.status)
    # An order already answered is a conflict (409) before any line is read.
    next_status(before, Event.ACCEPT_IN_PART)
    lines = {line.id: line for line in await _lines_of(order) if not line.removed}
    problems: dict[str, str] = {}
    answers: dict[UUID, LineAnswerIn] = {}
    for index, answer in enumerate(data.lines):
        if answer.line_id not in lines or answer.line_id in answers:
            problems[f"lines.{index}.line_id"] = N_("This line is not on the order, or is answered twice.")
            continue
        if len(answer.reason) > REASON_MAX:
            problems[f"lines.{index}.reason"] = N_("At most 500 characters.")
        elif not answer.accept and not answer.reason.strip():
            problems[f"lines.{index}.reason"] = N_("Say why you decline this line: the buyer sees it.")
        answers[answer.line_id] = answer
    if not problems and set(lines) - set(answers):
        problems["lines"] = N_("Answer every line of the order.")
    if problems:
        raise InvalidOrder(fields=problems)
    declined = [line for line in lines.values() if not answers[line.id].accept]
    event = answer_event(len(lines) - len(declined), len(declined))
    after = next_status(before, event)
    reasons = "; ".join(f"{line.line_no}: {answers[line.id].reason.strip()}" for line in sorted(declined, key=lambda line: line.line_no))
    changes: dict[str, Any] = {"status": after.value, "status_reason": reasons if event is Event.REJECT else ""}
    if after is Status.ACCEPTED:
        changes["accepted_at"] = datetime.now(UTC)
    await _save_guarded(order, data.version, **changes)
    for line in lines.values():
        answer = answers[line.id]
        line.answer = next_answer(LineAnswer(line.answer), LineEvent.ACCEPT if answer.accept else LineEvent.DECLINE).value
        line.answer_reason = "" if answer.accept else answer.reason.strip()
        line.removed = not answer.accept and event is Event.ACCEPT_IN_PART
        await line.save([OrderLine.answer, OrderLine.answer_reason, OrderLine.removed])
    await record(
        f"order.{event.value}",
        entity_type="order",
        entity_id=order.id,
        before={"status": before.value},
        after={
            "status": after.value,
            "lines": [
                {"line_no": line.line_no, "answer": line.answer, "reason": line.answer_reason}
                for line in sorted(lines.values(), key=lambda line: line.line_no)
            ],
        },
    )
    if event is Event.ACCEPT:
        await tell("order.accepted", order)
    elif event is Event.REJECT:
        await tell("order.rejected", order, reason=reasons)
    else:
        await tell("order.accepted_in_part", order, reasons=reasons)
    if event is Event.ACCEPT_IN_PART:
        # The order's due date follows the lines still in the work.
        order.due_date = _due_date(await _lines_of(order))
        await scoped(Order).update({Order.due_date: order.due_date}).where(Order.id == order.id)
    return await _to_out(order)


async def _held_issue(order: Order, event: Event) -> bool:
    """Issuing above the tenant's amount waits for approval: True when held."""
    total = sum((line.quantity * line.unit_price for line in await _lines_of(order) if not line.removed), Decimal(0))
    rule = await approvals.rule_for("order.issue", total)
    if rule is None:
        return False
    # The version fences the approval: it issues the order as it was asked for, not as edited since.
    payload = {"order_id": str(order.id), "event": event.value, "version": order.version}
    await approvals.hold("order.issue", "order", order.id, order.number, payload, rule, amount=total, currency=order.currency)
    return True


def _raises_price(existing: dict[UUID, OrderLine], wanted: list[OrderLineIn]) -> bool:
    return any(line.id in existing and Decimal(line.unit_price) > existing[line.id].unit_price for line in wanted if line.id is not None)


async def _approved_issue(payload: dict[str, Any]) -> None:
    await fire(payload["order_id"], payload["event"], version=payload.get("version"), approved=True)


async def _approved_revision(payload: dict[str, Any]) -> None:
    await update_order(payload["order_id"], msgspec.json.decode(payload["update"], type=OrderUpdate), approved=True)


async def _check_issuable(order: Order, context: TenantContext) -> None:
    supplier = await scoped(Supplier).get(order.supplier)
    lines = [line for line in await _lines_of(order) if not line.removed]
    problems: dict[str, str] = {}
    if supplier.status != "active":
        problems["supplier_id"] = N_("This supplier is not active.")
    if not lines:
        problems["lines"] = N_("Add at least one line.")
    today = _today(context)
    for line in lines:
        if problem := due_date_problem(line.due_date, today):
            problems[f"lines.{line.line_no - 1}.due_date"] = problem
    if problems:
        raise InvalidOrder(fields=problems, years=DUE_HORIZON_YEARS)


async def acknowledge_revision(order_id: UUID | str, revision_id: UUID | str) -> RevisionOut:
    """The supplier confirms it has seen a change; the time it took counts
    towards its acknowledgement KPI."""
    context = _require("orders.respond")
    order = await visible_order(order_id)
    revision = await scoped(OrderRevision).get(revision_id)
    if revision.order != order.id:
        raise NotFound()
    if revision.acknowledged_at is None:
        revision.acknowledged_at = datetime.now(UTC)
        revision.acknowledged_by = context.user_id
        await revision.save()
        await record("order.acknowledge", entity_type="order", entity_id=order.id, after={"revision": revision.number})
        await tell("order.acknowledged", order, revision=revision.number)
    return RevisionOut(revision.id, revision.number, revision.reason, _json(revision.diff), revision.created_at, revision.acknowledged_at)


async def apply_accepted_quantities(order_id: UUID, accepted: dict[UUID, Decimal]) -> OrderOut:
    """For the deliveries domain: add quantities the buyer accepted on
    receipt to the lines, and move the order to partially delivered or
    delivered. Refuses more than is open on a line."""
    order = await scoped(Order).get(order_id)
    lines = {line.id: line for line in await _lines_of(order)}
    for line_id, quantity in accepted.items():
        line = lines.get(line_id)
        if line is None or line.removed:
            raise NotFound()
        if quantity < 0 or line.delivered_quantity + quantity > line.quantity:
            raise InvalidOrder(fields={str(line_id): N_("More than is open on this line.")})
        line.delivered_quantity += quantity
        await line.save()
    all_done = all(line.removed or line.delivered_quantity >= line.quantity for line in lines.values())
    after = next_status(Status(order.status), Event.DELIVER_ALL if all_done else Event.DELIVER_PART)
    await _save_guarded(order, None, status=after.value, due_date=_due_date(list(lines.values())))
    await record(
        "order.receive",
        entity_type="order",
        entity_id=order.id,
        after={"status": after.value, "accepted": {str(k): str(v) for k, v in accepted.items()}},
    )
    return await _to_out(order)


async def tell(kind: str, order: Order, **params: Any) -> None:
    """Record an event about ``order`` for the notifications (who hears of
    it, how and in which language is decided there)."""
    context = current()
    supplier = await Supplier.select(Supplier.name).where(Supplier.id == order.supplier).first()
    await emit(
        kind,
        link=f"/orders/{order.id}",
        supplier=order.supplier,
        record=("order", order.id),
        params={
            "number": order.number,
            "buyer": context.tenant_name,
            "supplier": supplier["name"] if supplier else "",
            "revision": order.revision,
            **params,
        },
    )


# ---------------------------------------------------------------- board and inbox


# The board's orders: by due date (soonest first) unless the caller names
# another key. Each key is one or more SQL expressions on the order's own
# row, ending with the id, so that keyset pages never skip nor repeat an
# order however the list is sorted; the whole filtered list is sorted, never
# one page of it.
_TABLE = '"outsourced_order"'
_STATUS_RANK = (
    "CASE " + _TABLE + '."status" ' + " ".join(f"WHEN '{status.value}' THEN {rank}" for rank, status in enumerate(Status)) + " END"
)
_SUPPLIER_NAME = '(SELECT "supplier"."name" FROM "supplier" WHERE "supplier"."id" = ' + _TABLE + '."supplier")'  # noqa: S608 (names of ours)
_DUE = _TABLE + '."due_date"'


def _late_rank(today: date) -> str:
    """0 for a late order, 1 otherwise: an ascending sort puts the late first.
    ``today`` is a date we made, safe to write into the statement."""
    editable = ", ".join(f"'{status.value}'" for status in sorted(EDITABLE_STATES))
    return f"CASE WHEN {_DUE} < '{today.isoformat()}' AND {_TABLE}.\"status\" IN ({editable}) THEN 0 ELSE 1 END"


def _sort_expressions(sort: str, today: date) -> list[str]:
    return {
        "due": [_DUE],
        "number": [_TABLE + '."number"'],
        "supplier": [_SUPPLIER_NAME, _DUE],
        "status": [_STATUS_RANK, _DUE],
        "late": [_late_rank(today), _DUE],
    }[sort]


def _sort_values(sort: str, row: dict[str, Any], context: TenantContext) -> list[Any]:
    """The row's values of the sort's expressions, as the cursor keeps them."""
    due = row["due_date"].isoformat()
    return {
        "due": [due],
        "number": [row["number"]],
        "supplier": [row["supplier.name"], due],
        "status": [list(Status).index(Status(row["status"])), due],
        "late": [0 if _overdue(row["status"], row["due_date"], context) else 1, due],
    }[sort]


# What a cursor of each sort holds before the id.
_CURSOR_TYPES: dict[str, list[type]] = {"due": [str], "number": [str], "supplier": [str, str], "status": [int, str], "late": [int, str]}


def _bad_cursor() -> InvalidOrder:
    return InvalidOrder(fields={"cursor": N_("This page link is not valid.")})


def _encode_cursor(sort: str, descending: bool, values: list[Any], order_id: UUID) -> str:
    """The default sort keeps its first format ("due|id"); any other names
    its key and direction, so a cursor is refused under another sort."""
    if sort == "due" and not descending:
        text = f"{values[0]}|{order_id}"
    else:
        text = json.dumps([sort, "desc" if descending else "asc", values, str(order_id)])
    return base64.urlsafe_b64encode(text.encode()).decode()


def _decode_cursor(cursor: str, sort: str, descending: bool) -> list[Any]:
    """The values to start after (the sort's, then the id), as SQL parameters."""
    try:
        text = base64.urlsafe_b64decode(cursor.encode()).decode()
        if sort == "due" and not descending:
            due, _, order_id = text.partition("|")
            return [date.fromisoformat(due), UUID(order_id)]
        key, direction, values, order_id = json.loads(text)
    except (ValueError, UnicodeDecodeError, TypeError):
        raise _bad_cursor() from None
    if key != sort or direction != ("desc" if descending else "asc") or not isinstance(values, list):
        raise _bad_cursor()
    expected = _CURSOR_TYPES[sort]
    if len(values) != len(expected) or any(not isinstance(value, kind) for value, kind in zip(values, expected, strict=True)):
        raise _bad_cursor()
    try:
        # Dates go in as dates: both databases compare the column with one.
        typed = [
            date.fromisoformat(value) if index == len(values) - 1 and sort != "number" else value for index, value in enumerate(values)
        ]
        return [*typed, UUID(str(order_id))]
    except ValueError:
        raise _bad_cursor() from None


async def board(
    status: str | None = None,
    supplier_id: UUID | None = None,
    due_before: date | None = None,
    overdue: bool = False,
    search: str = "",
    cursor: str | None = None,
    limit: int = PAGE_SIZE,
    sort: str = "due",
    descending: bool = False,
) -> BoardOut:
    """Orders filtered, sorted by ``sort`` (one of ``BOARD_SORTS``; the due
    date, soonest first, by default), ``limit`` at a time; counts per status.
    Every filter runs on an index that starts with the tenant."""
    context = _require("orders.view")
    if sort not in BOARD_SORTS:
        raise InvalidOrder(fields={"sort": N_("This value is missing or not valid.")})
    values: dict[str, Any] = {}
    if status:
        values["status"] = status
    if supplier_id:
        values["supplier"] = supplier_id
    if overdue:
        values["today"] = _today(context)
    if due_before:
        values["due_before"] = due_before
    if search.strip():
        values["term"] = f"%{search.strip()}%"
    # The late-first sort writes today's date into its expression.
    expressions = [*_sort_expressions(sort, _today(context)), _TABLE + '."id"']
    if cursor:
        for index, value in enumerate(_decode_cursor(cursor, sort, descending)):
            values[f"after_{index}"] = value

    def build(slot: Mapping[str, Any]) -> Any:
        query = scoped(Order).select(*SUMMARY_COLUMNS)
        if context.is_supplier:
            query = query.where(Order.status != Status.DRAFT.value)
        if "status" in slot:
            query = query.where(Order.status == slot["status"])
        if "supplier" in slot:
            query = query.where(Order.supplier == slot["supplier"])
        if "today" in slot:
            query = query.where(Order.due_date < slot["today"]).where(Order.status.is_in([s.value for s in EDITABLE_STATES]))
        if "due_before" in slot:
            query = query.where(Order.due_date <= slot["due_before"])
        if "term" in slot:
            matching_lines = (
                scoped(OrderLine)
                .select(OrderLine.order)
                .where((OrderLine.item.code.ilike(slot["term"])) | (OrderLine.item.name.ilike(slot["term"])))
            )
            query = query.where((Order.number.ilike(slot["term"])) | (Order.id.is_in(matching_lines)))
        after = [slot[f"after_{index}"] for index in range(len(expressions)) if f"after_{index}" in slot]
        if after:
            # A row value, not (a > x) OR (a = x AND b > y): both databases seek
            # an index in that order to it, so a later page costs what the first does.
            placeholders = ", ".join("{}" for _ in after)
            query = query.where(WhereRaw(f"({', '.join(expressions)}) {'<' if descending else '>'} ({placeholders})", *after))
        return query.order_by(*(OrderByRaw(expression) for expression in expressions), ascending=not descending).limit(limit + 1)

    shape = ("orders.board", context.is_supplier, sort, descending, limit, tuple(expressions))
    # By due date the page walks (tenant[, status | supplier], due date, id)
    # and stops after one page: never a read and a sort of every order of
    # the tenant or in that status (portal.db.in_index_order). Unfiltered
    # too: the row-level security checks make the planner guess few rows
    # and prefer the sort.
    walk = sort == "due"
    async with in_index_order() if walk else contextlib.nullcontext():
        rows = await prepared(shape, build, **values)
    items = [_summary(row, context) for row in rows[:limit]]
    last = rows[limit - 1] if len(rows) > limit else None
    next_cursor = _encode_cursor(sort, descending, _sort_values(sort, last, context), last["id"]) if last else None
    return BoardOut(items=items, next=next_cursor, counts=await status_counts())


async def status_counts() -> dict[str, int]:
    """Orders per status, read from the counts the database keeps with every
    change (portal.orders.counting): a few rows per supplier, however many
    orders the tenant has. A supplier's are its own, drafts left out."""
    rows = await prepared(
        "orders.status_counts",
        lambda _slot: (
            scoped(OrderStatusCount)
            .select(OrderStatusCount.status, Sum(OrderStatusCount.orders, alias="orders"))
            .group_by(OrderStatusCount.status)
        ),
    )
    counts = {row["status"]: int(row["orders"]) for row in rows if row["orders"]}
    # Drafts cancelled unissued are cancelled orders on the buyer's board;
    # a supplier's counts never had them (the scoping layer).
    cancelled_drafts = counts.pop(CANCELLED_DRAFT, 0)
    if cancelled_drafts:
        counts[Status.CANCELLED.value] = counts.get(Status.CANCELLED.value, 0) + cancelled_drafts
    if current().is_supplier:
        counts.pop(Status.DRAFT.value, None)
    return counts


async def inbox(due_within_days: int = 7, limit: int = PAGE_SIZE) -> InboxOut:
    """What needs attention now: orders waiting for the supplier's answer,
    changes not yet acknowledged, open work due soon, late work. Each list
    is one query on an index that starts with the tenant, of its first
    ``limit``; ``more`` names the lists that hold more (not counted: a
    count would read every row the index walk stops short of)."""
    context = _require("orders.view")
    today = _today(context)
    working = [s.value for s in (Status.ACCEPTED, Status.IN_PRODUCTION, Status.PARTIALLY_DELIVERED)]
    more: list[str] = []

    async def orders_where(name: str, *conditions: Any) -> list[OrderSummary]:
        query = scoped(Order).select(*SUMMARY_COLUMNS)
        for condition in conditions:
            query = query.where(condition)
        rows = await query.order_by(Order.due_date, Order.id).limit(limit + 1)
        if len(rows) > limit:
            more.append(name)
        return [_summary(row, context) for row in rows[:limit]]

    to_acknowledge, pending_more = await _pending_revisions(context, limit)
    if pending_more:
        more.append("to_acknowledge")
    return InboxOut(
        to_accept=await orders_where("to_accept", Order.status == Status.ISSUED.value),
        to_acknowledge=to_acknowledge,
        due_soon=await orders_where(
            "due_soon", Order.status.is_in(working), Order.due_date >= today, Order.due_date <= today + timedelta(days=due_within_days)
        ),
        overdue=await orders_where("overdue", Order.status.is_in([*working, Status.ISSUED.value]), Order.due_date < today),
        more=more,
    )


async def _pending_revisions(context: TenantContext, limit: int) -> tuple[list[PendingRevision], bool]:
    """The oldest ``limit`` revisions not yet acknowledged, and whether there are more."""
    order: Any = OrderRevision.order
    rows = await (
        scoped(OrderRevision)
        .select(
            OrderRevision.id,
            OrderRevision.number,
            OrderRevision.reason,
            OrderRevision.created_at,
            order.id,
            order.number,
            order.supplier,
            order.supplier.name,
            order.status,
            order.due_date,
            order.revision,
        )
        .where(OrderRevision.acknowledged_at.is_null())
        .order_by(OrderRevision.created_at)
        .limit(limit + 1)
    )
    found = [
        PendingRevision(
            order=_summary({key.removeprefix("order."): value for key, value in row.items() if key.startswith("order.")}, context),
            revision_id=row["id"],
            number=row["number"],
            reason=row["reason"],
            created_at=row["created_at"],
        )
        for row in rows[:limit]
    ]
    return found, len(rows) > limit


SUMMARY_COLUMNS = (Order.id, Order.number, Order.supplier, Order.supplier.name, Order.status, Order.due_date, Order.revision)


def _summary(row: dict[str, Any], context: TenantContext) -> OrderSummary:
    return OrderSummary(
        id=row["id"],
        number=row["number"],
        supplier_id=row["supplier"],
        supplier_name=row["supplier.name"],
        status=row["status"],
        due_date=shown_due(row["due_date"]),
        overdue=_overdue(row["status"], row["due_date"], context),
        revision=row["revision"],
    )


# ---------------------------------------------------------------- supplier change


async def transfer_remainder(order_ids: list[UUID], to_supplier: UUID, reason: str) -> dict[UUID, UUID]:
    """For a handover: the open remainder of each order (quantity not yet
    accepted, per line) becomes a new order issued to ``to_supplier``, with
    the QC requirements the original still holds, and the original is
    cancelled with ``reason``; its lines, deliveries and documents stay with
    it. The new lines carry no price: the old supplier's prices are the
    buyer's business with that supplier, and the planner agrees the new one
    through a revision. Every order must be open. Returns original -> new
    order; an order with nothing open gets none. A fixed number of
    statements however many orders move (a supplier may hand over
    thousands of lines); the handover records the audit event and tells the
    new supplier."""
    context = _require("orders.manage")
    if not order_ids:
        return {}
    orders = {
        row["id"]: row for row in await scoped(Order).select(Order.id, Order.status, Order.currency).where(Order.id.is_in(list(order_ids)))
    }
    for order_id in order_ids:
        if order_id not in orders:
            raise NotFound()
        next_status(Status(orders[order_id]["status"]), Event.CANCEL)
    open_lines: dict[UUID, list[dict[str, Any]]] = {}
    rows = (
        await scoped(OrderLine)
        .select(OrderLine.order, OrderLine.item, OrderLine.operation, OrderLine.quantity, OrderLine.delivered_quantity, OrderLine.due_date)
        .where(OrderLine.order.is_in(list(orders)))
        .where(OrderLine.removed == False)  # noqa: E712
        .order_by(OrderLine.line_no)
    )
    for row in rows:
        quantity = Decimal(row["quantity"]) - Decimal(row["delivered_quantity"])
        if quantity > 0:
            open_lines.setdefault(row["order"], []).append({**row, "open": quantity})
    moving = [order_id for order_id in order_ids if order_id in open_lines]
    numbers = await _next_numbers(context.tenant_id, _today(context).year, len(moving))
    now = datetime.now(UTC)
    order_maker, line_maker = scoped(Order), scoped(OrderLine)
    made: dict[UUID, UUID] = {}
    new_orders: list[Order] = []
    new_lines: list[OrderLine] = []
    for order_id, number in zip(moving, numbers, strict=True):
        lines = open_lines[order_id]
        new = order_maker.new(
            number=number,
            supplier=to_supplier,
            currency=orders[order_id]["currency"],
            status=Status.ISSUED.value,
            issued_at=now,
            due_date=min(line["due_date"] for line in lines),
            created_by=context.user_id,
        )
        new_orders.append(new)
        made[order_id] = new.id
        for index, line in enumerate(lines, start=1):
            new_lines.append(
                line_maker.new(
                    order=new.id,
                    line_no=index,
                    item=line["item"],
                    operation=line["operation"],
                    quantity=line["open"],
                    unit_price=Decimal(0),
                    due_date=line["due_date"],
                )
            )
    await (
        scoped(Order)
        .update(
            {
                Order.status: Status.CANCELLED.value,
                Order.status_reason: reason,
                Order.version: Order.version + 1,
                Order.updated_at: now,
            }
        )
        .where(Order.id.is_in(list(orders)))
    )
    for start in range(0, len(new_orders), INSERT_BATCH):
        await Order.insert(*new_orders[start : start + INSERT_BATCH])
    for start in range(0, len(new_lines), INSERT_BATCH):
        await OrderLine.insert(*new_lines[start : start + INSERT_BATCH])
    from portal.quality.templates import carry_over

    await carry_over(made, to_supplier)
    return made


async def _next_numbers(tenant_id: UUID, year: int, count: int) -> list[str]:
    """``count`` consecutive order numbers in one statement."""
    if count == 0:
        return []
    await _next_number(tenant_id, year)
    rows = await OrderCounter.raw(
        "UPDATE order_counter SET last = last + {} WHERE tenant = {} AND year = {} RETURNING last", count - 1, tenant_id, year
    )
    last = int(rows[0]["last"])
    return [f"WO-{year}-{number:05d}" for number in range(last - count + 1, last + 1)]


# ---------------------------------------------------------------- documents


async def order_attachment_supplier(order_id: UUID) -> UUID | None:
    """Documents on an order (drawings, specs) are shared with its supplier
    once the order is issued. A draft is the buyer's own: its documents are
    stored unshared and ``fire`` shares them when it issues the order (with
    the supplier the order has then). A draft cancelled before it was ever
    issued stays the buyer's: its documents too."""
    order = await visible_order(order_id)
    status, issued_at = order.status, order.issued_at
    if status == Status.DRAFT.value and isinstance(get_engine(), PostgresEngine):
        # Lock and re-read: an issue running at the same time either waits
        # for this upload to commit (and then shares it) or has committed
        # and this upload is shared at once. SQLite has one writer anyway.
        row = await scoped(Order).select(Order.status, Order.issued_at).where(Order.id == order.id).lock_rows().first()
        status, issued_at = row["status"], row["issued_at"]
    if status == Status.DRAFT.value or (status == Status.CANCELLED.value and issued_at is None):
        return None
    supplier: UUID = order.supplier
    return supplier


async def order_line_attachment_supplier(line_id: UUID) -> UUID | None:
    line = await scoped(OrderLine).get(line_id)
    return await order_attachment_supplier(line.order)


async def _share_order_documents(order: Order) -> None:
    lines = await scoped(OrderLine).select(OrderLine.id).where(OrderLine.order == order.id)
    await share_attached({"order": [order.id], "order_line": [line["id"] for line in lines]}, order.supplier)
    await share_thread_files("order", order.id)


def items_on_shared_orders(supplier_id: UUID) -> Any:
    """The items whose drawings a supplier reads: those on the lines of its
    orders that were issued (any state but draft, and not a draft cancelled
    unissued), lines a revision removed excepted. Never other items."""
    return (
        scoped(OrderLine)
        .select(OrderLine.item)
        .where(OrderLine.order.supplier == supplier_id)
        .where(shared_with_supplier(OrderLine.order.status, OrderLine.order.issued_at))
        .where(OrderLine.removed == False)  # noqa: E712
    )


async def order_item_drawings(order_id: UUID | str) -> dict[UUID, list[DocumentOut]]:
    """Documents on the items of an order that the actor may read, per item:
    for a supplier user, those of its issued orders only (the scoping rule
    above); a draft answers NotFound to it like a missing order."""
    order = await visible_order(order_id)
    lines = await scoped(OrderLine).select(OrderLine.item).where(OrderLine.order == order.id).where(OrderLine.removed == False)  # noqa: E712
    return await list_attached("item", sorted({line["item"] for line in lines}, key=str))


register_attachment_target("order", order_attachment_supplier, table=Order)
register_attachment_target("order_line", order_line_attachment_supplier, table=OrderLine)
share_with_suppliers("item", items_on_shared_orders)


approvals.register_action("order.issue", _approved_issue)
approvals.register_action("order.price_increase", _approved_revision)
