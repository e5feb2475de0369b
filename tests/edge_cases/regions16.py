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

import openpyxl

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tests"))
from region_books import region_book  # noqa: E402  (the tests' own workbooks)

TERRITORY = os.environ.get("TERRITORY_BIN", str(ROOT / ".venv" / "bin" / "territory"))  # another build: its launcher


def first_line(done) -> str:
    text = (done.stderr or "").strip() or (done.stdout or "").strip()
    return text.splitlines()[0][:150] if text else ""


def run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([TERRITORY, *args], capture_output=True, text=True, cwd=tempfile.gettempdir())


def sheets(path: Path) -> list[str]:
    return openpyxl.load_workbook(path, read_only=True).sheetnames if path.exists() else []


def outside_changed(book: Path, out: Path) -> str:
    """How many rows outside West (and its territories T1-T3) differ from the input in any input cell or
    territory, after writing and reading back."""
    if not out.exists():
        return "no output"
    given = list(openpyxl.load_workbook(book, read_only=True)["Accounts"].iter_rows(values_only=True))
    wrote = list(openpyxl.load_workbook(out, read_only=True)["Proposed alignment"].iter_rows(values_only=True))
    region, territory = given[0].index("Region"), given[0].index("Territory")
    proposed = wrote[0].index("Proposed territory")
    outside = [(g, w) for g, w in zip(given[1:], wrote[1:]) if g[region] != "West" or g[territory] not in
               ("T1", "T2", "T3")]
    changed = sum(w[:len(g)] != g or w[proposed] != g[territory] for g, w in outside)
    return f"rows outside West changed: {changed} of {len(outside)}"


def main() -> None:
    tmp = Path(tempfile.mkdtemp(prefix="regions16-"))
    book = region_book(tmp / "regions.xlsx")
    plain = region_book(tmp / "plain.xlsx", region=False)
    clash = region_book(tmp / "clash.xlsx", reps=[["Territory", "Rep", "Region", "District"],
                                                   *[[f"T{t}", f"Rep {t}", "West" if t <= 3 else "East",
                                                      "West North" if t <= 6 else "East South"]
                                                     for t in range(1, 10)]])
    by_sheet = region_book(tmp / "settings.xlsx", settings=[["within", "district"]])
    proof: list[str] = []
    cases = [
        ("1 measure with Region/District -> .xlsx", ["measure", str(book), "--output", str(tmp / "m.xlsx")],
         lambda: f"sheets {sheets(tmp / 'm.xlsx')}"),
        ("2 rebalance -> .xlsx (Regions sheet)", ["rebalance", str(book), "--output", str(tmp / "r.xlsx")],
         lambda: f"sheets {sheets(tmp / 'r.xlsx')}"),
        ("3 rebalance --within region", ["rebalance", str(book), "--within", "region", "--output",
                                         str(tmp / "w.xlsx")], lambda: ""),
        ("4 rebalance --within region --balance-regions", ["rebalance", str(book), "--within", "region",
                                                           "--balance-regions", "--output", str(tmp / "b.xlsx")],
         lambda: f"{len(proof)} proof line(s): {proof[0][:110] if proof else ''}"),
        ("5 rebalance --only-region West", ["rebalance", str(book), "--only-region", "West", "--output",
                                            str(tmp / "o.xlsx")], lambda: outside_changed(book, tmp / "o.xlsx")),
        ("6 rebalance --only-region Nowhere", ["rebalance", str(book), "--only-region", "Nowhere", "--output",
                                               str(tmp / "n.xlsx")], lambda: ""),
        ("7 rebalance --within region, no Region column", ["rebalance", str(plain), "--within", "region",
                                                           "--output", str(tmp / "p.xlsx")], lambda: ""),
        ("8 Settings sheet within = district", ["rebalance", str(by_sheet), "--output", str(tmp / "s.xlsx")],
         lambda: ""),
        ("9 Reps: T4-T6 in East with district West North", ["measure", str(clash)], lambda: ""),
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
        proof[:] = [line for line in done.stderr.splitlines() if line.startswith("balance impossible")]
        print(f"| {name} | {done.returncode} | {first_line(done)} | {observe()} |", flush=True)


if __name__ == "__main__":
    main()
