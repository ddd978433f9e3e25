"""Rows that name their record by kind and id (a document's
``attached_type``/``attached_id``, a notification's ``record_type``/
``record_id``) follow that record: a supplier user reads them only while it
reads the record, whatever supplier the row itself carries.

The class, not an instance: for every kind of record a document can be
attached to (and every kind an event can name) the test plants a row that
names the first supplier as its own on a record of that kind the supplier
does not read (a draft, another supplier's, the buyer's own), and one on a
record it reads. A new attachment kind is in without a word here, and fails
until the matrix seed holds a record of it the supplier cannot read.
Before this (security review, December 2026) a document carried the
supplier its resolver named when it was added, for good: a file added to a
record hanging off work handed over since, or one whose resolver forgot a
rule, reached the old supplier by its id.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from uuid import UUID, uuid4

import pytest

from tests.support.factories import World, api_token, bearer, make_world
from tests.tenancy.matrix_seed import seed


@dataclass
class Planted:
    world: World
    # kind -> (row on a record the first supplier reads or None, row on one it does not)
    documents: dict[str, tuple[UUID | None, UUID]]
    notifications: dict[str, tuple[UUID | None, UUID]]
    missing: list[str]


async def _records(table: Any, supplier_id: UUID) -> tuple[UUID | None, UUID | None]:
    """A record of ``table`` in the acting tenant the supplier reads, and one it does not."""
    from tenants.scoping import scoped, supplier_reads

    rows = await scoped(table).select(table._meta.primary_key).limit(500)
    read = unread = None
    for row in rows:
        record_id = row[table._meta.primary_key._meta.name]
        if await supplier_reads(table, record_id, supplier_id):
            read = read or record_id
        else:
            unread = unread or record_id
        if read and unread:
            break
    return read, unread


async def _plant(world: World) -> Planted:
    from portal.documents.attachments import attachment_tables
    from portal.documents.tables import Document
    from portal.notifications.records import RECORD_TABLES
    from portal.notifications.tables import Notification
    from tenants.context import operator_context, system_scope, tenant_scope
    from tenants.scoping import _table
    from tenants.tables import Tenant

    await seed(world)
    supplier = world.supplier_ids[0]
    admin = world.accounts["supplier_admin"].user_id
    async with system_scope("records-followed"):
        tenant = await Tenant.objects().where(Tenant.id == world.tenant_id).first()
    documents: dict[str, tuple[UUID | None, UUID]] = {}
    notifications: dict[str, tuple[UUID | None, UUID]] = {}
    missing = []

    async def document(kind: str, record_id: UUID) -> UUID:
        row = Document(
            id=uuid4(),
            tenant=world.tenant_id,
            supplier=supplier,
            attached_type=kind,
            attached_id=record_id,
            category="photo",
            title="planted",
        )
        await Document.insert(row)
        return UUID(str(row.id))

    async def notification(kind: str, record_id: UUID) -> UUID:
        row = Notification(
            id=uuid4(),
            tenant=world.tenant_id,
            user=admin,
            supplier=supplier,
            event_id=uuid4(),
            kind="order.revised",
            params='{"number": "PLANTED"}',
            link="/",
            record_type=kind,
            record_id=record_id,
        )
        await Notification.insert(row)
        return UUID(str(row.id))

    plans = [(documents, document, attachment_tables()), (notifications, notification, RECORD_TABLES)]
    async with tenant_scope(operator_context(tenant, "records-followed")):
        for found, make, tables in plans:
            for kind, table in sorted(tables.items()):
                read, unread = await _records(_table(table), supplier)
                if unread is None:
                    missing.append(kind)
                    continue
                async with system_scope("records-followed"):
                    found[kind] = (await make(kind, read) if read else None, await make(kind, unread))
    return Planted(world, documents, notifications, missing)


@pytest.fixture(scope="module")
def planted(run: Any) -> Planted:
    result: Planted = run(_plant, run(make_world, "follow"))
    return result


def test_every_kind_of_record_has_one_the_supplier_cannot_read(planted: Planted) -> None:
    assert planted.missing == [], "seed a record of these kinds the first supplier does not read (tests/tenancy/matrix_seed.py)"
    assert planted.documents["order"][0] is not None
    assert planted.notifications["order"][0] is not None


def test_a_document_follows_the_record_it_is_attached_to(client: Any, planted: Planted) -> None:
    world = planted.world
    for identity in ("supplier_admin", "supplier_operator"):
        headers = bearer(api_token(client, world.accounts[identity], world.slug))
        listed = client.get("/api/v1/documents", params={"limit": 200}, headers=headers).text
        for kind, (read, unread) in planted.documents.items():
            answer = client.get(f"/api/v1/documents/{unread}", headers=headers)
            assert answer.status_code == 404, (identity, kind)
            assert str(unread) not in listed, (identity, kind)
            # An operator may not view statements, nor their documents (the last test).
            if read is not None and (kind, identity) != ("statement", "supplier_operator"):
                assert client.get(f"/api/v1/documents/{read}", headers=headers).status_code == 200, (identity, kind)
    planner = bearer(api_token(client, world.accounts["planner"], world.slug))
    for kind, (_read, unread) in planted.documents.items():
        # The planner may not view statements (the last test).
        assert client.get(f"/api/v1/documents/{unread}", headers=planner).status_code == (404 if kind == "statement" else 200), kind


def test_a_notification_follows_the_record_it_is_about(client: Any, planted: Planted) -> None:
    world = planted.world
    headers = bearer(api_token(client, world.accounts["supplier_admin"], world.slug))
    listed = client.get("/api/v1/notifications", params={"limit": 200}, headers=headers).text
    unread_before = client.get("/api/v1/notifications/unread-count", headers=headers).json()
    for kind, (read, unread) in planted.notifications.items():
        assert str(unread) not in listed, kind
        assert client.post(f"/api/v1/notifications/{unread}/read", headers=headers).status_code == 404, kind
        if read is not None:
            assert str(read) in listed, kind
            assert client.post(f"/api/v1/notifications/{read}/read", headers=headers).status_code == 200, kind
    # The count fell by the readable ones read just now, never counting the hidden ones.
    readable = sum(1 for read, _ in planted.notifications.values() if read is not None)
    unread_after = client.get("/api/v1/notifications/unread-count", headers=headers).json()
    assert readable > 0
    assert unread_after["count"] == unread_before["count"] - readable


def test_documents_of_a_record_need_the_right_to_view_the_record(client: Any, planted: Planted) -> None:
    """A statement's archived PDF (its prices) and the evidence on it are
    for those who may view statements (``statements.view``): not a
    supplier's operator, not the buyer's planner or QA, who are refused the
    statement itself but read its documents through the documents API."""
    world = planted.world
    document = planted.documents["statement"][0]
    assert document is not None
    for identity, allowed in (("finance", True), ("supplier_admin", True), ("planner", False), ("qa", False), ("supplier_operator", False)):
        headers = bearer(api_token(client, world.accounts[identity], world.slug))
        listed = client.get("/api/v1/documents", params={"attached_type": "statement"}, headers=headers)
        assert (str(document) in listed.text) is allowed, identity
        assert client.get(f"/api/v1/documents/{document}", headers=headers).status_code == (200 if allowed else 404), identity
