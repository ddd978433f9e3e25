"""After a handover, the outgoing supplier loses the handed-over work and
everything hanging off it: not only the orders, their lines and
deliveries, but the photos of its progress reports on them and the files
on their conversation, which it reached by a document's own id."""

from __future__ import annotations

from typing import Any
from uuid import uuid4

from tests.integration.documents.conftest import uploaded
from tests.integration.handover.conftest import HandoverWorld, _ok, sign_everything, started
from tests.support.documents.samples import png


def test_the_outgoing_supplier_loses_what_hangs_off_the_handed_over_orders(client: Any, ho: HandoverWorld) -> None:
    transfer, cancel, kept = (ho.orders[key]["id"] for key in ("transfer", "cancel", "kept"))
    line = ho.orders["transfer"]["lines"][0]["id"]
    report = _ok(
        client.post(
            "/api/v1/progress-reports",
            json={"client_id": str(uuid4()), "order_line_id": line, "stage": "machining", "good_quantity": "1", "photos_expected": 1},
            headers=ho.as_("supplier_operator"),
        ),
        201,
    )
    photo = uploaded(
        client,
        ho.tokens["supplier_operator"],
        png(color=(10, 200, 10)),
        name="progress.png",
        declared="image/png",
        category="photo",
        attached_type="progress_report",
        attached_id=report["id"],
        title="Progress",
    )
    threads = _ok(client.get("/api/v1/threads", params={"record_type": "order", "record_id": transfer}, headers=ho.as_("planner")))
    shared = next(thread["id"] for thread in threads["items"] if thread["side"] == "shared")
    message = _ok(
        client.post(
            f"/api/v1/threads/{shared}/messages", json={"body": "new drawing", "client_id": str(uuid4())}, headers=ho.as_("planner")
        ),
        201,
    )
    attachment = uploaded(
        client,
        ho.tokens["planner"],
        png(color=(10, 10, 200)),
        name="sketch.png",
        declared="image/png",
        category="photo",
        attached_type="message",
        attached_id=message["id"],
        title="Sketch",
    )
    supplier_documents = {photo["id"], attachment["id"]}
    for document in supplier_documents:
        assert client.get(f"/api/v1/documents/{document}", headers=ho.as_("supplier_admin")).status_code == 200

    handover = started(client, ho)
    signed = sign_everything(client, ho, handover["id"], {transfer: "transfer", cancel: "cancel_rest", ho.material_id: "transfer"})
    _ok(client.post(f"/api/v1/handovers/{handover['id']}/complete", json={"version": signed["version"]}, headers=ho.as_("planner")))

    for who in ("supplier_admin", "supplier_operator"):
        for document in supplier_documents:
            assert client.get(f"/api/v1/documents/{document}", headers=ho.as_(who)).status_code == 404, (who, document)
            assert client.get(f"/api/v1/documents/{document}/content", headers=ho.as_(who)).status_code == 404, (who, document)
        listed = client.get("/api/v1/documents", headers=ho.as_(who)).text
        assert all(document not in listed for document in supplier_documents), who
        assert client.get(f"/api/v1/progress-reports/{report['id']}", headers=ho.as_(who)).status_code == 404, who
        assert client.get(f"/api/v1/threads/{shared}/messages", headers=ho.as_(who)).status_code == 404, who
    assert client.get(f"/api/v1/orders/{kept}", headers=ho.as_("supplier_admin")).status_code == 200
