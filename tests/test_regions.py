"""Regions and districts (issue 16, part R): the hierarchy read and checked, the roll-up per region and
district, rebalancing within regions (``--within``, ``--balance-regions``) and one region alone
(``--only-region``). The command runs in a subprocess; its workbooks are read back with openpyxl."""

from __future__ import annotations

import hashlib
import subprocess
import sys
from pathlib import Path

import numpy as np
import openpyxl
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from excel_addin import ribbon
from excel_addin.book import FileBook
from region_books import region_book
from strategies import instances
from territory_engine import workflow
from territory_engine.errors import InfeasibleError
from territory_engine.io import RawTable

ROOT = Path(__file__).resolve().parents[1]
TERRITORY = str(Path(sys.executable).with_name("territory"))


def run(*args) -> subprocess.CompletedProcess:
    return subprocess.run([TERRITORY, *map(str, args)], capture_output=True, text=True)


def sheet(path: Path, name: str) -> pd.DataFrame:
    """A sheet as a table under its headers (as written, read back with openpyxl)."""
    wb = openpyxl.load_workbook(path, read_only=True)
    try:
        rows = list(wb[name].iter_rows(values_only=True))
    finally:
        wb.close()
    return pd.DataFrame(rows[1:], columns=rows[0])


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


# --- the property: within regions, no territory holds two regions' accounts ---------------------------


@given(instance=instances(min_n=30, max_n=200, max_k=8, with_current=True), data=st.data())
@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_within_region_never_puts_two_regions_accounts_in_one_territory(instance, data):
    k = instance["k"]
    current = np.asarray(instance["current"])
    n = len(current)
    count = data.draw(st.integers(2, min(3, k)), label="regions")
    rng = np.random.default_rng(data.draw(st.integers(0, 2**31 - 1), label="seed"))
    names = np.array([f"R{r + 1}" for r in range(count)], dtype=object)
    # Each territory lies in one region (its Reps row says which), every region has one; a tenth of the
    # accounts are in another region (their territory crosses the line today).
    owner = np.concatenate([np.arange(count), rng.integers(0, count, max(k - count, 0))])
    reps = pd.DataFrame({"Territory": [f"T{t + 1}" for t in range(k)], "Region": names[owner]})
    region = names[owner[current]]
    flipped = rng.random(n) < 0.1
    region[flipped] = names[rng.integers(0, count, flipped.sum())]
    locked = np.zeros(n, dtype=bool) if instance["locked"] is None else np.asarray(instance["locked"]) & ~flipped
    frame = pd.DataFrame({
        "Account ID": [f"A{i:04d}" for i in range(n)],
        "Latitude": instance["lat"], "Longitude": instance["lon"],
        "Region": region, "Territory": [f"T{t + 1}" for t in current],
        "Locked": np.where(locked, "yes", "no").astype(object),
        "Potential": instance["measures"][:, 0],
    })
    several = instance["measures"].shape[1] > 1
    if several:
        frame["Workload"] = instance["measures"][:, 1]
    inputs = workflow.Inputs(accounts=RawTable("Accounts", frame.copy(), True, "accounts.xlsx"),
                             reps=RawTable("Reps", reps, True, "accounts.xlsx"))
    flags = {"within": "region", "tolerance": instance["tolerance"], "seed": instance["seed"],
             "fresh": instance["fresh"], "balance": "potential,workload" if several else "potential"}
    try:
        result = workflow.rebalance(inputs, flags)
        # Balanced as the summary measures it: each territory against its region's share of the (mixed) measure.
        after = result.summary[result.summary["alignment"] == "proposed"]
        assert (workflow.deviation_of(after).abs() <= instance["tolerance"] + 1e-3).all(), after
    except InfeasibleError as error:
        result = error.result
    proposed = result.proposed
    assert proposed["proposed_territory"].notna().all()
    regions_per_territory = proposed.groupby("proposed_territory")["Region"].nunique()
    assert (regions_per_territory == 1).all(), regions_per_territory[regions_per_territory > 1]
    kept = proposed["Locked"] == "yes"
    assert (proposed.loc[kept, "proposed_territory"] == proposed.loc[kept, "Territory"]).all()
    assert set(proposed["proposed_territory"]) <= {f"T{t + 1}" for t in range(k)}
    # and each territory holds accounts of its own region only
    for territory, own in zip(reps["Territory"], reps["Region"]):
        assert set(proposed.loc[proposed["proposed_territory"] == territory, "Region"]) <= {own}


# --- the command line ------------------------------------------------------------------------------------


def test_within_region_keeps_each_territory_in_its_region_and_balances_it_against_its_region(tmp_path):
    book = region_book(tmp_path / "in.xlsx")
    before = digest(book)
    out = tmp_path / "out.xlsx"
    done = run("rebalance", book, "--within", "region", "--output", out)
    assert done.returncode == 0, done.stderr
    assert digest(book) == before
    proposed = sheet(out, "Proposed alignment")
    assert (proposed.groupby("Proposed territory")["Region"].nunique() == 1).all()
    # T4 (Central) held West accounts: they moved to a West territory, and their reason says why.
    crossed = proposed[(proposed["Territory"] == "T4") & (proposed["Region"] == "West")]
    assert len(crossed) and crossed["Moved"].all()
    assert crossed["Move reason"].str.contains("region line: T4 is in region Central, the account in West").all()
    summary = sheet(out, "Territory summary")
    after = summary[summary["Alignment"] == "proposed"]
    assert (after["Deviation"].abs() <= 0.05 + 1e-9).all()
    regions = sheet(out, "Regions")
    # Each region balanced against its own total: its mean territory is exactly on target.
    proposed_regions = regions[(regions["Alignment"] == "proposed") & (regions["Level"] == "region")]
    assert sorted(proposed_regions["Region"]) == ["Central", "East", "West"]
    assert np.allclose(proposed_regions["Deviation"], 0.0, atol=1e-4)
    used = sheet(out, "Settings used").set_index("Setting")
    assert used.loc["within", "Value"] == "region" and used.loc["within", "Set by"] == "command line"


def test_only_region_leaves_every_row_outside_it_as_it_was_cell_by_cell(tmp_path):
    book = region_book(tmp_path / "in.xlsx")
    before = digest(book)
    out = tmp_path / "out.xlsx"
    done = run("rebalance", book, "--only-region", "west", "--output", out)  # names match ignoring case
    assert done.returncode == 0, done.stderr
    assert "region West: largest deviation" in done.stdout  # the headline's figures count every region
    assert digest(book) == before
    wb = openpyxl.load_workbook(book, read_only=True)
    inputs = [row for row in wb["Accounts"].iter_rows(values_only=True)]
    wb.close()
    wb = openpyxl.load_workbook(out, read_only=True)
    outputs = [row for row in wb["Proposed alignment"].iter_rows(values_only=True)]
    wb.close()
    head = list(outputs[0])
    width = len(inputs[0])
    assert tuple(head[:width]) == inputs[0]
    region, territory = inputs[0].index("Region"), inputs[0].index("Territory")
    proposed, moved = head.index("Proposed territory"), head.index("Moved")
    west_territories = {"T1", "T2", "T3"}
    outside = changed = 0
    for given_row, out_row in zip(inputs[1:], outputs[1:]):
        assert out_row[:width] == given_row  # every input cell, as typed
        if given_row[region] != "West" or given_row[territory] not in west_territories:
            outside += 1
            assert out_row[proposed] == given_row[territory] and out_row[moved] is False
        else:
            changed += out_row[proposed] != given_row[territory]
            assert out_row[proposed] in west_territories
    assert outside > 150 and changed > 0
    summary = sheet(out, "Territory summary")
    after = summary[(summary["Alignment"] == "proposed") & summary["Territory"].isin(west_territories)]
    assert (after["Deviation"].abs() <= 0.05 + 1e-9).all()
    # the least share that had to move counts the West territories only: their load above their
    # bands, or their load missing below them, whichever is larger (recomputed from the summary)
    before = summary[(summary["Alignment"] == "current") & summary["Territory"].isin(west_territories)]
    measure = "Potential"
    target = before[measure] / (1 + before["Deviation"])
    excess = np.maximum(before[measure] - target * 1.05, 0).sum()
    missing = np.maximum(target * 0.95 - before[measure], 0).sum()
    total = summary.loc[summary["Alignment"] == "current", measure].sum()
    balance = sheet(out, "Balance").iloc[-1]
    assert balance["Least share that had to move"] == pytest.approx(max(excess, missing) / total, abs=1e-3)


@pytest.mark.parametrize("command", ["measure", "rebalance"])
def test_the_regions_roll_up_adds_up_the_territory_summary(tmp_path, command):
    book = region_book(tmp_path / "in.xlsx", reps=[["Territory", "Rep", "Capacity", "District"],
                                                  *[[f"T{t}", f"Rep {t}", 1 + (t == 2), None] for t in range(1, 10)]])
    out = tmp_path / "out.xlsx"
    done = run(command, book, "--output", out)
    assert done.returncode == 0, done.stderr
    summary, regions = sheet(out, "Territory summary"), sheet(out, "Regions")
    alignments = ["current"] if command == "measure" else ["current", "proposed"]
    assert sorted(set(regions["Alignment"])) == alignments
    for alignment in alignments:
        territories = summary[summary["Alignment"] == alignment]
        rolled = regions[regions["Alignment"] == alignment]
        for level, keys in (("region", ["Region"]), ("district", ["Region", "District"])):
            rows = rolled[rolled["Level"] == level].set_index(keys)
            sums = territories.groupby(keys).agg(territories=("Territory", "size"), accounts=("Accounts", "sum"),
                                                 potential=("Potential", "sum"))
            assert len(rows) == len(sums) and set(rows.index) == set(sums.index)
            for key, expected in sums.iterrows():
                assert rows.loc[key, "Territories"] == expected["territories"]
                assert rows.loc[key, "Accounts"] == expected["accounts"]
                assert rows.loc[key, "Potential"] == pytest.approx(expected["potential"], abs=0.05)
        regions_only = rolled[rolled["Level"] == "region"]
        assert regions_only["Share of total"].sum() == pytest.approx(1.0, abs=1e-3)
        assert regions_only["Accounts"].sum() == territories["Accounts"].sum()


def test_a_reps_region_wins_over_the_accounts(tmp_path):
    # T3's accounts are mostly West; its Reps row puts it in Central.
    reps = [["Territory", "Region"], *[[f"T{t}", "Central" if t == 3 else None] for t in range(1, 10)]]
    book = region_book(tmp_path / "in.xlsx", reps=reps)
    out = tmp_path / "out.xlsx"
    done = run("rebalance", book, "--within", "region", "--output", out)
    assert done.returncode == 0, done.stderr
    proposed = sheet(out, "Proposed alignment")
    assert set(proposed.loc[proposed["Proposed territory"] == "T3", "Region"]) == {"Central"}
    summary = sheet(out, "Territory summary")
    assert set(summary.loc[summary["Territory"] == "T3", "Region"]) == {"Central"}


def test_balance_regions_balances_against_the_overall_target_when_the_regions_allow(tmp_path):
    book = region_book(tmp_path / "in.xlsx", equal=True, n=270)
    out = tmp_path / "out.xlsx"
    done = run("rebalance", book, "--within", "region", "--balance-regions", "--output", out)
    assert done.returncode == 0, done.stderr
    summary = sheet(out, "Territory summary")
    after = summary[summary["Alignment"] == "proposed"]
    assert (after["Deviation"].abs() <= 0.05 + 1e-9).all()
    assert (after["Potential"].sum() / 9 * 0.95 <= after["Potential"]).all()  # the overall target


def test_balance_regions_that_cannot_work_is_exit_3_naming_the_region_and_by_how_much(tmp_path):
    book = region_book(tmp_path / "in.xlsx", settings=[["within", "region"], ["balance_regions", "yes"]])
    out = tmp_path / "out.xlsx"
    done = run("rebalance", book, "--tolerance", "0.02", "--output", out)
    assert done.returncode == 3, done.stderr
    assert "region " in done.stderr and "the overall targets of its 3 territories" in done.stderr
    assert "beyond the ±2.0% tolerance" in done.stderr
    assert out.exists() and "Balance problems" in openpyxl.load_workbook(out, read_only=True).sheetnames


@pytest.mark.parametrize("case", ["unknown region", "no region column", "no district column (Settings sheet)",
                                  "blank region", "blocks", "another number of territories"])
def test_bad_region_settings_are_located_errors(tmp_path, case):
    kwargs, flags = {}, ["--within", "region"]
    expect = ""
    if case == "unknown region":
        flags = ["--only-region", "Wset"]
        expect = "no account or territory is in a region named 'Wset'; did you mean 'West'?"
    elif case == "no region column":
        kwargs, expect = {"region": False}, "within: the accounts table (Accounts) has no Region column"
    elif case == "no district column (Settings sheet)":
        kwargs = {"district": False, "settings": [["within", "district"]]}
        flags, expect = [], "Settings!B2: within: the accounts table (Accounts) has no District column"
    elif case == "blank region":
        kwargs, expect = {"blank_region_rows": (4,)}, "Accounts!D6 (Region): the region is blank"
    elif case == "blocks":
        flags, expect = flags + ["--block", "county"], "building blocks (county) within regions or districts are not"
    else:
        flags, expect = flags + ["--territories", "8"], "within regions the territories are today's 9"
    book = region_book(tmp_path / "in.xlsx", **kwargs)
    out = tmp_path / "out.xlsx"
    done = run("rebalance", book, *flags, "--output", out)
    assert done.returncode == 2, done.stderr
    assert expect in done.stderr
    assert "Traceback" not in done.stderr and not out.exists()


def test_a_district_written_with_two_regions_is_an_error_naming_its_rows(tmp_path):
    reps = [["Territory", "Region", "District"], *[[f"T{t}", "East" if t == 4 else None,
                                                    "West North" if t == 4 else None] for t in range(1, 10)]]
    book = region_book(tmp_path / "in.xlsx", reps=reps)
    done = run("measure", book)
    assert done.returncode == 2
    line = done.stderr.splitlines()[0]
    assert line.startswith("error: Reps!B5 (Region): district 'West North' is written with 2 regions")
    assert "region 'West' on Accounts rows" in line and "region 'East' on Reps row 5" in line


def test_the_summary_button_writes_the_regions_roll_up_on_its_own_sheet(tmp_path):
    book_path = region_book(tmp_path / "book.xlsx")
    book = FileBook(book_path)
    assert ribbon.dispatch("Measure", book) is True, book.alerts[-1]
    book.save()
    regions = sheet(book_path, "Regions")
    assert list(regions.columns[:6]) == ["Alignment", "Level", "Region", "District", "Territories", "Accounts"]
    assert sorted(regions.loc[regions["Level"] == "region", "Region"]) == ["Central", "East", "West"]
    wb = openpyxl.load_workbook(book_path)
    assert wb["Regions"]["H2"].number_format == "0.0%"  # Share of total, as the command line's workbooks
    assert wb["Accounts"]["A1"].value == "Account ID"  # the input sheet is not written


def test_a_district_written_with_two_regions_on_the_accounts_is_an_error_at_its_cell(tmp_path):
    book = region_book(tmp_path / "in.xlsx")
    wb = openpyxl.load_workbook(book)
    ws = wb["Accounts"]
    ws["D12"], ws["E12"] = "East", "West North"  # Region, District of the 11th account
    wb.save(book)
    done = run("rebalance", book, "--within", "region", "--output", tmp_path / "out.xlsx")
    assert done.returncode == 2
    line = done.stderr.splitlines()[0]
    assert line.startswith("error: Accounts!D12 (Region): district 'West North' is written with 2 regions"), line
    assert "region 'East' on Accounts row 12" in line


def test_balance_regions_without_within_is_a_warning_not_silence(tmp_path):
    book = region_book(tmp_path / "in.xlsx")
    done = run("rebalance", book, "--balance-regions", "--output", tmp_path / "out.xlsx")
    assert done.returncode == 0, done.stderr
    assert done.stderr.startswith("warning: command line: balance_regions: has no effect without within")


@pytest.mark.parametrize("flags", [["--within", "region"], ["--only-region", "West"]])
def test_workload_hours_balanced_within_regions_are_the_proposals_own(tmp_path, flags):
    """Workload hours depend on the alignment and are settled on the proposal; within regions each
    territory is held to its region's own total (and with one region alone, the others are left as
    they are and not counted against the settling)."""
    book = region_book(tmp_path / "in.xlsx")
    out = tmp_path / "out.xlsx"
    done = run("rebalance", book, "--balance", "workload_hours", *flags, "--output", out)
    assert done.returncode == 0, done.stderr
    assert "workload_hours: the proposal" not in done.stderr
    summary = sheet(out, "Territory summary")
    after = summary[summary["Alignment"] == "proposed"]
    if flags[0] == "--only-region":
        after = after[after["Territory"].isin({"T1", "T2", "T3"})]
    assert set(after["Status"]) == {"balanced"}, after[["Territory", "Deviation"]]
    assert after["Workload hours"].to_numpy() == pytest.approx(after["Workload (hours)"].to_numpy(), rel=1e-3)


def _two_region_csv(path: Path, loads: dict) -> Path:
    """Ten accounts per territory in a row of three (T1-T3 East, T4-T6 West), each territory's load
    ``loads[t]`` split evenly."""
    region = {"T1": "East", "T2": "East", "T3": "East", "T4": "West", "T5": "West", "T6": "West"}
    centre = {"T1": (40.0, -75.0), "T2": (40.0, -76.0), "T3": (40.0, -77.0),
              "T4": (38.0, -105.0), "T5": (38.0, -106.0), "T6": (38.0, -107.0)}
    rows = []
    for i, (t, load) in enumerate((t, load) for t, load in loads.items() for _ in range(10)):
        la, lo = centre[t]
        rows.append([f"A{i:03d}", round(la + 0.02 * (i % 10), 4), round(lo + 0.02 * (i % 3), 4), t, region[t],
                     load / 10])
    pd.DataFrame(rows, columns=["Account ID", "Latitude", "Longitude", "Territory", "Region", "Potential"]).to_csv(
        path, index=False)
    return path


@pytest.mark.parametrize("cap", [None, "0", "0.1"])
def test_balance_regions_keeps_a_map_already_within_the_overall_band(tmp_path, cap):
    """East holds 294 of 600 (2% under its territories' overall targets of 100), so its band about
    its own targets (98) is -3.1% .. +7.1%: asymmetric. T1 at 102 is within ±5% of its overall
    target but outside the symmetric ±3.1% the region used to run in, so the run moved 4 accounts
    (6.6%) on a map that already balanced, and under a cap ended "not reached" (exit 3). Nothing
    needs to move: nothing does."""
    path = _two_region_csv(tmp_path / "in.csv", {"T1": 102, "T2": 96, "T3": 96, "T4": 102, "T5": 102, "T6": 102})
    out = tmp_path / "out.csv"
    flags = [] if cap is None else ["--max-moved-share", cap]
    done = run("rebalance", path, "--within", "region", "--balance-regions", "--output", out, *flags)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "moved 0 accounts" in done.stdout
    proposed = pd.read_csv(out)
    assert (proposed["proposed_territory"] == proposed["Territory"]).all()


def test_balance_regions_accepts_a_result_within_the_overall_band(tmp_path):
    """East holds 294 of 600; T1 holds one locked account of 103 (and nine of 0.5), within ±5% of its
    overall target of 100 but above the symmetric ±3.1% band about the region's targets (98) that
    the region runs in. That band's proof ("the locked accounts of T1 carry 105%") made the command
    end "balance not reached" (exit 3), although the result, T1 103, T2 96, T3 95, is within ±5%
    of the overall targets. It is judged by those now."""
    rows = []
    for i, (t, la, lo, pots) in enumerate([("T1", 40.0, -75.0, [103] + [0.5] * 9), ("T2", 40.0, -76.0, [9.6] * 10),
                                           ("T3", 40.0, -77.0, [9.05] * 10), ("T4", 38.0, -105.0, [10.2] * 10),
                                           ("T5", 38.0, -106.0, [10.2] * 10), ("T6", 38.0, -107.0, [10.2] * 10)]):
        rows += [[f"A{i}{j}", round(la + 0.02 * j, 4), round(lo + 0.02 * (j % 3), 4), t,
                  "East" if i < 3 else "West", p, "yes" if t == "T1" and j == 0 else ""] for j, p in enumerate(pots)]
    path, out = tmp_path / "in.csv", tmp_path / "out.csv"
    pd.DataFrame(rows, columns=["Account ID", "Latitude", "Longitude", "Territory", "Region", "Potential",
                                "Locked"]).to_csv(path, index=False)
    done = run("rebalance", path, "--within", "region", "--balance-regions", "--output", out)
    assert done.returncode == 0, done.stdout + done.stderr
    proposed = pd.read_csv(out)
    load = proposed.groupby("proposed_territory")["Potential"].sum()
    assert ((load - 100).abs() <= 5 + 1e-6).all(), load
    assert proposed.loc[proposed["Locked"] == "yes", "proposed_territory"].tolist() == ["T1"]


def _crossing_csv(path: Path) -> Path:
    """East: T1 and T2, 20 accounts of 5 each, but T1's first account lies in region West. West: T4
    with 26 accounts (130) and T5 with 14 (70). Within regions the crossing account must move to
    West, whose 41 accounts then balance only if T4 gives away 5 more: 6 moves in West (14.6%)."""
    rows = []
    for t, region, la, lo, n in [("T1", "East", 40.0, -75.0, 20), ("T2", "East", 40.0, -76.0, 20),
                                 ("T4", "West", 38.0, -105.0, 26), ("T5", "West", 38.0, -106.0, 14)]:
        rows += [[f"{t}-{j:02d}", round(la + 0.01 * (j % 5), 4), round(lo + 0.01 * (j // 5), 4), t, region, 5]
                 for j in range(n)]
    rows[0][1:5] = [38.0, -105.6, "T1", "West"]
    pd.DataFrame(rows, columns=["Account ID", "Latitude", "Longitude", "Territory", "Region", "Potential"]).to_csv(
        path, index=False)
    return path


def test_within_regions_a_cap_counts_the_accounts_that_cross_a_region_line(tmp_path):
    """The region's run saw the crossing account as new (not moved), so at a cap of 14% it moved 5
    more: 6 of West's 41 accounts (14.6%) moved, over the cap, with exit 0 and no word. Now the
    crossing account takes its share of the cap: 15% balances with 6 moves; 14% cannot, which is
    proven in the analyst's cap (at least 14.7%); 0% is refused before designing, naming the row."""
    path = _crossing_csv(tmp_path / "in.csv")
    out = tmp_path / "out.csv"
    done = run("rebalance", path, "--within", "region", "--max-moved-share", "0.15", "--output", out)
    assert done.returncode == 0, done.stdout + done.stderr
    west = pd.read_csv(out).query("Region == 'West'")
    assert 0 < west["moved"].sum() <= 0.15 * len(west)
    done = run("rebalance", path, "--within", "region", "--max-moved-share", "0.14", "--output", out)
    assert done.returncode == 3, done.stdout + done.stderr
    assert "balance impossible: region West" in done.stderr and "at most 14.0%" in done.stderr
    assert "raise max_moved_share to 14.7%" in done.stderr
    west = pd.read_csv(out).query("Region == 'West'")
    assert west["moved"].sum() <= 0.14 * len(west)
    out.unlink()
    done = run("rebalance", path, "--within", "region", "--max-moved-share", "0", "--output", out)
    assert done.returncode == 2, done.stdout + done.stderr
    assert "row 2, column E (Region)" in done.stderr and "one account of region West" in done.stderr
    assert "raise max_moved_share to 2.5% or more" in done.stderr
    assert not out.exists()


def test_balance_regions_with_each_measure_judges_every_measure_by_the_overall_targets(tmp_path):
    """Region E (one territory) carries 110 of 300 of potential and 90 of 300 of workload: its mix is
    on target, each measure 10% off. With --each the command exited 0 with T3 at +10% potential and
    -10% workload (the band was narrowed, and the region's load checked, on the mix alone). Each
    measure's load is now a proof naming it; on the 300-account map every measure of every
    territory ends within ±5% of its overall target."""
    rows = [(f"W{i}", 40 + 0.01 * i, -90 - 0.01 * i, "T1" if i < 3 else "T2", "W", 95 / 3, 105 / 3) for i in range(6)]
    rows += [(f"E{i}", 41 + 0.01 * i, -91 - 0.01 * i, "T3", "E", 110 / 4, 90 / 4) for i in range(4)]
    path, out = tmp_path / "tiny.csv", tmp_path / "tiny_out.csv"
    pd.DataFrame(rows, columns=["Account ID", "Latitude", "Longitude", "Territory", "Region", "Potential",
                                "Workload"]).to_csv(path, index=False)
    done = run("rebalance", path, "-o", out, "--balance", "potential,workload", "--weights", "0.5,0.5", "--each",
               "--within", "region", "--balance-regions")
    assert done.returncode == 3, done.stdout + done.stderr
    assert "balance impossible: region E's load of potential is 10.0% over" in done.stderr
    big = pd.read_csv(ROOT / "tests" / "data" / "each_opposed_measures_300.csv")
    big["Region"] = big["Territory"].map({"T1": "W", "T3": "W", "T5": "W", "T2": "E", "T4": "E", "T6": "E"})
    path, out = tmp_path / "big.csv", tmp_path / "big_out.csv"
    big.to_csv(path, index=False)
    done = run("rebalance", path, "-o", out, "--balance", "potential,workload", "--each", "--within", "region",
               "--balance-regions")
    if done.returncode == 0:
        load = pd.read_csv(out).groupby("proposed_territory")[["Potential", "Workload"]].sum()
        assert ((load / load.mean() - 1).abs() <= 0.05 + 1e-9).all().all(), load / load.mean() - 1
    else:
        assert done.returncode == 3 and "Traceback" not in done.stderr, done.stderr


def test_balance_regions_at_the_edge_of_the_band_is_no_proof(tmp_path):
    """T3 alone in region E holds 120 of 300: exactly +20% of its overall target at ±20%. The band
    about the region's own target came out at -1e-16 and read as "balance impossible: ... 0.0%
    beyond the tolerance" on a map that already balanced."""
    path, out = tmp_path / "edge.csv", tmp_path / "out.csv"
    pd.DataFrame({"Account ID": ["A1", "A2", "A3", "A4"], "Latitude": [40.0, 40.1, 41.0, 41.1],
                  "Longitude": [-90.0, -90.1, -91.0, -91.1], "Territory": ["T1", "T2", "T3", "T3"],
                  "Region": ["W", "W", "E", "E"], "Potential": [90, 90, 60, 60]}).to_csv(path, index=False)
    done = run("rebalance", path, "-o", out, "--tolerance", "0.2", "--within", "region", "--balance-regions")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "moved 0 accounts" in done.stdout


def test_only_region_counts_the_cap_on_the_regions_own_accounts(tmp_path):
    """West's territories hold West's 10 accounts (T1 8, T2 2) and 10 East accounts that stay. At a
    10% cap of West's accounts one may move; the run counted the East ten too and moved two."""
    rows = [(f"W{i}", 40 + 0.01 * i, -90, "T1", "West", 10) for i in range(8)]
    rows += [(f"W{8 + i}", 40.5 + 0.01 * i, -90, "T2", "West", 10) for i in range(2)]
    rows += [(f"X{i}", 40.2 + 0.01 * i, -90.3, "T1", "East", 1) for i in range(10)]
    rows += [(f"E{i}", 41 + 0.01 * i, -91, "T3", "East", 10) for i in range(10)]
    path, out = tmp_path / "only.csv", tmp_path / "out.csv"
    pd.DataFrame(rows, columns=["Account ID", "Latitude", "Longitude", "Territory", "Region", "Potential"]).to_csv(
        path, index=False)
    done = run("rebalance", path, "-o", out, "--only-region", "West", "--max-moved-share", "0.1", "--tolerance", "0.3")
    assert done.returncode in (0, 3), done.stdout + done.stderr
    west = pd.read_csv(out).query("Region == 'West'")
    assert (west["Territory"] != west["proposed_territory"]).sum() <= 1
