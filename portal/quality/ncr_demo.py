"""Demo NCRs: one of each demo tenant in every state, from the draft QA is
still writing to a closed one with a chargeable scrap, the first opened from
the demo's rejected delivery line; the NCR waiting for containment is
overdue (issued three days ago).

Idempotent: a tenant that has NCRs is left alone."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from portal.deliveries.demo import as_member
from portal.deliveries.tables import DeliveryLine
from portal.quality import ncrs
from portal.quality.ncr_states import STEPS
from portal.quality.tables import Ncr
from tenants.context import tenant_scope
from tenants.operators import for_each_tenant
from tenants.roles import Role
from tenants.scoping import scoped
from tenants.tables import Supplier

# (title, severity, days since issue (None: a draft), steps the supplier
# answered and QA accepted, whether the next step is answered, what then)
PLAN: list[tuple[str, str, int | None, int, bool, str]] = [
    ("毛刺 Burrs on bore Ø12H7", "major", 20, 0, True, ""),
    ("表面划伤 Scratches on the sealing face", "minor", None, 0, False, ""),
    ("尺寸超差 Length 120±0.1 out of tolerance", "critical", 3, 0, False, ""),
    ("包装破损 Crushed cartons", "minor", 4, 1, False, ""),
    ("材质不符 Wrong steel grade S235", "critical", 25, 2, True, ""),
    ("螺纹不通规 Thread M8 no-go gauge enters", "major", 20, 3, False, ""),
    ("镀层厚度不足 Zinc layer below 8 µm", "major", 45, 4, False, ""),
    ("漏装垫片 Washer missing", "minor", 60, 4, False, "close"),
    ("重复开单 Opened twice by mistake", "minor", 5, 0, False, "cancel"),
]
ANSWERS = {
    "containment": "已隔离库存 120 件并全检，3 件不合格。Stock of 120 pcs quarantined and sorted: 3 bad.",
    "root_cause": "去毛刺刀具磨损，未按寿命更换。Deburring tool worn: tool life not tracked.",
    "corrective_action": "机床加装刀具计数器，首件检验增加毛刺项。Tool counter fitted; burrs added to first-article check.",
    "verification": "连续三批 0 缺陷。Three lots since with zero defects.",
}


async def load_ncr_demo(slugs: list[str]) -> bool:
    return await for_each_tenant(slugs, lambda tenant: _load_tenant())


async def _rejected_line() -> Any:
    rows = await scoped(DeliveryLine).select(DeliveryLine.id, DeliveryLine.rejected_quantity).order_by(DeliveryLine.line_no)
    return next((row["id"] for row in rows if row["rejected_quantity"]), None)


async def _load_tenant() -> bool:
    if await scoped(Ncr).exists():
        return False
    supplier = await scoped(Supplier).select(Supplier.id).order_by(Supplier.code).first()
    if supplier is None:
        return False
    line_id = await _rejected_line()
    now = datetime.now(UTC)
    for index, (title, severity, days_ago, accepted, answered, then) in enumerate(PLAN):
        source: dict[str, Any] = {"delivery_line_id": line_id} if index == 0 and line_id else {"supplier_id": supplier["id"]}
        async with tenant_scope(await as_member(Role.QA)):
            ncr = await ncrs.open_ncr(ncrs.NcrIn(title=title, description=title, severity=severity, **source))
            if days_ago is None:
                continue
            at = now - timedelta(days=days_ago)
            ncr = await ncrs.issue_ncr(ncr.id, ncrs.IssueIn(), now=at)
        for position in range(accepted + (1 if answered else 0)):
            if position >= len(STEPS):
                break
            step = ncr.steps[position]
            at += timedelta(hours=20)
            async with tenant_scope(await as_member(Role.SUPPLIER_OPERATOR, ncr.supplier_id)):
                ncr = await ncrs.answer_step(ncr.id, step.id, ncrs.AnswerIn(text=ANSWERS[step.step]), now=at)
            if position < accepted:
                async with tenant_scope(await as_member(Role.QA)):
                    ncr = await ncrs.accept_step(ncr.id, step.id, ncrs.DecisionIn(comment="OK"), now=at + timedelta(hours=2))
        async with tenant_scope(await as_member(Role.QA)):
            if then == "close":
                await ncrs.add_disposition(ncr.id, ncrs.DispositionIn(kind="scrap", quantity="3", chargeable=True, amount="186.00"))
                await ncrs.close_ncr(ncr.id, ncrs.DecisionIn(comment="有效 Effective"), now=at + timedelta(hours=3))
            elif then == "cancel":
                await ncrs.cancel_ncr(ncr.id, ncrs.DecisionIn(comment="与另一单重复 Duplicate of another NCR"), now=at)
            elif index == 0:
                await ncrs.add_disposition(
                    ncr.id, ncrs.DispositionIn(kind="rework", quantity="1", note="供应商返工 Reworked by the supplier")
                )
    return True
