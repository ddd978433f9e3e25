"""Records that hang off a draft stay the buyer's own until the draft is
released: a drawing attached to a draft dispatch is shared with the supplier
when the dispatch is sent, not when it is uploaded."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from tests.support.factories import World, api_token, bearer, make_world


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
