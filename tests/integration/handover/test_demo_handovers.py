"""The demo shows a completed handover in acme (orders transferred, the
documents read by the new supplier and no longer by the old one) and one
in progress."""

from __future__ import annotations

from typing import Any

from tenants.demo import DEMO_ACCOUNTS, DEMO_PASSWORD, load_demo


def _token(client: Any, email: str) -> dict[str, str]:
    response = client.post("/api/v1/auth/token", json={"email": email, "password": DEMO_PASSWORD, "tenant": "acme"})
    assert response.status_code == 200, response.text
    return {"authorization": f"Bearer {response.json()['access_token']}"}


def test_demo_handovers(client: Any, run: Any) -> None:
    run(load_demo)
    assert run(load_demo) is False
    assert any(account["email"] == "boss@nova.example" for account in DEMO_ACCOUNTS)
    planner, nova, surface = (_token(client, email) for email in ("planner@acme.example", "boss@nova.example", "sales@eastsurface.example"))
    listed = client.get("/api/v1/handovers", headers=planner).json()["items"]
    assert sorted(item["status"] for item in listed) == ["completed", "in_progress"]
    completed = next(item for item in listed if item["status"] == "completed")
    done = client.get(f"/api/v1/handovers/{completed['id']}", headers=planner).json()
    assert len(done["transferred_orders"]) == 2
    originals = [item["record_id"] for item in done["items"] if item["source"] == "order"]
    documents = [item["record_id"] for item in done["items"] if item["source"] == "document"]
    assert documents
    for order_id in done["transferred_orders"]:
        assert client.get(f"/api/v1/orders/{order_id}", headers=nova).status_code == 200
    for order_id in originals:
        assert client.get(f"/api/v1/orders/{order_id}", headers=surface).status_code == 404
    order_documents = [d for d in documents if client.get(f"/api/v1/documents/{d}", headers=planner).json()["attached_type"] == "order"]
    assert order_documents
    for document_id in order_documents:
        assert client.get(f"/api/v1/documents/{document_id}", headers=nova).status_code == 200
        assert client.get(f"/api/v1/documents/{document_id}", headers=surface).status_code == 404
