"""A supplier admin manages its own supplier's people: invites colleagues
(operator or admin of the same supplier) and removes them; never anyone of
another supplier or of the buyer (the scoping layer shows it only its own
supplier's memberships and invitations: anything else is not found)."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

import msgspec

from portal.audit.services import record
from portal.errors import DomainError, PermissionDenied
from portal.i18n import N_
from portal.lengths import most
from tenants.context import TenantContext, current
from tenants.roles import SUPPLIER_ROLES, Role
from tenants.scoping import scoped
from tenants.services.auth import revoke_sessions_of_membership
from tenants.services.invitations import InvalidInvitation, InvitationCreate, InvitationOut, create_invitation, to_out
from tenants.services.members import MemberOut, get_member_row
from tenants.tables import Invitation, Membership


class ColleagueInvite(msgspec.Struct, frozen=True):
    email: Annotated[str, most(Invitation.email)]
    # supplier_operator or supplier_admin: the inviter's own supplier.
    role: str = Role.SUPPLIER_OPERATOR.value
    name: Annotated[str, most(Invitation.name)] = ""


class CannotRemoveSelf(DomainError):
    status_code = 409
    code = "cannot_remove_self"
    message = N_("You cannot remove yourself. Ask another admin of your company.")


def _require() -> TenantContext:
    context = current()
    if not context.can("team.manage") or context.supplier_id is None:
        raise PermissionDenied()
    return context


async def list_team() -> list[MemberOut]:
    """The people of the caller's supplier, active ones first."""
    _require()
    rows = await scoped(Membership).select(Membership.id).order_by(Membership.created_at)
    found = [await get_member_row(row["id"]) for row in rows]
    return sorted(found, key=lambda member: (not member.active, member.name.lower()))


async def list_team_invitations() -> list[InvitationOut]:
    """Invitations to the caller's supplier still waiting for an answer."""
    _require()
    rows = await scoped(Invitation).objects().order_by(Invitation.created_at, ascending=False)
    return [out for out in (to_out(row) for row in rows) if out.status == "pending"]


async def invite_colleague(data: ColleagueInvite) -> InvitationOut:
    """An invitation to the caller's own supplier, as operator or admin."""
    context = _require()
    try:
        role = Role(data.role)
    except ValueError:
        role = None
    if role not in SUPPLIER_ROLES:
        raise InvalidInvitation(fields={"role": N_("Choose operator or admin.")})
    return await create_invitation(
        context, InvitationCreate(email=data.email, role=data.role, name=data.name, supplier_id=context.supplier_id)
    )


async def remove_colleague(membership_id: UUID | str) -> MemberOut:
    """A colleague of the caller's supplier loses access at once (the
    membership is deactivated, its sessions ended; nothing they did is
    deleted). Removing an already removed colleague changes nothing."""
    context = _require()
    row = await scoped(Membership).get(membership_id)
    if row.id == context.membership_id:
        raise CannotRemoveSelf()
    if row.active:
        row.active = False
        await row.save([Membership.active])
        await revoke_sessions_of_membership(row.id)
        await record(
            "membership.remove",
            entity_type="membership",
            entity_id=row.id,
            before={"active": True},
            after={"active": False, "role": row.role},
        )
    return await get_member_row(row.id)
