"""The admin's settings page: tolerances, a material's own tolerance,
document categories, and the way to the other settings pages."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from litestar import Controller, Request, get, post
from litestar.params import FromPath
from litestar.response import Redirect, Template

from portal.approvals.services import KINDS, RuleIn, list_rules, parse_amount, set_rules
from portal.configuration import services
from portal.configuration.services import CategoryCreate, CategoryUpdate, ToleranceIn
from portal.documents.content import CATEGORIES
from portal.errors import DomainError
from portal.forms import form_page, form_values
from portal.i18n import gettext
from tenants.guards import requires
from tenants.roles import BUYER_ROLES

HERE = "/admin/settings"


class SettingsPages(Controller):
    path = HERE
    include_in_schema = False
    guards = [requires("settings.manage")]

    @get("/", name="settings")
    async def show_settings(self) -> Template:
        return await _page()

    @post("/tolerance")
    async def save_tolerance(self, request: Request[Any, Any, Any]) -> Template | Redirect:
        values = await form_values(request)
        try:
            await services.set_tolerance(
                ToleranceIn(
                    dispatch_tolerance=services.percent_to_fraction(values.get("dispatch_tolerance", "")),  # type: ignore[arg-type]
                    over_delivery_tolerance=services.percent_to_fraction(values.get("over_delivery_tolerance", "")),  # type: ignore[arg-type]
                )
            )
        except DomainError as exc:
            return await _page(values, exc)
        return Redirect(path=HERE, status_code=303)

    @post("/item-tolerances")
    async def save_item_tolerance(self, request: Request[Any, Any, Any]) -> Template | Redirect:
        values = await form_values(request)
        try:
            await services.set_item_tolerance_by_code(values.get("item_code", ""), values.get("dispatch_tolerance", ""))
        except DomainError as exc:
            return await _page(values, exc)
        return Redirect(path=HERE, status_code=303)

    @post("/document-categories")
    async def add_document_category(self, request: Request[Any, Any, Any]) -> Template | Redirect:
        values = await form_values(request)
        try:
            await services.create_category(
                CategoryCreate(key=values.get("key", ""), label=values.get("label", ""), base=values.get("base", ""))
            )
        except DomainError as exc:
            return await _page(values, exc)
        return Redirect(path=HERE, status_code=303)

    @post("/approvals")
    async def save_approval_rules(self, request: Request[Any, Any, Any]) -> Template | Redirect:
        values = await form_values(request)
        rules = [
            RuleIn(
                kind=kind,
                approver_role=values.get(f"{kind}-role", ""),
                threshold=parse_amount(values.get(f"{kind}-threshold", "")),  # type: ignore[arg-type]
                active=values.get(f"{kind}-active") == "on",
            )
            for kind in KINDS
        ]
        try:
            await set_rules(rules)
        except DomainError as exc:
            return await _page(values, exc)
        return Redirect(path=HERE, status_code=303)

    @post("/document-categories/{category_id:uuid}")
    async def change_document_category(self, category_id: FromPath[UUID], request: Request[Any, Any, Any]) -> Template | Redirect:
        values = await form_values(request)
        try:
            await services.update_category(category_id, CategoryUpdate(label=values.get("label"), active=values.get("active") == "on"))
        except DomainError as exc:
            return await _page(values, exc, editing=category_id)
        return Redirect(path=HERE, status_code=303)


async def _page(values: dict[str, str] | None = None, error: DomainError | None = None, *, editing: UUID | None = None) -> Template:
    """The settings page; ``editing``: the category whose row holds what was
    typed (each category has its own small form)."""
    tolerance = await services.get_tolerance()
    return form_page(
        "admin/settings.html",
        values=values,
        error=error,
        editing=editing,
        tolerance={
            "dispatch_tolerance": services.as_percent(tolerance.dispatch_tolerance),
            "over_delivery_tolerance": services.as_percent(tolerance.over_delivery_tolerance),
        },
        item_tolerances=await services.list_item_tolerances(),
        categories=await services.list_categories(),
        always_on=services.ALWAYS_ON,
        bases=[(key, gettext(category.label)) for key, category in CATEGORIES.items()],
        as_percent=services.as_percent,
        approval_rules=await list_rules(),
        buyer_roles=[(role.value, gettext(role.label)) for role in BUYER_ROLES],
        active_nav="settings",
    )
