"""A mixed workload against `portal serve` from separate processes (wrk),
beside the floor: a bare Litestar JSON endpoint served the same way.

    .venv/bin/python bench/load.py                       # SQLite and PostgreSQL, 1 and 2 processes, 50 and 200 clients
    .venv/bin/python bench/load.py --databases sqlite --processes 1 --clients 50 --seconds 10

Needs wrk (Debian: ``apt-get install wrk``). Runs everything itself in a
temporary folder: for each database a migrated installation with the demo
data (PostgreSQL: a throwaway cluster, the app connecting as the
unprivileged role under row-level security), then for each number of
processes `portal serve --workers N` and the floor (``bench/floor.py``,
uvicorn with the same options and workers, its list as long on the wire as
the supplier's), and for each number of clients, interleaved: a round of
the floor alone with that many connections, then a round of the mix with
the connections shared among the actions:

- supplier_list   the supplier operator's ``GET /api/v1/orders``
- supplier_open   ``GET /api/v1/orders/{id}`` of the supplier's orders in turn
- supplier_page   the supplier's HTML ``/orders`` page (session cookie)
- progress_post   a progress report (JSON) then its photo (multipart JPEG), in turn
- buyer_board     the planner's board filtered by status (``?status=in_production``)
- qa_documents    QA's document list (where QC documents wait for review)

Each action's ratio is its throughput per connection over the floor's per
connection in the round beside it. Rate limits are raised far above the
load (each client would otherwise be one caller over its budget) but still
counted, as in production. Prints figures beside the budgets of issue 17;
asserts nothing. Rounds are bounded by ``--seconds``.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.cpu import cpu_between, cpu_of, postmaster, tree  # noqa: E402
from bench.page_weight import _open_lines, prepared  # noqa: E402
from bench.uploads import DEMO_PASSWORD, environment  # noqa: E402
from tests.support.ports import free_port  # noqa: E402
from tests.support.postgres import PostgresCluster  # noqa: E402

SHARES = {"supplier_list": 25, "supplier_open": 20, "supplier_page": 10, "progress_post": 10, "buyer_board": 20, "qa_documents": 15}
LIST_RATIO_BUDGET = 0.30
PAGE_RATIO_BUDGET = 0.20
P95_BUDGET_MS = 100.0
SCALING_BUDGET = 1.6
RSS_BUDGET_MB = 150.0
# Far above the load, but counted as in production.
RATE_LIMITS = "api=10000000/60,signin=100000/60"
CSRF_FIELD = re.compile(r'name="_csrf_token" value="([^"]+)"')

LUA = r"""
local tokens = {TOKENS}
local paths = {PATHS}
local lines = {LINES}
local cookie = "{COOKIE}"
local stage = "{STAGE}"
local photo_path = "{PHOTO}"
local counter = 0
local threads = 0

setup = function(thread)
  threads = threads + 1
  thread:set("token", tokens[(threads % #tokens) + 1])
  thread:set("seed", threads)
end

local photo, pending, expecting

init = function(args)
  math.randomseed(os.time() * 1000 + seed)
  if photo_path ~= "" then
    local f = io.open(photo_path, "rb"); photo = f:read("*a"); f:close()
  end
end

local function hex(n) local s = "" for i = 1, n do s = s .. string.format("%x", math.random(0, 15)) end return s end
local function uuid() return hex(8) .. "-" .. hex(4) .. "-4" .. hex(3) .. "-a" .. hex(3) .. "-" .. hex(12) end

request = function()
  counter = counter + 1
  local headers = {}
  if token ~= "" then headers["Authorization"] = "Bearer " .. token end
  if cookie ~= "" then headers["Cookie"] = "portal_session=" .. cookie end
  if #lines == 0 then
    return wrk.format("GET", paths[(counter % #paths) + 1], headers)
  end
  if pending then
    local boundary = "benchboundary" .. hex(8)
    headers["Content-Type"] = "multipart/form-data; boundary=" .. boundary
    local body = "--" .. boundary .. "\r\nContent-Disposition: form-data; name=\"file\"; filename=\"photo.jpg\"\r\n"
      .. "Content-Type: image/jpeg\r\n\r\n" .. photo .. "\r\n--" .. boundary .. "--\r\n"
    local path = "/api/v1/progress-reports/" .. pending .. "/photos"
    pending, expecting = nil, false
    return wrk.format("POST", path, headers, body)
  end
  headers["Content-Type"] = "application/json"
  expecting = true
  local body = string.format('{"client_id":"%s","order_line_id":"%s","stage":"%s","good_quantity":"0.001","photos_expected":1}',
    uuid(), lines[(counter % #lines) + 1], stage)
  return wrk.format("POST", "/api/v1/progress-reports", headers, body)
end

if #lines > 0 then
  response = function(status, headers, body)
    if expecting and status == 201 then pending = body:match('"id":"([%x%-]+)"') end
    expecting = false
  end
end

done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format("RESULT %d %d %d %d %d %d %d\n", summary.requests, summary.duration,
    latency:percentile(50), latency:percentile(95), latency:percentile(99), e.connect + e.read + e.write + e.timeout, e.status))
end
"""


@dataclass
class Figure:
    requests: int = 0
    seconds: float = 0.0
    p50: list[float] = field(default_factory=list)
    p95: list[float] = field(default_factory=list)
    p99: list[float] = field(default_factory=list)
    errors: int = 0
    connections: int = 0
    # CPU seconds while the round ran (mix: all actions together): the
    # serving processes, their job children (previews), the database server.
    app_cpu: float = 0.0
    child_cpu: float = 0.0
    db_cpu: float = 0.0

    @property
    def rate(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0

    def add(self, line: str, connections: int) -> None:
        requests, duration, p50, p95, p99, errors, status = (int(part) for part in line.split()[1:])
        self.requests += requests
        self.seconds += duration / 1e6
        self.p50.append(p50 / 1000)
        self.p95.append(p95 / 1000)
        self.p99.append(p99 / 1000)
        self.errors += errors + status
        self.connections = connections


def lua_list(values: list[str]) -> str:
    return "{" + ",".join(json.dumps(value) for value in values) + "}"


def script(
    folder: Path,
    name: str,
    *,
    tokens: list[str],
    paths: list[str],
    lines: tuple[str, ...] = (),
    cookie: str = "",
    stage: str = "",
    photo: str = "",
) -> Path:
    text = (
        LUA.replace("{TOKENS}", lua_list(tokens or [""]))
        .replace("{PATHS}", lua_list(paths or ["/"]))
        .replace("{LINES}", lua_list(list(lines)))
        .replace("{COOKIE}", cookie)
        .replace("{STAGE}", stage)
        .replace("{PHOTO}", photo)
    )
    path = folder / f"{name}.lua"
    path.write_text(text)
    return path


def wrk(base: str, lua: Path, connections: int, seconds: int, *, one_per_thread: bool = False) -> subprocess.Popen[str]:
    threads = connections if one_per_thread else min(connections, 2)
    command = ["wrk", f"-t{threads}", f"-c{connections}", f"-d{seconds}s", "--timeout", "30s", "-s", str(lua), base]
    return subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def result_of(process: subprocess.Popen[str]) -> str:
    output, _ = process.communicate()
    found = [line for line in output.splitlines() if line.startswith("RESULT ")]
    if not found:
        raise RuntimeError(output)
    return found[-1]


@contextmanager
def served(command: list[str], env: dict[str, str], health: str) -> Iterator[subprocess.Popen[bytes]]:
    process = subprocess.Popen(command, env=env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        # A loaded machine can take a minute to start several workers.
        deadline = time.monotonic() + 180
        while True:
            try:
                if httpx.get(health, timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline or process.poll() is not None:
                raise RuntimeError(f"{command} did not start")
            time.sleep(0.3)
        yield process
    finally:
        process.terminate()
        process.wait(timeout=30)


def _children(pid: int) -> list[int]:
    return [int(child) for child in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]


def _rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def serving_processes(process: subprocess.Popen[bytes], processes: int) -> tuple[list[int], list[int]]:
    """The serving processes (uvicorn's workers when there are several,
    else the one process), and the job runner's child processes below them
    (previews render there, portal/jobs/children.py)."""
    servers = _children(process.pid) if processes > 1 else [process.pid]
    return servers, [child for server in servers for child in tree(server)[1:]]


def resident_mb(process: subprocess.Popen[bytes], processes: int) -> tuple[list[float], list[float]]:
    """Resident memory of the serving processes and of their children."""
    servers, helpers = serving_processes(process, processes)
    return [_rss_mb(pid) for pid in servers], [_rss_mb(pid) for pid in helpers]


def sign_in(base: str, credentials: list[dict[str, Any]], role: str, supplier: bool | None = None) -> dict[str, str]:
    account = next(row for row in credentials if row["role"] == role and row["tenant"] == "acme")
    body = {"email": account["email"], "password": DEMO_PASSWORD, "tenant": "acme"}
    token = httpx.post(f"{base}/api/v1/auth/token", json=body, timeout=60).json()["access_token"]
    return {"email": account["email"], "token": token}


def page_cookie(base: str, email: str) -> str:
    with httpx.Client(base_url=base, timeout=60) as browser:
        csrf = CSRF_FIELD.search(browser.get("/login").text)
        assert csrf
        answer = browser.post("/login", data={"email": email, "password": DEMO_PASSWORD, "tenant": "acme", "_csrf_token": csrf.group(1)})
        assert answer.status_code == 303, answer.text
        return str(browser.cookies["portal_session"])


def jpeg(path: Path) -> str:
    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (640, 480), (120, 130, 140)).save(buffer, "JPEG", quality=80)
    path.write_bytes(buffer.getvalue())
    return str(path)


def shares(clients: int) -> dict[str, int]:
    counts = {name: max(1, clients * share // 100) for name, share in SHARES.items()}
    counts["supplier_list"] += clients - sum(counts.values())
    return counts


def scripts(base: str, folder: Path, env: dict[str, str]) -> tuple[dict[str, Path], int]:
    """One wrk script per action, from the demo data; and the byte size of
    the supplier's order list, for the floor."""
    import asyncio

    listed = subprocess.run([sys.executable, "-m", "portal", "demo", "--credentials"], env=env, cwd=ROOT, capture_output=True, text=True)
    credentials = json.loads(listed.stdout)
    operator = sign_in(base, credentials, "supplier_operator")
    planner = sign_in(base, credentials, "planner")
    qa = sign_in(base, credentials, "qa")
    auth = {"authorization": f"Bearer {operator['token']}"}
    board = httpx.get(f"{base}/api/v1/orders", headers=auth, timeout=60)
    orders = [f"/api/v1/orders/{row['id']}" for row in board.json()["items"]]
    stage = httpx.get(f"{base}/api/v1/progress-stages", headers=auth, timeout=60).json()["items"][1]["code"]

    async def lines() -> list[str]:
        async with httpx.AsyncClient(base_url=base, timeout=60) as client:
            return await _open_lines(client, auth)

    photo = jpeg(folder / "photo.jpg")
    made = {
        "supplier_list": script(folder, "supplier_list", tokens=[operator["token"]], paths=["/api/v1/orders"]),
        "supplier_open": script(folder, "supplier_open", tokens=[operator["token"]], paths=orders),
        "supplier_page": script(folder, "supplier_page", tokens=[], paths=["/orders"], cookie=page_cookie(base, operator["email"])),
        "progress_post": script(
            folder, "progress_post", tokens=[operator["token"]], paths=[], lines=tuple(asyncio.run(lines())), stage=stage, photo=photo
        ),
        "buyer_board": script(folder, "buyer_board", tokens=[planner["token"]], paths=["/api/v1/orders?status=in_production"]),
        "qa_documents": script(folder, "qa_documents", tokens=[qa["token"]], paths=["/api/v1/documents"]),
    }
    return made, len(board.content)


def run_configuration(
    env: dict[str, str], workdir: Path, processes: int, clients: list[int], seconds: int, rounds: int, database_pid: int | None = None
) -> dict[str, Any]:
    port, floor_port = free_port(), free_port()
    base, floor_base = f"http://127.0.0.1:{port}", f"http://127.0.0.1:{floor_port}"
    folder = Path(tempfile.mkdtemp(dir=workdir, prefix="wrk-"))
    serve = [sys.executable, "-m", "portal", "serve", "--port", str(port), "--workers", str(processes)]
    results: dict[str, Any] = {}
    with served(serve, env, f"{base}/health") as server:
        made, size = scripts(base, folder, env)
        floor = [sys.executable, "-m", "uvicorn", "bench.floor:create_app", "--factory", "--port", str(floor_port)]
        floor += ["--workers", str(processes), "--no-access-log", "--proxy-headers", "--log-level", "warning"]
        floor_lua = script(folder, "floor", tokens=[], paths=["/floor"])
        with served(floor, {**env, "FLOOR_BYTES": str(size)}, f"{floor_base}/floor") as floor_server:
            for count in clients:
                figures: dict[str, Figure] = {"floor": Figure(), "mix": Figure(), **{name: Figure() for name in SHARES}}
                for _ in range(rounds):
                    before = cpu_of(tree(floor_server.pid))
                    figures["floor"].add(result_of(wrk(floor_base, floor_lua, count, seconds)), count)
                    figures["floor"].app_cpu += cpu_between(before, cpu_of(tree(floor_server.pid)))
                    database = tree(database_pid) if database_pid else []
                    before, before_db = cpu_of(tree(server.pid)), cpu_of(database)
                    started = {
                        name: (wrk(base, made[name], connections, seconds, one_per_thread=name == "progress_post"), connections)
                        for name, connections in shares(count).items()
                    }
                    for name, (process, connections) in started.items():
                        figures[name].add(result_of(process), connections)
                    servers, helpers = serving_processes(server, processes)
                    figures["mix"].app_cpu += cpu_between(before, cpu_of([server.pid, *servers]))
                    figures["mix"].child_cpu += cpu_between(before, cpu_of(helpers))
                    figures["mix"].db_cpu += cpu_between(before_db, cpu_of(tree(database_pid) if database_pid else []))
                results[count] = figures
        results["rss"], results["child_rss"] = resident_mb(server, processes)
    return results


def show(database: str, processes: int, results: dict[str, Any]) -> float:
    """Prints one configuration; returns the mix's total throughput at the largest client count."""
    total = 0.0
    for count, figures in results.items():
        if count in ("rss", "child_rss"):
            continue
        floor = figures["floor"]
        per_connection = floor.rate / floor.connections
        print(f"\n{database}, {processes} process(es), {count} clients: floor {floor.rate:,.0f} req/s ({count} connections)")
        print(f"  {'action':15} {'conns':>5} {'req/s':>8} {'p50 ms':>7} {'p95 ms':>7} {'p99 ms':>7} {'errors':>6} {'ratio':>6}  budget")
        total = 0.0
        for name in SHARES:
            figure = figures[name]
            total += figure.rate
            ratio = (figure.rate / figure.connections) / per_connection if per_connection else 0.0
            budget = []
            if name == "supplier_list":
                budget.append(f"ratio >= {LIST_RATIO_BUDGET:.2f}")
            if name == "supplier_page":
                budget.append(f"ratio >= {PAGE_RATIO_BUDGET:.2f}")
            if count <= 50:
                budget.append(f"p95 < {P95_BUDGET_MS:.0f} ms")
            if count >= 200:
                budget.append("0 errors")
            p50, p95, p99 = (statistics.median(values) for values in (figure.p50, figure.p95, figure.p99))
            print(
                f"  {name:15} {figure.connections:>5} {figure.rate:>8,.0f} {p50:>7.1f} {p95:>7.1f} {p99:>7.1f}"
                f" {figure.errors:>6} {ratio:>6.3f}  {', '.join(budget)}"
            )
        print(f"  {'mix total':15} {count:>5} {total:>8,.0f}")
        # CPU per request: unlike the times, hardly moved by other work on a shared machine.
        served_requests = sum(figures[name].requests for name in SHARES)
        floor_ms = 1000 * floor.app_cpu / floor.requests if floor.requests else 0.0
        app_ms, child_ms, db_ms = (
            1000 * seconds / served_requests if served_requests else 0.0
            for seconds in (figures["mix"].app_cpu, figures["mix"].child_cpu, figures["mix"].db_cpu)
        )
        database_part = f", database server {db_ms:.2f} ms" if figures["mix"].db_cpu else ""
        print(
            f"  CPU per request of the mix: serving {app_ms:.2f} ms, job children {child_ms:.2f} ms{database_part}; floor {floor_ms:.3f} ms"
        )
    sizes = ", ".join(f"{size:.0f} MB" for size in results["rss"])
    print(f"  resident memory after the run: {sizes} (budget < {RSS_BUDGET_MB:.0f} MB each)")
    helpers = ", ".join(f"{size:.0f} MB" for size in results["child_rss"]) or "none"
    print(f"  their child processes (job children for previews, multiprocessing's tracker): {helpers}")
    return total


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--databases", default="sqlite,postgresql")
    parser.add_argument("--processes", default="1,2")
    parser.add_argument("--clients", default="50,200")
    parser.add_argument("--seconds", type=int, default=10, help="length of each round (default 10)")
    parser.add_argument("--rounds", type=int, default=1, help="floor-then-mix rounds per client count (default 1)")
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        sys.exit("bench/load.py needs wrk: apt-get install wrk")
    clients = [int(value) for value in args.clients.split(",")]
    workdir = Path(tempfile.mkdtemp(prefix="portal-load-"))
    # The machine may be shared: figures mean something beside the floor of the same round.
    print("load average (1, 5, 15 min) at the start: " + ", ".join(f"{value:.1f}" for value in os.getloadavg()))
    cluster = None
    try:
        for database in args.databases.split(","):
            env = {**environment(workdir / database), "PORTAL_RATE_LIMITS": RATE_LIMITS, "PORTAL_ENV": "production"}
            if database == "postgresql":
                cluster = PostgresCluster.start()
                env.update(PORTAL_DATABASE_URL=cluster.app_url, PORTAL_MIGRATION_DATABASE_URL=cluster.owner_url)
            prepared(env)
            totals = {}
            for processes in (int(value) for value in args.processes.split(",")):
                try:
                    results = run_configuration(env, workdir, processes, clients, args.seconds, args.rounds, postmaster(cluster))
                except RuntimeError as failed:
                    print(f"\n{database}, {processes} process(es): not measured: {failed}")
                    continue
                totals[processes] = show(database, processes, results)
                print("  load average (1, 5, 15 min) after it: " + ", ".join(f"{value:.1f}" for value in os.getloadavg()))
            if 1 in totals and 2 in totals and totals[1]:
                print(f"\n{database}: 2 processes serve {totals[2] / totals[1]:.2f}x of 1 (budget >= {SCALING_BUDGET}x)")
            if cluster is not None:
                cluster.stop()
                cluster = None
    finally:
        if cluster is not None:
            cluster.stop()
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
