"""Two documents panels on one page (a delivery and each of its lines, an
NCR and its current step) do not share an element id: each label names its
own panel's field, so a tap on "Take a photo" opens the camera of the panel
it sits in."""

from __future__ import annotations

import re
from typing import Any

from tests.support.factories import World, page_headers

ID = re.compile(r'\sid="([^"]+)"')
FOR = re.compile(r'<label[^>]*\sfor="([^"]+)"')


def _panel(client: Any, headers: dict[str, str], supplier: Any) -> str:
    panel = client.get(
        "/documents", params={"attached_type": "supplier", "attached_id": str(supplier)}, headers={**headers, "hx-request": "true"}
    )
    assert panel.status_code == 200, panel.text
    assert "data-upload" in panel.text  # the admin may upload: the widget is there
    return str(panel.text)


def test_two_panels_on_one_page_share_no_element_id(client: Any, world: World, tokens: dict[str, str]) -> None:
    headers = page_headers(client, tokens["admin"])
    panels = [_panel(client, headers, supplier) for supplier in world.supplier_ids]
    ids = [ID.findall(panel) for panel in panels]
    together = ids[0] + ids[1]
    assert len(together) == len(set(together)), sorted(key for key in together if together.count(key) > 1)
    for panel, own in zip(panels, ids, strict=True):
        labelled = FOR.findall(panel)
        assert len(labelled) >= 4  # category, title, file, photo
        assert set(labelled) <= set(own)
