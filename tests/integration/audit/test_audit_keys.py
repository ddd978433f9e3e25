"""The audit trail against someone who can write the database but holds
neither the audit key nor the document storage: keyed hashes, signed
checkpoints, key rotation. Tampering runs as the database owner (SQLite:
the file itself), the CLI runs as an operator would run it.
"""

from __future__ import annotations

import dataclasses
import json
import os
import subprocess
import sys
from typing import Any
from uuid import UUID

import pytest

from portal.audit.checkpoints import CheckpointRefused, write_checkpoints
from portal.audit.hashing import GENESIS_HASH, EventFields
from portal.audit.keys import audit_key, key_ring
from portal.audit.services import record
from portal.audit.tables import AuditEvent
from portal.documents.storage import checkpoint_key, checkpoint_prefix, open_storage
from portal.settings import get_settings
from tenants.context import TenantContext, system_scope, tenant_scope
from tests.integration.audit.conftest import Tamper, new_tenant

Run = Any
MISMATCH = "its stored hash does not match its contents"
FORGED = "its signature does not match its contents"
NEW_AUDIT_KEY = "rotated-audit-key-that-is-long-enough-0123456789"
# Move an event's contents, links and hash, and the chain head, as a forger would.
REWRITE = "UPDATE audit_event SET entity_id = :entity, prev_hash = :prev, hash = :hash, key_id = :key WHERE tenant = :tenant AND seq = :seq"
MOVE_HEAD = "UPDATE audit_chain_head SET seq = :seq, hash = :hash WHERE tenant = :tenant"


async def record_orders(context: TenantContext, count: int = 5) -> list[AuditEvent]:
    async with tenant_scope(context):
        return [
            await record("order.issue", entity_type="order", entity_id=f"PO-2026-{number:05d}", after={"status": "issued"})
            for number in range(1, count + 1)
        ]


def fields_of(event: AuditEvent) -> EventFields:
    return EventFields(
        tenant=event.tenant,
        seq=event.seq,
        at=event.at,
        actor=event.actor,
        actor_label=event.actor_label,
        action=event.action,
        entity_type=event.entity_type,
        entity_id=event.entity_id,
        before=None,
        after=json.loads(event.after),
        address=event.address,
        prev_hash=event.prev_hash,
        key_id=event.key_id,
    )


def rechain(tamper: Tamper, events: list[AuditEvent], start: int, *, key_id: str | None = None, edit: bool = True) -> None:
    """Edit the event at seq ``start`` (unless ``edit`` is false) and
    recompute every later hash and link, and the chain head, with the only
    hash a forger without the key can compute: the plain SHA-256 (under the
    events' own key id, or ``key_id``)."""
    previous = events[start - 2].hash if start > 1 else GENESIS_HASH
    for event in events[start - 1 :]:
        fields = dataclasses.replace(
            fields_of(event),
            prev_hash=previous,
            entity_id="forged" if edit and event.seq == start else event.entity_id,
            key_id=event.key_id if key_id is None else key_id,
        )
        previous = fields.digest(None)
        tamper(
            REWRITE, entity=fields.entity_id, prev=fields.prev_hash, hash=previous, key=fields.key_id, tenant=event.tenant, seq=event.seq
        )
    tamper(MOVE_HEAD, seq=events[-1].seq, hash=previous, tenant=events[0].tenant)


def truncate(tamper: Tamper, events: list[AuditEvent], keep: int) -> None:
    """Delete every event after seq ``keep`` and move the head back to it."""
    tenant = events[0].tenant
    tamper("DELETE FROM audit_event WHERE tenant = :tenant AND seq > :keep", tenant=tenant, keep=keep)
    tamper(MOVE_HEAD, seq=keep, hash=events[keep - 1].hash, tenant=tenant)


def portal(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "portal", *args], env={**os.environ, **env}, capture_output=True, text=True, timeout=120, check=False
    )


def verify_lines(context: TenantContext, **env: str) -> tuple[int, list[str]]:
    """Exit code of `portal audit verify` and its lines about ``context``'s
    tenant (other tests tamper with their own tenants in the same database)."""
    result = portal("audit", "verify", **env)
    lines = [line for line in result.stderr.splitlines() if line.startswith(f"tenant {context.tenant_slug}:")]
    assert result.returncode in (0, 1), result.stderr
    return result.returncode, lines


def name(event: AuditEvent) -> str:
    return f"event seq {event.seq} ({event.id}, {event.action})"


def checkpoint(context: TenantContext, **env: str) -> subprocess.CompletedProcess[str]:
    return portal("audit", "checkpoint", "--tenant", context.tenant_slug, **env)


def test_an_untouched_keyed_chain_verifies_and_each_event_names_the_current_key(run: Run) -> None:
    context = run(new_tenant)
    events = run(record_orders, context)

    assert {event.key_id for event in events} == {key_ring().current.id}
    assert verify_lines(context)[1] == []


def test_an_event_edited_with_every_later_hash_recomputed_without_the_key_is_detected(run: Run, tamper: Tamper) -> None:
    context = run(new_tenant)
    events = run(record_orders, context)

    rechain(tamper, events, 3)

    code, lines = verify_lines(context)
    assert code == 1
    assert lines == [f"tenant {context.tenant_slug}: edited: {name(events[seq - 1])}: {MISMATCH}" for seq in (3, 4, 5)]


def test_a_tail_rewritten_as_unkeyed_events_is_detected(run: Run, tamper: Tamper) -> None:
    context = run(new_tenant)
    events = run(record_orders, context)

    rechain(tamper, events, 1, key_id="")

    code, lines = verify_lines(context)
    assert code == 1
    assert len(lines) == 5
    assert all(": unkeyed: " in line and "this chain has no legacy seal" in line for line in lines)


def test_a_hash_made_with_a_guessed_key_is_detected(run: Run, tamper: Tamper) -> None:
    context = run(new_tenant)
    events = run(record_orders, context, 2)
    guess = audit_key(b"guessed-key-" * 4)
    forged = dataclasses.replace(fields_of(events[1]), entity_id="forged")

    tamper(REWRITE, entity="forged", prev=forged.prev_hash, hash=forged.digest(guess), key=forged.key_id, tenant=context.tenant_id, seq=2)
    tamper(MOVE_HEAD, seq=2, hash=forged.digest(guess), tenant=context.tenant_id)

    code, lines = verify_lines(context)
    assert code == 1
    assert lines == [f"tenant {context.tenant_slug}: edited: {name(events[1])}: {MISMATCH}"]


def test_checkpoint_writes_once_per_moved_head_into_the_document_storage(run: Run) -> None:
    context = run(new_tenant)
    run(record_orders, context, 3)
    storage = open_storage(get_settings())

    first, again = checkpoint(context), checkpoint(context)
    run(record_orders, context, 1)
    moved = checkpoint(context)

    assert (first.returncode, first.stdout.strip()) == (0, "portal: 1 audit checkpoints written")
    assert again.stdout.strip() == "portal: 0 audit checkpoints written"
    assert moved.stdout.strip() == "portal: 1 audit checkpoints written"
    keys = run(storage.list_keys, checkpoint_prefix(context.tenant_id), 10)
    assert keys == [checkpoint_key(context.tenant_id, 4), checkpoint_key(context.tenant_id, 3)]
    newest = json.loads(run(storage.read_bytes, keys[0]))
    assert (newest["tenant"], newest["seq"], newest["key_id"]) == (str(context.tenant_id), 4, key_ring().current.id)
    assert set(newest) == {"kind", "tenant", "seq", "hash", "at", "key_id", "signature"}


def test_write_checkpoints_counts_the_tenants_whose_head_moved(run: Run) -> None:
    context, other = run(new_tenant), run(new_tenant)
    run(record_orders, context, 2)
    run(record_orders, other, 1)

    async def write(tenant_ids: list[UUID]) -> int:
        return await write_checkpoints(tenant_ids=tenant_ids)

    assert run(write, [context.tenant_id, other.tenant_id]) == 2
    run(record_orders, other, 1)
    assert run(write, [context.tenant_id, other.tenant_id]) == 1


def test_a_truncated_tail_is_detected_against_the_last_checkpoint(run: Run, tamper: Tamper) -> None:
    context = run(new_tenant)
    events = run(record_orders, context)
    assert checkpoint(context).returncode == 0

    truncate(tamper, events, 3)

    code, lines = verify_lines(context)
    assert code == 1
    [line] = lines
    assert line.startswith(f"tenant {context.tenant_slug}: deleted: seq 4-5 missing after {name(events[2])}: the checkpoint of ")
    assert line.endswith("signed the chain up to seq 5")


def test_checkpoint_refuses_to_sign_a_head_that_went_back(run: Run, tamper: Tamper) -> None:
    context = run(new_tenant)
    events = run(record_orders, context)
    assert checkpoint(context).returncode == 0
    truncate(tamper, events, 3)

    refused = checkpoint(context)

    assert refused.returncode == 1
    assert "refused" in refused.stderr
    assert "(seq 3) is not ahead of the checkpoint" in refused.stderr

    async def write() -> int:
        return await write_checkpoints(tenant_ids=[context.tenant_id])

    with pytest.raises(CheckpointRefused) as refusal:
        run(write)
    assert refusal.value.written == 0


def test_a_truncated_tail_regrown_by_new_events_is_detected(run: Run, tamper: Tamper) -> None:
    context = run(new_tenant)
    events = run(record_orders, context)
    assert checkpoint(context).returncode == 0
    truncate(tamper, events, 3)

    regrown = run(record_orders, context, 3)

    assert [event.seq for event in regrown] == [4, 5, 6]
    code, lines = verify_lines(context)
    assert code == 1
    [line] = lines
    assert line.startswith(f"tenant {context.tenant_slug}: edited: {name(regrown[1])} is not the event the checkpoint of ")


def test_a_checkpoint_with_a_forged_signature_is_detected(run: Run, tamper: Tamper) -> None:
    context = run(new_tenant)
    events = run(record_orders, context)
    assert checkpoint(context).returncode == 0
    storage = open_storage(get_settings())
    real_key = checkpoint_key(context.tenant_id, 5)
    # The forger truncates the chain and writes a checkpoint for the new,
    # shorter head, newer than the real one; it can only guess the key.
    truncate(tamper, events, 3)
    forged = json.loads(run(storage.read_bytes, real_key))
    forged.update(seq=3, hash=events[2].hash, signature=audit_key(b"guessed-key-" * 4).sign("anything"))
    run(storage.put_bytes, checkpoint_key(context.tenant_id, 3), json.dumps(forged).encode())
    # ... and rewrites the real one in place to match it.
    run(storage.put_bytes, real_key, json.dumps({**forged, "signature": "0" * 64}).encode())

    code, lines = verify_lines(context)

    assert code == 1
    assert lines == [
        f"tenant {context.tenant_slug}: forged: checkpoint {real_key}: {FORGED}",
        f"tenant {context.tenant_slug}: forged: checkpoint {checkpoint_key(context.tenant_id, 3)}: {FORGED}",
    ]


def test_the_newest_checkpoint_with_a_valid_signature_still_catches_the_truncation(run: Run, tamper: Tamper) -> None:
    context = run(new_tenant)
    events = run(record_orders, context)
    assert checkpoint(context).returncode == 0
    storage = open_storage(get_settings())
    truncate(tamper, events, 3)
    forged = json.loads(run(storage.read_bytes, checkpoint_key(context.tenant_id, 5)))
    forged.update(seq=6, hash="f" * 64)
    run(storage.put_bytes, checkpoint_key(context.tenant_id, 6), json.dumps(forged).encode())

    code, lines = verify_lines(context)

    assert code == 1
    assert lines[0] == f"tenant {context.tenant_slug}: forged: checkpoint {checkpoint_key(context.tenant_id, 6)}: {FORGED}"
    assert lines[1].startswith(f"tenant {context.tenant_slug}: deleted: seq 4-5 missing after {name(events[2])}")
    assert len(lines) == 2


RECORD_ONE = """
import sys
from uuid import UUID

import pytest

from portal.audit.services import record
from portal.cli import run
from tenants.context import system_scope


async def main() -> None:
    async with system_scope("rotation-test"):
        await record("order.issue", entity_type="order", entity_id="PO-rotated", tenant_id=UUID(sys.argv[1]))


run(main)
"""


def test_key_rotation_keeps_old_events_and_checkpoints_verifiable(run: Run) -> None:
    context = run(new_tenant)
    old_events = run(record_orders, context, 2)
    assert checkpoint(context).returncode == 0
    secret_key = get_settings().secret_key
    # The documented rotation: a new PORTAL_AUDIT_KEY, and the secret key the
    # old audit key was derived from kept in PORTAL_AUDIT_OLD_KEYS.
    rotated = {"PORTAL_AUDIT_KEY": NEW_AUDIT_KEY, "PORTAL_AUDIT_OLD_KEYS": secret_key}
    written = subprocess.run(
        [sys.executable, "-c", RECORD_ONE, str(context.tenant_id)],
        env={**os.environ, **rotated},
        capture_output=True,
        text=True,
        check=False,
    )
    assert written.returncode == 0, written.stderr
    assert checkpoint(context, **rotated).stdout.strip() == "portal: 1 audit checkpoints written"

    async def key_ids() -> list[str]:
        async with system_scope("test"):
            rows = await AuditEvent.select(AuditEvent.key_id).where(AuditEvent.tenant == context.tenant_id).order_by(AuditEvent.seq)
        return [row["key_id"] for row in rows]

    assert run(key_ids) == [key_ring().current.id] * 2 + [audit_key(NEW_AUDIT_KEY.encode()).id]
    assert verify_lines(context, **rotated)[1] == []
    # Without the retired key the old events cannot be checked, and say so.
    _, forgotten = verify_lines(context, PORTAL_AUDIT_KEY=NEW_AUDIT_KEY)
    assert [line.split(": ")[1] for line in forgotten] == ["unverifiable", "unverifiable"]
    assert str(old_events[0].id) in forgotten[0]
    assert f"audit key {key_ring().current.id}, which is not configured" in forgotten[0]
