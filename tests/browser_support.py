"""A real browser for the reviewer page's tests: Debian's chromium, driven by Playwright.

Playwright's own browsers are never downloaded (`playwright install` is not run);
the launch flags keep Chromium off the network it would otherwise call home to
(on a closed network those connections are refused and slow everything down).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

CHROMIUM = Path(os.environ.get("INTAKE_TEST_CHROMIUM", "/usr/bin/chromium"))
LAUNCH_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
DESKTOP = {"width": 1366, "height": 900}
PHONE = {"width": 390, "height": 844}  # a common phone in CSS pixels
REPO = Path(__file__).resolve().parent.parent
# Where the run leaves its screenshots (README, "The reviewer page").
SCREENSHOTS = Path(os.environ.get("INTAKE_SCREENSHOTS", REPO / "var" / "screenshots"))


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    if not CHROMIUM.exists():
        if os.environ.get("CI"):
            pytest.fail(f"{CHROMIUM} is missing; scripts/setup.sh --servers installs Debian's chromium")
        pytest.skip(f"{CHROMIUM} not installed (bash scripts/setup.sh --servers)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        launched = p.chromium.launch(executable_path=str(CHROMIUM), args=LAUNCH_ARGS)
        try:
            yield launched
        finally:
            launched.close()


def screenshot(page: Any, name: str, *, full_page: bool = True) -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=full_page)
    return path
