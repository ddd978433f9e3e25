"""Conversations over HTTP: the JSON API and the thread on a record's page
(an htmx block loaded into the page, posting back into itself)."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from litestar import Controller, MediaType, Request, Response, get, post
from litestar.params import FromPath, FromQuery, JSONBody
from litestar.response import Redirect, Template

from portal.conversations import services
from portal.conversations.services import MessageIn, MessageOut, MessagePage, ThreadOut
from portal.db import WRITES_OPT
from portal.documents.config import largest_limit
from portal.documents.controllers import json_error, storage_of
from portal.documents.intake import SPOOL_OPT, read_upload_form
from portal.documents.services import new_document_target, store_upload
from portal.errors import DomainError
from portal.forms import is_uuid
from portal.pagination import Page, SeqNumber, page_of
from tenants.guards import requires

# A message is text: a body far beyond the longest message is refused
# before it is read (413), whatever the client claims.
MESSAGE_BODY_LIMIT = 256 * 1024


class ThreadApi(Controller):
    path = "/api/v1/threads"
    tags = ["conversations"]
    guards = [requires("conversations.view")]

    # The record's threads are made on first read (services.record_threads).
    @get("/", opt={WRITES_OPT: True})
    async def list_threads(self, record_type: FromQuery[str | None] = None, record_id: FromQuery[UUID | None] = None) -> Page[ThreadOut]:
        """The record's threads the caller may see (made on first use):
        ``shared`` with the record's supplier, and for the buyer ``internal``."""
        return page_of(await services.record_threads(record_type or "", record_id))

    @get("/{thread_id:uuid}/messages")
    async def list_messages(self, thread_id: FromPath[UUID], cursor: FromQuery[str | None] = None) -> MessagePage:
        """In the order the messages were committed (``seq``), oldest first;
        ``next`` pages on by that number. Listing marks nothing read: a
        client that shows the messages to its person says so with
        ``POST .../read``."""
        return await services.list_messages(thread_id, cursor)

    @post("/{thread_id:uuid}/read", status_code=200)
    async def mark_read(self, thread_id: FromPath[UUID], through: SeqNumber = None) -> ThreadOut:
        """The caller has read the thread up to the message whose ``seq`` is
        ``through`` (the last one shown to them), or without it up to its
        newest message: the thread with what is still unread (later
        messages count again)."""
        return await services.mark_thread_read(thread_id, through)

    @post("/{thread_id:uuid}/messages", guards=[requires("conversations.post")], request_max_body_size=MESSAGE_BODY_LIMIT)
    async def post_message(self, thread_id: FromPath[UUID], data: JSONBody[MessageIn]) -> Response[MessageOut]:
        """201 with the message; 200 with the same message when this
        ``client_id`` was sent before (a retry). Files are attached after,
        through ``POST /api/v1/documents`` with ``attached_type=message``."""
        message, created = await services.post_message(thread_id, data)
        return Response(message, status_code=201 if created else 200, media_type=MediaType.JSON)


async def conversation_context(
    record_type: str, record_id: UUID | None, error: DomainError | None = None, values: dict[str, str] | None = None
) -> dict[str, Any]:
    threads = await services.record_threads(record_type, record_id)
    sides = []
    for thread in threads:
        row = await services.get_thread(thread.id)
        shown = await services.show_thread(thread.id)
        sides.append(
            {
                "thread": thread,
                "messages": shown.messages,
                "earlier": shown.earlier,
                "read_through": shown.read_through,
                "people": await services.audience(row),
            }
        )
    return {
        "record_type": record_type,
        "record_id": record_id,
        "sides": sides,
        "error": error.translated() if error else None,
        "error_thread": (values or {}).get("thread"),
        "values": values or {},
        "max_body": services.MAX_BODY,
    }


class ConversationPages(Controller):
    path = "/conversations"
    include_in_schema = False
    guards = [requires("conversations.view")]

    # The record's threads are made on first read (services.record_threads).
    @get("/", opt={WRITES_OPT: True})
    async def show_conversation(self, record_type: FromQuery[str | None] = None, record_id: FromQuery[UUID | None] = None) -> Template:
        """The block a record's page loads: each side's messages and a form."""
        context = await conversation_context(record_type or "", record_id)
        return Template(template_name="conversations/_conversation.html", context=context, headers={"Vary": "HX-Request"})

    @post("/{thread_id:uuid}/read", status_code=204)
    async def mark_read(self, thread_id: FromPath[UUID], through: SeqNumber = None) -> None:
        """Posted by the block (htmx) once it has shown new messages, with
        the number of the last one it showed."""
        await services.mark_thread_read(thread_id, through)

    @post("/{thread_id:uuid}/messages", opt={SPOOL_OPT: True}, request_max_body_size=None, guards=[requires("conversations.post")])
    async def post_message(self, request: Request[Any, Any, Any], thread_id: FromPath[UUID]) -> Template | Redirect | Response[Any]:
        """The form of a thread: text, people to mention and maybe a photo
        or file, which goes through the documents intake onto the message.
        The phone's outbox (static/js/outbox.js) posts the same form asking
        for JSON: 201 with the message's id (stored once per client_id), or
        the error, so that it knows whether to keep the message queued."""
        wants_json = "application/json" in request.headers.get("accept", "")
        # The scoped lookup first: a foreign thread answers 404 before the body is read.
        thread = await services.get_thread(thread_id)
        storage = storage_of(request)
        form = await read_upload_form(request, storage.staging_dir(), largest_limit())
        try:
            fields = form.fields
            # One checkbox per person: "mention-<user id>".
            mentions = [
                UUID(key.removeprefix("mention-")) for key in fields if key.startswith("mention-") and is_uuid(key.removeprefix("mention-"))
            ]
            client_id = UUID(fields["client_id"]) if is_uuid(fields.get("client_id", "")) else None
            data = MessageIn(body=fields.get("body", ""), client_id=client_id, mentions=mentions)
            try:
                message, created = await services.post_message(thread_id, data)
                if created and form.file is not None:
                    target = await new_document_target(
                        "message", message.id, "photo" if _is_image(form.file) else "other", fields.get("file_title", "")
                    )
                    await store_upload(storage, target, form.file)
            except DomainError as exc:
                if wants_json:
                    return json_error(exc)
                if not request.headers.get("hx-request"):
                    raise
                context = await conversation_context(thread.record_type, thread.record_id, exc, {**fields, "thread": str(thread.id)})
                return Template(template_name="conversations/_conversation.html", context=context)
        finally:
            form.discard()
        if wants_json:
            return Response({"id": str(message.id)}, status_code=201 if created else 200, media_type=MediaType.JSON)
        if request.headers.get("hx-request"):
            context = await conversation_context(thread.record_type, thread.record_id)
            return Template(template_name="conversations/_conversation.html", context=context)
        return Redirect(path=services.record_link(thread.record_type, thread.record_id) + "#conversation", status_code=303)


def _is_image(staged: Any) -> bool:
    return str(staged.declared_type).startswith("image/")
