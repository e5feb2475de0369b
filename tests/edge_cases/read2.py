"""Issue 12 round 2, reading: the adversary's cases run through the real command, one line each.

Run from the worktree root: ``.venv/bin/python tests/edge_cases/read2.py [INPUTS]`` where
INPUTS is a copy of the adversary's files (a folder given as the first argument). Prints a Markdown table
row per case: case, exit code, first line of stderr (else stdout). Never collected by pytest.
The regression tests (tests/test_reading_edges2.py) build their own inputs.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

TERRITORY = Path(sys.executable).parent / "territory"
CASES = [
    ("1 no r= extent", ["check", "noref_extent_accounts.xlsx"]),
    ("1 no r= extent --bases", ["check", "base.csv", "--bases", "noref_extent_accounts.xlsx"]),
    ("1 no r= extent in Reps, --bases", ["check", "base.csv", "--bases", "noref_extent.xlsx"]),
    ("2 108.700 (thousands dot)", ["check", "semicolon_thousand_dots_int.csv"]),
    ("2 108.700,0", ["check", "semicolon_thousand_dots.csv"]),
    ("3 utf16le no BOM", ["check", "utf16le_nobom.csv"]),
    ("3 utf16be no BOM", ["check", "utf16be_nobom.csv"]),
    ("4 utf32 BOM", ["check", "utf32.csv"]),
    ("4 utf32le no BOM", ["check", "utf32le_nobom.csv"]),
    ("4 lone CR in header", ["check", "lone_cr_in_header_field.csv"]),
    ("5 zwsp latitude", ["check", "zwsp_latitude.csv"]),
    ("5 BOM in middle", ["check", "bom_in_middle.csv"]),
    ("5 fullwidth latitude", ["check", "fullwidth_lat.csv"]),
    ("5 RTL mark territory", ["check", "rtl_mark_territory.csv"]),
    ("6 sheet Setting", ["check", "setting_typo.xlsx"]),
    ("6 sheet Settings (2)", ["check", "settings2.xlsx"]),
    ("6 sheet Rep", ["check", "reps_typo.xlsx"]),
    ("6 hidden Accounts", ["check", "hidden_accounts.xlsx"]),
    ("7 sep=; line", ["check", "sep_hint.csv"]),
    ("8 shared formula no value", ["check", "shared_nocache.xlsx"]),
    ("8 dataTable formula no value", ["check", "dt.xlsx"]),
]


def main() -> None:
    if len(sys.argv) < 2:
        sys.exit("usage: read2.py INPUTS (a folder holding the adversary's input files)")
    folder = Path(sys.argv[1])
    print("| case | exit | first line |\n|---|---|---|")
    for name, args in CASES:
        proc = subprocess.run([str(TERRITORY), *args], cwd=folder, capture_output=True, text=True,
                              errors="replace", timeout=300)
        lines = (proc.stderr.strip() or proc.stdout.strip() or "").splitlines() or [""]
        warns = [line for line in proc.stderr.splitlines() if line.startswith("warning")]
        note = f" (+warning: {warns[0][:120]})" if warns and lines[0] not in warns else ""
        print(f"| {name} | {proc.returncode} | {lines[0][:160].replace('|', '/')}{note} |")


if __name__ == "__main__":
    main()
