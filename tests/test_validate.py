"""Validation of accounts, reps and settings: every bad input is located as the user sees it.

Each test writes a real workbook or CSV file, reads it back with ``territory_engine.io``
and validates it, so row numbers and column letters are those Excel would show.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from openpyxl import Workbook

from territory_engine.errors import MAX_PROBLEMS, InputError
from territory_engine.io import RawTable, read_tables
from territory_engine.validate import settings_pairs, validate_accounts, validate_reps

HEADER = ["Account ID", "Account Name", "ZIP", "Potential", "Latitude", "Longitude", "Territory", "Locked"]
GOOD = [
    ["A1", "Alpha", "04575", 100, 43.85, -69.64, "T1", None],
    ["A2", "Beta", "02108", 200, 42.36, -71.06, "T2", "x"],
    ["A3", "Gamma", "10001", 300, 40.75, -73.99, "T2", None],
]


def _workbook(tmp_path: Path, sheets: dict[str, list[list]], name: str = "book.xlsx") -> Path:
    book = Workbook()
    book.remove(book.active)
    for title, rows in sheets.items():
        sheet = book.create_sheet(title)
        for row in rows:
            sheet.append(row)
    path = tmp_path / name
    book.save(path)
    return path


def _accounts(tmp_path: Path, rows: list[list], header: list = HEADER) -> RawTable:
    return read_tables(_workbook(tmp_path, {"Accounts": [header, *rows]}))["accounts"]


def _problems(call, *args):
    with pytest.raises(InputError) as caught:
        call(*args)
    return caught.value.problems


def _only(problems, **where):
    found = [p for p in problems if all(getattr(p, k) == v for k, v in where.items())]
    assert found, f"no problem with {where} among {[str(p) for p in problems]}"
    return found[0]


def _with_row(row: list, **changes) -> list:
    row = list(row)
    for header, value in changes.items():
        row[HEADER.index(header.replace("_", " "))] = value
    return row


# --------------------------------------------------------------------------------------
# good input
# --------------------------------------------------------------------------------------


def test_good_accounts_give_engine_columns(tmp_path):
    table = validate_accounts(_accounts(tmp_path, GOOD))
    frame = table.frame
    assert list(frame.columns[:10]) == ["account_id", "account_name", "lat", "lon", "zip", "state", "county",
                                        "territory", "rep", "locked"]
    assert table.measures == ("potential",)
    assert frame["potential"].dtype == np.float64 and frame["potential"].tolist() == [100, 200, 300]
    assert frame["locked"].tolist() == [False, True, False]
    assert frame["lat"].tolist() == [43.85, 42.36, 40.75]
    assert frame["rep"].isna().all()  # no Rep column: present, empty
    assert frame["state"].isna().all()  # no State column: present, empty (county blocks fill it from the ZIP)
    assert table.headers["potential"] == "Potential" and table.headers["lat"] == "Latitude"
    assert table.source == "Accounts"


def test_zip_gives_coordinates_when_latitude_and_longitude_are_absent(tmp_path):
    rows = [["A1", 4575, 10], ["A2", "02108-1234", 20]]
    frame = validate_accounts(_accounts(tmp_path, rows, header=["ID", "Zip Code", "Sales"])).frame
    assert frame["zip"].tolist() == ["04575", "02108"]
    assert np.isfinite(frame["lat"]).all() and np.isfinite(frame["lon"]).all()
    assert 42 < frame["lat"][1] < 43 and -72 < frame["lon"][1] < -70
    assert frame["account_name"].tolist() == ["A1", "A2"]  # no name column: the ID


def test_zip_fills_only_rows_without_coordinates(tmp_path):
    rows = [GOOD[0], _with_row(GOOD[1], Latitude=None, Longitude=None)]
    frame = validate_accounts(_accounts(tmp_path, rows)).frame
    assert frame["lat"][0] == 43.85
    assert 42 < frame["lat"][1] < 43 and frame["lat"][1] != 42.36


def test_numbers_as_territories_become_text_and_text_columns_are_not_measures(tmp_path):
    header = ["Account ID", "Latitude", "Longitude", "Territory", "Industry", "Visits", "Sales"]
    rows = [["A1", 40, -75, 3, "Retail", "12", None], ["A2", 41, -75, 3.0, "Health", "n/a", None],
            ["A3", 42, -75, "7", "Retail", " 4 ", None]]
    problems = _problems(validate_accounts, _accounts(tmp_path, rows, header))
    assert len(problems) == 1 and problems[0].row == 3 and problems[0].column == "Visits"
    rows[1][5] = "$1,200"
    table = validate_accounts(_accounts(tmp_path, rows, header))
    assert table.frame["territory"].tolist() == ["3", "3", "7"]
    assert table.measures == ("visits", "sales")  # Sales is blank but a known measure name
    assert table.frame["visits"].tolist() == [12.0, 1200.0, 4.0]
    assert table.frame["sales"].tolist() == [0.0, 0.0, 0.0]
    assert "industry" not in table.frame.columns


def test_lock_values_are_read_in_every_usual_spelling(tmp_path):
    values = [True, False, "yes", "No", "Y", "n", 1, 0, "x", None, "TRUE", "false"]
    rows = [["A%d" % i, 40, -75, v] for i, v in enumerate(values)]
    frame = validate_accounts(_accounts(tmp_path, rows, ["Account ID", "Lat", "Lon", "Locked"])).frame
    assert frame["locked"].tolist() == [True, False, True, False, True, False, True, False, True, False,
                                        True, False]


def test_lock_values_as_a_european_excel_writes_them_into_csv(tmp_path):
    path = tmp_path / "konten.csv"
    path.write_text("Account ID;Latitude;Longitude;Locked\nA1;44,5;-70,25;WAHR\nA2;44,6;-70,3;FALSCH\n"
                    "A3;44,7;-70,1;VRAI\nA4;44,8;-70,2;faux\n", encoding="utf-8")
    frame = validate_accounts(read_tables(path)["accounts"]).frame
    assert frame["locked"].tolist() == [True, False, True, False]
    assert frame["lat"].tolist() == [44.5, 44.6, 44.7, 44.8]


def test_a_decimal_point_in_a_decimal_comma_file_is_explained_in_its_own_dialect(tmp_path):
    path = tmp_path / "konten.csv"
    path.write_text("Account ID;Latitude;Longitude;Potential\nA1;44,5;-70,25;12,5\nA2;44,6;-70,3;7\n"
                    "A3;44,7;-70,1;3,25\nA4;44.8;-70,2;12.5\n", encoding="utf-8")
    with pytest.raises(InputError) as caught:
        validate_accounts(read_tables(path)["accounts"])
    messages = {p.column: p.message for p in caught.value.problems}
    assert "(for example 42,36)" in messages["Latitude"]
    assert "this file writes decimals with a comma, as in 12,5" in messages["Potential"]
    assert all(p.row == 5 for p in caught.value.problems)


def test_validation_does_not_modify_the_raw_table(tmp_path):
    raw = _accounts(tmp_path, [_with_row(GOOD[0], Potential=" 5 ", Territory=3.0), GOOD[1]])
    before = raw.frame.copy(deep=True)
    validate_accounts(raw)
    pd.testing.assert_frame_equal(raw.frame, before)


# --------------------------------------------------------------------------------------
# bad accounts: each case located by source, row, column letter and header
# --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("changes", "header", "letter", "words"),
    [
        ({"Potential": "n/a"}, "Potential", "D", "is not a number"),
        ({"Potential": -5}, "Potential", "D", "Potential must not be negative"),
        ({"Latitude": "north"}, "Latitude", "E", "is not a number"),
        ({"Longitude": "west"}, "Longitude", "F", "is not a number"),
        ({"Latitude": 95}, "Latitude", "E", "outside -90 to 90"),
        ({"Longitude": -200}, "Longitude", "F", "outside -180 to 180"),
        ({"Latitude": None}, "Latitude", "E", "blank but Longitude is set"),
        ({"Longitude": None}, "Longitude", "F", "blank but Latitude is set"),
        ({"Account_ID": None}, "Account ID", "A", "account ID is blank"),
        ({"Locked": "maybe"}, "Locked", "H", "is not a lock value"),
        ({"Latitude": None, "Longitude": None, "ZIP": "99999"}, "ZIP", "C", "not a known US ZIP"),
        ({"Latitude": None, "Longitude": None, "ZIP": None}, "ZIP", "C", "no Latitude/Longitude and no ZIP"),
    ],
)
def test_each_bad_cell_is_reported_where_it_is(tmp_path, changes, header, letter, words):
    rows = [GOOD[0], _with_row(GOOD[1], **changes), GOOD[2]]
    problems = _problems(validate_accounts, _accounts(tmp_path, rows))
    assert len(problems) == 1, [str(p) for p in problems]
    problem = problems[0]
    assert (problem.source, problem.row, problem.column) == ("Accounts", 3, header)
    assert problem.cell == f"Accounts!{letter}3"
    assert words in problem.message
    assert ";" in problem.message  # what is wrong; how to fix it


def test_the_message_reads_as_the_house_style_promises(tmp_path):
    rows = [GOOD[0], _with_row(GOOD[1], Potential="n/a")]
    problem = _problems(validate_accounts, _accounts(tmp_path, rows))[0]
    assert str(problem) == "Accounts!D3 (Potential): 'n/a' is not a number; enter a number or leave it blank"
    assert problem.value == "n/a"


def test_a_duplicate_account_id_names_the_row_of_the_first(tmp_path):
    rows = [GOOD[0], GOOD[1], _with_row(GOOD[2], Account_ID="A1")]
    problem = _only(_problems(validate_accounts, _accounts(tmp_path, rows)), row=4)
    assert problem.column == "Account ID" and problem.cell == "Accounts!A4"
    assert "duplicate" in problem.message and "row 2" in problem.message


def test_numbers_and_text_ids_that_read_the_same_are_duplicates(tmp_path):
    rows = [["101", 40, -75], [101, 41, -75], [101.0, 42, -75]]
    problems = _problems(validate_accounts, _accounts(tmp_path, rows, ["Account ID", "Latitude", "Longitude"]))
    assert [p.row for p in problems] == [3, 4]
    assert all("row 2" in p.message for p in problems)


def test_no_location_columns_is_one_sheet_level_problem(tmp_path):
    rows = [["A1", 10], ["A2", 20]]
    problems = _problems(validate_accounts, _accounts(tmp_path, rows, ["Account ID", "Potential"]))
    assert len(problems) == 1
    problem = problems[0]
    assert problem.row is None and problem.source == "Accounts"
    assert "Latitude" in problem.message and "ZIP" in problem.message and "'Potential'" in problem.message


def test_a_latitude_column_without_longitude_is_reported(tmp_path):
    rows = [["A1", 40.0, 10]]
    problem = _problems(validate_accounts, _accounts(tmp_path, rows, ["Account ID", "Latitude", "Potential"]))[0]
    assert problem.column == "Latitude" and "no Longitude column" in problem.message


def test_no_account_id_column_is_reported(tmp_path):
    rows = [["Alpha", "04575"]]
    problem = _problems(validate_accounts, _accounts(tmp_path, rows, ["Account Name", "ZIP"]))[0]
    assert problem.row is None and "Account ID" in problem.message


def test_blank_coordinates_without_a_zip_column(tmp_path):
    rows = [["A1", 40, -75], ["A2", None, None]]
    problem = _problems(validate_accounts, _accounts(tmp_path, rows, ["Account ID", "Latitude", "Longitude"]))[0]
    assert problem.row == 3 and problem.column == "Latitude" and "blank" in problem.message


def test_an_empty_row_in_the_middle_is_reported_once(tmp_path):
    rows = [GOOD[0], [None] * len(HEADER), GOOD[1]]
    problems = _problems(validate_accounts, _accounts(tmp_path, rows))
    assert len(problems) == 1 and problems[0].row == 3 and "empty" in problems[0].message


def test_many_problems_are_collected_at_once_in_sheet_order(tmp_path):
    rows = [
        _with_row(GOOD[0], Potential="lots"),
        _with_row(GOOD[1], Latitude=123, Locked="perhaps"),
        _with_row(GOOD[2], Account_ID="A1", Potential=-1),
    ]
    problems = _problems(validate_accounts, _accounts(tmp_path, rows))
    cells = [p.cell for p in problems]
    assert cells == ["Accounts!D2", "Accounts!E3", "Accounts!H3", "Accounts!A4", "Accounts!D4"]


def test_problems_are_capped_with_a_count_of_the_rest(tmp_path):
    rows = [["A%d" % i, 40, -75, "bad"] for i in range(MAX_PROBLEMS + 30)]
    problems = _problems(validate_accounts, _accounts(tmp_path, rows, ["Account ID", "Lat", "Lon", "Potential"]))
    assert len(problems) == MAX_PROBLEMS
    assert "31 more problems" in problems[-1].message
    assert [p.row for p in problems[:3]] == [2, 3, 4]


def test_a_csv_locates_problems_by_file_row_and_column(tmp_path):
    path = tmp_path / "accounts.csv"
    path.write_text("Account ID,ZIP,Potential\nA1,04575,10\nA2,02108,ten\n", encoding="utf-8")
    problem = _problems(validate_accounts, read_tables(path)["accounts"])[0]
    assert str(problem).startswith("accounts.csv, row 3, column C (Potential): 'ten' is not a number")


def test_an_empty_table_is_reported():
    raw = RawTable("Accounts", pd.DataFrame({"Account ID": pd.Series([], dtype=object)}), True, "x.xlsx")
    problem = _problems(validate_accounts, raw)[0]
    assert "no account rows" in problem.message and problem.source == "Accounts"


@pytest.mark.parametrize("space", [" ", "\t", "\xa0", "\u3000", "\r"])
def test_ids_and_names_lose_white_space_at_their_edges(space):
    frame = pd.DataFrame({"Account ID": ["A1", f"A2{space}", "A3"], "Account Name": [f"{space}Acme", "Beta", "C"],
                          "Latitude": [40.0, 41.0, 42.0], "Longitude": [-75.0, -74.0, -73.0]})
    table = validate_accounts(RawTable("Accounts", frame, True, ""))
    assert table.frame["account_id"].tolist() == ["A1", "A2", "A3"]
    assert table.frame["account_name"].tolist() == ["Acme", "Beta", "C"]
    frame.loc[2, "Account ID"] = f"{space}A1"
    problem = _problems(validate_accounts, RawTable("Accounts", frame, True, ""))[0]
    assert "duplicate account ID 'A1', first used on row 2" in problem.message


def test_frames_from_the_addin_with_nan_for_blanks_are_accepted():
    frame = pd.DataFrame({"Account ID": ["A1", "A2"], "Latitude": [40.0, 41.0], "Longitude": [-75.0, -74.0],
                          "Potential": [1.5, float("nan")], "Territory": ["T1", float("nan")]})
    table = validate_accounts(RawTable("Accounts", frame, True, ""))
    assert table.frame["potential"].tolist() == [1.5, 0.0]
    assert table.frame["territory"].tolist()[0] == "T1" and table.frame["territory"].isna().tolist()[1]


# --------------------------------------------------------------------------------------
# reps
# --------------------------------------------------------------------------------------

REP_HEADER = ["Territory", "Rep", "Home ZIP", "Latitude", "Longitude", "Capacity"]


def _reps(tmp_path, rows, header=REP_HEADER) -> RawTable:
    path = _workbook(tmp_path, {"Accounts": [HEADER, *GOOD], "Reps": [header, *rows]})
    return read_tables(path)["reps"]


def test_reps_give_one_row_per_territory_with_a_home_base(tmp_path):
    rows = [["T1", "Ann", "04101", 43.66, -70.26, 1], ["T2", "Bob", "02108", None, None, None], [3, "Cy", None, 40, -75, 0.5]]
    reps = validate_reps(_reps(tmp_path, rows))
    assert list(reps.columns) == ["territory", "rep", "lat", "lon", "capacity", "region", "district"]
    assert reps["territory"].tolist() == ["T1", "T2", "3"]
    assert reps["capacity"].tolist() == [1.0, 1.0, 0.5]
    assert reps["lat"][0] == 43.66 and 42 < reps["lat"][1] < 43  # from the ZIP


@pytest.mark.parametrize(
    ("row", "header", "letter", "words"),
    [
        (["T2", "Bob", None, 42, -71, "full"], "Capacity", "F", "is not a number"),
        (["T2", "Bob", None, 42, -71, 0], "Capacity", "F", "greater than 0"),
        (["T2", "Bob", None, 42, -71, -1], "Capacity", "F", "greater than 0"),
        (["T1", "Bob", None, 42, -71, 1], "Territory", "A", "already on row 2"),
        ([None, "Bob", None, 42, -71, 1], "Territory", "A", "territory is blank"),
        (["T2", "Bob", "00000", None, None, 1], "Home ZIP", "C", "not a known US ZIP"),
        (["T2", "Bob", None, None, None, 1], "Home ZIP", "C", "no Latitude/Longitude and no ZIP"),
        (["T2", "Bob", None, 91, -71, 1], "Latitude", "D", "outside -90 to 90"),
        (["T2", "Bob", None, "n/a", -71, 1], "Latitude", "D", "is not a number"),
    ],
)
def test_each_bad_rep_cell_is_reported_where_it_is(tmp_path, row, header, letter, words):
    rows = [["T1", "Ann", "04101", 43.66, -70.26, 1], row]
    problems = _problems(validate_reps, _reps(tmp_path, rows))
    assert len(problems) == 1, [str(p) for p in problems]
    assert problems[0].cell == f"Reps!{letter}3" and problems[0].column == header
    assert words in problems[0].message


def test_reps_without_a_territory_column_are_reported(tmp_path):
    problem = _problems(validate_reps, _reps(tmp_path, [["Ann", 1]], header=["Rep", "Capacity"]))[0]
    assert problem.source == "Reps" and problem.row is None and "Territory" in problem.message


def test_reps_without_home_base_columns_have_no_coordinates(tmp_path):
    reps = validate_reps(_reps(tmp_path, [["T1", "Ann"], ["T2", "Bob"]], header=["Territory", "Rep"]))
    assert reps["lat"].isna().all() and reps["capacity"].tolist() == [1.0, 1.0]


# --------------------------------------------------------------------------------------
# settings
# --------------------------------------------------------------------------------------


def _settings(tmp_path, rows) -> RawTable:
    path = _workbook(tmp_path, {"Accounts": [HEADER, *GOOD], "Settings": rows})
    return read_tables(path)["settings"]


def test_settings_pairs_keep_the_key_as_written_and_the_user_row(tmp_path):
    rows = [["Key", "Value", "Meaning"], ["territories", 12, "how many"], [None, None, None],
            ["Tolerance", "5%", None], ["balance", "potential,workload", None]]
    pairs = settings_pairs(_settings(tmp_path, rows))
    assert pairs == {"territories": (12, 2), "Tolerance": ("5%", 4), "balance": ("potential,workload", 5)}


def test_a_settings_sheet_without_a_header_row_is_read_from_row_1(tmp_path):
    pairs = settings_pairs(_settings(tmp_path, [["territories", 4], ["seed", 7]]))
    assert pairs["seed"] == (7, 2) and "territories" in pairs and pairs["territories"][1] == 1


def test_a_repeated_setting_is_reported_with_the_first_row(tmp_path):
    rows = [["Key", "Value"], ["seed", 1], ["tolerance", 0.1], ["Seed", 2]]
    problem = _problems(settings_pairs, _settings(tmp_path, rows))[0]
    assert problem.cell == "Settings!A4" and "row 2" in problem.message


# --------------------------------------------------------------------------------------
# any cells at all: a clean table or an InputError, never a crash
# --------------------------------------------------------------------------------------

from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

_CELLS = st.one_of(
    st.none(),
    st.sampled_from(["", " ", "n/a", "x", "yes", "04575", "02108-1234", "99999", "-3", "1,200", "$5", "=1+1",
                     "nan", "inf", "T1", "A1"]),
    st.text(max_size=6),
    st.integers(min_value=-10**6, max_value=10**6),
    st.floats(allow_nan=True, allow_infinity=True),
    st.booleans(),
    st.datetimes(min_value=__import__("datetime").datetime(1990, 1, 1),
                 max_value=__import__("datetime").datetime(2030, 1, 1)),
)
_HEADERS = st.lists(st.sampled_from(["Account ID", "Name", "ZIP", "Latitude", "Longitude", "Territory", "Rep",
                                     "Locked", "Potential", "Sales", "Industry", "State", "County", "Notes"]),
                    min_size=1, max_size=7, unique=True)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(headers=_HEADERS, data=st.data())
def test_any_cells_give_a_clean_table_or_an_input_error(headers, data):
    rows = data.draw(st.integers(min_value=0, max_value=6))
    frame = pd.DataFrame({h: pd.Series([data.draw(_CELLS) for _ in range(rows)], dtype=object) for h in headers})
    raw = RawTable("Accounts", frame, True, "")
    before = frame.copy(deep=True)
    try:
        table = validate_accounts(raw)
    except InputError as error:
        assert 0 < len(error.problems) <= MAX_PROBLEMS
        assert all(p.source == "Accounts" and (p.row is None or 2 <= p.row <= rows + 1) for p in error.problems)
        assert all(p.column is None or p.column == headers[p.column_index] for p in error.problems)
    else:
        out = table.frame
        assert len(out) == rows and list(out.index) == list(range(rows))
        assert out["account_id"].notna().all() and out["account_id"].is_unique
        assert out["lat"].between(-90, 90).all() and out["lon"].between(-180, 180).all()
        for name in table.measures:
            assert np.isfinite(out[name]).all() and (out[name] >= 0).all()
    pd.testing.assert_frame_equal(frame, before)


_REP_HEADERS = st.lists(st.sampled_from(["Territory", "Rep", "Home ZIP", "Latitude", "Longitude", "Capacity",
                                         "Key", "Value"]), min_size=1, max_size=5, unique=True)


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(headers=_REP_HEADERS, data=st.data())
def test_any_reps_or_settings_cells_give_a_result_or_an_input_error(headers, data):
    rows = data.draw(st.integers(min_value=0, max_value=5))
    frame = pd.DataFrame({h: pd.Series([data.draw(_CELLS) for _ in range(rows)], dtype=object) for h in headers})
    try:
        reps = validate_reps(RawTable("Reps", frame, True, ""))
    except InputError as error:
        assert all(p.source == "Reps" for p in error.problems)
    else:
        assert reps["territory"].is_unique and reps["territory"].notna().all()
        assert (reps["capacity"] > 0).all()
    try:
        pairs = settings_pairs(RawTable("Settings", frame, True, ""))
    except InputError as error:
        assert all(p.source == "Settings" for p in error.problems)
    else:
        assert all(isinstance(k, str) and k for k in pairs)
