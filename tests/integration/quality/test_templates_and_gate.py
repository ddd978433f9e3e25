"""QC templates per item fill an order's checklist when it is issued; the
receiving gate holds goods back while QC documents are owed (QA may
override, with a reason); rejections name a reason from the tenant's list
and carry photos."""

from __future__ import annotations

from typing import Any

from tests.integration.deliveries.conftest import create, receive
from tests.integration.orders.conftest import OrderWorld, draft, due, fire
from tests.integration.quality.conftest import accepted_order, checklist, require, review, send
from tests.support.documents import samples
from tests.support.factories import page_headers

CERTIFICATE = {"category": "material_certificate", "count": 1, "stage": "before_delivery", "note": "EN 10204 3.1"}
PHOTOS = {"category": "photo", "count": 3, "stage": "first_article", "note": "First article, three sides"}


def _templates(client: Any, shop: OrderWorld, body: list[dict[str, Any]], item_id: str = "", who: str = "qa") -> Any:
    return client.put(f"/api/v1/items/{item_id or shop.part_id}/qc-templates", json=body, headers=shop.as_(who))


def _page(client: Any, shop: OrderWorld, who: str) -> dict[str, str]:
    token = shop.as_(who)["authorization"].removeprefix("Bearer ")
    return {**page_headers(client, token), "accept-language": "en"}


def _events(client: Any, shop: OrderWorld, entity_type: str, entity_id: str) -> list[dict[str, Any]]:
    params = {"entity_type": entity_type, "entity_id": entity_id}
    return list(client.get("/api/v1/audit-events", params=params, headers=shop.as_("admin")).json()["items"])


# ------------------------------------------------------------------ templates


def test_issuing_an_order_fills_its_checklist_from_the_items_templates(client: Any, shop: OrderWorld) -> None:
    saved = _templates(client, shop, [CERTIFICATE, PHOTOS])
    assert saved.status_code == 200, saved.text
    assert [(item["category"], item["count"], item["stage"]) for item in saved.json()] == [
        ("material_certificate", 1, "before_delivery"),
        ("photo", 3, "first_article"),
    ]
    listed = client.get(f"/api/v1/items/{shop.part_id}/qc-templates", headers=shop.as_("planner")).json()["items"]
    assert [item["note"] for item in listed] == ["EN 10204 3.1", "First article, three sides"]

    order = draft(client, shop)
    # QA asked for a certificate by hand before the issue: it is not doubled.
    assert require(client, shop, order["id"], note="by hand").status_code == 201
    assert fire(client, shop, order["id"], "planner", "issue").status_code == 200
    items = checklist(client, shop, order["id"], "supplier_operator")
    assert sorted((item["category"], item["count"], item["stage"], item["note"], item["state"]) for item in items) == [
        ("material_certificate", 1, "before_delivery", "by hand", "missing"),
        ("photo", 3, "first_article", "First article, three sides", "missing"),
    ]
    # Still editable per order: waive what this order does not need.
    photo = next(item for item in items if item["category"] == "photo")
    waived = client.post(f"/api/v1/qc-requirements/{photo['id']}/waive", json={"reason": "repeat order"}, headers=shop.as_("qa"))
    assert waived.status_code == 200, waived.text
    assert "item.qc_templates" in {event["action"] for event in _events(client, shop, "item", shop.part_id)}


def test_several_items_naming_one_category_give_one_requirement(client: Any, shop: OrderWorld) -> None:
    other = client.post("/api/v1/items", json={"code": "P-200", "name": "Shaft"}, headers=shop.as_("planner")).json()
    assert _templates(client, shop, [{**PHOTOS, "count": 2, "stage": "before_delivery", "note": "Flange photos"}]).status_code == 200
    assert _templates(client, shop, [{**PHOTOS, "note": "Shaft photos"}], item_id=other["id"]).status_code == 200
    order = client.post(
        "/api/v1/orders",
        json={
            "supplier_id": str(shop.world.supplier_ids[0]),
            "lines": [
                {"item_id": shop.part_id, "quantity": "5", "unit_price": "1", "due_date": due(60)},
                {"item_id": other["id"], "quantity": "5", "unit_price": "1", "due_date": due(60)},
            ],
        },
        headers=shop.as_("planner"),
    ).json()
    assert fire(client, shop, order["id"], "planner", "issue").status_code == 200
    items = checklist(client, shop, order["id"])
    assert [(item["category"], item["count"], item["stage"], item["note"]) for item in items] == [
        ("photo", 3, "first_article", "Flange photos\nShaft photos")
    ]


def test_bad_templates_are_refused_and_change_nothing(client: Any, shop: OrderWorld) -> None:
    assert _templates(client, shop, [CERTIFICATE]).status_code == 200
    english = {**shop.as_("qa"), "accept-language": "en"}
    body = [{**CERTIFICATE, "count": 0}, {**CERTIFICATE, "stage": "yesterday"}, {"category": "nonsense"}]
    wrong = client.put(f"/api/v1/items/{shop.part_id}/qc-templates", json=body, headers=english)
    assert wrong.status_code == 400
    assert wrong.json()["error"]["fields"] == {
        "templates.0.count": "Between 1 and 50 documents.",
        "templates.1.stage": "Choose when the supplier sends it.",
        "templates.1.category": "This category is already required above.",
        "templates.2.category": "Choose a category.",
    }
    chinese = client.put(f"/api/v1/items/{shop.part_id}/qc-templates", json=body[:1], headers={**english, "accept-language": "zh-CN"})
    assert chinese.json()["error"]["fields"]["templates.0.count"] != "Between 1 and 50 documents."
    listed = client.get(f"/api/v1/items/{shop.part_id}/qc-templates", headers=shop.as_("qa")).json()["items"]
    assert [item["category"] for item in listed] == ["material_certificate"]
    # Suppliers never read the buyer's templates, finance never changes them.
    assert client.get(f"/api/v1/items/{shop.part_id}/qc-templates", headers=shop.as_("supplier_admin")).status_code == 403
    assert _templates(client, shop, [], who="finance").status_code == 403


def test_the_item_page_keeps_the_templates(client: Any, shop: OrderWorld) -> None:
    headers = _page(client, shop, "qa")
    form = {
        "tpl-0-category": "inspection_report",
        "tpl-0-count": "2",
        "tpl-0-stage": "in_process",
        "tpl-0-note": "CMM",
        "tpl-1-category": "",
    }
    saved = client.post(f"/items/{shop.part_id}/qc-templates", data=form, headers=headers, follow_redirects=False)
    assert (saved.status_code, saved.headers["location"]) == (303, f"/items/{shop.part_id}#qc-templates")
    page = client.get(f"/items/{shop.part_id}", headers=headers).text
    assert 'id="qc-templates"' in page
    assert 'value="CMM"' in page
    wrong = client.post(f"/items/{shop.part_id}/qc-templates", data={**form, "tpl-0-count": "x", "tpl-0-note": "keep"}, headers=headers)
    assert wrong.status_code == 400
    assert "Between 1 and 50 documents." in wrong.text
    assert 'value="keep"' in wrong.text
    listed = client.get(f"/api/v1/items/{shop.part_id}/qc-templates", headers=shop.as_("qa")).json()["items"]
    assert [(item["category"], item["count"], item["note"]) for item in listed] == [("inspection_report", 2, "CMM")]


# ------------------------------------------------------------------ the receiving gate


def _delivery_with_owed_certificate(client: Any, shop: OrderWorld) -> tuple[dict[str, Any], dict[str, Any]]:
    order = accepted_order(client, shop)
    assert require(client, shop, order["id"]).status_code == 201
    delivery = create(client, shop, order, "10").json()
    return order, delivery


def _delivery(client: Any, shop: OrderWorld, delivery_id: str, who: str = "planner") -> dict[str, Any]:
    response = client.get(f"/api/v1/deliveries/{delivery_id}", headers=shop.as_(who))
    assert response.status_code == 200, response.text
    return dict(response.json())


def test_goods_wait_while_qc_documents_are_owed(client: Any, shop: OrderWorld) -> None:
    order, delivery = _delivery_with_owed_certificate(client, shop)
    closed = client.post(
        f"/api/v1/deliveries/{delivery['id']}/receipt",
        json={"lines": [{"line_id": delivery["lines"][0]["id"], "accepted_quantity": "10"}]},
        headers={**shop.as_("planner"), "accept-language": "en"},
    )
    assert closed.status_code == 409
    assert closed.json()["error"]["code"] == "qc_gate_closed"
    assert "Material certificate: Missing" in closed.json()["error"]["message"]
    assert _delivery(client, shop, delivery["id"])["status"] == "shipped"

    # A pending document still closes the gate; an approved one opens it.
    document = send(client, shop, order["id"])
    assert receive(client, shop, delivery, ("10", "0", "")).status_code == 409
    assert review(client, shop, document["id"], "approved", version=1).status_code == 201
    opened = receive(client, shop, delivery, ("10", "0", ""))
    assert opened.status_code in (200, 201), opened.text
    assert opened.json()["qc_override_reason"] == ""


def test_rejecting_everything_needs_no_documents(client: Any, shop: OrderWorld) -> None:
    _, delivery = _delivery_with_owed_certificate(client, shop)
    rejected = receive(client, shop, delivery, ("0", "10", "Rust on every flange"))
    assert rejected.status_code in (200, 201), rejected.text
    assert rejected.json()["lines"][0]["reject_code"] == "other"


def test_qa_overrides_the_gate_with_a_reason_and_everyone_on_the_buyer_side_sees_it(client: Any, shop: OrderWorld) -> None:
    _, delivery = _delivery_with_owed_certificate(client, shop)
    line = delivery["lines"][0]["id"]
    body: dict[str, Any] = {"lines": [{"line_id": line, "accepted_quantity": "10"}], "qc_override_reason": "Line stop: certificate by mail"}
    url = f"/api/v1/deliveries/{delivery['id']}/receipt"

    planner = client.post(url, json=body, headers={**shop.as_("planner"), "accept-language": "en"})
    assert planner.status_code == 403
    assert planner.json()["error"]["code"] == "qc_override_not_allowed"
    short = client.post(url, json={**body, "qc_override_reason": "ok"}, headers=shop.as_("qa"))
    assert (short.status_code, short.json()["error"]["code"]) == (400, "invalid_qc_override")
    assert _delivery(client, shop, delivery["id"])["status"] == "shipped"

    done = client.post(url, json=body, headers=shop.as_("qa"))
    assert done.status_code in (200, 201), done.text
    shown = _delivery(client, shop, delivery["id"])
    assert (shown["status"], shown["qc_override_reason"], shown["qc_override_by"]) == (
        "received",
        "Line stop: certificate by mail",
        f"qa {shop.world.slug}",
    )
    # The supplier sees the receipt, not QA's internal decision.
    assert _delivery(client, shop, delivery["id"], "supplier_admin")["qc_override_reason"] == ""
    events = [event for event in _events(client, shop, "delivery", delivery["id"]) if event["action"] == "delivery.qc_override"]
    assert len(events) == 1
    assert events[0]["after"]["open_requirements"] == [{"category": "material_certificate", "state": "missing"}]
    page = client.get(f"/deliveries/{delivery['id']}", headers=_page(client, shop, "planner")).text
    assert "Accepted without QC documents" in page
    assert "Line stop: certificate by mail" in page


def test_the_receiving_form_shows_what_is_owed_and_offers_qa_the_override(client: Any, shop: OrderWorld) -> None:
    _, delivery = _delivery_with_owed_certificate(client, shop)
    qa = _page(client, shop, "qa")
    form = client.get(f"/deliveries/{delivery['id']}/receive", headers=qa).text
    assert 'id="qc-gate"' in form
    assert "Material certificate: Missing" in form
    assert 'name="qc_override_reason"' in form
    planner = client.get(f"/deliveries/{delivery['id']}/receive", headers=_page(client, shop, "planner")).text
    assert 'id="qc-gate"' in planner
    assert 'name="qc_override_reason"' not in planner

    typed = {"lines.0.accepted_quantity": "10", "lines.0.rejected_quantity": "0", "note": "keep this note"}
    refused = client.post(f"/deliveries/{delivery['id']}/receive", data=typed, headers=qa)
    assert refused.status_code == 409
    assert 'id="e-override"' in refused.text
    assert "keep this note" in refused.text
    accepted = client.post(
        f"/deliveries/{delivery['id']}/receive",
        data={**typed, "qc_override_reason": "Customer line down"},
        headers=qa,
        follow_redirects=False,
    )
    assert accepted.status_code == 303, accepted.text
    assert _delivery(client, shop, delivery["id"])["qc_override_reason"] == "Customer line down"


# ------------------------------------------------------------------ reject reasons and photos


def test_rejections_name_a_reason_from_the_tenants_list(client: Any, shop: OrderWorld) -> None:
    reasons = client.get("/api/v1/reject-reasons", headers={**shop.as_("supplier_operator"), "accept-language": "en"})
    assert reasons.status_code == 200
    assert reasons.json()["items"][0] == {"code": "dimension", "label": "Dimension out of tolerance"}
    order = accepted_order(client, shop)
    delivery = create(client, shop, order, "10").json()
    line = delivery["lines"][0]["id"]
    url = f"/api/v1/deliveries/{delivery['id']}/receipt"
    english = {**shop.as_("planner"), "accept-language": "en"}

    unknown = client.post(
        url, json={"lines": [{"line_id": line, "accepted_quantity": "8", "rejected_quantity": "2", "reject_code": "x"}]}, headers=english
    )
    assert unknown.status_code == 400
    assert unknown.json()["error"]["fields"] == {"lines.0.reject_code": "Choose a reason from the list."}
    body = {
        "lines": [
            {"line_id": line, "accepted_quantity": "8", "rejected_quantity": "2", "reject_code": "dimension", "reject_reason": "Ø12 +0.05"}
        ]
    }
    done = client.post(url, json=body, headers=english)
    assert done.status_code in (200, 201), done.text
    shown = _delivery(client, shop, delivery["id"], "supplier_operator")["lines"][0]
    assert (shown["reject_code"], shown["reject_reason"]) == ("dimension", "Ø12 +0.05")
    assert shown["reject_label"] != ""


def test_the_admin_keeps_the_list_and_retired_reasons_are_refused(client: Any, shop: OrderWorld) -> None:
    saved = client.put("/api/v1/reject-reasons", json={"labels": ["Burrs left", "Dimension out of tolerance"]}, headers=shop.as_("admin"))
    assert saved.status_code == 200, saved.text
    assert [item["code"] for item in saved.json()] == ["burrs_left", "dimension", "other"]
    assert client.put("/api/v1/reject-reasons", json={"labels": ["x"]}, headers=shop.as_("qa")).status_code == 403
    empty = client.put("/api/v1/reject-reasons", json={"labels": [" "]}, headers={**shop.as_("admin"), "accept-language": "en"})
    assert empty.json()["error"]["fields"] == {"reasons": "Name at least one reason."}

    order = accepted_order(client, shop)
    delivery = create(client, shop, order, "10").json()
    line = delivery["lines"][0]["id"]
    retired = {"lines": [{"line_id": line, "accepted_quantity": "9", "rejected_quantity": "1", "reject_code": "surface"}]}
    assert client.post(f"/api/v1/deliveries/{delivery['id']}/receipt", json=retired, headers=shop.as_("qa")).status_code == 400

    headers = _page(client, shop, "admin")
    page = client.get("/admin/reject-reasons", headers=headers)
    assert page.status_code == 200
    assert "Burrs left" in page.text
    posted = client.post(
        "/admin/reject-reasons",
        data={"reasons": "Burrs left\nSurface defect (scratch, dent, rust)"},
        headers=headers,
        follow_redirects=False,
    )
    assert posted.status_code == 303
    codes = [item["code"] for item in client.get("/api/v1/reject-reasons", headers=shop.as_("qa")).json()["items"]]
    assert codes == ["burrs_left", "surface", "other"]


def test_photos_of_rejected_goods_hang_on_the_delivery_line(client: Any, shop: OrderWorld) -> None:
    order = accepted_order(client, shop)
    delivery = create(client, shop, order, "10").json()
    assert receive(client, shop, delivery, ("7", "3", "Scratches")).status_code in (200, 201)
    line = delivery["lines"][0]["id"]
    files = {"file": ("reject.png", samples.png(), "image/png")}
    fields = {"attached_type": "delivery_line", "attached_id": line, "category": "photo", "title": "Scratches, lot LOT-1"}
    uploaded = client.post("/api/v1/documents", data=fields, files=files, headers=shop.as_("qa"))
    assert uploaded.status_code == 201, uploaded.text
    seen = client.get(
        "/api/v1/documents", params={"attached_type": "delivery_line", "attached_id": line}, headers=shop.as_("supplier_operator")
    )
    assert [item["id"] for item in seen.json()["items"]] == [uploaded.json()["id"]]
    other_supplier = client.get(f"/api/v1/documents/{uploaded.json()['id']}", headers=shop.as_("other_supplier_admin"))
    assert other_supplier.status_code == 404
    page = client.get(f"/deliveries/{delivery['id']}", headers=_page(client, shop, "qa")).text
    assert "attached_type=delivery_line" in page
