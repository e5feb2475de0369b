"""The territory command on a copy of the demo workbook, results read back from the files."""

from __future__ import annotations

import hashlib
import re
import shutil
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from territory_engine.cli import main
from territory_engine.io.presentation import engine_name

DEMO = Path(__file__).resolve().parents[1] / "workbooks" / "territory_demo.xlsx"


@pytest.fixture()
def demo(tmp_path) -> Path:
    copy = tmp_path / "demo.xlsx"
    shutil.copy(DEMO, copy)
    return copy


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def run(*args: str):
    return CliRunner().invoke(main, [str(a) for a in args], catch_exceptions=False)


def read_sheet(path: Path, sheet: str) -> pd.DataFrame:
    """A sheet of an output under the engine's column names (an .xlsx shows the analyst's words,
    ``Proposed territory`` for ``proposed_territory``: tests/test_output_workbooks.py checks those)."""
    frame = pd.read_excel(path, sheet_name=sheet, engine="calamine", dtype={"ZIP": str})
    return frame.rename(columns=lambda header: engine_name(header, sheet=sheet))


def test_rebalance_writes_every_input_column_plus_the_proposal(demo, tmp_path):
    before = digest(demo)
    out = tmp_path / "proposed.xlsx"
    result = run("rebalance", demo, "--territories", 12, "--balance", "potential,workload", "--weights", "0.6,0.4",
                 "--tolerance", 0.05, "--output", out)
    assert result.exit_code == 0, result.output
    assert digest(demo) == before, "the input workbook must never be modified"
    accounts = pd.read_excel(demo, sheet_name="Accounts", engine="calamine", dtype={"ZIP": str})
    proposed = read_sheet(out, "Proposed alignment")
    assert list(proposed.columns) == list(accounts.columns) + ["proposed_territory", "moved", "move_reason",
                                                                    "proposed_rep"]
    assert len(proposed) == len(accounts)
    assert (proposed["ZIP"].str.len() == 5).all(), "ZIP codes keep their leading zeros"
    # Every account in exactly one of the 12 current territories.
    assert set(proposed["proposed_territory"]) == set(accounts["Territory"])
    # Locked accounts never move.
    locked = proposed["Locked"].astype(bool)
    assert locked.any()
    assert (proposed.loc[locked, "proposed_territory"] == proposed.loc[locked, "Territory"]).all()
    # moved agrees with the territories, and every move has a reason naming from and to.
    moved = proposed["proposed_territory"] != proposed["Territory"]
    assert (proposed["moved"].astype(bool) == moved).all()
    for row in proposed[moved].itertuples():
        assert row.move_reason.startswith(f"{row.Territory} -> {row.proposed_territory}; ")
        assert re.search(r"; \d+ km (nearer|farther from) its rep base$", row.move_reason), row.move_reason
    assert proposed.loc[~moved, "move_reason"].isna().all()
    # Balance within tolerance, recomputed here from the file.
    pot = proposed["Potential"] / proposed["Potential"].sum()
    wl = proposed["Workload"] / proposed["Workload"].sum()
    reps = pd.read_excel(demo, sheet_name="Reps", engine="calamine")
    share = reps.set_index("Territory")["Capacity"] / reps["Capacity"].sum()
    load = (0.6 * pot + 0.4 * wl).groupby(proposed["proposed_territory"]).sum()
    assert np.all(np.abs(load / share.reindex(load.index) - 1) <= 0.05 + 1e-9)
    # The summary before and after, the moves, and the settings used.
    summary = read_sheet(out, "Territory summary")
    assert set(summary["alignment"]) == {"current", "proposed"}
    assert (summary["alignment"] == "proposed").sum() == 12
    moves = read_sheet(out, "Moves")
    assert len(moves) == moved.sum()
    balance = read_sheet(out, "Balance").set_index("alignment")
    assert balance.loc["proposed", "largest deviation"] <= 0.05 + 1e-9
    assert 0 <= balance.loc["proposed", "interleaving share"] <= 0.05
    assert balance.loc["proposed", "moved accounts"] == moved.sum()
    least = balance.loc["proposed", "least share that had to move"]
    assert 0 < least <= balance.loc["proposed", "moved share of balance measure"]
    settings = read_sheet(out, "Settings used").set_index("key")["value"]
    assert str(settings["tolerance"]) == "0.05"
    assert settings["balance"] == "potential,workload"


def test_same_seed_same_result_and_csv_output(demo, tmp_path):
    first, second = tmp_path / "a.csv", tmp_path / "b.csv"
    for out in (first, second):
        result = run("rebalance", demo, "--balance", "potential", "--fresh", "--seed", 3, "--tolerance", 0.05,
                     "--output", out)
        assert result.exit_code == 0, result.output
    a = pd.read_csv(first, dtype={"ZIP": str})
    b = pd.read_csv(second, dtype={"ZIP": str})
    pd.testing.assert_series_equal(a["proposed_territory"], b["proposed_territory"])
    assert a["ZIP"].str.len().eq(5).all()


def test_block_mode_keeps_every_zip_whole(demo, tmp_path):
    out = tmp_path / "blocks.csv"
    result = run("rebalance", demo, "--balance", "potential", "--block", "zip", "--tolerance", 0.1, "--output", out)
    assert result.exit_code == 0, result.output
    frame = pd.read_csv(out, dtype={"ZIP": str})
    assert (frame.groupby("ZIP")["proposed_territory"].nunique() == 1).all()


def test_bases_file_and_capacity(demo, tmp_path):
    reps = pd.read_excel(demo, sheet_name="Reps", engine="calamine")
    bases = tmp_path / "bases.csv"
    table = pd.DataFrame({"territory": reps["Territory"], "lat": reps["Latitude"], "lon": reps["Longitude"],
                          "capacity": reps["Capacity"]})
    table.to_csv(bases, index=False)
    accounts_csv = tmp_path / "accounts.csv"
    pd.read_excel(demo, sheet_name="Accounts", engine="calamine", dtype={"ZIP": str}).to_csv(accounts_csv, index=False)
    out = tmp_path / "out.xlsx"
    result = run("rebalance", accounts_csv, "--bases", bases, "--balance", "potential", "--tolerance", 0.05,
                 "--output", out)
    assert result.exit_code == 0, result.output
    proposed = read_sheet(out, "Proposed alignment")
    load = proposed.groupby("proposed_territory")["Potential"].sum() / proposed["Potential"].sum()
    share = table.set_index("territory")["capacity"] / table["capacity"].sum()
    assert np.all(np.abs(load / share.reindex(load.index) - 1) <= 0.05 + 1e-9)
    half = table.loc[table["capacity"] < 1, "territory"]
    assert len(half) == 1 and load[half.iloc[0]] < 0.75 * load.drop(half.iloc[0]).mean()


def test_impossible_balance_exits_3_and_still_writes_the_best_alignment(demo, tmp_path):
    accounts = pd.read_excel(demo, sheet_name="Accounts", engine="calamine", dtype={"ZIP": str})
    accounts.loc[0, "Potential"] = accounts["Potential"].sum()  # one account holds half the total
    accounts.loc[0, "Locked"] = True
    path = tmp_path / "lumpy.csv"
    accounts.to_csv(path, index=False)
    out = tmp_path / "best.csv"
    result = run("rebalance", path, "--balance", "potential", "--tolerance", 0.05, "--output", out)
    assert result.exit_code == 3
    assert "balance impossible" in result.stderr
    assert out.exists()
    best = pd.read_csv(out)
    assert best.loc[0, "proposed_territory"] == best.loc[0, "Territory"]


def test_measure_prints_every_territory(demo):
    result = run("measure", demo)
    assert result.exit_code == 0, result.output
    for territory in [f"T{i:02d}" for i in range(1, 13)]:
        assert territory in result.stdout
    assert "largest deviation" in result.stdout


def test_report_is_a_hidden_alias_of_measure(demo):
    measured, reported = run("measure", demo, "--tolerance", 0.1), run("report", demo, "--tolerance", 0.1)
    assert reported.exit_code == measured.exit_code == 0, reported.output
    assert reported.stdout == measured.stdout and reported.stderr == measured.stderr
    listed = run("--help").stdout
    assert "measure" in listed and "report" not in listed


def test_score_adds_score_and_tier(demo, tmp_path):
    out = tmp_path / "scored.xlsx"
    result = run("score", demo, "--output", out)
    assert result.exit_code == 0, result.output
    scored = read_sheet(out, "Scored accounts")
    assert set(scored["tier"]) == {"A", "B", "C"}
    assert scored["score"].between(0, 1).all()
    a, c = scored[scored["tier"] == "A"], scored[scored["tier"] == "C"]
    assert a["score"].min() >= c["score"].max()


def test_demo_command_writes_its_results(tmp_path):
    result = run("demo", "--output-dir", tmp_path / "out")
    assert result.exit_code == 0, result.output
    assert (tmp_path / "out" / "proposed_alignment.xlsx").exists()
    assert "results are in" in result.stdout


@pytest.mark.parametrize(
    "args, expected",
    [
        (["--tolerance", "-0.1"], "tolerance must be"),
        (["--territories", "0"], "territories must be"),
        (["--territories", "5000"], "need at least 5000 accounts"),
        (["--balance", "potentail"], "unknown measure 'potentail'"),
        (["--weights", "1,2,3", "--balance", "potential"], "give one weight per measure"),
    ],
)
def test_bad_settings_exit_2_with_one_line_per_problem(demo, tmp_path, args, expected):
    out = tmp_path / "never.xlsx"
    result = run("rebalance", demo, "--output", out, *args)
    assert result.exit_code == 2
    assert expected in result.stderr
    assert "Traceback" not in result.stderr
    assert not out.exists()
    assert not list(tmp_path.glob("*.tmp*")), "no partial output is left behind"


def test_output_may_not_overwrite_the_input(demo):
    before = digest(demo)
    result = run("rebalance", demo, "--output", demo)
    assert result.exit_code == 2
    assert digest(demo) == before


def test_bad_cells_are_located_by_sheet_row_and_column(tmp_path):
    path = tmp_path / "bad.csv"
    path.write_text("Account ID,Latitude,Longitude,Territory,Potential\n"
                    "A1,40.1,-74.0,T1,100\nA2,95,-74.0,T1,n/a\nA1,40.2,-74.1,T2,-5\n")
    result = run("rebalance", path, "--output", tmp_path / "out.csv")
    assert result.exit_code == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) >= 4
    assert any("row 3" in line and "column B" in line for line in lines)  # latitude 95
    assert any("row 3" in line and "column E" in line for line in lines)  # n/a potential
    assert any("row 4" in line and "column A" in line for line in lines)  # duplicate id
    assert any("row 4" in line and "column E" in line for line in lines)  # negative potential


def test_no_traceback_from_a_real_process(tmp_path):
    path = tmp_path / "empty.csv"
    path.write_text("")
    process = subprocess.run([sys.executable, "-m", "territory_engine.cli", "measure", str(path)],
                             capture_output=True, text=True)
    assert process.returncode == 2
    assert "Traceback" not in process.stderr
    assert process.stderr.startswith("error:")


def test_a_real_process_writes_everything_and_exits_with_the_right_code(tmp_path):
    # The command leaves with os._exit: what it printed and wrote must all be there.
    path, frame = _accounts_csv(tmp_path)
    out = tmp_path / "proposed.csv"
    command = [sys.executable, "-m", "territory_engine.cli", "rebalance", str(path), "--balance", "potential",
               "--output", str(out)]
    process = subprocess.run(command, capture_output=True, text=True)
    assert process.returncode == 0, process.stderr
    lines = process.stdout.splitlines()
    # The last lines: where it wrote, then the notes (pieces kept apart, ...), all flushed.
    assert f"wrote {out}" in lines
    assert all(line.startswith("note:") for line in lines[lines.index(f"wrote {out}") + 1:])
    assert len(pd.read_csv(out)) == len(frame)
    lumpy = tmp_path / "lumpy.csv"
    frame.assign(Potential=np.where(np.arange(len(frame)) == 0, 1e12, frame["Potential"])).to_csv(lumpy, index=False)
    process = subprocess.run(command[:4] + [str(lumpy)] + command[5:-1] + [str(tmp_path / "best.csv")],
                             capture_output=True, text=True)
    assert process.returncode == 3 and "balance impossible" in process.stderr
    assert len(pd.read_csv(tmp_path / "best.csv")) == len(frame)


def test_accounts_without_any_territory_get_new_ones(tmp_path):
    frame = pd.read_excel(DEMO, sheet_name="Accounts", engine="calamine", dtype={"ZIP": str})
    path = tmp_path / "new.csv"
    frame.drop(columns=["Territory", "Latitude", "Longitude", "Locked"]).head(400).to_csv(path, index=False)
    missing_k = run("rebalance", path, "--output", tmp_path / "x.csv")
    assert missing_k.exit_code == 2 and "--territories" in missing_k.stderr
    out = tmp_path / "new.xlsx"
    result = run("rebalance", path, "--territories", 4, "--balance", "potential", "--output", out)
    assert result.exit_code == 0, result.output
    proposed = read_sheet(out, "Proposed alignment")
    assert proposed["proposed_territory"].nunique() == 4
    assert not proposed["moved"].astype(bool).any()
    balance = read_sheet(out, "Balance")
    assert list(balance["alignment"]) == ["proposed"]


def test_county_blocks_take_a_blank_county_from_the_zip(tmp_path):
    frame = pd.read_excel(DEMO, sheet_name="Accounts", engine="calamine", dtype={"ZIP": str})
    path = tmp_path / "no_county.csv"
    frame.drop(columns=["County", "State"]).to_csv(path, index=False)
    out = tmp_path / "blocks.csv"
    result = run("rebalance", path, "--balance", "potential", "--block", "county", "--tolerance", 0.25, "--output", out)
    assert result.exit_code in (0, 3), result.output
    proposed = pd.read_csv(out, dtype={"ZIP": str})
    from territory_engine.geography import block_of

    county = block_of("county", zip=frame["ZIP"].to_numpy(dtype=object))  # each ZIP's county, as the map has it
    assert pd.notna(county).all()
    assert (proposed.groupby(county)["proposed_territory"].nunique() == 1).all()
    assert proposed["move_reason"].dropna().str.contains(r"county .* County, [A-Z][A-Z]").all()


def test_a_previous_result_can_be_rebalanced_again(demo, tmp_path):
    first = tmp_path / "first.csv"
    assert run("rebalance", demo, "--balance", "potential", "--output", first).exit_code == 0
    again = tmp_path / "again.csv"
    result = run("rebalance", first, "--balance", "potential", "--output", again)
    assert result.exit_code == 0, result.output
    frame = pd.read_csv(again)
    assert list(frame.columns).count("proposed_territory") == 1
    assert list(frame.columns[-4:]) == ["proposed_territory", "moved", "move_reason", "proposed_rep"]


def test_csv_to_csv_repeats_every_input_line_exactly(tmp_path):
    frame = pd.read_excel(DEMO, sheet_name="Accounts", engine="calamine", dtype={"ZIP": str}).head(600)
    frame["Account Name"] = frame["Account Name"] + ", Inc."  # quoted fields
    frame["Potential"] = frame["Potential"].map(lambda v: f"{v:.2f}")  # trailing zeros: "1200.50"
    path = tmp_path / "accounts.csv"
    text = frame.to_csv(index=False, lineterminator="\r\n")
    path.write_bytes(text.encode("utf-8-sig"))
    out = tmp_path / "proposed.csv"
    result = run("rebalance", path, "--territories", 6, "--balance", "potential", "--tolerance", 0.05, "--output", out)
    assert result.exit_code == 0, result.output
    written = out.read_bytes().decode("utf-8-sig").split("\r\n")
    assert written[-1] == "" and len(written) == len(frame) + 2
    for given, line in zip(text.split("\r\n")[:-1], written):
        assert line.startswith(given + ","), (given, line)
    proposed = pd.read_csv(out, dtype={"ZIP": str}, keep_default_na=False)
    assert list(proposed.columns[-4:]) == ["proposed_territory", "moved", "move_reason", "proposed_rep"]
    assert (proposed["ZIP"] == frame["ZIP"]).all()
    moved = proposed["proposed_territory"] != proposed["Territory"].astype(str)
    assert moved.any() and (proposed["moved"] == moved).all()


def test_csv_numbers_are_numbers_in_an_xlsx_output(tmp_path):
    frame = pd.read_excel(DEMO, sheet_name="Accounts", engine="calamine", dtype={"ZIP": str}).head(300)
    path = tmp_path / "accounts.csv"
    frame.to_csv(path, index=False)
    out = tmp_path / "scored.xlsx"
    assert run("score", path, "--output", out).exit_code == 0
    scored = pd.read_excel(out, sheet_name="Scored accounts", engine="calamine")
    assert pd.api.types.is_numeric_dtype(scored["Potential"])
    assert scored["Potential"].sum() == pytest.approx(frame["Potential"].sum())
    assert pd.read_excel(out, sheet_name="Scored accounts", engine="calamine", dtype=object)["ZIP"].map(type).eq(str).all()


def _accounts_csv(tmp_path) -> tuple[Path, pd.DataFrame]:
    frame = pd.read_excel(DEMO, sheet_name="Accounts", engine="calamine", dtype={"ZIP": str})
    path = tmp_path / "accounts.csv"
    frame.to_csv(path, index=False)
    return path, frame


def test_fewer_territories_merge_keeps_locks_and_retires_ids(tmp_path):
    path, frame = _accounts_csv(tmp_path)
    held = set(frame.loc[frame["Locked"].astype(bool), "Territory"])
    assert 0 < len(held) < 10 < frame["Territory"].nunique()
    out = tmp_path / "ten.xlsx"
    result = run("rebalance", path, "--territories", 10, "--balance", "potential", "--tolerance", 0.05,
                 "--output", out)
    assert result.exit_code == 0, result.output
    proposed = read_sheet(out, "Proposed alignment")
    kept = set(proposed["proposed_territory"])
    assert len(kept) == 10 and kept <= set(frame["Territory"]) and held <= kept
    locked = proposed["Locked"].astype(bool)
    assert (proposed.loc[locked, "proposed_territory"] == proposed.loc[locked, "Territory"]).all()
    load = proposed.groupby("proposed_territory")["Potential"].sum() / proposed["Potential"].sum()
    assert np.all(np.abs(load * 10 - 1) <= 0.05 + 1e-9)
    retired = set(frame["Territory"]) - kept
    from_retired = proposed[proposed["Territory"].isin(retired)]
    assert from_retired["moved"].astype(bool).all()
    assert from_retired["move_reason"].str.contains("merge: ").all()
    summary = read_sheet(out, "Territory summary")
    assert (summary["alignment"] == "current").sum() == 12 and (summary["alignment"] == "proposed").sum() == 10
    # Every account of a retired territory had to move.
    least = read_sheet(out, "Balance").set_index("alignment").loc["proposed", "least share that had to move"]
    assert least >= from_retired["Potential"].sum() / proposed["Potential"].sum() - 1e-9


def test_fewer_territories_than_those_with_locked_accounts_is_a_clear_error(tmp_path):
    path, frame = _accounts_csv(tmp_path)
    result = run("rebalance", path, "--territories", 3, "--balance", "potential", "--output", tmp_path / "x.csv")
    assert result.exit_code == 2
    held = frame.loc[frame["Locked"].astype(bool), "Territory"].nunique()
    assert f"fewer than the {held} territories with locked accounts" in result.stderr
    assert not (tmp_path / "x.csv").exists()


def test_fresh_design_keeps_locked_accounts_in_their_territory(tmp_path):
    path, frame = _accounts_csv(tmp_path)
    out = tmp_path / "fresh.csv"
    result = run("rebalance", path, "--fresh", "--balance", "potential", "--output", out)
    assert result.exit_code == 0, result.output
    proposed = pd.read_csv(out)
    locked = proposed["Locked"].astype(bool)
    assert (proposed.loc[locked, "proposed_territory"] == proposed.loc[locked, "Territory"]).all()


def test_a_fresh_design_with_locked_accounts_builds_each_territory_around_its_locks(tmp_path):
    # Before: the fresh design numbered its territories as its bisection found them while each locked
    # account kept its territory's number, so the locks sat far from their territories and the ids kept
    # matched nothing: 89% of the demo's accounts changed territory on a fresh design of today's 12.
    accounts = tmp_path / "accounts.csv"  # the demo's accounts without its reps (their bases would seed the design)
    pd.read_excel(DEMO, sheet_name="Accounts", dtype={"ZIP": str}, engine="calamine").to_csv(accounts, index=False)
    out = tmp_path / "fresh.xlsx"
    result = run("rebalance", accounts, "--fresh", "--output", out)
    assert result.exit_code == 0, result.output
    proposed = read_sheet(out, "Proposed alignment")
    current = proposed["Territory"].astype(str).to_numpy()
    new = proposed["proposed_territory"].astype(str).to_numpy()
    # the best any relabelling of this design could keep (each current territory's largest share)
    keepable = pd.crosstab(current, new).max(axis=1).sum() / len(proposed)
    assert (current == new).mean() >= keepable - 0.15, ((current == new).mean(), keepable)
    locked = proposed["Locked"].astype(bool).to_numpy()
    assert (new[locked] == current[locked]).all()
    # Pieces apart from their territory: only locked accounts the balance could not take along, each named
    exclaves = read_sheet(out, "Exclaves")
    assert set(exclaves["why"]) == {"locked accounts"}
    balance = read_sheet(out, "Balance").set_index("alignment")
    assert balance.loc["proposed", "extra pieces"] == len(exclaves)
    assert len(exclaves) <= len(set(current[locked])) // 2, exclaves  # before: one per territory with locks


def test_realigning_a_map_far_out_of_balance_moves_no_more_than_a_fresh_design(tmp_path):
    # Metros two to three times over their share: moving the excess border by border would
    # move more than a fresh design whose territories keep the ids they overlap most.
    sys.path.insert(0, str(Path(__file__).parent / "benchmarks"))
    from instances import make_instance, write_csv

    path = write_csv(make_instance(10_000, 50, seed=7), tmp_path / "accounts.csv")
    shares = {}
    for mode in ("realign", "fresh"):
        out = tmp_path / f"{mode}.csv"
        flags = ["--fresh"] if mode == "fresh" else []
        result = run("rebalance", path, "--territories", 50, "--balance", "potential", *flags, "--output", out)
        assert result.exit_code == 0, result.output
        frame = pd.read_csv(out)
        moved = frame["proposed_territory"] != frame["Territory"]
        assert (frame["moved"] == moved).all()
        shares[mode] = frame.loc[moved, "Potential"].sum() / frame["Potential"].sum()
        load = frame.groupby("proposed_territory")["Potential"].sum() / frame["Potential"].sum()
        assert len(load) == 50 and np.all(np.abs(load * 50 - 1) <= 0.05 + 1e-9)
    assert shares["realign"] <= shares["fresh"] + 1e-9


def _moved_and_least(stdout: str) -> tuple[float, float]:
    found = re.search(r"\(([\d.]+)% of the balance measure, at least ([\d.]+)% had to\)", stdout)
    return float(found.group(1)), float(found.group(2))


def test_a_map_far_out_of_balance_resites_starved_territories_and_says_so(tmp_path):
    sys.path.insert(0, str(Path(__file__).parent / "benchmarks"))
    from instances import make_instance, write_csv

    # The benchmark's hand-drawn map: metro territories up to twice their share, rural ones
    # starved. Border by border, the excess crosses several rings of neighbours.
    path = write_csv(make_instance(10_000, 50, seed=1), tmp_path / "accounts.csv")
    args = ["rebalance", path, "--territories", 50, "--balance", "potential"]
    resited = run(*args, "--output", tmp_path / "a.xlsx")
    assert resited.exit_code == 0, resited.output
    moved, least = _moved_and_least(resited.stdout)
    assert moved <= 2 * least
    count = int(re.search(r"note: (\d+) under-served territor(?:y was|ies were) re-sited into overloaded ones",
                          resited.stdout).group(1))
    moves = read_sheet(tmp_path / "a.xlsx", "Moves")
    why = moves["reason"].str.extract(r"^(T\d+) -> (T\d+); re-site: (T\d+) ")
    re_sited = why.dropna()
    assert len(re_sited) > 0
    # Every re-site reason names the re-sited territory, which the account left or joined.
    assert ((re_sited[2] == re_sited[0]) | (re_sited[2] == re_sited[1])).all()
    assert re_sited[2].nunique() == count
    balance = read_sheet(tmp_path / "a.xlsx", "Balance").set_index("alignment")
    assert balance.loc["proposed", "re-sited territories"] == count
    settings = read_sheet(tmp_path / "a.xlsx", "Settings used").set_index("key")
    assert str(settings.loc["resite", "value"]).upper() == "TRUE"

    border_only = run(*args, "--no-resite", "--output", tmp_path / "b.xlsx")
    assert border_only.exit_code == 0 and "re-site" not in border_only.stdout
    assert moved < _moved_and_least(border_only.stdout)[0]
    assert not read_sheet(tmp_path / "b.xlsx", "Moves")["reason"].str.contains("re-site").any()


def test_the_resite_note_names_the_rep_whose_territory_moves(tmp_path):
    sys.path.insert(0, str(Path(__file__).parent / "benchmarks"))
    from instances import make_instance, write_csv

    # A Reps sheet with names but no home bases: territories may be re-sited, and the
    # analyst is told whose.
    accounts = pd.read_csv(write_csv(make_instance(10_000, 50, seed=1), tmp_path / "accounts.csv"),
                           dtype={"ZIP": str})
    territories = sorted(accounts["Territory"].unique())
    book = tmp_path / "book.xlsx"
    with pd.ExcelWriter(book) as writer:
        accounts.to_excel(writer, sheet_name="Accounts", index=False)
        pd.DataFrame({"Territory": territories, "Rep": [f"Rep of {t}" for t in territories]}).to_excel(
            writer, sheet_name="Reps", index=False)
    result = run("rebalance", book, "--balance", "potential", "--output", tmp_path / "out.xlsx")
    assert result.exit_code == 0, result.output
    named = re.findall(r"(T\d+) \(Rep of (T\d+)\) into T\d+", result.stdout)
    assert named and all(territory == rep for territory, rep in named)


def _small_csv(path: Path, rows) -> Path:
    lines = ["Account ID,Latitude,Longitude,Territory,Potential,Locked"]
    lines += [",".join(str(v) for v in row) for row in rows]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def _territory(*args):
    """The command in a real subprocess: its exit code and what it printed."""
    code = "from territory_engine.cli import entry; entry()"
    return subprocess.run([sys.executable, "-c", code, *map(str, args)], capture_output=True, text=True)


def test_one_account_gets_a_result_not_a_traceback(tmp_path):
    source = _small_csv(tmp_path / "one.csv", [("A1", 40.7, -74.0, "T1", 100, "")])
    done = _territory("rebalance", source, "--output", tmp_path / "out.csv")
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr
    assert pd.read_csv(tmp_path / "out.csv")["proposed_territory"].tolist() == ["T1"]


def test_a_balance_measure_that_totals_zero_is_an_input_error_at_its_column(tmp_path):
    rng = np.random.default_rng(1)
    rows = [(f"A{i}", 40 + rng.random(), -74 + rng.random(), f"T{i % 4 + 1}", 0, "") for i in range(40)]
    source = _small_csv(tmp_path / "zero.csv", rows)
    for command in (("rebalance", source, "--output", tmp_path / "out.csv"), ("measure", source)):
        done = _territory(*command)
        assert done.returncode == 2, done.stdout + done.stderr
        assert "zero.csv, column E (Potential): the balance measure totals zero" in done.stderr
    assert not (tmp_path / "out.csv").exists()


def test_a_territory_that_cannot_reach_its_band_with_every_unlocked_account_is_a_proven_exit_3(tmp_path):
    # Every account locked: T1 holds 92% of its target and nothing can move into it, although
    # no territory's locked load is over its band.
    rng = np.random.default_rng(2)
    rows = [(f"{t}-{i}", 40 + rng.random(), -74 + rng.random(), t, total / 20, "yes")
            for t, total in (("T1", 92), ("T2", 102.67), ("T3", 102.67), ("T4", 102.66)) for i in range(20)]
    source = _small_csv(tmp_path / "locked.csv", rows)
    done = _territory("rebalance", source, "--output", tmp_path / "out.csv")
    assert done.returncode == 3, done.stdout + done.stderr
    assert ("balance impossible: territory T1 can reach at most 92% of its target potential, with its locked "
            "accounts and every unlocked account together") in done.stderr
    assert "too lumpy" not in done.stderr
    assert (tmp_path / "out.csv").exists()  # the best alignment found is still written


def test_building_blocks_that_make_one_block_get_a_proof_not_a_traceback(tmp_path):
    # Two ZIPs of one county (Lincoln County, Maine) into three territories by county: one
    # block carries the whole potential, three times a target.
    lines = ["ID,ZIP,Territory,Potential"] + [f"C{i:03d},{('04575', '04576')[i % 2]},T{i % 3 + 1},{100 + i}"
                                              for i in range(40)]
    source = tmp_path / "county.csv"
    source.write_text("\n".join(lines) + "\n", encoding="utf-8")
    done = _territory("rebalance", source, "--block", "county", "--output", tmp_path / "out.csv")
    assert done.returncode == 3, done.stdout + done.stderr
    assert "Traceback" not in done.stderr
    assert "county Lincoln County, ME alone carries 300% of a territory's target" in done.stderr


def test_a_locked_account_deep_in_another_territory_is_named_as_an_exclave(tmp_path):
    """Two territories side by side; one West account, locked, sits in the middle of the East:
    it cannot join the East, so the proposal names it as an exclave and says why."""
    rng = np.random.default_rng(7)
    rows = []
    for i in range(120):
        lat, lon = 35 + rng.uniform(0, 2), -100 + rng.uniform(0, 4)
        rows.append((f"A{i}", round(lat, 4), round(lon, 4), "West" if lon < -98 else "East", 100, ""))
    rows.append(("LOCKED", 36.0, -96.5, "West", 100, "yes"))
    source = _small_csv(tmp_path / "exclave.csv", rows)
    out = tmp_path / "out.xlsx"
    done = _territory("rebalance", source, "--output", out)
    assert done.returncode == 0, done.stderr
    assert "Exclaves sheet" in done.stdout and "locked accounts" in done.stdout
    exclaves = read_sheet(out, "Exclaves")
    west = (read_sheet(out, "Proposed alignment")["proposed_territory"] == "West").sum()
    [record] = exclaves.to_dict("records")
    assert pd.isna(record.pop("km from rep base")), "no Reps table: no base"
    assert record.pop("share of territory") == pytest.approx(1 / west)  # (every account weighs 100)
    assert record == {"territory": "West", "accounts": 1, "why": "locked accounts", "account ids": "LOCKED"}


def test_every_piece_of_accounts_is_named_and_the_note_matches_the_sheets(tmp_path):
    """Without blocks (and above the unit limit, where slivers are joined on the accounts) the
    design names every piece of accounts: the outcome's note and the Balance sheet agree. (Designs
    from geography blocks count pieces on the blocks' adjacency: tests/test_block_workflow.py.)"""
    from territory_engine import workflow
    from territory_engine.io import read_table
    from territory_engine.tuning import Tuning

    sys.path.insert(0, str(Path(__file__).parent / "benchmarks"))
    from instances import make_instance, write_csv

    path = write_csv(make_instance(3_000, 12, seed=2), tmp_path / "accounts.csv")
    frame = pd.read_csv(path, dtype={"ZIP": str})
    west, east = frame["Longitude"].idxmin(), frame["Longitude"].idxmax()
    frame.loc[west, "ZIP"] = frame.loc[east, "ZIP"]
    frame.to_csv(path, index=False)
    inputs = workflow.Inputs(accounts=read_table(path))
    cases = [({}, Tuning(max_units=400)), ({}, Tuning())]
    for extra_settings, tuning in cases:
        result = workflow.rebalance(inputs, {"territories": 12, "balance": "potential", **extra_settings},
                                    tuning=tuning)
        extra = int(result.balance.iloc[-1]["extra pieces"])
        named = 0 if result.exclaves is None else len(result.exclaves)
        lines = [line for line in result.outcome() if "accounts' adjacency shows" in line]
        assert extra == named and lines == [], "the design names every piece of accounts"


def test_a_map_of_a_rebalance_result_shows_the_balance_the_rebalance_reported(tmp_path):
    """The demo's reps have unequal capacities: a map of the result must use the same targets
    (the result's Reps used sheet), not equal ones, or it contradicts the result."""
    out, page = tmp_path / "proposed.xlsx", tmp_path / "map.html"
    done = run("rebalance", DEMO, "--output", out)
    assert done.exit_code == 0, done.output
    reported = re.search(r"largest deviation [\d.]+% -> ([\d.]+)%", done.output).group(1)
    assert run("map", out, "--output", page, "--offline").exit_code == 0
    drawn = re.findall(r"largest deviation ([\d.]+)%", page.read_text(encoding="utf-8"))
    assert drawn and drawn[0] == reported, (drawn, reported)


def test_a_native_solvers_debug_print_stays_off_the_commands_output(tmp_path):
    """HiGHS (scipy 1.17) prints "HighsMipSolverData::transformNewIntegerFeasibleSolution
    tmpSolver.run();" from C++ to descriptor 1 while rounding this 12-account map at tolerance 0
    (every run here); the command's stdout holds its own lines only."""
    rows = [[f"A{i}", 30 + i * 0.05, -97 - (i % 3) * 0.05, ["1", "2", "10"][i % 3], 1000 + 10 * i]
            for i in range(12)]
    path = tmp_path / "accounts.csv"
    path.write_text("Account ID,Latitude,Longitude,Territory,Potential\n"
                    + "".join(",".join(map(str, row)) + "\n" for row in rows), encoding="utf-8")
    done = _territory("rebalance", path, "-o", tmp_path / "out.csv", "--tolerance", "0")
    assert done.returncode == 0, done.stderr
    assert "Highs" not in done.stdout and "Highs" not in done.stderr
    assert done.stdout.startswith("3 territories; largest deviation"), done.stdout
    assert f"wrote {tmp_path / 'out.csv'}" in done.stdout


@pytest.mark.skipif(sys.platform == "win32", reason="a pseudo-terminal")
def test_a_table_on_a_wide_terminal_fills_it_when_only_stdout_is_the_terminal(tmp_path):
    """With descriptor 1 the null device while the command runs (the native prints above), the
    terminal's size could be read only from stdin or stderr: a table written to a 200-column
    terminal, stdin and stderr elsewhere, came out 80 columns wide with columns left out."""
    import fcntl
    import pty
    import struct
    import termios

    path = Path(__file__).parent / "data" / "each_opposed_measures_300.csv"
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 50, 200, 0, 0))
    env = {key: value for key, value in os.environ.items() if key not in ("COLUMNS", "LINES")}
    code = "from territory_engine.cli import entry; entry()"
    process = subprocess.Popen([sys.executable, "-c", code, "measure", str(path)], stdin=subprocess.DEVNULL,
                               stdout=slave, stderr=subprocess.DEVNULL, env=env)
    os.close(slave)
    chunks = []
    while True:
        try:
            chunk = os.read(master, 65536)
        except OSError:  # (EIO: the child closed the terminal)
            break
        if not chunk:
            break
        chunks.append(chunk)
    os.close(master)
    assert process.wait(timeout=120) == 0
    text = b"".join(chunks).decode("utf-8", "replace")
    assert "for want of width" not in text
    assert max(len(line.rstrip()) for line in text.splitlines()) > 100


@pytest.mark.skipif(sys.platform == "win32", reason="closing a descriptor before the command starts")
def test_a_command_run_with_stdout_closed_writes_its_file_and_exits_cleanly(tmp_path):
    """`territory rebalance ... >&-`: Python starts with sys.stdout None; the command's lines
    have nowhere to go, but its file is written and it exits 0 (it ended in a traceback, exit 1)."""
    source = Path(__file__).parent / "data" / "each_opposed_measures_300.csv"
    out = tmp_path / "out.csv"
    code = "from territory_engine.cli import entry; entry()"
    done = subprocess.run([sys.executable, "-c", code, "rebalance", str(source), "-o", str(out)],
                          capture_output=False, stderr=subprocess.PIPE, text=True, preexec_fn=lambda: os.close(1))
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr
    assert out.exists() and len(out.read_text(encoding="utf-8-sig").splitlines()) == 301


def test_a_merge_under_a_move_cap_keeps_the_cap(tmp_path):
    """--max-moved-share with fewer territories than today: the merge was a fresh design, which
    moved 23.7% of the accounts under a 15% cap with only a note that the cap was not applied. The
    smallest territories (T2, 15 accounts; T3, 28) now retire and the others realign under what is
    left of the cap: balanced, moving 15% at most, every other territory keeping its id."""
    source = Path(__file__).parent / "data" / "each_opposed_measures_300.csv"
    out = tmp_path / "fewer.csv"
    done = _territory("rebalance", source, "-o", out, "-k", "4", "--max-moved-share", "0.15")
    assert done.returncode == 0, done.stderr
    assert "not applied" not in done.stdout + done.stderr
    proposed = pd.read_csv(out)
    assert proposed["moved"].sum() <= 0.15 * len(proposed)
    assert set(proposed["proposed_territory"]) == {"T1", "T4", "T5", "T6"}
    stayed = proposed["Territory"].isin(["T1", "T4", "T5", "T6"])
    assert not proposed.loc[~stayed, "moved"].eq(False).any()  # the retired territories' accounts all move
    kept = _territory("rebalance", source, "-o", tmp_path / "kept.csv", "--max-moved-share", "0.5")
    assert kept.returncode == 0, kept.stderr
    assert "max_moved_share" not in kept.stdout + kept.stderr


@pytest.mark.skipif(sys.platform == "win32", reason="closing a descriptor before the command starts")
def test_a_command_run_with_stderr_closed_writes_its_file_and_exits_cleanly(tmp_path):
    """`territory rebalance ... 2>&-`: sys.stderr is None, and the progress display asked it whether
    it was a terminal: every command exited 1 and wrote nothing."""
    source = Path(__file__).parent / "data" / "each_opposed_measures_300.csv"
    out = tmp_path / "out.csv"
    code = "from territory_engine.cli import entry; entry()"
    done = subprocess.run([sys.executable, "-c", code, "rebalance", str(source), "-o", str(out)],
                          stdout=subprocess.PIPE, text=True, preexec_fn=lambda: os.close(2))
    assert done.returncode == 0 and "wrote" in done.stdout, done.stdout
    assert out.exists() and len(out.read_text(encoding="utf-8-sig").splitlines()) == 301


def test_a_table_of_non_ascii_names_under_an_ascii_locale_prints_in_utf8(tmp_path):
    """``PYTHONUTF8=0 LC_ALL=C`` opens the standard streams as ASCII: click wrote "Nörd" in UTF-8,
    but the territory table (rich) ended in a UnicodeEncodeError traceback, exit 1."""
    path = tmp_path / "accounts.csv"
    path.write_text("Account ID,Latitude,Longitude,Territory,Potential\n"
                    "Café Zoë,40.1,-75.1,Nörd,10\nB2,40.2,-75.2,Süd,20\nB3,40.3,-75.3,Süd,5\n", encoding="utf-8")
    env = {**os.environ, "PYTHONUTF8": "0", "LC_ALL": "C", "LANG": "C", "PYTHONCOERCECLOCALE": "0"}
    env.pop("PYTHONIOENCODING", None)
    code = "from territory_engine.cli import entry; entry()"
    for args in (["measure", str(path), "--balance", "potential"],
                 ["rebalance", str(path), "--balance", "potential", "-o", str(tmp_path / "out.csv")]):
        done = subprocess.run([sys.executable, "-c", code, *args], capture_output=True, env=env, timeout=300)
        stderr = done.stderr.decode("utf-8")
        assert "Traceback" not in stderr and done.returncode in (0, 3), stderr
        assert "Nörd" in (done.stdout + done.stderr).decode("utf-8")


def test_non_ascii_arguments_under_an_ascii_locale_are_read_as_typed(tmp_path):
    """``PYTHONUTF8=0 LC_ALL=C``: Python decoded the command line as ASCII, so ``--only-region "Région
    Sud"`` matched no region (exit 2, "R??gion Sud") although the file named the same way opened.
    The command now runs in Python's UTF-8 mode there: the region is found, the file named
    ``Résultat.csv`` is written under that name, and the lines show both names as typed."""
    rows = [[f"{t}-{j}", la + 0.01 * j, lo + 0.01 * (j % 3), t, region, 15 if t == "T1" else 10]
            for t, region, la, lo in [("T1", "Région Sud", 40.0, -75.0), ("T2", "Région Sud", 40.0, -76.0),
                                      ("T3", "Nord", 38.0, -105.0), ("T4", "Nord", 38.0, -106.0)] for j in range(10)]
    source = tmp_path / "Ausgänge.csv"
    pd.DataFrame(rows, columns=["Account ID", "Latitude", "Longitude", "Territory", "Region", "Potential"]).to_csv(
        source, index=False)
    env = {**os.environ, "PYTHONUTF8": "0", "LC_ALL": "C", "LANG": "C", "PYTHONCOERCECLOCALE": "0"}
    env.pop("PYTHONIOENCODING", None)
    code = "from territory_engine.cli import entry; entry()"
    done = subprocess.run([sys.executable, "-c", code, "rebalance", str(source), "--only-region", "Région Sud",
                           "-o", str(tmp_path / "Résultat.csv")], capture_output=True, env=env, timeout=300)
    out, err = done.stdout.decode("utf-8"), done.stderr.decode("utf-8")
    assert done.returncode == 0, out + err
    assert "Résultat.csv\n" in out and "region Région Sud:" in out
    written = pd.read_csv(tmp_path / "Résultat.csv")
    assert set(written.loc[written["moved"], "Region"]) == {"Région Sud"}


def test_a_move_cap_that_the_other_settings_contradict_is_a_settings_error(tmp_path):
    """--fresh ignores today's alignment, so a cap on what moves from it means nothing; going from
    6 territories to 4 retires two, whose accounts all move: at least T2's 15 and T3's 28 of the
    300 (14.3%). Both ran and wrote a file that moved far more than the cap, with only a note."""
    source = Path(__file__).parent / "data" / "each_opposed_measures_300.csv"
    fresh = _territory("rebalance", source, "-o", tmp_path / "fresh.csv", "--fresh", "--max-moved-share", "0.1")
    assert fresh.returncode == 2, fresh.stdout + fresh.stderr
    assert "max_moved_share" in fresh.stderr and "fresh" in fresh.stderr and "Traceback" not in fresh.stderr
    assert not (tmp_path / "fresh.csv").exists()
    fewer = _territory("rebalance", source, "-o", tmp_path / "fewer.csv", "-k", "4", "--max-moved-share", "0.14")
    assert fewer.returncode == 2, fewer.stdout + fewer.stderr
    assert "at least 43 accounts (14.3%" in fewer.stderr and "T2 (15), T3 (28)" in fewer.stderr
    assert "raise max_moved_share to 14.4%" in fewer.stderr
    assert not (tmp_path / "fewer.csv").exists()
    book = tmp_path / "merge.xlsx"  # the same on a Settings sheet: the error names the cap's cell
    with pd.ExcelWriter(book, engine="openpyxl") as writer:
        pd.read_csv(source).to_excel(writer, sheet_name="Accounts", index=False)
        pd.DataFrame({"Key": ["territories", "max_moved_share"], "Value": [4, 0.1]}).to_excel(
            writer, sheet_name="Settings", index=False)
    located = _territory("rebalance", book, "-o", tmp_path / "merge_out.xlsx")
    assert located.returncode == 2 and "error: Settings!B3: max_moved_share: going from 6" in located.stderr, \
        located.stderr
    # at the least share it suggests, the settings hold, and the merge is held to the cap: the two
    # retired territories' 43 accounts leave no room to balance, which is proven (no other pair fits)
    held = _territory("rebalance", source, "-o", tmp_path / "held.csv", "-k", "4", "--max-moved-share", "0.144")
    assert held.returncode == 3, held.stderr
    assert "balance impossible: balance cannot be reached with at most 14.4%" in held.stderr
    assert pd.read_csv(tmp_path / "held.csv")["moved"].sum() <= 0.144 * 300
