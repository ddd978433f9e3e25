"""The access a completed handover moves, registered with the scoping layer
and the documents' sharing rules (the handover app's migration repeats both
as row-level security policies).

The outgoing supplier loses the handed-over orders (their lines, revisions,
deliveries, dispatches and QC requirements follow through their parents)
and the documents attached to them; the incoming supplier reads those
documents. Nothing is deleted or re-owned: ``HandoverAccess`` rows say who
lost and who gained what.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

from portal.documents.attachments import share_with_suppliers
from portal.documents.tables import Document
from portal.handover.tables import HandoverAccess
from portal.orders.tables import Order
from tenants.scoping import limit_for_suppliers, scoped

REVOKE, GRANT = "revoke", "grant"
# The kinds of record whose documents a handover hands on.
HANDED_KINDS = ("order", "order_line", "delivery")


def _records(supplier_id: UUID, effect: str, kind: str | None = None) -> Any:
    query = (
        scoped(HandoverAccess)
        .select(HandoverAccess.record_id)
        .where(HandoverAccess.supplier == supplier_id)
        .where(HandoverAccess.effect == effect)
    )
    return query.where(HandoverAccess.record_type == kind) if kind else query


def _order_kept(supplier_id: UUID) -> Any:
    return Order.id.not_in(_records(supplier_id, REVOKE, "order"))


def _document_kept(supplier_id: UUID) -> Any:
    return Document.attached_id.not_in(_records(supplier_id, REVOKE))


def _granted(kind: str) -> Any:
    def targets(supplier_id: UUID) -> Any:
        return _records(supplier_id, GRANT, kind)

    return targets


limit_for_suppliers(Order, _order_kept)
limit_for_suppliers(Document, _document_kept)
for _kind in HANDED_KINDS:
    share_with_suppliers(_kind, _granted(_kind))
