"""Invitations: only buyer admins send them, the emailed link works once and
expires, and accepting it signs the new member in."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from uuid import uuid4

import pytest

from tests.support.factories import (
    PASSWORD,
    World,
    api_token,
    bearer,
    csrf_token,
    link_token,
    make_world,
    outbox_to,
    page_get,
    page_post,
    sent_to,
)

NEW_PASSWORD = "invited-password-456"


@pytest.fixture
def world(run: Any) -> World:
    return run(make_world)  # type: ignore[no-any-return]


@pytest.fixture(autouse=True)
def empty_cookie_jar(client: Any) -> Any:
    client.cookies.clear()
    yield
    client.cookies.clear()


def new_email() -> str:
    return f"invitee-{uuid4().hex[:10]}@test.example"


def invite(client: Any, token: str, **body: Any) -> Any:
    return client.post("/api/v1/invitations", json=body, headers=bearer(token))


def invite_operator(client: Any, world: World, var_dir: Path) -> tuple[str, str]:
    """An invitation for a supplier operator of the first supplier; returns
    the email and the token from the link in the email."""
    email = new_email()
    admin = api_token(client, world.accounts["admin"], world.slug)
    response = invite(client, admin, email=email, role="supplier_operator", supplier_id=str(world.supplier_ids[0]))
    assert response.status_code in (200, 201), response.text
    assert response.json()["status"] == "pending"
    messages = sent_to(client, var_dir, email)
    assert len(messages) == 1
    return email, link_token(messages[0], "/invitations/")


async def expire(token: str) -> None:
    """Time passes: the invitation's deadline is now behind us."""
    from tenants.context import system_scope
    from tenants.services.invitations import token_hash
    from tenants.tables import Invitation

    async with system_scope("test-clock"):
        await Invitation.update({Invitation.expires_at: datetime.now(UTC) - timedelta(minutes=1)}).where(
            Invitation.token_hash == token_hash(token)
        )


def test_admin_invitation_emails_a_link(client: Any, world: World, var_dir: Path) -> None:
    email = new_email()
    admin = api_token(client, world.accounts["admin"], world.slug)
    response = invite(client, admin, email=email.upper(), name="王操作", role="supplier_operator", supplier_id=str(world.supplier_ids[0]))
    assert response.status_code in (200, 201), response.text
    body = response.json()
    assert body["email"] == email
    assert body["role"] == "supplier_operator"
    assert body["supplier_id"] == str(world.supplier_ids[0])
    assert body["status"] == "pending"
    [message] = sent_to(client, var_dir, email)
    token = link_token(message, "/invitations/")
    assert len(token) >= 40
    # The token travels only in the email: the API never shows it.
    assert token not in response.text
    listed = client.get("/api/v1/invitations", headers=bearer(admin)).json()["items"]
    assert [row["id"] for row in listed] == [body["id"]]
    assert token not in str(listed)


async def queued_invitation_mails() -> list[str]:
    from portal.jobs.tables import Job
    from tenants.context import system_scope

    async with system_scope("test"):
        rows = await Job.select(Job.payload).where(Job.kind == "tenants.invitation_mail")
    return [row["payload"] for row in rows]


def test_the_token_is_never_in_the_job(client: Any, run: Any, world: World, var_dir: Path) -> None:
    """The mail job carries the invitation's id only: its row is kept and
    shown to admins, so it must not hold a usable link."""
    email = new_email()
    admin = api_token(client, world.accounts["admin"], world.slug)
    created = invite(client, admin, email=email, role="planner").json()
    payloads = [payload for payload in run(queued_invitation_mails) if created["id"] in payload]
    assert len(payloads) == 1
    [message] = sent_to(client, var_dir, email)
    token = link_token(message, "/invitations/")
    assert token not in payloads[0]
    assert token not in str(run(queued_invitation_mails))
    # A rerun of the job (a worker killed after sending) sends the same link.
    from tenants.services.invitations import invitation_mail_job

    run(invitation_mail_job, {"invitation": created["id"]})
    assert [link_token(mail, "/invitations/") for mail in outbox_to(var_dir, email)] == [token, token]


def test_an_invitation_revoked_before_its_mail_left_is_not_sent(client: Any, world: World, var_dir: Path) -> None:
    email = new_email()
    admin = api_token(client, world.accounts["admin"], world.slug)
    created = invite(client, admin, email=email, role="planner").json()
    revoked = client.post(f"/api/v1/invitations/{created['id']}/revoke", headers=bearer(admin))
    assert revoked.status_code == 200, revoked.text
    assert sent_to(client, var_dir, email) == []


def test_accepting_the_link_signs_the_new_member_in(client: Any, world: World, var_dir: Path) -> None:
    email, token = invite_operator(client, world, var_dir)
    shown = page_get(client, f"/invitations/{token}")
    assert shown.status_code == 200
    assert email in shown.text
    assert f"Tenant {world.slug}" in shown.text

    csrf = csrf_token(client)
    accepted = page_post(client, f"/invitations/{token}", {"name": "王操作", "password": NEW_PASSWORD}, csrf=csrf)
    assert accepted.status_code == 303, accepted.text
    session = accepted.cookies["portal_session"]
    account = page_get(client, "/account", session=session)
    assert account.status_code == 200
    assert "王操作" in account.text

    # The account now works for that tenant, in the invited role and supplier.
    response = client.post("/api/v1/auth/token", json={"email": email, "password": NEW_PASSWORD, "tenant": world.slug})
    assert response.status_code == 200, response.text
    me = client.get("/api/v1/me", headers=bearer(response.json()["access_token"])).json()
    assert me["role"] == "supplier_operator"
    assert me["supplier_id"] == str(world.supplier_ids[0])
    assert me["name"] == "王操作"


def test_the_link_works_once(client: Any, world: World, var_dir: Path) -> None:
    _, token = invite_operator(client, world, var_dir)
    csrf = csrf_token(client)
    first = page_post(client, f"/invitations/{token}", {"name": "Once", "password": NEW_PASSWORD}, csrf=csrf)
    assert first.status_code == 303, first.text
    again = page_post(client, f"/invitations/{token}", {"name": "Twice", "password": NEW_PASSWORD + "x"}, csrf=csrf)
    assert again.status_code == 410
    assert "portal_session" not in again.headers.get("set-cookie", "")
    assert page_get(client, f"/invitations/{token}").status_code == 410


def test_an_expired_link_is_refused(client: Any, run: Any, world: World, var_dir: Path) -> None:
    email, token = invite_operator(client, world, var_dir)
    assert page_get(client, f"/invitations/{token}").status_code == 200
    run(expire, token)
    assert page_get(client, f"/invitations/{token}").status_code == 410
    csrf = csrf_token(client)
    response = page_post(client, f"/invitations/{token}", {"name": "Late", "password": NEW_PASSWORD}, csrf=csrf)
    assert response.status_code == 410
    assert "portal_session" not in response.headers.get("set-cookie", "")
    admin = api_token(client, world.accounts["admin"], world.slug)
    [row] = client.get("/api/v1/invitations", headers=bearer(admin)).json()["items"]
    assert row["email"] == email
    assert row["status"] == "expired"


def test_unknown_link_is_refused(client: Any) -> None:
    assert page_get(client, "/invitations/not-a-real-token").status_code == 410


def test_weak_password_keeps_the_link_usable(client: Any, world: World, var_dir: Path) -> None:
    _, token = invite_operator(client, world, var_dir)
    csrf = csrf_token(client)
    weak = page_post(client, f"/invitations/{token}", {"name": "Weak", "password": "short"}, csrf=csrf)
    assert weak.status_code == 400
    assert 'value="Weak"' in weak.text
    good = page_post(client, f"/invitations/{token}", {"name": "Weak", "password": NEW_PASSWORD}, csrf=csrf)
    assert good.status_code == 303


def test_accepting_needs_the_csrf_token(client: Any, world: World, var_dir: Path) -> None:
    _, token = invite_operator(client, world, var_dir)
    response = page_post(client, f"/invitations/{token}", {"name": "No CSRF", "password": NEW_PASSWORD}, csrf=None)
    assert response.status_code == 403
    assert page_get(client, f"/invitations/{token}").status_code == 200


@pytest.mark.parametrize("role", ["planner", "qa", "finance", "supplier_admin", "supplier_operator"])
def test_only_a_buyer_admin_may_invite(client: Any, world: World, var_dir: Path, role: str) -> None:
    email = new_email()
    token = api_token(client, world.accounts[role], world.slug)
    response = invite(client, token, email=email, role="planner")
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "forbidden"
    assert sent_to(client, var_dir, email) == []


def test_supplier_of_another_tenant_is_refused(client: Any, run: Any, world: World, var_dir: Path) -> None:
    other = run(make_world)
    email = new_email()
    admin = api_token(client, world.accounts["admin"], world.slug)
    response = invite(client, admin, email=email, role="supplier_operator", supplier_id=str(other.supplier_ids[0]))
    assert response.status_code == 400
    assert "supplier_id" in response.json()["error"]["fields"]
    assert sent_to(client, var_dir, email) == []


@pytest.mark.parametrize(
    ("role", "supplier"),
    [("supplier_operator", None), ("supplier_admin", None), ("planner", "first"), ("admin", "first")],
)
def test_supplier_roles_need_a_supplier_and_buyer_roles_none(
    client: Any, world: World, var_dir: Path, role: str, supplier: str | None
) -> None:
    email = new_email()
    admin = api_token(client, world.accounts["admin"], world.slug)
    body: dict[str, Any] = {"email": email, "role": role}
    if supplier:
        body["supplier_id"] = str(world.supplier_ids[0])
    response = invite(client, admin, **body)
    assert response.status_code == 400
    assert "supplier_id" in response.json()["error"]["fields"]
    assert sent_to(client, var_dir, email) == []


@pytest.mark.parametrize(("field", "value"), [("email", "not-an-email"), ("role", "owner")])
def test_invalid_email_or_role_is_refused(client: Any, world: World, field: str, value: str) -> None:
    admin = api_token(client, world.accounts["admin"], world.slug)
    body = {"email": new_email(), "role": "planner", field: value}
    response = invite(client, admin, **body)
    assert response.status_code == 400
    assert field in response.json()["error"]["fields"]


def test_existing_member_cannot_be_invited_again(client: Any, world: World) -> None:
    admin = api_token(client, world.accounts["admin"], world.slug)
    response = invite(client, admin, email=world.accounts["qa"].email, role="planner")
    assert response.status_code == 400
    assert "email" in response.json()["error"]["fields"]


def test_an_existing_account_accepts_with_its_own_password(client: Any, run: Any, world: World, var_dir: Path) -> None:
    home = run(make_world)
    person = home.accounts["supplier_admin"]
    admin = api_token(client, world.accounts["admin"], world.slug)
    response = invite(client, admin, email=person.email, role="qa")
    assert response.status_code in (200, 201), response.text
    token = link_token(sent_to(client, var_dir, person.email)[-1], "/invitations/")
    csrf = csrf_token(client)
    # Accepting never replaces the password of an existing account.
    accepted = page_post(client, f"/invitations/{token}", {"name": "Someone else", "password": PASSWORD}, csrf=csrf)
    assert accepted.status_code == 303, accepted.text
    assert page_get(client, "/account", session=accepted.cookies["portal_session"]).status_code == 200
    me = client.get("/api/v1/me", headers=bearer(api_token(client, person, world.slug))).json()
    assert me["tenant"] == world.slug
    assert me["role"] == "qa"
    assert me["name"] == f"supplier_admin {home.slug}"
    assert {row["tenant"] for row in me["memberships"]} == {home.slug, world.slug}


def invite_existing(client: Any, run: Any, world: World, var_dir: Path) -> tuple[Any, str]:
    """An invitation to ``world`` for the finance account of a fresh tenant;
    returns that account and the token of the link."""
    home = run(make_world)
    person = home.accounts["finance"]
    admin = api_token(client, world.accounts["admin"], world.slug)
    assert invite(client, admin, email=person.email, role="qa").status_code in (200, 201)
    return person, link_token(sent_to(client, var_dir, person.email)[-1], "/invitations/")


async def throttle_failures(key: str) -> int:
    from tenants.context import system_scope
    from tenants.tables import LoginThrottle

    async with system_scope("test-read-throttle"):
        row = await LoginThrottle.select(LoginThrottle.failures).where(LoginThrottle.key == key).first()
    return int(row["failures"]) if row else 0


def test_wrong_password_on_an_invitation_counts_like_a_failed_sign_in(client: Any, run: Any, world: World, var_dir: Path) -> None:
    # One failure on the shared "testclient" address (see the budget in
    # test_login_throttle.py): the page keeps its count although it answers
    # with an error.
    person, token = invite_existing(client, run, world, var_dir)
    csrf = csrf_token(client)
    wrong = page_post(client, f"/invitations/{token}", {"password": PASSWORD + "-wrong"}, csrf=csrf)
    assert wrong.status_code == 401
    assert run(throttle_failures, f"email:{person.email}") == 1
    accepted = page_post(client, f"/invitations/{token}", {"password": PASSWORD}, csrf=csrf)
    assert accepted.status_code == 303, accepted.text
    # A right password clears the account's count, as a sign-in does.
    assert run(throttle_failures, f"email:{person.email}") == 0


async def _attempt(action: Any) -> str | None:
    """One sign-in or acceptance in its own transaction, committed even when
    it fails (as the pages and the API do), and its error code."""
    from portal.db import get_engine, open_transaction
    from portal.errors import DomainError

    async with open_transaction(get_engine(), writes=True):
        try:
            await action()
        except DomainError as exc:
            return exc.code
    return None


def test_invitation_shares_the_sign_in_lock_out(client: Any, run: Any, world: World, var_dir: Path) -> None:
    from tenants.services import auth, invitations
    from tenants.services.throttle import ACCOUNT

    # Its own address, so the shared test address keeps its budget.
    address = f"198.51.100.{uuid4().int % 250 + 1}-{uuid4().hex[:6]}"
    person, token = invite_existing(client, run, world, var_dir)

    def sign_in(password: str) -> Any:
        return lambda: auth.authenticate(person.email, password, None, address=address)

    def accept(password: str) -> Any:
        return lambda: invitations.accept_invitation(token, invitations.InvitationAccept(password=password), address=address)

    failures = [run(_attempt, sign_in(PASSWORD + "-wrong")) for _ in range(ACCOUNT.max_failures - 1)]
    assert failures == ["invalid_credentials"] * (ACCOUNT.max_failures - 1)
    assert run(_attempt, accept(PASSWORD + "-wrong")) == "invalid_credentials"
    # Both limits counted the invitation's failure like a sign-in.
    assert run(throttle_failures, f"email:{person.email}") == ACCOUNT.max_failures
    assert run(throttle_failures, f"addr:{address}") == ACCOUNT.max_failures
    # The account is now locked for both doors, the right password included.
    assert run(_attempt, accept(PASSWORD)) == "too_many_attempts"
    assert run(_attempt, sign_in(PASSWORD)) == "too_many_attempts"
