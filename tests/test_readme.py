"""The README's figures are the program's: the demo walkthrough quotes what the demo prints."""

from __future__ import annotations

import csv
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


def test_the_worked_example_quotes_its_input_and_output_as_the_program_prints(tmp_path):
    text = _readme()
    example = ROOT / "docs" / "example" / "accounts.csv"
    with open(example, newline="", encoding="utf-8") as f:
        rows = list(csv.reader(f))
    table = [[cell.strip() for cell in line.strip("|").split("|")]
             for line in text.split("## A worked example", 1)[1].split("```", 1)[0].splitlines() if line.startswith("| ")]
    assert table == rows, "the README's input table is not docs/example/accounts.csv"
    command = re.search(r"\$ territory (rebalance docs/example/accounts.csv .*)\n(.*)\n", text)
    assert command, "the worked example lost its command"
    args = command.group(1).replace("docs/example/accounts.csv", str(example)).split()
    proc = subprocess.run([str(TERRITORY), *args], capture_output=True, text=True, timeout=600, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.splitlines()[0] == command.group(2)
    with open(tmp_path / "proposed.csv", newline="", encoding="utf-8-sig") as f:
        moved = [line.rstrip("\r\n") for line in f if ",True," in line]
    quoted = [line for line in text.splitlines() if re.match(r"A\d\d,.*,True,", line)]
    assert quoted == moved
