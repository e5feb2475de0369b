"""Issue 14, part 3 (maps that look professional): every case run against the code at hand.

Run from the repository root, before and after the change, with the same interpreter::

    .venv/bin/python tests/edge_cases/maps14.py [--no-browser]

Each case runs the real command line in a subprocess (exit code, first output line) and then
measures what the case is about (in headless Chromium or on the PNG), printing one line per case.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[2]
DEMO = ROOT / "workbooks" / "territory_demo.xlsx"
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(ROOT))


def cli(*args) -> tuple[int, str]:
    done = subprocess.run([sys.executable, "-c", "from territory_engine.cli import main; main()",
                           *map(str, args)], capture_output=True, text=True, cwd=ROOT)
    lines = (done.stderr.strip() or done.stdout.strip() or "(no output)").splitlines()
    return done.returncode, lines[0]


def enclave_csv(folder: Path) -> Path:
    """Territory B on a 15 x 15 grid with a one-account enclave of A in its middle; C beside them."""
    rng = np.random.default_rng(0)
    lat, lon = np.meshgrid(np.linspace(40.0, 40.6, 15), np.linspace(-77.6, -76.9, 15))
    lat, lon = lat.ravel() + rng.normal(0, 0.004, lat.size), lon.ravel() + rng.normal(0, 0.004, lon.size)
    territory = np.full(lat.size, "B", dtype=object)
    middle = int(np.argmin((lat - 40.3) ** 2 + (lon + 77.25) ** 2))
    territory[middle] = "A"
    c_lat, c_lon = rng.uniform(40.7, 41.2, 60), rng.uniform(-77.6, -76.2, 60)
    frame = pd.DataFrame({
        "Account ID": [f"X{i}" for i in range(lat.size + 60)],
        "Latitude": np.concatenate([lat, c_lat]), "Longitude": np.concatenate([lon, c_lon]),
        "Territory": np.concatenate([territory, ["C"] * 60]), "Potential": 100.0})
    path = folder / "enclave.csv"
    frame.to_csv(path, index=False)
    (folder / "enclave.json").write_text(json.dumps({"A": [float(lat[middle]), float(lon[middle])]}))
    return path


def png_colour_at(png: Path, result, lat: float, lon: float) -> tuple[int, int, int]:
    """The snapshot's colour at ``lat``, ``lon`` with its labels left out (a label sits on a small
    enclave); the figure is drawn again as the command drew ``png``, whose size it checks."""
    import matplotlib.image as mpimg

    from territory_engine.maps.snapshot import snapshot_figure

    fig = snapshot_figure(result)
    ax = fig.axes[0]
    for text in list(ax.texts):
        text.remove()
    fig.canvas.draw()  # the equal aspect is applied when drawing
    pixels = np.asarray(fig.canvas.buffer_rgba())[..., :3]
    assert pixels.shape[:2] == mpimg.imread(png).shape[:2]
    scale = float(np.cos(np.radians(np.nanmean(result.accounts["lat"].to_numpy(dtype=float)))))
    x, y = ax.transData.transform((lon * scale, lat))
    return tuple(int(v) for v in pixels[int(round(pixels.shape[0] - y)), int(round(x))])


def map_result(path: Path, reps: Path | None = None):
    from territory_engine.io import read_table, read_tables
    from territory_engine.workflow import Inputs
    from territory_engine.workflow_map import map as map_verb

    tables = read_tables(path)
    reps_table = read_table(reps, sheet="Reps") if reps else tables.get("reps")
    return map_verb(Inputs(tables["accounts"], reps_table, tables.get("settings")), scenario=path.stem)


def dense_box(lat, lon, share=0.1, neighbours=20):
    """Lat/lon bounds of the densest ``share`` of accounts (smallest distance to the 20th nearest)."""
    from scipy.spatial import cKDTree

    scale = np.cos(np.radians(np.mean(lat)))
    xy = np.column_stack((lon * scale, lat))
    distance, _ = cKDTree(xy).query(xy, k=neighbours + 1)
    dense = np.argsort(distance[:, -1], kind="stable")[:max(1, int(share * len(lat)))]
    return float(lat[dense].min()), float(lon[dense].min()), float(lat[dense].max()), float(lon[dense].max())


def browser_probe(page: Path, size: tuple[int, int], box) -> dict:
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service
    from selenium.webdriver.support.ui import WebDriverWait

    options = webdriver.ChromeOptions()
    options.binary_location = "/usr/bin/chromium"
    for flag in ("--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--hide-scrollbars",
                 f"--window-size={size[0]},{size[1]}", f"--user-data-dir={tempfile.mkdtemp(prefix='chr-')}"):
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(executable_path="/usr/bin/chromedriver"), options=options)
    try:
        driver.set_window_size(*size)
        driver.get(page.resolve().as_uri())
        WebDriverWait(driver, 60).until(lambda d: d.execute_script("return !!(window.territoryMap && territoryMap.ready)"))
        return driver.execute_script("""
            var m = territoryMap.map, a = territoryMap.data.accounts, b = m.getBounds(), out = 0;
            for (var i = 0; i < a.lat.length; i++) { if (!b.contains([a.lat[i], a.lon[i]])) { out++; } }
            var box = arguments[0], p1 = m.latLngToContainerPoint([box[0], box[1]]),
                p2 = m.latLngToContainerPoint([box[2], box[3]]);
            var mr = m.getContainer().getBoundingClientRect();
            var legend = document.querySelector('.tp-legend').getBoundingClientRect();
            var lx0 = legend.left - mr.left, ly0 = legend.top - mr.top, lx1 = lx0 + legend.width, ly1 = ly0 + legend.height;
            var bx0 = Math.min(p1.x, p2.x), bx1 = Math.max(p1.x, p2.x), by0 = Math.min(p1.y, p2.y), by1 = Math.max(p1.y, p2.y);
            var overlap = Math.max(0, Math.min(lx1, bx1) - Math.max(lx0, bx0)) * Math.max(0, Math.min(ly1, by1) - Math.max(ly0, by0));
            return {outside: out, zoom: m.getZoom(), labels: document.querySelectorAll('.tp-label').length,
                    background: getComputedStyle(m.getContainer()).backgroundColor,
                    land: document.querySelectorAll('path.tp-land').length,
                    overlap: overlap, legend: [lx0, ly0, lx1, ly1].map(Math.round), box: [bx0, by0, bx1, by1].map(Math.round)};
        """, list(box))
    finally:
        driver.quit()


def spill(result, areas) -> tuple[float, float]:
    """Share of area drawn in states where its territory has no account, and of account states left uncovered."""
    import shapely

    from territory_engine.maps.regions import state_outlines

    lat, lon = result.accounts["lat"].to_numpy(), result.accounts["lon"].to_numpy()
    states = state_outlines()
    inside = np.array([shapely.contains_xy(s.shape, lon, lat) for s in states])
    spilled = total = 0.0
    for t, area in enumerate(areas):
        if area is None:
            continue
        mine = result.territory == t
        own = [s.shape for s, hit in zip(states, inside[:, mine].any(axis=1)) if hit]
        total += area.area
        spilled += area.difference(shapely.union_all(own)).area
    served = shapely.union_all([s.shape for s, hit in zip(states, inside.any(axis=1)) if hit])
    drawn = shapely.union_all([a for a in areas if a is not None])
    return spilled / total, served.difference(drawn).area / served.area


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--no-browser", action="store_true")
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="maps14-"))
    from territory_engine.maps.interactive import alignment_areas

    page = folder / "demo.html"
    code, first = cli("map", DEMO, "--output", page, "--snapshot", folder / "demo.png", "--offline")
    print(f"demo map: territory map DEMO --output demo.html --snapshot demo.png --offline -> {code} {first!r}")
    demo = map_result(DEMO)
    lat, lon = demo.accounts["lat"].to_numpy(), demo.accounts["lon"].to_numpy()
    box = dense_box(lat, lon)
    if not args.no_browser:
        for size in ((1280, 720), (1600, 1000)):
            probe = browser_probe(page, size, box)
            print(f"1/2 {size}: labels {probe['labels']} (of {len(demo.ids)}), background {probe['background']}, "
                  f"land shapes {probe['land']}, accounts outside the initial view {probe['outside']}, "
                  f"zoom {probe['zoom']}, legend px {probe['legend']} over densest-10% box px {probe['box']}: "
                  f"overlap {probe['overlap']:.0f} px2")
    areas = alignment_areas(demo, ("current",))["current"]
    spilled, uncovered = spill(demo, areas)
    print(f"3 areas: {spilled:.1%} of the drawn area lies in states where its territory has no account; "
          f"{uncovered:.1%} of the states with accounts is left uncovered (gaps, coast)")
    from territory_engine.maps import style

    colour_fn = getattr(style, "territory_colour_map", None)
    if colour_fn is None:
        first_ids, second_ids = ("T01", "T02", "T03"), ("T02", "T03")
        one, two = style.territory_colours(3), style.territory_colours(2)
        print(f"5 colours: T02 is {one[1]} with T01..T03 and {two[0]} without T01 (by position); "
              f"no adjacency-aware colouring")
    else:
        one, two = colour_fn(("T01", "T02", "T03")), colour_fn(("T02", "T03"))
        print(f"5 colours: T02 is {one['T02']} with T01..T03 and {two['T02']} without T01")
    png = folder / "demo.png"
    from matplotlib.figure import Figure  # noqa: F401

    from territory_engine.maps.snapshot import snapshot_figure

    texts = [t.get_text() for t in snapshot_figure(demo).findobj(lambda a: hasattr(a, "get_text"))]
    key = [t for t in texts if "rep base" in t.lower() or "moved account" in t.lower()]
    print(f"6 PNG key: texts naming the symbols: {key}")
    enclave = enclave_csv(folder)
    code, first = cli("map", enclave, "--output", folder / "enclave.html", "--snapshot", folder / "enclave.png",
                      "--offline")
    where = json.loads((folder / "enclave.json").read_text())
    result = map_result(enclave)
    colours = dict(zip(result.ids, _colours(result)))
    for enclave_id, (lat_e, lon_e) in where.items():
        found = png_colour_at(folder / "enclave.png", result, lat_e, lon_e)
        owner = [t for t, c in colours.items() if tuple(int(c[i:i + 2], 16) for i in (1, 3, 5)) == found]
        print(f"7 enclave {enclave_id}: territory map enclave.csv --output enclave.html --snapshot enclave.png "
              f"-> {code} {first!r}; the PNG at {enclave_id}'s enclave account is {found} = territory "
              f"{owner or '?'} ({enclave_id} is {colours[enclave_id]})")
    del png


def _colours(result):
    from territory_engine.maps import style

    if hasattr(style, "result_colours"):
        return style.result_colours(result)
    return style.territory_colours(len(result.ids))


if __name__ == "__main__":
    main()
