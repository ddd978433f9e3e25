"""What the isolation matrix seeds: one object of every kind a route can
name, for each supplier of a tenant, plus objects whose parent is hidden from
the supplier (a draft order with its line, QC requirement and drawing; a
draft dispatch; a draft NCR, handover and statement; drafts cancelled
before they were shared). Built through the services, the way users build
them."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any
from uuid import UUID, uuid4

from tenants.roles import Role
from tests.support.factories import World, add_member

# A browser's subscription: a real P-256 point and a 16-byte secret.
PUSH_SUBSCRIPTION = {
    "endpoint": "https://push.example.com/matrix/{new}",
    "keys": {
        "p256dh": "BI5TO2-gv3tGJbswZnwB-2B--fi4qA_vWzAGKHAxh7Kjc-sdveAzGDZtBp-DpvWQAFPHNjPLBBshxV4ahsH0ALQ",
        "auth": "AAECAwQFBgcICQoLDA0ODw",
    },
}


async def _seed_delivery(tenant: Any, supplier_id: UUID, item_id: UUID) -> dict[str, UUID]:
    """A shipped notice of ``supplier_id`` against an accepted order of its
    own, and its line."""
    from dataclasses import replace
    from datetime import date, timedelta
    from decimal import Decimal

    from portal.deliveries.schemas import DeliveryCreate, DeliveryLineIn
    from portal.deliveries.services import create_delivery
    from portal.orders import services as orders
    from portal.orders.schemas import OrderCreate, OrderLineIn
    from tenants.context import operator_context, tenant_scope

    line = OrderLineIn(item_id=item_id, quantity=Decimal(10), unit_price=Decimal(2), due_date=date.today() + timedelta(days=10))
    order = await orders.fire((await orders.create_order(OrderCreate(supplier_id=supplier_id, lines=[line]))).id, "issue")
    supplier = replace(operator_context(tenant, "isolation-matrix"), role=Role.SUPPLIER_ADMIN, supplier_id=supplier_id)
    async with tenant_scope(supplier):
        await orders.fire(order.id, "accept")
        lines = [DeliveryLineIn(order_line_id=order.lines[0].id, quantity=Decimal(4), lot="L-1")]
        delivery = await create_delivery(DeliveryCreate(order_id=order.id, lines=lines, ship=True))
    return {"delivery_id": delivery.id, "delivery_line_id": delivery.lines[0].id}


async def _seed_progress(tenant: Any, supplier_id: UUID, item_id: UUID) -> dict[str, UUID]:
    """A progress report of ``supplier_id`` on a line of its accepted order
    (``line_id`` of ``line_order_id``)."""
    from dataclasses import replace
    from datetime import date, timedelta
    from decimal import Decimal

    from portal.orders import services as orders
    from portal.orders.schemas import OrderCreate, OrderLineIn
    from portal.progress.schemas import ReportIn
    from portal.progress.services import create_report
    from tenants.context import operator_context, tenant_scope

    line = OrderLineIn(item_id=item_id, quantity=Decimal(10), unit_price=Decimal(2), due_date=date.today() + timedelta(days=10))
    order = await orders.fire((await orders.create_order(OrderCreate(supplier_id=supplier_id, lines=[line]))).id, "issue")
    supplier = replace(operator_context(tenant, "isolation-matrix"), role=Role.SUPPLIER_ADMIN, supplier_id=supplier_id)
    async with tenant_scope(supplier):
        await orders.fire(order.id, "accept")
        body = ReportIn(client_id=uuid4(), order_line_id=order.lines[0].id, stage="machining", good_quantity=Decimal(2), photos_expected=1)
        report, _ = await create_report(body)
    return {"line_id": order.lines[0].id, "line_order_id": order.id, "report_id": report.id}


async def _seed_materials(tenant: Any, supplier_id: UUID) -> dict[str, UUID]:
    """A sent dispatch to ``supplier_id`` (and its line), and a return and a
    scrap report by that supplier."""
    from dataclasses import replace
    from decimal import Decimal

    from portal.items.services import ItemIn, create_item
    from portal.items.tables import Item
    from portal.materials import services as materials
    from portal.materials.schemas import DispatchCreate, DispatchLineIn, MovementCreate
    from tenants.context import operator_context, tenant_scope
    from tenants.scoping import scoped

    found = await scoped(Item).select(Item.id).where(Item.code == "M-1").first()
    material_id = found["id"] if found else (await create_item(ItemIn(code="M-1", name="Steel", unit="kg", kind="material"))).id
    line = DispatchLineIn(item_id=material_id, quantity=Decimal(10), lot="H-1")
    sent = await materials.send_dispatch((await materials.create_dispatch(DispatchCreate(supplier_id=supplier_id, lines=[line]))).id)
    supplier = replace(operator_context(tenant, "isolation-matrix"), role=Role.SUPPLIER_ADMIN, supplier_id=supplier_id)
    async with tenant_scope(supplier):
        returned = await materials.report_movement("return", MovementCreate(item_id=material_id, quantity=Decimal(1)))
        scrapped = await materials.report_movement("scrap", MovementCreate(item_id=material_id, quantity=Decimal(1), reason="matrix"))
    ids = {"dispatch_id": sent.id, "dispatch_line_id": sent.lines[0].id, "material_id": material_id}
    return {**ids, "return_id": returned.id, "scrap_id": scrapped.id}


async def _seed_statement(tenant: Any, supplier_id: UUID, finance_user: UUID, period: str, *, send: bool) -> dict[str, UUID]:
    """A statement of ``supplier_id`` holding one approved adjustment: closed
    and sent when ``send``, else a draft of an open period; and a pending
    adjustment beside it."""
    from dataclasses import replace
    from decimal import Decimal

    from portal.reconciliation import services as reconciliation
    from portal.reconciliation.schemas import AdjustmentIn
    from tenants.context import operator_context, tenant_scope

    def adjustment(reason: str) -> AdjustmentIn:
        return AdjustmentIn(supplier_id=supplier_id, period=period, amount=str(Decimal("12.50")), reason=reason)

    made = await reconciliation.create_adjustment(adjustment("matrix"))
    pending = await reconciliation.create_adjustment(adjustment("matrix pending"))
    finance = replace(operator_context(tenant, "isolation-matrix"), role=Role.FINANCE, user_id=finance_user)
    async with tenant_scope(finance):
        await reconciliation.approve_adjustment(made.id)
        if send:
            [statement] = await reconciliation.close_period(supplier_id, period)
            await reconciliation.send_statement(statement.id)
        else:
            [statement] = await reconciliation.refresh(supplier_id, period)
    return {"statement_id": statement.id, "statement_line_id": statement.lines[0].id, "adjustment_id": pending.id}


async def _seed_ncr(tenant: Any, supplier_id: UUID, order_line_id: UUID) -> dict[str, UUID]:
    """An issued NCR on the supplier's order line whose containment the
    supplier answered (so that QA's accept and return forms show), and its
    containment step."""
    from dataclasses import replace

    from portal.quality import ncrs
    from tenants.context import operator_context, tenant_scope

    opened = await ncrs.open_ncr(ncrs.NcrIn(title="Matrix NCR", description="isolation matrix", order_line_id=order_line_id))
    issued = await ncrs.issue_ncr(opened.id, ncrs.IssueIn())
    supplier = replace(operator_context(tenant, "isolation-matrix"), role=Role.SUPPLIER_ADMIN, supplier_id=supplier_id)
    async with tenant_scope(supplier):
        await ncrs.answer_step(issued.id, issued.steps[0].id, ncrs.AnswerIn(text="Contained"))
    return {"ncr_id": issued.id, "step_id": issued.steps[0].id}


async def _seed_notifications(world: World, tenant: Any) -> tuple[dict[str, dict[str, Any]], UUID]:
    """A notification of each person's own, a webhook endpoint with one
    delivery; every event the seed recorded runs through the jobs."""
    from dataclasses import replace

    from portal.jobs.runner import run_due_jobs
    from portal.notifications.push import PushKeys, SubscriptionIn, subscribe
    from portal.notifications.services import emit
    from portal.notifications.tables import Notification
    from portal.notifications.webhooks import WebhookIn, create_endpoint
    from tenants.context import operator_context, system_scope, tenant_scope

    events = {}
    async with tenant_scope(operator_context(tenant, "isolation-matrix")):
        endpoint = await create_endpoint(WebhookIn(url="http://127.0.0.1:9/matrix", events=["order.revised"]))
        for identity, account in world.accounts.items():
            events[identity] = await emit("order.revised", users=[account.user_id], params={"number": f"N-{identity}"}, link="/")
    # The webhook's deliveries fail (nothing listens on port 9) and wait for a retry.
    await run_due_jobs()
    personal = {}
    async with system_scope("isolation-matrix"):
        for identity, event_id in events.items():
            row = await Notification.select(Notification.id).where(Notification.event_id == event_id).first()
            personal[identity] = {"notification_id": row["id"]}
    # Each person's own device for Web Push.
    for identity, account in world.accounts.items():
        person = replace(
            operator_context(tenant, "isolation-matrix"), role=Role(account.role), user_id=account.user_id, supplier_id=account.supplier_id
        )
        async with tenant_scope(person):
            device = await subscribe(
                SubscriptionIn(
                    endpoint=f"https://push.example.com/matrix/{account.user_id}",
                    keys=PushKeys(p256dh=PUSH_SUBSCRIPTION["keys"]["p256dh"], auth=PUSH_SUBSCRIPTION["keys"]["auth"]),
                )
            )
        personal[identity]["subscription_id"] = device.id
    return personal, endpoint.id


async def _failed_job(tenant_id: UUID) -> UUID:
    """The tenant's webhook delivery that failed (nothing listens on port 9)."""
    from portal.jobs.tables import Job

    row = await Job.select(Job.id).where((Job.tenant == tenant_id) & (Job.kind == "webhooks.deliver")).first()
    return UUID(str(row["id"]))


async def _seed_robot(tenant: Any, supplier_id: UUID) -> UUID:
    """The supplier admin's group robot."""
    from dataclasses import replace

    from portal.notifications.chat import RobotIn, create_robot
    from tenants.context import operator_context, tenant_scope

    supplier = replace(operator_context(tenant, "isolation-matrix"), role=Role.SUPPLIER_ADMIN, supplier_id=supplier_id)
    async with tenant_scope(supplier):
        robot = await create_robot(RobotIn(service="wecom", url=f"https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key={supplier_id}"))
    return robot.id


async def _seed_threads(order_id: UUID, label: str) -> tuple[UUID, UUID, list[str]]:
    """Both sides of an order's conversation, each with a message whose
    words mark it: (shared thread, internal thread, [shared words, internal words])."""
    from uuid import uuid4

    from portal.conversations.services import MessageIn, post_message, record_threads

    threads = {thread.side: thread.id for thread in await record_threads("order", order_id)}
    words = [f"shared-talk-{label}", f"internal-note-{label}"]
    for side, text in zip(("shared", "internal"), words, strict=True):
        await post_message(threads[side], MessageIn(body=text, client_id=uuid4()))
    return threads["shared"], threads["internal"], words


async def _seed_talk(record_type: str, record_id: UUID, label: str) -> dict[tuple[str, UUID | None], tuple[UUID, str]]:
    """A buyer's message on every thread of a record (one shared thread per
    supplier of it, and the internal one), each with words that mark it:
    (side, supplier of a shared side) -> (thread, words)."""
    from portal.conversations.services import MessageIn, post_message, record_threads

    talk = {}
    for thread in await record_threads(record_type, record_id):
        party = thread.supplier_id if thread.side == "shared" else None
        words = f"{record_type}-{thread.side}-talk-{label}-{len(talk)}"
        await post_message(thread.id, MessageIn(body=words, client_id=uuid4()))
        talk[(thread.side, party)] = (thread.id, words)
    return talk


async def _seed_thread_file(thread_id: UUID) -> UUID:
    """A buyer's message on ``thread_id`` with a photo attached; the photo's id."""
    from portal.conversations.services import MessageIn, post_message
    from portal.documents.services import new_document_target, store_upload
    from portal.documents.storage import open_storage
    from portal.settings import get_settings
    from tests.support.documents.samples import png, stage

    message, _ = await post_message(thread_id, MessageIn(body="see the photo", client_id=uuid4()))
    storage = open_storage(get_settings())
    target = await new_document_target("message", message.id, "photo", "Thread photo")
    document = await store_upload(storage, target, stage(storage, png(), "thread.png", "image/png"))
    return document.id


async def _seed_handovers(world: World, ids: list[dict[str, Any]], hidden: dict[str, Any]) -> None:
    """A third supplier C; a started handover from each supplier to C (the
    outgoing supplier's own entry is the one its users sign off), and a
    draft from the first supplier to C, the buyer's own."""
    from portal.handover import services as handovers
    from portal.handover.schemas import HandoverCreate
    from tenants.services.suppliers import SupplierCreate, create_supplier

    third = await create_supplier(SupplierCreate(code="S3", name=f"Supplier S3 {world.slug}"))

    def outgoing_entry(handover: Any) -> Any:
        return next(item.id for item in handover.items if item.party == "outgoing_supplier")

    for entry, supplier_id in zip(ids, world.supplier_ids, strict=True):
        handover = await handovers.create_handover(HandoverCreate(from_supplier_id=supplier_id, to_supplier_id=third.id))
        handover = await handovers.start_handover(handover.id, handover.version)
        entry.update(handover_id=handover.id, handover_item_id=outgoing_entry(handover), to_supplier_id=third.id)
    draft = await handovers.create_handover(HandoverCreate(from_supplier_id=world.supplier_ids[0], to_supplier_id=third.id))
    hidden.update(handover_id=draft.id, handover_item_id=outgoing_entry(draft))


async def _seed_approval(supplier_id: UUID, item_id: UUID) -> UUID:
    """An order held for finance's approval (the rule is switched off again
    so that the matrix's own orders issue freely)."""
    from datetime import date, timedelta
    from decimal import Decimal

    from portal.approvals.services import RuleIn, list_requests, set_rules
    from portal.orders import services as orders
    from portal.orders.schemas import OrderCreate, OrderLineIn

    await set_rules([RuleIn(kind="order.issue", approver_role="finance", threshold=Decimal(0))])
    line = OrderLineIn(item_id=item_id, quantity=Decimal(5), unit_price=Decimal(2), due_date=date.today() + timedelta(days=10))
    held = await orders.fire((await orders.create_order(OrderCreate(supplier_id=supplier_id, lines=[line]))).id, "issue")
    await set_rules([RuleIn(kind="order.issue", approver_role="finance", active=False)])
    [request] = [found for found in (await list_requests("pending"))[0] if found.record_id == held.id]
    return request.id


async def _seed_cancelled(supplier_id: UUID, to_supplier_id: UUID, item_id: UUID) -> tuple[dict[str, UUID], list[str]]:
    """A draft order (with its line), a draft NCR and a draft handover of
    ``supplier_id``, each cancelled before it was shared: cancelling shares
    nothing, they stay the buyer's own. Their ids, and their numbers."""
    from datetime import date, timedelta
    from decimal import Decimal

    from portal.handover import services as handovers
    from portal.handover.schemas import HandoverCreate
    from portal.orders import services as orders
    from portal.orders.schemas import OrderCreate, OrderLineIn
    from portal.quality import ncrs

    line = OrderLineIn(item_id=item_id, quantity=Decimal(4), unit_price=Decimal(2), due_date=date.today() + timedelta(days=10))
    order = await orders.create_order(OrderCreate(supplier_id=supplier_id, lines=[line]))
    await orders.fire(order.id, "cancel", reason="isolation matrix")
    ncr = await ncrs.open_ncr(ncrs.NcrIn(title="Cancelled draft NCR", description="isolation matrix", supplier_id=supplier_id))
    ncr = await ncrs.cancel_ncr(ncr.id, ncrs.DecisionIn(comment="isolation matrix"))
    handover = await handovers.create_handover(HandoverCreate(from_supplier_id=supplier_id, to_supplier_id=to_supplier_id))
    entry = next(item.id for item in handover.items if item.party == "outgoing_supplier")
    handover = await handovers.cancel_handover(handover.id, handover.version, "isolation matrix")
    ids = {
        "order_id": order.id,
        "line_id": order.lines[0].id,
        "line_order_id": order.id,
        "order_line_id": order.lines[0].id,
        "ncr_id": ncr.id,
        "handover_id": handover.id,
        "handover_item_id": entry,
    }
    return ids, [order.number, ncr.number, handover.number]


@dataclass
class Seeded:
    """Ids keyed by route parameter name, and the words that name them
    (order numbers, the supplier's name) for the leak scan."""

    first: dict[str, Any]
    second: dict[str, Any]
    # The first supplier's objects whose parent it cannot see yet.
    hidden: dict[str, Any]
    # Objects that belong to one person: each identity's own (a notification).
    personal: dict[str, dict[str, Any]] = field(default_factory=dict)
    first_marks: list[str] = field(default_factory=list)
    second_marks: list[str] = field(default_factory=list)
    hidden_marks: list[str] = field(default_factory=list)
    # The first supplier's drafts cancelled before they were shared (an
    # order, an NCR, a handover): as hidden as the drafts themselves.
    cancelled: dict[str, Any] = field(default_factory=dict)


async def _seed_hidden(tenant: Any, supplier_id: UUID, item_id: UUID) -> tuple[dict[str, UUID], str]:
    """A draft order of ``supplier_id`` with its line, a QC requirement and a
    drawing, and a draft dispatch to it: all still the buyer's own."""
    from datetime import date, timedelta
    from decimal import Decimal

    from portal.documents.services import new_document_target, store_upload
    from portal.documents.storage import open_storage
    from portal.items.tables import Item
    from portal.materials import services as materials
    from portal.materials.schemas import DispatchCreate, DispatchLineIn
    from portal.orders import services as orders
    from portal.orders.schemas import OrderCreate, OrderLineIn
    from portal.quality.services import RequirementIn, add_requirement
    from portal.settings import get_settings
    from tenants.scoping import scoped
    from tests.support.documents.samples import png, stage

    line = OrderLineIn(item_id=item_id, quantity=Decimal(3), unit_price=Decimal(2), due_date=date.today() + timedelta(days=10))
    draft = await orders.create_order(OrderCreate(supplier_id=supplier_id, lines=[line]))
    requirement = await add_requirement(draft.id, RequirementIn(category="material_certificate"))
    storage = open_storage(get_settings())
    target = await new_document_target("order", draft.id, "photo", "Draft drawing")
    document = await store_upload(storage, target, stage(storage, png(), "draft.png", "image/png"))
    assert document.current is not None
    material = await scoped(Item).select(Item.id).where(Item.code == "M-1").first()
    dispatch_line = DispatchLineIn(item_id=material["id"], quantity=Decimal(2), lot="H-DRAFT")
    dispatch = await materials.create_dispatch(DispatchCreate(supplier_id=supplier_id, lines=[dispatch_line]))
    ids = {
        "order_id": draft.id,
        "line_id": draft.lines[0].id,
        "line_order_id": draft.id,
        "order_line_id": draft.lines[0].id,
        "requirement_id": requirement.id,
        "document_id": document.id,
        "version_id": document.current.id,
        "dispatch_id": dispatch.id,
        "dispatch_line_id": dispatch.lines[0].id,
    }
    return ids, draft.number


async def seed(world: World) -> Seeded:
    """One object of every kind a route can name, for the first supplier and
    (where objects belong to a supplier) for the second, and the first
    supplier's hidden ones."""
    from datetime import date, timedelta
    from decimal import Decimal

    from portal.audit.tables import AuditEvent
    from portal.items.services import ItemIn, create_item
    from portal.orders import services as orders
    from portal.orders.schemas import OrderCreate, OrderLineIn, OrderUpdate
    from portal.quality import ncrs
    from portal.quality.services import RequirementIn, add_requirement
    from tenants.context import operator_context, system_scope, tenant_scope
    from tenants.services.invitations import InvitationCreate, invite
    from tenants.tables import Invitation, Supplier, Tenant
    from tests.support.documents.samples import seed_document

    async with system_scope("isolation-matrix"):
        tenant = await Tenant.objects().where(Tenant.id == world.tenant_id).first()
    ids: list[dict[str, Any]] = []
    marks: list[list[str]] = []
    internal: list[tuple[UUID, str]] = []
    # Words of threads no supplier reads: the buyer's internal sides, the
    # incoming supplier's side of a handover, the threads of drafts.
    internal_words: list[str] = []
    async with system_scope("isolation-matrix"):
        rows = await Supplier.select(Supplier.id, Supplier.name).where(Supplier.tenant == world.tenant_id)
    supplier_names = {row["id"]: row["name"] for row in rows}
    async with tenant_scope(operator_context(tenant, "isolation-matrix")):
        await invite(InvitationCreate(email=f"invitee.{world.slug}@test.example", role="planner"))
        item = await create_item(ItemIn(code="P-1", name="Part"))
        for supplier_id in world.supplier_ids:
            due = date.today() + timedelta(days=10)
            line = OrderLineIn(item_id=item.id, quantity=Decimal(5), unit_price=Decimal(2), due_date=due)
            # An ERP number of its own: the tenants' own numbering gives both
            # worlds the same WO-2026-00001, which the leak scan cannot tell apart.
            number = f"ERP-{uuid4().hex[:10].upper()}"
            order = await orders.create_order(OrderCreate(supplier_id=supplier_id, lines=[line], number=number))
            order = await orders.fire(order.id, "issue")
            changed = OrderLineIn(id=order.lines[0].id, item_id=item.id, quantity=Decimal(6), unit_price=Decimal(2), due_date=due)
            await orders.update_order(order.id, OrderUpdate(version=order.version, lines=[changed], reason="more"))
            revision = (await orders.list_revisions(order.id))[0]
            ids.append({"supplier_id": supplier_id, "order_id": order.id, "order_line_id": order.lines[0].id, "revision_id": revision.id})
            ids[-1].update(await _seed_delivery(tenant, supplier_id, item.id))
            ids[-1]["document_id"], ids[-1]["version_id"] = await seed_document(supplier_id)
            ids[-1].update(await _seed_materials(tenant, supplier_id))
            ids[-1].update(await _seed_progress(tenant, supplier_id, item.id))
            requirement = await add_requirement(order.id, RequirementIn(category="material_certificate"))
            ids[-1]["requirement_id"] = requirement.id
            ids[-1].update(await _seed_ncr(tenant, supplier_id, order.lines[0].id))
            ncr_talk = await _seed_talk("ncr", ids[-1]["ncr_id"], f"{world.slug}-{len(ids)}")
            ids[-1]["ncr_thread_id"], ncr_words = ncr_talk[("shared", supplier_id)]
            internal_words.append(ncr_talk[("internal", None)][1])
            finance_user = world.accounts["finance"].user_id
            ids[-1].update(await _seed_statement(tenant, supplier_id, finance_user, "2025-01", send=True))
            shared_thread, internal_thread, talk = await _seed_threads(order.id, f"{world.slug}-{len(ids)}")
            ids[-1]["thread_id"] = shared_thread
            ids[-1]["robot_id"] = await _seed_robot(tenant, supplier_id)
            internal.append((internal_thread, talk[1]))
            marks.append([order.number, *(supplier_names[supplier_id],), talk[0], ncr_words])
        hidden, hidden_number = await _seed_hidden(tenant, world.supplier_ids[0], item.id)
        await _seed_handovers(world, ids, hidden)
        # Each handover's outgoing supplier talks with the buyer; the
        # incoming supplier's side of it is neither outgoing supplier's.
        for index, (entry, supplier_id) in enumerate(zip(ids, world.supplier_ids, strict=True)):
            handover_talk = await _seed_talk("handover", entry["handover_id"], f"{world.slug}-{index}")
            entry["handover_thread_id"], words = handover_talk[("shared", supplier_id)]
            marks[index].append(words)
            incoming_thread, incoming_words = handover_talk[("shared", entry["to_supplier_id"])]
            internal_words += [incoming_words, handover_talk[("internal", None)][1]]
            if index == 0:
                hidden["incoming_thread_id"] = incoming_thread
        # The buyer's internal side of the first supplier's own order, and
        # both sides of its draft order: none of it reaches the supplier.
        hidden["thread_id"] = internal[0][0]
        *_, draft_talk = await _seed_threads(hidden["order_id"], f"{world.slug}-draft")
        hidden.update(await _seed_statement(tenant, world.supplier_ids[0], world.accounts["finance"].user_id, "2025-02", send=False))
        cancelled, cancelled_marks = await _seed_cancelled(world.supplier_ids[0], ids[0]["to_supplier_id"], item.id)
        # QA's draft NCR for the first supplier: not shared with it yet.
        draft_ncr = ncrs.NcrIn(title="Draft NCR", description="isolation matrix", supplier_id=world.supplier_ids[0])
        hidden["ncr_id"] = (await ncrs.open_ncr(draft_ncr)).id
        # The drafts' threads, the buyer's alone until the drafts are shared.
        for record_type in ("handover", "ncr"):
            draft_talk_ids = await _seed_talk(record_type, hidden[f"{record_type}_id"], f"{world.slug}-draft")
            hidden[f"draft_{record_type}_thread_id"] = draft_talk_ids[("shared", world.supplier_ids[0])][0]
            internal_words += [words for _, words in draft_talk_ids.values()]
            # A file on the draft's shared side: the buyer's until the draft is shared.
            internal_words.append(str(await _seed_thread_file(hidden[f"draft_{record_type}_thread_id"])))
    async with system_scope("isolation-matrix"):
        event = await AuditEvent.select(AuditEvent.id).where(AuditEvent.tenant == world.tenant_id).first()
        invitation = await Invitation.select(Invitation.id).where(Invitation.tenant == world.tenant_id).first()
    # A member of its own, so that routes changing a membership (role,
    # deactivation) leave the signed-in identities alone.
    spare = await add_member(world.slug, f"spare.{world.slug}@test.example", "planner")
    # A colleague of each supplier's admin, for the routes that remove one.
    colleagues = [
        await add_member(world.slug, f"colleague{index}.{world.slug}@test.example", "supplier_operator", supplier_id)
        for index, supplier_id in enumerate(world.supplier_ids[:2])
    ]
    ids[0]["colleague_id"], ids[1]["colleague_id"] = colleagues
    personal, webhook_id = await _seed_notifications(world, tenant)
    from portal.configuration.services import category_id

    async with tenant_scope(operator_context(tenant, "isolation-matrix")):
        approval_id = await _seed_approval(world.supplier_ids[0], item.id)

    shared = {
        "category_id": category_id(world.tenant_id, "drawing"),
        "approval_id": approval_id,
        "membership_id": spare,
        "event_id": event["id"],
        "invitation_id": invitation["id"],
        "item_id": item.id,
        "webhook_id": webhook_id,
        "job_id": await _failed_job(world.tenant_id),
        # Who may own an NCR: the tenant's QA (another tenant's is nobody here).
        "owner_id": world.accounts["qa"].user_id,
    }
    ids[0]["notification_id"] = personal["supplier_admin"]["notification_id"]
    ids[1]["notification_id"] = personal["other_supplier_admin"]["notification_id"]
    ids[0]["subscription_id"] = personal["supplier_admin"]["subscription_id"]
    ids[1]["subscription_id"] = personal["other_supplier_admin"]["subscription_id"]
    return Seeded(
        personal=personal,
        first={**shared, **ids[0]},
        second={**shared, **ids[1]},
        hidden={**shared, **ids[0], **hidden},
        first_marks=marks[0],
        second_marks=marks[1],
        hidden_marks=[hidden_number, internal[0][1], *draft_talk, *internal_words, *cancelled_marks],
        cancelled={**shared, **ids[0], **cancelled},
    )
