"""The material lots a delivery used: the JSON API and the block of the
delivery page where the supplier ticks them from its phone."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from jinja2_fragments.litestar import HTMXBlockTemplate
from litestar import Controller, Request, get, post, put
from litestar.params import FromPath, JSONBody
from litestar.response import Redirect, Template

from portal.deliveries.services import get_delivery
from portal.errors import DomainError
from portal.forms import form_page, read_form
from portal.quality import lot_use
from portal.quality.lot_use import LotUseIn, LotUseLineIn, LotUseOut, MaterialLotOut
from tenants.context import current
from tenants.guards import requires


class LotUseApi(Controller):
    path = "/api/v1/deliveries/{delivery_id:uuid}/material-lots"
    tags = ["quality"]
    guards = [requires("deliveries.view")]

    @get("/")
    async def show_lot_use(self, delivery_id: FromPath[UUID]) -> LotUseOut:
        """The material lots the supplier recorded for the delivery
        (``lots``: dispatch line, dispatch, material and lot), empty until it
        does; the lot trace follows them."""
        return await lot_use.get_lot_use(delivery_id)

    @put("/", guards=[requires("deliveries.ship")])
    async def record_lot_use(self, delivery_id: FromPath[UUID], data: JSONBody[LotUseIn]) -> LotUseOut:
        """The supplier names every material lot the delivery used
        (``lots``: ``[{"dispatch_line_id"}]``, lines of dispatches sent to it
        with a lot, at most 50); the list replaces the one before."""
        return await lot_use.record_lot_use(delivery_id, data)

    @get("/choices", guards=[requires("deliveries.ship")])
    async def list_lot_choices(self, delivery_id: FromPath[UUID]) -> list[MaterialLotOut]:
        """The lots the supplier may name: material lots sent to it, those
        sent for the delivery's order first, then the newest others, at most
        200 (and the lots already recorded); any lot sent to it may be named
        in ``PUT``."""
        return await lot_use.lot_choices(delivery_id)


def _block(request: Request[Any, Any, Any], context: dict[str, Any], status: int = 200) -> Template | HTMXBlockTemplate:
    headers = {"vary": "HX-Request"}
    if request.headers.get("hx-request") and not request.headers.get("hx-boosted"):
        return HTMXBlockTemplate(
            template_name="quality/material_lots.html", block_name="material_lots", context=context, headers=headers, status_code=status
        )
    return Template(template_name="quality/material_lots.html", context=context, headers=headers, status_code=status)


class LotUsePages(Controller):
    path = "/deliveries/{delivery_id:uuid}/material-lots"
    include_in_schema = False
    guards = [requires("deliveries.view")]

    async def _context(self, delivery_id: UUID) -> dict[str, Any]:
        recorded = await lot_use.get_lot_use(delivery_id)
        editable = current().can("deliveries.ship")
        choices, total = await lot_use.lot_choice_list(delivery_id) if editable else ([], 0)
        delivery = await get_delivery(delivery_id)
        return {
            "used": recorded,
            "choices": choices,
            "choices_total": total,
            "chosen": {lot.dispatch_line_id for lot in recorded.lots},
            "editable": editable and delivery.status != "cancelled",
            "active_nav": "deliveries",
        }

    @get("/")
    async def show_lot_use(self, request: Request[Any, Any, Any], delivery_id: FromPath[UUID]) -> Template | HTMXBlockTemplate:
        """The recorded lots; for the supplier, the form to tick them (the
        delivery page loads this block)."""
        return _block(request, await self._context(delivery_id))

    @post("/", guards=[requires("deliveries.ship")])
    async def record_lot_use(self, request: Request[Any, Any, Any], delivery_id: FromPath[UUID]) -> Redirect | Template:
        form = await read_form(request)
        picked = []
        for value in form.getall("dispatch_line_id", []):
            try:
                picked.append(LotUseLineIn(dispatch_line_id=UUID(str(value))))
            except ValueError:
                continue
        try:
            await lot_use.record_lot_use(delivery_id, LotUseIn(lots=picked))
        except DomainError as exc:
            context = await self._context(delivery_id)
            context["chosen"] = {line.dispatch_line_id for line in picked}
            return form_page("quality/material_lots.html", error=exc, **context)
        return Redirect(path=f"/deliveries/{delivery_id}?lots=1#material-lots", status_code=303)
