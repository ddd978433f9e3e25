"""Rate limits per caller, counted in the database so that every app process
shares one budget (a per-process counter would give N processes N budgets).

Fixed windows: a caller's hits in the current window are one row, added to
with one upsert that returns the new count. The count is written outside the
request's transaction, so a refused or failed request still counts.
"""

from __future__ import annotations

import hashlib
import math
import time

from portal.limits.rates import Rate
from portal.limits.tables import RateLimitHit

_HIT = (
    "INSERT INTO rate_limit_hit (key, hits, expires_at) VALUES ({}, 1, {}) "
    "ON CONFLICT (key) DO UPDATE SET hits = rate_limit_hit.hits + 1 RETURNING hits"
)
_EXPIRE = "DELETE FROM rate_limit_hit WHERE expires_at < {}"


def caller_key(*, token: str | None, address: str) -> str:
    """The token's hash (never the token itself) or the address."""
    if token:
        return "t:" + hashlib.sha256(token.encode()).hexdigest()[:32]
    return "a:" + address


async def hit(limit: str, caller: str, rate: Rate, *, now: float | None = None) -> int | None:
    """Count one request; the seconds until the window ends when this one
    is over the limit, else None."""
    now = time.time() if now is None else now
    window = int(now // rate.seconds)
    ends = (window + 1) * rate.seconds
    rows = await RateLimitHit.raw(_HIT, f"{limit}:{caller}:{window}", ends)
    hits = int(rows[0]["hits"])
    if hits == 1:
        # The first hit of a caller's window: a cheap moment to drop the
        # windows that ended (indexed), so the table holds current ones only.
        await RateLimitHit.raw(_EXPIRE, int(now))
    if hits > rate.count:
        return max(1, math.ceil(ends - now))
    return None
