"""Work chat robots: the JSON API and the admins' page, on the same services."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from litestar import Controller, Request, delete, get, post
from litestar.params import FromPath, JSONBody
from litestar.response import Redirect, Template

from portal.errors import DomainError
from portal.forms import read_form
from portal.notifications import chat
from portal.notifications.chat import SERVICES, RobotIn, RobotOut
from portal.pagination import Page, page_of
from tenants.context import current
from tenants.guards import requires


class ChatRobotApi(Controller):
    path = "/api/v1/chat-robots"
    tags = ["chat robots"]
    guards = [requires("chat_robots.manage")]

    @get("/")
    async def list_chat_robots(self) -> Page[RobotOut]:
        """Group robots: a supplier admin sees its supplier's, a tenant
        admin the buyer's (``supplier_id`` null) and every supplier's. URLs
        are shown as a hint only (they carry the robot's token)."""
        return page_of(await chat.list_robots())

    @post("/")
    async def create_chat_robot(self, data: JSONBody[RobotIn]) -> RobotOut:
        """Connect a group robot: ``service`` is ``dingtalk``, ``wecom`` or
        ``feishu``; ``url`` its webhook address; ``secret`` the signing
        secret of a DingTalk or Feishu robot with signing on; ``events`` the
        kinds to post (``["*"]``: all the caller's side hears of). In
        production the URL must be HTTPS at a public address."""
        return await chat.create_robot(data)

    @delete("/{robot_id:uuid}")
    async def delete_chat_robot(self, robot_id: FromPath[UUID]) -> None:
        await chat.delete_robot(robot_id)


class ChatRobotPages(Controller):
    path = "/admin/chat-robots"
    include_in_schema = False
    guards = [requires("chat_robots.manage")]

    @get("/")
    async def show_chat_robots(self) -> Template:
        return await _page({})

    @post("/")
    async def create_chat_robot(self, request: Request[Any, Any, Any]) -> Template | Redirect:
        form = await read_form(request)
        values = {key: str(form.get(key) or "") for key in ("service", "url", "secret", "description")}
        events = [str(name) for name in form.getall("events", [])]
        try:
            await chat.create_robot(RobotIn(**values, events=events or ["*"]))
        except DomainError as exc:
            return await _page(values, exc, chosen=events)
        return Redirect(path="/admin/chat-robots", status_code=303)

    @post("/{robot_id:uuid}/delete")
    async def delete_chat_robot(self, robot_id: FromPath[UUID]) -> Redirect:
        await chat.delete_robot(robot_id)
        return Redirect(path="/admin/chat-robots", status_code=303)


async def _page(values: dict[str, str], error: DomainError | None = None, *, chosen: list[str] | None = None) -> Template:
    message, fields = error.translated() if error else (None, {})
    kinds = [(kind.name, kind.render({})[0]) for kind in chat.choosable(current().is_supplier)]
    return Template(
        template_name="admin/chat_robots.html",
        context={
            "robots": await chat.list_robots(),
            "services": SERVICES,
            "kinds": kinds,
            "values": values,
            # A refused form keeps the events it had ticked.
            "chosen": chosen or [],
            "error": message,
            "fields": fields,
            "active_nav": "account",
        },
        status_code=400 if error else 200,
    )
