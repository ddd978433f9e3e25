"""The demo's history behind the scorecards and the board: twelve months of
QA decisions on QC documents (approved and rejected versions), so the
rejected-documents trend shows a value every month; and material lots
recorded on the demo deliveries, so the lot trace follows a record. Loading
the demo again adds nothing."""

from __future__ import annotations

from typing import Any

from portal.documents.tables import DocumentVersion
from portal.kpi import store
from portal.quality.tables import DeliveryMaterialLot, DocumentReview
from portal.quality.trace import trace_lot
from tenants.context import operator_context, system_scope, tenant_scope
from tenants.demo import load_demo
from tenants.scoping import scoped
from tenants.tables import Tenant


async def _in(slug: str, call: Any) -> Any:
    async with system_scope("test"):
        tenant = await Tenant.objects().where(Tenant.slug == slug).first()
    async with tenant_scope(operator_context(tenant, "test")):
        return await call()


async def _history() -> dict[str, Any]:
    reviews = await scoped(DocumentReview).select(DocumentReview.decision, DocumentReview.reviewed_at)
    lots = await scoped(DeliveryMaterialLot).select(DeliveryMaterialLot.lot, DeliveryMaterialLot.delivery)
    trace = await trace_lot(lots[0]["lot"]) if lots else None
    return {
        "reviews": len(reviews),
        "versions": await scoped(DocumentVersion).count(),
        "lots": len(lots),
        "trend": await store.trend(),
        "consumed_via": sorted({row.via for row in trace.consumed_by}) if trace else [],
    }


def test_the_demo_has_a_year_of_qc_reviews_and_recorded_material_lots(run: Any) -> None:
    run(load_demo)
    for slug in ("acme", "globex"):
        found = run(_in, slug, _history)
        rates = [point.qc_rejection_rate for point in found["trend"]]
        assert len(rates) == 12, slug
        # A decision every month, rejections among them in most months, and
        # not one flat figure: the trend is drawn from real values.
        assert None not in rates, (slug, rates)
        assert sum(rate > 0 for rate in rates) >= 6, (slug, rates)
        assert len(set(rates)) > 3, (slug, rates)
        assert all(rate < 1 for rate in rates), (slug, rates)
        assert found["lots"] >= 2, slug
        assert found["consumed_via"] == ["record"], slug
    before = {slug: run(_in, slug, _history) for slug in ("acme", "globex")}
    assert run(load_demo) is False
    for slug, counts in before.items():
        again = run(_in, slug, _history)
        assert (again["reviews"], again["versions"], again["lots"]) == (counts["reviews"], counts["versions"], counts["lots"]), slug


async def _ncr_sources() -> set[str]:
    from portal.quality.tables import Ncr

    return {row["source"] for row in await scoped(Ncr).select(Ncr.source)}


def test_every_demo_ncr_comes_from_a_source_its_page_knows(run: Any) -> None:
    """The history's NCRs were written with source "delivery", which no NCR
    page knows: each one's page answered 500."""
    from portal.quality.ncrs import SOURCES

    run(load_demo)
    for slug in ("acme", "globex"):
        sources = run(_in, slug, _ncr_sources)
        assert sources, slug
        assert sources <= set(SOURCES), (slug, sources - set(SOURCES))
