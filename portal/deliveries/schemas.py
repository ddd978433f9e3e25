"""Request and response bodies of the deliveries domain."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Annotated
from uuid import UUID

import msgspec

from portal.deliveries.tables import DeliveryLine
from portal.lengths import FreeText, most


class DeliveryLineIn(msgspec.Struct, frozen=True):
    order_line_id: UUID
    quantity: Decimal
    # Checked by the service with the line's other fields, so that every
    # problem of every line is named at once (not only the first, as a
    # limit checked while decoding would).
    lot: str = ""


class DeliveryCreate(msgspec.Struct, frozen=True):
    """A shipping notice against one order; ``ship`` sends it at once,
    otherwise it stays a draft (to attach the packing list first)."""

    order_id: UUID
    lines: list[DeliveryLineIn]
    note: FreeText = ""
    ship: bool = False


class CancelIn(msgspec.Struct, frozen=True):
    reason: FreeText


class ReceiptLineIn(msgspec.Struct, frozen=True):
    line_id: UUID
    accepted_quantity: Decimal
    rejected_quantity: Decimal = Decimal(0)
    reject_reason: FreeText = ""
    # A code of the tenant's reject reasons (GET /api/v1/reject-reasons);
    # left out with a rejected quantity, the rejection counts as "other".
    reject_code: Annotated[str, most(DeliveryLine.reject_code)] = ""


class ReceiptIn(msgspec.Struct, frozen=True):
    """Every line of the delivery, each with accepted + rejected = shipped.
    ``qc_override_reason``: QA accepts goods although QC documents of the
    order are still owed (the receiving gate)."""

    lines: list[ReceiptLineIn]
    note: FreeText = ""
    qc_override_reason: FreeText = ""


class DeliveryLineOut(msgspec.Struct, frozen=True):
    id: UUID
    line_no: int
    order_line_id: UUID
    order_line_no: int
    item_code: str
    item_name: str
    unit: str
    lot: str
    quantity: Decimal
    # Null until the buyer records the receipt.
    accepted_quantity: Decimal | None
    rejected_quantity: Decimal | None
    reject_reason: str
    reject_code: str = ""
    # The code's label in the reader's language.
    reject_label: str = ""


class DeliveryOut(msgspec.Struct, frozen=True):
    id: UUID
    number: str
    order_id: UUID
    order_number: str
    supplier_id: UUID
    supplier_name: str
    status: str
    note: str
    status_reason: str
    receipt_note: str
    created_at: datetime
    shipped_at: datetime | None
    received_at: datetime | None
    received_by: UUID | None
    received_by_name: str
    cancelled_at: datetime | None
    lines: list[DeliveryLineOut]
    # QA accepted it while QC documents were owed: why, who, when. Shown to
    # the buyer's people only (empty for supplier users).
    qc_override_reason: str = ""
    qc_override_by: str = ""
    qc_override_at: datetime | None = None


class DeliverySummary(msgspec.Struct, frozen=True):
    id: UUID
    number: str
    order_id: UUID
    order_number: str
    supplier_id: UUID
    supplier_name: str
    status: str
    shipped_at: datetime | None
    received_at: datetime | None
    line_count: int
    quantity: Decimal
    # Sums over the lines once received, else null.
    accepted_quantity: Decimal | None
    rejected_quantity: Decimal | None


class ShippableLine(msgspec.Struct, frozen=True):
    """An order line as the supplier's ship form shows it."""

    order_line_id: UUID
    line_no: int
    item_code: str
    item_name: str
    unit: str
    ordered: Decimal
    delivered: Decimal
    open_quantity: Decimal
    in_transit: Decimal
    # What may still ship: open x (1 + tolerance) - in transit.
    shippable: Decimal
    # Prefill of the form: what is still open and not on the way.
    suggested: Decimal


class ShippableOrder(msgspec.Struct, frozen=True):
    order_id: UUID
    order_number: str
    supplier_id: UUID
    supplier_name: str
    status: str
    tolerance: Decimal
    lines: list[ShippableLine]


class DeliveryList(msgspec.Struct, frozen=True):
    items: list[DeliverySummary]
    next: str | None
