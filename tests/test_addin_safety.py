"""The add-in never loses a user's work (issue 13): through the ribbon's real actions on the
file stand-in for Excel (:class:`excel_addin.file_book.FileBook`), saved and read back.

The stand-in behaves as Excel does where these promises depend on it: names compared
ignoring case, error cells read as their text, a deleted sheet's references turned into
``#REF!``, a sheet's marks saved with the workbook.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import openpyxl
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from excel_addin import ribbon
from excel_addin.book import FileBook

ROOT = Path(__file__).resolve().parents[1]


def _accounts_book(path: Path, n: int = 60, seed: int = 0, sheet: str = "Accounts") -> Path:
    rng = np.random.default_rng(seed)
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = sheet
    ws.append(["Account ID", "Latitude", "Longitude", "Territory", "Potential"])
    for i in range(n):
        lat, lon = 30 + rng.random() * 6, -100 + rng.random() * 8
        ws.append([f"A{i:03d}", round(lat, 4), round(lon, 4), f"T{1 + int(lon > -96) + 2 * int(lat > 33)}",
                   float(rng.integers(50, 150))])
    wb.save(path)
    return path


@pytest.fixture
def small(tmp_path) -> Path:
    return _accounts_book(tmp_path / "book.xlsx")


def _press(path: Path, button: str) -> FileBook:
    book = FileBook(path)
    ribbon.dispatch(button, book)
    book.save()
    return book


def _values(path: Path, sheet: str) -> list[tuple]:
    wb = openpyxl.load_workbook(path)
    return [tuple(r) for r in wb[sheet].iter_rows(values_only=True)]


def _add_user_sheet(path: Path, name: str, rows: list[list], formulas: dict[str, str] | None = None,
                    tab: str | None = None) -> None:
    wb = openpyxl.load_workbook(path)
    ws = wb.create_sheet(name)
    for row in rows:
        ws.append(row)
    for ref, formula in (formulas or {}).items():
        ws[ref] = formula
    if tab:
        ws.sheet_properties.tabColor = tab
    wb.save(path)


# --------------------------------------------------------------------------------------
# the user's sheets are never touched
# --------------------------------------------------------------------------------------


def test_check_data_never_deletes_a_users_own_errors_sheet(small):
    _add_user_sheet(small, "Errors", [["my list of errors"], ["call the client back"]])
    book = _press(small, "CheckData")
    assert _values(small, "Errors") == [("my list of errors",), ("call the client back",)]
    assert "No problems found" in book.alerts[-1][1]


@pytest.mark.parametrize("name", ["Moves", "moves", "MOVES"])
def test_a_users_sheet_with_a_result_name_in_any_case_is_left_alone(small, name):
    _add_user_sheet(small, name, [["mine"], [42]])
    book = _press(small, "Rebalance")
    names = openpyxl.load_workbook(small).sheetnames
    assert _values(small, name) == [("mine",), (42,)]
    assert "Moves (2)" in names and sum(n.casefold() == "moves" for n in names) == 1
    assert _values(small, "Moves (2)")[0][0] is not None
    message = book.alerts[-1][1]
    assert f"Your own sheet '{name}' is left alone" in message and "'Moves (2)'" in message


def test_an_edited_result_sheet_is_kept_renamed_after_save_and_reopen(small):
    _press(small, "Measure")
    wb = openpyxl.load_workbook(small)  # the user edits the summary in Excel and saves
    wb["Territory summary"]["B2"] = "my note"
    wb.save(small)
    book = _press(small, "Measure")
    names = openpyxl.load_workbook(small).sheetnames
    assert "Territory summary (edited)" in names
    assert _values(small, "Territory summary (edited)")[1][1] == "my note"
    assert _values(small, "Territory summary")[1][1] != "my note"
    assert "your version is kept as 'Territory summary (edited)'" in book.alerts[-1][1]
    _press(small, "Measure")  # the kept sheet is the user's now: a third run leaves it alone
    assert _values(small, "Territory summary (edited)")[1][1] == "my note"
    assert sum(n.startswith("Territory summary") for n in openpyxl.load_workbook(small).sheetnames) == 2


def test_rerun_updates_result_sheets_in_place_so_formulas_and_tab_colours_survive(small):
    _press(small, "Measure")
    wb = openpyxl.load_workbook(small)
    wb["Balance"].sheet_properties.tabColor = "FF0000"
    order = wb.sheetnames
    wb.save(small)
    _add_user_sheet(small, "Notes", [["see"]], {"B1": "='Territory summary'!A2", "B2": "=Balance!A1"})
    _press(small, "Measure")
    wb = openpyxl.load_workbook(small)
    assert wb["Notes"]["B1"].value == "='Territory summary'!A2"
    assert wb["Notes"]["B2"].value == "=Balance!A1"
    assert wb["Balance"].sheet_properties.tabColor.rgb.endswith("FF0000")
    assert wb.sheetnames == [*order, "Notes"]


def test_stale_warnings_of_an_earlier_run_are_removed_but_a_users_never(small, tmp_path):
    wb = openpyxl.load_workbook(small)
    wb["Accounts"].append(["A999", 20.0, -130.0, "T1", 80.0])  # far out in the Pacific: a warning
    wb.save(small)
    _press(small, "CheckData")
    assert "Warnings" in openpyxl.load_workbook(small).sheetnames
    wb = openpyxl.load_workbook(small)
    wb["Accounts"].delete_rows(wb["Accounts"].max_row)
    wb.save(small)
    _press(small, "CheckData")
    assert "Warnings" not in openpyxl.load_workbook(small).sheetnames
    _add_user_sheet(small, "Warnings", [["mine"]])
    _press(small, "CheckData")
    assert _values(small, "Warnings") == [("mine",)]


def test_map_snapshot_twice_replaces_its_picture_on_the_same_sheet(small):
    _press(small, "MapSnapshot")
    _press(small, "MapSnapshot")
    wb = openpyxl.load_workbook(small)
    assert [n for n in wb.sheetnames if n.startswith("Map")] == ["Map"]
    assert len(wb["Map"]._images) == 1


# --------------------------------------------------------------------------------------
# bad cells, missing sheets, busy, failure part-way
# --------------------------------------------------------------------------------------


@pytest.mark.parametrize("error", ["#N/A", "#DIV/0!", "#VALUE!"])
def test_an_error_cell_is_a_located_problem_not_a_blank(small, error):
    wb = openpyxl.load_workbook(small)
    cell = wb["Accounts"]["E7"]
    cell.value, cell.data_type = error, "e"
    wb.save(small)
    book = _press(small, "CheckData")
    title, message, critical = book.alerts[-1]
    assert critical and "No problems" not in message
    assert f"the Excel error {error}" in message
    rows = _values(small, "Errors")
    assert rows[0][:5] == ("sheet", "row", "column", "header", "value")
    assert rows[1][:5] == ("Accounts", 7, "E", "Potential", error)


def test_without_an_accounts_sheet_the_message_names_the_sheet_it_read(tmp_path):
    path = tmp_path / "book.xlsx"
    wb = openpyxl.Workbook()
    wb.active.title = "Budget 2027"
    wb.active.append(["Quarter", "Amount"])
    wb.active.append(["Q1", 100])
    wb.save(path)
    book = _press(path, "Rebalance")
    message = book.alerts[-1][1]
    assert "no sheet named Accounts" in message and "'Budget 2027'" in message
    assert _values(path, "Budget 2027") == [("Quarter", "Amount"), ("Q1", 100)]


def test_accounts_on_another_sheet_still_work_and_the_message_says_where_from(tmp_path):
    path = _accounts_book(tmp_path / "book.xlsx", sheet="Customers")
    book = _press(path, "CheckData")
    message = book.alerts[-1][1]
    assert "No problems found in 60 accounts" in message
    assert "read from the sheet 'Customers'" in message


def test_a_second_click_while_a_run_is_going_is_refused_politely(small):
    class Clicky(FileBook):
        second = None

        def status(self, text):
            super().status(text)
            if self.second is None:
                self.second = "pending"  # one second click only
                self.second = ribbon.dispatch("Measure", self)

    book = Clicky(small)
    assert ribbon.dispatch("CheckData", book) is True
    assert book.second is False
    refusal = [a for a in book.alerts if a[0] == "Territory is busy"]
    assert len(refusal) == 1 and "still working on 'Check data'" in refusal[0][1]
    assert ribbon.dispatch("Measure", book) is True  # the guard is released after the run


def test_a_run_that_fails_part_way_leaves_the_workbook_as_it_was(small):
    _press(small, "Rebalance")
    before = {n: _values(small, n) for n in openpyxl.load_workbook(small).sheetnames}

    class Failing(FileBook):
        writes = 0

        def write_sheet(self, sheet, cells):
            self.writes += 1
            if self.writes == 3:
                raise OSError("Excel stopped responding")
            super().write_sheet(sheet, cells)

    wb = openpyxl.load_workbook(small)  # something to change: one more account
    wb["Accounts"].append(["A998", 31.5, -97.5, "T1", 70.0])
    wb.save(small)
    before["Accounts"] = _values(small, "Accounts")
    book = Failing(small)
    with pytest.raises(OSError):
        ribbon.dispatch("Rebalance", book)
    book.save()
    after = {n: _values(small, n) for n in openpyxl.load_workbook(small).sheetnames}
    assert after == before


# --------------------------------------------------------------------------------------
# an invariant over sequences of runs, user sheets and edits
# --------------------------------------------------------------------------------------

RESULTS = ["Check", "Territory summary", "Balance", "Errors", "Warnings", "Scored accounts"]
STEP = st.one_of(
    st.tuples(st.just("press"), st.sampled_from(["CheckData", "Measure", "ScoreAccounts"])),
    st.tuples(st.just("user sheet"), st.sampled_from(RESULTS), st.sampled_from([str.lower, str.upper, str])),
    st.tuples(st.just("edit"), st.sampled_from(RESULTS)),
    st.tuples(st.just("break input"), st.booleans()),
)


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(steps=st.lists(STEP, min_size=2, max_size=6))
@example(steps=[("user sheet", "Check", str), ("press", "CheckData")])
@example(steps=[("user sheet", "Check", str.lower), ("press", "CheckData")])
@example(steps=[("press", "Measure"), ("edit", "Balance"), ("press", "Measure"), ("press", "Measure")])
@example(steps=[("break input", True), ("press", "CheckData"), ("edit", "Errors"), ("break input", False),
                ("press", "CheckData")])
def test_no_sequence_of_runs_and_edits_ever_changes_a_users_sheet(tmp_path_factory, steps):
    path = _accounts_book(tmp_path_factory.mktemp("seq") / "book.xlsx", n=30)
    mine: dict[str, list[tuple]] = {}
    edits: list[str] = []
    for i, step in enumerate(steps):
        if step[0] == "press":
            _press(path, step[1])
        elif step[0] == "user sheet":
            name = step[2](step[1])
            if any(n.casefold() == name.casefold() for n in openpyxl.load_workbook(path).sheetnames):
                continue
            _add_user_sheet(path, name, [[f"user {i}"], [i]])
            mine[name] = _values(path, name)
        elif step[0] == "edit":
            wb = openpyxl.load_workbook(path)
            if step[1] in wb.sheetnames and step[1] not in mine:
                wb[step[1]]["A1"] = f"edited {i}"
                wb.save(path)
                edits.append(f"edited {i}")
        else:
            wb = openpyxl.load_workbook(path)
            wb["Accounts"]["E3"] = "lots" if step[1] else 70.0
            wb.save(path)
        names = openpyxl.load_workbook(path).sheetnames
        for name, rows in mine.items():
            if rows is not None:
                assert name in names and _values(path, name) == rows, (name, steps)
        corners = {_values(path, n)[0][0] for n in names if _values(path, n)}
        assert set(edits) <= corners, ("an edit was lost", steps)  # kept where it was, or renamed
        assert names[0] == "Accounts" and _values(path, "Accounts")[0][0] == "Account ID"
        assert len({n.casefold() for n in names}) == len(names)
