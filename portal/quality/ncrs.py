"""Nonconformances (NCRs): opened from a rejection, run step by step to
closure, with what becomes of the goods.

The rules, in one place (the transitions themselves are the table in
portal/quality/ncr_states.py):

- QA opens an NCR from a rejected delivery line, from a rejected QC document
  or directly for a supplier (optionally naming an order line). It starts as
  QA's draft: a number per tenant, a severity, the affected lots and
  quantity, a description, photos attached to it (the documents intake,
  attached type ``ncr``), and QA as its owner. Opened from a record, the
  supplier, order, lots and quantity come from that record.
- Issuing it shares it (and its photos) with the supplier and starts the
  steps' clocks: each step is due a number of days after issue (the
  tenant's own days, else containment 1, root cause 7, corrective action
  14, verification 30), or on a date QA chose that is not in the past and
  not before the previous step's.
- The supplier answers the step the NCR stands at, with text and evidence
  documents it attached to the step (attached type ``ncr_step``); until QA
  decides it may answer again. QA accepts the answer (the next step starts)
  or returns it with a comment. Accepting the verification step verifies
  the NCR, and only a verified NCR can be closed.
- Every transition names the version it was decided on (or the one just
  read): a decision on an older version is refused, so of two QA deciding
  the same step at once one wins and the other gets a conflict.
- Dispositions say what becomes of the goods (rework, return, scrap, use as
  is under a concession) with a quantity (together at most the NCR's, also
  when two are recorded at the same moment) and whether the supplier is
  charged (an amount): ``chargeable_dispositions`` is what the statements
  turn into deductions. A concession (use as is) waits for approval when
  the tenant has an ``ncr.concession`` rule (portal/approvals): approving
  it records the disposition.
- QA hands an open NCR to another owner: a member who may manage NCRs (QA
  or an admin); audited, and the new and the former owner are told.
- Overdue steps: a reminder a day before the due date, an escalation to QA
  and the supplier's admin once it passed (``check_steps``, a periodic job).
- Every transition is audited and told through the notifications.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from itertools import pairwise
from typing import Annotated, Any, Literal
from uuid import UUID
from zoneinfo import ZoneInfo

import msgspec

from portal.approvals import services as approvals
from portal.audit.services import record
from portal.conversations.services import share_thread_files
from portal.days import local_minutes, utc_at
from portal.deliveries.tables import Delivery, DeliveryLine
from portal.documents.attachments import register_attachment_target
from portal.documents.services import share_attached
from portal.documents.tables import Document
from portal.errors import Conflict, DomainError, NotFound, PermissionDenied
from portal.i18n import N_, gettext
from portal.lengths import TOO_LONG, FreeText, most
from portal.notifications.services import emit
from portal.orders.states import SHARED_STATES as ORDER_SHARED_STATES
from portal.orders.tables import Order, OrderLine
from portal.pagination import read_time_cursor, time_cursor
from portal.quality import services as quality
from portal.quality.ncr_states import (
    DEFAULT_DAYS,
    OPEN_STATES,
    STEPS,
    Event,
    Status,
    StepState,
    next_state,
)
from portal.quality.tables import Ncr, NcrCounter, NcrDisposition, NcrEntry, NcrStep, NcrStepDays
from tenants.context import TenantContext, current, operator_context, system_scope, tenant_scope
from tenants.roles import POLICY
from tenants.scoping import scoped, supplier_reads
from tenants.services.members import user_names
from tenants.tables import Membership, Supplier, Tenant

PAGE_SIZE = 50
TITLE_MIN, TITLE_MAX = 3, 200
TEXT_MIN, TEXT_MAX = 3, 4000
MAX_LOTS, LOT_MAX = 20, 60
MAX_DAYS = 365
QUANTUM = Decimal("0.000001")
MONEY_QUANTUM = Decimal("0.0001")
# A reminder goes out this long before a step is due.
REMIND_BEFORE = timedelta(hours=24)

SEVERITIES = {"minor": N_("Minor"), "major": N_("Major"), "critical": N_("Critical")}
Severity = Literal["minor", "major", "critical"]
DISPOSITIONS = {
    "rework": N_("Rework"),
    "return": N_("Return to the supplier"),
    "scrap": N_("Scrap"),
    "use_as_is": N_("Use as is (concession)"),
}
DispositionKind = Literal["rework", "return", "scrap", "use_as_is"]
SOURCES = {
    "delivery_line": N_("Rejected delivery line"),
    "document": N_("Rejected QC document"),
    "direct": N_("Opened by QA"),
    "handover": N_("Taken over from the previous supplier"),
}
StatusFilter = Literal["draft", "containment", "root_cause", "corrective_action", "verification", "verified", "closed", "cancelled", "open"]


# -- schemas --------------------------------------------------------------------


class NcrIn(msgspec.Struct, frozen=True):
    """Give one source: ``delivery_line_id`` (a rejected line), ``document_id``
    (a rejected QC document), ``order_line_id`` or just ``supplier_id``."""

    title: Annotated[str, most(Ncr.title)] = ""
    description: FreeText = ""
    severity: str = "minor"
    supplier_id: UUID | None = None
    order_line_id: UUID | None = None
    delivery_line_id: UUID | None = None
    document_id: UUID | None = None
    lots: list[str] | None = None
    quantity: str | None = None


class IssueIn(msgspec.Struct, frozen=True):
    """``due_dates`` maps steps to dates (tenant's calendar) replacing the
    default days; none may be in the past or before the previous step's."""

    version: int | None = None
    due_dates: dict[str, date] = {}


class AnswerIn(msgspec.Struct, frozen=True):
    """``client_id``: made by the device when the answer was written
    (maybe offline); sending it again stores nothing twice."""

    text: FreeText = ""
    version: int | None = None
    client_id: UUID | None = None


class DecisionIn(msgspec.Struct, frozen=True):
    comment: FreeText = ""
    version: int | None = None


class DispositionIn(msgspec.Struct, frozen=True):
    kind: str = ""
    quantity: str = ""
    chargeable: bool = False
    amount: str = "0"
    note: FreeText = ""


class OwnerIn(msgspec.Struct, frozen=True):
    owner_id: UUID | None = None


class OwnerChoice(msgspec.Struct, frozen=True):
    id: UUID  # the user's
    name: str


class ConcessionHeld(msgspec.Struct, frozen=True):
    """A concession that waits for the approver the tenant's rule names;
    approving it records the disposition."""

    approval_id: UUID
    ncr_id: UUID
    kind: str
    status: str = "awaiting_approval"


class StepDaysIn(msgspec.Struct, frozen=True):
    containment: int = DEFAULT_DAYS[Status.CONTAINMENT]
    root_cause: int = DEFAULT_DAYS[Status.ROOT_CAUSE]
    corrective_action: int = DEFAULT_DAYS[Status.CORRECTIVE_ACTION]
    verification: int = DEFAULT_DAYS[Status.VERIFICATION]


class StepDaysOut(msgspec.Struct, frozen=True):
    containment: int
    root_cause: int
    corrective_action: int
    verification: int


class NcrStepOut(msgspec.Struct, frozen=True):
    id: UUID
    step: str
    position: int
    state: str  # pending (not reached), waiting, answered, accepted; cancelled NCRs keep theirs
    due_at: datetime
    overdue: bool
    started_at: datetime | None
    answered_at: datetime | None
    accepted_at: datetime | None


class NcrEntryOut(msgspec.Struct, frozen=True):
    id: UUID
    step_id: UUID | None
    step: str
    kind: str
    text: str
    document_ids: list[UUID]
    by: str
    at: datetime


class DispositionOut(msgspec.Struct, frozen=True):
    id: UUID
    ncr_id: UUID
    ncr_number: str
    supplier_id: UUID
    kind: str
    quantity: Decimal
    chargeable: bool
    amount: Decimal
    note: str
    created_at: datetime


class NcrRow(msgspec.Struct, frozen=True):
    id: UUID
    number: str
    status: str
    step_state: str | None
    supplier_id: UUID
    supplier_name: str
    severity: str
    title: str
    source: str
    order_id: UUID | None
    order_number: str
    order_line_id: UUID | None
    delivery_line_id: UUID | None
    document_id: UUID | None
    lots: list[str]
    quantity: Decimal | None
    version: int
    created_at: datetime
    issued_at: datetime | None
    closed_at: datetime | None
    due_at: datetime | None  # of the current step
    overdue: bool


class NcrOut(msgspec.Struct, frozen=True):
    id: UUID
    number: str
    status: str
    step_state: str | None
    supplier_id: UUID
    supplier_name: str
    severity: str
    title: str
    description: str
    source: str
    order_id: UUID | None
    order_number: str
    order_line_id: UUID | None
    delivery_id: UUID | None
    delivery_line_id: UUID | None
    document_id: UUID | None
    lots: list[str]
    quantity: Decimal | None
    owner: str
    owner_id: UUID | None
    version: int
    created_at: datetime
    issued_at: datetime | None
    verified_at: datetime | None
    closed_at: datetime | None
    cancelled_at: datetime | None
    cancel_reason: str
    steps: list[NcrStepOut]
    entries: list[NcrEntryOut]
    dispositions: list[DispositionOut]
    # Approval kinds waiting on this NCR (a concession); empty for suppliers.
    awaiting_approval: list[str] = msgspec.field(default_factory=list)


class ChargeableDisposition(msgspec.Struct, frozen=True):
    """One deduction for the statements: what, how much, from which NCR."""

    id: UUID
    ncr_id: UUID
    ncr_number: str
    supplier_id: UUID
    order_id: UUID | None
    kind: str
    quantity: Decimal
    amount: Decimal
    note: str
    created_at: datetime


# -- errors ---------------------------------------------------------------------


class InvalidNcr(DomainError):
    code = "invalid_ncr"
    message = N_("Some fields are missing or not valid.")


class NcrChanged(Conflict):
    code = "ncr_changed"
    message = N_("Someone changed this NCR since you opened it (it is now at version %(version)s). Reload it and decide again.")


class StepNotCurrent(Conflict):
    code = "ncr_step_out_of_order"
    message = N_("This NCR is at the step “%(current)s”: that step comes first.")


class StepAlreadyAccepted(Conflict):
    code = "ncr_step_accepted"
    message = N_("This step was already accepted.")


class NcrClosed(Conflict):
    code = "ncr_closed"
    message = N_("This NCR is closed or cancelled; it can no longer change.")


class TooMuchDisposed(Conflict):
    code = "ncr_quantity_exceeded"
    message = N_("Dispositions would cover %(total)s, more than the %(quantity)s the NCR names.")


# -- helpers --------------------------------------------------------------------


def _require(action: str) -> TenantContext:
    context = current()
    if not context.can(action):
        raise PermissionDenied()
    return context


def _now(now: datetime | None) -> datetime:
    return now or datetime.now(UTC)


def _optional_text(value: str, field: str) -> str:
    """A comment that may be left empty, refused (never cut) when too long."""
    text = value.strip()
    if len(text) > TEXT_MAX:
        raise InvalidNcr(fields={field: TOO_LONG}, max=TEXT_MAX)
    return text


def _text(value: str, field: str) -> str:
    text = value.strip()
    if not TEXT_MIN <= len(text) <= TEXT_MAX:
        raise InvalidNcr(fields={field: N_("Write 3 to 4000 characters.")})
    return text


def _decimal(value: str | None, field: str, quantum: Decimal = QUANTUM) -> Decimal | None:
    text = (value or "").strip().replace(",", ".")
    if not text:
        return None
    try:
        number = Decimal(text)
    except ArithmeticError:
        raise InvalidNcr(fields={field: N_("Enter a number.")}) from None
    if not number.is_finite() or number < 0 or number >= Decimal(10) ** 12:
        raise InvalidNcr(fields={field: N_("Enter a number that is not negative.")})
    if number != number.quantize(quantum):
        raise InvalidNcr(fields={field: N_("Too many decimals.")})
    return number


def _lots(values: Iterable[str]) -> list[str]:
    lots: list[str] = []
    for value in values:
        lot = value.strip()
        if lot and lot not in lots:
            lots.append(lot)
    if len(lots) > MAX_LOTS or any(len(lot) > LOT_MAX for lot in lots):
        raise InvalidNcr(fields={"lots": N_("At most 20 lots of 60 characters each.")})
    return lots


async def _next_number(tenant_id: UUID, year: int) -> str:
    # The UPDATE locks the tenant's counter row until the transaction ends,
    # so two QA opening NCRs at once get consecutive numbers.
    advance = "UPDATE ncr_counter SET last = last + 1 WHERE tenant = {} AND year = {} RETURNING last"
    rows = await NcrCounter.raw(advance, tenant_id, year)
    if not rows:
        await NcrCounter.raw(
            "INSERT INTO ncr_counter (tenant, year, last) VALUES ({}, {}, 0) ON CONFLICT (tenant, year) DO NOTHING", tenant_id, year
        )
        rows = await NcrCounter.raw(advance, tenant_id, year)
    return f"NCR-{year}-{int(rows[0]['last']):05d}"


async def _visible(ncr_id: UUID | str, *, hold: bool = False) -> Ncr:
    """The NCR as the actor may see it: a supplier user sees its own issued
    ones only (the scoping layer and, on PostgreSQL, row-level security).
    ``hold``: until the transaction ends (``Scoped.get``)."""
    return await scoped(Ncr).get(ncr_id, hold=hold)


async def _step_of(ncr: Ncr, step_id: UUID | str) -> NcrStep:
    try:
        key = step_id if isinstance(step_id, UUID) else UUID(str(step_id))
    except ValueError:
        raise NotFound() from None
    step = await scoped(NcrStep).objects().where(NcrStep.id == key).where(NcrStep.ncr == ncr.id).first()
    if step is None:
        raise NotFound()
    return step  # type: ignore[no-any-return]


async def _tell(kind: str, ncr: Ncr, *, users: list[UUID] | None = None, **params: Any) -> None:
    supplier = await Supplier.select(Supplier.name).where(Supplier.id == ncr.supplier).first()
    values = {"number": ncr.number, "title": ncr.title, "buyer": current().tenant_name, "supplier": supplier["name"] if supplier else ""}
    await emit(kind, link=f"/ncrs/{ncr.id}", supplier=ncr.supplier, record=("ncr", ncr.id), params={**values, **params}, users=users)


async def _move(ncr: Ncr, event: Event, version: int | None, now: datetime, **values: Any) -> Ncr:
    """Fire ``event`` on ``ncr``: the table decides the next state, and the
    row changes only if nobody moved it since ``version`` (or since it was
    read), so of two decisions at once one wins and the other is refused."""
    if version is not None and version != ncr.version:
        raise NcrChanged(version=ncr.version)
    status, step_state = next_state(Status(ncr.status), StepState(ncr.step_state) if ncr.step_state else None, event)
    changes = {
        Ncr.status: status.value,
        Ncr.step_state: step_state.value if step_state else None,
        Ncr.version: ncr.version + 1,
        Ncr.updated_at: now,
        **{getattr(Ncr, name): value for name, value in values.items()},
    }
    moved = await scoped(Ncr).update(changes).where(Ncr.id == ncr.id).where(Ncr.version == ncr.version).returning(Ncr.id)
    if not moved:
        latest = await scoped(Ncr).select(Ncr.version).where(Ncr.id == ncr.id).first()
        raise NcrChanged(version=latest["version"] if latest else ncr.version)
    if status in (Status.CLOSED, Status.CANCELLED):
        await approvals.withdraw("ncr", [ncr.id], approvals.RECORD_ENDED)
    await record(
        f"ncr.{event.value}",
        entity_type="ncr",
        entity_id=ncr.id,
        before={"status": ncr.status, "step_state": ncr.step_state, "version": ncr.version},
        after={
            "status": status.value,
            "step_state": step_state.value if step_state else None,
            "version": ncr.version + 1,
            **_plain(values),
        },
    )
    return await _visible(ncr.id)


def _plain(values: dict[str, Any]) -> dict[str, Any]:
    return {name: value.isoformat() if isinstance(value, datetime) else value for name, value in values.items()}


async def _entry(
    ncr: Ncr, step: NcrStep | None, kind: str, text: str, documents: list[UUID] | None = None, client_id: UUID | None = None
) -> None:
    await (
        scoped(NcrEntry)
        .new(
            supplier=ncr.supplier,
            ncr=ncr.id,
            step=step.id if step else None,
            kind=kind,
            text=text,
            documents=[str(document) for document in documents or []],
            client_id=client_id,
            created_by=current().user_id,
        )
        .save()
    )


# -- settings -------------------------------------------------------------------


async def step_days() -> dict[Status, int]:
    """Days from issue to each step's due date: the tenant's, else the defaults."""
    days = dict(DEFAULT_DAYS)
    for row in await scoped(NcrStepDays).select(NcrStepDays.step, NcrStepDays.days):
        if row["step"] in DEFAULT_DAYS:
            days[Status(row["step"])] = row["days"]
    return days


def _days_out(days: dict[Status, int]) -> StepDaysOut:
    return StepDaysOut(**{step.value: days[step] for step in STEPS})


async def get_step_days() -> StepDaysOut:
    _require("ncrs.view")
    return _days_out(await step_days())


async def set_step_days(data: StepDaysIn) -> StepDaysOut:
    """The tenant admin's days per step: 1 to 365 each, no step due before
    the one it follows. NCRs already issued keep their due dates."""
    context = _require("ncrs.configure")
    wanted = {step: getattr(data, step.value) for step in STEPS}
    problems = {step.value: N_("Between 1 and 365 days.") for step, days in wanted.items() if not 1 <= days <= MAX_DAYS}
    for earlier, later in pairwise(STEPS):
        if later.value not in problems and earlier.value not in problems and wanted[later] < wanted[earlier]:
            problems[later.value] = N_("A step cannot be due before the step it follows.")
    if problems:
        raise InvalidNcr(fields=problems)
    before = await step_days()
    await scoped(NcrStepDays).delete().where(NcrStepDays.step.is_in([step.value for step in STEPS]))
    for step, days in wanted.items():
        # Saved twice at once (a double tap): both deleted nothing the other
        # had stored yet; the second insert waits for the first to commit
        # and sets the same days.
        await NcrStepDays.insert(scoped(NcrStepDays).new(step=step.value, days=days)).on_conflict(
            target=(NcrStepDays.tenant, NcrStepDays.step), action="DO UPDATE", values=[NcrStepDays.days]
        )
    await record(
        "ncr.step_days",
        entity_type="tenant",
        entity_id=context.tenant_id,
        before={step.value: days for step, days in before.items()},
        after={step.value: days for step, days in wanted.items()},
    )
    return _days_out(wanted)


# -- reading --------------------------------------------------------------------


def _step_state(ncr_status: str, ncr_step_state: str | None, step: dict[str, Any]) -> str:
    if step["accepted_at"] is not None:
        return "accepted"
    if step["step"] == ncr_status:
        return ncr_step_state or StepState.WAITING.value
    return "pending"


_ROW_COLUMNS = (
    Ncr.id,
    Ncr.number,
    Ncr.status,
    Ncr.step_state,
    Ncr.supplier,
    Ncr.supplier.name,
    Ncr.severity,
    Ncr.title,
    Ncr.source,
    Ncr.order,
    Ncr.order.number,
    Ncr.order_line,
    Ncr.delivery_line,
    Ncr.document,
    Ncr.lots,
    Ncr.quantity,
    Ncr.version,
    Ncr.created_at,
    Ncr.issued_at,
    Ncr.closed_at,
)


def _lots_of(value: Any) -> list[str]:
    if isinstance(value, str):
        value = msgspec.json.decode(value or "[]")
    return [str(lot) for lot in value or []]


async def _current_dues(rows: list[dict[str, Any]]) -> dict[UUID, datetime]:
    """Due date of the step each NCR stands at."""
    at_step = {row["id"]: row["status"] for row in rows if row["status"] in STEPS}
    if not at_step:
        return {}
    steps = await scoped(NcrStep).select(NcrStep.ncr, NcrStep.step, NcrStep.due_at).where(NcrStep.ncr.is_in(list(at_step)))
    return {step["ncr"]: step["due_at"] for step in steps if at_step[step["ncr"]] == step["step"]}


async def _rows_out(rows: list[dict[str, Any]], now: datetime | None = None) -> list[NcrRow]:
    dues = await _current_dues(rows)
    moment = _now(now)
    return [
        NcrRow(
            id=row["id"],
            number=row["number"],
            status=row["status"],
            step_state=row["step_state"],
            supplier_id=row["supplier"],
            supplier_name=row["supplier.name"],
            severity=row["severity"],
            title=row["title"],
            source=row["source"],
            order_id=row["order"],
            order_number=row["order.number"] or "",
            order_line_id=row["order_line"],
            delivery_line_id=row["delivery_line"],
            document_id=row["document"],
            lots=_lots_of(row["lots"]),
            quantity=row["quantity"],
            version=row["version"],
            created_at=row["created_at"],
            issued_at=row["issued_at"],
            closed_at=row["closed_at"],
            due_at=dues.get(row["id"]),
            overdue=row["id"] in dues and dues[row["id"]] < moment and row["step_state"] == StepState.WAITING.value,
        )
        for row in rows
    ]


async def list_ncrs(
    *,
    status: str | None = None,
    supplier_id: UUID | None = None,
    order_id: UUID | None = None,
    delivery_id: UUID | None = None,
    cursor: str | None = None,
    limit: int = PAGE_SIZE,
) -> tuple[list[NcrRow], str | None]:
    """NCRs the actor may see, newest first; ``status`` "open" means any
    status before closed or cancelled. ``next`` is the next page's cursor."""
    _require("ncrs.view")
    query = scoped(Ncr).select(*_ROW_COLUMNS)
    if status == "open":
        query = query.where(Ncr.status.is_in([state.value for state in OPEN_STATES]))
    elif status is not None:
        if status not in {state.value for state in Status}:
            raise InvalidNcr(fields={"status": N_("This value is missing or not valid.")})
        query = query.where(Ncr.status == status)
    if supplier_id is not None:
        query = query.where(Ncr.supplier == supplier_id)
    if order_id is not None:
        query = query.where(Ncr.order == order_id)
    if delivery_id is not None:
        lines = scoped(DeliveryLine).select(DeliveryLine.id).where(DeliveryLine.delivery == delivery_id)
        query = query.where(Ncr.delivery_line.is_in(lines))
    if cursor:
        at, key = read_time_cursor(cursor)
        query = query.where((Ncr.created_at < at) | ((Ncr.created_at == at) & (Ncr.id < key)))
    rows = list(await query.order_by(Ncr.created_at, Ncr.id, ascending=False).limit(limit + 1))
    next_cursor = time_cursor(rows[limit - 1]["created_at"], rows[limit - 1]["id"]) if len(rows) > limit else None
    return await _rows_out(rows[:limit]), next_cursor


async def get_ncr(ncr_id: UUID | str, now: datetime | None = None) -> NcrOut:
    """One NCR with its steps, what was said on them and its dispositions."""
    _require("ncrs.view")
    ncr = await _visible(ncr_id)
    moment = _now(now)
    steps = list(await scoped(NcrStep).select().where(NcrStep.ncr == ncr.id).order_by(NcrStep.position))
    entries = list(await scoped(NcrEntry).select().where(NcrEntry.ncr == ncr.id).order_by(NcrEntry.created_at, NcrEntry.id))
    names = await user_names({entry["created_by"] for entry in entries if entry["created_by"]} | ({ncr.owner} if ncr.owner else set()))
    step_names = {step["id"]: step["step"] for step in steps}
    order_number, delivery_id = "", None
    if ncr.order is not None:
        order = await scoped(Order).select(Order.number).where(Order.id == ncr.order).first()
        order_number = order["number"] if order else ""
    if ncr.delivery_line is not None:
        line = await scoped(DeliveryLine).select(DeliveryLine.delivery).where(DeliveryLine.id == ncr.delivery_line).first()
        delivery_id = line["delivery"] if line else None
    supplier = await scoped(Supplier).select(Supplier.name).where(Supplier.id == ncr.supplier).first()
    return NcrOut(
        id=ncr.id,
        number=ncr.number,
        status=ncr.status,
        step_state=ncr.step_state,
        supplier_id=ncr.supplier,
        supplier_name=supplier["name"] if supplier else "",
        severity=ncr.severity,
        title=ncr.title,
        description=ncr.description,
        source=ncr.source,
        order_id=ncr.order,
        order_number=order_number,
        order_line_id=ncr.order_line,
        delivery_id=delivery_id,
        delivery_line_id=ncr.delivery_line,
        document_id=ncr.document,
        lots=_lots_of(ncr.lots),
        quantity=ncr.quantity,
        owner=names.get(ncr.owner, "") if ncr.owner else "",
        owner_id=ncr.owner,
        version=ncr.version,
        created_at=ncr.created_at,
        issued_at=ncr.issued_at,
        verified_at=ncr.verified_at,
        closed_at=ncr.closed_at,
        cancelled_at=ncr.cancelled_at,
        cancel_reason=ncr.cancel_reason,
        steps=[
            NcrStepOut(
                id=step["id"],
                step=step["step"],
                position=step["position"],
                state=(state := _step_state(ncr.status, ncr.step_state, step)),
                due_at=step["due_at"],
                overdue=state == StepState.WAITING.value and step["due_at"] < moment,
                started_at=step["started_at"],
                answered_at=step["answered_at"],
                accepted_at=step["accepted_at"],
            )
            for step in steps
        ],
        entries=[
            NcrEntryOut(
                id=entry["id"],
                step_id=entry["step"],
                step=step_names.get(entry["step"], ""),
                kind=entry["kind"],
                text=entry["text"],
                document_ids=[UUID(str(document)) for document in _lots_of(entry["documents"])],
                by=names.get(entry["created_by"], "") if entry["created_by"] else "",
                at=entry["created_at"],
            )
            for entry in entries
        ],
        dispositions=await _dispositions(ncr),
        awaiting_approval=[] if current().is_supplier else [request.kind for request in await approvals.pending_for("ncr", ncr.id)],
    )


async def _dispositions(ncr: Ncr) -> list[DispositionOut]:
    rows = await scoped(NcrDisposition).select().where(NcrDisposition.ncr == ncr.id).order_by(NcrDisposition.created_at)
    return [
        DispositionOut(
            id=row["id"],
            ncr_id=ncr.id,
            ncr_number=ncr.number,
            supplier_id=row["supplier"],
            kind=row["kind"],
            quantity=row["quantity"],
            chargeable=row["chargeable"],
            amount=row["amount"],
            note=row["note"],
            created_at=row["created_at"],
        )
        for row in rows
    ]


# -- opening --------------------------------------------------------------------


class _Source(msgspec.Struct):
    kind: str
    supplier: UUID
    order: UUID | None = None
    order_line: UUID | None = None
    delivery_line: UUID | None = None
    document: UUID | None = None
    lots: list[str] = []
    quantity: Decimal | None = None


async def _source(data: NcrIn) -> _Source:
    """Where the NCR comes from, and what that record says about it."""
    named = [name for name in ("delivery_line_id", "document_id", "order_line_id") if getattr(data, name) is not None]
    if len(named) > 1:
        raise InvalidNcr(fields=dict.fromkeys(named, N_("Open an NCR from one record: a delivery line, a QC document or an order line.")))
    if data.delivery_line_id is not None:
        line = await scoped(DeliveryLine).get(data.delivery_line_id)
        delivery = await scoped(Delivery).get(line.delivery)
        if not line.rejected_quantity:
            raise InvalidNcr(fields={"delivery_line_id": N_("Nothing was rejected on this delivery line.")})
        return _Source(
            "delivery_line",
            delivery.supplier,
            order=delivery.order,
            order_line=line.order_line,
            delivery_line=line.id,
            lots=[line.lot] if line.lot else [],
            quantity=line.rejected_quantity,
        )
    if data.document_id is not None:
        document = await scoped(Document).get(data.document_id)
        state, _ = await quality.review_state(document.id)
        if state != quality.REJECTED or document.supplier is None:
            raise InvalidNcr(fields={"document_id": N_("Only a rejected QC document of a supplier opens an NCR.")})
        order_id = await quality._order_of(document)
        return _Source("document", document.supplier, order=order_id, document=document.id)
    if data.order_line_id is not None:
        order_line = await scoped(OrderLine).get(data.order_line_id)
        order = await scoped(Order).get(order_line.order)
        if order.status not in ORDER_SHARED_STATES:
            raise InvalidNcr(fields={"order_line_id": N_("The order of this line is still a draft.")})
        return _Source("direct", order.supplier, order=order.id, order_line=order_line.id)
    if data.supplier_id is None:
        raise InvalidNcr(fields={"supplier_id": N_("Choose a supplier.")})
    supplier = await scoped(Supplier).get(data.supplier_id)
    return _Source("direct", supplier.id)


class SourceOut(msgspec.Struct, frozen=True):
    """What the form to open an NCR shows about the record it comes from."""

    kind: str
    supplier_id: UUID
    supplier_name: str
    order_number: str
    lots: list[str]
    quantity: Decimal | None


async def describe_source(delivery_line_id: UUID | None, document_id: UUID | None, order_line_id: UUID | None) -> SourceOut | None:
    """The record an NCR would be opened from (None: QA opens it directly);
    a record the actor may not see is NotFound, like a missing one."""
    _require("ncrs.manage")
    if delivery_line_id is None and document_id is None and order_line_id is None:
        return None
    try:
        source = await _source(NcrIn(delivery_line_id=delivery_line_id, document_id=document_id, order_line_id=order_line_id))
    except InvalidNcr:
        # Shown on the form anyway; opening it says what is wrong.
        return None
    supplier = await scoped(Supplier).select(Supplier.name).where(Supplier.id == source.supplier).first()
    order = await scoped(Order).select(Order.number).where(Order.id == source.order).first() if source.order else None
    return SourceOut(
        kind=source.kind,
        supplier_id=source.supplier,
        supplier_name=supplier["name"] if supplier else "",
        order_number=order["number"] if order else "",
        lots=source.lots,
        quantity=source.quantity,
    )


async def open_ncr(data: NcrIn) -> NcrOut:
    """A draft NCR, QA its owner; lots and quantity default to what the
    source record says."""
    context = _require("ncrs.manage")
    source = await _source(data)
    problems: dict[str, str] = {}
    if data.supplier_id is not None and data.supplier_id != source.supplier:
        problems["supplier_id"] = N_("The record this NCR comes from belongs to another supplier.")
    if data.severity not in SEVERITIES:
        problems["severity"] = N_("Choose minor, major or critical.")
    title = data.title.strip()
    if not TITLE_MIN <= len(title) <= TITLE_MAX:
        problems["title"] = N_("Write 3 to 200 characters.")
    description = data.description.strip()
    if not TEXT_MIN <= len(description) <= TEXT_MAX:
        problems["description"] = N_("Write 3 to 4000 characters.")
    if problems:
        raise InvalidNcr(fields=problems)
    lots = _lots(data.lots) if data.lots is not None else source.lots
    quantity = _decimal(data.quantity, "quantity") if data.quantity not in (None, "") else source.quantity
    if quantity is not None and quantity <= 0:
        raise InvalidNcr(fields={"quantity": N_("Enter a quantity above zero, or leave it empty.")})
    now = datetime.now(UTC)
    ncr = scoped(Ncr).new(
        number=await _next_number(context.tenant_id, now.year),
        supplier=source.supplier,
        source=source.kind,
        order=source.order,
        order_line=source.order_line,
        delivery_line=source.delivery_line,
        document=source.document,
        severity=data.severity,
        title=title,
        description=description,
        lots=lots,
        quantity=quantity,
        owner=context.user_id,
        status=Status.DRAFT.value,
        created_by=context.user_id,
        created_at=now,
        updated_at=now,
    )
    await ncr.save()
    await record(
        "ncr.open",
        entity_type="ncr",
        entity_id=ncr.id,
        after={
            "number": ncr.number,
            "supplier_id": str(source.supplier),
            "source": source.kind,
            "severity": data.severity,
            "lots": lots,
            "quantity": str(quantity) if quantity is not None else None,
        },
    )
    return await get_ncr(ncr.id)


def _end_of(day: date, zone: str) -> datetime:
    return utc_at(day, time(23, 59, 59), ZoneInfo(zone))


async def due_dates(issued_at: datetime, chosen: dict[str, date], context: TenantContext) -> dict[Status, datetime]:
    """Each step's due moment: a chosen date (its end, in the tenant's time
    zone), else ``issued_at`` plus the tenant's days. A chosen date in the
    past, for no step, or before the previous step's due moment is refused."""
    problems = {name: N_("This is not a step of an NCR.") for name in chosen if name not in {step.value for step in STEPS}}
    today = issued_at.astimezone(ZoneInfo(context.time_zone)).date()
    days = await step_days()
    dues: dict[Status, datetime] = {}
    for step in STEPS:
        day = chosen.get(step.value)
        if day is not None and day < today:
            problems[step.value] = N_("This date is in the past.")
            continue
        dues[step] = _end_of(day, context.time_zone) if day is not None else issued_at + timedelta(days=days[step])
    for earlier, later in pairwise(STEPS):
        if earlier in dues and later in dues and dues[later] < dues[earlier] and later.value not in problems:
            problems[later.value] = N_("A step cannot be due before the step it follows.")
    if problems:
        raise InvalidNcr(fields=problems)
    return dues


async def issue_ncr(ncr_id: UUID | str, data: IssueIn, now: datetime | None = None) -> NcrOut:
    """Send a draft to its supplier: the steps start, each with its due
    date, and the draft's photos are shared with the supplier."""
    context = _require("ncrs.manage")
    ncr = await _visible(ncr_id)
    moment = _now(now)
    dues = await due_dates(moment, data.due_dates, context) if ncr.status == Status.DRAFT else {}
    ncr = await _move(ncr, Event.ISSUE, data.version, moment, issued_at=moment)
    await _start_steps(ncr, dues, moment)
    return await get_ncr(ncr.id, moment)


async def _start_steps(ncr: Ncr, dues: dict[Status, datetime], moment: datetime) -> None:
    for position, step in enumerate(STEPS):
        await (
            scoped(NcrStep)
            .new(
                supplier=ncr.supplier,
                ncr=ncr.id,
                step=step.value,
                position=position,
                due_at=dues[step],
                started_at=moment if position == 0 else None,
            )
            .save()
        )
    await share_attached({"ncr": [ncr.id]}, ncr.supplier)
    await share_thread_files("ncr", ncr.id)
    await _tell("ncr.issued", ncr, severity=SEVERITIES[ncr.severity], due=local_minutes(dues[STEPS[0]], current().time_zone)[:10])


# -- steps ----------------------------------------------------------------------


async def _current_step(ncr: Ncr, step_id: UUID | str, version: int | None) -> NcrStep:
    """The step named, which must be the one the NCR stands at; a decision
    made on an older version of the NCR is refused first, whatever it was."""
    step = await _step_of(ncr, step_id)
    if version is not None and version != ncr.version:
        raise NcrChanged(version=ncr.version)
    if ncr.status in (Status.CLOSED, Status.CANCELLED):
        raise NcrClosed()
    if step.accepted_at is not None:
        raise StepAlreadyAccepted()
    if step.step != ncr.status:
        current_label = gettext(Status(ncr.status).label)
        raise StepNotCurrent(current=current_label)
    return step


async def _evidence(step: NcrStep) -> list[UUID]:
    rows = (
        await scoped(Document)
        .select(Document.id, Document.supplier, Document.attached_type, Document.attached_id)
        .where(Document.attached_type == "ncr_step")
        .where(Document.attached_id == step.id)
        .where(Document.withdrawn.eq(False))
        .where(Document.current_version > 0)
        .order_by(Document.created_at)
    )
    return [row["id"] for row in await scoped(Document).readable(list(rows))]


async def _answerable(ncr_id: UUID | str, step_id: UUID | str, data: AnswerIn) -> tuple[Ncr, NcrStep, str] | None:
    """The NCR, the step and the text of an answer that may be given now;
    None when this device sent the same answer before (a retry)."""
    _require("ncrs.answer")
    ncr = await _visible(ncr_id)
    if data.client_id is not None:
        earlier = (
            await scoped(NcrEntry)
            .select(NcrEntry.id)
            .where(NcrEntry.ncr == ncr.id)
            .where(NcrEntry.client_id == data.client_id)
            .where(NcrEntry.created_by == current().user_id)
            .first()
        )
        if earlier is not None:
            return None
    step = await _current_step(ncr, step_id, data.version)
    return ncr, step, _text(data.text, "text")


async def check_answer(ncr_id: UUID | str, step_id: UUID | str, data: AnswerIn) -> bool:
    """Whether ``answer_step`` would store this answer (False: a retry of
    one stored before); raises what it would raise. Lets a page keep a
    photo sent with the answer only when the answer goes in."""
    return await _answerable(ncr_id, step_id, data) is not None


async def answer_step(ncr_id: UUID | str, step_id: UUID | str, data: AnswerIn, now: datetime | None = None) -> NcrOut:
    """The supplier's answer to the step the NCR stands at: text, and the
    evidence documents it attached to the step so far. An answer sent again
    with the same ``client_id`` (the phone's outbox retrying) is stored once."""
    answerable = await _answerable(ncr_id, step_id, data)
    if answerable is None:
        return await get_ncr(ncr_id, now)
    ncr, step, text = answerable
    moment = _now(now)
    evidence = await _evidence(step)
    ncr = await _move(ncr, Event.ANSWER, data.version, moment)
    await scoped(NcrStep).update({NcrStep.answered_at: moment}).where(NcrStep.id == step.id)
    await _entry(ncr, step, "answer", text, evidence, data.client_id)
    await _tell("ncr.answered", ncr, step=Status(step.step).label)
    return await get_ncr(ncr.id, moment)


async def accept_step(ncr_id: UUID | str, step_id: UUID | str, data: DecisionIn, now: datetime | None = None) -> NcrOut:
    """QA accepts the supplier's answer: the next step starts (or, after
    verification, the NCR is verified and may be closed)."""
    _require("ncrs.manage")
    ncr = await _visible(ncr_id)
    step = await _current_step(ncr, step_id, data.version)
    comment = _optional_text(data.comment, "comment")
    moment = _now(now)
    last = step.position == len(STEPS) - 1
    ncr = await _move(ncr, Event.ACCEPT, data.version, moment, **({"verified_at": moment} if last else {}))
    await scoped(NcrStep).update({NcrStep.accepted_at: moment}).where(NcrStep.id == step.id)
    if not last:
        await scoped(NcrStep).update({NcrStep.started_at: moment}).where(NcrStep.ncr == ncr.id).where(NcrStep.position == step.position + 1)
    await _entry(ncr, step, "accept", comment)
    await _tell("ncr.accepted", ncr, step=Status(step.step).label)
    return await get_ncr(ncr.id, moment)


async def return_step(ncr_id: UUID | str, step_id: UUID | str, data: DecisionIn, now: datetime | None = None) -> NcrOut:
    """QA sends the answer back with a comment; the supplier answers again."""
    _require("ncrs.manage")
    ncr = await _visible(ncr_id)
    step = await _current_step(ncr, step_id, data.version)
    comment = _text(data.comment, "comment")
    moment = _now(now)
    ncr = await _move(ncr, Event.RETURN, data.version, moment)
    await _entry(ncr, step, "return", comment)
    await _tell("ncr.returned", ncr, step=Status(step.step).label, comment=comment)
    return await get_ncr(ncr.id, moment)


async def close_ncr(ncr_id: UUID | str, data: DecisionIn, now: datetime | None = None) -> NcrOut:
    """Close a verified NCR; anything short of QA's verification is refused."""
    _require("ncrs.manage")
    ncr = await _visible(ncr_id)
    comment = _optional_text(data.comment, "comment")
    moment = _now(now)
    ncr = await _move(ncr, Event.CLOSE, data.version, moment, closed_at=moment)
    await _entry(ncr, None, "close", comment)
    await _tell("ncr.closed", ncr)
    return await get_ncr(ncr.id, moment)


async def cancel_ncr(ncr_id: UUID | str, data: DecisionIn, now: datetime | None = None) -> NcrOut:
    """Cancel an NCR opened in error, with a reason; it stays on record."""
    _require("ncrs.manage")
    ncr = await _visible(ncr_id)
    reason = _text(data.comment, "comment")
    moment = _now(now)
    was_shared = ncr.status != Status.DRAFT
    ncr = await _move(ncr, Event.CANCEL, data.version, moment, cancelled_at=moment, cancel_reason=reason)
    await _entry(ncr, None, "cancel", reason)
    if was_shared:
        await _tell("ncr.cancelled", ncr, reason=reason)
    return await get_ncr(ncr.id, moment)


# -- owner ----------------------------------------------------------------------


async def owner_choices() -> list[OwnerChoice]:
    """Who may own an NCR: the tenant's active members who may manage NCRs
    (QA and the admins), by name."""
    _require("ncrs.manage")
    roles = sorted(role.value for role in POLICY["ncrs.manage"])
    rows = (
        await scoped(Membership)
        .select(Membership.user, Membership.user.name, Membership.user.active)
        .where(Membership.active.eq(True))
        .where(Membership.role.is_in(roles))
        .order_by(Membership.user.name)
    )
    return [OwnerChoice(id=row["user"], name=row["user.name"]) for row in rows if row["user.active"]]


async def change_owner(ncr_id: UUID | str, data: OwnerIn, now: datetime | None = None) -> NcrOut:
    """Hand an open NCR to another owner, someone who may manage NCRs. The
    owner hears of late steps by name; the new and the former owner are
    told of the change (unless they made it themselves)."""
    context = _require("ncrs.manage")
    ncr = await _visible(ncr_id)
    if ncr.status in (Status.CLOSED, Status.CANCELLED):
        raise NcrClosed()
    choices = {choice.id: choice.name for choice in await owner_choices()}
    if data.owner_id not in choices:
        raise InvalidNcr(fields={"owner_id": N_("Choose someone of QA or an admin of this company.")})
    if data.owner_id == ncr.owner:
        return await get_ncr(ncr.id, now)
    moment = _now(now)
    await scoped(Ncr).update({Ncr.owner: data.owner_id, Ncr.updated_at: moment}).where(Ncr.id == ncr.id)
    await record(
        "ncr.owner",
        entity_type="ncr",
        entity_id=ncr.id,
        before={"owner": str(ncr.owner) if ncr.owner else None},
        after={"owner": str(data.owner_id)},
    )
    told = [user for user in (data.owner_id, ncr.owner) if user is not None and user != context.user_id]
    if told:
        await _tell("ncr.owner_changed", ncr, users=told, owner=choices[data.owner_id], by=context.user_name)
    return await get_ncr(ncr.id, moment)


# -- handover -------------------------------------------------------------------


async def hand_over(ncr_ids: list[UUID], to_supplier: UUID, orders: dict[UUID, UUID], reason: str) -> dict[UUID, UUID]:
    """For a completed supplier-change handover: each NCR still in its steps
    follows the work to ``to_supplier`` as a new NCR issued at once (the
    tenant's step days), with QA's title, description, severity and
    quantity and, when its order moved too, the new order. The old
    supplier's answers, evidence, lots and order line stay behind with the
    original, which is cancelled with ``reason``. The handover's right to
    complete is the right here (like an approved action). Returns original
    -> new NCR."""
    context = current()
    if not ncr_ids:
        return {}
    moment = datetime.now(UTC)
    dues = await due_dates(moment, {}, context)
    rows = await scoped(Ncr).objects().where(Ncr.id.is_in(list(ncr_ids))).where(Ncr.status.is_in([step.value for step in STEPS]))
    made: dict[UUID, UUID] = {}
    for ncr in sorted(rows, key=lambda row: row.number):
        new = scoped(Ncr).new(
            number=await _next_number(context.tenant_id, moment.year),
            supplier=to_supplier,
            source="handover",
            order=orders.get(ncr.order) if ncr.order else None,
            severity=ncr.severity,
            title=ncr.title,
            description=ncr.description,
            lots=[],
            quantity=ncr.quantity,
            owner=ncr.owner,
            status=Status.DRAFT.value,
            created_by=context.user_id,
            created_at=moment,
            updated_at=moment,
        )
        await new.save()
        await record(
            "ncr.open", entity_type="ncr", entity_id=new.id, after={"number": new.number, "source": "handover", "from": str(ncr.id)}
        )
        new = await _move(new, Event.ISSUE, None, moment, issued_at=moment)
        await _start_steps(new, dues, moment)
        await _move(ncr, Event.CANCEL, None, moment, cancelled_at=moment, cancel_reason=reason)
        await _entry(ncr, None, "cancel", reason)
        await _tell("ncr.cancelled", ncr, reason=reason)
        made[ncr.id] = new.id
    return made


# -- dispositions ---------------------------------------------------------------


async def add_disposition(ncr_id: UUID | str, data: DispositionIn) -> DispositionOut | ConcessionHeld:
    """What becomes of the goods. Together the dispositions cover at most
    the NCR's quantity; use as is needs the concession's terms; a chargeable
    one carries the amount deducted from the supplier, a free one none. A
    concession waits for approval when the tenant's rules say so."""
    _require("ncrs.manage")
    # Held: of two dispositions at once, the second counts the first one's
    # quantity (and sees a closure meanwhile) before it is checked.
    ncr = await _visible(ncr_id, hold=True)
    quantity, amount, note = await _checked_disposition(ncr, data)
    rule = await approvals.rule_for("ncr.concession") if data.kind == "use_as_is" else None
    if rule is not None:
        payload = {
            "ncr_id": str(ncr.id),
            "kind": data.kind,
            "quantity": str(quantity),
            "chargeable": data.chargeable,
            "amount": str(amount),
            "note": note,
        }
        label = f"{ncr.number}: {gettext(DISPOSITIONS[data.kind])} {_plain_number(quantity)} · {note}"
        request = await approvals.hold("ncr.concession", "ncr", ncr.id, label, payload, rule)
        return ConcessionHeld(approval_id=request.id, ncr_id=ncr.id, kind=data.kind)
    return await _record_disposition(ncr, data.kind, quantity, data.chargeable, amount, note)


async def _checked_disposition(ncr: Ncr, data: DispositionIn) -> tuple[Decimal, Decimal, str]:
    """The disposition's quantity, amount and note once every rule holds."""
    if ncr.status in (Status.CLOSED, Status.CANCELLED):
        raise NcrClosed()
    problems: dict[str, str] = {}
    if data.kind not in DISPOSITIONS:
        problems["kind"] = N_("Choose rework, return, scrap or use as is.")
    note = _optional_text(data.note, "note")
    if data.kind == "use_as_is" and len(note) < TEXT_MIN:
        problems["note"] = N_("Say on which terms the goods are used as is (the concession).")
    try:
        quantity = _decimal(data.quantity, "quantity")
    except InvalidNcr as exc:
        problems.update(exc.fields or {})
        quantity = None
    if "quantity" not in problems and (quantity is None or quantity <= 0):
        problems["quantity"] = N_("Enter a quantity above zero.")
    try:
        amount = _decimal(data.amount, "amount", MONEY_QUANTUM) or Decimal(0)
    except InvalidNcr as exc:
        problems.update(exc.fields or {})
        amount = Decimal(0)
    if "amount" not in problems:
        if data.chargeable and amount <= 0:
            problems["amount"] = N_("A chargeable disposition needs the amount charged to the supplier.")
        elif not data.chargeable and amount != 0:
            problems["amount"] = N_("Only a chargeable disposition carries an amount.")
    if problems:
        raise InvalidNcr(fields=problems)
    assert quantity is not None
    if ncr.quantity is not None:
        done = [row["quantity"] for row in await scoped(NcrDisposition).select(NcrDisposition.quantity).where(NcrDisposition.ncr == ncr.id)]
        total = sum(done, Decimal(0)) + quantity
        if total > ncr.quantity:
            raise TooMuchDisposed(total=_plain_number(total), quantity=_plain_number(ncr.quantity))
    return quantity, amount, note


async def _record_disposition(ncr: Ncr, kind: str, quantity: Decimal, chargeable: bool, amount: Decimal, note: str) -> DispositionOut:
    row = scoped(NcrDisposition).new(
        supplier=ncr.supplier,
        ncr=ncr.id,
        kind=kind,
        quantity=quantity,
        chargeable=chargeable,
        amount=amount,
        note=note,
        created_by=current().user_id,
    )
    await row.save()
    await record(
        "ncr.disposition",
        entity_type="ncr",
        entity_id=ncr.id,
        after={
            "disposition": str(row.id),
            "kind": kind,
            "quantity": str(quantity),
            "chargeable": chargeable,
            "amount": str(amount),
        },
    )
    if ncr.status != Status.DRAFT:
        await _tell("ncr.disposition", ncr, disposition=DISPOSITIONS[kind], quantity=_plain_number(quantity))
    return next(item for item in await _dispositions(ncr) if item.id == row.id)


async def _approved_concession(payload: dict[str, Any]) -> None:
    """The approver said yes: the concession is recorded now, if it still
    fits (the NCR open, the quantity not taken by dispositions since); the
    approver's own rights on NCRs do not matter, the rule is the right."""
    ncr = await _visible(payload["ncr_id"], hold=True)
    data = DispositionIn(
        kind=payload["kind"],
        quantity=payload["quantity"],
        chargeable=bool(payload["chargeable"]),
        amount=payload["amount"],
        note=payload["note"],
    )
    quantity, amount, note = await _checked_disposition(ncr, data)
    await _record_disposition(ncr, data.kind, quantity, data.chargeable, amount, note)


approvals.register_action("ncr.concession", _approved_concession)


def _plain_number(value: Decimal) -> str:
    text = format(value, "f")
    return text.rstrip("0").rstrip(".") if "." in text else text


async def chargeable_dispositions(supplier_id: UUID, start: datetime, end: datetime) -> list[ChargeableDisposition]:
    """Chargeable dispositions of ``supplier_id`` recorded in [start, end)
    on NCRs that were issued and not cancelled, oldest first: what the
    statements deduct from the supplier (one line each, ``amount`` exact).
    A draft NCR is QA's alone: charging it would show the supplier an NCR it
    cannot open."""
    rows = (
        await scoped(NcrDisposition)
        .select(
            NcrDisposition.id,
            NcrDisposition.ncr,
            NcrDisposition.ncr.number,
            NcrDisposition.ncr.order,
            NcrDisposition.supplier,
            NcrDisposition.kind,
            NcrDisposition.quantity,
            NcrDisposition.amount,
            NcrDisposition.note,
            NcrDisposition.created_at,
        )
        .where(NcrDisposition.supplier == supplier_id)
        .where(NcrDisposition.chargeable.eq(True))
        .where(NcrDisposition.created_at >= start)
        .where(NcrDisposition.created_at < end)
        .where(NcrDisposition.ncr.status.not_in([Status.CANCELLED.value, Status.DRAFT.value]))
        .order_by(NcrDisposition.created_at)
    )
    return [
        ChargeableDisposition(
            id=row["id"],
            ncr_id=row["ncr"],
            ncr_number=row["ncr.number"],
            supplier_id=row["supplier"],
            order_id=row["ncr.order"],
            kind=row["kind"],
            quantity=row["quantity"],
            amount=row["amount"],
            note=row["note"],
            created_at=row["created_at"],
        )
        for row in rows
    ]


# -- deadlines ------------------------------------------------------------------


async def check_steps_job(payload: dict[str, Any]) -> None:
    """The periodic ``quality.ncr_steps`` job."""
    await check_steps()


async def check_steps(now: datetime | None = None) -> dict[str, int]:
    """One round over every tenant: a reminder to the supplier for a step
    waiting for its answer and due within a day, an escalation (QA, the
    NCR's owner and the supplier's admins) once it is past due. Each is told
    once per step; safe to run again."""
    moment = _now(now)
    async with system_scope("ncr-steps"):
        tenants = await Tenant.objects()
    totals = {"reminded": 0, "escalated": 0}
    for tenant in tenants:
        async with tenant_scope(operator_context(tenant, "ncr-steps")):
            for name, count in (await _check_tenant(moment)).items():
                totals[name] += count
    return totals


async def _check_tenant(now: datetime) -> dict[str, int]:
    counts = {"reminded": 0, "escalated": 0}
    rows = (
        await scoped(NcrStep)
        .select(NcrStep.id, NcrStep.ncr, NcrStep.step, NcrStep.due_at, NcrStep.reminded_at, NcrStep.ncr.status, NcrStep.ncr.step_state)
        .where(NcrStep.accepted_at.is_null())
        .where(NcrStep.escalated_at.is_null())
        .where(NcrStep.due_at <= now + REMIND_BEFORE)
        .where(NcrStep.ncr.step_state == StepState.WAITING.value)
    )
    # Only the step the NCR stands at waits for the supplier.
    for row in (row for row in rows if row["ncr.status"] == row["step"]):
        ncr = await scoped(Ncr).get(row["ncr"])
        due = local_minutes(row["due_at"], current().time_zone)
        if row["due_at"] <= now:
            claimed = await (
                scoped(NcrStep)
                .update({NcrStep.escalated_at: now})
                .where(NcrStep.id == row["id"])
                .where(NcrStep.escalated_at.is_null())
                .returning(NcrStep.id)
            )
            if claimed:
                await _tell("ncr.step_overdue", ncr, step=Status(row["step"]).label, due=due)
                if ncr.owner is not None:
                    # The owner hears of it by name, whatever its role.
                    await _tell("ncr.step_overdue_owner", ncr, users=[ncr.owner], step=Status(row["step"]).label, due=due)
                counts["escalated"] += 1
        elif row["reminded_at"] is None:
            claimed = await (
                scoped(NcrStep)
                .update({NcrStep.reminded_at: now})
                .where(NcrStep.id == row["id"])
                .where(NcrStep.reminded_at.is_null())
                .returning(NcrStep.id)
            )
            if claimed:
                await _tell("ncr.step_due", ncr, step=Status(row["step"]).label, due=due)
                counts["reminded"] += 1
    return counts


# -- attachments ----------------------------------------------------------------


async def ncr_attachment_supplier(ncr_id: UUID) -> UUID | None:
    """Photos of an NCR: QA's own while it is a draft, then shared with its
    supplier (issuing shares those already there)."""
    ncr = await _visible(ncr_id)
    # QA's alone while the supplier does not read the NCR: never issued (a
    # draft, or cancelled as one), or its order handed over to another.
    supplier: UUID = ncr.supplier
    return supplier if await supplier_reads(Ncr, ncr.id, supplier) else None


async def step_attachment_supplier(step_id: UUID) -> UUID | None:
    """Evidence on a step: shared with the NCR's supplier."""
    step = await scoped(NcrStep).get(step_id)
    ncr = await _visible(step.ncr)
    supplier: UUID = ncr.supplier
    return supplier if await supplier_reads(Ncr, ncr.id, supplier) else None


# QA attaches the NCR's photos, the supplier the evidence of its answers:
# each page then carries one upload form (one camera button) for its reader.
register_attachment_target("ncr", ncr_attachment_supplier, table=Ncr, upload_action="ncrs.manage")
register_attachment_target("ncr_step", step_attachment_supplier, table=NcrStep, upload_action="ncrs.answer")


class NcrAges(msgspec.Struct, frozen=True):
    """Open NCRs by days since they were opened, and those with a step past due."""

    week: int
    month: int
    older: int
    overdue: int


async def open_ages(now: datetime | None = None) -> NcrAges:
    """For the buyer's board: open NCRs (drafts included) by age."""
    _require("ncrs.view")
    moment = _now(now)
    rows = (
        await scoped(Ncr)
        .select(Ncr.id, Ncr.status, Ncr.step_state, Ncr.created_at)
        .where(Ncr.status.is_in([state.value for state in OPEN_STATES]))
    )
    ages = [(moment - row["created_at"]).days for row in rows]
    dues = await _current_dues(list(rows))
    overdue = sum(1 for row in rows if row["id"] in dues and dues[row["id"]] < moment and row["step_state"] == StepState.WAITING.value)
    return NcrAges(
        week=sum(1 for age in ages if age <= 7),
        month=sum(1 for age in ages if 7 < age <= 30),
        older=sum(1 for age in ages if age > 30),
        overdue=overdue,
    )
