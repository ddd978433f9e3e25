"""One decision per record: QA's review of a document version, a waiver of
a QC requirement and the dispositions of an NCR's goods are decided once.
A second decision, sent after the first or at the same moment (two QA, two
tabs, a double tap), is refused with 409 in the reader's language, and
nothing of it is stored or told: no second review row, no second
notification to the supplier.

"At the same moment" is real on both databases. On PostgreSQL another
connection holds the record's row while the requests start, so each gets
as far as it can and waits; then all go on at once. On SQLite the app runs
one writer at a time, so the second request meets what the first one
committed.
"""

from __future__ import annotations

import asyncio
from decimal import Decimal
from typing import Any
from uuid import UUID

import httpx
import pytest

from portal.jobs.runner import run_due_jobs
from tests.integration.orders.conftest import OrderWorld
from tests.integration.quality.conftest import accepted_order, checklist, require, review, send
from tests.integration.quality.test_ncrs import _get, _issued, _page
from tests.support.held_rows import while_held

Post = tuple[str, dict[str, Any]]


async def _at_once(app: Any, owner_url: str | None, table: str, row_id: str, posts: tuple[Post, ...]) -> list[httpx.Response]:
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as session:
        if owner_url is None:
            return list(await asyncio.gather(*(session.post(url, **kwargs) for url, kwargs in posts)))
        responses, waiting = await while_held(owner_url, table, [UUID(row_id)], lambda: [session.post(url, **kw) for url, kw in posts])
        assert waiting == len(posts), f"every request should have been waiting on the held {table}: {[r.text for r in responses]}"
        return responses


@pytest.fixture
def at_once(app: Any, run: Any, database_kind: str, request: pytest.FixtureRequest) -> Any:
    """``at_once(table, row_id, (url, kwargs), ...)``: the posts sent together
    against the record ``row_id`` of ``table``; their answers, in order."""
    owner_url = request.getfixturevalue("postgres").owner_url if database_kind == "postgresql" else None

    def send_together(table: str, row_id: str, *posts: Post) -> list[httpx.Response]:
        return list(run(_at_once, app, owner_url, table, row_id, posts))

    return send_together


def _qc_notifications(client: Any, shop: OrderWorld, run: Any, order_id: str) -> list[str]:
    run(run_due_jobs)
    items = client.get("/api/v1/notifications", headers=shop.as_("supplier_operator")).json()["items"]
    return [item["kind"] for item in items if item["kind"] in ("qc.approved", "qc.rejected") and item["link"] == f"/orders/{order_id}"]


def _history(client: Any, shop: OrderWorld, document_id: str) -> list[tuple[int, str, str]]:
    items = client.get(f"/api/v1/documents/{document_id}/reviews", headers=shop.as_("qa")).json()["items"]
    return [(item["version"], item["decision"], item["reason"]) for item in items]


def _pending_document(client: Any, shop: OrderWorld) -> tuple[dict[str, Any], dict[str, Any]]:
    order = accepted_order(client, shop)
    assert require(client, shop, order["id"]).status_code == 201
    return order, send(client, shop, order["id"])


def test_approve_and_reject_at_once_leave_one_decision_and_one_notification(client: Any, run: Any, shop: OrderWorld, at_once: Any) -> None:
    order, document = _pending_document(client, shop)
    url = f"/api/v1/documents/{document['id']}/reviews"
    english = {**shop.as_("qa"), "accept-language": "en"}
    approve = (url, {"json": {"decision": "approved", "version": 1}, "headers": english})
    reject = (url, {"json": {"decision": "rejected", "reason": "bad scan", "version": 1}, "headers": english})

    answers = at_once("document", document["id"], approve, reject)

    assert sorted(answer.status_code for answer in answers) == [201, 409], [answer.text for answer in answers]
    won = next(answer for answer in answers if answer.status_code == 201).json()
    lost = next(answer for answer in answers if answer.status_code == 409).json()["error"]
    assert lost["code"] == "already_reviewed"
    assert lost["message"] == "Version 1 of this document has already been reviewed. Reload the page to see the decision."
    assert _history(client, shop, document["id"]) == [(1, won["decision"], won["reason"])]
    assert checklist(client, shop, order["id"])[0]["state"] == won["decision"]
    assert _qc_notifications(client, shop, run, order["id"]) == [f"qc.{won['decision']}"]


def test_a_version_already_decided_refuses_any_second_decision(client: Any, run: Any, shop: OrderWorld) -> None:
    order, document = _pending_document(client, shop)
    assert review(client, shop, document["id"], "rejected", "Heat number missing", version=1).status_code == 201

    # The same decision again (a retried request) is refused like a
    # contradictory one: the first answer already said it was stored.
    for decision, reason, version in (("rejected", "Heat number missing", 1), ("approved", "", 1), ("approved", "", None)):
        again = review(client, shop, document["id"], decision, reason, version=version)
        assert (again.status_code, again.json()["error"]["code"]) == (409, "already_reviewed"), (decision, version)
    chinese = client.post(
        f"/api/v1/documents/{document['id']}/reviews",
        json={"decision": "approved", "version": 1},
        headers={**shop.as_("qa"), "accept-language": "zh-CN"},
    )
    assert chinese.status_code == 409
    assert chinese.json()["error"]["message"] == "此文件的第 1 版已经审核过。请重新加载页面查看审核结果。"
    assert _history(client, shop, document["id"]) == [(1, "rejected", "Heat number missing")]
    assert checklist(client, shop, order["id"])[0]["state"] == "rejected"
    assert _qc_notifications(client, shop, run, order["id"]) == ["qc.rejected"]

    # What changes the decision is a new version from the supplier, pending again.
    send(client, shop, order["id"], document_id=document["id"])
    assert checklist(client, shop, order["id"])[0]["state"] == "pending"
    assert review(client, shop, document["id"], "approved", version=2).status_code == 201
    assert [entry[:2] for entry in _history(client, shop, document["id"])] == [(2, "approved"), (1, "rejected")]


def test_the_review_form_sent_from_a_second_page_is_refused_and_keeps_what_was_typed(client: Any, shop: OrderWorld) -> None:
    order, document = _pending_document(client, shop)
    back = f"/orders/{order['id']}#qc"
    # Two QA sessions opened the order page while the document was pending.
    first, second = _page(client, shop, "qa"), _page(client, shop, "qa")
    for headers in (first, second):
        assert f'action="/documents/{document["id"]}/review"' in client.get(f"/orders/{order['id']}", headers=headers).text

    rejected = client.post(
        f"/documents/{document['id']}/review",
        data={"decision": "rejected", "reason": "Heat number missing", "version": "1", "back": back},
        headers=first,
        follow_redirects=False,
    )
    assert (rejected.status_code, rejected.headers["location"]) == (303, back)

    approved = client.post(
        f"/documents/{document['id']}/review", data={"decision": "approved", "version": "1", "back": back}, headers=second
    )
    assert approved.status_code == 409
    assert "Version 1 of this document has already been reviewed. Reload the page to see the decision." in approved.text
    # The page says where the document stands, and offers no form to send again.
    assert "Heat number missing" in approved.text
    assert f'action="/documents/{document["id"]}/review"' not in approved.text

    typed = "Thread pitch not measured"
    chinese = client.post(
        f"/documents/{document['id']}/review",
        data={"decision": "rejected", "reason": typed, "version": "1", "back": back},
        headers={**second, "accept-language": "zh-CN"},
    )
    assert chinese.status_code == 409
    assert "此文件的第 1 版已经审核过。请重新加载页面查看审核结果。" in chinese.text
    # Kept beside the message to copy: the form is not offered again.
    assert 'data-kept="reason"' in chinese.text
    assert f">{typed}</textarea>" in chinese.text
    assert _history(client, shop, document["id"]) == [(1, "rejected", "Heat number missing")]


def test_two_waivers_at_once_leave_the_first_reason(client: Any, shop: OrderWorld, at_once: Any) -> None:
    order = accepted_order(client, shop)
    assert require(client, shop, order["id"]).status_code == 201
    requirement_id = checklist(client, shop, order["id"])[0]["id"]
    url = f"/api/v1/qc-requirements/{requirement_id}/waive"
    by_qa = (url, {"json": {"reason": "Stock material, cert on file"}, "headers": shop.as_("qa")})
    by_planner = (url, {"json": {"reason": "Customer waived it"}, "headers": shop.as_("planner")})

    answers = at_once("qc_requirement", requirement_id, by_qa, by_planner)

    assert sorted(answer.status_code for answer in answers) == [200, 409], [answer.text for answer in answers]
    won = next(answer for answer in answers if answer.status_code == 200).json()
    lost = next(answer for answer in answers if answer.status_code == 409).json()["error"]
    assert lost["code"] == "qc_requirement_waived"
    assert checklist(client, shop, order["id"])[0]["waived_reason"] == won["waived_reason"]


def test_two_dispositions_at_once_never_cover_more_than_the_ncr(client: Any, shop: OrderWorld, at_once: Any) -> None:
    ncr = _issued(client, shop)  # 4 rejected
    url = f"/api/v1/ncrs/{ncr['id']}/dispositions"
    scrap = (url, {"json": {"kind": "scrap", "quantity": "3"}, "headers": shop.as_("qa")})
    rework = (url, {"json": {"kind": "rework", "quantity": "3"}, "headers": shop.as_("qa")})

    answers = at_once("ncr", ncr["id"], scrap, rework)

    assert sorted(answer.status_code for answer in answers) == [201, 409], [answer.text for answer in answers]
    won = next(answer for answer in answers if answer.status_code == 201).json()
    lost = next(answer for answer in answers if answer.status_code == 409).json()["error"]
    assert lost["code"] == "ncr_quantity_exceeded"
    stored = _get(client, shop, ncr["id"]).json()["dispositions"]
    assert [(item["kind"], Decimal(item["quantity"])) for item in stored] == [(won["kind"], Decimal(3))]
