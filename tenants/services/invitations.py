"""Invitations by email: single-use links that expire; accepting one sets a
password (or uses the existing account) and adds the membership."""

from __future__ import annotations

import base64
import hashlib
import hmac
from datetime import UTC, datetime, timedelta
from email.utils import parseaddr
from typing import Annotated, Any
from uuid import UUID

import msgspec

from portal.audit.services import record
from portal.errors import DomainError, PermissionDenied
from portal.i18n import N_, SUPPORTED_LOCALES, gettext, use_locale
from portal.jobs import enqueue
from portal.lengths import most
from portal.notifications.mail import Email, send_email
from portal.settings import get_settings
from tenants.context import TenantContext, current, system_scope, tenant_scope
from tenants.passwords import check_password_rule, verify_password
from tenants.roles import Role
from tenants.scoping import scoped
from tenants.services import throttle
from tenants.services.members import add_membership, check_role_and_supplier, ensure_user, parse_role
from tenants.tables import Invitation, Membership, Tenant, User

INVITATION_LIFETIME = timedelta(days=7)


class InvitationCreate(msgspec.Struct, frozen=True):
    email: Annotated[str, most(Invitation.email)]
    role: str
    name: Annotated[str, most(Invitation.name)] = ""
    supplier_id: UUID | None = None


class InvitationOut(msgspec.Struct, frozen=True):
    id: UUID
    email: str
    name: str
    role: str
    supplier_id: UUID | None
    expires_at: datetime
    accepted_at: datetime | None
    revoked_at: datetime | None
    status: str


class InvitationAccept(msgspec.Struct, frozen=True):
    password: str
    name: str = ""


class InvitationInvalid(DomainError):
    status_code = 410
    code = "invitation_invalid"
    message = N_("This invitation link is no longer valid. Ask for a new one.")


class InvalidInvitation(DomainError):
    code = "invalid_invitation"
    message = N_("Some fields are missing or not valid.")


class WrongPasswordForExistingAccount(DomainError):
    status_code = 401
    code = "invalid_credentials"
    message = N_("You already have an account: enter its password to accept.")


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def link_token(purpose: str, row_id: UUID) -> str:
    """The token of an emailed link (an invitation, a password reset):
    HMAC of the row's id under the secret key. It is stored nowhere, only
    its hash: the job that sends the mail derives it again from the row,
    so no job payload (kept, and shown to admins with its error) holds a
    usable link, and a job that runs twice sends the same link twice."""
    digest = hmac.new(get_settings().secret_key.encode(), f"{purpose}:{row_id}".encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def link_message_id(purpose: str, row_id: UUID) -> str:
    # Fixed per row: a mail sent again by a rerun job carries the same
    # Message-ID, so a receiving server can drop the duplicate.
    domain = parseaddr(get_settings().mail_from)[1].rpartition("@")[2] or "localhost"
    return f"<{purpose}.{row_id}@{domain}>"


def _status(row: Invitation, now: datetime) -> str:
    if row.accepted_at:
        return "accepted"
    if row.revoked_at:
        return "revoked"
    if row.expires_at <= now:
        return "expired"
    return "pending"


def to_out(row: Invitation) -> InvitationOut:
    return InvitationOut(
        id=row.id,
        email=row.email,
        name=row.name,
        role=row.role,
        supplier_id=row.supplier,
        expires_at=row.expires_at,
        accepted_at=row.accepted_at,
        revoked_at=row.revoked_at,
        status=_status(row, datetime.now(UTC)),
    )


def _require_admin() -> TenantContext:
    context = current()
    if not context.can("invitations.manage"):
        raise PermissionDenied()
    return context


async def invite(data: InvitationCreate) -> InvitationOut:
    """Buyer admins invite anyone (a supplier admin its colleagues only:
    ``tenants.services.team``); the link goes by email and works once, for
    seven days. The token itself is never stored, only its hash."""
    return await create_invitation(_require_admin(), data)


async def create_invitation(context: TenantContext, data: InvitationCreate) -> InvitationOut:
    """The invitation itself, for a caller whose right to send it is checked."""
    email = data.email.strip().lower()
    if "@" not in email or len(email) > 254:
        raise InvalidInvitation(fields={"email": N_("Enter a valid email address.")})
    role = parse_role(data.role)
    await check_role_and_supplier(role, data.supplier_id)
    user = await User.objects().where(User.email == email).first()
    if user and await scoped(Membership).exists().where(Membership.user == user.id):
        raise InvalidInvitation(fields={"email": N_("This person is already a member of this company.")})
    row = scoped(Invitation).new(
        email=email,
        name=data.name.strip(),
        role=role.value,
        supplier=data.supplier_id,
        invited_by=context.user_id,
        expires_at=datetime.now(UTC) + INVITATION_LIFETIME,
    )
    row.token_hash = token_hash(link_token(INVITATION_LINK, row.id))
    await row.save()
    await record("invitation.create", entity_type="invitation", entity_id=row.id, after={"email": email, "role": role.value})
    # Sent by a job after this transaction commits: a slow SMTP server never
    # holds the admin's page, and an invitation that was not saved is never sent.
    await enqueue(INVITATION_MAIL_JOB, {"invitation": row.id}, tenant=context.tenant_id)
    return to_out(row)


INVITATION_LINK = "invitation"
INVITATION_MAIL_JOB = "tenants.invitation_mail"


async def invitation_mail_job(payload: dict[str, Any]) -> None:
    """The ``tenants.invitation_mail`` job: the link goes out while the
    invitation is still pending (one revoked or accepted meanwhile is not
    sent). The token is derived here, never carried in the payload."""
    async with system_scope("invitation-mail"):
        row = await Invitation.objects().where(Invitation.id == UUID(str(payload["invitation"]))).first()
        if row is None or _status(row, datetime.now(UTC)) != "pending":
            return
        tenant = await Tenant.objects().where(Tenant.id == row.tenant).first()
        if tenant is None:
            return
        token = link_token(INVITATION_LINK, row.id)
        if row.token_hash != token_hash(token):
            # The secret key was replaced since the invitation was made: the
            # link minted now is the one that must work.
            await Invitation.update({Invitation.token_hash: token_hash(token)}).where(Invitation.id == row.id)
    await send_email(_invitation_email(row, token, tenant), message_id=link_message_id(INVITATION_LINK, row.id))


def _invitation_email(row: Invitation, token: str, tenant: Tenant) -> Email:
    link = f"{get_settings().base_url}/invitations/{token}"
    with use_locale(tenant.locale):
        subject = gettext(N_("%(company)s invites you to its outsourcing portal"), company=tenant.name)
        text = gettext(
            N_(
                "Hello,\n\n%(company)s invites you to work with it on the outsourcing portal as %(role)s.\n\n"
                "Open this link within 7 days to accept:\n%(link)s\n"
            ),
            company=tenant.name,
            role=gettext(Role(row.role).label),
            link=link,
        )
    return Email(to=row.email, subject=subject, text=text)


async def list_invitations() -> list[InvitationOut]:
    _require_admin()
    rows = await scoped(Invitation).objects().order_by(Invitation.created_at, ascending=False)
    return [to_out(row) for row in rows]


async def get_invitation(invitation_id: UUID | str) -> InvitationOut:
    _require_admin()
    return to_out(await scoped(Invitation).get(invitation_id))


async def revoke_invitation(invitation_id: UUID | str) -> InvitationOut:
    _require_admin()
    row = await scoped(Invitation).get(invitation_id)
    if row.accepted_at is None and row.revoked_at is None:
        row.revoked_at = datetime.now(UTC)
        await row.save()
        await record(
            "invitation.revoke", entity_type="invitation", entity_id=row.id, before={"status": "pending"}, after={"status": "revoked"}
        )
    return to_out(row)


async def open_invitation(token: str) -> tuple[Invitation, Tenant, bool]:
    """The pending invitation behind a link (any tenant: the link is the key),
    its tenant, and whether the email already has an account."""
    async with system_scope("invitation-link"):
        row = await Invitation.objects().where(Invitation.token_hash == token_hash(token)).first()
        if row is None or _status(row, datetime.now(UTC)) != "pending":
            raise InvitationInvalid()
        tenant = await Tenant.objects().where(Tenant.id == row.tenant).first()
        if tenant is None:
            raise InvitationInvalid()
        has_account = await User.exists().where(User.email == row.email)
        return row, tenant, has_account


async def remember_locale(user: User, locale: str) -> None:
    """The language a person's browser asked for when they accepted their
    invitation becomes the one their emails and notifications are written
    in, until they choose another on their account page (a browser's
    language cookie alone never reaches the mail a job sends). Signing in
    does not set it: a saved language outranks every browser's own, and
    one sign-in from a borrowed phone would fix it for good."""
    # Only when none is kept: on PostgreSQL any UPDATE of an account, even
    # of no row, moves the auth generation and every process re-reads its
    # sessions (tenants/revocation.py).
    if locale in SUPPORTED_LOCALES and not user.locale:
        await User.update({User.locale: locale}).where(User.id == user.id).where(User.locale == "")
        user.locale = locale


async def accept_invitation(token: str, data: InvitationAccept, *, address: str, locale: str | None = None) -> UUID:
    """Uses the link up; returns the user id so the caller can sign them in.
    ``locale``: the language the page was asked in, kept for the person's
    mail when they have none yet.
    For an existing account the password is checked like a sign-in, under
    the same throttle (per account and per address): an invitation link is
    no way around the lock-out. The caller keeps a failure's count although
    it answers with an error."""
    row, tenant, has_account = await open_invitation(token)
    if has_account:
        await throttle.check_not_locked(row.email, address)
        user = await User.objects().where(User.email == row.email).first()
        if not verify_password(user.password_hash if user and user.active else None, data.password):
            await throttle.record_failure(row.email, address)
            raise WrongPasswordForExistingAccount(fields={"password": WrongPasswordForExistingAccount.message})
        await throttle.record_success(row.email)
    else:
        check_password_rule(data.password)
    invitee = TenantContext(
        tenant_id=tenant.id,
        tenant_slug=tenant.slug,
        tenant_name=tenant.name,
        time_zone=tenant.time_zone,
        currency=tenant.currency,
        role=Role.ADMIN,
        user_name=f"invitation:{row.email}",
        address=address,
    )
    async with tenant_scope(invitee):
        user = await ensure_user(row.email, data.name or row.name, data.password)
        if locale:
            await remember_locale(user, locale)
        await add_membership(user, Role(row.role), row.supplier)
        row.accepted_at = datetime.now(UTC)
        await row.save()
        await record("invitation.accept", entity_type="invitation", entity_id=row.id, after={"user": user.id})
    return user.id
