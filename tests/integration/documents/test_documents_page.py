"""The documents list page (`/documents`, reached from the navigation): what
every role sees, filters by category and by what a document is attached to,
search by title or file name, newest first, cursor paging that keeps the
filters, thumbnails and downloads."""

from __future__ import annotations

import re
from typing import Any

import pytest

from tests.integration.documents.conftest import uploaded, wait_for_previews
from tests.support.documents import samples
from tests.support.factories import World, bearer, page_headers

INTERNAL = "test_page_internal"


async def _buyer_internal(target_id: Any) -> None:
    """A registered target whose documents are shared with no supplier."""
    return None


@pytest.fixture
def library(client: Any, run: Any, world: World, tokens: dict[str, str]) -> dict[str, dict[str, Any]]:
    """Four documents, oldest first: a spec and a photo shared with the first
    supplier, a drawing shared with the second, a buyer-internal note."""
    from uuid import uuid4

    from portal.documents.attachments import register_attachment_target
    from portal.items.tables import Item

    register_attachment_target(INTERNAL, _buyer_internal, table=Item)
    first, second = world.supplier_ids
    documents = {
        "spec": uploaded(client, tokens["qa"], samples.pdf(), name="housing-spec.pdf", title="Housing spec", attached_id=first),
        "photo": uploaded(
            client,
            tokens["qa"],
            samples.png(),
            name="seam.png",
            declared="image/png",
            category="photo",
            title="Weld seam",
            attached_id=first,
        ),
        "drawing": uploaded(
            client, tokens["qa"], samples.pdf(2), name="flange-drawing.pdf", category="drawing", title="Rev C", attached_id=second
        ),
        "internal": uploaded(
            client,
            tokens["qa"],
            samples.pdf(),
            name="note.pdf",
            category="other",
            title="Cost note",
            attached_type=INTERNAL,
            attached_id=uuid4(),
        ),
    }
    wait_for_previews(run)
    return documents


def titles(html: str) -> list[str]:
    return re.findall(r'<a class="document-link" href="/documents/[0-9a-f-]+">\s*<strong>([^<]+)</strong>', html)


def test_every_role_finds_documents_in_the_navigation(client: Any, world: World, tokens: dict[str, str]) -> None:
    for role in world.accounts:
        page = client.get("/documents", headers=page_headers(client, tokens[role]))
        assert page.status_code == 200, role
        nav = page.text.split('<nav class="appnav"')[1].split("</nav>")[0]
        assert re.search(r'<a href="/documents" class="appnav-item active" aria-current="page">', nav), role
        home = client.get("/", headers=page_headers(client, tokens[role]))
        assert 'href="/documents" class="appnav-item"' in home.text, role


def test_the_list_is_newest_first_with_thumbnails_and_downloads(
    client: Any, library: dict[str, dict[str, Any]], tokens: dict[str, str]
) -> None:
    page = client.get("/documents", headers=page_headers(client, tokens["planner"]))
    assert titles(page.text) == ["Cost note", "Rev C", "Weld seam", "Housing spec"]
    photo = library["photo"]
    assert f'src="/documents/{photo["id"]}/versions/{photo["current"]["id"]}/thumbnail"' in page.text
    for document in library.values():
        assert f'href="/documents/{document["id"]}/content"' in page.text
    # What each is attached to, in the reader's language.
    assert "照片 · 供应商 · v1" in page.text


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"category": "photo"}, ["Weld seam"]),
        ({"category": "drawing"}, ["Rev C"]),
        ({"attached_type": "supplier"}, ["Rev C", "Weld seam", "Housing spec"]),
        ({"attached_type": INTERNAL}, ["Cost note"]),
        ({"q": "HOUSING"}, ["Housing spec"]),
        ({"q": "flange"}, ["Rev C"]),  # the file name, not the title
        ({"q": "e", "category": "spec"}, ["Housing spec"]),
        ({"q": "no such thing"}, []),
    ],
)
def test_filters_and_search_narrow_the_list(
    client: Any, library: dict[str, dict[str, Any]], tokens: dict[str, str], params: dict[str, str], expected: list[str]
) -> None:
    page = client.get("/documents", params=params, headers=page_headers(client, tokens["qa"]))
    assert page.status_code == 200
    assert titles(page.text) == expected
    if not expected:
        assert "没有符合条件的文件。" in page.text
    api = client.get("/api/v1/documents", params=params, headers=bearer(tokens["qa"])).json()
    assert [item["title"] for item in api["items"]] == expected


def test_suppliers_see_only_what_is_shared_with_them(client: Any, library: dict[str, dict[str, Any]], tokens: dict[str, str]) -> None:
    for role in ("supplier_admin", "supplier_operator"):
        page = client.get("/documents", headers=page_headers(client, tokens[role]))
        assert titles(page.text) == ["Weld seam", "Housing spec"], role
    other = client.get("/documents", params={"q": "e"}, headers=page_headers(client, tokens["other_supplier_admin"]))
    assert titles(other.text) == ["Rev C"]
    # Searching for another supplier's file name finds nothing either.
    assert titles(client.get("/documents", params={"q": "flange"}, headers=page_headers(client, tokens["supplier_admin"])).text) == []


def test_filtering_swaps_the_panel_and_boosted_navigation_gets_the_page(
    client: Any, library: dict[str, dict[str, Any]], tokens: dict[str, str]
) -> None:
    headers = page_headers(client, tokens["qa"])
    page = client.get("/documents", headers=headers)
    form = page.text.split('<form class="card document-filters"')[1].split("</form>")[0]
    assert 'hx-target="#documents-panel"' in form
    for field in ("q", "category", "attached_type"):
        assert f'name="{field}"' in form
    panel = client.get(
        "/documents", params={"category": "photo"}, headers={**headers, "hx-request": "true", "hx-target": "documents-panel"}
    )
    assert "<html" not in panel.text
    assert panel.text.lstrip().startswith('<div class="documents-panel" id="documents-panel"')
    assert titles(panel.text) == ["Weld seam"]
    # The panel reloads (after an upload) with the same filters.
    assert 'hx-get="/documents?attached_type=&amp;attached_id=&amp;category=photo&amp;q="' in panel.text
    boosted = client.get("/documents", headers={**headers, "hx-request": "true", "hx-boosted": "true"})
    assert "<html" in boosted.text
    assert 'class="appnav"' in boosted.text


def test_older_pages_keep_the_filters(client: Any, library: dict[str, dict[str, Any]], tokens: dict[str, str]) -> None:
    from portal.documents import services

    headers = page_headers(client, tokens["qa"])
    original = services.PAGE_SIZE
    services.PAGE_SIZE = 2
    try:
        first = client.get("/documents", params={"attached_type": "supplier", "q": "e"}, headers=headers)
        assert titles(first.text) == ["Rev C", "Weld seam"]
        more = re.search(r'<a class="button block" href="([^"]+)">', first.text)
        assert more is not None
        url = more.group(1).replace("&amp;", "&")
        for kept in ("attached_type=supplier", "q=e", "cursor="):
            assert kept in url
        second = client.get(url, headers=headers)
    finally:
        services.PAGE_SIZE = original
    assert titles(second.text) == ["Housing spec"]
    assert 'class="button block" href="/documents?' not in second.text
