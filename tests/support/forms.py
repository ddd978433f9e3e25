"""Reading page forms out of rendered HTML, shared by the tests that drive
the pages' forms (tests/integration/test_form_input.py,
tests/integration/test_form_conflicts.py, tests/tenancy/
test_isolation_pages.py): one parser, so that all of them see the same
forms, fields and shown errors."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from html.parser import HTMLParser
from urllib.parse import urlsplit

NUMERIC = re.compile(r"quantity|amount|price|tolerance|threshold|hours|percent")


@dataclass
class Field:
    name: str
    kind: str  # an input's type, "select" or "textarea"
    value: str
    attrs: dict[str, str]
    options: list[str] = field(default_factory=list)

    @property
    def required(self) -> bool:
        return "required" in self.attrs

    @property
    def checked(self) -> bool:
        return "checked" in self.attrs

    @property
    def visible(self) -> bool:
        return self.kind not in ("hidden", "submit", "button", "reset", "file", "password", "image")

    @property
    def typed(self) -> bool:
        """A value a person types (what must survive a refusal)."""
        return self.visible and self.kind not in ("select", "checkbox", "radio")

    @property
    def numeric(self) -> bool:
        return self.kind == "number" or self.attrs.get("inputmode") in ("decimal", "numeric") or bool(NUMERIC.search(self.name))


@dataclass
class Form:
    action: str
    multipart: bool
    htmx: dict[str, str]
    # Sent by a script asking for JSON (the upload widget, static/js/upload.js),
    # which shows the error in the page it stays on: nothing typed can be lost.
    script: bool = False
    fields: list[Field] = field(default_factory=list)


class FormParser(HTMLParser):
    """The POST forms of a page (``method=post`` or ``hx-post``), each named
    field with its attributes; the panels htmx loads into the page; and what
    a refused form's page keeps of the typed input outside any form (the
    ``data-kept`` text areas of templates/_partials/forms.html), by field."""

    def __init__(self, page: str) -> None:
        super().__init__()
        self.page = page
        self.forms: list[Form] = []
        self.form: Form | None = None
        self.select: Field | None = None
        self.textarea: Field | None = None
        self.panels: list[str] = []
        self.kept: dict[str, str] = {}

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = {name: value or "" for name, value in attrs}
        if "hx-get" in found and "load" in found.get("hx-trigger", ""):
            self.panels.append(found["hx-get"])
        if tag == "form" and (found.get("method", "get").lower() == "post" or "hx-post" in found):
            action = found.get("hx-post") or found.get("action") or self.page
            multipart = "multipart" in found.get("enctype", "") + found.get("hx-encoding", "")
            htmx = {"hx-request": "true", "hx-target": found.get("hx-target", "").lstrip("#")} if "hx-post" in found else {}
            self.form = Form(urlsplit(action).path, multipart, htmx, script="data-upload" in found)
            self.forms.append(self.form)
            return
        if tag == "option" and self.select is not None:
            value = found.get("value", "")
            self.select.options.append(value)
            if "selected" in found or (not self.select.value and len(self.select.options) == 1):
                self.select.value = value
            return
        if tag == "textarea" and self.form is None and "data-kept" in found:
            self.textarea = Field(found["data-kept"], "kept", "", found)
            return
        if self.form is None or "name" not in found or tag not in ("input", "select", "textarea", "button"):
            return
        kind = found.get("type", "text").lower() if tag in ("input", "button") else tag
        if tag == "button" and kind != "submit":
            return
        item = Field(found["name"], kind, found.get("value", ""), found)
        if tag == "select":
            self.select = item
        elif tag == "textarea":
            self.textarea = item
        self.form.fields.append(item)

    def handle_data(self, data: str) -> None:
        if self.textarea is not None:
            self.textarea.value += data

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self.form = None
        elif tag == "select":
            self.select = None
        elif tag == "textarea":
            if self.textarea is not None and self.textarea.kind == "kept":
                self.kept[self.textarea.name] = self.textarea.value
            self.textarea = None


def forms_of(html: str, page: str) -> FormParser:
    parser = FormParser(page)
    parser.feed(html)
    return parser


class ErrorText(HTMLParser):
    """The texts of a page's shown errors: elements whose class names an
    error (``alert error``, ``field-error``, the error page's card), not
    the ones a script fills (``hidden``)."""

    def __init__(self) -> None:
        super().__init__()
        self.depth = 0
        self.stack: list[bool] = []
        self.texts: list[str] = []
        self.current: list[str] = []

    VOID = {"input", "br", "img", "meta", "link", "hr", "source", "wbr"}

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in self.VOID:
            return
        found = {name: value or "" for name, value in attrs}
        classes = found.get("class", "").split()
        opens = any(name in ("error", "field-error", "field-errors") for name in classes) and "hidden" not in found
        self.stack.append(opens)
        if opens:
            self.depth += 1

    def handle_endtag(self, tag: str) -> None:
        if tag in self.VOID or not self.stack:
            return
        if self.stack.pop():
            self.depth -= 1
            if self.depth == 0:
                text = " ".join("".join(self.current).split())
                if text:
                    self.texts.append(text)
                self.current = []

    def handle_data(self, data: str) -> None:
        if self.depth:
            self.current.append(data)


def error_texts(html: str) -> list[str]:
    parser = ErrorText()
    parser.feed(html)
    return parser.texts
