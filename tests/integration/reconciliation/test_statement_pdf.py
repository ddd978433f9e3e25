"""The statement PDF: asked for, rendered by the job (never in the request),
archived with its hash and served byte for byte; its text, read back with
pdftotext, carries every line, the totals, the capital amount and the
Chinese names, with the CJK font embedded (pdffonts); long texts and many
rows stay within the page, each row whole on one page, in both languages
(pdftotext's word boxes)."""

from __future__ import annotations

import hashlib
import re
import subprocess
from decimal import Decimal
from pathlib import Path
from typing import Any
from uuid import uuid4

from portal.jobs.runner import run_due_jobs
from tests.integration.orders.conftest import OrderWorld
from tests.integration.reconciliation.conftest import OCTOBER, by_currency, deliver, october, order_in, shop, utc

__all__ = ["shop"]

SUPPLIER_NAME = "苏州精密机械有限公司"
ITEM_NAME = "法兰盘（不锈钢）"
MATERIAL_NAME = "圆钢 Q235"


def finalized_october(client: Any, run: Any, shop: OrderWorld) -> dict[str, Any]:
    """October's CNY statement, with Chinese names, agreed by both sides."""
    renamed = [
        client.patch(f"/api/v1/suppliers/{shop.world.supplier_ids[0]}", json={"name": SUPPLIER_NAME}, headers=shop.as_("admin")),
        client.patch(f"/api/v1/items/{shop.part_id}", json={"name": ITEM_NAME}, headers=shop.as_("planner")),
        client.patch(f"/api/v1/items/{shop.material_id}", json={"name": MATERIAL_NAME}, headers=shop.as_("planner")),
    ]
    assert [response.status_code for response in renamed] == [200, 200, 200], [response.text for response in renamed]
    october(client, run, shop)
    body = {"supplier_id": str(shop.world.supplier_ids[0]), "period": OCTOBER}
    cny = by_currency(client.post("/api/v1/statements/close", json=body, headers=shop.as_("finance")))["CNY"]
    assert client.post(f"/api/v1/statements/{cny['id']}/send", headers=shop.as_("finance")).status_code == 200
    for line in cny["lines"]:
        path = f"/api/v1/statements/{cny['id']}/lines/{line['id']}/confirm"
        assert client.post(path, headers=shop.as_("supplier_admin")).status_code == 200
    assert client.post(f"/api/v1/statements/{cny['id']}/confirm", headers=shop.as_("supplier_admin")).status_code == 200
    final = client.post(f"/api/v1/statements/{cny['id']}/finalize", headers=shop.as_("finance"))
    assert final.status_code == 200, final.text
    return dict(final.json())


def pdf_text(data: bytes, tmp_path: Path, page: int | None = None) -> str:
    path = tmp_path / "statement.pdf"
    path.write_bytes(data)
    pages = ["-f", str(page), "-l", str(page)] if page else []
    return subprocess.run(["pdftotext", "-layout", *pages, str(path), "-"], check=True, capture_output=True, text=True).stdout


def test_the_finalized_statement_renders_in_the_job_and_reads_back(client: Any, run: Any, shop: OrderWorld, tmp_path: Path) -> None:
    final = finalized_october(client, run, shop)
    url = f"/api/v1/statements/{final['id']}/pdf"
    # Finalizing queued the rendering; nothing rendered it inside a request.
    assert final["pdf"]["status"] == "queued"
    waiting = client.get(url, headers={**shop.as_("finance"), "accept-language": "en"})
    assert (waiting.status_code, waiting.json()["error"]["code"]) == (409, "pdf_rendering")

    assert run(run_due_jobs).get("done", 0) >= 1
    statement = client.get(f"/api/v1/statements/{final['id']}", headers=shop.as_("finance")).json()
    assert (statement["pdf"]["status"], statement["pdf"]["progress"]) == ("ready", 100)
    assert statement["pdf_sha256"] == statement["pdf"]["sha256"]

    first = client.get(url, headers=shop.as_("finance"))
    assert first.status_code == 200, first.text
    assert first.headers["content-type"] == "application/pdf"
    assert first.content.startswith(b"%PDF-")
    assert hashlib.sha256(first.content).hexdigest() == statement["pdf_sha256"]
    # The supplier admin downloads the same bytes, every time.
    again = client.get(url, headers=shop.as_("supplier_admin"))
    assert again.status_code == 200
    assert again.content == first.content
    # Another supplier's admin is not told it exists.
    assert client.get(url, headers=shop.as_("other_supplier_admin")).status_code == 404

    text = pdf_text(first.content, tmp_path)
    flat = re.sub(r"\s+", " ", text)
    for name in (SUPPLIER_NAME, ITEM_NAME, MATERIAL_NAME, "对账单", "确认记录"):
        assert name in text, name
    # Every line with its amount (hand-computed: 30 x 12.50, 15 x 13.00 after
    # the revision of 10 Oct, 4 kg scrap beyond the allowance at 8.20 less
    # the allowance) and the totals of test_statement_figures.
    for line in statement["lines"]:
        assert line["reference"] in text or line["kind"] != "delivery"
    for figure in ("¥375.00", "¥195.00", "-¥22.14", "¥570.00", "¥547.86", "税额 13 % ¥71.22", "¥619.08"):
        assert figure in flat, figure
    assert "陆佰壹拾玖元零捌分" in text
    # Confirmation records: who and what, from the statement's steps.
    assert all(step["by"] in text for step in statement["steps"] if step["by"])

    path = tmp_path / "fonts.pdf"
    path.write_bytes(first.content)
    fonts = subprocess.run(["pdffonts", str(path)], capture_output=True, check=True, text=True)
    rows = fonts.stdout.splitlines()[2:]
    assert any("Noto-Sans-CJK-SC" in row for row in rows), rows
    # Every font embedded (the "emb" column).
    assert all(row.split()[-5] == "yes" for row in rows), rows


def test_every_page_carries_the_running_header_and_its_number(client: Any, run: Any, shop: OrderWorld, tmp_path: Path) -> None:
    final = finalized_october(client, run, shop)
    run(run_due_jobs)
    data = client.get(f"/api/v1/statements/{final['id']}/pdf", headers=shop.as_("finance")).content
    pages = client.get(f"/api/v1/statements/{final['id']}", headers=shop.as_("finance")).json()["pdf"]["pages"]
    assert pages >= 1
    for page in range(1, pages + 1):
        text = pdf_text(data, tmp_path, page)
        assert SUPPLIER_NAME in text.splitlines()[0] + text, page
        assert f"第 {page} 页，共 {pages} 页" in text, (page, text[-200:])


def test_asking_for_a_pdf_queues_one_rendering_per_version(client: Any, run: Any, shop: OrderWorld) -> None:
    october(client, run, shop)
    body = {"supplier_id": str(shop.world.supplier_ids[0]), "period": OCTOBER}
    draft = by_currency(client.post("/api/v1/statements/compute", json=body, headers=shop.as_("finance")))["CNY"]
    url = f"/api/v1/statements/{draft['id']}/pdf"
    missing = client.get(url, headers={**shop.as_("finance"), "accept-language": "en"})
    assert (missing.status_code, missing.json()["error"]["code"]) == (409, "pdf_not_rendered")
    assert "not rendered yet" in missing.json()["error"]["message"]
    asked = client.post(url, headers=shop.as_("finance"))
    assert (asked.status_code, asked.json()["status"], asked.json()["statement_version"]) == (202, "queued", draft["version"])
    assert client.post(url, headers=shop.as_("finance")).json() == asked.json()
    # A draft is finance's own: the supplier is not told it exists.
    assert client.get(url, headers=shop.as_("supplier_admin")).status_code == 404
    assert client.post(url, headers=shop.as_("supplier_admin")).status_code == 404
    run(run_due_jobs)
    ready = client.get(url, headers=shop.as_("finance"))
    assert ready.status_code == 200
    # Computing again makes a new version: its PDF is not rendered yet.
    recomputed = by_currency(client.post("/api/v1/statements/compute", json=body, headers=shop.as_("finance")))["CNY"]
    assert recomputed["version"] > draft["version"]
    assert recomputed["pdf"]["status"] == "none"
    assert client.get(url, headers=shop.as_("finance")).status_code == 409


def test_rendering_the_same_version_again_gives_the_same_bytes(client: Any, run: Any, shop: OrderWorld) -> None:
    from portal.reconciliation import pdf, services
    from tenants.context import operator_context, system_scope, tenant_scope
    from tenants.tables import Supplier, Tenant

    final = finalized_october(client, run, shop)
    run(run_due_jobs)
    archived = client.get(f"/api/v1/statements/{final['id']}/pdf", headers=shop.as_("finance")).content

    async def render() -> bytes:
        async with system_scope("test"):
            tenant = await Tenant.objects().where(Tenant.id == shop.world.tenant_id).first()
        async with tenant_scope(operator_context(tenant, "test")):
            statement = await services.get_statement(final["id"])
            supplier = await Supplier.objects().where(Supplier.id == statement.supplier_id).first()
        return pdf.render_pdf(pdf.statement_html(statement, tenant, supplier), pdf.identifier(statement))

    assert run(render) == archived


def test_the_statement_page_asks_for_the_pdf_shows_its_progress_and_serves_it(client: Any, run: Any, shop: OrderWorld) -> None:
    from tests.integration.reconciliation.test_statement_pages import page, post

    october(client, run, shop)
    body = {"supplier_id": str(shop.world.supplier_ids[0]), "period": OCTOBER}
    draft = by_currency(client.post("/api/v1/statements/compute", json=body, headers=shop.as_("finance")))["CNY"]
    path = f"/statements/{draft['id']}"
    shown = client.get(path, headers=page(client, shop, "finance"))
    assert f'action="{path}/pdf"' in shown.text
    assert shown.headers["vary"]
    assert "HX-Request" in shown.headers["vary"]
    asked = post(client, shop, "finance", f"{path}/pdf")
    assert (asked.status_code, asked.headers["location"]) == (303, f"{path}?done=pdf#statement-pdf")
    # While the job has not run, the block polls itself: htmx asks for it alone.
    block = client.get(path, headers={**page(client, shop, "finance"), "hx-request": "true", "hx-target": "statement-pdf"})
    assert block.status_code == 200
    assert block.text.lstrip().startswith('<div id="statement-pdf"')
    assert 'hx-trigger="every 2s"' in block.text
    assert "<progress" in block.text
    assert "<html" not in block.text
    assert client.get(f"{path}/pdf", headers=page(client, shop, "finance")).status_code == 409
    run(run_due_jobs)
    done = client.get(path, headers={**page(client, shop, "finance"), "hx-request": "true", "hx-target": "statement-pdf"})
    assert f'href="{path}/pdf"' in done.text
    assert "hx-trigger" not in done.text
    served = client.get(f"{path}/pdf", headers=page(client, shop, "finance"))
    assert (served.status_code, served.headers["content-type"]) == (200, "application/pdf")
    assert served.headers["content-disposition"].startswith('attachment; filename="statement-2026-10-S1-CNY.pdf"')
    api = client.get(f"/api/v1/statements/{draft['id']}/pdf", headers=shop.as_("finance"))
    assert api.content == served.content


# Texts as long as their fields take, none with a space to wrap at.
LONG_CODE = "LONG-" + "X" * 55
LONG_NAME = "N" * 200
LONG_REASON = "Z" * 150
SHORT_CJK_NAME = "法兰盘（不锈钢）"
PERIOD = {"en": "Oct 1, 2026 – Oct 31, 2026", "zh_CN": "2026年10月1日 – 2026年10月31日"}
PAGE_OF = {"en": "Page {page} of {pages}", "zh_CN": "第 {page} 页，共 {pages} 页"}


def long_texts_october(client: Any, run: Any, shop: OrderWorld) -> str:
    """October's CNY draft with a 60-character item code, a 200-character
    item name and a 150-character adjustment reason, none with a space,
    beside ordinary lines (a short Chinese name among them); its id."""
    october(client, run, shop)
    renamed = client.patch(f"/api/v1/items/{shop.part_id}", json={"name": LONG_NAME}, headers=shop.as_("planner"))
    assert renamed.status_code == 200, renamed.text
    part = client.post("/api/v1/items", json={"code": LONG_CODE, "name": SHORT_CJK_NAME, "unit": "件"}, headers=shop.as_("planner"))
    assert part.status_code == 201, part.text
    deliver(client, run, shop, order_in(client, shop, "20", "1234.56", item_id=part.json()["id"]), "12", "12", utc(10, 20))
    supplier = str(shop.world.supplier_ids[0])
    body = {"supplier_id": supplier, "period": OCTOBER, "amount": "-12345.67", "reason": LONG_REASON}
    made = client.post("/api/v1/statement-adjustments", json=body, headers=shop.as_("finance"))
    assert made.status_code == 201, made.text
    approved = client.post(f"/api/v1/statement-adjustments/{made.json()['id']}/approve", headers=shop.as_("admin"))
    assert approved.status_code == 200, approved.text
    draft = by_currency(
        client.post("/api/v1/statements/compute", json={"supplier_id": supplier, "period": OCTOBER}, headers=shop.as_("finance"))
    )
    return str(draft["CNY"]["id"])


def many_rows(statement: Any) -> Any:
    """``statement`` with 80 more delivery lines and 50 more materials, each
    named to wrap over several lines, and a confirmation step with a long
    comment: enough rows to run over several pages (built here rather than
    through 130 orders, which would take minutes)."""
    from msgspec.structs import replace

    from portal.reconciliation.schemas import StepOut

    delivery = next(line for line in statement.lines if line.kind == "delivery")
    lines = [
        replace(delivery, id=uuid4(), line_no=100 + number, item_code=f"P-{number:03d}", item_name=f"ROW{number:03d}" + "N" * 60)
        for number in range(80)
    ]
    material = statement.materials[0]
    materials = [
        replace(
            material,
            item_code=f"M-{number:03d}",
            item_name=f"圆钢{number:03d}" + "很长的材料名称" * 3,
            closing=Decimal(number) + Decimal("0.125"),
        )
        for number in range(50)
    ]
    step = StepOut("dispute_line", 1, LONG_REASON, Decimal("-12.50"), "Supplier " + "S" * 60, statement.computed_at)
    return replace(statement, lines=[*statement.lines, *lines], materials=[*statement.materials, *materials], steps=[step])


def test_long_texts_and_many_rows_stay_within_the_page_in_both_languages(client: Any, run: Any, shop: OrderWorld, tmp_path: Path) -> None:
    """Every text inside the page's text area and none over another; every
    row whole on one page, with its code, name, quantity and amount (the
    material section's code, name and closing balance) complete; every page
    numbered; the period as its first and last day, years in full; one
    font, embedded, the footer's too."""
    from portal.i18n import use_locale
    from portal.reconciliation import pdf, services
    from tenants.context import operator_context, system_scope, tenant_scope
    from tenants.tables import Supplier, Tenant
    from tests.support.pdf_layout import flatten, outside, overprinted, page_with, read_pages

    statement_id = long_texts_october(client, run, shop)

    async def parts() -> tuple[Any, Any, Any]:
        async with system_scope("test"):
            tenant = await Tenant.objects().where(Tenant.id == shop.world.tenant_id).first()
        async with tenant_scope(operator_context(tenant, "test")):
            statement = await services.get_statement(statement_id)
            supplier = await Supplier.objects().where(Supplier.id == statement.supplier_id).first()
        return statement, tenant, supplier

    statement, tenant, supplier = run(parts)
    assert {LONG_CODE, SHORT_CJK_NAME, LONG_NAME} <= {line.item_code for line in statement.lines} | {
        line.item_name for line in statement.lines
    }
    assert LONG_REASON in {line.description for line in statement.lines}
    statement = many_rows(statement)
    for locale in ("en", "zh_CN"):
        # The tenant's language: the same statement as the other language's tenants print it.
        tenant.locale = locale
        path = tmp_path / f"statement-{locale}.pdf"
        path.write_bytes(pdf.render_pdf(pdf.statement_html(statement, tenant, supplier), pdf.identifier(statement)))
        pages = read_pages(path)
        assert len(pages) >= 4, (locale, len(pages))
        for page in pages:
            strays, overlaps = outside(page, 10, 10), overprinted(page)
            assert not strays, (locale, page.number, [word.text[:20] for word in strays[:3]])
            assert not overlaps, (locale, page.number, [(one.text[:20], other.text[:20]) for one, other in overlaps[:3]])
            assert flatten(PAGE_OF[locale].format(page=page.number, pages=len(pages))) in page.flat, (locale, page.number)
        assert flatten(PERIOD[locale]) in pages[0].flat, locale
        with use_locale(locale):
            rows = pdf.printed_lines(statement, statement.lines, tenant.time_zone)
            materials = pdf.printed_materials(statement)
        for row in rows:
            whole = page_with(pages, row.cells[3], row.cells[4], row.cells[5], row.cells[8], row.note)
            assert whole is not None, (locale, row.cells[0], row.cells[3][:20], row.cells[4][:20])
        for material in materials:
            whole = page_with(pages, material.cells[0], material.cells[1], material.cells[-1])
            assert whole is not None, (locale, material.cells[0][:20], material.cells[1][:20])
        assert page_with(pages, LONG_REASON, "Supplier " + "S" * 60) is not None, locale

        fonts = subprocess.run(["pdffonts", str(path)], capture_output=True, check=True, text=True).stdout.splitlines()[2:]
        assert fonts
        assert all("Noto-Sans-CJK-SC" in row and row.split()[-5] == "yes" for row in fonts), fonts


def test_the_archived_pdf_takes_no_new_version_from_anyone(client: Any, run: Any, shop: OrderWorld) -> None:
    """A supplier's version of the finalized statement's PDF became the
    statement's current file and broke its download (500) for both sides."""
    final = finalized_october(client, run, shop)
    run(run_due_jobs)
    documents = client.get("/api/v1/documents", params={"attached_type": "statement"}, headers=shop.as_("supplier_admin")).json()
    [document] = [item for item in documents["items"] if item["attached_id"] == final["id"]]
    url = f"/api/v1/statements/{final['id']}/pdf"
    before = client.get(url, headers=shop.as_("finance")).content
    other = client.get(url, headers=shop.as_("supplier_admin")).content
    assert other == before
    for who, code in (("supplier_admin", "document_archived"), ("admin", "document_archived"), ("finance", "forbidden")):
        refused = client.post(
            f"/api/v1/documents/{document['id']}/versions",
            files={"file": ("statement.pdf", before, "application/pdf")},
            headers={**shop.as_(who), "accept-language": "en"},
        )
        assert (refused.status_code, refused.json()["error"]["code"]) == (403, code), refused.text
    assert client.get(url, headers=shop.as_("supplier_admin")).content == before
