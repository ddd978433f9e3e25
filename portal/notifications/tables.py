"""Notifications (one row per recipient), each user's channel choices, and
the tenant's webhook endpoints with their deliveries."""

from __future__ import annotations

from piccolo.columns import UUID, Boolean, ForeignKey, Integer, Text, Timestamptz, Varchar
from piccolo.columns.base import OnDelete
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table

from portal.notifications.records import RECORD_TABLES
from tenants.tables import Supplier, Tenant, User


class Notification(Table):
    """What one person was told about one event. Title and body are not
    stored: they are rendered from ``kind`` and ``params`` in the reader's
    language whenever shown. A supplier user's rows carry its supplier, so
    scoping and row-level security keep them to that supplier; the services
    keep every row to its ``user``. ``record_type``/``record_id`` name the
    record the event was about (empty: none): a supplier user reads the row
    only while it reads that record, so a notification delivered before the
    record was hidden from it (a handover, a draft taken back) loses its
    title and link with the record."""

    supplier_scope = "supplier"
    supplier_record = ("record_type", "record_id")

    @classmethod
    def record_tables(cls) -> dict[str, str]:
        return RECORD_TABLES

    id = UUID(primary_key=True)
    tenant = ForeignKey(Tenant, on_delete=OnDelete.restrict, null=False, index=True)
    user = ForeignKey(User, on_delete=OnDelete.restrict, null=False)
    supplier = ForeignKey(Supplier, on_delete=OnDelete.restrict, null=True, default=None)
    event_id = UUID()
    kind = Varchar(length=60)
    params = Text(default="{}")
    link = Varchar(length=300, default="")
    record_type = Varchar(length=30, default="")
    record_id = UUID(null=True, default=None)
    created_at = Timestamptz(default=TimestamptzNow())
    read_at = Timestamptz(null=True, default=None)
    # none (in-app only), sent (emailed at once), digest (waits for the
    # daily digest), digested.
    email = Varchar(length=10, default="none")


class NotificationPreference(Table):
    """A user's channel choice for one kind of event in one tenant; no row
    means the kind's default."""

    supplier_scope = "supplier"

    id = UUID(primary_key=True)
    tenant = ForeignKey(Tenant, on_delete=OnDelete.restrict, null=False, index=True)
    user = ForeignKey(User, on_delete=OnDelete.restrict, null=False)
    supplier = ForeignKey(Supplier, on_delete=OnDelete.restrict, null=True, default=None)
    kind = Varchar(length=60)
    in_app = Boolean(default=True)
    # instant, digest or off.
    email = Varchar(length=10, default="instant")
    # Web Push to the person's devices; None: the kind's default.
    push = Boolean(null=True, default=None)
    updated_at = Timestamptz(default=TimestamptzNow())


class WebhookEndpoint(Table):
    """An HTTPS endpoint of the tenant's ERP/MES that receives chosen events,
    signed with its own secret. Buyer-side only: suppliers see none."""

    id = UUID(primary_key=True)
    tenant = ForeignKey(Tenant, on_delete=OnDelete.restrict, null=False, index=True)
    url = Varchar(length=500)
    secret = Varchar(length=100)
    # JSON list of event kinds; ["*"] for all.
    events = Text(default='["*"]')
    description = Varchar(length=200, default="")
    active = Boolean(default=True)
    # Set at the first failure of a run of failures, cleared by a success.
    failing_since = Timestamptz(null=True, default=None)
    disabled_at = Timestamptz(null=True, default=None)
    disabled_reason = Varchar(length=300, default="")
    created_by = ForeignKey(User, on_delete=OnDelete.restrict, null=True, default=None)
    created_at = Timestamptz(default=TimestamptzNow())


class WebhookDelivery(Table):
    """One event sent (or being sent) to one endpoint: the body as signed,
    each attempt's outcome."""

    id = UUID(primary_key=True)
    tenant = ForeignKey(Tenant, on_delete=OnDelete.restrict, null=False, index=True)
    endpoint = ForeignKey(WebhookEndpoint, on_delete=OnDelete.restrict, null=False)
    event_id = UUID()
    kind = Varchar(length=60)
    body = Text()
    # pending, delivered, failed (gave up), skipped (endpoint disabled).
    status = Varchar(length=10, default="pending")
    attempts = Integer(default=0)
    response_code = Integer(null=True, default=None)
    last_error = Text(default="")
    created_at = Timestamptz(default=TimestamptzNow())
    delivered_at = Timestamptz(null=True, default=None)


class PushSubscription(Table):
    """One browser (a phone, a desktop) that asked for Web Push for its
    user in this tenant: where its push service takes messages, and the
    keys that encrypt them for that browser alone."""

    supplier_scope = "supplier"

    id = UUID(primary_key=True)
    tenant = ForeignKey(Tenant, on_delete=OnDelete.restrict, null=False, index=True)
    user = ForeignKey(User, on_delete=OnDelete.restrict, null=False)
    supplier = ForeignKey(Supplier, on_delete=OnDelete.restrict, null=True, default=None)
    endpoint = Varchar(length=1000)
    # The browser's P-256 public key and auth secret, base64url.
    p256dh = Varchar(length=200)
    auth = Varchar(length=100)
    user_agent = Varchar(length=300, default="")
    # The sign-in session that subscribed: signing out of it stops the pushes.
    session = UUID(null=True, default=None)
    created_at = Timestamptz(default=TimestamptzNow())


class ChatRobot(Table):
    """A DingTalk, WeCom or Feishu group robot that posts chosen events to a
    work chat group. The buyer's own (``supplier`` empty, set up by a tenant
    admin) or one supplier's (set up by its admin, hearing only that
    supplier's events). The URL carries the robot's token: shown once."""

    supplier_scope = "supplier"

    id = UUID(primary_key=True)
    tenant = ForeignKey(Tenant, on_delete=OnDelete.restrict, null=False, index=True)
    supplier = ForeignKey(Supplier, on_delete=OnDelete.restrict, null=True, default=None)
    # dingtalk, wecom or feishu.
    service = Varchar(length=10)
    url = Varchar(length=500)
    secret = Varchar(length=200, default="")
    # JSON list of event kinds; ["*"] for all the robot may hear.
    events = Text(default='["*"]')
    description = Varchar(length=200, default="")
    # Disconnected robots are kept (soft-closed), never posted to.
    active = Boolean(default=True)
    last_sent_at = Timestamptz(null=True, default=None)
    last_error = Varchar(length=300, default="")
    created_by = ForeignKey(User, on_delete=OnDelete.restrict, null=True, default=None)
    created_at = Timestamptz(default=TimestamptzNow())


class VapidKey(Table):
    """The portal's one VAPID key pair (the application server key of Web
    Push), made by the first process that needs it and kept: browsers tie
    their subscriptions to its public half. Not tenant data."""

    id = Varchar(length=20, primary_key=True)
    private_pem = Text()
    public_key = Varchar(length=200)
    created_at = Timestamptz(default=TimestamptzNow())


TABLES = (Notification, NotificationPreference, WebhookEndpoint, WebhookDelivery, PushSubscription, ChatRobot, VapidKey)
