"""Issue 13 items 2, 5 and 10: ExcelBook, case by case, each in a subprocess of its own.

Each case drives :class:`excel_addin.excel_book.ExcelBook` on the fake xlwings book of
``tests/fake_xlwings.py`` (no Excel here) and prints one line saying what happened; the table
gives the exit code and that line. Run from the worktree root, optionally against another
checkout's code (the fake always comes from this one)::

    .venv/bin/python tests/edge_cases/excelbook.py [CHECKOUT]
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

PRELUDE = """
import sys
from fake_xlwings import FakeBook, CellError, Formula
from excel_addin.excel_book import ExcelBook
def accounts(fake, rows):
    sheet = fake.sheets["Accounts"]
    for r, row in enumerate(rows, start=1):
        for c, v in enumerate(row, start=1):
            sheet.cells[(r, c)] = v
"""

CASES = {
    "2 error cell #N/A in a measure, Check data": """
        from excel_addin import ribbon
        fake = FakeBook(["Accounts"])
        rows = [["Account ID", "Latitude", "Longitude", "Territory", "Potential"]]
        rows += [[f"A{i}", 40.0 + i / 10, -75.0, "T1" if i % 2 else "T2", 10.0] for i in range(20)]
        rows[3][4] = CellError("#N/A")
        accounts(fake, rows)
        ribbon.dispatch("CheckData", ExcelBook(fake))
        print(fake.app.alerts[-1]["prompt"].replace(chr(10), " / ")[:110])
    """,
    "2 error cell read back": """
        fake = FakeBook(["Accounts"])
        accounts(fake, [["Account ID", "Potential"], ["A1", CellError("#DIV/0!")]])
        print("row 2 reads", ExcelBook(fake).read_cells("Accounts")[1])
    """,
    "5 read 1,048,575 x 10": """
        fake = FakeBook(["Accounts"])
        fake.sheets["Accounts"].back(1_048_575, 10, lambda r, c: 1.0)
        cells = ExcelBook(fake).read_cells("Accounts")
        reads = fake.log.of("read")
        size = max((e[2][2] - e[2][0] + 1) * (e[2][3] - e[2][1] + 1) for e in reads)
        print(f"{len(cells):,} rows in {len(reads)} read(s), largest {size:,} cells")
    """,
    "5 write 1,048,575 x 10": """
        fake = FakeBook(["Accounts"], store=False)
        cells = [[f"h{c}" for c in range(10)]] + [[1.0] * 10 for _ in range(1_048_574)]
        ExcelBook(fake).write_sheet("Big", cells)
        writes = fake.log.of("write")
        size = max((e[2][2] - e[2][0] + 1) * (e[2][3] - e[2][1] + 1) for e in writes)
        print(f"{len(writes)} write(s), largest {size:,} cells")
    """,
    "10 new sheet placed after the last": """
        fake = FakeBook(["Accounts", "Reps"])
        ExcelBook(fake).write_sheet("Moves", [["a"], [1.0]])
        print("sheets:", [s.name for s in fake.sheets])
    """,
    "10/1 re-run updates in place (formulas keep working)": """
        fake = FakeBook(["Accounts", "Moves"])
        before = fake.sheets["Moves"]
        ExcelBook(fake).write_sheet("Moves", [["a"], [1.0]])
        print("same sheet object:", fake.sheets["Moves"] is before, "; deleted:", before.deleted)
    """,
    "3/10 result name in another case": """
        fake = FakeBook(["Accounts", "moves"])
        ExcelBook(fake).write_sheet("Moves", [["a"], [1.0]])
        print("sheets:", [s.name for s in fake.sheets])
    """,
    "10 rename": """
        fake = FakeBook(["Accounts", "Moves"])
        ExcelBook(fake).rename_sheet("Moves", "Moves (edited)")
        print("sheets:", [s.name for s in fake.sheets])
    """,
    "10 sheet mark set, hidden, read back": """
        fake = FakeBook(["Accounts", "Moves"])
        new = "platform" in (ExcelBook.__init__.__kwdefaults__ or {})
        book = ExcelBook(fake, platform="win32") if new else ExcelBook(fake)
        book.set_sheet_mark("Moves", "abc123")
        name = next(iter(fake.sheets["Moves"].names))
        print("mark:", book.sheet_mark("Moves"), "; name:", name.name, "; visible:", name.api.Visible)
    """,
    "10 status bar given back": """
        fake = FakeBook(["Accounts"])
        book = ExcelBook(fake)
        book.status("Territory: working")
        book.status(None)
        print("status_bar set to:", [e[1] for e in fake.log.of("status_bar")])
    """,
    "10 picture replaced, sheet kept": """
        fake = FakeBook(["Accounts", "Map"])
        fake.sheets["Map"].cells[(30, 1)] = "user note"
        book = ExcelBook(fake)
        book.insert_picture("Map", "a.png")
        book.insert_picture("Map", "b.png")
        sheet = fake.sheets["Map"]
        print("pictures:", [(p.name, p.image) for p in sheet.pictures], "; note kept:", sheet.cells.get((30, 1)))
    """,
    "10 text stays text": """
        fake = FakeBook(["Accounts"])
        ExcelBook(fake).write_sheet("Moves", [["reason"], ["=1+1"], ["007"], ["TRUE"]])
        print("cells:", [fake.sheets["Moves"].cells[(r, 1)] for r in (2, 3, 4)])
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
