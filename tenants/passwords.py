"""Password hashing (argon2id) and the password rule."""

from __future__ import annotations

import functools

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from portal.errors import DomainError
from portal.i18n import N_

MIN_PASSWORD_LENGTH = 10


class WeakPassword(DomainError):
    code = "weak_password"
    message = N_("Use at least %(min)s characters for the password.")


@functools.cache
def hasher() -> PasswordHasher:
    return PasswordHasher()


@functools.cache
def _dummy_hash() -> str:
    return hasher().hash("not-a-real-password-only-for-timing")


def check_password_rule(password: str) -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise WeakPassword(fields={"password": WeakPassword.message}, min=MIN_PASSWORD_LENGTH)


def hash_password(password: str) -> str:
    check_password_rule(password)
    return hasher().hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    """Always does the full argon2 work, also for unknown accounts, so the
    answer takes as long whether or not the email exists."""
    try:
        return hasher().verify(password_hash or _dummy_hash(), password) and bool(password_hash)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False
