"""Issue 14, part A: the add-in's result sheets formatted like the command line's workbooks.

Each case runs a real ribbon action (``ribbon.dispatch``) in a subprocess of its own, on a real
workbook through the file stand-in (:class:`excel_addin.file_book.FileBook`, saved and read back
with openpyxl) or on the fake xlwings book of ``tests/fake_xlwings.py`` through
:class:`excel_addin.excel_book.ExcelBook`, and prints one line saying what it found. Run from the
worktree root, optionally against another checkout's code (the fake always comes from this one)::

    .venv/bin/python tests/edge_cases/addin_format.py [CHECKOUT]
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

PRELUDE = """
import shutil, sys, tempfile
from pathlib import Path
import numpy as np
import openpyxl
from excel_addin import ribbon
from excel_addin.book import FileBook
folder = Path(tempfile.mkdtemp(prefix="addin-format-"))

def accounts_book(name="book.xlsx", n=60):
    rng = np.random.default_rng(0)
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Accounts"
    ws.append(["Account ID", "Latitude", "Longitude", "Territory", "Potential"])
    for i in range(n):
        lat, lon = 30 + rng.random() * 6, -100 + rng.random() * 8
        ws.append([f"A{i:03d}", round(lat, 4), round(lon, 4), f"T{1 + int(lon > -96) + 2 * int(lat > 33)}",
                   float(rng.integers(50, 150))])
    path = folder / name
    wb.save(path)
    return path

def press(path, button):
    book = FileBook(path)
    ok = ribbon.dispatch(button, book)
    book.save()
    return ok

def fmt(ws, ref):
    return ws[ref].number_format
"""

CASES = {
    "Rebalance: headers of Territory summary": """
        path = accounts_book()
        press(path, "Rebalance")
        ws = openpyxl.load_workbook(path)["Territory summary"]
        print("headers:", [c.value for c in ws[1]][:7])
    """,
    "Rebalance: Proposed alignment added columns": """
        path = accounts_book()
        press(path, "Rebalance")
        ws = openpyxl.load_workbook(path)["Proposed alignment"]
        print("headers:", [c.value for c in ws[1]])
    """,
    "Measure: number formats of Balance and Territory summary": """
        path = accounts_book()
        press(path, "Measure")
        wb = openpyxl.load_workbook(path)
        summary, balance = wb["Territory summary"], wb["Balance"]
        heads = [c.value for c in summary[1]]
        print("summary row 2:", {h: summary.cell(2, j + 1).number_format for j, h in enumerate(heads)
                                 if h and ("share" in h.lower() or "deviation" in h.lower() or "otential" in h)},
              "; balance B2:", balance["B2"].value, balance["B2"].number_format)
    """,
    "Measure: Excel Table, frozen header, widths": """
        path = accounts_book()
        press(path, "Measure")
        ws = openpyxl.load_workbook(path)["Territory summary"]
        print("tables:", dict(ws.tables.items()), "; freeze:", ws.freeze_panes,
              "; width A:", ws.column_dimensions["A"].width)
    """,
    "Measure: status colours": """
        path = accounts_book()
        press(path, "Measure")
        ws = openpyxl.load_workbook(path)["Territory summary"]
        rules = [(str(cf.sqref), r.formula[0], r.dxf.fill.bgColor.rgb if r.dxf and r.dxf.fill else None)
                 for cf in ws.conditional_formatting for r in cf.rules]
        print(len(rules), "conditional rules:", rules[:2])
    """,
    "Measure twice: tables and rules not stacked": """
        path = accounts_book()
        press(path, "Measure")
        press(path, "Measure")
        wb = openpyxl.load_workbook(path)
        ws = wb["Territory summary"]
        rules = sum(len(cf.rules) for cf in ws.conditional_formatting)
        print("sheets:", wb.sheetnames, "; tables:", list(ws.tables), "; rules:", rules)
    """,
    "Rebalance then formula on another sheet, Rebalance again": """
        path = accounts_book()
        press(path, "Rebalance")
        wb = openpyxl.load_workbook(path)
        wb.create_sheet("Notes")["A1"] = "=COUNTA('Territory summary'!A:A)"
        wb.save(path)
        press(path, "Rebalance")
        wb = openpyxl.load_workbook(path)
        print("formula:", wb["Notes"]["A1"].value, "; sheets:", wb.sheetnames,
              "; tables:", list(wb["Territory summary"].tables))
    """,
    "ExcelBook (fake xlwings): Measure formats the sheet": """
        sys.path.insert(0, "tests")
        from fake_xlwings import FakeBook
        from excel_addin.excel_book import ExcelBook
        fake = FakeBook(["Accounts"])
        rows = [["Account ID", "Latitude", "Longitude", "Territory", "Potential"]]
        rows += [[f"A{i}", 40.0 + i / 10, -75.0, "T1" if i % 2 else "T2", 10.0 + i] for i in range(20)]
        for r, row in enumerate(rows, start=1):
            for c, v in enumerate(row, start=1):
                fake.sheets["Accounts"].cells[(r, c)] = v
        ribbon.dispatch("Measure", ExcelBook(fake))
        sheet = fake.sheets["Territory summary"]
        kinds = sorted({e[0] for e in fake.log if e[0] in ("number_format", "add_table", "resize_table",
                                                            "freeze", "add_conditional_format")})
        print("header A1..C1:", [sheet.cells.get((1, c)) for c in (1, 2, 3)], "; format calls:", kinds)
    """,
}


def run(code: str, checkout: Path) -> tuple[int, str]:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(checkout), str(ROOT / "tests")])}
    proc = subprocess.run([sys.executable, "-c", PRELUDE + textwrap.dedent(code)], capture_output=True, text=True,
                          env=env, cwd=checkout, timeout=600)
    if proc.stdout.strip():
        return proc.returncode, proc.stdout.strip().splitlines()[0]
    # a traceback: its last line names the exception
    return proc.returncode, (proc.stderr.strip().splitlines() or [""])[-1]


def main() -> None:
    checkout = Path(sys.argv[1]).resolve() if len(sys.argv) > 1 else ROOT
    print("| case | exit | first line |")
    print("|---|---|---|")
    for name, code in CASES.items():
        rc, line = run(code, checkout)
        print(f"| {name} | {rc} | {line.replace('|', '/')} |", flush=True)


if __name__ == "__main__":
    main()
