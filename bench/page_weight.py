"""What the supplier's phone downloads, and how fast progress reports are
taken under load.

    .venv/bin/python bench/page_weight.py [--reporters 20] [--reports 10]

Runs everything itself in a temporary folder (a migrated database with
the demo data, one `portal serve`; SQLite, then a throwaway PostgreSQL
cluster for the POST figures), then:

1. first load of the supplier's order list (/progress) in Debian's Chromium
   at 360 x 740, with an empty cache: bytes transferred (compressed, as
   Chromium counts them: headers and bodies) and requests, everything the
   page pulls in (HTML, CSS, scripts, icons, the manifest);
2. an htmx navigation from there (a tap in the bottom bar): the same figures;
3. a progress report with one photo (the report's POST, then the photo's
   multipart POST, as the phone sends them) under ``--reporters``
   concurrent reporters (each sends ``--reports`` reports one after
   another, through the JSON API): p50 and p95 of the time to both
   answers, measured at the client on this machine's loopback; beside it
   the floor of the same run: as many concurrent bare inserts, each in its
   own writing transaction, through the engine the app uses.

Prints each figure beside its budget (docs/performance.md); asserts nothing.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any
from uuid import uuid4

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.cpu import cpu_between, cpu_of, postmaster, tree  # noqa: E402
from bench.uploads import DEMO_PASSWORD, environment, serve  # noqa: E402
from tests.support.documents import samples  # noqa: E402
from tests.support.postgres import PostgresCluster  # noqa: E402

FIRST_LOAD_BUDGET = 100 * 1024
NAVIGATION_BUDGET = 15 * 1024
# Not set by the issue: ours, so that a slow report shows up.
REPORT_P95_BUDGET_MS = 300.0
OPERATOR = "operator@precision.example"
# A phone photo after the page's compression: 1280 x 960.
PHOTO = samples.jpeg(1280, 960)
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--no-first-run"]


class Transfers:
    """Bytes and requests of one page, from the DevTools protocol."""

    def __init__(self, cdp: Any) -> None:
        self.urls: dict[str, str] = {}
        self.bytes: dict[str, int] = {}
        cdp.on("Network.requestWillBeSent", lambda event: self.urls.__setitem__(event["requestId"], event["request"]["url"]))
        cdp.on("Network.loadingFinished", lambda event: self.bytes.__setitem__(event["requestId"], int(event["encodedDataLength"])))

    def reset(self) -> None:
        self.urls.clear()
        self.bytes.clear()

    def summary(self) -> tuple[int, int, list[tuple[str, int]]]:
        rows = sorted(((self.urls.get(key, "?"), size) for key, size in self.bytes.items()), key=lambda row: -row[1])
        return sum(self.bytes.values()), len(self.bytes), rows


def measure_pages(base: str) -> tuple[tuple[int, int, list[tuple[str, int]]], tuple[int, int, list[tuple[str, int]]]]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS, headless=True)
        context = browser.new_context(base_url=base, viewport={"width": 360, "height": 740}, is_mobile=True, has_touch=True, locale="zh-CN")
        page = context.new_page()
        page.goto("/login")
        page.fill("#f-email", OPERATOR)
        page.fill("#f-password", DEMO_PASSWORD)
        page.click("button[type=submit]")
        page.wait_for_load_state("networkidle")
        cdp = context.new_cdp_session(page)
        cdp.send("Network.enable")
        # Signed in, but nothing of the app kept: the first visit of the day
        # on a phone that cleared its cache.
        cdp.send("Network.clearBrowserCache")
        cdp.send("Storage.clearDataForOrigin", {"origin": base, "storageTypes": "cache_storage,service_workers,indexeddb"})
        transfers = Transfers(cdp)
        page.goto("/progress")
        page.wait_for_load_state("networkidle")
        first = transfers.summary()
        transfers.reset()
        page.click("nav.appnav a[href='/']")
        page.wait_for_function("() => location.pathname === '/'")
        page.wait_for_load_state("networkidle")
        navigation = transfers.summary()
        browser.close()
    return first, navigation


async def report_latencies(base: str, reporters: int, reports: int) -> list[float]:
    async with httpx.AsyncClient(base_url=base, timeout=60) as client:
        login = {"email": OPERATOR, "password": DEMO_PASSWORD, "tenant": "acme"}
        token = (await client.post("/api/v1/auth/token", json=login)).json()["access_token"]
        headers = {"authorization": f"Bearer {token}"}
        work = (await client.get("/api/v1/progress-stages", headers=headers)).json()["items"]
        stage = work[1]["code"]
        lines = await _open_lines(client, headers)
        latencies: list[float] = []

        async def reporter(index: int) -> None:
            for number in range(reports):
                line = lines[(index + number) % len(lines)]
                body = {
                    "client_id": str(uuid4()),
                    "order_line_id": line,
                    "stage": stage,
                    "good_quantity": "0.001",
                    "note": f"bench {index}",
                    "photos_expected": 1,
                }
                # A report as the phone sends it: the report, then its photo.
                started = time.perf_counter()
                answer = await client.post("/api/v1/progress-reports", json=body, headers=headers)
                if answer.status_code != 201:
                    raise RuntimeError(answer.text)
                files = {"file": ("photo.jpg", PHOTO, "image/jpeg")}
                stored = await client.post(f"/api/v1/progress-reports/{answer.json()['id']}/photos", files=files, headers=headers)
                latencies.append((time.perf_counter() - started) * 1000)
                if stored.status_code != 201:
                    raise RuntimeError(stored.text)

        await asyncio.gather(*(reporter(index) for index in range(reporters)))
        return latencies


async def floor_latencies(env: dict[str, str], reporters: int, reports: int) -> list[float]:
    """The floor of the report POST: ``reporters`` concurrent tasks each
    inserting ``reports`` rows one after another, each in its own writing
    transaction, through the engine the app uses on the same database
    (the owner's connection: the app role may not create the scratch
    table). No HTTP, no rules, no photo."""
    from piccolo.querystring import QueryString

    from portal.db import create_engine, open_transaction, start_engine, stop_engine
    from portal.settings import Settings

    engine: Any = create_engine(Settings.from_env(env), role="owner")
    await start_engine(engine)
    try:
        await engine._run_in_new_connection("CREATE TABLE IF NOT EXISTS bench_floor (id varchar(36) PRIMARY KEY, note text)")
        latencies: list[float] = []

        async def reporter(index: int) -> None:
            for _ in range(reports):
                started = time.perf_counter()
                async with open_transaction(engine, writes=True):
                    await engine.run_querystring(
                        QueryString("INSERT INTO bench_floor (id, note) VALUES ({}, {})", str(uuid4()), f"b{index}")
                    )
                latencies.append((time.perf_counter() - started) * 1000)

        await asyncio.gather(*(reporter(index) for index in range(reporters)))
        return latencies
    finally:
        await stop_engine(engine)


async def _open_lines(client: httpx.AsyncClient, headers: dict[str, str]) -> list[str]:
    lines: list[str] = []
    for status in ("accepted", "in_production", "partially_delivered"):
        board = (await client.get("/api/v1/orders", params={"status": status}, headers=headers)).json()
        for summary in board["items"]:
            order = (await client.get(f"/api/v1/orders/{summary['id']}", headers=headers)).json()
            lines += [line["id"] for line in order["lines"] if not line["removed"] and float(line["open_quantity"]) > 0]
    if not lines:
        raise RuntimeError("the demo data has no open order line for the operator's supplier")
    return lines


def warmed_up(base: str, pid: int) -> None:
    """Send two reports uncounted and wait until the app's processes are
    idle: the first photos start the preview children (a fresh interpreter
    each, importing the app), a cost of the process's first minute that
    the earlier runs counted into the reports' CPU."""
    asyncio.run(report_latencies(base, 2, 1))
    deadline = time.monotonic() + 120
    before = cpu_of(tree(pid))
    while time.monotonic() < deadline:
        time.sleep(1.0)
        now = cpu_of(tree(pid))
        if cpu_between(before, now) < 0.05:
            return
        before = now


def measured(base: str, pid: int, reporters: int, reports: int) -> tuple[list[float], float, float]:
    """Latencies, then the CPU seconds the serving process and its job
    children (the previews) used while the reports were sent."""
    warmed_up(base, pid)
    before = cpu_of(tree(pid))
    latencies = asyncio.run(report_latencies(base, reporters, reports))
    after = cpu_of(tree(pid))
    serving = after.get(pid, 0.0) - before.get(pid, 0.0)
    return latencies, serving, cpu_between(before, after) - serving


def kb(size: int) -> str:
    return f"{size / 1024:.1f} KB"


def prepared(env: dict[str, str]) -> dict[str, str]:
    for step in (("migrate",), ("demo",)):
        subprocess.run([sys.executable, "-m", "portal", *step], env=env, cwd=ROOT, check=True, capture_output=True)
    return env


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--reporters", type=int, default=20, help="concurrent reporters (default 20)")
    parser.add_argument("--reports", type=int, default=10, help="reports each reporter sends (default 10)")
    args = parser.parse_args()
    workdir = Path(tempfile.mkdtemp(prefix="portal-bench-"))
    latencies: dict[str, list[float]] = {}
    floors: dict[str, list[float]] = {}
    # CPU seconds while the reports were sent: the serving process, its job
    # children (rendering the previews), the database server.
    cpu: dict[str, tuple[float, float, float]] = {}
    cluster = PostgresCluster.start()
    try:
        sqlite = prepared(environment(workdir / "sqlite"))
        with serve(sqlite) as server:
            first, navigation = measure_pages(server.base)
            latencies["SQLite"], serving, children = measured(server.base, server.process.pid, args.reporters, args.reports)
            cpu["SQLite"] = (serving, children, 0.0)
            floors["SQLite"] = asyncio.run(floor_latencies(sqlite, args.reporters, args.reports))
        postgres = {
            **environment(workdir / "postgres"),
            "PORTAL_DATABASE_URL": cluster.app_url,
            "PORTAL_MIGRATION_DATABASE_URL": cluster.owner_url,
        }
        with serve(prepared(postgres)) as server:
            warmed_up(server.base, server.process.pid)
            before_db = cpu_of(tree(postmaster(cluster) or 0))
            latencies["PostgreSQL"], serving, children = measured(server.base, server.process.pid, args.reporters, args.reports)
            cpu["PostgreSQL"] = (serving, children, cpu_between(before_db, cpu_of(tree(postmaster(cluster) or 0))))
            floors["PostgreSQL"] = asyncio.run(floor_latencies(postgres, args.reporters, args.reports))
    finally:
        cluster.stop()
        shutil.rmtree(workdir, ignore_errors=True)

    print("\nsupplier's phone, Chromium at 360 x 740, bytes as transferred (compressed)")
    print(f"{'':34} {'transferred':>12} {'requests':>9} {'budget':>10}")
    print(f"{'first load of /progress':34} {kb(first[0]):>12} {first[1]:>9} {'< ' + kb(FIRST_LOAD_BUDGET):>10}")
    print(f"{'htmx navigation to the home page':34} {kb(navigation[0]):>12} {navigation[1]:>9} {'< ' + kb(NAVIGATION_BUDGET):>10}")
    print("\nfirst load, by request:")
    for url, size in first[2]:
        print(f"  {kb(size):>9}  {url}")
    print(
        f"\nprogress report with one photo (two POSTs), {args.reporters} concurrent reporters x {args.reports} reports each, this machine:"
    )
    for database, values in latencies.items():
        quantiles = statistics.quantiles(values, n=100)
        floor = statistics.quantiles(floors[database], n=100)
        print(
            f"  {database:11} p50 {quantiles[49]:5.0f} ms   p95 {quantiles[94]:5.0f} ms"
            f"   (budget p95 < {REPORT_P95_BUDGET_MS:.0f} ms)   {len(values)} reports"
            f"   floor (bare insert, same engine) p50 {floor[49]:5.1f} ms  p95 {floor[94]:5.1f} ms"
        )
        serving, children, database_cpu = cpu[database]
        database_part = f", database server {1000 * database_cpu / len(values):.1f} ms" if database_cpu else ""
        print(
            f"  {'':11} CPU per report with its photo: serving process {1000 * serving / len(values):.1f} ms,"
            f" preview children {1000 * children / len(values):.1f} ms{database_part}"
        )
    print(f"\nload average (1 min) at the end: {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")


if __name__ == "__main__":
    main()
