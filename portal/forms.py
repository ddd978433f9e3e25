"""Helpers for HTML forms: re-render with the user's input and translated
errors, so a mistake never costs what was typed."""

from __future__ import annotations

from typing import Any

from litestar import Request
from litestar.datastructures import FormMultiDict
from litestar.response import Template

from portal.errors import DomainError
from portal.i18n import N_


class InvalidForm(DomainError):
    code = "invalid"
    message = N_("Some fields are missing or not valid.")


def without_nul(text: str) -> str:
    """A NUL (U+0000) cannot be typed and PostgreSQL text cannot hold it;
    a page form drops it instead of refusing the whole form, which would
    lose everything else the person typed (portal/nul.py refuses it
    everywhere else)."""
    return text.replace("\x00", "")


async def read_form(request: Request[Any, Any, Any]) -> FormMultiDict:
    """The posted page form, NUL characters dropped from names and texts.
    Every page handler reads its form here, never ``request.form()``."""
    form = await request.form()
    return FormMultiDict([(without_nul(key), without_nul(value) if isinstance(value, str) else value) for key, value in form.multi_items()])


async def form_values(request: Request[Any, Any, Any]) -> dict[str, str]:
    form = await read_form(request)
    return {key: str(value) for key, value in form.items() if key != "_csrf_token" and isinstance(value, str)}


def form_version(values: dict[str, str]) -> int | None:
    """The record version a form was rendered with (the check that nobody
    changed the record meanwhile); None when the form carries none. Anything
    else than a whole number is refused, never read as "no check"."""
    text = values.get("version", "").strip()
    if not text:
        return None
    if not text.isdigit() or len(text) > 9:
        raise InvalidForm(fields={"version": N_("This value is missing or not valid.")})
    return int(text)


def form_page(template: str, *, values: dict[str, Any] | None = None, error: DomainError | None = None, **context: Any) -> Template:
    message, fields = error.translated() if error else (None, {})
    return Template(
        template_name=template,
        context={"values": values or {}, "error_message": message, "field_errors": fields, **context},
        status_code=error.status_code if error else 200,
    )
