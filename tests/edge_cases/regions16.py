"""Issue 16, part R (regions and districts): every case run against the real command in a subprocess.

Run from the worktree root: ``.venv/bin/python tests/edge_cases/regions16.py``. Prints one line per
case: the case, the exit code, the first line of stderr (else stdout), and what was observed. Not
collected by pytest (the regression tests are ``tests/test_regions.py``); kept so that the "before"
and "after" tables come from the same commands.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
import openpyxl

ROOT = Path(__file__).resolve().parents[2]
TERRITORY = os.environ.get("TERRITORY_BIN", str(ROOT / ".venv" / "bin" / "territory"))  # another build: its launcher


def region_book(path: Path, *, reps: list[list] | None = None, settings: list[list] | None = None,
                region: bool = True, n: int = 240, seed: int = 3) -> Path:
    """Accounts in three regions (West, Central, East by longitude), two districts each, nine territories
    (three per region) numbered by longitude; territory T4 also holds a few West accounts (it spans a line)."""
    rng = np.random.default_rng(seed)
    lon = np.sort(rng.uniform(-120.0, -75.0, n))
    lat = rng.uniform(33.0, 45.0, n)
    potential = np.round(rng.lognormal(8.0, 0.6, n))
    cut = np.array([-105.0, -90.0])
    regions = np.array(["West", "Central", "East"])[np.searchsorted(cut, lon)]
    territory = np.minimum((np.arange(n) * 9) // n, 8) + 1
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Accounts"
    head = ["Account ID", "Latitude", "Longitude", "Potential", "Territory"]
    if region:
        head[3:3] = ["Region", "District"]
    ws.append(head)
    for i in range(n):
        terr = f"T{territory[i]}"
        if regions[i] == "West" and territory[i] == 3 and i % 4 == 0:
            terr = "T4"  # T4 (Central) also holds a few West accounts
        row = [f"A{i + 1:04d}", round(float(lat[i]), 5), round(float(lon[i]), 5), float(potential[i]), terr]
        if region:
            row[3:3] = [str(regions[i]), f"{regions[i]} {'North' if lat[i] > 39 else 'South'}"]
        ws.append(row)
    if reps is not None:
        rs = wb.create_sheet("Reps")
        for r in reps:
            rs.append(r)
    if settings is not None:
        ss = wb.create_sheet("Settings")
        ss.append(["Key", "Value"])
        for r in settings:
            ss.append(r)
    wb.save(path)
    return path


def first_line(done) -> str:
    text = (done.stderr or "").strip() or (done.stdout or "").strip()
    return text.splitlines()[0][:150] if text else ""


def run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([TERRITORY, *args], capture_output=True, text=True, cwd=tempfile.gettempdir())


def sheets(path: Path) -> list[str]:
    return openpyxl.load_workbook(path, read_only=True).sheetnames if path.exists() else []


def main() -> None:
    tmp = Path(tempfile.mkdtemp(prefix="regions16-"))
    book = region_book(tmp / "regions.xlsx")
    plain = region_book(tmp / "plain.xlsx", region=False)
    clash = region_book(tmp / "clash.xlsx", reps=[["Territory", "Rep", "Region", "District"],
                                                   *[[f"T{t}", f"Rep {t}", "West" if t <= 3 else "East",
                                                      "West North" if t <= 6 else "East South"]
                                                     for t in range(1, 10)]])
    by_sheet = region_book(tmp / "settings.xlsx", settings=[["within", "district"]])
    cases = [
        ("1 measure with Region/District -> .xlsx", ["measure", str(book), "--output", str(tmp / "m.xlsx")],
         lambda: f"sheets {sheets(tmp / 'm.xlsx')}"),
        ("2 rebalance -> .xlsx (Regions sheet)", ["rebalance", str(book), "--output", str(tmp / "r.xlsx")],
         lambda: f"sheets {sheets(tmp / 'r.xlsx')}"),
        ("3 rebalance --within region", ["rebalance", str(book), "--within", "region", "--output",
                                         str(tmp / "w.xlsx")], lambda: ""),
        ("4 rebalance --within region --balance-regions", ["rebalance", str(book), "--within", "region",
                                                           "--balance-regions", "--output", str(tmp / "b.xlsx")],
         lambda: ""),
        ("5 rebalance --only-region West", ["rebalance", str(book), "--only-region", "West", "--output",
                                            str(tmp / "o.xlsx")], lambda: ""),
        ("6 rebalance --only-region Nowhere", ["rebalance", str(book), "--only-region", "Nowhere", "--output",
                                               str(tmp / "n.xlsx")], lambda: ""),
        ("7 rebalance --within region, no Region column", ["rebalance", str(plain), "--within", "region",
                                                           "--output", str(tmp / "p.xlsx")], lambda: ""),
        ("8 Settings sheet within = district", ["rebalance", str(by_sheet), "--output", str(tmp / "s.xlsx")],
         lambda: ""),
        ("9 Reps: district East South under West and East", ["measure", str(clash)], lambda: ""),
        ("10 rebalance --within region --block county", ["rebalance", str(book), "--within", "region", "--block",
                                                         "county", "--output", str(tmp / "c.xlsx")], lambda: ""),
        ("11 rebalance --within region --territories 10", ["rebalance", str(book), "--within", "region",
                                                           "--territories", "10", "--output", str(tmp / "k.xlsx")],
         lambda: ""),
        ("12 rebalance --within bogus", ["rebalance", str(book), "--within", "bogus", "--output",
                                         str(tmp / "x.xlsx")], lambda: ""),
    ]
    only = set(sys.argv[1:])
    print("| case | exit | first line | observed |\n|---|---|---|---|")
    for name, args, observe in cases:
        if only and name.split()[0] not in only:
            continue
        done = run(*args)
        print(f"| {name} | {done.returncode} | {first_line(done)} | {observe()} |", flush=True)


if __name__ == "__main__":
    main()
