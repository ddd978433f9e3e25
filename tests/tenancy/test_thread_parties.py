"""Threads on NCRs and handovers in the isolation worlds: a supplier reads
and writes its own side of its issued NCR and of a started handover it hands
over; the incoming supplier's side of that handover, the buyer's internal
sides, the threads of a draft NCR and a draft handover, another supplier's
threads and another tenant's answer like missing ones, change nothing, and
(on PostgreSQL) stay out of an unfiltered query of the supplier's user."""

from __future__ import annotations

from typing import Any
from uuid import UUID, uuid4

import pytest

from tests.tenancy.matrix import Worlds, changed_tables, snapshot

SUPPLIER_USERS = ("supplier_admin", "supplier_operator")


def _refused(worlds: Worlds) -> dict[str, Any]:
    """Threads the first supplier's users must not reach, by what they are."""
    hidden, other, foreign = worlds.hidden, worlds.other_supplier, worlds.foreign_ids
    return {
        "the incoming supplier's side of its handover": hidden["incoming_thread_id"],
        "a draft NCR's shared thread": hidden["draft_ncr_thread_id"],
        "a draft handover's shared thread": hidden["draft_handover_thread_id"],
        "another supplier's NCR thread": other["ncr_thread_id"],
        "another supplier's handover thread": other["handover_thread_id"],
        "another tenant's NCR thread": foreign["ncr_thread_id"],
        "another tenant's handover thread": foreign["handover_thread_id"],
        "a missing thread": uuid4(),
    }


async def _internal_threads(worlds: Worlds) -> set[UUID]:
    from portal.conversations.tables import Thread
    from tenants.context import system_scope

    async with system_scope("thread-parties-test"):
        rows = await (
            Thread.select(Thread.id)
            .where(Thread.tenant == worlds.home.tenant_id)
            .where(Thread.side == "internal")
            .where(Thread.record_type.is_in(["ncr", "handover"]))
        )
    return {row["id"] for row in rows}


@pytest.mark.parametrize("identity", SUPPLIER_USERS)
def test_a_supplier_reaches_its_own_side_of_ncrs_and_handovers_only(client: Any, run: Any, worlds: Worlds, identity: str) -> None:
    headers = {"authorization": f"Bearer {worlds.tokens[identity]}", "accept-language": "en"}
    for own in (worlds.own["ncr_thread_id"], worlds.own["handover_thread_id"]):
        assert client.get(f"/api/v1/threads/{own}/messages", headers=headers).status_code == 200

    refused = {**_refused(worlds), **{f"internal {key}": key for key in run(_internal_threads, worlds)}}
    before = run(snapshot, worlds.tenant_ids)
    for what, thread_id in refused.items():
        read = client.get(f"/api/v1/threads/{thread_id}/messages", headers=headers)
        assert read.status_code == 404, what
        written = client.post(f"/api/v1/threads/{thread_id}/messages", json={"body": "hello", "client_id": str(uuid4())}, headers=headers)
        assert written.status_code == 404, what
        assert written.json() == client.post(f"/api/v1/threads/{uuid4()}/messages", json={"body": "x"}, headers=headers).json(), what
        assert client.post(f"/api/v1/threads/{thread_id}/read", headers=headers).status_code == 404, what
    assert changed_tables(before, run(snapshot, worlds.tenant_ids)) == []

    # The record's list of threads names its own side alone.
    for record_type in ("ncr", "handover"):
        listed = client.get(
            "/api/v1/threads", params={"record_type": record_type, "record_id": str(worlds.own[f"{record_type}_id"])}, headers=headers
        )
        assert [thread["id"] for thread in listed.json()["items"]] == [str(worlds.own[f"{record_type}_thread_id"])]


@pytest.mark.postgres
def test_row_level_security_keeps_a_supplier_to_its_side_of_ncr_and_handover_threads(run: Any, worlds: Worlds) -> None:
    """Read with no filter at all, as the first supplier's user: only the
    policies limit the rows."""
    from portal.conversations.tables import Message, Thread
    from tenants.context import TenantContext, tenant_scope
    from tenants.roles import Role

    async def unfiltered() -> tuple[set[UUID], set[UUID]]:
        context = TenantContext(
            tenant_id=worlds.home.tenant_id,
            tenant_slug="x",
            tenant_name="x",
            time_zone="UTC",
            currency="CNY",
            role=Role.SUPPLIER_ADMIN,
            supplier_id=worlds.home.supplier_ids[0],
        )
        async with tenant_scope(context):
            threads = {row["id"] for row in await Thread.select(Thread.id)}
            messages = {row["thread"] for row in await Message.select(Message.thread)}
        return threads, messages

    threads, message_threads = run(unfiltered)
    assert {worlds.own["ncr_thread_id"], worlds.own["handover_thread_id"]} <= threads
    refused = {value for value in _refused(worlds).values()} | run(_internal_threads, worlds)
    assert threads & refused == set()
    assert message_threads & refused == set()
