"""A JSON boolean is true or false: a body that gives "true", "yes", 1 or 0
where the API description says boolean is refused with 400, the field named
as on the wire (nested ones by their path) in the reader's language, and
nothing is saved. The framework alone would have read "true", "1" and 1 as
true."""

from __future__ import annotations

from typing import Any

import pytest

from tests.integration.deliveries.conftest import accepted_order
from tests.integration.orders.conftest import OrderWorld, shop

__all__ = ["shop"]

FIELD_TEXT = {"en": "Use true or false.", "zh-CN": "请填 true 或 false。"}


def _notice(order: dict[str, Any], ship: Any) -> dict[str, Any]:
    line = order["lines"][0]["id"]
    return {"order_id": order["id"], "lines": [{"order_line_id": line, "quantity": "1", "lot": "L-1"}], "ship": ship}


@pytest.mark.parametrize("loose", ["true", "false", "yes", 1, 0, "1"])
def test_a_top_level_boolean_must_be_true_or_false(client: Any, shop: OrderWorld, loose: Any) -> None:
    order = accepted_order(client, shop)
    for language, text in FIELD_TEXT.items():
        headers = {**shop.as_("supplier_operator"), "accept-language": language}
        refused = client.post("/api/v1/deliveries", json=_notice(order, loose), headers=headers)
        assert refused.status_code == 400, refused.text
        assert refused.json()["error"]["code"] == "invalid"
        assert refused.json()["error"]["fields"] == {"ship": text}
    listed = client.get("/api/v1/deliveries", params={"order_id": order["id"]}, headers=shop.as_("planner")).json()["items"]
    assert listed == []
    made = client.post("/api/v1/deliveries", json=_notice(order, True), headers=shop.as_("supplier_operator"))
    assert made.status_code == 201, made.text
    assert made.json()["status"] == "shipped"


def test_a_nested_boolean_is_named_by_its_path_and_null_stays_refused(client: Any, shop: OrderWorld) -> None:
    template = client.get("/api/v1/settings/handover-template", headers=shop.as_("admin")).json()
    sections = template["sections"]
    before = [dict(section, items=[dict(item) for item in section["items"]]) for section in sections]
    sections[0]["items"][1]["evidence"] = "yes"
    sections[1]["items"][0]["blocking"] = 1
    refused = client.put(
        "/api/v1/settings/handover-template", json={"sections": sections}, headers={**shop.as_("admin"), "accept-language": "en"}
    )
    assert refused.status_code == 400, refused.text
    assert refused.json()["error"]["fields"] == {
        "sections[0].items[1].evidence": FIELD_TEXT["en"],
        "sections[1].items[0].blocking": FIELD_TEXT["en"],
    }
    assert client.get("/api/v1/settings/handover-template", headers=shop.as_("admin")).json()["sections"] == before
    sections[0]["items"][1]["evidence"], sections[1]["items"][0]["blocking"] = None, True
    assert client.put("/api/v1/settings/handover-template", json={"sections": sections}, headers=shop.as_("admin")).status_code == 400
    sections[0]["items"][1]["evidence"] = False
    saved = client.put("/api/v1/settings/handover-template", json={"sections": sections}, headers=shop.as_("admin"))
    assert saved.status_code == 200, saved.text
    assert saved.json()["sections"][0]["items"][1]["evidence"] is False


def test_the_description_says_boolean(client: Any) -> None:
    schemas = client.get("/schema/openapi.json").json()["components"]["schemas"]
    creates = [schema for name, schema in schemas.items() if "ship" in schema.get("properties", {})]
    assert creates
    for schema in creates:
        assert schema["properties"]["ship"]["type"] == "boolean"
    items = [schema for schema in schemas.values() if {"evidence", "blocking"} <= set(schema.get("properties", {}))]
    assert items
    for schema in items:
        assert schema["properties"]["evidence"]["type"] == schema["properties"]["blocking"]["type"] == "boolean"
