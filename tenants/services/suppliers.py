"""Suppliers: records inside a tenant that supplier users are bound to."""

from __future__ import annotations

import re
from typing import Annotated, Any
from uuid import UUID

import msgspec

from portal.audit.services import record
from portal.errors import DomainError, PermissionDenied
from portal.i18n import N_
from portal.lengths import most
from tenants.context import current
from tenants.scoping import scoped
from tenants.tables import Supplier

CODE_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,39}$")
STATUSES = ("active", "suspended", "offboarded")


class SupplierCreate(msgspec.Struct, frozen=True):
    code: Annotated[str, most(Supplier.code)]
    name: Annotated[str, most(Supplier.name)]
    contact_name: Annotated[str, most(Supplier.contact_name)] = ""
    contact_email: Annotated[str, most(Supplier.contact_email)] = ""
    contact_phone: Annotated[str, most(Supplier.contact_phone)] = ""


class SupplierUpdate(msgspec.Struct, frozen=True):
    name: Annotated[str, most(Supplier.name)] | None = None
    contact_name: Annotated[str, most(Supplier.contact_name)] | None = None
    contact_email: Annotated[str, most(Supplier.contact_email)] | None = None
    contact_phone: Annotated[str, most(Supplier.contact_phone)] | None = None
    status: str | None = None


class SupplierOut(msgspec.Struct, frozen=True):
    id: UUID
    code: str
    name: str
    contact_name: str
    contact_email: str
    contact_phone: str
    status: str


class InvalidSupplier(DomainError):
    code = "invalid_supplier"
    message = N_("Some fields are missing or not valid.")


class SupplierCodeTaken(DomainError):
    status_code = 409
    code = "supplier_code_taken"
    message = N_("Another supplier already uses this code.")


def to_out(row: Supplier) -> SupplierOut:
    return SupplierOut(
        id=row.id,
        code=row.code,
        name=row.name,
        contact_name=row.contact_name,
        contact_email=row.contact_email,
        contact_phone=row.contact_phone,
        status=row.status,
    )


def _require(action: str) -> None:
    if not current().can(action):
        raise PermissionDenied()


def _validate(code: str | None, name: str | None, email: str | None, status: str | None) -> None:
    problems: dict[str, str] = {}
    if code is not None and not CODE_PATTERN.match(code):
        problems["code"] = N_("Use up to 40 letters, digits, dots, dashes or underscores.")
    if name is not None and not name.strip():
        problems["name"] = N_("Enter a name.")
    if email and "@" not in email:
        problems["contact_email"] = N_("Enter a valid email address.")
    if status is not None and status not in STATUSES:
        problems["status"] = N_("Choose a valid status.")
    if problems:
        raise InvalidSupplier(fields=problems)


async def list_suppliers() -> list[SupplierOut]:
    """Buyer staff see all suppliers of the tenant; a supplier user only its own."""
    rows = await scoped(Supplier).objects().order_by(Supplier.code)
    return [to_out(row) for row in rows]


async def get_supplier(supplier_id: UUID | str) -> SupplierOut:
    return to_out(await scoped(Supplier).get(supplier_id))


async def create_supplier(data: SupplierCreate) -> SupplierOut:
    _require("suppliers.manage")
    _validate(data.code, data.name, data.contact_email, None)
    if await scoped(Supplier).exists().where(Supplier.code == data.code):
        raise SupplierCodeTaken(fields={"code": SupplierCodeTaken.message})
    row = scoped(Supplier).new(**msgspec.structs.asdict(data))
    await row.save()
    await record("supplier.create", entity_type="supplier", entity_id=row.id, after=msgspec.structs.asdict(to_out(row)))
    return to_out(row)


async def update_supplier(supplier_id: UUID | str, data: SupplierUpdate) -> SupplierOut:
    """Suppliers are never deleted: offboarding is a status, so their history stays."""
    _require("suppliers.manage")
    _validate(None, data.name, data.contact_email, data.status)
    row = await scoped(Supplier).get(supplier_id)
    before = msgspec.structs.asdict(to_out(row))
    changes: dict[str, Any] = {key: value for key, value in msgspec.structs.asdict(data).items() if value is not None}
    for key, value in changes.items():
        setattr(row, key, value.strip() if isinstance(value, str) else value)
    await row.save()
    await record("supplier.update", entity_type="supplier", entity_id=row.id, before=before, after=msgspec.structs.asdict(to_out(row)))
    return to_out(row)
