"""Retry-After as push services and web servers send it: seconds or an HTTP
date; what cannot be read is ignored (the queue's backoff applies)."""

from __future__ import annotations

import pickle
from datetime import UTC, datetime, timedelta

import pytest

from portal.jobs.retry import RETRY_AFTER_CAP, RetryLater, requested_delay, retry_after

NOW = datetime(2026, 12, 6, 8, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("120", timedelta(seconds=120)),
        (" 0 ", timedelta(0)),
        ("Sun, 06 Dec 2026 08:05:00 GMT", timedelta(minutes=5)),
        ("Sun, 06 Dec 2026 07:00:00 GMT", timedelta(0)),
        ("soon", None),
        ("-5", None),
        ("", None),
        (None, None),
    ],
)
def test_retry_after_reads_seconds_and_dates(value: str | None, expected: timedelta | None) -> None:
    assert retry_after(value, NOW) == expected


@pytest.mark.parametrize(
    ("status", "value", "expected"),
    [
        (429, "30", timedelta(seconds=30)),
        (503, "Sun, 06 Dec 2026 08:01:00 GMT", timedelta(minutes=1)),
        (503, None, None),
        (500, "30", None),
        (301, "30", None),
    ],
)
def test_only_a_busy_answer_asks_for_a_delay(status: int, value: str | None, expected: timedelta | None) -> None:
    # What push, webhooks and chat robots all read their answers with.
    assert requested_delay(status, value, NOW) == expected


def test_a_delay_is_kept_within_a_second_and_six_hours() -> None:
    assert RetryLater("busy", timedelta(0)).delay == timedelta(seconds=1)
    assert RetryLater("busy", timedelta(days=3)).delay == RETRY_AFTER_CAP
    assert RetryLater("busy", timedelta(minutes=5)).delay == timedelta(minutes=5)


def test_retry_later_survives_pickling() -> None:
    # A handler run in a child process hands its exception back pickled.
    copy = pickle.loads(pickle.dumps(RetryLater("busy", timedelta(minutes=5))))  # noqa: S301 - our own object
    assert str(copy) == "busy"
    assert copy.delay == timedelta(minutes=5)
