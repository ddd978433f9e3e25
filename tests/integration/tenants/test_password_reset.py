"""Password reset by email: the same answer for every email, a single-use
link, and every open session ends with the old password.

One failed sign-in here (the old password after the reset) counts towards
the per-address budget described in test_login_throttle.py.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any
from uuid import uuid4

import pytest

from tenants.services.password_reset import RESETS_PER_LIFETIME
from tests.support.factories import (
    PASSWORD,
    World,
    api_token,
    bearer,
    csrf_token,
    link_token,
    make_world,
    page_get,
    page_post,
    sent_to,
)

NEW_PASSWORD = "a-brand-new-password-789"


@pytest.fixture
def world(run: Any) -> World:
    return run(make_world)  # type: ignore[no-any-return]


@pytest.fixture(autouse=True)
def empty_cookie_jar(client: Any) -> Any:
    client.cookies.clear()
    yield
    client.cookies.clear()


def without_csrf(html: str) -> str:
    return re.sub(r"[0-9a-f]{40,}", "<csrf>", html)


def request_reset(client: Any, email: str) -> Any:
    return page_post(client, "/password-reset", {"email": email}, csrf=csrf_token(client))


def reset_link(client: Any, var_dir: Path, email: str) -> str:
    response = request_reset(client, email)
    assert response.status_code == 200, response.text
    return link_token(sent_to(client, var_dir, email)[-1], "/password-reset/")


def token_request(client: Any, email: str, password: str, tenant: str) -> Any:
    return client.post("/api/v1/auth/token", json={"email": email, "password": password, "tenant": tenant})


def test_known_and_unknown_emails_get_the_same_page(client: Any, world: World, var_dir: Path) -> None:
    known = world.accounts["finance"].email
    unknown = f"nobody-{uuid4().hex[:10]}@test.example"
    known_page = request_reset(client, known)
    unknown_page = request_reset(client, unknown)
    assert known_page.status_code == unknown_page.status_code == 200
    assert without_csrf(known_page.text) == without_csrf(unknown_page.text)
    assert 'action="/password-reset"' not in known_page.text  # the "sent" notice, not the form again
    # Only the existing account gets an email.
    assert len(sent_to(client, var_dir, known)) == 1
    assert sent_to(client, var_dir, unknown) == []


@pytest.mark.parametrize("email", ["", "   ", "finance", "@"])
def test_what_is_not_an_address_gets_the_form_back_with_why(client: Any, world: World, var_dir: Path, email: str) -> None:
    response = request_reset(client, email)
    assert response.status_code == 400
    assert 'action="/password-reset"' in response.text
    assert "请输入有效的邮箱地址。" in response.text  # the default language, zh-CN
    assert sent_to(client, var_dir, world.accounts["finance"].email) == []


def test_asking_again_and_again_sends_a_few_links_and_answers_the_same(client: Any, world: World, var_dir: Path) -> None:
    email = world.accounts["finance"].email
    pages = [without_csrf(request_reset(client, email).text) for _ in range(RESETS_PER_LIFETIME + 3)]
    assert len(set(pages)) == 1
    assert len(sent_to(client, var_dir, email)) == RESETS_PER_LIFETIME


def test_reset_link_sets_a_new_password(client: Any, world: World, var_dir: Path) -> None:
    account = world.accounts["finance"]
    token = reset_link(client, var_dir, account.email)
    assert page_get(client, f"/password-reset/{token}").status_code == 200

    done = page_post(client, f"/password-reset/{token}", {"password": NEW_PASSWORD}, csrf=csrf_token(client))
    assert done.status_code == 303, done.text
    assert done.headers["location"] == "/login?reset=1"

    old = token_request(client, account.email, PASSWORD, world.slug)
    assert old.status_code == 401
    new = token_request(client, account.email, NEW_PASSWORD, world.slug)
    assert new.status_code == 200, new.text


def test_reset_link_works_once(client: Any, world: World, var_dir: Path) -> None:
    account = world.accounts["planner"]
    token = reset_link(client, var_dir, account.email)
    csrf = csrf_token(client)
    assert page_post(client, f"/password-reset/{token}", {"password": NEW_PASSWORD}, csrf=csrf).status_code == 303
    again = page_post(client, f"/password-reset/{token}", {"password": NEW_PASSWORD + "-again"}, csrf=csrf)
    assert again.status_code == 410
    assert page_get(client, f"/password-reset/{token}").status_code == 410
    # The second use changed nothing.
    assert token_request(client, account.email, NEW_PASSWORD, world.slug).status_code == 200


def test_reset_ends_every_open_session(client: Any, world: World, var_dir: Path) -> None:
    account = world.accounts["qa"]
    api_session = api_token(client, account, world.slug)
    csrf = csrf_token(client)
    page_session = page_post(client, "/login", {"email": account.email, "password": PASSWORD}, csrf=csrf).cookies["portal_session"]
    bystander = api_token(client, world.accounts["planner"], world.slug)
    assert client.get("/api/v1/me", headers=bearer(api_session)).status_code == 200
    assert page_get(client, "/account", session=page_session).status_code == 200

    token = reset_link(client, var_dir, account.email)
    assert page_post(client, f"/password-reset/{token}", {"password": NEW_PASSWORD}, csrf=csrf).status_code == 303

    assert client.get("/api/v1/me", headers=bearer(api_session)).status_code == 401
    assert page_get(client, "/account", session=page_session).status_code == 303
    # Only that account's sessions end.
    assert client.get("/api/v1/me", headers=bearer(bystander)).status_code == 200


def test_asking_for_a_link_changes_nothing_yet(client: Any, world: World, var_dir: Path) -> None:
    # Anyone can ask for a link to any email: that alone must not lock the
    # owner out or end their sessions.
    account = world.accounts["admin"]
    session = api_token(client, account, world.slug)
    reset_link(client, var_dir, account.email)
    assert client.get("/api/v1/me", headers=bearer(session)).status_code == 200
    assert token_request(client, account.email, PASSWORD, world.slug).status_code == 200


def test_weak_new_password_keeps_the_link_usable(client: Any, world: World, var_dir: Path) -> None:
    account = world.accounts["supplier_operator"]
    token = reset_link(client, var_dir, account.email)
    csrf = csrf_token(client)
    weak = page_post(client, f"/password-reset/{token}", {"password": "short"}, csrf=csrf)
    assert weak.status_code == 400
    assert token_request(client, account.email, PASSWORD, world.slug).status_code == 200
    assert page_post(client, f"/password-reset/{token}", {"password": NEW_PASSWORD}, csrf=csrf).status_code == 303


def test_unknown_reset_link_is_refused(client: Any) -> None:
    assert page_get(client, "/password-reset/not-a-real-token").status_code == 410
    response = page_post(client, "/password-reset/not-a-real-token", {"password": NEW_PASSWORD}, csrf=csrf_token(client))
    assert response.status_code == 410
