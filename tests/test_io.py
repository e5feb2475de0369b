"""Reading and writing files: what the user typed comes back, inputs are never touched,
and a failed write leaves nothing behind."""

from __future__ import annotations

import csv
import datetime as dt
import io
import os
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from openpyxl import Workbook, load_workbook

from territory_engine.errors import InputError
from territory_engine.io import RawTable, check_output_path, excel_sheet_name, read_table, read_tables, write_tables

REPO = Path(__file__).resolve().parent.parent
DEMO = REPO / "workbooks" / "territory_demo.xlsx"


def _workbook(path: Path, sheets: dict[str, list[list]]) -> Path:
    book = Workbook()
    book.remove(book.active)
    for title, rows in sheets.items():
        sheet = book.create_sheet(title)
        for row in rows:
            sheet.append(row)
    book.save(path)
    return path


def _leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if ".tmp" in p.name)


def _message(call, *args) -> str:
    with pytest.raises(InputError) as caught:
        call(*args)
    return str(caught.value)


# --------------------------------------------------------------------------------------
# CSV
# --------------------------------------------------------------------------------------


def test_csv_numbers_are_numbers_and_codes_keep_their_leading_zeros(tmp_path):
    path = tmp_path / "accounts.csv"
    path.write_text("Account ID,ZIP,Potential,Notes,Branch,Visits,Territory\n"
                    "0001,04575,12.50,,007,3,12\n"
                    "0002,00501,,=1+1,010,,7\n", encoding="utf-8")
    table = read_tables(path)["accounts"]
    assert isinstance(table, RawTable) and table.name == "accounts.csv" and not table.is_sheet
    assert table.path == str(path)
    frame = table.frame
    # Codes and labels stay text, by their header or by a leading zero.
    assert frame["Account ID"].tolist() == ["0001", "0002"]
    assert frame["ZIP"].tolist() == ["04575", "00501"]
    assert frame["Territory"].tolist() == ["12", "7"]
    assert frame["Branch"].tolist() == ["007", "010"]
    assert frame["Notes"].tolist() == [None, "=1+1"]
    # Number columns are numbers; an empty cell is NaN.
    assert frame["Potential"].dtype == np.float64 and frame["Potential"].tolist()[0] == 12.5
    assert np.isnan(frame["Potential"].tolist()[1])
    assert frame["Visits"].dtype == np.float64 and frame["Visits"].tolist()[0] == 3.0


def test_a_csv_column_mixing_numbers_and_text_is_kept_for_validation_to_report(tmp_path):
    path = tmp_path / "accounts.csv"
    rows = "".join(f"A{i},04575,{i}.5\n" for i in range(5)) + "A9,04575,n/a\n"
    path.write_text("Account ID,ZIP,Potential\n" + rows, encoding="utf-8")
    assert read_tables(path)["accounts"].frame["Potential"].tolist()[-1] == "n/a"


def test_the_csv_source_gives_one_line_per_row_unless_a_field_spans_lines(tmp_path):
    path = tmp_path / "accounts.csv"
    path.write_text('Account ID,Name\r\nA1,"Acme, Inc."\r\nA2,Beta\r\n,\r\n', encoding="utf-8")
    table = read_tables(path)["accounts"]
    assert table.csv.lines() == ["Account ID,Name", 'A1,"Acme, Inc."', "A2,Beta"]
    path.write_text('Account ID,Name\nA1,"two\nlines"\nA2,Beta\n', encoding="utf-8")
    table = read_tables(path)["accounts"]
    assert table.frame["Name"].tolist() == ["two\nlines", "Beta"]
    assert table.csv.lines() is None


def test_csv_with_a_byte_order_mark_keeps_the_first_header(tmp_path):
    path = tmp_path / "accounts.csv"
    path.write_bytes("Account ID,ZIP\nA1,04575\n".encode("utf-8-sig"))
    assert list(read_tables(path)["accounts"].frame.columns) == ["Account ID", "ZIP"]


def test_csv_from_excel_on_windows_with_semicolons_and_accents(tmp_path):
    path = tmp_path / "accounts.csv"
    path.write_bytes("Account ID;Name;ZIP\nA1;Café Zoë;04575\n".encode("cp1252"))
    frame = read_tables(path)["accounts"].frame
    assert frame["Name"].tolist() == ["Café Zoë"] and frame["ZIP"].tolist() == ["04575"]


def test_repeated_and_blank_headers_are_made_unique(tmp_path):
    path = tmp_path / "accounts.csv"
    path.write_text("Account ID,Potential,,Potential\nA1,1,2,3\n", encoding="utf-8")
    frame = read_tables(path)["accounts"].frame
    assert list(frame.columns) == ["Account ID", "Potential", "Column C", "Potential (2)"]


def test_frame_rows_match_user_rows_and_trailing_blank_rows_are_dropped(tmp_path):
    path = tmp_path / "accounts.csv"
    path.write_text("Account ID,ZIP\nA1,04575\n,\nA3,02108\n,\n\n,\n", encoding="utf-8")
    frame = read_tables(path)["accounts"].frame
    # row i of the frame is user row i + 2: the blank line 3 stays, trailing blanks go
    assert frame["Account ID"].tolist() == ["A1", None, "A3"]


def test_a_csv_line_with_too_many_fields_is_a_clear_error(tmp_path):
    path = tmp_path / "accounts.csv"
    path.write_text("Account ID,ZIP\nA1,04575\nA2,02108,extra\n", encoding="utf-8")
    text = _message(read_tables, path)
    assert "accounts.csv" in text and "line 3" in text


# --------------------------------------------------------------------------------------
# workbooks
# --------------------------------------------------------------------------------------


def test_workbook_sheets_are_found_by_name_in_any_case(tmp_path):
    path = _workbook(tmp_path / "book.xlsx", {
        "Read me": [["hello"]],
        "ACCOUNTS": [["Account ID", "ZIP", "Potential"], ["A1", 4575, 10.0], ["A2", "02108", 2.5]],
        "reps": [["Territory", "Rep"], ["T1", "Ann"]],
        "Settings": [["Key", "Value"], ["territories", 2]],
    })
    tables = read_tables(path)
    assert set(tables) == {"accounts", "reps", "settings"}
    accounts = tables["accounts"]
    assert accounts.name == "ACCOUNTS" and accounts.is_sheet
    values = accounts.frame["ZIP"].tolist() + accounts.frame["Potential"].tolist()
    assert values == [4575, "02108", 10, 2.5]
    assert type(values[0]) is int and type(values[2]) is int and type(values[3]) is float
    assert tables["settings"].frame.iloc[0].tolist() == ["territories", 2]


def test_the_first_sheet_is_the_accounts_when_none_is_named_so(tmp_path):
    path = _workbook(tmp_path / "book.xlsx", {"Customers": [["ID", "ZIP"], ["C1", "04575"]],
                                             "Other": [["x"], [1]]})
    tables = read_tables(path)
    assert set(tables) == {"accounts"} and tables["accounts"].name == "Customers"


def test_empty_reps_or_settings_sheets_count_as_absent(tmp_path):
    path = _workbook(tmp_path / "book.xlsx", {"Accounts": [["ID", "ZIP"], ["C1", "04575"]],
                                             "Reps": [["Territory", "Rep"]], "Settings": []})
    assert set(read_tables(path)) == {"accounts"}


def test_workbook_cell_types_come_back_as_python_values(tmp_path):
    when = dt.datetime(2024, 5, 17, 9, 30)
    path = _workbook(tmp_path / "book.xlsx", {"Accounts": [
        ["ID", "Flag", "When", "Blank", "Text"],
        ["A1", True, when, None, "  padded "],
        ["A2", False, None, None, None],
    ]})
    frame = read_tables(path)["accounts"].frame
    assert frame.iloc[0].tolist() == ["A1", True, when, None, "  padded "]
    assert frame.iloc[1].tolist() == ["A2", False, None, None, None]


def test_a_text_file_renamed_xlsx_is_a_clear_error(tmp_path):
    path = tmp_path / "accounts.xlsx"
    path.write_text("Account ID,ZIP\nA1,04575\n", encoding="utf-8")
    text = _message(read_tables, path)
    assert "accounts.xlsx is not an Excel workbook (.xlsx); save it as .xlsx or .csv" in text


def test_an_empty_xlsx_file_is_a_clear_error(tmp_path):
    path = tmp_path / "accounts.xlsx"
    path.write_bytes(b"")
    assert "not an Excel workbook" in _message(read_tables, path)


def test_a_zip_that_is_not_a_workbook_is_a_clear_error(tmp_path):
    path = tmp_path / "accounts.xlsx"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("hello.txt", "not a workbook")
    assert "accounts.xlsx" in _message(read_tables, path)


@pytest.mark.parametrize(
    ("name", "content", "words"),
    [
        ("missing.xlsx", None, "does not exist"),
        ("accounts.txt", "x", "cannot read '.txt' files"),
        ("empty.csv", "", "empty.csv is empty"),
        ("header.csv", "Account ID,ZIP\n", "header.csv has no account rows"),
    ],
)
def test_user_mistakes_with_files_are_input_errors_naming_the_file(tmp_path, name, content, words):
    path = tmp_path / name
    if content is not None:
        path.write_text(content, encoding="utf-8")
    text = _message(read_tables, path)
    assert words in text and name in text


def test_a_sheet_with_only_a_header_has_no_account_rows(tmp_path):
    path = _workbook(tmp_path / "book.xlsx", {"Accounts": [["Account ID", "ZIP"]]})
    assert "Accounts has no account rows" in _message(read_tables, path)
    path = _workbook(tmp_path / "blank.xlsx", {"Accounts": []})
    assert "Accounts is empty" in _message(read_tables, path)


def test_read_table_reads_one_csv_or_one_named_sheet(tmp_path):
    csv_path = tmp_path / "bases.csv"
    csv_path.write_text("Territory,Home ZIP\nT1,04101\n", encoding="utf-8")
    assert read_table(csv_path).frame["Home ZIP"].tolist() == ["04101"]
    book = _workbook(tmp_path / "book.xlsx", {"Accounts": [["ID"], ["A1"]], "Reps": [["Territory"], ["T1"]]})
    assert read_table(book).name == "Accounts"
    assert read_table(book, sheet="reps").frame["Territory"].tolist() == ["T1"]
    assert "no sheet named 'Bases'" in _message(lambda: read_table(book, sheet="Bases"))


def test_reading_never_modifies_the_input(tmp_path):
    csv_path = tmp_path / "accounts.csv"
    csv_path.write_text("Account ID,ZIP\nA1,04575\n", encoding="utf-8")
    book = tmp_path / "demo.xlsx"
    book.write_bytes(DEMO.read_bytes())
    before = {p: (p.read_bytes(), p.stat().st_mtime_ns) for p in (csv_path, book)}
    read_tables(csv_path)
    read_tables(book)
    read_table(book, sheet="Reps")
    assert {p: (p.read_bytes(), p.stat().st_mtime_ns) for p in (csv_path, book)} == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["accounts.csv", "demo.xlsx"]


def test_the_demo_workbook_reads_with_all_three_tables():
    tables = read_tables(DEMO)
    assert set(tables) == {"accounts", "reps", "settings"}
    assert len(tables["accounts"].frame) == 4000
    assert tables["accounts"].frame["ZIP"].map(type).eq(str).all()  # stored as text, zeros kept


# --------------------------------------------------------------------------------------
# writing
# --------------------------------------------------------------------------------------


def _table() -> pd.DataFrame:
    return pd.DataFrame({
        "Account ID": ["A1", "A2", "=1+1"],
        "ZIP": ["04575", None, "<img src=x onerror=alert(1)>"],
        "Potential": [1.5, np.nan, 3.0],
        "Count": [1, 2, 3],
        "Moved": [True, False, True],
        "Maybe": pd.array([1, None, 3], dtype="Int64"),
        "When": [dt.datetime(2024, 1, 2, 3, 4), None, None],
        "Link": ["http://example.com", "1e5", "0042"],
    })


def test_xlsx_round_trip_keeps_values_types_and_order(tmp_path):
    data = _table()
    out = write_tables(tmp_path / "out.xlsx", {"Accounts": data, "Summary": data.head(1)})
    assert out == tmp_path / "out.xlsx"
    tables = read_tables(out)
    frame = tables["accounts"].frame
    assert list(frame.columns) == list(data.columns)
    assert frame["Account ID"].tolist() == ["A1", "A2", "=1+1"]
    assert frame["ZIP"].tolist() == ["04575", None, "<img src=x onerror=alert(1)>"]
    assert frame["Potential"].tolist() == [1.5, None, 3]
    assert frame["Moved"].tolist() == [True, False, True]
    assert frame["Maybe"].tolist() == [1, None, 3]
    assert frame["When"].tolist() == [dt.datetime(2024, 1, 2, 3, 4), None, None]
    assert frame["Link"].tolist() == ["http://example.com", "1e5", "0042"]
    assert [s.title for s in load_workbook(out).worksheets] == ["Accounts", "Summary"]


def test_text_that_looks_like_a_formula_is_written_as_text(tmp_path):
    out = write_tables(tmp_path / "out.xlsx", {"Accounts": _table()})
    sheet = load_workbook(out)["Accounts"]
    assert sheet["A4"].value == "=1+1" and sheet["A4"].data_type == "s"
    assert sheet["H2"].data_type == "s" and sheet["H2"].hyperlink is None
    assert sheet["H3"].value == "1e5" and sheet["H3"].data_type == "s"
    assert sheet["E2"].value is True and sheet["E2"].data_type == "b"
    assert sheet["C3"].value is None


def test_the_header_is_bold_and_frozen_and_columns_are_sized(tmp_path):
    out = write_tables(tmp_path / "out.xlsx", {"Accounts": _table()})
    sheet = load_workbook(out)["Accounts"]
    assert sheet["A1"].font.b and sheet.freeze_panes == "A2"
    assert sheet.column_dimensions["B"].width > sheet.column_dimensions["D"].width


def test_sheet_names_are_made_valid_for_excel(tmp_path):
    data = pd.DataFrame({"a": [1]})
    out = write_tables(tmp_path / "out.xlsx", {"Moves [before/after]: *draft?": data,
                                               "A" * 40: data, "a" * 40: data})
    names = [s.title for s in load_workbook(out).worksheets]
    assert names[0] == "Moves _before_after__ _draft_"
    assert all(len(n) <= 31 for n in names) and len({n.lower() for n in names}) == 3
    assert excel_sheet_name("History") != "History"


def test_csv_output_writes_the_first_table(tmp_path):
    out = write_tables(tmp_path / "out.csv", {"Accounts": _table(), "Summary": pd.DataFrame({"x": [1]})})
    back = read_tables(out)["accounts"].frame
    assert list(back.columns) == list(_table().columns)
    assert back["ZIP"].tolist() == ["04575", None, "<img src=x onerror=alert(1)>"]


def _csv_input(tmp_path, text: str):
    path = tmp_path / "accounts.csv"
    path.write_bytes(text.encode("utf-8"))
    return read_tables(path)["accounts"]


def _with_results(frame: pd.DataFrame) -> pd.DataFrame:
    out = frame.copy()
    out["proposed_territory"] = ["North, East", 'The "West"', None]
    out["moved"] = [True, False, True]
    out["score"] = [0.25, np.nan, 1e-7]
    out["rank"] = [3, 1, 2]
    return out


@pytest.mark.parametrize("line_end", ["\r\n", "\n"])
def test_csv_output_repeats_the_input_lines_exactly_and_adds_the_new_cells(tmp_path, line_end):
    lines = ["Account ID,Name,Potential,Notes", 'A1,"Acme, Inc.",12.50,1e3', "A2,Beta,7,", 'A3,"Say ""hi""",0.10,x']
    source = _csv_input(tmp_path, line_end.join(lines) + line_end)
    frame = _with_results(source.frame)
    fast = write_tables(tmp_path / "fast.csv", {"Proposed": frame}, source=source)
    assert fast.read_bytes().decode("utf-8-sig").split("\r\n") == [
        lines[0] + ",proposed_territory,moved,score,rank",
        lines[1] + ',"North, East",True,0.25,3',
        lines[2] + ',"The ""West""",False,,1',
        lines[3] + ",,True,1e-07,2",
        "",
    ]
    # The same table as pandas writes it, cell by cell (numbers as parsed: 12.5, 1000.0).
    plain = write_tables(tmp_path / "plain.csv", {"Proposed": frame})
    assert pd.read_csv(fast, dtype=str).iloc[:, 4:].equals(pd.read_csv(plain, dtype=str).iloc[:, 4:])
    assert pd.read_csv(fast).iloc[:, :4].equals(pd.read_csv(plain).iloc[:, :4])


def test_csv_output_writes_every_cell_when_input_lines_cannot_be_repeated(tmp_path):
    # A name spanning two lines, and a frame that no longer starts with the input's columns.
    spanning = _csv_input(tmp_path, 'Account ID,Name\nA1,"two\nlines"\nA2,B\nA3,C\n')
    semicolons = _csv_input(tmp_path, "Account ID;Name\nA1;x\nA2;y\nA3;z\n")
    for source, frame in ((spanning, _with_results(spanning.frame)),
                          (semicolons, _with_results(semicolons.frame).drop(columns="Name"))):
        out = write_tables(tmp_path / "out.csv", {"Proposed": frame}, source=source)
        back = pd.read_csv(out, dtype=str, keep_default_na=False, sep=source.csv.delimiter)
        assert list(back.columns) == list(frame.columns)
        assert back["proposed_territory"].tolist() == ["North, East", 'The "West"', ""]
    assert back["Account ID"].tolist() == ["A1", "A2", "A3"]


class _Exploding:
    def __str__(self):
        raise RuntimeError("cannot be written")


def test_a_failed_write_leaves_no_file_and_no_temporary_file(tmp_path):
    data = pd.DataFrame({"x": [1, _Exploding()]})
    with pytest.raises(RuntimeError):
        write_tables(tmp_path / "out.xlsx", {"Accounts": data})
    assert list(tmp_path.iterdir()) == []


def test_a_failed_write_keeps_the_previous_output_intact(tmp_path):
    out = write_tables(tmp_path / "out.xlsx", {"Accounts": pd.DataFrame({"x": [1]})})
    before = out.read_bytes()
    with pytest.raises(RuntimeError):
        write_tables(out, {"Accounts": pd.DataFrame({"x": [_Exploding()]})})
    assert out.read_bytes() == before and _leftovers(tmp_path) == []


def test_writing_into_a_missing_folder_is_an_input_error(tmp_path):
    text = _message(write_tables, tmp_path / "nowhere" / "out.xlsx", {"A": pd.DataFrame({"x": [1]})})
    assert "does not exist" in text
    assert list(tmp_path.iterdir()) == []


def test_no_temporary_file_is_left_after_a_good_write(tmp_path):
    write_tables(tmp_path / "out.xlsx", {"A": pd.DataFrame({"x": [1]})})
    write_tables(tmp_path / "out.csv", {"A": pd.DataFrame({"x": [1]})})
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.csv", "out.xlsx"]


# --------------------------------------------------------------------------------------
# output paths
# --------------------------------------------------------------------------------------


def test_check_output_path_refuses_to_overwrite_an_input(tmp_path):
    source = tmp_path / "accounts.xlsx"
    source.write_bytes(DEMO.read_bytes())
    assert "would overwrite the input" in _message(check_output_path, source, source)
    other_spelling = tmp_path / "sub" / ".." / "accounts.xlsx"
    (tmp_path / "sub").mkdir()
    assert "choose another output name" in _message(check_output_path, other_spelling, source)
    check_output_path(tmp_path / "result.xlsx", source, None)  # a new name is fine


def test_check_output_path_refuses_bad_extensions_and_missing_folders(tmp_path):
    assert "cannot write '.txt' files" in _message(check_output_path, tmp_path / "out.txt")
    assert "does not exist" in _message(check_output_path, tmp_path / "no" / "out.xlsx")
    os.mkdir(tmp_path / "dir.xlsx")
    assert "is a folder" in _message(check_output_path, tmp_path / "dir.xlsx")


from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(texts=st.lists(st.text(min_size=1, max_size=30), min_size=1, max_size=20))
def test_any_text_comes_back_from_xlsx_exactly_as_written(tmp_path, texts):
    out = write_tables(tmp_path / "texts.xlsx", {"Accounts": pd.DataFrame({"Text": texts})})
    assert read_tables(out)["accounts"].frame["Text"].tolist() == texts


def test_whitespace_is_text_not_an_empty_row(tmp_path):
    out = write_tables(tmp_path / "spaces.xlsx", {"Accounts": pd.DataFrame({"Text": ["a", " "]})})
    assert read_tables(out)["accounts"].frame["Text"].tolist() == ["a", " "]


def test_a_windows_csv_is_repeated_as_utf8_text(tmp_path):
    path = tmp_path / "accounts.csv"
    path.write_bytes("Account ID;Name;Potential\r\nA1;Café Zoë;12,5\r\nA2;Über;3\r\n".encode("cp1252"))
    source = read_tables(path)["accounts"]
    frame = source.frame.assign(moved=[True, False])
    out = write_tables(tmp_path / "out.csv", {"Proposed": frame}, source=source)
    assert out.read_bytes().decode("utf-8-sig") == (
        "Account ID;Name;Potential;moved\r\nA1;Café Zoë;12,5;True\r\nA2;Über;3;False\r\n")


def test_csv_lines_with_a_line_break_inside_quotes_of_a_windows_file_are_repeated(tmp_path):
    text = 'Account ID,Note\r\nA1,"two\nlines"\r\nA2,plain\r\n'
    source = _csv_input(tmp_path, text)
    assert source.csv.lines() == ["Account ID,Note", 'A1,"two\nlines"', "A2,plain"]
    out = write_tables(tmp_path / "out.csv", {"P": source.frame.assign(moved=[True, False])}, source=source)
    assert out.read_bytes().decode("utf-8-sig") == 'Account ID,Note,moved\r\nA1,"two\nlines",True\r\nA2,plain,False\r\n'


@pytest.mark.parametrize("text", [
    'Account ID,Note\nA1,"x\r\ny"\nA2,"p\r\nq"\n',  # LF lines, CRLF in quotes: the counts match
    'Account ID,Note\r\nA1,"x\r\ny"\nA2,b\r\n',  # mixed line ends: the counts match too
])
def test_a_csv_whose_quoted_line_breaks_match_the_line_count_is_not_split_inside_quotes(tmp_path, text):
    source = _csv_input(tmp_path, text)
    assert source.csv.lines() is None
    out = write_tables(tmp_path / "out.csv", {"P": source.frame.assign(moved=[True, False])}, source=source)
    records = list(csv.reader(io.StringIO(out.read_bytes().decode("utf-8-sig"), newline="")))
    assert records == [["Account ID", "Note", "moved"], ["A1", "x\r\ny", "True"],
                       ["A2", source.frame["Note"][1], "False"]]
    assert source.frame["Note"][1] in ("p\r\nq", "b")


_FIELD = st.text(alphabet='ab ,"\r\n', max_size=5).filter(lambda t: t.strip() != "" and not t.startswith("\r"))
"""(a text cell starting with a carriage return is made formula-safe when the output is written cell by cell)"""


@settings(max_examples=150, deadline=None)
@given(notes=st.lists(st.tuples(_FIELD, _FIELD), min_size=1, max_size=8),
       end=st.sampled_from(["\r\n", "\n"]), last_end=st.booleans())
def test_a_csv_output_parses_to_the_input_cells_and_the_added_ones(tmp_path_factory, notes, end, last_end):
    # Quotes, delimiters and either line break inside fields, in a file of either line end:
    # whether the writer copies the lines or writes cell by cell, the output reads back to the same cells.
    def cell(field: str) -> str:  # (as Excel quotes: any delimiter, quote or line break; Python's csv
        return '"' + field.replace('"', '""') + '"' if any(c in field for c in ',"\r\n') else field  # leaves "\r")

    text = end.join(",".join(map(cell, row)) for row in [["Account ID", "Note", "Other"]]
                    + [[f"A{i}", a, b] for i, (a, b) in enumerate(notes)]) + (end if last_end else "")
    folder = tmp_path_factory.mktemp("csv")
    source = _csv_input(folder, text)
    added = [f"T{i % 3}" for i in range(len(notes))]
    out = write_tables(folder / "out.csv", {"P": source.frame.assign(territory=added)}, source=source)
    records = list(csv.reader(io.StringIO(out.read_bytes().decode("utf-8-sig"), newline="")))
    assert records[0] == ["Account ID", "Note", "Other", "territory"]
    assert records[1:] == [[f"A{i}", a, b, t] for i, ((a, b), t) in enumerate(zip(notes, added))]


def test_european_csv_keeps_its_semicolons_and_decimal_commas(tmp_path):
    # Excel in most of Europe saves "CSV (semicolon)" with decimal commas.
    lines = ["Account ID;Name;ZIP;Latitude;Potential", "A1;Acme, Inc.;04575;44,49346;12,5",
             "A2;Beta;02108;-70,5;7", "A3;Gamma;01001;42,1;0,1"]
    source = _csv_input(tmp_path, "\r\n".join(lines) + "\r\n")
    assert (source.csv.delimiter, source.csv.decimal) == (";", ",")
    assert source.frame["Latitude"].tolist() == [44.49346, -70.5, 42.1]
    assert source.frame["Potential"].tolist() == [12.5, 7.0, 0.1]
    assert source.frame["ZIP"].tolist() == ["04575", "02108", "01001"]
    frame = _with_results(source.frame)
    frame["proposed_territory"] = ["North; East", "West", None]
    fast = write_tables(tmp_path / "fast.csv", {"Proposed": frame}, source=source)
    assert fast.read_bytes().decode("utf-8-sig").split("\r\n") == [
        lines[0] + ";proposed_territory;moved;score;rank",
        lines[1] + ';"North; East";True;0,25;3',
        lines[2] + ";West;False;;1",
        lines[3] + ";;True;1e-07;2",
        "",
    ]
    # Every cell written (the frame no longer starts with the input's columns): same dialect.
    plain = write_tables(tmp_path / "plain.csv", {"Proposed": frame.drop(columns="Name")}, source=source)
    back = read_tables(plain)["accounts"]
    assert (back.csv.delimiter, back.csv.decimal) == (";", ",")
    assert back.frame["Latitude"].tolist() == [44.49346, -70.5, 42.1]
    assert back.frame["score"].tolist()[0] == 0.25


def test_semicolons_with_decimal_points_keep_the_points(tmp_path):
    source = _csv_input(tmp_path, "Account ID;Latitude;Potential\nA1;44.5;12.5\nA2;42.25;3\n")
    assert source.csv.decimal == "."
    assert source.frame["Latitude"].tolist() == [44.5, 42.25]


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    names=st.lists(st.text(alphabet=st.sampled_from(list("abcXYZ é;,\"'-&.")), min_size=1, max_size=12),
                   min_size=2, max_size=15),
    data=st.data(),
    dialect=st.sampled_from([(",", "."), (";", ","), (";", "."), ("\t", ",")]),
)
def test_a_csv_in_any_excel_dialect_reads_back_and_its_output_keeps_the_dialect(tmp_path, names, data, dialect):
    sep, decimal = dialect
    n = len(names)
    values = data.draw(st.lists(st.floats(-1e6, 1e6, allow_nan=False).map(lambda v: round(v, 4)), min_size=n,
                                max_size=n))
    table = pd.DataFrame({"Account ID": [f"A{i:03d}" for i in range(n)], "Name": names, "Potential": values})
    path = tmp_path / "accounts.csv"
    table.to_csv(path, sep=sep, decimal=decimal, index=False)
    source = read_tables(path)["accounts"]
    assert (source.csv.delimiter, source.csv.decimal) == dialect
    assert source.frame["Name"].tolist() == names
    assert source.frame["Potential"].tolist() == values
    added = source.frame.assign(proposed_territory=[f"T{i % 3}; x, y" for i in range(n)],
                                score=[v / 3 for v in values])
    out = write_tables(tmp_path / "out.csv", {"Proposed": added}, source=source)
    back = read_tables(out)["accounts"]
    assert (back.csv.delimiter, back.csv.decimal) == dialect
    assert back.frame["Name"].tolist() == names
    assert back.frame["proposed_territory"].tolist() == added["proposed_territory"].tolist()
    np.testing.assert_allclose(back.frame["score"].to_numpy(dtype=float), added["score"].to_numpy(), rtol=1e-12)


def test_the_add_in_and_the_files_write_the_same_cells(tmp_path):
    """One converter (territory_engine.io.cells) serves the .xlsx files and the add-in's sheets."""
    from excel_addin.book import FileBook, write_results

    frame = pd.DataFrame({
        "number": [1.5, np.inf, -np.inf, np.nan],
        "whole": np.array([1, 2, 3, 4], dtype=np.int64),
        "when": pd.to_datetime(["2024-01-02 00:00:00", None, "2024-03-04 05:06:07", "2024-05-06 00:00:00"]),
        "day": [dt.date(2024, 1, 2), None, dt.date(2024, 3, 4), pd.NaT],
        "text": ["=1+1", "plain", None, "@SUM(A1)"],
        "flag": [True, False, True, False],
        "mixed": [np.int64(7), np.float64(np.inf), np.bool_(True), np.nan],
    })
    file_out = write_tables(tmp_path / "file.xlsx", {"Result": frame})
    book_path = tmp_path / "book.xlsx"
    _workbook(book_path, {"Accounts": [["Account ID"], ["A1"]]})
    book = FileBook(book_path)
    write_results(book, {"Result": frame})
    book.save()

    def cells(path):
        sheet = load_workbook(path)["Result"]
        return [[(c.value, c.data_type) for c in row] for row in sheet.iter_rows()]

    # The same cells, the header row too: both show the headers in words
    # (territory_engine.io.presentation, laid out by territory_engine.io.sheet_layout).
    assert cells(file_out) == cells(book_path)
    rows = cells(file_out)
    assert [c[0] for c in rows[0]] == ["Number", "Whole", "When", "Day", "Text", "Flag", "Mixed"]

    def formats(path):  # of the cells holding a value (an empty cell of the file takes its column's)
        return [[c.number_format for c in row if c.value is not None] for row in load_workbook(path)["Result"]]

    assert formats(file_out) == formats(book_path)
    assert [r[0] for r in rows[1:]] == [(1.5, "n"), ("inf", "s"), ("-inf", "s"), (None, "n")]
    assert rows[1][4] == ("=1+1", "s")  # text, never a formula
    assert rows[1][5] == (True, "b") and rows[1][1] == (1, "n")
    assert rows[1][2] == (dt.datetime(2024, 1, 2), "d") and rows[2][2] == (None, "n")
    assert [r[6][0] for r in rows[1:]] == [7, "inf", True, None]


@settings(max_examples=200, deadline=None)
@given(lines=st.lists(st.text(alphabet="ab,\r ", max_size=6), min_size=1, max_size=12),
       end=st.sampled_from(["\r\n", "\n"]), last_end=st.booleans(), blank=st.integers(0, 3),
       chars=st.integers(1, 20))
def test_csv_lines_come_in_blocks_that_join_to_the_whole_split_at_any_block_size(lines, end, last_end, blank, chars):
    from territory_engine.io.tables import CsvSource

    lines = [line.replace("\r", "") if end == "\n" else line for line in lines]
    text = end.join(lines + [""] * blank) + (end if last_end and lines != [""] else "")
    whole = text.split(end)
    if whole and whole[-1] == "":
        whole.pop()
    records = len(whole) - 1
    kept = max(0, records - blank)
    source = CsvSource(text, ",", rows=kept, records=records)
    assert source.one_line_per_record() == (len(whole) == records + 1)
    blocks = list(source.line_blocks(chars=chars))
    assert all(blocks)
    assert [line for block in blocks for line in block] == whole[:kept + 1]


@pytest.mark.parametrize("chars", [1, 7, 50])
def test_a_csv_output_written_in_many_blocks_is_the_same_file(tmp_path, monkeypatch, chars):
    from territory_engine.io.tables import CsvSource

    lines = ["Account ID,Name,Potential"] + [f'A{i},"N{i}, Inc.",{i}.5' for i in range(40)]
    source = _csv_input(tmp_path, "\r\n".join(lines) + "\r\n,,\r\n")
    frame = source.frame.assign(moved=[i % 3 == 0 for i in range(40)], territory=[f"T{i % 7}" for i in range(40)],
                                score=[i / 8 for i in range(40)], rank=list(range(40)))
    whole = write_tables(tmp_path / "whole.csv", {"P": frame}, source=source).read_bytes()
    blocks = CsvSource.line_blocks
    seen = []
    monkeypatch.setattr(CsvSource, "line_blocks", lambda self, chars=0: seen.append(1) or blocks(self, chars=size))
    size = chars
    assert write_tables(tmp_path / "blocks.csv", {"P": frame}, source=source).read_bytes() == whole
    assert seen, "the writer did not repeat the input's lines"
    text = whole.decode("utf-8-sig").split("\r\n")
    assert text[0] == "Account ID,Name,Potential,moved,territory,score,rank"
    assert text[1:3] == ['A0,"N0, Inc.",0.5,True,T0,0.0,0', 'A1,"N1, Inc.",1.5,False,T1,0.125,1']
    assert text[40] == 'A39,"N39, Inc.",39.5,True,T4,4.875,39' and text[41:] == [""]


@pytest.mark.parametrize("text", ["Account ID,Potential\nA1,1.50", "Account ID,Potential\r\nA1,1.50\r\n",
                                  "Account ID,Potential\r\nA1," + "1" * (1 << 22) + "\r\nA2,3\r\n"])
def test_a_csv_output_adds_its_cells_after_a_first_block_holding_the_header_alone(tmp_path, text):
    # (a last line without a line end comes as a block of its own; so does a line longer than a block)
    source = _csv_input(tmp_path, text)
    rows = len(source.frame)
    out = write_tables(tmp_path / "out.csv", {"P": source.frame.assign(territory=["T1", "T2"][:rows])}, source=source)
    written = out.read_bytes().decode("utf-8-sig").split("\r\n")
    kept = text.replace("\r\n", "\n").split("\n")
    assert written[0] == kept[0] + ",territory"
    assert written[1:rows + 1] == [line + f",T{i + 1}" for i, line in enumerate(kept[1:rows + 1])]


def test_csv_cells_of_nullable_categorical_and_blank_marked_columns_keep_the_input_lines(tmp_path):
    source = _csv_input(tmp_path, 'Account ID,Potential\nA1,1.50\n"A2",2\nA3,007\n')
    frame = source.frame.assign(
        count=pd.array([1, None, 3], dtype="Int64"), flag=pd.array([True, None, False], dtype="boolean"),
        share=pd.array([0.5, None, 2.0], dtype="Float64"), kind=pd.Series(["a", "b", None], dtype="category"),
        note=pd.Series(["x", pd.NaT, None], dtype=object))
    out = write_tables(tmp_path / "out.csv", {"P": frame}, source=source).read_bytes().decode("utf-8-sig")
    assert out == ("Account ID,Potential,count,flag,share,kind,note\r\nA1,1.50,1,True,0.5,a,x\r\n"
                   '"A2",2,,,,b,\r\nA3,007,3,False,2.0,,\r\n')
