"""The committed demo workbook is what the Read me promises, and its builder is deterministic."""

from __future__ import annotations

import importlib.util
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import zipcodes
from openpyxl import load_workbook

REPO = Path(__file__).resolve().parent.parent
WORKBOOK = REPO / "workbooks" / "territory_demo.xlsx"
BUILDER = REPO / "scripts" / "build_demo_workbook.py"

SHEETS = ["Read me", "Accounts", "Reps", "Settings"]
ACCOUNT_HEADERS = ["Account ID", "Account Name", "ZIP", "City", "State", "County", "Latitude",
                   "Longitude", "Territory", "Rep", "Locked", "Potential", "Sales", "Workload",
                   "Opportunities", "Industry"]
REP_HEADERS = ["Territory", "Rep", "Home ZIP", "Latitude", "Longitude", "Capacity"]
STATES = {"ME", "NH", "VT", "MA", "RI", "CT", "NY", "NJ", "PA", "DE", "MD", "DC", "VA"}
# Bounding box of the 13 states (degrees): Virginia's western tip to Maine's eastern coast.
LAT_RANGE = (36.5, 47.5)
LON_RANGE = (-83.7, -66.9)
SETTINGS = {
    "territories": 12, "balance": "potential,workload", "weights": "0.6,0.4", "tolerance": 0.05,
    "balance_each_measure": False, "disruption_weight": 1, "max_moved_share": 1, "seed": 7,
    "score_measures": "potential,sales,opportunities", "score_weights": "0.5,0.3,0.2",
    "score_method": "percentile", "tier_cutoffs": "0.2,0.5",
}


def _rows(ws) -> tuple[list, list[tuple]]:
    rows = list(ws.iter_rows(values_only=True))
    return list(rows[0]), rows[1:]


@pytest.fixture(scope="module")
def book():
    wb = load_workbook(WORKBOOK, read_only=True)
    yield wb
    wb.close()


@pytest.fixture(scope="module")
def accounts(book) -> pd.DataFrame:
    headers, rows = _rows(book["Accounts"])
    return pd.DataFrame(rows, columns=headers)


@pytest.fixture(scope="module")
def reps(book) -> pd.DataFrame:
    headers, rows = _rows(book["Reps"])
    return pd.DataFrame(rows, columns=headers)


def _load_builder():
    spec = importlib.util.spec_from_file_location("build_demo_workbook", BUILDER)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_sheets_in_order_with_exact_headers(book):
    assert book.sheetnames == SHEETS
    assert _rows(book["Accounts"])[0] == ACCOUNT_HEADERS
    assert _rows(book["Reps"])[0] == REP_HEADERS
    assert _rows(book["Settings"])[0] == ["Key", "Value", "Meaning"]


def test_accounts_count_and_unique_ids(accounts):
    assert 3_000 <= len(accounts) <= 5_000
    assert accounts["Account ID"].is_unique
    assert accounts["Account ID"].notna().all()
    assert accounts["Account Name"].notna().all()


def test_zips_are_real_five_character_text_in_the_area(accounts, reps):
    for column in (accounts["ZIP"], reps["Home ZIP"]):
        assert all(isinstance(z, str) and len(z) == 5 and z.isdigit() for z in column)
        assert all(zipcodes.is_real(z) for z in column.unique())
    assert any(z.startswith("0") for z in accounts["ZIP"])  # leading zeros survived
    assert set(accounts["State"]) <= STATES
    states_of_zip = {z: zipcodes.matching(z)[0]["state"] for z in accounts["ZIP"].unique()}
    assert (accounts["ZIP"].map(states_of_zip) == accounts["State"]).all()


def test_coordinates_inside_the_area_and_near_their_zip(accounts):
    lat = accounts["Latitude"].astype(float)
    lon = accounts["Longitude"].astype(float)
    assert lat.between(*LAT_RANGE).all() and lon.between(*LON_RANGE).all()
    centroids = {z: zipcodes.matching(z)[0] for z in accounts["ZIP"].unique()}
    zlat = accounts["ZIP"].map(lambda z: float(centroids[z]["lat"]))
    zlon = accounts["ZIP"].map(lambda z: float(centroids[z]["long"]))
    offset_km = np.hypot((lat - zlat) * 111.2, (lon - zlon) * 111.2 * np.cos(np.radians(lat)))
    assert offset_km.max() < 3.0  # a few hundred metres of jitter, never kilometres
    assert offset_km.median() > 0.05  # accounts of one ZIP do not share one point
    assert not accounts.duplicated(["Latitude", "Longitude"]).any()


def test_every_territory_has_one_rep_row_and_accounts(accounts, reps):
    assert reps["Territory"].is_unique
    assert set(accounts["Territory"]) == set(reps["Territory"])
    assert len(reps) == 12
    rep_of = dict(zip(reps["Territory"], reps["Rep"]))
    assert (accounts["Territory"].map(rep_of) == accounts["Rep"]).all()
    assert sorted(reps["Capacity"].tolist()) == [0.5] + [1.0] * 11


def test_current_alignment_is_visibly_unbalanced(accounts, reps):
    potential = accounts.groupby("Territory")["Potential"].sum()
    ratio = potential / potential.mean()
    assert (ratio - 1).abs().max() > 0.20
    assert ratio.max() > 1.4 and ratio.min() < 0.75
    # Still unbalanced when the part-time rep's territory targets half a share.
    capacity = reps.set_index("Territory")["Capacity"]
    against_capacity = potential / (potential.sum() * capacity / capacity.sum())
    assert against_capacity.max() > 1.4 and against_capacity.min() < 0.75


def test_territories_are_compact_around_their_rep(accounts, reps):
    # Each rep's home is closer to its own territory's accounts than to the others', on median.
    lat = accounts["Latitude"].astype(float).to_numpy()
    lon = accounts["Longitude"].astype(float).to_numpy()
    for _, rep in reps.iterrows():
        km = np.hypot((lat - rep["Latitude"]) * 111.2,
                      (lon - rep["Longitude"]) * 111.2 * np.cos(np.radians(lat)))
        own = accounts["Territory"].to_numpy() == rep["Territory"]
        assert np.median(km[own]) < np.median(km[~own])
        assert accounts["Territory"].to_numpy()[np.argmin(km)] == rep["Territory"]


def test_measures_are_plausible(accounts):
    potential = accounts["Potential"].astype(float)
    assert (potential > 0).all()
    assert 25_000 < potential.median() < 60_000
    assert potential.max() > 10 * potential.median()  # heavy tail
    sales = accounts["Sales"]
    assert 0.5 < sales.notna().mean() < 0.9
    assert (sales.dropna().astype(float) <= potential[sales.notna()]).all()
    workload = accounts["Workload"].astype(float)
    assert (workload > 0).all()
    assert np.corrcoef(np.log(potential), np.log(workload))[0, 1] > 0.5
    opportunities = accounts["Opportunities"]
    assert all(isinstance(v, int) and 0 <= v < 50 for v in opportunities)
    assert accounts["Industry"].nunique() >= 5


def test_some_but_few_locked_accounts_none_too_large(accounts):
    locked = accounts["Locked"]
    assert set(locked.unique()) <= {True, False}
    assert 5 <= locked.sum() <= 0.02 * len(accounts)
    share = accounts["Potential"].sum() / accounts["Territory"].nunique()
    assert accounts.loc[locked, "Potential"].max() <= 0.4 * share


def test_settings_sheet(book):
    _, rows = _rows(book["Settings"])
    values = {key: value for key, value, _ in rows}
    assert values == SETTINGS
    assert all(isinstance(meaning, str) and len(meaning) > 10 for _, _, meaning in rows)


def test_read_me_explains_steps_buttons_and_commands(book):
    text = " ".join(str(v) for row in book["Read me"].iter_rows(values_only=True)
                    for v in row if v is not None)
    for phrase in ["Check data", "Score accounts", "Rebalance", "Territory summary", "Open map",
                   "Map snapshot", "Help", "territory measure workbooks/territory_demo.xlsx",
                   "territory rebalance workbooks/territory_demo.xlsx --territories 12",
                   "territory demo", "never overwritten", "Moves"]:
        assert phrase in text, phrase
    for key in SETTINGS:
        assert key in text, key
    for header in ACCOUNT_HEADERS:
        assert header in text, header


def test_formatting_header_frozen_and_text_zip():
    wb = load_workbook(WORKBOOK)  # full mode: freeze panes, tables and formats
    ws = wb["Accounts"]
    assert ws.freeze_panes == "A2"
    assert all(cell.font.bold for cell in ws[1])
    assert ws.tables or ws.auto_filter.ref
    assert ws["C2"].data_type == "s" and ws["C2"].number_format == "@"
    assert "$" in ws["L2"].number_format
    assert wb["Read me"]["A1"].font.bold


def _members(path: Path) -> list[tuple[str, bytes]]:
    with zipfile.ZipFile(path) as archive:
        return [(info.filename, archive.read(info)) for info in archive.infolist()]


def test_builder_is_deterministic_and_reproduces_the_committed_file(tmp_path):
    builder = _load_builder()
    first = builder.write_demo(tmp_path / "first.xlsx")
    second = builder.write_demo(tmp_path / "second.xlsx", seed=builder.SEED)
    assert first.read_bytes() == second.read_bytes()  # byte-identical run to run
    # Same parts with the same contents as the committed workbook. (The compressed bytes are
    # identical too with the same zlib; another zlib build may compress differently.)
    assert _members(first) == _members(WORKBOOK)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["first.xlsx", "second.xlsx"]


def test_builder_output_option(tmp_path):
    builder = _load_builder()
    target = tmp_path / "sub" / "x.xlsx"
    assert builder.main(["--output", str(target)]) == 0
    assert load_workbook(target, read_only=True).sheetnames == SHEETS
