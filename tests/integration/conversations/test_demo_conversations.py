"""The demo's conversations: in both tenants, orders whose threads hold both
sides' messages with a photo and a mention and an internal note, and an NCR
on which QA and the supplier talk."""

from __future__ import annotations

from typing import Any

from tenants.context import system_scope
from tenants.demo import load_demo


async def _talk(slug: str) -> dict[str, Any]:
    from portal.conversations.tables import Message, Thread
    from portal.documents.tables import Document
    from tenants.tables import Tenant

    async with system_scope("test"):
        tenant = await Tenant.objects().where(Tenant.slug == slug).first()
        threads = {row["id"]: row for row in await Thread.select().where(Thread.tenant == tenant.id)}
        messages = await Message.select().where(Message.tenant == tenant.id)
        photos = await Document.count().where(Document.tenant == tenant.id).where(Document.attached_type == "message")
    sides: dict[tuple[str, str], set[str]] = {}
    for message in messages:
        thread = threads[message["thread"]]
        sides.setdefault((thread["record_type"], thread["side"]), set()).add(message["author_side"])
    return {"sides": sides, "mentions": sum(1 for message in messages if message["mentions"] not in ([], "[]")), "photos": photos}


def test_the_demo_talks_on_orders_and_an_ncr_in_both_tenants(run: Any) -> None:
    run(load_demo)
    for slug in ("acme", "globex"):
        talk = run(_talk, slug)
        assert talk["sides"][("order", "shared")] == {"buyer", "supplier"}, slug
        assert talk["sides"][("order", "internal")] == {"buyer"}, slug
        assert talk["sides"][("ncr", "shared")] == {"buyer", "supplier"}, slug
        assert talk["mentions"] >= 1, slug
        assert talk["photos"] >= 1, slug
