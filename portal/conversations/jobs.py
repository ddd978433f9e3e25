"""The ``conversations.announce`` job: who hears of a new message. The
people it mentions, and the earlier writers of the thread (a reply), as
long as they may still see the thread; each hears of it through the
notifications (``conversation.mention`` / ``conversation.reply``): in the
app, and by email or push as they chose, in their language.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

from portal.conversations.tables import Message, Thread
from portal.i18n import N_
from portal.notifications.services import emit
from tenants.context import operator_context, system_scope, tenant_scope
from tenants.tables import Membership, Tenant

RECORD_WORDS = {
    "order": N_("an order"),
    "dispatch": N_("a material dispatch"),
    "delivery": N_("a delivery"),
    "document": N_("a document"),
    "ncr": N_("a nonconformance (NCR)"),
    "handover": N_("a supplier handover"),
}


async def announce(payload: dict[str, Any]) -> None:
    from portal.conversations.services import record_link

    async with system_scope("conversations.announce"):
        message = await Message.objects().where(Message.id == UUID(payload["message_id"])).first()
        if message is None:
            return
        thread = await Thread.objects().where(Thread.id == message.thread).first()
        tenant = await Tenant.objects().where(Tenant.id == message.tenant).first()
        if thread is None or tenant is None:
            return
        earlier = await Message.select(Message.author).where(Message.thread == thread.id).where(Message.created_at < message.created_at)
        mentioned = {UUID(str(user)) for user in payload.get("mentions", [])}
        repliers = {row["author"] for row in earlier if row["author"]} - mentioned
        people = mentioned | repliers
        people.discard(message.author)
        if not people:
            return
        members = await (
            Membership.select(Membership.user, Membership.role, Membership.supplier)
            .where(Membership.tenant == message.tenant)
            .where(Membership.active.eq(True))
            .where(Membership.user.is_in(list(people)))
        )
    link = f"{record_link(thread.record_type, thread.record_id)}#conversation"
    heard: dict[str, list[UUID]] = {"conversation.mention": [], "conversation.reply": []}
    for member in members:
        supplier_side = member["role"].startswith("supplier")
        if supplier_side and (thread.side != "shared" or member["supplier"] != thread.supplier):
            continue
        heard["conversation.mention" if member["user"] in mentioned else "conversation.reply"].append(member["user"])
    params = {"author": message.author_name, "record": RECORD_WORDS[thread.record_type], "body": message.body}
    async with tenant_scope(operator_context(tenant, "conversations")):
        for kind, users in heard.items():
            if users:
                await emit(
                    kind,
                    link=link,
                    supplier=thread.supplier if thread.side == "shared" else None,
                    params=params,
                    record=("conversation_message", message.id),
                    users=users,
                    key=f"{kind}:{message.id}",
                )
