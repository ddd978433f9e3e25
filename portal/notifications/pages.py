"""The notification centre: the bell's badge (an htmx fragment every page
loads), the list with links to each item, mark one or all read, and each
person's channels per kind of event."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from litestar import Controller, Request, get, post
from litestar.params import FromPath, FromQuery, JSONBody
from litestar.response import Redirect, Template

from portal.db import WRITES_OPT
from portal.errors import DomainError
from portal.forms import form_values
from portal.notifications import push, services
from portal.notifications.push import PushEndpoint, PushRemoved, SubscriptionIn, SubscriptionOut
from portal.notifications.services import PreferenceIn
from portal.pages import safe_next
from tenants.guards import requires


class NotificationPages(Controller):
    path = "/notifications"
    include_in_schema = False
    guards = [requires("notifications.view")]

    @get("/")
    async def show_notifications(self, cursor: FromQuery[str | None] = None) -> Template:
        items, following = await services.list_notifications(cursor)
        return Template(
            template_name="notifications/index.html",
            context={"items": items, "next": following, "unread": await services.unread_count(), "active_nav": "notifications"},
        )

    @get("/badge")
    async def show_badge(self) -> Template:
        """The bell with the unread count (loaded by every page, refreshed
        every 30 s)."""
        return Template(template_name="notifications/_badge.html", context={"count": await services.unread_count(), "placeholder": False})

    @post("/read-all")
    async def read_all(self) -> Redirect:
        await services.mark_all_read()
        return Redirect(path="/notifications", status_code=303)

    @post("/{notification_id:uuid}/open")
    async def open_notification(self, notification_id: FromPath[UUID]) -> Redirect:
        """Mark it read and go to what it is about."""
        found = await services.mark_read(notification_id)
        return Redirect(path=safe_next(found.link) if found.link else "/notifications", status_code=303)

    # The first to open it makes the portal's VAPID key (push.vapid_key).
    @get("/settings", opt={WRITES_OPT: True})
    async def show_settings(self) -> Template:
        return await self._settings(await services.list_preferences())

    async def _settings(self, items: list[Any], error: DomainError | None = None) -> Template:
        message, fields = error.translated() if error else (None, {})
        return Template(
            template_name="notifications/settings.html",
            context={
                "items": items,
                "error": message,
                "fields": fields,
                "push_key": (await push.public_key()).public_key,
                "active_nav": "notifications",
            },
            status_code=400 if error else 200,
        )

    @post("/push")
    async def subscribe_push(self, data: JSONBody[SubscriptionIn], request: Request[Any, Any, Any]) -> SubscriptionOut:
        """This device's push subscription, from static/js/push.js."""
        return await push.subscribe(data, request.headers.get("user-agent", ""))

    @post("/push/remove", status_code=200)
    async def unsubscribe_push(self, data: JSONBody[PushEndpoint]) -> PushRemoved:
        return PushRemoved(await push.unsubscribe(data.endpoint))

    @post("/settings")
    async def save_settings(self, request: Request[Any, Any, Any]) -> Template | Redirect:
        values = await form_values(request)
        current = await services.list_preferences()
        choices = [
            PreferenceIn(
                kind=item.kind,
                in_app=item.urgent or values.get(f"{item.kind}.in_app") == "on",
                email=values.get(f"{item.kind}.email", item.email),
                push=values.get(f"{item.kind}.push") == "on",
            )
            for item in current
        ]
        try:
            await services.set_preferences(choices)
        except DomainError as exc:
            return await self._settings(current, exc)
        return Redirect(path="/notifications/settings", status_code=303)
