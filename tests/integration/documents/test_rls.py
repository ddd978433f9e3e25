"""Row-level security on the document tables (PostgreSQL): queries that
skip the scoping layer on purpose still see only the current tenant's rows,
and for a supplier user only its own supplier's documents and versions,
never buyer-internal ones."""

from __future__ import annotations

from typing import Any
from uuid import UUID, uuid4

import pytest

from tests.support.documents.samples import seed_document
from tests.support.factories import World, make_world

pytestmark = pytest.mark.postgres


async def _buyer_internal(target_id: UUID) -> None:
    return None


async def _seed(world: World) -> dict[str, Any]:
    """A document for each supplier and one buyer-internal document."""
    from portal.documents.attachments import register_attachment_target
    from portal.documents.services import new_document_target, store_upload
    from portal.documents.storage import open_storage
    from portal.settings import get_settings
    from tenants.context import operator_context, system_scope, tenant_scope
    from tenants.tables import Tenant
    from tests.support.documents.samples import pdf, stage

    register_attachment_target("rls_internal", _buyer_internal)
    async with system_scope("test"):
        tenant = await Tenant.objects().where(Tenant.id == world.tenant_id).first()
    async with tenant_scope(operator_context(tenant, "test")):
        first = await seed_document(world.supplier_ids[0], render_preview=False)
        second = await seed_document(world.supplier_ids[1], render_preview=False)
        storage = open_storage(get_settings())
        target = await new_document_target("rls_internal", uuid4(), "spec", "internal")
        document = await store_upload(storage, target, stage(storage, pdf(), "internal.pdf", "application/pdf"))
    return {"first": first, "second": second, "internal": document.id}


async def _unfiltered(tenant_id: UUID, role: str, supplier_id: UUID | None = None) -> dict[str, set[Any]]:
    from portal.documents.tables import Document, DocumentVersion
    from tenants.context import TenantContext, tenant_scope
    from tenants.roles import Role

    context = TenantContext(
        tenant_id=tenant_id, tenant_slug="x", tenant_name="x", time_zone="UTC", currency="CNY", role=Role(role), supplier_id=supplier_id
    )
    async with tenant_scope(context):
        documents = await Document.select(Document.id, Document.tenant)
        versions = await DocumentVersion.select(DocumentVersion.document, DocumentVersion.tenant)
    return {
        "tenants": {row["tenant"] for row in documents} | {row["tenant"] for row in versions},
        "documents": {row["id"] for row in documents},
        "versions_of": {row["document"] for row in versions},
    }


def test_document_tables_are_isolated_by_tenant_and_supplier_in_the_database(run: Any) -> None:
    home, foreign = run(make_world, "docs-rls"), run(make_world, "docs-rls")
    ids = run(_seed, home)
    run(_seed, foreign)
    everything = {ids["first"][0], ids["second"][0], ids["internal"]}

    buyer = run(_unfiltered, home.tenant_id, "qa")
    assert buyer["tenants"] == {home.tenant_id}
    assert buyer["documents"] == everything
    assert buyer["versions_of"] == everything

    supplier = run(_unfiltered, home.tenant_id, "supplier_operator", home.supplier_ids[0])
    assert supplier["documents"] == {ids["first"][0]}
    assert supplier["versions_of"] == {ids["first"][0]}

    other = run(_unfiltered, home.tenant_id, "supplier_admin", home.supplier_ids[1])
    assert other["documents"] == {ids["second"][0]}
    assert other["versions_of"] == {ids["second"][0]}


def test_the_document_tables_force_row_level_security(postgres: Any) -> None:
    forced = postgres.psql("SELECT relname FROM pg_class WHERE relname IN ('document','document_version') AND relforcerowsecurity")
    assert set(forced.split()) == {"document", "document_version"}
