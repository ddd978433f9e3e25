"""The API answers as its OpenAPI description says, for every role.

Schemathesis reads ``/schema/openapi.json`` from a real ``portal serve`` on
an installation of its own: a tenant with one account of every role (the
roles of the demo accounts) and one object of every kind a route can name
(the isolation matrix's seed), whose ids fill the path parameters so that
requests reach the handlers. Each operation gets a few generated requests,
each sent with every role's token; invalid ones too, with one role of each
side (the guards answer the others first). Every check runs: status codes,
content types and bodies (the error body included) as documented, the
``Allow`` header, no server error, invalid values refused. The examples
come from a fixed seed, so a run is repeatable.

Sign-in and sign-out are left out: they change the run's own state.

One check is narrowed: a request that fits the description may still be
refused by a rule the description cannot express (an id that names nothing,
a supplier that is not the order's, a file refused for its content): 400,
404, 409 or 422 with the error body. What it may never be is refused by
the API's own validation (code ``invalid``): then the description promised
a shape the API does not take.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import positive_data_acceptance

from tests.support.live import ROOT, Server

ROLES = ("admin", "planner", "qa", "finance", "supplier_admin", "supplier_operator")
EXCLUDED = ("/api/v1/auth/token", "/api/v1/auth/logout")
EXAMPLES = 3
NEGATIVE_ROLES = ("admin", "supplier_operator")


class RefusedAsInvalid(AssertionError):
    pass


@schemathesis.check
def described_values_pass_validation(ctx: Any, response: Any, case: Any) -> bool | None:
    """A request generated from the description is never refused by the
    API's validation of shapes and types (code ``invalid``)."""
    if case.meta is None or not case.meta.generation.mode.is_positive or response.status_code != 400:
        return None
    try:
        code = response.json()["error"]["code"]
    except (ValueError, KeyError, TypeError):
        return None
    if code == "invalid":
        raise RefusedAsInvalid(f"refused as invalid although it fits the description: {response.text[:300]}")
    return True


# A tenant with one account per role and one object of every kind a route
# can name (the isolation matrix's seed), built through the services in the
# installation the server then serves.
_SEED = """
import asyncio, json
from tests.support.factories import make_world
from tests.tenancy.matrix_seed import seed

async def main():
    world = await make_world("openapi")
    seeded = await seed(world)
    emails = {key: account.email for key, account in world.accounts.items()}
    print(json.dumps({"slug": world.slug, "emails": emails, "ids": {key: str(value) for key, value in seeded.first.items()}}))

asyncio.run(main())
"""


@dataclass
class Api:
    server: Server
    tokens: dict[str, str]
    # A real object for each path parameter (of the first supplier, whose
    # users the supplier roles are), so that operations reach their handlers.
    ids: dict[str, str]


@pytest.fixture(scope="module")
def api(fresh_installation: Callable[[str], dict[str, str]]) -> Iterator[Api]:
    env = fresh_installation("openapi")
    seeded = subprocess.run([sys.executable, "-c", _SEED], env=env, cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert seeded.returncode == 0, seeded.stderr
    world = json.loads(seeded.stdout.strip().splitlines()[-1])
    server = Server(env)
    server.start()
    try:
        yield Api(server, {role: server.token(world["emails"][role], world["slug"]) for role in ROLES}, world["ids"])
    finally:
        server.stop()


def _operations(base: str) -> list[Any]:
    schema = schemathesis.openapi.from_url(f"{base}/schema/openapi.json")
    operations = [result.ok() for result in schema.get_all_operations()]
    return [operation for operation in operations if operation.path.startswith("/api/") and operation.path not in EXCLUDED]


def _exercise(operation: Any, mode: GenerationMode, roles: tuple[str, ...], api: Api) -> dict[str, str]:
    """The first failure of each role on this operation, if any. One set of
    generated requests serves every role: generating is the slow part."""
    names = [parameter.name for parameter in operation.path_parameters]
    path_parameters = {name: api.ids[name] for name in names if name in api.ids}
    failures: dict[str, str] = {}

    @given(case=operation.as_strategy(generation_mode=mode, path_parameters=path_parameters))
    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        database=None,
        derandomize=True,
        phases=[Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    def exercise(case: Any) -> None:
        for role in roles:
            if role in failures:
                continue
            try:
                case.call_and_validate(
                    headers={"Authorization": f"Bearer {api.tokens[role]}"},
                    excluded_checks=[positive_data_acceptance],
                    additional_checks=[described_values_pass_validation],
                )
            except (Exception, BaseExceptionGroup) as failure:  # schemathesis groups the failures of one request
                failures[role] = f"{mode.value} {operation.label}: {failure}"

    try:
        exercise()
    except Unsatisfiable:
        # Nothing in it can be made invalid (no body, no free parameter).
        assert mode is GenerationMode.NEGATIVE, f"{operation.label}: no valid request can be generated"
    return failures


@pytest.fixture(scope="module")
def failures(api: Api) -> dict[str, list[str]]:
    operations = _operations(api.server.base)
    assert len(operations) > 50
    found: dict[str, list[str]] = {role: [] for role in ROLES}
    for operation in operations:
        for mode, roles in ((GenerationMode.POSITIVE, ROLES), (GenerationMode.NEGATIVE, NEGATIVE_ROLES)):
            for role, failure in _exercise(operation, mode, roles, api).items():
                found[role].append(failure)
    return found


@pytest.mark.parametrize("role", ROLES)
def test_the_api_answers_as_described(failures: dict[str, list[str]], role: str) -> None:
    assert failures[role] == [], "\n\n".join(failures[role])
