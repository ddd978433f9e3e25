"""Web Push against a local push service that checks the VAPID token and
decrypts each message with the subscription's private key, as a browser's
push service and the browser do; a dead subscription (410) is deleted;
channel choices and bad subscriptions."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from portal.jobs.runner import run_due_jobs
from tests.integration.orders.conftest import OrderWorld, draft, fire, shop
from tests.support.factories import api_token, bearer, csrf_token, page_post, page_token
from tests.support.push_receiver import PushService

__all__ = ["shop"]

API = "/api/v1/notifications/push-subscriptions"


def subscribe(client: Any, shop: OrderWorld, who: str, subscription: dict[str, Any]) -> dict[str, Any]:
    response = client.post(API, json=subscription, headers=shop.as_(who))
    assert response.status_code == 201, response.text
    return dict(response.json())


def devices(client: Any, shop: OrderWorld, who: str) -> list[dict[str, Any]]:
    response = client.get(API, headers=shop.as_(who))
    assert response.status_code == 200, response.text
    return list(response.json()["items"])


def test_a_new_order_is_pushed_encrypted_and_signed_to_the_suppliers_devices_only(client: Any, run: Any, shop: OrderWorld) -> None:
    key = client.get("/api/v1/notifications/push-key", headers=shop.as_("supplier_admin"))
    assert key.status_code == 200, key.text
    # Kept: every caller, every time, gets the same key.
    assert client.get("/api/v1/notifications/push-key", headers=shop.as_("planner")).json() == key.json()
    with PushService() as phone, PushService() as other_phone:
        subscribe(client, shop, "supplier_admin", phone.subscription())
        subscribe(client, shop, "other_supplier_admin", other_phone.subscription())
        order = fire(client, shop, draft(client, shop)["id"], "planner", "issue").json()
        run(run_due_jobs)
    assert phone.problems == []
    [pushed] = phone.received
    assert pushed.vapid_key == key.json()["public_key"]
    [notification] = client.get("/api/v1/notifications", headers=shop.as_("supplier_admin")).json()["items"]
    # In the reader's language, like the notification centre; opens the order.
    assert pushed.message["title"] == notification["title"]
    assert order["number"] in pushed.message["title"]
    assert pushed.message["url"] == f"/orders/{order['id']}"
    assert pushed.message["tag"] == notification["id"]
    # An urgent kind: the push service may wake the phone for it.
    assert pushed.headers["urgency"] == "high"
    # Another supplier's device hears nothing of it.
    assert other_phone.received == []
    assert other_phone.problems == []


def test_a_subscription_the_push_service_answers_410_for_is_deleted(client: Any, run: Any, shop: OrderWorld) -> None:
    with PushService(status=410) as gone, PushService() as phone:
        subscribe(client, shop, "supplier_admin", gone.subscription("gone"))
        kept = subscribe(client, shop, "supplier_admin", phone.subscription("kept"))
        assert len(devices(client, shop, "supplier_admin")) == 2
        fire(client, shop, draft(client, shop)["id"], "planner", "issue")
        run(run_due_jobs)
        assert gone.problems == ["answered 410"]
        assert [device["id"] for device in devices(client, shop, "supplier_admin")] == [kept["id"]]
        assert len(phone.received) == 1
        # The next event goes to the living device only.
        fire(client, shop, draft(client, shop)["id"], "planner", "issue")
        run(run_due_jobs)
    assert gone.problems == ["answered 410"]
    assert len(phone.received) == 2


async def push_jobs(device: str) -> list[dict[str, Any]]:
    from portal.jobs.tables import Job
    from tenants.context import system_scope

    async with system_scope("test"):
        rows = await Job.select(Job.status, Job.run_at, Job.last_error).where((Job.kind == "push.send") & Job.payload.like(f"%{device}%"))
    return list(rows)


def test_a_push_service_answering_429_is_tried_again_after_its_retry_after(client: Any, run: Any, shop: OrderWorld) -> None:
    with PushService(busy=1, retry_after="300") as phone:
        device = subscribe(client, shop, "supplier_admin", phone.subscription())["id"]
        fire(client, shop, draft(client, shop)["id"], "planner", "issue")
        before = datetime.now(UTC)
        run(run_due_jobs)
        assert phone.problems == ["answered 429"]
        [job] = run(push_jobs, device)
        assert job["status"] == "failed"
        assert "429" in job["last_error"]
        # Five minutes as asked, not the queue's first backoff of ten seconds.
        assert before + timedelta(seconds=300) <= job["run_at"] <= datetime.now(UTC) + timedelta(seconds=300)
        run(run_due_jobs, before + timedelta(seconds=200))
        assert phone.received == []
        run(run_due_jobs, datetime.now(UTC) + timedelta(seconds=301))
        assert len(phone.received) == 1
    assert [row["status"] for row in run(push_jobs, device)] == ["done"]


def test_signing_out_stops_the_pushes_to_the_devices_subscribed_from_that_session(client: Any, run: Any, shop: OrderWorld) -> None:
    account = shop.world.accounts["supplier_admin"]
    phone_session = api_token(client, account, shop.world.slug)
    desk_session = page_token(client, account, shop.world.slug)
    with PushService() as phone, PushService() as desk:
        assert client.post(API, json=phone.subscription(), headers=bearer(phone_session)).status_code == 201
        csrf = csrf_token(client)
        subscribed = client.post(
            "/notifications/push",
            json=desk.subscription(),
            headers={"cookie": f"portal_session={desk_session}; csrftoken={csrf}", "x-csrftoken": csrf},
        )
        client.cookies.clear()
        assert subscribed.status_code == 201, subscribed.text
        assert len(devices(client, shop, "supplier_admin")) == 2
        # The phone signs out (API), then the desktop (its page's sign-out form).
        assert client.post("/api/v1/auth/logout", headers=bearer(phone_session)).status_code == 200
        assert [device["endpoint"] for device in devices(client, shop, "supplier_admin")] == [desk.subscription()["endpoint"]]
        fire(client, shop, draft(client, shop)["id"], "planner", "issue")
        run(run_due_jobs)
        assert phone.received == []
        assert len(desk.received) == 1
        signed_out = page_post(client, "/logout", {}, csrf=csrf, session=desk_session)
        assert signed_out.status_code == 303, signed_out.text
        assert devices(client, shop, "supplier_admin") == []
        fire(client, shop, draft(client, shop)["id"], "planner", "issue")
        run(run_due_jobs)
    assert phone.received == []
    assert len(desk.received) == 1
    assert phone.problems == desk.problems == []


def test_push_follows_each_persons_choice_per_kind(client: Any, run: Any, shop: OrderWorld) -> None:
    choices = client.get("/api/v1/notifications/preferences", headers=shop.as_("supplier_operator")).json()["items"]
    issued = next(item for item in choices if item["kind"] == "order.issued")
    assert issued["push"] is True
    response = client.put(
        "/api/v1/notifications/preferences",
        json=[{"kind": "order.issued", "in_app": True, "email": "off", "push": False}],
        headers=shop.as_("supplier_operator"),
    )
    assert response.status_code == 200, response.text
    assert next(item for item in response.json()["items"] if item["kind"] == "order.issued")["push"] is False
    with PushService() as operator_phone, PushService() as admin_phone:
        subscribe(client, shop, "supplier_operator", operator_phone.subscription())
        subscribe(client, shop, "supplier_admin", admin_phone.subscription())
        fire(client, shop, draft(client, shop)["id"], "planner", "issue")
        run(run_due_jobs)
    assert operator_phone.received == []
    assert len(admin_phone.received) == 1


def test_a_device_subscribing_again_is_kept_once_for_whoever_subscribed_last(client: Any, shop: OrderWorld) -> None:
    with PushService() as phone:
        first = subscribe(client, shop, "supplier_admin", phone.subscription())
        assert subscribe(client, shop, "supplier_admin", phone.subscription())["id"] == first["id"]
        subscribe(client, shop, "supplier_operator", phone.subscription())
    assert devices(client, shop, "supplier_admin") == []
    assert len(devices(client, shop, "supplier_operator")) == 1
    removed = client.delete(f"{API}/{devices(client, shop, 'supplier_operator')[0]['id']}", headers=shop.as_("supplier_admin"))
    assert removed.status_code == 404
    removed = client.delete(f"{API}/{devices(client, shop, 'supplier_operator')[0]['id']}", headers=shop.as_("supplier_operator"))
    assert removed.status_code == 204
    assert devices(client, shop, "supplier_operator") == []


def test_a_subscription_with_broken_keys_is_refused_and_nothing_is_kept(client: Any, shop: OrderWorld) -> None:
    with PushService() as phone:
        good = phone.subscription()
    for broken, field in (
        ({**good, "keys": {**good["keys"], "p256dh": "AAAA"}}, "keys.p256dh"),
        ({**good, "keys": {**good["keys"], "auth": "AAAA"}}, "keys.auth"),
        ({**good, "endpoint": "ftp://push.example.com/x"}, "endpoint"),
    ):
        response = client.post(API, json=broken, headers={**shop.as_("supplier_admin"), "Accept-Language": "zh-CN"})
        assert response.status_code == 400, response.text
        error = response.json()["error"]
        assert error["code"] == "invalid_subscription"
        assert field in error["fields"]
    assert devices(client, shop, "supplier_admin") == []
