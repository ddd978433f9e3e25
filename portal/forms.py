"""Helpers for HTML forms: re-render with the user's input and translated
errors, so a mistake never costs what was typed."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from litestar import Request
from litestar.datastructures import FormMultiDict
from litestar.response import Template

from portal.errors import Conflict, DomainError
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


# Fields a page form carries for the server (hidden inputs, the pressed
# button, sealed tokens): never typed by a person, never shown back.
CARRIED = frozenset(
    {"_csrf_token", "version", "client_id", "next", "back", "event", "decision", "sheet", "choice_token", "tenant", "password"}
)


def is_uuid(text: str) -> bool:
    try:
        UUID(text)
    except ValueError:
        return False
    return True


def kept_input(values: dict[str, Any] | None) -> list[tuple[str, str]]:
    """What a person typed into a form refused for a reason other than a bad
    field (someone else changed the record, its state moved on, the page's
    CSRF token expired), in the form's order: the page shows it beside the
    message (templates/_partials/forms.html), since the form itself may no
    longer be offered. Ids, versions and other carried fields are left out."""
    kept = []
    for name, value in (values or {}).items():
        text = without_nul(value) if isinstance(value, str) else ""
        if text.strip() and name not in CARRIED and "password" not in name and not is_uuid(text.strip()):
            kept.append((name, text))
    return kept


def form_page(template: str, *, values: dict[str, Any] | None = None, error: DomainError | None = None, **context: Any) -> Template:
    """A page form's page; after a refusal, with what was typed and the
    translated errors. A conflict (the record changed or moved on meanwhile)
    also keeps the typed input beside the message: the form the person
    filled in may not be on the page any more."""
    message, fields = error.translated() if error else (None, {})
    kept = kept_input(values) if error is not None and error.status_code == Conflict.status_code else []
    return Template(
        template_name=template,
        context={"values": values or {}, "error_message": message, "field_errors": fields, "kept": kept, **context},
        status_code=error.status_code if error else 200,
    )
