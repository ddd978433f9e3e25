"""What documents can be attached to.

Each domain registers its kinds of target once, at import of its package
(orders: "order", "order_line"; materials: "dispatch"; deliveries:
"delivery"; quality: "ncr"; handover: "handover_item"):

    register_attachment_target("order", resolve_order, table=Order)

``table`` is the target's table: a supplier user reads a document only
while it reads the record it is attached to by that table's own rules
(``Document.supplier_record``, applied by the scoping layer), whatever the
resolver said when the document was added. A draft, a record cancelled
before it was shared, work handed over to another supplier: their files
follow them, including files added later.

A resolver gets the target's id, looks it up **through the scoping layer**
(so a foreign or missing target raises ``NotFound``, answered 404) and
returns the id of the supplier the target is shared with, or None for
buyer-internal targets (or not yet shared: a draft order's drawings).
Documents attached to it are shared the same way. ``upload_action`` names a
permission an uploader needs on top of ``documents.upload`` (item drawings
are the buyer's master data); ``view_action`` one a reader needs (a
statement's documents are for those who may view statements).

A document carries one supplier. Records that several suppliers may read
(an item's drawings, read by the supplier of every issued order of that
item) register which of their records a supplier may read instead:

    share_with_suppliers("item", items_on_shared_orders)

Supplier users then read (never change) documents attached to those records;
the scoping layer applies the rule (``Document.supplier_share``) and, on
PostgreSQL, a row-level security policy of the registering domain repeats it.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from typing import Any
from uuid import UUID

from piccolo.table import Table

from portal.errors import DomainError, PermissionDenied
from portal.i18n import N_
from tenants.context import current
from tenants.scoping import scoped
from tenants.tables import Supplier

Resolver = Callable[[UUID], Awaitable[UUID | None]]
# supplier id -> a select of one id column: the records that supplier reads
SharedTargets = Callable[[UUID], Any]

KIND_PATTERN = re.compile(r"^[a-z][a-z_]{1,29}$")
_TARGETS: dict[str, Resolver] = {}
# kind -> the table of its records (a class, or "module:Name")
_TABLES: dict[str, type[Table] | str] = {}
_UPLOAD_ACTIONS: dict[str, str] = {}
_VIEW_ACTIONS: dict[str, str] = {}
_SHARED: dict[str, SharedTargets] = {}


class UnknownAttachmentTarget(DomainError):
    code = "unknown_attachment_target"
    message = N_("Documents cannot be attached to this kind of record.")


def register_attachment_target(
    kind: str, resolver: Resolver, *, table: type[Table] | str, upload_action: str | None = None, view_action: str | None = None
) -> None:
    """Make ``kind`` attachable. Registering a kind twice with a different
    resolver is a programming error (two packages claiming one name)."""
    if not KIND_PATTERN.match(kind):
        raise ValueError(f"attachment kind {kind!r} must be 2-30 lowercase letters or underscores")
    existing = _TARGETS.get(kind)
    if existing is not None and existing is not resolver:
        raise ValueError(f"attachment kind {kind!r} is already registered")
    _TARGETS[kind] = resolver
    _TABLES[kind] = table
    if upload_action:
        _UPLOAD_ACTIONS[kind] = upload_action
    if view_action:
        _VIEW_ACTIONS[kind] = view_action


def share_with_suppliers(kind: str, targets: SharedTargets) -> None:
    """Supplier users may read documents attached to the records of ``kind``
    that ``targets(supplier_id)`` selects (a scoped select of one id column)."""
    _SHARED[kind] = targets


def may_upload(kind: str) -> bool:
    """Whether the acting user may attach documents to records of ``kind``."""
    action = _UPLOAD_ACTIONS.get(kind)
    context = current()
    return context.can("documents.upload") and (action is None or context.can(action))


def shared_condition(attached_type: Any, attached_id: Any, supplier_id: UUID) -> Any | None:
    """The rows a supplier reads beyond its own: attached to a record that a
    registered rule shares with it. None when no rule is registered."""
    condition: Any | None = None
    for kind, targets in sorted(_SHARED.items()):
        part = (attached_type == kind) & attached_id.is_in(targets(supplier_id))
        condition = part if condition is None else condition | part
    return condition


def attachment_kinds() -> list[str]:
    return sorted(_TARGETS)


def view_actions() -> dict[str, str]:
    """The permission a reader needs, per kind, on top of ``documents.view``
    (a statement's documents: ``statements.view``)."""
    return dict(_VIEW_ACTIONS)


def attachment_tables() -> dict[str, type[Table] | str]:
    """Each kind's record table: documents follow their record's visibility."""
    return dict(_TABLES)


async def resolve_target(kind: str, target_id: UUID) -> UUID | None:
    """The supplier a target is shared with; NotFound for a foreign or
    missing target, UnknownAttachmentTarget for a kind nobody registered."""
    resolver = _TARGETS.get(kind)
    if resolver is None:
        raise UnknownAttachmentTarget(fields={"attached_type": UnknownAttachmentTarget.message})
    return await resolver(target_id)


async def resolve_upload_target(kind: str, target_id: UUID) -> UUID | None:
    """As ``resolve_target``, for a new document: the kind's own upload
    permission is checked after the lookup (a foreign record stays a 404)."""
    supplier = await resolve_target(kind, target_id)
    if not may_upload(kind):
        raise PermissionDenied()
    return supplier


async def _resolve_supplier(target_id: UUID) -> UUID | None:
    # Supplier qualification documents: shared with that supplier. A
    # supplier user reaches only its own supplier record (scoping).
    supplier = await scoped(Supplier).get(target_id)
    return supplier.id


register_attachment_target("supplier", _resolve_supplier, table=Supplier)
