"""The QC history a handover hands on: QA's decisions on the handed-over
documents follow them to the incoming supplier and leave the outgoing one;
A's other work keeps its own, out of B's sight; the third supplier sees
none of it."""

from __future__ import annotations

from typing import Any

from tests.integration.documents.conftest import uploaded
from tests.integration.handover.conftest import HandoverWorld, _ok, sign_everything, started
from tests.support.documents.samples import png


def _reviews(client: Any, ho: HandoverWorld, document_id: str, who: str) -> Any:
    return client.get(f"/api/v1/documents/{document_id}/reviews", headers=ho.as_(who))


def test_qa_decisions_follow_the_handed_over_documents(client: Any, ho: HandoverWorld) -> None:
    kept_certificate = uploaded(
        client,
        ho.tokens["supplier_admin"],
        png(color=(20, 200, 20)),
        name="kept.png",
        declared="image/png",
        category="material_certificate",
        attached_type="order",
        attached_id=ho.orders["kept"]["id"],
        title="Kept certificate",
    )["id"]
    _ok(client.post(f"/api/v1/documents/{ho.certificate_id}/reviews", json={"decision": "approved"}, headers=ho.as_("qa")), 201)
    rejected = {"decision": "rejected", "reason": "Heat number missing"}
    _ok(client.post(f"/api/v1/documents/{kept_certificate}/reviews", json=rejected, headers=ho.as_("qa")), 201)

    # Before completion each supplier reads its own history only.
    assert _ok(_reviews(client, ho, ho.certificate_id, "supplier_admin"))["items"][0]["decision"] == "approved"
    for who in ("other_supplier_admin", "third"):
        assert _reviews(client, ho, ho.certificate_id, who).status_code == 404

    handover = started(client, ho)
    transfer, cancel = ho.orders["transfer"]["id"], ho.orders["cancel"]["id"]
    signed = sign_everything(client, ho, handover["id"], {transfer: "transfer", cancel: "cancel_rest", ho.material_id: "transfer"})
    _ok(client.post(f"/api/v1/handovers/{handover['id']}/complete", json={"version": signed["version"]}, headers=ho.as_("planner")))

    # B reads QA's decision on A's certificate it now works from...
    history = _ok(_reviews(client, ho, ho.certificate_id, "other_supplier_admin"))["items"]
    assert [(row["decision"], row["version"]) for row in history] == [("approved", 1)]
    # ...and the QC checklist of its new order, carried over.
    [new_order] = _ok(client.get(f"/api/v1/handovers/{handover['id']}", headers=ho.as_("planner")))["transferred_orders"]
    assert client.get(f"/api/v1/orders/{new_order}/qc-requirements", headers=ho.as_("other_supplier_admin")).status_code == 200
    # ...but not the history of A's work that stayed with A.
    assert _reviews(client, ho, kept_certificate, "other_supplier_admin").status_code == 404
    # A: the handed-over history is gone with the document; its own stays.
    for who in ("supplier_admin", "supplier_operator"):
        assert _reviews(client, ho, ho.certificate_id, who).status_code == 404
        kept = _ok(_reviews(client, ho, kept_certificate, who))["items"]
        assert [(row["decision"], row["reason"]) for row in kept] == [("rejected", "Heat number missing")]
    # The third supplier: nothing, before or after.
    for document in (ho.certificate_id, kept_certificate, ho.drawing_id):
        assert _reviews(client, ho, document, "third").status_code == 404
    # The buyer's QA sees all of it, as before.
    assert len(_ok(_reviews(client, ho, ho.certificate_id, "qa"))["items"]) == 1
