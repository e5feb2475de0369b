"""The charts of the fake xlwings book (``tests/fake_xlwings.py``), as xlwings 0.37.8 gives them
(``xlwings/main.py``: ``Charts``, ``Chart``, ``ChartSeries``, ``ChartAxis``, ``ChartLegend``) and
Excel behind it behaves:

* ``Charts.add(left, top, width, height, chart_type, source, plot_by, name, anchor, style)`` refuses
  ``anchor`` together with ``top``/``left``, ``plot_by`` without ``source``, a chart type or plot-by
  xlwings does not know, and a name already on the sheet (``ShapeAlreadyExists``).
* ``set_source_data(range, plot_by="columns")`` makes one series per column of the range. As
  Excel decides it, the range's first row names the series when it holds text over numbers;
  else the series are ``Series1``, ``Series2``, ... and every row is a value.
* ``set_x_axis_values(range)`` sets every series' categories.
* Iterating gives, on macOS and in xlwings Lite, each chart by its place on the sheet, looked up when
  used (a deletion shifts the charts after it); on Windows the chart objects themselves.
* ``series[k].set(name=, chart_type=, axis_group=)`` refuses a name over 255 characters (xlwings'
  ``_chart_series_name``) and any other keyword; ``chart.series`` is refused on xlwings Lite
  (``platform="emscripten"``), where xlwings documents ``await chart.get_series()`` instead.
* ``title``, ``legend.position``, ``category_axis`` / ``value_axis`` / ``secondary_value_axis``
  ``.set(title=, number_format=)``; a secondary axis only while a series is on it.

A series records its values and categories as the sheet's cell ranges (row and column corners), so
a test checks what the chart reads against the cells written.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

CHART_TYPES = frozenset({"line", "line_markers", "column_clustered", "bar_clustered", "pie", "area"})
"""The chart types the add-in may use, all in xlwings' ``CHART_TYPES`` (a subset: others raise here)."""
AXIS_GROUPS = frozenset({"primary", "secondary"})
LEGEND_POSITIONS = frozenset({"bottom", "corner", "left", "right", "top"})


class ShapeAlreadyExists(Exception):
    """xlwings' error for a shape name already on the sheet."""


class XlwingsError(Exception):
    """xlwings' error for what an engine cannot do."""


@dataclass
class FakeAxis:
    chart: "FakeChart"
    which: str
    title: str | None = None
    number_format: str | None = None

    def set(self, *, title: Any = None, number_format: Any = None) -> None:
        if self.which.startswith("secondary") and not any(s.axis_group == "secondary" for s in self.chart._series):
            raise XlwingsError("a chart has secondary axes only while a series is plotted on them")
        if title is not None and not isinstance(title, str) or number_format is not None and not isinstance(
                number_format, str):
            raise ValueError("an axis title and number format are text")
        if title is not None:
            self.title = title
        if number_format is not None:
            self.number_format = number_format


@dataclass
class FakeSeries:
    chart: "FakeChart"
    name: str
    values: tuple[int, int, int, int]  # (r1, c1, r2, c2) of the sheet
    categories: tuple[int, int, int, int] | None = None
    chart_type: str | None = None
    axis_group: str = "primary"

    def set(self, *, name: Any = None, chart_type: Any = None, axis_group: Any = None) -> None:
        if name is not None and not (isinstance(name, str) and len(name) <= 255):
            raise ValueError(f"Invalid series name {name!r}. Must be a string of at most 255 characters.")
        if chart_type is not None and chart_type not in CHART_TYPES:
            raise ValueError(f"Invalid chart type {chart_type!r}")
        if axis_group is not None and axis_group not in AXIS_GROUPS:
            raise ValueError(f"Invalid axis group {axis_group!r}")
        if chart_type is not None:
            self.chart_type = chart_type
        if axis_group is not None:
            self.axis_group = axis_group
        if name is not None:
            self.name = str(name)


@dataclass
class FakeLegend:
    _position: str | None = None

    @property
    def position(self) -> str | None:
        return self._position

    @position.setter
    def position(self, value: str) -> None:
        if value not in LEGEND_POSITIONS:
            raise ValueError(f"Invalid legend position {value!r}")
        self._position = value


@dataclass
class FakeChart:
    charts: "FakeCharts"
    name: str
    chart_type: str
    left: float
    top: float
    width: float
    height: float
    title: str | None = None
    _series: list[FakeSeries] = field(default_factory=list)
    legend: FakeLegend = field(default_factory=FakeLegend)

    def __post_init__(self) -> None:
        self.category_axis = FakeAxis(self, "category")
        self.value_axis = FakeAxis(self, "value")
        self.secondary_value_axis = FakeAxis(self, "secondary_value")

    @property
    def series(self) -> list[FakeSeries]:
        if self.charts.sheet.book.platform not in ("win32", "darwin"):
            raise XlwingsError("In xlwings Lite, use series = await chart.get_series() instead of chart.series")
        return list(self._series)

    def set_source_data(self, source: Any, plot_by: str | None = None) -> None:
        if plot_by not in (None, "columns"):
            raise NotImplementedError("the fake plots by columns only")
        r1, c1, r2, c2 = source.corners
        sheet = self.charts.sheet
        top = [sheet.value_at(r1, c) for c in range(c1, c2 + 1)]
        below = [sheet.value_at(r, c) for r in range(r1 + 1, r2 + 1) for c in range(c1, c2 + 1)]
        named = r2 > r1 and all(isinstance(v, str) for v in top) and any(
            isinstance(v, (int, float)) and not isinstance(v, bool) for v in below)
        first = r1 + 1 if named else r1
        self._series = [FakeSeries(self, top[c - c1] if named else f"Series{c - c1 + 1}", (first, c, r2, c))
                        for c in range(c1, c2 + 1)]

    def set_x_axis_values(self, source: Any) -> None:
        for series in self._series:
            series.categories = source.corners

    def delete(self) -> None:
        self.charts.sheet.book.log.append(("delete_chart", self.charts.sheet.name, self.name))
        self.charts._items.remove(self)


class _ByPlace:
    """A chart as macOS (AppleScript's ``chart object i``) and xlwings Lite (``charts[i]``) give it while
    iterating: its place on the sheet, looked up on every use, so a deletion before it shifts it."""

    def __init__(self, charts: "FakeCharts", index: int):
        self._charts, self._index = charts, index

    def _chart(self) -> FakeChart:
        if self._index >= len(self._charts._items):
            raise IndexError(f"can't get chart object {self._index + 1}")
        return self._charts._items[self._index]

    def __getattr__(self, name: str) -> Any:
        return getattr(self._chart(), name)


class FakeCharts:
    def __init__(self, sheet: Any):
        self.sheet = sheet
        self._items: list[FakeChart] = []

    def __len__(self) -> int:
        return len(self._items)

    def __iter__(self):
        if self.sheet.book.platform in ("darwin", "emscripten"):  # a chart by its place, looked up when used
            return iter([_ByPlace(self, i) for i in range(len(self._items))])
        return iter(list(self._items))

    def __contains__(self, name: str) -> bool:
        return any(c.name.lower() == name.lower() for c in self._items)

    def __getitem__(self, key: int | str) -> FakeChart:
        if isinstance(key, int):
            return self._items[key]
        for chart in self._items:
            if chart.name.lower() == key.lower():
                return chart
        raise KeyError(key)

    def add(self, left: float = 0, top: float = 0, width: float = 355, height: float = 211,
            chart_type: str | None = None, source: Any = None, plot_by: str | None = None, name: str | None = None,
            anchor: Any = None, style: int | None = 227) -> FakeChart:
        if anchor is not None and (top or left):
            raise ValueError("You must either provide 'anchor' or 'top'/'left', but not both.")
        if chart_type is not None and chart_type not in CHART_TYPES:
            raise ValueError(f"Invalid chart type {chart_type!r}")
        if plot_by is not None and source is None:
            raise ValueError("'plot_by' requires 'source'.")
        if name and name in self:
            raise ShapeAlreadyExists(f"'{name}' is already present on {self.sheet.name}.")
        if anchor is not None:
            left, top = anchor.left, anchor.top
        chart = FakeChart(self, name or f"Chart {len(self._items) + 1}", chart_type or "column_clustered",
                          left, top, width, height)
        self._items.append(chart)
        self.sheet.book.log.append(("add_chart", self.sheet.name, chart.name))
        if source is not None:
            chart.set_source_data(source, plot_by)
        return chart
