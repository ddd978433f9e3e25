"""No role climbs through a form or an API that its own role may use.

The isolation matrix proves who may call each route; these are the routes a
lower role may call that carry a role or a membership of their own: a
supplier admin's team (its invitations name a role; a body naming another
supplier or a buyer role must not slip through), its own membership, and
the sign-in that names a tenant.
"""

from __future__ import annotations

from typing import Any

from tests.support.factories import api_token, bearer, make_world, page_headers


def _invitations(run: Any, tenant_id: Any) -> list[dict[str, Any]]:
    async def rows() -> list[dict[str, Any]]:
        from tenants.context import system_scope
        from tenants.tables import Invitation

        async with system_scope("role-escalation"):
            return list(
                await Invitation.select(Invitation.email, Invitation.role, Invitation.supplier).where(Invitation.tenant == tenant_id)
            )

    return run(rows)


def test_a_supplier_admin_invites_only_its_own_suppliers_people(client: Any, run: Any) -> None:
    world = run(make_world, "climb")
    admin = world.accounts["supplier_admin"]
    headers = bearer(api_token(client, admin, world.slug))
    for role in ("admin", "planner", "qa", "finance", "owner", ""):
        answer = client.post("/api/v1/team/invitations", json={"email": f"{role or 'none'}@climb.example", "role": role}, headers=headers)
        assert answer.status_code == 400, role
    # Fields the body does not take (another supplier, a buyer role by
    # another name) are not read: the invitation is to its own supplier.
    body = {"email": "colleague@climb.example", "role": "supplier_admin", "supplier_id": str(world.supplier_ids[1]), "supplier": "x"}
    assert client.post("/api/v1/team/invitations", json=body, headers=headers).status_code in (200, 201)
    page = page_headers(client, api_token(client, admin, world.slug))
    form = {"_csrf_token": page.get("x-csrftoken", ""), "email": "page@climb.example", "role": "admin"}
    client.cookies.clear()
    client.post("/team/invitations", data=form, headers=page, follow_redirects=False)
    rows = {row["email"]: row for row in _invitations(run, world.tenant_id)}
    assert set(rows) == {"colleague@climb.example"}
    assert rows["colleague@climb.example"]["role"] == "supplier_admin"
    assert rows["colleague@climb.example"]["supplier"] == world.supplier_ids[0]


def test_no_role_below_admin_changes_a_membership_or_its_own(client: Any, run: Any) -> None:
    world = run(make_world, "climb")
    for identity in ("planner", "qa", "finance", "supplier_admin", "supplier_operator"):
        account = world.accounts[identity]
        headers = bearer(api_token(client, account, world.slug))
        answer = client.patch(f"/api/v1/memberships/{account.membership_id}", json={"role": "admin"}, headers=headers)
        assert answer.status_code == 403, identity
        assert client.post("/api/v1/invitations", json={"email": "x@climb.example", "role": "admin"}, headers=headers).status_code == 403
        # Its role is what it was: a fresh token acts as before.
        again = bearer(api_token(client, account, world.slug))
        assert client.get("/api/v1/memberships", headers=again).status_code == 403, identity
    assert _invitations(run, world.tenant_id) == []


def test_a_token_names_only_a_tenant_the_account_belongs_to(client: Any, run: Any) -> None:
    home, other = run(make_world, "climb"), run(make_world, "climb")
    account = home.accounts["supplier_admin"]
    answer = client.post("/api/v1/auth/token", json={"email": account.email, "password": "test-password-123", "tenant": other.slug})
    assert answer.status_code in (400, 401)
    assert "access_token" not in answer.text
