"""A handler's way to say when its next attempt should come: a remote
service that answered 429 or 503 with ``Retry-After`` knows better than our
backoff when it will take the work again. The one reader of that header for
every outgoing channel (Web Push, webhooks, work chat robots)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime

# A service that asks for longer is waited for this long at most (the
# attempt then counts like any other; a parked job is listed for admins).
RETRY_AFTER_CAP = timedelta(hours=6)
RETRY_AFTER_FLOOR = timedelta(seconds=1)
# Too many requests, or unavailable for now: the answers that may name when
# to come back (RFC 9110 15.6.4, RFC 6585 4).
BUSY_STATUSES = (429, 503)


class RetryLater(Exception):
    """Raised by a handler: this attempt failed, and the next one is due
    after ``delay`` (within a second and six hours) instead of the queue's
    backoff. It still counts as an attempt."""

    def __init__(self, message: str, delay: timedelta) -> None:
        # Both in args: the exception survives pickling (a handler run in a child process).
        super().__init__(message, delay)
        self.message = message
        self.delay = min(max(delay, RETRY_AFTER_FLOOR), RETRY_AFTER_CAP)

    def __str__(self) -> str:
        return self.message


def retry_after(value: str | None, now: datetime | None = None) -> timedelta | None:
    """An HTTP ``Retry-After`` value (seconds, or an HTTP date) as a delay;
    None when absent or unreadable."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return timedelta(seconds=int(value))
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(when - (now or datetime.now(UTC)), timedelta(0))


def requested_delay(status: int, value: str | None, now: datetime | None = None) -> timedelta | None:
    """The delay a remote service asked for: ``Retry-After`` on a 429 or
    503 answer; None for any other answer (a 301's Retry-After is not a
    request to come back) or when it named none we can read."""
    return retry_after(value, now) if status in BUSY_STATUSES else None
