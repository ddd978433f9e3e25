"""Signed webhooks against a local receiver that checks the signature the
way the documentation tells integrators to; retries, the delivery log, the
day-long failure that disables an endpoint, and the URLs refused."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from portal.jobs.runner import run_due_jobs
from tests.integration.orders.conftest import OrderWorld, draft, fire, shop
from tests.support.webhook_receiver import WebhookReceiver

__all__ = ["shop"]


def register(client: Any, shop: OrderWorld, url: str, events: list[str]) -> Any:
    return client.post("/api/v1/webhooks", json={"url": url, "events": events}, headers=shop.as_("admin"))


def test_a_receiver_that_fails_twice_gets_the_signed_event_on_the_third_attempt(client: Any, run: Any, shop: OrderWorld) -> None:
    with WebhookReceiver(fail_first=2) as hook:
        created = register(client, shop, hook.url, ["order.issued"])
        assert created.status_code == 201, created.text
        hook.secret = created.json()["secret"]
        assert hook.secret.startswith("whsec_")
        # Shown once: the listing never carries it.
        assert client.get("/api/v1/webhooks", headers=shop.as_("admin")).json()["items"][0]["secret"] is None
        order = fire(client, shop, draft(client, shop)["id"], "planner", "issue").json()
        run(run_due_jobs)
        assert hook.attempts == 1
        start = datetime.now(UTC)
        for hours in (2, 4):
            run(run_due_jobs, start + timedelta(hours=hours))
        assert hook.attempts == 3
    assert all(item.valid for item in hook.received)
    event = hook.received[-1]
    assert event.body["type"] == "order.issued"
    assert event.body["record"] == {"type": "order", "id": order["id"]}
    assert event.body["data"]["number"] == order["number"]
    assert event.headers["x-portal-event"] == "order.issued"
    # One event, one delivery id, however many attempts.
    assert len({item.headers["x-portal-delivery"] for item in hook.received}) == 1
    assert len({item.body["id"] for item in hook.received}) == 1

    deliveries = client.get(f"/api/v1/webhooks/{created.json()['id']}/deliveries", headers=shop.as_("admin"))
    assert deliveries.status_code == 200, deliveries.text
    [delivery] = deliveries.json()["items"]
    assert (delivery["status"], delivery["attempts"], delivery["response_code"]) == ("delivered", 3, 204)
    assert delivery["kind"] == "order.issued"


def test_an_endpoint_answering_429_is_tried_again_after_its_retry_after(client: Any, run: Any, shop: OrderWorld) -> None:
    with WebhookReceiver(fail_first=1, status=429, retry_after="600") as hook:
        created = register(client, shop, hook.url, ["order.issued"])
        assert created.status_code == 201, created.text
        hook.secret = created.json()["secret"]
        fire(client, shop, draft(client, shop)["id"], "planner", "issue")
        run(run_due_jobs)
        assert hook.attempts == 1
        # The queue's backoff would come back after ten seconds; the endpoint asked for ten minutes.
        run(run_due_jobs, datetime.now(UTC) + timedelta(seconds=300))
        assert hook.attempts == 1
        run(run_due_jobs, datetime.now(UTC) + timedelta(seconds=601))
        assert hook.attempts == 2
    deliveries = client.get(f"/api/v1/webhooks/{created.json()['id']}/deliveries", headers=shop.as_("admin")).json()["items"]
    assert [(item["status"], item["attempts"]) for item in deliveries] == [("delivered", 2)]


def test_an_endpoint_failing_for_a_day_is_disabled_and_its_admins_are_told(client: Any, run: Any, shop: OrderWorld) -> None:
    from portal.notifications.tables import WebhookEndpoint
    from tenants.context import system_scope

    with WebhookReceiver(fail_first=-1) as hook:
        created = register(client, shop, hook.url, ["*"])
        assert created.status_code == 201, created.text
        hook.secret = created.json()["secret"]
        fire(client, shop, draft(client, shop)["id"], "planner", "issue")
        run(run_due_jobs)
        assert hook.attempts == 1

        async def failing_for_two_days() -> None:
            async with system_scope("test"):
                await WebhookEndpoint.update({WebhookEndpoint.failing_since: datetime.now(UTC) - timedelta(days=2)}).where(
                    WebhookEndpoint.id == created.json()["id"]
                )

        run(failing_for_two_days)
        run(lambda: run_due_jobs(datetime.now(UTC) + timedelta(hours=2)))
        assert hook.attempts == 2
        # Disabled: later events are not sent.
        fire(client, shop, draft(client, shop)["id"], "planner", "issue")
        run(lambda: run_due_jobs(datetime.now(UTC) + timedelta(days=3)))
        assert hook.attempts == 2
    [endpoint] = [
        item for item in client.get("/api/v1/webhooks", headers=shop.as_("admin")).json()["items"] if item["id"] == created.json()["id"]
    ]
    assert endpoint["active"] is False
    assert "HTTP 500" in endpoint["disabled_reason"]
    items = client.get(f"/api/v1/webhooks/{created.json()['id']}/deliveries", headers=shop.as_("admin")).json()["items"]
    assert items[-1]["status"] == "failed"
    told = client.get("/api/v1/notifications", headers=shop.as_("admin")).json()["items"]
    assert any(item["kind"] == "webhook.disabled" and hook.url in item["title"] for item in told)


def test_bad_urls_are_refused_with_a_message_in_the_readers_language(client: Any, shop: OrderWorld) -> None:
    refused = register(client, shop, "ftp://erp.example.com/x", ["*"])
    assert refused.status_code == 400
    assert refused.json()["error"]["code"] == "invalid_webhook"
    assert "https://erp.example.com/hooks/portal" in refused.json()["error"]["fields"]["url"]
    assert "请填写完整网址" in refused.json()["error"]["fields"]["url"]
    english = client.post(
        "/api/v1/webhooks", json={"url": "nonsense", "events": ["*"]}, headers={**shop.as_("admin"), "accept-language": "en"}
    )
    assert english.json()["error"]["fields"]["url"].startswith("Give a full web address")
    unknown = register(client, shop, "https://erp.example.com/x", ["order.teleported"])
    assert unknown.status_code == 400
    assert "order.teleported" in unknown.json()["error"]["fields"]["events"]


@pytest.mark.parametrize(
    "url",
    [
        "http://erp.example.com/hooks",
        "https://127.0.0.1/hooks",
        "https://10.1.2.3/hooks",
        "https://192.168.0.5/hooks",
        "https://169.254.169.254/latest/meta-data",
        "https://[::1]/hooks",
        "https://localhost/hooks",
    ],
)
def test_production_refuses_plain_http_and_internal_addresses(url: str) -> None:
    from portal.notifications.webhooks import InvalidWebhook, check_url

    with pytest.raises(InvalidWebhook):
        check_url(url, production=True)


def test_production_accepts_https_to_a_public_address() -> None:
    from portal.notifications.webhooks import check_url

    check_url("https://8.8.8.8/hooks", production=True)
    check_url("http://127.0.0.1:9/hooks", production=False)
