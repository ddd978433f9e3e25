"""The scoping layer fails closed: no context, no query."""

from __future__ import annotations

from collections.abc import Callable
from contextvars import copy_context
from typing import Any, TypeVar
from uuid import uuid4

import pytest
from piccolo.columns import ForeignKey
from piccolo.table import Table

from portal.errors import NotFound
from tenants import context as tenant_context
from tenants.context import NoTenantContext, SystemScope, TenantContext, current
from tenants.roles import Role
from tenants.scoping import SHARED_WITH_SUPPLIERS, scoped
from tenants.tables import AuthSession, Invitation, LoginThrottle, Membership, Supplier, Tenant, User

T = TypeVar("T")


class Report(Table, tablename="test_scoping_report"):
    """A table shared with suppliers through its supplier column (never
    created in the database: these tests build queries and rows only)."""

    supplier_scope = "supplier"
    tenant = ForeignKey(Tenant)
    supplier = ForeignKey(Supplier)


def acting_as(context: TenantContext | SystemScope, fn: Callable[[], T]) -> T:
    """Run ``fn`` with ``context`` set, in a copied context so nothing leaks
    into other tests (and without the database settings ``enter`` writes)."""

    def call() -> T:
        tenant_context._current.set(context)
        return fn()

    return copy_context().run(call)


def tenant(role: Role = Role.PLANNER, supplier_id: Any = None) -> TenantContext:
    return TenantContext(
        tenant_id=uuid4(),
        tenant_slug="t",
        tenant_name="T",
        time_zone="Asia/Shanghai",
        currency="CNY",
        role=role,
        user_id=uuid4(),
        supplier_id=supplier_id,
    )


@pytest.mark.parametrize("table", [Supplier, Membership, Invitation])
def test_no_context_raises(table: Any) -> None:
    with pytest.raises(NoTenantContext):
        scoped(table)
    with pytest.raises(NoTenantContext):
        current()


@pytest.mark.parametrize("table", [Tenant, User, LoginThrottle])
def test_tables_without_tenant_cannot_be_scoped(table: Any) -> None:
    with pytest.raises(TypeError):
        acting_as(tenant(), lambda: scoped(table))


def test_system_scope_is_not_a_tenant_context() -> None:
    with pytest.raises(NoTenantContext):
        acting_as(SystemScope("test"), current)


def test_new_rows_get_the_acting_tenant_whatever_the_caller_says() -> None:
    context = tenant()
    row = acting_as(context, lambda: scoped(Supplier).new(code="X", name="X", tenant=uuid4()))
    assert row.tenant == context.tenant_id


def test_system_scope_must_name_the_tenant_of_a_new_row() -> None:
    with pytest.raises(TypeError):
        acting_as(SystemScope("test"), lambda: scoped(Supplier).new(code="X", name="X"))


def test_supplier_user_cannot_create_rows_of_another_supplier() -> None:
    own = uuid4()
    context = tenant(Role.SUPPLIER_OPERATOR, own)
    with pytest.raises(NotFound):
        acting_as(context, lambda: scoped(Report).new(supplier=uuid4()))
    assert acting_as(context, lambda: scoped(Report).new(supplier=own)).tenant == context.tenant_id


def test_supplier_user_is_limited_to_its_own_supplier() -> None:
    own = uuid4()
    conditions = acting_as(tenant(Role.SUPPLIER_OPERATOR, own), lambda: scoped(Report).conditions())
    assert len(conditions) == 2
    assert own.hex in str(conditions[1].querystring).replace("-", "")


def test_supplier_user_gets_no_rows_of_tables_not_shared_with_suppliers() -> None:
    context = tenant(Role.SUPPLIER_ADMIN, uuid4())
    conditions = acting_as(context, lambda: scoped(AuthSession).conditions())
    assert any("1 = 0" in str(condition.querystring) for condition in conditions[1:])


class Stage(Table, tablename="test_scoping_stage"):
    """Tenant reference data every supplier of the tenant reads."""

    supplier_scope = SHARED_WITH_SUPPLIERS
    tenant = ForeignKey(Tenant)


def test_supplier_user_reads_reference_data_shared_with_all_suppliers_of_its_tenant_only() -> None:
    context = tenant(Role.SUPPLIER_OPERATOR, uuid4())
    conditions = acting_as(context, lambda: scoped(Stage).conditions())
    assert len(conditions) == 1
    assert context.tenant_id.hex in str(conditions[0].querystring).replace("-", "")


def test_buyer_user_is_limited_to_the_tenant_only() -> None:
    context = tenant(Role.QA)
    conditions = acting_as(context, lambda: scoped(AuthSession).conditions())
    assert len(conditions) == 1


class Drawing(Table, tablename="test_scoping_drawing"):
    """Rows of one supplier that a rule also lets other suppliers read."""

    supplier_scope = "supplier"
    tenant = ForeignKey(Tenant)
    supplier = ForeignKey(Supplier)
    shared_marker = uuid4()

    @classmethod
    def supplier_share(cls, supplier_id: Any) -> Any:
        return cls.id == cls.shared_marker


def test_a_supplier_share_widens_reads_and_never_writes() -> None:
    own = uuid4()
    context = tenant(Role.SUPPLIER_OPERATOR, own)
    reading = acting_as(context, lambda: scoped(Drawing).conditions())
    writing = acting_as(context, lambda: scoped(Drawing).conditions(reading=False))
    assert Drawing.shared_marker.hex in str(reading[1].querystring).replace("-", "")
    assert own.hex in str(reading[1].querystring).replace("-", "")
    assert Drawing.shared_marker.hex not in str(writing[1].querystring).replace("-", "")
    assert own.hex in str(writing[1].querystring).replace("-", "")
    update = acting_as(context, lambda: scoped(Drawing).update({Drawing.supplier: own}))
    assert Drawing.shared_marker.hex not in str(update).replace("-", "")
