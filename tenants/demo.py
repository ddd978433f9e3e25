"""Demo data for ``portal demo``: two buyer tenants, their suppliers, a user
for every role, and one supplier account that works for both tenants.
Safe to run again: whatever exists is left as it is. Later domains add
their own demo records through ``load_demo``'s hooks."""

from __future__ import annotations

from typing import Any

from portal.conversations.demo import load_conversations_demo, load_handover_talk_demo
from portal.deliveries.demo import load_deliveries_demo
from portal.documents.previews import render_pending_previews
from portal.documents.storage import open_storage
from portal.handover.demo import NOVA, NOVA_PEOPLE, load_handover_demo
from portal.kpi.demo import load_history_demo
from portal.materials.demo import load_materials_demo
from portal.notifications.demo import load_notifications_demo
from portal.orders.demo import load_orders
from portal.progress.demo import load_progress_demo
from portal.quality.demo import load_quality_demo
from portal.quality.ncr_demo import load_ncr_demo
from portal.reconciliation.demo import load_statements_demo
from portal.settings import get_settings
from portal.sla.services import ensure_demo_rule
from tenants.context import operator_context, system_scope, tenant_scope
from tenants.roles import Role
from tenants.services.members import add_membership, ensure_user
from tenants.services.suppliers import SupplierCreate, create_supplier
from tenants.services.tenants import TenantCreate, create_tenant
from tenants.tables import Membership, Supplier, Tenant

DEMO_PASSWORD = "demo-password-2026"  # noqa: S105 - printed by `portal demo --credentials` on purpose

TENANTS = [
    TenantCreate(slug="acme", name="艾克米机械 Acme Machinery", locale="zh_CN", time_zone="Asia/Shanghai", currency="CNY"),
    TenantCreate(slug="globex", name="Globex Industries", locale="en", time_zone="Asia/Shanghai", currency="USD"),
]

# Each demo tenant holds its suppliers to its own response times.
DEMO_RULES = {
    "acme": [
        ("accept_hours", 24),
        ("acknowledge_hours", 12),
        ("receipt_hours", 48),
        ("remind_before_hours", 4),
        ("progress_margin_percent", 15),
    ],
    "globex": [
        ("accept_hours", 48),
        ("acknowledge_hours", 24),
        ("receipt_hours", 72),
        ("remind_before_hours", 8),
        ("progress_margin_percent", 20),
    ],
}
SUPPLIERS = {
    "acme": [
        SupplierCreate(code="S-PM", name="精密机加工厂 Precision Machining", contact_name="王工", contact_phone="13800000001"),
        SupplierCreate(code="S-ST", name="华东表面处理 East Surface Treatment", contact_name="李经理", contact_phone="13800000002"),
    ],
    "globex": [
        SupplierCreate(code="G-CAST", name="Delta Castings", contact_name="Ana Ruiz"),
        SupplierCreate(code="G-ST", name="华东表面处理 East Surface Treatment", contact_name="李经理"),
    ],
}

# (email, name, tenant, role, supplier code)
PEOPLE: list[tuple[str, str, str, Role, str | None]] = [
    ("admin@acme.example", "周敏 (Admin)", "acme", Role.ADMIN, None),
    ("planner@acme.example", "陈磊 (Planner)", "acme", Role.PLANNER, None),
    ("qa@acme.example", "刘芳 (QA)", "acme", Role.QA, None),
    ("finance@acme.example", "赵静 (Finance)", "acme", Role.FINANCE, None),
    ("boss@precision.example", "王强 (Supplier admin)", "acme", Role.SUPPLIER_ADMIN, "S-PM"),
    ("operator@precision.example", "孙涛 (Operator)", "acme", Role.SUPPLIER_OPERATOR, "S-PM"),
    ("admin@globex.example", "Grace Admin", "globex", Role.ADMIN, None),
    ("planner@globex.example", "Paul Planner", "globex", Role.PLANNER, None),
    ("qa@globex.example", "Quinn QA", "globex", Role.QA, None),
    ("finance@globex.example", "Fay Finance", "globex", Role.FINANCE, None),
    ("boss@delta.example", "Diego Supplier", "globex", Role.SUPPLIER_ADMIN, "G-CAST"),
    ("operator@delta.example", "Olga Operator", "globex", Role.SUPPLIER_OPERATOR, "G-CAST"),
    # One supplier that serves both buyers: one account, two memberships.
    ("sales@eastsurface.example", "李娜 (East Surface)", "acme", Role.SUPPLIER_ADMIN, "S-ST"),
    ("sales@eastsurface.example", "李娜 (East Surface)", "globex", Role.SUPPLIER_ADMIN, "G-ST"),
]

DEMO_ACCOUNTS: list[dict[str, Any]] = [
    {"email": email, "password": DEMO_PASSWORD, "tenant": tenant, "role": role.value, "supplier": supplier}
    for email, _name, tenant, role, supplier in PEOPLE
] + [
    # The supplier taking over work in the handover demo (portal/handover/demo.py).
    {"email": email, "password": DEMO_PASSWORD, "tenant": "acme", "role": role.value, "supplier": NOVA.code}
    for email, _name, role in NOVA_PEOPLE
]


async def _tenant(data: TenantCreate) -> Tenant:
    async with system_scope("demo"):
        tenant = await Tenant.objects().where(Tenant.slug == data.slug).first()
    return tenant if tenant is not None else await create_tenant(data)


async def any_tenant_exists() -> bool:
    async with system_scope("demo"):
        return bool(await Tenant.exists())


async def load_demo() -> bool:
    """Creates what is missing; returns whether anything was created."""
    created = False
    for data in TENANTS:
        tenant = await _tenant(data)
        async with tenant_scope(operator_context(tenant, "demo-loader")):
            codes = {
                row["code"]: row["id"] for row in await Supplier.select(Supplier.code, Supplier.id).where(Supplier.tenant == tenant.id)
            }
            await ensure_demo_rule(DEMO_RULES[data.slug])
            for supplier in SUPPLIERS[data.slug]:
                if supplier.code not in codes:
                    codes[supplier.code] = (await create_supplier(supplier)).id
                    created = True
            for email, name, slug, role, code in PEOPLE:
                if slug != data.slug:
                    continue
                user = await ensure_user(email, name, DEMO_PASSWORD, locale="zh_CN" if slug == "acme" else "en")
                member = await Membership.exists().where(Membership.user == user.id).where(Membership.tenant == tenant.id)
                if not member:
                    await add_membership(user, role, codes[code] if code else None)
                    created = True
            supplier_ids = [codes[supplier.code] for supplier in SUPPLIERS[data.slug]]
            created = await load_orders(supplier_ids) or created
    created = await load_materials_demo([data.slug for data in TENANTS]) or created
    created = await load_deliveries_demo([data.slug for data in TENANTS]) or created
    created = await load_progress_demo([data.slug for data in TENANTS]) or created
    created = await load_quality_demo([data.slug for data in TENANTS]) or created
    created = await load_ncr_demo([data.slug for data in TENANTS]) or created
    created = await load_statements_demo([data.slug for data in TENANTS]) or created
    created = await load_conversations_demo([data.slug for data in TENANTS]) or created
    created = await load_handover_demo([data.slug for data in TENANTS]) or created
    created = await load_handover_talk_demo([data.slug for data in TENANTS]) or created
    created = await load_history_demo([data.slug for data in TENANTS]) or created
    # The demo's pages show thumbnails at once: render them here rather
    # than wait for a job runner (their queued jobs then find nothing to do).
    await render_pending_previews(open_storage(get_settings()))
    # Every event above told its people now, some of it already read.
    await load_notifications_demo()
    return created
