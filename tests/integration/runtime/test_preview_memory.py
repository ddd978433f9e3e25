"""Rendering previews keeps a real server within a stated memory bound,
whatever is uploaded.

The bound: the server's peak resident memory (VmHWM) grows by at most
``RENDER_CONCURRENCY x DECODE_BUDGET`` plus 64 MiB for the requests
themselves, while it takes image bombs under the pixel limit (the outside
probe's 346 KB PNG of 10,900 x 10,900 pixels took a server from 140 MB to
1.1 GB), a PDF whose page inflates to a gigabyte, and, all at once, large
honest images that are rendered. Previews are CPU-bound jobs, rendered in
the runner's child processes (portal/jobs/children.py), and PDFs in a
capped grandchild, so the server itself holds neither the decodes nor
PDFium's memory; the bound is checked all the same, should a rendering
come back into the server."""

from __future__ import annotations

import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import pytest

from portal.documents.imaging import DECODE_BUDGET
from portal.documents.previews import RENDER_CONCURRENCY
from tests.support import bombs
from tests.support.live import LiveWorld, Server, install, installation_env
from tests.support.postgres import PostgresCluster

MIB = 1024 * 1024
BOUND = RENDER_CONCURRENCY * DECODE_BUDGET + 64 * MIB


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory, pass_cluster: PostgresCluster | None) -> Iterator[tuple[Server, LiveWorld]]:
    env = installation_env(Path(tmp_path_factory.mktemp("preview-memory")), pass_cluster)
    world = install(env)
    server = Server(env)
    server.start()
    try:
        yield server, world
    finally:
        server.stop()


def upload(server: Server, token: str, supplier: str, name: str, data: bytes, declared: str, category: str) -> dict[str, Any]:
    fields = {"attached_type": "supplier", "attached_id": supplier, "category": category, "title": name}
    response = httpx.post(
        f"{server.base}/api/v1/documents",
        data=fields,
        files={"file": (name, data, declared)},
        headers={"authorization": f"Bearer {token}"},
        timeout=120,
    )
    assert response.status_code == 201, response.text
    return response.json()  # type: ignore[no-any-return]


def preview_state(server: Server, token: str, document: str) -> str:
    response = httpx.get(f"{server.base}/api/v1/documents/{document}", headers={"authorization": f"Bearer {token}"}, timeout=30)
    assert response.status_code == 200, response.text
    return str(response.json()["current"]["preview"])


def settled(server: Server, token: str, documents: dict[str, str]) -> dict[str, str]:
    deadline = time.monotonic() + 300
    while True:
        states = {name: preview_state(server, token, document) for name, document in documents.items()}
        if "pending" not in states.values() or time.monotonic() > deadline:
            return states
        time.sleep(0.5)


def test_previews_of_bombs_and_large_images_stay_within_the_memory_bound(live: tuple[Server, LiveWorld]) -> None:
    server, world = live
    operator = server.token(world.emails["supplier_operator"], world.slug)
    admin = server.token(world.emails["admin"], world.slug)
    supplier = world.suppliers[0]
    bomb = bombs.png(10_900, 10_900)
    assert len(bomb) < 400 * 1024
    large = bombs.png(6_500, 6_500, pattern=True)  # 42 MP: rendered, within the budget
    uploads = [(operator, f"bomb-{n}.png", bomb, "image/png", "photo") for n in range(3)] + [
        (operator, f"large-{n}.png", large, "image/png", "photo") for n in range(3)
    ]
    uploads.append((admin, "inflating.pdf", bombs.pdf_with_inflating_page(512), "application/pdf", "spec"))
    before = server.peak_rss_kib() * 1024

    with ThreadPoolExecutor(max_workers=len(uploads)) as pool:
        documents = dict(
            pool.map(
                lambda item: (item[1], upload(server, item[0], supplier, *item[1:])["id"]),
                uploads,
            )
        )
    states = settled(server, admin, documents)

    assert states == {
        **{f"bomb-{n}.png": "failed" for n in range(3)},
        **{f"large-{n}.png": "ready" for n in range(3)},
        "inflating.pdf": "failed",
    }
    grown = server.peak_rss_kib() * 1024 - before
    assert grown <= BOUND, f"peak resident memory grew by {grown // MIB} MiB, over {BOUND // MIB} MiB"
    warnings = {event["version"] for event in server.events("preview_failed")}
    assert len(warnings) == 4
