"""The map of ``territory compare`` in headless Chromium: one switchable layer per scenario.

Needs Debian's ``chromium`` and ``chromium-driver``; skipped without them, except in CI (``CI`` set).
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from chromium import require_chromium, start_chromium  # noqa: E402

DEMO = Path(__file__).resolve().parents[1] / "workbooks" / "territory_demo.xlsx"
READY = "return !!(window.territoryMap && territoryMap.ready)"

require_chromium()


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    driver = start_chromium(tmp_path_factory.mktemp("chromium-profile"), window="1400,900", page_timeout=60)
    yield driver
    driver.quit()


def areas(browser, scenario: str) -> int:
    """The territory areas of ``scenario`` drawn on the page now."""
    return browser.execute_script("return document.getElementsByClassName('tp-area-' + arguments[0]).length",
                                  scenario)


def toggle(browser, label: str) -> None:
    """Click the layer control's checkbox of the layer ``label``, as a user does."""
    browser.execute_script("""
        var labels = document.querySelectorAll('.leaflet-control-layers label');
        for (var i = 0; i < labels.length; i++) {
          if (labels[i].textContent.trim() === arguments[0]) { labels[i].querySelector('input').click(); }
        }""", label)


def test_each_scenario_is_a_layer_that_toggling_shows_and_hides(browser, tmp_path):
    from selenium.webdriver.support.ui import WebDriverWait

    accounts = pd.read_excel(DEMO, sheet_name="Accounts", engine="calamine", dtype={"ZIP": str})
    accounts.to_csv(tmp_path / "today.csv", index=False)
    plan = accounts.copy()
    plan.loc[np.flatnonzero(plan["Territory"].to_numpy() == "T01"), "Territory"] = "T02"  # T01 is gone
    plan.to_csv(tmp_path / "merged.csv", index=False)
    page = tmp_path / "compare.html"
    done = subprocess.run([sys.executable, "-m", "territory_engine.cli", "compare", tmp_path / "today.csv",
                           tmp_path / "merged.csv", "--output", tmp_path / "compare.xlsx", "--map", page, "--offline"],
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    browser.get_log("browser")
    browser.get(page.resolve().as_uri())
    WebDriverWait(browser, 30).until(lambda d: d.execute_script(READY))
    assert [m for m in browser.get_log("browser") if m["level"] == "SEVERE"] == []
    names = browser.execute_script("return Array.from(document.querySelectorAll('.leaflet-control-layers label'))"
                                   ".map(function (l) { return l.textContent.trim(); })")
    assert "Scenario: today" in names and "Scenario: merged" in names
    # The first scenario is shown; the other is a layer the user switches on.
    assert (areas(browser, "today"), areas(browser, "merged")) == (12, 0)
    toggle(browser, "Scenario: merged")
    assert areas(browser, "merged") == 11  # T01 merged into T02
    toggle(browser, "Scenario: today")
    assert (areas(browser, "today"), areas(browser, "merged")) == (0, 11)
    # Each area's tooltip gives its territory's figures in its own scenario.
    tip = browser.execute_script("""
        var layer = territoryMap.layers['scenario merged'];
        var area = layer.getLayers().filter(function (l) { return l.feature.properties.t === 1; })[0];
        area.fire('mouseover', {latlng: area.getBounds().getCenter()}, true);
        var tips = document.querySelectorAll('.leaflet-tooltip');
        return tips.length ? tips[tips.length - 1].textContent : '';""")
    assert "T02 (merged alignment)" in tip
    assert [m for m in browser.get_log("browser") if m["level"] == "SEVERE"] == []


def test_a_scenario_named_like_html_shows_as_text_and_runs_nothing(browser, tmp_path):
    from selenium.webdriver.support.ui import WebDriverWait

    hostile = '<img src=x onerror="window.__xss=1">'
    accounts = pd.read_excel(DEMO, sheet_name="Accounts", engine="calamine", dtype={"ZIP": str})
    accounts.to_csv(tmp_path / "today.csv", index=False)
    accounts.to_csv(tmp_path / f"{hostile}.csv", index=False)
    page = tmp_path / "hostile.html"
    done = subprocess.run([sys.executable, "-m", "territory_engine.cli", "compare", tmp_path / "today.csv",
                           tmp_path / f"{hostile}.csv", "--output", tmp_path / "hostile.xlsx", "--map", page,
                           "--offline"], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    browser.get(page.resolve().as_uri())
    WebDriverWait(browser, 30).until(lambda d: d.execute_script(READY))
    toggle(browser, f"Scenario: {hostile}")
    names = browser.execute_script("return Array.from(document.querySelectorAll('.leaflet-control-layers label'))"
                                   ".map(function (l) { return l.textContent.trim(); })")
    assert f"Scenario: {hostile}" in names
    assert browser.execute_script("return typeof window.__xss") == "undefined"
    assert browser.execute_script("return document.querySelectorAll('img[src=\"x\"]').length") == 0
