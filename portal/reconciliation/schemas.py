"""Request and response bodies of the reconciliation domain."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from uuid import UUID

import msgspec

from portal.lengths import FreeText


class LineOut(msgspec.Struct, frozen=True):
    id: UUID
    line_no: int
    # delivery, scrap, ncr, adjustment
    kind: str
    reference: str
    item_code: str
    item_name: str
    description: str
    occurred_at: datetime | None
    quantity: Decimal | None
    unit: str
    unit_price: Decimal | None
    amount: Decimal
    # open, confirmed, disputed, resolved
    state: str


class MaterialOut(msgspec.Struct, frozen=True):
    item_id: UUID
    item_code: str
    item_name: str
    unit: str
    opening: Decimal
    dispatched: Decimal
    received: Decimal
    consumed: Decimal
    scrap_allowance: Decimal
    returned: Decimal
    scrapped: Decimal
    closing: Decimal


class StepOut(msgspec.Struct, frozen=True):
    """One step of the loop: send, confirm_line, dispute_line, answer,
    confirm, finalize; ``line_no`` when it concerns one line."""

    event: str
    line_no: int | None
    comment: str
    amount: Decimal | None
    by: str
    at: datetime


class PdfOut(msgspec.Struct, frozen=True):
    """The PDF of the statement's current version: ``status`` none (not
    asked for), queued, rendering (``progress`` 0-100), ready (download it;
    ``sha256`` of the archived bytes) or failed (ask again)."""

    status: str
    statement_version: int
    progress: int = 0
    pages: int | None = None
    size: int | None = None
    sha256: str = ""
    requested_at: datetime | None = None
    rendered_at: datetime | None = None


class StatementSummary(msgspec.Struct, frozen=True):
    id: UUID
    supplier_id: UUID
    supplier_name: str
    period: str
    currency: str
    # draft, sent, disputed, finalized
    status: str
    total: Decimal
    closed: bool
    supplier_confirmed: bool


class StatementOut(msgspec.Struct, frozen=True):
    id: UUID
    supplier_id: UUID
    supplier_name: str
    period: str
    period_start: datetime
    period_end: datetime
    # Closed for this supplier: the lines are frozen.
    closed: bool
    currency: str
    status: str
    lines: list[LineOut]
    materials: list[MaterialOut]
    deliveries_total: Decimal
    deductions_total: Decimal
    adjustments_total: Decimal
    subtotal: Decimal
    tax_rate: Decimal
    tax: Decimal
    total: Decimal
    computed_at: datetime
    version: int
    sent_at: datetime | None
    supplier_confirmed_at: datetime | None
    finalized_at: datetime | None
    steps: list[StepOut]
    # The archived PDF's SHA-256 once finalized ("" until it is rendered).
    pdf_sha256: str
    # The PDF of this version (rendered by a job on request, and on finalizing).
    pdf: PdfOut | None = None


class StatementList(msgspec.Struct, frozen=True):
    items: list[StatementSummary]
    next: str | None = None


class PeriodIn(msgspec.Struct, frozen=True):
    """A supplier and a period ("2026-11")."""

    supplier_id: UUID
    period: str


class DisputeIn(msgspec.Struct, frozen=True):
    comment: FreeText


class AnswerIn(msgspec.Struct, frozen=True):
    """Finance's answer to a disputed line; ``correction`` (an amount,
    negative to reduce what is owed) adds a correcting line."""

    comment: FreeText
    correction: str = ""


class AdjustmentIn(msgspec.Struct, frozen=True):
    """``amount`` is owed to the supplier when positive, deducted when
    negative; ``corrects`` names the closed period it corrects, if any."""

    supplier_id: UUID
    period: str
    amount: str
    reason: FreeText
    currency: str | None = None
    corrects: str = ""


class AdjustmentOut(msgspec.Struct, frozen=True):
    id: UUID
    supplier_id: UUID
    period: str
    currency: str
    amount: Decimal
    reason: str
    corrects: str
    status: str
    created_by: UUID | None
    approved_by: UUID | None
    approved_at: datetime | None
    supplier_name: str = ""


class SettingsIn(msgspec.Struct, frozen=True):
    cutoff_day: int = 31
    cutoff_minutes: int = 1440
    tax_rate: str = "0"


class SettingsOut(msgspec.Struct, frozen=True):
    cutoff_day: int
    cutoff_minutes: int
    tax_rate: Decimal
    time_zone: str
    current_period: str


class MaterialPriceIn(msgspec.Struct, frozen=True):
    item_id: UUID
    unit_price: str
    currency: str | None = None
