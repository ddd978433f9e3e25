"""Where one kind of request spends the serving process's CPU: the app run
in this process (as ``portal serve`` builds it, ``PORTAL_ENV=production``,
SQLite or PostgreSQL with the demo data), one action sent ``--requests``
times one after another through httpx's ASGI transport, then the CPU per
request (process time, client included; on PostgreSQL also the server's)
and, with ``--profile``, cProfile's top functions, on stderr (stdout
carries the app's request log, as a server's would).

    .venv/bin/python bench/request_profile.py >/dev/null               # every action, CPU per request
    .venv/bin/python bench/request_profile.py --actions supplier_page --profile 25 >/dev/null
    .venv/bin/python bench/request_profile.py --database postgresql --trace >/dev/null   # + each action's round trips

On PostgreSQL a throwaway cluster is made (tests/support/postgres.py) and
the app connects as the unprivileged role, row-level security on;
``--trace`` prints every round trip one more request of each action makes
to the database (tests/support/round_trips.py), after the warm-up.

The actions are bench/load.py's reads: ``supplier_list`` (the supplier
operator's ``GET /api/v1/orders``), ``supplier_open`` (its orders opened in
turn), ``supplier_page`` (its HTML ``/orders``), ``buyer_board`` (the
planner's board filtered by status), ``qa_documents`` (QA's
``GET /api/v1/documents``), ``progress_post`` (a progress report, then
its photo: two requests per call, the preview rendered by a job child
whose CPU is not counted), and two supplier pages whose rows each name
a record the supplier must still read: ``supplier_documents`` (the
supplier admin's HTML ``/documents``) and ``supplier_notifications`` (its
``/notifications``, with the unread badge every page carries). With
``--statements`` the SQL statements of one request of each action are
counted too (tests/support/plans.py). One process and no concurrency: the figures
are the code's own cost, which a shared machine moves far less than a
load run's latencies; cProfile's overhead inflates the profiled run, so
its CPU figure is not the one to quote. The database's work runs in
aiosqlite's thread and is not in the profile (nor in the CPU figure's
share of it that overlaps). Resident memory is printed after
``create_app`` and after the run.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import io
import json
import logging
import os
import pstats
import re
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.cpu import cpu_between, cpu_of, postmaster, tree  # noqa: E402
from bench.page_weight import _open_lines  # noqa: E402
from bench.uploads import DEMO_PASSWORD, environment  # noqa: E402
from tests.support.postgres import PostgresCluster  # noqa: E402
from tests.support.round_trips import recorded_round_trips  # noqa: E402

ACTIONS = (
    "supplier_list",
    "supplier_open",
    "supplier_page",
    "buyer_board",
    "qa_documents",
    "progress_post",
    "supplier_documents",
    "supplier_notifications",
)
CSRF_FIELD = re.compile(r'name="_csrf_token" value="([^"]+)"')


def resident_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


async def token(client: httpx.AsyncClient, email: str) -> dict[str, str]:
    answer = await client.post("/api/v1/auth/token", json={"email": email, "password": DEMO_PASSWORD, "tenant": "acme"})
    return {"authorization": f"Bearer {answer.json()['access_token']}"}


async def cookie(client: httpx.AsyncClient, email: str) -> dict[str, str]:
    csrf = CSRF_FIELD.search((await client.get("/login")).text)
    assert csrf
    data = {"email": email, "password": DEMO_PASSWORD, "tenant": "acme", "_csrf_token": csrf.group(1)}
    answer = await client.post("/login", data=data)
    assert answer.status_code == 303, answer.text
    session = answer.cookies["portal_session"]
    client.cookies.clear()
    return {"cookie": f"portal_session={session}"}


# One call of an action: its request(s), the answer checked.
Call = Callable[[httpx.AsyncClient, int], Awaitable[None]]


def gets(calls: list[tuple[str, dict[str, str]]]) -> Call:
    async def one(client: httpx.AsyncClient, index: int) -> None:
        path, headers = calls[index % len(calls)]
        answer = await client.get(path, headers=headers)
        assert answer.status_code == 200, (path, answer.status_code, answer.text[:200])

    return one


def reports(lines: list[str], stage: str, headers: dict[str, str], photo: bytes) -> Call:
    """bench/load.py's progress action: a report, then its photo (two requests)."""

    async def one(client: httpx.AsyncClient, index: int) -> None:
        body = {"client_id": str(uuid.uuid4()), "order_line_id": lines[index % len(lines)], "stage": stage}
        answer = await client.post(
            "/api/v1/progress-reports", json={**body, "good_quantity": "0.001", "photos_expected": 1}, headers=headers
        )
        assert answer.status_code == 201, answer.text[:200]
        path = f"/api/v1/progress-reports/{answer.json()['id']}/photos"
        answer = await client.post(path, files={"file": ("photo.jpg", photo, "image/jpeg")}, headers=headers)
        assert answer.status_code in (200, 201), answer.text[:200]

    return one


def jpeg() -> bytes:
    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (640, 480), (120, 130, 140)).save(buffer, "JPEG", quality=80)
    return buffer.getvalue()


async def requests_of(client: httpx.AsyncClient, credentials: list[dict[str, Any]]) -> dict[str, Call]:
    def email(role: str) -> str:
        return str(next(row for row in credentials if row["role"] == role and row["tenant"] == "acme")["email"])

    operator = await token(client, email("supplier_operator"))
    orders = (await client.get("/api/v1/orders", headers=operator)).json()["items"]
    page = await cookie(client, email("supplier_operator"))
    boss = await cookie(client, email("supplier_admin"))
    stage = (await client.get("/api/v1/progress-stages", headers=operator)).json()["items"][1]["code"]
    return {
        "supplier_list": gets([("/api/v1/orders", operator)]),
        "supplier_open": gets([(f"/api/v1/orders/{row['id']}", operator) for row in orders]),
        "supplier_page": gets([("/orders", page)]),
        "buyer_board": gets([("/api/v1/orders?status=in_production", await token(client, email("planner")))]),
        "qa_documents": gets([("/api/v1/documents", await token(client, email("qa")))]),
        "progress_post": reports(await _open_lines(client, operator), stage, operator, jpeg()),
        "supplier_documents": gets([("/documents", boss)]),
        "supplier_notifications": gets([("/notifications", boss)]),
    }


async def run(
    actions: list[str],
    count: int,
    top: int,
    save: str | None,
    credentials: list[dict[str, Any]],
    *,
    server: int | None,
    trace: bool,
    statements: bool,
) -> None:
    from portal.asgi import create_app

    app = create_app()
    # The client's own log line per request is not the server's cost.
    logging.getLogger("httpx").setLevel(logging.WARNING)
    print(f"resident memory after create_app: {resident_mb():.0f} MB", file=sys.stderr)
    async with app.lifespan():
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1") as client:
            made = await requests_of(client, credentials)
            for action in actions:
                call = made[action]

                async def send(n: int, call: Call = call) -> None:
                    for index in range(n):
                        await call(client, index)

                await send(20)  # warm: templates compiled, statements prepared
                if trace:
                    with recorded_round_trips() as trips:
                        await send(1)
                    print(f"{action}: {len(trips)} round trips", file=sys.stderr)
                    for trip in trips:
                        print(f"  {trip}"[:240], file=sys.stderr)
                if statements:
                    from tests.support.plans import recorded_statements

                    with recorded_statements() as ran:
                        await send(1)
                    print(f"{action:15} {len(ran)} SQL statements per request", file=sys.stderr)
                database_before = cpu_of(tree(server)) if server else {}
                started = time.process_time()
                await send(count)
                cpu_ms = 1000 * (time.process_time() - started) / count
                database = f", database server {1000 * cpu_between(database_before, cpu_of(tree(server))) / count:.2f} ms" if server else ""
                print(f"{action:15} {count} requests: {cpu_ms:.2f} ms CPU per request{database}", file=sys.stderr)
                if top:
                    profile = cProfile.Profile()
                    profile.enable()
                    await send(count)
                    profile.disable()
                    out = io.StringIO()
                    stats = pstats.Stats(profile, stream=out)
                    stats.sort_stats("cumulative").print_stats(top)
                    if save:
                        stats.dump_stats(f"{save}.{action}")
                    print(out.getvalue(), file=sys.stderr)
    print(f"resident memory after the run: {resident_mb():.0f} MB", file=sys.stderr)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--actions", default=",".join(ACTIONS))
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--profile", type=int, default=0, metavar="N", help="print cProfile's top N functions (cumulative)")
    parser.add_argument("--save", metavar="PREFIX", help="with --profile: also write each profile to PREFIX.<action> (pstats)")
    parser.add_argument("--var", help="an installation folder to reuse (made and loaded with the demo when empty; SQLite)")
    parser.add_argument("--database", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument("--trace", action="store_true", help="print the round trips to the database of one request of each action")
    parser.add_argument("--statements", action="store_true", help="also count the SQL statements of one request of each action")
    args = parser.parse_args()
    var = Path(args.var) if args.var else Path(tempfile.mkdtemp(prefix="portal-profile-")) / "var"
    env = environment(var, PORTAL_ENV="production", PORTAL_RATE_LIMITS="api=10000000/60,signin=100000/60")
    cluster = PostgresCluster.start() if args.database == "postgresql" else None
    try:
        if cluster is not None:
            env.update(PORTAL_DATABASE_URL=cluster.app_url, PORTAL_MIGRATION_DATABASE_URL=cluster.owner_url)
        if cluster is not None or not (var / "portal.db").exists():
            for step in (("migrate",), ("demo",)):
                subprocess.run([sys.executable, "-m", "portal", *step], env=env, cwd=ROOT, check=True, capture_output=True)
        os.environ.clear()
        os.environ.update(env)
        listed = subprocess.run(
            [sys.executable, "-m", "portal", "demo", "--credentials"], cwd=ROOT, capture_output=True, text=True, check=True
        )
        server = postmaster(cluster)
        actions = [name.strip() for name in args.actions.split(",")]
        asyncio.run(
            run(
                actions,
                args.requests,
                args.profile,
                args.save,
                json.loads(listed.stdout),
                server=server,
                trace=args.trace,
                statements=args.statements,
            )
        )
    finally:
        if cluster is not None:
            cluster.stop()


if __name__ == "__main__":
    main()
