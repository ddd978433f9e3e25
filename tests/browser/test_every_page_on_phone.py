"""Every page of every demo role on a 360 px phone, found the way a person
finds it: by following the links of the pages, from the role's home.

The pages come from the app's own route table (tests/tenancy/permissions.py,
which the isolation matrix holds equal to it): every page route a role may
open is either reached by the crawl or listed in NOT_PAGES with the reason,
so a new screen cannot escape. Each page reached must answer, fit the phone
(nothing sticks out sideways), raise no script error nor
Content-Security-Policy violation, and keep its tap targets large enough
for a gloved thumb.
"""

from __future__ import annotations

import re
from collections import deque
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import Browser, Page

from tenants.roles import Role
from tests.browser.conftest import PHONE
from tests.browser.test_home_layout import OVERFLOW_JS, too_small_targets, watch_errors
from tests.browser.test_navigation import sign_in
from tests.tenancy.permissions import PERMISSIONS

pytestmark = pytest.mark.browser

ACCOUNTS = {
    "admin@acme.example": Role.ADMIN,
    "planner@acme.example": Role.PLANNER,
    "qa@acme.example": Role.QA,
    "finance@acme.example": Role.FINANCE,
    "boss@precision.example": Role.SUPPLIER_ADMIN,
    "operator@precision.example": Role.SUPPLIER_OPERATOR,
}

# Page routes that are not screens: files, downloads and pieces of pages.
NOT_PAGES = {
    "/deliveries/export": "a spreadsheet download",
    "/items/export": "a spreadsheet download",
    "/materials/balances/export": "a spreadsheet download",
    "/materials/dispatches/export": "a spreadsheet download",
    "/materials/reports/returns/export": "a spreadsheet download",
    "/materials/reports/scrap/export": "a spreadsheet download",
    "/orders/export": "a spreadsheet download",
    "/statements/{statement_id:uuid}/export": "a spreadsheet download",
    "/materials/dispatches/import/template": "a spreadsheet download",
    "/orders/import/template": "a spreadsheet download",
    "/statements/{statement_id:uuid}/pdf": "a PDF (its text: tests/integration/reconciliation)",
    "/orders/{order_id:uuid}/labels": "a PDF of labels",
    "/materials/dispatches/{dispatch_id:uuid}/labels": "a PDF of labels",
    "/handovers/{handover_id:uuid}/package": "a ZIP download",
    "/documents/{document_id:uuid}/content": "the document's file",
    "/documents/{document_id:uuid}/versions/{version_id:uuid}/content": "a version's file",
    "/documents/{document_id:uuid}/versions/{version_id:uuid}/thumbnail": "an image",
    "/scorecards/trend.svg": "an image inside /scorecards",
    "/notifications/badge": "the unread badge, a piece of every page",
    "/orders/new/line": "one more line inside /orders/new (htmx)",
    "/materials/dispatches/new/line": "one more line inside /materials/dispatches/new (htmx)",
    "/conversations": "the conversation panel, loaded into a record's page (htmx): tests/browser/test_conversation_phone.py",
}

# Screens no link leads to: opened by their address, with the ids the crawl
# met on the way.
UNLINKED = {
    "/orders/{order_id:uuid}/qc-requirements/new": "the QC requirement form alone (the order's checklist holds the same form)",
}

# Screens the demo data gives no record for (no approval request is pending
# and no webhook is registered in the demo): not crawled.
NOT_IN_DEMO = {
    "/approvals/{approval_id:uuid}": "no approval request in the demo",
    "/admin/webhooks/{webhook_id:uuid}": "no webhook in the demo",
}

PAGES = sorted(path for method, path in PERMISSIONS if method == "GET" and not path.startswith("/api/"))
PATTERNS = {
    path: re.compile("/".join("[^/]+" if part.startswith("{") else re.escape(part) for part in path.split("/")) + "$") for path in PAGES
}


def route_of(url: str) -> str | None:
    path = urlsplit(url).path
    # Fixed segments win over parameters: /orders/new is not /orders/{order_id}.
    matches = [route for route, pattern in PATTERNS.items() if pattern.match(path)]
    return min(matches, key=lambda route: route.count("{"), default=None)


def links(page: Page) -> list[str]:
    hrefs: list[str] = page.eval_on_selector_all("a[href^='/']:not([download])", "els => els.map((a) => a.getAttribute('href'))")
    return hrefs


def check(page: Page, errors: list[str]) -> list[str]:
    """What is wrong with the page on the phone, if anything."""
    problems = [f"script error: {error}" for error in errors]
    outside = page.evaluate(OVERFLOW_JS)["outside"]
    if outside:
        problems.append(f"sticks out sideways: {outside[:3]}")
    small = too_small_targets(page)
    if small:
        problems.append(f"tap targets under 44 px: {[target['target'] for target in small[:3]]}")
    return problems


def ids_in(url: str, route: str) -> dict[str, str]:
    """The path parameters of ``url`` by name (``order_id``), as ``route`` names them."""
    names = [part[1:-1].split(":")[0] if part.startswith("{") else "" for part in route.split("/")]
    return {name: value for name, value in zip(names, urlsplit(url).path.split("/"), strict=True) if name}


def unlinked_urls(role: Role, ids: dict[str, str]) -> list[str]:
    urls = []
    for route in UNLINKED:
        names = [part[1:-1].split(":")[0] for part in route.split("/") if part.startswith("{")]
        if role in PERMISSIONS[("GET", route)] and all(name in ids for name in names):
            urls.append(re.sub(r"\{([^}:]+)[^}]*\}", lambda match: ids[match.group(1)], route))
    return urls


def crawl(page: Page, role: Role) -> tuple[set[str], list[str]]:
    """The page routes reached from the role's home, one URL each, then
    the unlinked ones, and what was wrong with them."""
    errors = watch_errors(page)
    page.goto("/")
    waiting: deque[str] = deque(links(page))
    seen: set[str] = set()
    ids: dict[str, str] = {}
    problems = []

    def visit(url: str, route: str, how: str) -> bool:
        seen.add(route)
        errors.clear()
        response = page.goto(url)
        assert response is not None
        if response.status != 200:
            problems.append(f"{url} ({route}) answers {response.status} to {how} of {role.value}")
            return False
        problems.extend(f"{url}: {problem}" for problem in check(page, errors))
        ids.update(ids_in(url, route))
        return True

    while waiting:
        url = waiting.popleft()
        route = route_of(url)
        if route is None or route in seen or route in NOT_PAGES:
            continue
        if visit(url, route, "a link shown to a user"):
            waiting.extend(links(page))
    for url in unlinked_urls(role, ids):
        visit(url, str(route_of(url)), "a user")
    return seen, problems


@pytest.mark.parametrize("locale", ["zh-CN", "en"])
def test_every_page_of_every_role_fits_the_phone(browser: Browser, live_server: str, locale: str) -> None:
    reached: dict[Role, set[str]] = {}
    problems = []
    for email, role in ACCOUNTS.items():
        context = browser.new_context(base_url=live_server, **{**PHONE, "locale": locale})
        try:
            page = context.new_page()
            sign_in(page, email)
            reached[role], found = crawl(page, role)
            problems += [f"{email}: {problem}" for problem in found]
        finally:
            context.close()
    assert not problems, "\n".join(problems)
    unreached = {
        route: sorted(role.value for role in PERMISSIONS[("GET", route)] if route not in reached[role])
        for route in PAGES
        if route not in NOT_PAGES and route not in NOT_IN_DEMO
    }
    # Every screen is reached by at least one role that may open it; a
    # screen no link leads to is a screen nobody finds.
    assert {route for route, roles in unreached.items() if len(roles) == len(PERMISSIONS[("GET", route)])} == set()


def test_the_crawl_knows_every_page_route() -> None:
    listed = set(NOT_PAGES) | set(UNLINKED) | set(NOT_IN_DEMO)
    assert listed <= set(PAGES), listed - set(PAGES)
    assert route_of("/orders/new") == "/orders/new"
    assert route_of("/orders/0b7c2f7e-3b1a-4f3c-9a47-3f4b3c1d2e10") == "/orders/{order_id:uuid}"
    assert route_of("/locale/en") is None
    order = "0b7c2f7e-3b1a-4f3c-9a47-3f4b3c1d2e10"
    assert ids_in(f"/orders/{order}", "/orders/{order_id:uuid}") == {"order_id": order}
    assert unlinked_urls(Role.PLANNER, {"order_id": order}) == [f"/orders/{order}/qc-requirements/new"]
    assert unlinked_urls(Role.SUPPLIER_OPERATOR, {"order_id": order}) == []
