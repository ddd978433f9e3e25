"""Whose file is it: a supplier adds versions only to documents its own
people filed (the buyer's drawing stays the buyer's), and QA never approves
a file it uploaded itself (the evidence needs a second person)."""

from __future__ import annotations

from typing import Any

from tests.integration.quality.conftest import accepted_order, review, send, shop
from tests.support.documents import samples
from tests.support.factories import api_token, page_headers

__all__ = ["shop"]


def _version(client: Any, shop: Any, document_id: str, who: str) -> Any:
    files = {"file": ("drawing.pdf", samples.pdf(), "application/pdf")}
    return client.post(f"/api/v1/documents/{document_id}/versions", files=files, headers={**shop.as_(who), "accept-language": "en"})


def test_a_supplier_never_versions_the_buyers_document_but_versions_its_own(client: Any, shop: Any) -> None:
    order = accepted_order(client, shop)
    drawing = send(client, shop, order["id"], category="drawing", who="planner")
    refused = _version(client, shop, drawing["id"], "supplier_operator")
    assert (refused.status_code, refused.json()["error"]["code"]) == (403, "not_your_document")
    assert "new document" in refused.json()["error"]["message"]
    current = client.get(f"/api/v1/documents/{drawing['id']}", headers=shop.as_("planner")).json()
    assert current["current"]["version"] == 1
    operator = page_headers(client, api_token(client, shop.world.accounts["supplier_operator"], shop.world.slug))
    assert f'action="/documents/{drawing["id"]}/versions"' not in client.get(f"/documents/{drawing['id']}", headers=operator).text

    # Its own certificate takes versions from anyone of its supplier; the buyer may still replace it.
    certificate = send(client, shop, order["id"])
    assert _version(client, shop, certificate["id"], "supplier_admin").status_code == 201
    assert _version(client, shop, drawing["id"], "planner").status_code == 201


def test_qa_never_approves_a_file_it_uploaded_itself(client: Any, shop: Any) -> None:
    order = accepted_order(client, shop)
    own = send(client, shop, order["id"], category="inspection_report", who="qa")
    refused = review(client, shop, own["id"], "approved")
    assert (refused.status_code, refused.json()["error"]["code"]) == (403, "own_upload")
    # Another person approves it; a rejection of one's own upload is allowed.
    assert review(client, shop, own["id"], "approved", who="admin").status_code == 201
    mine = send(client, shop, order["id"], category="inspection_report", who="qa")
    assert review(client, shop, mine["id"], "rejected", reason="wrong lot, uploaded by mistake").status_code == 201
