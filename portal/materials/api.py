"""Materials JSON API: the same services as the pages."""

from __future__ import annotations

from uuid import UUID

from litestar import Controller, get, post
from litestar.params import FromPath, FromQuery, JSONBody

from portal.materials import services
from portal.materials.schemas import BalanceOut, DispatchCreate, DispatchOut, DispatchSummary, MovementCreate, MovementOut, ReceiptIn
from portal.materials.states import Status
from portal.pagination import Page, page_of
from tenants.guards import requires


class DispatchApi(Controller):
    path = "/api/v1/dispatches"
    tags = ["materials"]
    guards = [requires("materials.view")]

    @get("/")
    async def list_dispatches(
        self,
        status: FromQuery[Status | None] = None,
        supplier_id: FromQuery[UUID | None] = None,
        order_id: FromQuery[UUID | None] = None,
        item_id: FromQuery[UUID | None] = None,
        cursor: FromQuery[str | None] = None,
        limit: FromQuery[int] = services.PAGE_SIZE,
    ) -> Page[DispatchSummary]:
        """Newest first. Supplier users see only their own, sent dispatches."""
        items, next_cursor = await services.list_dispatches(status.value if status else None, supplier_id, order_id, item_id, cursor, limit)
        return page_of(items, next_cursor)

    @post("/", guards=[requires("materials.dispatch")])
    async def create_dispatch(self, data: JSONBody[DispatchCreate]) -> DispatchOut:
        """A draft; send it with ``POST /api/v1/dispatches/{id}/send``."""
        return await services.create_dispatch(data)

    @get("/{dispatch_id:uuid}")
    async def get_dispatch(self, dispatch_id: FromPath[UUID]) -> DispatchOut:
        return await services.get_dispatch(dispatch_id)

    @post("/{dispatch_id:uuid}/send", status_code=200, guards=[requires("materials.dispatch")])
    async def send_dispatch(self, dispatch_id: FromPath[UUID]) -> DispatchOut:
        """The supplier sees the dispatch from now on and is emailed."""
        return await services.send_dispatch(dispatch_id)

    @post("/{dispatch_id:uuid}/receipt", status_code=200, guards=[requires("materials.confirm")])
    async def confirm_receipt(self, dispatch_id: FromPath[UUID], data: JSONBody[ReceiptIn]) -> DispatchOut:
        """Every line with its ``received_quantity``; a ``reason`` where it is
        further from the dispatched quantity than the tenant's tolerance.
        Once only: a second receipt answers 409."""
        return await services.confirm_receipt(dispatch_id, data)


class _MovementApi(Controller):
    kind = ""
    tags = ["materials"]
    guards = [requires("materials.view")]

    async def _list(self, supplier_id: UUID | None, item_id: UUID | None, cursor: str | None, limit: int) -> Page[MovementOut]:
        items, next_cursor = await services.list_movements(self.kind, supplier_id, item_id, cursor, limit)
        return page_of(items, next_cursor)


class MaterialReturnApi(_MovementApi):
    path = "/api/v1/material-returns"
    kind = services.RETURN

    @get("/")
    async def list_material_returns(
        self,
        supplier_id: FromQuery[UUID | None] = None,
        item_id: FromQuery[UUID | None] = None,
        cursor: FromQuery[str | None] = None,
        limit: FromQuery[int] = services.PAGE_SIZE,
    ) -> Page[MovementOut]:
        """Material the suppliers sent back, newest first."""
        return await self._list(supplier_id, item_id, cursor, limit)

    @post("/", guards=[requires("materials.report")])
    async def report_material_return(self, data: JSONBody[MovementCreate]) -> MovementOut:
        """By a supplier user, for material that was sent to its supplier."""
        return await services.report_movement(self.kind, data)

    @get("/{return_id:uuid}")
    async def get_material_return(self, return_id: FromPath[UUID]) -> MovementOut:
        return await services.get_movement(self.kind, return_id)


class MaterialScrapApi(_MovementApi):
    path = "/api/v1/material-scrap"
    kind = services.SCRAP

    @get("/")
    async def list_material_scrap(
        self,
        supplier_id: FromQuery[UUID | None] = None,
        item_id: FromQuery[UUID | None] = None,
        cursor: FromQuery[str | None] = None,
        limit: FromQuery[int] = services.PAGE_SIZE,
    ) -> Page[MovementOut]:
        """Material the suppliers scrapped, newest first."""
        return await self._list(supplier_id, item_id, cursor, limit)

    @post("/", guards=[requires("materials.report")])
    async def report_material_scrap(self, data: JSONBody[MovementCreate]) -> MovementOut:
        """By a supplier user; a ``reason`` is required."""
        return await services.report_movement(self.kind, data)

    @get("/{scrap_id:uuid}")
    async def get_material_scrap(self, scrap_id: FromPath[UUID]) -> MovementOut:
        return await services.get_movement(self.kind, scrap_id)


class MaterialBalanceApi(Controller):
    path = "/api/v1/material-balances"
    tags = ["materials"]
    guards = [requires("materials.view")]

    @get("/")
    async def list_material_balances(
        self, supplier_id: FromQuery[UUID | None] = None, item_id: FromQuery[UUID | None] = None
    ) -> Page[BalanceOut]:
        """Per supplier x material: held = dispatched + receipt_difference -
        consumed - returned - scrapped, with the over-consumption and excess
        scrap flags. Supplier users see their own supplier's rows."""
        return page_of(await services.balances(supplier_id, item_id))
