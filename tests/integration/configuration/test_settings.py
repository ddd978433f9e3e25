"""Tenant settings without code: the dispatch tolerance a receipt is held
to, a material's own tolerance overriding it, and the document categories
uploads and QC requirements accept; the admin's page and the API alike."""

from __future__ import annotations

import re
from typing import Any

from tests.integration.materials.conftest import page, receipt, sent_dispatch
from tests.integration.orders.conftest import OrderWorld, draft
from tests.support.documents.samples import pdf, png


def test_the_dispatch_tolerance_is_the_tenants_and_a_materials_own_overrides_it(client: Any, shop: OrderWorld) -> None:
    assert client.get("/api/v1/settings/tolerance", headers=shop.as_("supplier_operator")).json()["dispatch_tolerance"] == "0.02"
    # 3 % short: over the default 2 %, a reason is needed.
    sent = sent_dispatch(client, shop, ("100", "H-1"))
    refused = receipt(client, shop, sent, ("97", ""))
    assert refused.status_code == 400
    assert "lines.0.reason" in refused.json()["error"]["fields"]
    saved = client.put(
        "/api/v1/settings/tolerance", json={"dispatch_tolerance": "0.05", "over_delivery_tolerance": "0.1"}, headers=shop.as_("admin")
    )
    assert saved.status_code == 200, saved.text
    assert saved.json() == {"dispatch_tolerance": "0.05", "over_delivery_tolerance": "0.1"}
    confirmed = receipt(client, shop, sent, ("97", ""))
    assert confirmed.status_code == 200, confirmed.text
    assert confirmed.json()["status"] == "received"
    # The steel's own 1 % beats the tenant's 5 %.
    own = client.put(f"/api/v1/settings/item-tolerances/{shop.material_id}", json={"dispatch_tolerance": "0.01"}, headers=shop.as_("admin"))
    assert own.status_code == 200, own.text
    assert own.json()["own"] is True
    listed = client.get("/api/v1/settings/item-tolerances", headers=shop.as_("planner")).json()
    assert [(row["id"], row["dispatch_tolerance"]) for row in listed["items"]] == [(shop.material_id, "0.01")]
    assert listed["next"] is None
    second = sent_dispatch(client, shop, ("100", "H-2"))
    assert second["lines"][0]["tolerance"] == "0.01"
    flagged = receipt(client, shop, second, ("97", "three bars bent"))
    assert flagged.status_code == 200, flagged.text
    assert flagged.json()["status"] == "received_with_discrepancy"
    # Back to the tenant's.
    cleared = client.put(
        f"/api/v1/settings/item-tolerances/{shop.material_id}", json={"dispatch_tolerance": None}, headers=shop.as_("admin")
    )
    assert cleared.json()["own"] is False
    assert cleared.json()["dispatch_tolerance"] == "0.05"
    assert client.get("/api/v1/settings/item-tolerances", headers=shop.as_("planner")).json()["items"] == []


def test_bad_tolerances_change_nothing_and_only_the_admin_sets_them(client: Any, shop: OrderWorld) -> None:
    for body in (
        {"dispatch_tolerance": "1.5", "over_delivery_tolerance": "0"},
        {"dispatch_tolerance": "-0.01", "over_delivery_tolerance": "0"},
    ):
        refused = client.put("/api/v1/settings/tolerance", json=body, headers={**shop.as_("admin"), "accept-language": "zh-CN"})
        assert refused.status_code == 400
        assert list(refused.json()["error"]["fields"]) == ["dispatch_tolerance"]
        assert re.search(r"[\u4e00-\u9fff]", refused.json()["error"]["fields"]["dispatch_tolerance"])
    refused = client.put(
        "/api/v1/settings/item-tolerances/" + shop.material_id, json={"dispatch_tolerance": "2"}, headers=shop.as_("admin")
    )
    assert refused.status_code == 400
    assert client.get("/api/v1/settings/tolerance", headers=shop.as_("planner")).json()["dispatch_tolerance"] == "0.02"
    body = {"dispatch_tolerance": "0.03", "over_delivery_tolerance": "0.05"}
    assert client.put("/api/v1/settings/tolerance", json=body, headers=shop.as_("planner")).status_code == 403
    assert client.put("/api/v1/settings/tolerance", json=body, headers=shop.as_("supplier_admin")).status_code == 403


def _upload(client: Any, shop: OrderWorld, who: str, category: str, data: bytes, name: str, declared: str, order_id: str) -> Any:
    fields = {"attached_type": "order", "attached_id": order_id, "category": category, "title": name}
    return client.post("/api/v1/documents", data=fields, files={"file": (name, data, declared)}, headers=shop.as_(who))


def test_a_tenants_own_category_takes_the_file_rules_of_its_base_and_a_switched_off_one_is_refused(client: Any, shop: OrderWorld) -> None:
    order = draft(client, shop)
    created = client.post(
        "/api/v1/settings/document-categories",
        json={"key": "heat_treatment_chart", "label": "热处理曲线 Heat treatment chart", "base": "photo"},
        headers=shop.as_("admin"),
    )
    assert created.status_code == 201, created.text
    category = created.json()
    assert (category["key"], category["base"], category["active"], category["builtin"]) == ("heat_treatment_chart", "photo", True, False)
    listed = client.get("/api/v1/settings/document-categories", headers=shop.as_("supplier_operator")).json()
    assert "heat_treatment_chart" in [row["key"] for row in listed["items"]]
    assert client.get(f"/api/v1/settings/document-categories/{category['id']}", headers=shop.as_("qa")).json() == category
    # A photo goes in; a PDF does not (the base "photo" takes images only).
    stored = _upload(client, shop, "planner", "heat_treatment_chart", png(), "chart.png", "image/png", order["id"])
    assert stored.status_code == 201, stored.text
    assert stored.json()["category"] == "heat_treatment_chart"
    wrong = _upload(client, shop, "planner", "heat_treatment_chart", pdf(), "chart.pdf", "application/pdf", order["id"])
    assert wrong.status_code == 422
    # A QC requirement may name it.
    required = client.post(
        f"/api/v1/orders/{order['id']}/qc-requirements", json={"category": "heat_treatment_chart"}, headers=shop.as_("qa")
    )
    assert required.status_code == 201, required.text
    # Switched off: no new documents, the stored one keeps its category.
    drawing = next(row for row in listed["items"] if row["key"] == "invoice")
    off = client.put(f"/api/v1/settings/document-categories/{drawing['id']}", json={"active": False}, headers=shop.as_("admin"))
    assert off.status_code == 200, off.text
    assert off.json()["active"] is False
    refused = _upload(client, shop, "planner", "invoice", pdf(), "inv.pdf", "application/pdf", order["id"])
    assert refused.status_code == 400
    assert "category" in refused.json()["error"]["fields"]
    renamed = client.put(
        f"/api/v1/settings/document-categories/{category['id']}", json={"label": "Furnace chart"}, headers=shop.as_("admin")
    )
    assert renamed.json()["label"] == "Furnace chart"
    assert client.get(f"/api/v1/documents/{stored.json()['id']}", headers=shop.as_("planner")).json()["category"] == "heat_treatment_chart"


def test_bad_categories_are_refused_and_photos_stay_on(client: Any, shop: OrderWorld) -> None:
    before = client.get("/api/v1/settings/document-categories", headers=shop.as_("admin")).json()["items"]
    for body, field in (
        ({"key": "Bad Key", "label": "x", "base": "photo"}, "key"),
        ({"key": "drawing", "label": "x", "base": "photo"}, "key"),
        ({"key": "fine_key", "label": "", "base": "photo"}, "label"),
        ({"key": "fine_key", "label": "x", "base": "nothing"}, "base"),
    ):
        refused = client.post("/api/v1/settings/document-categories", json=body, headers=shop.as_("admin"))
        assert refused.status_code == 400, body
        assert field in refused.json()["error"]["fields"], body
    photo = next(row for row in before if row["key"] == "photo")
    kept = client.put(f"/api/v1/settings/document-categories/{photo['id']}", json={"active": False}, headers=shop.as_("admin"))
    assert kept.status_code == 400
    assert client.get("/api/v1/settings/document-categories", headers=shop.as_("admin")).json()["items"] == before
    assert (
        client.post("/api/v1/settings/document-categories", json={"label": "x", "base": "photo"}, headers=shop.as_("planner")).status_code
        == 403
    )


def test_the_admins_settings_page_saves_each_setting_and_leads_to_the_others(client: Any, shop: OrderWorld) -> None:
    headers = page(client, shop, "admin")
    shown = client.get("/admin/settings", headers=headers)
    assert shown.status_code == 200
    for href in ("/admin/progress-stages", "/admin/response-times", "/admin/reject-reasons"):
        assert f'href="{href}"' in shown.text
    form = {"_csrf_token": headers["x-csrftoken"]}
    saved = client.post(
        "/admin/settings/tolerance", data={**form, "dispatch_tolerance": "3.5", "over_delivery_tolerance": "5"}, headers=headers
    )
    assert saved.status_code in (200, 303), saved.text
    assert client.get("/api/v1/settings/tolerance", headers=shop.as_("planner")).json()["dispatch_tolerance"] == "0.035"
    wrong = client.post(
        "/admin/settings/tolerance", data={**form, "dispatch_tolerance": "abc", "over_delivery_tolerance": "5"}, headers=headers
    )
    assert wrong.status_code == 400
    assert 'value="abc"' in wrong.text
    item = client.post("/admin/settings/item-tolerances", data={**form, "item_code": "M-STEEL", "dispatch_tolerance": "1"}, headers=headers)
    assert item.status_code in (200, 303)
    assert client.get("/api/v1/settings/item-tolerances", headers=shop.as_("planner")).json()["items"][0]["dispatch_tolerance"] == "0.01"
    added = client.post(
        "/admin/settings/document-categories", data={**form, "label": "Coating report", "base": "inspection_report"}, headers=headers
    )
    assert added.status_code in (200, 303)
    # The upload widget of an order offers it.
    order = draft(client, shop)
    assert "Coating report" in client.get(f"/orders/{order['id']}", headers=page(client, shop, "planner")).text
