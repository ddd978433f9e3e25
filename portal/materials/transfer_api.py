"""Material dispatches and balances in and out of spreadsheets over the
JSON API: dispatch import (with a dry run), its template, and the exports
of the dispatch list and the balances."""

from __future__ import annotations

from typing import Any
from uuid import UUID

import msgspec
from litestar import Controller, Request, Response, get, post
from litestar.params import FromQuery

from portal.imports.errors import RowErrorOut
from portal.imports.http import UPLOAD_ROUTE, ApiFormat, file_response, receive_file
from portal.imports.registry import ImportRejected, Report, read_upload, run_import
from portal.materials import services
from portal.materials.exporting import DispatchFilters, export_balances, export_dispatches, export_movements
from portal.materials.importing import DISPATCHES, CreatedDispatch, template_file
from portal.materials.states import Status
from portal.openapi import SPREADSHEETS, Form, also_answers
from tenants.guards import requires


class ImportedDispatch(msgspec.Struct, frozen=True):
    id: UUID
    number: str
    # The file's own reference of the dispatch ("" when the rows had none).
    reference: str


class DispatchImportOut(msgspec.Struct, frozen=True):
    rows: int
    dispatches: int
    errors: list[RowErrorOut]
    created: list[ImportedDispatch]


class ImportErrorBody(msgspec.Struct, frozen=True):
    code: str
    message: str


class DispatchImportRejectedOut(msgspec.Struct, frozen=True):
    """The error envelope of the API plus the import's own report."""

    error: ImportErrorBody
    rows: int
    dispatches: int
    errors: list[RowErrorOut]
    created: list[ImportedDispatch]


def report_out(report: Report) -> DispatchImportOut:
    return DispatchImportOut(
        rows=report.rows,
        dispatches=report.groups,
        errors=[error.translated() for error in report.errors],
        created=[
            ImportedDispatch(item.id, item.label, item.reference if isinstance(item, CreatedDispatch) else "") for item in report.created
        ],
    )


def rejected_out(rejected: ImportRejected) -> DispatchImportRejectedOut:
    report = report_out(rejected.report)
    message, _ = rejected.translated()
    return DispatchImportRejectedOut(
        error=ImportErrorBody(code=rejected.code, message=message),
        rows=report.rows,
        dispatches=report.dispatches,
        errors=report.errors,
        created=[],
    )


class MaterialTransferApi(Controller):
    path = "/api/v1"
    tags = ["materials"]

    @post(
        "/dispatches/import",
        guards=[requires("materials.dispatch")],
        status_code=201,
        form=Form(),
        responses={
            200: also_answers(DispatchImportOut, "``dry_run=true``: the report; nothing is saved."),
            201: also_answers(DispatchImportOut, "Every dispatch was created as a draft (``created``)."),
            400: also_answers(DispatchImportRejectedOut, "The file has problems: none was created."),
        },
        **UPLOAD_ROUTE,
    )
    async def import_dispatches(self, request: Request[Any, Any, Any], dry_run: FromQuery[bool] = False) -> Response[Any]:
        """Multipart part ``file``: CSV (UTF-8 or GB18030) or XLSX, at most
        10 MB and 10,000 rows (columns: see the template). ``dry_run=true``
        answers 200 with ``{"rows", "dispatches", "errors": [{"row",
        "column", "message"}]}`` and saves nothing. Otherwise every
        dispatch is created as a draft (201, ``created`` lists number and
        reference), or, on any problem, none: 400 with the same report
        under the usual ``error`` envelope."""
        data, filename = await receive_file(request)
        sheet = await read_upload(DISPATCHES, data, filename)
        try:
            report = await run_import(DISPATCHES, sheet, dry_run=dry_run)
        except ImportRejected as rejected:
            return Response(rejected_out(rejected), status_code=400)
        return Response(report_out(report), status_code=200 if dry_run else 201)

    @get("/dispatches/import/template", guards=[requires("materials.dispatch")], media_type="application/octet-stream", files=SPREADSHEETS)
    async def download_dispatch_import_template(self, fmt: ApiFormat = "xlsx") -> Response[bytes]:
        """An empty import file (``format`` xlsx, with a help sheet, or csv)
        with the column names in the caller's language."""
        return file_response(template_file("csv" if fmt == "csv" else "xlsx"))

    @get("/dispatches/export", guards=[requires("materials.view")], media_type="application/octet-stream", files=SPREADSHEETS)
    async def export_dispatches(
        self,
        fmt: ApiFormat = "csv",
        status: FromQuery[Status | None] = None,
        supplier_id: FromQuery[UUID | None] = None,
        order_id: FromQuery[UUID | None] = None,
        item_id: FromQuery[UUID | None] = None,
    ) -> Response[bytes]:
        """The dispatch list (same filters as ``GET /api/v1/dispatches``,
        all pages) as ``format`` csv (UTF-8 with BOM) or xlsx, one row per
        line; quantities as decimal text. Supplier users get their own sent
        dispatches only. At most 50,000 lines."""
        filters = DispatchFilters(status=status.value if status else None, supplier_id=supplier_id, order_id=order_id, item_id=item_id)
        return file_response(await export_dispatches(filters, fmt))

    @get("/material-balances/export", guards=[requires("materials.view")], media_type="application/octet-stream", files=SPREADSHEETS)
    async def export_material_balances(
        self, fmt: ApiFormat = "csv", supplier_id: FromQuery[UUID | None] = None, item_id: FromQuery[UUID | None] = None
    ) -> Response[bytes]:
        """The balances (same filters as ``GET /api/v1/material-balances``)
        as ``format`` csv or xlsx, one row per supplier x material. Supplier
        users get their own supplier's rows only."""
        return file_response(await export_balances(supplier_id, item_id, fmt))

    @get("/material-returns/export", guards=[requires("materials.view")], media_type="application/octet-stream", files=SPREADSHEETS)
    async def export_material_returns(
        self, fmt: ApiFormat = "csv", supplier_id: FromQuery[UUID | None] = None, item_id: FromQuery[UUID | None] = None
    ) -> Response[bytes]:
        """The returns (same filters as ``GET /api/v1/material-returns``, all
        pages) as ``format`` csv or xlsx. Supplier users get their own only."""
        return file_response(await export_movements(services.RETURN, supplier_id, item_id, fmt))

    @get("/material-scrap/export", guards=[requires("materials.view")], media_type="application/octet-stream", files=SPREADSHEETS)
    async def export_material_scrap(
        self, fmt: ApiFormat = "csv", supplier_id: FromQuery[UUID | None] = None, item_id: FromQuery[UUID | None] = None
    ) -> Response[bytes]:
        """The scrap reports (same filters as ``GET /api/v1/material-scrap``,
        all pages) as ``format`` csv or xlsx. Supplier users get their own only."""
        return file_response(await export_movements(services.SCRAP, supplier_id, item_id, fmt))
