"""Demo conversations: on several orders of each demo tenant the planner
asks the supplier a question mentioning its operator, the operator answers
with a photo, and QA leaves an internal note the supplier never sees; on
the first issued NCR QA asks about the goods on hold and the operator
answers. On the handover in progress (portal/handover/demo.py, loaded
after these) the planner and the outgoing supplier settle the return of the
tooling, and the planner notes internally what the incoming supplier must
not hear.

Idempotent: a tenant that has messages is left alone, and so is a handover
whose threads have messages."""

from __future__ import annotations

import io
import uuid

from portal.conversations.services import MessageIn, audience, get_thread, post_message, record_threads
from portal.conversations.tables import Message
from portal.deliveries.demo import as_member
from portal.documents.intake import StagedFile
from portal.documents.services import new_document_target, store_upload
from portal.documents.storage import Storage, open_storage
from portal.handover.states import Status as HandoverStatus
from portal.handover.tables import Handover
from portal.orders.states import Status as OrderStatus
from portal.orders.tables import Order
from portal.quality.tables import Ncr
from portal.settings import get_settings
from tenants.context import tenant_scope
from tenants.operators import for_each_tenant
from tenants.roles import Role
from tenants.scoping import scoped

# (order status, planner's question, supplier's answer, QA's internal note)
PLAN = [
    (
        OrderStatus.IN_PRODUCTION,
        "热处理还按计划吗？ Is heat treatment still on schedule?",
        "热处理炉检修，推迟一天，周五发货。照片是今天的进度。"
        " The furnace is in maintenance: one day late, ships Friday. Photo of today's state attached.",
        "该供应商今年第二次热处理延误，季度评审时讨论。 Second heat-treatment delay this year: raise at the quarterly review.",
    ),
    (
        OrderStatus.ACCEPTED,
        "请按图纸 B 版加工，A 版作废。 Please machine to drawing rev B; rev A is void.",
        "收到，按 B 版加工。 Understood, we machine to rev B.",
        "",
    ),
    (
        OrderStatus.PARTIALLY_DELIVERED,
        "剩余数量什么时候能到？ When does the rest arrive?",
        "下周二送第二批。 Second batch next Tuesday.",
        "",
    ),
]


NCR_QUESTION = "隔离了多少件？涉及哪些批次？ How many pieces are on hold, and from which lots?"
NCR_ANSWER = "库存 120 件已全部隔离，批次 LOT-2041。 All 120 pieces in stock are on hold, lot LOT-2041."

HANDOVER_QUESTION = "夹具和检具什么时候退回？请列个清单。 When do the fixtures and gauges come back? Please list them."
HANDOVER_ANSWER = "两套夹具、一套检具，周三随最后一批货退回。 Two fixtures and one gauge set, back on Wednesday with the last batch."
HANDOVER_NOTE = "交接完成前暂停对该供应商付款。 Hold payments to this supplier until the handover is complete."


def _photo(storage: Storage, title: str) -> StagedFile:
    """A small JPEG standing in for the operator's phone photo."""
    from PIL import Image, ImageDraw

    image = Image.new("RGB", (640, 480), (90, 96, 104))
    draw = ImageDraw.Draw(image)
    draw.rectangle((160, 140, 480, 340), fill=(170, 174, 180), outline=(230, 230, 230), width=6)
    draw.text((180, 360), title, fill=(255, 255, 255))
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=80)
    return StagedFile.from_bytes(storage.staging_dir(), buffer.getvalue(), "IMG_demo.jpg", "image/jpeg")


async def load_conversations_demo(slugs: list[str]) -> bool:
    storage = open_storage(get_settings())
    return await for_each_tenant(slugs, lambda tenant: _load_tenant(storage))


async def _load_tenant(storage: Storage) -> bool:
    if await scoped(Message).exists():
        return False
    created = False
    for status, question, answer, note in PLAN:
        order = await scoped(Order).select(Order.id, Order.supplier).where(Order.status == status.value).order_by(Order.number).first()
        if order is None:
            continue
        async with tenant_scope(await as_member(Role.PLANNER)):
            threads = {thread.side: thread.id for thread in await record_threads("order", order["id"])}
            people = await audience(await get_thread(threads["shared"]))
        operator = await as_member(Role.SUPPLIER_OPERATOR, order["supplier"])
        mentions = [person.user_id for person in people if person.user_id == operator.user_id]
        async with tenant_scope(await as_member(Role.PLANNER)):
            await post_message(threads["shared"], MessageIn(body=question, client_id=uuid.uuid4(), mentions=mentions))
        async with tenant_scope(operator):
            message, _ = await post_message(threads["shared"], MessageIn(body=answer, client_id=uuid.uuid4()))
            if status == OrderStatus.IN_PRODUCTION:
                target = await new_document_target("message", message.id, "photo", "热处理炉 Furnace")
                await store_upload(storage, target, _photo(storage, "Furnace"))
        if note:
            async with tenant_scope(await as_member(Role.QA)):
                await post_message(threads["internal"], MessageIn(body=note, client_id=uuid.uuid4()))
        created = True
    return await _load_ncr() or created


async def _load_ncr() -> bool:
    ncr = await scoped(Ncr).select(Ncr.id, Ncr.supplier).where(Ncr.status != "draft").order_by(Ncr.number).first()
    if ncr is None:
        return False
    async with tenant_scope(await as_member(Role.QA)):
        [shared] = [thread for thread in await record_threads("ncr", ncr["id"]) if thread.side == "shared"]
        await post_message(shared.id, MessageIn(body=NCR_QUESTION, client_id=uuid.uuid4()))
    async with tenant_scope(await as_member(Role.SUPPLIER_OPERATOR, ncr["supplier"])):
        await post_message(shared.id, MessageIn(body=NCR_ANSWER, client_id=uuid.uuid4()))
    return True


async def load_handover_talk_demo(slugs: list[str]) -> bool:
    """The talk on each tenant's handover in progress (only ``acme`` has one)."""
    return await for_each_tenant(slugs, lambda tenant: _load_handover())


async def _load_handover() -> bool:
    handover = (
        await scoped(Handover)
        .select(Handover.id, Handover.from_supplier)
        .where(Handover.status == HandoverStatus.IN_PROGRESS.value)
        .order_by(Handover.number)
        .first()
    )
    if handover is None:
        return False
    async with tenant_scope(await as_member(Role.PLANNER)):
        threads = await record_threads("handover", handover["id"])
        if await scoped(Message).exists().where(Message.thread.is_in([thread.id for thread in threads])):
            return False
        [outgoing] = [thread for thread in threads if thread.side == "shared" and thread.supplier_id == handover["from_supplier"]]
        [internal] = [thread for thread in threads if thread.side == "internal"]
        await post_message(outgoing.id, MessageIn(body=HANDOVER_QUESTION, client_id=uuid.uuid4()))
    async with tenant_scope(await as_member(Role.SUPPLIER_ADMIN, handover["from_supplier"])):
        await post_message(outgoing.id, MessageIn(body=HANDOVER_ANSWER, client_id=uuid.uuid4()))
    async with tenant_scope(await as_member(Role.PLANNER)):
        await post_message(internal.id, MessageIn(body=HANDOVER_NOTE, client_id=uuid.uuid4()))
    return True
