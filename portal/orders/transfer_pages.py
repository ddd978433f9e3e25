"""Order import and export pages.

Import is upload -> preview -> confirm, and stateless: the preview checks
the file as a dry run and, when every row is fine, carries the parsed rows
signed (``portal.imports.sealing``, ten minutes) in its confirm form. The
confirm checks those rows again and creates the orders as drafts, all or
nothing. No upload is kept on the server.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any
from urllib.parse import urlencode
from uuid import UUID

from jinja2_fragments.litestar import HTMXBlockTemplate
from litestar import Controller, Request, Response, get, post
from litestar.params import FromQuery, QueryParameter
from litestar.response import Redirect, Template

from portal.errors import DomainError
from portal.forms import form_values
from portal.imports.http import UPLOAD_ROUTE, file_response, receive_file
from portal.imports.preview import column_help, preview
from portal.imports.registry import ImportRejected, Report, read_upload, run_import
from portal.imports.sealing import seal, unseal
from portal.imports.sheets import Sheet
from portal.orders.exporting import ExportFilters, export_orders
from portal.orders.importing import COLUMNS, ORDERS, template_file
from portal.orders.schemas import BOARD_SORTS
from tenants.guards import acting, requires

TEMPLATE = "orders/import.html"
PREVIEW_BLOCK = "import_preview"
SEAL_PURPOSE = "orders.import"
VARY = {"vary": "HX-Request"}

Format = Annotated[str, QueryParameter(name="format")]


def _page_context(**extra: Any) -> dict[str, Any]:
    return {**column_help(COLUMNS), "preview": None, "error_message": None, "imported": None, "active_nav": "orders", **extra}


def _preview(sheet: Sheet, report: Report, *, sealed: str | None) -> dict[str, Any]:
    shown = preview(sheet, report, COLUMNS, sealed=sealed)
    return {**shown, "orders": shown["groups"]}


def _render(request: Request[Any, Any, Any], context: dict[str, Any], status_code: int = 200) -> Template:
    if request.headers.get("hx-request"):
        # htmx swaps only successful answers: the preview block always comes with 200.
        return HTMXBlockTemplate(template_name=TEMPLATE, block_name=PREVIEW_BLOCK, context=context, headers=VARY)
    return Template(template_name=TEMPLATE, context=context, status_code=status_code, headers=VARY)


class OrderTransferPages(Controller):
    path = "/orders"
    include_in_schema = False

    @get("/import", guards=[requires("orders.import")], name="orders_import")
    async def show_import(self, imported: FromQuery[int | None] = None, rows: FromQuery[int | None] = None) -> Template:
        """The columns, the template downloads and the upload form; after a
        confirmed import, how many orders were created."""
        done = {"orders": imported, "rows": rows or 0} if imported is not None else None
        return Template(template_name=TEMPLATE, context=_page_context(imported=done), headers=VARY)

    @post("/import", guards=[requires("orders.import")], **UPLOAD_ROUTE)
    async def preview_import(self, request: Request[Any, Any, Any]) -> Template:
        """Dry run of the uploaded file: nothing is saved here."""
        try:
            data, filename = await receive_file(request)
        except DomainError as exc:
            message, _ = exc.translated()
            return _render(request, _page_context(error_message=message), exc.status_code)
        sheet = await read_upload(ORDERS, data, filename)
        report = await run_import(ORDERS, sheet, dry_run=True)
        context = acting()
        sealed = None if report.errors else seal(sheet, purpose=SEAL_PURPOSE, tenant_id=context.tenant_id, user_id=context.user_id)
        return _render(request, _page_context(preview=_preview(sheet, report, sealed=sealed)))

    @post("/import/confirm", guards=[requires("orders.import")])
    async def confirm_import(self, request: Request[Any, Any, Any]) -> Response[Any]:
        """Create the previewed orders as drafts, all or nothing."""
        values = await form_values(request)
        context = acting()
        try:
            sheet = unseal(values.get("sheet", ""), COLUMNS, purpose=SEAL_PURPOSE, tenant_id=context.tenant_id, user_id=context.user_id)
        except DomainError as exc:
            return _render(request, _page_context(error_message=exc.translated()[0]), exc.status_code)
        try:
            report = await run_import(ORDERS, sheet, dry_run=False)
        except ImportRejected as rejected:
            # 400: the request's transaction rolls back whatever was written.
            preview = _preview(sheet, rejected.report, sealed=None)
            return _render(request, _page_context(preview=preview, error_message=rejected.translated()[0]), 400)
        query = urlencode({"imported": report.groups, "rows": report.rows})
        return Redirect(path=f"/orders/import?{query}", status_code=303)

    @get("/import/template", guards=[requires("orders.import")], media_type="application/octet-stream")
    async def download_import_template(self, fmt: Format = "xlsx") -> Response[bytes]:
        return file_response(template_file("csv" if fmt == "csv" else "xlsx"))

    @get("/export", guards=[requires("orders.export")], media_type="application/octet-stream")
    async def export_orders(
        self,
        fmt: Format = "csv",
        status: FromQuery[str | None] = None,
        supplier_id: FromQuery[UUID | None] = None,
        due_before: FromQuery[date | None] = None,
        overdue: FromQuery[bool] = False,
        q: FromQuery[str] = "",
        sort: FromQuery[str] = "",
        dir: FromQuery[str] = "asc",
    ) -> Response[bytes]:
        """The board with the same filters and sort as the page (an unknown
        sort key: by due date, as there): link here with the board's query
        string plus ``format=csv`` or ``format=xlsx``."""
        filters = ExportFilters(
            status=status or None,
            supplier_id=supplier_id,
            due_before=due_before,
            overdue=overdue,
            q=q,
            sort=sort if sort in BOARD_SORTS else "due",
            descending=dir == "desc",
        )
        return file_response(await export_orders(filters, fmt))
