"""The app factory: ``uvicorn --factory portal.asgi:create_app``."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from litestar import Litestar, Request
from litestar.config.compression import CompressionConfig
from litestar.config.csrf import CSRFConfig
from litestar.datastructures import CacheControlHeader, State
from litestar.middleware import DefineMiddleware
from litestar.openapi import OpenAPIConfig
from litestar.openapi.plugins import ScalarRenderPlugin
from litestar.plugins import PluginProtocol
from litestar.plugins.core import MsgspecDIPlugin
from litestar.plugins.htmx import HTMXPlugin
from litestar.static_files import create_static_files_router

from portal.allow import allow_header_hook
from portal.booleans import refuse_loose_booleans
from portal.configuration.services import remember_categories
from portal.db import TransactionMiddleware, get_engine, start_engine, stop_engine
from portal.documents.intake import SpoolUploadMiddleware
from portal.documents.storage import open_storage, use_process_storage
from portal.errors import EXCEPTION_HANDLERS
from portal.i18n import LocaleMiddleware
from portal.jobs.runner import in_process_jobs
from portal.limits.middleware import RateLimitMiddleware
from portal.limits.services import close_counters
from portal.logs import configure_logging, log_requests
from portal.nul import refuse_nul
from portal.openapi import DecimalSchema, document_api
from portal.routes import domain_routes
from portal.security_headers import security_headers_hook
from portal.settings import get_settings
from portal.templating import STATIC_DIR, template_config
from tenants.middleware import AuthMiddleware

API_VERSION = "0.1.0"
CSRF_EXEMPT = [r"^/api/", r"^/health$"]
REQUEST_BODY_LIMIT = 2 * 1024 * 1024


async def before_request(request: Request[Any, Any, Any]) -> None:
    await refuse_nul(request)
    await refuse_loose_booleans(request)
    # Pages list and name the tenant's document categories from templates,
    # which cannot query: load them once here (in the handler's own task).
    if not request.url.path.startswith(("/api/", "/static/", "/health", "/metrics")):
        await remember_categories()


class Portal(Litestar):
    """Litestar without the plugins it adds for every library it finds
    installed: Pydantic (a dependency of Piccolo) and attrs. The API's
    bodies are msgspec structs; the Pydantic plugin alone imported Pydantic
    and its extra types into every serving process (about 9 MB resident,
    docs/performance.md "Resident memory"). tests/unit/test_app_imports.py
    fails when a Litestar upgrade brings them back."""

    @staticmethod
    def _get_default_plugins(plugins: list[PluginProtocol]) -> list[PluginProtocol]:
        plugins.append(MsgspecDIPlugin())
        return plugins


def create_app() -> Litestar:
    settings = get_settings()
    configure_logging(json=settings.is_production)
    engine = get_engine()
    storage = open_storage(settings)
    use_process_storage(storage)

    @asynccontextmanager
    async def lifespan(app: Litestar) -> AsyncIterator[None]:
        await start_engine(engine)
        try:
            async with in_process_jobs(settings):
                yield
        finally:
            await close_counters()
            await stop_engine(engine)

    static = create_static_files_router(
        path="/static",
        directories=[STATIC_DIR],
        cache_control=CacheControlHeader(max_age=365 * 24 * 3600, public=True),
        include_in_schema=False,
    )
    app = Portal(
        route_handlers=[*domain_routes(), static],
        lifespan=[lifespan],
        state=State({"engine": engine, "storage": storage, "settings": settings}),
        before_send=[security_headers_hook(https=settings.https, connect_sources=storage.browser_origins()), allow_header_hook()],
        # Outermost first: the transaction wraps authentication (which reads
        # the session and sets the RLS settings) and everything after it.
        middleware=[
            # A caller over its rate limit is refused before its body is
            # read; the count lives in the database (every process shares it).
            DefineMiddleware(RateLimitMiddleware, limits=settings.rate_limits),
            # Upload bodies are received onto disk, and their forms parsed,
            # before the transaction opens: a slow upload must not hold the
            # write lock or a pooled connection (portal/documents/intake.py).
            DefineMiddleware(SpoolUploadMiddleware, directory=settings.var_dir / "spool", staging=storage.staging_dir),
            DefineMiddleware(TransactionMiddleware, engine=engine),
            AuthMiddleware,
            DefineMiddleware(LocaleMiddleware, default_locale=settings.default_locale),
        ],
        csrf_config=CSRFConfig(
            secret=settings.secret_key,
            cookie_secure=settings.https,
            cookie_httponly=False,
            # The API takes bearer API tokens only, never the session cookie,
            # so another site cannot make a browser call it. Anchored: Litestar
            # searches the pattern anywhere in the path, and a page path
            # holding "/api/" or "/health" (a path parameter can) must keep
            # its check.
            exclude=CSRF_EXEMPT,
        ),
        before_request=before_request,
        exception_handlers=EXCEPTION_HANDLERS,
        template_config=template_config(auto_reload=not settings.is_production),
        plugins=[HTMXPlugin(), DecimalSchema()],
        compression_config=CompressionConfig(backend="gzip", minimum_size=500, gzip_compress_level=6),
        openapi_config=OpenAPIConfig(
            title="Outsourcing portal API",
            version=API_VERSION,
            path="/schema",
            render_plugins=[ScalarRenderPlugin()],
        ),
        # JSON and form bodies; upload routes set their own limits.
        request_max_body_size=REQUEST_BODY_LIMIT,
        debug=False,
    )
    document_api(app)
    return log_requests(app)


def __getattr__(name: str) -> Any:
    # ``portal.asgi:app`` for servers that want a module attribute.
    if name == "app":
        return create_app()
    raise AttributeError(name)
