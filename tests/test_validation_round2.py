"""Issue 12 round 2, validation and settings: the cases an adversary broke, through the real command.

Every case runs ``territory`` in a subprocess on a file written here (every tenth account of the
demo workbook, or a variation of it) and checks its exit code and what it printed.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

DEMO = Path(__file__).resolve().parents[1] / "workbooks" / "territory_demo.xlsx"


def territory(*args, env=None) -> subprocess.CompletedProcess:
    code = "from territory_engine.cli import entry; entry()"
    return subprocess.run([sys.executable, "-c", code, *map(str, args)], capture_output=True, text=True, env=env)


@pytest.fixture(scope="module")
def accounts() -> pd.DataFrame:
    frame = pd.read_excel(DEMO, sheet_name="Accounts", engine="calamine", dtype={"ZIP": str})
    return frame.iloc[::10].reset_index(drop=True)


def write(frame: pd.DataFrame, path: Path) -> Path:
    frame.to_csv(path, index=False)
    return path


# --- 1. Infinite or absurd numbers in settings ---------------------------------------------------

TWO = ("--balance", "potential,workload")


@pytest.mark.parametrize("command, flags, words", [
    ("rebalance", (*TWO, "--weights", "inf,1"), "--weights must be finite non-negative numbers"),
    ("rebalance", (*TWO, "--weights", "nan,1"), "--weights must be finite non-negative numbers"),
    ("rebalance", ("--disruption-weight", "inf"), "--disruption-weight must be a number from 0 to 100; got 'inf'"),
    ("rebalance", ("--disruption-weight", "1e308"), "--disruption-weight must be a number from 0 to 100"),
    ("measure", ("--weights", "inf"), "--weights must be finite"),
    ("map", (*TWO, "--weights", "inf,1"), "--weights must be finite"),
    ("score", ("--weights", "inf"), "--weights must be finite"),
])
def test_infinite_or_absurd_settings_are_a_located_error(accounts, tmp_path, command, flags, words):
    args = [command, write(accounts, tmp_path / "in.csv")]
    if command != "measure":
        args += ["-o", tmp_path / ("out.html" if command == "map" else "out.csv")]
    done = territory(*args, *flags, *(["--offline"] if command == "map" else []))
    assert done.returncode == 2, done.stdout + done.stderr
    assert done.stderr.startswith("error: command line: " + words), done.stderr
    assert "Traceback" not in done.stderr
    assert not list(tmp_path.glob("out.*"))


def test_huge_finite_weights_are_normalised_not_overflowed(accounts, tmp_path):
    done = territory("rebalance", write(accounts, tmp_path / "in.csv"), "-o", tmp_path / "out.xlsx", *TWO,
                     "--weights", "1e308,1e308")
    assert done.returncode == 0, done.stdout + done.stderr
    used = pd.read_excel(tmp_path / "out.xlsx", sheet_name="Settings used", engine="openpyxl")
    assert used.set_index(used.columns[0]).loc["weights"].iloc[0] == "0.5,0.5"


def test_an_infinite_weight_on_the_settings_sheet_is_located_at_its_cell(accounts, tmp_path):
    path = tmp_path / "in.xlsx"
    with pd.ExcelWriter(path) as writer:
        accounts.to_excel(writer, sheet_name="Accounts", index=False)
        pd.DataFrame({"Key": ["balance", "weights"], "Value": ["potential,workload", "inf,1"]}).to_excel(
            writer, sheet_name="Settings", index=False)
    done = territory("rebalance", path, "-o", tmp_path / "out.xlsx")
    assert done.returncode == 2, done.stdout + done.stderr
    assert done.stderr.startswith("error: Settings!B3: weights must be finite"), done.stderr


# --- 2. Coordinates wrong in bulk ---------------------------------------------------------------

def _minus_dropped(accounts: pd.DataFrame, every: int) -> pd.DataFrame:
    rows = accounts.copy()
    rows.loc[::every, "Longitude"] = rows.loc[::every, "Longitude"].abs()
    return rows


@pytest.mark.parametrize("every", [1, 2], ids=["all", "half"])
def test_minus_signs_dropped_in_bulk_are_an_error_naming_the_fix(accounts, tmp_path, every):
    done = territory("rebalance", write(_minus_dropped(accounts, every), tmp_path / "in.csv"), "-o",
                     tmp_path / "out.csv")
    assert done.returncode == 2, done.stdout + done.stderr
    assert done.stderr.startswith("error: in.csv, row 2, column G (Latitude): latitude 44.4935 and longitude 70.4479"), done.stderr
    assert "with the longitude's sign changed it lies at its own ZIP; change the longitude's sign" in done.stderr
    assert not (tmp_path / "out.csv").exists()


def test_swapped_in_bulk_is_an_error_naming_the_fix(accounts, tmp_path):
    rows = accounts.copy()
    rows[["Latitude", "Longitude"]] = accounts[["Longitude", "Latitude"]].to_numpy()
    done = territory("check", write(rows, tmp_path / "in.csv"))
    assert done.returncode == 2, done.stdout + done.stderr
    assert "with latitude and longitude swapped it lies at its own ZIP" in done.stderr


def test_every_account_at_zero_zero_is_a_placeholder_error(accounts, tmp_path):
    done = territory("check", write(accounts.assign(Latitude=0.0, Longitude=0.0), tmp_path / "in.csv"))
    assert done.returncode == 2, done.stdout + done.stderr
    assert "latitude 0 and longitude 0 are" in done.stderr and "look like a placeholder (400 rows have them)" in done.stderr


def test_one_shared_point_far_from_most_zips_is_a_placeholder_error(accounts, tmp_path):
    rows = accounts.copy()
    rows.loc[::2, ["Latitude", "Longitude"]] = [39.8283, -98.5795]  # the middle of the US, a geocoder's default
    done = territory("check", write(rows, tmp_path / "in.csv"))
    assert done.returncode == 2, done.stdout + done.stderr
    assert "look like a placeholder" in done.stderr


def test_coordinates_far_from_foreign_postal_codes_are_left_alone(accounts, tmp_path):
    rng = pd.Series(range(len(accounts)))
    rows = accounts.assign(Latitude=44 + (rng % 97) / 10, Longitude=-1 + (rng * 7 % 160) / 10)  # Europe, US ZIPs
    done = territory("check", write(rows, tmp_path / "in.csv"))
    assert done.returncode == 0, done.stdout + done.stderr
    assert "error" not in done.stderr


# --- 3. Headers that look like a misspelled known column are never measures ------------------


@pytest.mark.parametrize("old, new, code, words", [
    ("ZIP", "ZPI", 0, "did you mean ZIP?"),
    ("Longitude", "Longtitude", 2, "'Longtitude' is not one this tool knows; did you mean Longitude?"),
    ("Latitude", "Lattitude", 2, "'Lattitude' is not one this tool knows; did you mean Latitude?"),
    ("Locked", "Lockd", 0, "did you mean Locked?"),
])
def test_a_misspelled_known_header_is_named_and_never_balanced(accounts, tmp_path, old, new, code, words):
    source = write(accounts.rename(columns={old: new}), tmp_path / "typo.csv")
    done = territory("check", source)
    assert done.returncode == code, done.stderr
    assert words in done.stderr
    if code == 0:
        measures = next(line for line in done.stdout.splitlines() if line.startswith("measures:"))
        assert new.lower() not in measures, "the misspelled column is not read as a measure"


# --- 4. Columns headed alike --------------------------------------------------------------------


@pytest.mark.parametrize("column", ["Potential", "Latitude", "Territory"])
def test_a_repeated_known_header_is_a_located_error(accounts, tmp_path, column):
    frame = accounts.copy()
    frame.insert(len(frame.columns), column + " ", frame[column])  # Excel keeps the trailing space
    frame.columns = [*accounts.columns, column]
    done = territory("check", write(frame, tmp_path / "twice.csv"))
    assert done.returncode == 2 and "are headed alike; keep one" in done.stderr, done.stderr


def test_two_headers_of_one_coordinate_are_a_located_error(accounts, tmp_path):
    frame = accounts.assign(Lat=accounts["Potential"])
    done = territory("check", write(frame, tmp_path / "both.csv"))
    assert done.returncode == 2
    assert "all look like Latitude; keep one" in done.stderr.splitlines()[0]
