"""Creating and reading tenants (buyer companies)."""

from __future__ import annotations

import re
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import msgspec

from portal.audit.services import record
from portal.errors import DomainError, NotFound
from portal.i18n import N_, SUPPORTED_LOCALES
from portal.quantities import CURRENCY_DECIMALS
from tenants.context import system_scope
from tenants.tables import Tenant

SLUG_PATTERN = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,38}[a-z0-9])?$")


class TenantCreate(msgspec.Struct, frozen=True):
    slug: str
    name: str
    locale: str = "zh_CN"
    time_zone: str = "Asia/Shanghai"
    currency: str = "CNY"


class InvalidTenant(DomainError):
    code = "invalid_tenant"
    message = N_("Some fields are missing or not valid.")


class SlugTaken(DomainError):
    status_code = 409
    code = "slug_taken"
    message = N_("This short name is already taken.")


def validate_tenant(data: TenantCreate) -> None:
    problems: dict[str, str] = {}
    if not SLUG_PATTERN.match(data.slug):
        problems["slug"] = N_("Use 1 to 40 lower-case letters, digits and dashes.")
    if not data.name.strip():
        problems["name"] = N_("Enter a name.")
    if data.locale not in SUPPORTED_LOCALES:
        problems["locale"] = N_("Choose a supported language.")
    try:
        ZoneInfo(data.time_zone)
    except (ZoneInfoNotFoundError, ValueError):
        problems["time_zone"] = N_("Choose a known time zone, such as Asia/Shanghai.")
    if data.currency not in CURRENCY_DECIMALS:
        problems["currency"] = N_("Choose a supported currency.")
    if problems:
        raise InvalidTenant(fields=problems)


async def create_tenant(data: TenantCreate) -> Tenant:
    """A new buyer company; its short name (slug) is unique across the portal."""
    validate_tenant(data)
    async with system_scope("create-tenant"):
        if await Tenant.exists().where(Tenant.slug == data.slug):
            raise SlugTaken(fields={"slug": SlugTaken.message})
        tenant = Tenant(slug=data.slug, name=data.name.strip(), locale=data.locale, time_zone=data.time_zone, currency=data.currency)
        await tenant.save()
        await record("tenant.create", entity_type="tenant", entity_id=tenant.id, after=msgspec.structs.asdict(data), tenant_id=tenant.id)
        return tenant


async def tenant_by_slug(slug: str) -> Tenant:
    tenant = await Tenant.objects().where(Tenant.slug == slug).first()
    if tenant is None:
        raise NotFound()
    return tenant
