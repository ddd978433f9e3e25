"""Notifications and webhooks JSON API: the same services as the pages."""

from __future__ import annotations

from typing import Any
from uuid import UUID

import msgspec
from litestar import Controller, Request, delete, get, post, put
from litestar.params import FromPath, FromQuery, JSONBody

from portal.db import WRITES_OPT
from portal.notifications import push, services, webhooks
from portal.notifications.push import PushKey, SubscriptionIn, SubscriptionOut
from portal.notifications.services import NotificationOut, PreferenceIn, PreferenceOut
from portal.notifications.webhooks import DeliveryOut, WebhookIn, WebhookOut
from portal.pagination import Page, page_of
from tenants.guards import requires


class UnreadCount(msgspec.Struct, frozen=True):
    count: int


class ReadAll(msgspec.Struct, frozen=True):
    marked: int


class NotificationApi(Controller):
    path = "/api/v1/notifications"
    tags = ["notifications"]
    guards = [requires("notifications.view")]

    @get("/")
    async def list_notifications(self, cursor: FromQuery[str | None] = None, unread: FromQuery[bool] = False) -> Page[NotificationOut]:
        """The signed-in person's notifications in this tenant, newest first
        (``unread=true``: only unread), each with its title and body in the
        reader's language and the portal path it opens."""
        items, following = await services.list_notifications(cursor, unread)
        return page_of(items, following)

    @get("/unread-count")
    async def unread_count(self) -> UnreadCount:
        return UnreadCount(await services.unread_count())

    @post("/read-all", status_code=200)
    async def read_all(self) -> ReadAll:
        """Mark every unread notification read; answers how many were."""
        return ReadAll(await services.mark_all_read())

    @get("/preferences")
    async def list_preferences(self) -> Page[PreferenceOut]:
        """Channels per kind of event: in-app, and email instant, in the
        daily digest or off. Urgent kinds always stay in the app."""
        return page_of(await services.list_preferences())

    @put("/preferences")
    async def set_preferences(self, data: JSONBody[list[PreferenceIn]]) -> Page[PreferenceOut]:
        return page_of(await services.set_preferences(data))

    # The first to ask makes the portal's VAPID key (push.vapid_key).
    @get("/push-key", opt={WRITES_OPT: True})
    async def show_push_key(self) -> PushKey:
        """The portal's VAPID public key (base64url): the
        ``applicationServerKey`` a browser subscribes to Web Push with."""
        return await push.public_key()

    @get("/push-subscriptions")
    async def list_push_subscriptions(self) -> Page[SubscriptionOut]:
        """The caller's devices that receive Web Push in this tenant."""
        return page_of(await push.list_subscriptions())

    @post("/push-subscriptions")
    async def create_push_subscription(self, data: JSONBody[SubscriptionIn], request: Request[Any, Any, Any]) -> SubscriptionOut:
        """Receive Web Push on one more device: the body is the browser's
        ``PushSubscription.toJSON()`` (``endpoint``, ``keys.p256dh``,
        ``keys.auth``). The same endpoint again replaces its keys. In
        production the endpoint must be HTTPS at a public address."""
        return await push.subscribe(data, request.headers.get("user-agent", ""))

    @delete("/push-subscriptions/{subscription_id:uuid}")
    async def delete_push_subscription(self, subscription_id: FromPath[UUID]) -> None:
        """Stop Web Push to that device."""
        await push.remove_subscription(subscription_id)

    @post("/{notification_id:uuid}/read", status_code=200)
    async def read_notification(self, notification_id: FromPath[UUID]) -> NotificationOut:
        return await services.mark_read(notification_id)


class WebhookApi(Controller):
    path = "/api/v1/webhooks"
    tags = ["webhooks"]
    guards = [requires("webhooks.manage")]

    @get("/")
    async def list_webhooks(self) -> Page[WebhookOut]:
        """The tenant's endpoints (without their secrets), newest first."""
        return page_of(await webhooks.list_endpoints())

    @post("/")
    async def create_webhook(self, data: JSONBody[WebhookIn]) -> WebhookOut:
        """Register an endpoint for chosen events (``["*"]``: all). The
        answer's ``secret`` signs every delivery (docs/webhooks.md) and is
        shown only here. In production the URL must be HTTPS to a public
        address."""
        return await webhooks.create_endpoint(data)

    @get("/{webhook_id:uuid}/deliveries")
    async def list_deliveries(self, webhook_id: FromPath[UUID], cursor: FromQuery[str | None] = None) -> Page[DeliveryOut]:
        """Each event sent to the endpoint: status (pending, delivered,
        failed, skipped), attempts, the last response code and error."""
        items, following = await webhooks.list_deliveries(webhook_id, cursor)
        return page_of(items, following)
