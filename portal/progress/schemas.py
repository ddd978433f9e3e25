"""Request and response bodies of the progress domain."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from uuid import UUID

import msgspec

from portal.lengths import FreeText


class ReportIn(msgspec.Struct, frozen=True):
    """One progress report. ``client_id`` is generated on the phone when the
    report is made: sending it again (a retry, a second tab, a replayed
    outbox) returns the report already stored instead of a second one.
    ``photos_expected``: how many photos will follow (0-10). ``made_at``:
    when it was made on the phone (defaults to now; a time more than five
    minutes ahead of the server, or before 2020, is taken as the time of
    arrival: the phone's clock is wrong)."""

    client_id: UUID
    order_line_id: UUID
    stage: str
    good_quantity: Decimal
    scrap_quantity: Decimal = Decimal(0)
    scrap_reason: FreeText = ""
    note: FreeText = ""
    photos_expected: int = 0
    made_at: datetime | None = None


class PhotoOut(msgspec.Struct, frozen=True):
    id: UUID
    document_id: UUID
    version_id: UUID
    # The thumbnail's state: pending until rendered, then ready.
    preview: str
    position: int
    captured_at: datetime | None


class ReportOut(msgspec.Struct, frozen=True):
    id: UUID
    client_id: UUID
    order_id: UUID
    order_number: str
    order_line_id: UUID
    line_no: int
    item_code: str
    stage: str
    stage_label: str
    good_quantity: Decimal
    scrap_quantity: Decimal
    scrap_reason: str
    note: str
    photos_expected: int
    photos_received: int
    photos: list[PhotoOut]
    reported_by: str
    made_at: datetime
    received_at: datetime


class StageOut(msgspec.Struct, frozen=True):
    code: str
    label: str


class LineOut(msgspec.Struct, frozen=True):
    """An order line as the supplier reports on it."""

    id: UUID
    order_id: UUID
    order_number: str
    order_status: str
    line_no: int
    item_code: str
    item_name: str
    unit: str
    operation: str
    quantity: Decimal
    delivered_quantity: Decimal
    open_quantity: Decimal
    due_date: date
    overdue: bool
    last_report: ReportOut | None


class WorkOrder(msgspec.Struct, frozen=True):
    id: UUID
    number: str
    status: str
    due_date: date | None
    lines: list[LineOut]
