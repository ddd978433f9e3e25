"""Documents follow their record on every page, list, fragment and export,
not only through the documents API.

For every kind of record a document can be attached to, the test stores a
real file (a version with content) on a record of that kind the first
supplier does not read (a draft, another supplier's, the buyer's own) and
then marks it as the first supplier's own, the way a document carried the
supplier its resolver named when it was added. Then every GET route a
supplier user may call (isolation matrix table, with its own ids) is opened
and its body must not name any of these documents (id, version id, title);
nor may their versions be reached by id. A list that asks the document's
own supplier field instead of the record (QC reviews, a thread's files, the
handover checklist, a search) fails here, whatever route it sits behind.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from uuid import UUID, uuid4

import pytest

from tests.tenancy.matrix import Worlds
from tests.tenancy.test_isolation_matrix import ENDPOINTS, SUPPLIER_USERS, Endpoint, _call, _params


@dataclass
class Planted:
    # kind -> (document id, version id, title)
    documents: dict[str, tuple[UUID, UUID, str]]
    missing: list[str]

    def marks(self) -> list[str]:
        return [str(mark) for found in self.documents.values() for mark in found]


async def _plant(worlds: Worlds) -> Planted:
    from portal.documents.attachments import attachment_tables
    from portal.documents.services import Target, _file_rules, store_upload
    from portal.documents.storage import open_storage
    from portal.documents.tables import Document, DocumentVersion
    from portal.settings import get_settings
    from tenants.context import operator_context, system_scope, tenant_scope
    from tenants.scoping import _table, scoped, supplier_reads
    from tenants.tables import Tenant
    from tests.support.documents.samples import png, stage
    from tests.tenancy.test_records_followed import _records

    world = worlds.home
    supplier = world.supplier_ids[0]
    async with system_scope("records-followed-everywhere"):
        tenant = await Tenant.objects().where(Tenant.id == world.tenant_id).first()
    storage = open_storage(get_settings())
    documents: dict[str, tuple[UUID, UUID, str]] = {}
    missing = []
    async with tenant_scope(operator_context(tenant, "records-followed-everywhere")):
        for kind, table in sorted(attachment_tables().items()):
            _read, unread = await _records(_table(table), supplier)
            if unread is None:
                missing.append(kind)
                continue
            assert not await supplier_reads(_table(table), unread, supplier)
            title = f"PLANTED-{kind}-{uuid4().hex[:8]}"
            # Stored as the buyer stores a file on that record, then the
            # supplier written over: the document names the first supplier.
            # (Built directly: the admin may not upload to every kind, an NCR step's answer.)
            target = Target(uuid4(), True, kind, unread, None, "photo", title, await _file_rules("photo", new=True))
            document = await store_upload(storage, target, stage(storage, png(), f"{title}.png", "image/png"))
            assert document.current is not None
            async with system_scope("records-followed-everywhere"):
                await Document.update({Document.supplier: supplier}).where(Document.id == document.id)
                await DocumentVersion.update({DocumentVersion.supplier: supplier}).where(DocumentVersion.document == document.id)
            assert await scoped(Document).exists().where(Document.id == document.id)
            documents[kind] = (document.id, document.current.id, title)
    return Planted(documents, missing)


@pytest.fixture(scope="module")
def planted(run: Any, worlds: Worlds) -> Planted:
    result: Planted = run(_plant, worlds)
    return result


def test_a_document_on_every_kind_of_record_is_planted(planted: Planted) -> None:
    assert planted.missing == [], "seed a record of these kinds the first supplier does not read (tests/tenancy/matrix_seed.py)"


@_params([endpoint for endpoint in ENDPOINTS if endpoint.method == "GET" and any(endpoint.allowed(i) for i in SUPPLIER_USERS)])
def test_no_supplier_page_names_a_document_whose_record_it_does_not_read(
    endpoint: Endpoint, client: Any, worlds: Worlds, planted: Planted
) -> None:
    leaks = []
    for identity in SUPPLIER_USERS:
        if not endpoint.allowed(identity):
            continue
        text = _call(client, worlds, endpoint, worlds.own, identity).text
        leaks += [f"{identity} shows {mark}" for mark in planted.marks() if mark in text]
    assert leaks == []


@_params([endpoint for endpoint in ENDPOINTS if endpoint.method == "GET" and {"document_id", "version_id"} & set(endpoint.id_params)])
def test_a_document_whose_record_is_hidden_answers_like_a_missing_one(
    endpoint: Endpoint, client: Any, worlds: Worlds, planted: Planted
) -> None:
    """Detail, content, versions and thumbnails, by document and by version id."""
    wrong = []
    for identity in SUPPLIER_USERS:
        if not endpoint.allowed(identity):
            continue
        missing = _call(client, worlds, endpoint, {**worlds.own, "document_id": uuid4(), "version_id": uuid4()}, identity)
        for kind, (document_id, version_id, _title) in planted.documents.items():
            ids = {**worlds.own, "document_id": document_id, "version_id": version_id}
            answer = _call(client, worlds, endpoint, ids, identity)
            if (answer.status_code, answer.headers.get("content-type")) != (missing.status_code, missing.headers.get("content-type")):
                wrong.append(f"{identity} {kind}: {answer.status_code} (missing: {missing.status_code})")
    assert wrong == []


def test_what_reaches_a_supplier_unasked_follows_the_document_record(run: Any, worlds: Worlds, planted: Planted) -> None:
    """``supplier_reads`` (notifications, mentions, the handover checklist)
    applies the whole rule: a document, and a version of it, whose record
    the supplier does not read is not read, whatever supplier it names.
    Before (December 2026) it asked the SQL part alone and answered yes."""

    async def reads() -> list[str]:
        from portal.documents.tables import Document, DocumentVersion
        from tenants.context import operator_context, system_scope, tenant_scope
        from tenants.scoping import supplier_reads
        from tenants.tables import Tenant

        async with system_scope("records-followed-everywhere"):
            tenant = await Tenant.objects().where(Tenant.id == worlds.home.tenant_id).first()
        supplier = worlds.home.supplier_ids[0]
        found = []
        async with tenant_scope(operator_context(tenant, "records-followed-everywhere")):
            for kind, (document_id, version_id, _title) in planted.documents.items():
                if await supplier_reads(Document, document_id, supplier):
                    found.append(f"document on {kind}")
                if await supplier_reads(DocumentVersion, version_id, supplier):
                    found.append(f"version on {kind}")
            # Its own document on its own order is read, version and all.
            own = worlds.own["document_id"], worlds.own["version_id"]
            assert await supplier_reads(Document, own[0], supplier)
            assert await supplier_reads(DocumentVersion, own[1], supplier)
        return found

    assert run(reads) == []


def test_a_handover_checklist_names_to_the_outgoing_supplier_only_documents_it_reads(
    client: Any, run: Any, worlds: Worlds, planted: Planted
) -> None:
    """The checklist lists the technical documents of the handed-over
    orders, titles and all, to the outgoing supplier. A document on its
    order that it does not read (here: the second supplier's, planted) is
    the planner's entry alone. Before (December 2026) every document entry
    was the outgoing supplier's to read."""

    async def handover() -> tuple[UUID, str]:
        from portal.documents.services import Target, _file_rules, store_upload
        from portal.documents.storage import open_storage
        from portal.documents.tables import Document, DocumentVersion
        from portal.handover import services as handovers
        from portal.handover.schemas import HandoverCreate
        from portal.settings import get_settings
        from tenants.context import operator_context, system_scope, tenant_scope
        from tenants.tables import Tenant
        from tests.support.documents.samples import png, stage

        async with system_scope("records-followed-everywhere"):
            tenant = await Tenant.objects().where(Tenant.id == worlds.home.tenant_id).first()
        storage = open_storage(get_settings())
        title = f"PLANTED-checklist-{uuid4().hex[:8]}"
        async with tenant_scope(operator_context(tenant, "records-followed-everywhere")):
            target = Target(uuid4(), True, "order", worlds.own["order_id"], None, "photo", title, await _file_rules("photo", new=True))
            document = await store_upload(storage, target, stage(storage, png(), f"{title}.png", "image/png"))
            async with system_scope("records-followed-everywhere"):
                other = worlds.home.supplier_ids[1]
                await Document.update({Document.supplier: other}).where(Document.id == document.id)
                await DocumentVersion.update({DocumentVersion.supplier: other}).where(DocumentVersion.document == document.id)
            # To the second supplier: the seeded handover to a third one is
            # still open; another one to the same supplier would be refused.
            created = await handovers.create_handover(
                HandoverCreate(from_supplier_id=worlds.home.supplier_ids[0], to_supplier_id=worlds.home.supplier_ids[1])
            )
            started = await handovers.start_handover(created.id, created.version)
            assert any(title in item.title for item in started.items), "the buyer's checklist names the document"
        return started.id, title

    handover_id, title = run(handover)
    for identity in SUPPLIER_USERS:
        headers = {"authorization": f"Bearer {worlds.tokens[identity]}"}
        answer = client.get(f"/api/v1/handovers/{handover_id}", headers=headers)
        assert answer.status_code == 200, identity
        assert title not in answer.text, identity
        page = client.get(f"/handovers/{handover_id}", headers=worlds.headers[identity])
        assert page.status_code == 200, identity
        assert title not in page.text, identity


@pytest.mark.postgres
def test_row_level_security_lets_a_supplier_read_its_documents_only_with_their_record(run: Any, worlds: Worlds, planted: Planted) -> None:
    """Without the scoping layer (no filter at all), the policies alone keep
    the planted documents and their versions from the supplier's queries;
    files on messages are the one kind left to the app (the policy would
    recurse through the thread; docs/security.md). Its own documents stay."""

    async def unfiltered() -> tuple[set[Any], set[Any]]:
        from portal.documents.tables import Document, DocumentVersion
        from tenants.context import TenantContext, tenant_scope
        from tenants.roles import Role

        context = TenantContext(
            tenant_id=worlds.home.tenant_id,
            tenant_slug="x",
            tenant_name="x",
            time_zone="UTC",
            currency="CNY",
            role=Role.SUPPLIER_ADMIN,
            supplier_id=worlds.home.supplier_ids[0],
        )
        async with tenant_scope(context):
            documents = {row["id"] for row in await Document.select(Document.id)}
            versions = {row["id"] for row in await DocumentVersion.select(DocumentVersion.id)}
        return documents, versions

    documents, versions = run(unfiltered)
    assert worlds.own["document_id"] in documents
    assert worlds.own["version_id"] in versions
    for kind, (document_id, version_id, _title) in planted.documents.items():
        if kind == "message":
            continue
        assert document_id not in documents, kind
        assert version_id not in versions, kind


def test_searches_find_nothing_a_supplier_does_not_read(client: Any, worlds: Worlds, planted: Planted, handlers: dict[Any, Any]) -> None:
    """Every GET route a supplier role may call whose handler takes a search
    term (``q``: lists, pages, exports), searched for the planted titles and
    the buyer's draft order number: the answer names none of them."""
    searched = [
        endpoint
        for endpoint in ENDPOINTS
        if endpoint.method == "GET"
        and "q" in handlers[(endpoint.method, endpoint.path)].parsed_fn_signature.parameters
        and any(endpoint.allowed(identity) for identity in SUPPLIER_USERS)
    ]
    assert searched, "no search route found: the test would prove nothing"
    hidden = worlds.home_seed.hidden_marks[0]
    leaks = []
    for endpoint in searched:
        for identity in SUPPLIER_USERS:
            if not endpoint.allowed(identity):
                continue
            for term in ("PLANTED", hidden, *(title for _, _, title in planted.documents.values())):
                text = _call(client, worlds, endpoint, worlds.own, identity, query={"q": term}).text
                # (The page echoes the term in its search box: other marks only.)
                marks = [mark for mark in [*planted.marks(), hidden] if mark != term]
                leaks += [f"{endpoint} {identity} q={term} shows {mark}" for mark in marks if mark in text]
    assert leaks == []
