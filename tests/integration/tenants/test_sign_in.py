from typing import Any

from tests.support.factories import PASSWORD, api_token, bearer, make_world


def test_api_token_works_for_the_chosen_tenant_only(client: Any, run: Any) -> None:
    world = run(make_world)
    planner = world.accounts["planner"]
    token = api_token(client, planner, world.slug)
    me = client.get("/api/v1/me", headers=bearer(token))
    assert me.status_code == 200
    assert me.json()["tenant"] == world.slug
    assert me.json()["role"] == "planner"


def test_wrong_password_and_unknown_email_get_the_same_answer(client: Any, run: Any) -> None:
    world = run(make_world)
    wrong = client.post("/api/v1/auth/token", json={"email": world.accounts["qa"].email, "password": PASSWORD + "x"})
    unknown = client.post("/api/v1/auth/token", json={"email": "nobody-" + world.accounts["qa"].email, "password": PASSWORD})
    assert wrong.status_code == unknown.status_code == 401
    assert wrong.json() == unknown.json()
