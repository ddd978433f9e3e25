"""Page sessions and API tokens are different kinds of token (own audience,
own lifetime), and each door takes only its own: a page token is refused by
the API, an API token is refused as the session cookie, and every write a
cookie authenticates still needs its CSRF token."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlsplit
from uuid import uuid4

import pytest
from litestar.routes import HTTPRoute

from tenants.tokens import KINDS, TokenKind
from tests.support.factories import World, api_token, bearer, csrf_token, make_world, page_token, set_cookie_header


@pytest.fixture
def world(run: Any) -> World:
    return run(make_world)  # type: ignore[no-any-return]


@pytest.fixture(autouse=True)
def empty_cookie_jar(client: Any) -> Any:
    client.cookies.clear()
    yield
    client.cookies.clear()


def cookie(token: str, csrf: str | None = None) -> dict[str, str]:
    """Raw headers, so no test helper turns one kind of token into the other."""
    value = f"portal_session={token}" + (f"; csrftoken={csrf}" if csrf else "")
    return {"cookie": value, **({"x-csrftoken": csrf} if csrf else {})}


def test_page_session_is_refused_by_the_api(client: Any, world: World) -> None:
    session = page_token(client, world.accounts["planner"], world.slug)
    assert client.get("/account", headers=cookie(session), follow_redirects=False).status_code == 200
    for method, path in (("GET", "/api/v1/me"), ("GET", "/api/v1/suppliers"), ("POST", "/api/v1/auth/logout")):
        response = client.request(method, path, headers=bearer(session))
        assert response.status_code == 401, f"{method} {path}: {response.text}"
        assert response.headers["content-type"].startswith("application/json")
        assert response.json()["error"]["code"] == "not_authenticated"
    # The refused logout ended nothing: the page session still works.
    assert client.get("/account", headers=cookie(session), follow_redirects=False).status_code == 200


def test_api_token_is_refused_as_the_session_cookie(client: Any, world: World) -> None:
    token = api_token(client, world.accounts["planner"], world.slug)
    assert client.get("/api/v1/me", headers=bearer(token)).status_code == 200
    response = client.get("/account", headers=cookie(token), follow_redirects=False)
    assert response.status_code == 303
    assert urlsplit(response.headers["location"]).path == "/login"
    # Not even for a write that carries a valid CSRF pair.
    csrf = csrf_token(client)
    logout = client.post("/logout", data={"_csrf_token": csrf}, headers=cookie(token, csrf), follow_redirects=False)
    client.cookies.clear()
    assert logout.status_code == 303
    assert urlsplit(logout.headers["location"]).path == "/login"
    # Refused as nobody: the session behind the API token was not ended.
    assert client.get("/api/v1/me", headers=bearer(token)).status_code == 200


def test_each_kind_lives_its_own_lifetime(client: Any, world: World) -> None:
    issued = client.post(
        "/api/v1/auth/token", json={"email": world.accounts["qa"].email, "password": "test-password-123", "tenant": world.slug}
    )
    assert issued.json()["expires_in"] == int(KINDS[TokenKind.API].lifetime.total_seconds()) == 3600
    csrf = csrf_token(client)
    client.cookies.clear()
    signed_in = client.post(
        "/login",
        data={"email": world.accounts["qa"].email, "password": "test-password-123", "_csrf_token": csrf},
        headers={"cookie": f"csrftoken={csrf}"},
        follow_redirects=False,
    )
    client.cookies.clear()
    raw = set_cookie_header(signed_in, "portal_session")
    assert raw is not None
    max_age = re.search(r"max-age=(\d+)", raw, re.IGNORECASE)
    assert max_age
    assert int(max_age.group(1)) == int(KINDS[TokenKind.PAGE].lifetime.total_seconds()) == 12 * 3600


def _cookie_writes(app: Any) -> list[tuple[str, str]]:
    """Every state-changing route outside the API: the cookie authenticates them."""
    writes = []
    for route in app.routes:
        if not isinstance(route, HTTPRoute) or route.path.startswith("/api/"):
            continue
        for handler in route.route_handlers:
            for method in sorted(handler.http_methods - {"GET", "HEAD", "OPTIONS"}):
                writes.append((method, route.path))
    return writes


def _fill(path: str) -> str:
    # A text parameter gets "health": a page path that merely contains
    # "/health" (or "/api/") must not slip past the CSRF check.
    return re.sub(r"\{(\w+):(\w+)\}", lambda m: str(uuid4()) if m.group(2) == "uuid" else "health", path)


def test_every_cookie_authenticated_write_needs_its_csrf_token(app: Any, client: Any, world: World) -> None:
    session = page_token(client, world.accounts["admin"], world.slug)
    writes = _cookie_writes(app)
    assert ("POST", "/logout") in writes
    unprotected = []
    for method, path in writes:
        response = client.request(method, _fill(path), headers=cookie(session), follow_redirects=False)
        if response.status_code != 403:
            unprotected.append(f"{method} {_fill(path)}: {response.status_code}")
    assert unprotected == []
    # The session survived every refused write (the logout among them).
    assert client.get("/account", headers=cookie(session), follow_redirects=False).status_code == 200
