"""The Jinja environment: i18n, locale-aware filters and static asset URLs."""

from __future__ import annotations

import functools
import hashlib
import uuid
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from litestar.plugins.jinja import JinjaTemplateEngine
from litestar.template.config import TemplateConfig

from portal import i18n, quantities
from portal.directions import printed
from portal.lengths import TEXT_LENGTH, column_limits

ROOT = Path(__file__).resolve().parent.parent
TEMPLATE_DIR = ROOT / "templates"
STATIC_DIR = ROOT / "static"


@functools.cache
def static_url(path: str) -> str:
    """A content hash in the URL lets browsers cache static files for a year
    and still pick up a new version at once."""
    digest = hashlib.sha256((STATIC_DIR / path).read_bytes()).hexdigest()[:10]
    return f"/static/{path}?v={digest}"


def signed_in() -> Any:
    """The acting TenantContext, or None on public pages."""
    from tenants.context import TenantContext, peek

    context = peek()
    return context if isinstance(context, TenantContext) else None


def _outbox_owner(context: Any) -> str:
    from tenants.offline import outbox_owner

    return outbox_owner(context)


def _page_session_key(context: Any) -> str:
    from tenants.offline import page_session_key

    return page_session_key(context)


def _navigation(context: Any) -> Any:
    from portal.navigation import navigation

    return navigation(context)


def _more_icon() -> str:
    from portal.navigation import ICONS

    return ICONS["more"]


def _role_label(role: str) -> str:
    from tenants.roles import Role

    return Role(role).label


def _approval_kind_label(kind: str) -> str:
    """What a held action is ("A concession (use as is) on nonconforming
    goods"), a catalog id; a kind no longer known shows as itself."""
    from portal.approvals.services import KINDS

    return KINDS[kind].label if kind in KINDS else kind


def _status_label(status: str) -> str:
    from portal.orders.states import Status

    return Status(status).label


def _delivery_status_label(status: str) -> str:
    from portal.deliveries.states import Status

    return Status(status).label


def _revision_word(word: str) -> str:
    from portal.orders.services import REVISION_WORDS

    return REVISION_WORDS.get(word, word)


def _event_label(event: str) -> str:
    from portal.orders.states import EVENT_LABELS, Event

    return EVENT_LABELS[Event(event)]


def _qc_state_label(state: str) -> str:
    from portal.quality.services import STATE_LABELS

    return STATE_LABELS[state]


def _qc_stages() -> list[tuple[str, str]]:
    from portal.quality.services import STAGES

    return [(key, i18n.gettext(label)) for key, label in STAGES.items()]


def _qr(path: str, scale: int = 4) -> Any:
    from portal.labels.codes import qr_svg

    return qr_svg(path, scale)


def _category_label(key: str) -> str:
    from portal.configuration.services import label_of

    return label_of(key)


def _document_categories() -> list[tuple[str, str]]:
    from portal.configuration.services import choices

    return choices()


def build_environment(*, auto_reload: bool = True) -> Environment:
    env = Environment(
        loader=FileSystemLoader(TEMPLATE_DIR),
        # Without it a compiled template is used as it is: no stat of its
        # file (and of every file it extends or includes) per rendering.
        auto_reload=auto_reload,
        autoescape=select_autoescape(["html", "xml"]),
        undefined=StrictUndefined,
        finalize=printed,
        extensions=["jinja2.ext.i18n"],
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.install_gettext_callables(i18n.gettext, i18n.ngettext, newstyle=True)  # type: ignore[attr-defined]
    env.globals.update(
        # maxlength of inputs that fill a column, from the column (portal/lengths.py)
        limits=column_limits(),
        text_length=TEXT_LENGTH,
        static=static_url,
        me=signed_in,
        outbox_owner=_outbox_owner,
        page_session_key=_page_session_key,
        uuid4=uuid.uuid4,
        navigation=_navigation,
        more_icon=_more_icon(),
        role_label=_role_label,
        approval_kind_label=_approval_kind_label,
        status_label=_status_label,
        delivery_status_label=_delivery_status_label,
        revision_word=_revision_word,
        event_label=_event_label,
        qc_state_label=_qc_state_label,
        category_label=_category_label,
        qr=_qr,
        qc_stages=_qc_stages,
        document_categories=_document_categories,
        current_locale=i18n.current_locale.get,
        locale_names=i18n.LOCALE_NAMES,
        html_lang=lambda: i18n.current_locale.get().replace("_", "-"),
    )
    env.filters.update(
        money=i18n.format_money,
        number=i18n.format_number,
        # Quantities and prices with every decimal they carry, as the PDF
        # and the exports print them (``number`` keeps three).
        exact=i18n.format_exact,
        # A number to type over in a form field: 100, never 1E+2.
        plain=quantities.plain,
        datetime=i18n.format_datetime,
        date=i18n.format_date,
    )
    return env


def template_config(*, auto_reload: bool = True) -> TemplateConfig[Any]:
    """Templates edited while the app runs show at once when ``auto_reload``
    (development); in production each is compiled once per process."""
    return TemplateConfig(instance=JinjaTemplateEngine.from_environment(build_environment(auto_reload=auto_reload)))
