"""Text-direction controls out of what the portal prints.

The embedding, override and isolate controls (U+202A-U+202E, U+2066-U+2069)
reorder what follows them on screen: a supplier's document title ending in
U+202E printed QA's reason after it backwards, and a contact name holding
one reversed the email address and phone number the statement PDF printed
beside it. Chinese and English never need them, so they are removed
wherever user text is printed: every template expression (pages, PDFs,
emails' HTML; ``portal.templating``) and every notification's title and
body (in-app, email, push, chat robots; ``portal.notifications.kinds``).
What was typed is stored as typed.
"""

from __future__ import annotations

import re
from typing import Any

CONTROLS = re.compile("[\u202a-\u202e\u2066-\u2069]")


def without_direction_controls(text: str) -> str:
    """``text`` without the controls, of its own type: ``str.replace`` of
    Markup answers Markup (removing characters adds no markup)."""
    for control in set(CONTROLS.findall(text)):
        text = text.replace(control, "")
    return text


def printed(value: Any) -> Any:
    """Jinja's ``finalize``: each expression's value before it is escaped."""
    return without_direction_controls(value) if isinstance(value, str) else value
