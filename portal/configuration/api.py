"""The tenant's settings in the JSON API, under /api/v1/settings."""

from __future__ import annotations

from uuid import UUID

from litestar import Controller, get, post, put
from litestar.params import FromPath, JSONBody

from portal.configuration import services
from portal.configuration.services import (
    CategoryCreate,
    CategoryOut,
    CategoryUpdate,
    ItemToleranceIn,
    ItemToleranceOut,
    ToleranceIn,
    ToleranceOut,
)
from portal.pagination import Page, page_of
from tenants.guards import requires


class ToleranceApi(Controller):
    path = "/api/v1/settings/tolerance"
    tags = ["settings"]
    guards = [requires("settings.view")]

    @get("/")
    async def get_tolerance(self) -> ToleranceOut:
        """The tenant's tolerances, as fractions (0.02 is 2 %):
        ``dispatch_tolerance``, how far a received material quantity may
        differ from the dispatched one before it needs a reason (a material's
        own tolerance overrides it, see ``/api/v1/settings/item-tolerances``);
        ``over_delivery_tolerance``, how much more than ordered a supplier may
        ship."""
        return await services.get_tolerance()

    @put("/", guards=[requires("settings.manage")])
    async def set_tolerance(self, data: JSONBody[ToleranceIn]) -> ToleranceOut:
        """Both fractions from 0 to 1, at most four decimals. Receipts and
        deliveries already confirmed keep the tolerance they were checked
        against."""
        return await services.set_tolerance(data)


class ItemToleranceApi(Controller):
    path = "/api/v1/settings/item-tolerances"
    tags = ["settings"]
    guards = [requires("items.view")]

    @get("/")
    async def list_item_tolerances(self) -> Page[ItemToleranceOut]:
        """The materials with a dispatch tolerance of their own (one page:
        ``next`` is always null)."""
        return page_of(await services.list_item_tolerances())

    @put("/{item_id:uuid}", guards=[requires("settings.manage")])
    async def set_item_tolerance(self, item_id: FromPath[UUID], data: JSONBody[ItemToleranceIn]) -> ItemToleranceOut:
        """Give a material its own dispatch tolerance (a fraction 0 to 1), or
        with ``null`` let it follow the tenant's again."""
        return await services.set_item_tolerance(item_id, data)


class DocumentCategoryApi(Controller):
    path = "/api/v1/settings/document-categories"
    tags = ["settings"]
    guards = [requires("settings.view")]

    @get("/")
    async def list_document_categories(self) -> Page[CategoryOut]:
        """Every category documents are filed under: the built-in ones
        (``builtin``) and the tenant's own, switched on or off (``active``);
        ``base`` names the built-in category whose file types and size limit
        apply. One page: ``next`` is always null."""
        return page_of(await services.list_categories())

    @post("/", guards=[requires("settings.manage")])
    async def create_document_category(self, data: JSONBody[CategoryCreate]) -> CategoryOut:
        """A category of the tenant's own: ``key`` (2-40 small letters,
        digits, underscores; never changes), ``label``, and ``base``, the
        built-in category whose file rules it takes."""
        return await services.create_category(data)

    @get("/{category_id:uuid}")
    async def get_document_category(self, category_id: FromPath[UUID]) -> CategoryOut:
        return await services.get_category(category_id)

    @put("/{category_id:uuid}", guards=[requires("settings.manage")])
    async def update_document_category(self, category_id: FromPath[UUID], data: JSONBody[CategoryUpdate]) -> CategoryOut:
        """Rename a category or switch it off (``active``: false): documents
        filed under it keep it, new ones cannot choose it. Photos and
        "other" stay on."""
        return await services.update_category(category_id, data)
