"""Progress reports through the API: rules, exactly-once, photos, scoping."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any
from uuid import uuid4

from tests.integration.orders.conftest import OrderWorld, draft, fire
from tests.integration.progress.conftest import accepted_order, jpeg, photo, report


def _reports(client: Any, shop: OrderWorld, order_id: str, who: str = "planner") -> list[dict[str, Any]]:
    response = client.get("/api/v1/progress-reports", params={"order_id": order_id}, headers=shop.as_(who))
    assert response.status_code == 200, response.text
    assert response.json()["next"] is None
    return list(response.json()["items"])


def test_a_report_is_stored_once_and_starts_production(client: Any, shop: OrderWorld) -> None:
    order = accepted_order(client, shop, "100")
    line_id = order["lines"][0]["id"]
    client_id = str(uuid4())
    first = report(client, shop, line_id, client_id=client_id, good_quantity="40", scrap_quantity="2", scrap_reason="Chatter marks")
    assert first.status_code == 201, first.text
    stored = first.json()
    assert (stored["stage"], stored["stage_label"]) == ("machining", "Machining")
    assert (Decimal(stored["good_quantity"]), Decimal(stored["scrap_quantity"])) == (Decimal(40), Decimal(2))
    assert stored["order_number"] == order["number"]
    assert client.get(f"/api/v1/orders/{order['id']}", headers=shop.as_("planner")).json()["status"] == "in_production"

    # The same report again (a retry), even with other values: the stored one, 200.
    again = report(client, shop, line_id, client_id=client_id, good_quantity="41")
    assert again.status_code == 200, again.text
    assert again.json()["id"] == stored["id"]
    assert Decimal(again.json()["good_quantity"]) == 40
    assert [r["id"] for r in _reports(client, shop, order["id"])] == [stored["id"]]
    # Both sides see it.
    assert [r["id"] for r in _reports(client, shop, order["id"], "supplier_admin")] == [stored["id"]]


def test_a_retry_storm_stores_one_report(client: Any, shop: OrderWorld) -> None:
    order = accepted_order(client, shop)
    line_id = order["lines"][0]["id"]
    client_id = str(uuid4())
    with ThreadPoolExecutor(max_workers=5) as pool:
        answers = list(pool.map(lambda _: report(client, shop, line_id, client_id=client_id), range(5)))
    codes = sorted(answer.status_code for answer in answers)
    assert codes == [200, 200, 200, 200, 201], [answer.text for answer in answers]
    assert len({answer.json()["id"] for answer in answers}) == 1
    assert len(_reports(client, shop, order["id"])) == 1


def test_bad_reports_get_field_errors_and_nothing_is_stored(client: Any, shop: OrderWorld) -> None:
    order = accepted_order(client, shop, "100")
    line_id = order["lines"][0]["id"]
    cases = {
        "good_quantity": {"good_quantity": "-1"},
        "scrap_quantity": {"scrap_quantity": "1.1234567", "scrap_reason": "x"},
        "scrap_reason": {"scrap_quantity": "3"},
        "stage": {"stage": "painting"},
        "photos": {"photos_expected": 11},
    }
    for field, fields in cases.items():
        answer = report(client, shop, line_id, **fields)
        assert answer.status_code == 400, (field, answer.text)
        assert answer.json()["error"]["code"] == "invalid_report"
        assert field in answer.json()["error"]["fields"], (field, answer.json())

    over = report(client, shop, line_id, good_quantity="95", scrap_quantity="6", scrap_reason="Cracks")
    assert over.status_code == 400
    assert "100" in over.json()["error"]["fields"]["good_quantity"]
    zh = client.post(
        "/api/v1/progress-reports",
        json={"client_id": str(uuid4()), "order_line_id": line_id, "stage": "machining", "good_quantity": "101"},
        headers={**shop.as_("supplier_operator"), "accept-language": "zh-CN"},
    )
    assert "未完成数量" in zh.json()["error"]["fields"]["good_quantity"], zh.json()
    assert _reports(client, shop, order["id"]) == []
    # Refused reports changed nothing: the order is still only accepted.
    assert client.get(f"/api/v1/orders/{order['id']}", headers=shop.as_("planner")).json()["status"] == "accepted"


def test_reports_need_an_order_in_production_and_a_supplier_role(client: Any, shop: OrderWorld) -> None:
    issued = draft(client, shop)
    assert fire(client, shop, issued["id"], "planner", "issue").status_code == 200
    early = report(client, shop, issued["lines"][0]["id"])
    assert early.status_code == 409
    assert early.json()["error"]["code"] == "order_not_in_production"

    order = accepted_order(client, shop)
    assert report(client, shop, order["lines"][0]["id"], who="planner").status_code == 403


def test_another_supplier_cannot_see_or_extend_a_report(client: Any, shop: OrderWorld) -> None:
    order = accepted_order(client, shop)
    stored = report(client, shop, order["lines"][0]["id"], photos_expected=1).json()
    other = shop.as_("other_supplier_admin")
    assert client.get(f"/api/v1/progress-reports/{stored['id']}", headers=other).status_code == 404
    assert photo(client, shop, stored["id"], jpeg(1), who="other_supplier_admin").status_code == 404
    assert client.get("/api/v1/progress-reports", params={"order_id": order["id"]}, headers=other).json() == {"items": [], "next": None}
    # Nor report on the line of an order that is not theirs.
    assert report(client, shop, order["lines"][0]["id"], who="other_supplier_admin").status_code == 404


def test_photos_arrive_once_each_up_to_the_announced_number(client: Any, shop: OrderWorld) -> None:
    order = accepted_order(client, shop)
    stored = report(client, shop, order["lines"][0]["id"], photos_expected=2).json()
    assert (stored["photos_expected"], stored["photos_received"]) == (2, 0)

    first = photo(client, shop, stored["id"], jpeg(1))
    assert first.status_code == 201, first.text
    assert first.json()["captured_at"].startswith("2026-11-20T00:15:00")
    again = photo(client, shop, stored["id"], jpeg(1))
    assert again.status_code == 200
    assert again.json()["id"] == first.json()["id"]
    second = photo(client, shop, stored["id"], jpeg(2))
    assert second.status_code == 201, second.text
    third = photo(client, shop, stored["id"], jpeg(3))
    assert third.status_code == 409
    assert third.json()["error"]["code"] == "report_photos_complete"

    seen = client.get(f"/api/v1/progress-reports/{stored['id']}", headers=shop.as_("planner")).json()
    assert seen["photos_received"] == 2
    assert [p["position"] for p in seen["photos"]] == [1, 2]
    # The answers are built from what was written, not read back: the same
    # as a later read shows.
    assert seen["photos"] == [first.json(), second.json()]
    # Each photo is a document of the report, readable by the buyer.
    document = client.get(f"/api/v1/documents/{seen['photos'][0]['document_id']}", headers=shop.as_("planner"))
    assert document.status_code == 200
    assert (document.json()["attached_type"], document.json()["category"]) == ("progress_report", "photo")


def test_a_broken_photo_form_is_refused_after_the_report_lookup(client: Any, shop: OrderWorld) -> None:
    """The form is parsed before the transaction opens, but its error is
    answered where the handler reads it: a foreign report stays a 404."""
    order = accepted_order(client, shop)
    stored = report(client, shop, order["lines"][0]["id"], photos_expected=1).json()
    broken = {"content-type": "multipart/form-data; boundary=xyz"}
    body = b"--xyz\r\nContent-Disposition: form-data; name=file; filename=p.jpg\r\n\r\nno end"
    url = f"/api/v1/progress-reports/{stored['id']}/photos"
    foreign = client.post(url, content=body, headers={**shop.as_("other_supplier_admin"), **broken})
    assert foreign.status_code == 404, foreign.text
    own = client.post(url, content=body, headers={**shop.as_("supplier_operator"), **broken})
    assert own.status_code == 400, own.text
    assert own.json()["error"]["code"] == "invalid_upload"
    assert photo(client, shop, stored["id"], jpeg(1)).status_code == 201


def test_a_photo_is_checked_by_its_content(client: Any, shop: OrderWorld) -> None:
    order = accepted_order(client, shop)
    stored = report(client, shop, order["lines"][0]["id"], photos_expected=1).json()
    fake = photo(client, shop, stored["id"], b"%PDF-1.4 not a photo at all", name="defect.jpg")
    assert fake.status_code == 422, fake.text
    seen = client.get(f"/api/v1/progress-reports/{stored['id']}", headers=shop.as_("planner")).json()
    assert seen["photos_received"] == 0


def test_a_phone_clock_in_the_future_is_not_believed(client: Any, shop: OrderWorld) -> None:
    order = accepted_order(client, shop)
    line_id = order["lines"][0]["id"]
    yesterday = (datetime.now(UTC) - timedelta(days=1)).isoformat()
    tomorrow = (datetime.now(UTC) + timedelta(days=1)).isoformat()
    offline = report(client, shop, line_id, made_at=yesterday).json()
    assert datetime.fromisoformat(offline["made_at"]) < datetime.now(UTC) - timedelta(hours=23)
    ahead = report(client, shop, line_id, made_at=tomorrow).json()
    assert datetime.fromisoformat(ahead["made_at"]) <= datetime.now(UTC)
    # Newest first by when they were made.
    assert [r["id"] for r in _reports(client, shop, order["id"])] == [ahead["id"], offline["id"]]


def test_a_phone_clock_reset_or_at_the_calendars_edge_gives_the_time_of_arrival(client: Any, shop: OrderWorld) -> None:
    """A flat battery resets a phone to 1970 or 2000; 0001-01-01 at +14:00
    is before the calendar's first instant in UTC (an OverflowError)."""
    order = accepted_order(client, shop)
    line_id = order["lines"][0]["id"]
    for made_at in ("1970-01-01T00:00:00Z", "0001-01-01T00:00:00+14:00", "9999-12-31T23:59:59-12:00"):
        before = datetime.now(UTC)
        stored = report(client, shop, line_id, good_quantity="1", made_at=made_at, photos_expected=1)
        assert stored.status_code == 201, f"{made_at}: {stored.status_code} {stored.text[:300]}"
        assert before - timedelta(seconds=1) <= datetime.fromisoformat(stored.json()["made_at"]) <= datetime.now(UTC)
        taken = client.post(
            f"/api/v1/progress-reports/{stored.json()['id']}/photos",
            files={"file": ("p.jpg", jpeg(len(made_at)), "image/jpeg")},
            data={"captured_at": made_at},
            headers=shop.as_("supplier_operator"),
        )
        assert taken.status_code == 201, f"{made_at}: {taken.status_code} {taken.text[:300]}"
        assert datetime.fromisoformat(taken.json()["captured_at"]) >= before - timedelta(seconds=1)


def test_stages_are_the_tenants_own_and_old_reports_keep_their_name(client: Any, shop: OrderWorld) -> None:
    defaults = client.get("/api/v1/progress-stages", headers=shop.as_("supplier_operator")).json()["items"]
    assert [s["code"] for s in defaults][:2] == ["material_received", "machining"]
    order = accepted_order(client, shop)
    line_id = order["lines"][0]["id"]
    before = report(client, shop, line_id, stage="heat_treatment").json()

    assert (
        client.put("/api/v1/progress-stages", json={"labels": ["Machining", "Anodising"]}, headers=shop.as_("planner")).status_code == 403
    )
    english = {"accept-language": "en"}
    saved = client.put("/api/v1/progress-stages", json={"labels": ["Machining", "Anodising"]}, headers={**shop.as_("admin"), **english})
    assert saved.status_code == 200, saved.text
    assert [s["label"] for s in saved.json()] == ["Machining", "Anodising"]
    assert saved.json()[0]["code"] == "machining"
    assert [
        s["label"] for s in client.get("/api/v1/progress-stages", headers={**shop.as_("supplier_operator"), **english}).json()["items"]
    ] == [
        "Machining",
        "Anodising",
    ]
    retired = report(client, shop, line_id, stage="heat_treatment")
    assert retired.status_code == 400
    assert "stage" in retired.json()["error"]["fields"]
    anodising = saved.json()[1]["code"]
    assert report(client, shop, line_id, stage=anodising).status_code == 201
    kept = client.get(f"/api/v1/progress-reports/{before['id']}", headers={**shop.as_("planner"), **english}).json()
    assert kept["stage_label"] == "Heat treatment"
    empty = client.put("/api/v1/progress-stages", json={"labels": [" "]}, headers=shop.as_("admin"))
    assert empty.status_code == 400


def test_the_report_list_pages_with_a_cursor(client: Any, shop: OrderWorld) -> None:
    order = accepted_order(client, shop, "100")
    line_id = order["lines"][0]["id"]
    stored = {report(client, shop, line_id, good_quantity="1").json()["id"] for _ in range(101)}
    first = client.get("/api/v1/progress-reports", params={"order_id": order["id"]}, headers=shop.as_("planner")).json()
    assert len(first["items"]) == 100
    assert first["next"]
    rest = client.get("/api/v1/progress-reports", params={"order_id": order["id"], "cursor": first["next"]}, headers=shop.as_("planner"))
    assert rest.json()["next"] is None
    assert {item["id"] for item in first["items"]} | {item["id"] for item in rest.json()["items"]} == stored
    made = [item["made_at"] for item in first["items"] + rest.json()["items"]]
    assert made == sorted(made, reverse=True)
    bad = client.get("/api/v1/progress-reports", params={"cursor": "yesterday"}, headers=shop.as_("planner"))
    assert (bad.status_code, set(bad.json()["error"]["fields"])) == (400, {"cursor"})
