"""Handover JSON API: the same services as the pages."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from litestar import Controller, Request, Response, get, post, put
from litestar.params import FromPath, FromQuery, JSONBody

from portal.documents.controllers import download, storage_of
from portal.handover import services
from portal.handover.schemas import HandoverCreate, HandoverList, HandoverOut, SignOffIn, TemplateIn, TemplateOut, TransitionIn
from portal.handover.states import Status
from tenants.guards import requires


class HandoverApi(Controller):
    path = "/api/v1/handovers"
    tags = ["handovers"]
    guards = [requires("handovers.view")]

    @get("/")
    async def list_handovers(self, status: FromQuery[Status | None] = None, cursor: FromQuery[str | None] = None) -> HandoverList:
        """Newest first; ``status`` draft, in_progress, completed or
        cancelled. Supplier users see the handovers they are part of, once
        started."""
        return await services.list_handovers(status.value if status else None, cursor)

    @post("/", guards=[requires("handovers.manage")])
    async def create_handover(self, data: JSONBody[HandoverCreate]) -> HandoverOut:
        """A draft from ``from_supplier_id`` to ``to_supplier_id``, for the
        items in ``item_ids`` (all of the supplier's work when empty); the
        checklist comes pre-filled from the open orders, material balances,
        technical documents and QC requirements. 400 for the same supplier
        twice, a supplier this tenant does not have, or items with no work."""
        return await services.create_handover(data)

    @get("/{handover_id:uuid}")
    async def get_handover(self, handover_id: FromPath[UUID]) -> HandoverOut:
        """``status``, ``from_supplier_id``, ``to_supplier_id`` (null for the
        outgoing supplier), the checklist ``items`` (each party sees its
        own) and, after completion, ``transferred_orders``: the orders the
        incoming supplier now holds."""
        return await services.get_handover(handover_id)

    @post("/{handover_id:uuid}/start", status_code=200, guards=[requires("handovers.manage")])
    async def start_handover(self, handover_id: FromPath[UUID], data: JSONBody[TransitionIn]) -> HandoverOut:
        """Share the checklist with both suppliers."""
        return await services.start_handover(handover_id, data.version)

    @post("/{handover_id:uuid}/items/{handover_item_id:uuid}/sign-off", status_code=200, guards=[requires("handovers.sign")])
    async def sign_off_item(self, handover_id: FromPath[UUID], handover_item_id: FromPath[UUID], data: JSONBody[SignOffIn]) -> HandoverOut:
        """The entry's party signs it off, with a ``decision`` for an entry
        about an order (finish, cancel_rest, transfer) or a material balance
        (return, transfer, write_off: finance signs a write-off). Evidence is
        a document attached to the entry first (``attached_type``
        ``handover_item``). 403 for an entry of another party."""
        return await services.sign_off(handover_id, handover_item_id, data.decision, data.note)

    @post("/{handover_id:uuid}/complete", status_code=200, guards=[requires("handovers.manage")])
    async def complete_handover(self, handover_id: FromPath[UUID], data: JSONBody[TransitionIn]) -> HandoverOut:
        """Once every blocking entry is signed off (409 otherwise, and for a
        ``version`` someone else has moved on from): the work moves to the
        incoming supplier in one transaction."""
        return await services.complete_handover(handover_id, data.version)

    @post("/{handover_id:uuid}/cancel", status_code=200, guards=[requires("handovers.manage")])
    async def cancel_handover(self, handover_id: FromPath[UUID], data: JSONBody[TransitionIn]) -> HandoverOut:
        """Before completion, with a ``reason``: nothing moves."""
        return await services.cancel_handover(handover_id, data.version, data.reason)

    @get(
        "/{handover_id:uuid}/package",
        guards=[requires("handovers.package")],
        media_type="application/zip",
        files=("application/zip",),
        redirect=True,
        errors=[409],
    )
    async def download_handover_package(self, request: Request[Any, Any, Any], handover_id: FromPath[UUID]) -> Response[Any]:
        """The ZIP of a completed handover: the current version of every
        handed-over document and ``index.pdf`` (the checklist, sign-offs,
        the document list with sha256). Built by a background job after
        completion: 409 until then."""
        return download(storage_of(request), await services.package_version(handover_id))


class HandoverTemplateApi(Controller):
    path = "/api/v1/settings/handover-template"
    tags = ["handovers"]
    guards = [requires("handovers.manage")]

    @get("/")
    async def get_handover_template(self) -> TemplateOut:
        """The checklist new handovers start from: sections of entries, each
        with its ``party``, whether it needs ``evidence``, whether it is
        ``blocking`` and the ``source`` it repeats for (order, material,
        document, qc_requirement; empty for one entry)."""
        return await services.get_template()

    @put("/", guards=[requires("handovers.configure")])
    async def update_handover_template(self, data: JSONBody[TemplateIn]) -> TemplateOut:
        return await services.save_template(data)
