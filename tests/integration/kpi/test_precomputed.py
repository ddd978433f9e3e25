"""Precomputed scorecards (portal/kpi/store.py) against fresh ones.

The records are the hand-computed May 2031 of
tests/integration/quality/test_scorecards.py; the job runs with the clock
these tests choose. Whatever the job stored, and whatever the API answers
for a period that ended, must equal what ``scorecards.compute`` gives from
the records at that moment.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

import pytest

from tests.integration.orders.conftest import fire
from tests.integration.quality.test_scorecards import May, _order, _set, may

__all__ = ["may"]

JULY = datetime.fromisoformat("2031-07-15T04:00:00+00:00")
MID_MAY = datetime.fromisoformat("2031-05-20T04:00:00+00:00")


async def _as_tenant(may: May, call: Any) -> Any:
    from tenants.context import operator_context, tenant_scope
    from tenants.tables import Tenant

    tenant = await Tenant.objects().where(Tenant.id == may.shop.world.tenant_id).first()
    async with tenant_scope(operator_context(tenant, "kpi-test")):
        return await call()


def _figures(cards: list[Any]) -> dict[str, Any]:
    import msgspec

    return {
        str(card.supplier_id): {key: value for key, value in msgspec.to_builtins(card).items() if key not in ("computed_at", "rank")}
        for card in cards
    }


async def _stored_and_fresh(labels: list[str]) -> list[tuple[str, dict[str, Any], dict[str, Any]]]:
    import msgspec

    from portal.kpi.tables import ScorecardFigures
    from portal.quality import scorecards
    from portal.quality.scorecards import Scorecard
    from tenants.scoping import scoped

    compared = []
    for label in labels:
        rows = await scoped(ScorecardFigures).select(ScorecardFigures.figures).where(ScorecardFigures.period == label)
        stored = [msgspec.json.decode(row["figures"], type=Scorecard) for row in rows]
        compared.append((label, _figures(stored), _figures(await scorecards.compute(label))))
    return compared


async def _age(tenant_id: Any) -> None:
    """The records were changed an hour ago: out of the margin the store
    keeps for changes still committing (``store.OVERLAP``)."""
    from datetime import UTC, timedelta

    from portal.deliveries.tables import Delivery
    from portal.orders.tables import Order
    from portal.quality.tables import Ncr
    from tenants.context import system_scope

    earlier = datetime.now(UTC) - timedelta(hours=1)
    async with system_scope("test-clock"):
        for table in (Order, Delivery, Ncr):
            await table.update({table.updated_at: earlier}).where(table.tenant == tenant_id)


def _refresh(run: Any, may: May, now: datetime) -> list[str]:
    """One run of the job at ``now``: the periods it computed for this tenant."""
    from portal.kpi import store

    return list(run(store.refresh, now)[may.shop.world.slug])


def test_the_job_stores_what_a_fresh_computation_gives(client: Any, may: May, run: Any) -> None:
    from portal.kpi import store

    done = _refresh(run, may, JULY)
    kept = store.kept_periods(JULY.date())
    assert set(done) == set(kept)
    assert "2031-05" in kept
    assert "2031-Q2" in kept
    compared = run(_as_tenant, may, lambda: _stored_and_fresh(kept))
    for label, stored, fresh in compared:
        assert stored == fresh, label
        assert len(stored) == 2, label
    may_stored = dict((label, stored) for label, stored, _ in compared)["2031-05"]
    one = may_stored[str(may.shop.world.supplier_ids[0])]
    assert (one["lines_due"], one["lines_on_time"], one["on_time_rate"], one["first_pass_yield"]) == (5, 2, 0.4, 0.9143)
    # Nothing changed since: a second run computes only the running month
    # and quarter (July 2031, Q3).
    run(_age, may.shop.world.tenant_id)
    assert set(_refresh(run, may, JULY)) == {"2031-07", "2031-Q3"}


async def _refresh_jobs(tenant_id: Any) -> list[dict[str, Any]]:
    from portal.jobs.tables import Job
    from tenants.context import system_scope

    async with system_scope("test-jobs"):
        rows = await Job.select(Job.payload, Job.status).where(Job.kind == "kpi.refresh").where(Job.tenant == tenant_id)
    return [{"payload": json.loads(row["payload"]), "status": row["status"]} for row in rows]


def _api_cards(client: Any, may: May, who: str) -> dict[str, dict[str, Any]]:
    response = client.get("/api/v1/scorecards", params={"period": "2031-05"}, headers=may.shop.as_(who))
    assert response.status_code == 200, response.text
    return {item["supplier_id"]: item for item in response.json()["items"]}


def _page(client: Any, may: May, language: str) -> Any:
    from tests.support.factories import page_headers

    token = may.shop.as_("planner")["authorization"].removeprefix("Bearer ")
    client.cookies.clear()
    headers = {**page_headers(client, token), "accept-language": language}
    return client.get("/scorecards", params={"period": "2031-05"}, headers=headers)


def test_a_stale_past_period_is_served_as_kept_and_its_refresh_queued(client: Any, may: May, run: Any) -> None:
    from portal.jobs.runner import run_due_jobs

    shop = may.shop
    tenant = shop.world.tenant_id
    two = str(shop.world.supplier_ids[1])
    order = _order(client, shop, "2031-05-12", "3", supplier=1)
    _refresh(run, may, JULY)
    # Out of the margin for changes still committing: May is kept as is.
    run(_age, tenant)
    kept = _api_cards(client, may, "planner")[two]
    assert (kept["lines_due"], kept["stale"]) == (1, False)
    # In July the planner cancels an order due in May. A read does not
    # recompute May (seconds at a million lines): it answers the kept
    # figures, says they are stale and when they were computed, and
    # queues their refresh, once however often it is read.
    fire(client, shop, order["id"], "planner", "cancel", reason="the customer cancelled")
    for who in ("planner", "planner", "other_supplier_admin"):
        card = _api_cards(client, may, who)[two]
        assert (card["lines_due"], card["stale"], card["computed_at"]) == (1, True, kept["computed_at"]), who
    queued = [job for job in run(_refresh_jobs, tenant) if job["status"] == "queued"]
    assert [job["payload"]["period"] for job in queued] == ["2031-05"]
    # The page says so, in both languages.
    for language, text in (("en", "new ones are being computed"), ("zh-CN", "新的数字正在计算中")):
        page = _page(client, may, language)
        assert page.status_code == 200
        assert 'id="scorecards-computed"' in page.text
        assert text in page.text, language
    # The job computes May again and keeps it: the next read has the line
    # gone. (Its cards may still say stale for a minute: the cancellation
    # was stamped within the margin kept for changes still committing.)
    run(run_due_jobs)
    assert [job["status"] for job in run(_refresh_jobs, tenant)][:1] == ["done"]
    for who in ("planner", "other_supplier_admin"):
        card = _api_cards(client, may, who)[two]
        assert card["lines_due"] == 0, who
        assert card["computed_at"] > kept["computed_at"], who
    for label, stored, fresh in run(_as_tenant, may, lambda: _stored_and_fresh(["2031-05"])):
        assert stored == fresh, label
    # Q2 was not read: the periodic job refreshes it.
    assert "2031-Q2" in _refresh(run, may, JULY)
    for label, stored, fresh in run(_as_tenant, may, lambda: _stored_and_fresh(["2031-Q2"])):
        assert stored == fresh, label


def test_the_running_month_is_as_of_the_last_run(client: Any, may: May, run: Any) -> None:
    from portal.kpi import store

    shop = may.shop
    two = shop.world.supplier_ids[1]

    async def due_in_may() -> int:
        return sum(card.lines_due or 0 for card in await store.cards("2031-05", two, now=MID_MAY))

    assert "2031-05" in _refresh(run, may, MID_MAY)
    before = run(_as_tenant, may, due_in_may)
    order = _order(client, shop, "2031-05-14", "2", supplier=1)
    _set(run, "outsourced_order", order["id"], issued_at=datetime.fromisoformat("2031-05-02T00:00:00+00:00"))
    # On 20 May, May is the running month: a receipt or an order there does
    # not recompute it on every read; the next run takes it in.
    assert run(_as_tenant, may, due_in_may) == before
    assert "2031-05" in _refresh(run, may, MID_MAY)
    assert run(_as_tenant, may, due_in_may) == before + 1


def test_a_new_supplier_waits_for_the_job_and_the_others_read_as_kept(client: Any, may: May, run: Any) -> None:
    from portal.jobs.runner import run_due_jobs
    from tenants.services.suppliers import SupplierCreate, create_supplier

    tenant = may.shop.world.tenant_id
    _refresh(run, may, JULY)
    run(_age, tenant)
    run(run_due_jobs)
    kept = _api_cards(client, may, "planner")
    assert not any(card["stale"] or card["pending"] for card in kept.values())
    assert [job for job in run(_refresh_jobs, tenant) if job["status"] == "queued"] == []
    new = run(_as_tenant, may, lambda: create_supplier(SupplierCreate(code="S9", name=f"New {may.shop.world.slug}")))
    cards = _api_cards(client, may, "planner")
    # The new supplier's card is not computed in the request: it is pending,
    # without figures, after the ranked ones; the others are the kept ones.
    assert set(cards) == set(kept) | {str(new.id)}
    fresh = cards[str(new.id)]
    assert (fresh["pending"], fresh["stale"], fresh["computed_at"], fresh["rank"]) == (True, True, None, None)
    assert (fresh["lines_due"], fresh["on_time_rate"], fresh["ncrs"]) == (None, None, None)
    for supplier, card in kept.items():
        assert cards[supplier]["computed_at"] == card["computed_at"], supplier
        assert cards[supplier]["lines_due"] == card["lines_due"], supplier
        assert cards[supplier]["rank"] == card["rank"], supplier
    assert [job["payload"]["period"] for job in run(_refresh_jobs, tenant) if job["status"] == "queued"] == ["2031-05"]
    # The job computes the month for every supplier, the new one included.
    run(run_due_jobs)
    after = _api_cards(client, may, "planner")
    assert (after[str(new.id)]["pending"], after[str(new.id)]["lines_due"], after[str(new.id)]["on_time_rate"]) == (False, 0, None)
    for label, stored, fresh_figures in run(_as_tenant, may, lambda: _stored_and_fresh(["2031-05"])):
        assert stored == fresh_figures, label
        assert str(new.id) in stored


async def _forget(tenant_id: Any, label: str) -> None:
    """The period was never computed: no kept rows, no refresh asked."""
    from portal.jobs.tables import Job
    from portal.kpi.tables import ScorecardFigures
    from tenants.context import system_scope

    async with system_scope("test-forget"):
        await ScorecardFigures.delete().where(ScorecardFigures.tenant == tenant_id).where(ScorecardFigures.period == label)
        await Job.delete().where(Job.kind == "kpi.refresh").where(Job.tenant == tenant_id)


def test_a_period_never_computed_is_queued_once_and_answered_without_figures(
    client: Any, may: May, run: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from portal.jobs.runner import run_due_jobs
    from portal.quality import scorecards

    shop = may.shop
    tenant = shop.world.tenant_id
    one, two = (str(supplier) for supplier in shop.world.supplier_ids)
    run(_forget, tenant, "2031-05")
    computing = scorecards.compute

    def refused(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("a read computed a period")

    # The requests below must not compute May (seconds at a million lines).
    monkeypatch.setattr(scorecards, "compute", refused)
    for who in ("planner", "qa", "planner", "supplier_admin", "other_supplier_admin"):
        cards = _api_cards(client, may, who)
        if who in ("supplier_admin", "other_supplier_admin"):
            assert set(cards) == {one if who == "supplier_admin" else two}, who
        else:
            # Every supplier of the tenant (another test may have added one).
            assert {one, two} <= set(cards), who
        for card in cards.values():
            assert (card["pending"], card["stale"], card["computed_at"], card["rank"]) == (True, True, None, None), who
            assert card["period"] == "2031-05"
            assert card["start"].startswith("2031-04-30T16:00:00")
            figures = ("lines_due", "lines_on_time", "on_time_rate", "quantity_inspected", "first_pass_yield", "qc_reviews", "ncrs")
            assert [card[key] for key in figures] == [None] * len(figures), who
    # One job, however often and by whomever it was read.
    queued = [job for job in run(_refresh_jobs, tenant) if job["status"] == "queued"]
    assert [job["payload"]["period"] for job in queued] == ["2031-05"]
    # The page says so in both languages and asks again by itself.
    for language, text in (("en", "These figures are being computed"), ("zh-CN", "这些数字正在计算中")):
        page = _page(client, may, language)
        assert page.status_code == 200
        assert 'id="scorecards-pending"' in page.text, language
        assert text in page.text, language
        assert 'hx-trigger="load delay:5s"' in page.text
    monkeypatch.setattr(scorecards, "compute", computing)
    run(run_due_jobs)
    assert [job["status"] for job in run(_refresh_jobs, tenant)] == ["done"]
    cards = _api_cards(client, may, "planner")
    assert not any(card["pending"] for card in cards.values())
    assert (cards[one]["lines_due"], cards[one]["rank"]) == (5, 1)
    for label, stored, fresh in run(_as_tenant, may, lambda: _stored_and_fresh(["2031-05"])):
        assert stored == fresh, label
        # And what the API answers is that computation.
        counted = ("lines_due", "lines_on_time", "on_time_rate", "first_pass_yield", "qc_reviews", "qc_rejections", "ncrs")
        for supplier, figures in fresh.items():
            assert [cards[supplier][key] for key in counted] == [figures[key] for key in counted], supplier
    # A supplier reads its own kept card, never the other's.
    assert set(_api_cards(client, may, "supplier_admin")) == {one}
    page = _page(client, may, "en")
    assert 'id="scorecards-pending"' not in page.text
    assert "40.0%" in page.text


async def _cards_of(tenant_id: Any, label: str) -> set[Any]:
    from portal.kpi import store
    from tenants.context import operator_context, tenant_scope
    from tenants.tables import Tenant

    tenant = await Tenant.objects().where(Tenant.id == tenant_id).first()
    async with tenant_scope(operator_context(tenant, "kpi-test")):
        return {card.supplier_id for card in await store.cards(label)}


def test_kept_figures_of_one_tenant_never_reach_another(client: Any, may: May, run: Any) -> None:
    from tests.support.factories import make_world

    _refresh(run, may, JULY)
    other = run(make_world, "kpi-other")
    # The other tenant has May kept for nobody: its own suppliers only, pending.
    seen = run(_cards_of, other.tenant_id, "2031-05")
    assert seen == set(other.supplier_ids)
    assert not seen & set(may.shop.world.supplier_ids)
