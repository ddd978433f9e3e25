"""Events to notifications: the right people hear of each event, in their
language, in the app and by email (at once or in the daily digest), and
nobody else; the API's list, unread count and mark read; channel choices."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from portal.jobs.runner import run_due_jobs
from tests.integration.orders.conftest import OrderWorld, draft, due, fire, shop
from tests.support.factories import outbox_to, page_get

__all__ = ["shop"]


def notifications(client: Any, shop: OrderWorld, who: str, **params: Any) -> list[dict[str, Any]]:
    response = client.get("/api/v1/notifications", params=params, headers=shop.as_(who))
    assert response.status_code == 200, response.text
    return list(response.json()["items"])


def unread(client: Any, shop: OrderWorld, who: str) -> int:
    response = client.get("/api/v1/notifications/unread-count", headers=shop.as_(who))
    assert response.status_code == 200, response.text
    return int(response.json()["count"])


def revise(client: Any, shop: OrderWorld, order: dict[str, Any], reason: str) -> None:
    line = order["lines"][0]
    body = {
        "version": order["version"],
        "reason": reason,
        "lines": [{"id": line["id"], "item_id": line["item_id"], "quantity": "120", "unit_price": line["unit_price"], "due_date": due(20)}],
    }
    response = client.patch(f"/api/v1/orders/{order['id']}", json=body, headers=shop.as_("planner"))
    assert response.status_code == 200, response.text


def test_a_revision_tells_the_suppliers_people_in_app_and_by_email_and_nobody_else(
    client: Any, run: Any, shop: OrderWorld, var_dir: Any
) -> None:
    order = fire(client, shop, draft(client, shop)["id"], "planner", "issue").json()
    run(run_due_jobs)
    before = unread(client, shop, "supplier_operator")
    revise(client, shop, order, "Quantity up to 120")
    # Recorded with the change; nobody has heard yet.
    assert unread(client, shop, "supplier_operator") == before
    run(run_due_jobs)

    for who in ("supplier_admin", "supplier_operator"):
        assert unread(client, shop, who) == before + 1
        [latest, *_] = notifications(client, shop, who)
        assert latest["kind"] == "order.revised"
        assert latest["link"] == f"/orders/{order['id']}"
        assert order["number"] in latest["title"]
        assert "Quantity up to 120" in latest["body"]
        assert latest["read_at"] is None
        mails = outbox_to(var_dir, shop.world.accounts[who].email)
        assert any(order["number"] in str(mail["Subject"]) and "变更" in str(mail["Subject"]) for mail in mails)
        text = mails[-1].get_body(("plain",)).get_content()
        assert f"/orders/{order['id']}" in text
    # Another supplier, the buyer's people: nothing about this order.
    for who in ("other_supplier_admin", "planner", "qa", "finance", "admin"):
        assert all(item["link"] != f"/orders/{order['id']}" or item["kind"] != "order.revised" for item in notifications(client, shop, who))
    assert outbox_to(var_dir, shop.world.accounts["other_supplier_admin"].email) == []


def test_titles_follow_the_readers_language(client: Any, run: Any, shop: OrderWorld) -> None:
    order = fire(client, shop, draft(client, shop)["id"], "planner", "issue").json()
    run(run_due_jobs)
    chinese = notifications(client, shop, "supplier_admin")[0]
    english = client.get("/api/v1/notifications", headers={**shop.as_("supplier_admin"), "accept-language": "en"}).json()["items"][0]
    assert chinese["id"] == english["id"]
    assert chinese["title"].startswith("来自")
    assert order["number"] in chinese["title"]
    assert english["title"].startswith("New order")
    assert order["number"] in english["title"]


def test_channel_settings_name_each_kind_in_the_readers_language(client: Any, shop: OrderWorld) -> None:
    """A setting is about a kind of event, not one event: its label has no
    hole where an order number or a company would go."""
    for who in ("supplier_admin", "planner", "qa", "finance", "admin"):
        for language in ("zh-CN", "en"):
            headers = {**shop.as_(who), "accept-language": language}
            items = client.get("/api/v1/notifications/preferences", headers=headers).json()["items"]
            assert items, who
            for item in items:
                label = item["label"]
                assert label.strip() == label
                assert label, item["kind"]
                assert "%(" not in label, label
                assert "  " not in label, label
                assert not label.startswith(("来自 ", ": ", "：")), label
    english = client.get("/api/v1/notifications/preferences", headers={**shop.as_("supplier_admin"), "accept-language": "en"})
    assert {item["kind"]: item["label"] for item in english.json()["items"]}["order.revised"] == "Order changes to acknowledge"
    # The page the person sets them on (the tenant's language).
    page = page_get(client, "/notifications/settings", session=shop.as_("supplier_admin")["authorization"].removeprefix("Bearer "))
    assert page.status_code == 200, page.text
    assert "<legend>新订单</legend>" in page.text
    assert "<legend>待确认的订单变更</legend>" in page.text
    assert "来自 的" not in page.text


def test_the_supplier_answering_tells_the_planner(client: Any, run: Any, shop: OrderWorld) -> None:
    order = fire(client, shop, draft(client, shop)["id"], "planner", "issue").json()
    assert fire(client, shop, order["id"], "supplier_admin", "reject", "No capacity in May").status_code == 200
    run(run_due_jobs)
    [latest, *_] = notifications(client, shop, "planner")
    assert latest["kind"] == "order.rejected"
    assert "No capacity in May" in latest["body"]
    assert f"Supplier S1 {shop.world.slug}" in latest["title"]
    # The one who acted is not told about their own act.
    assert all(item["kind"] != "order.rejected" for item in notifications(client, shop, "supplier_admin"))


def test_mark_one_and_all_read_and_another_persons_notification_is_not_found(client: Any, run: Any, shop: OrderWorld) -> None:
    for _ in range(2):
        fire(client, shop, draft(client, shop)["id"], "planner", "issue")
    run(run_due_jobs)
    items = notifications(client, shop, "supplier_operator", unread="true")
    assert len(items) >= 2
    first = items[0]
    read = client.post(f"/api/v1/notifications/{first['id']}/read", headers=shop.as_("supplier_operator"))
    assert read.status_code == 200, read.text
    assert read.json()["read_at"] is not None
    assert first["id"] not in [item["id"] for item in notifications(client, shop, "supplier_operator", unread="true")]
    # The same event's notification of a colleague is the colleague's alone.
    stranger = client.post(f"/api/v1/notifications/{first['id']}/read", headers=shop.as_("supplier_admin"))
    assert stranger.status_code == 404
    marked = client.post("/api/v1/notifications/read-all", headers=shop.as_("supplier_operator"))
    assert marked.status_code == 200
    assert marked.json()["marked"] == len(items) - 1
    assert unread(client, shop, "supplier_operator") == 0
    assert unread(client, shop, "supplier_admin") >= 2


def test_urgent_kinds_cannot_be_switched_off_and_a_digest_kind_waits_for_the_daily_summary(
    client: Any, run: Any, shop: OrderWorld, var_dir: Any
) -> None:
    refused = client.put(
        "/api/v1/notifications/preferences",
        json=[{"kind": "order.issued", "in_app": False, "email": "off"}],
        headers=shop.as_("supplier_admin"),
    )
    assert refused.status_code == 400
    assert refused.json()["error"]["code"] == "invalid_preference"
    assert "order.issued" in refused.json()["error"]["fields"]

    saved = client.put(
        "/api/v1/notifications/preferences",
        json=[{"kind": "order.accepted", "in_app": True, "email": "digest"}],
        headers=shop.as_("planner"),
    )
    assert saved.status_code == 200, saved.text
    assert {item["kind"]: item["email"] for item in saved.json()["items"]}["order.accepted"] == "digest"

    planner = shop.world.accounts["planner"].email
    already = len(outbox_to(var_dir, planner))
    numbers = []
    for _ in range(2):
        order = fire(client, shop, draft(client, shop)["id"], "planner", "issue").json()
        assert fire(client, shop, order["id"], "supplier_admin", "accept").status_code == 200
        numbers.append(order["number"])
    run(run_due_jobs)
    assert len(outbox_to(var_dir, planner)) == already  # in the app at once, by email only in the digest
    assert [item["kind"] for item in notifications(client, shop, "planner")[:2]] == ["order.accepted", "order.accepted"]

    from portal.notifications.services import digest_job

    run(lambda: digest_job({}))
    run(run_due_jobs)
    digests = outbox_to(var_dir, planner)[already:]
    assert len(digests) == 1
    text = digests[0].get_body(("plain",)).get_content()
    assert all(number in text for number in numbers)
    # Sent once: the next digest has nothing for this planner.
    run(lambda: digest_job({}))
    run(run_due_jobs)
    assert len(outbox_to(var_dir, planner)) == already + 1


def test_a_change_that_rolls_back_tells_nobody(client: Any, run: Any, shop: OrderWorld) -> None:
    from portal.jobs.queue import list_jobs

    order = fire(client, shop, draft(client, shop)["id"], "planner", "issue").json()
    run(run_due_jobs)
    before = unread(client, shop, "supplier_admin")
    # A stale version: the service emits nothing before it refuses, and the request rolls back.
    line = order["lines"][0]
    stale = {
        "version": order["version"] - 1,
        "reason": "late",
        "lines": [{"id": line["id"], "item_id": line["item_id"], "quantity": "130", "unit_price": line["unit_price"], "due_date": due(20)}],
    }
    assert client.patch(f"/api/v1/orders/{order['id']}", json=stale, headers=shop.as_("planner")).status_code == 409
    assert not [job for job in run(lambda: list_jobs(["queued"])) if job.kind == "notifications.dispatch"]
    run(lambda: run_due_jobs(datetime.now(UTC) + timedelta(seconds=1)))
    assert unread(client, shop, "supplier_admin") == before


def test_an_event_queued_before_events_carried_their_tenants_names_still_reaches_its_people(
    client: Any, run: Any, shop: OrderWorld, var_dir: Any
) -> None:
    # What emit queued before the dispatch stopped reading the tenant itself:
    # no "scope" in the payload.
    from uuid import uuid4

    from portal.jobs import enqueue

    world = shop.world
    payload = {
        "event_id": str(uuid4()),
        "kind": "order.issued",
        "tenant": str(world.tenant_id),
        "supplier": str(world.supplier_ids[0]),
        "link": "/orders",
        "params": {"number": "WO-OLD-1", "buyer": "Acme"},
        "record": None,
        "users": None,
        "actor": None,
        "at": datetime.now(UTC).isoformat(),
    }
    run(lambda: enqueue("notifications.dispatch", payload, tenant=world.tenant_id))
    run(run_due_jobs)
    for who in ("supplier_admin", "supplier_operator"):
        [latest, *_] = notifications(client, shop, who)
        assert "WO-OLD-1" in latest["title"]
        assert any("WO-OLD-1" in str(mail["Subject"]) for mail in outbox_to(var_dir, world.accounts[who].email))
    assert all("WO-OLD-1" not in item["title"] for item in notifications(client, shop, "other_supplier_admin"))
