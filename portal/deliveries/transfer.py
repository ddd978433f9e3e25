"""The delivery list as a file, for the JSON API and the pages."""

from __future__ import annotations

from uuid import UUID

from litestar import Controller, Response, get
from litestar.params import FromQuery

from portal.deliveries.exporting import DeliveryFilters, export_deliveries
from portal.deliveries.states import Status
from portal.imports.http import ApiFormat, PageFormat, file_response
from portal.openapi import SPREADSHEETS
from tenants.guards import requires

VIEW = [requires("deliveries.view")]


class DeliveryExportApi(Controller):
    path = "/api/v1/deliveries"
    tags = ["deliveries"]

    @get("/export", guards=VIEW, media_type="application/octet-stream", files=SPREADSHEETS)
    async def export_deliveries(
        self,
        fmt: ApiFormat = "csv",
        status: FromQuery[Status | None] = None,
        supplier_id: FromQuery[UUID | None] = None,
        order_id: FromQuery[UUID | None] = None,
    ) -> Response[bytes]:
        """The delivery list (same filters as ``GET /api/v1/deliveries``,
        all pages) as ``format`` csv (UTF-8 with BOM) or xlsx, one row per
        line. Supplier users get their own notices, buyer roles the notices
        that shipped. At most 50,000 lines."""
        filters = DeliveryFilters(status=status.value if status else None, supplier_id=supplier_id, order_id=order_id)
        return file_response(await export_deliveries(filters, fmt))


class DeliveryExportPages(Controller):
    path = "/deliveries"
    include_in_schema = False

    @get("/export", guards=VIEW, media_type="application/octet-stream")
    async def export_delivery_list(self, fmt: PageFormat = "csv", status: FromQuery[str | None] = None) -> Response[bytes]:
        """The list with the same status filter as the page (an unknown
        status is no filter there, so here too)."""
        known = status if status in {s.value for s in Status} else None
        return file_response(await export_deliveries(DeliveryFilters(status=known), fmt))
