"""The offline map rendered in headless Chromium: no console errors, one area per territory, no script
from workbook text.

Needs Debian's ``chromium`` and ``chromium-driver`` (``scripts/test.sh`` installs them). Selenium is
given the driver's path, so it downloads nothing. Without them the tests are skipped, except in CI
(``CI`` set), where they fail.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from territory_engine.cli import main

from chromium import require_chromium, start_chromium  # noqa: E402

DEMO = Path(__file__).resolve().parents[1] / "workbooks" / "territory_demo.xlsx"

PAYLOADS = {
    # account row (0-based) -> name
    0: '<img src=x onerror="window.__xss=1">',
    1: "</script><script>window.__xss=2</script>",
    2: '"><svg onload="window.__xss=3">',
    3: "{{ 7*7 }} {% if true %}{# not a template #}",
}
REP_PAYLOAD = '<img src=y onerror="window.__xss=4">'

require_chromium()


def run(*args):
    return CliRunner().invoke(main, [str(a) for a in args], catch_exceptions=False)


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    driver = start_chromium(tmp_path_factory.mktemp("chromium-profile"), window="1400,900", page_timeout=60)
    yield driver
    driver.quit()


@pytest.fixture(scope="module")
def hostile_workbook(tmp_path_factory) -> Path:
    """A copy of the demo workbook with script in account and rep names."""
    import openpyxl

    path = tmp_path_factory.mktemp("hostile") / "hostile.xlsx"
    shutil.copy(DEMO, path)
    book = openpyxl.load_workbook(path)
    accounts = book["Accounts"]
    headers = [c.value for c in accounts[1]]
    name_column = headers.index("Account Name") + 1
    for row, name in PAYLOADS.items():
        accounts.cell(row=row + 2, column=name_column, value=name)
    reps = book["Reps"]
    rep_column = [c.value for c in reps[1]].index("Rep") + 1
    reps.cell(row=2, column=rep_column, value=REP_PAYLOAD)
    book.save(path)
    return path


def load(browser, page: Path) -> list[dict]:
    """Open a page, wait until the map says it is ready, return the console messages."""
    from selenium.webdriver.support.ui import WebDriverWait

    browser.get_log("browser")  # drop messages of earlier pages
    browser.get(page.resolve().as_uri())
    WebDriverWait(browser, 30).until(lambda d: d.execute_script("return !!(window.territoryMap && territoryMap.ready)"))
    return browser.get_log("browser")


def console_errors(messages: list[dict]) -> list[dict]:
    return [m for m in messages if m.get("level") in ("SEVERE", "ERROR") or "Uncaught" in m.get("message", "")]


def test_offline_map_renders_one_area_per_territory_without_console_errors(browser, tmp_path):
    page = tmp_path / "demo.html"
    result = run("map", DEMO, "--output", page, "--offline")
    assert result.exit_code == 0, result.output
    messages = load(browser, page)
    assert console_errors(messages) == []
    drawn = browser.execute_script("return document.querySelectorAll('path.tp-area-current').length")
    features = browser.execute_script("return territoryMap.layers.current.getLayers().length")
    assert drawn == features == 12
    # Every account is a marker; the legend lists every territory; nothing came from a network.
    assert browser.execute_script("return territoryMap.layers.accounts.count()") == 4000
    assert browser.execute_script("return document.querySelectorAll('.tp-legend tr').length") == 13
    resources = browser.execute_script(
        "return performance.getEntriesByType('resource').map(function (r) { return r.name; })")
    assert [r for r in resources if r.startswith("http")] == []
    assert browser.execute_script("return document.querySelectorAll('.leaflet-tile').length") == 0
    # Hovering a territory shows its rep, accounts, measures with share of target, and deviation.
    tip = browser.execute_script("""
        var area = territoryMap.layers.current.getLayers()[0];
        area.fire('mouseover', {latlng: area.getBounds().getCenter()}, true);
        var tips = document.querySelectorAll('.leaflet-tooltip');
        return tips.length ? tips[tips.length - 1].textContent : '';
    """)
    t = browser.execute_script("return territoryMap.layers.current.getLayers()[0].feature.properties.t")
    row = browser.execute_script("return territoryMap.data.summary.current.rows[arguments[0]]", t)
    for text in (row[0], row[1], "potential share of target", "Deviation", "sales"):
        assert text in tip


def test_rebalance_result_shows_both_alignments_and_moves(browser, tmp_path):
    proposed = tmp_path / "proposed.xlsx"
    assert run("rebalance", DEMO, "--output", proposed).exit_code == 0
    page = tmp_path / "after.html"
    result = run("map", proposed, "--output", page, "--offline", "--reps", DEMO)
    assert result.exit_code == 0, result.output
    assert console_errors(load(browser, page)) == []
    assert browser.execute_script("return document.querySelectorAll('path.tp-area-proposed').length") == 12
    # The current alignment is a layer the user can switch on.
    browser.execute_script("territoryMap.map.addLayer(territoryMap.layers.current)")
    assert browser.execute_script("return document.querySelectorAll('path.tp-area-current').length") == 12
    moved = browser.execute_script("return territoryMap.layers.moved.count()")
    assert moved == browser.execute_script("return territoryMap.data.moved.length") > 0
    names = browser.execute_script(
        "return Array.from(document.querySelectorAll('.leaflet-control-layers label')).map(function (l) "
        "{ return l.textContent.trim(); })")
    for layer in ("Current alignment", "Proposed alignment", "Moved accounts", "Heat map: potential",
                  "Heat map: gap (potential - sales)"):
        assert layer in names


def hover_account(browser, index: int) -> str:
    """Move the mouse over account ``index`` (a map mousemove at its point); return the tooltip's text."""
    return browser.execute_script("""
        var map = territoryMap.map, a = territoryMap.data.accounts, index = arguments[0];
        var latlng = L.latLng(a.lat[index], a.lon[index]);
        map.setView(latlng, 14, {animate: false});
        var point = map.latLngToContainerPoint(latlng);
        map.fire('mousemove', {latlng: latlng, containerPoint: point, layerPoint: map.containerPointToLayerPoint(point)});
        var tips = document.querySelectorAll('.leaflet-tooltip');
        return tips.length ? tips[tips.length - 1].textContent : '';
    """, index)


def test_workbook_text_shows_as_text_and_runs_nothing(browser, hostile_workbook, tmp_path):
    page = tmp_path / "hostile.html"
    result = run("map", hostile_workbook, "--output", page, "--offline")
    assert result.exit_code == 0, result.output
    assert console_errors(load(browser, page)) == []
    for index, name in PAYLOADS.items():
        text = hover_account(browser, index)
        assert name in text, f"the tooltip of account {index} should show its name as text"
    legend = browser.execute_script("return document.querySelector('.tp-legend').textContent")
    assert REP_PAYLOAD in legend
    assert browser.execute_script("return typeof window.__xss") == "undefined"
    assert browser.execute_script("return document.querySelectorAll('img[src=\"x\"], img[src=\"y\"], svg[onload]').length") == 0


# ---------------------------------------------------------------- issue 14: maps that look professional


def densest_box(lat, lon, share=0.1, neighbours=20):
    """[south, west, north, east] of the densest tenth of the accounts (shortest distance to their
    20th nearest account), computed here on its own, not by the page."""
    import numpy as np
    from scipy.spatial import cKDTree

    lat, lon = np.asarray(lat, dtype=float), np.asarray(lon, dtype=float)
    xy = np.column_stack((lon * np.cos(np.radians(lat.mean())), lat))
    distance, _ = cKDTree(xy).query(xy, k=neighbours + 1)
    dense = np.argsort(distance[:, -1], kind="stable")[:int(share * len(lat))]
    return [lat[dense].min(), lon[dense].min(), lat[dense].max(), lon[dense].max()]


VIEW = """
    var m = territoryMap.map, a = territoryMap.data.accounts, b = m.getBounds(), outside = 0;
    for (var i = 0; i < a.lat.length; i++) { if (!b.contains([a.lat[i], a.lon[i]])) { outside++; } }
    var box = arguments[0], p = m.latLngToContainerPoint([box[0], box[1]]), q = m.latLngToContainerPoint([box[2], box[3]]);
    var frame = m.getContainer().getBoundingClientRect(), l = document.querySelector('.tp-legend').getBoundingClientRect();
    return {outside: outside, size: [frame.width, frame.height],
            legend: [l.left - frame.left, l.top - frame.top, l.right - frame.left, l.bottom - frame.top],
            dense: [Math.min(p.x, q.x), Math.min(p.y, q.y), Math.max(p.x, q.x), Math.max(p.y, q.y)],
            labels: Array.from(document.querySelectorAll('.tp-label-current')).map(function (e) { return e.textContent; }),
            background: getComputedStyle(m.getContainer()).backgroundColor,
            land: document.querySelectorAll('path.tp-land').length};
"""


@pytest.fixture(scope="module")
def demo_page(tmp_path_factory) -> Path:
    page = tmp_path_factory.mktemp("demo-page") / "demo.html"
    assert run("map", DEMO, "--output", page, "--offline").exit_code == 0
    return page


@pytest.mark.parametrize("size", [(1280, 720), (1600, 1000)])
def test_initial_view_fits_every_account_with_labels_land_and_the_legend_off_the_densest_accounts(
        browser, demo_page, size):
    import pandas as pd

    browser.execute_cdp_cmd("Emulation.setDeviceMetricsOverride",
                            {"width": size[0], "height": size[1], "deviceScaleFactor": 1, "mobile": False})
    try:
        assert console_errors(load(browser, demo_page)) == []
        accounts = pd.read_excel(DEMO, sheet_name="Accounts", engine="openpyxl")
        view = browser.execute_script(VIEW, densest_box(accounts["Latitude"], accounts["Longitude"]))
    finally:
        browser.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})
    assert view["size"] == list(size)
    assert view["outside"] == 0, "the initial view contains every account"
    legend, dense = view["legend"], view["dense"]
    overlap = (legend[0] < dense[2] and dense[0] < legend[2] and legend[1] < dense[3] and dense[1] < legend[3])
    assert not overlap, f"the legend {legend} covers the densest accounts {dense}"
    assert sorted(view["labels"]) == sorted(f"T{i:02d}" for i in range(1, 13)), "one label per territory"
    assert view["background"] != "rgb(221, 221, 221)" and view["land"] > 0, "land and water, not grey"
    # The legend collapses and opens again.
    state = browser.execute_script("""
        var button = document.querySelector('.tp-legend .tp-toggle'), body = document.querySelector('.tp-legend .tp-body');
        var before = body.style.display; button.click(); var after = body.style.display; button.click();
        return [before, after, body.style.display];""")
    assert state[1] != state[2] and "none" in state


def test_moved_marks_leave_the_accounts_readable(browser, tmp_path):
    proposed = tmp_path / "proposed.xlsx"
    assert run("rebalance", DEMO, "--output", proposed, "--tolerance", "0.02").exit_code in (0, 3)
    page = tmp_path / "after.html"
    assert run("map", proposed, "--output", page, "--offline", "--reps", DEMO).exit_code == 0
    assert console_errors(load(browser, page)) == []
    share = browser.execute_script("""
        var layer = territoryMap.layers.moved, map = territoryMap.map, canvas = layer._canvas;
        var box = canvas.getBoundingClientRect(), frame = map.getContainer().getBoundingClientRect();
        var ratio = window.devicePixelRatio || 1, size = map.getSize();
        var data = canvas.getContext('2d').getImageData(Math.round((frame.left - box.left) * ratio),
            Math.round((frame.top - box.top) * ratio), Math.round(size.x * ratio), Math.round(size.y * ratio)).data;
        var inked = 0;
        for (var i = 3; i < data.length; i += 4) { if (data[i] > 0) { inked++; } }
        return inked / (data.length / 4);""")
    moved = browser.execute_script("return territoryMap.data.moved.length")
    print(f"{moved} moved accounts paint {share:.2%} of the view")
    assert share < 0.01, f"{moved} moved accounts paint {share:.1%} of the initial view"


def test_a_map_of_county_territories_draws_one_shape_per_county_with_its_tooltip(browser, tmp_path):
    """Issue 15, section 4: with blocks, each block's real shape is drawn, and territories follow
    county lines (each territory's area is the union of its counties)."""
    import csv

    from territory_engine.geography import load_blocks

    table = tmp_path / "counties.csv"
    with open(table, "w", newline="") as f:
        csv.writer(f).writerows([["County", "State", "Population", "Territory"], ["Cook", "IL", 5150233, "North"],
                                 ["DuPage", "IL", 932877, "North"], ["Will", "IL", 690743, "South"],
                                 ["Champaign", "IL", 209689, "South"]])
    page = tmp_path / "counties.html"
    result = run("map", table, "--block", "county", "--output", page, "--offline")
    assert result.exit_code == 0, result.output
    assert console_errors(load(browser, page)) == []
    drawn = browser.execute_script(
        "var out = []; for (const key of Object.keys(window)) { if (key.startsWith('geo_json_') && window[key] && window[key].eachLayer) {"
        " window[key].eachLayer(function (l) { out.push(l.feature.properties.County); }); } } return out;")
    counties = load_blocks("county")
    illinois = sorted(counties.names[counties.state == "IL"])
    assert sorted(drawn) == illinois  # one shape per county in play, each named in its tooltip
