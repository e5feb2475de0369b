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
