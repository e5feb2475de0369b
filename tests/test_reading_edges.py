"""Issue 12, reading files right: real files in, the real command run, located errors out.

Each test fails on the code before issue 12: formulas and Excel errors were read as 0,
bombs were inflated (or aborted the process), CR-only CSVs gave a traceback, outputs had no
byte-order mark, titles and offset tables got the wrong hint, warnings flooded stderr, and
sheets were chosen by three rules.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from pathlib import Path

import openpyxl
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent / "edge_cases"))
import read as edge  # noqa: E402  (the builders of tests/edge_cases/read.py)

TERRITORY = Path(sys.executable).parent / "territory"


def run(*args) -> subprocess.CompletedProcess:
    return subprocess.run([str(TERRITORY), *map(str, args)], capture_output=True, text=True,
                          preexec_fn=edge.limit_memory, timeout=300)


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def rows() -> list[list]:
    return [edge.HEADER] + edge.accounts()


def assert_located(proc, *words) -> str:
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert "Traceback" not in proc.stderr
    first = proc.stderr.splitlines()[0]
    assert first.startswith("error: ")
    for word in words:
        assert word in first, first
    return first


# 1-2: formulas without values, Excel errors -------------------------------------------------


def test_formulas_saved_without_values_are_located_errors_not_zeros(tmp_path):
    table = [edge.HEADER + ["Base"]] + [r[:4] + [f"=F{i + 2}*2", 50 + i] for i, r in enumerate(edge.accounts())]
    book = edge.with_openpyxl(tmp_path / "formulas.xlsx", {"Accounts": table})
    before = digest(book)
    proc = run("check", book)
    assert_located(proc, "Accounts!E2 (Potential)", "=F2*2", "open and save the workbook in Excel")
    assert len(proc.stderr.splitlines()) == 12, "every formula cell is listed"
    assert "0.0" not in proc.stdout
    assert digest(book) == before


def test_formulas_with_computed_values_are_read_as_their_values(tmp_path):
    book = edge.with_cached_formulas(tmp_path / "cached.xlsx", [100 + i for i in range(12)])
    proc = run("check", book)
    assert proc.returncode == 0, proc.stderr
    assert f"{sum(100 + i for i in range(12)):,}" in proc.stdout or str(sum(100 + i for i in range(12))) in proc.stdout


@pytest.mark.parametrize("error", ["#DIV/0!", "#N/A", "#VALUE!", "#REF!", "#NAME?", "#NUM!", "#NULL!"])
def test_a_cached_excel_error_of_a_formula_names_the_cell_to_fix(tmp_path, error):
    values = [100 + i for i in range(12)]
    values[6] = error
    proc = run("check", edge.with_cached_formulas(tmp_path / "errors.xlsx", values))
    assert_located(proc, "Accounts!E8 (Potential)", error, "fix the formula in E8")


def test_error_values_in_number_and_text_cells_are_located_errors(tmp_path):
    table = [edge.HEADER + ["Name"]] + [r + ["#N/A" if i == 2 else "x"] for i, r in enumerate(edge.accounts())]
    table[4][4] = "#DIV/0!"
    proc = run("check", edge.with_openpyxl(tmp_path / "errors.xlsx", {"Accounts": table}))
    assert proc.returncode == 2
    assert "error: Accounts!F4 (Name): the cell holds the Excel error #N/A" in proc.stderr
    assert "error: Accounts!E5 (Potential): the cell holds the Excel error #DIV/0!" in proc.stderr


# 3: numbers that are not finite -------------------------------------------------------------


@pytest.mark.parametrize("kind", ["xlsx", "csv"])
def test_a_measure_whose_total_overflows_is_a_located_error(tmp_path, kind):
    table = [edge.HEADER] + [r[:4] + [1e308 if i in (3, 5) else r[4]] for i, r in enumerate(edge.accounts())]
    if kind == "xlsx":
        path = edge.with_openpyxl(tmp_path / "big.xlsx", {"Accounts": table})
    else:
        path = tmp_path / "big.csv"
        path.write_text(edge.csv_text(table))
    proc = run("check", path)
    assert_located(proc, "(Potential)", "1e+308")
    assert "inf" not in proc.stdout and "Warning" not in proc.stderr


def test_inf_and_nan_text_are_not_numbers(tmp_path):
    path = tmp_path / "inf.csv"
    path.write_text(edge.csv_text([edge.HEADER] + [r[:4] + [("inf", "nan", "1e309")[i] if i < 3 else r[4]]
                                                   for i, r in enumerate(edge.accounts())]))
    proc = run("check", path)
    assert proc.returncode == 2 and len(proc.stderr.splitlines()) == 3, proc.stderr


# 4: decompression and extent bounds ---------------------------------------------------------


def test_a_small_workbook_that_inflates_hugely_is_refused_before_reading(tmp_path):
    book = edge.huge_string(tmp_path / "bomb.xlsx", 80)
    assert book.stat().st_size < 200_000
    assert_located(run("check", book), "bomb.xlsx", "would inflate")


def test_a_sheet_reaching_excels_last_cell_is_refused_not_allocated(tmp_path):
    book = edge.far_cell(tmp_path / "corners.xlsx", "XFD1048576")
    assert book.stat().st_size < 5_000
    assert_located(run("check", book), "Accounts", "XFD1048576", "Ctrl+End")


@pytest.mark.parametrize("ref, words", [("A2000000", "row 2,000,000"), ("XFE3", "column XFE")])
def test_cells_beyond_excels_limits_are_refused(tmp_path, ref, words):
    assert_located(run("check", edge.far_cell(tmp_path / "far.xlsx", ref)), words, "Excel")


# 5-6: CSV line ends and encodings -----------------------------------------------------------


def test_a_csv_with_old_mac_line_ends_is_read(tmp_path):
    path = tmp_path / "mac.csv"
    path.write_bytes(edge.csv_text(rows()).replace("\n", "\r").encode())
    proc = run("check", path)
    assert proc.returncode == 0, proc.stderr
    assert "accounts: 12" in proc.stdout


def test_a_latin1_csv_gives_an_output_excel_reads_as_written(tmp_path):
    path = tmp_path / "latin1.csv"
    table = [edge.HEADER + ["Name"]] + [r + ["Café"] for r in edge.accounts()]
    path.write_bytes(edge.csv_text(table).encode("cp1252"))
    before = digest(path)
    out = tmp_path / "out.csv"
    proc = run("rebalance", path, "-o", out, "-k", 3)
    assert proc.returncode == 0, proc.stderr
    data = out.read_bytes()
    assert data.startswith(b"\xef\xbb\xbf"), "Excel takes UTF-8 only with its byte-order mark"
    text = data.decode("utf-8-sig")
    assert text.splitlines()[1].split(",")[5] == "Café"
    assert digest(path) == before


def test_a_utf16_csv_without_a_byte_order_mark_is_read(tmp_path):
    path = tmp_path / "utf16.csv"
    path.write_bytes(edge.csv_text([edge.HEADER + ["Name"]] + [r + ["Zoë"] for r in edge.accounts()])
                     .encode("utf-16-le"))
    proc = run("check", path)
    assert proc.returncode == 0, proc.stderr


# 7: what the layout really is ---------------------------------------------------------------


def test_a_title_row_above_the_header_is_named(tmp_path):
    book = edge.with_openpyxl(tmp_path / "title.xlsx", {"Accounts": [["Accounts 2024"], []] + rows()})
    assert_located(run("check", book), "row 1 looks like a title", "header seems to be row 3")
    path = tmp_path / "title.csv"
    path.write_text("Accounts 2024\n\n" + edge.csv_text(rows()))
    assert_located(run("check", path), "line 1 looks like a title", "header seems to be line 3")


def test_a_table_starting_at_b3_is_named(tmp_path):
    book = edge.with_openpyxl(tmp_path / "b3.xlsx", {"Accounts": [[], []] + [[None] + r for r in rows()]})
    assert_located(run("check", book), "the table starts at B3")


# 8: no library warning reaches the user ------------------------------------------------------


def test_two_thousand_extra_columns_print_no_warning(tmp_path):
    path = tmp_path / "wide.csv"
    path.write_text(edge.csv_text([edge.HEADER + [f"Extra {j}" for j in range(2000)]]
                                  + [r + [j % 7 for j in range(2000)] for r in edge.accounts()]))
    proc = run("check", path)
    assert proc.returncode == 0
    assert proc.stderr == ""


# 9: one sheet rule ----------------------------------------------------------------------------


def _bases(tmp_path, name="Rep bases") -> Path:
    bases = [["Territory", "Latitude", "Longitude"]] + [[f"T{t}", 42.1, -71.1 - t * 0.1] for t in (1, 2, 3)]
    return edge.with_openpyxl(tmp_path / "bases.xlsx", {"Notes": [["Note"], ["bases below"]], name: bases})


@pytest.mark.parametrize("name", ["Rep bases", "REPS", "bases"])
def test_bases_and_map_reps_choose_the_same_sheet_and_name_it(tmp_path, name):
    accounts = tmp_path / "accounts.csv"
    accounts.write_text(edge.csv_text(rows()))
    book = _bases(tmp_path, name)
    note = f"note: read the reps from sheet '{name}' of bases.xlsx"
    checked = run("check", accounts, "--bases", book)
    assert checked.returncode == 0, checked.stderr
    assert note in checked.stdout
    mapped = run("map", accounts, "-o", tmp_path / "m.html", "--offline", "--reps", book)
    assert mapped.returncode == 0, mapped.stderr
    assert note in mapped.stdout


def test_a_rep_bases_sheet_of_the_input_is_used_and_named(tmp_path):
    bases = [["Territory", "Latitude", "Longitude"]] + [[f"T{t}", 42.1, -71.1 - t * 0.1] for t in (1, 2, 3)]
    book = edge.with_openpyxl(tmp_path / "book.xlsx", {"Rep bases": bases, "Accounts": rows()})
    proc = run("measure", book)
    assert proc.returncode == 0, proc.stderr
    assert "note: read the reps from sheet 'Rep bases' of book.xlsx" in proc.stdout


def test_the_add_in_chooses_sheets_by_the_same_rule(tmp_path):
    from excel_addin.book import FileBook, read_inputs

    bases = [["Territory", "Latitude", "Longitude"]] + [[f"T{t}", 42.1, -71.1 - t * 0.1] for t in (1, 2, 3)]
    book = edge.with_openpyxl(tmp_path / "book.xlsx", {"Rep bases": bases, "Data": rows()})
    inputs = read_inputs(FileBook(book))
    assert inputs.accounts.name == "Data"
    assert inputs.reps is not None and inputs.reps.name == "Rep bases"


def test_reading_leaves_every_input_file_unchanged(tmp_path):
    paths = [edge.with_openpyxl(tmp_path / "a.xlsx", {"Accounts": rows()})]
    paths.append(tmp_path / "mac.csv")
    paths[-1].write_bytes(edge.csv_text(rows()).replace("\n", "\r").encode())
    before = [(digest(p), os.stat(p).st_mtime_ns) for p in paths]
    for path in paths:
        run("check", path)
    assert [(digest(p), os.stat(p).st_mtime_ns) for p in paths] == before
