"""Map benchmark: writing, size and loading of the territory map, and the snapshot, at scale.

Run from the repository root::

    python tests/benchmarks/map_benchmark.py                  # 100,000 accounts, 200 territories
    python tests/benchmarks/map_benchmark.py --accounts 10000 --territories 50 --repeat 3

The instance is ``instances.make_instance`` (real US geography, seed 1) with rep bases; its
current alignment is the "unbalanced" one, and the proposed alignment moves the accounts near a
border (second-nearest territory centre within 10% of the nearest) to that neighbour, so the
map shows both alignments, the moves and their reasons. Sales are a random 10-60% of potential,
so both heat maps are drawn.

Printed (medians of ``--repeat`` runs; targets of issue 3 on a 2-core machine):

* read + map verb: reading the CSV and validating it (not part of the target);
* areas: Voronoi cells dissolved per territory, both alignments;
* HTML written: areas + page + file (target <= 5 s), and its size (target <= 25 MB);
* load in headless Chromium until the map reports ready (target <= 5 s);
* snapshot: the PNG, areas included (target <= 3 s), and with the areas already computed;
* the whole command ``territory map`` in a fresh process, for reference;
* the share of the initial view (1600 x 1000 window) painted by the moved-account marks (issue 14:
  moves must leave the density readable).
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd
from scipy.spatial import cKDTree

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parents[1]))

from instances import make_instance, territory_name  # noqa: E402

from territory_engine.io import read_table, read_tables  # noqa: E402
from territory_engine.workflow import Inputs  # noqa: E402
from territory_engine.workflow_map import map as map_verb  # noqa: E402


def build_files(folder: Path, n: int, k: int) -> tuple[Path, Path]:
    """The accounts CSV (current and proposed alignment) and the Reps CSV of the instance."""
    inst = make_instance(n, k, seed=1, with_bases=True)
    rng = np.random.default_rng(2)
    current = inst.current
    centres = np.array([[inst.lat[current == t].mean(), inst.lon[current == t].mean()] for t in range(k)])
    distance, nearest = cKDTree(centres).query(np.column_stack((inst.lat, inst.lon)), k=2)
    border = distance[:, 1] < 1.1 * distance[:, 0]
    proposed = np.where(border, nearest[:, 1], current)
    names = territory_name(np.arange(k), k)
    moved = proposed != current
    potential = inst.measures[:, 0]
    accounts = pd.DataFrame({
        "Account ID": inst.account_id,
        "Account Name": np.char.add("Account ", inst.account_id),
        "Latitude": inst.lat,
        "Longitude": inst.lon,
        "Territory": names[current],
        "Potential": np.round(potential),
        "Sales": np.round(potential * rng.uniform(0.1, 0.6, n)),
        "Workload": np.round(inst.measures[:, 1], 1),
        "proposed_territory": names[proposed],
        "moved": moved,
        "move_reason": np.where(moved, np.char.add(np.char.add(names[current], " -> "), names[proposed]), ""),
    })
    reps = pd.DataFrame({"Territory": names, "Rep": [f"Rep {i + 1}" for i in range(k)],
                         "Latitude": inst.bases[:, 0], "Longitude": inst.bases[:, 1], "Capacity": 1.0})
    accounts_path, reps_path = folder / "accounts.csv", folder / "reps.csv"
    accounts.to_csv(accounts_path, index=False)
    reps.to_csv(reps_path, index=False)
    return accounts_path, reps_path


def browser():
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = "/usr/bin/chromium"
    for flag in ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync",
                 "--window-size=1600,1000", f"--user-data-dir={tempfile.mkdtemp(prefix='chromium-')}"):
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    return webdriver.Chrome(service=Service(executable_path="/usr/bin/chromedriver"), options=options)


def load_seconds(driver, page: Path) -> tuple[float, list]:
    from selenium.webdriver.support.ui import WebDriverWait

    driver.get("about:blank")
    driver.get_log("browser")
    start = time.perf_counter()
    driver.get(page.resolve().as_uri())
    WebDriverWait(driver, 120, poll_frequency=0.02).until(
        lambda d: d.execute_script("return !!(window.territoryMap && territoryMap.ready)"))
    # Wait for the canvas and SVG to be painted: two animation frames after ready.
    driver.execute_async_script("var done = arguments[0]; requestAnimationFrame(function () "
                                "{ requestAnimationFrame(function () { done(); }); });")
    elapsed = time.perf_counter() - start
    errors = [m for m in driver.get_log("browser") if m.get("level") == "SEVERE"]
    return elapsed, errors


CPU: dict[str, float] = {}
"""Median CPU seconds of this process per timed step (close to the wall time on an idle machine)."""


INK_SCRIPT = """
    var layer = territoryMap.layers.moved, map = territoryMap.map;
    if (!layer || !layer._canvas) { return null; }
    var canvas = layer._canvas, size = map.getSize(), ratio = window.devicePixelRatio || 1;
    var box = canvas.getBoundingClientRect(), frame = map.getContainer().getBoundingClientRect();
    var x0 = Math.round((frame.left - box.left) * ratio), y0 = Math.round((frame.top - box.top) * ratio);
    var w = Math.round(size.x * ratio), h = Math.round(size.y * ratio);
    var pixels = canvas.getContext("2d").getImageData(x0, y0, w, h).data, inked = 0;
    for (var i = 3; i < pixels.length; i += 4) { if (pixels[i] > 0) { inked++; } }
    return inked / (w * h);
"""
"""The share of the map's visible pixels that the moved-account marks paint, at the initial view."""


def moved_ink(driver, page: Path) -> float:
    """Open ``page`` and return the share of the initial view painted by moved-account marks."""
    load_seconds(driver, page)
    share = driver.execute_script(INK_SCRIPT)
    return float("nan") if share is None else float(share)


def median_time(action, repeat: int, label: str = "") -> tuple[float, object]:
    times, cpu, value = [], [], None
    for _ in range(repeat):
        start, start_cpu = time.perf_counter(), time.process_time()
        value = action()
        times.append(time.perf_counter() - start)
        cpu.append(time.process_time() - start_cpu)
    CPU[label] = statistics.median(cpu)
    return statistics.median(times), value


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--accounts", type=int, default=100_000)
    parser.add_argument("--territories", type=int, default=200)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--no-browser", action="store_true", help="Skip the load time in Chromium.")
    args = parser.parse_args()

    from territory_engine.maps import write_map
    from territory_engine.maps.interactive import alignment_areas, map_html
    from territory_engine.maps.snapshot import DPI, snapshot_figure

    folder = Path(tempfile.mkdtemp(prefix="map-benchmark-"))
    accounts_path, reps_path = build_files(folder, args.accounts, args.territories)
    print(f"{args.accounts:,} accounts, {args.territories} territories (both alignments, moves, bases); "
          f"repeat {args.repeat}; files in {folder}")

    def verb():
        tables = read_tables(accounts_path)
        return map_verb(Inputs(tables["accounts"], read_table(reps_path)), scenario="benchmark")

    t_verb, result = median_time(verb, args.repeat, "verb")
    moved = int(result.accounts["moved"].sum())
    t_areas, areas = median_time(lambda: alignment_areas(result), args.repeat, "areas")
    page = folder / "map.html"
    t_html, _ = median_time(lambda: write_map(result, page, offline=True), args.repeat, "html")
    size_mb = page.stat().st_size / 1e6
    t_page, _ = median_time(lambda: map_html(result, areas=areas, offline=True), args.repeat, "page")
    png = folder / "map.png"

    def snapshot_only():
        snapshot_figure(result, areas=areas[result.shown]).savefig(png, format="png", dpi=DPI)

    t_snap_all, _ = median_time(lambda: write_map(result, None, snapshot=png), args.repeat, "snap_all")
    t_snap, _ = median_time(snapshot_only, args.repeat, "snap")
    command = [sys.executable, "-m", "territory_engine.cli", "map", str(accounts_path), "--reps", str(reps_path),
               "--output", str(folder / "cli.html"), "--snapshot", str(folder / "cli.png"), "--offline"]
    t_cli, _ = median_time(lambda: subprocess.run(command, check=True, capture_output=True), 1)

    load, errors, ink = float("nan"), [], float("nan")
    if not args.no_browser:
        driver = browser()
        try:
            load_seconds(driver, page)  # warm the browser once
            loads = [load_seconds(driver, page) for _ in range(args.repeat)]
        finally:
            driver.quit()
        load = statistics.median(t for t, _ in loads)
        driver = browser()
        try:
            ink = moved_ink(driver, page)
        finally:
            driver.quit()
        errors = [e for _, errs in loads for e in errs]

    nan = float("nan")
    rows = [
        ("read CSV + map verb", t_verb, CPU["verb"], None, "s"),
        ("territory areas (both alignments)", t_areas, CPU["areas"], None, "s"),
        ("HTML written (areas + page + file)", t_html, CPU["html"], 5.0, "s"),
        ("  of which the page alone", t_page, CPU["page"], None, "s"),
        ("HTML size", size_mb, nan, 25.0, "MB"),
        ("load in headless Chromium", load, nan, 5.0, "s"),
        ("snapshot PNG (areas included)", t_snap_all, CPU["snap_all"], 3.0, "s"),
        ("  with the areas computed", t_snap, CPU["snap"], None, "s"),
        ("whole command, fresh process (1 run)", t_cli, nan, None, "s"),
    ]
    load_average = " ".join(f"{x:.1f}" for x in os.getloadavg())
    print(f"moved accounts: {moved:,}; console errors in Chromium: {len(errors)}; load average {load_average} "
          f"on {os.cpu_count()} cores (cpu: CPU seconds of this process, near the wall time when idle)")
    print(f"{'what':<40} {'median':>9} {'cpu':>7} {'target':>8}  verdict")
    for what, value, cpu, target, unit in rows:
        verdict = "" if target is None or not np.isfinite(value) else ("PASS" if value <= target else "FAIL")
        target_text = "" if target is None else f"<= {target:g}"
        cpu_text = f"{cpu:7.2f}" if np.isfinite(cpu) else " " * 7
        print(f"{what:<40} {value:>7.2f} {unit:<2}{cpu_text} {target_text:>7}  {verdict}")
    print(f"moved-account marks paint {ink:.1%} of the initial view (1600 x 1000 window)")
    for error in errors[:5]:
        print("console error:", error.get("message"))


if __name__ == "__main__":
    main()
