"""One account with memberships in two tenants: every session is bound to
one tenant, chosen at sign-in and switched by replacing the session."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import pytest

from tests.support.factories import (
    PASSWORD,
    Account,
    World,
    add_member,
    api_token,
    bearer,
    csrf_token,
    make_world,
    page_get,
    page_post,
    page_token,
)


@dataclass(frozen=True)
class TwoTenants:
    home: World  # where the account is a planner
    second: World  # where the same account was added as QA
    account: Account


@pytest.fixture
def two(run: Any) -> TwoTenants:
    home, second = run(make_world), run(make_world)
    account = home.accounts["planner"]
    run(add_member, second.slug, account.email, "qa")
    return TwoTenants(home, second, account)


@pytest.fixture(autouse=True)
def empty_cookie_jar(client: Any) -> Any:
    client.cookies.clear()
    yield
    client.cookies.clear()


def token_request(client: Any, email: str, tenant: str | None) -> Any:
    body = {"email": email, "password": PASSWORD}
    if tenant is not None:
        body["tenant"] = tenant
    return client.post("/api/v1/auth/token", json=body)


def test_single_membership_needs_no_tenant(client: Any, run: Any) -> None:
    world = run(make_world)
    response = token_request(client, world.accounts["qa"].email, None)
    assert response.status_code == 200, response.text
    me = client.get("/api/v1/me", headers=bearer(response.json()["access_token"]))
    assert me.json()["tenant"] == world.slug


def test_api_token_without_tenant_asks_for_one(client: Any, two: TwoTenants) -> None:
    response = token_request(client, two.account.email, None)
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "tenant_required"
    assert "tenant" in error["fields"]
    assert "access_token" not in response.text


@pytest.mark.parametrize(("which", "role"), [("home", "planner"), ("second", "qa")])
def test_api_token_is_bound_to_the_named_tenant(client: Any, two: TwoTenants, which: str, role: str) -> None:
    world: World = getattr(two, which)
    response = token_request(client, two.account.email, world.slug)
    assert response.status_code == 200, response.text
    me = client.get("/api/v1/me", headers=bearer(response.json()["access_token"])).json()
    assert me["tenant"] == world.slug
    assert me["role"] == role
    assert me["user_id"] == str(two.account.user_id)
    assert {membership["tenant"] for membership in me["memberships"]} == {two.home.slug, two.second.slug}


def test_api_token_for_a_tenant_without_membership_is_refused(client: Any, two: TwoTenants, run: Any) -> None:
    stranger = run(make_world)
    response = token_request(client, two.account.email, stranger.slug)
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "tenant_not_available"


def test_second_tenant_token_sees_only_second_tenant_data(client: Any, two: TwoTenants) -> None:
    token = api_token(client, two.account, two.second.slug)
    suppliers = client.get("/api/v1/suppliers", headers=bearer(token))
    assert suppliers.status_code == 200
    assert {row["id"] for row in suppliers.json()["items"]} == {str(i) for i in two.second.supplier_ids}
    foreign = client.get(f"/api/v1/suppliers/{two.home.supplier_ids[0]}", headers=bearer(token))
    assert foreign.status_code == 404


def choose_page(client: Any, two: TwoTenants, csrf: str) -> Any:
    response = page_post(client, "/login", {"email": two.account.email, "password": PASSWORD, "next": "/account"}, csrf=csrf)
    assert response.status_code == 200, response.text
    assert "portal_session" not in response.headers.get("set-cookie", "")
    return response


def choice_token_in(page: Any) -> str:
    match = re.search(r'name="choice_token" value="([^"]+)"', page.text)
    assert match, page.text
    return match.group(1)


def test_sign_in_page_asks_which_tenant_then_opens_that_one(client: Any, two: TwoTenants) -> None:
    csrf = csrf_token(client)
    page = choose_page(client, two, csrf)
    assert f'name="tenant" value="{two.home.slug}"' in page.text
    assert f'name="tenant" value="{two.second.slug}"' in page.text

    chosen = page_post(
        client, "/login/tenant", {"choice_token": choice_token_in(page), "tenant": two.second.slug, "next": "/account"}, csrf=csrf
    )
    assert chosen.status_code == 303, chosen.text
    assert chosen.headers["location"] == "/account"
    session = chosen.cookies["portal_session"]
    account = page_get(client, "/account", session=session)
    assert account.status_code == 200
    # The line under the heading names the acting tenant.
    assert f"<p>Tenant {two.second.slug} · " in account.text


def test_tenant_choice_cannot_pick_a_tenant_without_membership(client: Any, two: TwoTenants, run: Any) -> None:
    stranger = run(make_world)
    csrf = csrf_token(client)
    page = choose_page(client, two, csrf)
    response = page_post(client, "/login/tenant", {"choice_token": choice_token_in(page), "tenant": stranger.slug}, csrf=csrf)
    assert response.status_code == 400
    assert "portal_session" not in response.headers.get("set-cookie", "")


def test_tenant_choice_needs_the_proof_of_the_password(client: Any, two: TwoTenants) -> None:
    from tenants.tokens import issue_choice_token

    csrf = csrf_token(client)
    forged = page_post(client, "/login/tenant", {"choice_token": "forged", "tenant": two.home.slug}, csrf=csrf)
    assert forged.status_code == 303
    assert urlsplit(forged.headers["location"]).path == "/login"
    assert "portal_session" not in forged.headers.get("set-cookie", "")
    # An access token is not a choice token either, though signed with the same key.
    access = api_token(client, two.account, two.home.slug)
    reused = page_post(client, "/login/tenant", {"choice_token": access, "tenant": two.home.slug}, csrf=csrf)
    assert reused.status_code == 303
    assert urlsplit(reused.headers["location"]).path == "/login"
    assert "portal_session" not in reused.headers.get("set-cookie", "")
    genuine = page_post(
        client, "/login/tenant", {"choice_token": issue_choice_token(two.account.user_id), "tenant": two.home.slug}, csrf=csrf
    )
    assert genuine.status_code == 303
    assert genuine.cookies.get("portal_session")


def test_tenant_choice_token_works_once(client: Any, two: TwoTenants) -> None:
    # The proof of the password opens one session; replayed (a copy from
    # the page, a back button, another process) it opens none.
    csrf = csrf_token(client)
    choice = choice_token_in(choose_page(client, two, csrf))
    first = page_post(client, "/login/tenant", {"choice_token": choice, "tenant": two.second.slug}, csrf=csrf)
    assert first.status_code == 303, first.text
    assert first.cookies.get("portal_session")
    for tenant in (two.second.slug, two.home.slug):
        replayed = page_post(client, "/login/tenant", {"choice_token": choice, "tenant": tenant}, csrf=csrf)
        assert replayed.status_code == 303
        assert urlsplit(replayed.headers["location"]).path == "/login"
        assert "portal_session" not in replayed.headers.get("set-cookie", "")


def test_used_choice_tokens_are_remembered_until_they_expire(client: Any, two: TwoTenants, run: Any) -> None:
    from datetime import UTC, datetime, timedelta
    from uuid import uuid4

    from tenants.tables import UsedToken

    async def record_expired() -> Any:
        from portal.db import get_engine, open_transaction

        async with open_transaction(get_engine(), writes=True):
            stale = UsedToken(id=uuid4(), expires_at=datetime.now(UTC) - timedelta(minutes=1))
            await stale.save()
        return stale.id

    async def exists(token_id: Any) -> bool:
        return bool(await UsedToken.exists().where(UsedToken.id == token_id))

    stale = run(record_expired)
    csrf = csrf_token(client)
    choice = choice_token_in(choose_page(client, two, csrf))
    used = page_post(client, "/login/tenant", {"choice_token": choice, "tenant": two.home.slug}, csrf=csrf)
    assert used.status_code == 303
    from tenants.tokens import decode_choice_token

    assert run(exists, decode_choice_token(choice).token_id)
    assert not run(exists, stale)


def test_switching_tenant_replaces_the_session(client: Any, two: TwoTenants) -> None:
    csrf = csrf_token(client)
    page = choose_page(client, two, csrf)
    chosen = page_post(client, "/login/tenant", {"choice_token": choice_token_in(page), "tenant": two.second.slug}, csrf=csrf)
    first = chosen.cookies["portal_session"]
    account = page_get(client, "/account", session=first)
    # The account page offers the other tenant to switch to.
    assert f'name="tenant" value="{two.home.slug}"' in account.text

    switched = page_post(client, "/account/switch", {"tenant": two.home.slug}, csrf=csrf, session=first)
    assert switched.status_code == 303, switched.text
    second = switched.cookies["portal_session"]
    assert second != first

    now = page_get(client, "/account", session=second)
    assert now.status_code == 200
    assert f"<p>Tenant {two.home.slug} · " in now.text
    # The session of the previous tenant ended with the switch.
    old = page_get(client, "/account", session=first)
    assert old.status_code == 303
    assert urlsplit(old.headers["location"]).path == "/login"
    # A page session is a page session: the API refuses it as a bearer token.
    assert client.get("/api/v1/me", headers=bearer(second)).status_code == 401


def test_switching_to_a_tenant_without_membership_keeps_the_session(client: Any, two: TwoTenants, run: Any) -> None:
    stranger = run(make_world)
    token = page_token(client, two.account, two.home.slug)
    csrf = csrf_token(client)
    refused = page_post(client, "/account/switch", {"tenant": stranger.slug}, csrf=csrf, session=token)
    assert refused.status_code == 400
    assert "portal_session" not in refused.headers.get("set-cookie", "")
    assert page_get(client, "/account", session=token).status_code == 200
