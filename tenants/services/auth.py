"""Sign-in, sessions and the per-request check of who is acting.

Scheme (see docs/security.md): a signed JWT names a server-side session.
Every request checks the signature and the auth generation
(``tenants.revocation``), and re-reads the session, the membership and the
user whenever the generation moved, so logout, a revoked membership or a
changed role take effect from the next request on, whatever the token's
expiry says. Page sessions and API tokens are different kinds of
token (own audience, own lifetime: ``tenants.tokens.KINDS``); a session is
opened for one kind and each door accepts only its own.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

from portal.audit.services import record
from portal.errors import DomainError, NotAuthenticated
from portal.i18n import N_
from portal.notifications.push import forget_session_devices
from tenants import tokens
from tenants.context import (
    TenantContext,
    apply_database_settings,
    apply_settings_reading_generation,
    peek,
    reveal_own_memberships,
    tenant_scope,
)
from tenants.passwords import verify_password
from tenants.revocation import GenerationCache, current_generation
from tenants.roles import Role
from tenants.services import throttle
from tenants.tables import AuthSession, Membership, UsedToken, User


class LoginFailed(DomainError):
    status_code = 401
    code = "invalid_credentials"
    message = N_("The email or the password is not right.")


class TenantNotAvailable(DomainError):
    status_code = 400
    code = "tenant_not_available"
    message = N_("This account has no access to that company.")


class TenantRequired(DomainError):
    status_code = 400
    code = "tenant_required"
    message = N_("This account works for several companies: choose one.")


@dataclass(frozen=True)
class MembershipChoice:
    tenant_slug: str
    tenant_name: str
    role: Role


@dataclass(frozen=True)
class TenantChoice:
    """The password was right and several tenants are possible."""

    choice_token: str
    options: list[MembershipChoice]


@dataclass(frozen=True)
class Authenticated:
    token: str
    expires_in: int
    session_id: UUID
    tenant_slug: str


MEMBERSHIP_COLUMNS = (
    Membership.id,
    Membership.role,
    Membership.supplier,
    Membership.active,
    Membership.user.id,
    Membership.tenant.id,
    Membership.tenant.slug,
    Membership.tenant.name,
    Membership.tenant.time_zone,
    Membership.tenant.currency,
    Membership.tenant.locale,
    Membership.user.name,
    Membership.user.locale,
    Membership.user.active,
)


async def _memberships_of(user_id: UUID) -> list[dict[str, Any]]:
    # On PostgreSQL the membership policy shows a user's own rows by app.user_id.
    await reveal_own_memberships(user_id)
    rows = (
        await Membership.select(*MEMBERSHIP_COLUMNS).where(Membership.user == user_id).where(Membership.active.eq(True)).output(nested=True)
    )
    return sorted(rows, key=lambda row: row["tenant"]["name"])


async def authenticate(
    email: str,
    password: str,
    tenant_slug: str | None,
    *,
    address: str,
    user_agent: str = "",
    kind: tokens.TokenKind = tokens.TokenKind.PAGE,
) -> Authenticated | TenantChoice:
    """Checks the password (throttled, same answer for unknown accounts) and
    opens a session for the chosen tenant, or asks which tenant."""
    email = email.strip().lower()
    await throttle.check_not_locked(email, address)
    user = await User.objects().where(User.email == email).first()
    usable = user is not None and user.active
    if not verify_password(user.password_hash if usable and user else None, password) or user is None:
        await throttle.record_failure(email, address)
        raise LoginFailed()
    await throttle.record_success(email)
    return await open_session_for(user.id, tenant_slug, address=address, user_agent=user_agent, kind=kind)


async def open_session_for(
    user_id: UUID, tenant_slug: str | None, *, address: str, user_agent: str = "", kind: tokens.TokenKind = tokens.TokenKind.PAGE
) -> Authenticated | TenantChoice:
    memberships = await _memberships_of(user_id)
    if tenant_slug:
        chosen = [row for row in memberships if row["tenant"]["slug"] == tenant_slug]
        if not chosen:
            raise TenantNotAvailable(fields={"tenant": TenantNotAvailable.message})
    elif len(memberships) == 1:
        chosen = memberships
    elif not memberships:
        raise TenantNotAvailable()
    else:
        options = [MembershipChoice(row["tenant"]["slug"], row["tenant"]["name"], Role(row["role"])) for row in memberships]
        return TenantChoice(tokens.issue_choice_token(user_id), options)
    return await _start_session(chosen[0], address=address, user_agent=user_agent, kind=kind)


async def redeem_choice_token(token: str) -> UUID:
    """The user a tenant-choice token proves, once: its ``jti`` is recorded
    in the database (which every app process shares), so a second use
    answers NotAuthenticated however quickly it comes. Records of expired
    tokens are useless and are removed on the way."""
    try:
        claims = tokens.decode_choice_token(token)
    except tokens.InvalidToken:
        raise NotAuthenticated() from None
    await UsedToken.delete().where(UsedToken.expires_at < datetime.now(UTC))
    # The primary key decides between two concurrent uses: the loser's
    # insert does nothing (on PostgreSQL after waiting for the winner).
    recorded = (
        await UsedToken.insert(UsedToken(id=claims.token_id, expires_at=claims.expires_at))
        .on_conflict(action="DO NOTHING")
        .returning(UsedToken.id)
    )
    if not recorded:
        raise NotAuthenticated()
    return claims.user_id


def _context(row: dict[str, Any], session_id: UUID, address: str) -> TenantContext:
    """The acting context of a membership row (MEMBERSHIP_COLUMNS, nested)."""
    return TenantContext(
        tenant_id=row["tenant"]["id"],
        tenant_slug=row["tenant"]["slug"],
        tenant_name=row["tenant"]["name"],
        time_zone=row["tenant"]["time_zone"],
        currency=row["tenant"]["currency"],
        role=Role(row["role"]),
        user_id=row["user"]["id"],
        user_name=row["user"]["name"],
        membership_id=row["id"],
        supplier_id=row["supplier"],
        session_id=session_id,
        address=address,
        locale=row["user"]["locale"],
    )


async def _start_session(membership: dict[str, Any], *, address: str, user_agent: str, kind: tokens.TokenKind) -> Authenticated:
    now = datetime.now(UTC)
    lifetime = tokens.lifetime_of(kind)
    session = AuthSession(
        user=membership["user"]["id"],
        membership=membership["id"],
        tenant=membership["tenant"]["id"],
        expires_at=now + lifetime,
        address=address[:64],
        user_agent=user_agent[:300],
    )
    await session.save()
    async with tenant_scope(_context(membership, session.id, address)):
        await record(
            "session.open", entity_type="session", entity_id=session.id, after={"address": address, "user_agent": user_agent[:120]}
        )
    token = tokens.issue_token(
        session_id=session.id,
        user_id=session.user,
        tenant_id=membership["tenant"]["id"],
        membership_id=membership["id"],
        kind=kind,
    )
    return Authenticated(
        token=token, expires_in=int(lifetime.total_seconds()), session_id=session.id, tenant_slug=membership["tenant"]["slug"]
    )


_SESSIONS: GenerationCache[TenantContext] = GenerationCache()


@dataclass(frozen=True)
class Resolved:
    context: TenantContext
    # The running transaction's RLS settings are this context's already:
    # written by the statement that confirmed the cached session.
    settings_written: bool


async def resolve(token: str, *, kind: tokens.TokenKind, address: str = "") -> Resolved:
    """The context a token of ``kind`` stands for: a token of the other kind,
    a revoked session, a removed membership, another tenant's id in the
    claims or a deactivated user all end here with NotAuthenticated.

    The signature is checked on every request; what the database said about
    the session is kept per process for as long as the auth generation
    (``tenants.revocation``) stands still, which every sign-out, revocation,
    membership, account or tenant change moves, in every process's view,
    from the next request on.

    A session this process has cached costs one statement on PostgreSQL:
    it writes the cached context's RLS settings and reads the generation
    together. Nothing else runs in between, and when the generation moved
    the settings are emptied again before the session is read anew, so no
    statement of the request runs under a context the generation has not
    confirmed."""
    try:
        claims = tokens.decode_token(token, kind=kind)
        session_id, user_id = UUID(claims["jti"]), UUID(claims["sub"])
        tenant_id, membership_id = UUID(claims["tid"]), UUID(claims["mid"])
    except (tokens.InvalidToken, ValueError, KeyError):
        raise NotAuthenticated() from None
    now = datetime.now(UTC)
    # Every claim is in the key: a cached context answers only the exact
    # session, account, tenant and membership it was read for.
    key = (kind, session_id, user_id, tenant_id, membership_id)
    candidate = _SESSIONS.candidate(key, now)
    generation = await (current_generation() if candidate is None else apply_settings_reading_generation(candidate))
    cached = _SESSIONS.get(key, generation, now)
    if cached is not None:
        # Another request of this process may have cached the key again
        # meanwhile: the settings written are the candidate's only.
        return Resolved(replace(cached, address=address), settings_written=cached is candidate)
    if candidate is not None:
        await apply_database_settings(None)
    session = await AuthSession.objects().where(AuthSession.id == session_id).first()
    if (
        session is None
        or session.revoked_at is not None
        or session.expires_at <= now
        or session.user != user_id
        or session.tenant != tenant_id
        or session.membership != membership_id
    ):
        raise NotAuthenticated()
    await reveal_own_memberships(user_id)
    row = await Membership.select(*MEMBERSHIP_COLUMNS).where(Membership.id == membership_id).output(nested=True).first()
    if row is None or not row["active"] or not row["user"]["active"] or row["tenant"]["id"] != tenant_id or row["user"]["id"] != user_id:
        raise NotAuthenticated()
    context = replace(_context(row, session_id, ""), session_expires_at=session.expires_at)
    _SESSIONS.put(key, generation, context, session.expires_at)
    return Resolved(replace(context, address=address), settings_written=False)


async def logout(session_id: UUID) -> None:
    """Ends the session at once, and the Web Push of the devices subscribed
    from it (a signed-out phone must not keep showing the tenant's news);
    recorded when someone is acting."""
    await AuthSession.update({AuthSession.revoked_at: datetime.now(UTC)}).where(AuthSession.id == session_id)
    await forget_session_devices(session_id)
    if isinstance(peek(), TenantContext):
        await record("session.close", entity_type="session", entity_id=session_id)


async def revoke_sessions_of_user(user_id: UUID) -> None:
    await (
        AuthSession.update({AuthSession.revoked_at: datetime.now(UTC)})
        .where(AuthSession.user == user_id)
        .where(AuthSession.revoked_at.is_null())
    )


async def revoke_sessions_of_membership(membership_id: UUID) -> None:
    await (
        AuthSession.update({AuthSession.revoked_at: datetime.now(UTC)})
        .where(AuthSession.membership == membership_id)
        .where(AuthSession.revoked_at.is_null())
    )


async def memberships_for_switch(context: TenantContext) -> list[MembershipChoice]:
    if context.user_id is None:
        return []
    rows = await _memberships_of(context.user_id)
    return [MembershipChoice(row["tenant"]["slug"], row["tenant"]["name"], Role(row["role"])) for row in rows]


async def switch_tenant(context: TenantContext, tenant_slug: str, *, address: str, user_agent: str = "") -> Authenticated:
    """One session is bound to one tenant: switching ends it and opens another."""
    if context.user_id is None or context.session_id is None:
        raise NotAuthenticated()
    result = await open_session_for(context.user_id, tenant_slug, address=address, user_agent=user_agent)
    if not isinstance(result, Authenticated):
        raise TenantRequired()
    await logout(context.session_id)
    return result
