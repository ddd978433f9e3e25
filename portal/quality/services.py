"""Quality: each order's QC checklist and QA's review of documents.

The rules, in one place:

- A requirement names a document category an order needs (material
  certificate, inspection report, first-article photos, ...). Planners and
  QA add them to any order that is not closed or cancelled; one open
  requirement per category and order. They are waived with a reason, never
  deleted. A supplier sees them once the order is issued, like the order.
- Documents count for a requirement when they are attached to the order,
  one of its lines or one of its deliveries, in that category, and are not
  withdrawn.
- QA reviews a document's *current* version: approved, or rejected with a
  reason. A decision names the version it was made on; a version uploaded
  since then makes it stale (409), so QA never approves a file it did not
  see. A version is decided once: a second decision on it, contradictory
  or the same, sent after the first or at the same moment, is refused
  (409) and neither stored nor told to the supplier. What changes a
  decision is a new version, pending again until reviewed. Reviews are
  append-only: the decision on the current version is the state.
- A requirement asks for ``count`` documents of its category (one unless
  said otherwise) at a ``stage`` of the work (first article, in process,
  before delivery: when the supplier should send them). It is approved when
  that many of its documents are approved, pending when one waits for
  review, rejected when all that were sent were rejected, missing when too
  few were sent, and waived when QA or the planner waived it.
- Items carry QC templates (portal/quality/templates.py): issuing an order
  adds their requirements to its checklist, which stays editable.
- A rejection emails the supplier's people with QA's reason at once.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Iterable
from datetime import UTC, datetime
from typing import Any, Literal
from uuid import UUID

import msgspec

from portal.audit.services import record
from portal.configuration.services import category_keys, stored_label
from portal.deliveries.tables import Delivery
from portal.documents.tables import Document, DocumentVersion
from portal.errors import Conflict, DomainError, NotFound, PermissionDenied
from portal.i18n import N_
from portal.lengths import FreeText
from portal.orders import services as orders
from portal.orders.states import Status
from portal.orders.tables import Order, OrderLine
from portal.pagination import read_time_cursor, time_cursor
from portal.quality.tables import DocumentReview, QcRequirement
from tenants.context import TenantContext, current
from tenants.scoping import scoped
from tenants.services.members import user_names

APPROVED, REJECTED, PENDING = "approved", "rejected", "pending"
MISSING, WAIVED = "missing", "waived"
DECISIONS = (APPROVED, REJECTED)
REQUIREMENT_STATES = (MISSING, PENDING, REJECTED, APPROVED, WAIVED)
# The same states as a type, for the API's filter (validated and described there).
RequirementState = Literal["missing", "pending", "rejected", "approved", "waived"]
STATE_LABELS = {
    MISSING: N_("Missing"),
    PENDING: N_("Waiting for review"),
    REJECTED: N_("Rejected"),
    APPROVED: N_("Approved"),
    WAIVED: N_("Waived"),
}
# The supplier still owes these: nothing sent yet, or only rejected files.
OWED = frozenset({MISSING, REJECTED})
REASON_MIN, REASON_MAX = 3, 1000
NOTE_MAX = 500
MAX_COUNT = 50
# When in the work the supplier sends a requirement's documents.
FIRST_ARTICLE, IN_PROCESS, BEFORE_DELIVERY = "first_article", "in_process", "before_delivery"
STAGES = {
    FIRST_ARTICLE: N_("First article, before series production"),
    IN_PROCESS: N_("During production"),
    BEFORE_DELIVERY: N_("With the goods, before delivery"),
}
PAGE_SIZE = 50
# Orders on which the supplier is still expected to send documents.
WORKING_STATES = frozenset({Status.ISSUED, Status.ACCEPTED, Status.IN_PRODUCTION, Status.PARTIALLY_DELIVERED})
CLOSED_STATES = frozenset({Status.CLOSED, Status.CANCELLED})
ORDER_ATTACHMENTS = ("order", "order_line", "delivery")


# -- schemas --------------------------------------------------------------------


class RequirementIn(msgspec.Struct, frozen=True):
    category: str = ""
    note: FreeText = ""
    count: int = 1
    stage: str = BEFORE_DELIVERY


class WaiveIn(msgspec.Struct, frozen=True):
    reason: FreeText = ""


class ReviewIn(msgspec.Struct, frozen=True):
    """``version`` is the version QA looked at; left out, the current one."""

    decision: str = ""
    reason: FreeText = ""
    version: int | None = None


class QcDocumentOut(msgspec.Struct, frozen=True):
    id: UUID
    title: str
    category: str
    version: int
    review: str
    reason: str
    attached_type: str
    attached_id: UUID
    order_id: UUID


class RequirementOut(msgspec.Struct, frozen=True):
    id: UUID
    order_id: UUID
    order_number: str
    supplier_id: UUID
    category: str
    note: str
    state: str
    created_at: datetime
    documents: list[QcDocumentOut]
    waived_at: datetime | None = None
    waived_reason: str = ""
    count: int = 1
    stage: str = BEFORE_DELIVERY


class ReviewOut(msgspec.Struct, frozen=True):
    id: UUID
    document_id: UUID
    version: int
    decision: str
    reason: str
    reviewed_by: str
    reviewed_at: datetime


class QcTodo(msgspec.Struct, frozen=True):
    """What a supplier owes (requirements missing or rejected, and the
    rejected documents with QA's reasons), or what waits for QA."""

    requested: list[RequirementOut]
    rejected: list[QcDocumentOut]
    to_review: list[RequirementOut]


# -- errors ---------------------------------------------------------------------


class InvalidQc(DomainError):
    code = "invalid_qc"
    message = N_("Some fields are missing or not valid.")


class RequirementExists(Conflict):
    code = "qc_requirement_exists"
    message = N_("This order already requires that document.")


class OrderClosedForQc(Conflict):
    code = "order_closed"
    message = N_("The order is closed or cancelled; its QC checklist can no longer change.")


class AlreadyWaived(Conflict):
    code = "qc_requirement_waived"
    message = N_("This requirement has already been waived.")


class NothingToReview(Conflict):
    code = "nothing_to_review"
    message = N_("This document is withdrawn or has no file to review.")


class StaleVersion(Conflict):
    code = "stale_version"
    message = N_("A newer version (%(current)s) was uploaded since you opened this one. Review the newest version.")


class OwnUpload(DomainError):
    status_code = 403
    code = "own_upload"
    message = N_("Someone else approves a file you uploaded yourself.")


class AlreadyReviewed(Conflict):
    code = "already_reviewed"
    message = N_("Version %(version)s of this document has already been reviewed. Reload the page to see the decision.")


# -- rules ----------------------------------------------------------------------


def requirement_state(waived: bool, reviews: Iterable[str], count: int = 1) -> str:
    """The state of a requirement from the review states of its documents:
    ``count`` approved ones satisfy it; short of that, one waiting for
    review makes it pending, and only rejected ones make it rejected."""
    if waived:
        return WAIVED
    states = list(reviews)
    if states.count(APPROVED) >= max(count, 1):
        return APPROVED
    if PENDING in states:
        return PENDING
    if states and all(state == REJECTED for state in states):
        return REJECTED
    return MISSING


def _require(action: str) -> TenantContext:
    context = current()
    if not context.can(action):
        raise PermissionDenied()
    return context


def _reason(value: str, field: str = "reason") -> str:
    text = value.strip()
    if not REASON_MIN <= len(text) <= REASON_MAX:
        raise InvalidQc(fields={field: N_("Give a reason of 3 to 1000 characters.")})
    return text


async def _reviews(documents: list[dict[str, Any]]) -> dict[UUID, tuple[str, str]]:
    """Review state and reason of each document's current version."""
    if not documents:
        return {}
    current_version = {row["id"]: row["current_version"] for row in documents}
    rows = (
        await scoped(DocumentReview)
        .select(DocumentReview.document, DocumentReview.version, DocumentReview.decision, DocumentReview.reason)
        .where(DocumentReview.document.is_in(list(current_version)))
        .order_by(DocumentReview.reviewed_at)
    )
    states = {document: (PENDING, "") for document in current_version}
    for row in rows:
        if row["version"] == current_version[row["document"]]:
            states[row["document"]] = (row["decision"], row["reason"])
    return states


def _document_out(row: dict[str, Any], state: tuple[str, str], order_id: UUID) -> QcDocumentOut:
    return QcDocumentOut(
        id=row["id"],
        title=row["title"],
        category=row["category"],
        version=row["current_version"],
        review=state[0],
        reason=state[1],
        attached_type=row["attached_type"],
        attached_id=row["attached_id"],
        order_id=order_id,
    )


_DOCUMENT_COLUMNS = (
    Document.id,
    Document.title,
    Document.category,
    Document.current_version,
    Document.attached_type,
    Document.attached_id,
    # For ``Scoped.readable``: whose it is decides whether the record rule applies.
    Document.supplier,
)


async def _order_documents(order_ids: list[UUID]) -> dict[UUID, list[QcDocumentOut]]:
    """The live documents on each order, its lines and its deliveries."""
    if not order_ids:
        return {}
    owner: dict[UUID, UUID] = {order_id: order_id for order_id in order_ids}
    for row in await scoped(OrderLine).select(OrderLine.id, OrderLine.order).where(OrderLine.order.is_in(order_ids)):
        owner[row["id"]] = row["order"]
    for row in await scoped(Delivery).select(Delivery.id, Delivery.order).where(Delivery.order.is_in(order_ids)):
        owner[row["id"]] = row["order"]
    rows = (
        await scoped(Document)
        .select(*_DOCUMENT_COLUMNS)
        .where(Document.attached_type.is_in(list(ORDER_ATTACHMENTS)))
        .where(Document.attached_id.is_in(list(owner)))
        .where(Document.withdrawn.eq(False))
        .where(Document.current_version > 0)
        .order_by(Document.created_at)
    )
    # Each document follows the record it is attached to, not its own supplier field.
    rows = await scoped(Document).readable(list(rows))
    states = await _reviews(rows)
    found: dict[UUID, list[QcDocumentOut]] = defaultdict(list)
    for row in rows:
        order_id = owner[row["attached_id"]]
        found[order_id].append(_document_out(row, states[row["id"]], order_id))
    return found


_REQUIREMENT_COLUMNS = (
    QcRequirement.id,
    QcRequirement.order,
    QcRequirement.order.number,
    QcRequirement.supplier,
    QcRequirement.category,
    QcRequirement.note,
    QcRequirement.needed,
    QcRequirement.stage,
    QcRequirement.created_at,
    QcRequirement.waived_at,
    QcRequirement.waived_reason,
)


def _requirements(context: TenantContext) -> Any:
    query = scoped(QcRequirement).select(*_REQUIREMENT_COLUMNS)
    if context.is_supplier:
        # A draft is the buyer's own, and so is its checklist.
        query = query.where(QcRequirement.order.status != Status.DRAFT.value)
    return query


async def _with_states(rows: list[dict[str, Any]], documents: dict[UUID, list[QcDocumentOut]] | None = None) -> list[RequirementOut]:
    if documents is None:
        documents = await _order_documents(list({row["order"] for row in rows}))
    result = []
    for row in rows:
        matching = [document for document in documents.get(row["order"], []) if document.category == row["category"]]
        result.append(
            RequirementOut(
                id=row["id"],
                order_id=row["order"],
                order_number=row["order.number"],
                supplier_id=row["supplier"],
                category=row["category"],
                note=row["note"],
                state=requirement_state(row["waived_at"] is not None, (document.review for document in matching), row["needed"]),
                created_at=row["created_at"],
                documents=matching,
                waived_at=row["waived_at"],
                waived_reason=row["waived_reason"],
                count=row["needed"],
                stage=row["stage"],
            )
        )
    return result


# -- requirements ---------------------------------------------------------------


async def order_checklist(order_id: UUID | str) -> list[RequirementOut]:
    """The order's QC checklist, oldest requirement first. A supplier user
    sees it once the order is issued; before, the order does not exist for it."""
    context = _require("quality.view")
    order = await orders.visible_order(order_id)
    rows = await _requirements(context).where(QcRequirement.order == order.id).order_by(QcRequirement.created_at)
    return await _with_states(rows)


async def add_requirement(order_id: UUID | str, data: RequirementIn) -> RequirementOut:
    """Require a document category on an order that is still open."""
    context = _require("quality.require")
    order = await orders.visible_order(order_id)
    if Status(order.status) in CLOSED_STATES:
        raise OrderClosedForQc()
    note = check_requirement(data, await category_keys())
    duplicate = (
        await scoped(QcRequirement)
        .exists()
        .where(QcRequirement.order == order.id)
        .where(QcRequirement.category == data.category)
        .where(QcRequirement.waived_at.is_null())
    )
    if duplicate:
        raise RequirementExists()
    requirement = await save_requirement(order, data.category, note, data.count, data.stage, context)
    return await get_requirement(requirement.id)


def check_requirement(data: RequirementIn, categories: Collection[str]) -> str:
    """Category (one of the tenant's ``categories`` switched on), count and
    stage of a requirement (or a template); returns the cleaned note."""
    problems: dict[str, str] = {}
    if data.category not in categories:
        problems["category"] = N_("Choose a category.")
    note = data.note.strip()
    if len(note) > NOTE_MAX:
        problems["note"] = N_("At most 500 characters.")
    if not 1 <= data.count <= MAX_COUNT:
        problems["count"] = N_("Between 1 and 50 documents.")
    if data.stage not in STAGES:
        problems["stage"] = N_("Choose when the supplier sends it.")
    if problems:
        raise InvalidQc(fields=problems)
    return note


async def save_requirement(order: Order, category: str, note: str, count: int, stage: str, context: TenantContext) -> QcRequirement:
    requirement = scoped(QcRequirement).new(
        supplier=order.supplier, order=order.id, category=category, note=note, needed=count, stage=stage, created_by=context.user_id
    )
    await requirement.save()
    await record(
        "qc_requirement.add",
        entity_type="order",
        entity_id=order.id,
        after={"requirement": str(requirement.id), "category": category, "note": note, "count": count, "stage": stage},
    )
    if Status(order.status) in WORKING_STATES:
        await orders.tell("qc.requested", order, category=await stored_label(category))
    return requirement


async def get_requirement(requirement_id: UUID | str) -> RequirementOut:
    context = _require("quality.view")
    try:
        key = UUID(str(requirement_id))
    except ValueError:
        raise NotFound() from None
    rows = await _requirements(context).where(QcRequirement.id == key)
    if not rows:
        raise NotFound()
    return (await _with_states(rows))[0]


async def waive_requirement(requirement_id: UUID | str, data: WaiveIn) -> RequirementOut:
    """Waive a requirement, once, with a reason; it stays on the checklist."""
    context = _require("quality.require")
    requirement = await scoped(QcRequirement).get(requirement_id)
    if requirement.waived_at is not None:
        raise AlreadyWaived()
    order = await orders.visible_order(requirement.order)
    if Status(order.status) in CLOSED_STATES:
        raise OrderClosedForQc()
    reason = _reason(data.reason)
    # Only while still unwaived: of two waivers at once, the second finds
    # the first one's and is refused instead of replacing its reason.
    waived = await (
        scoped(QcRequirement)
        .update({QcRequirement.waived_at: datetime.now(UTC), QcRequirement.waived_by: context.user_id, QcRequirement.waived_reason: reason})
        .where(QcRequirement.id == requirement.id)
        .where(QcRequirement.waived_at.is_null())
        .returning(QcRequirement.id)
    )
    if not waived:
        raise AlreadyWaived()
    await record(
        "qc_requirement.waive",
        entity_type="order",
        entity_id=order.id,
        after={"requirement": str(requirement.id), "category": requirement.category, "reason": reason},
    )
    return await get_requirement(requirement.id)


async def list_requirements(
    *, state: str | None = None, order_id: UUID | None = None, cursor: str | None = None
) -> tuple[list[RequirementOut], str | None]:
    """Requirements the actor may see, newest first, optionally only those
    in one state; ``next`` is the cursor of the next page."""
    context = _require("quality.view")
    if state is not None and state not in REQUIREMENT_STATES:
        raise InvalidQc(fields={"state": N_("This value is missing or not valid.")})
    query = _requirements(context)
    if order_id is not None:
        query = query.where(QcRequirement.order == order_id)
    if cursor:
        at, key = read_time_cursor(cursor)
        query = query.where((QcRequirement.created_at < at) | ((QcRequirement.created_at == at) & (QcRequirement.id < key)))
    rows = list(await query.order_by(QcRequirement.created_at, QcRequirement.id, ascending=False).limit(PAGE_SIZE + 1))
    next_cursor = time_cursor(rows[PAGE_SIZE - 1]["created_at"], rows[PAGE_SIZE - 1]["id"]) if len(rows) > PAGE_SIZE else None
    items = await _with_states(rows[:PAGE_SIZE])
    return [item for item in items if state is None or item.state == state], next_cursor


# -- reviews --------------------------------------------------------------------


async def review_document(document_id: UUID | str, data: ReviewIn) -> ReviewOut:
    """Approve or reject (with a reason) the document's current version, if
    nobody decided on that version yet. The same decision sent again is
    refused too, as a second decision on an approval request or an NCR
    step is: the first answer already said it was stored."""
    context = _require("quality.review")
    # Held: a version uploaded, a withdrawal or another decision meanwhile
    # is read before deciding, never decided past.
    document = await scoped(Document).get(document_id, hold=True)
    if document.withdrawn or document.current_version < 1:
        raise NothingToReview()
    if data.decision not in DECISIONS:
        raise InvalidQc(fields={"decision": N_("Choose approve or reject.")})
    if data.version is not None and data.version != document.current_version:
        raise StaleVersion(current=document.current_version)
    decided = (
        await scoped(DocumentReview)
        .exists()
        .where(DocumentReview.document == document.id)
        .where(DocumentReview.version == document.current_version)
    )
    if decided:
        raise AlreadyReviewed(version=document.current_version)
    if data.decision != REJECTED:
        uploaded = (
            await scoped(DocumentVersion)
            .select(DocumentVersion.uploaded_by)
            .where(DocumentVersion.document == document.id)
            .where(DocumentVersion.version == document.current_version)
            .first()
        )
        # Four eyes: a file QA (or an admin) uploaded itself is evidence
        # only once someone else approves it.
        if uploaded is not None and uploaded["uploaded_by"] == context.user_id:
            raise OwnUpload()
    reason = _reason(data.reason) if data.decision == REJECTED else data.reason.strip()
    if len(reason) > REASON_MAX:
        raise InvalidQc(fields={"reason": N_("Give a reason of 3 to 1000 characters.")})
    review = scoped(DocumentReview).new(
        supplier=document.supplier,
        document=document.id,
        version=document.current_version,
        decision=data.decision,
        reason=reason,
        reviewed_by=context.user_id,
    )
    await review.save()
    await record(
        "document.review",
        entity_type="document",
        entity_id=document.id,
        after={"version": document.current_version, "decision": data.decision, "reason": reason},
    )
    await _tell_supplier(document, data.decision, reason)
    return (await list_reviews(document.id))[0]


async def _tell_supplier(document: Document, decision: str, reason: str) -> None:
    order_id = await _order_of(document)
    if order_id is None:
        return
    order = await scoped(Order).get(order_id)
    if Status(order.status) in WORKING_STATES:
        kind = "qc.rejected" if decision == REJECTED else "qc.approved"
        await orders.tell(kind, order, document=document.title, reason=reason)


async def _order_of(document: Document) -> UUID | None:
    table: Any = {"order": Order, "order_line": OrderLine, "delivery": Delivery}.get(document.attached_type)
    if table is None:
        return None
    if table is Order:
        return document.attached_id
    row = await scoped(table).select(table.order).where(table.id == document.attached_id).first()
    return row["order"] if row else None


async def list_reviews(document_id: UUID | str) -> list[ReviewOut]:
    """Every decision on the document, newest first."""
    _require("quality.view")
    document = await scoped(Document).get(document_id)
    rows = (
        await scoped(DocumentReview)
        .select(
            DocumentReview.id,
            DocumentReview.version,
            DocumentReview.decision,
            DocumentReview.reason,
            DocumentReview.reviewed_by,
            DocumentReview.reviewed_at,
        )
        .where(DocumentReview.document == document.id)
        .order_by(DocumentReview.reviewed_at, ascending=False)
    )
    names = await user_names({row["reviewed_by"] for row in rows if row["reviewed_by"]})
    return [
        ReviewOut(
            id=row["id"],
            document_id=document.id,
            version=row["version"],
            decision=row["decision"],
            reason=row["reason"],
            reviewed_by=names.get(row["reviewed_by"], ""),
            reviewed_at=row["reviewed_at"],
        )
        for row in rows
    ]


async def review_state(document_id: UUID | str) -> tuple[str, str]:
    """(state, reason) of the document's current version."""
    document = await scoped(Document).get(document_id)
    row = {"id": document.id, "current_version": document.current_version}
    return (await _reviews([row]))[document.id]


# -- what needs whom now --------------------------------------------------------


async def qc_todo() -> QcTodo:
    """For a supplier: requirements it still owes on orders it works on, and
    its rejected documents. For the buyer's people: requirements whose
    documents wait for QA's review. Every one of them: a requirement's
    state comes from its documents, so it cannot be a condition of the
    query, and a cap before that filter dropped the ones behind it (the
    orders in work bound the list)."""
    context = _require("quality.view")
    working = [state.value for state in WORKING_STATES]
    rows = (
        await _requirements(context)
        .where(QcRequirement.order.status.is_in(working))
        .where(QcRequirement.waived_at.is_null())
        .order_by(QcRequirement.created_at)
    )
    if context.is_supplier:
        # Every rejected file on the orders it works on, required or not:
        # QA may reject any document, and the supplier was emailed about it.
        order_ids = [row["id"] for row in await scoped(Order).select(Order.id).where(Order.status.is_in(working))]
        documents = await _order_documents(order_ids)
        requirements = await _with_states(rows, documents)
        requested = [item for item in requirements if item.state in OWED]
        # A rejected file that answers a listed requirement is shown on that
        # requirement's row: listing it again would count one problem twice.
        listed = {document.id for item in requested for document in item.documents}
        rejected = [
            document for found in documents.values() for document in found if document.review == REJECTED and document.id not in listed
        ]
        return QcTodo(requested=requested, rejected=rejected, to_review=[])
    # Buyers who do not review see what waits for QA too (the board's count).
    requirements = await _with_states(rows)
    return QcTodo(requested=[], rejected=[], to_review=[item for item in requirements if item.state == PENDING])
