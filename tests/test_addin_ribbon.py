"""The ribbon actions, run on a copy of the demo workbook through the file-backed book.

``FileBook`` implements the same interface as the Excel book (read sheets as Excel passes
them, write sheets, status bar, message boxes), so these are the very actions the
Territory tab runs; the sheets they write are checked by reading the saved file back.
"""

from __future__ import annotations

import re
import shutil
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import openpyxl
import pandas as pd
import pytest

from excel_addin import ribbon
from excel_addin.book import FileBook, write_results
from territory_engine import workflow
from territory_engine.io import read_table, read_tables
from territory_engine.io.presentation import engine_name

ROOT = Path(__file__).resolve().parents[1]
DEMO = ROOT / "workbooks" / "territory_demo.xlsx"
NS = {"ui": "http://schemas.microsoft.com/office/2009/07/customui"}


@pytest.fixture
def demo(tmp_path) -> Path:
    path = tmp_path / "territory_demo.xlsx"
    shutil.copy(DEMO, path)
    return path


def _cells(path: Path, sheet: str) -> list[tuple]:
    wb = openpyxl.load_workbook(path, read_only=True)
    try:
        return [tuple(row) for row in wb[sheet].iter_rows(values_only=True)]
    finally:
        wb.close()


def _result(path: Path, sheet: str) -> pd.DataFrame:
    """A result sheet of the add-in as a table under the engine's names (its headers are the analyst's)."""
    frame = read_table(path, sheet=sheet).frame
    return frame.rename(columns=lambda header: engine_name(header, sheet=sheet))


def _edit(path: Path, sheet: str, cell: str, value) -> None:
    wb = openpyxl.load_workbook(path)
    wb[sheet][cell] = value
    wb.save(path)


def _header_column(path: Path, sheet: str, header: str) -> str:
    wb = openpyxl.load_workbook(path, read_only=True)
    try:
        row = next(wb[sheet].iter_rows(min_row=1, max_row=1, values_only=True))
    finally:
        wb.close()
    return openpyxl.utils.get_column_letter(row.index(header) + 1)


def test_every_ribbon_button_has_an_action_and_every_action_a_button():
    tree = ET.parse(ROOT / "excel_addin" / "ribbon.xml")
    buttons = {b.get("id"): b.get("label") for b in tree.iter(f"{{{NS['ui']}}}button")}
    assert buttons == {key: label for key, (label, _) in ribbon.BUTTONS.items()}
    assert set(buttons.values()) == {"Check data", "Score accounts", "Rebalance", "Territory summary",
                                     "How many reps", "Compare scenarios", "Open map", "Map snapshot", "Map book",
                                     "Help"}
    assert [t.get("label") for t in tree.iter(f"{{{NS['ui']}}}tab")] == ["Territory"]


def test_unknown_control_is_a_bug_not_a_user_error(demo):
    with pytest.raises(KeyError):
        ribbon.dispatch("NoSuchButton", FileBook(demo))


def test_rebalance_writes_new_sheets_and_leaves_the_input_sheets_alone(demo):
    before = {name: _cells(demo, name) for name in ("Accounts", "Reps", "Settings", "Read me")}
    book = FileBook(demo)
    assert ribbon.dispatch("Rebalance", book) is True
    book.save()
    names = openpyxl.load_workbook(demo, read_only=True).sheetnames
    assert {"Proposed alignment", "Territory summary", "Balance", "Moves", "Settings used"} <= set(names)
    assert "Errors" not in names
    for name, cells in before.items():
        assert _cells(demo, name) == cells
    # The same verb on the same tables as the command line gives the same alignment.
    tables = read_tables(DEMO)
    expected = workflow.rebalance(workflow.Inputs(tables["accounts"], tables.get("reps"), tables.get("settings")))
    proposed = _result(demo, "Proposed alignment")
    assert proposed["proposed_territory"].tolist() == expected.proposed["proposed_territory"].tolist()
    moves = _result(demo, "Moves")
    assert len(moves) == int(expected.proposed["moved"].sum()) and moves["reason"].notna().all()
    # Progress went to the status bar, which was given back to Excel at the end.
    assert any(s and "rebalancing" in s for s in book.statuses) and book.statuses[-1] is None
    assert book.alerts and not book.alerts[-1][2]


def test_check_score_and_summary_write_their_sheets(demo):
    book = FileBook(demo)
    for control in ("CheckData", "ScoreAccounts", "Measure"):
        assert ribbon.dispatch(control, book) is True, book.alerts[-1]
    book.save()
    scored = _result(demo, "Scored accounts")
    assert set(scored["tier"]) == {"A", "B", "C"} and len(scored) == 4000
    summary = _result(demo, "Territory summary")
    assert len(summary) == 12 and {"territory", "status"} <= set(summary.columns)
    assert "deviation (weighted mix)" in summary.columns  # the demo balances potential and workload
    check = _result(demo, "Check")
    assert "accounts" in check["check"].tolist()


def test_bad_cell_gives_an_errors_sheet_with_sheet_row_and_column(demo):
    letter = _header_column(demo, "Accounts", "Potential")
    _edit(demo, "Accounts", f"{letter}14", "n/a")
    book = FileBook(demo)
    assert ribbon.dispatch("Rebalance", book) is False
    title, text, critical = book.alerts[-1]
    assert critical and f"Accounts!{letter}14" in text
    book.save()
    errors = _result(demo, "Errors")
    hit = errors[(errors["sheet"] == "Accounts") & (errors["row"] == 14)]
    assert hit["column"].tolist() == [letter] and hit["header"].tolist() == ["Potential"]
    assert "Proposed alignment" not in openpyxl.load_workbook(demo, read_only=True).sheetnames
    # Fixed and run again: the stale Errors sheet keeps only its header (updated in place).
    _edit(demo, "Accounts", f"{letter}14", 1000)
    book = FileBook(demo)
    assert ribbon.dispatch("CheckData", book) is True
    assert len(book.read_cells("Errors")) == 1


def test_impossible_balance_writes_the_best_alignment_and_its_problems(demo):
    wb = openpyxl.load_workbook(demo)
    sheet = wb["Accounts"]
    locked = [c.value for c in sheet[1]].index("Locked") + 1
    for row in range(2, sheet.max_row + 1):
        sheet.cell(row=row, column=locked, value=True)
    wb.save(demo)
    book = FileBook(demo)
    assert ribbon.dispatch("Rebalance", book) is False
    assert book.alerts[-1][2] and "impossible" in book.alerts[-1][1]
    assert {"Proposed alignment", "Balance problems"} <= set(book.sheet_names())


def test_a_run_that_cannot_balance_shows_the_notes_of_its_best_alignment(tmp_path):
    # 1,000 accounts (stress family, rep bases and locks, seed 3) under a 10% move cap: the best
    # alignment found is written with its Design notes sheet, and the message box shows the
    # same notes (it showed the reasons only, and the sheet said what the message did not).
    sys.path.insert(0, str(ROOT / "tests" / "benchmarks"))
    from stress_instances import make_stress, stress_k, write_stress_csv

    csv = write_stress_csv(make_stress("bases", 1000, stress_k(1000), seed=3), tmp_path / "accounts.csv",
                           tmp_path / "bases.csv")
    path = tmp_path / "book.xlsx"
    with pd.ExcelWriter(path) as writer:
        pd.read_csv(csv, dtype={"ZIP": str}).to_excel(writer, sheet_name="Accounts", index=False)
        pd.read_csv(tmp_path / "bases.csv").to_excel(writer, sheet_name="Reps", index=False)
        pd.DataFrame({"Setting": ["balance", "max_moved_share"], "Value": ["potential", 0.1]}).to_excel(
            writer, sheet_name="Settings", index=False)
    book = FileBook(path)
    assert ribbon.dispatch("Rebalance", book) is False
    _, text, critical = book.alerts[-1]
    book.save()
    kept = _result(path, "Design notes")["note"].tolist()
    assert critical and kept
    assert [f"note: {note}" for note in kept] == [line for line in text.splitlines() if line.startswith("note: ")]


def test_text_from_the_workbook_is_written_as_text_never_a_formula(demo):
    letter = _header_column(demo, "Accounts", "Account Name")
    wb = openpyxl.load_workbook(demo)
    wb["Accounts"][f"{letter}2"].value = "=HYPERLINK(\"http://example.invalid\")"
    wb["Accounts"][f"{letter}2"].data_type = "s"
    wb.save(demo)
    book = FileBook(demo)
    assert ribbon.dispatch("ScoreAccounts", book) is True
    book.save()
    wb = openpyxl.load_workbook(demo)
    sheet = wb["Scored accounts"]
    column = [c.value for c in sheet[1]].index("Account Name") + 1
    cell = sheet.cell(row=2, column=column)
    assert cell.data_type == "s" and cell.value.startswith("=HYPERLINK")


def test_results_never_take_an_input_sheet_name_and_replace_earlier_results(demo):
    book = FileBook(demo)
    frame = pd.DataFrame({"a": [1.0, None]})
    assert list(write_results(book, {"Settings": frame, "Result": frame}).sheets.values()) == ["Settings (2)", "Result"]
    assert list(write_results(book, {"Result": pd.DataFrame({"b": ["x"]})}).sheets.values()) == ["Result"]
    assert book.read_cells("Result") == [["B"], ["x"]]  # the header in the analyst's words
    assert book.read_cells("Settings (2)") == [["A"], [1.0], [None]]


def test_open_map_writes_the_page_next_to_the_workbook_and_opens_it(demo):
    book = FileBook(demo)
    assert ribbon.dispatch("OpenMap", book) is True, book.alerts
    page = demo.parent / "territory_demo territory map.html"
    assert book.opened == [page] and page.stat().st_size > 0
    assert "<html" in page.read_text(encoding="utf-8")[:2000].lower()
    assert "Map" not in book.sheet_names()


def test_map_snapshot_after_rebalance_puts_the_proposed_map_on_a_sheet(demo):
    book = FileBook(demo)
    assert ribbon.dispatch("Rebalance", book) is True
    assert ribbon.dispatch("MapSnapshot", book) is True, book.alerts
    png = demo.parent / "territory_demo territory map.png"
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    book.save()
    wb = openpyxl.load_workbook(demo)
    assert len(wb["Map"]._images) == 1


def test_map_of_a_workbook_with_bad_input_gives_the_errors_sheet(demo):
    letter = _header_column(demo, "Accounts", "Potential")
    _edit(demo, "Accounts", f"{letter}3", "lots")
    book = FileBook(demo)
    assert ribbon.dispatch("OpenMap", book) is False
    assert book.opened == [] and "Errors" in book.sheet_names()


def test_help_shows_a_message_and_writes_nothing(demo):
    book = FileBook(demo)
    names = book.sheet_names()
    assert ribbon.dispatch("Help", book) is True
    assert "Rebalance" in book.alerts[-1][1] and book.sheet_names() == names


def test_xlwings_lite_scripts_run_the_ribbon_actions(monkeypatch):
    import importlib.util

    spec = importlib.util.spec_from_file_location("territory_lite_main", ROOT / "excel_addin" / "lite" / "main.py")
    lite = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(lite)
    ran = []
    monkeypatch.setattr(ribbon, "run", lambda action, book: ran.append((action, type(book).__name__)))
    scripts = {"check_data": "CheckData", "score_accounts": "ScoreAccounts", "rebalance": "Rebalance",
               "territory_summary": "Measure", "map_snapshot": "MapSnapshot", "territory_help": "Help"}
    for name, control in scripts.items():
        getattr(lite, name)(object())
        assert ran[-1] == (ribbon.BUTTONS[control][1], "LiteBook")
    from excel_addin import functions

    assert all(getattr(lite, name) is getattr(functions, name) for name in functions.__all__)
    requirements = (ROOT / "excel_addin" / "lite" / "requirements.txt").read_text(encoding="utf-8").split()
    assert {"numpy", "pandas", "scipy"} <= set(requirements)
    assert "python-calamine" not in requirements  # no Pyodide build
    assert "zipcodes" not in requirements  # (compiled from zipcodes 3; the engine ships its ZIP centroids)


def test_excel_and_file_books_offer_the_whole_workbook_interface():
    import inspect

    from excel_addin.book import ExcelBook, Workbook

    wanted = {name: inspect.signature(member) for name, member in vars(Workbook).items()
              if callable(member) and not name.startswith("_")}
    assert {"read_cells", "write_sheet", "delete_sheet", "insert_picture", "status", "alert",
            "open_in_browser", "sheet_names"} <= set(wanted)
    for cls in (ExcelBook, FileBook):
        assert isinstance(getattr(cls, "fullname"), property)
        for name, signature in wanted.items():
            assert inspect.signature(getattr(cls, name)) == signature, (cls.__name__, name)


def test_rebalance_of_a_workbook_without_territories_designs_new_ones(tmp_path):
    # No Territory column: a fresh design of the territories asked for on the Settings sheet.
    # (The message box once assumed a current alignment and failed after writing the sheets.)
    path = tmp_path / "new.xlsx"
    wb = openpyxl.Workbook()
    accounts = wb.active
    accounts.title = "Accounts"
    accounts.append(["Account ID", "Latitude", "Longitude", "Potential"])
    for i in range(60):
        accounts.append([f"A{i}", 40 + (i % 10) * 0.2, -75 + (i // 10) * 0.4, 10.0 + i % 7])
    settings = wb.create_sheet("Settings")
    settings.append(["Setting", "Value"])
    settings.append(["territories", 3])
    wb.save(path)
    book = FileBook(path)
    assert ribbon.dispatch("Rebalance", book) is True
    book.save()
    _, message, critical = book.alerts[-1]
    assert not critical and message.startswith("3 new territories; largest deviation") and "Proposed alignment" in message
    proposed = _result(path, "Proposed alignment")
    assert proposed["proposed_territory"].nunique() == 3 and len(proposed) == 60


def test_rebalance_message_names_the_resited_territories(tmp_path):
    sys.path.insert(0, str(ROOT / "tests" / "benchmarks"))
    from instances import make_instance, write_csv

    # The benchmark's hand-drawn map, metro territories up to twice their share, as a workbook
    # with only an Accounts sheet: Rebalance re-sites starved territories and the message box
    # says which, and how to keep every territory where it is.
    accounts = pd.read_csv(write_csv(make_instance(10_000, 50, seed=1), tmp_path / "accounts.csv"),
                           dtype={"ZIP": str})
    path = tmp_path / "book.xlsx"
    accounts.to_excel(path, sheet_name="Accounts", index=False)
    book = FileBook(path)
    assert ribbon.dispatch("Rebalance", book) is True, book.alerts
    title, text, critical = book.alerts[-1]
    assert not critical
    assert re.search(r"note: \d+ under-served territor(y was|ies were) re-sited into overloaded ones", text)
    assert "resite = FALSE on the Settings sheet" in text
    # the workbook keeps every note of the message box beside the proposal
    book.save()
    kept = _result(path, "Design notes")["note"].tolist()
    assert [f"note: {note}" for note in kept] == [line for line in text.splitlines() if line.startswith("note: ")]
    # Territory summary leaves the proposal in place, and its notes with it
    book = FileBook(path)
    assert ribbon.dispatch("Measure", book) is True, book.alerts
    book.save()
    assert _result(path, "Design notes")["note"].tolist() == kept


def test_map_book_writes_a_slide_per_territory_next_to_the_workbook(demo):
    from pptx import Presentation

    book = FileBook(demo)
    assert ribbon.dispatch("MapBook", book) is True, book.alerts[-1]
    path = demo.parent / "territory_demo map book.pptx"
    assert path.exists() and str(path) in book.alerts[-1][1]
    assert len(Presentation(str(path)).slides) == 1 + 12
    assert book.calls == []  # the workbook itself is not changed


def test_the_settings_sheets_block_drives_rebalance_and_its_map(demo):
    """Issue 15, section 5: ``block = county`` on the Settings sheet makes Rebalance design
    territories of whole counties; the Blocks sheet it writes gives the map every county."""
    from territory_engine.geography import resolve_blocks

    wb = openpyxl.load_workbook(demo)
    wb["Settings"].append(["block", "county", "Territories of whole, connected counties."])
    wb.save(demo)
    book = FileBook(demo)
    assert ribbon.dispatch("Rebalance", book) is True, book.alerts
    assert ribbon.dispatch("MapSnapshot", book) is True, book.alerts
    book.save()
    blocks = _result(demo, "Blocks")
    proposed = _result(demo, "Proposed alignment")
    county = resolve_blocks("county", proposed["County"], states=proposed["State"]).ids  # the accounts' County column
    assert pd.notna(county).all()
    assert (proposed.groupby(county)["proposed_territory"].nunique() == 1).all()  # every county whole
    assert set(county) <= set(blocks.iloc[:, 0].astype(str).str.zfill(5))  # its first column: the block id
    assert "with its county" in " ".join(proposed["move_reason"].dropna())
    # A later proposal without blocks empties the Blocks sheet, so no map reads a stale one.
    wb = openpyxl.load_workbook(demo)
    wb["Settings"].delete_rows(wb["Settings"].max_row)
    wb.save(demo)
    book = FileBook(demo)
    assert ribbon.dispatch("Rebalance", book) is True, book.alerts
    book.save()
    # (Clear Contents, as Excel: the rows' formatting stays, their values go)
    assert [row for row in _cells(demo, "Blocks") if any(v is not None for v in row)][1:] == []
    assert "Blocks (edited)" not in openpyxl.load_workbook(demo).sheetnames  # (the add-in's own sheet, unedited)


def test_compare_scenarios_measures_each_territory_column_against_the_territory_column(demo):
    wb = openpyxl.load_workbook(demo)
    sheet = wb["Accounts"]
    headers = [c.value for c in sheet[1]]
    territory = headers.index("Territory") + 1
    plan = sheet.max_column + 1
    sheet.cell(row=1, column=plan, value="Territory plan B")
    moved = 0
    for row in range(2, sheet.max_row + 1):
        value = sheet.cell(row=row, column=territory).value
        if value == "T01" and moved < 25:
            value, moved = "T02", moved + 1
        sheet.cell(row=row, column=plan, value=value)
    wb.save(demo)
    before = _cells(demo, "Accounts")
    book = FileBook(demo)
    assert ribbon.dispatch("CompareScenarios", book) is True, book.alerts[-1]
    book.save()
    assert _cells(demo, "Accounts") == before  # the input sheet is never written
    compare = _result(demo, "Compare").set_index("scenario")
    assert list(compare.index) == ["Territory", "Territory plan B"]
    assert compare.loc["Territory plan B", "accounts changing rep"] == 25
    tables = read_tables(demo)
    alone = workflow.measure(workflow.Inputs(accounts=tables["accounts"], reps=tables.get("reps"),
                                             settings=tables.get("settings"))).balance.iloc[0]  # measured alone
    assert compare.loc["Territory", "largest deviation"] == pytest.approx(alone["largest deviation"], rel=1e-12)
    side = _result(demo, "Territories side by side")
    assert len(side) == 12 and "Territory plan B: accounts" in side.columns
    assert "Compared 2 scenarios" in book.alerts[-1][1] and "See the Compare and" in book.alerts[-1][1]


def test_compare_scenarios_without_a_second_alignment_column_says_how_to_add_one(demo):
    book = FileBook(demo)
    assert ribbon.dispatch("CompareScenarios", book) is False
    assert "Territory plan B" in book.alerts[-1][1]
    book.save()
    errors = _result(demo, "Errors")
    assert "found: 'Territory'" in errors["problem"].iloc[0]


def test_how_many_reps_sizes_the_settings_range_and_writes_the_recommended_design(demo):
    wb = openpyxl.load_workbook(demo)
    settings = wb["Settings"]
    row = settings.max_row + 1
    settings.cell(row=row, column=1, value="size_range")
    settings.cell(row=row, column=2, value="11-13")
    settings.cell(row=row + 1, column=1, value="visits_per_year")  # a light visit plan: some number fits
    settings.cell(row=row + 1, column=2, value="A:6, B:3, C:1")
    wb.save(demo)
    before = {name: _cells(demo, name) for name in ("Accounts", "Reps", "Settings")}
    book = FileBook(demo)
    assert ribbon.dispatch("HowManyReps", book) is True, book.alerts[-1]
    book.save()
    assert {name: _cells(demo, name) for name in before} == before  # the input sheets are never written
    sizing = _result(demo, "Sizing")
    assert sizing["territories"].tolist() == [11, 12, 13]
    fits = sizing[sizing["fits"].astype(bool)]
    message = book.alerts[-1][1]
    if len(fits):
        k = int(fits["territories"].min())
        assert message.startswith(f"recommended: {k} territories.")
        proposed = _result(demo, "Proposed alignment")
        assert proposed["proposed_territory"].nunique() == k
    else:
        assert message.startswith("no number of territories from 11 to 13 fits")


def test_how_many_reps_with_a_bad_range_is_an_error_naming_the_setting(demo):
    wb = openpyxl.load_workbook(demo)
    settings = wb["Settings"]
    row = settings.max_row + 1
    settings.cell(row=row, column=1, value="size_range")
    settings.cell(row=row, column=2, value="lots")
    wb.save(demo)
    book = FileBook(demo)
    assert ribbon.dispatch("HowManyReps", book) is False
    assert "size_range" in book.alerts[-1][1] and "8-16" in book.alerts[-1][1]
