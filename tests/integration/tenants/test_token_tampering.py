"""A bearer token is only as good as its signature and the live session
behind it: every forged, stale or revoked token answers 401 on the API."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime, timedelta
from typing import Any

import jwt
import pytest

from portal.settings import get_settings
from tenants.tokens import ALGORITHM
from tests.support.factories import World, api_token, bearer, make_world


@pytest.fixture
def world(run: Any) -> World:
    return run(make_world)  # type: ignore[no-any-return]


@pytest.fixture(autouse=True)
def empty_cookie_jar(client: Any) -> Any:
    client.cookies.clear()
    yield
    client.cookies.clear()


def claims_of(token: str) -> dict[str, Any]:
    return jwt.decode(token, options={"verify_signature": False})


def sign(claims: dict[str, Any], key: str | None = None) -> str:
    return jwt.encode(claims, key or get_settings().secret_key, algorithm=ALGORITHM)


def assert_rejected(client: Any, token: str) -> None:
    response = client.get("/api/v1/me", headers=bearer(token))
    assert response.status_code == 401, response.text
    assert response.json()["error"]["code"] == "not_authenticated"


def test_resigned_unchanged_claims_are_accepted(client: Any, world: World) -> None:
    # The control for the forgeries below: re-signing with the real key and
    # the same claims gives a working token, so a 401 there is the change.
    token = api_token(client, world.accounts["planner"], world.slug)
    response = client.get("/api/v1/me", headers=bearer(sign(claims_of(token))))
    assert response.status_code == 200, response.text
    assert response.json()["tenant"] == world.slug


def test_token_signed_with_another_key_is_rejected(client: Any, world: World) -> None:
    token = api_token(client, world.accounts["planner"], world.slug)
    assert_rejected(client, sign(claims_of(token), key="another-secret-key-that-is-long-enough-000"))


def test_token_with_a_corrupted_signature_is_rejected(client: Any, world: World) -> None:
    token = api_token(client, world.accounts["planner"], world.slug)
    header, payload, signature = token.split(".")
    flipped = ("A" if signature[0] != "A" else "B") + signature[1:]
    assert_rejected(client, f"{header}.{payload}.{flipped}")


def test_unsigned_alg_none_token_is_rejected(client: Any, world: World) -> None:
    token = api_token(client, world.accounts["planner"], world.slug)
    claims = claims_of(token)
    assert_rejected(client, jwt.encode(claims, None, algorithm="none"))
    # The same by hand, with the real header's other fields kept.
    header = base64.urlsafe_b64encode(json.dumps({"alg": "none", "typ": "JWT"}).encode()).rstrip(b"=").decode()
    assert_rejected(client, f"{header}.{token.split('.')[1]}.")


@pytest.mark.filterwarnings("ignore::jwt.warnings.InsecureKeyLengthWarning")
def test_token_with_another_hmac_algorithm_is_rejected(client: Any, world: World) -> None:
    token = api_token(client, world.accounts["planner"], world.slug)
    assert_rejected(client, jwt.encode(claims_of(token), get_settings().secret_key, algorithm="HS512"))


def test_expired_token_is_rejected_although_its_session_is_open(client: Any, world: World) -> None:
    token = api_token(client, world.accounts["planner"], world.slug)
    claims = claims_of(token)
    now = datetime.now(UTC)
    claims.update(iat=now - timedelta(hours=2), exp=now - timedelta(minutes=1))
    assert_rejected(client, sign(claims))
    # The session itself is still open: the original token keeps working.
    assert client.get("/api/v1/me", headers=bearer(token)).status_code == 200


def test_token_naming_another_tenant_is_rejected(client: Any, world: World, run: Any) -> None:
    other = run(make_world)
    token = api_token(client, world.accounts["admin"], world.slug)
    claims = claims_of(token)
    claims["tid"] = str(other.tenant_id)
    assert_rejected(client, sign(claims))


@pytest.mark.parametrize(("claim", "victim"), [("sub", "admin"), ("mid", "admin")])
def test_token_naming_another_user_or_membership_is_rejected(client: Any, world: World, claim: str, victim: str) -> None:
    # A planner who knows the key format cannot become the admin by editing
    # the claims of a real session, even with a valid signature.
    token = api_token(client, world.accounts["planner"], world.slug)
    claims = claims_of(token)
    account = world.accounts[victim]
    claims[claim] = str(account.user_id if claim == "sub" else account.membership_id)
    assert_rejected(client, sign(claims))


def test_page_choice_token_is_not_an_access_token(client: Any, world: World) -> None:
    from tenants.tokens import issue_choice_token

    # Same key, issuer and audience, but meant for picking a tenant only.
    assert_rejected(client, issue_choice_token(world.accounts["planner"].user_id))


def test_token_of_a_deactivated_membership_stops_at_once(client: Any, world: World) -> None:
    planner = world.accounts["planner"]
    token = api_token(client, planner, world.slug)
    admin = api_token(client, world.accounts["admin"], world.slug)
    assert client.get("/api/v1/me", headers=bearer(token)).status_code == 200
    changed = client.patch(f"/api/v1/memberships/{planner.membership_id}", json={"active": False}, headers=bearer(admin))
    assert changed.status_code == 200, changed.text
    assert changed.json()["active"] is False
    assert_rejected(client, token)
    # And no new token can be had for that tenant.
    refused = client.post("/api/v1/auth/token", json={"email": planner.email, "password": "test-password-123", "tenant": world.slug})
    assert refused.status_code == 400
    assert refused.json()["error"]["code"] == "tenant_not_available"


def test_token_after_logout_is_rejected(client: Any, world: World) -> None:
    token = api_token(client, world.accounts["qa"], world.slug)
    other = api_token(client, world.accounts["qa"], world.slug)
    response = client.post("/api/v1/auth/logout", headers=bearer(token))
    assert response.status_code == 200, response.text
    assert_rejected(client, token)
    # Logout ends this session only, not the account's other sessions.
    assert client.get("/api/v1/me", headers=bearer(other)).status_code == 200


@pytest.mark.parametrize(
    "authorization",
    ["Bearer", "Bearer ", "Bearer not-a-jwt", "Bearer a.b.c", "Basic dXNlcjpwYXNz", "garbage", "Bearer " + "x" * 5000],
)
def test_garbage_authorization_header_is_rejected(client: Any, authorization: str) -> None:
    response = client.get("/api/v1/me", headers={"authorization": authorization})
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "not_authenticated"


def test_no_authorization_is_rejected(client: Any) -> None:
    response = client.get("/api/v1/me")
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "not_authenticated"


def test_api_ignores_the_session_cookie(client: Any, world: World) -> None:
    # A valid token works as bearer but not as a cookie: another site can
    # make a browser send cookies to the API, never an Authorization header.
    token = api_token(client, world.accounts["planner"], world.slug)
    assert client.get("/api/v1/me", headers=bearer(token)).status_code == 200
    response = client.get("/api/v1/me", headers={"cookie": f"portal_session={token}"})
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "not_authenticated"
    posted = client.post("/api/v1/auth/logout", headers={"cookie": f"portal_session={token}"})
    assert posted.status_code == 401
    assert client.get("/api/v1/me", headers=bearer(token)).status_code == 200
