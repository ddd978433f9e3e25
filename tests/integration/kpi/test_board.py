"""The buyer's board: late and at-risk order lines by the response-time
rules (portal/kpi/board.py), under a clock the test sets.

Supplier S1 of a fresh tenant (Asia/Shanghai, the default rule: margin
20 %, 24 hours without progress), at ``NOW``:

| order | due          | issued      | done            | on the board |
|-------|--------------|-------------|-----------------|--------------|
| late  | 2 days ago   | 20 days ago | 3 of 10 reported| late, 2 days |
| plan  | in 20 days   | 30 days ago | nothing         | behind plan (60 % of the time gone, 0 done) |
| quiet | in 3 days    | 4 days ago  | 6 of 10, 30 h ago | no progress lately (57 % of the time gone, 60 % done) |
| fresh | in 3 days    | 4 days ago  | 6 of 10, 2 h ago  | not at risk |
| far   | in 40 days   | 1 day ago   | nothing         | not at risk |
| done  | 2 days ago   | 20 days ago | delivered       | not listed |
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from tests.integration.deliveries.conftest import create, receive
from tests.integration.orders.conftest import OrderWorld
from tests.integration.progress.conftest import report
from tests.integration.quality.test_scorecards import _order, _set
from tests.support.factories import api_token, bearer, make_world, page_headers

NOW = datetime.now(UTC).replace(microsecond=0)


def _date(days: int) -> date:
    return NOW.astimezone(ZoneInfo("Asia/Shanghai")).date() + timedelta(days=days)


def _due(days: int) -> str:
    return _date(days).isoformat()


@pytest.fixture(scope="module")
def board(client: Any, run: Any) -> dict[str, Any]:
    world = run(make_world, "board")
    headers = {key: bearer(api_token(client, account, world.slug)) for key, account in world.accounts.items()}
    part = client.post("/api/v1/items", json={"code": "P-BRD", "name": "Shaft", "unit": "pcs"}, headers=headers["planner"])
    assert part.status_code == 201, part.text
    shop = OrderWorld(world, headers, part.json()["id"], "")
    orders = {}
    for name, due, issued_days_ago in (
        ("late", -2, 20),
        ("plan", 20, 30),
        ("quiet", 3, 4),
        ("fresh", 3, 4),
        ("far", 40, 1),
        ("done", -2, 20),
    ):
        # Issued with a date ahead (a past one is refused), then moved.
        orders[name] = _order(client, shop, _due(max(due, 1)))
        _set(run, "outsourced_order", orders[name]["id"], issued_at=NOW - timedelta(days=issued_days_ago))
        _set(run, "order_line", orders[name]["lines"][0]["id"], due_date=_date(due))
    for name, good, hours_ago in (("late", "3", 100), ("quiet", "6", 30), ("fresh", "6", 2)):
        made = report(client, shop, orders[name]["lines"][0]["id"], good_quantity=good)
        assert made.status_code == 201, made.text
        moved = NOW - timedelta(hours=hours_ago)
        _set(run, "progress_report", made.json()["id"], made_at=moved, received_at=moved)
    delivery = create(client, shop, orders["done"], "10").json()
    assert receive(client, shop, delivery, ("10", "0", ""), who="qa").status_code == 200
    return {"shop": shop, "orders": orders}


async def _lines(tenant_id: Any, now: datetime) -> Any:
    from portal.kpi.board import lines_at_risk
    from tenants.context import operator_context, tenant_scope
    from tenants.tables import Tenant

    tenant = await Tenant.objects().where(Tenant.id == tenant_id).first()
    async with tenant_scope(operator_context(tenant, "board-test")):
        return await lines_at_risk(now)


def test_late_and_at_risk_lines_follow_the_response_time_rules(board: dict[str, Any], run: Any) -> None:
    shop, orders = board["shop"], board["orders"]
    found = run(_lines, shop.world.tenant_id, NOW)
    number = {order["id"]: name for name, order in orders.items()}
    assert [(number[str(line.order_id)], line.reason, line.days_late) for line in found.late] == [("late", "late", 2)]
    assert found.late[0].done == Decimal(3)
    assert sorted((number[str(line.order_id)], line.reason) for line in found.at_risk) == [
        ("plan", "behind_plan"),
        ("quiet", "no_progress"),
    ]
    assert (found.late_count, found.at_risk_count) == (1, 2)
    # A day earlier the quiet line had news from 6 hours before: not at risk.
    earlier = run(_lines, shop.world.tenant_id, NOW - timedelta(hours=24))
    assert "quiet" not in {number[str(line.order_id)] for line in earlier.at_risk}


def test_the_board_shows_them_to_planner_and_qa_not_to_a_supplier(client: Any, board: dict[str, Any]) -> None:
    shop, orders = board["shop"], board["orders"]

    def home(who: str) -> str:
        token = shop.as_(who)["authorization"].removeprefix("Bearer ")
        client.cookies.clear()
        answer = client.get("/", headers={**page_headers(client, token), "accept-language": "en"})
        assert answer.status_code == 200
        return str(answer.text)

    for who in ("planner", "qa", "admin"):
        # The page counts by the real clock, whose day in Shanghai may have
        # turned since NOW was taken when the module was collected.
        days_late = (datetime.now(ZoneInfo("Asia/Shanghai")).date() - _date(-2)).days
        page = home(who)
        assert 'id="board-late"' in page
        assert f"/orders/{orders['late']['id']}" in page
        assert f"{days_late} days late" in page
        assert "behind plan" in page
        assert f"/orders/{orders['done']['id']}" not in page
        assert 'src="/scorecards/trend.svg?metric=qc_rejection_rate"' in page
    assert 'id="board"' not in home("supplier_admin")
