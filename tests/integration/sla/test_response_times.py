"""Response-time rules with a controllable clock: a reminder before the
limit, the escalation after it to the supplier admin and the planner who
issued the order, the breach recorded with its times and resolved when
done; a line behind plan warned once."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from portal.jobs.runner import run_due_jobs
from tests.integration.orders.conftest import OrderWorld, draft, fire, shop

__all__ = ["shop"]


def kinds(client: Any, shop: OrderWorld, who: str, order_id: str) -> list[str]:
    items = client.get("/api/v1/notifications", headers=shop.as_(who)).json()["items"]
    return [item["kind"] for item in items if item["link"] == f"/orders/{order_id}"]


def breach(run: Any, record_id: str, kind: str) -> Any:
    from uuid import UUID

    from portal.sla.tables import ResponseBreach
    from tenants.context import system_scope

    async def read() -> Any:
        async with system_scope("test"):
            return (
                await ResponseBreach.select().where((ResponseBreach.record_id == UUID(record_id)) & (ResponseBreach.kind == kind)).first()
            )

    return run(read)


def test_the_admin_sets_the_rule_and_bad_values_are_refused(client: Any, shop: OrderWorld) -> None:
    defaults = client.get("/api/v1/settings/response-times", headers=shop.as_("supplier_admin"))
    assert defaults.status_code == 200
    assert defaults.json()["accept_hours"] == 48
    body = {"accept_hours": 24, "acknowledge_hours": 12, "receipt_hours": 48, "remind_before_hours": 4, "progress_margin_percent": 15}
    saved = client.put("/api/v1/settings/response-times", json=body, headers=shop.as_("admin"))
    assert saved.status_code == 200, saved.text
    assert client.get("/api/v1/settings/response-times", headers=shop.as_("planner")).json()["accept_hours"] == 24
    refused = client.put("/api/v1/settings/response-times", json={**body, "accept_hours": 0}, headers=shop.as_("admin"))
    assert refused.status_code == 400
    assert list(refused.json()["error"]["fields"]) == ["accept_hours"]
    assert client.put("/api/v1/settings/response-times", json=body, headers=shop.as_("planner")).status_code == 403


def test_an_order_not_accepted_is_reminded_then_escalated_then_resolved(client: Any, run: Any, shop: OrderWorld) -> None:
    from portal.sla.services import check

    order = fire(client, shop, draft(client, shop)["id"], "planner", "issue").json()
    issued = datetime.fromisoformat(order["issued_at"])
    run(run_due_jobs)
    # Defaults: 48 h to accept, the reminder 8 h before.
    run(lambda: check(issued + timedelta(hours=39)))
    run(run_due_jobs)
    assert "sla.reminder" not in kinds(client, shop, "supplier_admin", order["id"])

    run(lambda: check(issued + timedelta(hours=41)))
    run(lambda: check(issued + timedelta(hours=42)))
    run(run_due_jobs)
    assert kinds(client, shop, "supplier_admin", order["id"]).count("sla.reminder") == 1
    assert kinds(client, shop, "supplier_operator", order["id"]).count("sla.reminder") == 1
    assert "sla.reminder" not in kinds(client, shop, "planner", order["id"])

    run(lambda: check(issued + timedelta(hours=49)))
    run(lambda: check(issued + timedelta(hours=50)))
    run(run_due_jobs)
    assert kinds(client, shop, "supplier_admin", order["id"]).count("sla.escalated") == 1
    assert kinds(client, shop, "planner", order["id"]).count("sla.escalated") == 1
    assert "sla.escalated" not in kinds(client, shop, "supplier_operator", order["id"])
    assert "sla.escalated" not in kinds(client, shop, "other_supplier_admin", order["id"])

    row = breach(run, order["id"], "accept")
    assert row["due_at"] == issued + timedelta(hours=48)
    assert row["reminded_at"] == issued + timedelta(hours=41)
    assert row["escalated_at"] == issued + timedelta(hours=49)
    assert row["resolved_at"] is None
    assert fire(client, shop, order["id"], "supplier_admin", "accept").status_code == 200
    run(lambda: check(issued + timedelta(hours=51)))
    assert breach(run, order["id"], "accept")["resolved_at"] == issued + timedelta(hours=51)


def test_a_line_whose_progress_lags_the_time_elapsed_is_warned_once(client: Any, run: Any, shop: OrderWorld) -> None:
    from portal.sla.services import check

    order = fire(client, shop, draft(client, shop, days=10)["id"], "planner", "issue").json()
    assert fire(client, shop, order["id"], "supplier_admin", "accept").status_code == 200
    issued = datetime.fromisoformat(order["issued_at"])
    run(lambda: check(issued + timedelta(days=1)))
    run(run_due_jobs)
    assert "progress.behind" not in kinds(client, shop, "planner", order["id"])
    # Six of ten days gone, nothing reported: more than 20 points behind.
    run(lambda: check(issued + timedelta(days=6)))
    run(lambda: check(issued + timedelta(days=7)))
    run(run_due_jobs)
    assert kinds(client, shop, "planner", order["id"]).count("progress.behind") == 1
    assert kinds(client, shop, "supplier_operator", order["id"]).count("progress.behind") == 1
    # Past the due date: overdue, escalated to the supplier admin and the planner.
    run(lambda: check(issued + timedelta(days=12)))
    run(run_due_jobs)
    assert kinds(client, shop, "supplier_admin", order["id"]).count("progress.overdue") == 1
    assert kinds(client, shop, "planner", order["id"]).count("progress.overdue") == 1
    line = order["lines"][0]["id"]
    assert breach(run, line, "overdue")["escalated_at"] == issued + timedelta(days=12)


def test_the_admins_page_saves_the_rule_and_keeps_what_was_typed_on_a_mistake(client: Any, shop: OrderWorld) -> None:
    from tests.support.factories import page_headers

    headers = page_headers(client, shop.as_("admin")["authorization"].removeprefix("Bearer "))
    page = client.get("/admin/response-times", headers=headers)
    assert page.status_code == 200
    assert 'name="accept_hours"' in page.text
    form = {"_csrf_token": headers["x-csrftoken"], "accept_hours": "36", "acknowledge_hours": "12", "receipt_hours": "48"}
    form.update(remind_before_hours="6", progress_margin_percent="10", progress_stale_hours="12")
    saved = client.post("/admin/response-times", data=form, headers=headers, follow_redirects=False)
    assert saved.status_code == 303
    assert client.get("/api/v1/settings/response-times", headers=shop.as_("admin")).json()["accept_hours"] == 36
    wrong = client.post("/admin/response-times", data={**form, "accept_hours": "0", "receipt_hours": "49"}, headers=headers)
    assert wrong.status_code == 400
    assert 'value="49"' in wrong.text
    assert client.get("/api/v1/settings/response-times", headers=shop.as_("admin")).json()["receipt_hours"] == 48


def line_due_at(run: Any, shop: OrderWorld, order: dict[str, Any]) -> datetime:
    """Where the rules put a line's limit: the end of its due day in the tenant's zone."""
    from datetime import UTC, date, time
    from zoneinfo import ZoneInfo

    from tenants.context import system_scope
    from tenants.tables import Tenant

    async def zone() -> str:
        async with system_scope("test"):
            row = await Tenant.select(Tenant.time_zone).where(Tenant.id == shop.world.tenant_id).first()
            return str(row["time_zone"])

    day = date.fromisoformat(order["lines"][0]["due_date"])
    return datetime.combine(day, time(23, 59), ZoneInfo(run(zone))).astimezone(UTC)


def report(client: Any, shop: OrderWorld, line_id: str, good: str) -> None:
    from uuid import uuid4

    body = {"client_id": str(uuid4()), "order_line_id": line_id, "stage": "machining", "good_quantity": good}
    response = client.post("/api/v1/progress-reports", json=body, headers=shop.as_("supplier_operator"))
    assert response.status_code == 201, response.text


def test_a_line_due_soon_without_progress_is_reminded_then_escalated_when_late_then_resolved(
    client: Any, run: Any, shop: OrderWorld
) -> None:
    from portal.sla.services import check

    order = fire(client, shop, draft(client, shop, days=3)["id"], "planner", "issue").json()
    assert fire(client, shop, order["id"], "supplier_admin", "accept").status_code == 200
    line = order["lines"][0]["id"]
    due_at = line_due_at(run, shop, order)
    # Defaults: the reminder 8 h before, after 24 h without progress.
    run(lambda: check(due_at - timedelta(hours=9)))
    run(run_due_jobs)
    assert "sla.reminder" not in kinds(client, shop, "supplier_operator", order["id"])
    run(lambda: check(due_at - timedelta(hours=7)))
    run(lambda: check(due_at - timedelta(hours=6)))
    run(run_due_jobs)
    assert kinds(client, shop, "supplier_operator", order["id"]).count("sla.reminder") == 1
    assert kinds(client, shop, "supplier_admin", order["id"]).count("sla.reminder") == 1
    assert "sla.reminder" not in kinds(client, shop, "planner", order["id"])
    assert "progress.overdue" not in kinds(client, shop, "planner", order["id"])

    run(lambda: check(due_at + timedelta(hours=1)))
    run(lambda: check(due_at + timedelta(hours=2)))
    run(run_due_jobs)
    assert kinds(client, shop, "supplier_admin", order["id"]).count("progress.overdue") == 1
    assert kinds(client, shop, "planner", order["id"]).count("progress.overdue") == 1
    assert "progress.overdue" not in kinds(client, shop, "supplier_operator", order["id"])
    assert "progress.overdue" not in kinds(client, shop, "other_supplier_admin", order["id"])
    row = breach(run, line, "overdue")
    assert (row["due_at"], row["reminded_at"], row["escalated_at"]) == (
        due_at,
        due_at - timedelta(hours=7),
        due_at + timedelta(hours=1),
    )
    assert row["resolved_at"] is None
    # The whole quantity reported: nothing is owed any more.
    report(client, shop, line, order["lines"][0]["quantity"])
    run(lambda: check(due_at + timedelta(hours=3)))
    assert breach(run, line, "overdue")["resolved_at"] == due_at + timedelta(hours=3)


def test_a_late_line_with_recent_progress_is_recorded_and_escalated_only_once_progress_stops(
    client: Any, run: Any, shop: OrderWorld
) -> None:
    from portal.sla.services import check

    rule = {"accept_hours": 48, "acknowledge_hours": 24, "receipt_hours": 72, "remind_before_hours": 8}
    saved = client.put(
        "/api/v1/settings/response-times",
        json={**rule, "progress_margin_percent": 100, "progress_stale_hours": 96},
        headers=shop.as_("admin"),
    )
    assert saved.status_code == 200, saved.text
    order = fire(client, shop, draft(client, shop, days=1)["id"], "planner", "issue").json()
    assert fire(client, shop, order["id"], "supplier_admin", "accept").status_code == 200
    line = order["lines"][0]["id"]
    due_at = line_due_at(run, shop, order)
    reported_at = datetime.fromisoformat(order["issued_at"])
    report(client, shop, line, "10")
    run(lambda: check(due_at - timedelta(hours=2)))
    run(lambda: check(due_at + timedelta(hours=1)))
    run(run_due_jobs)
    # Worked on within the last 96 hours: no reminder, no escalation, but the breach is on record.
    assert "sla.reminder" not in kinds(client, shop, "supplier_operator", order["id"])
    assert "progress.overdue" not in kinds(client, shop, "planner", order["id"])
    row = breach(run, line, "overdue")
    assert row["due_at"] == due_at
    assert row["escalated_at"] is None
    # Four days without a report: escalated.
    stopped = max(reported_at + timedelta(hours=97), due_at + timedelta(hours=2))
    run(lambda: check(stopped))
    run(run_due_jobs)
    assert kinds(client, shop, "planner", order["id"]).count("progress.overdue") == 1
    assert breach(run, line, "overdue")["escalated_at"] == stopped
