"""With PORTAL_SMTP_URL set, mail goes through a real SMTP server (aiosmtpd)."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from pathlib import Path

import pytest

from portal.notifications.mail import Email, MailDeliveryFailed, send_email
from portal.settings import Settings, get_settings
from tests.support.ports import free_port
from tests.support.smtp import RecordingSmtpServer

pytestmark = pytest.mark.smtp

SUBJECT = "质量文件被驳回：材质证明 PO-2026-00042"
BODY = "您好，\n\n材质证明缺少炉号，请重新上传。\n"
# These test servers take AUTH without TLS on purpose: there is no certificate.
plain_text_auth = pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS:UserWarning")
HTML = "<p>材质证明缺少<strong>炉号</strong>，请重新上传。</p>"


def settings_for(smtp_url: str, tmp_path: Path) -> Settings:
    return dataclasses.replace(get_settings(), smtp_url=smtp_url, var_dir=tmp_path)


@pytest.fixture
def smtp_server() -> Iterator[RecordingSmtpServer]:
    with RecordingSmtpServer() as server:
        yield server


@pytest.mark.anyio
async def test_plain_text_email_arrives_with_recipient_subject_and_body(smtp_server: RecordingSmtpServer, tmp_path: Path) -> None:
    await send_email(Email(to="supplier@example.com", subject=SUBJECT, text=BODY), settings_for(smtp_server.url, tmp_path))

    [mail] = smtp_server.received
    assert mail.mail_from == "portal@localhost"
    assert mail.rcpt_tos == ("supplier@example.com",)
    assert mail.message["Subject"] == SUBJECT
    assert mail.message.get_content_type() == "text/plain"
    assert mail.message.get_content() == BODY
    assert not (tmp_path / "outbox").exists()


@pytest.mark.anyio
async def test_html_email_arrives_as_text_and_html_alternatives(smtp_server: RecordingSmtpServer, tmp_path: Path) -> None:
    email = Email(to="供应商 <supplier@example.com>, qa@acme.example", subject=SUBJECT, text=BODY, html=HTML, reply_to="qa@acme.example")

    await send_email(email, settings_for(smtp_server.url, tmp_path))

    [mail] = smtp_server.received
    assert sorted(mail.rcpt_tos) == ["qa@acme.example", "supplier@example.com"]
    assert mail.message["Subject"] == SUBJECT
    assert mail.message["Reply-To"] == "qa@acme.example"
    assert mail.message.get_content_type() == "multipart/alternative"
    text_part = mail.message.get_body(preferencelist=("plain",))
    html_part = mail.message.get_body(preferencelist=("html",))
    assert text_part is not None
    assert html_part is not None
    assert text_part.get_content() == BODY
    assert html_part.get_content().strip() == HTML


@plain_text_auth
@pytest.mark.anyio
async def test_percent_encoded_credentials_log_in(tmp_path: Path) -> None:
    with RecordingSmtpServer(credentials=("mailer@acme.example", "p@ss:word")) as server:
        url = f"smtp://mailer%40acme.example:p%40ss%3Aword@127.0.0.1:{server.port}"
        await send_email(Email(to="a@example.com", subject="hi", text="hi"), settings_for(url, tmp_path))

    [mail] = server.received
    assert mail.login == "mailer@acme.example"


@pytest.mark.anyio
async def test_server_not_listening_raises_naming_host_and_port_but_not_the_password(tmp_path: Path) -> None:
    port = free_port()
    settings = settings_for(f"smtp://mailer:hunter2-secret@127.0.0.1:{port}", tmp_path)

    with pytest.raises(MailDeliveryFailed) as failure:
        await send_email(Email(to="a@example.com", subject="hi", text="hi"), settings)

    assert f"127.0.0.1:{port}" in str(failure.value)
    assert "hunter2-secret" not in str(failure.value)


@pytest.mark.anyio
async def test_starttls_requested_but_not_offered_fails_instead_of_sending_in_clear(
    smtp_server: RecordingSmtpServer, tmp_path: Path
) -> None:
    with pytest.raises(MailDeliveryFailed, match=f"127.0.0.1:{smtp_server.port}.*STARTTLS"):
        await send_email(Email(to="a@example.com", subject="hi", text="hi"), settings_for(f"{smtp_server.url}?starttls=true", tmp_path))

    assert smtp_server.received == []


@plain_text_auth
@pytest.mark.anyio
async def test_refused_login_raises_mail_delivery_failed(tmp_path: Path) -> None:
    with RecordingSmtpServer(credentials=("mailer", "right")) as server:
        settings = settings_for(f"smtp://mailer:wrong@127.0.0.1:{server.port}", tmp_path)
        with pytest.raises(MailDeliveryFailed, match=f"127.0.0.1:{server.port}: 535"):
            await send_email(Email(to="a@example.com", subject="hi", text="hi"), settings)

    assert server.received == []


@pytest.mark.anyio
async def test_mails_in_a_row_share_one_connection_to_the_server(smtp_server: RecordingSmtpServer, tmp_path: Path) -> None:
    settings = settings_for(smtp_server.url, tmp_path)
    for number in range(3):
        await send_email(Email(to="supplier@example.com", subject=f"{SUBJECT} {number}", text=BODY), settings)

    assert [mail.message["Subject"] for mail in smtp_server.received] == [f"{SUBJECT} {number}" for number in range(3)]
    assert len({mail.peer for mail in smtp_server.received}) == 1


@pytest.mark.anyio
async def test_a_connection_the_server_dropped_is_replaced_and_the_mail_arrives_once(tmp_path: Path) -> None:
    port = free_port()
    with RecordingSmtpServer(port=port) as first:
        settings = settings_for(first.url, tmp_path)
        await send_email(Email(to="supplier@example.com", subject="before", text=BODY), settings)
    # The server restarted: the kept connection is dead; NOOP finds it so
    # before anything is sent on it, and a new connection carries the mail.
    with RecordingSmtpServer(port=port) as second:
        await send_email(Email(to="supplier@example.com", subject="after", text=BODY), settings)

    assert [mail.message["Subject"] for mail in first.received] == ["before"]
    assert [mail.message["Subject"] for mail in second.received] == ["after"]
