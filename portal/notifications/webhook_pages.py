"""The tenant admin's webhook pages: endpoints with their state, registering
one (the secret is shown once, on the answer to the registration), and an
endpoint's deliveries with each outcome. Same services as the API."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from litestar import Controller, Request, get, post
from litestar.params import FromPath, FromQuery
from litestar.response import Template

from portal.errors import DomainError
from portal.forms import read_form
from portal.notifications import webhooks
from portal.notifications.kinds import KINDS
from portal.notifications.webhooks import WebhookIn, WebhookOut
from tenants.guards import requires


class WebhookPages(Controller):
    path = "/admin/webhooks"
    include_in_schema = False
    guards = [requires("webhooks.manage")]

    @get("/")
    async def show_webhooks(self) -> Template:
        return await _list({})

    @post("/")
    async def create_webhook(self, request: Request[Any, Any, Any]) -> Template:
        """Not a redirect: the answer is the one place the secret is shown."""
        form = await read_form(request)
        values = {key: str(form.get(key) or "") for key in ("url", "description")}
        events = [str(name) for name in form.getall("events", [])]
        try:
            created = await webhooks.create_endpoint(
                WebhookIn(url=values["url"], events=events or ["*"], description=values["description"])
            )
        except DomainError as exc:
            return await _list(values, error=exc, chosen=events)
        return await _list({}, created=created)

    @get("/{webhook_id:uuid}")
    async def show_deliveries(self, webhook_id: FromPath[UUID], cursor: FromQuery[str | None] = None) -> Template:
        endpoint = await webhooks.get_endpoint(webhook_id)
        items, following = await webhooks.list_deliveries(webhook_id, cursor)
        return Template(
            template_name="admin/webhook.html",
            context={"endpoint": endpoint, "deliveries": items, "next": following, "active_nav": "account"},
        )


async def _list(
    values: dict[str, str], *, error: DomainError | None = None, created: WebhookOut | None = None, chosen: list[str] | None = None
) -> Template:
    message, fields = error.translated() if error else (None, {})
    return Template(
        template_name="admin/webhooks.html",
        context={
            "endpoints": await webhooks.list_endpoints(),
            "kinds": [(kind.name, kind.render({})[0]) for kind in KINDS.values()],
            "values": values,
            # A refused form keeps the events it had ticked.
            "chosen": chosen or [],
            "created": created,
            "error": message,
            "fields": fields,
            "active_nav": "account",
        },
        status_code=400 if error else 200,
    )
