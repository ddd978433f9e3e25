"""Documents on the local backend, through HTTP as real users: upload, list,
detail, versions, safe downloads, withdrawal, supplier and tenant
isolation, refusals that leave nothing behind, previews."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any
from uuid import UUID, uuid4

import pytest

from portal.documents.storage import object_key
from tests.integration.documents.conftest import raw_upload, upload, uploaded, wait_for_previews
from tests.support.documents import samples
from tests.support.factories import World, api_token, bearer, make_world, page_headers


async def _buyer_internal(target_id: Any) -> None:
    """A registered target whose documents are shared with no supplier."""
    return None


def blob_root(var_dir: Path) -> Path:
    return var_dir / "blobs"


def test_upload_list_detail_and_download_with_safe_headers(client: Any, world: World, tokens: dict[str, str]) -> None:
    data = samples.pdf(2)
    supplier = world.supplier_ids[0]
    document = uploaded(client, tokens["planner"], data, name='图纸 rev"B".pdf', attached_id=supplier, title="Bracket spec")
    assert document["title"] == "Bracket spec"
    assert document["status"] == "active"
    assert document["supplier_id"] == str(supplier)
    current = document["current"]
    assert current["version"] == 1
    assert current["size"] == len(data)
    assert current["content_type"] == "application/pdf"
    assert current["original_name"] == '图纸 rev"B".pdf'
    import hashlib

    assert current["sha256"] == hashlib.sha256(data).hexdigest()

    listed = client.get(
        "/api/v1/documents", params={"attached_type": "supplier", "attached_id": str(supplier)}, headers=bearer(tokens["qa"])
    )
    assert listed.status_code == 200
    assert [item["id"] for item in listed.json()["items"]] == [document["id"]]
    assert listed.json()["next"] is None
    detail = client.get(f"/api/v1/documents/{document['id']}", headers=bearer(tokens["finance"]))
    assert detail.status_code == 200
    assert detail.json()["current"]["id"] == current["id"]

    response = client.get(f"/api/v1/documents/{document['id']}/content", headers=bearer(tokens["supplier_operator"]))
    assert response.status_code == 200
    assert response.content == data
    assert response.headers["content-type"] == "application/pdf"
    disposition = response.headers["content-disposition"]
    assert disposition.startswith("attachment;")
    assert "filename*=UTF-8''" in disposition
    assert '"' not in disposition.split('filename="')[1].rstrip('"').split('";')[0]
    assert "sandbox" in response.headers["content-security-policy"]
    assert "default-src 'none'" in response.headers["content-security-policy"]
    assert response.headers["x-content-type-options"] == "nosniff"
    assert "no-store" in response.headers["cache-control"]


def test_a_new_version_keeps_the_old_one_readable(client: Any, world: World, tokens: dict[str, str]) -> None:
    first, second = samples.pdf(1), samples.pdf(3)
    document = uploaded(client, tokens["qa"], first, attached_id=world.supplier_ids[0])
    newer = uploaded(client, tokens["supplier_admin"], second, name="spec-rev2.pdf", document_id=document["id"])
    assert newer["id"] == document["id"]
    assert newer["current"]["version"] == 2
    versions = client.get(f"/api/v1/documents/{document['id']}/versions", headers=bearer(tokens["planner"])).json()["items"]
    assert [item["version"] for item in versions] == [2, 1]
    old = client.get(f"/api/v1/documents/{document['id']}/versions/{versions[1]['id']}/content", headers=bearer(tokens["planner"]))
    assert old.content == first
    current = client.get(f"/api/v1/documents/{document['id']}/content", headers=bearer(tokens["planner"]))
    assert current.content == second
    one = client.get(f"/api/v1/documents/{document['id']}/versions/{versions[1]['id']}", headers=bearer(tokens["planner"]))
    assert one.json()["original_name"] == "spec.pdf"


def test_withdrawal_needs_a_reason_is_audited_and_keeps_the_content(client: Any, world: World, tokens: dict[str, str]) -> None:
    data = samples.pdf()
    document = uploaded(client, tokens["planner"], data, attached_id=world.supplier_ids[0])
    url = f"/api/v1/documents/{document['id']}/withdraw"
    for role in ("finance", "supplier_admin", "supplier_operator"):
        assert client.post(url, json={"reason": "wrong file"}, headers=bearer(tokens[role])).status_code == 403
    refused = client.post(url, json={"reason": " "}, headers=bearer(tokens["qa"]))
    assert refused.status_code == 400
    assert "reason" in refused.json()["error"]["fields"]
    withdrawn = client.post(url, json={"reason": "Superseded by drawing rev C"}, headers=bearer(tokens["qa"]))
    assert withdrawn.status_code == 200, withdrawn.text
    assert withdrawn.json()["status"] == "withdrawn"
    assert withdrawn.json()["withdrawn_reason"] == "Superseded by drawing rev C"
    assert client.post(url, json={"reason": "again"}, headers=bearer(tokens["qa"])).status_code == 409
    # Still readable, but closed to new versions.
    assert client.get(f"/api/v1/documents/{document['id']}/content", headers=bearer(tokens["planner"])).content == data
    again = upload(client, tokens["planner"], samples.pdf(2), document_id=document["id"])
    assert again.status_code == 409
    assert again.json()["error"]["code"] == "document_withdrawn"

    events = client.get(
        "/api/v1/audit-events", params={"entity_type": "document", "entity_id": document["id"]}, headers=bearer(tokens["admin"])
    )
    actions = [(event["action"], event["after"]) for event in events.json()["items"]]
    assert actions[0][0] == "document.withdraw"
    assert actions[0][1]["reason"] == "Superseded by drawing rev C"
    assert actions[1][0] == "document.upload"
    assert actions[1][1]["sha256"] == document["current"]["sha256"]


def test_supplier_users_see_only_their_suppliers_documents(client: Any, world: World, tokens: dict[str, str]) -> None:
    from portal.documents.attachments import register_attachment_target
    from portal.items.tables import Item

    register_attachment_target("test_internal", _buyer_internal, table=Item)
    mine = uploaded(client, tokens["planner"], samples.pdf(), attached_id=world.supplier_ids[0], title="for S1")
    theirs = uploaded(client, tokens["planner"], samples.pdf(), attached_id=world.supplier_ids[1], title="for S2")
    internal = uploaded(client, tokens["planner"], samples.pdf(), attached_type="test_internal", attached_id=uuid4(), title="internal")

    def visible(token: str) -> set[str]:
        return {item["id"] for item in client.get("/api/v1/documents", headers=bearer(token)).json()["items"]}

    assert visible(tokens["planner"]) == {mine["id"], theirs["id"], internal["id"]}
    assert visible(tokens["supplier_operator"]) == {mine["id"]}
    assert visible(tokens["other_supplier_admin"]) == {theirs["id"]}
    for hidden in (theirs, internal):
        for path in ("", "/content", "/versions", f"/versions/{hidden['current']['id']}", f"/versions/{hidden['current']['id']}/content"):
            response = client.get(f"/api/v1/documents/{hidden['id']}{path}", headers=bearer(tokens["supplier_admin"]))
            assert response.status_code == 404, (path, response.text)
        assert upload(client, tokens["supplier_admin"], samples.pdf(), document_id=hidden["id"]).status_code == 404
    # A supplier user may attach only to its own supplier.
    own = upload(
        client,
        tokens["supplier_operator"],
        samples.jpeg(),
        name="qc.jpg",
        declared="image/jpeg",
        category="photo",
        attached_id=world.supplier_ids[0],
    )
    assert own.status_code == 201
    other = upload(
        client,
        tokens["supplier_operator"],
        samples.jpeg(),
        name="qc.jpg",
        declared="image/jpeg",
        category="photo",
        attached_id=world.supplier_ids[1],
    )
    assert other.status_code == 404


def test_another_tenants_documents_answer_404_everywhere(client: Any, run: Any, world: World, tokens: dict[str, str]) -> None:
    foreign_world = run(make_world, "docs-foreign")
    foreign_token = api_token(client, foreign_world.accounts["planner"], foreign_world.slug)
    foreign = uploaded(
        client,
        foreign_token,
        samples.png(),
        name="p.png",
        declared="image/png",
        category="photo",
        attached_id=foreign_world.supplier_ids[0],
    )
    version = foreign["current"]["id"]
    base = f"/api/v1/documents/{foreign['id']}"
    for role in ("admin", "planner", "qa", "finance", "supplier_admin"):
        for path in ("", "/content", "/versions", f"/versions/{version}", f"/versions/{version}/content", f"/versions/{version}/thumbnail"):
            response = client.get(base + path, headers=bearer(tokens[role]))
            assert response.status_code == 404, (role, path)
            assert response.json()["error"]["code"] == "not_found"
    assert client.post(base + "/withdraw", json={"reason": "not yours"}, headers=bearer(tokens["qa"])).status_code == 404
    assert upload(client, tokens["planner"], samples.pdf(), document_id=foreign["id"]).status_code == 404
    # Nor can a document be attached to another tenant's supplier.
    assert upload(client, tokens["planner"], samples.pdf(), attached_id=foreign_world.supplier_ids[0]).status_code == 404
    # The pages answer the same way.
    for path in (
        f"/documents/{foreign['id']}",
        f"/documents/{foreign['id']}/content",
        f"/documents/{foreign['id']}/versions/{version}/thumbnail",
    ):
        headers = page_headers(client, tokens["planner"])
        assert client.get(path, headers=headers, follow_redirects=False).status_code == 404


def test_roles_without_upload_permission_are_refused(client: Any, world: World, tokens: dict[str, str]) -> None:
    response = upload(client, tokens["finance"], samples.pdf(), attached_id=world.supplier_ids[0])
    assert response.status_code == 403
    assert client.post("/api/v1/documents", files={"file": ("a.pdf", b"%PDF-")}).status_code == 401


def _stored_files(var_dir: Path) -> set[Path]:
    root = blob_root(var_dir) / "tenants"
    return {path for path in root.rglob("*") if path.is_file()} if root.exists() else set()


def _staged(var_dir: Path) -> list[Path]:
    folders = [blob_root(var_dir) / ".incoming", var_dir / "spool"]
    return [path for folder in folders if folder.exists() for path in folder.iterdir()]


@pytest.fixture(scope="module")
def hostile_world(client: Any, run: Any) -> tuple[World, str]:
    world = run(make_world, "docs-hostile")
    return world, api_token(client, world.accounts["qa"], world.slug)


@pytest.mark.parametrize("case", samples.hostile_corpus(), ids=lambda case: case.label)
def test_hostile_uploads_are_refused_and_leave_nothing(client: Any, var_dir: Path, hostile_world: tuple[World, str], case: Any) -> None:
    world, token = hostile_world
    before = _stored_files(var_dir)
    fields = {"attached_type": "supplier", "attached_id": str(world.supplier_ids[0]), "category": case.category}
    response = raw_upload(client, token, fields, case.name, case.data, case.declared)
    assert response.status_code in (400, 413, 422), response.text
    error = response.json()["error"]
    # A name with CR/LF cannot even be written into a multipart header: the
    # form itself is refused before the name is looked at.
    assert error["code"] == case.code or ("\r" in case.name and error["code"] == "invalid_upload"), error
    assert error["message"]
    listed = client.get("/api/v1/documents", headers=bearer(token)).json()["items"]
    assert listed == []
    assert _stored_files(var_dir) == before
    assert _staged(var_dir) == []


def test_refusals_speak_the_users_language(client: Any, world: World, tokens: dict[str, str]) -> None:
    data = samples.svg_with_script()
    english = client.post(
        "/api/v1/documents",
        data={"attached_type": "supplier", "attached_id": str(world.supplier_ids[0]), "category": "drawing"},
        files={"file": ("x.svg", data, "image/svg+xml")},
        headers={**bearer(tokens["qa"]), "accept-language": "en"},
    )
    chinese = client.post(
        "/api/v1/documents",
        data={"attached_type": "supplier", "attached_id": str(world.supplier_ids[0]), "category": "drawing"},
        files={"file": ("x.svg", data, "image/svg+xml")},
        headers={**bearer(tokens["qa"]), "accept-language": "zh-CN"},
    )
    assert english.json()["error"]["message"].startswith("The file contains scripts")
    assert chinese.json()["error"]["message"] != english.json()["error"]["message"]


def test_category_limits_apply_and_refuse_with_413(
    client: Any, world: World, tokens: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from portal.settings import get_settings

    monkeypatch.setenv("PORTAL_UPLOAD_LIMITS_MB", "photo=1")
    get_settings.cache_clear()
    try:
        import os

        from PIL import Image

        out = io.BytesIO()
        Image.frombytes("RGB", (1000, 800), os.urandom(1000 * 800 * 3)).save(out, format="PNG")
        assert out.tell() > 1024 * 1024
        response = upload(
            client, tokens["qa"], out.getvalue(), name="big.png", declared="image/png", category="photo", attached_id=world.supplier_ids[0]
        )
        assert response.status_code == 413
        assert response.json()["error"]["code"] == "file_too_large"
    finally:
        monkeypatch.delenv("PORTAL_UPLOAD_LIMITS_MB")
        get_settings.cache_clear()


def test_photos_and_pdfs_get_previews_off_the_request_path(client: Any, run: Any, world: World, tokens: dict[str, str]) -> None:
    from PIL import Image

    from portal.documents.previews import render_preview

    photo = uploaded(
        client,
        tokens["supplier_operator"],
        samples.jpeg(2400, 1800),
        name="weld.jpg",
        declared="image/jpeg",
        category="photo",
        attached_id=world.supplier_ids[0],
    )
    assert photo["current"]["preview"] == "pending"
    assert (photo["current"]["width"], photo["current"]["height"]) == (2400, 1800)
    report = uploaded(client, tokens["qa"], samples.pdf(), attached_id=world.supplier_ids[0])
    drawing = uploaded(
        client, tokens["qa"], samples.step(), name="part.step", declared="", category="drawing", attached_id=world.supplier_ids[0]
    )
    assert drawing["current"]["preview"] == "none"
    wait_for_previews(run)
    versions = []
    for document in (photo, report):
        version = client.get(f"/api/v1/documents/{document['id']}", headers=bearer(tokens["qa"])).json()["current"]
        assert version["preview"] == "ready"
        versions.append(UUID(version["id"]))
        for size, limit in (("thumb", 320), ("preview", 1600)):
            response = client.get(
                f"/api/v1/documents/{document['id']}/versions/{version['id']}/thumbnail",
                params={"size": size},
                headers=bearer(tokens["qa"]),
            )
            assert response.status_code == 200
            assert response.headers["content-type"] == "image/webp"
            image = Image.open(io.BytesIO(response.content))
            assert image.format == "WEBP"
            assert max(image.size) <= limit
    # Nothing depends on the background task: the sweep finds nothing left
    # of these (earlier tests' uploads in this database may still wait).
    for version_id in versions:
        assert run(render_preview, client.app.state.storage, version_id) == "skipped"


def test_the_sweep_renders_previews_still_pending_and_the_queued_job_then_finds_nothing_to_do(
    client: Any, run: Any, world: World, tokens: dict[str, str]
) -> None:
    from portal.documents.previews import render_pending_previews, sweep_job
    from portal.jobs.runner import run_due_jobs
    from portal.jobs.tables import Job

    photo = uploaded(
        client, tokens["qa"], samples.png(), name="p.png", declared="image/png", category="photo", attached_id=world.supplier_ids[0]
    )
    assert client.get(f"/api/v1/documents/{photo['id']}", headers=bearer(tokens["qa"])).json()["current"]["preview"] == "pending"
    # The periodic sweep (or `portal storage thumbnails`) gets there before the upload's job.
    run(lambda: sweep_job({}))
    assert client.get(f"/api/v1/documents/{photo['id']}", headers=bearer(tokens["qa"])).json()["current"]["preview"] == "ready"
    assert run(lambda: render_pending_previews(client.app.state.storage))["ready"] == 0
    run(run_due_jobs)
    # Only this world's preview jobs: other test files on this worker leave
    # jobs of their own behind (the tenancy seed's webhooks fail on purpose).
    jobs = run(lambda: Job.select(Job.status, Job.last_error).where((Job.tenant == world.tenant_id) & (Job.kind == "documents.preview")))
    assert jobs
    assert all(job["status"] == "done" for job in jobs), jobs
    assert client.get(f"/api/v1/documents/{photo['id']}", headers=bearer(tokens["qa"])).json()["current"]["preview"] == "ready"


def test_a_crash_between_storing_and_committing_leaves_no_row_and_gc_removes_the_orphan(
    client: Any, run: Any, var_dir: Path, world: World, tokens: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The object is written before the rows; if the process dies before
    the commit (simulated: the audit write fails and the clean-up that would
    follow never runs), the database has no row and the object is an orphan
    that `portal storage gc` removes."""
    from datetime import timedelta

    from portal.documents import services
    from portal.documents.maintenance import collect_garbage

    async def crash(*args: Any, **kwargs: Any) -> None:
        raise RuntimeError("power cut")

    async def no_cleanup(*args: Any, **kwargs: Any) -> None:
        return None

    before = _stored_files(var_dir)
    monkeypatch.setattr(services, "record", crash)
    monkeypatch.setattr(services, "_delete_quietly", no_cleanup)
    response = upload(client, tokens["qa"], samples.pdf(), attached_id=world.supplier_ids[0], title="lost in a crash")
    assert response.status_code == 500
    monkeypatch.undo()
    assert client.get("/api/v1/documents", headers=bearer(tokens["qa"])).json()["items"] == []
    orphans = _stored_files(var_dir) - before
    assert len(orphans) == 1
    orphan_key = next(iter(orphans)).relative_to(blob_root(var_dir)).as_posix()
    assert orphan_key.startswith(f"tenants/{world.tenant_id}/documents/")

    storage = client.app.state.storage
    young = run(lambda: collect_garbage(storage, grace=timedelta(hours=1)))
    assert orphan_key not in young.orphans
    assert young.too_young >= 1
    report = run(lambda: collect_garbage(storage, grace=timedelta(0)))
    assert orphan_key in report.orphans
    assert _stored_files(var_dir) - before == set()
    # Live documents and their previews are never touched.
    assert before <= _stored_files(var_dir)


def test_verify_names_a_corrupted_blob(client: Any, run: Any, var_dir: Path, world: World, tokens: dict[str, str]) -> None:
    from portal.documents.maintenance import verify_objects

    document = uploaded(client, tokens["qa"], samples.pdf(), attached_id=world.supplier_ids[0])
    key = object_key(world.tenant_id, document["id"], document["current"]["id"])
    path = blob_root(var_dir) / key
    original = path.read_bytes()
    storage = client.app.state.storage
    checked, problems = run(lambda: verify_objects(storage))
    assert checked >= 1
    assert [p for p in problems if p.key == key] == []
    try:
        path.write_bytes(original[:-10] + b"tampered!\n")
        _, problems = run(lambda: verify_objects(storage))
        mine = [problem for problem in problems if problem.key == key]
        assert len(mine) == 1
        assert mine[0].problem == "sha256 mismatch"
        path.write_bytes(original[:100])
        _, problems = run(lambda: verify_objects(storage))
        assert [problem.problem for problem in problems if problem.key == key] == [f"size 100 != recorded {len(original)}"]
        path.unlink()
        _, problems = run(lambda: verify_objects(storage))
        assert [problem.problem for problem in problems if problem.key == key] == ["missing"]
    finally:
        path.write_bytes(original)


def test_the_supplier_page_embeds_the_document_panel(client: Any, world: World, tokens: dict[str, str]) -> None:
    supplier = world.supplier_ids[0]
    document = uploaded(
        client, tokens["admin"], samples.png(), name="cert.png", declared="image/png", category="material_certificate", attached_id=supplier
    )
    headers = page_headers(client, tokens["admin"])
    page = client.get(f"/admin/suppliers/{supplier}", headers=headers)
    assert page.status_code == 200
    assert f'hx-get="/documents?attached_type=supplier&amp;attached_id={supplier}"' in page.text
    assert "/static/js/upload.js" in page.text
    panel = client.get(
        "/documents", params={"attached_type": "supplier", "attached_id": str(supplier)}, headers={**headers, "hx-request": "true"}
    )
    assert panel.status_code == 200
    assert "<html" not in panel.text
    assert 'class="documents-panel"' in panel.text
    assert f"/documents/{document['id']}" in panel.text
    assert "data-upload" in panel.text
    assert 'capture="environment"' in panel.text
    assert "HX-Request" in panel.headers.get("vary", "")
    full = client.get("/documents", params={"attached_type": "supplier", "attached_id": str(supplier)}, headers=headers)
    assert "<html" in full.text
    assert 'class="documents-panel"' in full.text
    # Finance may look but not upload: no widget.
    finance = client.get(
        "/documents",
        params={"attached_type": "supplier", "attached_id": str(supplier)},
        headers={**page_headers(client, tokens["finance"]), "hx-request": "true"},
    )
    assert finance.status_code == 200
    assert "data-upload" not in finance.text


def test_the_widget_uploads_through_the_page_and_gets_json(client: Any, world: World, tokens: dict[str, str]) -> None:
    headers = {**page_headers(client, tokens["qa"]), "accept": "application/json"}
    fields = {"attached_type": "supplier", "attached_id": str(world.supplier_ids[0]), "category": "photo"}
    ok = client.post("/documents", data=fields, files={"file": ("qc.png", samples.png(), "image/png")}, headers=headers)
    assert ok.status_code == 201, ok.text
    assert ok.json()["location"] == f"/documents/{ok.json()['document']['id']}"
    refused = client.post("/documents", data=fields, files={"file": ("qc.png", samples.svg_with_script(), "image/png")}, headers=headers)
    assert refused.status_code == 422
    assert refused.json()["error"]["code"] == "file_active_content"
    # An unused second file input (the camera button) sends an empty part.
    both = client.post(
        "/documents",
        data=fields,
        files=[("file", ("", b"", "application/octet-stream")), ("file", ("b.png", samples.png(), "image/png"))],
        headers=headers,
    )
    assert both.status_code == 201, both.text
    detail = client.get(ok.json()["location"], headers=page_headers(client, tokens["qa"]))
    assert detail.status_code == 200
    assert "qc.png" in detail.text
    assert f'action="/documents/{ok.json()["document"]["id"]}/withdraw"' in detail.text


def test_withdraw_form_on_the_detail_page(client: Any, world: World, tokens: dict[str, str]) -> None:
    document = uploaded(client, tokens["qa"], samples.pdf(), attached_id=world.supplier_ids[0])
    url = f"/documents/{document['id']}/withdraw"
    headers = page_headers(client, tokens["qa"])
    missing = client.post(url, data={"reason": ""}, headers=headers, follow_redirects=False)
    assert missing.status_code == 400
    assert 'id="e-reason"' in missing.text
    done = client.post(url, data={"reason": "Wrong supplier"}, headers=headers, follow_redirects=False)
    assert done.status_code == 303
    assert done.headers["location"] == f"/documents/{document['id']}"
    page = client.get(f"/documents/{document['id']}", headers=headers)
    assert "Wrong supplier" in page.text
    assert "/withdraw" not in page.text.split("<main")[1]


def test_direct_upload_endpoints_say_they_need_s3(client: Any, world: World, tokens: dict[str, str]) -> None:
    body = {
        "name": "a.pdf",
        "size": 10,
        "sha256": "0" * 64,
        "md5": "0" * 32,
        "category": "spec",
        "attached_type": "supplier",
        "attached_id": str(world.supplier_ids[0]),
    }
    response = client.post("/api/v1/documents/uploads", json=body, headers=bearer(tokens["qa"]))
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "direct_upload_unavailable"


def test_api_list_pages_with_a_cursor(client: Any, world: World, tokens: dict[str, str]) -> None:
    from portal.documents import services

    ids = [uploaded(client, tokens["qa"], samples.pdf(), attached_id=world.supplier_ids[1], title=f"doc {n}")["id"] for n in range(3)]
    original = services.PAGE_SIZE
    services.PAGE_SIZE = 2
    try:
        first = client.get("/api/v1/documents", params={"attached_id": str(world.supplier_ids[1])}, headers=bearer(tokens["qa"])).json()
        assert len(first["items"]) == 2
        assert first["next"]
        second = client.get(
            "/api/v1/documents", params={"attached_id": str(world.supplier_ids[1]), "cursor": first["next"]}, headers=bearer(tokens["qa"])
        ).json()
    finally:
        services.PAGE_SIZE = original
    assert [item["id"] for item in first["items"] + second["items"]] == list(reversed(ids))
    assert second["next"] is None
    assert json.loads(json.dumps(second))  # plain JSON
