"""Reconciliation JSON API: the same services as the pages."""

from __future__ import annotations

from typing import Literal
from uuid import UUID

import msgspec
from litestar import Controller, Response, get, post, put
from litestar.params import FromPath, FromQuery, JSONBody

from portal.imports.http import ApiFormat, file_response
from portal.openapi import PDF, SPREADSHEETS
from portal.reconciliation import pdf, services
from portal.reconciliation.exporting import export_statement
from portal.reconciliation.schemas import (
    AdjustmentIn,
    AdjustmentOut,
    AnswerIn,
    DisputeIn,
    MaterialPriceIn,
    PdfOut,
    PeriodIn,
    SettingsIn,
    SettingsOut,
    StatementList,
    StatementOut,
)
from portal.reconciliation.states import Status
from tenants.guards import requires


class StatementBatch(msgspec.Struct, frozen=True):
    """The statements of one supplier and period, one per currency."""

    items: list[StatementOut]


class StatementApi(Controller):
    path = "/api/v1/statements"
    tags = ["statements"]
    guards = [requires("statements.view")]

    @get("/")
    async def list_statements(
        self,
        period: FromQuery[str | None] = None,
        supplier_id: FromQuery[UUID | None] = None,
        status: FromQuery[Status | None] = None,
        cursor: FromQuery[str | None] = None,
    ) -> StatementList:
        """Newest period first; ``period`` is a month (2026-11), ``status``
        draft, sent, disputed or finalized. Supplier users see their own
        statements once sent."""
        return await services.list_statements(period, supplier_id, status.value if status else None, cursor)

    @post("/compute", status_code=200, guards=[requires("statements.manage")], errors=[409])
    async def compute_statements(self, data: JSONBody[PeriodIn]) -> StatementBatch:
        """Compute the supplier's statements of an open period again from the
        records (drafts, one per currency); a closed period answers 409."""
        return StatementBatch(await services.refresh(data.supplier_id, data.period))

    @post("/close", status_code=200, guards=[requires("statements.manage")], errors=[409])
    async def close_period(self, data: JSONBody[PeriodIn]) -> StatementBatch:
        """Close a period that has ended for one supplier: its statements
        are computed a last time and frozen. Closing twice answers 409."""
        return StatementBatch(await services.close_period(data.supplier_id, data.period))

    @get("/{statement_id:uuid}")
    async def get_statement(self, statement_id: FromPath[UUID]) -> StatementOut:
        """``status`` (draft, sent, disputed, finalized), ``lines``,
        ``materials`` (the material section), the totals and ``currency``."""
        return await services.get_statement(statement_id)

    @get("/{statement_id:uuid}/export", media_type="application/octet-stream", files=SPREADSHEETS)
    async def export_statement(
        self, statement_id: FromPath[UUID], fmt: ApiFormat = "csv", part: FromQuery[Literal["lines", "materials"]] = "lines"
    ) -> Response[bytes]:
        """The statement's lines and material section: ``format`` xlsx holds
        both (two sheets); csv holds one, chosen by ``part`` (``lines`` or
        ``materials``)."""
        return file_response(await export_statement(statement_id, fmt, part))

    @get(
        "/{statement_id:uuid}/pdf",
        media_type=PDF,
        files=(PDF,),
        errors=[409],
        error_descriptions={
            409: "No PDF of the statement's current version yet: `error.code` is `pdf_not_rendered` (ask for it with POST),"
            " `pdf_rendering` (queued or rendering: try again shortly) or `pdf_failed` (ask again)."
        },
    )
    async def download_statement_pdf(self, statement_id: FromPath[UUID]) -> Response[bytes]:
        """The archived PDF of the statement's current version, the same
        bytes on every download (their SHA-256 is ``pdf.sha256`` of the
        statement; a finalized statement's is also ``pdf_sha256``). The PDF
        is rendered by a background job: ask for it with POST."""
        found = await pdf.download_pdf(statement_id)
        return Response(
            found.content,
            media_type=PDF,
            headers={"content-disposition": found.disposition, "x-content-sha256": found.sha256, "cache-control": "private, no-store"},
        )

    @post("/{statement_id:uuid}/pdf", status_code=202)
    async def request_statement_pdf(self, statement_id: FromPath[UUID]) -> PdfOut:
        """Queue the rendering of the statement's current version (once:
        asking again while it is queued, rendering or ready changes
        nothing; a failed one is queued again). Answers the rendering's
        ``status`` (queued, rendering, ready, failed) and ``progress``;
        poll ``GET /api/v1/statements/{id}`` (its ``pdf``) until ready.
        Finalizing a statement queues its final PDF by itself."""
        return await pdf.request_pdf(statement_id)

    @post("/{statement_id:uuid}/send", status_code=200, guards=[requires("statements.manage")])
    async def send_statement(self, statement_id: FromPath[UUID]) -> StatementOut:
        """Send a draft of a closed period with at least one line to the supplier."""
        return await services.send_statement(statement_id)

    @post("/{statement_id:uuid}/lines/{statement_line_id:uuid}/confirm", status_code=200, guards=[requires("statements.respond")])
    async def confirm_line(self, statement_id: FromPath[UUID], statement_line_id: FromPath[UUID]) -> StatementOut:
        """The supplier admin agrees to one line."""
        return await services.confirm_line(statement_id, statement_line_id)

    @post("/{statement_id:uuid}/lines/{statement_line_id:uuid}/dispute", status_code=200, guards=[requires("statements.respond")])
    async def dispute_line(
        self, statement_id: FromPath[UUID], statement_line_id: FromPath[UUID], data: JSONBody[DisputeIn]
    ) -> StatementOut:
        """The supplier admin disputes one line; ``comment`` is required.
        Evidence goes to the statement's documents (``attached_type``
        ``statement``)."""
        return await services.dispute_line(statement_id, statement_line_id, data.comment)

    @post("/{statement_id:uuid}/lines/{statement_line_id:uuid}/answer", status_code=200, guards=[requires("statements.manage")])
    async def answer_dispute(
        self, statement_id: FromPath[UUID], statement_line_id: FromPath[UUID], data: JSONBody[AnswerIn]
    ) -> StatementOut:
        """Finance answers a disputed line with a ``comment``, and a
        ``correction`` amount when it adds a correcting line."""
        return await services.answer_dispute(statement_id, statement_line_id, data.comment, data.correction)

    @post("/{statement_id:uuid}/confirm", status_code=200, guards=[requires("statements.respond")])
    async def confirm_statement(self, statement_id: FromPath[UUID]) -> StatementOut:
        """The supplier admin confirms the statement once every line is confirmed."""
        return await services.confirm_statement(statement_id)

    @post("/{statement_id:uuid}/finalize", status_code=200, guards=[requires("statements.manage")])
    async def finalize_statement(self, statement_id: FromPath[UUID]) -> StatementOut:
        """Finance confirms after the supplier: finalized and locked."""
        return await services.finalize_statement(statement_id)


class StatementAdjustmentApi(Controller):
    path = "/api/v1/statement-adjustments"
    tags = ["statements"]
    guards = [requires("statements.manage")]

    @post("/", errors=[409])
    async def create_adjustment(self, data: JSONBody[AdjustmentIn]) -> AdjustmentOut:
        """A correction with its reason for a period still open for the
        supplier (``amount`` positive: owed to the supplier); it counts once
        someone else approves it."""
        return await services.create_adjustment(data)

    @post("/{adjustment_id:uuid}/approve", status_code=200, guards=[requires("statements.approve")])
    async def approve_adjustment(self, adjustment_id: FromPath[UUID]) -> AdjustmentOut:
        return await services.approve_adjustment(adjustment_id)


class ReconciliationSettingsApi(Controller):
    path = "/api/v1/settings/reconciliation"
    tags = ["statements"]
    guards = [requires("statements.view")]

    @get("/")
    async def get_reconciliation_settings(self) -> SettingsOut:
        """The cut-off of the monthly periods (day, minutes after that day's
        midnight in the tenant's time zone) and the tax rate."""
        return await services.get_settings()

    @put("/", guards=[requires("statements.manage")])
    async def update_reconciliation_settings(self, data: JSONBody[SettingsIn]) -> SettingsOut:
        return await services.update_settings(data)


class MaterialPriceApi(Controller):
    path = "/api/v1/material-prices"
    tags = ["statements"]
    guards = [requires("statements.manage")]

    @put("/", status_code=204)
    async def set_material_price(self, data: JSONBody[MaterialPriceIn]) -> None:
        """What a material costs (per currency): scrap beyond the BOM's
        allowance is deducted at this price."""
        await services.set_material_price(data)
