"""The admin API for memberships: only buyer admins change them, the tenant
keeps at least one active admin, and roles fit their supplier."""

from __future__ import annotations

from typing import Any

import pytest

from tests.support.factories import World, api_token, bearer, make_world


@pytest.fixture
def world(run: Any) -> World:
    return run(make_world)  # type: ignore[no-any-return]


@pytest.fixture
def admin(client: Any, world: World) -> str:
    return api_token(client, world.accounts["admin"], world.slug)


def patch(client: Any, token: str, membership_id: Any, **body: Any) -> Any:
    return client.patch(f"/api/v1/memberships/{membership_id}", json=body, headers=bearer(token))


def member(client: Any, token: str, membership_id: Any) -> dict[str, Any]:
    response = client.get(f"/api/v1/memberships/{membership_id}", headers=bearer(token))
    assert response.status_code == 200, response.text
    return response.json()  # type: ignore[no-any-return]


@pytest.mark.parametrize("role", ["planner", "qa", "finance", "supplier_admin", "supplier_operator"])
def test_only_a_buyer_admin_may_change_memberships(client: Any, world: World, admin: str, role: str) -> None:
    token = api_token(client, world.accounts[role], world.slug)
    target = world.accounts["qa"].membership_id
    response = patch(client, token, target, active=False)
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "forbidden"
    assert client.get("/api/v1/memberships/", headers=bearer(token)).status_code == 403
    assert member(client, admin, target)["active"] is True


def test_planner_cannot_make_itself_admin(client: Any, world: World, admin: str) -> None:
    planner = world.accounts["planner"]
    token = api_token(client, planner, world.slug)
    response = patch(client, token, planner.membership_id, role="admin")
    assert response.status_code == 403
    assert member(client, admin, planner.membership_id)["role"] == "planner"


@pytest.mark.parametrize("change", [{"active": False}, {"role": "planner"}, {"role": "supplier_admin", "supplier_id": "first"}])
def test_the_last_admin_cannot_be_removed(client: Any, world: World, admin: str, change: dict[str, Any]) -> None:
    body = {key: (str(world.supplier_ids[0]) if value == "first" else value) for key, value in change.items()}
    own = world.accounts["admin"].membership_id
    response = patch(client, admin, own, **body)
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "last_admin"
    after = member(client, admin, own)
    assert after["active"] is True
    assert after["role"] == "admin"


def test_an_admin_can_step_down_once_another_admin_exists(client: Any, world: World, admin: str) -> None:
    planner = world.accounts["planner"]
    promoted = patch(client, admin, planner.membership_id, role="admin")
    assert promoted.status_code == 200, promoted.text
    stepped_down = patch(client, admin, world.accounts["admin"].membership_id, active=False)
    assert stepped_down.status_code == 200, stepped_down.text
    # The change ended the old admin's own sessions at once.
    assert client.get("/api/v1/me", headers=bearer(admin)).status_code == 401
    new_admin = api_token(client, planner, world.slug)
    response = patch(client, new_admin, planner.membership_id, active=False)
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "last_admin"


@pytest.mark.parametrize("role", ["supplier_operator", "supplier_admin"])
def test_supplier_role_without_supplier_is_refused(client: Any, world: World, admin: str, role: str) -> None:
    target = world.accounts["planner"].membership_id
    response = patch(client, admin, target, role=role)
    assert response.status_code == 400
    assert "supplier_id" in response.json()["error"]["fields"]
    after = member(client, admin, target)
    assert after["role"] == "planner"
    assert after["supplier_id"] is None


def test_supplier_of_another_tenant_is_refused(client: Any, run: Any, world: World, admin: str) -> None:
    other = run(make_world)
    target = world.accounts["planner"].membership_id
    response = patch(client, admin, target, role="supplier_operator", supplier_id=str(other.supplier_ids[0]))
    assert response.status_code == 400
    assert "supplier_id" in response.json()["error"]["fields"]
    assert member(client, admin, target)["role"] == "planner"


def test_buyer_role_with_a_supplier_is_refused(client: Any, world: World, admin: str) -> None:
    target = world.accounts["planner"].membership_id
    response = patch(client, admin, target, role="qa", supplier_id=str(world.supplier_ids[0]))
    assert response.status_code == 400
    assert "supplier_id" in response.json()["error"]["fields"]


def test_unknown_role_is_refused(client: Any, world: World, admin: str) -> None:
    response = patch(client, admin, world.accounts["planner"].membership_id, role="owner")
    assert response.status_code == 400
    assert "role" in response.json()["error"]["fields"]


def test_role_change_applies_to_the_next_request(client: Any, world: World, admin: str) -> None:
    planner = world.accounts["planner"]
    token = api_token(client, planner, world.slug)
    response = patch(client, admin, planner.membership_id, role="supplier_operator", supplier_id=str(world.supplier_ids[1]))
    assert response.status_code == 200, response.text
    assert response.json()["role"] == "supplier_operator"
    assert response.json()["supplier_id"] == str(world.supplier_ids[1])
    # The old token carried the old role: its session ended with the change.
    assert client.get("/api/v1/me", headers=bearer(token)).status_code == 401
    me = client.get("/api/v1/me", headers=bearer(api_token(client, planner, world.slug))).json()
    assert me["role"] == "supplier_operator"
    assert me["supplier_id"] == str(world.supplier_ids[1])


def test_membership_of_another_tenant_is_not_found(client: Any, run: Any, world: World, admin: str) -> None:
    other = run(make_world)
    target = other.accounts["planner"].membership_id
    assert client.get(f"/api/v1/memberships/{target}", headers=bearer(admin)).status_code == 404
    response = patch(client, admin, target, active=False)
    assert response.status_code == 404
    other_admin = api_token(client, other.accounts["admin"], other.slug)
    assert member(client, other_admin, target)["active"] is True
