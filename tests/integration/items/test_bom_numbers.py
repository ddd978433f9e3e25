"""A bill of material's numbers: not-a-number and numbers past Decimal's
range refused naming the row (they answered 500), and the form shows what
is stored as people write it (10, not 1E+1)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from tests.integration.orders.conftest import OrderWorld
from tests.support.factories import api_token, page_headers


def test_a_scrap_rate_that_is_not_a_number_is_refused_naming_the_row(client: Any, shop: OrderWorld) -> None:
    for value in ("NaN", "sNaN", "-NaN", "Infinity"):
        body = [{"material_id": shop.material_id, "quantity_per_unit": "1", "scrap_rate": value}]
        refused = client.put(f"/api/v1/items/{shop.part_id}/bom", json=body, headers=shop.as_("planner"))
        assert refused.status_code == 400, f"{value}: {refused.status_code} {refused.text[:300]}"
        assert list(refused.json()["error"]["fields"]) == ["lines.0.scrap_rate"]
    kept = client.get(f"/api/v1/items/{shop.part_id}/bom", headers=shop.as_("planner")).json()["items"]
    assert [(Decimal(line["quantity_per_unit"]), Decimal(line["scrap_rate"])) for line in kept] == [(Decimal("1.25"), Decimal("0.02"))]


def test_the_bom_form_refuses_numbers_past_range_and_shows_whole_numbers_plainly(client: Any, shop: OrderWorld) -> None:
    headers = page_headers(client, api_token(client, shop.world.accounts["planner"], shop.world.slug))
    form = {"_csrf_token": headers["x-csrftoken"], "bom-0-material_id": shop.material_id, "bom-0-quantity_per_unit": "10"}
    for scrap in ("NaN", "1e9999999"):
        refused = client.post(f"/items/{shop.part_id}/bom", data={**form, "bom-0-scrap_percent": scrap}, headers=headers)
        assert refused.status_code == 400, f"{scrap}: {refused.status_code} {refused.text[:300]}"
        assert f'value="{scrap}"' in refused.text
    saved = client.post(f"/items/{shop.part_id}/bom", data={**form, "bom-0-scrap_percent": "10"}, headers=headers, follow_redirects=False)
    assert saved.status_code == 303, saved.text[:300]
    page = client.get(f"/items/{shop.part_id}", headers=headers)
    assert 'name="bom-0-quantity_per_unit" inputmode="decimal" value="10"' in page.text
    assert 'name="bom-0-scrap_percent" inputmode="decimal" value="10"' in page.text
