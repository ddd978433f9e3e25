"""The request log never holds the emailed tokens that are credentials."""

from __future__ import annotations

import pytest

from portal.logs import loggable_path


@pytest.mark.parametrize(
    ("path", "logged"),
    [
        ("/invitations/Zm9vYmFyLXNlY3JldA", "/invitations/<token>"),
        ("/password-reset/abc.def-123", "/password-reset/<token>"),
        ("/password-reset/abc/extra", "/password-reset/<token>/extra"),
        # The request form itself and other pages stay as they are.
        ("/password-reset", "/password-reset"),
        ("/orders/6d1b185c-dfa9-460b-b3de-7dfff635c85e", "/orders/6d1b185c-dfa9-460b-b3de-7dfff635c85e"),
        ("/api/v1/invitations/6d1b185c-dfa9-460b-b3de-7dfff635c85e", "/api/v1/invitations/6d1b185c-dfa9-460b-b3de-7dfff635c85e"),
    ],
)
def test_token_paths_are_redacted(path: str, logged: str) -> None:
    assert loggable_path(path) == logged
