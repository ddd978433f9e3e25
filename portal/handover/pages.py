"""Handover pages: the buyer's list (start a handover) and a handover's
page, where each party signs off its entries (the suppliers from a phone)
and the buyer starts, completes or cancels; the admin's checklist template.
Thin: parse the form, call one service, redirect (303) or re-render with
the error."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any
from uuid import UUID

from litestar import Controller, Request, Response, get, post
from litestar.params import FromPath, FromQuery
from litestar.response import Redirect, Template

from portal.documents.controllers import download, storage_of
from portal.errors import DomainError, NotFound, PermissionDenied
from portal.forms import form_page, form_values, form_version, read_form
from portal.handover import services
from portal.handover.checklist import PARTY_LABELS, Party, Source
from portal.handover.schemas import HandoverCreate, TemplateIn, TemplateItem, TemplateSection
from portal.handover.states import STATUS_LABELS, Status
from portal.i18n import N_, gettext
from tenants.guards import acting, requires

DONE_MESSAGES = {
    "created": N_("The handover is drafted with its checklist. Check it, then start it."),
    "started": N_("Started: both suppliers see the entries of their side."),
    "signed": N_("Entry signed off."),
    "held": N_("The write-off waits for approval: the entry is signed off once it is approved."),
    "completed": N_("Completed: the work has moved to the new supplier."),
    "cancelled": N_("Cancelled: nothing was moved."),
    "template": N_("The checklist template is saved. New handovers use it."),
}
SOURCE_LABELS = {
    Source.NONE.value: N_("One entry"),
    Source.ORDERS.value: N_("One per open order"),
    Source.MATERIALS.value: N_("One per material balance"),
    Source.DOCUMENTS.value: N_("One per technical document"),
    Source.QC.value: N_("One per QC requirement"),
    Source.NCRS.value: N_("One per open NCR"),
}
# Empty rows the template form offers for new entries.
SPARE_ROWS = 3

VIEW = [requires("handovers.view")]
MANAGE = [requires("handovers.manage")]
SIGN = [requires("handovers.sign")]
CONFIGURE = [requires("handovers.configure")]
PACKAGE = [requires("handovers.package")]


def _common() -> dict[str, Any]:
    return {
        "active_nav": "handovers",
        "status_labels": {status.value: gettext(label) for status, label in STATUS_LABELS.items()},
        "party_labels": services.party_labels(),
        "decision_labels": services.decision_labels(),
    }


def _reraise_lookup(exc: DomainError) -> None:
    if isinstance(exc, (NotFound, PermissionDenied)) and not isinstance(exc, services.NotYourItem):
        raise exc


def _uuid(value: str) -> UUID | None:
    try:
        return UUID(value)
    except ValueError:
        return None


def _version(values: dict[str, str]) -> int:
    """A handover's forms always carry its version (0 fails the check)."""
    return form_version(values) or 0


def _done(message: str | None) -> str | None:
    found = DONE_MESSAGES.get(message or "")
    return gettext(found) if found else None


class HandoverPages(Controller):
    path = "/handovers"
    include_in_schema = False

    async def _index(
        self, status: str | None, cursor: str | None = None, values: dict[str, str] | None = None, error: DomainError | None = None
    ) -> Template:
        context = acting()
        status = status if status in {s.value for s in Status} else None
        listing = await services.list_handovers(status, cursor)
        manage = context.can("handovers.manage")
        suppliers = await services.handover_suppliers() if manage else []
        return form_page(
            "handover/index.html",
            values=values,
            error=error,
            handovers=listing.items,
            next=listing.next,
            status=status or "",
            statuses=list(Status),
            from_options=[("", "—")] + [(str(row["id"]), row["name"]) for row in suppliers],
            # Newest first: work usually goes to a supplier just taken on.
            to_options=[
                (str(row["id"]), row["name"])
                for row in sorted(suppliers, key=lambda row: row["created_at"], reverse=True)
                if row["status"] == "active"
            ],
            **_common(),
        )

    @get("/", name="handovers", guards=VIEW)
    async def show_handovers(self, status: FromQuery[str | None] = None, cursor: FromQuery[str | None] = None) -> Template:
        return await self._index(status, cursor)

    @post("/", guards=MANAGE)
    async def create_handover(self, request: Request[Any, Any, Any]) -> Redirect | Template:
        values = await form_values(request)
        problems: dict[str, str] = {}
        from_supplier, to_supplier = _uuid(values.get("from_supplier_id", "")), _uuid(values.get("to_supplier_id", ""))
        if from_supplier is None:
            problems["from_supplier_id"] = N_("Choose a supplier.")
        if to_supplier is None:
            problems["to_supplier_id"] = N_("Choose a supplier.")
        codes = [code.strip() for code in values.get("item_codes", "").replace(",", " ").split() if code.strip()]
        try:
            if problems or from_supplier is None or to_supplier is None:
                raise services.InvalidHandover(fields=problems)
            item_ids = await services.item_ids_for_codes(codes)
            handover = await services.create_handover(
                HandoverCreate(
                    from_supplier_id=from_supplier,
                    to_supplier_id=to_supplier,
                    item_ids=item_ids,
                    note_internal=values.get("note_internal", ""),
                )
            )
        except DomainError as exc:
            _reraise_lookup(exc)
            return await self._index(None, None, values, exc)
        return Redirect(path=f"/handovers/{handover.id}?done=created", status_code=303)

    # ------------------------------------------------------------ one handover

    async def _detail(
        self, handover_id: UUID, values: dict[str, str] | None = None, error: DomainError | None = None, done: str | None = None
    ) -> Template:
        handover = await services.get_handover(handover_id)
        context = acting()
        sections: dict[str, list[Any]] = {}
        for item in handover.items:
            sections.setdefault(item.section, []).append(item)
        signable = await services.signable_items(handover)
        return form_page(
            "handover/detail.html",
            values=values,
            error=error,
            handover=handover,
            sections=sections,
            signable=signable,
            can_manage=context.can("handovers.manage"),
            can_upload=context.can("documents.upload"),
            can_download=context.can("handovers.package"),
            done_message=_done(done),
            **_common(),
        )

    @get("/{handover_id:uuid}", guards=VIEW)
    async def show_handover(self, handover_id: FromPath[UUID], done: FromQuery[str | None] = None) -> Template:
        return await self._detail(handover_id, done=done)

    async def _act(
        self, handover_id: UUID, done: str, action: Callable[[], Awaitable[Any]], values: dict[str, str] | None = None
    ) -> Redirect | Template:
        try:
            await action()
        except DomainError as exc:
            _reraise_lookup(exc)
            return await self._detail(handover_id, values, exc)
        return Redirect(path=f"/handovers/{handover_id}?done={done}", status_code=303)

    @get("/{handover_id:uuid}/package", guards=PACKAGE, media_type="application/zip")
    async def download_handover_package(self, request: Request[Any, Any, Any], handover_id: FromPath[UUID]) -> Response[Any]:
        return download(storage_of(request), await services.package_version(handover_id))

    @post("/{handover_id:uuid}/start", guards=MANAGE)
    async def start_handover(self, handover_id: FromPath[UUID], request: Request[Any, Any, Any]) -> Redirect | Template:
        values = await form_values(request)
        return await self._act(handover_id, "started", lambda: services.start_handover(handover_id, _version(values)), values)

    @post("/{handover_id:uuid}/complete", guards=MANAGE)
    async def complete_handover(self, handover_id: FromPath[UUID], request: Request[Any, Any, Any]) -> Redirect | Template:
        values = await form_values(request)
        return await self._act(handover_id, "completed", lambda: services.complete_handover(handover_id, _version(values)), values)

    @post("/{handover_id:uuid}/cancel", guards=MANAGE)
    async def cancel_handover(self, handover_id: FromPath[UUID], request: Request[Any, Any, Any]) -> Redirect | Template:
        values = await form_values(request)
        return await self._act(
            handover_id, "cancelled", lambda: services.cancel_handover(handover_id, _version(values), values.get("reason", "")), values
        )

    @post("/{handover_id:uuid}/items/{handover_item_id:uuid}/sign-off", guards=SIGN)
    async def sign_off_item(
        self, handover_id: FromPath[UUID], handover_item_id: FromPath[UUID], request: Request[Any, Any, Any]
    ) -> Redirect | Template:
        values = await form_values(request)
        values["item"] = str(handover_item_id)
        try:
            handover = await services.sign_off(handover_id, handover_item_id, values.get("decision", ""), values.get("note", ""))
        except DomainError as exc:
            _reraise_lookup(exc)
            return await self._detail(handover_id, values, exc)
        held = any(item.id == handover_item_id and item.waiting_for_approval for item in handover.items)
        return Redirect(path=f"/handovers/{handover_id}?done={'held' if held else 'signed'}", status_code=303)


class HandoverTemplatePages(Controller):
    path = "/admin/handover-template"
    include_in_schema = False

    async def _form(self, rows: list[dict[str, Any]] | None = None, error: DomainError | None = None, done: str | None = None) -> Template:
        if rows is None:
            template = await services.get_template()
            rows = [
                {
                    "section": section.title,
                    "title": item.title,
                    "party": item.party,
                    "source": item.source,
                    "evidence": item.evidence,
                    "blocking": item.blocking,
                }
                for section in template.sections
                for item in section.items
            ]
        rows = (
            rows
            + [{"section": "", "title": "", "party": Party.PLANNER.value, "source": "", "evidence": False, "blocking": True}] * SPARE_ROWS
        )
        return form_page(
            "handover/template.html",
            error=error,
            rows=rows,
            party_options=[(party.value, gettext(label)) for party, label in PARTY_LABELS.items()],
            source_options=[(key, gettext(label)) for key, label in SOURCE_LABELS.items()],
            done_message=_done(done),
            **_common(),
        )

    @get("/", guards=CONFIGURE)
    async def show_handover_template(self, done: FromQuery[str | None] = None) -> Template:
        return await self._form(done=done)

    @post("/", guards=CONFIGURE)
    async def save_handover_template(self, request: Request[Any, Any, Any]) -> Redirect | Template:
        form = await read_form(request)
        count = sum(1 for key in form if key.startswith("title-"))
        rows: list[dict[str, Any]] = []
        for index in range(count):
            title = str(form.get(f"title-{index}", "")).strip()
            if not title:
                continue
            rows.append(
                {
                    "section": str(form.get(f"section-{index}", "")).strip(),
                    "title": title,
                    "party": str(form.get(f"party-{index}", "")),
                    "source": str(form.get(f"source-{index}", "")),
                    "evidence": form.get(f"evidence-{index}") == "on",
                    "blocking": form.get(f"blocking-{index}") == "on",
                }
            )
        sections: list[TemplateSection] = []
        for row in rows:
            item = TemplateItem(row["title"], row["party"], row["evidence"], row["blocking"], row["source"])
            if sections and sections[-1].title == row["section"]:
                sections[-1].items.append(item)
            else:
                sections.append(TemplateSection(row["section"], [item]))
        try:
            await services.save_template(TemplateIn(sections=sections))
        except DomainError as exc:
            _reraise_lookup(exc)
            return await self._form(rows, exc)
        return Redirect(path="/admin/handover-template?done=template", status_code=303)
