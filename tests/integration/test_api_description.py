"""What the OpenAPI description promises beyond the schemathesis run
(tests/api): derived from the app's route table, so an endpoint added later
is held to it too."""

from __future__ import annotations

from typing import Any

import pytest
from litestar.routes import HTTPRoute

from tests.support.factories import World, api_token, bearer, make_world


@pytest.fixture(scope="module")
def world(run: Any) -> World:
    return run(make_world, "described")


def _api_routes(app: Any) -> list[HTTPRoute]:
    return [route for route in app.routes if isinstance(route, HTTPRoute) and route.path.startswith("/api/v1/")]


def _status_filters(app: Any) -> list[str]:
    """GETs without a path parameter that take a ``status`` query parameter."""
    paths = []
    for route in _api_routes(app):
        handler = route.route_handler_map.get("GET", (None,))[0]
        if handler is None or route.path_parameters:
            continue
        if "status" in handler.parsed_fn_signature.parameters:
            paths.append(route.path)
    return sorted(paths)


@pytest.mark.parametrize("who", ["admin", "supplier_admin"])
def test_every_status_filter_refuses_an_unknown_status(app: Any, client: Any, world: World, who: str) -> None:
    paths = _status_filters(app)
    assert {"/api/v1/orders", "/api/v1/deliveries", "/api/v1/dispatches", "/api/v1/qc-requirements", "/api/v1/orders/export"} <= set(paths)
    headers = bearer(api_token(client, world.accounts[who], world.slug))
    described = client.get("/schema/openapi.json").json()
    broken = []
    for path in paths:
        response = client.get(path, params={"status": "no-such-status"}, headers=headers)
        if response.status_code == 403:
            continue
        error = response.json().get("error", {}) if response.headers.get("content-type", "").startswith("application/json") else {}
        if response.status_code != 400 or error.get("code") != "invalid" or "status" not in error.get("fields", {}):
            broken.append(f"{path}: {response.status_code} {response.text[:120]}")
        parameter = next(item for item in described["paths"][path]["get"]["parameters"] if item["name"] == "status")
        if "enum" not in str(parameter["schema"]) and "$ref" not in str(parameter["schema"]):
            broken.append(f"{path}: the description lists no status values")
    assert broken == []


def test_a_refused_parameter_is_named_as_on_the_wire(client: Any, world: World) -> None:
    """``format`` is ``fmt`` in the handler: the client sees ``format``."""
    headers = bearer(api_token(client, world.accounts["admin"], world.slug))
    response = client.get("/api/v1/items/export", params={"format": "pdf"}, headers=headers)
    assert response.status_code == 400
    assert list(response.json()["error"]["fields"]) == ["format"]


def test_options_lists_every_method_of_the_path(app: Any, client: Any, world: World) -> None:
    """Litestar 2 listed only the methods registered before the first one
    (portal/allow.py): ``OPTIONS /api/v1/orders`` said ``OPTIONS, POST``."""
    headers = bearer(api_token(client, world.accounts["admin"], world.slug))
    routes = [route for route in _api_routes(app) if not route.path_parameters and len(route.methods) > 2]
    assert routes
    for route in routes:
        response = client.options(route.path, headers=headers)
        if response.status_code == 403:
            continue
        assert response.status_code == 204, route.path
        assert set(response.headers["allow"].split(", ")) == set(route.methods), route.path


def test_errors_are_described_with_the_apis_own_body(client: Any) -> None:
    described = client.get("/schema/openapi.json").json()
    error = described["components"]["schemas"]["Error"]
    assert error["properties"]["error"]["required"] == ["code", "message"]
    operation = described["paths"]["/api/v1/orders/{order_id}"]["patch"]
    assert {"400", "401", "403", "404", "409", "413", "503"} <= set(operation["responses"])
    for status, response in operation["responses"].items():
        if status.startswith(("4", "5")):
            assert response["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/Error"}, status
    export = described["paths"]["/api/v1/orders/export"]["get"]
    assert set(export["responses"]["200"]["content"]) == {"text/csv", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}
    upload = described["paths"]["/api/v1/documents"]["post"]["requestBody"]["content"]["multipart/form-data"]["schema"]
    assert {"file", "attached_type", "attached_id", "category"} <= set(upload["required"])


def test_a_nul_character_is_refused_on_every_database(client: Any, world: World) -> None:
    """PostgreSQL text cannot hold U+0000: it answered 500 there."""
    headers = bearer(api_token(client, world.accounts["admin"], world.slug))
    in_query = client.get("/api/v1/audit-events", params={"entity_type": "order\x00"}, headers=headers)
    assert in_query.status_code == 400
    assert list(in_query.json()["error"]["fields"]) == ["entity_type"]
    in_body = client.post("/api/v1/items", json={"code": "NUL-1", "name": "a\x00b"}, headers=headers)
    assert in_body.status_code == 400
    assert in_body.json()["error"]["code"] == "nul_in_text"
    assert client.get("/api/v1/items", params={"q": "NUL-1"}, headers=headers).json()["items"] == []
