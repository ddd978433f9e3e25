"""Writing and reading the audit trail."""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any
from uuid import UUID, uuid4

from portal.audit.hashing import GENESIS_HASH, EventFields, json_safe
from portal.audit.keys import key_ring
from portal.audit.tables import AuditChainHead, AuditEvent
from portal.rows import insert_row
from tenants.context import TenantContext, current_or_system
from tenants.scoping import scoped

MAX_PAGE = 200

# The UPDATE takes the row lock on the tenant's head (PostgreSQL) or the
# write lock (SQLite) and holds it to the end of the caller's transaction,
# so concurrent writers of one tenant get consecutive numbers in turn.
_ADVANCE_HEAD = "UPDATE audit_chain_head SET seq = seq + 1 WHERE tenant = {} RETURNING seq, hash"
# A tenant's first event; two first events at once must not both insert.
_START_HEAD = "INSERT INTO audit_chain_head (id, tenant, seq, hash) VALUES ({}, {}, 0, {}) ON CONFLICT (tenant) DO NOTHING"


class NoTransaction(RuntimeError):
    """``record`` ran outside a transaction: the event could outlive a change
    that rolled back, or be lost while the change commits."""


async def record(
    action: str,
    *,
    entity_type: str,
    entity_id: UUID | str,
    before: Mapping[str, Any] | None = None,
    after: Mapping[str, Any] | None = None,
    tenant_id: UUID | None = None,
) -> AuditEvent:
    """Append one event to the acting tenant's hash chain, in the caller's
    transaction, so the event commits or rolls back with the change it
    describes; with no transaction running it raises ``NoTransaction``.

    Who, from where and for which tenant come from the current context: a
    tenant context records its user and address and may only write to its
    own tenant's trail; a system scope records ``system:<name>`` and must
    name the tenant (``ValueError`` otherwise).
    """
    if AuditEvent._meta.db.current_transaction.get() is None:
        raise NoTransaction("audit.record must run inside the transaction of the change it records")
    context = current_or_system()
    if isinstance(context, TenantContext):
        if tenant_id is not None and tenant_id != context.tenant_id:
            raise ValueError("a tenant context can only record events of its own tenant")
        tenant, actor, actor_label, address = context.tenant_id, context.user_id, context.user_name, context.address
    else:
        if tenant_id is None:
            raise ValueError(f"system scope {context.name!r} must name the tenant of an audit event")
        tenant, actor, actor_label, address = tenant_id, None, f"system:{context.name}", ""
    seq, prev_hash = await _advance_head(tenant)
    key = key_ring().current
    fields = EventFields(
        tenant=tenant,
        seq=seq,
        # Python's clock has microsecond resolution, the same as both
        # databases, so the stored time reads back exactly as hashed.
        at=datetime.now(UTC),
        actor=actor,
        actor_label=actor_label,
        action=action,
        entity_type=entity_type,
        entity_id=str(entity_id),
        before=json_safe(before),
        after=json_safe(after),
        address=address,
        prev_hash=prev_hash,
        key_id=key.id,
    )
    digest = fields.digest(key)
    event = AuditEvent(
        id=uuid4(),
        tenant=tenant,
        seq=seq,
        at=fields.at,
        actor=actor,
        actor_label=actor_label,
        action=action,
        entity_type=entity_type,
        entity_id=fields.entity_id,
        before=_json_text(fields.before),
        after=_json_text(fields.after),
        address=address,
        prev_hash=prev_hash,
        hash=digest,
        key_id=key.id,
    )
    # The chain's head takes the event's hash in this same statement (the
    # trigger audit_head_moved, migration 2026-12-07T19:00:00).
    await insert_row(event)
    return event


async def _advance_head(tenant: UUID) -> tuple[int, str]:
    """The next seq of ``tenant``'s chain and the hash it links to."""
    rows = await AuditChainHead.raw(_ADVANCE_HEAD, tenant)
    if not rows:
        await AuditChainHead.raw(_START_HEAD, uuid4(), tenant, GENESIS_HASH)
        rows = await AuditChainHead.raw(_ADVANCE_HEAD, tenant)
    return int(rows[0]["seq"]), str(rows[0]["hash"])


def _json_text(value: Any) -> str | None:
    # Dumped here, not by whichever JSON library Piccolo picks, so the text
    # parses back to exactly the data that was hashed; None stays SQL NULL.
    return None if value is None else json.dumps(value, ensure_ascii=False, allow_nan=False)


async def list_events(
    entity_type: str | None = None,
    entity_id: str | None = None,
    action: str | None = None,
    limit: int = 50,
    before_seq: int | None = None,
) -> list[AuditEvent]:
    """The current tenant's events, newest first, at most ``limit`` (capped at
    ``MAX_PAGE``) per page; pass the last seq of a page as ``before_seq`` for
    the next. Goes through the scoping layer: supplier roles see nothing."""
    query = scoped(AuditEvent).objects()
    if entity_type is not None:
        query = query.where(AuditEvent.entity_type == entity_type)
    if entity_id is not None:
        query = query.where(AuditEvent.entity_id == entity_id)
    if action is not None:
        query = query.where(AuditEvent.action == action)
    if before_seq is not None:
        query = query.where(AuditEvent.seq < before_seq)
    rows = await query.order_by(AuditEvent.seq, ascending=False).limit(max(1, min(limit, MAX_PAGE)))
    return list(rows)
