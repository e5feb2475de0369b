"""The add-in never loses a user's work (issue 13): through the ribbon's real actions on the
file stand-in for Excel (:class:`excel_addin.file_book.FileBook`), saved and read back.

The stand-in behaves as Excel does where these promises depend on it: names compared
ignoring case, error cells read as their text, a deleted sheet's references turned into
``#REF!``, a sheet's marks saved with the workbook.
"""

from __future__ import annotations

from pathlib import Path

import openpyxl
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from excel_addin import ribbon
from excel_addin.book import FileBook

from addin_books import accounts_book  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def small(tmp_path) -> Path:
    return accounts_book(tmp_path / "book.xlsx")


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


def _cache_formula_values(path: Path, sheet: str, values: dict[str, str], kind: str | None = None) -> None:
    """Give formula cells the computed values Excel would save with them (openpyxl saves none);
    ``kind="str"`` marks them as text results, as Excel does for a formula giving text."""
    import re
    import shutil
    import zipfile

    from territory_engine.io.xlsx_scan import sheet_members

    with zipfile.ZipFile(path) as archive:
        member = sheet_members(archive)[sheet]
        parts = {n: archive.read(n) for n in archive.namelist()}
    xml = parts[member].decode()
    for ref, value in values.items():
        kind_attr = f' t="{kind}"' if kind else ""
        # openpyxl writes an empty value as <v /> on its own, <v></v> through lxml, or none at all
        xml, n = re.subn(rf'<c r="{ref}"([^>]*)><f>(.*?)</f>(?:<v\s*/>|<v></v>)?</c>',
                         rf'<c r="{ref}"\1{kind_attr}><f>\2</f><v>{value}</v></c>', xml)
        assert n == 1, (ref, xml[:500])
    parts[member] = xml.encode()
    tmp = path.with_suffix(".tmp")
    with zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in parts.items():
            archive.writestr(name, data)
    shutil.move(tmp, path)


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


def test_stale_warnings_are_emptied_in_place_so_counting_formulas_read_zero_and_a_users_never(small):
    wb = openpyxl.load_workbook(small)
    wb["Accounts"].append(["A999", 20.0, -130.0, "T1", 80.0])  # far out in the Pacific: a warning
    wb.save(small)
    _press(small, "CheckData")
    assert len(_values(small, "Warnings")) == 2
    _add_user_sheet(small, "Dashboard", [["warnings"]], {"B1": "=COUNTA(Warnings!A:A)-1"})
    wb = openpyxl.load_workbook(small)
    wb["Accounts"].delete_rows(wb["Accounts"].max_row)
    wb.save(small)
    _press(small, "CheckData")
    assert len(_values(small, "Warnings")) == 1  # the header row only: no stale warning
    assert openpyxl.load_workbook(small)["Dashboard"]["B1"].value == "=COUNTA(Warnings!A:A)-1"
    path = accounts_book(small.parent / "other.xlsx")
    _add_user_sheet(path, "Warnings", [["mine"]])
    _press(path, "CheckData")
    assert _values(path, "Warnings") == [("mine",)]


def test_the_message_names_the_sheet_that_was_edited_and_where_it_is_kept(small):
    _press(small, "Measure")
    _add_user_sheet(small, "Balance (edited)", [["my own"]])
    wb = openpyxl.load_workbook(small)
    wb["Balance"]["A2"] = "changed"
    wb.save(small)
    book = _press(small, "Measure")
    assert "You had edited the sheet 'Balance': your version is kept as 'Balance (edited 2)'." in book.alerts[-1][1]
    assert _values(small, "Balance (edited)") == [("my own",)]
    assert _values(small, "Balance (edited 2)")[1][0] == "changed"


def test_formatting_and_comments_on_a_result_sheet_stay_and_a_typed_formula_is_an_edit(small):
    from openpyxl.comments import Comment
    from openpyxl.styles import PatternFill

    _press(small, "Measure")
    wb = openpyxl.load_workbook(small)
    ws = wb["Territory summary"]
    ws["A2"].fill = PatternFill("solid", fgColor="FFFF00")
    ws["B2"].comment = Comment("ask Bob about this", "me")
    wb.save(small)
    _press(small, "Measure")
    ws = openpyxl.load_workbook(small)["Territory summary"]
    assert ws["A2"].fill.fgColor.rgb.endswith("FFFF00") and ws["B2"].comment.text == "ask Bob about this"
    assert "Territory summary (edited)" not in openpyxl.load_workbook(small).sheetnames

    wb = openpyxl.load_workbook(small)
    ws = wb["Balance"]
    number = next(c for c in ws[2] if isinstance(c.value, (int, float)) and not isinstance(c.value, bool))
    number.value = f"={number.value}+0"  # the same value, now a formula of the user's
    wb.save(small)
    _cache_formula_values(small, "Balance", {number.coordinate: number.value[1:-2]})
    book = _press(small, "Measure")
    assert openpyxl.load_workbook(small)["Balance (edited)"][number.coordinate].value == f"={number.value[1:-2]}+0"
    assert "kept as 'Balance (edited)'" in book.alerts[-1][1]


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
    assert rows[0][:5] == ("Sheet", "Row", "Column", "Header", "Value")
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
    path = accounts_book(tmp_path / "book.xlsx", sheet="Customers")
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


MUTATING = ("write_sheet", "rename_sheet", "delete_sheet", "set_sheet_mark", "insert_picture")


def _failing_book(path: Path, fail_at: int, *, then: str = "recover", error: type = OSError) -> FileBook:
    """A FileBook whose ``fail_at``-th change raises ``error`` ("Excel stopped responding"); after
    it, changes succeed (``then="recover"``) or all fail too (``then="broken"``)."""
    calls = [0]

    class Failing(FileBook):
        pass

    def wrap(name):
        method = getattr(FileBook, name)

        def changed(self, *args, **kwargs):
            calls[0] += 1
            if calls[0] == fail_at or (then == "broken" and calls[0] > fail_at):
                raise error("Excel stopped responding")
            return method(self, *args, **kwargs)
        return changed

    for name in MUTATING:
        setattr(Failing, name, wrap(name))
    book = Failing(path)
    book.changes = calls
    return book


def _prepare_rerun(path: Path) -> dict:
    """A workbook with the add-in's results and an edited Moves sheet, then one more account:
    a re-run updates sheets in place, renames the edited one, adds and empties others."""
    _press(path, "Rebalance")
    wb = openpyxl.load_workbook(path)
    wb["Moves"]["A1"] = "my edit"
    wb["Accounts"].append(["A998", 31.5, -97.5, "T1", 70.0])
    wb.save(path)
    return {n: _values(path, n) for n in openpyxl.load_workbook(path).sheetnames}


def test_a_rerun_makes_changes_of_every_kind(small):
    _prepare_rerun(small)
    book = _failing_book(small, fail_at=10**6)
    assert ribbon.dispatch("Rebalance", book) is True
    kinds = {kind for kind, _ in book.calls}
    assert {"update", "add", "rename"} <= kinds, book.calls


@pytest.mark.parametrize("fail_at", range(1, 16))
def test_a_run_that_fails_at_any_step_leaves_the_workbook_as_it_was_and_says_so(small, fail_at):
    before = _prepare_rerun(small)
    book = _failing_book(small, fail_at)
    ok = ribbon.dispatch("Rebalance", book)
    book.save()
    after = {n: _values(small, n) for n in openpyxl.load_workbook(small).sheetnames}
    if book.changes[0] < fail_at:  # fewer changes than that: the run succeeded
        assert ok is True
        return
    assert ok is False and after == before
    title, message, critical = book.alerts[-1]
    assert critical and "could not write its results: Excel stopped responding" in message
    assert "Your workbook is as it was." in message


def test_a_failure_that_also_stops_the_undoing_names_the_sheets_not_put_back(small):
    _prepare_rerun(small)
    book = _failing_book(small, fail_at=4, then="broken")
    assert ribbon.dispatch("Rebalance", book) is False
    message = book.alerts[-1][1]
    assert "could not be put back as they were:" in message and "Excel stopped responding" in message


def test_an_interrupt_while_writing_undoes_the_changes_and_is_not_swallowed(small):
    before = _prepare_rerun(small)
    book = _failing_book(small, fail_at=5, error=KeyboardInterrupt)
    with pytest.raises(KeyboardInterrupt):
        ribbon.dispatch("Rebalance", book)
    book.save()
    assert {n: _values(small, n) for n in openpyxl.load_workbook(small).sheetnames} == before
    assert ribbon.dispatch("Measure", FileBook(small)) is True  # not left busy


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
    path = accounts_book(tmp_path_factory.mktemp("seq") / "book.xlsx", n=30)
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


# --------------------------------------------------------------------------------------
# more cases an adversary found
# --------------------------------------------------------------------------------------


def test_an_impossible_rebalance_empties_the_errors_of_an_earlier_check(small):
    wb = openpyxl.load_workbook(small)
    cell = wb["Accounts"]["E5"]
    cell.value, cell.data_type = "#DIV/0!", "e"
    wb.save(small)
    _press(small, "CheckData")
    assert len(_values(small, "Errors")) == 2
    wb = openpyxl.load_workbook(small)
    wb["Accounts"]["E5"] = 1e6  # fixed, but one account now outweighs any band
    wb.save(small)
    book = _press(small, "Rebalance")
    assert "impossible" in book.alerts[-1][1]
    assert len(_values(small, "Errors")) == 1  # header only: the fixed error is gone
    assert len(_values(small, "Balance problems")) >= 2


@pytest.mark.parametrize("text", ["#n/a", " #N/A ", "#div/0!"])
def test_text_that_only_looks_like_an_error_is_reported_as_the_text_it_is(small, text):
    wb = openpyxl.load_workbook(small)
    wb["Accounts"]["E5"] = text
    wb.save(small)
    book = _press(small, "CheckData")
    message = book.alerts[-1][1]
    assert "Excel error" not in message and "E5" in message or "row 5" in message
    assert _values(small, "Errors")[1][4] == text


def test_a_result_sheet_moved_to_the_front_is_never_read_as_the_accounts(small):
    _press(small, "Rebalance")
    wb = openpyxl.load_workbook(small)
    wb.move_sheet("Proposed alignment", offset=-wb.sheetnames.index("Proposed alignment"))
    wb["Accounts"].title = "Data"
    wb.save(small)
    book = _press(small, "Rebalance")
    message = book.alerts[-1][1]
    assert "Your own sheet" not in message
    assert "read from the sheet 'Data'" in message
    assert "Proposed alignment (2)" not in openpyxl.load_workbook(small).sheetnames


def test_a_chart_sheet_in_the_workbook_is_left_alone(small):
    from openpyxl.chart import BarChart, Reference

    wb = openpyxl.load_workbook(small)
    chart = BarChart()
    chart.add_data(Reference(wb["Accounts"], min_col=5, min_row=1, max_row=10), titles_from_data=True)
    wb.create_chartsheet("My chart").add_chart(chart)
    wb.save(small)
    _press(small, "Measure")
    _press(small, "Measure")
    names = openpyxl.load_workbook(small).sheetnames
    assert "My chart" in names and "Territory summary" in names


def test_a_formula_giving_empty_text_is_a_computed_value_on_the_command_line_and_in_the_add_in(small):
    import subprocess
    import sys

    wb = openpyxl.load_workbook(small)
    ws = wb["Accounts"]
    ws["F1"] = "Note"
    ws["F2"] = '=IF(E2>1000,"big","")'
    wb.save(small)
    _cache_formula_values(small, "Accounts", {"F2": ""}, kind="str")  # as Excel saves an empty text result
    territory = Path(sys.executable).with_name("territory")
    proc = subprocess.run([str(territory), "check", str(small)], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    book = _press(small, "CheckData")
    assert "No problems found in 60 accounts" in book.alerts[-1][1]


@settings(max_examples=40, deadline=None)
@given(st.lists(st.floats(min_value=-1e9, max_value=1e9, allow_nan=False), min_size=1, max_size=30))
@example([100.69701123403746, 102.38276985186047, 0.41198130798763855])
def test_a_result_sheet_read_back_from_the_saved_file_is_not_taken_for_an_edited_one(tmp_path_factory, values):
    """Numbers written by the add-in, saved and read back from the file (whose writer keeps 16
    digits), digest as they were written: a float whose 16-digit form rounds to 15 digits the
    other way (the example, from a sizing run) once made the add-in keep an unedited Balance sheet
    as 'Balance (edited)' and move the user's chart with it."""
    import base64

    import pandas as pd

    from excel_addin.results import cells_digest, write_results

    path = tmp_path_factory.mktemp("digest") / "book.xlsx"
    openpyxl.Workbook().save(path)
    book = FileBook(path)
    write_results(book, {"Balance": pd.DataFrame({"value": values})})
    book.save()
    again = FileBook(path)
    mark = again.sheet_mark("Balance")
    assert mark is not None
    assert cells_digest(again.read_cells("Balance")) in base64.b64decode(mark).decode()
