"""Password reset by email link: one use, one hour, and every session of
the account ends when the password changes."""

from __future__ import annotations

import secrets
from datetime import UTC, datetime, timedelta

from portal.audit.services import record
from portal.errors import DomainError
from portal.i18n import N_, gettext, use_locale
from portal.notifications.mail import Email, send_email
from portal.settings import get_settings
from tenants.context import system_scope
from tenants.passwords import hash_password
from tenants.services.auth import revoke_sessions_of_user
from tenants.services.invitations import token_hash
from tenants.tables import Membership, PasswordReset, User

RESET_LIFETIME = timedelta(hours=1)


class ResetLinkInvalid(DomainError):
    status_code = 410
    code = "reset_link_invalid"
    message = N_("This reset link is no longer valid. Ask for a new one.")


async def request_reset(email: str) -> None:
    """Answers the same whether or not the account exists (no enumeration);
    only an existing, active account gets an email."""
    user = await User.objects().where(User.email == email.strip().lower()).first()
    if user is None or not user.active:
        return
    token = secrets.token_urlsafe(32)
    await PasswordReset(user=user.id, token_hash=token_hash(token), expires_at=datetime.now(UTC) + RESET_LIFETIME).save()
    link = f"{get_settings().base_url}/password-reset/{token}"
    with use_locale(user.locale or get_settings().default_locale):
        subject = gettext(N_("Reset your portal password"))
        text = gettext(
            N_(
                "Hello %(name)s,\n\nOpen this link within one hour to choose a new password:\n%(link)s\n\n"
                "If you did not ask for this, ignore this email."
            ),
            name=user.name,
            link=link,
        )
    await send_email(Email(to=user.email, subject=subject, text=text))


async def check_reset_token(token: str) -> PasswordReset:
    row = await PasswordReset.objects().where(PasswordReset.token_hash == token_hash(token)).first()
    if row is None or row.used_at is not None or row.expires_at <= datetime.now(UTC):
        raise ResetLinkInvalid()
    return row


async def complete_reset(token: str, new_password: str) -> None:
    row = await check_reset_token(token)
    password_hash = hash_password(new_password)
    await User.update({User.password_hash: password_hash}).where(User.id == row.user)
    row.used_at = datetime.now(UTC)
    await row.save()
    await revoke_sessions_of_user(row.user)
    # Accounts are global but audit trails are per tenant: every company the
    # person works for sees that the password changed.
    async with system_scope("password-reset"):
        tenants = await Membership.select(Membership.tenant).where(Membership.user == row.user)
        for membership in tenants:
            await record("user.password_reset", entity_type="user", entity_id=row.user, tenant_id=membership["tenant"])
