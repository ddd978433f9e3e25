"""Desktop screens use the width: the order board is a dense, sortable table
at 1366 px (its filters and sort kept in the URL) while a 360 px phone keeps
the cards; the order page puts lines, progress and QC side by side. The
screenshots of both sizes are the ones in docs/screenshots (`make
screenshots` refreshes them)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.browser.conftest import PHONE, screenshot_path
from tests.browser.test_home_layout import OVERFLOW_JS
from tests.browser.test_navigation import sign_in

pytestmark = pytest.mark.browser

WIDE: dict[str, Any] = {"viewport": {"width": 1366, "height": 900}, "locale": "zh-CN"}


@pytest.fixture
def wide(browser: Browser, live_server: str) -> Iterator[Page]:
    context = browser.new_context(base_url=live_server, **WIDE)
    try:
        yield context.new_page()
    finally:
        context.close()


def test_the_board_is_a_sortable_table_on_a_desktop_and_cards_on_a_phone(wide: Page, phone: Page, tmp_path: Path) -> None:
    sign_in(wide, "planner@acme.example")
    wide.goto("/orders")
    table = wide.locator("table.board-table")
    expect(table).to_be_visible()
    expect(wide.locator("ul.board-cards")).to_be_hidden()
    headers = [text.strip(" ▲▼") for text in table.locator("thead th").all_inner_texts()]
    assert len(headers) == 10
    assert table.locator("tbody tr").count() > 3
    # Sorting by number, descending: the header links keep it in the URL.
    ascending = table.locator("thead th a").first.get_attribute("href") or ""
    assert "sort=number&dir=asc" in ascending
    wide.goto(ascending)
    descending = wide.locator("table.board-table thead th a").first.get_attribute("href") or ""
    assert "sort=number&dir=desc" in descending
    wide.goto(descending)
    expect(wide.locator("table.board-table thead th").first).to_have_attribute("aria-sort", "descending")
    numbers = wide.locator("table.board-table tbody tr td:first-child strong").all_inner_texts()
    assert numbers == sorted(numbers, reverse=True)
    # The export is the list shown: same sort, same filters.
    export = wide.locator(".board-export a").get_attribute("href") or ""
    assert "sort=number&dir=desc" in export
    wide.goto("/orders?status=in_production&sort=supplier&dir=desc")
    statuses = set(wide.locator("table.board-table tbody .badge").all_inner_texts())
    assert len(statuses) == 1
    assert wide.evaluate(OVERFLOW_JS)["outside"] == []
    wide.goto("/orders")
    wide.screenshot(path=screenshot_path(tmp_path, "orders-board-desktop.png"))

    sign_in(phone, "planner@acme.example")
    phone.goto("/orders")
    expect(phone.locator("ul.board-cards")).to_be_visible()
    expect(phone.locator("table.board-table")).to_be_hidden()
    assert phone.evaluate(OVERFLOW_JS)["outside"] == []
    phone.screenshot(path=screenshot_path(tmp_path, "orders-board-phone.png"))


def test_the_order_page_puts_lines_progress_and_qc_side_by_side_on_a_desktop(
    wide: Page, browser: Browser, live_server: str, tmp_path: Path
) -> None:
    sign_in(wide, "planner@acme.example")
    wide.goto("/orders?status=in_production")
    wide.goto(wide.locator("table.board-table tbody a").first.get_attribute("href") or "")
    boxes = [wide.locator(f".order-columns > .{name}").bounding_box() for name in ("order-lines", "order-progress", "order-qc")]
    assert all(boxes)
    tops = {round(box["y"]) for box in boxes if box}
    assert len(tops) == 1, boxes
    lefts = [box["x"] for box in boxes if box]
    assert lefts == sorted(lefts)
    assert len(set(lefts)) == 3
    path = re.sub(r"^https?://[^/]+", "", wide.url)
    wide.screenshot(path=screenshot_path(tmp_path, "order-desktop.png"))
    context = browser.new_context(base_url=live_server, **PHONE)
    try:
        phone = context.new_page()
        sign_in(phone, "planner@acme.example")
        phone.goto(path)
        boxes = [phone.locator(f".order-columns > .{name}").bounding_box() for name in ("order-lines", "order-progress", "order-qc")]
        # One column on the phone: each below the other.
        assert all(boxes)
        assert [box["y"] for box in boxes if box] == sorted(box["y"] for box in boxes if box)
        assert phone.evaluate(OVERFLOW_JS)["outside"] == []
        phone.screenshot(path=screenshot_path(tmp_path, "order-phone.png"))
    finally:
        context.close()
