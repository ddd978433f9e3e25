"""Item master pages: the list with a search, a new item, an item with its
bill of material."""

from __future__ import annotations

from decimal import Decimal
from typing import Any
from uuid import UUID

from litestar import Controller, Request, get, post
from litestar.params import FromPath, FromQuery
from litestar.response import Redirect, Template

from portal.errors import DomainError
from portal.forms import form_page, form_values
from portal.i18n import N_
from portal.items import services
from portal.quality.templates import item_templates
from tenants.guards import requires


def bom_from_form(values: dict[str, str]) -> list[services.BomLineIn]:
    """Rows "bom-N-material_id/quantity_per_unit/scrap_percent"; empty rows skipped."""
    lines = []
    problems: dict[str, str] = {}
    indexes = sorted({int(name.split("-")[1]) for name in values if name.startswith("bom-") and name.split("-")[1].isdigit()})
    for position, index in enumerate(indexes):
        material = values.get(f"bom-{index}-material_id", "")
        quantity = values.get(f"bom-{index}-quantity_per_unit", "").strip()
        scrap = values.get(f"bom-{index}-scrap_percent", "").strip() or "0"
        if not material and not quantity:
            continue
        try:
            lines.append(
                services.BomLineIn(material_id=UUID(material), quantity_per_unit=Decimal(quantity), scrap_rate=Decimal(scrap) / 100)
            )
        except (ValueError, ArithmeticError):  # a bad id; no number, or one past Decimal's range
            problems[f"lines.{position}.quantity_per_unit"] = N_("Enter a number.")
    if problems:
        raise services.InvalidItem(fields=problems)
    return lines


class ItemPages(Controller):
    path = "/items"
    include_in_schema = False
    guards = [requires("items.view")]

    async def _list(
        self, q: str = "", values: dict[str, str] | None = None, error: DomainError | None = None, cursor: str | None = None
    ) -> Template:
        items, next_cursor = await services.item_page(q, cursor=cursor)
        return form_page("items/list.html", values=values, error=error, items=items, next=next_cursor, q=q, active_nav="items")

    @get("/", name="items")
    async def show_items(self, q: FromQuery[str] = "", cursor: FromQuery[str | None] = None) -> Template:
        return await self._list(q, cursor=cursor)

    @post("/", guards=[requires("items.manage")])
    async def add_item(self, request: Request[Any, Any, Any]) -> Redirect | Template:
        values = await form_values(request)
        try:
            item = await services.create_item(
                services.ItemIn(
                    code=values.get("code", "").strip(),
                    name=values.get("name", ""),
                    spec=values.get("spec", ""),
                    unit=values.get("unit", "pcs"),
                    kind=values.get("kind", "part"),
                )
            )
        except DomainError as exc:
            return await self._list(values=values, error=exc)
        return Redirect(path=f"/items/{item.id}", status_code=303)

    @get("/{item_id:uuid}")
    async def show_item(self, item_id: FromPath[UUID]) -> Template:
        return await self._detail(item_id)

    async def _detail(self, item_id: UUID, values: dict[str, str] | None = None, error: DomainError | None = None) -> Template:
        return form_page(
            "items/detail.html",
            values=values,
            error=error,
            item=await services.get_item(item_id),
            bom=await services.get_bom(item_id),
            qc_templates=await item_templates(item_id),
            materials=await services.list_items(kind="material", limit=500),
            active_nav="items",
        )

    @post("/{item_id:uuid}/bom", guards=[requires("items.manage")])
    async def save_bom(self, item_id: FromPath[UUID], request: Request[Any, Any, Any]) -> Redirect | Template:
        values = await form_values(request)
        try:
            await services.set_bom(item_id, bom_from_form(values))
        except DomainError as exc:
            return await self._detail(item_id, values, exc)
        return Redirect(path=f"/items/{item_id}", status_code=303)
