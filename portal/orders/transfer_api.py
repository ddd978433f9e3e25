"""Orders in and out of spreadsheets over the JSON API: import (with a dry
run), the import template, and the board export."""

from __future__ import annotations

from datetime import date
from typing import Any, Literal
from uuid import UUID

import msgspec
from litestar import Controller, Request, Response, get, post
from litestar.params import FromQuery

from portal.imports.errors import RowErrorOut
from portal.imports.http import UPLOAD_ROUTE, ApiFormat, file_response, receive_file
from portal.imports.registry import ImportRejected, Report, read_upload, run_import
from portal.openapi import SPREADSHEETS, Form, also_answers
from portal.orders.exporting import ExportFilters, export_orders
from portal.orders.importing import ORDERS, template_file
from portal.orders.schemas import BoardSort
from portal.orders.states import Status
from tenants.guards import requires


class ImportedOrder(msgspec.Struct, frozen=True):
    id: UUID
    number: str


class OrderImportOut(msgspec.Struct, frozen=True):
    rows: int
    orders: int
    errors: list[RowErrorOut]
    created: list[ImportedOrder]


class ImportErrorBody(msgspec.Struct, frozen=True):
    code: str
    message: str


class OrderImportRejectedOut(msgspec.Struct, frozen=True):
    """The error envelope of the API plus the import's own report."""

    error: ImportErrorBody
    rows: int
    orders: int
    errors: list[RowErrorOut]
    created: list[ImportedOrder]


def report_out(report: Report) -> OrderImportOut:
    return OrderImportOut(
        rows=report.rows,
        orders=report.groups,
        errors=[error.translated() for error in report.errors],
        created=[ImportedOrder(item.id, item.label) for item in report.created],
    )


def rejected_out(rejected: ImportRejected) -> OrderImportRejectedOut:
    report = report_out(rejected.report)
    message, _ = rejected.translated()
    return OrderImportRejectedOut(
        error=ImportErrorBody(code=rejected.code, message=message), rows=report.rows, orders=report.orders, errors=report.errors, created=[]
    )


class OrderTransferApi(Controller):
    path = "/api/v1/orders"
    tags = ["orders"]

    @post(
        "/import",
        guards=[requires("orders.import")],
        status_code=201,
        form=Form(),
        responses={
            200: also_answers(OrderImportOut, "``dry_run=true``: the report; nothing is saved."),
            201: also_answers(OrderImportOut, "Every order was created as a draft (``created``)."),
            400: also_answers(OrderImportRejectedOut, "The file has problems: none was created."),
        },
        **UPLOAD_ROUTE,
    )
    async def import_orders(self, request: Request[Any, Any, Any], dry_run: FromQuery[bool] = False) -> Response[Any]:
        """Multipart part ``file``: CSV (UTF-8 or GB18030) or XLSX, at most
        10 MB and 10,000 rows (columns: see the template). ``dry_run=true``
        answers 200 with ``{"rows", "orders", "errors": [{"row", "column",
        "message"}]}`` and saves nothing. Otherwise every order is created
        as a draft (201, ``created`` lists them), or, on any problem, none:
        400 with the same report under the usual ``error`` envelope."""
        data, filename = await receive_file(request)
        sheet = await read_upload(ORDERS, data, filename)
        try:
            report = await run_import(ORDERS, sheet, dry_run=dry_run)
        except ImportRejected as rejected:
            return Response(rejected_out(rejected), status_code=400)
        return Response(report_out(report), status_code=200 if dry_run else 201)

    @get("/import/template", guards=[requires("orders.import")], media_type="application/octet-stream", files=SPREADSHEETS)
    async def download_import_template(self, fmt: ApiFormat = "xlsx") -> Response[bytes]:
        """An empty import file (``format`` xlsx, with a help sheet, or csv)
        with the column names in the caller's language."""
        return file_response(template_file("csv" if fmt == "csv" else "xlsx"))

    @get("/export", guards=[requires("orders.export")], media_type="application/octet-stream", files=SPREADSHEETS)
    async def export_orders(
        self,
        fmt: ApiFormat = "csv",
        status: FromQuery[Status | None] = None,
        supplier_id: FromQuery[UUID | None] = None,
        due_before: FromQuery[date | None] = None,
        overdue: FromQuery[bool] = False,
        q: FromQuery[str] = "",
        sort: FromQuery[BoardSort] = "due",
        dir: FromQuery[Literal["asc", "desc"]] = "asc",
    ) -> Response[bytes]:
        """The board (same filters and ``sort``/``dir`` as ``GET
        /api/v1/orders``, all pages, in that order) as ``format`` csv (UTF-8
        with BOM) or xlsx, one row per order line; money as decimal text,
        dates as YYYY-MM-DD. Supplier users get their own orders only."""
        filters = ExportFilters(
            status=status.value if status else None,
            supplier_id=supplier_id,
            due_before=due_before,
            overdue=overdue,
            q=q,
            sort=sort,
            descending=dir == "desc",
        )
        return file_response(await export_orders(filters, fmt))
