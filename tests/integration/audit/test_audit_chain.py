"""The audit trail on the real database: events chain per tenant, commit
with the change they describe, and every kind of tampering is named.

The first two tests need a trail that nobody has tampered with yet, so they
come before the tests that tamper (pytest runs a module top to bottom).
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import os
import subprocess
import sys
from collections.abc import Callable
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any
from uuid import UUID, uuid4

import pytest

from portal.audit.hashing import GENESIS_HASH, EventFields
from portal.audit.keys import key_ring
from portal.audit.services import NoTransaction, list_events, record
from portal.audit.tables import AuditChainHead, AuditEvent
from portal.audit.verify import verify_all, verify_tenant
from portal.errors import NotFound
from tenants.context import TenantContext, system_scope, tenant_scope
from tenants.roles import Role
from tests.integration.audit.conftest import Tamper, new_tenant

Run = Any
# (tenant, seq) is unique, so two events swap places through a free seq.
SWAP = (
    "UPDATE audit_event SET seq = -1 WHERE tenant = :tenant AND seq = :first;"
    "UPDATE audit_event SET seq = :first WHERE tenant = :tenant AND seq = :second;"
    "UPDATE audit_event SET seq = :second WHERE tenant = :tenant AND seq = -1"
)
REHASH = "UPDATE audit_event SET hash = :hash WHERE tenant = :tenant AND seq = :seq"


class Boom(Exception):
    pass


async def record_orders(context: TenantContext, count: int = 5) -> list[AuditEvent]:
    events = []
    async with tenant_scope(context):
        for number in range(1, count + 1):
            events.append(
                await record(
                    "order.issue",
                    entity_type="order",
                    entity_id=uuid4(),
                    before={"status": "draft"},
                    after={
                        "status": "issued",
                        "number": f"PO-2026-{number:05d}",
                        "price": Decimal("12.50"),
                        "due": date(2026, 12, 1),
                        "issued_at": datetime.now(UTC),
                        "note": "加急",
                    },
                )
            )
    return events


def fields_of(event: AuditEvent) -> EventFields:
    """What the event's hash covers, as ``record`` hashed it: the view of a
    forger who also holds the audit key (the tests of forgers without it are
    in test_audit_keys.py)."""
    return EventFields(
        tenant=event.tenant,
        seq=event.seq,
        at=event.at,
        actor=event.actor,
        actor_label=event.actor_label,
        action=event.action,
        entity_type=event.entity_type,
        entity_id=event.entity_id,
        before=json.loads(event.before),
        after=json.loads(event.after),
        address=event.address,
        prev_hash=event.prev_hash,
        key_id=event.key_id,
    )


async def stored_events(tenant_id: UUID) -> list[dict[str, Any]]:
    async with system_scope("test"):
        rows = await AuditEvent.select().where(AuditEvent.tenant == tenant_id).order_by(AuditEvent.seq)
    return list(rows)


async def problems_of(tenant_id: UUID) -> list[str]:
    async with system_scope("test"):
        return await verify_tenant(tenant_id)


def lines_of(problems: list[str], context: TenantContext) -> list[str]:
    return [line for line in problems if line.startswith(f"tenant {context.tenant_slug}:")]


def portal_audit_verify(env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "portal", "audit", "verify"], env=env or os.environ.copy(), capture_output=True, text=True, timeout=120
    )


def test_intact_trail_verifies_clean(run: Run) -> None:
    context = run(new_tenant)
    events = run(record_orders, context)

    assert [event.seq for event in events] == [1, 2, 3, 4, 5]
    assert events[0].prev_hash == GENESIS_HASH
    assert [event.prev_hash for event in events[1:]] == [event.hash for event in events[:-1]]
    # Other tests of this worker's database tamper with chains of their own:
    # this tenant's chain is the one that must verify clean.
    assert lines_of(run(verify_all), context) == []


def test_cli_verify_exits_0_when_intact_and_1_naming_the_edited_event(
    run: Run, tamper: Tamper, fresh_installation: Callable[[str], dict[str, str]]
) -> None:
    empty = portal_audit_verify(fresh_installation("audit-verify"))
    assert empty.returncode == 0, empty.stderr
    assert "audit trail intact" in empty.stdout

    context = run(new_tenant)
    events = run(record_orders, context)
    # This worker's database also holds the chains other tests tampered with.
    assert lines_of(portal_audit_verify().stderr.splitlines(), context) == []

    tamper("UPDATE audit_event SET entity_id = 'forged' WHERE tenant = :tenant AND seq = 2", tenant=context.tenant_id)
    broken = portal_audit_verify()

    assert broken.returncode == 1
    [line] = lines_of(broken.stderr.splitlines(), context)
    assert "edited" in line
    assert "seq 2" in line
    assert str(events[1].id) in line


def test_stored_event_reads_back_as_hashed(run: Run) -> None:
    context = run(new_tenant)
    [event] = run(record_orders, context, 1)

    [row] = run(stored_events, context.tenant_id)

    assert row["actor"] == context.user_id
    assert row["actor_label"] == "李计划"
    assert row["address"] == "10.0.0.7"
    assert json.loads(row["after"])["price"] == "12.50"
    fields = EventFields(
        tenant=row["tenant"],
        seq=row["seq"],
        at=row["at"],
        actor=row["actor"],
        actor_label=row["actor_label"],
        action=row["action"],
        entity_type=row["entity_type"],
        entity_id=row["entity_id"],
        before=json.loads(row["before"]),
        after=json.loads(row["after"]),
        address=row["address"],
        prev_hash=row["prev_hash"],
        key_id=row["key_id"],
    )
    assert row["key_id"] == key_ring().current.id
    assert fields.digest(key_ring().current) == row["hash"] == event.hash


def test_edited_event_is_named(run: Run, tamper: Tamper) -> None:
    context = run(new_tenant)
    events = run(record_orders, context)

    tamper(
        'UPDATE audit_event SET "after" = :after WHERE tenant = :tenant AND seq = 3',
        after='{"status": "cancelled"}',
        tenant=context.tenant_id,
    )

    [line] = lines_of(run(verify_all), context)
    assert line.startswith(f"tenant {context.tenant_slug}: edited: event seq 3 ({events[2].id}, order.issue)")


def test_edited_event_with_recomputed_hash_is_named(run: Run, tamper: Tamper) -> None:
    context = run(new_tenant)
    events = run(record_orders, context)
    forged = dataclasses.replace(fields_of(events[2]), after={"status": "cancelled"})

    tamper(
        'UPDATE audit_event SET "after" = :after, hash = :hash WHERE tenant = :tenant AND seq = 3',
        after='{"status": "cancelled"}',
        hash=forged.digest(key_ring().current),
        tenant=context.tenant_id,
    )

    [line] = run(problems_of, context.tenant_id)
    assert line == (
        f"tenant {context.tenant_slug}: edited: event seq 4 ({events[3].id}, order.issue) does not link to"
        f" event seq 3 ({events[2].id}, order.issue): one of them was rewritten and its hash recomputed"
    )


def test_deleted_event_is_named(run: Run, tamper: Tamper) -> None:
    context = run(new_tenant)
    events = run(record_orders, context)

    tamper("DELETE FROM audit_event WHERE tenant = :tenant AND seq = 3", tenant=context.tenant_id)

    [line] = lines_of(run(verify_all), context)
    assert line == f"tenant {context.tenant_slug}: deleted: seq 3 missing before event seq 4 ({events[3].id}, order.issue)"


def test_deleted_last_event_is_named(run: Run, tamper: Tamper) -> None:
    context = run(new_tenant)
    events = run(record_orders, context)

    tamper("DELETE FROM audit_event WHERE tenant = :tenant AND seq = 5", tenant=context.tenant_id)

    [line] = run(problems_of, context.tenant_id)
    assert "deleted" in line
    assert f"seq 5 missing after event seq 4 ({events[3].id}, order.issue)" in line


def test_swapped_events_are_named_reordered(run: Run, tamper: Tamper) -> None:
    context = run(new_tenant)
    events = run(record_orders, context)

    tamper(SWAP, tenant=context.tenant_id, first=2, second=3)

    assert lines_of(run(verify_all), context) == [
        f"tenant {context.tenant_slug}: reordered: event seq 2 ({events[2].id}, order.issue) was chained as seq 3",
        f"tenant {context.tenant_slug}: reordered: event seq 3 ({events[1].id}, order.issue) was chained as seq 2",
    ]


def test_swapped_last_events_are_named_reordered(run: Run, tamper: Tamper) -> None:
    context = run(new_tenant)
    events = run(record_orders, context)

    tamper(SWAP, tenant=context.tenant_id, first=4, second=5)

    problems = run(problems_of, context.tenant_id)
    assert problems == [
        f"tenant {context.tenant_slug}: reordered: event seq 4 ({events[4].id}, order.issue) was chained as seq 5",
        f"tenant {context.tenant_slug}: reordered: event seq 5 ({events[3].id}, order.issue) was chained as seq 4",
    ]


def test_swap_with_recomputed_hashes_is_named_reordered(run: Run, tamper: Tamper) -> None:
    context = run(new_tenant)
    events = run(record_orders, context)
    moved_up, moved_down = dataclasses.replace(fields_of(events[2]), seq=2), dataclasses.replace(fields_of(events[1]), seq=3)

    tamper(SWAP, tenant=context.tenant_id, first=2, second=3)
    tamper(REHASH, tenant=context.tenant_id, seq=2, hash=moved_up.digest(key_ring().current))
    tamper(REHASH, tenant=context.tenant_id, seq=3, hash=moved_down.digest(key_ring().current))

    problems = run(problems_of, context.tenant_id)
    assert f"tenant {context.tenant_slug}: reordered: event seq 3 ({events[1].id}, order.issue) follows event seq 1" in "\n".join(problems)
    assert len(problems) == 3


def test_deleted_chain_head_is_named(run: Run, tamper: Tamper) -> None:
    context = run(new_tenant)
    events = run(record_orders, context)

    tamper("DELETE FROM audit_chain_head WHERE tenant = :tenant", tenant=context.tenant_id)

    assert run(problems_of, context.tenant_id) == [
        f"tenant {context.tenant_slug}: deleted: the chain head is missing; the last event is event seq 5 ({events[4].id}, order.issue)"
    ]


def test_event_rolls_back_with_the_change_it_describes(run: Run) -> None:
    context = run(new_tenant)
    run(record_orders, context, 2)

    async def failing_change() -> None:
        async with tenant_scope(context):
            await record("order.cancel", entity_type="order", entity_id="PO-1")
            raise Boom

    with pytest.raises(Boom):
        run(failing_change)
    [after] = run(record_orders, context, 1)

    assert after.seq == 3
    assert [row["action"] for row in run(stored_events, context.tenant_id)] == ["order.issue"] * 3
    assert run(problems_of, context.tenant_id) == []


def test_record_refuses_to_run_outside_a_transaction(run: Run) -> None:
    async def outside() -> None:
        await record("order.issue", entity_type="order", entity_id="PO-1")

    with pytest.raises(NoTransaction):
        run(outside)


def test_system_scope_records_its_name_for_the_named_tenant_only(run: Run) -> None:
    context = run(new_tenant)

    async def nightly() -> AuditEvent:
        async with system_scope("nightly-sla"):
            with pytest.raises(ValueError, match="must name the tenant"):
                await record("order.escalate", entity_type="order", entity_id="PO-1")
            return await record("order.escalate", entity_type="order", entity_id="PO-1", tenant_id=context.tenant_id)

    event = run(nightly)

    assert (event.seq, event.actor, event.actor_label, event.address) == (1, None, "system:nightly-sla", "")
    assert run(problems_of, context.tenant_id) == []


def test_tenant_context_cannot_record_into_another_tenant(run: Run) -> None:
    context = run(new_tenant)
    other = run(new_tenant)

    async def cross() -> None:
        async with tenant_scope(context):
            await record("order.issue", entity_type="order", entity_id="PO-1", tenant_id=other.tenant_id)

    with pytest.raises(ValueError, match="own tenant"):
        run(cross)
    assert run(stored_events, other.tenant_id) == []


def test_tenant_context_cannot_verify_another_tenant(run: Run) -> None:
    context = run(new_tenant)
    other = run(new_tenant)

    async def check_other() -> list[str]:
        async with tenant_scope(context):
            return await verify_tenant(other.tenant_id)

    with pytest.raises(NotFound):
        run(check_other)


def test_concurrent_writers_get_consecutive_seqs(run: Run) -> None:
    context = run(new_tenant)

    async def writers() -> None:
        await asyncio.gather(*(record_orders(context, 2) for _ in range(6)))

    run(writers)

    assert [row["seq"] for row in run(stored_events, context.tenant_id)] == list(range(1, 13))
    assert run(problems_of, context.tenant_id) == []


def test_list_events_filters_newest_first_with_a_seq_cursor(run: Run) -> None:
    context = run(new_tenant)
    other = run(new_tenant)
    events = run(record_orders, context)
    run(record_orders, other, 2)

    async def pages() -> tuple[list[AuditEvent], list[AuditEvent], list[AuditEvent], list[AuditEvent]]:
        async with tenant_scope(context):
            first = await list_events(limit=2)
            second = await list_events(limit=2, before_seq=first[-1].seq)
            one = await list_events(entity_type="order", entity_id=events[1].entity_id)
            none = await list_events(action="order.cancel")
        return first, second, one, none

    first, second, one, none = run(pages)

    assert [event.seq for event in first] == [5, 4]
    assert [event.seq for event in second] == [3, 2]
    assert [event.id for event in one] == [events[1].id]
    assert none == []


def test_supplier_roles_see_no_audit_events(run: Run) -> None:
    context = run(new_tenant)
    run(record_orders, context, 2)
    supplier = TenantContext(
        tenant_id=context.tenant_id,
        tenant_slug=context.tenant_slug,
        tenant_name=context.tenant_name,
        time_zone=context.time_zone,
        currency=context.currency,
        role=Role.SUPPLIER_ADMIN,
        supplier_id=uuid4(),
    )

    async def as_supplier() -> list[AuditEvent]:
        async with tenant_scope(supplier):
            return await list_events()

    assert run(as_supplier) == []


@pytest.mark.postgres
def test_app_role_cannot_change_or_remove_audit_events(run: Run) -> None:
    import asyncpg

    context = run(new_tenant)
    [event] = run(record_orders, context, 1)

    async def attempt(statement: str, *args: Any) -> None:
        async with tenant_scope(context):
            await AuditEvent.raw(statement, *args)

    for statement, args in (
        ("UPDATE audit_event SET action = 'forged' WHERE id = {}", (event.id,)),
        ("DELETE FROM audit_event WHERE id = {}", (event.id,)),
        ("TRUNCATE audit_event", ()),
    ):
        with pytest.raises(asyncpg.exceptions.InsufficientPrivilegeError):
            run(attempt, statement, *args)

    [row] = run(stored_events, context.tenant_id)
    assert row["action"] == "order.issue"
    assert run(problems_of, context.tenant_id) == []


@pytest.mark.postgres
def test_app_role_can_move_the_chain_head_but_not_touch_its_seal_or_remove_it(run: Run) -> None:
    import asyncpg

    context = run(new_tenant)
    run(record_orders, context, 1)

    async def attempt(statement: str) -> None:
        async with tenant_scope(context):
            await AuditChainHead.raw(statement, context.tenant_id)

    for statement in (
        "UPDATE audit_chain_head SET legacy_seal = '' WHERE tenant = {}",
        "DELETE FROM audit_chain_head WHERE tenant = {}",
    ):
        with pytest.raises(asyncpg.exceptions.InsufficientPrivilegeError):
            run(attempt, statement)
    run(record_orders, context, 1)
    assert run(problems_of, context.tenant_id) == []


@pytest.mark.postgres
def test_rls_hides_other_tenants_audit_rows_from_unscoped_queries(run: Run) -> None:
    context = run(new_tenant)
    other = run(new_tenant)
    run(record_orders, other, 2)

    async def unscoped() -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
        async with tenant_scope(context):
            return await AuditEvent.select().where(AuditEvent.tenant == other.tenant_id), await AuditChainHead.select()

    events, heads = run(unscoped)

    assert events == []
    assert heads == []
