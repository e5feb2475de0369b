"""Moves readable on dense maps (issue 14): one arrow per (old, new) territory pair, in its own layer,
explained by the snapshot's key; the per-account rings only once few enough are in view.

The page tests read the map's data back from the written page; the browser tests render a
100,000-account map in headless Chromium (Debian's ``chromium`` and ``chromium-driver``, as in
``tests/test_map_browser.py``; skipped without them, except in CI).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from territory_engine.cli import main

from chromium import available as chromium_available, start_chromium  # noqa: E402

sys.path.insert(0, str(Path(__file__).parent / "benchmarks"))
from map_benchmark import build_files  # noqa: E402

DEMO = Path(__file__).resolve().parents[1] / "workbooks" / "territory_demo.xlsx"
ARROW_TEXT = re.compile(r"^(\S+) -> (\S+): ([\d,]+) accounts?, ([\d.]+[kMB]?) potential$")


def run(*args):
    return CliRunner().invoke(main, [str(a) for a in args], catch_exceptions=False)


def page_data(page: Path) -> dict:
    match = re.search(r"var territory_data = (\{.*?\});\n", page.read_text(encoding="utf-8"), re.S)
    assert match, "the page holds its data"
    return json.loads(match.group(1))


@pytest.fixture(scope="module")
def proposed(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("moves")
    demo = folder / "demo.xlsx"
    shutil.copy(DEMO, demo)
    out = folder / "proposed.xlsx"
    assert run("rebalance", demo, "--output", out, "--tolerance", "0.02").exit_code in (0, 3)
    return out


def moved_pairs(workbook: Path) -> pd.DataFrame:
    """The moved accounts' (old, new) pairs with their count and potential, read from the workbook."""
    frame = pd.read_excel(workbook, sheet_name=None, engine="openpyxl")
    accounts = next(f for f in frame.values()
                    if "proposed_territory" in f.columns or "Proposed territory" in f.columns)
    new = accounts["proposed_territory"] if "proposed_territory" in accounts else accounts["Proposed territory"]
    moved = accounts["Territory"].astype(str) != new.astype(str)
    table = pd.DataFrame({"old": accounts["Territory"][moved].astype(str), "new": new[moved].astype(str),
                          "potential": accounts["Potential"][moved].astype(float)})
    return table.groupby(["old", "new"]).agg(accounts=("potential", "size"), potential=("potential", "sum"))


def test_page_has_one_arrow_per_old_new_pair_with_its_count_and_measure(proposed, tmp_path):
    page = tmp_path / "after.html"
    assert run("map", proposed, "--output", page, "--offline", "--reps", DEMO).exit_code == 0
    data = page_data(page)
    pairs = moved_pairs(proposed)
    assert len(pairs) > 1
    arrows = data["arrows"]
    assert len(arrows) == len(pairs), "one arrow per (old, new) pair"
    seen = set()
    for arrow in arrows:
        match = ARROW_TEXT.match(arrow["text"])
        assert match, arrow["text"]
        old, new, count = match.group(1), match.group(2), int(match.group(3).replace(",", ""))
        assert (data["ids"][arrow["old"]], data["ids"][arrow["new"]]) == (old, new)
        assert count == pairs.loc[(old, new), "accounts"]
        seen.add((old, new))
        path = np.array(arrow["path"], dtype=float)
        assert path.shape == (5, 2) and np.isfinite(path).all(), "shaft and two barbs, lat/lon"
    assert seen == set(pairs.index)
    # Wider for more potential moved.
    widths = {(data["ids"][a["old"]], data["ids"][a["new"]]): a["w"] for a in arrows}
    ordered = pairs.sort_values("potential").index
    assert widths[ordered[-1]] > widths[ordered[0]]
    assert data["ringLimit"] > 0


def test_map_without_moves_has_no_arrows(tmp_path):
    page = tmp_path / "current.html"
    assert run("map", DEMO, "--output", page, "--offline").exit_code == 0
    data = page_data(page)
    assert data["arrows"] == []
    assert "TerritoryMap.arrows(" not in page.read_text(encoding="utf-8")


def test_snapshot_draws_the_arrows_and_its_key_explains_them(proposed):
    from matplotlib.collections import LineCollection

    from territory_engine.io import read_tables
    from territory_engine.maps.snapshot import snapshot_figure
    from territory_engine.workflow import Inputs
    from territory_engine.workflow_map import map as map_verb

    tables = read_tables(proposed)
    reps = read_tables(DEMO)["reps"]
    result = map_verb(Inputs(tables["accounts"], reps))
    fig = snapshot_figure(result)
    keys = [text.get_text() for legend in fig.legends for text in legend.get_texts()]
    assert "Moves, old to new territory (width: potential moved)" in keys
    widths = [c for c in fig.axes[0].collections if isinstance(c, LineCollection) and len(c.get_linewidths()) > 1]
    assert len(widths) == 1 and len(widths[0].get_segments()) == len(moved_pairs(proposed))
    before = map_verb(Inputs(read_tables(DEMO)["accounts"], reps))
    keys = [text.get_text() for legend in snapshot_figure(before).legends for text in legend.get_texts()]
    assert not any(k.startswith("Moves") for k in keys)


# --- in headless Chromium --------------------------------------------------------------------------

needs_browser = pytest.mark.skipif(not chromium_available() and not os.environ.get("CI"),
                                   reason="needs /usr/bin/chromium and /usr/bin/chromedriver")


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    driver = start_chromium(tmp_path_factory.mktemp("chromium-profile"), window="1600,1000", page_timeout=180)
    yield driver
    driver.quit()


@pytest.fixture(scope="module")
def big_page(tmp_path_factory) -> tuple[Path, int]:
    """The map of 100,000 accounts and 200 territories with about 5,000 moved (the map benchmark's instance)."""
    folder = tmp_path_factory.mktemp("big-map")
    accounts, reps = build_files(folder, 100_000, 200)
    page = folder / "big.html"
    assert run("map", accounts, "--reps", reps, "--output", page, "--offline").exit_code == 0
    frame = pd.read_csv(accounts)
    pairs = frame[frame["moved"]].groupby(["Territory", "proposed_territory"]).size()
    return page, len(pairs)


RINGS = """
    var layer = territoryMap.layers.moved, map = territoryMap.map, canvas = layer._canvas;
    var box = canvas.getBoundingClientRect(), frame = map.getContainer().getBoundingClientRect();
    var ratio = window.devicePixelRatio || 1, size = map.getSize(), inked = 0;
    var w = Math.round(size.x * ratio), h = Math.round(size.y * ratio);
    if (canvas.width > 0 && canvas.height > 0) {
      var data = canvas.getContext('2d').getImageData(Math.round((frame.left - box.left) * ratio),
          Math.round((frame.top - box.top) * ratio), w, h).data;
      for (var i = 3; i < data.length; i += 4) { if (data[i] > 0) { inked++; } }
    }
    return {drawn: layer.drawn, inView: layer.inView, ink: inked / (w * h), zoom: map.getZoom()};
"""


def settle(driver) -> None:
    driver.execute_async_script("var done = arguments[0]; requestAnimationFrame(function () "
                                "{ requestAnimationFrame(function () { done(); }); });")


@needs_browser
def test_big_map_shows_arrows_per_pair_and_rings_only_when_zoomed_in(browser, big_page):
    from selenium.webdriver.support.ui import WebDriverWait

    page, pairs = big_page
    browser.get_log("browser")
    browser.get(page.resolve().as_uri())
    WebDriverWait(browser, 180).until(
        lambda d: d.execute_script("return !!(window.territoryMap && territoryMap.ready)"))
    settle(browser)
    arrows = browser.execute_script("""
        var layer = territoryMap.layers.arrows;
        return {paths: document.querySelectorAll('path.tp-arrow').length, onMap: territoryMap.map.hasLayer(layer),
                names: Array.from(document.querySelectorAll('.leaflet-control-layers-overlays label'))
                         .map(function (l) { return l.textContent.trim(); })};""")
    assert arrows["onMap"] and arrows["paths"] == pairs, f"{arrows['paths']} arrows for {pairs} pairs"
    assert "Moves: old to new territory" in arrows["names"], "the arrows can be switched in the layer control"
    start = browser.execute_script(RINGS)
    assert start["drawn"] is False and start["ink"] == 0, f"rings at the initial zoom: {start}"
    # Zoom in on the densest moves: a moved account's place, five levels closer.
    browser.execute_script("""
        var d = territoryMap.data, i = d.moved[Math.floor(d.moved.length / 2)];
        territoryMap.map.setView([d.accounts.lat[i], d.accounts.lon[i]], territoryMap.map.getZoom() + 5,
                                 {animate: false});""")
    settle(browser)
    closer = browser.execute_script(RINGS)
    assert closer["drawn"] is True and closer["ink"] > 0, f"rings after zooming in: {closer}"
    assert closer["inView"] <= page_data(page)["ringLimit"]
    errors = [m for m in browser.get_log("browser")
              if m.get("level") == "SEVERE" or "Uncaught" in m.get("message", "")]
    assert errors == []
