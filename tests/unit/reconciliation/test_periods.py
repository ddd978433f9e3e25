"""Monthly periods and their cut-off in the tenant's time zone, stored UTC."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from portal.reconciliation.periods import bounds, cutoff, label_at, next_label, parse_label, previous_label

SHANGHAI = "Asia/Shanghai"


def utc(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)  # type: ignore[misc]


def test_the_default_period_is_the_calendar_month_in_the_tenants_zone() -> None:
    # Midnight of 1 December in Shanghai (UTC+8) is 16:00 UTC the day before.
    assert bounds("2026-11", SHANGHAI, 31, 1440) == (utc(2026, 10, 31, 16), utc(2026, 11, 30, 16))


def test_a_cut_off_day_and_time_end_the_period_there() -> None:
    # The 25th at 18:00 Shanghai time.
    assert cutoff("2026-11", SHANGHAI, 25, 18 * 60) == utc(2026, 11, 25, 10)
    assert bounds("2026-11", SHANGHAI, 25, 18 * 60)[0] == utc(2026, 10, 25, 10)


def test_a_cut_off_day_beyond_the_month_is_its_last_day() -> None:
    assert cutoff("2026-02", SHANGHAI, 31, 1440) == utc(2026, 2, 28, 16)
    assert cutoff("2028-02", SHANGHAI, 30, 1440) == utc(2028, 2, 29, 16)


def test_the_cut_off_follows_the_wall_clock_across_daylight_saving() -> None:
    # Berlin: the end of March is in summer time (UTC+2), of February not.
    assert cutoff("2026-03", "Europe/Berlin", 31, 1440) == utc(2026, 3, 31, 22)
    assert cutoff("2026-02", "Europe/Berlin", 31, 1440) == utc(2026, 2, 28, 23)


def test_an_instant_falls_in_the_period_whose_cut_off_it_precedes() -> None:
    end = cutoff("2026-11", SHANGHAI, 25, 18 * 60)
    assert label_at(end - timedelta(microseconds=1), SHANGHAI, 25, 18 * 60) == "2026-11"
    assert label_at(end, SHANGHAI, 25, 18 * 60) == "2026-12"
    # 30 November in Shanghai, after the cut-off of the 25th.
    assert label_at(utc(2026, 11, 30, 1), SHANGHAI, 25, 18 * 60) == "2026-12"
    # 31 October 20:00 UTC is 1 November in Shanghai: the default's November.
    assert label_at(utc(2026, 10, 31, 20), SHANGHAI, 31, 1440) == "2026-11"
    # The first day of a month before an early cut-off of 0 minutes past the 1st.
    assert label_at(utc(2026, 11, 30, 17), SHANGHAI, 1, 0) == "2027-01"


@pytest.mark.parametrize("label", ["2026-13", "2026-1", "26-01", "", "2026-00", "abcd-ef"])
def test_labels_that_are_not_months_are_refused(label: str) -> None:
    assert parse_label(label) is None


def test_labels_step_across_the_year() -> None:
    assert previous_label("2026-01") == "2025-12"
    assert next_label("2026-12") == "2027-01"
