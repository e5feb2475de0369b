"""The workbook open in Excel, through xlwings: the only code of the project that talks to Excel.

:class:`ExcelBook` implements :class:`excel_addin.book.Workbook` on an xlwings ``Book``
(desktop Excel through ``RunPython``, or an xlwings Lite book), with xlwings' documented,
cross-platform API only, except to hide a name (below).

* Sheets are found by name ignoring case, as Excel does.
* A sheet is read and written in bulk, a chunk of rows per call (:mod:`excel_addin.chunks`):
  its used range first, then one ``.value`` per chunk, error cells as their text
  (``err_to_str=True``: ``#N/A``, ``#DIV/0!``).
* Writing updates an existing sheet in place (``clear_contents``, then the new cells): the
  sheet object stays, so formulas elsewhere that point at it keep working, and so does the
  formatting of its cells. A new sheet goes after the last one.
* A sheet's mark is a sheet-scoped defined name holding a text constant (``="..."``); it is
  saved with the workbook and follows the sheet. It is hidden from the Name Manager through
  the native object: ``Visible = False`` on Windows (COM), ``visible`` set to false on macOS
  (AppleScript). xlwings Lite has no native object for it: there the name stays visible.
* A result table is formatted as the command line formats its workbooks (``format_sheet``, a
  :class:`~territory_engine.io.sheet_layout.SheetLayout`): one ``number_format`` per column, an
  Excel Table (``sheet.tables``) resized in place on a re-run, the status colours as
  ``conditional_formats`` (the add-in's earlier ones found by their formula and deleted first),
  widths autofitted on the first rows. The frozen header row is the active window's on desktop
  Excel (xlwings' ``freeze_panes`` works only in xlwings Lite/Server): through COM on Windows
  (``ActiveWindow``), through AppleScript on macOS, the sheet activated for it and the user's
  active sheet given back.
* A result's charts (``layout.charts``, :mod:`territory_engine.io.sheet_charts`) are xlwings'
  ``sheet.charts``, named ``Territory chart 1``, ...: each added from its block of adjacent columns
  (``set_source_data``, by columns), its categories set apart (``set_x_axis_values``), its title,
  axes and legend through xlwings' chart API; the add-in's earlier charts on the sheet are deleted
  first, by their name. On desktop Excel each series is named and a right-hand axis series set
  (``chart.series``); xlwings Lite lists series only with ``await``, so there the series take the
  header row's names and a chart leaves out its right-hand axis series.
"""

from __future__ import annotations

import re
import sys
import webbrowser
from pathlib import Path
from typing import Any

from territory_engine.errors import InputError, Problem
from territory_engine.io.sheet_charts import SheetChart
from territory_engine.io.sheet_layout import STATUS_COLOURS, TABLE_STYLE, SheetLayout, is_status_rule, table_name
from territory_engine.io.xlsx_scan import SheetScan, extent_problem

from .chunks import AUTOFIT_ROWS, CELLS_PER_CHUNK, MAX_COLUMNS, MAX_ROWS, row_chunks

__all__ = ["ExcelBook"]


def _names() -> tuple[str, str, str]:
    # book.py imports this module at its top, so its constants are fetched when first used.
    from .book import CHART_NAME, MARK_NAME, PICTURE_NAME

    return MARK_NAME, PICTURE_NAME, CHART_NAME


def _as_typed(row: list[Any], width: int) -> list[Any]:
    """One row as Excel should store it: a leading apostrophe keeps text as text (never a formula,
    a number or a date); short rows are padded with empty cells."""
    out = [("'" + v) if isinstance(v, str) and v else v for v in row]
    return out + [None] * (width - len(out)) if len(out) < width else out


class ExcelBook:
    """A workbook open in Excel, through xlwings (``xw.Book.caller()`` from the ribbon).

    Parameters
    ----------
    book : xlwings.Book
        The workbook.
    platform : str, optional
        ``sys.platform`` of the Excel behind ``book`` (default: this Python's): how a mark is
        hidden.
    cells_per_chunk : int
        Cells read or written in one call (:data:`excel_addin.chunks.CELLS_PER_CHUNK`).
    """

    def __init__(self, book: Any, *, platform: str | None = None, cells_per_chunk: int = CELLS_PER_CHUNK):
        self.book = book
        self.platform = sys.platform if platform is None else platform
        self.cells_per_chunk = cells_per_chunk

    @classmethod
    def caller(cls) -> "ExcelBook":
        import xlwings as xw

        return cls(xw.Book.caller())

    @property
    def fullname(self) -> str:
        return str(self.book.fullname)

    # ----------------------------------------------------------------------------------
    # sheets
    # ----------------------------------------------------------------------------------

    def sheet_names(self) -> list[str]:
        return [s.name for s in self.book.sheets]

    def _find(self, sheet: str) -> Any | None:
        wanted = sheet.lower()
        return next((s for s in self.book.sheets if s.name.lower() == wanted), None)

    def _get(self, sheet: str) -> Any:
        found = self._find(sheet)
        if found is None:  # a bug: the actions only name sheets that exist
            raise KeyError(f"no sheet {sheet!r} in {self.fullname}")
        return found

    def read_cells(self, sheet: str) -> list[list[Any]]:
        sht = self._get(sheet)
        last = sht.used_range.last_cell
        n_rows, n_cols = last.row, last.column
        problem = extent_problem(sht.name, SheetScan(rows=n_rows, columns=n_cols))
        if problem is not None:
            raise InputError([problem])
        cells: list[list[Any]] = []
        chunks = row_chunks(n_rows, n_cols, budget=self.cells_per_chunk)
        for first, end in chunks:
            if len(chunks) > 1:
                self.status(f"Territory: reading the {sht.name} sheet, row {first:,} of {n_rows:,}")
            cells.extend(sht.range((first, 1), (end, n_cols)).options(ndim=2, empty=None, err_to_str=True).value)
        return cells

    def write_sheet(self, sheet: str, cells: list[list[Any]]) -> None:
        width = max((len(row) for row in cells), default=0)
        if len(cells) > MAX_ROWS or width > MAX_COLUMNS:
            raise InputError([Problem(sheet, f"the result has {len(cells) - 1:,} rows and {width:,} columns, more "
                                      f"than a sheet holds ({MAX_ROWS - 1:,} rows below the header, {MAX_COLUMNS:,} "
                                      "columns); use the command line and write a .csv file instead")])
        sht = self._find(sheet)
        if sht is None:
            sht = self.book.sheets.add(sheet, after=self.book.sheets[len(self.book.sheets) - 1])
        else:
            sht.clear_contents()
        if not width:
            return
        chunks = row_chunks(len(cells), width, budget=self.cells_per_chunk)
        for first, end in chunks:
            if len(chunks) > 1:  # a long write shows how far it is, never a frozen status bar
                self.status(f"Territory: writing the {sheet} sheet, row {first:,} of {len(cells):,}")
            sht.range((first, 1), (end, width)).value = [_as_typed(row, width) for row in cells[first - 1:end]]
        sht.range((1, 1), (1, width)).font.bold = True
        sht.range((1, 1), (min(len(cells), AUTOFIT_ROWS), width)).columns.autofit()

    def format_sheet(self, sheet: str, layout: SheetLayout) -> None:
        sht = self._get(sheet)
        self._clear_status_colours(sht, layout)
        if not layout.headers:
            self._charts(sht, layout)
            return
        width, last = len(layout.headers), max(layout.rows, 1) + 1
        for j, text in enumerate(layout.number_formats, start=1):
            if text is not None and layout.rows:  # one call per column, whatever its length
                sht.range((2, j), (layout.rows + 1, j)).number_format = text
        self._table(sht, width, last)
        for j, formula, word in layout.status_rules():
            spec = STATUS_COLOURS[word]
            sht.range((2, j + 1), (layout.rows + 1, j + 1)).conditional_formats.add_custom(
                formula, fill_color=spec["bg_color"], font_color=spec["font_color"], font_bold=spec.get("bold"),
                font_italic=spec.get("italic"))  # xlwings has no underline: "uneven" is told apart by its fill
        sht.range((1, 1), (min(last, AUTOFIT_ROWS), width)).columns.autofit()
        self._freeze_header(sht)
        self._charts(sht, layout)

    def _charts(self, sht: Any, layout: SheetLayout) -> None:
        """Replace the add-in's charts on ``sht`` by those of ``layout`` (the user's charts stay)."""
        prefix = _names()[2]
        ours = re.compile(re.escape(prefix) + r" \d+", re.IGNORECASE)  # Excel compares shape names ignoring case
        # Every name is read before anything is deleted, and the last chart goes first: on macOS and in
        # xlwings Lite a chart is found by its place on the sheet, which a deletion shifts for those after it.
        charts = list(sht.charts)
        names = [chart.name for chart in charts]
        for chart, name in reversed(list(zip(charts, names))):
            if ours.fullmatch(name):
                chart.delete()
        for n, spec in enumerate(layout.charts, start=1):
            self._chart(sht, spec, f"{prefix} {n}")

    def _chart(self, sht: Any, spec: SheetChart, name: str) -> None:
        desktop = self.platform in ("win32", "darwin")
        last = spec.last
        while not desktop and last in spec.secondary and last > spec.first:
            last -= 1  # no series access without await: no right-hand axis
        top = 1 if spec.top == 2 else spec.top  # the header row names the series when it is just above
        chart = sht.charts.add(width=spec.width, height=spec.height,
                               chart_type="line_markers" if spec.kind == "line" else "column_clustered",
                               source=sht.range((top, spec.first + 1), (spec.bottom, last + 1)), plot_by="columns",
                               name=name, anchor=sht.range((2, spec.anchor_column + 1)))
        chart.set_x_axis_values(sht.range((spec.top, spec.categories + 1), (spec.bottom, spec.categories + 1)))
        chart.title = spec.title
        chart.legend.position = "bottom"
        chart.category_axis.set(title=spec.x_title)
        chart.value_axis.set(title=spec.y_title, number_format=spec.y_format)
        if not desktop:
            return
        for k, series in enumerate(chart.series):
            if spec.first + k in spec.secondary:
                series.set(name=spec.names[k], chart_type="line_markers", axis_group="secondary")
            else:
                series.set(name=spec.names[k])
        if spec.secondary:
            chart.secondary_value_axis.set(title=spec.y2_title, number_format=spec.y2_format)

    def _table(self, sht: Any, width: int, last: int) -> None:
        """The Excel Table over ``A1`` to (``last``, ``width``): the one at A1 resized, else a new one."""
        source = sht.range((1, 1), (last, width))
        ours = next((t for t in sht.tables if t.range.row == 1 and t.range.column == 1), None)
        if ours is None:
            used = {t.name.lower() for s in self.book.sheets for t in s.tables}
            sht.tables.add(source=source, name=table_name(sht.name, used),
                           table_style_name=TABLE_STYLE.replace(" ", ""))
            return
        before = ours.range.last_cell.column
        ours.resize(source)  # keeps its name: formulas naming the table keep working
        ours.show_autofilter = True
        if before > width:  # Excel named the cleared header cells of the wider table "Column6", ...: out they go
            sht.range((1, width + 1), (1, before)).clear_contents()

    def _clear_status_colours(self, sht: Any, layout: SheetLayout) -> None:
        """Delete the add-in's earlier status colours on ``sht`` (the user's own rules stay)."""
        if self.platform in ("win32", "darwin"):
            for rule in list(sht.range((1, 1), (MAX_ROWS, MAX_COLUMNS)).conditional_formats):
                if rule.type == "custom" and is_status_rule(rule.formula):
                    rule.delete()
        else:  # xlwings Lite lists rules only with await: the coloured columns' rules are cleared
            for j in layout.coloured:
                sht.range((2, j + 1), (MAX_ROWS, j + 1)).conditional_formats.clear()

    def _freeze_header(self, sht: Any) -> None:
        """Freeze the header row of ``sht``: desktop Excel freezes the active window's panes."""
        if self.platform not in ("win32", "darwin"):
            try:
                sht.freeze_panes.freeze_at("1:1")  # xlwings Lite / Server
            except NotImplementedError:  # an engine without it (xlwings' desktop ones): the header stays unfrozen
                pass
            return
        active = self.book.sheets.active
        sht.activate()
        try:
            if self.platform == "win32":
                window = self.book.app.api.ActiveWindow
                window.FreezePanes = False
                window.ScrollRow, window.ScrollColumn = 1, 1  # the split counts from the top-left cell shown
                window.SplitColumn, window.SplitRow = 0, 1
                window.FreezePanes = True
            else:
                window = self.book.app.api.active_window
                window.freeze_panes.set(False)
                window.scroll_row.set(1)
                window.scroll_column.set(1)
                window.split_column.set(0)
                window.split_row.set(1)
                window.freeze_panes.set(True)
        finally:
            active.activate()

    def has_formulas(self, sheet: str) -> bool:
        sht = self._get(sheet)
        used = sht.used_range
        if self.platform == "win32":  # one COM call: True, False, or None when some cells have one
            try:
                return used.api.HasFormula is not False
            except Exception:  # noqa: BLE001 - an Excel without it: read the formulas below
                pass
        last = used.last_cell
        for first, end in row_chunks(last.row, last.column, budget=self.cells_per_chunk):
            block = sht.range((first, 1), (end, last.column)).formula
            rows = [[block]] if isinstance(block, str) else [[row] if isinstance(row, str) else row for row in block]
            if any(isinstance(v, str) and v.startswith("=") for row in rows for v in row):
                return True
        return False

    def rename_sheet(self, sheet: str, new: str) -> None:
        self._get(sheet).name = new

    def delete_sheet(self, sheet: str) -> None:
        found = self._find(sheet)
        if found is not None:
            found.delete()

    # ----------------------------------------------------------------------------------
    # marks
    # ----------------------------------------------------------------------------------

    def _mark(self, sht: Any) -> Any | None:
        mark_name = _names()[0].lower()
        # Only a sheet-scoped name carries the sheet's prefix ("'Moves (2)'!TerritoryPlannerResult").
        return next((n for n in sht.names if "!" in n.name and n.name.rsplit("!", 1)[-1].lower() == mark_name),
                    None)

    def sheet_mark(self, sheet: str) -> str | None:
        found = self._find(sheet)
        name = self._mark(found) if found is not None else None
        if name is None:
            return None
        formula = str(name.refers_to or "")
        if not (formula.startswith('="') and formula.endswith('"')):
            return None  # not a mark the add-in wrote
        return formula[2:-1]

    def set_sheet_mark(self, sheet: str, text: str) -> None:
        if '"' in text or len(text) > 200:
            raise ValueError(f"a sheet mark is at most 200 characters without quotes, not {text!r}")
        sht = self._get(sheet)
        name = self._mark(sht)
        if name is None:
            name = sht.names.add(_names()[0], f'="{text}"')
        else:
            name.refers_to = f'="{text}"'
        self._hide(name)

    def _hide(self, name: Any) -> None:
        """Hide a defined name from the Name Manager (xlwings has no cross-platform way)."""
        if self.platform == "win32":
            name.api.Visible = False
        elif self.platform == "darwin":
            name.api.visible.set(False)
        # xlwings Lite (Pyodide) and other engines: no native object; the name stays visible.

    # ----------------------------------------------------------------------------------
    # pictures, status bar, messages, browser
    # ----------------------------------------------------------------------------------

    def insert_picture(self, sheet: str, image: Path) -> None:
        sht = self._find(sheet)
        if sht is None:
            sht = self.book.sheets.add(sheet, after=self.book.sheets[len(self.book.sheets) - 1])
        # update=True replaces the add-in's earlier picture (same place and size), never piles up.
        sht.pictures.add(str(image), name=_names()[1], update=True, anchor=sht.range("A1"))

    def status(self, text: str | None) -> None:
        # False gives the status bar back to Excel.
        self.book.app.status_bar = text if text else False

    def alert(self, text: str, *, title: str = "Territory", critical: bool = False) -> None:
        self.book.app.alert(text, title=title, mode="critical" if critical else "info")

    def open_in_browser(self, path: Path) -> None:
        webbrowser.open(Path(path).resolve().as_uri())
