"""Signing in and out through the HTML pages, with the cookie and CSRF rules.

Each failed sign-in here counts towards the per-address lock-out (see
test_login_throttle.py): this file makes exactly one.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from tests.support.factories import PASSWORD, World, csrf_token, make_world, page_get, page_post, set_cookie_header


@pytest.fixture
def world(run: Any) -> World:
    return run(make_world)  # type: ignore[no-any-return]


@pytest.fixture(autouse=True)
def empty_cookie_jar(client: Any) -> Any:
    client.cookies.clear()
    yield
    client.cookies.clear()


def assert_sent_to_login(response: Any, path: str) -> None:
    assert response.status_code == 303, response.text
    location = urlsplit(response.headers["location"])
    assert location.path == "/login"
    assert parse_qs(location.query) == {"next": [path]}


def test_login_page_sets_a_csrf_cookie(client: Any) -> None:
    response = client.get("/login", follow_redirects=False)
    assert response.status_code == 200
    assert response.cookies.get("csrftoken")
    assert 'name="_csrf_token"' in response.text


def test_sign_in_opens_a_cookie_session_and_sign_out_ends_it(client: Any, world: World) -> None:
    planner = world.accounts["planner"]
    csrf = csrf_token(client)
    response = page_post(client, "/login", {"email": planner.email, "password": PASSWORD, "next": "/account"}, csrf=csrf)
    assert response.status_code == 303, response.text
    assert response.headers["location"] == "/account"
    raw = set_cookie_header(response, "portal_session")
    assert raw is not None
    attributes = {part.strip().lower() for part in raw.split(";")[1:]}
    assert "httponly" in attributes
    assert "samesite=lax" in attributes
    assert "path=/" in attributes
    session = response.cookies["portal_session"]

    account = page_get(client, "/account", session=session)
    assert account.status_code == 200
    assert f"<h1>planner {world.slug}</h1>" in account.text

    signed_out = page_post(client, "/logout", {}, csrf=csrf, session=session)
    assert signed_out.status_code == 303
    assert signed_out.headers["location"] == "/login"
    cleared = set_cookie_header(signed_out, "portal_session")
    assert cleared is not None
    assert "max-age=0" in cleared.lower()

    # The old cookie value is dead on the server, not only in the browser.
    assert_sent_to_login(page_get(client, "/account", session=session), "/account")


def test_sign_in_ignores_case_and_spaces_in_the_email(client: Any, world: World) -> None:
    qa = world.accounts["qa"]
    csrf = csrf_token(client)
    response = page_post(client, "/login", {"email": f"  {qa.email.upper()} ", "password": PASSWORD, "next": "/"}, csrf=csrf)
    assert response.status_code == 303, response.text
    assert response.cookies.get("portal_session")


@pytest.mark.parametrize("target", ["https://evil.example/", "//evil.example/x", "/\\evil.example", "javascript:alert(1)"])
def test_sign_in_never_redirects_off_site(client: Any, world: World, target: str) -> None:
    finance = world.accounts["finance"]
    csrf = csrf_token(client)
    response = page_post(client, "/login", {"email": finance.email, "password": PASSWORD, "next": target}, csrf=csrf)
    assert response.status_code == 303
    assert response.headers["location"] == "/"


@pytest.mark.parametrize("target", ["/\t/evil.example", "/\n/evil.example", "/\r\nX-Injected: 1"])
def test_sign_in_redirect_survives_control_characters(client: Any, world: World, target: str) -> None:
    # Browsers drop tabs and newlines from URLs: "/<tab>/evil.example" would
    # become "//evil.example" if it reached the Location header raw.
    finance = world.accounts["finance"]
    csrf = csrf_token(client)
    response = page_post(client, "/login", {"email": finance.email, "password": PASSWORD, "next": target}, csrf=csrf)
    assert response.status_code == 303
    location = response.headers["location"]
    as_browser_reads_it = "".join(ch for ch in location if ch not in "\t\r\n")
    assert as_browser_reads_it.startswith("/")
    assert not as_browser_reads_it.startswith("//")
    assert urlsplit(as_browser_reads_it).netloc == ""
    assert "x-injected" not in response.headers


def test_next_is_escaped_on_the_login_page(client: Any) -> None:
    response = client.get("/login", params={"next": '/"><script>alert(1)</script>'})
    client.cookies.clear()
    assert response.status_code == 200
    assert "<script>alert(1)</script>" not in response.text
    assert "&lt;script&gt;" in response.text


def test_wrong_password_re_renders_the_form_with_the_email_but_not_the_password(client: Any, world: World) -> None:
    qa = world.accounts["qa"]
    typed = "Wrong-Password-7f3a9c"
    csrf = csrf_token(client)
    response = page_post(client, "/login", {"email": qa.email, "password": typed, "next": "/account"}, csrf=csrf)
    assert response.status_code == 401
    assert response.headers["content-type"].startswith("text/html")
    assert f'value="{qa.email}"' in response.text
    assert typed not in response.text
    assert 'value="/account"' in response.text
    assert set_cookie_header(response, "portal_session") is None


def test_account_page_without_a_session_sends_to_login(client: Any) -> None:
    assert_sent_to_login(page_get(client, "/account"), "/account")
    assert_sent_to_login(page_get(client, "/account", session="not-a-token"), "/account")


def test_page_post_without_csrf_token_is_refused(client: Any, world: World) -> None:
    planner = world.accounts["planner"]
    response = page_post(client, "/login", {"email": planner.email, "password": PASSWORD}, csrf=None)
    assert response.status_code == 403
    assert set_cookie_header(response, "portal_session") is None


def test_page_post_with_cookie_but_no_matching_token_is_refused(client: Any, world: World) -> None:
    planner = world.accounts["planner"]
    csrf = csrf_token(client)
    other = csrf_token(client)
    assert csrf != other
    client.cookies.clear()
    # The cookie alone (what another site can make a browser send) is not enough.
    only_cookie = client.post(
        "/login", data={"email": planner.email, "password": PASSWORD}, headers={"cookie": f"csrftoken={csrf}"}, follow_redirects=False
    )
    assert only_cookie.status_code == 403
    mismatched = client.post(
        "/login",
        data={"email": planner.email, "password": PASSWORD, "_csrf_token": other},
        headers={"cookie": f"csrftoken={csrf}"},
        follow_redirects=False,
    )
    assert mismatched.status_code == 403
    client.cookies.clear()


def test_logout_without_csrf_token_leaves_the_session_open(client: Any, world: World) -> None:
    planner = world.accounts["planner"]
    csrf = csrf_token(client)
    session = page_post(client, "/login", {"email": planner.email, "password": PASSWORD, "next": "/"}, csrf=csrf).cookies["portal_session"]
    refused = page_post(client, "/logout", {}, csrf=None, session=session)
    assert refused.status_code == 403
    assert page_get(client, "/account", session=session).status_code == 200
