"""Request counters of the rate limits, shared by every app process."""

from __future__ import annotations

from piccolo.columns import BigInt, Integer, Varchar
from piccolo.table import Table


class RateLimitHit(Table, tablename="rate_limit_hit"):
    """Requests of one caller in one fixed window: the key names the limit,
    the caller (a token's hash or an address) and the window's number, so a
    new window is a new row and no row is ever reset. Not tenant data: a
    caller is counted before anyone knows its tenant."""

    key = Varchar(length=200, primary_key=True)
    hits = Integer(default=0)
    # Unix seconds when the window ends; rows past it are deleted.
    expires_at = BigInt(index=True)


TABLES = (RateLimitHit,)
