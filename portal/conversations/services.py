"""Conversations: the rules.

- A record (order, dispatch, delivery, document, NCR, handover) has a
  ``shared`` thread per supplier it is shared with (the buyer and that
  supplier) and one ``internal`` thread (the buyer alone). Threads are made
  on first use, once, whoever comes first. A handover is shared with two
  suppliers, the outgoing and the incoming one: each talks with the buyer in
  a thread of its own and never reads the other's (what one supplier tells
  the buyer about the work changing hands is not the other's business; the
  buyer passes on what both need).
- Whoever may see the record may read and write its shared thread with
  their own supplier; only buyer roles see the internal one. A supplier
  never sees a thread whose record it cannot see (another supplier's, a
  draft) nor another supplier's side of it: the scoping layer and row-level
  security both say so.
- A message has text (1 to ``MAX_BODY`` characters), may mention people who
  can see the thread, and may carry files attached through the documents
  intake (attachment kind ``message``). A device's ``client_id`` makes a
  retried send the same message. Every message is audited; mentions leave
  as a recorded job, never as a call from here.
- A person's read marker moves only when their client says they read the
  thread (``mark_thread_read``, a POST: the record's page posts it once it
  has shown new messages, with the number of the last one it showed; an API
  client when its person has read them). Messages are numbered per thread in
  commit order (``Message.seq``) and a marker holds a number, never a time:
  a message committed after a later one was read still counts as unread.
  Every GET is safe: an integration syncing threads, a prefetch or a page
  opened by someone else's link marks nothing read for anyone.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from uuid import UUID, uuid4

import msgspec
from piccolo.columns.combination import WhereRaw

from portal.audit.services import record as audit
from portal.conversations.tables import INTERNAL, SHARED, Message, ReadMarker, Thread
from portal.deliveries.tables import Delivery
from portal.documents.attachments import register_attachment_target
from portal.documents.services import share_attached
from portal.documents.tables import Document
from portal.errors import DomainError, NotFound, PermissionDenied
from portal.handover.tables import Handover
from portal.i18n import N_
from portal.lengths import FreeText
from portal.materials.tables import Dispatch
from portal.orders.tables import Order
from portal.pagination import Shown as FirstRows
from portal.quality.tables import Ncr
from tenants.context import TenantContext, current
from tenants.roles import Role
from tenants.scoping import scoped, supplier_reads
from tenants.tables import Membership, Supplier, User

MAX_BODY = 4000
PAGE_SIZE = 50

# record_type -> the record's table; the thread's foreign key has the same name.
RECORDS: dict[str, Any] = {
    "order": Order,
    "dispatch": Dispatch,
    "delivery": Delivery,
    "document": Document,
    "ncr": Ncr,
    "handover": Handover,
}
# The columns naming the suppliers a record is shared with, the first being
# the record's own supplier.
PARTIES: dict[str, tuple[str, ...]] = {"handover": ("from_supplier", "to_supplier")}
# Where a record's page lives, for links in mentions and lists.
RECORD_PAGES = {
    "order": "/orders/{}",
    "dispatch": "/materials/dispatches/{}",
    "delivery": "/deliveries/{}",
    "document": "/documents/{}",
    "ncr": "/ncrs/{}",
    "handover": "/handovers/{}",
}


class InvalidMessage(DomainError):
    code = "invalid_message"
    message = N_("Some fields are missing or not valid.")


class ThreadOut(msgspec.Struct, frozen=True):
    id: UUID
    record_type: str
    record_id: UUID
    side: str
    supplier_id: UUID | None
    # The supplier a shared thread is with ("" on the internal side): a
    # handover's buyer sees one shared thread per supplier.
    supplier_name: str
    last_message_at: datetime | None
    unread: int


class AttachmentOut(msgspec.Struct, frozen=True):
    id: UUID
    title: str
    category: str
    version: int


class MentionOut(msgspec.Struct, frozen=True):
    user_id: UUID
    name: str


class MessageOut(msgspec.Struct, frozen=True):
    id: UUID
    thread_id: UUID
    client_id: UUID
    author_id: UUID | None
    author_name: str
    author_side: str
    body: str
    mentions: list[MentionOut]
    attachments: list[AttachmentOut]
    created_at: datetime
    # The message's number in its thread, in the order messages were
    # committed (what ``POST .../read?through=`` takes).
    seq: int = 0


class MessageIn(msgspec.Struct, frozen=True):
    body: FreeText = ""
    client_id: UUID | None = None
    mentions: list[UUID] = []


class MessagePage(msgspec.Struct, frozen=True):
    items: list[MessageOut]
    next: str | None = None


@dataclass(frozen=True)
class Person:
    user_id: UUID
    name: str
    side: str


def _require(action: str) -> TenantContext:
    context = current()
    if not context.can(action):
        raise PermissionDenied()
    return context


def _side_of(context: TenantContext) -> str:
    return "supplier" if context.is_supplier else "buyer"


async def _record_parties(record_type: str, record_id: UUID | str | None) -> list[UUID]:
    """The record, looked up through the scoping layer (a foreign, hidden or
    missing record is NotFound alike); returns the suppliers it is shared
    with, its own supplier first (none: a record only the buyer has)."""
    table = RECORDS.get(record_type)
    if table is None:
        raise InvalidMessage(fields={"record_type": N_("Choose an order, a dispatch, a delivery, a document, an NCR or a handover.")})
    if record_id is None:
        raise InvalidMessage(fields={"record_id": N_("This value is missing or not valid.")})
    row = await scoped(table).get(record_id)
    parties = [getattr(row, column) for column in PARTIES.get(record_type, ("supplier",))]
    return [party if isinstance(party, UUID) else UUID(str(party)) for party in parties if party is not None]


async def _thread(record_type: str, record_id: UUID, side: str, supplier_id: UUID | None) -> Thread:
    """The record's thread on ``side`` (on the shared side, the one with
    ``supplier_id``), made if it does not exist yet."""
    query = scoped(Thread).objects().where(Thread.record_type == record_type).where(Thread.record_id == record_id)
    query = query.where(Thread.side == side)
    if side == SHARED:
        query = query.where(Thread.supplier == supplier_id)
    found = await query.first()
    if found is not None:
        return found  # type: ignore[no-any-return]
    row = scoped(Thread).new(
        id=uuid4(), supplier=supplier_id, record_type=record_type, record_id=record_id, side=side, **{record_type: record_id}
    )
    # Two first readers at once: the unique key lets one row in.
    await Thread.insert(row).on_conflict(action="DO NOTHING")
    made = await query.first()
    if made is None:
        raise NotFound()
    return made  # type: ignore[no-any-return]


async def _unread(context: TenantContext, threads: Sequence[Thread]) -> dict[UUID, int]:
    counts: dict[UUID, int] = {}
    for thread in threads:
        marker = (
            await scoped(ReadMarker)
            .select(ReadMarker.read_seq)
            .where(ReadMarker.thread == thread.id)
            .where(ReadMarker.user == context.user_id)
            .first()
        )
        query = scoped(Message).count().where(Message.thread == thread.id)
        if context.user_id is not None:
            query = query.where((Message.author != context.user_id) | Message.author.is_null())
        if marker is not None:
            query = query.where(Message.seq > marker["read_seq"])
        counts[thread.id] = await query
    return counts


def _thread_out(thread: Thread, unread: int, names: dict[UUID, str]) -> ThreadOut:
    return ThreadOut(
        id=thread.id,
        record_type=thread.record_type,
        record_id=thread.record_id,
        side=thread.side,
        supplier_id=thread.supplier,
        supplier_name=names.get(thread.supplier, "") if thread.side == SHARED and thread.supplier else "",
        last_message_at=thread.last_message_at,
        unread=unread,
    )


async def record_threads(record_type: str, record_id: UUID | str | None) -> list[ThreadOut]:
    """The threads of a record the acting person may see: a shared one per
    supplier sharing the record (a supplier: its own alone), and for the
    buyer the internal one."""
    context = _require("conversations.view")
    parties = await _record_parties(record_type, record_id)
    key = record_id if isinstance(record_id, UUID) else UUID(str(record_id))
    # A supplier that reads a record without being its party (documents a
    # handover granted it) has no side of the talk about it.
    shared = [party for party in parties if not context.is_supplier or party == context.supplier_id]
    threads = [await _thread(record_type, key, SHARED, party) for party in shared]
    if context.can("conversations.internal"):
        threads.append(await _thread(record_type, key, INTERNAL, parties[0] if parties else None))
    unread = await _unread(context, threads)
    rows = await scoped(Supplier).select(Supplier.id, Supplier.name).where(Supplier.id.is_in(shared)) if shared else []
    names = {row["id"]: row["name"] for row in rows}
    return [_thread_out(thread, unread[thread.id], names) for thread in threads]


async def get_thread(thread_id: UUID | str) -> Thread:
    """A thread the acting person may see, its record still visible to them."""
    _require("conversations.view")
    thread = await scoped(Thread).get(thread_id)
    await _record_parties(thread.record_type, thread.record_id)
    return thread


async def audience(thread: Thread) -> list[Person]:
    """Everyone who may read the thread: the buyer's people, and on the
    shared side the people of the record's supplier while it reads the
    record. Memberships are read
    for the whole tenant (a supplier user reads the buyer's names here, as
    the thread shows them anyway); the row-level policy keeps the tenant."""
    context = current()
    rows = await (
        Membership.select(Membership.user, Membership.user.name, Membership.role, Membership.supplier)
        .where(Membership.tenant == context.tenant_id)
        .where(Membership.active.eq(True))
        .order_by(Membership.user.name)
    )
    # The supplier's people read the shared side only while they read the
    # record: on a draft's thread the buyer mentions none of them.
    supplier_reads_it = thread.side == SHARED and thread.supplier is not None and await supplier_reads(Thread, thread.id, thread.supplier)
    people = []
    for row in rows:
        supplier_side = Role(row["role"]).is_supplier
        if supplier_side and (not supplier_reads_it or row["supplier"] != thread.supplier):
            continue
        people.append(Person(row["user"], row["user.name"], "supplier" if supplier_side else "buyer"))
    return people


async def _attachments(message_ids: list[UUID]) -> dict[UUID, list[AttachmentOut]]:
    if not message_ids:
        return {}
    rows = await (
        scoped(Document)
        .select(
            Document.id,
            Document.attached_type,
            Document.attached_id,
            Document.supplier,
            Document.title,
            Document.category,
            Document.current_version,
        )
        .where(Document.attached_type == "message")
        .where(Document.attached_id.is_in(message_ids))
        .where(Document.withdrawn.eq(False))
        .where(Document.current_version > 0)
        .order_by(Document.created_at)
    )
    found: dict[UUID, list[AttachmentOut]] = {}
    # A file follows its message (and so the thread's record), not its own supplier field.
    for row in await scoped(Document).readable(list(rows)):
        found.setdefault(row["attached_id"], []).append(AttachmentOut(row["id"], row["title"], row["category"], row["current_version"]))
    return found


async def _messages_out(rows: list[dict[str, Any]]) -> list[MessageOut]:
    files = await _attachments([row["id"] for row in rows])
    mentioned = {UUID(str(user)) for row in rows for user in _mention_ids(row["mentions"])}
    names = (
        {row["id"]: row["name"] for row in await User.select(User.id, User.name).where(User.id.is_in(list(mentioned)))} if mentioned else {}
    )
    return [
        MessageOut(
            id=row["id"],
            thread_id=row["thread"],
            client_id=row["client_id"],
            author_id=row["author"],
            author_name=row["author_name"],
            author_side=row["author_side"],
            body=row["body"],
            mentions=[MentionOut(UUID(str(user)), names.get(UUID(str(user)), "")) for user in _mention_ids(row["mentions"])],
            attachments=files.get(row["id"], []),
            created_at=row["created_at"],
            seq=row["seq"],
        )
        for row in rows
    ]


def _mention_ids(value: Any) -> list[str]:
    if isinstance(value, str):
        value = msgspec.json.decode(value) if value else []
    return [str(user) for user in value or []]


_COLUMNS = (
    Message.id,
    Message.thread,
    Message.client_id,
    Message.author,
    Message.author_name,
    Message.author_side,
    Message.body,
    Message.mentions,
    Message.created_at,
    Message.seq,
)


async def _after(thread: Thread, value: str | None) -> int:
    """The number (``Message.seq``) the next page starts after. Pages go by
    number, the order messages were committed in: a time would skip one
    committed late with an earlier time, and leave the order of messages
    sharing one instant to chance. The cursors handed out before (a time
    and an id, or a time alone) still read, so that a client paging
    through a deploy goes on: after that message, or after every message
    made up to that instant."""
    if not value:
        return 0
    if value.isdigit():
        return int(value)
    at_text, _, key_text = value.partition("|")
    try:
        at = datetime.fromisoformat(at_text)
        key = UUID(key_text) if key_text else None
    except ValueError:
        raise InvalidMessage(fields={"cursor": N_("This page link is not valid.")}) from None
    if at.tzinfo is None:
        raise InvalidMessage(fields={"cursor": N_("This page link is not valid.")})
    if key is not None:
        row = await scoped(Message).select(Message.seq).where(Message.thread == thread.id, Message.id == key).first()
        if row is None:
            raise InvalidMessage(fields={"cursor": N_("This page link is not valid.")})
        return int(row["seq"])
    row = (
        await scoped(Message)
        .select(Message.seq)
        .where(Message.thread == thread.id, Message.created_at <= at)
        .order_by(Message.seq, ascending=False)
        .first()
    )
    return int(row["seq"]) if row else 0


async def list_messages(thread_id: UUID | str, cursor: str | None = None) -> MessagePage:
    """Messages in the order they were committed (``seq``), ``PAGE_SIZE``
    at a time: each message on exactly one page, one committed after a
    page was read on a later page. Marks nothing read."""
    thread = await get_thread(thread_id)
    after = await _after(thread, cursor)
    rows = (
        await scoped(Message)
        .select(*_COLUMNS)
        .where(Message.thread == thread.id, Message.seq > after)
        .order_by(Message.seq)
        .limit(PAGE_SIZE + 1)
    )
    page, more = rows[:PAGE_SIZE], len(rows) > PAGE_SIZE
    return MessagePage(items=await _messages_out(page), next=str(page[-1]["seq"]) if more else None)


@dataclass(frozen=True)
class Shown:
    """A thread as a record's page shows it to a person."""

    messages: list[MessageOut]
    # Older messages than these exist (the page shows the newest PAGE_SIZE).
    earlier: bool
    # How far the person had read before this view (a message number):
    # later messages by others are new to them.
    read_through: int


async def show_thread(thread_id: UUID | str) -> Shown:
    """The newest ``PAGE_SIZE`` messages, oldest first, for a person reading
    the record's page, with how far they had read. Marks nothing read."""
    context = current()
    thread = await get_thread(thread_id)
    marker = await _marker(context, thread)
    rows = await (
        scoped(Message).select(*_COLUMNS).where(Message.thread == thread.id).order_by(Message.seq, ascending=False).limit(PAGE_SIZE + 1)
    )
    shown = list(reversed(rows[:PAGE_SIZE]))
    return Shown(await _messages_out(shown), len(rows) > PAGE_SIZE, marker.read_seq if marker else 0)


async def _marker(context: TenantContext, thread: Thread) -> ReadMarker | None:
    if context.user_id is None:
        return None
    query = scoped(ReadMarker).objects().where(ReadMarker.thread == thread.id).where(ReadMarker.user == context.user_id)
    return await query.first()  # type: ignore[no-any-return]


async def mark_thread_read(thread_id: UUID | str, through: int | None = None) -> ThreadOut:
    """The caller has read the thread up to the message numbered
    ``through`` (the last one shown to them), or up to its newest message:
    those count as read, later ones (and earlier ones committed later, which
    get later numbers) still count."""
    context = current()
    thread = await get_thread(thread_id)
    newest = await scoped(Message).select(Message.seq).where(Message.thread == thread.id).order_by(Message.seq, ascending=False).first()
    if newest is not None:
        # A number beyond the newest message the caller can see marks no
        # more than that one.
        await _mark_read(context, thread, newest["seq"] if through is None else min(through, newest["seq"]))
    rows = await scoped(Supplier).select(Supplier.id, Supplier.name).where(Supplier.id == thread.supplier) if thread.supplier else []
    return _thread_out(thread, (await _unread(context, [thread]))[thread.id], {row["id"]: row["name"] for row in rows})


async def _mark_read(context: TenantContext, thread: Thread, seq: int) -> None:
    if context.user_id is None:
        return
    marker = await _marker(context, thread)
    now = datetime.now(UTC)
    if marker is None:
        row = scoped(ReadMarker).new(
            id=uuid4(), supplier=thread.supplier, thread=thread.id, user=context.user_id, read_at=now, read_seq=seq
        )
        await ReadMarker.insert(row).on_conflict(action="DO NOTHING")
    elif marker.read_seq < seq:
        await scoped(ReadMarker).update({ReadMarker.read_seq: seq, ReadMarker.read_at: now}).where(ReadMarker.id == marker.id)


def _check_body(body: str) -> str:
    text = body.strip()
    if not text:
        raise InvalidMessage(fields={"body": N_("Write a message.")})
    if len(text) > MAX_BODY:
        raise InvalidMessage(fields={"body": N_("A message holds at most %(max)s characters.")}, max=MAX_BODY)
    return text


async def post_message(thread_id: UUID | str, data: MessageIn) -> tuple[MessageOut, bool]:
    """Store one message; ``(message, False)`` when this device already sent
    it (same ``client_id``): a retry stores nothing twice."""
    context = _require("conversations.post")
    thread = await get_thread(thread_id)
    client_id = data.client_id or uuid4()
    earlier = await _sent_before(context, client_id)
    if earlier is not None:
        if earlier["thread"] != thread.id:
            raise InvalidMessage(fields={"client_id": N_("This value is missing or not valid.")})
        return (await _messages_out([earlier]))[0], False
    body = _check_body(data.body)
    people = {person.user_id: person for person in await audience(thread)}
    mentions = list(dict.fromkeys(data.mentions))
    if any(user not in people for user in mentions):
        raise InvalidMessage(fields={"mentions": N_("You can only mention people who can see this record.")})
    now = datetime.now(UTC)
    # Numbered first: raising the thread's count holds its row until this
    # transaction ends, so a message sent meanwhile gets the next number only
    # once this one is visible (numbers follow commit order).
    counted = (
        await scoped(Thread)
        .update({Thread.message_count: Thread.message_count + 1, Thread.last_message_at: now})
        .where(Thread.id == thread.id)
        .returning(Thread.message_count)
    )
    row = scoped(Message).new(
        id=uuid4(),
        supplier=thread.supplier,
        thread=thread.id,
        client_id=client_id,
        author=context.user_id,
        author_name=context.user_name,
        author_side=_side_of(context),
        body=body,
        mentions=[str(user) for user in mentions],
        created_at=now,
        seq=counted[0]["message_count"],
    )
    # A retry racing the first send: the unique key lets one in.
    await Message.insert(row).on_conflict(action="DO NOTHING")
    stored = await _sent_before(context, client_id)
    if stored is None or stored["id"] != row.id:
        return (await _messages_out([stored] if stored else []))[0], False
    await audit(
        "message.posted",
        entity_type="conversation_message",
        entity_id=row.id,
        after={
            "thread": str(thread.id),
            "record_type": thread.record_type,
            "record_id": str(thread.record_id),
            "side": thread.side,
            "body": body,
            "mentions": [str(user) for user in mentions],
        },
    )
    await _announce(thread, row.id, mentions)
    return (await _messages_out([stored]))[0], True


async def _sent_before(context: TenantContext, client_id: UUID) -> dict[str, Any] | None:
    query = scoped(Message).select(*_COLUMNS).where(Message.client_id == client_id)
    query = query.where(Message.author == context.user_id) if context.user_id else query.where(Message.author.is_null())
    return await query.first()  # type: ignore[no-any-return]


async def _announce(thread: Thread, message_id: UUID, mentions: list[UUID]) -> None:
    """Mentions and replies leave as one recorded job; what reaches people
    (mail today, in-app notifications when they land) is decided there."""
    from portal.jobs.queue import enqueue

    await enqueue(
        "conversations.announce", {"message_id": str(message_id), "mentions": [str(user) for user in mentions]}, tenant=current().tenant_id
    )


async def message_attachment_supplier(message_id: UUID) -> UUID | None:
    """Files on a message are shared as the message is: with the record's
    supplier on the shared side while it reads the record, nobody's on the
    internal side. On the shared side of a draft (or of work handed over
    since) a file is the buyer's own; sharing the record shares it
    (``share_thread_files``)."""
    message = await scoped(Message).get(message_id)
    thread = await scoped(Thread).get(message.thread)
    if thread.side != SHARED or thread.supplier is None:
        return None
    supplier: UUID = thread.supplier
    return supplier if await supplier_reads(Thread, thread.id, supplier) else None


async def share_thread_files(record_type: str, record_id: UUID) -> None:
    """A record was shared with its supplier(s) (an order issued, a dispatch
    sent, an NCR issued, a handover started): the files on the messages of
    its shared threads go to each thread's supplier, as the record's own
    documents do."""
    threads = (
        await scoped(Thread)
        .select(Thread.id, Thread.supplier)
        .where(Thread.record_type == record_type)
        .where(Thread.record_id == record_id)
        .where(Thread.side == SHARED)
    )
    for thread in threads:
        if thread["supplier"] is None:
            continue
        messages = await scoped(Message).select(Message.id).where(Message.thread == thread["id"])
        if messages:
            await share_attached({"message": [row["id"] for row in messages]}, thread["supplier"])


register_attachment_target("message", message_attachment_supplier, table=Message)


def record_link(record_type: str, record_id: UUID) -> str:
    return RECORD_PAGES[record_type].format(record_id)


class Waiting(msgspec.Struct, frozen=True):
    """A thread whose newest message came from the other side of the table."""

    thread_id: UUID
    record_type: str
    record_id: UUID
    record_label: str
    link: str
    side: str
    author_name: str
    body: str
    created_at: datetime


_LABELS: dict[str, Any] = {
    "order": Order.number,
    "dispatch": Dispatch.number,
    "delivery": Delivery.number,
    "document": Document.title,
    "ncr": Ncr.number,
    "handover": Handover.number,
}


async def _record_labels(threads: list[dict[str, Any]]) -> dict[UUID, str]:
    labels: dict[UUID, str] = {}
    for record_type, column in _LABELS.items():
        ids = [row["record_id"] for row in threads if row["record_type"] == record_type]
        if ids:
            table = RECORDS[record_type]
            rows = await scoped(table).select(table.id, column).where(table.id.is_in(ids))
            labels.update({row["id"]: row[column._meta.name] for row in rows})
    return labels


def _last_word_from(side: str) -> WhereRaw:
    """The thread's newest message (by ``seq``, the order of commits) was
    written by ``side``: a condition of the query, so threads already
    answered take no place before the limit. One probe per thread on the
    (tenant, thread, seq) index."""
    thread, message = Thread._meta.tablename, Message._meta.tablename
    newest = (
        f'(SELECT m."author_side" FROM "{message}" m WHERE m."tenant" = "{thread}"."tenant"'  # noqa: S608 - table names; the side is a parameter
        f' AND m."thread" = "{thread}"."id" ORDER BY m."seq" DESC LIMIT 1)'
    )
    return WhereRaw(newest + " = {}", side)


async def unanswered(limit: int = 20) -> FirstRows[Waiting]:
    """Shared threads the acting side owes an answer on: the newest message
    is from the other side (the buyer's for a supplier, the supplier's for
    the buyer). Newest first; threads whose last messages share a time in
    the order of their ids, so the list holds still between two views. The
    first ``limit``, with the count of all."""
    context = _require("conversations.view")
    other = "buyer" if context.is_supplier else "supplier"

    def waiting_threads(query: Any) -> Any:
        return query.where(Thread.side == SHARED).where(Thread.last_message_at.is_not_null()).where(_last_word_from(other))

    threads = await (
        waiting_threads(scoped(Thread).select(Thread.id, Thread.record_type, Thread.record_id, Thread.side))
        .order_by(Thread.last_message_at, ascending=False)
        .order_by(Thread.id, ascending=False)
        .limit(limit)
    )
    if not threads:
        return FirstRows([], 0)
    total = len(threads) if len(threads) < limit else await waiting_threads(scoped(Thread).count())
    newest: dict[UUID, dict[str, Any]] = {}
    rows = await (
        scoped(Message)
        .select(Message.thread, Message.author_side, Message.author_name, Message.body, Message.created_at)
        .where(Message.thread.is_in([row["id"] for row in threads]))
        # The last committed, whatever the clocks said (two messages can
        # share a time).
        .order_by(Message.seq, ascending=False)
    )
    for row in rows:
        newest.setdefault(row["thread"], row)
    labels = await _record_labels(threads)
    waiting = []
    for thread in threads:
        last = newest.get(thread["id"])
        # A message that landed since the first read, or a record no longer
        # the reader's to see, leaves its thread out of this view.
        if last is None or last["author_side"] != other or thread["record_id"] not in labels:
            continue
        waiting.append(
            Waiting(
                thread_id=thread["id"],
                record_type=thread["record_type"],
                record_id=thread["record_id"],
                record_label=labels[thread["record_id"]],
                link=record_link(thread["record_type"], thread["record_id"]) + "#conversation",
                side=thread["side"],
                author_name=last["author_name"],
                body=last["body"][:140],
                created_at=last["created_at"],
            )
        )
    return FirstRows(waiting, max(total, len(waiting)))
