"""Request and response bodies of the materials domain."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Annotated
from uuid import UUID

import msgspec

from portal.lengths import FreeText, most
from portal.materials.tables import MaterialMovement


class DispatchLineIn(msgspec.Struct, frozen=True):
    item_id: UUID
    quantity: Decimal
    # Checked by the service with the line's other fields, so that every
    # problem of every line is named at once (not only the first, as a
    # limit checked while decoding would).
    lot: str = ""


class DispatchCreate(msgspec.Struct, frozen=True):
    supplier_id: UUID
    lines: list[DispatchLineIn]
    # The order the material is for; left out for material sent to the
    # supplier in general.
    order_id: UUID | None = None
    note: FreeText = ""


class ReceiptLineIn(msgspec.Struct, frozen=True):
    line_id: UUID
    received_quantity: Decimal
    # Required when the received quantity differs from the dispatched one by
    # more than the tenant's dispatch tolerance.
    reason: FreeText = ""


class ReceiptIn(msgspec.Struct, frozen=True):
    """One entry per line of the dispatch."""

    lines: list[ReceiptLineIn]


class MovementCreate(msgspec.Struct, frozen=True):
    """A return to the buyer or a scrap report, by the supplier."""

    item_id: UUID
    quantity: Decimal
    lot: Annotated[str, most(MaterialMovement.lot)] = ""
    reason: FreeText = ""
    dispatch_id: UUID | None = None


class DispatchLineOut(msgspec.Struct, frozen=True):
    id: UUID
    line_no: int
    item_id: UUID
    item_code: str
    item_name: str
    unit: str
    lot: str
    quantity: Decimal
    received_quantity: Decimal | None
    # received - dispatched, null until received.
    difference: Decimal | None
    discrepancy_reason: str
    flagged: bool
    # The line's tolerance: its material's own, else the tenant's.
    tolerance: Decimal = Decimal("0.02")


class DispatchOut(msgspec.Struct, frozen=True):
    id: UUID
    number: str
    supplier_id: UUID
    supplier_name: str
    order_id: UUID | None
    order_number: str | None
    status: str
    note: str
    # The tenant's dispatch tolerance (a fraction: 0.02 is 2 %).
    tolerance: Decimal
    lines: list[DispatchLineOut]
    created_at: datetime
    sent_at: datetime | None
    received_at: datetime | None
    # Hook for the documents package: photos of the receipt are documents
    # attached with attached_type="dispatch" and attached_id=<this id>.
    attached_type: str = "dispatch"


class DispatchSummary(msgspec.Struct, frozen=True):
    id: UUID
    number: str
    supplier_id: UUID
    supplier_name: str
    order_id: UUID | None
    order_number: str | None
    status: str
    lines: int
    created_at: datetime
    sent_at: datetime | None


class MovementOut(msgspec.Struct, frozen=True):
    id: UUID
    kind: str
    supplier_id: UUID
    supplier_name: str
    item_id: UUID
    item_code: str
    item_name: str
    unit: str
    lot: str
    quantity: Decimal
    reason: str
    dispatch_id: UUID | None
    reported_by: str
    reported_at: datetime


class BalanceOut(msgspec.Struct, frozen=True):
    """Material at one supplier. ``held`` = ``dispatched`` +
    ``receipt_difference`` - ``consumed`` - ``returned`` - ``scrapped``."""

    # Stable per supplier x material (a name-based UUID of the two ids).
    id: UUID
    supplier_id: UUID
    supplier_name: str
    item_id: UUID
    item_code: str
    item_name: str
    unit: str
    # Sent to the supplier (every sent dispatch, confirmed or not).
    dispatched: Decimal
    # Of that, still waiting for the supplier's receipt.
    in_transit: Decimal
    # Received minus dispatched on confirmed lines (negative: shortfall).
    receipt_difference: Decimal
    # Accepted output x quantity per unit, from the BOM (net of scrap).
    consumed: Decimal
    # Accepted output x quantity per unit x scrap rate: the scrap the BOM
    # allows, compared with ``scrapped`` (not part of ``consumed``).
    scrap_allowance: Decimal
    returned: Decimal
    scrapped: Decimal
    held: Decimal
    # held < 0: more was used than was sent.
    over_consumption: bool
    # Scrap reported beyond the allowance.
    excess_scrap: bool
    flagged: bool
