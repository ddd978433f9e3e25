"""Work an operator process (the demo loaders, the CLI) does tenant by
tenant: find each named tenant across tenants (a named system scope), then
act inside it alone as a named operator."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable

from tenants.context import operator_context, system_scope, tenant_scope
from tenants.tables import Tenant


async def for_each_tenant(slugs: Iterable[str], load: Callable[[Tenant], Awaitable[bool]], *, operator: str = "demo-loader") -> bool:
    """Run ``load(tenant)`` inside each tenant of ``slugs`` that exists (in
    that order, a missing one skipped), acting as the admin-level operator
    ``operator``; returns whether any run created something."""
    created = False
    for slug in slugs:
        async with system_scope("demo"):
            tenant = await Tenant.objects().where(Tenant.slug == slug).first()
        if tenant is None:
            continue
        async with tenant_scope(operator_context(tenant, operator)):
            created = await load(tenant) or created
    return created
