"""Channel settings name kinds of events, not events: every label reads
without an event's values, in both languages."""

from __future__ import annotations

import pytest

from portal.i18n import N_, use_locale
from portal.notifications.kinds import KINDS, Kind
from tenants.roles import Role


@pytest.mark.parametrize("locale", ["zh_CN", "en"])
def test_built_in_kinds_have_labels_without_holes(locale: str) -> None:
    with use_locale(locale):
        for kind in KINDS.values():
            label = kind.settings_label()
            assert label, kind.name
            assert "%(" not in label, kind.name
            assert "  " not in label, kind.name


def test_every_registered_kind_has_a_label_of_its_own_in_both_languages() -> None:
    # The title fallback ("Handover … started: ...") reads as an event, not
    # a setting: every kind in the registry names itself, and zh_CN has it.
    unlabelled = [name for name, kind in KINDS.items() if not kind.label]
    assert unlabelled == []
    with use_locale("zh_CN"):
        untranslated = [name for name, kind in KINDS.items() if kind.settings_label() == kind.label]
    assert untranslated == []


def test_a_kind_registered_without_a_label_shows_its_title_with_ellipses() -> None:
    kind = Kind("test.thing", N_("New order %(number)s from %(buyer)s"), "", frozenset({Role.PLANNER}))
    with use_locale("en"):
        assert kind.settings_label() == "New order … from …"
