"""Order forms: turning posted fields into the service's structs, keeping
every typed value so a mistake re-renders with nothing lost."""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal
from typing import Any
from uuid import UUID

from portal.errors import DomainError
from portal.i18n import N_
from portal.orders.schemas import LineAnswerIn, LineAnswersIn, OrderLineIn
from portal.orders.services import InvalidOrder

LINE_FIELD = re.compile(r"^lines-(\d+)-(\w+)$")
LINE_KEYS = ("id", "item_id", "operation", "quantity", "unit_price", "due_date")


ANSWER_FIELD = re.compile(r"^answer-([0-9a-f-]{36})$")


def posted_answers(values: dict[str, str]) -> LineAnswersIn:
    """The answer form: ``answer-<line id>`` is accept or decline,
    ``reason-<line id>`` the reason of a declined line."""
    answers = []
    for name, value in values.items():
        match = ANSWER_FIELD.match(name)
        line_id = _uuid(match.group(1)) if match else None
        if line_id is not None:
            answers.append(LineAnswerIn(line_id=line_id, accept=value != "decline", reason=values.get(f"reason-{line_id}", "")))
    version = values.get("version", "")
    return LineAnswersIn(lines=answers, version=int(version) if version.isdigit() else None)


def posted_lines(values: dict[str, str]) -> list[dict[str, str]]:
    """The line rows of a form, in order, skipping rows left completely empty."""
    rows: dict[int, dict[str, str]] = {}
    for name, value in values.items():
        match = LINE_FIELD.match(name)
        if match:
            rows.setdefault(int(match.group(1)), {})[match.group(2)] = value.strip()
    ordered = [rows[index] for index in sorted(rows)]
    return [row for row in ordered if any(row.get(key) for key in ("item_id", "quantity", "unit_price", "due_date"))]


def lines_from_form(rows: list[dict[str, str]]) -> list[OrderLineIn]:
    problems: dict[str, str] = {}
    lines = []
    for index, row in enumerate(rows):
        item_id = _uuid(row.get("item_id"))
        if item_id is None:
            problems[f"lines.{index}.item_id"] = N_("Choose an item.")
        quantity = _decimal(row.get("quantity"))
        if quantity is None:
            problems[f"lines.{index}.quantity"] = N_("Enter a number.")
        price = _decimal(row.get("unit_price"))
        if price is None:
            problems[f"lines.{index}.unit_price"] = N_("Enter a price.")
        if row.get("id") and _uuid(row.get("id")) is None:
            # An existing line's id that is no id would make the line a new one.
            problems[f"lines.{index}.item_id"] = N_("This value is missing or not valid.")
        due = _date(row.get("due_date"))
        if due is None:
            problems[f"lines.{index}.due_date"] = N_("Enter a date.")
        if item_id and quantity is not None and price is not None and due:
            lines.append(
                OrderLineIn(
                    id=_uuid(row.get("id")),
                    item_id=item_id,
                    operation=row.get("operation", ""),
                    quantity=quantity,
                    unit_price=price,
                    due_date=due,
                )
            )
    if problems:
        raise InvalidOrder(fields=problems)
    return lines


def _uuid(value: str | None) -> UUID | None:
    try:
        return UUID(value) if value else None
    except ValueError:
        return None


def _decimal(value: str | None) -> Decimal | None:
    try:
        return Decimal(value.replace(",", "")) if value else None
    except ArithmeticError:
        return None


def _date(value: str | None) -> date | None:
    try:
        return date.fromisoformat(value) if value else None
    except ValueError:
        return None


def line_errors(error: DomainError) -> dict[int, dict[str, Any]]:
    """Field errors "lines.3.quantity" regrouped by row for the template,
    translated with the error's parameters (a bare msgid such as "at most
    %(decimals)s decimals" cannot be translated by the template)."""
    grouped: dict[int, dict[str, Any]] = {}
    for name, message in error.translated()[1].items():
        parts = name.split(".")
        if len(parts) == 3 and parts[0] == "lines" and parts[1].isdigit():
            grouped.setdefault(int(parts[1]), {})[parts[2]] = message
    return grouped
