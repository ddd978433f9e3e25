"""Navigation is complete: every page a role may open is reachable from the
navigation, by following links from the navigation bar through pages.

The pages are derived from the app's route table: GET routes without path
parameters that answer a whole HTML page (exports, templates and htmx
fragments are not pages). Who may open each comes from
``tests/tenancy/permissions.py``, not from the navigation's own checks, so a
page added without a way to it fails here, naming the role and the path.
"""

from __future__ import annotations

from html.parser import HTMLParser
from typing import Any
from urllib.parse import urlsplit

import pytest
from litestar.routes import HTTPRoute

from tenants.roles import Role
from tests.support.factories import World, api_token, make_world, page_headers
from tests.tenancy.permissions import PERMISSIONS

ROLES = [role.value for role in Role]


class _Links(HTMLParser):
    """The paths of a page's links, and which of them sit in the app's
    navigation bar."""

    def __init__(self) -> None:
        super().__init__()
        self.links: set[str] = set()
        self.nav: set[str] = set()
        self._nav_depth = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        if tag == "nav" and "appnav" in (values.get("class") or "").split():
            self._nav_depth = 1
        elif self._nav_depth and tag == "nav":
            self._nav_depth += 1
        if tag == "a" and values.get("href"):
            href = values["href"] or ""
            parts = urlsplit(href)
            if not parts.netloc and parts.path.startswith("/"):
                self.links.add(parts.path)
                if self._nav_depth:
                    self.nav.add(parts.path)

    def handle_endtag(self, tag: str) -> None:
        if tag == "nav" and self._nav_depth:
            self._nav_depth -= 1


def _links(html: str) -> _Links:
    parser = _Links()
    parser.feed(html)
    return parser


def _page_candidates(app: Any) -> list[str]:
    """GET routes of signed-in users without path parameters."""
    paths = set()
    for route in app.routes:
        if isinstance(route, HTTPRoute) and "{" not in route.path and ("GET", route.path) in PERMISSIONS:
            paths.add(route.path)
    return sorted(paths)


@pytest.fixture(scope="module")
def world(run: Any) -> World:
    return run(make_world, "nav")  # type: ignore[no-any-return]


@pytest.fixture(scope="module")
def sessions(client: Any, world: World) -> dict[str, dict[str, str]]:
    return {role: page_headers(client, api_token(client, world.accounts[role], world.slug)) for role in ROLES}


def _get(client: Any, path: str, headers: dict[str, str]) -> Any:
    client.cookies.clear()
    response = client.get(path, headers={"cookie": headers["cookie"]}, follow_redirects=False)
    client.cookies.clear()
    return response


def _is_page(response: Any) -> bool:
    return (
        response.status_code == 200 and response.headers.get("content-type", "").startswith("text/html") and "<html" in response.text[:500]
    )


@pytest.mark.parametrize("role", ROLES)
def test_every_page_a_role_may_open_is_reachable_from_its_navigation(
    role: str, app: Any, client: Any, sessions: dict[str, dict[str, str]]
) -> None:
    headers = sessions[role]
    pages = {path for path in _page_candidates(app) if Role(role) in PERMISSIONS[("GET", path)]}
    pages = {path for path in pages if _is_page(_get(client, path, headers))}
    assert "/account" in pages, "the derivation found no pages at all"
    home = _links(_get(client, "/", headers).text)
    assert home.nav, "the start page has no navigation bar"
    reached: set[str] = set()
    queue = sorted(home.nav)
    while queue:
        path = queue.pop()
        if path in reached or path not in pages | {"/"}:
            continue
        reached.add(path)
        queue += sorted(_links(_get(client, path, headers).text).links - reached)
    assert sorted(pages - reached) == [], f"{role} may open these pages, but no navigation leads to them"


@pytest.mark.parametrize("role", ROLES)
def test_the_navigation_bar_links_only_pages_the_role_may_open(role: str, client: Any, sessions: dict[str, dict[str, str]]) -> None:
    nav = _links(_get(client, "/", sessions[role]).text).nav
    refused = sorted(path for path in nav - {"/"} if Role(role) not in PERMISSIONS.get(("GET", path), frozenset(Role)))
    assert refused == []
