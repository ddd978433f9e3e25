"""Translations and locale-aware formatting (Babel).

The request's locale lives in a ContextVar set by ``LocaleMiddleware``;
``gettext`` and the formatting helpers read it, so services and templates
never pass the locale around by hand.
"""

from __future__ import annotations

import functools
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from babel import Locale, UnknownLocaleError
from babel.dates import format_date as babel_format_date
from babel.dates import format_datetime as babel_format_datetime
from babel.dates import format_skeleton
from babel.dates import format_time as babel_format_time
from babel.numbers import format_currency, format_decimal, get_currency_precision
from babel.support import NullTranslations, Translations
from litestar.enums import ScopeType
from litestar.types import ASGIApp, Receive, Scope, Send

LOCALE_DIR = Path(__file__).parent / "locale"
SUPPORTED_LOCALES = ("zh_CN", "en")
LOCALE_NAMES = {"zh_CN": "简体中文", "en": "English"}
LOCALE_COOKIE = "portal_locale"
DEFAULT_LOCALE = "zh_CN"

current_locale: ContextVar[str] = ContextVar("current_locale", default=DEFAULT_LOCALE)


def N_(message: str) -> str:
    """Marks a string for extraction; it is translated later, where it is shown."""
    return message


@functools.cache
def translations(locale: str) -> NullTranslations:
    return Translations.load(str(LOCALE_DIR), [locale], domain="messages")


def gettext(message: str, **params: Any) -> str:
    text = translations(current_locale.get()).ugettext(message)
    return text % params if params else text


def ngettext(singular: str, plural: str, n: int, **params: Any) -> str:
    text = translations(current_locale.get()).ungettext(singular, plural, n)
    return text % {"num": n, **params}


_ = gettext


@contextmanager
def use_locale(locale: str) -> Iterator[None]:
    """Speak another language for a moment: an email goes out in the
    recipient's language, not the sender's."""
    token = current_locale.set(normalize_locale(locale) or DEFAULT_LOCALE)
    try:
        yield
    finally:
        current_locale.reset(token)


def normalize_locale(value: str | None) -> str | None:
    """Map "zh-CN", "zh_cn", "en-US" to a supported locale, or None."""
    if not value:
        return None
    return _normalize(value)


# Parsing a tag reads Babel's locale data (a file check each time): each
# distinct tag is parsed once per process. Tags come from clients, so the
# memory is bounded.
@functools.lru_cache(maxsize=1024)
def _normalize(value: str) -> str | None:
    try:
        parsed = Locale.parse(value.replace("-", "_"))
    except (ValueError, UnknownLocaleError):
        return None
    for supported in SUPPORTED_LOCALES:
        if parsed.language == babel_locale(supported).language:
            return supported
    return None


@functools.lru_cache(maxsize=16)
def babel_locale(name: str) -> Locale:
    """The parsed Babel locale of a supported locale name, once per process:
    Babel's formatters parse a locale given by name on every call."""
    return Locale.parse(name)


def negotiate(preferred: str | None, accept_language: str | None, default: str = DEFAULT_LOCALE) -> str:
    """The user's own choice first, then the browser's Accept-Language."""
    chosen = normalize_locale(preferred)
    if chosen:
        return chosen
    for tag, _quality in _parse_accept_language(accept_language or ""):
        chosen = normalize_locale(tag)
        if chosen:
            return chosen
    return default


def _parse_accept_language(header: str) -> list[tuple[str, float]]:
    tags = []
    for part in header.split(","):
        tag, _, params = part.strip().partition(";")
        if not tag or tag == "*":
            continue
        quality = 1.0
        if params.strip().startswith("q="):
            try:
                quality = float(params.strip()[2:])
            except ValueError:
                quality = 0.0
        if quality > 0:  # q=0 means "not acceptable"
            tags.append((tag, quality))
    return sorted(tags, key=lambda item: -item[1])


def format_money(amount: Decimal, currency: str) -> str:
    """``amount`` rounded half up to the currency's smallest unit, as every
    amount of a statement is (Babel alone rounds half to even: 0.125 would
    print as 0.12 where the statement counts 0.13)."""
    quantum = Decimal(1).scaleb(-get_currency_precision(currency))
    rounded = Decimal(amount).quantize(quantum, rounding=ROUND_HALF_UP)
    return format_currency(rounded, currency, locale=babel_locale(current_locale.get()))


def format_number(value: Decimal | int | float) -> str:
    # A page repeats its numbers (a board: 0, the same quantities), and
    # Babel's formatting is the costliest part of a cell. The text is the
    # key: equal numbers may print differently (Decimal("-0") and 0).
    return _format_number(current_locale.get(), type(value), str(value))  # type: ignore[arg-type]  # a class is hashable


@functools.lru_cache(maxsize=4096)
def _format_number(locale: str, kind: type[Decimal | int | float], text: str) -> str:
    # str() of a Decimal, an int or a float reads back as the same value.
    return format_decimal(kind(text), locale=babel_locale(locale))


def format_exact(value: Decimal) -> str:
    """Every decimal of ``value`` (``format_number`` keeps three): a unit
    price of 12.3456 prints as 12.3456, not 12.346."""
    return format_decimal(value, locale=babel_locale(current_locale.get()), decimal_quantization=False)


def format_date(value: date, fmt: str = "medium") -> str:
    # A list shows few distinct dates (due dates): each formatted once. Not
    # a datetime: equal instants in two time zones fall on different dates.
    if type(value) is not date:
        return babel_format_date(value, fmt, locale=babel_locale(current_locale.get()))
    return _format_date(current_locale.get(), value, fmt)


@functools.lru_cache(maxsize=4096)
def _format_date(locale: str, value: date, fmt: str) -> str:
    return babel_format_date(value, fmt, locale=babel_locale(locale))


def format_datetime(value: datetime, timezone: str = "UTC", fmt: str = "medium") -> str:
    """Stored times are UTC; they are shown in the tenant's time zone."""
    return babel_format_datetime(value, fmt, tzinfo=ZoneInfo(timezone), locale=babel_locale(current_locale.get()))


def format_datetime_full_year(value: datetime, timezone: str = "UTC") -> str:
    """``value``'s date and time as the locale's short format writes them,
    but with the year in full: on a document that is kept for years, the
    English short date's two-digit year (10/1/26) is ambiguous."""
    locale = babel_locale(current_locale.get())
    zone = ZoneInfo(timezone)
    day = format_skeleton("yMd", value, tzinfo=zone, locale=locale)
    clock = babel_format_time(value, "short", tzinfo=zone, locale=locale)
    return str(locale.datetime_formats["short"]).format(clock, day)


class LocaleMiddleware:
    """Chooses the request's locale: the user's saved preference (set by the
    authentication layer in ``scope["state"]``), the language cookie, then
    Accept-Language."""

    def __init__(self, app: ASGIApp, default_locale: str = DEFAULT_LOCALE) -> None:
        self.app = app
        self.default_locale = default_locale

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != ScopeType.HTTP:
            await self.app(scope, receive, send)
            return
        token = current_locale.set(locale_for(scope, self.default_locale))
        scope.setdefault("state", {})["locale_chosen"] = True
        try:
            await self.app(scope, receive, send)
        finally:
            current_locale.reset(token)


def locale_for(scope: Scope, default: str) -> str:
    """The language cookie, the user's saved language, Accept-Language, default."""
    headers = {key.decode("latin-1"): value.decode("latin-1") for key, value in scope["headers"]}
    preferred = _cookie(headers.get("cookie", ""), LOCALE_COOKIE) or scope.get("state", {}).get("user_locale")
    return negotiate(preferred, headers.get("accept-language"), default)


def asked_locale(scope: Scope) -> str | None:
    """The language this browser asked for (its language cookie, else its
    Accept-Language), or None when it named no supported one: a default
    is nobody's choice."""
    headers = {key.decode("latin-1"): value.decode("latin-1") for key, value in scope["headers"]}
    asked = negotiate(_cookie(headers.get("cookie", ""), LOCALE_COOKIE), headers.get("accept-language"), "")
    return asked or None


def _cookie(header: str, name: str) -> str | None:
    for part in header.split(";"):
        key, _, value = part.strip().partition("=")
        if key == name:
            return value
    return None
