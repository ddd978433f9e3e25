"""The dispatch list's export link is the list: followed from a filtered
page, it exports exactly the dispatches the page shows."""

from __future__ import annotations

import csv
import html
import io
import re
from typing import Any

from tests.integration.materials.conftest import dispatch, page, receipt, sent_dispatch
from tests.integration.orders.conftest import OrderWorld, shop

__all__ = ["shop"]


def test_the_filtered_dispatch_page_exports_what_it_shows(client: Any, shop: OrderWorld) -> None:
    assert dispatch(client, shop, ("5", "D-1")).status_code == 201  # a draft
    received = sent_dispatch(client, shop, ("7", "R-1"))
    assert receipt(client, shop, received, ("7", "")).status_code == 200
    sent = sent_dispatch(client, shop, ("9", "S-1"))
    headers = {**page(client, shop, "planner"), "accept-language": "en"}
    for status, expected in (("sent", {sent["number"]}), ("", None)):
        listing = client.get("/materials/dispatches", params={"status": status} if status else {}, headers=headers)
        assert listing.status_code == 200, listing.text
        shown = set(re.findall(r"<strong>(MD-[0-9-]+)</strong>", listing.text))
        if expected is not None:
            assert shown == expected
        [link] = re.findall(r'href="(/materials/dispatches/export\?format=csv[^"]*)"', listing.text)
        exported = client.get(html.unescape(link), headers=headers)
        assert exported.status_code == 200, exported.text
        rows = list(csv.DictReader(io.StringIO(exported.content.decode("utf-8-sig"))))
        assert {row["Dispatch number"] for row in rows} == shown
    assert len(shown) == 3
