"""Locale negotiation, Babel formatting and the compiled catalog."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal

import pytest
from babel.numbers import format_currency

from portal.i18n import (
    DEFAULT_LOCALE,
    current_locale,
    format_date,
    format_datetime,
    format_datetime_full_year,
    format_money,
    format_number,
    gettext,
    negotiate,
    use_locale,
)


def test_users_own_choice_wins_over_accept_language() -> None:
    assert negotiate("en", "zh-CN,zh;q=0.9") == "en"
    assert negotiate("zh_CN", "en-US,en;q=0.9") == "zh_CN"


def test_unusable_choice_falls_back_to_accept_language() -> None:
    assert negotiate("xx", "en-US,en;q=0.9") == "en"
    assert negotiate("", "en") == "en"


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("zh-CN,zh;q=0.9,en;q=0.8", "zh_CN"),
        ("en-US,en;q=0.9", "en"),
        ("fr-FR, en;q=0.5", "en"),
        ("zh-TW", "zh_CN"),
        # Quality decides, not the order in the header.
        ("en;q=0.4, zh-CN;q=0.9", "zh_CN"),
    ],
)
def test_accept_language_picks_the_best_supported_locale(header: str, expected: str) -> None:
    assert negotiate(None, header) == expected


@pytest.mark.parametrize("header", ["fr-FR, de;q=0.9", "*", "", None])
def test_only_unsupported_languages_give_the_default(header: str | None) -> None:
    assert negotiate(None, header) == DEFAULT_LOCALE
    assert negotiate(None, header, default="en") == "en"


@pytest.mark.parametrize("header", [";;;,,q=abc,@@@", "\x00\xff", "q=0.5;en", "-,_,;q=,", "a" * 500])
def test_garbage_accept_language_gives_the_default(header: str) -> None:
    assert negotiate(None, header, default="en") == "en"
    assert negotiate(None, header) == DEFAULT_LOCALE


def test_use_locale_switches_and_restores() -> None:
    before = current_locale.get()
    with use_locale("en"):
        assert current_locale.get() == "en"
        with use_locale("zh-CN"):
            assert current_locale.get() == "zh_CN"
        assert current_locale.get() == "en"
    assert current_locale.get() == before


def test_money_is_formatted_for_the_locale_as_babel_does() -> None:
    amount = Decimal("1234.5")
    with use_locale("zh_CN"):
        chinese = format_money(amount, "CNY")
    with use_locale("en"):
        english = format_money(amount, "CNY")
    assert chinese == format_currency(amount, "CNY", locale="zh_CN") == "¥1,234.50"
    assert english == format_currency(amount, "CNY", locale="en") == "CN¥1,234.50"
    assert chinese != english


@pytest.mark.parametrize(
    ("amount", "expected"),
    [
        # Just above the half cent: a float would read "2.665" and round half-even down to 2.66.
        ("2.66500000000000000001", "CN¥2.67"),
        # More digits than a float holds.
        ("12345678901234567.89", "CN¥12,345,678,901,234,567.89"),
    ],
)
def test_money_is_rounded_from_the_decimal_never_through_float(amount: str, expected: str) -> None:
    value = Decimal(amount)
    with use_locale("en"):
        assert format_money(value, "CNY") == expected
    # The case is only a proof if the float path would have been wrong.
    assert format_currency(float(value), "CNY", locale="en") != expected


@pytest.mark.parametrize(
    ("amount", "currency", "expected"), [("0.125", "CNY", "CN¥0.13"), ("-0.125", "CNY", "-CN¥0.13"), ("2.5", "JPY", "¥3")]
)
def test_money_is_rounded_half_up_per_currency_as_statements_round(amount: str, currency: str, expected: str) -> None:
    # Babel alone rounds half to even (CN¥0.12); a statement line rounds
    # half up (compute.round_money), and the page must print what it sums.
    from portal.reconciliation.compute import round_money

    with use_locale("en"):
        assert format_money(Decimal(amount), currency) == expected == format_money(round_money(Decimal(amount), currency), currency)


def test_the_currency_decimals_we_round_to_are_those_babel_prints() -> None:
    from babel.numbers import get_currency_precision

    from portal.quantities import CURRENCY_DECIMALS

    assert {code: get_currency_precision(code) for code in CURRENCY_DECIMALS} == CURRENCY_DECIMALS


def test_datetime_is_shown_in_the_tenants_time_zone() -> None:
    stored = datetime(2026, 1, 15, 20, 0, tzinfo=UTC)
    with use_locale("en"):
        # CLDR puts a narrow no-break space before AM/PM.
        assert format_datetime(stored, "Asia/Shanghai").replace("\u202f", " ") == "Jan 16, 2026, 4:00:00 AM"
        assert format_datetime(stored).replace("\u202f", " ") == "Jan 15, 2026, 8:00:00 PM"
    with use_locale("zh_CN"):
        assert format_datetime(stored, "Asia/Shanghai") == "2026年1月16日 04:00:00"


def test_a_documents_date_and_time_print_the_year_in_full() -> None:
    stored = datetime(2026, 1, 15, 20, 0, tzinfo=UTC)
    with use_locale("en"):
        # The locale's short format would print 1/16/26.
        assert format_datetime_full_year(stored, "Asia/Shanghai").replace("\u202f", " ") == "1/16/2026, 4:00 AM"
    with use_locale("zh_CN"):
        assert format_datetime_full_year(stored, "Asia/Shanghai") == "2026/1/16 04:00"


def test_catalog_translates_sign_in() -> None:
    with use_locale("zh_CN"):
        assert gettext("Sign in") == "登录"
    with use_locale("en"):
        assert gettext("Sign in") == "Sign in"


def test_unknown_message_falls_back_to_the_message_id() -> None:
    with use_locale("zh_CN"):
        assert gettext("No such message id %(n)s", n=3) == "No such message id 3"


@pytest.mark.parametrize(
    "value", [Decimal("-0"), Decimal("0"), Decimal("1.0"), Decimal("1"), Decimal("1E+1"), Decimal("1234.5675"), 1, 1.5, -0.0]
)
def test_numbers_print_as_babel_prints_them_whatever_came_before(value: Decimal | int | float) -> None:
    """Formatted numbers are remembered per locale: equal numbers that print
    differently (-0 and 0) never share a text."""
    from babel.numbers import format_decimal

    for locale in ("en", "zh_CN"):
        with use_locale(locale):
            for earlier in (Decimal("0"), Decimal("-0"), Decimal("10"), 0, 1):
                format_number(earlier)
            assert format_number(value) == format_decimal(value, locale=locale)


def test_a_date_is_remembered_per_locale_and_a_datetime_keeps_its_own_date() -> None:
    with use_locale("en"):
        assert format_date(date(2026, 1, 2)) == "Jan 2, 2026"
    with use_locale("zh_CN"):
        assert format_date(date(2026, 1, 2)) == "2026年1月2日"
    # The same instant, on two dates: equal as datetimes, not as dates.
    late_utc = datetime(2026, 1, 1, 20, 0, tzinfo=UTC)
    next_day_east = late_utc.astimezone(timezone(timedelta(hours=8)))
    with use_locale("en"):
        assert format_date(late_utc) == "Jan 1, 2026"
        assert format_date(next_day_east) == "Jan 2, 2026"
