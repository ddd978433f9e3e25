"""A supplier admin's own people: the JSON API and the page."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from litestar import Controller, Request, get, post
from litestar.params import FromPath, JSONBody
from litestar.response import Redirect, Template

from portal.errors import DomainError
from portal.forms import form_page, form_values
from portal.i18n import gettext
from portal.pagination import Page, page_of
from tenants.guards import requires
from tenants.roles import SUPPLIER_ROLES, Role
from tenants.services import team
from tenants.services.invitations import InvitationOut
from tenants.services.members import MemberOut


class TeamApi(Controller):
    path = "/api/v1/team"
    tags = ["people"]
    guards = [requires("team.manage")]

    @get("/")
    async def list_team(self) -> Page[MemberOut]:
        """The people of the caller's own supplier (supplier admins only)."""
        return page_of(await team.list_team())

    @get("/invitations")
    async def list_team_invitations(self) -> Page[InvitationOut]:
        """Pending invitations to the caller's own supplier."""
        return page_of(await team.list_team_invitations())

    @post("/invitations")
    async def invite_colleague(self, data: JSONBody[team.ColleagueInvite]) -> InvitationOut:
        """Invite a colleague to the caller's own supplier as
        ``supplier_operator`` or ``supplier_admin``: a single-use link by
        email, valid for 7 days."""
        return await team.invite_colleague(data)

    @post("/{colleague_id:uuid}/remove", status_code=200, errors=[409])
    async def remove_colleague(self, colleague_id: FromPath[UUID]) -> MemberOut:
        """Take a colleague's access away at once (not one's own); anyone
        outside the caller's supplier is not found."""
        return await team.remove_colleague(colleague_id)


class TeamPages(Controller):
    path = "/team"
    include_in_schema = False
    guards = [requires("team.manage")]

    @get("/", name="team")
    async def show_team(self) -> Template:
        return await _page()

    @post("/invitations")
    async def invite_colleague(self, request: Request[Any, Any, Any]) -> Template | Redirect:
        values = await form_values(request)
        try:
            await team.invite_colleague(
                team.ColleagueInvite(email=values.get("email", ""), role=values.get("role", ""), name=values.get("name", ""))
            )
        except DomainError as exc:
            return await _page(values, exc)
        return Redirect(path="/team?invited=1", status_code=303)

    @post("/{colleague_id:uuid}/remove")
    async def remove_colleague(self, colleague_id: FromPath[UUID]) -> Template | Redirect:
        try:
            await team.remove_colleague(colleague_id)
        except DomainError as exc:
            return await _page(None, exc)
        return Redirect(path="/team", status_code=303)


async def _page(values: dict[str, str] | None = None, error: DomainError | None = None) -> Template:
    return form_page(
        "team/index.html",
        values=values,
        error=error,
        members=await team.list_team(),
        invitations=await team.list_team_invitations(),
        roles=[(role.value, gettext(role.label)) for role in Role if role in SUPPLIER_ROLES],
        active_nav="team",
    )
