"""The same page form sent several times at once (a double tap on a
phone's button, a form submitted from two tabs): every answer is a success
(a redirect, or the page for htmx) or a refusal in the user's language,
never a 500, and a refusal because another copy got there first (409)
shows what was typed, to copy (portal/forms.py's kept_input).

The forms come from tests/integration/test_form_input.py's discovery (the
app's route table, each form found on the pages a role opens in the seeded
world), filled as a person fills them; its NOT_PROBED lists the form routes
it cannot find. The JSON API gets the same probe in
tests/integration/test_concurrent_writes.py.
"""

from __future__ import annotations

import asyncio
from typing import Any
from uuid import uuid4

import httpx
import pytest

from portal.forms import kept_input
from tests.integration.test_concurrent_writes import BURST
from tests.integration.test_form_input import CJK, FORM_ROUTES, Found, filled, forms, worlds
from tests.support.documents.samples import png
from tests.support.forms import error_texts
from tests.tenancy.matrix import Worlds
from tests.tenancy.test_isolation_matrix import ENDS_SESSION
from tests.tenancy.test_isolation_pages import BROWSER_IDS

__all__ = ["forms", "worlds"]  # the discovery's fixtures, shared

# Form routes found by the discovery that this module does not send, with
# the reason.
NOT_PROBED = {
    ("POST", "/login"): "a sign-in stores nothing keyed by the form: tests/integration/tenants cover repeated sign-ins",
    ("POST", "/password-reset"): "sends an email; at most three links an hour per account (tests/integration/tenants)",
    **{route: "ends the caller's session, which the other items share" for route in ENDS_SESSION if route in FORM_ROUTES},
}
# Forms whose copies all mean the same save (the API's ALL_SUCCEED in
# tests/integration/test_concurrent_writes.py): every copy succeeds.
ALL_SUCCEED = {("POST", "/notifications/settings")}
PROBED = [route for route in FORM_ROUTES if route not in NOT_PROBED]


def test_every_listed_form_route_exists() -> None:
    assert sorted(set(NOT_PROBED) - set(FORM_ROUTES)) == [], "NOT_PROBED names form routes the discovery no longer sends"
    assert sorted(ALL_SUCCEED - set(PROBED)) == [], "ALL_SUCCEED names form routes this module does not send"


async def burst(app: Any, action: str, data: dict[str, str], files: Any, headers: dict[str, str]) -> list[httpx.Response]:
    """``BURST`` copies of one form post, all started before any answers."""
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as session:
        return list(await asyncio.gather(*(session.post(action, data=data, files=files, headers=headers) for _ in range(BURST))))


def _headers(worlds: Worlds, found: Found) -> tuple[dict[str, str], str]:
    headers = dict(worlds.headers[found.identity])
    csrf = headers.pop("x-csrftoken")
    headers["cookie"] += "; portal_locale=zh_CN"
    headers["accept-language"] = "zh-CN"
    headers.update(found.form.htmx)
    if found.form.script:
        headers["accept"] = "application/json"
    return headers, csrf


def _problem(found: Found, typed: list[tuple[str, str]], response: httpx.Response) -> str | None:
    status = response.status_code
    if status >= 500:
        return f"{status}: {response.text[:300]}"
    if status < 400:
        return None
    if found.form.script or response.headers.get("content-type", "").startswith("application/json"):
        message = str((response.json().get("error") or {}).get("message", ""))
    else:
        message = " ".join(error_texts(response.text)) or response.text
    if not CJK.search(message):
        return f"{status} without a message in the user's language: {response.text[:300]}"
    if status == 409 and typed and "data-kept" not in response.text and not found.form.script:
        return f"409 without what was typed: {response.text[:300]}"
    return None


@pytest.mark.parametrize("route", PROBED, ids=lambda route: f"{route[0]} {route[1]}")
def test_the_same_form_sent_at_once_answers_clearly(
    route: tuple[str, str], app: Any, run: Any, worlds: Worlds, forms: dict[tuple[str, str], Found]
) -> None:
    found = forms.get(route)
    assert found is not None, f"{route}: no page offers this form (test_form_input.py's NOT_PROBED lists the ones it cannot find)"
    data = filled(found.form, route)
    # The copies are of one page: a browser's made-up ids are the same in each.
    data = {**data, **{name: str(uuid4()) for name in BROWSER_IDS if name in data}}
    headers, csrf = _headers(worlds, found)
    files = None
    if found.form.multipart:
        files = {item.name: ("probe.png", png(), "image/png") for item in found.form.fields if item.kind == "file"}
        files = files or {"_": ("", b"", "application/octet-stream")}
    responses = run(burst, app, found.form.action, {**data, "_csrf_token": csrf}, files, headers)
    typed = kept_input(data)
    problems = [problem for response in responses if (problem := _problem(found, typed, response))]
    statuses = sorted(response.status_code for response in responses)
    assert problems == [], f"{route[0]} {found.form.action} as {found.identity}, {statuses}:\n" + "\n".join(problems)
    if route in ALL_SUCCEED:
        assert statuses[-1] < 400, f"{route[0]} {found.form.action}: every copy should succeed: {statuses}"
