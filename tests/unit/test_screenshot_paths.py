"""Browser tests never write into docs/screenshots on their own: every
screenshot goes through screenshot_path, which picks the test's temporary
folder unless PORTAL_SCREENSHOT_DIR asks for another (`make screenshots`).
A test that wrote the tracked pictures directly left a clean clone modified
after `make test`."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from tests.browser.conftest import screenshot_path

BROWSER_TESTS = Path(__file__).resolve().parents[1] / "browser"


def _screenshot_targets(source: str) -> list[ast.expr]:
    targets = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "screenshot":
            targets.extend(keyword.value for keyword in node.keywords if keyword.arg == "path")
    return targets


def test_every_browser_screenshot_goes_through_screenshot_path() -> None:
    seen = 0
    for module in sorted(BROWSER_TESTS.glob("test_*.py")):
        for target in _screenshot_targets(module.read_text(encoding="utf-8")):
            seen += 1
            assert isinstance(target, ast.Call), f"{module.name}:{target.lineno}"
            assert isinstance(target.func, ast.Name), f"{module.name}:{target.lineno}"
            assert target.func.id == "screenshot_path", f"{module.name}:{target.lineno}"
    assert seen > 10


def test_screenshots_go_to_the_tests_folder_unless_a_folder_is_asked_for(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("PORTAL_SCREENSHOT_DIR", raising=False)
    assert screenshot_path(tmp_path, "board-phone.png") == str(tmp_path / "board-phone.png")
    monkeypatch.setenv("PORTAL_SCREENSHOT_DIR", str(tmp_path / "refresh"))
    assert screenshot_path(tmp_path, "board-phone.png") == str(tmp_path / "refresh" / "board-phone.png")
