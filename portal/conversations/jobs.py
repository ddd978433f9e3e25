"""The ``conversations.announce`` job: who hears of a new message. The
people it mentions, and the earlier writers of the thread (a reply), each
by email in their language, as long as they may still see the thread.
When in-app notifications land they plug in here, beside the email."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from portal.conversations.tables import Message, Thread
from portal.i18n import N_, gettext, use_locale
from portal.notifications.mail import Email, queue_email
from portal.settings import get_settings
from tenants.context import system_scope
from tenants.tables import Membership, Tenant, User

SUBJECTS = {
    "mention": N_("%(author)s mentioned you on %(record)s"),
    "reply": N_("%(author)s replied on %(record)s"),
}
BODY = N_("%(author)s wrote:\n\n%(body)s\n\nOpen the conversation:\n%(link)s\n")
RECORD_WORDS = {
    "order": N_("an order"),
    "dispatch": N_("a material dispatch"),
    "delivery": N_("a delivery"),
    "document": N_("a document"),
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
        users = {row["id"]: row for row in await User.select(User.id, User.email, User.locale).where(User.id.is_in(list(people)))}
    link = f"{get_settings().base_url}{record_link(thread.record_type, thread.record_id)}#conversation"
    for member in members:
        supplier_side = member["role"].startswith("supplier")
        if supplier_side and (thread.side != "shared" or member["supplier"] != thread.supplier):
            continue
        user = users[member["user"]]
        kind = "mention" if member["user"] in mentioned else "reply"
        with use_locale(user["locale"] or tenant.locale or "zh_CN"):
            params = {
                "author": message.author_name,
                "record": gettext(RECORD_WORDS[thread.record_type]),
                "body": message.body,
                "link": link,
            }
            subject = gettext(SUBJECTS[kind], **params)
            text = gettext(BODY, **params)
        await queue_email(Email(to=user["email"], subject=subject, text=text))
