"""Issue 12 round 2, reading files right: the adversary's cases, each a real file through the real command.

Each test fails on the code of round 1 (0faeb7a): rows and cells without ``r`` aborted the
process, European thousands were read 1,000 times too small, UTF-16 and UTF-32 files without
a mark lost rows or gave tracebacks, invisible header characters hid known columns, sheets
with near names were silently ignored, ``sep=`` lines were titles, and messages said "the
formula a formula".
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent / "edge_cases"))
import read as edge  # noqa: E402  (the builders of tests/edge_cases/read.py)
from test_reading_edges import assert_located, digest  # noqa: E402

TERRITORY = Path(sys.executable).parent / "territory"


def run(*args) -> subprocess.CompletedProcess:
    return subprocess.run([str(TERRITORY), *map(str, args)], capture_output=True, text=True,
                          preexec_fn=edge.limit_memory, timeout=300)


# The same two checks as round 1's tests: one copy, in tests/test_reading_edges.py.


# 1: rows and cells without r= ---------------------------------------------------------------


def test_rows_and_cells_without_references_count_toward_the_extent(tmp_path):
    wide = b"<row>" + b"<c><v>1</v></c>" * 16384 + b"</row>"
    book = edge.raw_workbook(tmp_path / "noref.xlsx", [edge.SHEET_HEAD, b"<row/>" * 100_000, wide,
                                                      b"</sheetData></worksheet>"])
    before = digest(book)
    proc = run("check", book)
    assert_located(proc, "Accounts", "XFD100002", "more than the 50,000,000")
    assert digest(book) == before


def test_a_sheet_without_references_is_read_where_its_cells_imply(tmp_path):
    rows = b"".join(b'<row><c t="inlineStr"><is><t>A%d</t></is></c><c><v>%d</v></c></row>' % (i, 100 + i)
                    for i in range(12))
    book = edge.raw_workbook(tmp_path / "implied.xlsx", [edge.SHEET_HEAD.replace(b' r="1"', b"").replace(
        b' r="A1"', b"").replace(b' r="B1"', b""), rows, b"</sheetData></worksheet>"])
    proc = run("check", book)
    assert_located(proc, "the headers are: 'Account ID', 'Potential'")  # read, then no coordinates


# 2: European thousands dots ------------------------------------------------------------------


def european_rows(potential) -> list[list[str]]:
    header = ["Account ID", "Latitude", "Longitude", "Territory", "Potential", "Visited"]
    return [header] + [[f"A{i}", f"42,{i}", f"-71,{i}", f"T{i % 3 + 1}", potential(i), "01.02.2024"] for i in range(12)]


def write_rows(path: Path, rows, sep=";") -> Path:
    path.write_text("".join(sep.join(r) + "\n" for r in rows), encoding="utf-8")
    return path


def test_dots_between_groups_of_three_are_thousands_in_a_decimal_comma_file(tmp_path):
    table = european_rows(lambda i: f"{i + 1}.{i:03d}" if i % 2 else f"{i + 1}.500,5")
    proc = run("check", write_rows(tmp_path / "eu.csv", table))
    assert proc.returncode == 0, proc.stderr
    assert "total potential: 81039" in proc.stdout.replace(",", "")  # 78,000 + 36 + 6 x 500.5


def test_a_decimal_point_in_a_decimal_comma_file_is_a_located_error(tmp_path):
    table = european_rows(lambda i: "1.5" if i == 4 else f"{i + 1}.{i:03d}")
    assert_located(run("check", write_rows(tmp_path / "eu.csv", table)), "row 6, column E (Potential)",
                   "'1.5' is not a number", "this file writes decimals with a comma")


def test_us_thousands_commas_in_quoted_fields_are_still_read(tmp_path):
    table = [["Account ID", "Latitude", "Longitude", "Territory", "Potential"]] + [
        [f"A{i}", "42.1", "-71.2", f"T{i % 3 + 1}", f'"{i + 1},234.5"'] for i in range(12)]
    proc = run("check", write_rows(tmp_path / "us.csv", table, ","))
    assert proc.returncode == 0, proc.stderr
    assert "total potential: 80814" in proc.stdout.replace(",", "")


# 3: UTF-16 without a mark, CRLF ----------------------------------------------------------------


@pytest.mark.parametrize("encoding", ["utf-16-le", "utf-16-be"])
def test_utf16_without_a_mark_and_crlf_line_ends_keeps_every_row(tmp_path, encoding):
    path = tmp_path / "utf16.csv"
    path.write_bytes(edge.csv_text([edge.HEADER] + edge.accounts()).replace("\n", "\r\n").encode(encoding))
    proc = run("check", path)
    assert proc.returncode == 0, proc.stderr
    assert "accounts: 12" in proc.stdout


# 4: UTF-32, csv.Error ----------------------------------------------------------------------------


@pytest.mark.parametrize("encoding", ["utf-32", "utf-32-le", "utf-32-be"])
def test_utf32_with_or_without_a_mark_is_read(tmp_path, encoding):
    path = tmp_path / "utf32.csv"
    path.write_bytes(edge.csv_text([edge.HEADER] + edge.accounts()).replace("\n", "\r\n").encode(encoding))
    proc = run("check", path)
    assert proc.returncode == 0, proc.stderr
    assert "accounts: 12" in proc.stdout


def test_a_lone_carriage_return_in_a_header_is_a_located_error(tmp_path):
    path = tmp_path / "cr.csv"
    text = edge.csv_text([edge.HEADER + ["Account Name"]] + [r + ["x"] for r in edge.accounts()])
    path.write_bytes(text.replace("\n", "\r\n").replace("Account Name", "Account\rName").encode())
    assert_located(run("check", path), "cr.csv, row 1", "line break outside quotes")


# 5: invisible and fullwidth characters in headers ----------------------------------------------


@pytest.mark.parametrize("column, header", [(1, "Lat\u200bitude"), (1, "\ufeffLatitude"),
                                            (1, "Ｌａｔｉｔｕｄｅ"), (3, "\u200fTerritory")])
def test_headers_excel_shows_as_known_names_are_recognised(tmp_path, column, header):
    table = [list(edge.HEADER)] + edge.accounts()
    table[0][column] = header
    path = tmp_path / "headers.csv"
    path.write_text(edge.csv_text(table), encoding="utf-8")
    proc = run("check", path)
    assert proc.returncode == 0, proc.stderr
    assert "current territories: 3" in proc.stdout
    assert "warning" not in proc.stderr, proc.stderr


def test_invisible_characters_in_a_header_are_escaped_in_the_location_too(tmp_path):
    table = [edge.HEADER + ["Lockd\u200b"]] + [r + ["x"] for r in edge.accounts()]
    path = tmp_path / "headers.csv"
    path.write_text(edge.csv_text(table), encoding="utf-8")
    proc = run("check", path)
    warning = next(line for line in proc.stderr.splitlines() if line.startswith("warning"))
    assert "column F (Lockd\\u200b)" in warning
    assert "\u200b" not in proc.stderr


# 6: sheets with near names, hidden sheets ----------------------------------------------------


@pytest.mark.parametrize("name, expected", [("Setting", "Settings"), ("Settings (2)", "Settings"), ("Rep", "Reps"),
                                            ("Setings", "Settings")])
def test_a_sheet_named_close_to_a_table_is_named_in_a_warning(tmp_path, name, expected):
    extra = [["Key", "Value"], ["tolerance", 0.05]] if expected == "Settings" else [["Territory", "Rep"], ["T1", "Ann"]]
    book = edge.with_openpyxl(tmp_path / "near.xlsx", {"Accounts": [edge.HEADER] + edge.accounts(), name: extra})
    before = digest(book)
    proc = run("check", book)
    assert proc.returncode == 0, proc.stderr
    warning = next(line for line in proc.stderr.splitlines() if line.startswith("warning"))
    assert f"warning: {name}: this sheet is not read" in warning and f"rename it to '{expected}'" in warning
    assert digest(book) == before


def test_no_warning_when_the_tables_have_their_own_sheets(tmp_path):
    book = edge.with_openpyxl(tmp_path / "own.xlsx", {"Accounts": [edge.HEADER] + edge.accounts(),
                                                     "Settings": [["Key", "Value"], ["tolerance", 0.05]],
                                                     "Settings (2)": [["Key", "Value"]], "Notes": [["x"]]})
    proc = run("check", book)
    assert proc.returncode == 0 and "warning" not in proc.stderr, proc.stderr


def test_a_hidden_sheet_read_as_the_accounts_is_said_to_be_hidden(tmp_path):
    import openpyxl

    path = edge.with_openpyxl(tmp_path / "hidden.xlsx", {"Accounts": [edge.HEADER] + edge.accounts(),
                                                        "Other": [["x"]]})
    book = openpyxl.load_workbook(path)
    book["Accounts"].sheet_state = "hidden"
    book.save(path)
    proc = run("check", path)
    assert proc.returncode == 0, proc.stderr
    assert "note: read the accounts from sheet 'Accounts' (hidden) of hidden.xlsx" in proc.stdout


# 7: Excel's sep= line ------------------------------------------------------------------------


def test_excels_sep_line_names_the_delimiter_and_is_not_a_row(tmp_path):
    table = european_rows(lambda i: f"{i + 1},5")
    path = tmp_path / "sep.csv"
    path.write_text("sep=;\r\n" + "".join(";".join(r) + "\r\n" for r in table), encoding="utf-8")
    proc = run("check", path)
    assert proc.returncode == 0, proc.stderr
    assert "accounts: 12" in proc.stdout and "total potential: 84" in proc.stdout  # 78 + 12 x 0.5
    table[3][4] = "n/a"
    path.write_text("sep=;\r\n" + "".join(";".join(r) + "\r\n" for r in table), encoding="utf-8")
    assert_located(run("check", path), "sep.csv, row 4, column E (Potential)", "'n/a'")


# 8: formulas without text ----------------------------------------------------------------------


def test_shared_and_data_table_formulas_without_values_are_named_properly(tmp_path):
    cells = [b'<row r="2"><c r="A2" t="inlineStr"><is><t>A1</t></is></c><c r="B2"><f t="shared" ref="B2:B4" si="0">'
             b'100+1</f><v>101</v></c></row>',
             b'<row r="3"><c r="A3" t="inlineStr"><is><t>A2</t></is></c><c r="B3"><f t="shared" si="0"/></c></row>',
             b'<row r="4"><c r="A4" t="inlineStr"><is><t>A3</t></is></c><c r="B4"><f t="shared" si="7"/></c></row>',
             b'<row r="5"><c r="A5" t="inlineStr"><is><t>A4</t></is></c><c r="B5"><f t="dataTable" ref="B5:B5" '
             b'dt2D="0" dtr="0" r1="A1"/></c></row>']
    book = edge.raw_workbook(tmp_path / "shared.xlsx", [edge.SHEET_HEAD, *cells, b"</sheetData></worksheet>"])
    proc = run("check", book)
    assert_located(proc, "Accounts!B3 (Potential): the formula =100+1 (shared from B2) has no computed value")
    lines = proc.stderr.splitlines()
    assert any("Accounts!B4 (Potential): the shared formula in this cell has no computed value" in x for x in lines)
    assert any("Accounts!B5 (Potential): the data table formula (What-If Analysis) in this cell" in x for x in lines)
    assert "the formula a formula" not in proc.stderr
