"""The rate limits' settings: which limits exist, their defaults, and
``PORTAL_RATE_LIMITS``."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass


@dataclass(frozen=True)
class Rate:
    count: int
    seconds: int

    def __str__(self) -> str:
        return f"{self.count}/{self.seconds}"


# signin: every sign-in, reset and invitation form post and API token
# request, per address (the failed-sign-in throttle of tenants/ works per
# account as well); api: every API call, per token, or per address without
# one.
DEFAULT_LIMITS: Mapping[str, Rate] = {"signin": Rate(60, 60), "api": Rate(1200, 60)}


def parse_rate_limits(value: str | None) -> dict[str, Rate]:
    """``"signin=30/60,api=600/60"`` (requests per seconds) -> the limits in
    effect; limits not named keep their default; ``off`` turns all off.
    Raises ValueError naming the problem."""
    if value is not None and value.strip().lower() == "off":
        return {}
    limits = dict(DEFAULT_LIMITS)
    for part in filter(None, (item.strip() for item in (value or "").split(","))):
        name, equals, spec = (piece.strip() for piece in part.partition("="))
        if name not in DEFAULT_LIMITS:
            raise ValueError(f"unknown limit {name!r}; use {', '.join(DEFAULT_LIMITS)} or 'off'")
        count, slash, seconds = spec.partition("/")
        if not equals or not slash or not count.strip().isdigit() or not seconds.strip().isdigit():
            raise ValueError(f"{name}: give requests/seconds, e.g. {name}={DEFAULT_LIMITS[name]}")
        rate = Rate(int(count), int(seconds))
        if rate.count < 1 or not 1 <= rate.seconds <= 86400:
            raise ValueError(f"{name}: at least 1 request, a window of 1 to 86400 seconds")
        limits[name] = rate
    return limits
