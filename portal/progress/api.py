"""Progress JSON API: the same services as the phone's pages."""

from __future__ import annotations

from typing import Annotated, Any
from uuid import UUID

import msgspec
from litestar import Controller, MediaType, Request, Response, get, post, put
from litestar.params import FromPath, FromQuery, JSONBody

from portal.i18n import gettext
from portal.lengths import most
from portal.openapi import Form, also_answers
from portal.pagination import Page, page_of
from portal.progress import services
from portal.progress.photos import PHOTO_ROUTE, photo_response
from portal.progress.schemas import PhotoOut, ReportIn, ReportOut, StageOut
from portal.progress.stages import Stage, active_stages, save_stages
from portal.progress.tables import ProgressStage
from tenants.guards import requires


class StagesIn(msgspec.Struct, frozen=True):
    labels: list[Annotated[str, most(ProgressStage.label)]]


def _stages_out(stages: list[Stage]) -> list[StageOut]:
    return [StageOut(code=stage.code, label=gettext(stage.label)) for stage in stages]


class ProgressApi(Controller):
    path = "/api/v1/progress-reports"
    tags = ["progress"]
    guards = [requires("progress.view")]

    @get("/")
    async def list_reports(
        self, order_id: FromQuery[UUID | None] = None, order_line_id: FromQuery[UUID | None] = None, cursor: FromQuery[str | None] = None
    ) -> Page[ReportOut]:
        """Newest first (by when they were made), 100 a page. Supplier
        users see their own reports; buyer roles all of the tenant's."""
        items, next_cursor = await services.report_page(order_id, order_line_id, cursor)
        return page_of(items, next_cursor)

    @post(
        "/",
        guards=[requires("progress.report")],
        errors=[404, 409],
        responses={200: also_answers(ReportOut, "A report with this ``client_id`` was stored before: that report.")},
    )
    async def create_report(self, data: JSONBody[ReportIn]) -> Response[ReportOut]:
        """Store a report exactly once: 201 when this call stored it, 200
        with the stored report when ``client_id`` was seen before. Good +
        scrap may not exceed the line's open quantity; scrap needs a
        reason. The first report on an accepted order starts production."""
        report, created = await services.create_report(data)
        return Response(report, status_code=201 if created else 200, media_type=MediaType.JSON)

    @get("/{report_id:uuid}")
    async def get_report(self, report_id: FromPath[UUID]) -> ReportOut:
        return await services.get_report(report_id)

    @post(
        "/{report_id:uuid}/photos",
        form=Form(fields={"captured_at": {"format": "date-time", "description": "When the photo was taken (ISO 8601)."}}),
        responses={200: also_answers(PhotoOut, "These bytes were already a photo of this report.")},
        errors=[422],
        **PHOTO_ROUTE,
    )
    async def add_photo(self, request: Request[Any, Any, Any], report_id: FromPath[UUID]) -> Response[PhotoOut]:
        """Multipart: ``file`` (JPEG, PNG, WebP or HEIC) and optional
        ``captured_at`` (ISO 8601). 201 when stored, 200 when the same bytes
        were already a photo of this report; 409 once the report has the
        number of photos it announced."""
        return await photo_response(request, report_id)


class ProgressStageApi(Controller):
    path = "/api/v1/progress-stages"
    tags = ["progress"]
    guards = [requires("progress.view")]

    @get("/")
    async def list_stages(self) -> Page[StageOut]:
        """The tenant's production stages, in order, labels in the caller's language."""
        return page_of(_stages_out(await active_stages()))

    @put("/", guards=[requires("progress.configure")])
    async def replace_stages(self, data: JSONBody[StagesIn]) -> list[StageOut]:
        """Replace the list (1-20 labels). Stages kept keep their code and
        reports; stages left out are retired, not deleted."""
        return _stages_out(await save_stages(data.labels))
