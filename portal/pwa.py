"""The installable app: web app manifest, service worker and offline page.

The service worker's source is ``static/sw.js``; it is served from the
site root (its scope must cover every page) with the content-hashed URLs of
the app shell and a version derived from them written in, so that a new
release installs a new worker, which activates at once. Queued reports
live in IndexedDB, not in the caches a new worker clears, so an update
never loses them.
"""

from __future__ import annotations

import functools
import hashlib
import json

from litestar import MediaType, Response, get
from litestar.response import Template

from portal.i18n import current_locale, gettext
from portal.templating import STATIC_DIR, static_url

THEME_COLOUR = "#1f4e79"
# What the phone needs to draw any cached page and the offline page.
SHELL_ASSETS = (
    "css/app.css",
    "vendor/htmx.min.js",
    "js/outbox.js",
    "js/outbox-core.js",
    "js/photos.js",
    "js/nav.js",
    "js/forms.js",
    "img/icon.svg",
    "img/icon-192.png",
)
ICONS = (
    ("img/icon-192.png", "192x192", "any"),
    ("img/icon-512.png", "512x512", "any"),
    ("img/icon-maskable-512.png", "512x512", "maskable"),
)


@functools.cache
def service_worker_source() -> str:
    shell = [static_url(path) for path in SHELL_ASSETS] + ["/offline"]
    version = hashlib.sha256("\n".join(shell).encode()).hexdigest()[:12]
    source = (STATIC_DIR / "sw.js").read_text(encoding="utf-8")
    return source.replace("__VERSION__", version).replace("__SHELL__", json.dumps(shell))


@get("/sw.js", name="service_worker", include_in_schema=False)
async def service_worker() -> Response[str]:
    # Browsers check the worker for updates at most daily anyway; no-cache
    # makes every check reach us so a release is picked up at once.
    return Response(
        service_worker_source(),
        media_type="text/javascript; charset=utf-8",
        headers={"cache-control": "no-cache", "service-worker-allowed": "/"},
    )


@get("/manifest.webmanifest", name="manifest", include_in_schema=False)
async def manifest() -> Response[str]:
    """Names in the reader's language (the user's, else the switch or the
    browser's); installed apps keep the name they were installed with."""
    body = {
        "id": "/",
        "name": gettext("Outsourcing portal"),
        "short_name": gettext("Portal"),
        "description": gettext("Orders, progress and quality documents shared between a buyer and its suppliers."),
        "lang": current_locale.get().replace("_", "-"),
        "start_url": "/",
        "scope": "/",
        "display": "standalone",
        "orientation": "portrait",
        "theme_color": THEME_COLOUR,
        "background_color": "#ffffff",
        "icons": [{"src": static_url(path), "sizes": sizes, "type": "image/png", "purpose": purpose} for path, sizes, purpose in ICONS],
    }
    return Response(
        json.dumps(body, ensure_ascii=False),
        media_type="application/manifest+json",
        headers={"cache-control": "no-cache", "vary": "Cookie, Accept-Language"},
    )


@get("/offline", name="offline", include_in_schema=False)
async def offline() -> Template:
    """What the service worker shows for a page it has no copy of. Cached
    at install, so it carries nothing about the person."""
    return Template(template_name="offline.html", media_type=MediaType.HTML)
