"""Request and response bodies of the orders domain."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Any, Literal, get_args
from uuid import UUID

import msgspec

from portal.lengths import FreeText, most
from portal.orders.tables import Order, OrderLine


class OrderLineIn(msgspec.Struct, frozen=True):
    """``due_date``: at most ten years ahead; not in the past when the
    order is issued or a revision sets it."""

    item_id: UUID
    quantity: Decimal
    unit_price: Decimal
    due_date: date
    operation: Annotated[str, most(OrderLine.operation)] = ""
    # Given when changing an existing line; absent for a new one.
    id: UUID | None = None


class OrderCreate(msgspec.Struct, frozen=True):
    supplier_id: UUID
    lines: list[OrderLineIn]
    notes_shared: FreeText = ""
    notes_internal: FreeText = ""
    # An ERP's own number; left out, the portal numbers the order (WO-2026-00042).
    number: Annotated[str, most(Order.number)] | None = None
    # Left out, the order takes the tenant's currency; it never changes later.
    currency: str | None = None


class OrderUpdate(msgspec.Struct, frozen=True):
    """The whole new state of the lines (lines left out are removed). After
    issue a reason is required and the change becomes a revision."""

    version: int
    lines: list[OrderLineIn]
    notes_shared: FreeText | None = None
    notes_internal: FreeText | None = None
    reason: FreeText = ""


class TransitionIn(msgspec.Struct, frozen=True):
    event: str
    reason: FreeText = ""
    version: int | None = None


class LineAnswerIn(msgspec.Struct, frozen=True):
    line_id: UUID
    accept: bool
    # Required when the line is declined.
    reason: FreeText = ""


class LineAnswersIn(msgspec.Struct, frozen=True):
    """One answer per line of the order (removed lines excepted)."""

    lines: list[LineAnswerIn]
    version: int | None = None


class OrderLineOut(msgspec.Struct, frozen=True):
    id: UUID
    line_no: int
    item_id: UUID
    item_code: str
    item_name: str
    unit: str
    operation: str
    quantity: Decimal
    unit_price: Decimal
    due_date: date
    delivered_quantity: Decimal
    open_quantity: Decimal
    removed: bool
    # The supplier's answer: "" (none yet), accepted or declined (with the reason).
    answer: str = ""
    answer_reason: str = ""


class RevisionOut(msgspec.Struct, frozen=True):
    id: UUID
    number: int
    reason: str
    diff: dict[str, Any]
    created_at: datetime
    acknowledged_at: datetime | None


class OrderOut(msgspec.Struct, frozen=True):
    id: UUID
    number: str
    supplier_id: UUID
    supplier_name: str
    status: str
    currency: str
    due_date: date | None
    revision: int
    version: int
    notes_shared: str
    # Only for buyer roles; null for supplier users.
    notes_internal: str | None
    status_reason: str
    overdue: bool
    unacknowledged_revisions: int
    lines: list[OrderLineOut]
    created_at: datetime
    issued_at: datetime | None
    # Kinds of held actions waiting for approval on this order (buyers
    # only): order.issue, order.price_increase.
    awaiting_approval: list[str] = msgspec.field(default_factory=list)


class OrderSummary(msgspec.Struct, frozen=True):
    id: UUID
    number: str
    supplier_id: UUID
    supplier_name: str
    status: str
    due_date: date | None
    overdue: bool
    revision: int


# What the board sorts by, on the whole filtered list: the due date (the
# default), the order number, the supplier's name, the status in its life
# cycle and the late flag (late first); ties by due date, then id.
BoardSort = Literal["due", "number", "supplier", "status", "late"]
BOARD_SORTS: tuple[str, ...] = get_args(BoardSort)


class BoardOut(msgspec.Struct, frozen=True):
    items: list[OrderSummary]
    next: str | None
    counts: dict[str, int]


class PendingRevision(msgspec.Struct, frozen=True):
    order: OrderSummary
    revision_id: UUID
    number: int
    reason: str
    created_at: datetime


class InboxOut(msgspec.Struct, frozen=True):
    to_accept: list[OrderSummary]
    to_acknowledge: list[PendingRevision]
    due_soon: list[OrderSummary]
    overdue: list[OrderSummary]
    # The lists that hold more than they show (their first ``limit``).
    more: list[str] = []
