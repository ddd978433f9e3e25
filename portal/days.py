"""Days people type, and the instants they stand for, kept inside the
calendar Python's dates and times can hold.

A due date of 9999-12-31 is a valid ``date``, but the moment after it (or
its evening in a time zone west of UTC) is past ``datetime.max``: every sum
on it raises OverflowError, and one such order took the buyer's home page
down for the whole tenant. So new dates keep to a horizon
(``due_date_problem``), and what is already stored is turned into instants
by ``utc_at``, which answers the calendar's first or last instant instead
of failing.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta, tzinfo
from zoneinfo import ZoneInfo

from portal.i18n import N_

# An outsourced job is due within months; ten years leaves room for frame
# orders and stops typing slips (20266-01-01, 9999-12-31) at the door.
DUE_HORIZON_YEARS = 10
FIRST_INSTANT = datetime.min.replace(tzinfo=UTC)
LAST_INSTANT = datetime.max.replace(tzinfo=UTC)


def latest_due(today: date) -> date:
    """The last due date accepted on ``today``."""
    try:
        return today.replace(year=today.year + DUE_HORIZON_YEARS)
    except ValueError:  # 29 February, ten years on, is not a leap day
        return today.replace(year=today.year + DUE_HORIZON_YEARS, day=28)


def due_date_problem(day: date, today: date) -> str | None:
    """Why a new due date is refused (in the past, beyond the horizon), or None."""
    if day < today:
        return N_("The due date is in the past.")
    if day > latest_due(today):
        return N_("The due date is more than %(years)s years away.")
    return None


def utc_at(day: date, at: time, zone: tzinfo, *, days_after: int = 0) -> datetime:
    """The UTC instant of the wall-clock time ``at`` on ``day`` (plus
    ``days_after``) in ``zone``; at the calendar's edges its first or last
    instant."""
    try:
        return datetime.combine(day + timedelta(days=days_after), at, tzinfo=zone).astimezone(UTC)
    except OverflowError:
        return LAST_INSTANT if day.year > 1 else FIRST_INSTANT


def local_minutes(moment: datetime, zone: str) -> str:
    """An instant as the tenant's wall clock reads it, to the minute
    (2026-12-05 18:00): what a notification says is due, never UTC's
    2026-12-05T10:00+00:00."""
    return moment.astimezone(ZoneInfo(zone)).strftime("%Y-%m-%d %H:%M")


def day_end(day: date, zone: tzinfo) -> datetime:
    """The first instant after ``day`` in ``zone``, in UTC."""
    return utc_at(day, time(0), zone, days_after=1)
