"""Native Excel charts of a result (xlsxwriter's chart API): live, editable, on a sheet of their own.

A workbook with a territory summary gets a **Charts** sheet: each chart's figures as a small Excel
Table on the left, the chart beside it, reading its series from that table (change a figure and the
chart follows). The charts go on a sheet of their own rather than beside the result tables because
those tables are as long as the accounts and as wide as their columns (a chart there covers data or
sits thousands of rows away) and because the summary holds the current and proposed rows one below
the other, while a chart needs them side by side; the Charts sheet also prints as one page.

* **Balance by territory** (``territory rebalance`` and ``territory measure``): each territory's
  load as a share of its target (the weighted mix of the balance measures: 1 + its deviation),
  current and proposed as clustered columns, and the tolerance band (1 - tolerance, 1 + tolerance)
  as two lines, when the Settings used sheet gives the tolerance.
* **Moved share by territory** (``territory rebalance`` with a current alignment): the share of each
  territory's current accounts that move out and of its proposed accounts that move in.
* **Tier distribution** (``territory score``): accounts per tier.
* **Workload and potential per rep** (``territory size``): against the number of territories, the
  busiest and the lightest rep's hours and their capacity as lines on the left axis, the potential
  per rep as a line on the right axis.
* **Largest deviation by scenario** and **Balance by territory and scenario** (``territory compare``):
  each scenario's largest deviation, and each territory's share of target in each scenario (from
  the Compare and Territories side by side sheets).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Mapping

import numpy as np
import pandas as pd

from ..errors import column_letter
from .sheet_charts import DEVIATION_ENDINGS, SIZING_NAMES, SIZING_TITLE, deviation_column

__all__ = ["CHART_SHEET", "ChartTable", "chart_tables", "write_charts", "charts_after"]

CHART_SHEET = "Charts"
"""The name of the sheet of charts (made unique among the result's sheets)."""

_CHART_WIDTH_PX = 720  # a chart's width for up to 40 territories; wider by 18 px a territory above
_CHART_HEIGHT_PX = 360
_MAX_CHART_WIDTH_PX = 4000


@dataclass(frozen=True)
class ChartTable:
    """One chart and the table of figures it reads.

    ``frame``: the figures (first column the categories); ``formats``: each column's number
    format (None: General); ``kind``: ``"column"``; ``bars``: the columns drawn as columns;
    ``lines``: the columns drawn as lines over them (the tolerance band); ``title``, ``y_title``.
    """

    name: str
    title: str
    frame: pd.DataFrame
    formats: tuple[str | None, ...]
    bars: tuple[str, ...]
    lines: tuple[str, ...] = ()
    y_title: str = ""
    x_title: str = "Territory"
    percent: bool = True
    extra: dict = field(default_factory=dict)
    kind: str = "column"  # "line": ``bars`` drawn as lines
    secondary: tuple[str, ...] = ()  # columns drawn as lines on a right-hand axis
    y2_title: str = ""


def charts_after(sheets: Mapping[str, pd.DataFrame]) -> str | None:
    """The result sheet after which the Charts sheet goes (None: no charts)."""
    if not chart_tables(sheets):
        return None
    for name in ("Sizing", "Balance", "Territory summary", "Scored accounts", "Territories side by side"):
        if name in sheets:
            return name
    return None


def _tolerance(sheets: Mapping[str, pd.DataFrame]) -> float | None:
    table = sheets.get("Settings used")
    if table is None or "key" not in table or "value" not in table:
        return None
    values = table.loc[table["key"] == "tolerance", "value"]
    try:
        return float(values.iloc[0]) if len(values) else None
    except (TypeError, ValueError):
        return None


def _balance(sheets: Mapping[str, pd.DataFrame]) -> ChartTable | None:
    summary = sheets.get("Territory summary")
    if summary is None or not len(summary) or "territory" not in summary:
        return None
    deviation = deviation_column(summary.columns)
    if deviation is None:
        return None
    alignment = summary["alignment"] if "alignment" in summary else pd.Series("current", index=summary.index)
    figures: dict[str, pd.Series] = {}
    for name, label in (("current", "Current"), ("proposed", "Proposed")):
        rows = summary[alignment == name]
        if len(rows):
            figures[label] = pd.Series(1 + rows[deviation].to_numpy(dtype=float),
                                       index=rows["territory"].astype(str).to_numpy())
    if not figures:
        return None
    order = list(dict.fromkeys([t for s in figures.values() for t in s.index]))
    frame = pd.DataFrame({"Territory": order})
    for label, series in figures.items():
        frame[f"{label} share of target"] = series.reindex(order).to_numpy()
    bars = tuple(c for c in frame.columns[1:])
    lines: tuple[str, ...] = ()
    tolerance = _tolerance(sheets)
    if tolerance is not None:
        frame["Lower band"] = 1 - tolerance
        frame["Upper band"] = 1 + tolerance
        lines = ("Lower band", "Upper band")
    what = "weighted mix" if " (weighted mix)" in deviation else "balance measure"
    return ChartTable("Balance_by_territory", f"Balance by territory: share of target ({what})", frame,
                      (None,) + ("0.0%",) * (frame.shape[1] - 1), bars, lines, "Share of target")


def _moved(sheets: Mapping[str, pd.DataFrame]) -> ChartTable | None:
    summary, moves = sheets.get("Territory summary"), sheets.get("Moves")
    if summary is None or moves is None or "alignment" not in summary or not {"from", "to"} <= set(moves.columns):
        return None
    current = summary[summary["alignment"] == "current"]
    proposed = summary[summary["alignment"] == "proposed"]
    if not len(current) or not len(proposed):
        return None
    before = pd.Series(current["accounts"].to_numpy(dtype=float), index=current["territory"].astype(str).to_numpy())
    after = pd.Series(proposed["accounts"].to_numpy(dtype=float), index=proposed["territory"].astype(str).to_numpy())
    order = list(dict.fromkeys(list(before.index) + list(after.index)))
    out = moves["from"].astype(str).value_counts().reindex(order, fill_value=0).to_numpy(dtype=float)
    into = moves["to"].astype(str).value_counts().reindex(order, fill_value=0).to_numpy(dtype=float)
    held, holds = before.reindex(order, fill_value=0).to_numpy(), after.reindex(order, fill_value=0).to_numpy()
    frame = pd.DataFrame({
        "Territory": order,
        "Moved out (share of current accounts)": np.divide(out, held, out=np.zeros(len(order)), where=held > 0),
        "Moved in (share of proposed accounts)": np.divide(into, holds, out=np.zeros(len(order)), where=holds > 0),
    })
    return ChartTable("Moved_share_by_territory", "Moved share by territory", frame, (None, "0.0%", "0.0%"),
                      tuple(frame.columns[1:]), (), "Share of accounts")


def _tiers(sheets: Mapping[str, pd.DataFrame]) -> ChartTable | None:
    scored = sheets.get("Scored accounts")
    if scored is None or "tier" not in scored:
        return None
    counts = scored["tier"].dropna().astype(str).value_counts().sort_index()
    if not len(counts):
        return None
    frame = pd.DataFrame({"Tier": counts.index.to_list(), "Accounts": counts.to_numpy(dtype=int)})
    return ChartTable("Tier_distribution", "Accounts by tier", frame, (None, "#,##0"), ("Accounts",), (),
                      "Accounts", "Tier", percent=False)


def _sizing(sheets: Mapping[str, pd.DataFrame]) -> ChartTable | None:
    sizing = sheets.get("Sizing")
    if sizing is None or not len(sizing) or "territories" not in sizing:
        return None
    frame = pd.DataFrame({"Territories": sizing["territories"].to_numpy(dtype=int)})
    for name, title in SIZING_NAMES.items():
        if name in sizing and sizing[name].notna().any():
            frame[title] = sizing[name].to_numpy(dtype=float)
    hours = tuple(c for c in frame.columns[1:] if c != "Potential per rep")
    secondary = ("Potential per rep",) if "Potential per rep" in frame else ()
    if not hours and not secondary:
        return None
    return ChartTable("Workload_and_potential_per_rep", SIZING_TITLE,
                      frame, (None,) + ("#,##0",) * (frame.shape[1] - 1), hours, (), "Hours per year",
                      "Number of territories", percent=False, kind="line", secondary=secondary,
                      y2_title="Potential per rep")


def _compare(sheets: Mapping[str, pd.DataFrame]) -> list[ChartTable]:
    """The charts of ``territory compare``: largest deviation per scenario, share of target per territory."""
    compare, side = sheets.get("Compare"), sheets.get("Territories side by side")
    out = []
    if compare is not None and {"scenario", "largest deviation"} <= set(compare.columns) and len(compare):
        frame = pd.DataFrame({"Scenario": compare["scenario"].astype(str).to_numpy(),
                              "Largest deviation": compare["largest deviation"].to_numpy(dtype=float)})
        out.append(ChartTable("Largest_deviation_by_scenario", "Largest deviation from target by scenario", frame,
                              (None, "0.0%"), ("Largest deviation",), (), "Largest deviation", "Scenario"))
    if side is not None and "territory" in side.columns and len(side):
        frame = pd.DataFrame({"Territory": side["territory"].astype(str).to_numpy()})
        for column in side.columns:
            ending = next((e for e in DEVIATION_ENDINGS if str(column).endswith(e)), None)
            if ending is not None:
                frame[f"{str(column)[:-len(ending)]} share of target"] = 1 + side[column].to_numpy(dtype=float)
        if frame.shape[1] > 1:
            out.append(ChartTable("Balance_by_territory_and_scenario", "Load by territory and scenario: share of "
                                  "target", frame, (None,) + ("0.0%",) * (frame.shape[1] - 1),
                                  tuple(frame.columns[1:]), (), "Share of target"))
    return out


def chart_tables(sheets: Mapping[str, pd.DataFrame]) -> list[ChartTable]:
    """The charts of a result, by its sheets (engine column names): see the module docstring."""
    return [t for t in (_sizing(sheets), _balance(sheets), _moved(sheets), _tiers(sheets)) if t is not None] + \
        _compare(sheets)


def _series(chart, sheet: str, table: ChartTable, column: str, first_col: int, colour: str | None,
            line: bool | str = False) -> None:
    j = first_col + list(table.frame.columns).index(column)
    n = len(table.frame)
    quoted = "'" + sheet.replace("'", "''") + "'"
    spec: dict[str, Any] = {
        "name": [sheet, 0, j],
        "categories": f"={quoted}!${column_letter(first_col)}$2:${column_letter(first_col)}${n + 1}",
        "values": f"={quoted}!${column_letter(j)}$2:${column_letter(j)}${n + 1}",
    }
    if line == "series":
        spec["line"] = {"color": colour, "width": 2.25}
        spec["marker"] = {"type": "circle", "size": 5, "fill": {"color": colour}, "border": {"color": colour}}
    elif line == "right":
        spec["line"] = {"color": colour, "width": 2.25, "dash_type": "dash"}
        spec["marker"] = {"type": "square", "size": 5, "fill": {"color": colour}, "border": {"color": colour}}
        spec["y2_axis"] = True
    elif line:
        spec["line"] = {"color": "#404040", "width": 1.5, "dash_type": "dash"}
        spec["marker"] = {"type": "none"}
    elif colour:
        spec["fill"] = {"color": colour}
        spec["border"] = {"color": "#000000", "width": 0.5}
    chart.add_series(spec)


_BAR_COLOURS = ("#A6A6A6", "#1F4E79", "#F4B183",  # light grey, dark blue, light orange: apart in grey too
                "#548235", "#7030A0", "#C00000")  # then green, purple, red for a fourth to sixth scenario


def write_charts(book, name: str, tables: list[ChartTable], formats: Mapping[str, Any]) -> None:
    """Add the sheet ``name`` to the xlsxwriter ``book``: each chart's table (an Excel Table) and the
    chart beside it. ``formats``: number format text -> xlsxwriter Format."""
    sheet = book.add_worksheet(name)
    col = 0
    row_for_chart = 0
    for table in tables:
        frame = table.frame
        columns = []
        for j, title in enumerate(frame.columns):
            fmt = formats.get(table.formats[j]) if table.formats[j] else None
            columns.append({"header": str(title), **({"format": fmt} if fmt is not None else {})})
            sheet.set_column(col + j, col + j, max(12, min(len(str(title)) + 4, 40)))
        data = [[None if (isinstance(v, float) and np.isnan(v)) else (v.item() if isinstance(v, np.generic) else v)
                 for v in row] for row in frame.itertuples(index=False)]
        sheet.add_table(0, col, max(len(frame), 1), col + frame.shape[1] - 1,
                        {"name": table.name, "columns": columns, "data": data, "style": "Table Style Light 1"})
        chart = book.add_chart({"type": table.kind})
        for k, column in enumerate(table.bars):
            _series(chart, name, table, column, col, _BAR_COLOURS[k % len(_BAR_COLOURS)],
                    line="series" if table.kind == "line" else False)
        for column in table.secondary:
            _series(chart, name, table, column, col, "#C55A11", line="right")
        if table.secondary:
            chart.set_y2_axis({"name": table.y2_title, "num_format": "#,##0"})
        if table.lines:
            lines = book.add_chart({"type": "line"})
            for column in table.lines:
                _series(lines, name, table, column, col, None, line=True)
            chart.combine(lines)
        chart.set_title({"name": table.title})
        chart.set_x_axis({"name": table.x_title})
        chart.set_y_axis({"name": table.y_title, "num_format": "0%" if table.percent else "#,##0",
                          "major_gridlines": {"visible": True, "line": {"color": "#D9D9D9"}}})
        chart.set_legend({"position": "bottom"})
        width = min(_MAX_CHART_WIDTH_PX, max(_CHART_WIDTH_PX, 18 * len(frame)))
        chart.set_size({"width": width, "height": _CHART_HEIGHT_PX})
        chart_col = sum(t.frame.shape[1] + 1 for t in tables)
        sheet.insert_chart(row_for_chart, chart_col, chart)
        row_for_chart += 20
        col += frame.shape[1] + 1
    sheet.freeze_panes(1, 0)
