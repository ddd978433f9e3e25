"""Password reset by email link: one use, one hour, and every session of
the account ends when the password changes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

from portal.audit.services import record
from portal.errors import DomainError
from portal.i18n import N_, gettext, use_locale
from portal.jobs import enqueue
from portal.notifications.mail import Email, send_email
from portal.settings import get_settings
from tenants.context import system_scope
from tenants.passwords import hash_password
from tenants.services.auth import revoke_sessions_of_user
from tenants.services.invitations import link_message_id, link_token, token_hash
from tenants.tables import Membership, PasswordReset, User

RESET_LIFETIME = timedelta(hours=1)
# Links sent to one account per RESET_LIFETIME: asking again and again (from
# any number of addresses, which the sign-in rate limit counts apart) must
# not fill the owner's mailbox. The page answers the same either way.
RESETS_PER_LIFETIME = 3


class ResetLinkInvalid(DomainError):
    status_code = 410
    code = "reset_link_invalid"
    message = N_("This reset link is no longer valid. Ask for a new one.")


class ResetRequestInvalid(DomainError):
    code = "invalid_email"
    message = N_("Check the email address.")


RESET_LINK = "password-reset"
RESET_MAIL_JOB = "tenants.password_reset_mail"


async def request_reset(email: str) -> None:
    """Answers the same whether or not the account exists (no enumeration);
    only an existing, active account gets an email, sent by a job: a slow
    SMTP server never holds the page. What is not an address at all is
    refused: saying so tells nobody whether an account exists."""
    email = email.strip().lower()
    if "@" not in email.strip("@"):
        raise ResetRequestInvalid(fields={"email": N_("Enter a valid email address.")})
    user = await User.objects().where(User.email == email).first()
    if user is None or not user.active:
        return
    now = datetime.now(UTC)
    recent = await PasswordReset.count().where((PasswordReset.user == user.id) & (PasswordReset.created_at > now - RESET_LIFETIME))
    if recent >= RESETS_PER_LIFETIME:
        return
    row = PasswordReset(user=user.id, expires_at=now + RESET_LIFETIME)
    row.token_hash = token_hash(link_token(RESET_LINK, row.id))
    await row.save()
    await enqueue(RESET_MAIL_JOB, {"reset": row.id})


async def reset_mail_job(payload: dict[str, Any]) -> None:
    """The ``tenants.password_reset_mail`` job: the link goes out while it
    can still be used. The token is derived here from the row, never
    carried in the payload (tenants.services.invitations.link_token)."""
    async with system_scope("password-reset-mail"):
        row = await PasswordReset.objects().where(PasswordReset.id == UUID(str(payload["reset"]))).first()
        if row is None or row.used_at is not None or row.expires_at <= datetime.now(UTC):
            return
        user = await User.objects().where(User.id == row.user).first()
        if user is None or not user.active:
            return
        token = link_token(RESET_LINK, row.id)
        if row.token_hash != token_hash(token):
            # The secret key was replaced meanwhile: the link minted now must work.
            await PasswordReset.update({PasswordReset.token_hash: token_hash(token)}).where(PasswordReset.id == row.id)
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
    await send_email(Email(to=user.email, subject=subject, text=text), message_id=link_message_id(RESET_LINK, row.id))


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
