"""The handover package: built by a job after completion, retried when it
dies halfway, holding exactly the handed-over documents (current versions,
matching hashes) and an index PDF listing them, every text within its page
and every page numbered; the buyer's download."""

from __future__ import annotations

import hashlib
import io
import subprocess
import zipfile
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from portal.days import local_minutes
from tests.integration.documents.conftest import uploaded
from tests.integration.handover.conftest import HandoverWorld, _ok, sign_everything, started
from tests.support.documents.samples import png


def _storage_path(run: Any, document_id: str) -> Any:
    from portal.documents.storage import open_storage
    from portal.documents.tables import Document, DocumentVersion
    from portal.settings import get_settings
    from tenants.context import system_scope

    async def key() -> str:
        async with system_scope("test"):
            document = await Document.objects().where(Document.id == document_id).first()
            row = (
                await DocumentVersion.select(DocumentVersion.storage_key)
                .where((DocumentVersion.document == document_id) & (DocumentVersion.version == document.current_version))
                .first()
            )
        return str(row["storage_key"])

    return open_storage(get_settings()).local_path(run(key))


def test_the_package_holds_exactly_the_handed_over_documents(client: Any, ho: HandoverWorld, run: Any, tmp_path: Path) -> None:
    from portal.jobs.runner import run_due_jobs

    # A second version of the drawing: the package holds the current one.
    uploaded(client, ho.tokens["planner"], png(color=(1, 2, 3)), name="drawing-b.png", declared="image/png", document_id=ho.drawing_id)
    handover = started(client, ho)
    signed = sign_everything(client, ho, handover["id"], {ho.orders["transfer"]["id"]: "transfer"})
    _ok(client.post(f"/api/v1/handovers/{handover['id']}/complete", json={"version": signed["version"]}, headers=ho.as_("planner")))
    url = f"/api/v1/handovers/{handover['id']}/package"
    pending = client.get(url, headers=ho.as_("planner", "en"))
    assert pending.status_code == 409
    assert pending.json()["error"]["code"] == "package_not_ready"

    # The job dies halfway (a stored file cannot be read): nothing is stored, and it is retried.
    path = _storage_path(run, ho.certificate_id)
    hidden = path.with_name(path.name + ".away")
    path.rename(hidden)
    run(run_due_jobs)
    assert client.get(url, headers=ho.as_("planner")).status_code == 409
    hidden.rename(path)
    run(run_due_jobs, datetime.now(UTC) + timedelta(hours=2))

    response = client.get(url, headers=ho.as_("planner"))
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("application/zip")
    archive = zipfile.ZipFile(io.BytesIO(response.content))
    documents = [item for item in signed["items"] if item["source"] == "document"]
    expected = {}
    for item in documents:
        document = _ok(client.get(f"/api/v1/documents/{item['record_id']}", headers=ho.as_("planner")))
        expected[document["current"]["sha256"]] = document["current"]["version"]
    files = {name: hashlib.sha256(archive.read(name)).hexdigest() for name in archive.namelist() if name.startswith("documents/")}
    assert sorted(files.values()) == sorted(expected)
    assert set(archive.namelist()) == {"index.pdf", *files}
    pdf = tmp_path / "index.pdf"
    pdf.write_bytes(archive.read("index.pdf"))
    index = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], check=True, capture_output=True, text=True).stdout
    flat = "".join(index.split())
    for digest in expected:
        assert digest in flat
    assert handover["number"] in index
    # The tenant's language (zh_CN), the checklist with who signed off.
    for text in ("交接资料包", "检查清单", "Drawing", "Certificate"):
        assert text in index, text
    # Every font embedded (pdffonts' "emb" column), the CJK one among them.
    fonts = subprocess.run(["pdffonts", str(pdf)], check=True, capture_output=True, text=True).stdout.splitlines()[2:]
    assert any("Noto-Sans-CJK-SC" in row for row in fonts), fonts
    assert all(row.split()[-5] == "yes" for row in fonts), fonts
    # The buyer's: suppliers get 403; a second run of the job stores nothing new.
    for who in ("supplier_admin", "other_supplier_admin"):
        assert client.get(url, headers=ho.as_(who)).status_code == 403
    first = _ok(client.get(f"/api/v1/handovers/{handover['id']}", headers=ho.as_("planner")))["package_document_id"]
    from portal.handover.package import package_job

    run(package_job, {"handover_id": handover["id"]})
    assert _ok(client.get(f"/api/v1/handovers/{handover['id']}", headers=ho.as_("planner")))["package_document_id"] == first


# Texts as long as their fields take, none with a space to wrap at, and a
# file name as drawings are named.
LONG_SECTION = "S" * 150
LONG_ENTRY = "T" * 200
LONG_NOTE = "N" * 150
LONG_TITLE = "D" * 200
LONG_FILE = "P-BRK-01_Drawing_RevB_customer_approved_final_" + "X" * 100 + ".png"
HEADERS = {
    "en": ("Section", "Entry", "Who acts", "Decision", "Signed off by", "When", "File", "Title", "Version", "Size (bytes)", "SHA-256"),
    "zh_CN": ("分组", "条目", "负责方", "处理决定", "签核人", "时间", "文件", "标题", "版本", "大小（字节）", "SHA-256"),
}
PAGE_OF = {"en": "Page {page} of {pages}", "zh_CN": "第 {page} 页，共 {pages} 页"}
ZONE = {"en": "Times are in the Asia/Shanghai time zone.", "zh_CN": "时间均为 Asia/Shanghai 时区。"}


def test_long_titles_and_names_stay_within_the_index_and_every_page_is_numbered(
    client: Any, ho: HandoverWorld, run: Any, tmp_path: Path
) -> None:
    """A checklist entry, a section, a sign-off note and a document's title
    and file name as long as they may be, none with a space, and 110 more
    entries (three parts of the index): every column of every row whole on
    one page, every text inside the page's text area and none over
    another, the sign-off times in the tenant's zone (which the index
    names), every page numbered "page X of Y" across the parts, in the
    tenant's language and in English; the footer in the body's font."""
    from portal.handover import package
    from portal.handover.tables import Handover
    from portal.i18n import use_locale
    from portal.jobs.runner import run_due_jobs
    from tenants.context import operator_context, system_scope, tenant_scope
    from tenants.tables import Tenant
    from tests.support.pdf_layout import flatten, outside, overprinted, page_with, read_pages

    template = _ok(client.get("/api/v1/settings/handover-template", headers=ho.as_("admin")))
    extra = [
        {"title": LONG_SECTION, "items": [{"title": LONG_ENTRY, "party": "planner"}]},
        *(
            {
                "title": f"Checks {half}",
                "items": [{"title": f"Check {half}-{number:02d}", "party": "qa", "blocking": False} for number in range(55)],
            }
            for half in (1, 2)
        ),
    ]
    _ok(client.put("/api/v1/settings/handover-template", json={"sections": [*template["sections"], *extra]}, headers=ho.as_("admin")))
    uploaded(
        client,
        ho.tokens["planner"],
        png(color=(9, 9, 9)),
        name=LONG_FILE,
        declared="image/png",
        category="drawing",
        attached_type="order",
        attached_id=ho.orders["transfer"]["id"],
        title=LONG_TITLE,
    )
    handover = started(client, ho)
    entry = next(item for item in handover["items"] if item["title"] == LONG_ENTRY)
    signed = client.post(
        f"/api/v1/handovers/{handover['id']}/items/{entry['id']}/sign-off", json={"note": LONG_NOTE}, headers=ho.as_("planner")
    )
    assert signed.status_code == 200, signed.text
    optional = {item["id"] for item in handover["items"] if not item["blocking"]}
    done = sign_everything(client, ho, handover["id"], {ho.orders["transfer"]["id"]: "transfer"}, skip={entry["id"], *optional})
    _ok(client.post(f"/api/v1/handovers/{handover['id']}/complete", json={"version": done["version"]}, headers=ho.as_("planner")))
    run(run_due_jobs)
    response = client.get(f"/api/v1/handovers/{handover['id']}/package", headers=ho.as_("planner"))
    assert response.status_code == 200, response.text
    archive = zipfile.ZipFile(io.BytesIO(response.content))
    (tmp_path / "index-zh_CN.pdf").write_bytes(archive.read("index.pdf"))
    files = {name: hashlib.sha256(archive.read(name)).hexdigest() for name in archive.namelist() if name.startswith("documents/")}
    assert any(LONG_FILE[:40] in name for name in files)

    async def index_context(locale: str) -> Any:
        async with system_scope("test"):
            row = await Handover.objects().where(Handover.id == handover["id"]).first()
            tenant = await Tenant.objects().where(Tenant.id == row.tenant).first()
        async with tenant_scope(operator_context(tenant, "test")):
            with use_locale(locale):
                return await package._index_context(row)

    # The job wrote the tenant's language (zh_CN); the same index in English.
    contexts = {locale: run(index_context, locale) for locale in ("en", "zh_CN")}
    with use_locale("en"):
        package.write_index(contexts["en"], tmp_path / "index-en.pdf")
    assert len(contexts["en"]["handover"].items) > package.INDEX_ROWS

    for locale in ("en", "zh_CN"):
        final = contexts[locale]["handover"]
        pages = read_pages(tmp_path / f"index-{locale}.pdf")
        assert len(pages) >= 3, locale
        for page in pages:
            strays, overlaps = outside(page, 14, 14), overprinted(page)
            assert not strays, (locale, page.number, [word.text[:20] for word in strays[:3]])
            assert not overlaps, (locale, page.number, [(one.text[:20], other.text[:20]) for one, other in overlaps[:3]])
            assert flatten(PAGE_OF[locale].format(page=page.number, pages=len(pages))) in page.flat, (locale, page.number)
            assert final.number in page.flat
        text = "".join(page.flat for page in pages)
        for header in HEADERS[locale]:
            assert flatten(header) in text, (locale, header)
        assert flatten(ZONE[locale]) in pages[0].flat
        assert "UTC" not in text
        for item in final.items:
            when = local_minutes(item.signed_off_at, "Asia/Shanghai") if item.signed_off_at else ""
            whole = page_with(pages, item.section, item.title, item.note, item.signed_off_by or "", when)
            assert whole is not None, (locale, item.title[:40])
        assert page_with(pages, LONG_ENTRY, LONG_NOTE) is not None
        for name, digest in files.items():
            assert page_with(pages, name, digest) is not None, (locale, name)
        assert page_with(pages, LONG_TITLE) is not None

        fonts = subprocess.run(["pdffonts", str(tmp_path / f"index-{locale}.pdf")], check=True, capture_output=True, text=True)
        names = {row.split()[0].split("+")[-1] for row in fonts.stdout.splitlines()[2:]}
        # The body's font throughout, the hashes' monospace aside: no serif fallback in the footer.
        assert names == {"Noto-Sans-CJK-SC", "DejaVu-Sans-Mono"}, names
