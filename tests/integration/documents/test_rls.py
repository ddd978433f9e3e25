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
    from portal.items.tables import Item
    from portal.settings import get_settings
    from tenants.context import operator_context, system_scope, tenant_scope
    from tenants.tables import Tenant
    from tests.support.documents.samples import pdf, stage

    register_attachment_target("rls_internal", _buyer_internal, table=Item)
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


def test_the_app_role_cannot_delete_documents_or_rewrite_what_was_uploaded(
    client: Any, run: Any, world: World, tokens: dict[str, str], postgres: Any
) -> None:
    import asyncpg

    from portal.documents.tables import Document
    from tenants.context import TenantContext, tenant_scope
    from tenants.roles import Role
    from tests.integration.documents.conftest import upload, uploaded, wait_for_previews
    from tests.support.documents import samples
    from tests.support.factories import bearer

    # The normal flows still work under the narrowed grants: an upload, its
    # preview (updates the version's preview columns), a new version (bumps
    # the counter) and a withdrawal.
    first = samples.png()
    document = uploaded(
        client, tokens["qa"], first, name="weld.png", declared="image/png", category="photo", attached_id=world.supplier_ids[0]
    )
    wait_for_previews(run)
    second = uploaded(
        client,
        tokens["supplier_operator"],
        samples.png(color=(200, 20, 20)),
        name="weld-2.png",
        declared="image/png",
        document_id=document["id"],
    )
    assert second["current"]["version"] == 2
    withdrawn = client.post(f"/api/v1/documents/{document['id']}/withdraw", json={"reason": "Wrong part"}, headers=bearer(tokens["qa"]))
    assert withdrawn.status_code == 200, withdrawn.text
    versions = client.get(f"/api/v1/documents/{document['id']}/versions", headers=bearer(tokens["qa"])).json()["items"]
    assert versions[1]["preview"] == "ready"

    context = TenantContext(
        tenant_id=world.tenant_id, tenant_slug=world.slug, tenant_name="x", time_zone="UTC", currency="CNY", role=Role.ADMIN
    )

    async def attempt(statement: str, *args: Any) -> None:
        async with tenant_scope(context):
            await Document.raw(statement, *args)

    for statement in (
        "DELETE FROM document_version WHERE document = {}",
        "DELETE FROM document WHERE id = {}",
        "UPDATE document SET title = 'forged', supplier = NULL WHERE id = {}",
        "UPDATE document_version SET sha256 = repeat('0', 64), storage_key = 'elsewhere' WHERE document = {}",
        "UPDATE document_version SET uploaded_by = NULL WHERE document = {}",
    ):
        with pytest.raises(asyncpg.exceptions.InsufficientPrivilegeError):
            run(attempt, statement, UUID(document["id"]))
    with pytest.raises(asyncpg.exceptions.InsufficientPrivilegeError):
        run(attempt, "TRUNCATE document_version")

    after = client.get(f"/api/v1/documents/{document['id']}/versions", headers=bearer(tokens["qa"])).json()["items"]
    assert [(item["version"], item["sha256"]) for item in after] == [(item["version"], item["sha256"]) for item in versions]
    assert (
        client.get(f"/api/v1/documents/{document['id']}/versions/{after[1]['id']}/content", headers=bearer(tokens["qa"])).content == first
    )
    assert client.get(f"/api/v1/documents/{document['id']}", headers=bearer(tokens["qa"])).json()["title"] == "weld"
    # Still refused to a new version once withdrawn: the rule, not the grant.
    assert upload(client, tokens["qa"], samples.png(), name="x.png", declared="image/png", document_id=document["id"]).status_code == 409


def test_the_grants_name_exactly_the_updatable_document_columns(postgres: Any) -> None:
    granted = postgres.psql(
        "SELECT table_name || '.' || column_name FROM information_schema.column_privileges "
        "WHERE grantee = 'portal_app' AND privilege_type = 'UPDATE' AND table_name IN ('document', 'document_version')"
    ).split()
    assert sorted(granted) == [
        "document.current_version",
        "document.supplier",
        "document.withdrawn",
        "document.withdrawn_at",
        "document.withdrawn_by",
        "document.withdrawn_reason",
        "document_version.preview_key",
        "document_version.preview_status",
        "document_version.supplier",
        "document_version.thumbnail_key",
    ]
    table_rights = postgres.psql(
        "SELECT privilege_type FROM information_schema.table_privileges "
        "WHERE grantee = 'portal_app' AND table_name = 'document_version' ORDER BY 1"
    ).split()
    assert table_rights == ["INSERT", "SELECT"]
