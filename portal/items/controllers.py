"""Item master: JSON API (pages come with the import/export work)."""

from __future__ import annotations

from uuid import UUID

from litestar import Controller, get, patch, post, put
from litestar.params import FromPath, FromQuery, JSONBody

from portal.items import services
from portal.pagination import Page, page_of
from tenants.guards import requires


class ItemApi(Controller):
    path = "/api/v1/items"
    tags = ["items"]
    guards = [requires("items.view")]

    @get("/")
    async def list_items(
        self, q: FromQuery[str] = "", kind: FromQuery[str | None] = None, cursor: FromQuery[str | None] = None
    ) -> Page[services.ItemOut]:
        """Search by code or name; ``kind`` is part or material. By code,
        100 a page: ``next`` is the ``cursor`` of the next page."""
        items, next_cursor = await services.item_page(q, kind, cursor)
        return page_of(items, next_cursor)

    @post("/", guards=[requires("items.manage")], errors=[409])
    async def create_item(self, data: JSONBody[services.ItemIn]) -> services.ItemOut:
        return await services.create_item(data)

    @get("/{item_id:uuid}")
    async def get_item(self, item_id: FromPath[UUID]) -> services.ItemOut:
        return await services.get_item(item_id)

    @patch("/{item_id:uuid}", guards=[requires("items.manage")])
    async def update_item(self, item_id: FromPath[UUID], data: JSONBody[services.ItemUpdate]) -> services.ItemOut:
        return await services.update_item(item_id, data)

    @get("/{item_id:uuid}/bom")
    async def get_bom(self, item_id: FromPath[UUID]) -> Page[services.BomLineOut]:
        """Materials consumed per unit, with the allowed scrap rate."""
        return page_of(await services.get_bom(item_id))

    @put("/{item_id:uuid}/bom", guards=[requires("items.manage")])
    async def set_bom(self, item_id: FromPath[UUID], data: JSONBody[list[services.BomLineIn]]) -> Page[services.BomLineOut]:
        """Replace the whole bill of material."""
        return page_of(await services.set_bom(item_id, data))
