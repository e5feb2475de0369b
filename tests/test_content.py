"""Issue 14, content: the proposed rep, the weighted mix labelled as one, the terminal table and
``measure --output``. The command runs in a real subprocess on real files, read back."""

from __future__ import annotations

import csv
import hashlib
import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from territory_engine.columns import normalise_header
from territory_engine.workflow import territory_summary

ROOT = Path(__file__).resolve().parents[1]
DEMO = ROOT / "workbooks" / "territory_demo.xlsx"
TERRITORY = str(Path(sys.executable).with_name("territory"))


def territory(*args, columns: int | None = None, cwd=None) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k not in ("COLUMNS", "LINES")}
    if columns is not None:
        env["COLUMNS"] = str(columns)
    return subprocess.run([TERRITORY, *map(str, args)], capture_output=True, text=True, env=env, cwd=cwd,
                          timeout=600)


def column(frame: pd.DataFrame, name: str) -> pd.Series:
    """A column by its name ignoring case, spaces and underscores (sheet headers are the analyst's words)."""
    found = [c for c in frame.columns if normalise_header(c) == normalise_header(name)]
    assert found, f"no column {name!r} in {list(frame.columns)}"
    return frame[found[0]]


def has_column(frame: pd.DataFrame, name: str) -> bool:
    return any(normalise_header(c) == normalise_header(name) for c in frame.columns)


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def accounts_csv(path: Path, rows) -> Path:
    """A small accounts file whose reps are given only in its Rep column."""
    with open(path, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["Account ID", "Latitude", "Longitude", "Territory", "Rep", "Potential"])
        for i, (t, rep, potential) in enumerate(rows):
            w.writerow([f"A{i}", 40 + (i % 7) * 0.05 + {"T1": 0, "T2": 1, "T3": 2}[t], -75 + (i // 7) * 0.05, t, rep,
                        potential])
    return path


@pytest.fixture(scope="module")
def demo_csv_result(tmp_path_factory):
    out = tmp_path_factory.mktemp("rep") / "proposed.csv"
    done = territory("rebalance", DEMO, "-o", out)
    assert done.returncode == 0, done.stderr
    return pd.read_csv(out, dtype=str, keep_default_na=False, encoding="utf-8-sig")


# --- the proposed rep ---------------------------------------------------------------------------

def test_proposed_alignment_names_one_rep_per_proposed_territory_from_the_reps_sheet(demo_csv_result):
    reps = pd.read_excel(DEMO, sheet_name="Reps", engine="calamine")
    by_territory = dict(zip(reps["Territory"].astype(str), reps["Rep"]))
    proposed = demo_csv_result
    assert "proposed_rep" in proposed.columns
    for t, group in proposed.groupby("proposed_territory"):
        assert set(group["proposed_rep"]) == {by_territory[t]}, t
    moved = proposed[proposed["moved"] == "True"]
    # The input's Rep stays the old rep; the proposed rep is the new territory's.
    assert (moved["proposed_rep"] != moved["Rep"]).any()


def test_proposed_rep_without_a_reps_table_is_the_rep_holding_most_of_the_territory(tmp_path):
    rows = ([("T1", "Ann", 100)] * 5 + [("T1", "Bob", 100)] * 3 + [("T2", "Cleo", 100)] * 8
            + [("T3", "Rep 10", 100)] * 4 + [("T3", "Rep 2", 100)] * 4)
    path = accounts_csv(tmp_path / "accounts.csv", rows)
    out = tmp_path / "proposed.csv"
    done = territory("rebalance", path, "-o", out, "--tolerance", 0.5)
    assert done.returncode == 0, done.stderr
    proposed = pd.read_csv(out, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    assert dict(zip(proposed["proposed_territory"], proposed["proposed_rep"])) == {
        "T1": "Ann", "T2": "Cleo", "T3": "Rep 2"}  # a tie goes to the first in natural order


def test_a_tie_goes_to_the_rep_holding_more_of_the_balance_measure():
    from territory_engine.workflow import territory_reps

    rep = np.array(["Rep 2", "Rep 2", "Rep 10", "Rep 10", None], dtype=object)
    territory_index = np.array([0, 0, 0, 0, 1])
    weight = np.array([0.1, 0.1, 0.3, 0.3, 0.2])
    assert territory_reps(rep, territory_index, 2, weight=weight) == ["Rep 10", None]
    assert territory_reps(rep, territory_index, 2) == ["Rep 2", None]
    assert territory_reps(rep, territory_index, 2, given=["From Reps", None]) == ["From Reps", None]


def test_measure_fills_the_rep_column_from_the_accounts(tmp_path):
    rows = [("T1", "Ann", 100)] * 6 + [("T2", "Cleo Marchetti", 100)] * 6 + [("T3", "Bob", 100)] * 6
    path = accounts_csv(tmp_path / "accounts.csv", rows)
    done = territory("measure", path, columns=120)
    assert done.returncode == 0, done.stderr
    lines = {ln.split()[0]: ln for ln in done.stdout.splitlines() if re.match(r"T\d\b", ln)}
    assert "Ann" in lines["T1"] and "Cleo Marchetti" in lines["T2"] and "Bob" in lines["T3"]
    out = tmp_path / "summary.xlsx"
    assert territory("measure", path, "--output", out).returncode == 0
    summary = pd.read_excel(out, sheet_name="Territory summary", engine="calamine")
    assert list(column(summary, "rep")) == ["Ann", "Cleo Marchetti", "Bob"]


# --- the weighted mix ---------------------------------------------------------------------------

@pytest.fixture(scope="module")
def mix_result(tmp_path_factory):
    out = tmp_path_factory.mktemp("mix") / "mix.xlsx"
    done = territory("rebalance", DEMO, "--balance", "potential,workload", "--weights", "0.6,0.4", "-o", out)
    assert done.returncode == 0, done.stderr
    return pd.read_excel(out, sheet_name="Territory summary", engine="calamine")


def test_the_deviation_of_several_measures_is_labelled_as_the_weighted_mix(mix_result):
    assert has_column(mix_result, "deviation (weighted mix)")
    assert not has_column(mix_result, "deviation")
    assert has_column(mix_result, "potential share of target") and has_column(mix_result, "workload share of target")


def test_a_territory_with_a_measure_outside_the_band_is_not_called_balanced(mix_result):
    proposed = mix_result[column(mix_result, "alignment") == "proposed"]
    shares = np.column_stack([column(proposed, "potential share of target"),
                              column(proposed, "workload share of target")])
    off = (np.abs(shares - 1) > 0.05 + 1e-9).any(axis=1)
    status = column(proposed, "status").to_numpy()
    mix = column(proposed, "deviation (weighted mix)").to_numpy(dtype=float)
    assert off.any(), "the demo's 60/40 mix leaves some territory's potential outside ±5%"
    assert not (status[off] == "balanced").any()
    assert (status[off & (np.abs(mix) <= 0.05)] == "uneven").all()
    named = column(proposed, "outside tolerance").fillna("").to_numpy()
    assert all(("potential" in n or "workload" in n) for n in named[off])
    assert all(n == "" for n in named[~off])


def _two_measures():
    frame = pd.DataFrame({"lat": [40.0, 40.1, 41.0, 41.1], "lon": [-75.0, -75.1, -74.0, -74.1],
                          "rep": [None] * 4, "potential": [110.0, 0.0, 90.0, 0.0], "workload": [0.0, 95.0, 0.0, 105.0]})
    return frame, np.array([0, 0, 1, 1])


def test_balanced_with_each_measure_requires_each_measure():
    frame, territory_index = _two_measures()
    args = dict(measures=["potential", "workload"], balance=["potential", "workload"], weights=np.array([1.0, 1.0]),
                tolerance=0.05, interleaving=False)
    table, mix_only = territory_summary(frame, territory_index, ["T1", "T2"], **args)
    assert list(table["status"]) == ["uneven", "uneven"]  # the mix is at 102.5% and 97.5%
    assert mix_only["within tolerance"] and mix_only["territories uneven"] == 2
    _, each = territory_summary(frame, territory_index, ["T1", "T2"], each=True, **args)
    assert not each["within tolerance"]


def test_one_balance_measure_keeps_the_plain_deviation_column(tmp_path):
    frame, territory_index = _two_measures()
    table, _ = territory_summary(frame, territory_index, ["T1", "T2"], measures=["potential", "workload"],
                                 balance=["potential"], weights=np.array([1.0]), tolerance=0.05, interleaving=False)
    assert "deviation" in table.columns and "outside tolerance" not in table.columns
    assert list(table["status"]) == ["over-served", "under-served"]


def test_the_snapshot_legend_says_what_was_balanced():
    from territory_engine.io import read_tables
    from territory_engine.maps.snapshot import snapshot_figure
    from territory_engine.workflow import Inputs
    from territory_engine.workflow_map import map as map_verb

    tables = read_tables(str(DEMO))
    result = map_verb(Inputs(tables["accounts"], tables.get("reps"), tables.get("settings")),
                      {"balance": "potential,workload", "weights": "0.6,0.4"})
    texts = [t.get_text() for ax in snapshot_figure(result).axes for t in ax.texts]
    assert any(t.startswith("balanced: potential 60% + workload 40%") for t in texts), texts


# --- the terminal table and --output ---------------------------------------------------------------

@pytest.mark.parametrize("width", [80, 200])
def test_measure_table_fits_the_terminal_and_formats_numbers_for_people(width):
    done = territory("measure", DEMO, columns=width)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert max(len(ln) for ln in lines) <= width
    assert not re.search(r"\d\.\d+e[+-]\d\d", done.stdout)
    rows = [ln for ln in lines if re.match(r"T\d\d\b", ln)]
    assert len(rows) == 12
    assert all(re.search(r"[+-]\d+\.\d%", ln) for ln in rows)  # the deviation, signed, in %
    # A wrapped cell continues on a line of its own: such lines hold text only, never a number.
    table = lines[lines.index(next(ln for ln in lines if ln.startswith("T01"))):]
    for ln in table:
        if ln.strip() and not re.match(r"T\d\d\b", ln) and not ln.startswith(("largest", "not shown", "extra")):
            assert not re.search(r"\d", re.sub(r"\b[a-z_]+ [+-]\d+\.\d%", "", ln)), ln  # whole "potential +7.4%"
    if width == 200:
        assert "23,004,100" in done.stdout  # thousands separators
    else:
        assert "not shown, for want of width:" in done.stdout


def test_measure_output_writes_the_summary_workbook_atomically(tmp_path):
    demo = tmp_path / "demo.xlsx"
    demo.write_bytes(DEMO.read_bytes())
    before = digest(demo)
    out = tmp_path / "summary.xlsx"
    done = territory("report", demo, "--output", out)
    assert done.returncode == 0, done.stderr
    assert f"wrote {out}" in done.stdout
    assert digest(demo) == before
    sheets = pd.read_excel(out, sheet_name=None, engine="calamine")
    assert {"Territory summary", "Balance"} <= set(sheets)
    assert len(sheets["Territory summary"]) == 12
    assert sorted(p.name for p in tmp_path.iterdir()) == ["demo.xlsx", "summary.xlsx"]
    csv_out = tmp_path / "summary.csv"
    assert territory("measure", demo, "-o", csv_out).returncode == 0
    assert len(pd.read_csv(csv_out, encoding="utf-8-sig")) == 12


def test_measure_output_onto_its_input_is_refused(tmp_path):
    demo = tmp_path / "demo.xlsx"
    demo.write_bytes(DEMO.read_bytes())
    before = digest(demo)
    done = territory("measure", demo, "--output", demo)
    assert done.returncode == 2 and done.stderr.startswith("error: ")
    assert len(done.stderr.strip().splitlines()) == 1
    assert digest(demo) == before
