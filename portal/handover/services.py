"""Supplier-change handovers: the checklist pre-filled from the records,
sign-offs by the responsible side, and completion, which moves the work
from the outgoing supplier to the incoming one in one transaction.

Visibility: the outgoing supplier sees the handover (never who takes over)
and the entries about its own records and steps; the incoming supplier sees
the handover, its own steps and, after completion, the orders it now holds;
neither sees the other's prices or the buyer's internal note.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any
from uuid import UUID, uuid4

from piccolo.engine.postgres import PostgresEngine

from portal.approvals import services as approvals
from portal.audit.services import record
from portal.conversations.services import share_thread_files
from portal.conversations.tables import Message, Thread
from portal.db import get_engine
from portal.deliveries.tables import Delivery, DeliveryLine
from portal.documents.attachments import register_attachment_target
from portal.documents.content import CATEGORIES
from portal.documents.services import version_row
from portal.documents.tables import Document, DocumentVersion
from portal.errors import Conflict, DomainError, NotFound, PermissionDenied
from portal.handover import access
from portal.handover.checklist import (
    DECISION_LABELS,
    DECISION_PARTY,
    DECISIONS,
    DEFAULT_SECTIONS,
    PARTY_LABELS,
    Party,
    Source,
    clean_sections,
    may_sign,
)
from portal.handover.package import PackageNotReady, request_package
from portal.handover.schemas import (
    HandoverCreate,
    HandoverItemOut,
    HandoverList,
    HandoverOut,
    HandoverSummary,
    TemplateIn,
    TemplateOut,
    TemplateSection,
    as_dicts,
)
from portal.handover.states import Event, Status, TransitionNotAllowed, next_status
from portal.handover.tables import Handover, HandoverAccess, HandoverItem, HandoverLink, HandoverTemplate
from portal.i18n import N_, gettext
from portal.items.tables import BomLine, Item
from portal.jobs.queue import enqueue
from portal.materials import services as materials
from portal.materials.tables import Dispatch
from portal.notifications.services import emit
from portal.orders import services as orders
from portal.orders.states import OPEN_STATES as ORDER_OPEN_STATES
from portal.orders.states import Status as OrderStatus
from portal.orders.tables import Order, OrderLine
from portal.pagination import read_time_cursor, time_cursor
from portal.progress.tables import ProgressReport
from portal.quality import ncrs
from portal.quality.ncr_states import STEPS as NCR_STEPS
from portal.quality.ncr_states import Status as NcrStatus
from portal.quality.tables import Ncr, NcrStep, QcRequirement
from tenants.context import TenantContext, current, operator_context, system_scope, tenant_scope
from tenants.scoping import scoped, supplier_reads_rows
from tenants.tables import Supplier, Tenant, User

PAGE_SIZE = 50
# Rows per INSERT: well under the databases' limits on parameters.
INSERT_BATCH = 500
MAX_NOTE = 2000
MAX_ITEMS = 500
# Open orders a handover covers: shared with the supplier and not finished.
HANDED_STATES = sorted(state.value for state in ORDER_OPEN_STATES - {OrderStatus.DRAFT})
# NCRs a handover decides on: issued and not closed (a draft is QA's own).
NCR_OPEN = sorted([*(step.value for step in NCR_STEPS), NcrStatus.VERIFIED.value])
NCR_ENDED = (NcrStatus.CLOSED.value, NcrStatus.CANCELLED.value)
WRITE_OFF = "material.write_off"
READY_JOB = "handover.ready"


class InvalidHandover(DomainError):
    code = "invalid_handover"
    message = N_("The handover could not be saved. Check the marked fields.")


class NoWork(DomainError):
    code = "no_work"
    message = N_("The outgoing supplier has no open orders or material on these items: there is nothing to hand over.")


class StaleHandover(Conflict):
    code = "stale_handover"
    message = N_("Someone else changed this handover in the meantime. Reload it and try again.")


class BlockingItemsOpen(Conflict):
    code = "blocking_items_open"
    message = N_("The handover cannot be completed: %(count)s blocking checklist entries are not signed off yet.")


class NotYourItem(PermissionDenied):
    code = "not_your_item"
    message = N_("This entry is signed off by %(party)s, not by you.")


class AlreadySignedOff(Conflict):
    code = "already_signed_off"
    message = N_("This entry is already signed off.")


class InvalidSignOff(DomainError):
    code = "invalid_sign_off"
    message = N_("The entry could not be signed off. Check the marked fields.")


class ChecklistClosed(TransitionNotAllowed):
    """A sign-off on a handover that has ended, perhaps while the signer had
    it open: said plainly, under the code of any refused transition."""


CLOSED_MESSAGES = {
    Status.COMPLETED: N_("This handover is already completed: its entries can no longer be signed off."),
    Status.CANCELLED: N_("This handover was cancelled: its entries can no longer be signed off."),
}


class WaitingForApproval(Conflict):
    code = "waiting_for_approval"
    message = N_("A write-off on this handover waits for approval: it can be completed (or the entry signed again) once it is decided.")


def _json(value: Any) -> Any:
    """A JSON column's value: Piccolo hands it over as text."""
    return json.loads(value) if isinstance(value, str) else value


def _sections(row: HandoverTemplate | None) -> list[dict[str, Any]]:
    return _json(row.sections) if row is not None else DEFAULT_SECTIONS


def _require(action: str) -> TenantContext:
    context = current()
    if not context.can(action):
        raise PermissionDenied()
    return context


# ---------------------------------------------------------------- template


async def _template_row() -> HandoverTemplate | None:
    return await scoped(HandoverTemplate).objects().first()  # type: ignore[no-any-return]


async def get_template() -> TemplateOut:
    """The tenant's checklist template, or the built-in default."""
    _require("handovers.view")
    row = await _template_row()
    sections = _sections(row)
    return TemplateOut(
        sections=[
            TemplateSection(title=section["title"], items=[_template_item(item) for item in section["items"]]) for section in sections
        ],
        default=row is None,
    )


def _template_item(item: dict[str, Any]) -> Any:
    from portal.handover.schemas import TemplateItem

    return TemplateItem(item["title"], item["party"], bool(item["evidence"]), bool(item["blocking"]), item.get("source", ""))


async def save_template(data: TemplateIn) -> TemplateOut:
    """Replace the tenant's checklist template (new handovers use it;
    running ones keep the checklist they were made with)."""
    context = _require("handovers.configure")
    sections = clean_sections(as_dicts(data.sections))
    row = await _template_row()
    if row is None:
        row = scoped(HandoverTemplate).new(sections=sections, updated_by=context.user_id)
        # Saved twice at once (a double tap): the second insert waits for
        # the first to commit and replaces the sections on its row.
        stored = await (
            HandoverTemplate.insert(row)
            .on_conflict(
                target=(HandoverTemplate.tenant,),
                action="DO UPDATE",
                values=[HandoverTemplate.sections, HandoverTemplate.updated_by, HandoverTemplate.updated_at],
            )
            .returning(HandoverTemplate.id)
        )
        row.id = stored[0]["id"]
    else:
        await (
            scoped(HandoverTemplate)
            .update(
                {
                    HandoverTemplate.sections: sections,
                    HandoverTemplate.updated_by: context.user_id,
                    HandoverTemplate.updated_at: datetime.now(UTC),
                }
            )
            .where(HandoverTemplate.id == row.id)
        )
    await record("handover.template", entity_type="handover_template", entity_id=row.id, after={"sections": len(sections)})
    return await get_template()


# ---------------------------------------------------------------- the work a handover covers


async def _open_orders(from_supplier: UUID, item_ids: list[UUID]) -> list[dict[str, Any]]:
    query = (
        scoped(Order)
        .select(Order.id, Order.number)
        .where(Order.supplier == from_supplier)
        .where(Order.status.is_in(HANDED_STATES))
        .order_by(Order.number)
    )
    if item_ids:
        lines = scoped(OrderLine).select(OrderLine.order).where(OrderLine.item.is_in(item_ids))
        query = query.where(Order.id.is_in(lines.where(OrderLine.removed == False)))  # noqa: E712
    return list(await query)


async def _materials_of(item_ids: list[UUID]) -> set[UUID]:
    """The materials the items consume (their bills of material), and the
    items themselves (a part sent out for finishing)."""
    rows = await scoped(BomLine).select(BomLine.material).where(BomLine.item.is_in(item_ids))
    return {row["material"] for row in rows} | set(item_ids)


async def _balances(from_supplier: UUID, item_ids: list[UUID]) -> list[Any]:
    held = [row for row in await materials.balances(supplier_id=from_supplier) if Decimal(row.held) > 0]
    if item_ids:
        wanted = await _materials_of(item_ids)
        held = [row for row in held if row.item_id in wanted]
    return held


async def _documents(order_ids: list[UUID], item_ids: list[UUID]) -> list[dict[str, Any]]:
    """The technical documents: those on the orders and their lines, and the
    drawings of the items on them."""
    if not order_ids:
        return []
    lines = await scoped(OrderLine).select(OrderLine.id, OrderLine.item).where(OrderLine.order.is_in(order_ids))
    items = {line["item"] for line in lines} if not item_ids else set(item_ids)
    condition = (
        ((Document.attached_type == "order") & Document.attached_id.is_in(order_ids))
        | ((Document.attached_type == "order_line") & Document.attached_id.is_in([line["id"] for line in lines] or [UUID(int=0)]))
        | ((Document.attached_type == "item") & Document.attached_id.is_in(sorted(items, key=str) or [UUID(int=0)]))
    )
    return list(
        await scoped(Document)
        .select(Document.id, Document.title)
        .where(condition)
        .where(Document.withdrawn == False)  # noqa: E712
        .where(Document.current_version > 0)
        .order_by(Document.created_at)
    )


async def _open_ncrs(from_supplier: UUID, order_ids: list[UUID], item_ids: list[UUID]) -> list[dict[str, Any]]:
    """The outgoing supplier's open NCRs on the work: on the handed-over
    orders or, when items are named, on lines of those items (an NCR on a
    finished order of the part still matters to whoever makes it next)."""
    query = scoped(Ncr).select(Ncr.id, Ncr.number, Ncr.title).where(Ncr.supplier == from_supplier).where(Ncr.status.is_in(NCR_OPEN))
    if item_ids:
        lines = scoped(OrderLine).select(OrderLine.id).where(OrderLine.item.is_in(item_ids))
        query = query.where(Ncr.order.is_in(order_ids or [UUID(int=0)]) | Ncr.order_line.is_in(lines))
    return list(await query.order_by(Ncr.number))


async def _qc_requirements(order_ids: list[UUID]) -> list[dict[str, Any]]:
    if not order_ids:
        return []
    return list(
        await scoped(QcRequirement)
        .select(QcRequirement.id, QcRequirement.category, QcRequirement.order.number)
        .where(QcRequirement.order.is_in(order_ids))
        .where(QcRequirement.waived_at.is_null())
        .order_by(QcRequirement.created_at)
    )


def _visible_to(party: Party, source: str, from_supplier: UUID, to_supplier: UUID, *, reads_record: bool = True) -> UUID | None:
    """Which supplier reads an entry: each supplier its own steps; the
    outgoing one also the entries about its records, while it reads the
    record (a document follows the record it is attached to, whatever its
    own supplier field says); the buyer's own steps stay internal."""
    if party is Party.INCOMING_SUPPLIER:
        return to_supplier
    if party is Party.OUTGOING_SUPPLIER or (source and reads_record):
        return from_supplier
    return None


async def _checklist(handover: Handover, item_ids: list[UUID]) -> list[HandoverItem]:
    from_supplier, to_supplier = handover.from_supplier, handover.to_supplier
    open_orders = await _open_orders(from_supplier, item_ids)
    balances = await _balances(from_supplier, item_ids)
    if not open_orders and not balances:
        raise NoWork(fields={"item_ids": NoWork.message})
    order_ids = [row["id"] for row in open_orders]
    records: dict[str, list[tuple[UUID, dict[str, str]]]] = {
        Source.ORDERS.value: [(row["id"], {"number": row["number"]}) for row in open_orders],
        Source.MATERIALS.value: [
            (row.item_id, {"material": f"{row.item_code} {row.item_name}", "held": str(row.held), "unit": row.unit}) for row in balances
        ],
        Source.DOCUMENTS.value: [(row["id"], {"title": row["title"]}) for row in await _documents(order_ids, item_ids)],
        Source.QC.value: [
            (row["id"], {"category": row["category"], "number": row["order.number"]}) for row in await _qc_requirements(order_ids)
        ],
        Source.NCRS.value: [
            (row["id"], {"number": row["number"], "title": row["title"]}) for row in await _open_ncrs(from_supplier, order_ids, item_ids)
        ],
    }
    # A document entry names the document's title: the outgoing supplier
    # sees it only while it reads the document by the scoping layer's rules.
    documents = [record_id for record_id, _ in records[Source.DOCUMENTS.value]]
    read = await supplier_reads_rows(Document, documents, from_supplier)
    unread = {record_id for record_id in documents if str(record_id) not in read}
    sections = _sections(await _template_row())
    maker = scoped(HandoverItem)
    entries: list[HandoverItem] = []
    for section in sections:
        for entry in section["items"]:
            party = Party(entry["party"])
            source = entry.get("source", "")
            targets: list[tuple[UUID | None, dict[str, str]]] = list(records.get(source, [])) if source else [(None, {})]
            for record_id, params in targets:
                entries.append(
                    maker.new(
                        handover=handover.id,
                        supplier=_visible_to(party, source, from_supplier, to_supplier, reads_record=record_id not in unread),
                        position=len(entries) + 1,
                        section=section["title"],
                        title=entry["title"],
                        params=params,
                        party=party.value,
                        evidence=bool(entry["evidence"]),
                        blocking=bool(entry["blocking"]),
                        source=source,
                        record_id=record_id,
                    )
                )
    if len(entries) > MAX_ITEMS * 20:
        raise InvalidHandover(fields={"item_ids": N_("Too much work for one handover: hand it over in parts (by item).")})
    return entries


async def _next_number(context: TenantContext) -> str:
    year = context.today().year
    count = await scoped(Handover).count().where(Handover.number.like(f"HO-{year}-%"))
    return f"HO-{year}-{count + 1:04d}"


# Numbers tried after the first one was taken: each is taken only by a
# handover committed meanwhile, so a handful is plenty.
NUMBER_ATTEMPTS = 10


async def _insert_numbered(context: TenantContext, handover: Handover) -> None:
    """Store ``handover`` under the next free number. Two planners creating
    handovers at the same moment both counted the same rows: the second
    insert waits for the first to commit (its number is in the unique
    index), stores nothing, and counts again."""
    for attempt in range(NUMBER_ATTEMPTS):
        if attempt:
            # Counted again, or the one after the number taken when the
            # count is behind (a number skipped once stays skipped).
            prefix, taken = handover.number.rsplit("-", 1)
            counted = await _next_number(context)
            handover.number = counted if int(counted.rsplit("-", 1)[1]) > int(taken) else f"{prefix}-{int(taken) + 1:04d}"
        stored = (
            await Handover.insert(handover)
            .on_conflict(target=(Handover.tenant, Handover.number), action="DO NOTHING")
            .returning(Handover.id)
        )
        if stored:
            return
    raise Conflict()


async def create_handover(data: HandoverCreate) -> HandoverOut:
    """A draft handover from one supplier to another of this tenant, its
    checklist pre-filled from the outgoing supplier's open orders, material
    balances, technical documents and QC requirements on the items named
    (all of its work when none). Refused: the same supplier twice, a
    supplier that is not this tenant's, items with no open work."""
    context = _require("handovers.manage")
    problems: dict[str, str] = {}
    suppliers = {
        row["id"]: row
        for row in await scoped(Supplier)
        .select(Supplier.id, Supplier.status)
        .where(Supplier.id.is_in([data.from_supplier_id, data.to_supplier_id]))
    }
    if data.from_supplier_id not in suppliers:
        problems["from_supplier_id"] = N_("This supplier does not exist.")
    if data.to_supplier_id not in suppliers:
        problems["to_supplier_id"] = N_("This supplier does not exist.")
    elif data.to_supplier_id == data.from_supplier_id:
        problems["to_supplier_id"] = N_("Choose another supplier: work cannot be handed over to the supplier that has it.")
    elif suppliers[data.to_supplier_id]["status"] != "active":
        problems["to_supplier_id"] = N_("This supplier is not active.")
    item_ids = list(dict.fromkeys(data.item_ids))
    if item_ids:
        known = {row["id"] for row in await scoped(Item).select(Item.id).where(Item.id.is_in(item_ids))}
        if set(item_ids) - known:
            problems["item_ids"] = N_("This item does not exist.")
    note = data.note_internal.strip()
    if len(note) > MAX_NOTE:
        problems["note_internal"] = N_("At most 2000 characters.")
    if problems:
        raise InvalidHandover(fields=problems)
    handover = scoped(Handover).new(
        number=await _next_number(context),
        from_supplier=data.from_supplier_id,
        to_supplier=data.to_supplier_id,
        item_ids=[str(item) for item in item_ids],
        note_internal=note,
        created_by=context.user_id,
    )
    entries = await _checklist(handover, item_ids)
    await _insert_numbered(context, handover)
    for start in range(0, len(entries), INSERT_BATCH):
        await HandoverItem.insert(*entries[start : start + INSERT_BATCH])
    await record(
        "handover.create",
        entity_type="handover",
        entity_id=handover.id,
        after={"number": handover.number, "from": data.from_supplier_id, "to": data.to_supplier_id, "entries": len(entries)},
    )
    return await _to_out(handover)


# ---------------------------------------------------------------- reading


async def _visible(handover_id: UUID | str) -> Handover:
    return await scoped(Handover).get(handover_id)


async def _locked(handover_id: UUID | str) -> Handover:
    """The handover, held until the transaction ends. Sign-offs and
    completion of one handover take it first (a cancellation or a start
    holds it by its update), so they run one after the other and each
    reads what the one before committed: no entry is
    signed off after the handover completed, and completion never decides
    on a set of entries a sign-off is still changing. PostgreSQL locks the
    row (NO KEY UPDATE: rows that merely refer to the handover are still
    written meanwhile); SQLite runs one writer at a time already (IMMEDIATE
    transactions, ``portal.db.open_transaction``)."""
    if not isinstance(get_engine(), PostgresEngine):
        return await _visible(handover_id)
    try:
        key = handover_id if isinstance(handover_id, UUID) else UUID(str(handover_id))
    except ValueError:
        raise NotFound() from None
    handover = await scoped(Handover).objects().where(Handover.id == key).lock_rows("NO KEY UPDATE").first()
    if handover is None:
        raise NotFound()
    return handover  # type: ignore[no-any-return]


async def get_handover(handover_id: UUID | str) -> HandoverOut:
    _require("handovers.view")
    return await _to_out(await _visible(handover_id))


def _decisions(source: str) -> list[str]:
    return list(DECISIONS.get(source, ()))


async def _names(user_ids: Iterable[UUID | None]) -> dict[UUID, str]:
    ids = sorted({user for user in user_ids if user is not None}, key=str)
    if not ids:
        return {}
    return {row["id"]: row["name"] for row in await User.select(User.id, User.name).where(User.id.is_in(ids))}


def item_title(title: str, params: dict[str, Any]) -> str:
    """The entry's title in the reader's language (a document category by
    its name); a title an admin typed with a stray % shows as typed."""
    category = CATEGORIES.get(params.get("category", ""))
    if category is not None:
        params = {**params, "category": gettext(category.label)}
    try:
        return gettext(title, **params) if params else gettext(title)
    except (KeyError, ValueError, TypeError):
        return title


async def _to_out(handover: Handover) -> HandoverOut:
    context = current()
    rows = await scoped(HandoverItem).select().where(HandoverItem.handover == handover.id).order_by(HandoverItem.position)
    names = await _names(row["signed_off_by"] for row in rows)
    suppliers = {
        row["id"]: row["name"]
        for row in await Supplier.select(Supplier.id, Supplier.name).where(
            Supplier.id.is_in([handover.from_supplier, handover.to_supplier])
        )
    }
    hide_incoming = context.is_supplier and context.supplier_id != handover.to_supplier
    links = (
        await scoped(HandoverLink)
        .select(HandoverLink.new_id)
        .where(HandoverLink.handover == handover.id)
        .where(HandoverLink.kind == "order")
    )
    waiting = set()
    if not context.is_supplier:
        for row in rows:
            if (
                row["source"] == Source.MATERIALS.value
                and row["signed_off_at"] is None
                and await approvals.pending_for("handover_item", row["id"])
            ):
                waiting.add(row["id"])
    items = [
        HandoverItemOut(
            id=row["id"],
            position=row["position"],
            section=gettext(row["section"]),
            title=item_title(row["title"], _json(row["params"]) or {}),
            party=row["party"],
            evidence=bool(row["evidence"]),
            blocking=bool(row["blocking"]),
            source=row["source"],
            record_id=row["record_id"],
            decisions=_decisions(row["source"]),
            decision=row["decision"],
            note=row["note"],
            done=row["signed_off_at"] is not None,
            signed_off_by=names.get(row["signed_off_by"]) if row["signed_off_by"] else None,
            signed_off_at=row["signed_off_at"],
            waiting_for_approval=row["id"] in waiting,
        )
        for row in rows
    ]
    return HandoverOut(
        id=handover.id,
        number=handover.number,
        status=handover.status,
        version=handover.version,
        from_supplier_id=handover.from_supplier,
        from_supplier_name=suppliers.get(handover.from_supplier, ""),
        to_supplier_id=None if hide_incoming else handover.to_supplier,
        to_supplier_name=None if hide_incoming else suppliers.get(handover.to_supplier, ""),
        item_ids=[UUID(str(item)) for item in _json(handover.item_ids) or []],
        items=items,
        blocking_open=sum(1 for item in items if item.blocking and not item.done),
        transferred_orders=[link["new_id"] for link in links if link["new_id"] is not None] if not hide_incoming else [],
        created_at=handover.created_at,
        started_at=handover.started_at,
        completed_at=handover.completed_at,
        cancelled_at=handover.cancelled_at,
        status_reason=handover.status_reason,
        note_internal=handover.note_internal if not context.is_supplier else None,
        package_document_id=handover.package_document if not context.is_supplier else None,
    )


async def list_handovers(status: str | None = None, cursor: str | None = None, limit: int = PAGE_SIZE) -> HandoverList:
    """Newest first; suppliers see the handovers they are part of, once started."""
    context = _require("handovers.view")
    query = scoped(Handover).select(
        Handover.id,
        Handover.number,
        Handover.status,
        Handover.from_supplier,
        Handover.from_supplier.name,
        Handover.to_supplier,
        Handover.to_supplier.name,
        Handover.created_at,
    )
    if status:
        query = query.where(Handover.status == status)
    if cursor:
        at, key = read_time_cursor(cursor)
        query = query.where((Handover.created_at < at) | ((Handover.created_at == at) & (Handover.id < key)))
    rows = await query.order_by(Handover.created_at, Handover.id, ascending=False).limit(limit + 1)
    items = []
    for row in rows[:limit]:
        hide = context.is_supplier and context.supplier_id != row["to_supplier"]
        items.append(
            HandoverSummary(
                id=row["id"],
                number=row["number"],
                status=row["status"],
                from_supplier_id=row["from_supplier"],
                from_supplier_name=row["from_supplier.name"],
                to_supplier_id=None if hide else row["to_supplier"],
                to_supplier_name=None if hide else row["to_supplier.name"],
                created_at=row["created_at"],
            )
        )
    next_cursor = time_cursor(rows[limit - 1]["created_at"], rows[limit - 1]["id"]) if len(rows) > limit else None
    return HandoverList(items=items, next=next_cursor)


async def handover_suppliers() -> list[dict[str, Any]]:
    """The suppliers a handover can name (for the buyer's form)."""
    return list(await scoped(Supplier).select(Supplier.id, Supplier.name, Supplier.status, Supplier.created_at).order_by(Supplier.name))


# ---------------------------------------------------------------- the loop


async def _move(handover: Handover, version: int, event: Event, **changes: Any) -> Status:
    """Write the next state only if nobody moved the handover since
    ``version``: the second of two concurrent changes gets a conflict (told
    first: it acted on a handover that has changed, whatever it is now)."""
    if version != handover.version:
        raise StaleHandover()
    before = Status(handover.status)
    after = next_status(before, event)
    values = {getattr(Handover, key): value for key, value in changes.items()}
    values[Handover.status] = after.value
    values[Handover.version] = handover.version + 1
    updated = (
        await scoped(Handover)
        .update(values)
        .where(Handover.id == handover.id)
        .where(Handover.version == handover.version)
        .where(Handover.status == before.value)
        .returning(Handover.id)
    )
    if not updated:
        raise StaleHandover()
    for key, value in changes.items():
        setattr(handover, key, value)
    handover.status = after.value
    handover.version += 1
    await record(
        f"handover.{event.value}",
        entity_type="handover",
        entity_id=handover.id,
        before={"status": before.value},
        after={"status": after.value, **{key: str(value) for key, value in changes.items()}},
    )
    return after


async def _tell(kind: str, handover: Handover, *, incoming: bool = True) -> None:
    """One event for each supplier side (and the buyer's roles): each hears
    it with its own link and never the other side's name."""
    context = current()
    params = {"number": handover.number, "buyer": context.tenant_name}
    link = f"/handovers/{handover.id}"
    await emit(kind, link=link, supplier=handover.from_supplier, record=("handover", handover.id), params=params)
    if incoming:
        await emit(kind, link=link, supplier=handover.to_supplier, record=("handover", handover.id), params=params)


async def start_handover(handover_id: UUID | str, version: int) -> HandoverOut:
    """The buyer shares the checklist: both suppliers see their part."""
    _require("handovers.manage")
    handover = await _visible(handover_id)
    await _move(handover, version, Event.START, started_at=datetime.now(UTC))
    await share_thread_files("handover", handover.id)
    await _tell("handover.started", handover)
    names = {
        row["id"]: row["name"]
        for row in await Supplier.select(Supplier.id, Supplier.name).where(
            Supplier.id.is_in([handover.from_supplier, handover.to_supplier])
        )
    }
    await emit(
        "handover.opened",
        link=f"/handovers/{handover.id}",
        record=("handover", handover.id),
        params={"number": handover.number, "from": names.get(handover.from_supplier, ""), "to": names.get(handover.to_supplier, "")},
    )
    return await _to_out(handover)


async def cancel_handover(handover_id: UUID | str, version: int, reason: str) -> HandoverOut:
    """Before completion only, with a reason; nothing has moved, nothing moves."""
    _require("handovers.manage")
    handover = await _visible(handover_id)
    reason = reason.strip()
    if not reason or len(reason) > MAX_NOTE:
        next_status(Status(handover.status), Event.CANCEL)
        raise InvalidHandover(fields={"reason": N_("Give a reason: both suppliers see it.")})
    was_started = handover.status == Status.IN_PROGRESS.value
    await _move(handover, version, Event.CANCEL, cancelled_at=datetime.now(UTC), status_reason=reason)
    items = await scoped(HandoverItem).select(HandoverItem.id).where(HandoverItem.handover == handover.id)
    await approvals.withdraw("handover_item", [row["id"] for row in items], approvals.RECORD_ENDED)
    if was_started:
        await _tell("handover.cancelled", handover)
    return await _to_out(handover)


def _still_signable(handover: Handover) -> None:
    status = Status(handover.status)
    if status in CLOSED_MESSAGES:
        raise ChecklistClosed(CLOSED_MESSAGES[status])
    next_status(status, Event.SIGN_OFF)


def _signing_party(item: HandoverItem, decision: str) -> Party:
    return DECISION_PARTY.get((item.source, decision), Party(item.party))


async def sign_off(handover_id: UUID | str, item_id: UUID | str, decision: str, note: str) -> HandoverOut:
    """The responsible side signs off one entry: with a decision for an
    entry about an order, a material balance or an NCR, after attaching
    evidence where the entry asks for it. Sign-offs of different entries
    never overwrite one another; signing one twice is a conflict. A
    write-off waits for the approval the tenant's rule asks for: the entry
    is signed off when it is approved (and stays open when rejected)."""
    context = _require("handovers.sign")
    handover = await _locked(handover_id)
    item = await scoped(HandoverItem).get(item_id)
    if item.handover != handover.id:
        raise NotFound()
    _still_signable(handover)
    decision = decision.strip()
    party = _signing_party(item, decision)
    if not may_sign(context, party, from_supplier=handover.from_supplier, to_supplier=handover.to_supplier):
        raise NotYourItem(party=gettext(PARTY_LABELS[party]))
    if item.signed_off_at is not None:
        raise AlreadySignedOff()
    problems: dict[str, str] = {}
    allowed = _decisions(item.source)
    if allowed and decision not in allowed:
        problems["decision"] = N_("Choose a decision.")
    elif not allowed and decision:
        problems["decision"] = N_("This entry takes no decision.")
    elif item.source == Source.NCRS.value and item.record_id is not None:
        problem = await _ncr_problem(item.record_id, decision)
        if problem:
            problems["decision"] = problem
    note = note.strip()
    if len(note) > MAX_NOTE:
        problems["note"] = N_("At most 2000 characters.")
    if item.evidence and not await _has_evidence(item.id):
        problems["evidence"] = N_("Attach the evidence first (a document on this entry).")
    if problems:
        raise InvalidSignOff(fields=problems)
    if await approvals.pending_for("handover_item", item.id):
        raise WaitingForApproval()
    if item.source == Source.MATERIALS.value and decision == "write_off":
        rule = await approvals.rule_for(WRITE_OFF)
        if rule is not None:
            params = _json(item.params) or {}
            label = gettext(
                "Write off %(material)s (%(held)s %(unit)s) in handover %(number)s",
                material=params.get("material", ""),
                held=params.get("held", ""),
                unit=params.get("unit", ""),
                number=handover.number,
            )
            payload = {"handover_id": str(handover.id), "item_id": str(item.id), "note": note, "by": str(context.user_id)}
            await approvals.hold(WRITE_OFF, "handover_item", item.id, label, {**payload, "link": f"/handovers/{handover.id}"}, rule)
            return await _to_out(handover)
    await _sign(handover, item, decision, note, party, context.user_id)
    return await _to_out(handover)


async def _ncr_problem(ncr_id: UUID, decision: str) -> str | None:
    """An NCR entry is signed "closed" once QA closed (or cancelled) the
    NCR, and "transferred" only while it is still in its steps."""
    row = await scoped(Ncr).select(Ncr.status).where(Ncr.id == ncr_id).first()
    status = row["status"] if row else NcrStatus.CANCELLED.value
    if decision == "close" and status not in NCR_ENDED:
        return N_("Close the NCR first: it is still open.")
    if decision == "transfer" and status not in {step.value for step in NCR_STEPS}:
        return N_("Only an NCR still in its steps can be transferred; close this one instead.")
    return None


async def _sign(handover: Handover, item: HandoverItem, decision: str, note: str, party: Party, signer: UUID | None) -> None:
    updated = (
        await scoped(HandoverItem)
        .update(
            {
                HandoverItem.decision: decision,
                HandoverItem.note: note,
                HandoverItem.signed_off_by: signer,
                HandoverItem.signed_off_at: datetime.now(UTC),
            }
        )
        .where(HandoverItem.id == item.id)
        .where(HandoverItem.signed_off_at.is_null())
        .returning(HandoverItem.id)
    )
    if not updated:
        raise AlreadySignedOff()
    await record(
        "handover.sign_off",
        entity_type="handover",
        entity_id=handover.id,
        after={"item": item.id, "party": party.value, "decision": decision},
    )
    context = current()
    if context.is_supplier:
        # The planners hear what the suppliers signed off; the buyer's own
        # roles sign on the page the planners watch.
        supplier = await Supplier.select(Supplier.name).where(Supplier.id == context.supplier_id).first()
        await emit(
            "handover.signed_off",
            link=f"/handovers/{handover.id}",
            record=("handover", handover.id),
            params={
                "number": handover.number,
                "supplier": supplier["name"] if supplier else "",
                # The title as written (a catalog id and its parameters):
                # each planner reads it in their own language.
                "entry": item.title,
                "entry_params": _json(item.params) or {},
            },
        )
    if item.blocking:
        # Whether it was the last one is for the buyer's eyes (a supplier
        # reads only its own entries): a job looks, as the buyer.
        await enqueue(READY_JOB, {"handover_id": handover.id}, tenant=handover.tenant)


async def ready_job(payload: dict[str, Any]) -> None:
    """Tell the planners once that a running handover has every blocking
    entry signed off (the event is keyed: two last sign-offs at once, or a
    job run twice, are one notification)."""
    async with system_scope("handover-ready"):
        handover = await Handover.objects().where(Handover.id == UUID(str(payload["handover_id"]))).first()
        tenant = await Tenant.objects().where(Tenant.id == handover.tenant).first() if handover else None
    if handover is None or tenant is None:
        return
    async with tenant_scope(operator_context(tenant, "handover-ready")):
        if handover.status != Status.IN_PROGRESS.value:
            return
        open_entries = (
            await scoped(HandoverItem)
            .count()
            .where(HandoverItem.handover == handover.id)
            .where(HandoverItem.blocking.eq(True))
            .where(HandoverItem.signed_off_at.is_null())
        )
        if not open_entries:
            await emit(
                "handover.ready",
                link=f"/handovers/{handover.id}",
                record=("handover", handover.id),
                params={"number": handover.number},
                key=f"handover.ready:{handover.id}",
            )


async def _write_off_approved(payload: dict[str, Any]) -> None:
    """Finance (or whoever the rule names) approved: the write-off is signed
    off as its requester decided it, if the handover still runs."""
    handover = await _locked(payload["handover_id"])
    item = await scoped(HandoverItem).get(payload["item_id"])
    if item.handover != handover.id:
        raise NotFound()
    _still_signable(handover)
    if item.signed_off_at is not None:
        raise AlreadySignedOff()
    await _sign(handover, item, "write_off", payload.get("note", ""), Party.FINANCE, UUID(payload["by"]))


approvals.register_action(WRITE_OFF, _write_off_approved)


async def _has_evidence(item_id: UUID) -> bool:
    return bool(
        await scoped(Document)
        .exists()
        .where(Document.attached_type == "handover_item")
        .where(Document.attached_id == item_id)
        .where(Document.withdrawn == False)  # noqa: E712
        .where(Document.current_version > 0)
    )


# ---------------------------------------------------------------- completion


async def complete_handover(handover_id: UUID | str, version: int) -> HandoverOut:
    """Every blocking entry signed off, then, in the request's one
    transaction: orders decided "transfer" move their open remainder to new
    orders of the incoming supplier (the originals cancelled, linked),
    orders decided "cancel_rest" are cancelled, material decided "transfer"
    goes on to the incoming supplier and "write_off" is scrapped; the
    outgoing supplier loses the transferred orders and their documents, the
    incoming one reads those documents. Nothing is deleted. Any failure
    rolls all of it back."""
    _require("handovers.manage")
    # Held first: a sign-off under way finishes before the entries are read,
    # and a second completion waits here, then conflicts on the version.
    handover = await _locked(handover_id)
    await _move(handover, version, Event.COMPLETE, completed_at=datetime.now(UTC), completed_by=current().user_id)
    entries = await (
        scoped(HandoverItem)
        .select(HandoverItem.blocking, HandoverItem.signed_off_at, HandoverItem.source, HandoverItem.decision, HandoverItem.record_id)
        .where(HandoverItem.handover == handover.id)
        .order_by(HandoverItem.position)
    )
    open_blocking = sum(1 for entry in entries if entry["blocking"] and entry["signed_off_at"] is None)
    if open_blocking:
        raise BlockingItemsOpen(count=open_blocking)
    if await _write_offs_waiting(handover):
        raise WaitingForApproval()
    reason = gettext("Handed over: %(number)s", number=handover.number)
    decided: dict[tuple[str, str], list[UUID]] = {}
    for entry in entries:
        if entry["record_id"] is not None and entry["decision"]:
            decided.setdefault((entry["source"], entry["decision"]), []).append(entry["record_id"])
    still_open = {
        row["id"]
        for row in await scoped(Order)
        .select(Order.id)
        .where(
            Order.id.is_in(
                [record_id for (source, _), ids in decided.items() if source == Source.ORDERS.value for record_id in ids] or [UUID(int=0)]
            )
        )
        .where(Order.status.is_in(HANDED_STATES))
    }
    transfer = [order for order in decided.get((Source.ORDERS.value, "transfer"), []) if order in still_open]
    cancel = [order for order in decided.get((Source.ORDERS.value, "cancel_rest"), []) if order in still_open]
    made = await orders.transfer_remainder(transfer, handover.to_supplier, reason)
    for order_id in cancel:
        await orders.fire(order_id, "cancel", reason)
    moved_ncrs = await ncrs.hand_over(decided.get((Source.NCRS.value, "transfer"), []), handover.to_supplier, made, reason)
    link_maker = scoped(HandoverLink)
    links = [
        link_maker.new(handover=handover.id, kind="order", original_id=order_id, new_id=made.get(order_id), supplier=handover.to_supplier)
        for order_id in transfer
    ]
    links += [link_maker.new(handover=handover.id, kind="order_cancelled", original_id=order_id) for order_id in cancel]
    links += [
        link_maker.new(handover=handover.id, kind="ncr", original_id=ncr_id, new_id=new_id, supplier=handover.to_supplier)
        for ncr_id, new_id in moved_ncrs.items()
    ]
    links += await _settle_materials(handover, decided, reason)
    for start in range(0, len(links), INSERT_BATCH):
        await HandoverLink.insert(*links[start : start + INSERT_BATCH])
    access_rows = await _move_access(handover, transfer)
    # One event for the whole move, naming each original and its new order.
    await record(
        "handover.transfer",
        entity_type="handover",
        entity_id=handover.id,
        after={
            "orders": {str(original): str(new) for original, new in made.items()},
            "transferred_without_remainder": [str(order_id) for order_id in transfer if order_id not in made],
            "cancelled": [str(order_id) for order_id in cancel],
            "ncrs": {str(original): str(new) for original, new in moved_ncrs.items()},
            "links": len(links),
            "access_rows": access_rows,
        },
    )
    await request_package(handover.id, handover.tenant)
    await _tell("handover.completed", handover)
    return await _to_out(handover)


async def _write_offs_waiting(handover: Handover) -> int:
    """Write-offs of this handover still waiting for approval (entries about
    material only: the one kind an approval holds)."""
    rows = (
        await scoped(HandoverItem)
        .select(HandoverItem.id)
        .where(HandoverItem.handover == handover.id)
        .where(HandoverItem.source == Source.MATERIALS.value)
        .where(HandoverItem.signed_off_at.is_null())
    )
    waiting = 0
    for row in rows:
        waiting += bool(await approvals.pending_for("handover_item", row["id"]))
    return waiting


async def _settle_materials(handover: Handover, decided: dict[tuple[str, str], list[UUID]], reason: str) -> list[HandoverLink]:
    links: list[HandoverLink] = []
    current_held = {row.item_id: Decimal(row.held) for row in await materials.balances(supplier_id=handover.from_supplier)}
    for decision, kind, onward in (("transfer", "return", True), ("write_off", "scrap", False)):
        for material in decided.get((Source.MATERIALS.value, decision), []):
            held = current_held.get(material, Decimal(0))
            if held <= 0:
                continue
            movement, dispatch = await materials.settle_balance(
                material, held, handover.from_supplier, kind, reason, to_supplier=handover.to_supplier if onward else None
            )
            links.append(
                scoped(HandoverLink).new(
                    handover=handover.id,
                    kind=f"material_{decision}",
                    original_id=material,
                    new_id=dispatch or movement,
                    supplier=handover.to_supplier if onward else None,
                )
            )
    return links


async def _move_access(handover: Handover, order_ids: list[UUID]) -> int:
    """The transferred orders, their lines and deliveries: revoked for the
    outgoing supplier, readable (their documents) for the incoming one.
    Written in batches of plain rows: a big handover moves thousands."""
    if not order_ids:
        return 0
    records: list[tuple[str, UUID]] = [("order", order_id) for order_id in order_ids]
    lines = await scoped(OrderLine).select(OrderLine.id).where(OrderLine.order.is_in(order_ids))
    records += [("order_line", row["id"]) for row in lines]
    deliveries = await scoped(Delivery).select(Delivery.id).where(Delivery.order.is_in(order_ids))
    records += [("delivery", row["id"]) for row in deliveries]
    tenant = current().tenant_id
    rows = [
        (uuid4(), tenant, handover.id, supplier, effect, kind, record_id)
        for kind, record_id in records
        for supplier, effect in ((handover.from_supplier, access.REVOKE), (handover.to_supplier, access.GRANT))
    ]
    hanging = await _hanging_off(order_ids, [record_id for kind, record_id in records if kind == "delivery"])
    rows += [(uuid4(), tenant, handover.id, handover.from_supplier, access.REVOKE, kind, record_id) for kind, record_id in hanging]
    for start in range(0, len(rows), INSERT_BATCH):
        batch = rows[start : start + INSERT_BATCH]
        values = ", ".join(["({}, {}, {}, {}, {}, {}, {})"] * len(batch))
        await HandoverAccess.raw(
            f"INSERT INTO handover_access (id, tenant, handover, supplier, effect, record_type, record_id) VALUES {values}",  # noqa: S608
            *(value for row in batch for value in row),
        )
    return len(rows)


async def _hanging_off(order_ids: list[UUID], delivery_ids: list[UUID]) -> list[tuple[str, UUID]]:
    """The records hanging off handed-over orders that carry documents of
    their own: progress reports (their photos), delivery lines (photos of
    rejected goods), NCRs and their steps (photos, evidence), dispatches
    against the orders, and the messages of the conversations on all of
    these (their files). Their rows follow the orders for the outgoing
    supplier already (``supplier_parents``); their documents name them,
    not the order, so they are revoked by name. The incoming supplier reads
    the work's own documents, not these."""
    found: list[tuple[str, UUID]] = []

    async def ids(kind: str, query: Any) -> list[UUID]:
        rows = [row["id"] for row in await query]
        found.extend((kind, row_id) for row_id in rows)
        return rows

    await ids("progress_report", scoped(ProgressReport).select(ProgressReport.id).where(ProgressReport.order.is_in(order_ids)))
    if delivery_ids:
        await ids("delivery_line", scoped(DeliveryLine).select(DeliveryLine.id).where(DeliveryLine.delivery.is_in(delivery_ids)))
    ncr_ids = await ids("ncr", scoped(Ncr).select(Ncr.id).where(Ncr.order.is_in(order_ids)))
    if ncr_ids:
        await ids("ncr_step", scoped(NcrStep).select(NcrStep.id).where(NcrStep.ncr.is_in(ncr_ids)))
    dispatch_ids = await ids("dispatch", scoped(Dispatch).select(Dispatch.id).where(Dispatch.order.is_in(order_ids)))
    talked_about = [*order_ids, *delivery_ids, *ncr_ids, *dispatch_ids]
    threads = scoped(Thread).select(Thread.id).where(Thread.record_id.is_in(talked_about))
    await ids("message", scoped(Message).select(Message.id).where(Message.thread.is_in(threads)))
    return found


# ---------------------------------------------------------------- evidence


async def item_attachment_supplier(item_id: UUID) -> UUID | None:
    """Evidence on an entry is shared like the entry: with the supplier that
    reads it, or the buyer's own. Only while the handover runs."""
    item = await scoped(HandoverItem).get(item_id)
    handover = await _visible(item.handover)
    if handover.status != Status.IN_PROGRESS.value:
        raise NotFound()
    supplier: UUID | None = item.supplier
    return supplier


async def item_ids_for_codes(codes: list[str]) -> list[UUID]:
    """The buyer's items by code (the page's form takes codes)."""
    if not codes:
        return []
    rows = await scoped(Item).select(Item.id, Item.code).where(Item.code.is_in(codes))
    found = {row["code"]: row["id"] for row in rows}
    missing = [code for code in codes if code not in found]
    if missing:
        raise InvalidHandover(fields={"item_codes": N_("No item has the code %(code)s.")}, code=missing[0])
    return [found[code] for code in codes]


async def signable_items(handover: HandoverOut) -> set[UUID]:
    """The entries the acting person may sign off now (the page shows their forms)."""
    context = current()
    if handover.status != Status.IN_PROGRESS.value:
        return set()
    from_supplier, to_supplier = handover.from_supplier_id, handover.to_supplier_id
    found = set()
    for item in handover.items:
        parties = {Party(item.party)} | {party for (source, _), party in DECISION_PARTY.items() if source == item.source}
        if (
            not item.done
            and not item.waiting_for_approval
            and any(may_sign(context, party, from_supplier=from_supplier, to_supplier=to_supplier) for party in parties)
        ):
            found.add(item.id)
    return found


def decision_labels() -> dict[str, str]:
    return {key: gettext(label) for key, label in DECISION_LABELS.items()}


def party_labels() -> dict[str, str]:
    return {party.value: gettext(label) for party, label in PARTY_LABELS.items()}


async def handover_attachment_supplier(handover_id: UUID) -> UUID | None:
    """Documents on the handover itself (its package) are the buyer's own."""
    await _visible(handover_id)
    return None


async def package_version(handover_id: UUID | str) -> DocumentVersion:
    """The stored package of a completed handover (the buyer's download);
    409 while the job has not built it yet."""
    _require("handovers.package")
    handover = await _visible(handover_id)
    if handover.package_document is None:
        raise PackageNotReady()
    return await version_row(handover.package_document)


register_attachment_target("handover_item", item_attachment_supplier, table=HandoverItem)
register_attachment_target("handover", handover_attachment_supplier, table=Handover, upload_action="handovers.manage")
