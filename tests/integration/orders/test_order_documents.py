"""Drawings on an order: shared with the order's supplier once it is issued,
never with another supplier; item drawings read by the suppliers of the
item's issued orders only."""

from __future__ import annotations

from typing import Any
from uuid import uuid4

import pytest

from tests.integration.documents.conftest import upload, uploaded
from tests.integration.orders.conftest import OrderWorld, draft, fire
from tests.support.documents import samples
from tests.support.factories import api_token

PNG = (
    b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x02\x00\x00\x00\x90wS\xde"
    b"\x00\x00\x00\x0cIDATx\x9cc\xf8\xcf\xc0\x00\x00\x03\x01\x01\x00\xc9\xfe\x92\xef\x00\x00\x00\x00IEND\xaeB`\x82"
)


def test_a_drawing_on_an_order_reaches_its_supplier_only(client: Any, shop: OrderWorld) -> None:
    order = draft(client, shop)
    token = {
        key: api_token(client, shop.world.accounts[key], shop.world.slug) for key in ("planner", "supplier_admin", "other_supplier_admin")
    }
    response = upload(
        client,
        token["planner"],
        PNG,
        name="drawing.png",
        declared="image/png",
        category="photo",
        attached_type="order",
        attached_id=order["id"],
    )
    assert response.status_code == 201, response.text
    document = response.json()
    fire(client, shop, order["id"], "planner", "issue")
    assert (
        client.get(f"/api/v1/documents/{document['id']}", headers={"authorization": f"Bearer {token['supplier_admin']}"}).status_code == 200
    )
    assert (
        client.get(f"/api/v1/documents/{document['id']}", headers={"authorization": f"Bearer {token['other_supplier_admin']}"}).status_code
        == 404
    )
    line = upload(
        client,
        token["planner"],
        PNG,
        name="line.png",
        declared="image/png",
        category="photo",
        attached_type="order_line",
        attached_id=order["lines"][0]["id"],
    )
    assert line.status_code == 201, line.text


def _get(client: Any, token: str, path: str) -> Any:
    return client.get(path, headers={"authorization": f"Bearer {token}"})


def _listed(client: Any, token: str, query: str = "") -> set[str]:
    response = _get(client, token, f"/api/v1/documents{query}")
    assert response.status_code == 200, response.text
    return {row["id"] for row in response.json()["items"]}


def _readable(client: Any, token: str, document: dict[str, Any]) -> list[int]:
    """Detail, current content, version list and that version's content."""
    version = document["current"]["id"]
    return [
        _get(client, token, f"/api/v1/documents/{document['id']}").status_code,
        _get(client, token, f"/api/v1/documents/{document['id']}/content").status_code,
        _get(client, token, f"/api/v1/documents/{document['id']}/versions").status_code,
        _get(client, token, f"/api/v1/documents/{document['id']}/versions/{version}/content").status_code,
    ]


def test_documents_of_a_draft_order_stay_hidden_from_its_supplier_until_issued(client: Any, shop: OrderWorld) -> None:
    order = draft(client, shop)
    token = {
        key: api_token(client, shop.world.accounts[key], shop.world.slug) for key in ("planner", "supplier_admin", "supplier_operator")
    }
    on_order = uploaded(client, token["planner"], samples.pdf(), category="drawing", attached_type="order", attached_id=order["id"])
    on_line = uploaded(
        client, token["planner"], samples.pdf(), category="spec", attached_type="order_line", attached_id=order["lines"][0]["id"]
    )
    assert on_order["supplier_id"] is None
    assert on_line["supplier_id"] is None
    missing = {"id": str(uuid4()), "current": {"id": str(uuid4())}}
    for supplier in ("supplier_admin", "supplier_operator"):
        # Exactly what a missing id gets: nothing of a draft order exists for the supplier.
        assert _readable(client, token[supplier], missing) == [404, 404, 404, 404]
        assert _readable(client, token[supplier], on_order) == [404, 404, 404, 404]
        assert _readable(client, token[supplier], on_line) == [404, 404, 404, 404]
        assert _listed(client, token[supplier]) == set()
        assert _listed(client, token[supplier], f"?attached_type=order&attached_id={order['id']}") == set()
        assert _listed(client, token[supplier], f"?attached_type=order&attached_id={uuid4()}") == set()
    assert _listed(client, token["planner"], f"?attached_type=order&attached_id={order['id']}") == {on_order["id"]}

    assert fire(client, shop, order["id"], "planner", "issue").status_code == 200
    for supplier in ("supplier_admin", "supplier_operator"):
        assert _readable(client, token[supplier], on_order) == [200, 200, 200, 200]
        assert _readable(client, token[supplier], on_line) == [200, 200, 200, 200]
        assert _listed(client, token[supplier]) == {on_order["id"], on_line["id"]}
    other = api_token(client, shop.world.accounts["other_supplier_admin"], shop.world.slug)
    assert _readable(client, other, on_order) == [404, 404, 404, 404]
    # A document added after the issue is shared at once.
    later = uploaded(client, token["planner"], samples.pdf(), category="spec", attached_type="order", attached_id=order["id"])
    assert later["supplier_id"] == str(shop.world.supplier_ids[0])
    assert _readable(client, token["supplier_admin"], later) == [200, 200, 200, 200]


def test_issuing_shares_every_version_of_a_draft_document(client: Any, shop: OrderWorld) -> None:
    order = draft(client, shop)
    planner = api_token(client, shop.world.accounts["planner"], shop.world.slug)
    supplier = api_token(client, shop.world.accounts["supplier_admin"], shop.world.slug)
    document = uploaded(client, planner, samples.pdf(), category="drawing", attached_type="order", attached_id=order["id"])
    second = uploaded(client, planner, samples.pdf(pages=2), document_id=document["id"])
    assert second["current"]["version"] == 2
    assert second["supplier_id"] is None
    assert _readable(client, supplier, second) == [404, 404, 404, 404]
    assert fire(client, shop, order["id"], "planner", "issue").status_code == 200
    assert _readable(client, supplier, second) == [200, 200, 200, 200]
    versions = _get(client, supplier, f"/api/v1/documents/{document['id']}/versions").json()["items"]
    assert [version["version"] for version in versions] == [2, 1]
    assert _get(client, supplier, f"/api/v1/documents/{document['id']}/versions/{versions[1]['id']}/content").status_code == 200
    events = client.get(f"/api/v1/audit-events?entity_id={document['id']}", headers=shop.as_("admin"))
    assert events.status_code == 200, events.text
    assert "document.share" in {event["action"] for event in events.json()["items"]}


def test_item_drawings_reach_the_suppliers_of_issued_orders_of_that_item_only(client: Any, shop: OrderWorld) -> None:
    token = {
        key: api_token(client, shop.world.accounts[key], shop.world.slug)
        for key in ("planner", "qa", "supplier_admin", "supplier_operator", "other_supplier_admin")
    }
    drawing = uploaded(
        client,
        token["planner"],
        samples.dxf(),
        name="flange.dxf",
        declared="image/vnd.dxf",
        category="drawing",
        attached_type="item",
        attached_id=shop.part_id,
    )
    material_sheet = uploaded(client, token["planner"], samples.pdf(), category="spec", attached_type="item", attached_id=shop.material_id)
    assert drawing["supplier_id"] is None
    order = draft(client, shop)
    assert _readable(client, token["supplier_admin"], drawing) == [404, 404, 404, 404]

    assert fire(client, shop, order["id"], "planner", "issue").status_code == 200
    for supplier in ("supplier_admin", "supplier_operator"):
        assert _readable(client, token[supplier], drawing) == [200, 200, 200, 200]
        # The material is not on the order: its documents stay the buyer's.
        assert _readable(client, token[supplier], material_sheet) == [404, 404, 404, 404]
        assert _listed(client, token[supplier]) == {drawing["id"]}
    assert _readable(client, token["other_supplier_admin"], drawing) == [404, 404, 404, 404]
    assert _listed(client, token["other_supplier_admin"]) == set()

    # Read, never change: the item's drawing takes versions from the buyer only.
    refused = upload(client, token["supplier_admin"], samples.dxf(), name="mine.dxf", declared="image/vnd.dxf", document_id=drawing["id"])
    assert refused.status_code == 403, refused.text
    assert (
        upload(
            client, token["supplier_admin"], samples.pdf(), category="drawing", attached_type="item", attached_id=shop.part_id
        ).status_code
        == 404
    )
    assert upload(client, token["qa"], samples.pdf(), category="drawing", attached_type="item", attached_id=shop.part_id).status_code == 403
    qa_version = upload(client, token["qa"], samples.dxf(), name="qa.dxf", declared="image/vnd.dxf", document_id=drawing["id"])
    assert qa_version.status_code == 403, qa_version.text
    newer = uploaded(client, token["planner"], samples.dxf(), name="flange-b.dxf", declared="image/vnd.dxf", document_id=drawing["id"])
    assert newer["current"]["version"] == 2
    assert _readable(client, token["supplier_admin"], newer) == [200, 200, 200, 200]


async def _unfiltered_documents(tenant_id: Any, supplier_id: Any) -> set[str]:
    """Documents and versions a supplier user's queries return with no
    filter at all: what row-level security alone lets through."""
    from portal.documents.tables import Document, DocumentVersion
    from tenants.context import TenantContext, tenant_scope
    from tenants.roles import Role

    context = TenantContext(
        tenant_id=tenant_id,
        tenant_slug="x",
        tenant_name="x",
        time_zone="UTC",
        currency="CNY",
        role=Role.SUPPLIER_ADMIN,
        supplier_id=supplier_id,
    )
    async with tenant_scope(context):
        documents = {str(row["id"]) for row in await Document.select(Document.id)}
        versions = {str(row["document"]) for row in await DocumentVersion.select(DocumentVersion.document)}
    assert versions == documents
    return documents


@pytest.mark.postgres
def test_row_level_security_alone_keeps_draft_and_unrelated_documents_from_suppliers(client: Any, run: Any, shop: OrderWorld) -> None:
    planner = api_token(client, shop.world.accounts["planner"], shop.world.slug)
    drawing = uploaded(client, planner, samples.pdf(), category="drawing", attached_type="item", attached_id=shop.part_id)
    sheet = uploaded(client, planner, samples.pdf(), category="spec", attached_type="item", attached_id=shop.material_id)
    order = draft(client, shop)
    on_order = uploaded(client, planner, samples.pdf(), category="drawing", attached_type="order", attached_id=order["id"])
    own, other = shop.world.supplier_ids
    assert run(_unfiltered_documents, shop.world.tenant_id, own) == set()
    assert fire(client, shop, order["id"], "planner", "issue").status_code == 200
    assert run(_unfiltered_documents, shop.world.tenant_id, own) == {drawing["id"], on_order["id"]}
    assert sheet["id"] not in run(_unfiltered_documents, shop.world.tenant_id, own)
    assert run(_unfiltered_documents, shop.world.tenant_id, other) == set()
