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


async def _handover_talk() -> list[tuple[str, str, str, str]]:
    """(side, supplier code or "", author side, body) of every message on
    acme's handover in progress, oldest first."""
    from portal.conversations.tables import Message, Thread
    from portal.handover.tables import Handover
    from tenants.tables import Supplier, Tenant

    async with system_scope("test"):
        tenant = await Tenant.objects().where(Tenant.slug == "acme").first()
        handover = await Handover.objects().where(Handover.tenant == tenant.id).where(Handover.status == "in_progress").first()
        codes = {row["id"]: row["code"] for row in await Supplier.select(Supplier.id, Supplier.code).where(Supplier.tenant == tenant.id)}
        threads = {row["id"]: row for row in await Thread.select().where(Thread.handover == handover.id)}
        messages = await Message.select().where(Message.thread.is_in(list(threads) or [handover.id])).order_by(Message.created_at)
        outgoing = codes[handover.from_supplier]
    talk = [(threads[m["thread"]]["side"], codes.get(threads[m["thread"]]["supplier"], ""), m["author_side"], m["body"]) for m in messages]
    return [(side, "outgoing" if code == outgoing else code, author, body) for side, code, author, body in talk]


def test_the_demo_talks_on_the_handover_in_progress_once(run: Any) -> None:
    from portal.conversations.demo import HANDOVER_ANSWER, HANDOVER_NOTE, HANDOVER_QUESTION

    run(load_demo)
    talk = run(_handover_talk)
    # The planner and the outgoing supplier on their shared side; the note
    # on the internal side, which only the buyer reads.
    assert [(side, supplier, author) for side, supplier, author, _ in talk if side == "shared"] == [
        ("shared", "outgoing", "buyer"),
        ("shared", "outgoing", "supplier"),
    ]
    assert [(side, author, body) for side, _, author, body in talk if side == "internal"] == [("internal", "buyer", HANDOVER_NOTE)]
    assert {body for *_, body in talk} == {HANDOVER_QUESTION, HANDOVER_ANSWER, HANDOVER_NOTE}
    run(load_demo)
    assert run(_handover_talk) == talk, "a second load adds nothing"
