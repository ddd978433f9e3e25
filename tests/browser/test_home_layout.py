"""The home page on a 360 px phone and on a desktop screen: layout, tap
targets, the language switch and the Content-Security-Policy."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import FloatRect, Locator, Page, expect

pytestmark = pytest.mark.browser

MIN_TARGET = 44  # CSS px; smaller is hard to hit on a phone, with gloves worse
HEADING_ZH = "外协业务，采购方与供应商在同一平台协同"
HEADING_EN = "Outsourced work, one place for buyer and supplier"

# Elements sticking out of the viewport, skipping those inside their own
# horizontal scroller (a wide table in .table-wrap is meant to scroll). The
# root's scrollWidth alone is blind here: app.css clips overflow on html and
# body, so wide content would be cut off rather than scroll.
OVERFLOW_JS = """() => {
  const inScroller = (el) => {
    for (let p = el.parentElement; p && p !== document.body; p = p.parentElement) {
      if (['auto', 'scroll'].includes(getComputedStyle(p).overflowX)) return true;
    }
    return false;
  };
  const outside = [...document.body.querySelectorAll('*')].filter((el) => {
    const r = el.getBoundingClientRect();
    return r.width > 0 && (r.left < -0.5 || r.right > window.innerWidth + 0.5) && !inScroller(el);
  });
  return {
    innerWidth: window.innerWidth,
    rootScrollWidth: document.documentElement.scrollWidth,
    bodyScrollWidth: document.body.scrollWidth,
    outside: outside.map((el) => el.outerHTML.slice(0, 80)),
  };
}"""

LONG_PAGE_JS = """() => {
  const filler = document.createElement('div');
  filler.style.height = '3000px';
  document.querySelector('main').appendChild(filler);
  window.scrollTo(0, 1500);
}"""


def watch_errors(page: Page) -> list[str]:
    """Console errors and uncaught exceptions; Chromium reports every
    Content-Security-Policy violation as a console error."""
    errors: list[str] = []
    page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
    page.on("pageerror", lambda error: errors.append(f"uncaught: {error}"))
    return errors


def box(locator: Locator) -> FloatRect:
    rect = locator.bounding_box()
    assert rect is not None, f"{locator} is not rendered"
    return rect


def sign_in(page: Page) -> Locator:
    return page.locator("main").get_by_role("link", name="登录")


# What a finger hits for each visible control, under MIN_TARGET px: a
# checkbox or radio is hit through its label, a visually hidden file input
# through the label drawn as its button; a link inside a paragraph's running
# text is exempt, as in WCAG 2.5.8 (its size follows the text's line). A link
# standing alone - a back link, a table cell's only content - is not, nor one
# that names a list row or a heading's record beside other text (a lot
# trace's "MD-2026-00003 · M-Q235 · 120 kg"), nor a disclosure's summary.
SMALL_TARGETS_JS = """(min) => {
  const labelled = (el) => el.closest('label') || (el.id && document.querySelector(`label[for="${CSS.escape(el.id)}"]`));
  const inSentence = (el) => {
    const block = el.closest('p');
    return block && el.tagName === 'A' && block.textContent.trim().length > el.textContent.trim().length;
  };
  const visible = (el) => {
    const style = getComputedStyle(el);
    return style.visibility !== 'hidden' && style.display !== 'none' && el.getClientRects().length > 0;
  };
  const small = [];
  for (const el of document.querySelectorAll('a, button, input, select, textarea, summary')) {
    if (el.type === 'hidden' || el.closest('[hidden], template')) continue;
    const box = el.getBoundingClientRect();
    const hiddenFile = el.type === 'file' && (box.width <= 1 || box.height <= 1);
    const choice = ['checkbox', 'radio'].includes(el.type) || hiddenFile;
    const target = choice ? labelled(el) || el : el;
    if (!visible(target) || inSentence(target)) continue;
    const r = target.getBoundingClientRect();
    if (r.width === 0 && r.height === 0) continue;
    if (r.width < min || r.height < min) {
      small.push({target: el.outerHTML.slice(0, 80), x: r.x, y: r.y, width: r.width, height: r.height});
    }
  }
  return small;
}"""


def too_small_targets(page: Page) -> list[dict[str, Any]]:
    small: list[dict[str, Any]] = page.evaluate(SMALL_TARGETS_JS, MIN_TARGET)
    return small


def test_phone_page_does_not_scroll_or_spill_sideways(phone: Page) -> None:
    phone.goto("/")
    layout = phone.evaluate(OVERFLOW_JS)
    # A wider page would make the phone zoom out instead of scrolling.
    assert layout["innerWidth"] == 360
    assert layout["rootScrollWidth"] <= layout["innerWidth"]
    assert layout["bodyScrollWidth"] <= layout["innerWidth"]
    assert layout["outside"] == []


def test_phone_navigation_is_a_bar_at_the_bottom(phone: Page) -> None:
    phone.goto("/")
    nav = phone.locator("nav.appnav")
    expect(nav).to_be_visible()
    rect = box(nav)
    assert rect["y"] + rect["height"] == pytest.approx(740, abs=1)
    assert rect["x"] == pytest.approx(0, abs=1)
    assert rect["width"] == pytest.approx(360, abs=1)
    button = box(sign_in(phone))
    assert button["y"] + button["height"] <= rect["y"], "the bar covers the sign-in button"


def test_phone_tap_targets_are_at_least_44_px(phone: Page) -> None:
    phone.goto("/")
    rect = box(sign_in(phone))
    assert rect["width"] >= MIN_TARGET
    assert rect["height"] >= MIN_TARGET
    assert too_small_targets(phone) == []


def test_desktop_navigation_is_a_side_bar_left_of_the_content(desktop: Page) -> None:
    desktop.goto("/")
    nav = box(desktop.locator("nav.appnav"))
    main = box(desktop.locator("main"))
    topbar = box(desktop.locator("header.topbar"))
    assert nav["x"] == pytest.approx(0, abs=1)
    assert nav["x"] + nav["width"] <= main["x"]
    assert nav["y"] >= topbar["y"] + topbar["height"] - 1
    assert nav["height"] > nav["width"]
    items = desktop.locator("nav.appnav a").all()
    assert len(items) >= 2
    first, second = box(items[0]), box(items[1])
    assert second["y"] >= first["y"] + first["height"], "side bar items are stacked, not side by side"
    assert second["x"] == pytest.approx(first["x"], abs=1)


def test_phone_top_bar_and_bottom_bar_stay_in_view_on_a_long_page(phone: Page) -> None:
    phone.goto("/")
    phone.evaluate(LONG_PAGE_JS)
    assert phone.evaluate("window.scrollY") > 1000
    assert box(phone.locator("header.topbar"))["y"] == pytest.approx(0, abs=1)
    nav = box(phone.locator("nav.appnav"))
    assert nav["y"] + nav["height"] == pytest.approx(740, abs=1)


def test_desktop_side_bar_stays_in_view_on_a_long_page(desktop: Page) -> None:
    desktop.goto("/")
    desktop.evaluate(LONG_PAGE_JS)
    assert desktop.evaluate("window.scrollY") > 1000
    topbar = box(desktop.locator("header.topbar"))
    assert topbar["y"] == pytest.approx(0, abs=1)
    assert box(desktop.locator("nav.appnav"))["y"] == pytest.approx(topbar["height"], abs=1)


def test_language_switch_changes_between_chinese_and_english(phone: Page, live_server: str) -> None:
    html = phone.locator("html")
    current = phone.locator(".locale-switch .locale-current")
    heading = phone.get_by_role("heading", level=1)
    button = phone.locator("main a.button.primary")
    phone.goto("/")
    expect(html).to_have_attribute("lang", "zh-CN")
    expect(current).to_have_text("简体中文")
    expect(heading).to_have_text(HEADING_ZH)
    expect(button).to_have_text("登录")

    phone.locator(".locale-switch").get_by_role("link", name="English").tap()
    expect(html).to_have_attribute("lang", "en")
    expect(current).to_have_text("English")
    expect(heading).to_have_text(HEADING_EN)
    expect(button).to_have_text("Sign in")
    expect(phone).to_have_url(f"{live_server}/")

    phone.locator(".locale-switch").get_by_role("link", name="简体中文").tap()
    expect(html).to_have_attribute("lang", "zh-CN")
    expect(button).to_have_text("登录")


@pytest.mark.parametrize("locale", ["zh_CN", "en"])
def test_home_page_logs_no_console_errors(phone: Page, locale: str) -> None:
    errors = watch_errors(phone)
    phone.goto(f"/locale/{locale}?next=/")
    expect(phone.locator("html")).to_have_attribute("lang", locale.replace("_", "-"))
    # Also proves the vendored htmx was allowed to load and run.
    assert phone.evaluate("typeof window.htmx") == "object"
    assert errors == []


def test_console_watch_sees_a_blocked_inline_script(phone: Page) -> None:
    """Guards the test above: a CSP violation must reach the watcher."""
    errors = watch_errors(phone)
    phone.goto("/")
    with phone.expect_console_message(lambda message: message.type == "error"):
        phone.evaluate(
            "() => { const s = document.createElement('script'); s.textContent = 'window.ran = true'; document.body.append(s); }"
        )
    assert phone.evaluate("window.ran") is None
    assert any("Content Security Policy" in error for error in errors)
