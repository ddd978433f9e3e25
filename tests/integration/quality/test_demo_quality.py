"""The demo's QC documents read as a supplier would name them, never as the
category keys the code uses."""

from __future__ import annotations

from typing import Any

from portal.documents.content import CATEGORIES
from portal.documents.tables import Document
from tenants.context import operator_context, system_scope, tenant_scope
from tenants.demo import load_demo
from tenants.scoping import scoped
from tenants.tables import Tenant


async def _titles(slug: str) -> dict[str, str]:
    async with system_scope("test"):
        tenant = await Tenant.objects().where(Tenant.slug == slug).first()
    async with tenant_scope(operator_context(tenant, "test")):
        rows = await scoped(Document).select(Document.title, Document.category)
    return {row["title"]: row["category"] for row in rows}


def test_demo_document_titles_are_words_not_category_keys(run: Any) -> None:
    run(load_demo)
    for slug in ("acme", "globex"):
        titles = run(_titles, slug)
        assert {"material_certificate", "inspection_report"} <= set(titles.values()), slug
        raw = [title for title in titles if any(key in title for key in CATEGORIES if "_" in key)]
        assert raw == [], slug
        assert any("检验报告 Inspection report" in title for title in titles), slug
