"""The add-in's native charts: drawn beside the table of the result they show, reading its cells.

Through a real .xlsx file (:class:`FileBook`, openpyxl), read back with openpyxl, and through the
fake xlwings book (:class:`ExcelBook`, xlwings' chart API as 0.37.8 gives it). Each chart's series
are followed back to the cells they read, which must hold the figures of the result.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import zipfile
from pathlib import Path

import openpyxl
import pandas as pd
import pytest
from fake_xlwings import FakeBook
from openpyxl.chart import BarChart, Reference

from addin_books import accounts_book, refusing
from excel_addin import ribbon
from excel_addin.book import CHART_NAME, FileBook, write_results
from excel_addin.excel_book import ExcelBook
from excel_addin.results import WriteFailed, cells_layout
from territory_engine.io.cells import frame_cells
from territory_engine.io.sheet_layout import sheet_layout
from territory_engine.workflow.sizing import SIZING_COLUMNS

HOURS = ["Busiest rep (hours)", "Lightest rep (hours)", "Capacity (hours)"]


def _book(tmp_path: Path, size_range: str = "3-5", plan_b: bool = False) -> Path:
    path = accounts_book(tmp_path / "book.xlsx")
    wb = openpyxl.load_workbook(path)
    if plan_b:  # a second alignment column: every fifth account in the next territory
        ws = wb["Accounts"]
        ws.cell(row=1, column=6, value="Territory plan B")
        for row in range(2, ws.max_row + 1):
            here = ws.cell(row=row, column=4).value
            ws.cell(row=row, column=6, value=f"T{int(here[1:]) % 4 + 1}" if row % 5 == 0 else here)
    settings = wb.create_sheet("Settings")
    settings.append(["key", "value"])
    settings.append(["size_range", size_range])
    wb.save(path)
    return path


def _press(path: Path, button: str) -> None:
    book = FileBook(path)
    assert ribbon.dispatch(button, book) is True, book.alerts
    book.save()


def _read(wb, reference: str) -> list:
    """The values of the cells a chart reference (``'Sizing'!$G$2:$G$4``) points at."""
    sheet, cells = re.fullmatch(r"'?(.*?)'?!(\$?[A-Z]+\$?\d+:\$?[A-Z]+\$?\d+)", reference).groups()
    return [row[0].value for row in wb[sheet.replace("''", "'")][cells.replace("$", "")]]


def _column(ws, header: str) -> list:
    headers = [c.value for c in ws[1]]
    j = headers.index(header) + 1
    return [ws.cell(row=r, column=j).value for r in range(2, ws.max_row + 1)]


def _title(chart) -> str | None:
    try:
        return "".join(r.t for p in chart.title.tx.rich.p for r in (p.r or ()))
    except AttributeError:
        return None


def _series(chart) -> list[tuple[str, str, str]]:
    """(name, values reference, categories reference) of every series, the right-hand axis' last."""
    out = []
    for part in [chart, *[c for c in getattr(chart, "_charts", []) if c is not chart]]:
        for s in part.series:
            out.append((s.tx.v, s.val.numRef.f, (s.cat.numRef or s.cat.strRef).f))
    return list(dict.fromkeys(out))


# --------------------------------------------------------------------------------------
# in the file (openpyxl)
# --------------------------------------------------------------------------------------


def test_how_many_reps_draws_a_line_chart_reading_the_sizing_sheets_own_cells(tmp_path):
    path = _book(tmp_path)
    _press(path, "HowManyReps")
    wb = openpyxl.load_workbook(path)
    ws = wb["Sizing"]
    (chart,) = ws._charts
    assert type(chart).__name__ == "LineChart"
    assert _title(chart) == "Workload and potential per rep by number of territories"
    series = _series(chart)
    assert [name for name, _, _ in series] == [*HOURS, "Potential per rep"]
    for name, values, categories in series:
        assert _read(wb, values) == _column(ws, name)  # the chart reads the sheet's own figures
        assert _read(wb, categories) == _column(ws, "Territories") == [3, 4, 5]
    right = [c for c in chart._charts if c is not chart and c.series]
    assert right and right[-1].y_axis.axId != chart.y_axis.axId  # potential per rep on its own axis
    assert chart.anchor._from.col >= ws.max_column  # beside the table, never over it


def test_a_rerun_replaces_the_add_ins_chart_and_keeps_the_users_own(tmp_path):
    path = _book(tmp_path)
    _press(path, "HowManyReps")
    wb = openpyxl.load_workbook(path)
    mine = BarChart()
    mine.title = "My chart"
    mine.add_data(Reference(wb["Sizing"], min_col=2, min_row=1, max_row=4), titles_from_data=True)
    wb["Sizing"].add_chart(mine, "A20")
    wb["Settings"]["B2"] = "3-6"
    wb.save(path)
    _press(path, "HowManyReps")
    wb = openpyxl.load_workbook(path)
    charts = wb["Sizing"]._charts
    assert sorted(_title(c) for c in charts) == ["My chart", "Workload and potential per rep by number of territories"]
    ours = next(c for c in charts if _title(c) != "My chart")
    assert all(_read(wb, categories) == [3, 4, 5, 6] for _, _, categories in _series(ours))


def test_a_failed_run_puts_back_the_chart_of_the_cells_it_put_back(tmp_path):
    path = _book(tmp_path)
    _press(path, "HowManyReps")
    before = [(n, v, c) for n, v, c in _series(openpyxl.load_workbook(path)["Sizing"]._charts[0])]
    book = refusing(FileBook(path), "Moves")  # Excel refuses the Moves sheet (protected, say)
    shorter = pd.DataFrame([[7] + [1.0] * (len(SIZING_COLUMNS) - 1)], columns=list(SIZING_COLUMNS))
    with pytest.raises(WriteFailed):
        write_results(book, {"Sizing": shorter, "Moves": pd.DataFrame({"account_id": ["A1"]})})
    book.save()
    (chart,) = openpyxl.load_workbook(path)["Sizing"]._charts
    assert _series(chart) == before


def test_the_chart_of_an_edited_sheet_kept_reads_that_sheet_not_the_new_result(tmp_path):
    path = _book(tmp_path)
    _press(path, "HowManyReps")
    wb = openpyxl.load_workbook(path)
    wb["Sizing"]["G2"] = 999  # the user edits a figure: the sheet is theirs from now on
    wb.save(path)
    _press(path, "HowManyReps")
    wb = openpyxl.load_workbook(path)
    (kept,) = wb["Sizing (edited)"]._charts
    assert _read(wb, _series(kept)[0][1])[0] == 999
    assert all(values.startswith("'Sizing (edited)'!") for _, values, _ in _series(kept))
    (fresh,) = wb["Sizing"]._charts
    assert all(values.startswith("'Sizing'!") for _, values, _ in _series(fresh))


def test_compare_scenarios_charts_each_scenarios_largest_deviation_and_each_territorys(tmp_path):
    path = _book(tmp_path, plan_b=True)
    _press(path, "CompareScenarios")
    wb = openpyxl.load_workbook(path)
    (chart,) = wb["Compare"]._charts
    ((name, values, categories),) = _series(chart)
    assert _read(wb, categories) == ["Territory", "Territory plan B"]
    assert _read(wb, values) == _column(wb["Compare"], "Largest deviation")
    side = wb["Territories side by side"]
    (chart,) = side._charts
    series = _series(chart)
    assert [name for name, _, _ in series] == ["Territory", "Territory plan B"]
    for name, values, categories in series:
        assert _read(wb, values) == _column(side, f"{name}: deviation")
        assert _read(wb, categories) == ["T1", "T2", "T3", "T4"]


@pytest.mark.parametrize("button, which", [("Measure", "current"), ("Rebalance", "proposed")])
def test_the_territory_summary_charts_each_territorys_deviation(tmp_path, button, which):
    path = _book(tmp_path)
    _press(path, button)
    wb = openpyxl.load_workbook(path)
    ws = wb["Territory summary"]
    (chart,) = ws._charts
    assert _title(chart) == f"Deviation from target by territory ({which})"
    rows = [r for r in range(2, ws.max_row + 1) if ws.cell(row=r, column=1).value == which]
    ((name, values, categories),) = _series(chart)
    deviation = [c.value for c in ws[1]].index("Deviation") + 1
    assert _read(wb, values) == [ws.cell(row=r, column=deviation).value for r in rows]
    assert _read(wb, categories) == [ws.cell(row=r, column=2).value for r in rows]


# --------------------------------------------------------------------------------------
# in Excel (xlwings' chart API, the fake book)
# --------------------------------------------------------------------------------------


def _sizing(n: int) -> pd.DataFrame:
    rows = [[8 + k, True, 0.02, True, 50.0, 30.0, 1500.0 - k, 1200.0 - k, 1440.0, 9e5 / (8 + k), 1.04, 1, 0.1,
             "fresh, ids kept", "territory centres", None] for k in range(n)]
    return pd.DataFrame(rows, columns=list(SIZING_COLUMNS))


def _at(fake: FakeBook, sheet: str, header: str) -> int:
    row = fake.sheets[sheet]
    return next(c for c in range(1, 40) if row.cells.get((1, c)) == header)


def test_excel_draws_the_sizing_chart_from_adjacent_columns_and_names_its_series():
    fake = FakeBook(["Accounts"])
    book = ExcelBook(fake, platform="win32")
    write_results(book, {"Sizing": _sizing(3)})
    sheet = fake.sheets["Sizing"]
    (chart,) = sheet.charts
    assert chart.name == f"{CHART_NAME} 1" and chart.chart_type == "line_markers"
    assert chart.title == "Workload and potential per rep by number of territories"
    columns = [_at(fake, "Sizing", h) for h in [*HOURS, "Potential per rep"]]
    assert [(s.name, s.values) for s in chart.series] == [
        (h, (2, c, 4, c)) for h, c in zip([*HOURS, "Potential per rep"], columns)]
    territories = _at(fake, "Sizing", "Territories")
    assert {s.categories for s in chart.series} == {(2, territories, 4, territories)}
    assert [s.axis_group for s in chart.series] == ["primary"] * 3 + ["secondary"]
    assert chart.secondary_value_axis.title == "Potential per rep" and chart.value_axis.title == "Hours per year"
    assert chart.legend.position == "bottom" and chart.left > sheet.range((1, len(SIZING_COLUMNS))).left

    sheet.charts.add(name="My chart", source=sheet.range((1, 1), (4, 1)))
    write_results(book, {"Sizing": _sizing(5)})
    assert sorted(c.name for c in sheet.charts) == ["My chart", f"{CHART_NAME} 1"]
    ours = sheet.charts[f"{CHART_NAME} 1"]
    assert {s.values[2] for s in ours.series} == {6}  # the five rows of the new table
    assert ("delete_chart", "Sizing", f"{CHART_NAME} 1") in fake.log


def test_xlwings_lite_draws_the_chart_without_reading_series():
    fake = FakeBook(["Accounts"], platform="emscripten")
    write_results(ExcelBook(fake, platform="emscripten"), {"Sizing": _sizing(3)})
    (chart,) = fake.sheets["Sizing"].charts
    # the header row names the series; the right-hand axis series is left out (no series access)
    assert [(s.name, s.values[0], s.axis_group) for s in chart._series] == [(h, 2, "primary") for h in HOURS]


def test_excel_charts_the_proposed_rows_of_a_territory_summary():
    fake = FakeBook(["Accounts"], platform="darwin")
    summary = pd.DataFrame({"alignment": ["current"] * 2 + ["proposed"] * 2, "territory": ["T1", "T2"] * 2,
                            "accounts": [5, 7, 6, 6], "deviation": [-0.2, 0.2, 0.01, -0.01]})
    write_results(ExcelBook(fake, platform="darwin"), {"Territory summary": summary})
    (chart,) = fake.sheets["Territory summary"].charts
    ((series),) = chart.series
    assert (series.name, series.values, series.categories) == ("Proposed deviation", (4, 4, 5, 4), (4, 2, 5, 2))
    assert chart.value_axis.number_format == "0%"


@pytest.mark.parametrize("platform", ["win32", "darwin", "emscripten"])
def test_a_rerun_deletes_only_the_add_ins_charts_wherever_the_users_sit(platform):
    fake = FakeBook(["Accounts"], platform=platform)
    book = ExcelBook(fake, platform=platform)
    write_results(book, {"Sizing": _sizing(3)})
    sheet = fake.sheets["Sizing"]
    # the user's charts after the add-in's: on macOS and in Lite a deletion shifts the charts after it
    for name in ("Territory chart overview (mine)", "My chart"):
        sheet.charts.add(name=name, source=sheet.range((1, 1), (4, 1)))
    write_results(book, {"Sizing": _sizing(4)})
    assert sorted(c.name for c in sheet.charts) == ["My chart", f"{CHART_NAME} 1", "Territory chart overview (mine)"]


def test_a_long_scenario_name_is_cut_to_excels_longest_series_name():
    fake = FakeBook(["Accounts"])
    long = "Plan " + "x" * 300
    side = pd.DataFrame({"territory": ["T1", "T2"], f"{long}: deviation": [0.1, -0.1], "B: deviation": [0.0, 0.0]})
    write_results(ExcelBook(fake, platform="win32"), {"Territories side by side": side})
    (chart,) = fake.sheets["Territories side by side"].charts
    assert [s.name for s in chart.series] == [long[:255], "B"]


# --------------------------------------------------------------------------------------
# a sheet put back gets back its charts
# --------------------------------------------------------------------------------------


def test_a_blank_column_draws_no_chart_of_its_header_and_a_blank_hour_stays_in_place():
    blank = pd.DataFrame({"scenario": ["A", "B"], "largest deviation": [None, None]})
    assert sheet_layout("Compare", blank).charts == ()
    summary = pd.DataFrame({"alignment": ["current"], "territory": ["T1"], "deviation": [float("nan")]})
    assert sheet_layout("Territory summary", summary).charts == ()
    sizing = _sizing(3)
    sizing["lightest rep hours"] = float("nan")
    (chart,) = sheet_layout("Sizing", sizing).charts
    assert chart.names == ("Busiest rep (hours)", "Lightest rep (hours)", "Capacity (hours)", "Potential per rep")


@pytest.mark.parametrize("result, frame", [
    ("Sizing", _sizing(4)),
    ("Compare", pd.DataFrame({"scenario": ["A", "B"], "largest deviation": [0.1, 0.3], "pieces": [0, 1]})),
    ("Territories side by side", pd.DataFrame({"territory": ["T1", "T2"], "A: deviation": [0.1, -0.1],
                                               "B: deviation (weighted mix)": [0.0, 0.0], "A: potential": [1, 2]})),
    ("Territory summary", pd.DataFrame({"alignment": ["current", "current", "proposed", "proposed"],
                                        "territory": ["T1", "T2", "T1", "T2"], "potential": [1.0, 2.0, 1.5, 1.5],
                                        "deviation": [-0.3, 0.3, 0.0, 0.0]})),
])
def test_the_charts_of_cells_put_back_are_the_charts_written(result, frame):
    written = sheet_layout(result, frame)
    assert len(written.charts) == 1
    cells = frame_cells(frame)
    cells[0] = list(written.headers)
    assert cells_layout(result, cells).charts == written.charts


# --------------------------------------------------------------------------------------
# another reader: LibreOffice opens the chart as written
# --------------------------------------------------------------------------------------


def test_libreoffice_reads_the_sizing_chart_with_potential_on_its_own_axis(tmp_path):
    soffice = shutil.which("soffice")
    if soffice is None:
        pytest.skip("LibreOffice (soffice) is not installed")
    path = _book(tmp_path)
    _press(path, "HowManyReps")
    out = tmp_path / "ods"
    subprocess.run([soffice, f"-env:UserInstallation={(tmp_path / 'profile').as_uri()}", "--headless",
                    "--convert-to", "ods", "--outdir", str(out), str(path)], check=True, capture_output=True,
                   timeout=300)
    with zipfile.ZipFile(out / "book.ods") as archive:
        charts = [archive.read(n).decode() for n in archive.namelist() if re.fullmatch(r"Object \d+/content.xml", n)]
    sizing = [c for c in charts if "Sizing.G2" in c]
    assert len(sizing) == 1 and 'chart:class="chart:line"' in sizing[0]
    series = re.findall(r'chart:values-cell-range-address="([^"]+)"[^>]*?chart:attached-axis="([a-z-]+)"|'
                        r'chart:attached-axis="([a-z-]+)"[^>]*?chart:values-cell-range-address="([^"]+)"', sizing[0])
    pairs = [(a or d, b or c) for a, b, c, d in series]
    assert pairs == [("Sizing.G2:Sizing.G4", "primary-y"), ("Sizing.H2:Sizing.H4", "primary-y"),
                     ("Sizing.I2:Sizing.I4", "primary-y"), ("Sizing.J2:Sizing.J4", "secondary-y")]
