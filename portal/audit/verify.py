"""Checking the hash chains: every event recomputed, every link followed.

Each problem is one line naming the tenant and the event (seq, id, action)
and saying what happened to it:

- edited: an event's contents no longer match its hash, or its hash was
  recomputed so the next event no longer links to it;
- deleted: a seq is missing, or the chain head is ahead of the last event;
- reordered: an event's hash was computed for another seq, or it links to
  an event other than the one before it;
- unkeyed: an event carries a plain hash where only the events sealed when
  the chain was keyed may (a keyed event rewritten without the key);
- forged: a checkpoint or the legacy seal whose signature does not hold;
- unverifiable: an event signed with a key that is not configured.

Against the newest checkpoint whose signature holds (and the legacy seal),
the event at the signed seq must still exist and have the signed hash:
that catches a tail deleted with the chain head moved back, and a tail
rewritten under a recomputed head. Verify only reads: it never writes a
checkpoint (``portal audit checkpoint`` and the periodic job do).
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass, field, replace
from typing import Any
from uuid import UUID

from portal.audit.checkpoints import LEGACY_SEAL, BadCheckpoint, Checkpoint, Found, newest_checkpoint, parse
from portal.audit.hashing import GENESIS_HASH, EventFields
from portal.audit.keys import KeyRing, key_ring
from portal.audit.tables import AuditChainHead, AuditEvent
from portal.db import open_transaction
from portal.documents.storage import Storage, open_storage
from portal.errors import NotFound
from portal.settings import get_settings
from tenants.context import TenantContext, current_or_system, system_scope
from tenants.scoping import scoped
from tenants.tables import Tenant

BATCH_SIZE = 500
# How far back through moved events a moved event's original seq is traced.
MAX_TRACE = 50


async def verify_all(storage: Storage | None = None) -> list[str]:
    """Check every tenant's chain, against its newest checkpoint in
    ``storage`` (the configured one by default), in the named system scope
    "audit-verify"; an intact trail gives []."""
    storage = storage or open_storage(get_settings())
    engine = AuditEvent._meta.db
    # Read transactions (the writing one system_scope would open locks every
    # SQLite writer out for the whole walk), one per tenant: a SQLite reader
    # sees the database as of its first read, and the tenant's checkpoint is
    # read before that, so a head signed meanwhile is never missing from it.
    async with open_transaction(engine, writes=False), system_scope("audit-verify"):
        tenants = await Tenant.select(Tenant.id).order_by(Tenant.slug)
    problems: list[str] = []
    for row in tenants:
        found = await newest_checkpoint(storage, row["id"], key_ring())
        async with open_transaction(engine, writes=False), system_scope("audit-verify"):
            problems += await verify_tenant(row["id"], storage, found=found)
    return problems


async def verify_tenant(tenant_id: UUID, storage: Storage | None = None, *, found: Found | None = None) -> list[str]:
    """Check one tenant's chain against its newest checkpoint (``found``,
    read from ``storage`` when not given); [] when intact. A tenant context
    may only check its own tenant (NotFound otherwise, as for any foreign id)."""
    context = current_or_system()
    if isinstance(context, TenantContext) and context.tenant_id != tenant_id:
        raise NotFound()
    ring = key_ring()
    if found is None:
        found = await newest_checkpoint(storage or open_storage(get_settings()), tenant_id, ring)
    slug = await Tenant.select(Tenant.slug).where(Tenant.id == tenant_id).first()
    return await _Walk(tenant_id, slug["slug"] if slug else str(tenant_id), ring, found).run()


@dataclass
class _Stored:
    """An event as read back. ``fields`` is None when a JSON column no longer
    parses, which no hash can match."""

    id: UUID
    seq: int
    action: str
    prev_hash: str
    hash: str
    key_id: str
    fields: EventFields | None
    ring: KeyRing
    intact: bool = field(init=False)

    def __post_init__(self) -> None:
        self.intact = self.hashes_as(self.seq)

    @property
    def name(self) -> str:
        return f"event seq {self.seq} ({self.id}, {self.action})"

    @property
    def key_unknown(self) -> bool:
        return bool(self.key_id) and self.ring.get(self.key_id) is None

    def hashes_as(self, seq: int) -> bool:
        return self.fields is not None and replace(self.fields, seq=seq).expected_hash(self.ring) == self.hash


class _Walk:
    def __init__(self, tenant_id: UUID, slug: str, ring: KeyRing, found: Found) -> None:
        self.tenant_id = tenant_id
        self.slug = slug
        self.ring = ring
        self.found = found
        self.problems: list[str] = []
        self._written_seqs: dict[UUID, int | None] = {}

    def report(self, kind: str, text: str) -> None:
        self.problems.append(f"tenant {self.slug}: {kind}: {text}")

    async def run(self) -> list[str]:
        # The head first: an event committed after this read has a higher seq
        # than the head says, so a concurrent writer never looks like a
        # deletion. Such events are still walked; only the head check skips them.
        head = (
            await scoped(AuditChainHead)
            .select(AuditChainHead.seq, AuditChainHead.hash, AuditChainHead.legacy_seal)
            .where(AuditChainHead.tenant == self.tenant_id)
            .first()
        )
        seal = self._legacy_seal(head)
        for line in self.found.rejected:
            self.report("forged", line)
        pins = [pin for pin in (seal, self.found.checkpoint) if pin is not None]
        pinned: dict[int, _Stored] = {}
        expected = 1
        previous: _Stored | None = None
        at_head: _Stored | None = None
        async for event in self._events():
            await self._check(event, previous, expected)
            if event.intact and not event.key_id and (seal is None or event.seq > seal.seq):
                sealed = f"the legacy seal ends at seq {seal.seq}" if seal is not None else "this chain has no legacy seal"
                self.report("unkeyed", f"{event.name} is hashed without the audit key, as only events from before keys may be ({sealed})")
            expected = max(expected, event.seq + 1)
            if head is not None and event.seq == head["seq"]:
                at_head = event
            if any(pin.seq == event.seq for pin in pins):
                pinned[event.seq] = event
            previous = event
        self._check_head(head, previous, at_head)
        for pin in pins:
            self._check_pin(pin, pinned.get(pin.seq), previous)
        return self.problems

    def _legacy_seal(self, head: Mapping[str, Any] | None) -> Checkpoint | None:
        if head is None or not head["legacy_seal"]:
            return None
        try:
            return parse(head["legacy_seal"], kind=LEGACY_SEAL, tenant=self.tenant_id, ring=self.ring)
        except BadCheckpoint as exc:
            self.report("forged", f"the legacy seal on the chain head: {exc}")
            return None

    def _check_pin(self, pin: Checkpoint, event: _Stored | None, last: _Stored | None) -> None:
        """The signed seq must still be there, with the signed hash."""
        if event is None:
            missing = f"seq {pin.seq} missing"
            if last is not None and last.seq < pin.seq:
                missing = f"{_seqs(last.seq + 1, pin.seq)} missing after {last.name}"
            self.report("deleted", f"{missing}: {pin.label} signed the chain up to seq {pin.seq}")
        elif event.hash != pin.hash:
            self.report("edited", f"{event.name} is not the event {pin.label} signed: the chain was rewritten up to here")

    async def _check(self, event: _Stored, previous: _Stored | None, expected: int) -> None:
        if event.seq > expected:
            self.report("deleted", f"{_seqs(expected, event.seq - 1)} missing before {event.name}")
        if event.key_unknown:
            self.report(
                "unverifiable", f"{event.name} is signed with audit key {event.key_id}, which is not configured (PORTAL_AUDIT_OLD_KEYS)"
            )
            return
        if not event.intact:
            written_as = await self._written_seq(event, depth=0)
            if written_as is None:
                self.report("edited", f"{event.name}: its stored hash does not match its contents")
            else:
                self.report("reordered", f"{event.name} was chained as seq {written_as}")
            return
        # A link is only judged between two intact neighbours: after a gap or
        # a broken event the problem has been reported already.
        if event.seq != expected or (previous is not None and not previous.intact):
            return
        link = previous.hash if previous is not None else GENESIS_HASH
        if event.prev_hash == link:
            return
        linked = await self._find(AuditEvent.hash == event.prev_hash)
        if linked is not None:
            after = previous.name if previous is not None else "the start of the chain"
            self.report("reordered", f"{event.name} follows {linked.name} in the hash chain, not {after}")
        elif previous is not None:
            # Either side may be the one rewritten; the line must not guess.
            self.report("edited", f"{event.name} does not link to {previous.name}: one of them was rewritten and its hash recomputed")
        else:
            self.report("edited", f"{event.name} was rewritten: as the first event it should link to the start of the chain")

    def _check_head(self, head: Mapping[str, Any] | None, last: _Stored | None, at_head: _Stored | None) -> None:
        if head is None:
            if last is not None:
                self.report("deleted", f"the chain head is missing; the last event is {last.name}")
            return
        if last is None:
            if head["seq"] > 0:
                self.report("deleted", f"{_seqs(1, head['seq'])} missing: the chain head is at seq {head['seq']} and no events remain")
            return
        if head["seq"] > last.seq:
            self.report("deleted", f"{_seqs(last.seq + 1, head['seq'])} missing after {last.name}: the chain head is at seq {head['seq']}")
        elif at_head is not None and at_head.intact and at_head.hash != head["hash"]:
            self.report("edited", f"{at_head.name} was rewritten: its hash differs from the chain head's")

    async def _written_seq(self, event: _Stored, depth: int) -> int | None:
        """The seq a broken event's hash was computed with, when its
        neighbours in the hash chain explain it; None means its contents
        changed. Looks events up by hash (a scan of the tenant's events):
        only broken events pay for it."""
        if event.id in self._written_seqs:
            return self._written_seqs[event.id]
        candidates: list[int] = []
        if event.prev_hash == GENESIS_HASH:
            candidates.append(1)
        elif depth < MAX_TRACE:
            predecessor = await self._find(AuditEvent.hash == event.prev_hash)
            if predecessor is not None:
                seq = predecessor.seq if predecessor.intact else await self._written_seq(predecessor, depth + 1)
                if seq is not None:
                    candidates.append(seq + 1)
        successor = await self._find(AuditEvent.prev_hash == event.hash)
        if successor is not None and successor.intact:
            candidates.append(successor.seq - 1)
        written_as = next((seq for seq in candidates if event.hashes_as(seq)), None)
        self._written_seqs[event.id] = written_as
        return written_as

    async def _find(self, condition: Any) -> _Stored | None:
        row = await self._query().where(condition).first()
        return _stored(row, self.ring) if row is not None else None

    async def _events(self) -> AsyncIterator[_Stored]:
        """The tenant's events in seq order, a batch at a time."""
        after: int | None = None
        while True:
            query = self._query()
            if after is not None:
                query = query.where(AuditEvent.seq > after)
            rows = await query.order_by(AuditEvent.seq).limit(BATCH_SIZE)
            for row in rows:
                yield _stored(row, self.ring)
            if len(rows) < BATCH_SIZE:
                return
            after = rows[-1]["seq"]

    def _query(self) -> Any:
        return scoped(AuditEvent).select().where(AuditEvent.tenant == self.tenant_id)


def _stored(row: Mapping[str, Any], ring: KeyRing) -> _Stored:
    try:
        before, after = _parse_json(row["before"]), _parse_json(row["after"])
    except ValueError:
        fields = None
    else:
        fields = EventFields(
            tenant=UUID(str(row["tenant"])),
            seq=row["seq"],
            at=row["at"],
            actor=UUID(str(row["actor"])) if row["actor"] is not None else None,
            actor_label=row["actor_label"],
            action=row["action"],
            entity_type=row["entity_type"],
            entity_id=row["entity_id"],
            before=before,
            after=after,
            address=row["address"],
            prev_hash=row["prev_hash"],
            key_id=row["key_id"],
        )
    return _Stored(
        id=UUID(str(row["id"])),
        seq=row["seq"],
        action=row["action"],
        prev_hash=row["prev_hash"],
        hash=row["hash"],
        key_id=row["key_id"],
        fields=fields,
        ring=ring,
    )


def _parse_json(value: Any) -> Any:
    return json.loads(value) if isinstance(value, str) else value


def _seqs(first: int, last: int) -> str:
    return f"seq {first}" if first == last else f"seq {first}-{last}"
