"""Supplier-change handovers: the tenant's checklist template, a handover
from one supplier to another with its checklist, the access it moves at
completion and the records it links (original order -> new order)."""

from __future__ import annotations

from typing import Any
from uuid import UUID as UUIDValue

from piccolo.columns import JSON, UUID, Boolean, ForeignKey, Integer, Text, Timestamptz, Varchar
from piccolo.columns.base import OnDelete
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table

from portal.lengths import free_text
from tenants.tables import Supplier, Tenant, User


class HandoverTemplate(Table):
    """The tenant's checklist: sections of items, each with the party that
    acts, whether evidence is needed and whether it blocks completion. A
    tenant without one uses the built-in default (portal/handover/checklist.py)."""

    id = UUID(primary_key=True)
    tenant = ForeignKey(Tenant, on_delete=OnDelete.restrict, null=False, index=True)
    # [{"title", "items": [{"title", "party", "evidence", "blocking", "source"}]}]
    sections = JSON(default=[])
    updated_by = ForeignKey(User, on_delete=OnDelete.restrict, null=True, default=None)
    updated_at = Timestamptz(default=TimestamptzNow())


class Handover(Table):
    """Work moving from one supplier (``from_supplier``) to another. The
    outgoing supplier sees it once started, the incoming one too (read
    only); a draft is the buyer's own."""

    supplier_scope = "from_supplier"

    @classmethod
    def supplier_visible(cls) -> Any:
        """Once started; a draft cancelled before it started stays the buyer's."""
        return (cls.status != "draft") & ((cls.status != "cancelled") | cls.started_at.is_not_null())

    @classmethod
    def supplier_share(cls, supplier_id: UUIDValue) -> Any:
        return cls.to_supplier == supplier_id

    id = UUID(primary_key=True)
    tenant = ForeignKey(Tenant, on_delete=OnDelete.restrict, null=False, index=True)
    number = Varchar(length=40)
    from_supplier = ForeignKey(Supplier, on_delete=OnDelete.restrict, null=False, index=True)
    to_supplier = ForeignKey(Supplier, on_delete=OnDelete.restrict, null=False, index=True)
    status = Varchar(length=20, default="draft")
    # The buyer's items (parts) handed over; empty: all of the supplier's work.
    item_ids = JSON(default=[])
    # The buyer's own note: neither supplier reads it.
    note_internal = free_text(Text(default=""))
    status_reason = free_text(Text(default=""))
    # Bumped by every change of state: a change based on an older one is refused.
    version = Integer(default=1)
    created_by = ForeignKey(User, on_delete=OnDelete.restrict, null=True, default=None)
    created_at = Timestamptz(default=TimestamptzNow())
    started_at = Timestamptz(null=True, default=None)
    completed_at = Timestamptz(null=True, default=None)
    completed_by = ForeignKey(User, on_delete=OnDelete.restrict, null=True, default=None)
    cancelled_at = Timestamptz(null=True, default=None)
    # The package job's document (a ZIP), once built.
    package_document = UUID(null=True, default=None)


class HandoverItem(Table):
    """One checklist entry. ``supplier`` is the one supplier that may read it
    (the outgoing one for its own records, the incoming one for its own
    steps), none for the buyer's internal entries."""

    supplier_scope = "supplier"
    supplier_parents = ("handover",)

    id = UUID(primary_key=True)
    tenant = ForeignKey(Tenant, on_delete=OnDelete.restrict, null=False, index=True)
    handover = ForeignKey(Handover, on_delete=OnDelete.restrict, null=False, index=True)
    supplier = ForeignKey(Supplier, on_delete=OnDelete.restrict, null=True, default=None)
    position = Integer()
    section = Varchar(length=200)
    title = Varchar(length=300)
    # Parameters of the title (catalog id with %(name)s placeholders).
    params = JSON(default={})
    party = Varchar(length=30)
    evidence = Boolean(default=False)
    blocking = Boolean(default=True)
    # What the entry stands for: "order", "material", "document",
    # "qc_requirement" (with ``record_id``) or "" for a step of its own.
    source = Varchar(length=30, default="")
    record_id = UUID(null=True, default=None)
    decision = Varchar(length=20, default="")
    note = free_text(Text(default=""))
    signed_off_by = ForeignKey(User, on_delete=OnDelete.restrict, null=True, default=None)
    signed_off_at = Timestamptz(null=True, default=None)


class HandoverAccess(Table):
    """Access a completed handover moved: the outgoing supplier loses a
    record (``effect`` "revoke"), the incoming one reads it ("grant").
    The scoping layer and the row-level security policies read these rows.
    Never deleted: the trail of who could see what."""

    supplier_scope = "supplier"

    id = UUID(primary_key=True)
    tenant = ForeignKey(Tenant, on_delete=OnDelete.restrict, null=False, index=True)
    handover = ForeignKey(Handover, on_delete=OnDelete.restrict, null=False)
    supplier = ForeignKey(Supplier, on_delete=OnDelete.restrict, null=False)
    effect = Varchar(length=10)
    record_type = Varchar(length=30)
    record_id = UUID()


class HandoverLink(Table):
    """What completion made of a record: the original order and the new
    order holding its open remainder, a material balance and its movement
    or dispatch. The incoming supplier reads the links to records it now
    holds (``supplier``); the rest is the buyer's own."""

    supplier_scope = "supplier"

    id = UUID(primary_key=True)
    tenant = ForeignKey(Tenant, on_delete=OnDelete.restrict, null=False, index=True)
    handover = ForeignKey(Handover, on_delete=OnDelete.restrict, null=False, index=True)
    supplier = ForeignKey(Supplier, on_delete=OnDelete.restrict, null=True, default=None)
    kind = Varchar(length=30)
    original_id = UUID()
    new_id = UUID(null=True, default=None)


TABLES = (HandoverTemplate, Handover, HandoverItem, HandoverAccess, HandoverLink)
