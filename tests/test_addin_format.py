"""The add-in's result sheets look like the command line's workbooks (issue 14, part A).

The real ribbon actions (``ribbon.dispatch``) run on real workbooks through the file stand-in for
Excel (:class:`excel_addin.file_book.FileBook`); the saved workbooks are read back with openpyxl:
headers in the analyst's words, number formats, the Excel Table, the frozen header, the status
colours; a re-run stacks no second table or rule, and formulas pointing at a result keep working.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import openpyxl
import pandas as pd
import pytest

from excel_addin import ribbon
from excel_addin.book import FileBook, write_results
from excel_addin.results import WriteFailed

from addin_books import accounts_book, refusing  # noqa: E402
from territory_engine.io.sheet_layout import CAPACITY_WORDS, STATUS_COLOURS

ROOT = Path(__file__).resolve().parents[1]
TERRITORY = str(Path(sys.executable).with_name("territory"))


@pytest.fixture
def small(tmp_path) -> Path:
    return accounts_book(tmp_path / "book.xlsx")


def _press(path: Path, button: str) -> FileBook:
    book = FileBook(path)
    assert ribbon.dispatch(button, book) is True, book.alerts
    book.save()
    return book


def _headers(ws) -> list:
    return [c.value for c in ws[1]]


def _formats(ws, row: int = 2) -> dict:
    """Header -> the number format of its cell in ``row``."""
    return {h: ws.cell(row, j).number_format for j, h in enumerate(_headers(ws), start=1)}


def _rules(ws) -> list[tuple[str, str, str | None]]:
    """Every conditional format of ``ws``: (cells, formula, fill colour)."""
    return [(str(cf.sqref), rule.formula[0], rule.dxf.fill.bgColor.rgb if rule.dxf and rule.dxf.fill else None)
            for cf in ws.conditional_formatting for rule in cf.rules]


def test_a_territory_summary_reads_as_an_analyst_wrote_it(small):
    _press(small, "Measure")
    wb = openpyxl.load_workbook(small)
    ws = wb["Territory summary"]
    headers = _headers(ws)
    assert headers[:8] == ["Alignment", "Territory", "Rep", "Accounts", "Potential", "Potential share of target",
                           "Deviation", "Status"]
    formats = _formats(ws)
    assert formats["Potential"] == "#,##0" and formats["Accounts"] == "#,##0"
    assert formats["Potential share of target"] == "0.0%" and formats["Deviation"] == "+0.0%;-0.0%;0.0%"
    assert formats["Territory"] == "General"
    assert _formats(ws, ws.max_row)["Deviation"] == "+0.0%;-0.0%;0.0%"  # every row, not only the first
    balance = wb["Balance"]
    assert _formats(balance)["Largest deviation"] == "0.0%"
    assert "largest deviation" not in _headers(balance)


def test_each_result_is_an_excel_table_with_a_filter_a_frozen_header_and_fitted_widths(small):
    _press(small, "Rebalance")
    wb = openpyxl.load_workbook(small)
    for name in ("Proposed alignment", "Territory summary", "Balance", "Moves", "Settings used"):
        ws = wb[name]
        assert len(ws.tables) == 1, name
        table = next(iter(ws.tables.values()))
        last = openpyxl.utils.get_column_letter(len(_headers(ws)))
        assert table.ref == f"A1:{last}{max(ws.max_row, 2)}", name
        assert table.autoFilter is not None and table.autoFilter.ref == table.ref
        assert [c.name for c in table.tableColumns] == _headers(ws)  # Excel opens it without a repair
        assert ws.freeze_panes == "A2", name
        assert all(ws.column_dimensions[openpyxl.utils.get_column_letter(j)].width >= 9
                   for j in range(1, len(_headers(ws)) + 1))
    reason = openpyxl.utils.get_column_letter(_headers(wb["Moves"]).index("Reason") + 1)
    reasons = wb["Moves"].column_dimensions[reason]
    assert reasons.width > wb["Moves"].column_dimensions["A"].width  # a long text column is wider
    assert len({t for ws in wb.worksheets for t in ws.tables}) == 5  # table names unique in the workbook


def test_account_sheets_keep_the_inputs_headers_and_name_the_added_columns(small):
    _press(small, "Rebalance")
    ws = openpyxl.load_workbook(small)["Proposed alignment"]
    assert _headers(ws) == ["Account ID", "Latitude", "Longitude", "Territory", "Potential", "Proposed territory",
                            "Moved", "Move reason", "Proposed rep"]
    assert _formats(ws)["Potential"] == "General"  # the input's own column, as typed


def test_status_and_deviation_are_coloured_by_status_in_the_command_lines_colours(small):
    _press(small, "Measure")
    ws = openpyxl.load_workbook(small)["Territory summary"]
    headers = _headers(ws)
    status = openpyxl.utils.get_column_letter(headers.index("Status") + 1)
    deviation = openpyxl.utils.get_column_letter(headers.index("Deviation") + 1)
    rules = _rules(ws)
    wanted = {(f"{col}2:{col}{ws.max_row}", f'${status}2="{word}"', "00" + spec["bg_color"].lstrip("#"))
              for col in (status, deviation) for word, spec in STATUS_COLOURS.items() if word not in CAPACITY_WORDS}
    assert set(rules) == wanted and len(rules) == len(wanted)


def test_the_add_in_formats_as_the_command_line_does(small, tmp_path):
    out = tmp_path / "cli.xlsx"
    done = subprocess.run([TERRITORY, "measure", str(small), "-o", str(out)], capture_output=True, text=True,
                          timeout=600)
    assert done.returncode == 0, done.stderr
    _press(small, "Measure")
    mine, cli = openpyxl.load_workbook(small), openpyxl.load_workbook(out)
    for name in ("Territory summary", "Balance"):
        assert _headers(mine[name]) == _headers(cli[name])
        assert _formats(mine[name]) == _formats(cli[name])
        assert mine[name].freeze_panes == cli[name].freeze_panes == "A2"
        assert [t.ref for t in mine[name].tables.values()] == [t.ref for t in cli[name].tables.values()]


def test_a_rerun_stacks_no_second_table_or_colour_rule_and_keeps_the_tables_name(small):
    _press(small, "Measure")
    first = openpyxl.load_workbook(small)["Territory summary"]
    name, rules = list(first.tables), _rules(first)
    assert len(name) == 1 and len(rules) == 8  # a table; 4 statuses x (status, deviation)
    _press(small, "Measure")
    _press(small, "Measure")
    wb = openpyxl.load_workbook(small)
    ws = wb["Territory summary"]
    assert list(ws.tables) == name and _rules(ws) == rules
    assert wb.sheetnames == ["Accounts", "Territory summary", "Balance"]


def test_a_users_own_colour_rule_on_a_result_sheet_stays(small):
    from openpyxl.formatting.rule import FormulaRule
    from openpyxl.styles import PatternFill

    _press(small, "Measure")
    wb = openpyxl.load_workbook(small)
    mine = FormulaRule(formula=['$B2="T1"'], fill=PatternFill(bgColor="FFFF00"))
    wb["Territory summary"].conditional_formatting.add("B2:B5", mine)
    wb.save(small)
    _press(small, "Measure")
    rules = _rules(openpyxl.load_workbook(small)["Territory summary"])
    assert ("B2:B5", '$B2="T1"', "00FFFF00") in rules and len(rules) == 9  # the user's and the add-in's 8


def test_formulas_pointing_at_a_result_and_at_its_table_survive_a_rerun(small):
    _press(small, "Rebalance")
    wb = openpyxl.load_workbook(small)
    table = next(iter(wb["Territory summary"].tables))
    notes = wb.create_sheet("Notes")
    notes["A1"] = "=COUNTA('Territory summary'!A:A)"
    notes["A2"] = f"=SUM({table}[Accounts])"
    wb.save(small)
    _press(small, "Rebalance")
    wb = openpyxl.load_workbook(small)
    assert [wb["Notes"]["A1"].value, wb["Notes"]["A2"].value] == ["=COUNTA('Territory summary'!A:A)",
                                                                  f"=SUM({table}[Accounts])"]
    assert list(wb["Territory summary"].tables) == [table]
    assert "Accounts" in _headers(wb["Territory summary"])  # the column the formula names is there


def test_a_shrinking_result_shrinks_its_table_and_an_emptied_one_keeps_a_header_table(small):
    book = FileBook(small)
    write_results(book, {"Errors": pd.DataFrame({"sheet": ["Accounts"] * 3, "row": [2, 3, 4], "problem": ["x"] * 3})})
    book.save()
    book = FileBook(small)
    write_results(book, {"Errors": pd.DataFrame({"sheet": ["Accounts"], "row": [9], "problem": ["y"]})})
    book.save()
    ws = openpyxl.load_workbook(small)["Errors"]
    assert [t.ref for t in ws.tables.values()] == ["A1:C2"] and _headers(ws) == ["Sheet", "Row", "Problem"]
    book = FileBook(small)
    write_results(book, {"Check": pd.DataFrame({"check": ["accounts"], "result": [60]})}, complete=True)
    book.save()
    ws = openpyxl.load_workbook(small)["Errors"]
    assert [t.ref for t in ws.tables.values()] == ["A1:C2"]  # the header and one empty row, as Excel keeps it
    assert _headers(ws) == ["Sheet", "Row", "Problem"] and [c.value for c in ws[2]] == [None, None, None]


def test_a_table_name_a_user_took_is_not_taken_twice(small):
    from openpyxl.worksheet.table import Table

    wb = openpyxl.load_workbook(small)
    ws = wb.create_sheet("Mine")
    ws.append(["x"])
    ws.append([1])
    ws.add_table(Table(displayName="Territory_summary", ref="A1:A2"))
    wb.save(small)
    _press(small, "Measure")
    wb = openpyxl.load_workbook(small)
    names = [t.lower() for ws in wb.worksheets for t in ws.tables]
    assert len(names) == len(set(names)) == 3 and "territory_summary_2" in names


def test_a_failed_run_puts_back_the_table_of_a_sheet_it_had_updated(small):
    _press(small, "Rebalance")
    before = openpyxl.load_workbook(small)["Territory summary"]
    ref, rules = [t.ref for t in before.tables.values()], _rules(before)
    assert len(ref) == 1 and rules
    book = refusing(FileBook(small), "Moves")  # Excel refuses the Moves sheet (protected, say)
    with pytest.raises(WriteFailed):
        write_results(book, {"Territory summary": pd.DataFrame({"territory": ["T1"], "accounts": [1]}),
                             "Moves": pd.DataFrame({"account_id": ["A1"]})})
    book.save()
    after = openpyxl.load_workbook(small)["Territory summary"]
    assert [t.ref for t in after.tables.values()] == ref and _rules(after) == rules
