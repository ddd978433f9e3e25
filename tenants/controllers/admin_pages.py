"""Buyer admin pages: suppliers, people (memberships and invitations), audit."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from litestar import Controller, Request, get, post
from litestar.params import FromPath
from litestar.response import Redirect, Template

from portal.errors import DomainError
from portal.forms import form_page, form_values
from portal.i18n import gettext
from tenants.guards import requires
from tenants.roles import ACTION_LABELS, POLICY, Role
from tenants.services import invitations, members, suppliers


def role_options() -> list[tuple[str, str]]:
    return [(role.value, gettext(role.label)) for role in Role]


async def supplier_options() -> list[tuple[str, str]]:
    return [("", "—")] + [(str(row.id), f"{row.code} · {row.name}") for row in await suppliers.list_suppliers()]


def _uuid_or_none(value: str | None) -> UUID | None:
    try:
        return UUID(value) if value else None
    except ValueError:
        return None


class SupplierPages(Controller):
    path = "/admin/suppliers"
    include_in_schema = False
    guards = [requires("suppliers.manage")]

    async def _list_page(self, values: dict[str, str] | None = None, error: DomainError | None = None) -> Template:
        return form_page(
            "admin/suppliers.html", values=values, error=error, suppliers=await suppliers.list_suppliers(), active_nav="suppliers"
        )

    @get("/", name="admin_suppliers")
    async def show_suppliers(self) -> Template:
        return await self._list_page()

    @post("/")
    async def add_supplier(self, request: Request[Any, Any, Any]) -> Redirect | Template:
        values = await form_values(request)
        try:
            await suppliers.create_supplier(
                suppliers.SupplierCreate(
                    code=values.get("code", "").strip(),
                    name=values.get("name", ""),
                    contact_name=values.get("contact_name", ""),
                    contact_email=values.get("contact_email", ""),
                    contact_phone=values.get("contact_phone", ""),
                )
            )
        except DomainError as exc:
            return await self._list_page(values, exc)
        return Redirect(path="/admin/suppliers", status_code=303)

    @get("/{supplier_id:uuid}")
    async def show_supplier(self, supplier_id: FromPath[UUID]) -> Template:
        supplier = await suppliers.get_supplier(supplier_id)
        return form_page("admin/supplier.html", supplier=supplier, active_nav="suppliers")

    @post("/{supplier_id:uuid}")
    async def edit_supplier(self, supplier_id: FromPath[UUID], request: Request[Any, Any, Any]) -> Redirect | Template:
        values = await form_values(request)
        try:
            await suppliers.update_supplier(
                supplier_id,
                suppliers.SupplierUpdate(
                    name=values.get("name"),
                    contact_name=values.get("contact_name"),
                    contact_email=values.get("contact_email"),
                    contact_phone=values.get("contact_phone"),
                    status=values.get("status"),
                ),
            )
        except DomainError as exc:
            supplier = await suppliers.get_supplier(supplier_id)
            return form_page("admin/supplier.html", supplier=supplier, values=values, error=exc, active_nav="suppliers")
        return Redirect(path="/admin/suppliers", status_code=303)


class PeoplePages(Controller):
    path = "/admin/users"
    include_in_schema = False
    guards = [requires("users.manage")]

    async def _list_page(self, values: dict[str, str] | None = None, error: DomainError | None = None) -> Template:
        return form_page(
            "admin/users.html",
            values=values,
            error=error,
            members=await members.list_members(),
            invitations=[row for row in await invitations.list_invitations() if row.status == "pending"],
            roles=role_options(),
            supplier_options=await supplier_options(),
            active_nav="users",
        )

    @get("/", name="admin_users")
    async def show_people(self) -> Template:
        return await self._list_page()

    @post("/invitations")
    async def invite(self, request: Request[Any, Any, Any]) -> Redirect | Template:
        values = await form_values(request)
        try:
            await invitations.invite(
                invitations.InvitationCreate(
                    email=values.get("email", ""),
                    name=values.get("name", ""),
                    role=values.get("role", ""),
                    supplier_id=_uuid_or_none(values.get("supplier_id")),
                )
            )
        except DomainError as exc:
            return await self._list_page(values, exc)
        return Redirect(path="/admin/users?invited=1", status_code=303)

    @post("/invitations/{invitation_id:uuid}/revoke")
    async def revoke(self, invitation_id: FromPath[UUID]) -> Redirect:
        await invitations.revoke_invitation(invitation_id)
        return Redirect(path="/admin/users", status_code=303)

    @get("/{membership_id:uuid}")
    async def show_member(self, membership_id: FromPath[UUID]) -> Template:
        member = await members.get_member(membership_id)
        return form_page(
            "admin/member.html", member=member, roles=role_options(), supplier_options=await supplier_options(), active_nav="users"
        )

    @post("/{membership_id:uuid}")
    async def edit_member(self, membership_id: FromPath[UUID], request: Request[Any, Any, Any]) -> Redirect | Template:
        values = await form_values(request)
        update = members.MemberUpdate(
            role=values.get("role"), supplier_id=_uuid_or_none(values.get("supplier_id")), active=values.get("active") == "on"
        )
        try:
            await members.update_member(membership_id, update)
        except DomainError as exc:
            member = await members.get_member(membership_id)
            return form_page(
                "admin/member.html",
                member=member,
                values=values,
                error=exc,
                roles=role_options(),
                supplier_options=await supplier_options(),
                active_nav="users",
            )
        return Redirect(path="/admin/users", status_code=303)


class RolePages(Controller):
    path = "/admin/roles"
    include_in_schema = False
    guards = [requires("users.manage")]

    @get("/", name="admin_roles")
    async def show_roles(self) -> Template:
        """The permission policy, read-only: what each role may do."""
        grants = [(role, [ACTION_LABELS.get(action, action) for action, roles in POLICY.items() if role in roles]) for role in Role]
        return Template(template_name="admin/roles.html", context={"grants": grants, "active_nav": "users"})
