"""Which records an event may tell a supplier about: only those its users
read. An event names its record (``emit(record=(type, id))``); before any
user, group robot or device of a supplier hears of it, the record is looked
up as that supplier's user would look it up (the scoping layer, and on
PostgreSQL the row-level security policies). A draft, a record cancelled
before it was shared, work handed over to another supplier: none of them
reaches the supplier through a notification's title, body or link.
"""

from __future__ import annotations

import importlib
from typing import Any
from uuid import UUID

import structlog

from tenants.scoping import supplier_reads

log = structlog.get_logger(__name__)

# The table of each kind of record an event names, by module path: the
# dispatch job runs in workers that may not have imported the domain.
RECORD_TABLES = {
    "order": "portal.orders.tables:Order",
    "order_line": "portal.orders.tables:OrderLine",
    "revision": "portal.orders.tables:OrderRevision",
    "dispatch": "portal.materials.tables:Dispatch",
    "delivery": "portal.deliveries.tables:Delivery",
    "ncr": "portal.quality.tables:Ncr",
    "handover": "portal.handover.tables:Handover",
    "statement": "portal.reconciliation.tables:Statement",
    "conversation_message": "portal.conversations.tables:Message",
}


async def supplier_hears(payload: dict[str, Any], supplier_id: UUID | str) -> bool:
    """Whether the users of ``supplier_id`` may hear of the event ``payload``
    (the dispatch job's): it names no record, or one they read. Asked when
    the job runs, so a record hidden since the event is not announced; a
    kind of record missing from ``RECORD_TABLES`` reaches no supplier."""
    record = payload.get("record")
    if not record:
        return True
    path = RECORD_TABLES.get(record["type"])
    if path is None:
        log.warning("notification_record_unknown", record_type=record["type"], kind=payload.get("kind"))
        return False
    module, name = path.split(":")
    table = getattr(importlib.import_module(module), name)
    return await supplier_reads(table, UUID(str(record["id"])), UUID(str(supplier_id)))
