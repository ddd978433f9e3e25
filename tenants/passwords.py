"""Password hashing (argon2id) and the password rule."""

from __future__ import annotations

import functools

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from portal.errors import DomainError
from portal.i18n import N_
from portal.settings import get_settings

MIN_PASSWORD_LENGTH = 10
# argon2-cffi's defaults (RFC 9106, low memory) for people's passwords; the
# cheap set keeps the test suite's hundreds of accounts from costing minutes.
# A hash carries its own parameters, so either kind verifies under either.
# (time_cost, memory_cost in KiB, parallelism)
PARAMETERS = {"strong": (3, 65536, 4), "cheap": (1, 8, 1)}


class WeakPassword(DomainError):
    code = "weak_password"
    message = N_("Use at least %(min)s characters for the password.")


def hasher() -> PasswordHasher:
    return hasher_for(get_settings().hash_strength)


@functools.cache
def hasher_for(strength: str) -> PasswordHasher:
    time_cost, memory_cost, parallelism = PARAMETERS[strength]
    return PasswordHasher(time_cost=time_cost, memory_cost=memory_cost, parallelism=parallelism)


@functools.cache
def _dummy_hash(strength: str) -> str:
    return hasher_for(strength).hash("not-a-real-password-only-for-timing")


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
        return hasher().verify(password_hash or _dummy_hash(get_settings().hash_strength), password) and bool(password_hash)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False
