"""A right-to-left override typed into a reason is stored as typed but
printed without it: on the order's page and in the notification, where it
would otherwise reverse what the portal prints after it."""

from __future__ import annotations

from typing import Any

from portal.jobs.runner import run_due_jobs
from tests.integration.orders.conftest import OrderWorld, draft, fire
from tests.support.factories import api_token, page_headers

RLO = "\u202e"


def test_an_override_in_a_revision_reason_never_reaches_the_supplier_printed(client: Any, run: Any, shop: OrderWorld) -> None:
    order = fire(client, shop, draft(client, shop)["id"], "planner", "issue").json()
    line = order["lines"][0]
    body = {
        "version": order["version"],
        "reason": f"due date moved {RLO}see 1234",
        "lines": [{k: line[k] for k in ("id", "item_id", "quantity", "unit_price")} | {"due_date": line["due_date"]}],
        "notes_shared": f"Deburr {RLO}all edges",
    }
    revised = client.patch(f"/api/v1/orders/{order['id']}", json=body, headers=shop.as_("planner"))
    assert revised.status_code == 200, revised.text
    assert RLO in revised.json()["notes_shared"]  # stored as typed

    run(run_due_jobs)
    notes = client.get("/api/v1/notifications", headers=shop.as_("supplier_admin")).json()["items"]
    [note] = [item for item in notes if item["kind"] == "order.revised"]
    assert "see 1234" in note["body"]
    assert RLO not in note["title"] + note["body"]
    page = client.get(
        f"/orders/{order['id']}", headers=page_headers(client, api_token(client, shop.world.accounts["supplier_admin"], shop.world.slug))
    )
    assert page.status_code == 200
    assert "Deburr all edges" in page.text
    assert RLO not in page.text
