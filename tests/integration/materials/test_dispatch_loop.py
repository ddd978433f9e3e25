"""Material dispatch and balance through the API, as the planner and the
supplier's people do it."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from portal.jobs.runner import run_due_jobs
from tests.integration.materials.conftest import accept_output, balance_of, dispatch, receipt, sent_dispatch
from tests.integration.orders.conftest import OrderWorld, draft, fire
from tests.support.factories import api_token, bearer, make_world, outbox_to


def test_dispatches_are_numbered_per_tenant_and_year(client: Any, shop: OrderWorld) -> None:
    first, second = dispatch(client, shop, ("10", "A")).json(), dispatch(client, shop, ("10", "B")).json()
    year = first["created_at"][:4]
    assert first["number"] == f"MD-{year}-00001"
    assert second["number"] == f"MD-{year}-00002"
    assert first["status"] == "draft"
    assert first["attached_type"] == "dispatch"


def test_a_draft_is_the_buyers_own_until_sent_and_the_supplier_is_emailed(client: Any, shop: OrderWorld, var_dir: Any, run: Any) -> None:
    created = dispatch(client, shop, ("100", "LOT-7")).json()
    assert client.get(f"/api/v1/dispatches/{created['id']}", headers=shop.as_("supplier_admin")).status_code == 404
    assert client.get("/api/v1/dispatches", headers=shop.as_("supplier_admin")).json()["items"] == []
    sent = client.post(f"/api/v1/dispatches/{created['id']}/send", headers=shop.as_("planner"))
    assert sent.status_code == 200, sent.text
    assert sent.json()["status"] == "sent"
    seen = client.get(f"/api/v1/dispatches/{created['id']}", headers=shop.as_("supplier_operator"))
    assert seen.status_code == 200
    assert seen.json()["lines"][0]["lot"] == "LOT-7"
    assert Decimal(seen.json()["lines"][0]["quantity"]) == 100
    run(run_due_jobs)
    mails = outbox_to(var_dir, shop.world.accounts["supplier_admin"].email)
    assert any(created["number"] in mail["Subject"] for mail in mails)
    assert outbox_to(var_dir, shop.world.accounts["other_supplier_admin"].email) == []
    again = client.post(f"/api/v1/dispatches/{created['id']}/send", headers=shop.as_("planner"))
    assert again.status_code == 409


def test_supplier_confirms_a_discrepancy_with_a_reason_and_the_balance_follows(client: Any, shop: OrderWorld) -> None:
    sent = sent_dispatch(client, shop, ("100", "A"), ("50", "B"))
    short = receipt(client, shop, sent, ("100", ""), ("45", ""))
    assert short.status_code == 400
    assert set(short.json()["error"]["fields"]) == {"lines.1.reason"}
    confirmed = receipt(client, shop, sent, ("100", ""), ("45", "Two bars bent in transport"))
    assert confirmed.status_code == 200, confirmed.text
    body = confirmed.json()
    assert body["status"] == "received_with_discrepancy"
    assert [line["flagged"] for line in body["lines"]] == [False, True]
    assert Decimal(body["lines"][1]["difference"]) == -5
    assert body["lines"][1]["discrepancy_reason"] == "Two bars bent in transport"
    balance = balance_of(client, shop)
    assert Decimal(balance["dispatched"]) == 150
    assert Decimal(balance["receipt_difference"]) == -5
    assert Decimal(balance["in_transit"]) == 0
    assert Decimal(balance["held"]) == 145
    assert balance["flagged"] is False
    # The supplier sees the same figures for itself.
    assert balance_of(client, shop, who="supplier_operator") == balance


def test_a_difference_within_the_tolerance_needs_no_reason(client: Any, shop: OrderWorld) -> None:
    sent = sent_dispatch(client, shop, ("100", "A"))
    confirmed = receipt(client, shop, sent, ("101.5", ""))
    assert confirmed.status_code == 200, confirmed.text
    assert confirmed.json()["status"] == "received"
    assert confirmed.json()["lines"][0]["flagged"] is False
    assert Decimal(balance_of(client, shop)["held"]) == Decimal("101.5")


def test_more_received_than_plausible_needs_a_reason(client: Any, shop: OrderWorld) -> None:
    sent = sent_dispatch(client, shop, ("100", "A"))
    over = receipt(client, shop, sent, ("102.5", ""))
    assert over.status_code == 400
    assert "lines.0.reason" in over.json()["error"]["fields"]
    explained = receipt(client, shop, sent, ("102.5", "Supplier of the bars packed extra"))
    assert explained.json()["status"] == "received_with_discrepancy"


def test_confirming_twice_is_a_conflict(client: Any, shop: OrderWorld) -> None:
    sent = sent_dispatch(client, shop, ("10", "A"))
    assert receipt(client, shop, sent, ("10", "")).status_code == 200
    again = receipt(client, shop, sent, ("9", "changed my mind"), who="supplier_admin")
    assert again.status_code == 409
    assert again.json()["error"]["code"] == "transition_not_allowed"
    assert (
        Decimal(client.get(f"/api/v1/dispatches/{sent['id']}", headers=shop.as_("planner")).json()["lines"][0]["received_quantity"]) == 10
    )


def test_a_receipt_must_cover_every_line_once(client: Any, shop: OrderWorld) -> None:
    sent = sent_dispatch(client, shop, ("10", "A"), ("20", "B"))
    first = sent["lines"][0]["id"]
    partial = client.post(
        f"/api/v1/dispatches/{sent['id']}/receipt",
        json={"lines": [{"line_id": first, "received_quantity": "10"}]},
        headers=shop.as_("supplier_admin"),
    )
    assert partial.status_code == 400
    assert set(partial.json()["error"]["fields"]) == {"lines"}
    twice = client.post(
        f"/api/v1/dispatches/{sent['id']}/receipt",
        json={"lines": [{"line_id": first, "received_quantity": "10"}, {"line_id": first, "received_quantity": "10"}]},
        headers=shop.as_("supplier_admin"),
    )
    assert set(twice.json()["error"]["fields"]) == {"lines.1.line_id"}


def test_returns_and_scrap_reduce_the_balance(client: Any, shop: OrderWorld) -> None:
    sent = sent_dispatch(client, shop, ("100", "A"))
    receipt(client, shop, sent, ("100", ""))
    returned = client.post(
        "/api/v1/material-returns",
        json={"item_id": shop.material_id, "quantity": "10", "lot": "A", "dispatch_id": sent["id"]},
        headers=shop.as_("supplier_operator"),
    )
    assert returned.status_code == 201, returned.text
    assert returned.json()["kind"] == "return"
    scrapped = client.post(
        "/api/v1/material-scrap",
        json={"item_id": shop.material_id, "quantity": "2.5", "lot": "A", "reason": "Cracked on the saw"},
        headers=shop.as_("supplier_admin"),
    )
    assert scrapped.status_code == 201, scrapped.text
    balance = balance_of(client, shop)
    assert (Decimal(balance["returned"]), Decimal(balance["scrapped"]), Decimal(balance["held"])) == (10, Decimal("2.5"), Decimal("87.5"))
    # Scrap with no accepted output yet is beyond the (zero) allowance.
    assert balance["excess_scrap"] is True
    assert balance["over_consumption"] is False
    listed = client.get("/api/v1/material-returns", headers=shop.as_("planner")).json()
    assert [row["id"] for row in listed["items"]] == [returned.json()["id"]]
    assert listed["next"] is None
    detail = client.get(f"/api/v1/material-scrap/{scrapped.json()['id']}", headers=shop.as_("qa"))
    assert detail.status_code == 200
    assert detail.json()["reason"] == "Cracked on the saw"
    # A scrap id is not a return.
    assert client.get(f"/api/v1/material-returns/{scrapped.json()['id']}", headers=shop.as_("planner")).status_code == 404


def test_accepted_output_consumes_material_by_the_bom(client: Any, run: Any, shop: OrderWorld) -> None:
    sent = sent_dispatch(client, shop, ("60", "A"))
    receipt(client, shop, sent, ("60", ""))
    accept_output(client, run, shop, "40")
    balance = balance_of(client, shop)
    # 40 accepted x 1.25 kg = 50 kg used; 40 x 1.25 x 0.02 = 1 kg of scrap
    # allowed, not used: 60 - 50 = 10 kg held.
    assert Decimal(balance["consumed"]) == 50
    assert Decimal(balance["scrap_allowance"]) == 1
    assert Decimal(balance["held"]) == 10
    assert balance["flagged"] is False
    within = client.post(
        "/api/v1/material-scrap",
        json={"item_id": shop.material_id, "quantity": "1", "reason": "Offcuts"},
        headers=shop.as_("supplier_operator"),
    )
    assert within.status_code == 201
    after = balance_of(client, shop)
    assert after["excess_scrap"] is False
    # The 1 kg scrapped leaves the balance once: 60 - 50 - 1.
    assert Decimal(after["held"]) == 9


def test_over_consumption_is_flagged(client: Any, run: Any, shop: OrderWorld) -> None:
    sent = sent_dispatch(client, shop, ("49", "A"))
    receipt(client, shop, sent, ("49", ""))
    accept_output(client, run, shop, "40")
    balance = balance_of(client, shop, who="supplier_admin")
    # 40 x 1.25 = 50 kg used of 49 sent.
    assert Decimal(balance["held"]) == -1
    assert balance["over_consumption"] is True
    assert balance["flagged"] is True


def test_material_in_transit_counts_until_the_receipt(client: Any, shop: OrderWorld) -> None:
    sent_dispatch(client, shop, ("30", "A"))
    draft_only = dispatch(client, shop, ("999", "never sent"))
    assert draft_only.status_code == 201
    balance = balance_of(client, shop)
    assert (Decimal(balance["dispatched"]), Decimal(balance["in_transit"]), Decimal(balance["held"])) == (30, 30, 30)


def test_the_other_supplier_sees_nothing_of_the_first(client: Any, shop: OrderWorld) -> None:
    sent = sent_dispatch(client, shop, ("10", "A"))
    receipt(client, shop, sent, ("10", ""))
    client.post(
        "/api/v1/material-returns", json={"item_id": shop.material_id, "quantity": "1"}, headers=shop.as_("supplier_admin")
    ).raise_for_status()
    other = shop.as_("other_supplier_admin")
    assert client.get(f"/api/v1/dispatches/{sent['id']}", headers=other).status_code == 404
    assert client.get("/api/v1/dispatches", headers=other).json()["items"] == []
    assert client.get("/api/v1/material-returns", headers=other).json()["items"] == []
    assert client.get("/api/v1/material-balances", headers=other).json()["items"] == []
    assert receipt(client, shop, sent, ("10", ""), who="other_supplier_admin").status_code == 404
    # Nor can it report returns of material it never received.
    stolen = client.post("/api/v1/material-returns", json={"item_id": shop.material_id, "quantity": "1"}, headers=other)
    assert stolen.status_code == 400
    assert set(stolen.json()["error"]["fields"]) == {"item_id"}


def test_ids_of_another_tenant_are_unknown(client: Any, run: Any, shop: OrderWorld) -> None:
    other = run(make_world, "mat")
    foreign_supplier = dispatch(client, shop, ("1", "A"))
    body = {"supplier_id": str(other.supplier_ids[0]), "lines": [{"item_id": shop.material_id, "quantity": "1"}]}
    answer = client.post("/api/v1/dispatches", json=body, headers=shop.as_("planner"))
    assert answer.status_code == 400
    assert set(answer.json()["error"]["fields"]) == {"supplier_id"}
    assert foreign_supplier.status_code == 201
    # The other tenant's own material and dispatch.
    their_planner = bearer(api_token(client, other.accounts["planner"], other.slug))
    their_steel = client.post("/api/v1/items", json={"code": "M-X", "name": "X", "kind": "material", "unit": "kg"}, headers=their_planner)
    their_dispatch = client.post(
        "/api/v1/dispatches",
        json={"supplier_id": str(other.supplier_ids[0]), "lines": [{"item_id": their_steel.json()["id"], "quantity": "1"}]},
        headers=their_planner,
    ).json()
    mixed = dispatch(client, shop, ("1", "A"))
    assert mixed.status_code == 201
    foreign_item = client.post(
        "/api/v1/dispatches",
        json={"supplier_id": str(shop.world.supplier_ids[0]), "lines": [{"item_id": their_steel.json()["id"], "quantity": "1"}]},
        headers=shop.as_("planner"),
    )
    assert set(foreign_item.json()["error"]["fields"]) == {"lines.0.item_id"}
    for who in ("planner", "supplier_admin", "admin"):
        assert client.get(f"/api/v1/dispatches/{their_dispatch['id']}", headers=shop.as_(who)).status_code == 404
    assert client.post(f"/api/v1/dispatches/{their_dispatch['id']}/send", headers=shop.as_("planner")).status_code == 404


def test_an_order_must_be_the_suppliers_own_and_open(client: Any, run: Any, shop: OrderWorld) -> None:
    order = draft(client, shop)
    not_issued = dispatch(client, shop, ("5", "A"), order_id=order["id"])
    assert not_issued.status_code == 400
    assert set(not_issued.json()["error"]["fields"]) == {"order_id"}
    fire(client, shop, order["id"], "planner", "issue")
    wrong_supplier = dispatch(client, shop, ("5", "A"), supplier=1, order_id=order["id"])
    assert set(wrong_supplier.json()["error"]["fields"]) == {"order_id"}
    other = run(make_world, "mat")
    their_planner = bearer(api_token(client, other.accounts["planner"], other.slug))
    part = client.post("/api/v1/items", json={"code": "P-X", "name": "X"}, headers=their_planner).json()
    their_order = client.post(
        "/api/v1/orders",
        json={
            "supplier_id": str(other.supplier_ids[0]),
            "lines": [{"item_id": part["id"], "quantity": "1", "unit_price": "1", "due_date": order["lines"][0]["due_date"]}],
        },
        headers=their_planner,
    ).json()
    foreign_order = dispatch(client, shop, ("5", "A"), order_id=their_order["id"])
    assert set(foreign_order.json()["error"]["fields"]) == {"order_id"}
    good = dispatch(client, shop, ("5", "A"), order_id=order["id"])
    assert good.status_code == 201, good.text
    assert good.json()["order_number"] == order["number"]
    listed = client.get("/api/v1/dispatches", params={"order_id": order["id"]}, headers=shop.as_("planner")).json()
    assert [row["id"] for row in listed["items"]] == [good.json()["id"]]


def test_bad_input_is_refused_field_by_field(client: Any, shop: OrderWorld) -> None:
    bad = client.post(
        "/api/v1/dispatches",
        json={
            "supplier_id": str(shop.world.supplier_ids[0]),
            "lines": [
                {"item_id": shop.material_id, "quantity": "0"},
                {"item_id": shop.material_id, "quantity": "-3"},
                {"item_id": shop.material_id, "quantity": "1", "lot": "L" * 81},
                {"item_id": shop.material_id, "quantity": "0.0000001"},
            ],
        },
        headers=shop.as_("planner"),
    )
    assert bad.status_code == 400
    assert set(bad.json()["error"]["fields"]) == {"lines.0.quantity", "lines.1.quantity", "lines.2.lot", "lines.3.quantity"}
    empty = client.post(
        "/api/v1/dispatches", json={"supplier_id": str(shop.world.supplier_ids[0]), "lines": []}, headers=shop.as_("planner")
    )
    assert set(empty.json()["error"]["fields"]) == {"lines"}
    unreadable = client.post("/api/v1/dispatches", json={"supplier_id": "not-a-uuid", "lines": []}, headers=shop.as_("planner"))
    assert unreadable.status_code == 400
    assert "supplier_id" in unreadable.json()["error"]["fields"]
    sent = sent_dispatch(client, shop, ("10", "A"))
    negative = receipt(client, shop, sent, ("-1", "x"))
    assert set(negative.json()["error"]["fields"]) == {"lines.0.received_quantity"}
    nothing_arrived = receipt(client, shop, sent, ("0", ""))
    assert set(nothing_arrived.json()["error"]["fields"]) == {"lines.0.reason"}
    no_reason = client.post(
        "/api/v1/material-scrap", json={"item_id": shop.material_id, "quantity": "1"}, headers=shop.as_("supplier_admin")
    )
    assert set(no_reason.json()["error"]["fields"]) == {"reason"}
    zero = client.post("/api/v1/material-returns", json={"item_id": shop.material_id, "quantity": "0"}, headers=shop.as_("supplier_admin"))
    assert set(zero.json()["error"]["fields"]) == {"quantity"}
    never_sent = client.post(
        "/api/v1/material-returns", json={"item_id": shop.part_id, "quantity": "1"}, headers=shop.as_("supplier_admin")
    )
    assert set(never_sent.json()["error"]["fields"]) == {"item_id"}


def test_each_side_does_only_its_part(client: Any, shop: OrderWorld) -> None:
    assert dispatch(client, shop, ("1", "A")).status_code == 201
    body = {"supplier_id": str(shop.world.supplier_ids[0]), "lines": [{"item_id": shop.material_id, "quantity": "1"}]}
    for who in ("qa", "finance", "supplier_admin"):
        assert client.post("/api/v1/dispatches", json=body, headers=shop.as_(who)).status_code == 403
    sent = sent_dispatch(client, shop, ("1", "A"))
    assert client.post(f"/api/v1/dispatches/{sent['id']}/send", headers=shop.as_("supplier_admin")).status_code == 403
    assert receipt(client, shop, sent, ("1", ""), who="planner").status_code == 403
    report = {"item_id": shop.material_id, "quantity": "1", "reason": "x"}
    assert client.post("/api/v1/material-scrap", json=report, headers=shop.as_("planner")).status_code == 403
    for who in ("qa", "finance", "admin"):
        assert client.get("/api/v1/material-balances", headers=shop.as_(who)).status_code == 200


def test_lists_page_with_a_cursor(client: Any, shop: OrderWorld) -> None:
    numbers = [dispatch(client, shop, ("1", str(n))).json()["number"] for n in range(3)]
    seen: list[str] = []
    cursor = None
    while True:
        params = {"limit": "2", **({"cursor": cursor} if cursor else {})}
        page = client.get("/api/v1/dispatches", params=params, headers=shop.as_("planner")).json()
        seen += [row["number"] for row in page["items"]]
        cursor = page["next"]
        if cursor is None:
            break
    assert seen == sorted(numbers, reverse=True)
    sent_dispatch(client, shop, ("10", "A"))
    for n in range(3):
        client.post(
            "/api/v1/material-returns", json={"item_id": shop.material_id, "quantity": str(n + 1)}, headers=shop.as_("supplier_admin")
        ).raise_for_status()
    first = client.get("/api/v1/material-returns", params={"limit": "2"}, headers=shop.as_("planner")).json()
    second = client.get("/api/v1/material-returns", params={"limit": "2", "cursor": first["next"]}, headers=shop.as_("planner")).json()
    quantities = [Decimal(row["quantity"]) for row in first["items"] + second["items"]]
    assert quantities == [3, 2, 1]
    assert second["next"] is None
    broken = client.get("/api/v1/dispatches", params={"cursor": "%%%"}, headers=shop.as_("planner"))
    assert broken.status_code == 400


def test_every_change_is_in_the_audit_trail(client: Any, shop: OrderWorld) -> None:
    sent = sent_dispatch(client, shop, ("10", "A"))
    receipt(client, shop, sent, ("8", "Short"))
    events = client.get("/api/v1/audit-events", params={"entity_id": sent["id"]}, headers=shop.as_("admin")).json()["items"]
    assert {event["action"] for event in events} == {"dispatch.create", "dispatch.send", "dispatch.receive"}
    receive = next(event for event in events if event["action"] == "dispatch.receive")
    assert receive["after"]["status"] == "received_with_discrepancy"
    assert receive["after"]["lines"][0]["reason"] == "Short"


def test_the_supplier_inbox_lists_dispatches_to_confirm(client: Any, run: Any, shop: OrderWorld) -> None:
    waiting = sent_dispatch(client, shop, ("1", "A"))
    done = sent_dispatch(client, shop, ("1", "B"))
    receipt(client, shop, done, ("1", ""))
    sent_dispatch(client, shop, ("1", "C"), supplier=1)

    async def inbox(key: str) -> list[str]:
        from portal.materials.services import dispatches_to_confirm
        from tenants.context import TenantContext, tenant_scope
        from tenants.roles import Role
        from tenants.tables import Tenant

        account = shop.world.accounts[key]
        tenant = await Tenant.objects().where(Tenant.id == shop.world.tenant_id).first()
        context = TenantContext(
            tenant_id=tenant.id,
            tenant_slug=tenant.slug,
            tenant_name=tenant.name,
            time_zone=tenant.time_zone,
            currency=tenant.currency,
            role=Role(account.role),
            user_id=account.user_id,
            supplier_id=account.supplier_id,
        )
        async with tenant_scope(context):
            return [row.number for row in await dispatches_to_confirm()]

    assert run(inbox, "supplier_operator") == [waiting["number"]]
    assert run(inbox, "planner") == []
