"""Dispatch import and the material list exports, for the pages.

Import is upload -> preview -> confirm, stateless as for orders: the
preview checks the file as a dry run and, when every row is fine, carries
the parsed rows signed (``portal.imports.sealing``, ten minutes) in its
confirm form; the confirm checks them again and creates the dispatches as
drafts, all or nothing. No upload is kept on the server.
"""

from __future__ import annotations

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
from portal.materials import services
from portal.materials.exporting import DispatchFilters, export_balances, export_dispatches, export_movements
from portal.materials.importing import COLUMNS, DISPATCHES, template_file
from tenants.guards import acting, requires

TEMPLATE = "materials/import.html"
PREVIEW_BLOCK = "import_preview"
SEAL_PURPOSE = "dispatches.import"
VARY = {"vary": "HX-Request"}
# One guard per handler: the isolation matrix reads a route's guards as its policy.
DISPATCH = [requires("materials.dispatch")]
VIEW = [requires("materials.view")]

Format = Annotated[str, QueryParameter(name="format")]


def _page_context(**extra: Any) -> dict[str, Any]:
    return {**column_help(COLUMNS), "preview": None, "error_message": None, "imported": None, "active_nav": "materials", **extra}


def _preview(sheet: Sheet, report: Report, *, sealed: str | None) -> dict[str, Any]:
    return preview(sheet, report, COLUMNS, sealed=sealed)


def _render(request: Request[Any, Any, Any], context: dict[str, Any], status_code: int = 200) -> Template:
    if request.headers.get("hx-request"):
        # htmx swaps only successful answers: the preview block always comes with 200.
        return HTMXBlockTemplate(template_name=TEMPLATE, block_name=PREVIEW_BLOCK, context=context, headers=VARY)
    return Template(template_name=TEMPLATE, context=context, status_code=status_code, headers=VARY)


def _uuid(value: str | None) -> UUID | None:
    """A filter from the page's query string; anything else is no filter,
    as on the list page itself."""
    try:
        return UUID(value) if value else None
    except ValueError:
        return None


class MaterialTransferPages(Controller):
    path = "/materials"
    include_in_schema = False

    @get("/dispatches/import", guards=DISPATCH, name="materials_import")
    async def show_dispatch_import(self, imported: FromQuery[int | None] = None, rows: FromQuery[int | None] = None) -> Template:
        """The columns, the template downloads and the upload form; after a
        confirmed import, how many dispatches were created."""
        done = {"dispatches": imported, "rows": rows or 0} if imported is not None else None
        return Template(template_name=TEMPLATE, context=_page_context(imported=done), headers=VARY)

    @post("/dispatches/import", guards=DISPATCH, **UPLOAD_ROUTE)
    async def preview_dispatch_import(self, request: Request[Any, Any, Any]) -> Template:
        """Dry run of the uploaded file: nothing is saved here."""
        try:
            data, filename = await receive_file(request)
        except DomainError as exc:
            message, _ = exc.translated()
            return _render(request, _page_context(error_message=message), exc.status_code)
        sheet = await read_upload(DISPATCHES, data, filename)
        report = await run_import(DISPATCHES, sheet, dry_run=True)
        context = acting()
        sealed = None if report.errors else seal(sheet, purpose=SEAL_PURPOSE, tenant_id=context.tenant_id, user_id=context.user_id)
        return _render(request, _page_context(preview=_preview(sheet, report, sealed=sealed)))

    @post("/dispatches/import/confirm", guards=DISPATCH)
    async def confirm_dispatch_import(self, request: Request[Any, Any, Any]) -> Response[Any]:
        """Create the previewed dispatches as drafts, all or nothing."""
        values = await form_values(request)
        context = acting()
        try:
            sheet = unseal(values.get("sheet", ""), COLUMNS, purpose=SEAL_PURPOSE, tenant_id=context.tenant_id, user_id=context.user_id)
        except DomainError as exc:
            return _render(request, _page_context(error_message=exc.translated()[0]), exc.status_code)
        try:
            report = await run_import(DISPATCHES, sheet, dry_run=False)
        except ImportRejected as rejected:
            # 400: the request's transaction rolls back whatever was written.
            shown = _preview(sheet, rejected.report, sealed=None)
            return _render(request, _page_context(preview=shown, error_message=rejected.translated()[0]), 400)
        query = urlencode({"imported": report.groups, "rows": report.rows})
        return Redirect(path=f"/materials/dispatches/import?{query}", status_code=303)

    @get("/dispatches/import/template", guards=DISPATCH, media_type="application/octet-stream")
    async def download_dispatch_import_template(self, fmt: Format = "xlsx") -> Response[bytes]:
        return file_response(template_file("csv" if fmt == "csv" else "xlsx"))

    @get("/dispatches/export", guards=VIEW, media_type="application/octet-stream")
    async def export_dispatches(self, fmt: Format = "csv", status: FromQuery[str | None] = None) -> Response[bytes]:
        """The dispatch list with the same filter as the page: link here with
        the list's query string plus ``format=csv`` or ``format=xlsx``."""
        return file_response(await export_dispatches(DispatchFilters(status=status or None), fmt))

    @get("/balances/export", guards=VIEW, media_type="application/octet-stream")
    async def export_balances(self, fmt: Format = "csv", supplier_id: FromQuery[str | None] = None) -> Response[bytes]:
        """The balances with the same supplier filter as the page."""
        return file_response(await export_balances(_uuid(supplier_id), None, fmt))

    @get("/reports/returns/export", guards=VIEW, media_type="application/octet-stream")
    async def export_returns(self, fmt: Format = "csv") -> Response[bytes]:
        """Every return the returns and scrap page lists."""
        return file_response(await export_movements(services.RETURN, None, None, fmt))

    @get("/reports/scrap/export", guards=VIEW, media_type="application/octet-stream")
    async def export_scrap(self, fmt: Format = "csv") -> Response[bytes]:
        """Every scrap report the returns and scrap page lists."""
        return file_response(await export_movements(services.SCRAP, None, None, fmt))
