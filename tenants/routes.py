"""Every route handler of the tenants package, for the app factory."""

from __future__ import annotations

from typing import Any

from tenants.controllers.admin_api import InvitationApi, MembershipApi, SupplierApi
from tenants.controllers.admin_pages import PeoplePages, RolePages, SupplierPages
from tenants.controllers.auth_api import AuthApi
from tenants.controllers.auth_pages import AuthPages
from tenants.controllers.team import TeamApi, TeamPages


def tenant_routes() -> list[Any]:
    return [AuthPages, AuthApi, SupplierPages, PeoplePages, RolePages, SupplierApi, MembershipApi, InvitationApi, TeamApi, TeamPages]
