"""JSON API for the buyer admin: suppliers, memberships, invitations."""

from __future__ import annotations

from uuid import UUID

from litestar import Controller, get, patch, post
from litestar.params import FromPath, JSONBody

from portal.pagination import Page, page_of
from tenants.guards import requires, requires_login
from tenants.services import invitations, members, suppliers


class SupplierApi(Controller):
    path = "/api/v1/suppliers"
    tags = ["suppliers"]
    guards = [requires_login]

    @get("/")
    async def list_suppliers(self) -> Page[suppliers.SupplierOut]:
        """Buyer staff see every supplier of the tenant; supplier users their own."""
        return page_of(await suppliers.list_suppliers())

    @get("/{supplier_id:uuid}")
    async def get_supplier(self, supplier_id: FromPath[UUID]) -> suppliers.SupplierOut:
        return await suppliers.get_supplier(supplier_id)

    @post("/", guards=[requires("suppliers.manage")], errors=[409])
    async def create_supplier(self, data: JSONBody[suppliers.SupplierCreate]) -> suppliers.SupplierOut:
        return await suppliers.create_supplier(data)

    @patch("/{supplier_id:uuid}", guards=[requires("suppliers.manage")])
    async def update_supplier(self, supplier_id: FromPath[UUID], data: JSONBody[suppliers.SupplierUpdate]) -> suppliers.SupplierOut:
        return await suppliers.update_supplier(supplier_id, data)


class MembershipApi(Controller):
    path = "/api/v1/memberships"
    tags = ["people"]
    guards = [requires("users.manage")]

    @get("/")
    async def list_memberships(self) -> Page[members.MemberOut]:
        return page_of(await members.list_members())

    @get("/{membership_id:uuid}")
    async def get_membership(self, membership_id: FromPath[UUID]) -> members.MemberOut:
        return await members.get_member(membership_id)

    @patch("/{membership_id:uuid}")
    async def update_membership(self, membership_id: FromPath[UUID], data: JSONBody[members.MemberUpdate]) -> members.MemberOut:
        """Change the role or supplier, or deactivate; takes effect at once."""
        return await members.update_member(membership_id, data)


class InvitationApi(Controller):
    path = "/api/v1/invitations"
    tags = ["people"]
    guards = [requires("invitations.manage")]

    @get("/")
    async def list_invitations(self) -> Page[invitations.InvitationOut]:
        return page_of(await invitations.list_invitations())

    @get("/{invitation_id:uuid}")
    async def get_invitation(self, invitation_id: FromPath[UUID]) -> invitations.InvitationOut:
        return await invitations.get_invitation(invitation_id)

    @post("/")
    async def create_invitation(self, data: JSONBody[invitations.InvitationCreate]) -> invitations.InvitationOut:
        """Email a single-use link (7 days) to join this tenant in a role."""
        return await invitations.invite(data)

    @post("/{invitation_id:uuid}/revoke", status_code=200)
    async def revoke_invitation(self, invitation_id: FromPath[UUID]) -> invitations.InvitationOut:
        return await invitations.revoke_invitation(invitation_id)
