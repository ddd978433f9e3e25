"""Without PORTAL_SMTP_URL, mail lands in the outbox as .eml files."""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path

import pytest
from structlog.testing import capture_logs

from portal.notifications.mail import Email, MailDeliveryFailed, read_outbox, send_email
from portal.settings import Settings, get_settings

SUBJECT = "订单 PO-2026-00042 已变更，请确认"
BODY = "您好，\n\n交货日期已改为 2026-03-15，请在门户中确认此修订。\n"


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return dataclasses.replace(get_settings(), smtp_url=None, var_dir=tmp_path)


@pytest.mark.anyio
async def test_chinese_subject_and_body_round_trip_through_the_outbox(settings: Settings) -> None:
    await send_email(Email(to="供应商 <supplier@example.com>", subject=SUBJECT, text=BODY, reply_to="planner@acme.example"), settings)

    [message] = read_outbox(settings.outbox_dir)
    assert message["Subject"] == SUBJECT
    assert message["To"] == "供应商 <supplier@example.com>"
    assert message["Reply-To"] == "planner@acme.example"
    assert message["From"] == "portal@localhost"
    assert message["Message-ID"]
    assert message["Date"]
    assert message.get_content_type() == "text/plain"
    assert message.get_content() == BODY


@pytest.mark.anyio
async def test_html_email_is_multipart_alternative_with_both_parts(settings: Settings) -> None:
    await send_email(Email(to="qa@example.com", subject=SUBJECT, text=BODY, html="<p>交货日期已改</p>"), settings)

    [message] = read_outbox(settings.outbox_dir)
    assert message.get_content_type() == "multipart/alternative"
    text_part = message.get_body(preferencelist=("plain",))
    html_part = message.get_body(preferencelist=("html",))
    assert text_part is not None
    assert html_part is not None
    assert text_part.get_content() == BODY
    assert html_part.get_content().strip() == "<p>交货日期已改</p>"


@pytest.mark.anyio
async def test_outbox_holds_only_finished_eml_files(settings: Settings) -> None:
    await send_email(Email(to="a@example.com", subject="one", text="1"), settings)

    [entry] = list(settings.outbox_dir.iterdir())
    assert entry.suffix == ".eml"
    assert entry.read_bytes().endswith(b"\r\n")


@pytest.mark.anyio
async def test_two_emails_make_two_files_read_back_in_sending_order(settings: Settings) -> None:
    await send_email(Email(to="a@example.com", subject="第一封", text="1"), settings)
    await send_email(Email(to="b@example.com", subject="第二封", text="2"), settings)

    assert len(list(settings.outbox_dir.glob("*.eml"))) == 2
    assert [message["Subject"] for message in read_outbox(settings.outbox_dir)] == ["第一封", "第二封"]


@pytest.mark.anyio
async def test_failed_write_leaves_no_temp_file_and_raises_mail_delivery_failed(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    def disk_full(source: str, target: Path) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", disk_full)

    with pytest.raises(MailDeliveryFailed, match="No space left on device"):
        await send_email(Email(to="a@example.com", subject="one", text="1"), settings)
    assert list(settings.outbox_dir.iterdir()) == []


@pytest.mark.anyio
async def test_sender_comes_from_portal_mail_from(settings: Settings) -> None:
    settings = dataclasses.replace(settings, mail_from="外包门户 <noreply@acme.example>")

    await send_email(Email(to="a@example.com", subject="one", text="1"), settings)

    [message] = read_outbox(settings.outbox_dir)
    assert message["From"] == "外包门户 <noreply@acme.example>"
    assert message["Message-ID"].endswith("@acme.example>")


@pytest.mark.anyio
async def test_outbox_write_is_logged_without_the_body(settings: Settings) -> None:
    with capture_logs() as logs:
        await send_email(Email(to="a@example.com", subject=SUBJECT, text=BODY, html="<p>秘密</p>"), settings)

    [entry] = logs
    assert entry["event"] == "mail_written_to_outbox"
    assert entry["to"] == "a@example.com"
    assert entry["path"].endswith(".eml")
    assert BODY not in str(entry)
    assert "秘密" not in str(entry)


def test_reading_an_outbox_that_was_never_written_gives_nothing(tmp_path: Path) -> None:
    assert read_outbox(tmp_path / "outbox") == []
