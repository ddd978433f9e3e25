"""What documents can be attached to.

Each domain registers its kinds of target once, at import of its package
(orders: "order", "order_line"; materials: "dispatch"; deliveries:
"delivery"; quality: "ncr"; handover: "handover_item"):

    register_attachment_target("order", resolve_order)

A resolver gets the target's id, looks it up **through the scoping layer**
(so a foreign or missing target raises ``NotFound``, answered 404) and
returns the id of the supplier the target is shared with, or None for
buyer-internal targets. Documents attached to it are shared the same way.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from uuid import UUID

from portal.errors import DomainError
from portal.i18n import N_
from tenants.scoping import scoped
from tenants.tables import Supplier

Resolver = Callable[[UUID], Awaitable[UUID | None]]

KIND_PATTERN = re.compile(r"^[a-z][a-z_]{1,29}$")
_TARGETS: dict[str, Resolver] = {}


class UnknownAttachmentTarget(DomainError):
    code = "unknown_attachment_target"
    message = N_("Documents cannot be attached to this kind of record.")


def register_attachment_target(kind: str, resolver: Resolver) -> None:
    """Make ``kind`` attachable. Registering a kind twice with a different
    resolver is a programming error (two packages claiming one name)."""
    if not KIND_PATTERN.match(kind):
        raise ValueError(f"attachment kind {kind!r} must be 2-30 lowercase letters or underscores")
    existing = _TARGETS.get(kind)
    if existing is not None and existing is not resolver:
        raise ValueError(f"attachment kind {kind!r} is already registered")
    _TARGETS[kind] = resolver


def attachment_kinds() -> list[str]:
    return sorted(_TARGETS)


async def resolve_target(kind: str, target_id: UUID) -> UUID | None:
    """The supplier a target is shared with; NotFound for a foreign or
    missing target, UnknownAttachmentTarget for a kind nobody registered."""
    resolver = _TARGETS.get(kind)
    if resolver is None:
        raise UnknownAttachmentTarget(fields={"attached_type": UnknownAttachmentTarget.message})
    return await resolver(target_id)


async def _resolve_supplier(target_id: UUID) -> UUID | None:
    # Supplier qualification documents: shared with that supplier. A
    # supplier user reaches only its own supplier record (scoping).
    supplier = await scoped(Supplier).get(target_id)
    return supplier.id


register_attachment_target("supplier", _resolve_supplier)
