"""Accounts and memberships: who works for which tenant, in which role."""

from __future__ import annotations

from typing import Any
from uuid import UUID

import msgspec
from piccolo.engine.sqlite import SQLiteEngine

from portal.audit.services import record
from portal.db import get_engine
from portal.errors import DomainError, NotFound, PermissionDenied
from portal.i18n import N_, SUPPORTED_LOCALES, normalize_locale
from tenants.context import current
from tenants.passwords import hash_password
from tenants.roles import Role
from tenants.scoping import scoped
from tenants.services.auth import revoke_sessions_of_membership
from tenants.tables import Membership, Supplier, User


class MemberOut(msgspec.Struct, frozen=True):
    id: UUID
    user_id: UUID
    email: str
    name: str
    phone: str
    role: str
    supplier_id: UUID | None
    supplier_name: str | None
    active: bool


class MemberUpdate(msgspec.Struct, frozen=True):
    role: str | None = None
    supplier_id: UUID | None = None
    active: bool | None = None


class InvalidMembership(DomainError):
    code = "invalid_membership"
    message = N_("Some fields are missing or not valid.")


class LastAdmin(DomainError):
    status_code = 409
    code = "last_admin"
    message = N_("The company needs at least one active admin.")


COLUMNS = (
    Membership.id,
    Membership.role,
    Membership.active,
    Membership.supplier.id,
    Membership.supplier.name,
    Membership.user.id,
    Membership.user.email,
    Membership.user.name,
    Membership.user.phone,
)


def _to_out(row: dict[str, Any]) -> MemberOut:
    return MemberOut(
        id=row["id"],
        user_id=row["user"]["id"],
        email=row["user"]["email"],
        name=row["user"]["name"],
        phone=row["user"]["phone"],
        role=row["role"],
        supplier_id=row["supplier"]["id"],
        supplier_name=row["supplier"]["name"],
        active=row["active"],
    )


def parse_role(value: str) -> Role:
    try:
        return Role(value)
    except ValueError:
        raise InvalidMembership(fields={"role": N_("Choose a valid role.")}) from None


async def check_role_and_supplier(role: Role, supplier_id: UUID | None) -> None:
    """Supplier roles belong to exactly one supplier of this tenant; buyer
    roles to none. A supplier of another tenant is as unknown as a missing one."""
    if role.is_supplier:
        if supplier_id is None:
            raise InvalidMembership(fields={"supplier_id": N_("Choose the supplier this person works for.")})
        try:
            await scoped(Supplier).get(supplier_id)
        except NotFound:
            raise InvalidMembership(fields={"supplier_id": N_("This supplier does not exist.")}) from None
    elif supplier_id is not None:
        raise InvalidMembership(fields={"supplier_id": N_("Only supplier roles belong to a supplier.")})


def _require_admin() -> None:
    if not current().can("users.manage"):
        raise PermissionDenied()


async def list_members() -> list[MemberOut]:
    _require_admin()
    rows = await scoped(Membership).select(*COLUMNS).order_by(Membership.role).output(nested=True)
    return [_to_out(row) for row in rows]


async def get_member(membership_id: UUID | str) -> MemberOut:
    _require_admin()
    return await get_member_row(membership_id)


async def get_member_row(membership_id: UUID | str) -> MemberOut:
    """A membership the caller's scope shows (the rights are the caller's to check)."""
    row = await scoped(Membership).get(membership_id)
    data = await Membership.select(*COLUMNS).where(Membership.id == row.id).output(nested=True).first()
    if data is None:
        raise NotFound()
    return _to_out(data)


async def _lock_active_admins() -> list[UUID]:
    """The tenant's active admin memberships, held until the transaction
    ends, so that two admins demoting or deactivating each other at once
    are served one after the other and the second sees the first's change.

    PostgreSQL: the rows are locked (FOR UPDATE, in id order so two lockers
    never deadlock); a waiter re-checks each row against the condition once
    it gets it, so an admin demoted meanwhile drops out of its list.
    SQLite has no row locks: a writing request runs in an IMMEDIATE
    transaction (``portal.db.open_transaction``), which holds the one write
    lock from its first statement, so the count and the update are never
    interleaved with another writer's."""
    query = (
        scoped(Membership)
        .select(Membership.id)
        .where(Membership.role == Role.ADMIN.value)
        .where(Membership.active.eq(True))
        .order_by(Membership.id)
    )
    if not isinstance(get_engine(), SQLiteEngine):
        query = query.lock_rows("UPDATE")
    return [row["id"] for row in await query]


async def update_member(membership_id: UUID | str, data: MemberUpdate) -> MemberOut:
    """Role changes and deactivation apply at once: sessions of a changed
    membership are ended, and the last active admin cannot be removed, even
    by two admins removing each other at the same moment."""
    _require_admin()
    # Lock first, read the row after: what the check sees is what is saved.
    admins = await _lock_active_admins()
    row = await scoped(Membership).get(membership_id)
    before = msgspec.structs.asdict(await get_member(row.id))
    role = parse_role(data.role) if data.role is not None else Role(row.role)
    supplier_id: UUID | None
    if data.supplier_id is not None:
        supplier_id = data.supplier_id
    else:
        supplier_id = row.supplier if role.is_supplier else None
    await check_role_and_supplier(role, supplier_id)
    active = row.active if data.active is None else data.active
    losing_admin = Role(row.role) == Role.ADMIN and row.active and (role != Role.ADMIN or not active)
    if losing_admin and [admin for admin in admins if admin != row.id] == []:
        raise LastAdmin()
    row.role, row.supplier, row.active = role.value, supplier_id, active
    await row.save()
    await revoke_sessions_of_membership(row.id)
    after = await get_member(row.id)
    await record("membership.update", entity_type="membership", entity_id=row.id, before=before, after=msgspec.structs.asdict(after))
    return after


async def ensure_user(email: str, name: str, password: str | None = None, *, locale: str = "", phone: str = "") -> User:
    """The account for this email, created when missing (accounts are global:
    one person, several memberships)."""
    email = email.strip().lower()
    user = await User.objects().where(User.email == email).first()
    if user is None:
        user = User(
            email=email, name=name.strip() or email, phone=phone, locale=locale, password_hash=hash_password(password) if password else ""
        )
        await user.save()
    return user


class InvalidLanguage(DomainError):
    code = "invalid_language"
    message = N_("Choose a supported language.")


async def set_own_locale(wanted: str) -> str:
    """The signed-in person's language for everything the portal writes to
    them: pages, emails, push, notifications."""
    context = current()
    locale = normalize_locale(wanted)
    if locale not in SUPPORTED_LOCALES or context.user_id is None:
        raise InvalidLanguage(fields={"locale": InvalidLanguage.message})
    before = await User.select(User.locale).where(User.id == context.user_id).first()
    await User.update({User.locale: locale}).where(User.id == context.user_id)
    await record(
        "user.locale",
        entity_type="user",
        entity_id=context.user_id,
        before={"locale": before["locale"] if before else ""},
        after={"locale": locale},
    )
    return locale


async def add_membership(user: User, role: Role, supplier_id: UUID | None = None) -> Membership:
    await check_role_and_supplier(role, supplier_id)
    existing = await scoped(Membership).objects().where(Membership.user == user.id).first()
    if existing is not None:
        raise InvalidMembership(fields={"email": N_("This person is already a member of this company.")})
    membership = scoped(Membership).new(user=user.id, role=role.value, supplier=supplier_id)
    await membership.save()
    await record(
        "membership.create",
        entity_type="membership",
        entity_id=membership.id,
        after={"user": user.id, "email": user.email, "role": role.value, "supplier": supplier_id},
    )
    return membership


async def user_names(user_ids: set[UUID]) -> dict[UUID, str]:
    """Names of the given users, for showing who did something. Users are
    not tenant rows: callers pass only ids their own scoped rows name."""
    if not user_ids:
        return {}
    rows = await User.select(User.id, User.name).where(User.id.is_in(list(user_ids)))
    return {row["id"]: row["name"] for row in rows}
