"""The receiving gate: goods are not accepted while the order still owes
QC documents.

- When a receipt accepts any quantity, every requirement of the order's
  checklist must be approved or waived. One that is missing, pending or
  rejected closes the gate: the receipt is refused (409) and names them.
  Rejecting everything needs no documents.
- QA (``quality.override``) may accept anyway with a reason of 3-1000
  characters. The override is stored with the requirements that were open,
  audited, and shown on the delivery to the buyer's people.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

import msgspec

from portal.audit.services import record
from portal.configuration.services import label_of
from portal.errors import Conflict, DomainError
from portal.i18n import N_, gettext
from portal.quality.services import APPROVED, REASON_MAX, REASON_MIN, STATE_LABELS, WAIVED, RequirementOut, order_checklist
from portal.quality.tables import QcGateOverride
from tenants.context import current
from tenants.scoping import scoped
from tenants.services.members import user_names

SATISFIED = frozenset({APPROVED, WAIVED})


class QcGateClosed(Conflict):
    code = "qc_gate_closed"
    message = N_("QC documents are still owed on this order (%(open)s): accept nothing yet, or let QA override with a reason.")


class OverrideNotAllowed(DomainError):
    """Not PermissionDenied: the receiving form shows it beside the field,
    where a planner typed a reason, instead of a refusal page."""

    status_code = 403
    code = "qc_override_not_allowed"
    message = N_("Only QA may accept goods while QC documents are owed.")


class InvalidOverride(DomainError):
    code = "invalid_qc_override"
    message = N_("Some fields are missing or not valid.")


class OverrideOut(msgspec.Struct, frozen=True):
    reason: str
    open_requirements: list[dict[str, str]]
    created_by: str
    created_at: datetime


def describe(requirements: list[RequirementOut]) -> str:
    """ "Material certificate: missing, ..." in the reader's language."""
    return ", ".join(f"{label_of(item.category)}: {gettext(STATE_LABELS[item.state])}" for item in requirements)


async def open_requirements(order_id: UUID) -> list[RequirementOut]:
    """The order's requirements that are neither approved nor waived."""
    return [item for item in await order_checklist(order_id) if item.state not in SATISFIED]


async def check_gate(order_id: UUID, override_reason: str) -> list[RequirementOut]:
    """Before a receipt that accepts goods: the open requirements, which may
    only be non-empty with a valid override by someone allowed to give one."""
    still_open = await open_requirements(order_id)
    reason = override_reason.strip()
    if not still_open:
        return []
    if not reason:
        raise QcGateClosed(fields={"qc_override_reason": QcGateClosed.message}, open=describe(still_open))
    if not current().can("quality.override"):
        raise OverrideNotAllowed(fields={"qc_override_reason": OverrideNotAllowed.message})
    if not REASON_MIN <= len(reason) <= REASON_MAX:
        raise InvalidOverride(fields={"qc_override_reason": N_("Give a reason of 3 to 1000 characters.")})
    return still_open


async def record_override(delivery: Any, reason: str, still_open: list[RequirementOut]) -> None:
    """Store and audit QA's override of the gate on ``delivery``."""
    context = current()
    snapshot = [{"category": item.category, "state": item.state} for item in still_open]
    override = scoped(QcGateOverride).new(
        supplier=delivery.supplier,
        delivery=delivery.id,
        order=delivery.order,
        reason=reason.strip(),
        open_requirements=snapshot,
        created_by=context.user_id,
    )
    await override.save()
    await record(
        "delivery.qc_override",
        entity_type="delivery",
        entity_id=delivery.id,
        after={"order": str(delivery.order), "reason": reason.strip(), "open_requirements": snapshot},
    )


async def delivery_override(delivery_id: UUID) -> OverrideOut | None:
    """QA's override on a delivery, for the buyer's people; None for a
    supplier user (the scoping layer gives it no rows) or when there is none."""
    row = (
        await scoped(QcGateOverride)
        .select(QcGateOverride.reason, QcGateOverride.open_requirements, QcGateOverride.created_by, QcGateOverride.created_at)
        .where(QcGateOverride.delivery == delivery_id)
        .first()
    )
    if row is None:
        return None
    names = await user_names({row["created_by"]} if row["created_by"] else set())
    snapshot = row["open_requirements"]
    if isinstance(snapshot, str):
        snapshot = msgspec.json.decode(snapshot)
    return OverrideOut(
        reason=row["reason"],
        open_requirements=list(snapshot),
        created_by=names.get(row["created_by"], ""),
        created_at=row["created_at"],
    )
