"""Every refusal the issue names speaks the reader's language, Chinese as
well as English, and changes nothing: a step answered out of order, a step
accepted twice, closing before verification, another supplier's NCR, a due
date in the past."""

from __future__ import annotations

import re
from datetime import date, timedelta
from typing import Any

import pytest

from tests.integration.orders.conftest import OrderWorld
from tests.integration.quality.test_ncrs import _answer as answer
from tests.integration.quality.test_ncrs import _decide, _get, _issued, _open, _step, _unchanged

CJK = re.compile(r"[\u4e00-\u9fff]")


def _in(language: str, shop: OrderWorld, who: str) -> dict[str, str]:
    return {**shop.as_(who), "accept-language": language}


def _error(response: Any) -> tuple[int, str, str]:
    error = response.json()["error"]
    text = error["message"] + " ".join(error.get("fields", {}).values())
    return response.status_code, error["code"], text


@pytest.mark.parametrize("language", ["en", "zh-CN"])
def test_each_refusal_is_clear_in_the_readers_language_and_changes_nothing(client: Any, shop: OrderWorld, language: str) -> None:
    def speaks(text: str) -> bool:
        return bool(CJK.search(text)) == (language == "zh-CN")

    ncr = _issued(client, shop)
    base = f"/api/v1/ncrs/{ncr['id']}"
    refusals = {
        "out of order": client.post(
            f"{base}/steps/{_step(ncr, 'corrective_action')}/answer", json={"text": "early"}, headers=_in(language, shop, "supplier_admin")
        ),
        "close unverified": client.post(f"{base}/close", json={}, headers=_in(language, shop, "qa")),
        "nothing to accept": client.post(f"{base}/steps/{_step(ncr, 'containment')}/accept", json={}, headers=_in(language, shop, "qa")),
    }
    expected = {
        "out of order": (409, "ncr_step_out_of_order"),
        "close unverified": (409, "ncr_not_verified"),
        "nothing to accept": (409, "ncr_step_not_answered"),
    }
    for name, response in refusals.items():
        status, code, text = _error(response)
        assert (status, code) == expected[name], name
        assert speaks(text), f"{name}: {text}"
    foreign = client.post(
        f"{base}/steps/{_step(ncr, 'containment')}/answer", json={"text": "ours"}, headers=_in(language, shop, "other_supplier_admin")
    )
    assert foreign.status_code == 404
    assert speaks(foreign.json()["error"]["message"])
    _unchanged(client, shop, ncr)

    assert answer(client, shop, ncr, "containment").status_code == 200
    accepted = _decide(client, shop, ncr, "containment", "accept").json()
    twice = client.post(f"{base}/steps/{_step(ncr, 'containment')}/accept", json={}, headers=_in(language, shop, "qa"))
    status, code, text = _error(twice)
    assert (status, code) == (409, "ncr_step_accepted")
    assert speaks(text)
    _unchanged(client, shop, accepted)

    draft = _open(client, shop, supplier_id=str(shop.world.supplier_ids[0]))
    past = client.post(
        f"/api/v1/ncrs/{draft['id']}/issue",
        json={"due_dates": {"root_cause": (date.today() - timedelta(days=3)).isoformat()}},
        headers=_in(language, shop, "qa"),
    )
    status, code, text = _error(past)
    assert (status, set(past.json()["error"]["fields"])) == (400, {"root_cause"})
    assert speaks(text)
    assert _get(client, shop, draft["id"]).json()["status"] == "draft"
