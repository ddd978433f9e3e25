"""Every list endpoint keeps the API's list contract: ``GET`` without a path
parameter answers ``{"items": [...], "next": <cursor or null>}``. Derived
from the app's route table, so a list added later is held to it too."""

from __future__ import annotations

from typing import Any

import pytest
from litestar.routes import HTTPRoute

from tests.support.factories import World, api_token, bearer, make_world

# GETs without a path parameter that answer one object, with the reason.
# (File downloads - exports, import templates - are recognised by their
# attachment header instead.)
NOT_LISTS = {
    "/api/v1/me": "the caller's own identity",
    "/api/v1/settings/reconciliation": "the tenant's one set of reconciliation settings",
    "/api/v1/settings/response-times": "the tenant's one set of response-time rules",
    "/api/v1/settings/tolerance": "the tenant's one set of tolerances",
    "/api/v1/settings/ncr-steps": "the tenant's one set of days per NCR step",
    "/api/v1/lot-trace": "one lot's trace, in sections",
    "/api/v1/settings/handover-template": "the tenant's one handover checklist template",
    "/api/v1/notifications/unread-count": "one number, the caller's unread notifications",
    "/api/v1/notifications/push-key": "the portal's one VAPID public key",
    # A list, but only of one record's threads: it needs record_type and
    # record_id, and tests/integration/conversations holds it to {items, next}.
    "/api/v1/threads": "the threads of the one record the query names",
}


def _list_paths(app: Any) -> list[str]:
    return sorted(
        route.path
        for route in app.routes
        if isinstance(route, HTTPRoute)
        and route.path.startswith("/api/v1/")
        and "{" not in route.path
        and route.path not in NOT_LISTS
        and any("GET" in handler.http_methods for handler in route.route_handlers)
    )


@pytest.fixture(scope="module")
def world(run: Any) -> World:
    return run(make_world, "lists")


@pytest.mark.parametrize("who", ["admin", "supplier_operator"])
def test_every_list_answers_items_and_next(app: Any, client: Any, world: World, who: str) -> None:
    headers = bearer(api_token(client, world.accounts[who], world.slug))
    paths = _list_paths(app)
    assert {"/api/v1/orders", "/api/v1/progress-reports"} <= set(paths)
    broken = []
    for path in paths:
        response = client.get(path, headers=headers)
        if response.status_code == 403:
            continue
        if not response.headers.get("content-type", "").startswith("application/json"):
            if not response.headers.get("content-disposition", "").startswith("attachment"):
                broken.append(f"{path}: neither a JSON list nor a file download")
            continue
        body = response.json()
        if response.status_code != 200 or not isinstance(body, dict) or not isinstance(body.get("items"), list) or "next" not in body:
            broken.append(f"{path}: {response.status_code} {str(body)[:80]}")
    assert broken == []


def _takes_a_cursor(app: Any, path: str) -> bool:
    for route in app.routes:
        if isinstance(route, HTTPRoute) and route.path == path:
            handlers = [handler for handler in route.route_handlers if "GET" in handler.http_methods]
            return any("cursor" in handler.parsed_fn_signature.parameters for handler in handlers)
    return False


@pytest.mark.parametrize("cursor", ["not-a-cursor", "Zm9v", "%%%"])
def test_every_list_refuses_a_page_cursor_it_never_handed_out(app: Any, client: Any, world: World, cursor: str) -> None:
    """A bad page link is a 400 naming the cursor, on every list alike, never
    an empty page that looks like the end of the list."""
    headers = bearer(api_token(client, world.accounts["admin"], world.slug))
    paths = [path for path in _list_paths(app) if _takes_a_cursor(app, path)]
    assert "/api/v1/deliveries" in paths
    wrong = []
    for path in paths:
        response = client.get(path, params={"cursor": cursor}, headers=headers)
        if response.status_code != 400 or "cursor" not in response.json()["error"].get("fields", {}):
            wrong.append(f"{path}: {response.status_code} {response.text[:80]}")
    assert wrong == []
