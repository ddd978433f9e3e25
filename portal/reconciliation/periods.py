"""Monthly settlement periods and their cut-off, as plain functions.

A period is named by its month ("2026-11") and ends at the cut-off: day
``cutoff_day`` of that month (capped to the month's length, so 31 is the
last day) plus ``cutoff_minutes`` after that day's midnight, in the tenant's
time zone (1440, the default, is the end of the day). It starts where the
previous month's period ends. Instants are UTC.
"""

from __future__ import annotations

import calendar
import re
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

LABEL = re.compile(r"^(\d{4})-(0[1-9]|1[0-2])$")


def parse_label(label: str) -> tuple[int, int] | None:
    match = LABEL.match(label or "")
    if not match or not 2000 <= int(match[1]) <= 9998:
        return None
    return int(match[1]), int(match[2])


def label_of(year: int, month: int) -> str:
    return f"{year:04d}-{month:02d}"


def previous_label(label: str) -> str:
    parsed = parse_label(label)
    if parsed is None:
        raise ValueError(label)
    year, month = parsed
    return label_of(year - 1, 12) if month == 1 else label_of(year, month - 1)


def next_label(label: str) -> str:
    parsed = parse_label(label)
    if parsed is None:
        raise ValueError(label)
    year, month = parsed
    return label_of(year + 1, 1) if month == 12 else label_of(year, month + 1)


def cutoff(label: str, time_zone: str, cutoff_day: int, cutoff_minutes: int) -> datetime:
    """The instant (UTC) the period ``label`` ends, exclusive."""
    parsed = parse_label(label)
    if parsed is None:
        raise ValueError(label)
    year, month = parsed
    day = min(max(cutoff_day, 1), calendar.monthrange(year, month)[1])
    local_midnight = datetime.combine(date(year, month, day), time(0), tzinfo=ZoneInfo(time_zone))
    # Wall-clock arithmetic in the zone, then to UTC: a cut-off at 24:00 is
    # the next day's midnight even across a daylight-saving change.
    local = (local_midnight.replace(tzinfo=None) + timedelta(minutes=cutoff_minutes)).replace(tzinfo=ZoneInfo(time_zone))
    return local.astimezone(UTC)


def bounds(label: str, time_zone: str, cutoff_day: int, cutoff_minutes: int) -> tuple[datetime, datetime]:
    """[start, end) of ``label`` when the previous period is computed with
    the same cut-off."""
    return cutoff(previous_label(label), time_zone, cutoff_day, cutoff_minutes), cutoff(label, time_zone, cutoff_day, cutoff_minutes)


def label_at(instant: datetime, time_zone: str, cutoff_day: int, cutoff_minutes: int) -> str:
    """The period an instant falls in."""
    local = instant.astimezone(ZoneInfo(time_zone))
    label = label_of(local.year, local.month)
    if instant >= cutoff(label, time_zone, cutoff_day, cutoff_minutes):
        return next_label(label)
    if instant < cutoff(previous_label(label), time_zone, cutoff_day, cutoff_minutes):
        return previous_label(label)
    return label
