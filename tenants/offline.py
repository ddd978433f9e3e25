"""What the phone's service worker and outbox are told about who is acting.

Kept pages (static/sw.js) are bound to one session: every page response
names that session by an opaque key (``x-portal-session``) and how long it
still lasts (``x-portal-session-expires-in``), or says ``none`` when nobody
is signed in. The worker keeps a page only in the cache of the key its
response carried, reads only the cache of the current key, drops every
other key's cache when the key changes or turns ``none``, and stops reading
a cache when the session's lifetime has run out. The key is an HMAC of the
session id: it names one session and cannot be worked out from anything
the phone holds.

Queued outbox items (static/js/outbox-core.js) are bound to a person in a
tenant (their "owner"): the phone sends an item only with its owner's
session, and every request it sends says whose item it is
(``x-outbox-owner``); the server refuses one that is not the acting
person's, before any handler sees it, so a queued item never lands under
another account even if the phone's own check were wrong (a sign-in in
another tab racing a background sync). The item stays on the phone for its
owner.
"""

from __future__ import annotations

import hashlib
import hmac
from datetime import UTC, datetime

from portal.settings import get_settings
from tenants.context import TenantContext

SESSION_HEADER = "x-portal-session"
SESSION_LIFETIME_HEADER = "x-portal-session-expires-in"
NOBODY = "none"
OWNER_HEADER = "x-outbox-owner"
# Set on the refusal, so the phone tells it from any other 409.
OUTBOX_REFUSAL_HEADER = "x-portal-outbox"
NOT_YOURS = "not-yours"


def page_session_key(context: TenantContext) -> str:
    """The opaque name of this session's kept pages."""
    message = f"kept-pages:{context.session_id}".encode()
    return hmac.new(get_settings().secret_key.encode(), message, hashlib.sha256).hexdigest()[:32]


def outbox_owner(context: TenantContext) -> str:
    """Whose queued items this session may send: the person in this tenant,
    whichever of their sessions (signing in again sends what waited)."""
    return f"{context.user_id}.{context.tenant_id}"


def session_headers(context: TenantContext | None) -> dict[str, str]:
    """The headers a page response carries about its session."""
    if context is None or context.session_id is None:
        return {SESSION_HEADER: NOBODY}
    headers = {SESSION_HEADER: page_session_key(context)}
    if context.session_expires_at is not None:
        left = max(0, int((context.session_expires_at - datetime.now(UTC)).total_seconds()))
        headers[SESSION_LIFETIME_HEADER] = str(left)
    return headers


def foreign_outbox_item(context: TenantContext | None, claimed_owner: str | None) -> bool:
    """True when a queued item of someone else reached this session. With
    nobody signed in the request goes on and meets the usual sign-in
    answer, which the phone reads as "sign in again"."""
    if claimed_owner is None or context is None:
        return False
    return not hmac.compare_digest(claimed_owner, outbox_owner(context))
