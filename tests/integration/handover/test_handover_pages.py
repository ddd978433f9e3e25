"""The handover pages of the three parties: the buyer drafts and starts,
each supplier sees and signs its own entries, the outgoing one never the
incoming one's name."""

from __future__ import annotations

from typing import Any

from tests.integration.handover.conftest import HandoverWorld, _ok
from tests.support.factories import page_headers


def _page(client: Any, ho: HandoverWorld, who: str) -> dict[str, str]:
    return {**page_headers(client, ho.tokens[who]), "accept-language": "en"}


def _post(client: Any, headers: dict[str, str], path: str, **data: str) -> Any:
    client.cookies.clear()
    return client.post(path, data={**data, "_csrf_token": headers["x-csrftoken"]}, headers=headers, follow_redirects=False)


def test_the_three_parties_work_through_their_pages(client: Any, ho: HandoverWorld) -> None:
    planner = _page(client, ho, "planner")
    same = _post(client, planner, "/handovers", from_supplier_id=ho.a, to_supplier_id=ho.a, item_codes="P-100")
    assert same.status_code == 400
    assert "cannot be handed over to the supplier that has it" in same.text
    created = _post(client, planner, "/handovers", from_supplier_id=ho.a, to_supplier_id=ho.b, item_codes="P-100")
    assert created.status_code == 303, created.text
    path = created.headers["location"].split("?")[0]
    handover = _ok(client.get(f"/api/v1{path}", headers=ho.as_("planner")))
    started = _post(client, planner, f"{path}/start", version=str(handover["version"]))
    assert started.status_code == 303, started.text

    outgoing = _page(client, ho, "supplier_admin")
    client.cookies.clear()
    page = client.get(path, headers=outgoing)
    assert page.status_code == 200
    assert "Confirm the open quantities of the orders listed" in page.text
    assert f"Supplier S2 {ho.world.slug}" not in page.text
    entry = next(item for item in handover["items"] if item["party"] == "outgoing_supplier" and not item["evidence"])
    signed = _post(client, outgoing, f"{path}/items/{entry['id']}/sign-off", note="all counted")
    assert signed.status_code == 303, signed.text

    incoming = _page(client, ho, "other_supplier_admin")
    client.cookies.clear()
    page = client.get(path, headers=incoming)
    assert page.status_code == 200
    assert "Ready to take over the work" in page.text
    assert "Confirm the open quantities" not in page.text
    mine = next(item for item in handover["items"] if item["party"] == "incoming_supplier")
    theirs = _post(client, incoming, f"{path}/items/{entry['id']}/sign-off")
    assert theirs.status_code == 404
    assert _post(client, incoming, f"{path}/items/{mine['id']}/sign-off").status_code == 303
    refused = _post(client, planner, f"{path}/complete", version=str(handover["version"] + 1))
    assert refused.status_code == 409
    assert "blocking checklist entries are not signed off yet" in refused.text
    client.cookies.clear()
    assert client.get(path, headers=_page(client, ho, "planner")).status_code == 200


def test_the_admin_edits_the_checklist_template_without_code(client: Any, ho: HandoverWorld) -> None:
    admin = _page(client, ho, "admin")
    client.cookies.clear()
    form = client.get("/admin/handover-template", headers=admin)
    assert form.status_code == 200
    assert "Tooling" in form.text
    saved = _post(
        client,
        admin,
        "/admin/handover-template",
        **{"section-0": "Checks", "title-0": "Gauges calibrated", "party-0": "qa", "source-0": "", "blocking-0": "on", "title-1": ""},
    )
    assert saved.status_code == 303, saved.text
    template = _ok(client.get("/api/v1/settings/handover-template", headers=ho.as_("planner")))
    assert template["default"] is False
    assert template["sections"] == [
        {"title": "Checks", "items": [{"title": "Gauges calibrated", "party": "qa", "evidence": False, "blocking": True, "source": ""}]}
    ]
    refused = _post(client, admin, "/admin/handover-template", **{"section-0": "", "title-0": "x", "party-0": "boss"})
    assert refused.status_code == 400
    handover = _ok(
        client.post("/api/v1/handovers", json={"from_supplier_id": ho.a, "to_supplier_id": ho.b}, headers=ho.as_("planner")), 201
    )
    assert [item["title"] for item in handover["items"]] == ["Gauges calibrated"]
