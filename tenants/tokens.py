"""Signed access tokens (PyJWT, HS256).

A token names a server-side session (``jti``); the session, the membership
and the user are checked on every request, so a token is only as good as
the session behind it.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

import jwt

from portal.settings import get_settings

ISSUER = "outsourcing-portal"
AUDIENCE = "outsourcing-portal"
ALGORITHM = "HS256"
REQUIRED_CLAIMS = ["exp", "iat", "iss", "aud", "sub", "jti", "tid", "mid", "typ"]


class InvalidToken(Exception):
    pass


def issue_token(*, session_id: UUID, user_id: UUID, tenant_id: UUID, membership_id: UUID, lifetime: timedelta, kind: str = "access") -> str:
    now = datetime.now(UTC)
    claims = {
        "iss": ISSUER,
        "aud": AUDIENCE,
        "iat": now,
        "exp": now + lifetime,
        "sub": str(user_id),
        "jti": str(session_id),
        "tid": str(tenant_id),
        "mid": str(membership_id),
        "typ": kind,
    }
    return jwt.encode(claims, get_settings().secret_key, algorithm=ALGORITHM)


def decode_token(token: str, *, kind: str = "access") -> dict[str, Any]:
    """Only HS256 with our key, issuer and audience; expiry required."""
    try:
        claims: dict[str, Any] = jwt.decode(
            token,
            get_settings().secret_key,
            algorithms=[ALGORITHM],
            audience=AUDIENCE,
            issuer=ISSUER,
            options={"require": REQUIRED_CLAIMS},
        )
    except jwt.PyJWTError as exc:
        raise InvalidToken(str(exc)) from exc
    if claims.get("typ") != kind:
        raise InvalidToken("wrong token type")
    return claims


def issue_choice_token(user_id: UUID, lifetime: timedelta = timedelta(minutes=5)) -> str:
    """Proof that the password was right, while the user picks a tenant."""
    now = datetime.now(UTC)
    claims = {"iss": ISSUER, "aud": AUDIENCE, "iat": now, "exp": now + lifetime, "sub": str(user_id), "typ": "choose-tenant"}
    return jwt.encode(claims, get_settings().secret_key, algorithm=ALGORITHM)


def decode_choice_token(token: str) -> UUID:
    try:
        claims = jwt.decode(
            token,
            get_settings().secret_key,
            algorithms=[ALGORITHM],
            audience=AUDIENCE,
            issuer=ISSUER,
            options={"require": ["exp", "sub", "typ"]},
        )
    except jwt.PyJWTError as exc:
        raise InvalidToken(str(exc)) from exc
    if claims.get("typ") != "choose-tenant":
        raise InvalidToken("wrong token type")
    return UUID(claims["sub"])
