"""Issue 12, reading files right: every case run through the real command, one line each.

Run from the worktree root: ``.venv/bin/python tests/edge_cases/read.py``. Prints a Markdown
table row per case: the case, the exit code and the first line of stderr (else stdout). It
builds its inputs in a temporary folder and is never collected by pytest (no ``test_`` name).
"""

from __future__ import annotations

import resource
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

import openpyxl
import xlsxwriter

TERRITORY = Path(sys.executable).parent / "territory"
HEADER = ["Account ID", "Latitude", "Longitude", "Territory", "Potential"]


def accounts(n: int = 12) -> list[list]:
    return [[f"A{i}", 42 + (i % 4) * 0.1, -71 - (i // 4) * 0.1, f"T{i % 3 + 1}", 100 + i] for i in range(n)]


def csv_text(rows, sep=",") -> str:
    return "".join(sep.join(str(v) for v in r) + "\n" for r in rows)


def with_openpyxl(path: Path, sheets: dict) -> Path:
    book = openpyxl.Workbook()
    book.remove(book.active)
    for name, rows in sheets.items():
        sheet = book.create_sheet(name)
        for row in rows:
            sheet.append(row)
    book.save(path)
    return path


def with_cached_formulas(path: Path, values) -> Path:
    """Potential as formulas with cached results (xlsxwriter), e.g. '#DIV/0!' for an error."""
    book = xlsxwriter.Workbook(str(path))
    sheet = book.add_worksheet("Accounts")
    sheet.write_row(0, 0, HEADER)
    for i, row in enumerate(accounts(len(values))):
        sheet.write_row(i + 1, 0, row[:4])
        sheet.write_formula(i + 1, 4, f"=100+{i}", None, values[i])
    book.close()
    return path


SHEET_HEAD = (b'<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="http://schemas.openxmlformats.org/'
              b'spreadsheetml/2006/main"><sheetData><row r="1"><c r="A1" t="inlineStr"><is><t>Account ID</t></is>'
              b'</c><c r="B1" t="inlineStr"><is><t>Potential</t></is></c></row>')


def raw_workbook(path: Path, chunks) -> Path:
    """A minimal .xlsx written with zipfile: one sheet 'Accounts' from the XML ``chunks``."""
    main = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
    rel = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
    pkg = "http://schemas.openxmlformats.org/package/2006/relationships"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("[Content_Types].xml", (
            '<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
            f'<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
            '<Default Extension="xml" ContentType="application/xml"/><Override PartName="/xl/workbook.xml" '
            'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
            '<Override PartName="/xl/worksheets/sheet1.xml" '
            'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/></Types>'))
        z.writestr("_rels/.rels", f'<?xml version="1.0"?><Relationships xmlns="{pkg}"><Relationship Id="rId1" '
                   f'Type="{rel}/officeDocument" Target="xl/workbook.xml"/></Relationships>')
        z.writestr("xl/workbook.xml", f'<?xml version="1.0"?><workbook xmlns="{main}" xmlns:r="{rel}"><sheets>'
                   '<sheet name="Accounts" sheetId="1" r:id="rId1"/></sheets></workbook>')
        z.writestr("xl/_rels/workbook.xml.rels", f'<?xml version="1.0"?><Relationships xmlns="{pkg}">'
                   f'<Relationship Id="rId1" Type="{rel}/worksheet" Target="worksheets/sheet1.xml"/></Relationships>')
        with z.open("xl/worksheets/sheet1.xml", "w") as sheet:
            for chunk in chunks:
                sheet.write(chunk)
    return path


def huge_string(path: Path, megabytes: int) -> Path:
    def chunks():
        yield SHEET_HEAD + b'<row r="2"><c r="A2" t="inlineStr"><is><t>'
        for _ in range(megabytes):
            yield b"a" * (1 << 20)
        yield b'</t></is></c><c r="B2"><v>1</v></c></row></sheetData></worksheet>'
    return raw_workbook(path, chunks())


def far_cell(path: Path, ref: str) -> Path:
    row = "".join(ch for ch in ref if ch.isdigit())
    return raw_workbook(path, [SHEET_HEAD, b'<row r="2"><c r="A2" t="inlineStr"><is><t>X</t></is></c><c r="B2"><v>1'
                               b'</v></c></row>', f'<row r="{row}"><c r="{ref}"><v>1</v></c></row>'.encode(),
                               b"</sheetData></worksheet>"])


def cases(d: Path):
    """(name, argv, note) for every case; inputs built in ``d``."""
    rows = [HEADER] + accounts()
    formulas = [HEADER + ["Base"]] + [r[:4] + [f"=F{i + 2}*2", 50 + i] for i, r in enumerate(accounts())]
    yield "1 formulas without cached values", ["check", with_openpyxl(d / "formulas.xlsx", {"Accounts": formulas})]
    yield "1 formulas with cached values", ["check", with_cached_formulas(d / "cached.xlsx", list(range(100, 112)))]
    errors = [HEADER] + [r[:4] + ["#DIV/0!" if i == 3 else "#N/A" if i == 5 else r[4]]
                         for i, r in enumerate(accounts())]
    yield "2 error values typed in number cells", ["check", with_openpyxl(d / "errors.xlsx", {"Accounts": errors})]
    values = list(range(100, 112))
    values[4] = "#DIV/0!"
    yield "2 cached #DIV/0! of a formula", ["check", with_cached_formulas(d / "div0.xlsx", values)]
    big = [HEADER] + [r[:4] + [1e308 if i < 2 else r[4]] for i, r in enumerate(accounts())]
    yield "3 1e308 twice in .xlsx (sum overflows)", ["check", with_openpyxl(d / "overflow.xlsx", {"Accounts": big})]
    (d / "overflow.csv").write_text(csv_text(big))
    yield "3 1e308 twice in .csv (sum overflows)", ["check", d / "overflow.csv"]
    (d / "e309.csv").write_text(csv_text([HEADER] + [r[:4] + ["1e309" if i == 2 else r[4]]
                                                     for i, r in enumerate(accounts())]))
    yield "3 1e309 in .csv (inf)", ["check", d / "e309.csv"]
    (d / "inftext.csv").write_text(csv_text([HEADER] + [r[:4] + ["inf" if i == 2 else "nan" if i == 3 else r[4]]
                                                        for i, r in enumerate(accounts())]))
    yield "3 inf and nan text in .csv", ["check", d / "inftext.csv"]
    yield "4 300 MB shared string in a 0.3 MB .xlsx", ["check", huge_string(d / "bomb.xlsx", 300)]
    yield "4 cells at A1 and XFD1048576 (1.5 KB)", ["check", far_cell(d / "corners.xlsx", "XFD1048576")]
    yield "4 a cell beyond Excel's rows (A2000000)", ["check", far_cell(d / "rows.xlsx", "A2000000")]
    (d / "mac.csv").write_bytes(csv_text(rows).replace("\n", "\r").encode())
    yield "5 CSV with CR-only line ends", ["check", d / "mac.csv"]
    latin = [HEADER + ["Name"]] + [r + ["Café"] for r in accounts()]
    (d / "latin1.csv").write_bytes(csv_text(latin).encode("latin-1"))
    yield "6 Latin-1 CSV in, CSV out", ["rebalance", d / "latin1.csv", "-o", d / "latin1_out.csv", "-k", "3"]
    yield "7 title row above the header (.xlsx)", ["check", with_openpyxl(
        d / "title.xlsx", {"Accounts": [["Accounts 2024"], []] + rows})]
    (d / "title.csv").write_text("Accounts 2024\n\n" + csv_text(rows))
    yield "7 title row above the header (.csv)", ["check", d / "title.csv"]
    yield "7 Excel Table starting at B3", ["check", with_openpyxl(
        d / "b3.xlsx", {"Accounts": [[], []] + [[None] + r for r in rows]})]
    (d / "utf16.csv").write_bytes(csv_text(rows).encode("utf-16-le"))
    yield "7 UTF-16 CSV without a BOM", ["check", d / "utf16.csv"]
    (d / "wide.csv").write_text(csv_text([HEADER + [f"Extra {j}" for j in range(2000)]]
                                         + [r + [j % 7 for j in range(2000)] for r in accounts()]))
    yield "8 CSV with 2,000 extra columns", ["check", d / "wide.csv"]
    bases = [["Territory", "Latitude", "Longitude"]] + [[f"T{t}", 42.1, -71.1 - t * 0.1] for t in (1, 2, 3)]
    book = with_openpyxl(d / "bases.xlsx", {"Notes": [["Note"], ["bases below"]], "Rep bases": bases})
    (d / "plain.csv").write_text(csv_text(rows))
    yield "9 check --bases book.xlsx ('Rep bases' 2nd)", ["check", d / "plain.csv", "--bases", book]
    yield "9 map --reps book.xlsx ('Rep bases' 2nd)", ["map", d / "plain.csv", "-o", d / "m.html", "--offline",
                                                     "--reps", book]
    yield "9 input with a 'Rep bases' sheet", ["measure", with_openpyxl(
        d / "withbases.xlsx", {"Accounts": rows, "Rep bases": bases})]


def limit_memory() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (4 << 30, 4 << 30))  # a crash, not a machine swapping


def first_line(proc) -> str:
    lines = [line for line in (proc.stderr + proc.stdout).splitlines() if line.strip()]
    warnings = sum("Warning" in line for line in proc.stderr.splitlines())
    text = lines[0] if lines else ""
    if warnings:
        text = f"[{warnings} warning lines] {text}"
    return text[:160]


def main() -> None:
    print("| case | exit | first line |\n|---|---|---|")
    with tempfile.TemporaryDirectory() as tmp:
        d = Path(tmp)
        for name, argv in cases(d):
            proc = subprocess.run([str(TERRITORY), *map(str, argv)], capture_output=True, text=True,
                                  preexec_fn=limit_memory, timeout=600)
            line = first_line(proc)
            if name.startswith("6"):
                out = d / "latin1_out.csv"
                if out.exists():
                    data = out.read_bytes()
                    bom = data.startswith(b"\xef\xbb\xbf")
                    try:
                        data.decode("utf-8")
                        enc = "utf-8" + (" with BOM" if bom else " without BOM")
                    except UnicodeDecodeError:
                        enc = "not utf-8 (latin-1 kept)" if "Café".encode("latin-1") in data else "not utf-8"
                    line = f"output {enc}; " + line
            print(f"| {name} | {proc.returncode} | {line.replace('|', '/')} |", flush=True)


if __name__ == "__main__":
    main()
