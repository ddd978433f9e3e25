"""The permission policy: one table, unknown actions refused for everyone."""

from __future__ import annotations

import pytest

from tenants.roles import BUYER_ROLES, POLICY, SUPPLIER_ROLES, Role, allowed


@pytest.mark.parametrize("role", list(Role))
def test_unknown_actions_are_refused_for_every_role(role: Role) -> None:
    assert not allowed(role, "users.manag")
    assert not allowed(role, "")
    assert not allowed(role, "users")


@pytest.mark.parametrize("action", ["users.manage", "invitations.manage", "suppliers.manage", "audit.view"])
def test_only_the_buyer_admin_manages_the_tenant(action: str) -> None:
    assert {role for role in Role if allowed(role, action)} == {Role.ADMIN}


@pytest.mark.parametrize("action", ["prices.view_internal", "notes.view_internal", "suppliers.view"])
def test_supplier_roles_never_see_buyer_internals(action: str) -> None:
    assert not any(allowed(role, action) for role in SUPPLIER_ROLES)
    assert all(allowed(role, action) for role in BUYER_ROLES)


def test_every_role_is_buyer_or_supplier_side() -> None:
    assert set(Role) == BUYER_ROLES | SUPPLIER_ROLES
    assert not BUYER_ROLES & SUPPLIER_ROLES
    assert all(role.is_supplier == (role in SUPPLIER_ROLES) for role in Role)


def test_policy_names_only_known_roles() -> None:
    for action, roles in POLICY.items():
        assert "." in action
        assert roles <= set(Role)
