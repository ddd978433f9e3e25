"""Conversations on records: a thread per record, side and supplier, its
messages and each reader's place in it."""

from __future__ import annotations

from typing import Any

from piccolo.columns import JSON, UUID, ForeignKey, Integer, Text, Timestamptz, Varchar
from piccolo.columns.base import OnDelete
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table

from portal.deliveries.tables import Delivery
from portal.documents.tables import Document
from portal.handover.tables import Handover
from portal.lengths import free_text
from portal.materials.tables import Dispatch
from portal.orders.tables import Order
from portal.quality.tables import Ncr
from tenants.tables import Supplier, Tenant, User

SHARED, INTERNAL = "shared", "internal"


class Thread(Table, tablename="conversation_thread"):
    """The talk about one record on one side: ``shared`` between the buyer
    and one supplier of the record, ``internal`` for the buyer alone. Exactly
    one of the record columns is set; the supplier sees a shared thread only
    while it sees the record (a draft order's thread is the buyer's). Most
    records have one supplier; a handover has two (the outgoing and the
    incoming one), each with a shared thread of its own that the other never
    reads."""

    supplier_scope = "supplier"
    supplier_parents = ("order", "dispatch", "delivery", "document", "ncr", "handover")

    @classmethod
    def supplier_visible(cls) -> Any:
        return cls.side == SHARED

    id = UUID(primary_key=True)
    tenant = ForeignKey(Tenant, on_delete=OnDelete.restrict, null=False, index=True)
    # The supplier a shared side is with (on a handover, one of its two);
    # on the internal side the record's own supplier, none for a record no
    # supplier shares (then only the internal side exists).
    supplier = ForeignKey(Supplier, on_delete=OnDelete.restrict, null=True, default=None)
    record_type = Varchar(length=30)
    record_id = UUID()
    side = Varchar(length=10)
    order = ForeignKey(Order, on_delete=OnDelete.restrict, null=True, default=None)
    dispatch = ForeignKey(Dispatch, on_delete=OnDelete.restrict, null=True, default=None)
    delivery = ForeignKey(Delivery, on_delete=OnDelete.restrict, null=True, default=None)
    document = ForeignKey(Document, on_delete=OnDelete.restrict, null=True, default=None)
    ncr = ForeignKey(Ncr, on_delete=OnDelete.restrict, null=True, default=None)
    handover = ForeignKey(Handover, on_delete=OnDelete.restrict, null=True, default=None)
    created_at = Timestamptz(default=TimestamptzNow())
    last_message_at = Timestamptz(null=True, default=None)
    # The number the thread's last message got (Message.seq). A sender
    # raises it first thing, which holds the thread's row until it commits:
    # the next message's number is given only after the previous one is
    # visible, so numbers follow commit order, as times do not.
    message_count = Integer(default=0)


class Message(Table, tablename="conversation_message"):
    """One message, never edited or deleted. ``client_id`` is made by the
    sender's device: a retry of one send is the same message."""

    supplier_scope = "supplier"
    supplier_parents = ("thread",)

    id = UUID(primary_key=True)
    tenant = ForeignKey(Tenant, on_delete=OnDelete.restrict, null=False, index=True)
    supplier = ForeignKey(Supplier, on_delete=OnDelete.restrict, null=True, default=None)
    thread = ForeignKey(Thread, on_delete=OnDelete.restrict, null=False)
    client_id = UUID()
    author = ForeignKey(User, on_delete=OnDelete.restrict, null=True, default=None)
    author_name = Varchar(length=200)
    # "buyer" or "supplier": which side of the table the author sits on.
    author_side = Varchar(length=10)
    body = free_text(Text())
    # User ids mentioned, each checked to see the record when sent.
    mentions = JSON(default=[])
    created_at = Timestamptz(default=TimestamptzNow())
    # 1, 2, 3... in the order the thread's messages were committed
    # (Thread.message_count): what read markers count against.
    seq = Integer(default=0)


class ReadMarker(Table, tablename="conversation_read"):
    """How far one person has read one thread: every message numbered up
    to ``read_seq`` (Message.seq) was shown to them. A time would not do: a
    message committed after a later one was read has an earlier time."""

    supplier_scope = "supplier"
    supplier_parents = ("thread",)

    id = UUID(primary_key=True)
    tenant = ForeignKey(Tenant, on_delete=OnDelete.restrict, null=False, index=True)
    supplier = ForeignKey(Supplier, on_delete=OnDelete.restrict, null=True, default=None)
    thread = ForeignKey(Thread, on_delete=OnDelete.restrict, null=False)
    user = ForeignKey(User, on_delete=OnDelete.restrict, null=False)
    read_at = Timestamptz(default=TimestamptzNow())
    read_seq = Integer(default=0)


TABLES = (Thread, Message, ReadMarker)
