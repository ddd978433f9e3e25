"""The item list as a file, for the JSON API and the pages."""

from __future__ import annotations

from litestar import Controller, Response, get
from litestar.params import FromQuery

from portal.imports.http import ApiFormat, PageFormat, file_response
from portal.items.exporting import export_items
from portal.openapi import SPREADSHEETS
from tenants.guards import requires

VIEW = [requires("items.view")]


class ItemExportApi(Controller):
    path = "/api/v1/items"
    tags = ["items"]

    @get("/export", guards=VIEW, media_type="application/octet-stream", files=SPREADSHEETS)
    async def export_items(self, fmt: ApiFormat = "csv", q: FromQuery[str] = "", kind: FromQuery[str | None] = None) -> Response[bytes]:
        """The item list (same search as ``GET /api/v1/items``, every match)
        as ``format`` csv (UTF-8 with BOM) or xlsx. At most 50,000 items."""
        return file_response(await export_items(q, kind or None, fmt))


class ItemExportPages(Controller):
    path = "/items"
    include_in_schema = False

    @get("/export", guards=VIEW, media_type="application/octet-stream")
    async def export_item_list(self, fmt: PageFormat = "csv", q: FromQuery[str] = "") -> Response[bytes]:
        """The list with the same search as the page."""
        return file_response(await export_items(q, None, fmt))
