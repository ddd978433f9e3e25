"""The installable app's files: manifest, service worker, offline page."""

from __future__ import annotations

import json
import re
from typing import Any

from portal.templating import static_url


def test_the_manifest_names_the_app_in_the_readers_language(client: Any) -> None:
    english = client.get("/manifest.webmanifest", headers={"accept-language": "en"})
    assert english.status_code == 200
    assert english.headers["content-type"].startswith("application/manifest+json")
    body = json.loads(english.text)
    assert (body["name"], body["lang"], body["display"], body["start_url"]) == ("Outsourcing portal", "en", "standalone", "/")
    chinese = json.loads(client.get("/manifest.webmanifest", headers={"accept-language": "zh-CN"}).text)
    assert (chinese["name"], chinese["lang"]) == ("外协协同平台", "zh-CN")
    sizes = {(icon["sizes"], icon["purpose"]) for icon in body["icons"]}
    assert sizes == {("192x192", "any"), ("512x512", "any"), ("512x512", "maskable")}
    for icon in body["icons"]:
        served = client.get(icon["src"])
        assert served.status_code == 200
        assert served.content.startswith(b"\x89PNG")
        width, height = int.from_bytes(served.content[16:20], "big"), int.from_bytes(served.content[20:24], "big")
        assert f"{width}x{height}" == icon["sizes"]


def test_the_service_worker_is_served_from_the_root_with_the_shell_written_in(client: Any) -> None:
    worker = client.get("/sw.js")
    assert worker.status_code == 200
    assert worker.headers["content-type"].startswith("text/javascript")
    assert worker.headers["cache-control"] == "no-cache"
    assert "__VERSION__" not in worker.text
    assert "__SHELL__" not in worker.text
    shell = json.loads(re.search(r"var SHELL = (\[.*?\]);", worker.text).group(1))  # type: ignore[union-attr]
    assert static_url("css/app.css") in shell
    assert "/offline" in shell
    for url in shell:
        assert client.get(url).status_code == 200, url


def test_the_offline_page_needs_no_sign_in_and_names_nobody(client: Any) -> None:
    client.cookies.clear()
    page = client.get("/offline", headers={"accept-language": "en"})
    assert page.status_code == 200
    assert "No connection" in page.text
    assert "data-user" not in page.text
