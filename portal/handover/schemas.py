"""Request and response bodies of the handover API and pages."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

import msgspec

from portal.lengths import FreeText


class HandoverCreate(msgspec.Struct, frozen=True):
    from_supplier_id: UUID
    to_supplier_id: UUID
    # The buyer's items (parts) handed over; empty: all of the outgoing
    # supplier's open work with this tenant.
    item_ids: list[UUID] = []
    note_internal: FreeText = ""


class TransitionIn(msgspec.Struct, frozen=True):
    # The handover's ``version`` the caller saw: a change based on an older
    # one answers 409.
    version: int
    reason: FreeText = ""


class SignOffIn(msgspec.Struct, frozen=True):
    # For entries about an order: finish, cancel_rest or transfer; about a
    # material balance: return, transfer or write_off; empty otherwise.
    decision: str = ""
    note: FreeText = ""


class HandoverItemOut(msgspec.Struct, frozen=True):
    id: UUID
    position: int
    section: str
    title: str
    party: str
    evidence: bool
    blocking: bool
    source: str
    record_id: UUID | None
    decisions: list[str]
    decision: str
    note: str
    done: bool
    signed_off_by: str | None
    signed_off_at: datetime | None
    # A write-off waiting for the approval the tenant's rule asks for (the
    # buyer's view; suppliers never see approvals).
    waiting_for_approval: bool = False


class HandoverOut(msgspec.Struct, frozen=True):
    id: UUID
    number: str
    status: str
    version: int
    from_supplier_id: UUID
    from_supplier_name: str
    # Null for the outgoing supplier: it never learns who takes over.
    to_supplier_id: UUID | None
    to_supplier_name: str | None
    item_ids: list[UUID]
    items: list[HandoverItemOut]
    blocking_open: int
    # Ids of the orders the incoming supplier now holds (after completion).
    transferred_orders: list[UUID]
    created_at: datetime
    started_at: datetime | None
    completed_at: datetime | None
    cancelled_at: datetime | None
    status_reason: str
    # The buyer's note: null for suppliers.
    note_internal: str | None
    package_document_id: UUID | None


class HandoverSummary(msgspec.Struct, frozen=True):
    id: UUID
    number: str
    status: str
    from_supplier_id: UUID
    from_supplier_name: str
    to_supplier_id: UUID | None
    to_supplier_name: str | None
    created_at: datetime


class HandoverList(msgspec.Struct, frozen=True):
    items: list[HandoverSummary]
    next: str | None


class TemplateItem(msgspec.Struct, frozen=True):
    title: str
    # outgoing_supplier, planner, qa, finance or incoming_supplier
    party: str
    evidence: bool = False
    blocking: bool = True
    # "" (one entry), or one entry per: order, material, document, qc_requirement
    source: str = ""


class TemplateSection(msgspec.Struct, frozen=True):
    title: str
    items: list[TemplateItem]


class TemplateIn(msgspec.Struct, frozen=True):
    sections: list[TemplateSection]


class TemplateOut(msgspec.Struct, frozen=True):
    sections: list[TemplateSection]
    # True while the tenant uses the built-in default.
    default: bool


def as_dicts(sections: list[TemplateSection]) -> list[dict[str, Any]]:
    return [msgspec.to_builtins(section) for section in sections]
