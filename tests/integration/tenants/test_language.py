"""A person's language is kept on their account, not only in one browser's
cookie: the emails, push messages and notifications that jobs write later
follow it. It is the language they first sign in or join in, until they
choose another on their account page or through the API."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from portal.jobs.runner import run_due_jobs
from tests.support.factories import (
    PASSWORD,
    World,
    api_token,
    as_page_session,
    bearer,
    csrf_token,
    link_token,
    make_world,
    outbox_to,
    page_get,
    sent_to,
)


@pytest.fixture
def world(run: Any) -> World:
    return run(make_world, "lang")


def _form(client: Any, path: str, data: dict[str, str], *, language: str, session: str | None = None) -> Any:
    """A browser's form POST with its Accept-Language."""
    csrf = csrf_token(client)
    cookies = [f"csrftoken={csrf}"] + ([f"portal_session={session}"] if session else [])
    client.cookies.clear()
    try:
        return client.post(
            path,
            data={**data, "_csrf_token": csrf},
            headers={"cookie": "; ".join(cookies)} | ({"accept-language": language} if language else {}),
            follow_redirects=False,
        )
    finally:
        client.cookies.clear()


def _me(client: Any, world: World, key: str) -> dict[str, Any]:
    return dict(client.get("/api/v1/me", headers=bearer(api_token(client, world.accounts[key], world.slug))).json())


def _issue_order(client: Any, world: World) -> dict[str, Any]:
    from tests.integration.orders.conftest import due

    planner = bearer(api_token(client, world.accounts["planner"], world.slug))
    item = client.post("/api/v1/items", json={"code": "P-LANG", "name": "Flange", "unit": "pcs"}, headers=planner)
    line = {"item_id": item.json()["id"], "quantity": "10", "unit_price": "2.50", "due_date": due(14), "operation": "CNC"}
    order = client.post("/api/v1/orders", json={"supplier_id": str(world.supplier_ids[0]), "lines": [line]}, headers=planner).json()
    issued = client.post(f"/api/v1/orders/{order['id']}/transitions", json={"event": "issue", "reason": ""}, headers=planner)
    assert issued.status_code == 200, issued.text
    return dict(order)


def test_an_invitation_accepted_in_english_brings_english_mail(client: Any, run: Any, world: World, var_dir: Path) -> None:
    admin = bearer(api_token(client, world.accounts["admin"], world.slug))
    email = "lang-invitee@test.example"
    invited = client.post(
        "/api/v1/invitations", json={"email": email, "role": "supplier_admin", "supplier_id": str(world.supplier_ids[0])}, headers=admin
    )
    assert invited.status_code in (200, 201), invited.text
    token = link_token(sent_to(client, var_dir, email)[0], "/invitations/")
    accepted = _form(client, f"/invitations/{token}", {"name": "Ann", "password": PASSWORD}, language="en-GB,en;q=0.9")
    assert accepted.status_code == 303, accepted.text
    token = client.post("/api/v1/auth/token", json={"email": email, "password": PASSWORD, "tenant": world.slug}).json()["access_token"]
    assert client.get("/api/v1/me", headers=bearer(token)).json()["locale"] == "en"

    order = _issue_order(client, world)
    run(run_due_jobs)
    [mail] = [message for message in outbox_to(var_dir, email) if order["number"] in str(message["Subject"])]
    assert str(mail["Subject"]).startswith("New order"), mail["Subject"]
    # The others of the tenant, who never chose, still read the tenant's language.
    [other] = [m for m in outbox_to(var_dir, world.accounts["supplier_admin"].email) if order["number"] in str(m["Subject"])]
    assert "新订单" in str(other["Subject"])


def test_the_account_page_and_the_api_set_the_language_and_mail_follows(client: Any, run: Any, world: World, var_dir: Path) -> None:
    session = api_token(client, world.accounts["supplier_admin"], world.slug)
    page_session = as_page_session(client, session)
    account = page_get(client, "/account", session=session)
    assert 'action="/account/language"' in account.text
    refused = _form(client, "/account/language", {"locale": "fr"}, language="en", session=page_session)
    assert refused.status_code == 400
    assert "Choose a supported language." in refused.text
    assert _me(client, world, "supplier_admin")["locale"] == ""

    saved = _form(client, "/account/language", {"locale": "en"}, language="zh-CN", session=page_session)
    assert saved.status_code == 303, saved.text
    assert saved.headers["location"] == "/account?saved=1"
    assert "portal_locale=en" in saved.headers["set-cookie"]
    assert _me(client, world, "supplier_admin")["locale"] == "en"
    order = _issue_order(client, world)
    run(run_due_jobs)
    [mail] = [m for m in outbox_to(var_dir, world.accounts["supplier_admin"].email) if order["number"] in str(m["Subject"])]
    assert str(mail["Subject"]).startswith("New order")
    notes = client.get("/api/v1/notifications", headers=bearer(session)).json()["items"]
    assert notes[0]["title"].startswith("New order")

    # Back to Chinese through the API; nonsense is refused in the caller's language.
    headers = {**bearer(session), "accept-language": "en"}
    assert client.put("/api/v1/me/locale", json={"locale": "xx"}, headers=headers).json()["error"]["code"] == "invalid_language"
    back = client.put("/api/v1/me/locale", json={"locale": "zh-CN"}, headers=headers)
    assert (back.status_code, back.json()["locale"]) == (200, "zh_CN")
    admin = bearer(api_token(client, world.accounts["admin"], world.slug))
    user_id = str(world.accounts["supplier_admin"].user_id)
    trail = client.get("/api/v1/audit-events", params={"entity_type": "user", "entity_id": user_id}, headers=admin).json()["items"]
    assert [(event["action"], event["after"]) for event in trail][:2] == [
        ("user.locale", {"locale": "zh_CN"}),
        ("user.locale", {"locale": "en"}),
    ]


def test_signing_in_never_fixes_a_language(client: Any, world: World) -> None:
    """A saved language outranks every browser's own: one sign-in from a
    borrowed English phone must not turn a person's portal English."""
    planner = world.accounts["planner"]
    signed_in = _form(client, "/login", {"email": planner.email, "password": PASSWORD, "tenant": world.slug}, language="en-US,en")
    assert signed_in.status_code == 303, signed_in.text
    assert _me(client, world, "planner")["locale"] == ""
