"""What reaches a supplier's users without them asking - a notification, a
group robot's message, a mention - names only records they can open: never
a draft, another supplier's record, nor one cancelled before it was shared.
The isolation matrix asks every route with ids; these paths take none."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from uuid import UUID, uuid4

import pytest

from tests.support.factories import World, api_token, bearer, make_world


@dataclass
class Hidden:
    world: World
    # kind of record -> (id the first supplier reads, id it must not hear of)
    records: dict[str, tuple[UUID, UUID]]
    draft_ncr_thread: UUID
    issued_ncr_thread: UUID


async def _seed(world: World) -> Hidden:
    from dataclasses import replace
    from datetime import date, timedelta
    from decimal import Decimal

    from portal.conversations.services import record_threads
    from portal.items.services import ItemIn, create_item
    from portal.notifications.chat import RobotIn, create_robot
    from portal.orders import services as orders
    from portal.orders.schemas import OrderCreate, OrderLineIn
    from portal.quality import ncrs
    from tenants.context import operator_context, system_scope, tenant_scope
    from tenants.roles import Role
    from tenants.tables import Tenant

    first, second = world.supplier_ids
    async with system_scope("hidden-reach"):
        tenant = await Tenant.objects().where(Tenant.id == world.tenant_id).first()
    buyer = operator_context(tenant, "hidden-reach")
    async with tenant_scope(buyer):
        item = await create_item(ItemIn(code="P-R", name="Part"))

        def line() -> OrderLineIn:
            return OrderLineIn(item_id=item.id, quantity=Decimal(3), unit_price=Decimal(2), due_date=date.today() + timedelta(days=9))

        issued = await orders.fire((await orders.create_order(OrderCreate(supplier_id=first, lines=[line()]))).id, "issue")
        draft = await orders.create_order(OrderCreate(supplier_id=first, lines=[line()]))
        others = await orders.fire((await orders.create_order(OrderCreate(supplier_id=second, lines=[line()]))).id, "issue")

        def ncr_in(title: str) -> ncrs.NcrIn:
            return ncrs.NcrIn(title=title, description="hidden reach", supplier_id=first)

        draft_ncr = await ncrs.open_ncr(ncr_in("Draft NCR"))
        issued_ncr = await ncrs.issue_ncr((await ncrs.open_ncr(ncr_in("Issued NCR"))).id, ncrs.IssueIn())
        threads = {
            ncr_id: next(thread.id for thread in await record_threads("ncr", ncr_id) if thread.side == "shared")
            for ncr_id in (draft_ncr.id, issued_ncr.id)
        }
    # The first supplier's group robot hears every kind.
    async with tenant_scope(replace(buyer, role=Role.SUPPLIER_ADMIN, supplier_id=first)):
        await create_robot(RobotIn(service="wecom", url=f"https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key={uuid4()}"))
    records = {
        "order": (issued.id, draft.id),
        "order_line": (issued.lines[0].id, draft.lines[0].id),
        "ncr": (issued_ncr.id, draft_ncr.id),
        # Another supplier's order is not the first supplier's to hear of.
        "another supplier's order": (issued.id, others.id),
    }
    return Hidden(world, records, threads[draft_ncr.id], threads[issued_ncr.id])


@pytest.fixture(scope="module")
def hidden(run: Any) -> Hidden:
    seeded: Hidden = run(_seed, run(make_world, "reach"))
    return seeded


async def _tell(world: World, record_type: str, record_id: UUID, label: str) -> None:
    """The buyer's change to a record, told to the first supplier."""
    from portal.jobs.runner import run_due_jobs
    from portal.notifications.services import emit
    from tenants.context import operator_context, system_scope, tenant_scope
    from tenants.tables import Tenant

    async with system_scope("hidden-reach"):
        tenant = await Tenant.objects().where(Tenant.id == world.tenant_id).first()
    async with tenant_scope(operator_context(tenant, "hidden-reach")):
        await emit(
            "order.revised",
            link=f"/orders/{record_id}",
            supplier=world.supplier_ids[0],
            record=(record_type, record_id),
            params={"number": label},
        )
    await run_due_jobs()


async def _robot_messages(world: World) -> list[str]:
    """The numbers named by the group robot messages queued for the tenant."""
    from portal.jobs.tables import Job
    from tenants.context import system_scope

    async with system_scope("hidden-reach"):
        rows = await Job.select(Job.payload).where((Job.tenant == world.tenant_id) & (Job.kind == "chat.send"))
    return [str(row["payload"]) for row in rows]


@pytest.mark.parametrize("kind", ["order", "order_line", "ncr", "another supplier's order"])
def test_a_supplier_hears_only_of_records_it_reads(client: Any, run: Any, hidden: Hidden, kind: str) -> None:
    world = hidden.world
    record_type = "order" if kind == "another supplier's order" else kind
    shown, kept = hidden.records[kind]
    seen, unseen = f"SEEN-{uuid4().hex[:8]}", f"UNSEEN-{uuid4().hex[:8]}"
    run(_tell, world, record_type, shown, seen)
    run(_tell, world, record_type, kept, unseen)

    for identity in ("supplier_admin", "supplier_operator"):
        headers = bearer(api_token(client, world.accounts[identity], world.slug))
        titles = " ".join(item["title"] + item["link"] for item in client.get("/api/v1/notifications", headers=headers).json()["items"])
        assert seen in titles, identity
        assert unseen not in titles, identity
        assert str(kept) not in titles, identity
    robots = " ".join(run(_robot_messages, world))
    assert seen in robots
    assert unseen not in robots


@pytest.mark.parametrize("language", ["en", "zh-CN"])
def test_nobody_of_the_supplier_is_mentioned_on_a_draft_ncrs_thread(client: Any, run: Any, hidden: Hidden, language: str) -> None:
    """QA's draft is its own: mentioning the supplier's people there would
    hand them the message in a notification."""
    from portal.jobs.runner import run_due_jobs

    world = hidden.world
    qa = {**bearer(api_token(client, world.accounts["qa"], world.slug)), "accept-language": language}
    supplier = bearer(api_token(client, world.accounts["supplier_admin"], world.slug))
    mention = [str(world.accounts["supplier_admin"].user_id)]
    words = f"draft-words-{uuid4().hex[:8]}"
    body = {"body": words, "mentions": mention, "client_id": str(uuid4())}
    refused = client.post(f"/api/v1/threads/{hidden.draft_ncr_thread}/messages", json=body, headers=qa)
    assert refused.status_code == 400
    expected = "You can only mention people who can see this record." if language == "en" else "只能提及能看到此记录的人"
    assert expected in refused.json()["error"]["fields"]["mentions"]
    # On the issued NCR's thread the same mention goes through and is heard.
    heard = f"issued-words-{uuid4().hex[:8]}"
    body = {"body": heard, "mentions": mention, "client_id": str(uuid4())}
    posted = client.post(f"/api/v1/threads/{hidden.issued_ncr_thread}/messages", json=body, headers=qa)
    assert posted.status_code == 201, posted.text
    run(run_due_jobs)
    bodies = " ".join(item["body"] for item in client.get("/api/v1/notifications", headers=supplier).json()["items"])
    assert heard in bodies
    assert words not in bodies
