"""The demo shows the loop in each tenant: a finalized statement, one sent
with a disputed line, and a draft, with Chinese names in acme."""

from __future__ import annotations

from typing import Any

from portal.reconciliation.services import get_statement, list_statements
from tenants.context import operator_context, system_scope, tenant_scope
from tenants.demo import load_demo
from tenants.tables import Tenant


async def _statements(slug: str) -> list[Any]:
    async with system_scope("test"):
        tenant = await Tenant.objects().where(Tenant.slug == slug).first()
    async with tenant_scope(operator_context(tenant, "test")):
        return [await get_statement(item.id) for item in (await list_statements()).items]


def test_demo_statements_in_every_state_of_the_loop(run: Any) -> None:
    run(load_demo)
    assert run(load_demo) is False
    for slug in ("acme", "globex"):
        statements = run(_statements, slug)
        by_status = {statement.status: statement for statement in statements}
        assert set(by_status) == {"finalized", "disputed", "draft"}, slug
        final = by_status["finalized"]
        assert final.supplier_confirmed_at is not None
        assert {line.state for line in final.lines} == {"confirmed"}
        assert final.total == sum((line.amount for line in final.lines), final.tax)
        assert [line.state for line in by_status["disputed"].lines].count("disputed") == 1
        assert by_status["draft"].closed is False
        # Periods follow each other: before last, last, current.
        assert by_status["finalized"].period < by_status["disputed"].period < by_status["draft"].period
        # Finalizing queued the final PDF; the loader ran the job.
        assert final.pdf is not None
        assert (final.pdf.status, final.pdf_sha256) == ("ready", final.pdf.sha256), slug
        assert final.pdf_sha256
    acme = run(_statements, "acme")
    assert any("精密机加工" in statement.supplier_name for statement in acme)
    assert any("法兰盘" in line.item_name for statement in acme for line in statement.lines)
