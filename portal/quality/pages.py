"""Quality pages: the forms behind the QC checklist on the order page and the
review buttons on documents. Each answers with a redirect back to where the
person was; a mistake re-renders the form alone, with what was typed and
the error, so nothing typed is lost."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from litestar import Controller, Request, get, post
from litestar.params import FromPath
from litestar.response import Redirect, Template

from portal.documents.services import get_document
from portal.errors import DomainError
from portal.forms import form_page, form_values
from portal.orders.services import get_order
from portal.pages import safe_next
from portal.quality import services
from portal.quality.services import RequirementIn, ReviewIn, WaiveIn
from tenants.guards import requires


def _version(values: dict[str, str]) -> int | None:
    text = values.get("version", "")
    return int(text) if text.isdigit() else None


class QualityPages(Controller):
    include_in_schema = False
    guards = [requires("quality.view")]

    @get("/orders/{order_id:uuid}/qc-requirements/new", guards=[requires("quality.require")])
    async def show_requirement_form(self, order_id: FromPath[UUID]) -> Template:
        return await self._requirement_form(order_id)

    async def _requirement_form(self, order_id: UUID, values: dict[str, str] | None = None, error: DomainError | None = None) -> Template:
        return form_page(
            "quality/requirement.html",
            values=values,
            error=error,
            order=await get_order(order_id),
            active_nav="orders",
        )

    @post("/orders/{order_id:uuid}/qc-requirements", guards=[requires("quality.require")])
    async def add_requirement(self, request: Request[Any, Any, Any], order_id: FromPath[UUID]) -> Redirect | Template:
        values = await form_values(request)
        try:
            await services.add_requirement(order_id, RequirementIn(category=values.get("category", ""), note=values.get("note", "")))
        except DomainError as exc:
            return await self._requirement_form(order_id, values, exc)
        return Redirect(path=f"/orders/{order_id}#qc", status_code=303)

    @post("/qc-requirements/{requirement_id:uuid}/waive", guards=[requires("quality.require")])
    async def waive_requirement(self, request: Request[Any, Any, Any], requirement_id: FromPath[UUID]) -> Redirect | Template:
        values = await form_values(request)
        try:
            requirement = await services.waive_requirement(requirement_id, WaiveIn(reason=values.get("reason", "")))
        except DomainError as exc:
            return form_page(
                "quality/waive.html",
                values=values,
                error=exc,
                requirement=await services.get_requirement(requirement_id),
                active_nav="orders",
            )
        return Redirect(path=f"/orders/{requirement.order_id}#qc", status_code=303)

    @post("/documents/{document_id:uuid}/review", guards=[requires("quality.review")])
    async def review_document(self, request: Request[Any, Any, Any], document_id: FromPath[UUID]) -> Redirect | Template:
        values = await form_values(request)
        back = safe_next(values.get("back") or f"/documents/{document_id}")
        data = ReviewIn(decision=values.get("decision", ""), reason=values.get("reason", ""), version=_version(values))
        try:
            await services.review_document(document_id, data)
        except DomainError as exc:
            return form_page(
                "quality/review.html",
                values=values,
                error=exc,
                document=await get_document(document_id),
                back=back,
                active_nav="",
            )
        return Redirect(path=back, status_code=303)
