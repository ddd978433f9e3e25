"""The handover package: built by a job after completion, retried when it
dies halfway, holding exactly the handed-over documents (current versions,
matching hashes) and an index PDF listing them; the buyer's download."""

from __future__ import annotations

import hashlib
import io
import subprocess
import zipfile
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

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
