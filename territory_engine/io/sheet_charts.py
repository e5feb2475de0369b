"""The native charts drawn on a result sheet beside its own table (the add-in's sheets).

The add-in writes each result to a sheet of the open workbook, and its sheets of different
actions live side by side (the Sizing sheet of How many reps next to the Compare sheet of Compare
scenarios). So its charts go on the sheet whose figures they show, to the right of the table,
reading that table's cells: change a figure and the chart follows, delete the sheet and the chart
goes with it. (The command line writes a new file per command, whose Charts sheet holds the same
charts: :mod:`territory_engine.io.charts`.)

A chart reads one block of **adjacent** columns, over a run of adjacent rows, with the categories
(the x axis) from another column of the same rows: the one shape every Excel engine accepts as a
chart's source (desktop Excel, and xlwings Lite, which has no multi-area ranges). The result tables
put the columns a chart reads next to each other for this (:data:`territory_engine.workflow.sizing.
SIZING_COLUMNS`, the Territories side by side sheet).

* **Sizing** (How many reps): against the number of territories, the busiest and the lightest rep's
  hours and their capacity as lines on the left axis, the potential per rep on a right-hand axis.
* **Compare**: each scenario's largest deviation from target, as columns.
* **Territories side by side**: each territory's deviation from target in each scenario.
* **Territory summary** (Measure, Rebalance): each territory's deviation from target in the proposed
  alignment (in the current one when there is no proposal).

Every chart is a pure function of the result's name and its table, so a sheet put back as it was
(:mod:`excel_addin.results`) gets back the charts of the cells put back.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

__all__ = ["SheetChart", "sheet_charts", "CHART_TITLES", "CHARTED", "SIZING_TITLE", "SIZING_NAMES",
           "DEVIATION_ENDINGS", "deviation_column"]

# --- the look of the charts (about files, not algorithms) ------------------------------
CHART_WIDTH_PT = 480.0  # points; wider by 12 pt a category beyond 40
CHART_HEIGHT_PT = 288.0
MAX_CHART_WIDTH_PT = 3000.0
MAX_SERIES_NAME = 255  # Excel's longest series name (xlwings refuses longer)


@dataclass(frozen=True)
class SheetChart:
    """One chart on a result sheet, in the sheet's own cells (columns 0-based, rows 1-based as in
    Excel, the header being row 1).

    The series are the adjacent columns ``first`` to ``last``, each over the rows ``top`` to
    ``bottom``, named ``names``; the x axis reads the column ``categories`` over the same rows.
    The columns in ``secondary`` are drawn as lines on a right-hand axis.
    """

    title: str
    kind: str  # "line" (lines with markers) or "column" (clustered columns)
    categories: int
    first: int
    last: int
    top: int
    bottom: int
    names: tuple[str, ...]
    secondary: tuple[int, ...] = ()
    x_title: str = ""
    y_title: str = ""
    y_format: str = "#,##0"
    y2_title: str = ""
    y2_format: str = "#,##0"
    anchor_column: int = 0  # 0-based column of the chart's top-left corner, in row 2

    @property
    def points(self) -> int:
        """Values in each series."""
        return self.bottom - self.top + 1

    @property
    def width(self) -> float:
        """The chart's width in points: wider for many categories."""
        return min(MAX_CHART_WIDTH_PT, max(CHART_WIDTH_PT, 12.0 * self.points))

    @property
    def height(self) -> float:
        return CHART_HEIGHT_PT


SIZING_TITLE = "Workload and potential per rep by number of territories"
_COMPARE_TITLE = "Largest deviation from target by scenario"
_SIDE_TITLE = "Deviation from target by territory and scenario"
_SUMMARY_TITLE = "Deviation from target by territory"
CHART_TITLES = frozenset({SIZING_TITLE, _COMPARE_TITLE, _SIDE_TITLE,
                          _SUMMARY_TITLE + " (proposed)", _SUMMARY_TITLE + " (current)"})
"""The titles of the add-in's charts: how a writer without chart names tells its charts from the user's."""

SIZING_NAMES = {"busiest rep hours": "Busiest rep (hours)", "lightest rep hours": "Lightest rep (hours)",
                "capacity hours": "Capacity (hours)", "potential per rep": "Potential per rep"}
"""The Sizing sheet's columns a chart draws, and their series names (both writers' charts)."""
DEVIATION_ENDINGS = (": deviation", ": deviation (weighted mix)")
"""How a scenario's deviation column on the Territories side by side sheet ends."""


def deviation_column(columns) -> str | None:
    """The territory summary's deviation column (``deviation``, ``deviation (weighted mix)``), if any."""
    return next((c for c in columns if isinstance(c, str) and c.startswith("deviation")), None)


def _present(frame: pd.DataFrame, column: str) -> bool:
    return column in frame.columns and bool(pd.to_numeric(frame[column], errors="coerce").notna().any())


def _run(columns: list, wanted: list[str]) -> tuple[int, int] | None:
    """The first and last position of ``wanted`` among ``columns`` when they are adjacent, in order."""
    if not wanted or any(w not in columns for w in wanted):
        return None
    first = columns.index(wanted[0])
    if columns[first:first + len(wanted)] != wanted:
        return None
    return first, first + len(wanted) - 1


def _names(names) -> tuple[str, ...]:
    return tuple(str(n)[:MAX_SERIES_NAME] for n in names)


def _sizing(frame: pd.DataFrame) -> SheetChart | None:
    columns = list(frame.columns)
    if "territories" not in columns or not len(frame):
        return None
    series = tuple(SIZING_NAMES)
    present = [j for j, c in enumerate(series) if _present(frame, c)]
    if not present:
        return None
    wanted = list(series[present[0]:present[-1] + 1])  # a blank column between stays, drawn blank
    run = _run(columns, wanted)
    if run is None:
        return None
    secondary = tuple(columns.index(c) for c in wanted if c == "potential per rep" and len(wanted) > 1)
    return SheetChart(SIZING_TITLE, "line", columns.index("territories"), run[0], run[1], 2, len(frame) + 1,
                      _names(SIZING_NAMES[c] for c in wanted), secondary, "Number of territories",
                      "Hours per year" if len(wanted) > 1 or wanted[0] != "potential per rep" else "Potential per rep",
                      y2_title="Potential per rep" if secondary else "", anchor_column=len(columns) + 1)


def _compare(frame: pd.DataFrame) -> SheetChart | None:
    columns = list(frame.columns)
    if not {"scenario", "largest deviation"} <= set(columns) or not _present(frame, "largest deviation"):
        return None
    j = columns.index("largest deviation")
    return SheetChart(_COMPARE_TITLE, "column", columns.index("scenario"), j, j, 2, len(frame) + 1,
                      ("Largest deviation",), x_title="Scenario", y_title="Largest deviation", y_format="0%",
                      anchor_column=len(columns) + 1)


def _side_by_side(frame: pd.DataFrame) -> SheetChart | None:
    columns = list(frame.columns)
    if "territory" not in columns or not len(frame):
        return None
    wanted = [c for c in columns if isinstance(c, str) and c.endswith(DEVIATION_ENDINGS)]
    run = _run(columns, wanted)
    if run is None or not any(_present(frame, c) for c in wanted):
        return None
    names = _names(c[:c.rindex(": deviation")] for c in wanted)
    return SheetChart(_SIDE_TITLE, "column", columns.index("territory"), run[0], run[1], 2, len(frame) + 1, names,
                      x_title="Territory", y_title="Deviation from target", y_format="0%",
                      anchor_column=len(columns) + 1)


def _summary(frame: pd.DataFrame) -> SheetChart | None:
    columns = list(frame.columns)
    deviation = deviation_column(columns)
    if "territory" not in columns or deviation is None or not _present(frame, deviation):
        return None
    alignment = (frame["alignment"].astype(str).to_numpy() if "alignment" in columns
                 else ["current"] * len(frame))
    which = "proposed" if "proposed" in set(alignment) else "current"
    rows = [i for i, a in enumerate(alignment) if a == which]
    if not rows or rows != list(range(rows[0], rows[-1] + 1)) or not _present(frame.iloc[rows], deviation):
        return None
    j = columns.index(deviation)
    return SheetChart(f"{_SUMMARY_TITLE} ({which})", "column", columns.index("territory"), j, j, rows[0] + 2,
                      rows[-1] + 2, (f"{which.capitalize()} deviation",), x_title="Territory",
                      y_title="Deviation from target", y_format="0%", anchor_column=len(columns) + 1)


_RULES = {"Sizing": _sizing, "Compare": _compare, "Territories side by side": _side_by_side,
          "Territory summary": _summary}
CHARTED = frozenset(_RULES)
"""The results whose sheets get charts."""


def sheet_charts(result: str, frame: pd.DataFrame) -> tuple[SheetChart, ...]:
    """The charts of result ``result``'s sheet holding ``frame`` (engine column names, every row)."""
    rule = _RULES.get(result)
    chart = rule(frame) if rule is not None else None
    return () if chart is None else (chart,)
