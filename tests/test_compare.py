"""``territory compare``: scenarios side by side, each measured exactly as ``territory measure`` measures it.

Real subprocesses for exit codes and messages, real workbooks read back. The figures of every scenario
are checked against ``territory measure`` run on that scenario alone.
"""

from __future__ import annotations

import hashlib
import subprocess
import sys
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from territory_engine import workflow
from territory_engine.io import RawTable
from territory_engine.io.presentation import engine_name

DEMO = Path(__file__).resolve().parents[1] / "workbooks" / "territory_demo.xlsx"
FIGURES = ("largest deviation", "coefficient of variation", "weighted compactness km", "extra pieces")


def territory(*args) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "territory_engine.cli", *map(str, args)], capture_output=True,
                          text=True)


def read_sheet(path: Path, sheet: str) -> pd.DataFrame:
    frame = pd.read_excel(path, sheet_name=sheet, engine="calamine", dtype={"ZIP": str})
    return frame.rename(columns=lambda header: engine_name(header, sheet=sheet))


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture(scope="module")
def scenarios(tmp_path_factory) -> Path:
    """today.csv (the demo's accounts), plan_b.csv (40 accounts of T01 given to T02), plan_c.csv
    (accounts 100-149 given to T03), and a workbook with two alignment columns."""
    folder = tmp_path_factory.mktemp("scenarios")
    accounts = pd.read_excel(DEMO, sheet_name="Accounts", engine="calamine", dtype={"ZIP": str})
    accounts.to_csv(folder / "today.csv", index=False)
    b = accounts.copy()
    t01 = np.flatnonzero(b["Territory"].to_numpy() == "T01")[:40]
    b.loc[t01, "Territory"] = "T02"
    b.to_csv(folder / "plan_b.csv", index=False)
    c = accounts.copy()
    c.loc[100:149, "Territory"] = "T03"
    c.to_csv(folder / "plan_c.csv", index=False)
    both = accounts.copy()
    both["Plan B"] = b["Territory"]
    both["Plan C"] = c["Territory"]
    with pd.ExcelWriter(folder / "columns.xlsx", engine="xlsxwriter") as writer:
        both.to_excel(writer, sheet_name="Accounts", index=False)
    return folder


def measured(path: Path, out: Path, *flags) -> pd.Series:
    """The Balance row of ``territory measure`` on ``path`` alone."""
    done = territory("measure", path, "--output", out, *flags)
    assert done.returncode == 0, done.stderr
    return read_sheet(out, "Balance").iloc[0]


def test_every_scenarios_figures_equal_territory_measure_on_it_alone(scenarios, tmp_path):
    inputs = [scenarios / f"{name}.csv" for name in ("today", "plan_b", "plan_c")]
    before = [digest(p) for p in inputs]
    out = tmp_path / "compare.xlsx"
    done = territory("compare", *inputs, "--output", out, "--tolerance", "0.1")
    assert done.returncode == 0, done.stderr
    assert [digest(p) for p in inputs] == before  # inputs are never modified
    compare = read_sheet(out, "Compare")
    assert list(compare["scenario"]) == ["today", "plan_b", "plan_c"]
    side = read_sheet(out, "Territories side by side")
    for path, row in zip(inputs, compare.to_dict("records")):
        alone = measured(path, tmp_path / f"{path.stem}_measure.xlsx", "--tolerance", "0.1")
        for figure in FIGURES:
            assert row[figure] == pytest.approx(alone[figure], rel=1e-12), (path.stem, figure)
        assert bool(row["within tolerance"]) == bool(alone["within tolerance"])
        summary = read_sheet(tmp_path / f"{path.stem}_measure.xlsx", "Territory summary").set_index("territory")
        mine = side.set_index("territory")
        for column in ("potential", "deviation", "accounts"):
            np.testing.assert_allclose(mine[f"{path.stem}: {column}"].to_numpy(dtype=float),
                                       summary.loc[mine.index, column].to_numpy(dtype=float))
    # Today's alignment is the first scenario: it moves nothing; plan_b moves 40 accounts of T01.
    assert compare["moved share of balance measure"].iloc[0] == 0
    assert compare["accounts changing rep"].iloc[0] == 0
    assert compare["accounts changing rep"].iloc[1] == 40
    today = pd.read_csv(inputs[0])["Territory"]
    assert compare["accounts changing rep"].iloc[2] == (today.iloc[100:150] != "T03").sum()
    with zipfile.ZipFile(out) as book:
        charts = [book.read(n).decode() for n in book.namelist() if n.startswith("xl/charts/chart")]
    assert any("Largest deviation from target by scenario" in c for c in charts)
    assert any("Load by territory and scenario" in c for c in charts)


def test_moved_share_is_weighted_by_the_balance_measure():
    frame = pd.DataFrame({"Account ID": ["a", "b", "c", "d"], "Latitude": [40.0, 40.1, 41.0, 41.1],
                          "Longitude": [-75.0, -75.1, -76.0, -76.1], "Territory": ["T1", "T1", "T2", "T2"],
                          "Rep": ["Ann", "Ann", "Bo", "Bo"], "Potential": [10.0, 30.0, 20.0, 40.0],
                          "Plan": ["T1", "T2", "T2", "T2"]})
    table = RawTable(name="Accounts", frame=frame, is_sheet=True, path="")
    result = workflow.compare([workflow.Scenario("Territory", workflow.Inputs(table), column="Territory"),
                               workflow.Scenario("Plan", workflow.Inputs(table), column="Plan")])
    row = result.compare.set_index("scenario").loc["Plan"]
    assert row["moved share of balance measure"] == pytest.approx(30 / 100)
    assert row["accounts changing rep"] == 1  # b: Ann's territory T1 -> Bo's T2
    assert result.compare.set_index("scenario").loc["Territory", "accounts changing rep"] == 0
    assert "Plan" not in result.plan.accounts.measures  # the other alignment column is not a measure


def test_columns_of_one_workbook_are_scenarios_and_its_territory_column_is_today(scenarios, tmp_path):
    out = tmp_path / "columns_out.xlsx"
    source = scenarios / "columns.xlsx"
    before = digest(source)
    done = territory("compare", source, "--columns", "Plan B,Plan C", "--output", out)
    assert done.returncode == 0, done.stderr
    assert digest(source) == before
    compare = read_sheet(out, "Compare").set_index("scenario")
    assert list(compare.index) == ["Plan B", "Plan C"]
    assert compare.loc["Plan B", "accounts changing rep"] == 40  # against the Territory column, not Plan B
    alone = measured(scenarios / "plan_c.csv", tmp_path / "c.xlsx")
    for figure in FIGURES:
        assert compare.loc["Plan C", figure] == pytest.approx(alone[figure], rel=1e-12)


def test_rebalance_results_compare_their_proposals_against_the_alignment_they_started_from(tmp_path):
    results = []
    for name, weight in (("careful", 1), ("compact", 0)):
        out = tmp_path / f"{name}.xlsx"
        done = territory("rebalance", DEMO, "--disruption-weight", weight, "--output", out)
        assert done.returncode in (0, 3), done.stderr
        results.append(out)
    out = tmp_path / "results_compare.xlsx"
    done = territory("compare", *results, "--output", out)
    assert done.returncode == 0, done.stderr
    compare = read_sheet(out, "Compare").set_index("scenario")
    for path in results:
        balance = read_sheet(path, "Balance").set_index("alignment").loc["proposed"]
        row = compare.loc[path.stem]
        for figure in FIGURES:
            assert row[figure] == pytest.approx(balance[figure], rel=1e-9), (path.stem, figure)
        assert row["moved share of balance measure"] == pytest.approx(balance["moved share of balance measure"],
                                                                      abs=1e-9)
        assert row["territories"] == len(read_sheet(path, "Reps used"))


@pytest.mark.parametrize("case", ["missing", "extra"])
def test_a_scenario_with_other_accounts_is_a_located_error(scenarios, tmp_path, case):
    accounts = pd.read_csv(scenarios / "today.csv", dtype={"ZIP": str})
    other = tmp_path / f"{case}.csv"
    if case == "missing":
        accounts.drop(index=[5]).to_csv(other, index=False)
    else:
        pd.concat([accounts, accounts.iloc[[0]].assign(**{"Account ID": "ZZ999"})]).to_csv(other, index=False)
    out = tmp_path / "never.xlsx"
    done = territory("compare", scenarios / "today.csv", other, "--output", out)
    assert done.returncode == 2
    line = done.stderr.splitlines()[0]
    assert line.startswith(f"error: {case}.csv") and "Account ID" in line
    assert ("A00006" in line and "add them" in line) if case == "missing" else ("row 4002" in line and "ZZ999" in line)
    assert not out.exists()


def test_a_blank_alignment_cell_is_a_located_error_not_a_dropped_account(scenarios, tmp_path):
    """Plan C's cell for the account on row 8 is blank: the comparison stops at that cell (a scenario
    that leaves an account out would be measured on another whole), and nothing is written."""
    book = tmp_path / "blank.xlsx"
    accounts = pd.read_excel(scenarios / "columns.xlsx", sheet_name="Accounts", engine="calamine", dtype={"ZIP": str})
    accounts["Plan C"] = accounts["Plan C"].astype(object)
    accounts.loc[6, "Plan C"] = None
    with pd.ExcelWriter(book, engine="xlsxwriter") as writer:
        accounts.to_excel(writer, sheet_name="Accounts", index=False)
    out = tmp_path / "never.xlsx"
    done = territory("compare", book, "--columns", "Plan B,Plan C", "--output", out)
    assert done.returncode == 2, done.stdout
    letter = chr(ord("A") + list(accounts.columns).index("Plan C"))
    line = done.stderr.splitlines()[0]
    assert f"{letter}8" in line and "Plan C" in line and accounts.loc[6, "Account ID"] in line, line
    assert "fill this cell" in line
    assert not out.exists()


def test_scenario_names_are_made_unique_and_bad_requests_are_one_line_errors(scenarios, tmp_path):
    for folder in ("a", "b"):
        (tmp_path / folder).mkdir()
        (tmp_path / folder / "plan.csv").write_bytes((scenarios / "plan_b.csv").read_bytes())
    out = tmp_path / "same.xlsx"
    done = territory("compare", tmp_path / "a" / "plan.csv", tmp_path / "b" / "plan.csv", "--output", out)
    assert done.returncode == 0, done.stderr
    assert list(read_sheet(out, "Compare")["scenario"]) == ["plan", "plan (2)"]
    one = territory("compare", scenarios / "today.csv", "--output", tmp_path / "one.xlsx")
    assert one.returncode == 2 and "two or more scenarios" in one.stderr
    missing = territory("compare", scenarios / "columns.xlsx", "--columns", "Plan B,Plan Z", "--output",
                        tmp_path / "z.xlsx")
    assert missing.returncode == 2 and "'Plan Z'" in missing.stderr and "Traceback" not in missing.stderr
    over = territory("compare", scenarios / "today.csv", scenarios / "plan_b.csv", "--output", scenarios / "today.csv")
    assert over.returncode == 2


def test_today_is_the_first_inputs_territory_column_only_when_it_holds_a_scenario_elsewhere():
    base = {"Account ID": ["a", "b", "c", "d"], "Latitude": [40.0, 40.1, 41.0, 41.1],
            "Longitude": [-75.0, -75.1, -76.0, -76.1], "Potential": [10.0, 30.0, 20.0, 40.0]}
    plain = RawTable(name="plan.csv", frame=pd.DataFrame({**base, "Territory": ["T1", "T1", "T2", "T2"]}),
                     is_sheet=False, path="")
    result = RawTable(name="Proposed alignment", is_sheet=True, path="", frame=pd.DataFrame(
        {**base, "Territory": ["T2", "T2", "T1", "T1"], "Proposed territory": ["T1", "T1", "T2", "T2"]}))
    # A plain file first: today is that scenario, so the result's proposal (the same) moves nothing.
    first_plain = workflow.compare([workflow.Scenario("plan", workflow.Inputs(plain)),
                                    workflow.Scenario("result", workflow.Inputs(result))])
    assert first_plain.compare["moved share of balance measure"].tolist() == [0, 0]
    # A result first: today is the alignment it started from, which every account leaves.
    first_result = workflow.compare([workflow.Scenario("result", workflow.Inputs(result)),
                                     workflow.Scenario("plan", workflow.Inputs(plain))])
    assert first_result.compare["moved share of balance measure"].tolist() == [1, 1]
