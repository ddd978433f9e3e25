"""A supplier admin manages its own people: it sees and invites colleagues
of its own supplier, as operator or admin, and removes them; anyone of the
buyer or of another supplier is out of its reach (not found), and nobody
else may use these routes."""

from __future__ import annotations

from typing import Any

import pytest

from tests.support.factories import World, api_token, bearer, make_world, page_headers


@pytest.fixture
def world(run: Any) -> World:
    return run(make_world, "team")  # type: ignore[no-any-return]


def _as(client: Any, world: World, who: str) -> dict[str, str]:
    return bearer(api_token(client, world.accounts[who], world.slug))


def test_a_supplier_admin_sees_and_invites_only_its_own_suppliers_people(client: Any, world: World) -> None:
    admin = _as(client, world, "supplier_admin")
    listed = client.get("/api/v1/team", headers=admin)
    assert listed.status_code == 200, listed.text
    emails = {row["email"] for row in listed.json()["items"]}
    assert emails == {world.accounts["supplier_admin"].email, world.accounts["supplier_operator"].email}
    invited = client.post(
        "/api/v1/team/invitations",
        json={"email": "new.welder@test.example", "role": "supplier_admin", "supplier_id": str(world.supplier_ids[1])},
        headers=admin,
    )
    assert invited.status_code == 201, invited.text
    # Always the inviter's own supplier, whatever the body says.
    assert invited.json()["supplier_id"] == str(world.supplier_ids[0])
    assert invited.json()["role"] == "supplier_admin"
    assert [row["email"] for row in client.get("/api/v1/team/invitations", headers=admin).json()["items"]] == ["new.welder@test.example"]
    assert client.get("/api/v1/team/invitations", headers=_as(client, world, "other_supplier_admin")).json()["items"] == []
    for role in ("planner", "admin", "nonsense"):
        refused = client.post("/api/v1/team/invitations", json={"email": f"{role}@test.example", "role": role}, headers=admin)
        assert refused.status_code == 400
        assert list(refused.json()["error"]["fields"]) == ["role"]
    refused = client.post("/api/v1/team/invitations", json={"email": "not-an-email", "role": "supplier_operator"}, headers=admin)
    assert list(refused.json()["error"]["fields"]) == ["email"]


def test_a_removed_colleague_loses_access_at_once_and_nobody_else_can_be_removed(client: Any, world: World) -> None:
    admin = _as(client, world, "supplier_admin")
    operator = _as(client, world, "supplier_operator")
    assert client.get("/api/v1/orders", headers=operator).status_code == 200
    for who in ("planner", "other_supplier_admin", "admin", "qa"):
        gone = client.post(f"/api/v1/team/{world.accounts[who].membership_id}/remove", headers=admin)
        assert gone.status_code == 404, who
    yourself = client.post(f"/api/v1/team/{world.accounts['supplier_admin'].membership_id}/remove", headers=admin)
    assert yourself.status_code == 409
    removed = client.post(f"/api/v1/team/{world.accounts['supplier_operator'].membership_id}/remove", headers=admin)
    assert removed.status_code == 200, removed.text
    assert removed.json()["active"] is False
    assert client.get("/api/v1/orders", headers=operator).status_code == 401
    assert client.post(f"/api/v1/team/{world.accounts['supplier_operator'].membership_id}/remove", headers=admin).status_code == 200
    # The buyer's admin still sees everyone, the removed one as inactive.
    members = client.get("/api/v1/memberships", headers=_as(client, world, "admin")).json()["items"]
    assert {row["email"]: row["active"] for row in members}[world.accounts["supplier_operator"].email] is False


@pytest.mark.parametrize("who", ["admin", "planner", "supplier_operator"])
def test_no_one_but_a_supplier_admin_uses_the_team_routes(client: Any, world: World, who: str) -> None:
    headers = _as(client, world, who)
    assert client.get("/api/v1/team", headers=headers).status_code == 403
    assert client.post("/api/v1/team/invitations", json={"email": "x@test.example"}, headers=headers).status_code == 403


def test_the_team_page_lists_colleagues_and_invites_in_chinese(client: Any, world: World) -> None:
    headers = page_headers(client, api_token(client, world.accounts["supplier_admin"], world.slug))
    shown = client.get("/team", headers=headers)
    assert shown.status_code == 200
    assert world.accounts["supplier_operator"].email in shown.text
    assert f"/team/{world.accounts['supplier_operator'].membership_id}/remove" in shown.text
    assert 'href="/team"' in client.get("/", headers=headers).text
    form = {"_csrf_token": headers["x-csrftoken"], "email": "bad", "role": "supplier_operator"}
    wrong = client.post("/team/invitations", data=form, headers={**headers, "accept-language": "zh-CN"})
    assert wrong.status_code == 400
    assert 'value="bad"' in wrong.text
    sent = client.post("/team/invitations", data={**form, "email": "fitter@test.example"}, headers=headers, follow_redirects=False)
    assert sent.status_code == 303
