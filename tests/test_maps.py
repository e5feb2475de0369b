"""Territory maps without a browser: areas, safe JSON, the map verb, the page, the snapshot, the CLI."""

from __future__ import annotations

import dataclasses
import hashlib
import json
import re
import shutil
from pathlib import Path

import numpy as np
import pytest
import shapely
from click.testing import CliRunner

from territory_engine.cli import main
from territory_engine.errors import InputError
from territory_engine.io import read_table, read_tables
from territory_engine.maps import write_map
from territory_engine.maps.interactive import map_html
from territory_engine.maps.offline import script_json
from territory_engine.maps.regions import clip_outline, state_outlines, territory_areas
from territory_engine.maps.snapshot import snapshot_figure
from territory_engine.maps.style import hex_to_rgb, result_colours
from territory_engine.workflow import Inputs
from territory_engine.workflow_map import map as map_verb

DEMO = Path(__file__).resolve().parents[1] / "workbooks" / "territory_demo.xlsx"
XSS = '<img src=x onerror="window.__xss=1">'


def run(*args):
    return CliRunner().invoke(main, [str(a) for a in args], catch_exceptions=False)


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture(scope="module")
def demo_result():
    tables = read_tables(DEMO)
    return map_verb(Inputs(tables["accounts"], tables.get("reps"), tables.get("settings")), scenario="demo")


@pytest.fixture(scope="module")
def rebalanced(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("rebalanced")
    out = folder / "proposed.xlsx"
    assert run("rebalance", DEMO, "--output", out).exit_code == 0
    return out


# ---------------------------------------------------------------- areas


def _scattered(n=3000, k=7, seed=3):
    rng = np.random.default_rng(seed)
    lat = rng.uniform(39.0, 43.0, n)
    lon = rng.uniform(-80.0, -74.0, n)
    centres = rng.uniform([39.0, -80.0], [43.0, -74.0], (k, 2))
    territory = np.argmin((lat[:, None] - centres[:, 0]) ** 2 + (lon[:, None] - centres[:, 1]) ** 2, axis=1)
    return lat, lon, territory


def test_areas_partition_the_clip_outline_one_per_territory():
    lat, lon, territory = _scattered()
    clip = shapely.multipoints(np.column_stack((lon, lat))).convex_hull.buffer(0.1)
    areas = territory_areas(lat, lon, territory, 8, clip=clip)
    assert areas[7] is None, "a territory without accounts has no area"
    present = [a for a in areas if a is not None]
    assert len(present) == 7
    assert all(a.geom_type in ("Polygon", "MultiPolygon") and a.is_valid for a in present)
    total = sum(a.area for a in present)
    union = shapely.union_all(present)
    # No overlaps: the areas add up to their union; no gaps: the union covers the outline.
    assert total == pytest.approx(union.area, rel=1e-6)
    assert union.area == pytest.approx(clip.area, rel=0.01)
    for i in range(7):
        for j in range(i + 1, 7):
            assert present[i].intersection(present[j]).area < 1e-6 * total


def test_accounts_lie_in_their_own_territory_area():
    lat, lon, territory = _scattered(seed=5)
    areas = territory_areas(lat, lon, territory, 7, clip=shapely.box(-81, 38, -73, 44))
    inside = np.zeros(len(lat), dtype=bool)
    for t, area in enumerate(areas):
        mine = territory == t
        inside[mine] = shapely.contains_xy(area, lon[mine], lat[mine]) | (
            shapely.distance(area, shapely.points(lon[mine], lat[mine])) < 0.02)
    assert inside.mean() > 0.99


def test_areas_do_not_mutate_inputs_and_handle_tiny_inputs():
    lat, lon, territory = np.array([40.0, 41.0]), np.array([-75.0, -74.0]), np.array([0, 1])
    before = (lat.copy(), lon.copy(), territory.copy())
    areas = territory_areas(lat, lon, territory, 2, clip=shapely.box(-76, 39, -73, 42))
    assert all(a is not None and a.area > 0 for a in areas)
    assert areas[0].intersection(areas[1]).area < 1e-9
    for a, b in zip(before, (lat, lon, territory)):
        assert np.array_equal(a, b)
    one = territory_areas(lat[:1], lon[:1], territory[:1], 1, clip=shapely.box(-76, 39, -73, 42))
    assert one[0].area == pytest.approx(9.0, rel=1e-6)


def test_land_outline_is_used_for_us_accounts_and_the_hull_elsewhere():
    lat, lon, _ = _scattered()
    shape, on_land = clip_outline(lat, lon)
    assert on_land and shape.area > 0
    ocean_lat, ocean_lon = np.array([30.0, 31.0, 30.5]), np.array([-40.0, -41.0, -39.0])
    shape, on_land = clip_outline(ocean_lat, ocean_lon)
    assert not on_land and shape.contains(shapely.Point(-40.0, 30.5))
    codes = {s.code for s in state_outlines()}
    assert len(codes) == 51 and {"ME", "VA", "DC", "AK", "HI"} <= codes


# ---------------------------------------------------------------- safe text


@pytest.mark.parametrize("text", [XSS, "</script><script>window.__xss=2</script>", "a & b > c\u2028d", "<!--",
                                  "{{ 7*7 }} {% if 1 %}{# note #}", "{{{"])
def test_script_json_cannot_close_the_script_open_a_tag_or_a_template(text):
    encoded = script_json({"name": text, "list": [text, 1.5, None]})
    assert "<" not in encoded and ">" not in encoded and "\u2028" not in encoded
    assert "{{" not in encoded and "{%" not in encoded and "{#" not in encoded
    assert json.loads(encoded) == {"name": text, "list": [text, 1.5, None]}


def test_script_json_writes_non_finite_numbers_as_null():
    assert json.loads(script_json([float("nan"), float("inf"), 2.0])) == [None, None, 2.0]


# ---------------------------------------------------------------- the map verb


def test_map_of_accounts_shows_the_current_alignment(demo_result):
    r = demo_result
    assert r.shown == "current" and r.proposed is None
    assert len(r.ids) == 12 and (r.current >= 0).all()
    assert not r.accounts["moved"].any()
    assert set(r.accounts["tier"].dropna()) <= {"A", "B", "C"}
    assert np.isfinite(r.bases).all(), "the demo's Reps sheet gives every rep a base"
    assert list(r.summary["alignment"].unique()) == ["current"]


def test_map_of_a_rebalance_result_shows_both_alignments_and_the_moves(rebalanced):
    tables = read_tables(rebalanced)
    reps = read_table(DEMO, sheet="Reps")
    settings = read_table(rebalanced, sheet="Settings used")
    r = map_verb(Inputs(tables["accounts"], reps, settings), scenario="rebalanced")
    assert r.shown == "proposed"
    moved = r.accounts["moved"].to_numpy()
    assert np.array_equal(moved, r.current != r.proposed)
    assert moved.any()
    assert all(reason.startswith(f"{r.ids[c]} -> {r.ids[p]}")
               for reason, c, p in zip(r.accounts["move_reason"][moved], r.current[moved], r.proposed[moved]))
    proposed = r.balance.set_index("alignment").loc["proposed"]
    assert proposed["within tolerance"], "with the Reps capacities, the proposal is balanced"


def test_map_without_any_territory_is_an_input_error(tmp_path):
    path = tmp_path / "accounts.csv"
    path.write_text("Account ID,Latitude,Longitude,Potential\nA1,40,-75,10\nA2,41,-74,20\n", encoding="utf-8")
    with pytest.raises(InputError, match="no account has a territory"):
        map_verb(Inputs(read_table(path)))


# ---------------------------------------------------------------- the page and the snapshot


def test_page_is_self_contained_and_text_is_escaped(demo_result):
    accounts = demo_result.accounts.copy()
    accounts.loc[0, "account_name"] = XSS
    accounts.loc[1, "account_name"] = "</script><script>window.__xss=2</script>"
    accounts.loc[2, "account_name"] = "{{ 7*7 }}{% if true %}{# note #}"
    result = dataclasses.replace(demo_result, accounts=accounts)
    offline = map_html(result, offline=True)
    assert "<script src" not in offline and "<link" not in offline, "nothing is loaded from outside"
    assert not re.search(r"url\(\s*['\"]?https?:|@import", offline), "no CSS loads anything from outside"
    assert "tile.openstreetmap" not in offline
    assert XSS not in offline and "window.__xss=2</script>" not in offline
    assert "{{ 7*7 }}" not in offline and "49" not in offline.split("var territory_data")[1][:200]
    assert offline.count("</script>") == offline.count("<script>")
    online = map_html(result, offline=False)
    assert "tile.openstreetmap.org" in online


def test_snapshot_shows_every_territory_colour(demo_result):
    fig = snapshot_figure(demo_result)
    fig.canvas.draw()
    pixels = np.asarray(fig.canvas.buffer_rgba())[..., :3]
    height, width = pixels.shape[:2]
    assert width >= 1600 and height >= 1000
    found = {tuple(c) for c in np.unique(pixels.reshape(-1, 3), axis=0)}
    for colour in result_colours(demo_result):
        assert hex_to_rgb(colour) in found, f"territory colour {colour} is missing from the snapshot"


# ---------------------------------------------------------------- the command


def test_map_command_on_a_copy_of_the_demo_workbook(tmp_path):
    demo = tmp_path / "demo.xlsx"
    shutil.copy(DEMO, demo)
    before = digest(demo)
    result = run("map", demo, "--output", tmp_path / "map.html", "--snapshot", tmp_path / "map.png", "--offline")
    assert result.exit_code == 0, result.output
    assert digest(demo) == before
    html = (tmp_path / "map.html").read_text(encoding="utf-8")
    assert "window.territoryMap" in html and "tile.openstreetmap" not in html
    assert (tmp_path / "map.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["demo.xlsx", "map.html", "map.png"]


def test_map_command_on_a_rebalance_result(rebalanced, tmp_path):
    out = tmp_path / "after.html"
    result = run("map", rebalanced, "--output", out, "--reps", DEMO)
    assert result.exit_code == 0, result.output
    html = out.read_text(encoding="utf-8")
    assert "Proposed alignment" in html and "Current alignment" in html and "Moved accounts" in html


@pytest.mark.parametrize("case", ["missing", "bad extension", "png extension", "no territory", "bad number",
                                  "overwrite input"])
def test_map_command_bad_input_exits_2_and_leaves_nothing(tmp_path, case):
    folder = tmp_path / "work"
    folder.mkdir()
    good = folder / "accounts.csv"
    good.write_text("Account ID,Latitude,Longitude,Territory,Potential\nA1,40,-75,T1,10\nA2,41,-74,T2,20\n"
                    "A3,40.5,-74.5,T1,5\n", encoding="utf-8")
    args = {
        "missing": [folder / "nope.xlsx", "--output", folder / "map.html"],
        "bad extension": [good, "--output", folder / "map.txt"],
        "png extension": [good, "--output", folder / "map.html", "--snapshot", folder / "map.jpg"],
        "no territory": [folder / "plain.csv", "--output", folder / "map.html", "--snapshot", folder / "map.png"],
        "bad number": [folder / "bad.csv", "--output", folder / "map.html"],
        "overwrite input": [good, "--output", folder / "map.html", "--snapshot", good],
    }[case]
    (folder / "plain.csv").write_text("Account ID,Latitude,Longitude,Potential\nA1,40,-75,10\n", encoding="utf-8")
    (folder / "bad.csv").write_text("Account ID,Latitude,Longitude,Territory,Potential\nA1,40,-75,T1,n/a\n",
                                    encoding="utf-8")
    before = {p.name: digest(p) for p in folder.iterdir()}
    result = run("map", *args)
    assert result.exit_code == 2, result.output
    assert "error:" in result.output and "Traceback" not in result.output
    assert {p.name: digest(p) for p in folder.iterdir()} == before


def test_write_map_leaves_nothing_when_drawing_fails(demo_result, tmp_path, monkeypatch):
    import territory_engine.maps.snapshot as snapshot

    def broken(*args, **kwargs):
        raise RuntimeError("drawing failed")

    monkeypatch.setattr(snapshot, "snapshot_figure", broken)
    with pytest.raises(RuntimeError):
        write_map(demo_result, tmp_path / "map.html", snapshot=tmp_path / "map.png")
    assert list(tmp_path.iterdir()) == []


def test_map_command_open_opens_the_written_page(tmp_path, monkeypatch):
    import webbrowser

    opened = []
    monkeypatch.setattr(webbrowser, "open", lambda url, *args, **kwargs: opened.append(url) or True)
    page = tmp_path / "map.html"
    result = run("map", DEMO, "--output", page, "--open")
    assert result.exit_code == 0, result.output
    assert opened == [page.resolve().as_uri()]


# ---------------------------------------------------------------- issue 14: maps that look professional


def test_colours_are_stable_for_the_same_ids_and_adjacency_and_differ_between_neighbours():
    from territory_engine.maps.style import PALETTE, territory_colour_map

    rng = np.random.default_rng(7)
    ids = [f"T{i:02d}" for i in range(60)]
    pairs = {(ids[i], ids[j]) for i in range(60) for j in range(i + 1, 60) if rng.random() < 0.08}
    colours = territory_colour_map(ids, pairs)
    shuffled = list(ids)
    rng.shuffle(shuffled)
    assert territory_colour_map(shuffled, [(b, a) for a, b in sorted(pairs, reverse=True)]) == colours
    assert all(colours[a] != colours[b] for a, b in pairs)
    assert set(colours.values()) <= set(PALETTE)
    few = territory_colour_map(ids[:12], [])
    assert len(set(few.values())) == 12, "up to 12 territories all get different colours"


def test_neighbouring_territories_of_a_large_map_get_distinct_colours():
    from territory_engine.maps.style import alignment_colours, territory_neighbours

    lat, lon, territory = _scattered(n=6000, k=40, seed=11)
    ids = [f"T{t}" for t in range(40)]
    pairs = territory_neighbours(lat, lon, [territory], ids)
    assert len(pairs) >= 40, "40 Voronoi-like territories have many neighbours"
    colours = alignment_colours(ids, lat, lon, [territory])
    assert all(colours[a] != colours[b] for a, b in pairs)
    # The same accounts in another order: the same colours.
    order = np.random.default_rng(1).permutation(len(lat))
    assert alignment_colours(ids, lat[order], lon[order], [territory[order]]) == colours


def test_the_page_and_the_snapshot_use_the_same_colour_for_each_territory(demo_result):
    from territory_engine.maps.style import result_colours

    html = map_html(demo_result, offline=True)
    data = json.loads(html.split("var territory_data = ")[1].split(";\n")[0])
    assert data["colours"] == result_colours(demo_result)
    fig = snapshot_figure(demo_result)
    fig.canvas.draw()
    found = {tuple(c) for c in np.unique(np.asarray(fig.canvas.buffer_rgba())[..., :3].reshape(-1, 3), axis=0)}
    assert all(hex_to_rgb(c) in found for c in data["colours"])


def _account_states(result):
    lat, lon = result.accounts["lat"].to_numpy(), result.accounts["lon"].to_numpy()
    return np.array([shapely.contains_xy(s.shape, lon, lat) for s in state_outlines()])


def test_areas_stay_inside_the_states_of_their_accounts_and_cover_them_to_the_coast(demo_result):
    from territory_engine.maps.interactive import alignment_areas

    areas = alignment_areas(demo_result, ("current",))["current"]
    inside = _account_states(demo_result)
    states = [s.shape for s in state_outlines()]
    drawn = shapely.union_all([a for a in areas if a is not None])
    for t, area in enumerate(areas):
        own = shapely.union_all([s for s, hit in zip(states, inside[:, demo_result.current == t].any(axis=1)) if hit])
        # Simplification moves borders by up to 1/1500 of the extent: a sliver, never a spill.
        assert area.difference(own).area < 0.005 * area.area, f"{demo_result.ids[t]} spills over a state line"
    served = shapely.union_all([s for s, hit in zip(states, inside.any(axis=1)) if hit])
    assert served.difference(drawn).area < 0.005 * served.area, "the states with accounts are covered"


def test_enclave_keeps_its_colour_in_the_snapshot(tmp_path):
    """Issue 14's bug: a one-account enclave was painted in the surrounding territory's colour."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("maps14", Path(__file__).parent / "edge_cases" / "maps14.py")
    cases = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(cases)
    path = cases.enclave_csv(tmp_path)
    where = json.loads((tmp_path / "enclave.json").read_text())["A"]
    png = tmp_path / "enclave.png"
    assert run("map", path, "--output", tmp_path / "enclave.html", "--snapshot", png).exit_code == 0
    result = cases.map_result(path)
    colours = dict(zip(result.ids, result_colours(result)))
    assert cases.png_colour_at(png, result, *where) == hex_to_rgb(colours["A"])


def test_snapshot_has_a_key_for_its_symbols(rebalanced):
    tables = read_tables(rebalanced)
    result = map_verb(Inputs(tables["accounts"], read_table(DEMO, sheet="Reps"), None), scenario="key")
    fig = snapshot_figure(result)
    fig.canvas.draw()
    keys = [legend for legend in fig.legends]
    labels = [t.get_text() for legend in keys for t in legend.get_texts()]
    assert any("Rep base" in t for t in labels) and any("Moved account" in t for t in labels)
    markers = [h.get_marker() for legend in keys for h in legend.legend_handles]
    assert "D" in markers and "o" in markers
    # The key is drawn: its box holds black symbol pixels, and it does not overlap the map.
    box = keys[0].get_window_extent()
    pixels = np.asarray(fig.canvas.buffer_rgba())[..., :3]
    height = pixels.shape[0]
    crop = pixels[int(height - box.y1):int(height - box.y0), int(box.x0):int(box.x1)]
    assert (crop.sum(axis=2) < 60).any()
    assert not box.overlaps(fig.axes[0].get_window_extent())


def test_every_territory_has_one_label_inside_its_area(demo_result):
    from territory_engine.maps.interactive import alignment_areas, label_points

    areas = alignment_areas(demo_result, ("current",))["current"]
    points = label_points(areas)
    assert sorted(t for t, _, _ in points) == list(range(len(demo_result.ids)))
    for t, lat, lon in points:
        assert areas[t].contains(shapely.Point(lon, lat))




def test_a_snapshot_of_alaska_by_county_is_drawn_at_alaska_size_not_across_the_world(tmp_path):
    """The far Aleutians lie at 172-180 E; drawn there, Alaska filled the width of the world."""
    import pandas as pd
    import zipcodes

    rows = [z for z in zipcodes.list_all() if z["state"] == "AK" and z["zip_code_type"] == "STANDARD" and z["active"]]
    frame = pd.DataFrame({"account_id": [f"A{i}" for i in range(len(rows))], "zip": [z["zip_code"] for z in rows],
                          "lat": [float(z["lat"]) for z in rows], "lon": [float(z["long"]) for z in rows],
                          "potential": 100.0})
    frame["territory"] = np.where(frame.lon < -150, "West", "East")
    frame.to_csv(tmp_path / "alaska.csv", index=False)
    result = map_verb(Inputs(read_table(tmp_path / "alaska.csv"), None, None), {"block": "county"}, scenario="alaska")
    fig = snapshot_figure(result)
    west, east = fig.axes[0].get_xlim()
    scale = np.cos(np.radians(frame.lat.mean()))
    assert (east - west) / scale < 70, (west / scale, east / scale)  # Alaska with the Aleutians: about 58 degrees
