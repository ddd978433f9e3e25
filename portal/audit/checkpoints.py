"""Signed checkpoints of each tenant's chain head, kept in the document
storage, out of reach of someone who can only write the database.

Keyed hashes stop a database writer from rewriting events, but not from
deleting the newest ones and moving the chain head back. A checkpoint pins
(tenant, seq, head hash) under the audit key at a moment in time; verify
then needs the event at that seq, with that hash, for the chain to be
intact. ``write_checkpoints`` runs on a schedule (a periodic job, and
``portal audit checkpoint``); a truncation of events newer than the last
checkpoint stays invisible, so the schedule bounds the window.
"""

from __future__ import annotations

import json
from collections.abc import Collection
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

import structlog

from portal.audit.hashing import canonical_json, iso_utc
from portal.audit.keys import AuditKey, KeyRing, key_ring
from portal.audit.tables import AuditChainHead
from portal.db import get_engine, open_transaction
from portal.documents.storage import Storage, checkpoint_key, checkpoint_prefix, open_storage
from portal.settings import get_settings
from tenants.context import system_scope

log = structlog.get_logger(__name__)

CHECKPOINT = "audit-checkpoint"
LEGACY_SEAL = "audit-legacy-seal"
# How many of the newest checkpoints verify reads looking for one whose
# signature holds, when the newest do not.
LOOKBACK = 20


class BadCheckpoint(ValueError):
    """A checkpoint or seal that does not parse or whose signature fails."""


@dataclass(frozen=True)
class Checkpoint:
    """A signed statement: ``tenant``'s chain ran to ``seq`` with head
    ``hash`` at ``at``. ``kind`` keeps a checkpoint and a legacy seal from
    standing in for each other."""

    kind: str
    tenant: UUID
    seq: int
    hash: str
    at: datetime
    key_id: str
    signature: str

    def payload(self) -> str:
        return canonical_json(
            {
                "kind": self.kind,
                "tenant": str(self.tenant),
                "seq": self.seq,
                "hash": self.hash,
                "at": iso_utc(self.at),
                "key_id": self.key_id,
            }
        )

    def to_json(self) -> str:
        return canonical_json({**json.loads(self.payload()), "signature": self.signature})

    @property
    def label(self) -> str:
        what = "legacy seal" if self.kind == LEGACY_SEAL else "checkpoint"
        return f"the {what} of {iso_utc(self.at)[:19]}Z"


def sign(kind: str, tenant: UUID, seq: int, head_hash: str, key: AuditKey, at: datetime | None = None) -> Checkpoint:
    unsigned = Checkpoint(kind, tenant, seq, head_hash, at or datetime.now(UTC), key.id, "")
    return replace(unsigned, signature=key.sign(unsigned.payload()))


def parse(text: str | bytes, *, kind: str, tenant: UUID, ring: KeyRing) -> Checkpoint:
    """The checkpoint in ``text`` when it is a ``kind`` of ``tenant`` signed
    by a known key; BadCheckpoint saying why otherwise."""
    try:
        data: dict[str, Any] = json.loads(text)
        checkpoint = Checkpoint(
            kind=str(data["kind"]),
            tenant=UUID(str(data["tenant"])),
            seq=int(data["seq"]),
            hash=str(data["hash"]),
            at=datetime.fromisoformat(str(data["at"])),
            key_id=str(data["key_id"]),
            signature=str(data["signature"]),
        )
    except (ValueError, KeyError, TypeError) as exc:
        raise BadCheckpoint("it does not parse") from exc
    key = ring.get(checkpoint.key_id)
    if key is None:
        raise BadCheckpoint(f"it is signed with key {checkpoint.key_id!r}, which is not configured (PORTAL_AUDIT_OLD_KEYS)")
    if checkpoint.kind != kind or checkpoint.tenant != tenant or key.sign(checkpoint.payload()) != checkpoint.signature:
        raise BadCheckpoint("its signature does not match its contents")
    return checkpoint


@dataclass(frozen=True)
class Found:
    """The newest checkpoint whose signature holds (None when there is none),
    and a line for every newer one that failed."""

    checkpoint: Checkpoint | None
    rejected: list[str]


async def newest_checkpoint(storage: Storage, tenant: UUID, ring: KeyRing) -> Found:
    rejected: list[str] = []
    for key in await storage.list_keys(checkpoint_prefix(tenant), LOOKBACK):
        data = await storage.read_bytes(key)
        if data is None:
            continue
        try:
            return Found(parse(data, kind=CHECKPOINT, tenant=tenant, ring=ring), rejected)
        except BadCheckpoint as exc:
            rejected.append(f"checkpoint {key}: {exc}")
    return Found(None, rejected)


class CheckpointRefused(Exception):
    """The chain head went back or changed under a checkpoint: signing it
    would bless a truncated or rewritten tail."""

    def __init__(self, problems: list[str], written: int) -> None:
        super().__init__("; ".join(problems))
        self.problems = problems
        self.written = written


async def write_checkpoints(storage: Storage | None = None, *, tenant_ids: Collection[UUID] | None = None) -> int:
    """Write a signed checkpoint for every tenant (or those of
    ``tenant_ids``) whose chain head moved since its last checkpoint;
    returns how many were written. A head behind its last checkpoint, or at
    the same seq with another hash, is never signed: it is logged and
    raised as CheckpointRefused once the other tenants are done.

    Only signs what the chain head says; run ``portal audit verify`` to
    check the events behind it."""
    if tenant_ids is not None and not tenant_ids:
        return 0
    storage = storage or open_storage(get_settings())
    ring = key_ring()
    async with open_transaction(get_engine(), writes=False), system_scope(CHECKPOINT):
        query = AuditChainHead.select(AuditChainHead.tenant, AuditChainHead.seq, AuditChainHead.hash).where(AuditChainHead.seq > 0)
        if tenant_ids is not None:
            query = query.where(AuditChainHead.tenant.is_in(list(tenant_ids)))
        heads = await query
    written = 0
    refused: list[str] = []
    for head in heads:
        tenant = UUID(str(head["tenant"]))
        last = (await newest_checkpoint(storage, tenant, ring)).checkpoint
        if last is not None:
            if last.seq == head["seq"] and last.hash == head["hash"]:
                continue
            if last.seq >= head["seq"]:
                refused.append(f"tenant {tenant}: the chain head (seq {head['seq']}) is not ahead of {last.label} (seq {last.seq})")
                log.error("audit_checkpoint_refused", tenant=str(tenant), head_seq=head["seq"], checkpoint_seq=last.seq)
                continue
        checkpoint = sign(CHECKPOINT, tenant, head["seq"], head["hash"], ring.current)
        await storage.put_bytes(checkpoint_key(tenant, checkpoint.seq), checkpoint.to_json().encode("utf-8"))
        log.info("audit_checkpoint_written", tenant=str(tenant), seq=checkpoint.seq, key_id=checkpoint.key_id)
        written += 1
    if refused:
        raise CheckpointRefused(refused, written)
    return written


async def checkpoint_job(payload: dict[str, Any]) -> None:
    """The periodic ``audit.checkpoint`` job (hourly, once per cluster). A
    refused head fails the job, so it ends parked with the reason in the
    admins' list of jobs instead of only in a log."""
    await write_checkpoints()
