"""Two admins demoting each other at the same moment leave one admin, not
none: the last-admin check and the update cannot interleave (PostgreSQL,
where requests really run side by side)."""

from __future__ import annotations

import asyncio
import dataclasses
from typing import Any
from uuid import UUID, uuid4

import asyncpg
import pytest

from tests.support.factories import World, add_member, make_world
from tests.support.postgres import PostgresCluster

pytestmark = pytest.mark.postgres

WAITERS = """
SELECT count(*) FROM pg_stat_activity
WHERE datname = current_database() AND wait_event_type = 'Lock' AND pid <> pg_backend_pid()
"""


async def _admin_context(world: World, user_id: UUID, membership_id: UUID) -> Any:
    from tenants.context import operator_context, system_scope
    from tenants.services.tenants import tenant_by_slug

    async with system_scope("test-factory"):
        tenant = await tenant_by_slug(world.slug)
    return dataclasses.replace(operator_context(tenant, "admin"), user_id=user_id, membership_id=membership_id)


async def _demote(context: Any, target: UUID) -> str:
    """One admin's request: its own transaction, as the middleware opens."""
    from tenants.context import tenant_scope
    from tenants.services.members import LastAdmin, MemberUpdate, update_member

    try:
        async with tenant_scope(context):
            await update_member(target, MemberUpdate(role="planner"))
    except LastAdmin:
        return "last_admin"
    return "demoted"


async def _race(owner_url: str, first: tuple[Any, UUID], second: tuple[Any, UUID]) -> tuple[list[str], int]:
    """Both demotions start while another connection holds both admin rows,
    so each gets as far as it can before it must wait; then both go on at
    once. Without a lock taken before the check, both checks see two admins
    and both updates wait: released, they leave none."""
    blocker = await asyncpg.connect(owner_url)
    try:
        hold = blocker.transaction()
        await hold.start()
        await blocker.execute("SELECT id FROM membership WHERE id = ANY($1::uuid[]) FOR UPDATE", [first[1], second[1]])
        tasks = [asyncio.create_task(_demote(*first)), asyncio.create_task(_demote(*second))]
        waiting = 0
        for _ in range(400):
            # Activity is read once per transaction unless the snapshot is dropped.
            await blocker.execute("SELECT pg_stat_clear_snapshot()")
            waiting = await blocker.fetchval(WAITERS)
            if waiting >= 2 or any(task.done() for task in tasks):
                break
            await asyncio.sleep(0.05)
        await hold.commit()
        results = sorted(await asyncio.gather(*tasks))
    finally:
        await blocker.close()
    return results, waiting


async def _active_admins(world: World) -> int:
    from tenants.context import system_scope
    from tenants.roles import Role
    from tenants.tables import Membership

    async with system_scope("test-read"):
        return int(
            await Membership.count()
            .where(Membership.tenant == world.tenant_id)
            .where(Membership.role == Role.ADMIN.value)
            .where(Membership.active.eq(True))
        )


def test_two_admins_demoting_each_other_at_once_leave_one(run: Any, postgres: PostgresCluster) -> None:
    world: World = run(make_world)
    first = world.accounts["admin"]
    second_membership = run(add_member, world.slug, f"second-admin-{uuid4().hex[:8]}@test.example", "admin")
    second_user = run(_user_of, second_membership)
    assert run(_active_admins, world) == 2

    first_context = run(_admin_context, world, first.user_id, first.membership_id)
    second_context = run(_admin_context, world, second_user, second_membership)
    # Each demotes the other.
    results, waiting = run(_race, postgres.owner_url, (first_context, second_membership), (second_context, first.membership_id))

    assert waiting == 2, f"both requests should have been waiting on the held rows: {results}"
    assert results == ["demoted", "last_admin"]
    assert run(_active_admins, world) == 1


async def _user_of(membership_id: UUID) -> UUID:
    from tenants.context import system_scope
    from tenants.tables import Membership

    async with system_scope("test-read"):
        row = await Membership.select(Membership.user).where(Membership.id == membership_id).first()
    assert row is not None
    return row["user"]  # type: ignore[no-any-return]
