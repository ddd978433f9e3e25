"""The tenant admin's pages for what runs in the background: webhook
endpoints and their deliveries, and failed or parked jobs with their last
error and a retry button; another tenant's jobs stay out of reach."""

from __future__ import annotations

import re
from typing import Any

from portal.jobs.runner import run_due_jobs
from tests.integration.orders.conftest import OrderWorld, draft, fire, shop
from tests.support.factories import api_token, make_world, page_headers
from tests.support.webhook_receiver import WebhookReceiver

__all__ = ["shop"]


def admin_page(client: Any, shop: OrderWorld) -> dict[str, str]:
    return {**page_headers(client, api_token(client, shop.world.accounts["admin"], shop.world.slug)), "accept-language": "en"}


def test_an_admin_registers_a_webhook_sees_its_secret_once_and_follows_its_deliveries(client: Any, run: Any, shop: OrderWorld) -> None:
    headers = admin_page(client, shop)
    account = client.get("/account", headers=headers)
    assert 'href="/admin/webhooks"' in account.text
    assert 'href="/admin/jobs"' in account.text
    with WebhookReceiver(fail_first=-1) as hook:
        answer = client.post(
            "/admin/webhooks",
            data={"url": hook.url, "events": ["order.issued"], "description": "MES", "_csrf_token": headers["x-csrftoken"]},
            headers=headers,
        )
        assert answer.status_code == 200, answer.text
        secret = re.search(r"whsec_[\w-]+", answer.text)
        assert secret is not None
        listing = client.get("/admin/webhooks", headers=headers)
        assert hook.url in listing.text
        assert secret[0] not in listing.text
        hook.secret = secret[0]
        fire(client, shop, draft(client, shop)["id"], "planner", "issue")
        run(run_due_jobs)
        assert hook.attempts == 1
    [endpoint] = client.get("/api/v1/webhooks", headers=shop.as_("admin")).json()["items"]
    page = client.get(f"/admin/webhooks/{endpoint['id']}", headers=headers)
    assert page.status_code == 200
    assert "order.issued" in page.text
    assert "HTTP 500" in page.text
    assert (
        client.get(
            f"/admin/webhooks/{endpoint['id']}",
            headers={**page_headers(client, api_token(client, shop.world.accounts["planner"], shop.world.slug))},
        ).status_code
        == 403
    )


def test_a_failed_job_is_listed_with_its_error_and_retried_from_the_page(client: Any, run: Any, shop: OrderWorld) -> None:
    headers = admin_page(client, shop)
    with WebhookReceiver(fail_first=1) as hook:
        created = client.post("/api/v1/webhooks", json={"url": hook.url, "events": ["order.issued"]}, headers=shop.as_("admin"))
        hook.secret = created.json()["secret"]
        fire(client, shop, draft(client, shop)["id"], "planner", "issue")
        run(run_due_jobs)
        assert hook.attempts == 1
        page = client.get("/admin/jobs", headers=headers)
        assert page.status_code == 200
        assert "webhooks.deliver" in page.text
        assert "HTTP 500" in page.text
        [job_id] = re.findall(r'action="/admin/jobs/([0-9a-f-]{36})/retry"', page.text)

        other = run(make_world, "jobs-other")
        stranger = page_headers(client, api_token(client, other.accounts["admin"], other.slug))
        assert job_id not in client.get("/admin/jobs", headers=stranger).text
        refused = client.post(
            f"/admin/jobs/{job_id}/retry", data={"_csrf_token": stranger["x-csrftoken"]}, headers=stranger, follow_redirects=False
        )
        assert refused.status_code == 404

        retried = client.post(
            f"/admin/jobs/{job_id}/retry", data={"_csrf_token": headers["x-csrftoken"]}, headers=headers, follow_redirects=False
        )
        assert retried.status_code == 303
        # Due now, not after its backoff: the next round sends it.
        run(run_due_jobs)
        assert hook.attempts == 2
    assert "webhooks.deliver" not in client.get("/admin/jobs", headers=headers).text


def test_a_refused_webhook_or_robot_form_keeps_the_events_it_had_ticked(client: Any, shop: OrderWorld) -> None:
    headers = admin_page(client, shop)
    ticked = ["order.issued", "order.rejected"]
    for path, form in (
        ("/admin/webhooks", {"url": "not an address", "description": "MES"}),
        ("/admin/chat-robots", {"service": "wecom", "url": "not an address"}),
    ):
        refused = client.post(path, data={**form, "events": ticked, "_csrf_token": headers["x-csrftoken"]}, headers=headers)
        assert refused.status_code == 400, refused.text
        checked = set(re.findall(r'name="events" value="([\w.]+)" checked', refused.text))
        assert checked == set(ticked), path
        assert 'name="events" value="order.accepted"' in refused.text, "the other events are offered, unticked"
    # A fresh form has nothing ticked.
    assert " checked" not in client.get("/admin/webhooks", headers=headers).text.split("<fieldset>", 1)[1]
