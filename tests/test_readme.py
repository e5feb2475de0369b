"""The README's figures are the program's: the demo walkthrough quotes what the demo prints."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TERRITORY = Path(sys.executable).with_name("territory")
DEMO = ROOT / "workbooks" / "territory_demo.xlsx"


def _readme() -> str:
    return (ROOT / "README.md").read_text(encoding="utf-8")


def test_the_walkthrough_quotes_the_demo_rebalance_as_it_prints(tmp_path):
    quoted = re.search(r"before and after: ([\d.]+)% -> ([\d.]+)%, ([\d,]+) accounts move", _readme())
    assert quoted, "the walkthrough's Rebalance step lost its figures"
    proc = subprocess.run([str(TERRITORY), "rebalance", str(DEMO), "-o", str(tmp_path / "out.csv")],
                          capture_output=True, text=True, timeout=900)
    assert proc.returncode == 0, proc.stderr
    printed = re.search(r"largest deviation ([\d.]+)% -> ([\d.]+)%; moved ([\d,]+) accounts", proc.stdout)
    assert printed, proc.stdout
    assert quoted.groups() == printed.groups(), f"README says {quoted.group(0)!r}; the demo prints {printed.group(0)!r}"


def test_the_walkthrough_quotes_the_demo_summary_and_check_as_they_print():
    text = _readme()
    deviation = re.search(r"the largest deviation is ([\d.]+)%", text)
    accounts = re.search(r'"No problems found in ([\d,]+) accounts"', text)
    assert deviation and accounts
    measure = subprocess.run([str(TERRITORY), "measure", str(DEMO)], capture_output=True, text=True, timeout=600,
                             env={"COLUMNS": "200", "PATH": ""})
    assert measure.returncode == 0, measure.stderr
    assert f"largest deviation {deviation.group(1)}%" in measure.stdout
    check = subprocess.run([str(TERRITORY), "check", str(DEMO)], capture_output=True, text=True, timeout=600)
    assert check.returncode == 0, check.stderr
    printed = re.search(r"accounts: ([\d,]+)", check.stdout)
    assert printed and printed.group(1).replace(",", "") == accounts.group(1).replace(",", ""), check.stdout
