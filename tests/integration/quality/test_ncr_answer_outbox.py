"""The answer form as the phone's outbox posts it: asking for JSON, with the
client id made when the answer was written and maybe one photo. Stored
once however often it is sent; a refusal says why and keeps nothing, not
even the photo."""

from __future__ import annotations

from typing import Any
from uuid import uuid4

from tests.integration.orders.conftest import OrderWorld
from tests.integration.quality.test_ncrs import _get, _issued, _page, _step
from tests.support.documents import samples


def _post(client: Any, shop: OrderWorld, ncr: dict[str, Any], who: str, language: str = "en", **fields: Any) -> Any:
    headers = {**_page(client, shop, who, language), "accept": "application/json"}
    files = {"file": ("IMG_0413.jpg", samples.jpeg(), "image/jpeg")}
    data = {"_csrf_token": headers["x-csrftoken"], "version": str(ncr["version"]), **fields}
    return client.post(f"/ncrs/{ncr['id']}/steps/{_step(ncr, 'containment')}/answer", data=data, files=files, headers=headers)


def _evidence(client: Any, shop: OrderWorld, ncr: dict[str, Any]) -> list[Any]:
    params = {"attached_type": "ncr_step", "attached_id": _step(ncr, "containment")}
    return list(client.get("/api/v1/documents", params=params, headers=shop.as_("qa")).json()["items"])


def test_an_answer_sent_twice_with_its_photo_is_stored_once(client: Any, shop: OrderWorld) -> None:
    ncr = _issued(client, shop)
    client_id = str(uuid4())
    for _ in range(2):
        sent = _post(client, shop, ncr, "supplier_operator", text="Sorted all stock, 3 bad", client_id=client_id)
        assert sent.status_code == 200, sent.text
        assert sent.json() == {"id": ncr["id"]}
    after = _get(client, shop, ncr["id"]).json()
    answers = [entry for entry in after["entries"] if entry["kind"] == "answer"]
    assert [entry["text"] for entry in answers] == ["Sorted all stock, 3 bad"]
    evidence = _evidence(client, shop, ncr)
    assert len(evidence) == 1
    assert answers[0]["document_ids"] == [evidence[0]["id"]]
    assert (after["step_state"], after["version"]) == ("answered", ncr["version"] + 1)

    # Another answer (a new client id) before QA decides is a second entry.
    again = _post(client, shop, after, "supplier_operator", text="Also sorted the stock in transit", client_id=str(uuid4()))
    assert again.status_code == 200, again.text
    assert len([entry for entry in _get(client, shop, ncr["id"]).json()["entries"] if entry["kind"] == "answer"]) == 2


def test_a_refused_answer_says_why_and_keeps_nothing(client: Any, shop: OrderWorld) -> None:
    ncr = _issued(client, shop)
    short = _post(client, shop, ncr, "supplier_operator", language="zh-CN", text=" x ", client_id=str(uuid4()))
    assert short.status_code == 400
    assert set(short.json()["error"]["fields"]) == {"text"}
    assert "4000" in short.json()["error"]["fields"]["text"]
    stale = _post(client, shop, {**ncr, "version": ncr["version"] + 5}, "supplier_operator", text="Sorted", client_id=str(uuid4()))
    assert (stale.status_code, stale.json()["error"]["code"]) == (409, "ncr_changed")
    foreign = _post(client, shop, ncr, "other_supplier_admin", text="Sorted all stock", client_id=str(uuid4()))
    assert foreign.status_code == 404
    assert _evidence(client, shop, ncr) == []
    assert _get(client, shop, ncr["id"]).json()["entries"] == []


def test_the_form_without_scripts_still_answers(client: Any, shop: OrderWorld) -> None:
    ncr = _issued(client, shop)
    headers = _page(client, shop, "supplier_operator")
    shown = client.get(f"/ncrs/{ncr['id']}", headers=headers).text
    assert "data-outbox-answer" in shown
    assert 'name="client_id"' in shown
    data = {"_csrf_token": headers["x-csrftoken"], "text": "Sorted all stock", "version": str(ncr["version"])}
    answered = client.post(
        f"/ncrs/{ncr['id']}/steps/{_step(ncr, 'containment')}/answer", data=data, headers=headers, follow_redirects=False
    )
    assert answered.status_code == 303
    assert _get(client, shop, ncr["id"]).json()["step_state"] == "answered"
