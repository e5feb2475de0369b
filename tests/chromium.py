"""Headless Chromium for the map tests: Debian's ``chromium`` and ``chromium-driver`` (installed by
scripts/test.sh), started with the flags that run as root here, a new empty profile, and the
browser console captured."""

from __future__ import annotations

from pathlib import Path

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")


def available() -> bool:
    """Both the browser and its driver are installed."""
    return CHROMIUM.exists() and CHROMEDRIVER.exists()


def require_chromium() -> None:
    """Skip the calling test module without the browser and its driver; on CI (``CI`` set), fail
    instead: scripts/test.sh installs them, so their absence there is a broken set-up."""
    import os

    import pytest

    if available():
        return
    if os.environ.get("CI"):
        raise RuntimeError("chromium and chromium-driver are missing; run scripts/test.sh, which installs them")
    pytest.skip("needs /usr/bin/chromium and /usr/bin/chromedriver (scripts/test.sh installs them)",
                allow_module_level=True)


def start_chromium(profile: Path, *, window: str, page_timeout: float):
    """A Selenium driver of headless Chromium ``window`` pixels wide and high ("1400,900"),
    its profile in the empty folder ``profile``, pages given ``page_timeout`` seconds to load."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for flag in ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync",
                 f"--window-size={window}"):
        options.add_argument(flag)
    options.add_argument(f"--user-data-dir={profile}")
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(executable_path=str(CHROMEDRIVER)), options=options)
    driver.set_page_load_timeout(page_timeout)
    return driver
