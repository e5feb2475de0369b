"""ExcelBook, the only code that talks to Excel, against a fake xlwings book that records calls.

The fake (``tests/fake_xlwings.py``) follows xlwings 0.37.8 and Excel where the add-in depends
on them: names compared ignoring case, a new sheet placed before the active one unless told,
error cells read as None unless ``err_to_str``, typed text turned into numbers and formulas
unless it starts with an apostrophe, sheet-scoped names carrying the sheet's prefix, pictures
replaced by name with ``update=True``.
"""

from __future__ import annotations

import importlib.util
import inspect
from pathlib import Path

import pytest
from fake_xlwings import CellError, FakeBook

import pandas as pd

from excel_addin import ribbon
from excel_addin.book import MARK_NAME, PICTURE_NAME, Workbook, write_results
from excel_addin.chunks import AUTOFIT_ROWS, CELLS_PER_CHUNK, MAX_ROWS, row_chunks
from excel_addin.excel_book import ExcelBook
from territory_engine.errors import InputError
from territory_engine.io.sheet_layout import CAPACITY_WORDS, STATUS_COLOURS, SheetLayout

ROOT = Path(__file__).resolve().parents[1]
FULL_HEIGHT = MAX_ROWS - 1  # the most accounts a sheet holds under its header


def _fill(fake: FakeBook, sheet: str, rows: list[list]) -> None:
    target = fake.sheets[sheet]
    for r, row in enumerate(rows, start=1):
        for c, value in enumerate(row, start=1):
            if value is not None:
                target.cells[(r, c)] = value


def _accounts(n: int = 20) -> list[list]:
    rows = [["Account ID", "Latitude", "Longitude", "Territory", "Potential"]]
    return rows + [[f"A{i}", 40.0 + i / 10, -75.0, "T1" if i % 2 else "T2", 10.0 + i] for i in range(n)]


def _read(book: ExcelBook, sheet: str) -> list[list]:
    """A sheet's cells, an empty cell as None (the interface allows None or "")."""
    return [[None if v == "" else v for v in row] for row in book.read_cells(sheet)]


def _size(corners: tuple[int, int, int, int]) -> int:
    r1, c1, r2, c2 = corners
    return (r2 - r1 + 1) * (c2 - c1 + 1)


# --------------------------------------------------------------------------------------
# the chunk plan
# --------------------------------------------------------------------------------------


@pytest.mark.parametrize("n_rows, n_cols, budget", [(FULL_HEIGHT, 10, CELLS_PER_CHUNK), (MAX_ROWS, 1, CELLS_PER_CHUNK),
                                                    (10, 3, 9), (7, 20, 9), (1, 1, 1), (999, 7, 1000)])
def test_row_chunks_cover_every_row_once_in_order_within_the_budget(n_rows, n_cols, budget):
    chunks = row_chunks(n_rows, n_cols, budget=budget)
    assert chunks[0][0] == 1 and chunks[-1][1] == n_rows
    assert all(first <= last for first, last in chunks)
    assert all(b[0] == a[1] + 1 for a, b in zip(chunks, chunks[1:]))
    # within the budget, or one row when a row alone is wider than it
    assert all((last - first + 1) * n_cols <= budget or first == last for first, last in chunks)
    assert row_chunks(0, n_cols, budget=budget) == []


def test_a_full_height_sheet_of_ten_columns_is_eleven_chunks():
    chunks = row_chunks(FULL_HEIGHT, 10)
    assert len(chunks) == 11 and chunks[-1] == (1_000_001, FULL_HEIGHT)


# --------------------------------------------------------------------------------------
# reading
# --------------------------------------------------------------------------------------


def test_error_cells_read_as_their_text():
    fake = FakeBook(["Accounts"])
    _fill(fake, "Accounts", [["Account ID", "Potential", "Sales"], ["A1", CellError("#N/A"), CellError("#DIV/0!")],
                             ["A2", 3.0, None]])
    cells = ExcelBook(fake).read_cells("Accounts")
    assert cells[1] == ["A1", "#N/A", "#DIV/0!"]
    assert cells[2][:2] == ["A2", 3.0] and cells[2][2] in (None, "")
    assert all(entry[3].get("err_to_str") is True for entry in fake.log.of("read"))


def test_check_data_reports_an_error_cell_where_it_is():
    fake = FakeBook(["Accounts"])
    rows = _accounts()
    rows[3][4] = CellError("#N/A")  # Accounts!E4
    _fill(fake, "Accounts", rows)
    assert ribbon.dispatch("CheckData", ExcelBook(fake)) is False
    alert = fake.app.alerts[-1]
    assert alert["mode"] == "critical" and "Accounts!E4" in alert["prompt"] and "#N/A" in alert["prompt"]
    assert "No problems" not in alert["prompt"]
    errors = ExcelBook(fake).read_cells("Errors")
    assert any("#N/A" in str(value) for row in errors for value in row)


def test_a_small_sheet_is_read_in_one_call_of_its_used_range():
    fake = FakeBook(["Accounts"])
    _fill(fake, "Accounts", _accounts(30))
    cells = ExcelBook(fake).read_cells("Accounts")
    reads = fake.log.of("read")
    assert len(reads) == 1 and reads[0][2] == (1, 1, 31, 5) and reads[0][3]["ndim"] == 2
    assert cells[0][0] == "Account ID" and cells[30][4] == 39.0 and len(cells) == 31


def test_a_table_right_of_a1_is_read_from_a1_to_its_last_cell():
    fake = FakeBook(["Accounts"])
    fake.sheets["Accounts"].cells.update({(3, 2): "Account ID", (4, 2): "A1", (4, 3): 5.0})
    cells = _read(ExcelBook(fake), "Accounts")
    assert fake.log.of("read")[0][2] == (1, 1, 4, 3)
    assert cells[3] == [None, "A1", 5.0] and cells[0] == [None, None, None]


def test_a_full_height_sheet_is_read_one_value_per_chunk_never_per_cell():
    fake = FakeBook(["Accounts"])
    fake.sheets["Accounts"].back(FULL_HEIGHT, 2, lambda r, c: float(r * 10 + c))
    cells = ExcelBook(fake).read_cells("Accounts")
    reads = fake.log.of("read")
    assert [(e[2][0], e[2][2]) for e in reads] == row_chunks(FULL_HEIGHT, 2)
    assert len(reads) == 3 and max(_size(e[2]) for e in reads) <= CELLS_PER_CHUNK
    assert all(e[2][1] == 1 and e[2][3] == 2 for e in reads)
    assert len(cells) == FULL_HEIGHT
    for r in (1, 500_000, 500_001, 1_000_000, 1_000_001, FULL_HEIGHT):  # both sides of each boundary
        assert cells[r - 1] == [r * 10 + 1.0, r * 10 + 2.0]


def test_reading_chunks_follow_the_budget_given():
    fake = FakeBook(["Accounts"])
    rows = [[f"h{c}" for c in range(3)]] + [[float(r), float(r + 1), f"t{r}"] for r in range(9)]
    _fill(fake, "Accounts", rows)
    cells = ExcelBook(fake, cells_per_chunk=9).read_cells("Accounts")
    assert [(e[2][0], e[2][2]) for e in fake.log.of("read")] == [(1, 3), (4, 6), (7, 9), (10, 10)]
    assert cells == rows


def test_a_sheet_reaching_far_beyond_its_table_is_refused_by_name():
    fake = FakeBook(["Accounts"])
    fake.sheets["Accounts"].back(MAX_ROWS, 16_384, lambda r, c: None)
    with pytest.raises(InputError) as caught:
        ExcelBook(fake).read_cells("Accounts")
    assert caught.value.problems[0].source == "Accounts" and "Ctrl+End" in str(caught.value.problems[0])
    assert fake.log.of("read") == []


# --------------------------------------------------------------------------------------
# writing
# --------------------------------------------------------------------------------------


def test_a_new_sheet_goes_after_the_last_one():
    fake = FakeBook(["Accounts", "Reps", "Settings"])
    ExcelBook(fake).write_sheet("Moves", [["account"], ["A1"]])
    assert [s.name for s in fake.sheets] == ["Accounts", "Reps", "Settings", "Moves"]


def test_rewriting_a_sheet_updates_it_in_place():
    fake = FakeBook(["Accounts", "Moves", "Notes"])
    moves = fake.sheets["Moves"]
    _fill(fake, "Moves", [["account", "from", "to"], ["A1", "T1", "T2"], ["A2", "T2", "T1"]])
    moves.bold.add((5, 5))  # the user's formatting
    ExcelBook(fake).write_sheet("Moves", [["account", "to"], ["A9", "T3"]])
    assert fake.sheets["Moves"] is moves and not moves.deleted and moves.index == 2
    assert not fake.log.of("delete_sheet") and not fake.log.of("add_sheet")
    assert ExcelBook(fake).read_cells("Moves") == [["account", "to"], ["A9", "T3"]]
    assert (5, 5) in moves.bold  # clear_contents: formatting stays


def test_sheet_names_are_compared_ignoring_case():
    fake = FakeBook(["accounts", "moves"])
    _fill(fake, "accounts", [["Account ID"], ["A1"]])
    book = ExcelBook(fake)
    assert book.read_cells("ACCOUNTS") == [["Account ID"], ["A1"]]
    book.write_sheet("Moves", [["x"], [1.0]])
    assert [s.name for s in fake.sheets] == ["accounts", "moves"]
    book.rename_sheet("MOVES", "Moves (2)")
    book.delete_sheet("moves (2)")
    assert book.sheet_names() == ["accounts"]
    book.delete_sheet("no such sheet")


def test_text_is_written_as_text_numbers_as_numbers():
    fake = FakeBook(["Accounts"])
    book = ExcelBook(fake)
    rows = [["reason", "n", "ok"], ["=1+1", 2.5, True], ["007", -1.0, False], ["TRUE", None, None],
            ["'quoted", 0.0, None], ["@SUM(9) -> T2", 1e9, None], ["", 3.0, None]]
    book.write_sheet("Moves", rows)
    sheet = fake.sheets["Moves"]
    assert [sheet.cells[(r, 1)] for r in range(2, 7)] == ["=1+1", "007", "TRUE", "'quoted", "@SUM(9) -> T2"]
    assert _read(book, "Moves") == [[None if v == "" else v for v in row] for row in rows]


def test_the_header_is_bold_and_only_a_sample_is_autofitted():
    fake = FakeBook(["Accounts"])
    rows = [["a", "b", "c"]] + [[float(i), "x", None] for i in range(AUTOFIT_ROWS + 50)]
    ExcelBook(fake).write_sheet("Moves", rows)
    assert fake.log.of("bold") == [("bold", "Moves", (1, 1, 1, 3), True)]
    assert fake.log.of("autofit") == [("autofit", "Moves", (1, 1, AUTOFIT_ROWS, 3), "c")]


def test_ragged_rows_are_padded_and_an_empty_table_only_clears():
    fake = FakeBook(["Accounts", "Moves"])
    _fill(fake, "Moves", [["old"]])
    book = ExcelBook(fake)
    book.write_sheet("Moves", [["a", "b"], ["x"]])
    assert _read(book, "Moves") == [["a", "b"], ["x", None]]
    book.write_sheet("Moves", [])
    assert fake.sheets["Moves"].cells == {} and len(fake.log.of("write")) == 1


def test_a_full_height_table_is_written_in_chunks():
    fake = FakeBook(["Accounts"], store=False)
    row = [1.0] * 10
    ExcelBook(fake).write_sheet("Proposed alignment", [[f"h{c}" for c in range(10)]] + [row] * (FULL_HEIGHT - 1))
    writes = fake.log.of("write")
    assert [(e[2][0], e[2][2]) for e in writes] == row_chunks(FULL_HEIGHT, 10)
    assert len(writes) == 11 and max(_size(e[2]) for e in writes) <= CELLS_PER_CHUNK


def test_writing_chunks_follow_the_budget_given():
    fake = FakeBook(["Accounts"])
    rows = [["a", "b"]] + [[float(i), f"t{i}"] for i in range(6)]
    book = ExcelBook(fake, cells_per_chunk=4)
    book.write_sheet("Moves", rows)
    assert [(e[2][0], e[2][2]) for e in fake.log.of("write")] == [(1, 2), (3, 4), (5, 6), (7, 7)]
    assert book.read_cells("Moves") == rows


def test_a_table_taller_than_a_sheet_is_an_input_error_before_anything_is_written():
    fake = FakeBook(["Accounts", "Moves"])
    _fill(fake, "Moves", [["kept"]])
    with pytest.raises(InputError) as caught:
        ExcelBook(fake).write_sheet("Moves", [["h"]] + [[1.0]] * MAX_ROWS)
    assert caught.value.problems[0].source == "Moves" and ".csv" in str(caught.value.problems[0])
    assert fake.sheets["Moves"].cells == {(1, 1): "kept"}


# --------------------------------------------------------------------------------------
# renames and marks
# --------------------------------------------------------------------------------------


def test_rename_keeps_the_sheet_its_cells_and_its_mark():
    fake = FakeBook(["Accounts", "Moves"])
    _fill(fake, "Moves", [["account"], ["A1"]])
    sheet = fake.sheets["Moves"]
    book = ExcelBook(fake)
    book.set_sheet_mark("Moves", "run-1")
    book.rename_sheet("Moves", "Moves (edited)")
    assert fake.sheets["Moves (edited)"] is sheet and book.sheet_names() == ["Accounts", "Moves (edited)"]
    assert book.sheet_mark("Moves (edited)") == "run-1" and book.sheet_mark("Moves") is None
    assert next(iter(sheet.names)).name == f"'Moves (edited)'!{MARK_NAME}"


def test_a_mark_is_a_hidden_sheet_scoped_name_read_back():
    fake = FakeBook(["Accounts", "Moves", "Check"])
    book = ExcelBook(fake, platform="win32")
    book.set_sheet_mark("Moves", "abc+/=_-.123")
    book.set_sheet_mark("moves", "second")  # redefined, not added twice
    names = list(fake.sheets["Moves"].names)
    assert [n.name for n in names] == [f"Moves!{MARK_NAME}"] and names[0].refers_to == '="second"'
    assert names[0].api.Visible is False
    assert book.sheet_mark("MOVES") == "second"
    assert book.sheet_mark("Check") is None and book.sheet_mark("Accounts") is None
    assert list(fake.sheets["Check"].names) == []


def test_a_mark_is_hidden_through_applescript_on_macos_and_left_alone_in_xlwings_lite():
    mac = FakeBook(["Moves"], platform="darwin")
    ExcelBook(mac, platform="darwin").set_sheet_mark("Moves", "m")
    assert next(iter(mac.sheets["Moves"].names)).api.visible.get() is False
    lite = FakeBook(["Moves"], platform="emscripten")
    book = ExcelBook(lite, platform="emscripten")
    book.set_sheet_mark("Moves", "m")
    assert next(iter(lite.sheets["Moves"].names)).api == {"visible": True} and book.sheet_mark("Moves") == "m"


def test_a_users_own_name_is_not_taken_for_a_mark():
    fake = FakeBook(["Accounts", "Moves"])
    fake.sheets["Moves"].names.add(MARK_NAME, "=Moves!$A$1")
    assert ExcelBook(fake).sheet_mark("Moves") is None
    with pytest.raises(ValueError):
        ExcelBook(fake).set_sheet_mark("Moves", 'say "hi"')


def test_deleting_a_sheet_takes_its_mark_with_it():
    fake = FakeBook(["Accounts", "Moves"])
    book = ExcelBook(fake)
    book.set_sheet_mark("Moves", "run-1")
    book.delete_sheet("Moves")
    book.write_sheet("Moves", [["a"]])
    assert book.sheet_mark("Moves") is None


# --------------------------------------------------------------------------------------
# pictures, status bar, messages
# --------------------------------------------------------------------------------------


def test_the_picture_is_replaced_not_piled_up_and_the_sheet_kept():
    fake = FakeBook(["Accounts", "Map"])
    sheet = fake.sheets["Map"]
    sheet.cells[(30, 1)] = "my note"
    sheet.pictures.add("logo.png", name="Logo")  # the user's own picture
    book = ExcelBook(fake)
    book.insert_picture("Map", Path("first.png"))
    book.insert_picture("map", Path("second.png"))
    assert fake.sheets["Map"] is sheet and sheet.cells[(30, 1)] == "my note"
    ours = sheet.pictures[PICTURE_NAME]
    assert [p.name for p in sheet.pictures] == ["Logo", PICTURE_NAME]
    assert ours.image == "second.png" and (ours.left, ours.top) == (0.0, 0.0)


def test_a_picture_on_a_new_sheet_goes_after_the_last_one():
    fake = FakeBook(["Accounts", "Reps"])
    ExcelBook(fake).insert_picture("Map", Path("map.png"))
    assert [s.name for s in fake.sheets] == ["Accounts", "Reps", "Map"]
    assert [p.name for p in fake.sheets["Map"].pictures] == [PICTURE_NAME]


def test_the_status_bar_is_given_back_to_excel():
    fake = FakeBook(["Accounts"])
    book = ExcelBook(fake)
    book.status("Territory: rebalancing 40%")
    book.status(None)
    assert [e[1] for e in fake.log.of("status_bar")] == ["Territory: rebalancing 40%", False]
    assert fake.app.status_bar is False


def test_alerts_carry_title_and_mode():
    fake = FakeBook(["Accounts"])
    book = ExcelBook(fake)
    book.alert("done")
    book.alert("bad", title="Territory Planner", critical=True)
    assert fake.app.alerts == [{"prompt": "done", "title": "Territory", "buttons": "ok", "mode": "info"},
                               {"prompt": "bad", "title": "Territory Planner", "buttons": "ok", "mode": "critical"}]


def test_excel_book_offers_the_whole_workbook_interface():
    wanted = {name: inspect.signature(member) for name, member in vars(Workbook).items()
              if callable(member) and not name.startswith("_")}
    assert {"rename_sheet", "sheet_mark", "set_sheet_mark", "read_cells", "write_sheet"} <= set(wanted)
    assert isinstance(ExcelBook.fullname, property) and ExcelBook(FakeBook()).fullname == "book.xlsx"
    for name, signature in wanted.items():
        assert inspect.signature(getattr(ExcelBook, name)) == signature, name


# --------------------------------------------------------------------------------------
# whole actions, desktop and xlwings Lite
# --------------------------------------------------------------------------------------


def test_check_data_on_excel_writes_its_sheet_after_the_inputs_and_gives_the_status_bar_back():
    fake = FakeBook(["Accounts", "Notes"])
    _fill(fake, "Accounts", _accounts())
    assert ribbon.dispatch("CheckData", ExcelBook(fake)) is True
    assert fake.app.alerts[-1]["prompt"].startswith("No problems found in 20 accounts")
    assert ExcelBook(fake).sheet_names()[:2] == ["Accounts", "Notes"]
    assert fake.app.status_bar is False
    assert all(len(e[2]) == 4 and _size(e[2]) > 1 for e in fake.log.of("read"))  # bulk, never per cell


def test_xlwings_lite_book_runs_an_action_without_status_bar():
    main = ROOT / "excel_addin" / "lite" / "main.py"
    spec = importlib.util.spec_from_file_location("territory_lite_main_book", main)
    lite = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(lite)
    fake = FakeBook(["Accounts"], platform="emscripten")
    _fill(fake, "Accounts", _accounts())
    lite.check_data(fake)
    assert fake.app.alerts[-1]["prompt"].startswith("No problems found in 20 accounts")
    assert fake.log.of("status_bar") == []
    assert isinstance(lite.LiteBook(fake), ExcelBook)


# --------------------------------------------------------------------------------------
# the ownership promises through ExcelBook (issue 13, item 1), on the fake
# --------------------------------------------------------------------------------------


@pytest.mark.parametrize("platform", ["win32", "darwin"])
def test_a_formula_typed_on_a_result_sheet_is_seen_on_each_platform(platform):
    from fake_xlwings import Formula

    fake = FakeBook(["Accounts"], platform=platform)
    _fill(fake, "Accounts", _accounts())
    book = ExcelBook(fake, platform=platform)
    assert ribbon.dispatch("Measure", book) is True
    assert book.has_formulas("Balance") is False
    fake.sheets["Balance"].cells[(2, 2)] = Formula("=1+1")
    assert book.has_formulas("Balance") is True
    assert ribbon.dispatch("Measure", book) is True
    assert "Balance (edited)" in book.sheet_names()
    assert "kept as 'Balance (edited)'" in fake.app.alerts[-1]["prompt"]


def test_rerunning_through_excel_updates_in_place_and_leaves_a_users_sheet_of_a_result_name_alone():
    fake = FakeBook(["Accounts", "moves"])
    _fill(fake, "Accounts", _accounts())
    _fill(fake, "moves", [["my notes"]])
    book = ExcelBook(fake)
    assert ribbon.dispatch("Rebalance", book) is True
    summary = fake.sheets["Territory summary"]
    assert ribbon.dispatch("Rebalance", book) is True
    assert fake.sheets["Territory summary"] is summary  # the same sheet object: updated in place
    assert _read(book, "moves") == [["my notes"]]
    assert "Moves (2)" in book.sheet_names()
    assert not any(entry[0] == "delete" for entry in fake.log)


def test_a_long_read_and_write_show_their_progress_in_the_status_bar():
    fake = FakeBook(["Accounts"])
    book = ExcelBook(fake, cells_per_chunk=50)
    book.write_sheet("Moves", _accounts(40))
    book.read_cells("Moves")
    shown = [entry[1] for entry in fake.app.log if entry[0] == "status_bar"]
    assert "Territory: writing the Moves sheet, row 1 of 41" in shown
    assert "Territory: writing the Moves sheet, row 41 of 41" in shown
    assert "Territory: reading the Moves sheet, row 11 of 41" in shown


# --------------------------------------------------------------------------------------
# result sheets formatted as the command line formats its workbooks (issue 14)
# --------------------------------------------------------------------------------------


def _measured(platform: str = "win32") -> tuple[FakeBook, ExcelBook]:
    fake = FakeBook(["Accounts"], platform=platform)
    _fill(fake, "Accounts", _accounts())
    book = ExcelBook(fake, platform=platform)
    assert ribbon.dispatch("Measure", book) is True, fake.app.alerts
    return fake, book


def test_a_result_sheet_gets_analyst_headers_formats_per_column_one_table_and_status_colours():
    fake, book = _measured()
    sheet = fake.sheets["Territory summary"]
    headers = [sheet.cells.get((1, c)) for c in range(1, 9)]
    assert headers == ["Alignment", "Territory", "Rep", "Accounts", "Potential", "Potential share of target",
                       "Deviation", "Status"]
    n = max(r for r, _ in sheet.cells)  # the header and one row per territory
    formats = [e for e in fake.log.of("number_format") if e[1] == "Territory summary"]
    assert all(e[2][0] == 2 and e[2][2] == n and e[2][1] == e[2][3] for e in formats)  # one whole column per call
    assert sheet.number_format_at(2, 5) == "#,##0" and sheet.number_format_at(n, 6) == "0.0%"
    assert sheet.number_format_at(n, 7) == "+0.0%;-0.0%;0.0%" and sheet.number_format_at(2, 2) == "General"
    tables = list(sheet.tables)
    width = max(c for _, c in sheet.cells)
    assert [(t.name, t.range.corners, t.table_style) for t in tables] == [
        ("Territory_summary", (1, 1, n, width), "TableStyleMedium2")]
    rules = sorted((r.corners, r.formula, r.fill_color) for r in sheet.rules)
    assert rules == sorted(((2, col, n, col), f'=$H2="{word}"', spec["bg_color"])
                           for col in (7, 8) for word, spec in STATUS_COLOURS.items() if word not in CAPACITY_WORDS)


def test_the_header_row_is_frozen_through_the_active_window_which_is_given_back():
    for platform in ("win32", "darwin"):
        fake, _ = _measured(platform)
        assert fake.sheets["Territory summary"].window == {"FreezePanes": True, "ScrollRow": 1, "ScrollColumn": 1,
                                                            "SplitColumn": 0, "SplitRow": 1}
        # Excel activates a sheet it adds; freezing a sheet's header gives back the sheet it found active
        assert [e[1] for e in fake.log.of("activate")] == ["Territory summary", "Territory summary", "Balance",
                                                             "Balance"]
        assert fake.sheets.active.name == "Balance"
    lite, _ = _measured("emscripten")
    assert ("freeze", "Territory summary", "1:1") in lite.log and lite.sheets["Territory summary"].window == {
        "frozen_at": "1:1"}


def test_a_rerun_resizes_the_table_and_replaces_only_the_add_ins_colour_rules():
    fake, book = _measured()
    sheet = fake.sheets["Territory summary"]
    table, rules = list(sheet.tables), len(sheet.rules)
    sheet.range((2, 2), (3, 2)).conditional_formats.add_custom('=$B2="T1"', fill_color="#FFFF00")  # the user's
    assert ribbon.dispatch("Measure", book) is True
    assert list(sheet.tables) == table and len(fake.log.of("add_table")) == 2  # the two sheets' tables, once each
    assert [e[2] for e in fake.log.of("resize_table")] == ["Territory_summary", "Balance"]
    assert len(sheet.rules) == rules + 1 and any(r.formula == '=$B2="T1"' for r in sheet.rules)
    assert "Territory summary (edited)" not in book.sheet_names()


def test_a_narrower_result_leaves_no_column_names_of_the_wider_table_behind():
    fake = FakeBook(["Accounts"])
    book = ExcelBook(fake)
    wider = pd.DataFrame({"account_id": ["A1", "A2"], "from": ["T1", "T2"], "to": ["T2", "T1"]})
    write_results(book, {"Moves": wider})
    write_results(book, {"Moves": pd.DataFrame({"account_id": ["A3"], "reason": ["closer"]})})
    sheet = fake.sheets["Moves"]
    assert _read(book, "Moves") == [["Account ID", "Reason"], ["A3", "closer"]]  # no "Column3" left in C1
    assert [t.range.corners for t in sheet.tables] == [(1, 1, 2, 2)]
    write_results(book, {"Moves": pd.DataFrame({"account_id": ["A4"]})})
    assert book.sheet_names() == ["Accounts", "Moves"]  # never taken for the user's edit


def test_a_full_height_result_is_formatted_one_call_per_column_never_per_cell():
    fake = FakeBook(["Accounts", "Proposed alignment"], store=False)
    rows = FULL_HEIGHT - 1
    layout = SheetLayout(tuple(f"h{c}" for c in range(10)), ("#,##0",) * 5 + (None,) * 4 + ("0.0%",),
                         (10.0,) * 10, rows)
    ExcelBook(fake).format_sheet("Proposed alignment", layout)
    formats = fake.log.of("number_format")
    assert len(formats) == 6 and all(e[2][0] == 2 and e[2][2] == FULL_HEIGHT for e in formats)
    assert [e[3] for e in fake.log.of("add_table")] == [(1, 1, FULL_HEIGHT, 10)]
    assert fake.log.of("autofit")[-1][2] == (1, 1, AUTOFIT_ROWS, 10)
