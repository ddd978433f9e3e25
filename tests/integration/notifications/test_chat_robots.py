"""Work chat robots against local stand-ins that check each message as
DingTalk, WeCom and Feishu do; a supplier admin's robot hears its own
supplier's events only; refusals are retried and shown; bad input."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from portal.jobs.runner import run_due_jobs
from tests.integration.orders.conftest import OrderWorld, draft, fire, shop
from tests.support.chat_receivers import ChatService
from tests.support.factories import api_token, page_headers

__all__ = ["shop"]

API = "/api/v1/chat-robots"


def connect(client: Any, shop: OrderWorld, who: str, **body: Any) -> Any:
    return client.post(API, json=body, headers=shop.as_(who))


@pytest.mark.parametrize(("service", "secret"), [("dingtalk", "SECdingtalk-secret-0001"), ("feishu", "feishu-secret-0001"), ("wecom", "")])
def test_a_new_order_is_posted_to_the_buyers_group_in_the_services_own_format(
    client: Any, run: Any, shop: OrderWorld, service: str, secret: str
) -> None:
    with ChatService(service, secret=secret) as group:
        created = connect(client, shop, "admin", service=service, url=group.url, secret=secret, events=["order.issued"])
        assert created.status_code == 201, created.text
        robot = created.json()
        # The URL carries the robot's token: only a hint comes back.
        assert group.token not in robot["url_hint"]
        assert robot["signed"] is bool(secret)
        order = fire(client, shop, draft(client, shop)["id"], "planner", "issue").json()
        # Not chosen: an acceptance is not posted.
        fire(client, shop, order["id"], "supplier_admin", "accept")
        run(run_due_jobs)
    assert group.refusals == []
    [message] = group.messages
    assert order["number"] in message
    assert f"/orders/{order['id']}" in message
    [listed] = client.get(API, headers=shop.as_("admin")).json()["items"]
    assert listed["last_error"] == ""
    assert listed["last_sent_at"] is not None


@pytest.mark.parametrize("service", ["dingtalk", "feishu"])
def test_a_wrong_secret_is_refused_by_the_service_retried_and_shown(client: Any, run: Any, shop: OrderWorld, service: str) -> None:
    with ChatService(service, secret="the-right-secret") as group:
        created = connect(client, shop, "admin", service=service, url=group.url, secret="a-wrong-secret", events=["*"])
        assert created.status_code == 201, created.text
        fire(client, shop, draft(client, shop)["id"], "planner", "issue")
        run(run_due_jobs)
        assert len(group.refusals) == 1
        [listed] = client.get(API, headers=shop.as_("admin")).json()["items"]
        assert "sign" in listed["last_error"]
        # The queue tries again after its backoff; the service still refuses.
        run(run_due_jobs, datetime.now(UTC) + timedelta(minutes=5))
    assert len(group.refusals) == 2
    assert group.messages == []


def test_a_throttled_robot_is_tried_again_after_the_retry_after_it_was_given(client: Any, run: Any, shop: OrderWorld) -> None:
    with ChatService("wecom", busy=1, retry_after="600") as group:
        assert connect(client, shop, "admin", service="wecom", url=group.url, events=["order.issued"]).status_code == 201
        fire(client, shop, draft(client, shop)["id"], "planner", "issue")
        run(run_due_jobs)
        assert group.throttled == 1
        [listed] = client.get(API, headers=shop.as_("admin")).json()["items"]
        assert listed["last_error"] == "HTTP 429"
        # The queue's backoff would come back after ten seconds; the service asked for ten minutes.
        run(run_due_jobs, datetime.now(UTC) + timedelta(seconds=300))
        assert group.messages == []
        run(run_due_jobs, datetime.now(UTC) + timedelta(seconds=601))
    assert len(group.messages) == 1
    assert group.throttled == 1


def test_a_supplier_admins_robot_hears_only_its_own_suppliers_events(client: Any, run: Any, shop: OrderWorld) -> None:
    with ChatService("wecom", token="first-supplier") as first, ChatService("wecom", token="second-supplier") as second:
        assert connect(client, shop, "supplier_admin", service="wecom", url=first.url).status_code == 201
        assert connect(client, shop, "other_supplier_admin", service="wecom", url=second.url).status_code == 201
        order = fire(client, shop, draft(client, shop)["id"], "planner", "issue").json()
        # A buyer-side kind about this supplier's order is not the supplier group's to hear.
        fire(client, shop, order["id"], "supplier_admin", "accept")
        run(run_due_jobs)
    assert len(first.messages) == 1
    assert order["number"] in first.messages[0]
    assert second.messages == []
    # A supplier admin lists its own supplier's robot; the tenant admin all.
    [own] = client.get(API, headers=shop.as_("supplier_admin")).json()["items"]
    assert own["supplier_id"] == str(shop.world.supplier_ids[0])
    assert len(client.get(API, headers=shop.as_("admin")).json()["items"]) == 2
    other = client.get(API, headers=shop.as_("other_supplier_admin")).json()["items"][0]
    assert client.delete(f"{API}/{other['id']}", headers=shop.as_("supplier_admin")).status_code == 404


def test_bad_robots_are_refused_with_a_reason_and_nothing_is_kept(client: Any, shop: OrderWorld) -> None:
    chinese = {**shop.as_("supplier_admin"), "Accept-Language": "zh-CN"}
    for body, field in (
        ({"service": "slack", "url": "https://hooks.example.com/x"}, "service"),
        ({"service": "dingtalk", "url": "ftp://oapi.dingtalk.com/robot/send"}, "url"),
        ({"service": "wecom", "url": "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=k", "secret": "s"}, "secret"),
        # A buyer-side kind is not a supplier group's to choose.
        ({"service": "feishu", "url": "https://open.feishu.cn/open-apis/bot/v2/hook/x", "events": ["order.accepted"]}, "events"),
    ):
        response = client.post(API, json=body, headers=chinese)
        assert response.status_code == 400, response.text
        error = response.json()["error"]
        assert error["code"] == "invalid_chat_robot"
        assert field in error["fields"]
        assert any("\u4e00" <= char <= "\u9fff" for char in error["fields"][field]), error
    assert client.get(API, headers=shop.as_("supplier_admin")).json()["items"] == []


def test_robots_are_connected_and_disconnected_from_the_admin_page(client: Any, shop: OrderWorld) -> None:
    headers = page_headers(client, api_token(client, shop.world.accounts["admin"], shop.world.slug))
    with ChatService("wecom") as group:
        page = client.get("/admin/chat-robots", headers=headers)
        assert page.status_code == 200
        saved = client.post(
            "/admin/chat-robots",
            data={
                "service": "wecom",
                "url": group.url,
                "events": ["order.issued", "order.rejected"],
                "_csrf_token": headers["x-csrftoken"],
            },
            headers=headers,
            follow_redirects=False,
        )
        assert saved.status_code == 303, saved.text
    [robot] = client.get(API, headers=shop.as_("admin")).json()["items"]
    assert robot["events"] == ["order.issued", "order.rejected"]
    assert robot["url_hint"] in client.get("/admin/chat-robots", headers=headers).text
    gone = client.post(
        f"/admin/chat-robots/{robot['id']}/delete", data={"_csrf_token": headers["x-csrftoken"]}, headers=headers, follow_redirects=False
    )
    assert gone.status_code == 303
    assert client.get(API, headers=shop.as_("admin")).json()["items"] == []
