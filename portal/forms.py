"""Helpers for HTML forms: re-render with the user's input and translated
errors, so a mistake never costs what was typed."""

from __future__ import annotations

from typing import Any

from litestar import Request
from litestar.response import Template

from portal.errors import DomainError


async def form_values(request: Request[Any, Any, Any]) -> dict[str, str]:
    form = await request.form()
    return {key: str(value) for key, value in form.items() if key != "_csrf_token" and isinstance(value, str)}


def form_page(template: str, *, values: dict[str, Any] | None = None, error: DomainError | None = None, **context: Any) -> Template:
    message, fields = error.translated() if error else (None, {})
    return Template(
        template_name=template,
        context={"values": values or {}, "error_message": message, "field_errors": fields, **context},
        status_code=error.status_code if error else 200,
    )
