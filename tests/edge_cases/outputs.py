"""Issue 14, part 1 (workbook outputs): every case run against the real command in a subprocess.

Run from the worktree root: ``.venv/bin/python tests/edge_cases/outputs.py``. Prints one line per
case: the case, the exit code, the first line of stderr (else stdout), and what the output holds
(read back with openpyxl). Not collected by pytest (the regression tests are
``tests/test_output_workbooks.py``); kept so that the "before" and "after" tables come from the same
commands. The speed case is ``tests/benchmarks/xlsx_speed.py``.
"""

from __future__ import annotations

import csv
import shutil
import subprocess
import tempfile
from pathlib import Path

import openpyxl

ROOT = Path(__file__).resolve().parents[2]
TERRITORY = str(ROOT / ".venv" / "bin" / "territory")
DEMO = ROOT / "workbooks" / "territory_demo.xlsx"


def first_line(done) -> str:
    text = (done.stderr or "").strip() or (done.stdout or "").strip()
    return text.splitlines()[0][:110] if text else ""


def row(case: str, done, extra: str = "") -> None:
    print(f"{case} | {done.returncode} | {first_line(done)} | {extra}", flush=True)


def run(*args: str):
    return subprocess.run([TERRITORY, *args], capture_output=True, text=True)


def headers(sheet) -> list:
    return [c.value for c in next(sheet.iter_rows(min_row=1, max_row=1))]


def main() -> None:
    with tempfile.TemporaryDirectory() as folder:
        tmp = Path(folder)
        demo = tmp / "demo.xlsx"
        shutil.copy(DEMO, demo)
        out = tmp / "proposed.xlsx"
        done = run("rebalance", str(demo), "--output", str(out))
        book = openpyxl.load_workbook(out)
        proposed, summary = book["Proposed alignment"], book["Territory summary"]
        row("1 headers (added columns of Proposed alignment; summary)", done,
            f"{headers(proposed)[-3:]}; {headers(summary)[:4]} ... {headers(summary)[-6:-3]}")
        cells = {h: summary.cell(2, j + 1) for j, h in enumerate(headers(summary))}
        shown = {h: c.number_format for h, c in cells.items() if h in ("accounts", "potential", "deviation",
                                                                       "compactness km", "Accounts", "Potential",
                                                                       "Deviation", "Compactness (km)")}
        row("2 number formats (summary, row 2)", done, str(shown))
        row("3 Excel tables, frozen header", done,
            f"tables {[len(book[s].tables) for s in book.sheetnames]}; panes {proposed.freeze_panes}; "
            f"filter {proposed.auto_filter.ref}")
        rules = sum(len(r.rules) for r in summary.conditional_formatting)
        row("4 conditional formats on the summary", done, f"{rules} rules")
        charts = {s: len(book[s]._charts) for s in book.sheetnames if book[s]._charts}
        row("5 native charts (rebalance)", done, f"{charts or 'none'}")
        scored = tmp / "scored.xlsx"
        done = run("score", str(demo), "--output", str(scored))
        scored_book = openpyxl.load_workbook(scored)
        charts = {s: len(scored_book[s]._charts) for s in scored_book.sheetnames if scored_book[s]._charts}
        row("5 native charts (score)", done, f"{charts or 'none'}")
        out_csv = tmp / "proposed.csv"
        done = run("rebalance", str(demo), "--output", str(out_csv))
        with open(out_csv, encoding="utf-8-sig", newline="") as handle:
            names = next(csv.reader(handle))[-3:]
        row("7 .csv output keeps the contract names", done, str(names))
        # A result with the analyst's headers, as the .xlsx output will have them, read back.
        renamed = tmp / "renamed.xlsx"
        book = openpyxl.load_workbook(out)
        sheet = book["Proposed alignment"]
        for cell in sheet[1]:
            cell.value = {"proposed_territory": "Proposed territory", "moved": "Moved",
                          "move_reason": "Move reason"}.get(cell.value, cell.value)
        book.save(renamed)
        done = run("map", str(renamed), "--output", str(tmp / "map.html"))
        page = (tmp / "map.html").read_text(encoding="utf-8") if (tmp / "map.html").exists() else ""
        row("8 map reads a result with analyst headers", done, f"moved layer shown: {'Moved accounts' in page}")
        again = tmp / "again.xlsx"
        done = run("rebalance", str(renamed), "--output", str(again))
        names = headers(openpyxl.load_workbook(again, read_only=True)["Proposed alignment"]) if again.exists() else []
        proposed_like = [h for h in names if str(h).lower().replace(" ", "_") == "proposed_territory"]
        row("8 rebalance of such a result (no duplicate column)", done, f"proposed columns {proposed_like}")


if __name__ == "__main__":
    main()
