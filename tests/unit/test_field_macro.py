"""The form field macro writes each attribute apart: the environment trims
the newline after a block tag, so an attribute written without its own
leading space ran into the one before it (``value=""required``), and the
browser read neither."""

from __future__ import annotations

from html.parser import HTMLParser

import pytest

from portal.templating import build_environment


class _Inputs(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.inputs: list[dict[str, str | None]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "input":
            self.inputs.append(dict(attrs))


def _input(**options: object) -> dict[str, str | None]:
    template = build_environment().from_string(
        '{% from "_partials/forms.html" import field with context %}{{ field("qty", "Qty", values, errors, **options) }}'
    )
    parser = _Inputs()
    parser.feed(template.render(values={"qty": "12"}, errors={"qty": "bad"}, options=options))
    (found,) = parser.inputs
    return found


@pytest.mark.parametrize("kind", ["text", "password"])
def test_every_attribute_of_a_field_reaches_the_browser(kind: str) -> None:
    attributes = _input(type=kind, required=True, autocomplete="off", inputmode="decimal", maxlength=9)
    assert attributes["type"] == kind
    assert "required" in attributes
    assert attributes["autocomplete"] == "off"
    assert attributes["inputmode"] == "decimal"
    assert attributes["maxlength"] == "9"
    assert attributes["aria-invalid"] == "true"
    assert attributes["aria-describedby"] == "e-qty"
    assert attributes.get("value") == (None if kind == "password" else "12")


def test_a_plain_field_carries_no_empty_attribute() -> None:
    attributes = _input()
    assert set(attributes) == {"id", "name", "type", "value", "aria-invalid", "aria-describedby"}
