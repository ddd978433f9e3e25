"""The API's OpenAPI description (``/schema/openapi.json``), kept true to
what the API answers.

Litestar describes each operation from its handler's signature: parameters,
the JSON body, the success answer. What a signature cannot show is added
here once, from the route table, for every operation under ``/api/``:

- the project's error body, ``{"error": {"code", "message", "fields"?}}``
  (component ``Error``), in place of Litestar's own error schema;
- the statuses each operation really answers: 400 when it takes query
  parameters or a body (a value its schema refuses, or a business rule),
  401 when it needs a token, 403 when a role may be refused, 404 when it
  names an object in its path, 409 when it writes (the object's state or
  version may not allow it; another request may just have saved the same
  thing: the same write sent twice at once), 413 when it takes a body, 503 with
  ``Retry-After`` when the database cannot be reached; and what the
  handler declares with ``errors=[...]`` (409 a creation that conflicts, a
  code taken or a period closed; 404 an id in the body that names nothing
  the caller can see; 422 a file refused for its content);
- what a handler reads or writes by hand, declared on its decorator:
  ``form=Form(...)`` a multipart body, ``files=(...)`` the media types of
  a download, ``redirect=True`` a 303 to a presigned URL,
  ``error_descriptions={status: text}`` what an error status means there
  when the general description says too little.

tests/api/test_schemathesis.py checks the result against the running API
for every role.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from litestar import Litestar
from litestar.openapi import ResponseSpec
from litestar.openapi.spec import (
    Components,
    OpenAPIHeader,
    OpenAPIMediaType,
    OpenAPIResponse,
    OpenAPIType,
    Operation,
    Reference,
    RequestBody,
    Schema,
)
from litestar.plugins import OpenAPISchemaPlugin
from litestar.routes import HTTPRoute
from litestar.typing import FieldDefinition

ERROR = "Error"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
CSV = "text/csv"
SPREADSHEETS = (CSV, XLSX)
PDF = "application/pdf"

DESCRIPTIONS = {
    400: "A parameter or body field is missing or not valid (named in `error.fields` as on the wire), or a business rule refused it.",
    401: "No valid API token (`Authorization: Bearer <token>` from `POST /api/v1/auth/token`).",
    403: "The caller's role may not do this.",
    404: "No such object, or one the caller may not see (another tenant's, another supplier's, not shared yet): the same answer.",
    409: (
        "The object changed in the meantime (`version`), or its current state does not allow this, "
        "or another request just saved the same thing (the same write sent twice at once: reload to see it)."
    ),
    413: "The body is larger than the limit.",
    422: "The file was refused for its content (type, size, hidden or active content).",
    429: "Too many attempts; wait a moment.",
    503: "The database is briefly unavailable; try again after `Retry-After` seconds.",
}


@dataclass(frozen=True)
class Form:
    """A multipart body read by hand: its text fields (name -> JSON schema)
    and its file parts."""

    fields: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    files: tuple[str, ...] = ("file",)
    required: tuple[str, ...] = ("file",)


class DecimalSchema(OpenAPISchemaPlugin):
    """Quantities and money: Litestar calls a Decimal any string; the API
    takes decimal text (``"12.5"``, what it answers too) or a JSON number,
    and refuses other text. Limits (size, decimals) are business rules: 400."""

    @staticmethod
    def is_plugin_supported_type(value: Any) -> bool:
        return value is Decimal

    def to_openapi_schema(self, field_definition: FieldDefinition, schema_creator: Any) -> Schema:
        return Schema(
            one_of=[Schema(type=OpenAPIType.STRING, pattern=r"^-?(0|[1-9][0-9]*)(\.[0-9]+)?$"), Schema(type=OpenAPIType.NUMBER)],
            description="A decimal: text such as `12.5` (as answered) or a JSON number.",
        )


def also_answers(model: Any, description: str) -> ResponseSpec:
    """Another success answer of an operation (``responses={200: ...}``).
    Without examples: Litestar makes them up with polyfactory and Faker
    (random strings where a field holds a status), which loaded both into
    every serving process (about 15 MB resident)."""
    return ResponseSpec(model, description=description, generate_examples=False)


def _error_schema() -> Schema:
    return Schema(
        type=OpenAPIType.OBJECT,
        required=["error"],
        properties={
            "error": Schema(
                type=OpenAPIType.OBJECT,
                required=["code", "message"],
                properties={
                    "code": Schema(type=OpenAPIType.STRING, description="Stable, for programs: `invalid`, `not_found`, `conflict`, ..."),
                    "message": Schema(type=OpenAPIType.STRING, description="For people, in the caller's language."),
                    "fields": Schema(
                        type=OpenAPIType.OBJECT,
                        additional_properties=Schema(type=OpenAPIType.STRING),
                        description="A message per refused field or parameter.",
                    ),
                },
            )
        },
    )


def _error_response(status: int, description: str | None = None) -> OpenAPIResponse:
    headers: dict[str, OpenAPIHeader | Reference] | None = None
    if status == 503:
        headers = {"Retry-After": OpenAPIHeader(schema=Schema(type=OpenAPIType.INTEGER))}
    return OpenAPIResponse(
        description=description or DESCRIPTIONS[status],
        content={"application/json": OpenAPIMediaType(schema=_error_ref())},
        headers=headers,
    )


def _schema(spec: Mapping[str, Any]) -> Schema:
    values = dict(spec)
    kind = values.pop("type", "string")
    return Schema(type=OpenAPIType(kind), **values)


def _form_body(form: Form) -> RequestBody:
    properties = {name: Schema(type=OpenAPIType.STRING, format="binary") for name in form.files}  # type: ignore[arg-type]
    properties.update({name: _schema(spec) for name, spec in form.fields.items()})
    return RequestBody(
        required=True,
        content={
            "multipart/form-data": OpenAPIMediaType(
                schema=Schema(type=OpenAPIType.OBJECT, properties=properties, required=list(form.required)),  # type: ignore[arg-type]
            )
        },
    )


def _file_response(description: str, media_types: Iterable[str]) -> OpenAPIResponse:
    binary = Schema(type=OpenAPIType.STRING, format="binary")  # type: ignore[arg-type]
    return OpenAPIResponse(description=description, content={media_type: OpenAPIMediaType(schema=binary) for media_type in media_types})


def _either(declared: Any, status: int) -> OpenAPIResponse:
    """A status the handler answers with a body of its own (an import's
    report) and, for other reasons, with the usual error body."""
    media = declared.content["application/json"]
    return OpenAPIResponse(
        description=declared.description,
        content={"application/json": OpenAPIMediaType(schema=Schema(any_of=[media.schema, _error_ref()]))},
    )


def _error_ref() -> Reference:
    return Reference(ref=f"#/components/schemas/{ERROR}")


def _is_litestar_error(response: Any) -> bool:
    """Litestar's own error schema (``status_code``, ``detail``), which the
    API never sends: errors go through portal.errors."""
    content = getattr(response, "content", None) or {}
    for media in content.values():
        schema = media.schema
        candidates = [schema, *(schema.one_of or [])] if isinstance(schema, Schema) else []
        if any(isinstance(item, Schema) and item.properties and "detail" in item.properties for item in candidates):
            return True
    return False


def statuses(handler: Any, operation: Operation, has_path_parameters: bool) -> set[int]:
    """The error statuses an operation answers (see the module's docstring)."""
    found = {503}
    # tenants.guards.requires marks the guards a role can fail with the
    # action they check.
    guards = handler.resolve_guards()
    if guards:
        found.add(401)
    if any(hasattr(guard, "action") for guard in guards):
        found.add(403)
    if has_path_parameters:
        found.add(404)
    # An action on an existing object: its state or version may not allow
    # it. Any write: the same write sent twice at once, the second copy
    # meeting what the first stored (portal/errors.py's `conflict`).
    if set(handler.http_methods) & {"POST", "PUT", "PATCH", "DELETE"}:
        found.add(409)
    takes_body = operation.request_body is not None
    if takes_body:
        found.update({400, 413})
    if any(getattr(parameter, "param_in", None) in ("query", "header") for parameter in operation.parameters or []):
        found.add(400)
    found.update(handler.opt.get("errors", ()))
    return found


def document_api(app: Litestar) -> None:
    """Complete the app's OpenAPI description in place (before it is first
    served; the served JSON is built from it once)."""
    openapi = app.openapi_schema
    components = openapi.components if isinstance(openapi.components, Components) else Components()
    components.schemas = {**(components.schemas or {}), ERROR: _error_schema()}
    openapi.components = components
    for route in app.routes:
        if not isinstance(route, HTTPRoute) or not route.path.startswith("/api/"):
            continue
        path_item = (openapi.paths or {}).get(route.path_format)
        if path_item is None:
            continue
        for method, (handler, _) in route.route_handler_map.items():
            operation = getattr(path_item, method.lower(), None)
            if isinstance(operation, Operation):
                _complete(operation, handler, has_path_parameters=bool(route.path_parameters))


def _complete(operation: Operation, handler: Any, *, has_path_parameters: bool) -> None:
    opt = handler.opt
    form: Form | None = opt.get("form")
    if form is not None:
        operation.request_body = _form_body(form)
    responses = {code: response for code, response in (operation.responses or {}).items() if not _is_litestar_error(response)}
    success = str(handler.status_code)
    if opt.get("files"):
        described = responses[success].description if success in responses else None
        responses[success] = _file_response(described or "The file.", opt["files"])
    if opt.get("redirect"):
        responses["303"] = OpenAPIResponse(
            description="On S3 storage: a presigned URL for the file, valid for one minute.",
            headers={"Location": OpenAPIHeader(schema=Schema(type=OpenAPIType.STRING))},
        )
    for status in sorted(statuses(handler, operation, has_path_parameters)):
        declared = responses.get(str(status))
        described = opt.get("error_descriptions", {}).get(status)
        responses[str(status)] = _error_response(status, described) if declared is None else _either(declared, status)
    operation.responses = dict(sorted(responses.items()))
