"""A real, headless Chromium for the tests that look at pages (import what you use).

Debian's ``chromium`` and ``chromium-driver`` drive it through selenium; no
browser is downloaded. Without them the browser tests skip, saying why, unless
``REGFLOW_REQUIRE_BROWSER=1`` (set by ``.ci/run``), which makes them fail.

``browser`` is a fixture: ``from browser import browser`` in a test
module is enough. ``console_errors(driver)`` returns what the page logged at
level SEVERE (script errors, failed loads), and ``screenshot(driver, path)``
saves a full-page PNG.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

REQUIRE_VAR = "REGFLOW_REQUIRE_BROWSER"
_BROWSERS = ("/usr/bin/chromium", "/usr/bin/chromium-browser")
_DRIVERS = ("/usr/bin/chromedriver",)


def _first(paths: tuple[str, ...], name: str) -> str | None:
    for path in paths:
        if Path(path).exists():
            return path
    return shutil.which(name)


def _unavailable(reason: str) -> None:
    if os.environ.get(REQUIRE_VAR) == "1":
        pytest.fail(f"{REQUIRE_VAR}=1 but {reason}")
    pytest.skip(reason)


def start_chromium(width: int = 1280, height: int = 900) -> Any:
    """A headless Chromium session; skips (or fails, if required) without one."""
    binary = _first(_BROWSERS, "chromium")
    driver_path = _first(_DRIVERS, "chromedriver")
    if binary is None or driver_path is None:
        _unavailable(
            "no Chromium/ChromeDriver (apt-get install chromium chromium-driver): "
            "browser tests skipped"
        )
    try:
        from selenium import webdriver
        from selenium.webdriver.chrome.service import Service
    except ImportError:
        _unavailable("selenium is not installed (the dev extra): browser tests skipped")
    options = webdriver.ChromeOptions()
    options.binary_location = str(binary)
    for arg in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        f"--window-size={width},{height}",
        "--lang=en-US",
    ):
        options.add_argument(arg)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    try:
        # An explicit driver path keeps selenium's manager from going online.
        return webdriver.Chrome(service=Service(str(driver_path)), options=options)
    except Exception as exc:  # the browser would not start: say why
        _unavailable(f"Chromium did not start: {exc}")
        raise  # unreachable: _unavailable skips or fails


@pytest.fixture
def browser() -> Iterator[Any]:
    """A headless Chromium, closed after the test."""
    driver = start_chromium()
    try:
        yield driver
    finally:
        driver.quit()


def console_errors(driver: Any) -> list[str]:
    """The page's SEVERE console entries since the last call."""
    return [
        entry["message"]
        for entry in driver.get_log("browser")
        if entry.get("level") == "SEVERE"
    ]


def screenshot(driver: Any, path: Path) -> Path:
    """Save the whole page (not just the window) as PNG at ``path``."""
    height = driver.execute_script(
        "return Math.max(document.body.scrollHeight, "
        "document.documentElement.scrollHeight)"
    )
    width = driver.get_window_size()["width"]
    driver.set_window_size(width, max(int(height) + 40, 600))
    path.parent.mkdir(parents=True, exist_ok=True)
    driver.save_screenshot(str(path))
    return path
