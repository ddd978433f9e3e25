"""Each app process keeps the sessions it resolved (tenants.revocation):
two processes on one database show that a sign-out, a removed membership,
a demotion made behind the services' back and a deactivated account are
honoured by the other process from its next request on, and that what one
process keeps never answers for another tenant or supplier.

Both processes have resolved each token before the change, so the second
process answers from its cache unless the change reached it."""

from __future__ import annotations

import functools
import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.support.factories import PASSWORD
from tests.support.live import ROOT, LiveWorld, Server, install, installation_env
from tests.support.postgres import PostgresCluster

get = functools.partial(httpx.get, timeout=120)
post = functools.partial(httpx.post, timeout=120)
patch = functools.partial(httpx.patch, timeout=120)

_SEED = """
import asyncio, json
from tests.support.factories import make_world
world = asyncio.run(make_world("other"))
print(json.dumps({"slug": world.slug, "suppliers": [str(s) for s in world.supplier_ids],
                  "emails": {key: account.email for key, account in world.accounts.items()}}))
"""

# A change made as an operator would make it, straight in the database and
# past every service: no session is revoked by it.
_SET = """
import asyncio, sys
from tenants.context import system_scope
from tenants.tables import Membership, User

async def main(what, email, value):
    async with system_scope("test-operator"):
        user = await User.select(User.id).where(User.email == email).first()
        if what == "role":
            await Membership.update({Membership.role: value}).where(Membership.user == user["id"])
        else:
            await User.update({User.active: value == "true"}).where(User.id == user["id"])

asyncio.run(main(*sys.argv[1:]))
"""


class Pair:
    def __init__(self, first: Server, second: Server, world: LiveWorld, other: LiveWorld) -> None:
        self.servers = (first, second)
        self.world = world
        self.other = other
        self.env = first.env

    def token(self, role: str, world: LiveWorld | None = None) -> dict[str, str]:
        world = world or self.world
        body = {"email": world.emails[role], "password": PASSWORD, "tenant": world.slug}
        response = post(f"{self.servers[0].base}/api/v1/auth/token", json=body)
        assert response.status_code == 200, response.text
        return {"authorization": f"Bearer {response.json()['access_token']}"}

    def operator_sets(self, what: str, email: str, value: str) -> None:
        done = subprocess.run([sys.executable, "-c", _SET, what, email, value], env=self.env, cwd=ROOT, capture_output=True, text=True)
        assert done.returncode == 0, done.stderr


@pytest.fixture(scope="module")
def pair(tmp_path_factory: pytest.TempPathFactory, pass_cluster: PostgresCluster | None) -> Iterator[Pair]:
    root = Path(tmp_path_factory.mktemp("session-cache"))
    # No rate limits: the tests sign in and ask more often than a person.
    env = installation_env(root / "first", pass_cluster, PORTAL_RATE_LIMITS="off", PORTAL_LOGIN_DELAY_STEP="0")
    world = install(env)
    seeded = subprocess.run([sys.executable, "-c", _SEED], env=env, cwd=ROOT, capture_output=True, text=True, timeout=180)
    assert seeded.returncode == 0, seeded.stderr
    other = LiveWorld(**json.loads(seeded.stdout.strip().splitlines()[-1]))
    first, second = Server(env), Server({**env, "PORTAL_VAR_DIR": str(root / "second")})
    first.start()
    second.start()
    try:
        yield Pair(first, second, world, other)
    finally:
        first.stop()
        second.stop()


def resolved_on_both(pair: Pair, auth: dict[str, str], path: str = "/api/v1/orders") -> None:
    for server in pair.servers:
        for _ in range(2):
            answer = get(f"{server.base}{path}", headers=auth)
            assert answer.status_code == 200, answer.text


def test_a_sign_out_on_one_process_is_refused_by_the_other(pair: Pair) -> None:
    first, second = pair.servers
    auth = pair.token("planner")
    resolved_on_both(pair, auth)
    assert post(f"{first.base}/api/v1/auth/logout", headers=auth).status_code in (200, 204)
    assert get(f"{second.base}/api/v1/orders", headers=auth).status_code == 401
    assert get(f"{first.base}/api/v1/orders", headers=auth).status_code == 401


def test_a_removed_member_is_refused_by_the_other_process(pair: Pair) -> None:
    first, second = pair.servers
    admin = pair.token("admin")
    operator = pair.token("supplier_operator")
    resolved_on_both(pair, operator)
    members = get(f"{first.base}/api/v1/memberships", headers=admin).json()["items"]
    (membership,) = [row for row in members if row["email"] == pair.world.emails["supplier_operator"]]
    removed = patch(f"{first.base}/api/v1/memberships/{membership['id']}", json={"active": False}, headers=admin)
    assert removed.status_code == 200, removed.text
    assert get(f"{second.base}/api/v1/orders", headers=operator).status_code == 401


def test_a_demotion_past_the_services_binds_the_other_process(pair: Pair) -> None:
    second = pair.servers[1]
    email = pair.world.emails["finance"]
    finance = pair.token("finance")
    # Finance may read the period statements; QA may not.
    resolved_on_both(pair, finance, "/api/v1/statements")
    allowed = get(f"{second.base}/api/v1/statements", headers=finance)
    assert allowed.status_code == 200, allowed.text
    pair.operator_sets("role", email, "qa")
    try:
        # The session was not revoked: it now stands for the lesser role,
        # on the process that had kept the old one.
        demoted = get(f"{second.base}/api/v1/statements", headers=finance)
        assert demoted.status_code == 403, demoted.text
    finally:
        pair.operator_sets("role", email, "finance")


def test_a_deactivated_account_is_refused_by_both_processes(pair: Pair) -> None:
    email = pair.world.emails["qa"]
    auth = pair.token("qa")
    resolved_on_both(pair, auth)
    pair.operator_sets("active", email, "false")
    try:
        for server in pair.servers:
            assert get(f"{server.base}/api/v1/orders", headers=auth).status_code == 401
    finally:
        pair.operator_sets("active", email, "true")


def test_kept_sessions_never_answer_for_another_tenant_or_supplier(pair: Pair) -> None:
    viewers = {
        "first supplier": (pair.token("supplier_admin"), {pair.world.suppliers[0]}),
        "second supplier": (pair.token("other_supplier_admin"), {pair.world.suppliers[1]}),
        "buyer": (pair.token("planner"), set(pair.world.suppliers)),
        "other tenant's buyer": (pair.token("planner", pair.other), set(pair.other.suppliers)),
        "other tenant's supplier": (pair.token("supplier_admin", pair.other), {pair.other.suppliers[0]}),
    }
    # Interleaved, several rounds, on both processes: every answer after
    # the first comes from a kept session.
    for _ in range(3):
        for server in pair.servers:
            for name, (auth, expected) in viewers.items():
                answer = get(f"{server.base}/api/v1/suppliers", headers=auth)
                assert answer.status_code == 200, (name, answer.text)
                assert {row["id"] for row in answer.json()["items"]} == expected, name
