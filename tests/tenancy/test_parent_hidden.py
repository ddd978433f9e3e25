"""Records that hang off a draft stay the buyer's own until the draft is
released: a drawing attached to a draft dispatch is shared with the supplier
when the dispatch is sent, not when it is uploaded."""

from __future__ import annotations

from typing import Any
from uuid import UUID, uuid4

import pytest

from tests.support.factories import World, api_token, bearer, make_world, page_headers


async def _draft_dispatch_with_document(world: World) -> tuple[UUID, UUID]:
    from decimal import Decimal

    from portal.documents.services import new_document_target, store_upload
    from portal.documents.storage import open_storage
    from portal.items.services import ItemIn, create_item
    from portal.materials import services as materials
    from portal.materials.schemas import DispatchCreate, DispatchLineIn
    from portal.settings import get_settings
    from tenants.context import operator_context, system_scope, tenant_scope
    from tenants.tables import Tenant
    from tests.support.documents.samples import png, stage

    async with system_scope("parent-hidden-test"):
        tenant = await Tenant.objects().where(Tenant.id == world.tenant_id).first()
    async with tenant_scope(operator_context(tenant, "parent-hidden-test")):
        material = await create_item(ItemIn(code="M-9", name="Bar", unit="kg", kind="material"))
        line = DispatchLineIn(item_id=material.id, quantity=Decimal(5), lot="H-9")
        dispatch = await materials.create_dispatch(DispatchCreate(supplier_id=world.supplier_ids[0], lines=[line]))
        storage = open_storage(get_settings())
        target = await new_document_target("dispatch", dispatch.id, "photo", "Packing photo")
        document = await store_upload(storage, target, stage(storage, png(), "packing.png", "image/png"))
    return dispatch.id, document.id


def test_a_draft_dispatchs_document_is_shared_when_the_dispatch_is_sent(client: Any, run: Any) -> None:
    world = run(make_world, "hidden")
    dispatch_id, document_id = run(_draft_dispatch_with_document, world)
    supplier = bearer(api_token(client, world.accounts["supplier_admin"], world.slug))
    planner = bearer(api_token(client, world.accounts["planner"], world.slug))

    assert client.get(f"/api/v1/documents/{document_id}", headers=supplier).status_code == 404
    listed = client.get("/api/v1/documents", params={"attached_type": "dispatch", "attached_id": str(dispatch_id)}, headers=supplier)
    assert str(document_id) not in listed.text

    assert client.post(f"/api/v1/dispatches/{dispatch_id}/send", headers=planner).status_code == 200
    assert client.get(f"/api/v1/documents/{document_id}", headers=supplier).status_code == 200


async def _cancelled_drafts(world: World) -> dict[str, Any]:
    """A draft order (with its line), a draft NCR and a draft handover of the
    first supplier (to the second), each cancelled before it was shared;
    and an order the first supplier saw, issued and then cancelled."""
    from datetime import date, timedelta
    from decimal import Decimal

    from portal.handover import services as handovers
    from portal.handover.schemas import HandoverCreate
    from portal.items.services import ItemIn, create_item
    from portal.orders import services as orders
    from portal.orders.schemas import OrderCreate, OrderLineIn
    from portal.quality import ncrs
    from tenants.context import operator_context, system_scope, tenant_scope
    from tenants.tables import Tenant

    first, second = world.supplier_ids
    async with system_scope("parent-hidden-test"):
        tenant = await Tenant.objects().where(Tenant.id == world.tenant_id).first()
    async with tenant_scope(operator_context(tenant, "parent-hidden-test")):
        item = await create_item(ItemIn(code="P-C", name="Part"))

        async def order() -> Any:
            line = OrderLineIn(item_id=item.id, quantity=Decimal(3), unit_price=Decimal(2), due_date=date.today() + timedelta(days=9))
            return await orders.create_order(OrderCreate(supplier_id=first, lines=[line]))

        draft = await order()
        await orders.fire(draft.id, "cancel", reason="opened by mistake")
        seen = await orders.fire((await order()).id, "issue")
        await orders.fire(seen.id, "cancel", reason="no longer needed")
        # The open order the handover hands over.
        await orders.fire((await order()).id, "issue")
        ncr = await ncrs.open_ncr(ncrs.NcrIn(title="Cancelled draft NCR", description="never issued", supplier_id=first))
        await ncrs.cancel_ncr(ncr.id, ncrs.DecisionIn(comment="opened by mistake"))
        handover = await handovers.create_handover(HandoverCreate(from_supplier_id=first, to_supplier_id=second))
        await handovers.cancel_handover(handover.id, handover.version, "opened by mistake")
    return {"order": draft.id, "line": draft.lines[0].id, "seen": seen.id, "ncr": ncr.id, "handover": handover.id}


def test_a_draft_cancelled_before_it_was_shared_stays_the_buyers(client: Any, run: Any) -> None:
    """Cancelling a draft shares nothing: the order (its line, its count on
    the board), the NCR and the handover stay unknown to both suppliers,
    while an order the supplier saw stays visible once cancelled."""
    world = run(make_world, "cancelled")
    ids = run(_cancelled_drafts, world)
    for identity in ("supplier_admin", "supplier_operator", "other_supplier_admin"):
        headers = bearer(api_token(client, world.accounts[identity], world.slug))
        assert client.get(f"/api/v1/orders/{ids['order']}", headers=headers).status_code == 404, identity
        assert client.get(f"/api/v1/ncrs/{ids['ncr']}", headers=headers).status_code == 404, identity
        assert client.get(f"/api/v1/handovers/{ids['handover']}", headers=headers).status_code == 404, identity
        board = client.get("/api/v1/orders", params={"status": "cancelled"}, headers=headers).json()
        listed = [order["id"] for order in board["items"]]
        assert str(ids["order"]) not in listed, identity
        assert board["counts"].get("cancelled", 0) == (1 if identity != "other_supplier_admin" else 0), identity
        assert str(ids["ncr"]) not in client.get("/api/v1/ncrs", headers=headers).text, identity
        assert str(ids["handover"]) not in client.get("/api/v1/handovers", headers=headers).text, identity
    token = api_token(client, world.accounts["supplier_admin"], world.slug)
    assert client.get(f"/api/v1/orders/{ids['seen']}", headers=bearer(token)).status_code == 200
    page = page_headers(client, token)
    assert client.get(f"/progress/lines/{ids['line']}", headers=page, follow_redirects=False).status_code == 404
    assert client.get(f"/orders/{ids['order']}", headers=page, follow_redirects=False).status_code == 404
    # A drawing the planner adds to the cancelled draft stays the buyer's.
    from tests.integration.documents.conftest import uploaded
    from tests.support.documents.samples import png

    planner_token = api_token(client, world.accounts["planner"], world.slug)
    drawing = uploaded(
        client,
        planner_token,
        png(),
        name="late.png",
        declared="image/png",
        category="photo",
        attached_type="order",
        attached_id=ids["order"],
        title="Late",
    )
    assert client.get(f"/api/v1/documents/{drawing['id']}", headers=bearer(token)).status_code == 404
    assert drawing["id"] not in client.get("/api/v1/documents", headers=bearer(token)).text
    # The buyer's board counts both cancelled orders.
    planner = bearer(api_token(client, world.accounts["planner"], world.slug))
    assert client.get("/api/v1/orders", headers=planner).json()["counts"]["cancelled"] == 2


@pytest.mark.postgres
def test_row_level_security_keeps_cancelled_drafts_from_the_suppliers(run: Any) -> None:
    """Read with no filter at all as each supplier's user: only the policies
    limit the rows, and they hide the cancelled drafts and their counts."""
    from portal.handover.tables import Handover
    from portal.orders.tables import Order, OrderLine, OrderStatusCount
    from portal.quality.tables import Ncr
    from tenants.context import TenantContext, tenant_scope
    from tenants.roles import Role

    world = run(make_world, "cancelled-rls")
    ids = run(_cancelled_drafts, world)

    async def unfiltered(supplier_id: UUID) -> dict[str, Any]:
        context = TenantContext(
            tenant_id=world.tenant_id,
            tenant_slug=world.slug,
            tenant_name="x",
            time_zone="UTC",
            currency="CNY",
            role=Role.SUPPLIER_OPERATOR,
            supplier_id=supplier_id,
        )
        async with tenant_scope(context):
            return {
                "ids": {row["id"] for table in (Order, OrderLine, Ncr, Handover) for row in await table.select(table.id)},
                "counts": {row["status"]: row["orders"] for row in await OrderStatusCount.select()},
            }

    hidden = {ids["order"], ids["line"], ids["ncr"], ids["handover"]}
    first = run(unfiltered, world.supplier_ids[0])
    assert ids["seen"] in first["ids"]
    assert first["ids"] & hidden == set()
    assert first["counts"]["cancelled"] == 1
    assert run(unfiltered, world.supplier_ids[1])["ids"] & hidden == set()


def test_a_file_on_a_drafts_conversation_is_shared_when_the_draft_is(client: Any, run: Any) -> None:
    """QA's file on the shared side of a draft NCR's conversation, the
    planner's on a draft order's: the buyer's own until the record is issued
    (detail, list, download), then the supplier's to read."""
    from tests.integration.documents.conftest import uploaded
    from tests.support.documents.samples import png

    world = run(make_world, "thread-files")
    qa_token, planner_token = (api_token(client, world.accounts[key], world.slug) for key in ("qa", "planner"))
    ncr = client.post(
        "/api/v1/ncrs",
        json={"title": "Draft NCR", "description": "not issued", "supplier_id": str(world.supplier_ids[0])},
        headers=bearer(qa_token),
    )
    item = client.post("/api/v1/items", json={"code": "P-F", "name": "Part"}, headers=bearer(planner_token)).json()
    line = {"item_id": item["id"], "quantity": "2", "unit_price": "3", "due_date": "2030-01-31"}
    order = client.post("/api/v1/orders", json={"supplier_id": str(world.supplier_ids[0]), "lines": [line]}, headers=bearer(planner_token))
    files = {}
    for record_type, record, token in (("ncr", ncr.json(), qa_token), ("order", order.json(), planner_token)):
        threads = client.get("/api/v1/threads", params={"record_type": record_type, "record_id": record["id"]}, headers=bearer(token))
        shared = next(thread["id"] for thread in threads.json()["items"] if thread["side"] == "shared")
        body = {"body": "see the file", "client_id": str(uuid4())}
        message = client.post(f"/api/v1/threads/{shared}/messages", json=body, headers=bearer(token)).json()
        files[record_type] = uploaded(
            client,
            token,
            png(),
            name="draft.png",
            declared="image/png",
            category="photo",
            attached_type="message",
            attached_id=message["id"],
            title="Draft file",
        )["id"]

    supplier = bearer(api_token(client, world.accounts["supplier_admin"], world.slug))
    for document in files.values():
        assert client.get(f"/api/v1/documents/{document}", headers=supplier).status_code == 404
        assert client.get(f"/api/v1/documents/{document}/content", headers=supplier).status_code == 404
        assert document not in client.get("/api/v1/documents", headers=supplier).text

    issued = client.post(f"/api/v1/ncrs/{ncr.json()['id']}/issue", json={}, headers=bearer(qa_token))
    assert issued.status_code == 200, issued.text
    issued = client.post(f"/api/v1/orders/{order.json()['id']}/transitions", json={"event": "issue"}, headers=bearer(planner_token))
    assert issued.status_code == 200, issued.text
    for document in files.values():
        assert client.get(f"/api/v1/documents/{document}", headers=supplier).status_code == 200
