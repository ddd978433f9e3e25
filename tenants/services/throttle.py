"""Login throttling per account and per address.

Failures inside a window are counted; each one slows the next answer a
little, and past the limit the key is refused until the lock runs out. The
message is the same whether or not the account exists.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import anyio

from portal.errors import DomainError
from portal.i18n import N_
from portal.settings import get_settings
from tenants.tables import LoginThrottle

WINDOW = timedelta(minutes=15)
LOCK = timedelta(minutes=15)
MAX_DELAY_SECONDS = 2.0


@dataclass(frozen=True)
class Limit:
    prefix: str
    max_failures: int


ACCOUNT = Limit("email", 5)
ADDRESS = Limit("addr", 20)


class TooManyAttempts(DomainError):
    status_code = 429
    code = "too_many_attempts"
    message = N_("Too many failed sign-ins. Please try again in %(minutes)s minutes.")


def keys(email: str, address: str) -> list[tuple[str, Limit]]:
    return [(f"{ACCOUNT.prefix}:{email.strip().lower()}", ACCOUNT), (f"{ADDRESS.prefix}:{address}", ADDRESS)]


async def check_not_locked(email: str, address: str) -> None:
    now = datetime.now(UTC)
    for key, _limit in keys(email, address):
        row = await LoginThrottle.objects().where(LoginThrottle.key == key).first()
        if row and row.locked_until and row.locked_until > now:
            minutes = max(1, int((row.locked_until - now).total_seconds() // 60) + 1)
            raise TooManyAttempts(minutes=minutes)


async def record_failure(email: str, address: str) -> None:
    """Count the failure, lock past the limit, and wait a little longer
    with each failure so that guessing is slow even below the limit."""
    now = datetime.now(UTC)
    worst = 0
    for key, limit in keys(email, address):
        row = await LoginThrottle.objects().where(LoginThrottle.key == key).first()
        if row is None:
            row = LoginThrottle(key=key, failures=0, window_started_at=now)
        if now - row.window_started_at > WINDOW:
            row.failures = 0
            row.window_started_at = now
        row.failures += 1
        if row.failures >= limit.max_failures:
            row.locked_until = now + LOCK
        await row.save()
        worst = max(worst, row.failures)
    await anyio.sleep(delay_seconds(worst, get_settings().login_delay_step))


def delay_seconds(failures: int, step: float) -> float:
    return min(MAX_DELAY_SECONDS, step * failures)


async def record_success(email: str) -> None:
    key, _ = keys(email, "")[0]
    await LoginThrottle.delete().where(LoginThrottle.key == key)
