"""Deliveries JSON API: the same services as the pages."""

from __future__ import annotations

from uuid import UUID

from litestar import Controller, get, post
from litestar.params import FromPath, FromQuery, JSONBody

from portal.deliveries import services
from portal.deliveries.schemas import CancelIn, DeliveryCreate, DeliveryList, DeliveryOut, ReceiptIn
from portal.deliveries.states import Status
from tenants.guards import requires


class DeliveryApi(Controller):
    path = "/api/v1/deliveries"
    tags = ["deliveries"]
    guards = [requires("deliveries.view")]

    @get("/")
    async def list_deliveries(
        self,
        status: FromQuery[Status | None] = None,
        supplier_id: FromQuery[UUID | None] = None,
        order_id: FromQuery[UUID | None] = None,
        cursor: FromQuery[str | None] = None,
    ) -> DeliveryList:
        """Newest first. ``status``: draft, shipped, received or cancelled.
        Supplier users see their own notices; buyer roles those that shipped."""
        return await services.list_deliveries(status.value if status else None, supplier_id, order_id, cursor)

    @post("/", guards=[requires("deliveries.ship")], errors=[409])
    async def create_delivery(self, data: JSONBody[DeliveryCreate]) -> DeliveryOut:
        """A shipping notice against one of your orders (accepted, in
        production or partially delivered). It stays a draft unless
        ``ship`` is true. On each order line the quantity shipped plus what
        is already in transit may not exceed the open quantity x (1 + the
        over-delivery tolerance)."""
        return await services.create_delivery(data)

    @get("/{delivery_id:uuid}")
    async def get_delivery(self, delivery_id: FromPath[UUID]) -> DeliveryOut:
        return await services.get_delivery(delivery_id)

    @post("/{delivery_id:uuid}/ship", status_code=200, guards=[requires("deliveries.ship")])
    async def ship_delivery(self, delivery_id: FromPath[UUID]) -> DeliveryOut:
        """Send a draft; the over-delivery check runs again."""
        return await services.ship_delivery(delivery_id)

    @post("/{delivery_id:uuid}/cancel", status_code=200, guards=[requires("deliveries.ship")])
    async def cancel_delivery(self, delivery_id: FromPath[UUID], data: JSONBody[CancelIn]) -> DeliveryOut:
        """Withdraw a draft or a notice in transit; ``reason`` is required."""
        return await services.cancel_delivery(delivery_id, data.reason)

    @post("/{delivery_id:uuid}/receipt", status_code=200, guards=[requires("deliveries.receive")])
    async def receive_delivery(self, delivery_id: FromPath[UUID], data: JSONBody[ReceiptIn]) -> DeliveryOut:
        """Every line with ``accepted_quantity`` + ``rejected_quantity`` =
        the shipped quantity, and a ``reject_reason`` when something is
        rejected. Accepted quantities reach the order at once; a second
        receipt answers 409."""
        return await services.receive_delivery(delivery_id, data)
