"""Screenshots of the home page on a 360 px phone (Chinese and English) and
on a 1280 px desktop, for reviewing the layout by eye.

    .venv/bin/python bench/screenshots.py http://127.0.0.1:8765 docs/screenshots
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from playwright.sync_api import Browser, sync_playwright

CHROMIUM = "/usr/bin/chromium"
# Playwright cannot download its own browsers here; without background
# networking turned off, Chromium's start-up calls hang on a closed network.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
    "--disable-quic",
]
PHONE: dict[str, Any] = {"viewport": {"width": 360, "height": 740}, "device_scale_factor": 2, "is_mobile": True, "has_touch": True}
DESKTOP: dict[str, Any] = {"viewport": {"width": 1280, "height": 800}}


@dataclass(frozen=True)
class Shot:
    filename: str
    path: str
    locale: str
    device: dict[str, Any]


SHOTS = [
    Shot("home-phone-zh.png", "/", "zh-CN", PHONE),
    Shot("home-phone-en.png", "/", "en-US", PHONE),
    Shot("home-desktop.png", "/", "zh-CN", DESKTOP),
]


def take(browser: Browser, base_url: str, shot: Shot, outdir: Path) -> Path:
    # The language comes from Accept-Language, as for a first-time visitor.
    context = browser.new_context(base_url=base_url, locale=shot.locale, **shot.device)
    try:
        page = context.new_page()
        page.goto(shot.path)
        # CJK fonts are large and may still be loading at the load event.
        page.evaluate("document.fonts.ready.then(() => true)")
        target = outdir / shot.filename
        # The viewport only, not the full page: the phone's bottom bar must
        # show where the user sees it.
        page.screenshot(path=str(target))
        return target
    finally:
        context.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("base_url", help="where the portal is served, e.g. http://127.0.0.1:8765")
    parser.add_argument("outdir", type=Path, help="folder for the PNG files")
    args = parser.parse_args()
    args.outdir.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        try:
            for shot in SHOTS:
                print(take(browser, args.base_url.rstrip("/"), shot, args.outdir))
        finally:
            browser.close()


if __name__ == "__main__":
    main()
