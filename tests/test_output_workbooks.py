"""Workbook outputs an analyst can forward: headers, number formats, Excel Tables, frozen headers,
status colours and native charts, read back from real files with openpyxl (issue 14, part 1)."""

from __future__ import annotations

import csv
import datetime as dt
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import openpyxl
import pandas as pd
import pytest

from territory_engine.io import read_tables, write_tables
from territory_engine.io.presentation import NAMES, column_style
from territory_engine.workflow_map import map as map_verb
from territory_engine.workflow import Inputs

ROOT = Path(__file__).resolve().parents[1]
DEMO = ROOT / "workbooks" / "territory_demo.xlsx"
TERRITORY = str(Path(sys.executable).with_name("territory"))


def territory(*args) -> subprocess.CompletedProcess:
    return subprocess.run([TERRITORY, *map(str, args)], capture_output=True, text=True)


@pytest.fixture(scope="module")
def folder(tmp_path_factory) -> Path:
    tmp = tmp_path_factory.mktemp("outputs")
    shutil.copy(DEMO, tmp / "demo.xlsx")
    return tmp


@pytest.fixture(scope="module")
def rebalanced(folder) -> Path:
    out = folder / "proposed.xlsx"
    done = territory("rebalance", folder / "demo.xlsx", "--output", out)
    assert done.returncode == 0, done.stderr
    return out


@pytest.fixture(scope="module")
def book(rebalanced):
    return openpyxl.load_workbook(rebalanced)


def header(sheet) -> list:
    return [c.value for c in sheet[1]]


def column(sheet, title: str) -> int:
    """The 1-based column of header ``title``."""
    return header(sheet).index(title) + 1


def grey(rgb: str) -> float:
    """The lightness (0 black .. 1 white) a colour prints at in grey (ITU-R BT.601 luma)."""
    r, g, b = (int(rgb[-6:][i:i + 2], 16) / 255 for i in (0, 2, 4))
    return 0.299 * r + 0.587 * g + 0.114 * b


# ----------------------------------------------------------------------------------------------
# headers
# ----------------------------------------------------------------------------------------------


def test_the_proposal_keeps_the_inputs_headers_and_adds_the_analysts_words(book):
    accounts = header(openpyxl.load_workbook(DEMO, read_only=True)["Accounts"])
    assert header(book["Proposed alignment"]) == accounts + ["Proposed territory", "Moved", "Move reason", "Proposed rep"]


def test_engine_sheets_have_no_engine_names(book):
    summary = header(book["Territory summary"])
    assert summary[:4] == ["Alignment", "Territory", "Rep", "Accounts"]
    for title in ("Potential share of target", DEVIATION, "Status", "Compactness (km)"):
        assert title in summary
    for name in ("Balance", "Moves", "Settings used", "Territory summary"):
        for title in header(book[name]):
            assert "_" not in title and title[:1].isupper(), (name, title)
    assert header(book["Moves"])[:4] == ["Account ID", "Account name", "From territory", "To territory"]
    assert header(book["Settings used"]) == ["Setting", "Value", "Set by", "Meaning"]


def test_a_csv_output_keeps_the_command_line_contract_names(folder):
    out = folder / "proposed.csv"
    done = territory("rebalance", folder / "demo.xlsx", "--output", out)
    assert done.returncode == 0, done.stderr
    with open(out, encoding="utf-8-sig", newline="") as handle:
        assert next(csv.reader(handle))[-4:] == ["proposed_territory", "moved", "move_reason", "proposed_rep"]


# ----------------------------------------------------------------------------------------------
# number formats
# ----------------------------------------------------------------------------------------------


def test_number_formats_follow_what_each_column_means(book):
    summary = book["Territory summary"]
    expected = {"Accounts": "#,##0", "Potential": "#,##0", "Sales": "#,##0", "Potential share of target": "0.0%",
                "Compactness (km)": "#,##0", "Pieces": "#,##0", "Penetration": "0.0%"}
    for title, fmt in expected.items():
        for row in (2, summary.max_row):
            assert summary.cell(row, column(summary, title)).number_format == fmt, title
    deviation = summary.cell(2, column(summary, DEVIATION)).number_format
    assert "%" in deviation and deviation.startswith("+"), deviation
    balance = book["Balance"]
    assert balance.cell(2, column(balance, "Largest deviation")).number_format == "0.0%"
    assert balance.cell(2, column(balance, "Coefficient of variation")).number_format == "0.000"
    assert balance.cell(2, column(balance, "Weighted compactness (km)")).number_format == "#,##0"
    proposed = book["Proposed alignment"]
    # the input's own columns are left as typed
    assert proposed.cell(2, column(proposed, "Potential")).number_format == "General"
    assert proposed.cell(2, column(proposed, "Latitude")).number_format == "General"


def test_a_new_column_gets_a_format_from_its_name(tmp_path):
    frame = pd.DataFrame({"territory": ["T1", "T2"], "deviation (weighted mix)": [0.1, -0.2],
                          "sales share of target": [1.02, 0.97], "travel km": [12.5, 800.0],
                          "annual_widgets": [12000.0, 5000.0], "proposed_rep": ["Ann", "Bo"]})
    out = write_tables(tmp_path / "new.xlsx", {"Territory summary": frame})
    sheet = openpyxl.load_workbook(out)["Territory summary"]
    assert header(sheet) == ["Territory", "Deviation (weighted mix)", "Sales share of target", "Travel (km)",
                             "Annual widgets", "Proposed rep"]
    formats = [c.number_format for c in sheet[2]]
    assert formats[1].startswith("+") and "%" in formats[1]
    assert formats[2:5] == ["0.0%", "#,##0", "#,##0"]
    assert column_style("proposed_rep").header == "Proposed rep"
    assert all(style.kind in ("measure", "count", "share", "deviation", "km", "coefficient", "id", "text", "flag")
               for style in NAMES.values())


# ----------------------------------------------------------------------------------------------
# Excel Tables, frozen header rows, widths
# ----------------------------------------------------------------------------------------------


def test_every_result_sheet_is_an_excel_table_with_a_filter_and_a_frozen_header(book):
    for sheet in book.worksheets:
        assert sheet.freeze_panes == "A2", sheet.title
        assert sheet.tables, sheet.title
        if sheet.title == "Charts":
            continue
        (table,) = sheet.tables.values()
        assert table.ref == f"A1:{openpyxl.utils.get_column_letter(sheet.max_column)}{sheet.max_row}", sheet.title
        assert table.headerRowCount in (None, 1)
        assert table.autoFilter is not None and table.autoFilter.ref == table.ref
        assert table.tableStyleInfo is not None and table.tableStyleInfo.name
        assert [c.name for c in table.tableColumns] == header(sheet)
        for j, title in enumerate(header(sheet), start=1):
            width = sheet.column_dimensions[openpyxl.utils.get_column_letter(j)].width
            assert width >= min(len(title) + 2, 60), (sheet.title, title, width)


def test_an_empty_table_and_duplicate_headers_still_make_a_valid_table(tmp_path):
    empty = pd.DataFrame({"problem": pd.Series([], dtype=object)})
    twins = pd.DataFrame([["a", "b", 1]], columns=["Notes", "notes", "Potential"])
    out = write_tables(tmp_path / "edge.xlsx", {"Balance problems": empty, "Proposed alignment": twins})
    book = openpyxl.load_workbook(out)
    assert list(book["Balance problems"].tables.values())[0].ref == "A1:A2"
    assert header(book["Proposed alignment"]) == ["Notes", "notes (2)", "Potential"]


# ----------------------------------------------------------------------------------------------
# status colours
# ----------------------------------------------------------------------------------------------


STATUSES = ("over-served", "under-served", "balanced", "uneven")
DEVIATION = "Deviation (weighted mix)"  # the demo balances potential and workload


def test_status_and_deviation_are_coloured_apart_in_colour_and_in_grey(book):
    summary = book["Territory summary"]
    status_letter = openpyxl.utils.get_column_letter(column(summary, "Status"))
    ranges = {str(r.sqref): r.rules for r in summary.conditional_formatting}
    for title in ("Status", DEVIATION):
        letter = openpyxl.utils.get_column_letter(column(summary, title))
        rules = ranges[f"{letter}2:{letter}{summary.max_row}"]
        words = {rule.formula[0]: rule.dxf for rule in rules}
        assert set(words) == {f'${status_letter}2="{w}"' for w in STATUSES}
    over, under, balanced, uneven = (words[f'${status_letter}2="{w}"'] for w in STATUSES)
    fills = [grey(d.fill.bgColor.rgb) for d in (over, under, balanced, uneven)]
    assert len({f.fill.bgColor.rgb for f in (over, under, balanced, uneven)}) == 4
    assert min(abs(a - b) for i, a in enumerate(fills) for b in fills[i + 1:]) >= 0.15, fills
    assert over.font.b and under.font.i and not balanced.font.b and uneven.font.u
    # the rule's words are the words of the status column
    statuses = {summary.cell(r, column(summary, "Status")).value for r in range(2, summary.max_row + 1)}
    assert statuses <= set(STATUSES) and len(statuses) >= 2


# ----------------------------------------------------------------------------------------------
# charts
# ----------------------------------------------------------------------------------------------


def _ref(text: str) -> tuple[str, str, str]:
    sheet, cells = text.rsplit("!", 1)
    first, last = cells.replace("$", "").split(":")
    return sheet.strip("'"), first, last


def _values(book, ref: str) -> list:
    sheet, first, last = _ref(ref)
    return [row[0].value for row in book[sheet][first:last]]


def test_the_rebalance_charts_read_the_balance_and_the_moves(book):
    assert book.sheetnames.index("Charts") == book.sheetnames.index("Balance") + 1
    balance_chart, moved_chart = book["Charts"]._charts
    bars = balance_chart.series
    lines = [s for chart in getattr(balance_chart, "_charts", [])[1:] for s in chart.series]
    assert len(bars) + len(lines) == 4 and len(lines) == 2
    summary = pd.read_excel(book_path(book), sheet_name="Territory summary", engine="calamine")
    for series, alignment in zip(bars[:2], ("current", "proposed")):
        territories = _values(book, series.cat.strRef.f if series.cat.strRef else series.cat.numRef.f)
        shares = _values(book, series.val.numRef.f)
        rows = summary[summary["Alignment"] == alignment].set_index("Territory")
        assert territories == list(rows.index)
        assert np.allclose(shares, 1 + rows.loc[territories, DEVIATION].to_numpy())
    band = [_values(book, s.val.numRef.f) for s in lines]
    assert set(band[0]) == {0.95} and set(band[1]) == {1.05}
    assert len(moved_chart.series) == 2
    moves = pd.read_excel(book_path(book), sheet_name="Moves", engine="calamine")
    out = _values(book, moved_chart.series[0].val.numRef.f)
    territories = _values(book, moved_chart.series[0].cat.strRef.f)
    current = summary[summary["Alignment"] == "current"].set_index("Territory")["Accounts"]
    counts = moves["From territory"].value_counts()
    assert np.allclose(out, [counts.get(t, 0) / current[t] for t in territories])


def book_path(book) -> Path:
    return book._territory_path


@pytest.fixture(autouse=True, scope="module")
def _remember_path(book, rebalanced):
    book._territory_path = rebalanced


def test_the_score_chart_counts_the_tiers(folder):
    out = folder / "scored.xlsx"
    done = territory("score", folder / "demo.xlsx", "--output", out)
    assert done.returncode == 0, done.stderr
    book = openpyxl.load_workbook(out)
    (chart,) = book["Charts"]._charts
    (series,) = chart.series
    tiers, counts = _values(book, series.cat.strRef.f), _values(book, series.val.numRef.f)
    scored = pd.read_excel(out, sheet_name="Scored accounts", engine="calamine")
    assert dict(zip(tiers, counts)) == scored["Tier"].value_counts().to_dict()
    assert book["Scored accounts"].cell(2, column(book["Scored accounts"], "Score")).number_format == "0.000"


# ----------------------------------------------------------------------------------------------
# readers of our own outputs accept both names
# ----------------------------------------------------------------------------------------------


def test_map_reads_the_proposal_under_either_name(folder, rebalanced):
    from_xlsx = map_verb(Inputs(accounts=read_tables(rebalanced)["accounts"]))
    from_csv = map_verb(Inputs(accounts=read_tables(folder / "proposed.csv")["accounts"])) \
        if (folder / "proposed.csv").exists() else None
    assert from_xlsx.proposed is not None and from_xlsx.accounts["moved"].sum() > 0
    if from_csv is not None:
        assert from_xlsx.accounts["moved"].sum() == from_csv.accounts["moved"].sum()
        assert (from_xlsx.accounts["move_reason"] == from_csv.accounts["move_reason"]).all()
    done = territory("map", rebalanced, "--output", folder / "map.html")
    assert done.returncode == 0, done.stderr


def test_a_previous_result_is_rebalanced_and_scored_without_duplicate_columns(folder, rebalanced):
    again = folder / "again.xlsx"
    done = territory("rebalance", rebalanced, "--output", again)
    assert done.returncode in (0, 3), done.stderr
    titles = header(openpyxl.load_workbook(again, read_only=True)["Proposed alignment"])
    assert titles.count("Proposed territory") == 1
    assert not [t for t in titles if str(t).startswith("Proposed territory (")]
    scored, rescored = folder / "scored1.xlsx", folder / "scored2.xlsx"
    assert territory("score", folder / "demo.xlsx", "--output", scored).returncode == 0
    assert territory("score", scored, "--output", rescored).returncode == 0
    titles = header(openpyxl.load_workbook(rescored, read_only=True)["Scored accounts"])
    assert titles.count("Score") == 1 and titles.count("Tier") == 1, titles


# ----------------------------------------------------------------------------------------------
# cells written as XML: what they hold, read back by openpyxl and by our own reader
# ----------------------------------------------------------------------------------------------


def test_cells_hold_what_was_written(tmp_path):
    texts = ["=1+1", "  lead", "tail ", "a & b < c > d", "bell\x07", "_x0041_", "Café ü 東京", "-1", "007"]
    frame = pd.DataFrame({
        "text": texts,
        "number": [1.5, -2.0, 1e-7, 1e20, 12345678.9, 0.0, np.nan, 3.0, 4.0],
        "whole": np.arange(9, dtype=np.int64) * 1_000_000_007,
        "flag": [True, False] * 4 + [True],
        "when": [dt.date(2024, 2, 29)] * 8 + [None],
        "stamp": pd.to_datetime(["2024-01-02 03:04:05"] * 9),
    })
    out = write_tables(tmp_path / "cells.xlsx", {"Data": frame})
    sheet = openpyxl.load_workbook(out)["Data"]
    rows = list(sheet.iter_rows(min_row=2, values_only=True))
    # openpyxl shows Excel's escapes of control characters as stored (bell_x0007_, _x005F_x0041_);
    # Excel and our own reader (python-calamine) read them back as written.
    assert [r[0] for r in rows] == texts[:4] + ["bell_x0007_", "_x005F_x0041_"] + texts[6:]
    assert all(sheet.cell(r, 1).data_type == "s" for r in range(2, 11))
    assert [r[1] for r in rows[:6]] == [1.5, -2.0, 1e-7, 1e20, 12345678.9, 0.0] and rows[6][1] is None
    assert [r[2] for r in rows] == [i * 1_000_000_007 for i in range(9)]
    assert [r[3] for r in rows] == [True, False] * 4 + [True]
    assert rows[0][4] == dt.datetime(2024, 2, 29) and rows[8][4] is None
    assert sheet.cell(2, 5).number_format == "yyyy-mm-dd"
    assert rows[0][5] == dt.datetime(2024, 1, 2, 3, 4, 5)
    ours = read_tables(out)["accounts"].frame
    assert list(ours.iloc[:, 0]) == texts


def test_a_full_sheet_of_rows_is_refused_only_past_excels_last_row(tmp_path):
    from territory_engine.errors import InputError

    frame = pd.DataFrame({"a": np.zeros(1_048_576)})
    with pytest.raises(InputError, match="more than an Excel sheet holds"):
        write_tables(tmp_path / "big.xlsx", {"Data": frame})
    assert not list(tmp_path.iterdir())
