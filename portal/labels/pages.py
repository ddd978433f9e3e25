"""Printable label sheets (A6, one label a page): an order with a label per
line, a material dispatch. Each label carries the QR code that opens the
record, or the line's report screen."""

from __future__ import annotations

from uuid import UUID

from litestar import Controller, get
from litestar.params import FromPath
from litestar.response import Template

from portal.materials.services import get_dispatch
from portal.orders.services import get_order
from tenants.guards import requires


class LabelPages(Controller):
    include_in_schema = False

    @get("/orders/{order_id:uuid}/labels", guards=[requires("orders.view")])
    async def show_order_labels(self, order_id: FromPath[UUID]) -> Template:
        order = await get_order(order_id)
        lines = [line for line in order.lines if not line.removed]
        return Template(template_name="labels/order.html", context={"order": order, "lines": lines})

    @get("/materials/dispatches/{dispatch_id:uuid}/labels", guards=[requires("materials.view")])
    async def show_dispatch_labels(self, dispatch_id: FromPath[UUID]) -> Template:
        return Template(template_name="labels/dispatch.html", context={"dispatch": await get_dispatch(dispatch_id)})
