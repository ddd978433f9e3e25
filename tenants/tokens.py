"""Signed tokens (PyJWT, HS256): page sessions, API tokens, tenant choice.

A session token names a server-side session (``jti``); the session, the
membership and the user are checked on every request, so a token is only as
good as the session behind it. Each kind of token has its own audience and
lifetime, and each door takes only its own kind: the session cookie is a
page token, the bearer header an API token, and neither opens the other's
door (a cookie-borne credential must never reach the API, which has no
CSRF check; a long page token must not become a long API token).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any
from uuid import UUID, uuid4

import jwt

from portal.settings import get_settings

ISSUER = "outsourcing-portal"
ALGORITHM = "HS256"
REQUIRED_CLAIMS = ["exp", "iat", "iss", "aud", "sub", "jti", "tid", "mid", "typ"]
CHOICE_AUDIENCE = "outsourcing-portal/choose-tenant"
CHOICE_LIFETIME = timedelta(minutes=5)


class TokenKind(StrEnum):
    PAGE = "page"
    API = "api"


@dataclass(frozen=True)
class KindRule:
    audience: str
    lifetime: timedelta


# A page session lasts a work shift; an API token an hour.
KINDS = {
    TokenKind.PAGE: KindRule("outsourcing-portal/page", timedelta(hours=12)),
    TokenKind.API: KindRule("outsourcing-portal/api", timedelta(hours=1)),
}


class InvalidToken(Exception):
    pass


def lifetime_of(kind: TokenKind) -> timedelta:
    return KINDS[kind].lifetime


def issue_token(
    *, session_id: UUID, user_id: UUID, tenant_id: UUID, membership_id: UUID, kind: TokenKind, lifetime: timedelta | None = None
) -> str:
    now = datetime.now(UTC)
    claims = {
        "iss": ISSUER,
        "aud": KINDS[kind].audience,
        "iat": now,
        "exp": now + (lifetime if lifetime is not None else KINDS[kind].lifetime),
        "sub": str(user_id),
        "jti": str(session_id),
        "tid": str(tenant_id),
        "mid": str(membership_id),
        "typ": kind.value,
    }
    return jwt.encode(claims, get_settings().secret_key, algorithm=ALGORITHM)


def decode_token(token: str, *, kind: TokenKind) -> dict[str, Any]:
    """Only HS256 with our key and issuer, the audience of ``kind``; expiry
    and every claim required."""
    try:
        claims: dict[str, Any] = jwt.decode(
            token,
            get_settings().secret_key,
            algorithms=[ALGORITHM],
            audience=KINDS[kind].audience,
            issuer=ISSUER,
            options={"require": REQUIRED_CLAIMS, "strict_aud": True},
        )
    except jwt.PyJWTError as exc:
        raise InvalidToken(str(exc)) from exc
    if claims.get("typ") != kind.value:
        raise InvalidToken("wrong token type")
    return claims


@dataclass(frozen=True)
class ChoiceClaims:
    user_id: UUID
    token_id: UUID
    expires_at: datetime


def issue_choice_token(user_id: UUID, lifetime: timedelta = CHOICE_LIFETIME) -> str:
    """Proof that the password was right, while the user picks a tenant.
    Its ``jti`` is recorded when it is used, so it works once."""
    now = datetime.now(UTC)
    claims = {
        "iss": ISSUER,
        "aud": CHOICE_AUDIENCE,
        "iat": now,
        "exp": now + lifetime,
        "sub": str(user_id),
        "jti": str(uuid4()),
        "typ": "choose-tenant",
    }
    return jwt.encode(claims, get_settings().secret_key, algorithm=ALGORITHM)


def decode_choice_token(token: str) -> ChoiceClaims:
    try:
        claims = jwt.decode(
            token,
            get_settings().secret_key,
            algorithms=[ALGORITHM],
            audience=CHOICE_AUDIENCE,
            issuer=ISSUER,
            options={"require": ["exp", "iss", "aud", "sub", "jti", "typ"], "strict_aud": True},
        )
        if claims.get("typ") != "choose-tenant":
            raise InvalidToken("wrong token type")
        return ChoiceClaims(UUID(claims["sub"]), UUID(claims["jti"]), datetime.fromtimestamp(claims["exp"], UTC))
    except (jwt.PyJWTError, ValueError, TypeError) as exc:
        raise InvalidToken(str(exc)) from exc
