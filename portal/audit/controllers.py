"""Browsing the audit trail: a page for buyer admins and the JSON API."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any
from uuid import UUID

import msgspec
from litestar import Controller, get
from litestar.params import FromPath, FromQuery
from litestar.response import Template

from portal.audit.services import list_events
from portal.audit.tables import AuditEvent
from portal.pagination import Page, SeqNumber, page_of
from tenants.guards import requires
from tenants.scoping import scoped

PAGE_SIZE = 50


class AuditEventOut(msgspec.Struct, frozen=True):
    id: UUID
    seq: int
    at: datetime
    actor_id: UUID | None
    actor: str
    action: str
    entity_type: str
    entity_id: str
    before: Any
    after: Any
    address: str


def to_out(row: AuditEvent) -> AuditEventOut:
    return AuditEventOut(
        id=row.id,
        seq=row.seq,
        at=row.at,
        actor_id=row.actor,
        actor=row.actor_label,
        action=row.action,
        entity_type=row.entity_type,
        entity_id=row.entity_id,
        before=_parsed(row.before),
        after=_parsed(row.after),
        address=row.address,
    )


def _parsed(value: Any) -> Any:
    return json.loads(value) if isinstance(value, str) else value


class AuditPages(Controller):
    path = "/admin/audit"
    include_in_schema = False
    guards = [requires("audit.view")]

    @get("/", name="admin_audit")
    async def show_audit(
        self, entity_type: FromQuery[str | None] = None, entity_id: FromQuery[str | None] = None, before: SeqNumber = None
    ) -> Template:
        events = await list_events(entity_type=entity_type or None, entity_id=entity_id or None, before_seq=before, limit=PAGE_SIZE)
        return Template(
            template_name="admin/audit.html",
            context={
                "events": events,
                "page_size": PAGE_SIZE,
                "filters": {"entity_type": entity_type or "", "entity_id": entity_id or ""},
                "active_nav": "audit",
            },
        )


class AuditApi(Controller):
    path = "/api/v1/audit-events"
    tags = ["audit"]
    guards = [requires("audit.view")]

    @get("/")
    async def list_audit_events(
        self,
        entity_type: FromQuery[str | None] = None,
        entity_id: FromQuery[str | None] = None,
        action: FromQuery[str | None] = None,
        cursor: SeqNumber = None,
    ) -> Page[AuditEventOut]:
        """Newest first; ``next`` is the cursor (a sequence number) of the next page."""
        rows = await list_events(entity_type=entity_type, entity_id=entity_id, action=action, before_seq=cursor, limit=PAGE_SIZE)
        next_cursor = str(rows[-1].seq) if len(rows) == PAGE_SIZE else None
        return page_of([to_out(row) for row in rows], next_cursor)

    @get("/{event_id:uuid}")
    async def get_audit_event(self, event_id: FromPath[UUID]) -> AuditEventOut:
        return to_out(await scoped(AuditEvent).get(event_id))
