"""Issue 12, validation semantics: no silent wrong numbers, no tracebacks, through the real command.

Every case runs ``territory`` in a subprocess on a file written here (rows of the demo
workbook, or a small table) and checks its exit code, what it printed and what it wrote.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

DEMO = Path(__file__).resolve().parents[1] / "workbooks" / "territory_demo.xlsx"
COLUMNS = ["Account ID", "ZIP", "Latitude", "Longitude", "Territory", "Potential"]


def territory(*args) -> subprocess.CompletedProcess:
    code = "from territory_engine.cli import entry; entry()"
    return subprocess.run([sys.executable, "-c", code, *map(str, args)], capture_output=True, text=True)


@pytest.fixture(scope="module")
def demo_rows() -> pd.DataFrame:
    frame = pd.read_excel(DEMO, sheet_name="Accounts", engine="calamine", dtype={"ZIP": str})
    return frame[COLUMNS].iloc[:300].reset_index(drop=True)


def write(frame: pd.DataFrame, path: Path) -> Path:
    frame.to_csv(path, index=False)
    return path


def warnings_of(done: subprocess.CompletedProcess) -> list[str]:
    return [line for line in done.stderr.splitlines() if line.startswith("warning:")]


# --- 1. Implausible coordinates ---------------------------------------------------------------

def test_swapped_coordinates_are_an_error_that_names_the_fix(demo_rows, tmp_path):
    rows = demo_rows.copy()
    rows.loc[4, "Latitude"], rows.loc[4, "Longitude"] = demo_rows.loc[4, "Longitude"], demo_rows.loc[4, "Latitude"]
    done = territory("rebalance", write(rows, tmp_path / "in.csv"), "-o", tmp_path / "out.xlsx")
    assert done.returncode == 2, done.stdout + done.stderr
    assert "in.csv, row 6, column C (Latitude): latitude" in done.stderr
    assert "with latitude and longitude swapped it lies at its own ZIP; swap the Latitude and Longitude" in done.stderr
    assert not (tmp_path / "out.xlsx").exists()


def test_a_dropped_minus_sign_is_an_error_even_without_a_zip(demo_rows, tmp_path):
    rows = demo_rows.drop(columns="ZIP")
    rows.loc[7, "Longitude"] = -rows.loc[7, "Longitude"]
    done = territory("rebalance", write(rows, tmp_path / "in.csv"), "-o", tmp_path / "out.csv")
    assert done.returncode == 2, done.stdout + done.stderr
    assert "row 9, column B (Latitude)" in done.stderr
    assert "with the longitude's sign changed it lies among the other accounts" in done.stderr


def test_a_table_in_antarctica_or_the_open_ocean_is_called_mistyped(demo_rows, tmp_path):
    swapped = demo_rows.drop(columns="ZIP")
    swapped[["Latitude", "Longitude"]] = demo_rows[["Longitude", "Latitude"]].to_numpy()
    done = territory("check", write(swapped, tmp_path / "south.csv"))
    assert done.returncode == 2 and "every account lies in Antarctica" in done.stderr, done.stdout + done.stderr
    ocean = demo_rows.drop(columns="ZIP")
    ocean["Latitude"] = 30 + (demo_rows["Latitude"] - 40) / 5  # mid-Atlantic, 1,900 km from Bermuda
    ocean["Longitude"] = -45 + (demo_rows["Longitude"] + 74) / 5
    done = territory("check", write(ocean, tmp_path / "ocean.csv"))
    assert done.returncode == 2 and "every account lies in the open ocean" in done.stderr, done.stdout + done.stderr


def test_coordinates_far_from_their_zip_are_a_warning(demo_rows, tmp_path):
    rows = demo_rows.copy()
    rows.loc[3, ["Latitude", "Longitude"]] = [34.05, -118.24]  # Los Angeles, with its Northeast ZIP
    done = territory("check", write(rows, tmp_path / "in.csv"))
    assert done.returncode == 0, done.stderr
    (warning,) = warnings_of(done)
    assert warning.startswith("warning: in.csv, row 5, column C (Latitude): the account's coordinates "
                              "(34.05, -118.24)")
    assert f"km from its ZIP {rows.loc[3, 'ZIP']}" in warning


def test_a_far_point_without_a_fix_is_a_warning(demo_rows, tmp_path):
    rows = demo_rows.drop(columns="ZIP")
    rows.loc[2, ["Latitude", "Longitude"]] = [0.0, 0.0]  # blank cells read as zero somewhere upstream
    done = territory("check", write(rows, tmp_path / "in.csv"))
    assert done.returncode == 0, done.stderr
    (warning,) = warnings_of(done)
    assert "row 4" in warning and "from the nearest other account" in warning and "check its coordinates" in warning


def test_a_table_entirely_in_europe_works_without_warnings(tmp_path):
    rng = np.random.default_rng(3)
    europe = pd.DataFrame({"Account ID": [f"E{i}" for i in range(200)], "Latitude": rng.uniform(43, 55, 200),
                           "Longitude": rng.uniform(-2, 20, 200), "Potential": rng.uniform(10, 100, 200).round(1)})
    done = territory("rebalance", write(europe, tmp_path / "eu.csv"), "-k", 4, "--fresh", "-o", tmp_path / "out.csv")
    assert done.returncode == 0, done.stderr
    assert done.stderr == ""
    assert pd.read_csv(tmp_path / "out.csv")["proposed_territory"].nunique() == 4


def test_alaska_hawaii_puerto_rico_and_guam_among_us_accounts_are_not_flagged(demo_rows, tmp_path):
    places = {"99501": (61.22, -149.90), "99701": (64.84, -147.72), "96813": (21.31, -157.86),
              "96720": (19.72, -155.08), "00901": (18.47, -66.11), "96910": (13.47, 144.75)}
    extra = pd.DataFrame({"Account ID": [f"X{i}" for i in range(len(places))], "ZIP": list(places),
                          "Latitude": [p[0] for p in places.values()], "Longitude": [p[1] for p in places.values()],
                          "Territory": "T01", "Potential": 1000})
    done = territory("check", write(pd.concat([demo_rows, extra]), tmp_path / "us.csv"))
    assert done.returncode == 0, done.stderr
    assert done.stderr == ""


# --- 2. Ignored columns ------------------------------------------------------------------------

def test_a_misspelled_territory_header_and_the_missing_alignment_are_said(demo_rows, tmp_path):
    typo = write(demo_rows.rename(columns={"Territory": "Territroy"}), tmp_path / "typo.csv")
    done = territory("rebalance", typo, "-k", 5, "-o", tmp_path / "out.csv")
    assert done.returncode == 0, done.stderr
    first, second = warnings_of(done)
    assert first.startswith("warning: typo.csv, column E (Territroy): the header 'Territroy' is not one this tool")
    assert "did you mean Territory?" in first
    assert "no current alignment was found (it has no Territory column), so 5 territories are designed" in second
    fresh = territory("rebalance", typo, "-k", 5, "--fresh", "-o", tmp_path / "out.csv")
    assert "no current alignment" not in fresh.stderr  # a fresh design was asked for


def test_common_headers_are_not_called_misspellings(demo_rows, tmp_path):
    rows = demo_rows.assign(Country="USA", Stage="won")
    done = territory("check", write(rows, tmp_path / "in.csv"))
    assert done.returncode == 0 and warnings_of(done) == [], done.stderr


# --- 3. Blocks found, never ignored -------------------------------------------------------------------------

@pytest.mark.parametrize("block", ["zip", "county"])
def test_blocks_without_their_column_are_found_from_the_coordinates(demo_rows, tmp_path, block):
    """Without a ZIP or County column, each account's block is the one its point lies in (the
    shapes ship with the package), never ignored and never an error."""
    from territory_engine.geography import block_of

    rows = demo_rows.drop(columns=[c for c in ("ZIP", "County") if c in demo_rows.columns])
    source = write(rows, tmp_path / "in.csv")
    done = territory("rebalance", source, "--block", block, "--tolerance", 0.1, "-o", tmp_path / "out.csv")
    assert done.returncode in (0, 3), done.stdout + done.stderr
    out = pd.read_csv(tmp_path / "out.csv")
    found = block_of(block, lat=out["Latitude"].to_numpy(), lon=out["Longitude"].to_numpy())
    assert pd.notna(found).all()
    assert (out.groupby(found)["proposed_territory"].nunique() == 1).all()


def test_county_blocks_take_the_county_from_the_zip_without_a_county_column(demo_rows, tmp_path):
    done = territory("rebalance", write(demo_rows, tmp_path / "in.csv"), "--block", "county", "-o",
                     tmp_path / "out.csv")
    assert done.returncode in (0, 3), done.stderr


# --- 4. Settings used --------------------------------------------------------------------------

def test_settings_used_writes_every_effective_value_and_where_it_came_from(demo_rows, tmp_path):
    book = tmp_path / "in.xlsx"
    with pd.ExcelWriter(book, engine="openpyxl") as writer:
        demo_rows.to_excel(writer, sheet_name="Accounts", index=False)
        pd.DataFrame({"Key": ["tolerance", "seed"], "Value": [0.1, 7]}).to_excel(writer, sheet_name="Settings",
                                                                                   index=False)
    done = territory("rebalance", book, "--seed", 3, "-o", tmp_path / "out.xlsx")
    assert done.returncode == 0, done.stderr
    used = pd.read_excel(tmp_path / "out.xlsx", sheet_name="Settings used", engine="calamine").set_index("Setting")
    assert not used["Value"].isna().any(), used
    assert (used.loc["territories", "Value"], used.loc["territories", "Set by"]) == (
        12, "default: the number of current territories")
    assert (used.loc["balance", "Value"], used.loc["balance", "Set by"]) == ("potential", "default: the first measure")
    assert (float(used.loc["tolerance", "Value"]), used.loc["tolerance", "Set by"]) == (0.1, "Settings sheet, row 2")
    assert (used.loc["seed", "Value"], used.loc["seed", "Set by"]) == (3, "command line")
    assert used.loc["method", "Set by"] == "default"


# --- 5. Tracebacks -----------------------------------------------------------------------------

@pytest.mark.parametrize("command", ["rebalance", "report", "map"])
def test_two_weights_for_the_one_default_measure_are_a_located_error(demo_rows, tmp_path, command):
    source = write(demo_rows, tmp_path / "in.csv")
    output = {"rebalance": ["-o", tmp_path / "out.csv"], "report": [], "map": ["-o", tmp_path / "m.html"]}[command]
    done = territory(command, source, "--weights", "0.7,0.3", *output)
    assert done.returncode == 2, done.stdout + done.stderr
    assert "Traceback" not in done.stderr
    assert done.stderr.startswith("error: command line: weights: 2 weights (0.7,0.3) for 1 balance measure "
                                  "(potential, by default the first measure)")


def test_weights_from_the_settings_sheet_are_located_at_their_cell(demo_rows, tmp_path):
    book = tmp_path / "in.xlsx"
    with pd.ExcelWriter(book, engine="openpyxl") as writer:
        demo_rows.to_excel(writer, sheet_name="Accounts", index=False)
        pd.DataFrame({"Key": ["tolerance", "weights"], "Value": [0.1, "0.7,0.3"]}).to_excel(
            writer, sheet_name="Settings", index=False)
    done = territory("measure", book)
    assert done.returncode == 2, done.stdout + done.stderr
    assert done.stderr.startswith("error: Settings!B3: weights: 2 weights")


@pytest.mark.parametrize("command", ["check", "rebalance", "report", "map"])
def test_one_account_gets_a_clean_answer_from_every_command(tmp_path, command):
    source = tmp_path / "one.csv"
    source.write_text("Account ID,Latitude,Longitude,Territory,Potential\nA1,40.7,-74.0,T1,100\n", encoding="utf-8")
    output = {"check": [], "report": [], "rebalance": ["-o", tmp_path / "out.csv"],
              "map": ["-o", tmp_path / "m.html", "--offline"]}[command]
    done = territory(command, source, *output)
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr and "warning" not in done.stderr


# --- 6. One ZIP check --------------------------------------------------------------------------

def test_reps_and_accounts_share_the_zip_check(demo_rows, tmp_path):
    reps = tmp_path / "reps.csv"
    lines = [f"T{i:02d},R{i},02108,42.3576,-71.0684" for i in range(1, 13)]
    lines[2] = "T03,R3,02108,34.05,-118.24"  # Los Angeles, with a Boston ZIP
    reps.write_text("Territory,Rep,ZIP,Latitude,Longitude\n" + "\n".join(lines) + "\n", encoding="utf-8")
    done = territory("check", write(demo_rows, tmp_path / "in.csv"), "--bases", reps)
    assert done.returncode == 0, done.stderr
    (warning,) = warnings_of(done)
    assert warning.startswith("warning: reps.csv, row 4, column D (Latitude): the home base's coordinates (34.05, "
                              "-118.24) are")
    assert "km from its ZIP 02108" in warning
