"""Quality pages: the forms behind the QC checklist on the order page and the
review buttons on documents. Each answers with a redirect back to where the
person was; a mistake re-renders the form alone, with what was typed and
the error, so nothing typed is lost."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from litestar import Controller, Request, get, post
from litestar.params import FromPath, FromQuery
from litestar.response import Redirect, Template

from portal.documents.services import get_document
from portal.errors import DomainError
from portal.forms import form_page, form_values, form_version
from portal.i18n import gettext
from portal.items.services import get_bom, get_item, list_items
from portal.orders.services import get_order
from portal.pages import safe_next
from portal.quality import reasons, services, templates
from portal.quality.services import RequirementIn, ReviewIn, WaiveIn
from portal.quality.templates import TemplateIn
from tenants.guards import requires


def _count(text: str) -> int:
    """A count as typed; anything but a small whole number is refused by the service."""
    text = text.strip() or "1"
    return int(text) if text.isdigit() and len(text) < 4 else 0


def templates_from_form(values: dict[str, str]) -> list[TemplateIn]:
    """Rows "tpl-N-category/count/stage/note"; rows without a category are skipped."""
    rows = sorted({int(name.split("-")[1]) for name in values if name.startswith("tpl-") and name.split("-")[1].isdigit()})
    found = []
    for index in rows:
        category = values.get(f"tpl-{index}-category", "")
        if not category:
            continue
        found.append(
            TemplateIn(
                category=category,
                count=_count(values.get(f"tpl-{index}-count", "")),
                stage=values.get(f"tpl-{index}-stage", services.BEFORE_DELIVERY),
                note=values.get(f"tpl-{index}-note", ""),
            )
        )
    return found


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
            data = RequirementIn(
                category=values.get("category", ""),
                note=values.get("note", ""),
                count=_count(values.get("count", "")),
                stage=values.get("stage", services.BEFORE_DELIVERY),
            )
            await services.add_requirement(order_id, data)
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
        data = ReviewIn(decision=values.get("decision", ""), reason=values.get("reason", ""), version=form_version(values))
        try:
            await services.review_document(document_id, data)
        except DomainError as exc:
            return form_page(
                "quality/review.html",
                values=values,
                error=exc,
                document=await get_document(document_id),
                review=await services.review_state(document_id),
                back=back,
                active_nav="",
            )
        return Redirect(path=back, status_code=303)

    @post("/items/{item_id:uuid}/qc-templates", guards=[requires("quality.require")])
    async def save_templates(self, request: Request[Any, Any, Any], item_id: FromPath[UUID]) -> Redirect | Template:
        values = await form_values(request)
        try:
            await templates.set_item_templates(item_id, templates_from_form(values))
        except DomainError as exc:
            return form_page(
                "items/detail.html",
                values=values,
                error=exc,
                item=await get_item(item_id),
                bom=await get_bom(item_id),
                qc_templates=await templates.item_templates(item_id),
                materials=await list_items(kind="material", limit=500),
                active_nav="orders",
            )
        return Redirect(path=f"/items/{item_id}#qc-templates", status_code=303)


class RejectReasonPages(Controller):
    path = "/admin/reject-reasons"
    include_in_schema = False
    guards = [requires("quality.configure")]

    @get("/", name="reject_reasons")
    async def show_reject_reasons(self, saved: FromQuery[bool] = False) -> Template:
        labels = "\n".join(gettext(reason.label) for reason in await reasons.active_reasons())
        return form_page("quality/reject_reasons.html", values={"reasons": labels}, saved=saved, active_nav="")

    @post("/")
    async def save_reject_reasons(self, request: Request[Any, Any, Any]) -> Template | Redirect:
        values = await form_values(request)
        try:
            await reasons.save_reasons(values.get("reasons", "").splitlines())
        except DomainError as exc:
            return form_page("quality/reject_reasons.html", values=values, error=exc, saved=False, active_nav="")
        return Redirect(path="/admin/reject-reasons?saved=1", status_code=303)
