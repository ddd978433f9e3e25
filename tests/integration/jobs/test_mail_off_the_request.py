"""A slow SMTP server never slows a page: a real server process (jobs in
process, the embedded default) answers the buyer's "issue" while the SMTP
server holds the mail, and the mail arrives once the SMTP server lets it in,
to the supplier's people only, in the tenant's language, with the link."""

from __future__ import annotations

import asyncio
import re
import threading
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path
from typing import Any
from uuid import uuid4

import httpx
import pytest
from aiosmtpd.smtp import SMTP, Envelope, Session

from tests.integration.jobs.conftest import wait_until
from tests.support.live import LiveWorld, Server, install, installation_env
from tests.support.postgres import PostgresCluster
from tests.support.smtp import RecordingHandler, RecordingSmtpServer


class HeldHandler(RecordingHandler):
    """Accepts a message only once ``release`` is set; until then the
    client's DATA waits (an SMTP server that is slow or stuck)."""

    def __init__(self) -> None:
        super().__init__()
        self.release = threading.Event()
        self.waiting = threading.Event()

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        self.waiting.set()
        await asyncio.get_running_loop().run_in_executor(None, self.release.wait)
        return await super().handle_DATA(server, session, envelope)


@pytest.fixture
def held_smtp() -> Iterator[tuple[RecordingSmtpServer, HeldHandler]]:
    server = RecordingSmtpServer()
    handler = HeldHandler()
    server.handler = handler
    server.controller.handler = handler
    with server:
        try:
            yield server, handler
        finally:
            handler.release.set()


@pytest.fixture
def live(
    tmp_path_factory: pytest.TempPathFactory, pass_cluster: PostgresCluster | None, held_smtp: Any
) -> Iterator[tuple[Server, LiveWorld]]:
    smtp, _ = held_smtp
    env = installation_env(
        Path(tmp_path_factory.mktemp("mail-jobs")), pass_cluster, PORTAL_SMTP_URL=smtp.url, PORTAL_JOBS_POLL_SECONDS="0.2"
    )
    world = install(env)
    server = Server(env)
    server.start()
    try:
        yield server, world
    finally:
        server.stop()


def test_a_held_smtp_server_never_holds_the_page_and_the_mail_arrives_after(live: Any, held_smtp: Any) -> None:
    server, world = live
    smtp, handler = held_smtp
    planner = {"authorization": f"Bearer {server.token(world.emails['planner'], world.slug)}"}
    with httpx.Client(base_url=server.base, headers=planner, timeout=30) as http:
        item = http.post("/api/v1/items", json={"code": "P-1", "name": "Flange", "unit": "pcs"})
        assert item.status_code == 201, item.text
        due = (date.today() + timedelta(days=14)).isoformat()
        line = {"item_id": item.json()["id"], "quantity": "10", "unit_price": "2.50", "due_date": due, "operation": "CNC"}
        order = http.post("/api/v1/orders", json={"supplier_id": world.suppliers[0], "lines": [line]})
        assert order.status_code == 201, order.text
        # The SMTP server holds every message until released: the answer
        # comes back (or the 30 s client timeout fails the test) first.
        issued = http.post(f"/api/v1/orders/{order.json()['id']}/transitions", json={"event": "issue", "reason": ""})
    assert issued.status_code == 200, issued.text
    assert handler.waiting.wait(timeout=30), "the job never reached the SMTP server"
    assert smtp.received == []

    handler.release.set()
    wait_until(lambda: len(smtp.received) == 2, what="both supplier users' mail")
    recipients = sorted(rcpt for mail in smtp.received for rcpt in mail.rcpt_tos)
    assert recipients == sorted([world.emails["supplier_admin"], world.emails["supplier_operator"]])
    for mail in smtp.received:
        body = mail.message.get_body(("plain",))
        assert body is not None
        text = body.get_content()
        assert f"/orders/{order.json()['id']}" in text
        assert order.json()["number"] in str(mail.message["Subject"])
        assert "新订单" in str(mail.message["Subject"])  # the tenant's language, zh_CN


def test_emailed_links_leave_by_job_while_the_smtp_server_holds_them(live: Any, held_smtp: Any) -> None:
    """Invitation and password-reset mails carry a sign-in token, and they
    too leave by job: the admin's and the visitor's pages answer while the
    SMTP server holds the messages, and the links work once they arrive."""
    server, world = live
    smtp, handler = held_smtp
    admin = {"authorization": f"Bearer {server.token(world.emails['admin'], world.slug)}"}
    invitee = f"invitee-{uuid4().hex[:8]}@test.example"
    with httpx.Client(base_url=server.base, timeout=30) as http:
        invited = http.post("/api/v1/invitations", headers=admin, json={"email": invitee, "role": "planner"})
        assert invited.status_code == 201, invited.text
        assert handler.waiting.wait(timeout=30), "the invitation job never reached the SMTP server"
        # The form of a visitor who forgot their password, CSRF and all.
        csrf = http.get("/password-reset").cookies["csrftoken"]
        asked = http.post("/password-reset", data={"email": world.emails["finance"], "_csrf_token": csrf})
        assert asked.status_code == 200, asked.text
        assert smtp.received == []

        handler.release.set()
        wait_until(lambda: len(smtp.received) == 2, what="the invitation and the reset mail")
        by_recipient = {mail.rcpt_tos[0]: mail.message.get_body(("plain",)).get_content() for mail in smtp.received}
        invitation = re.search(r"/invitations/([A-Za-z0-9_-]+)", by_recipient[invitee])
        reset = re.search(r"/password-reset/([A-Za-z0-9_-]+)", by_recipient[world.emails["finance"]])
        assert invitation
        assert reset
        http.cookies.clear()
        assert http.get(f"/invitations/{invitation.group(1)}").status_code == 200
        assert http.get(f"/password-reset/{reset.group(1)}").status_code == 200
