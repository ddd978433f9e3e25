"""Response-time rules: the JSON API and the admin's page, on the same
services."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, get, post, put
from litestar.params import JSONBody
from litestar.response import Redirect, Template

from portal.errors import DomainError
from portal.forms import form_values
from portal.sla import services
from portal.sla.services import LIMITS, RuleIn, RuleOut
from tenants.guards import requires


class ResponseRuleApi(Controller):
    path = "/api/v1/settings/response-times"
    tags = ["settings"]
    guards = [requires("sla.view")]

    @get("/")
    async def get_response_times(self) -> RuleOut:
        """Hours a supplier has to accept an order, acknowledge a revision and
        confirm a dispatch's receipt; how many hours before the limit the
        reminder goes out; the margin (percent) by which a line's reported
        progress may lag the time elapsed before a warning."""
        return await services.get_rule()

    @put("/", guards=[requires("sla.configure")])
    async def set_response_times(self, data: JSONBody[RuleIn]) -> RuleOut:
        return await services.set_rule(data)


class ResponseRulePages(Controller):
    path = "/admin/response-times"
    include_in_schema = False
    guards = [requires("sla.configure")]

    @get("/")
    async def show_response_times(self) -> Template:
        return _form(await services.get_rule())

    @post("/")
    async def save_response_times(self, request: Request[Any, Any, Any]) -> Template | Redirect:
        values = await form_values(request)
        try:
            numbers = {name: int(values.get(name, "")) for name in LIMITS}
        except ValueError:
            numbers = {}
        try:
            if len(numbers) != len(LIMITS):
                raise services.InvalidRule(fields={name: services.OUT_OF_RANGE for name in LIMITS if not values.get(name, "").isdigit()})
            await services.set_rule(RuleIn(**numbers))
        except DomainError as exc:
            return _form(values, exc)
        return Redirect(path="/admin/response-times", status_code=303)


def _form(values: Any, error: DomainError | None = None) -> Template:
    message, fields = error.translated() if error else (None, {})
    current = (
        {name: values.get(name, "") for name in LIMITS} if isinstance(values, dict) else {name: getattr(values, name) for name in LIMITS}
    )
    return Template(
        template_name="admin/response_times.html",
        context={"values": current, "error": message, "fields": fields, "active_nav": "settings"},
        status_code=400 if error else 200,
    )
