"""An .xlsx file standing in for Excel, for tests and CI.

:class:`FileBook` implements :class:`excel_addin.book.Workbook` on a file: python-calamine
reads it, openpyxl writes it. It behaves as Excel does where the add-in's promises depend on
it:

* sheet names are compared ignoring case;
* a cell holding an Excel error reads as its text (``"#N/A"``), as xlwings gives it with
  ``err_to_str=True``;
* an updated sheet stays the same sheet (its position, tab colour and marks stay);
* deleting a sheet turns the formulas of other sheets that point at it into ``#REF!``, and
  renaming one makes them follow it, as Excel does; so a test sees what a user would lose;
* a sheet's mark is a hidden sheet-level defined name, saved with the workbook;
* a result's charts are native charts reading its cells (openpyxl's); openpyxl keeps no chart
  names, so the add-in's earlier charts on a sheet are told from the user's by their titles
  (:data:`territory_engine.io.sheet_charts.CHART_TITLES`).
"""

from __future__ import annotations

import os
import re
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from xml.etree import ElementTree

from territory_engine.errors import InputError, Problem
from territory_engine.io.sheet_charts import CHART_TITLES, SheetChart
from territory_engine.io.sheet_layout import STATUS_COLOURS, TABLE_STYLE, SheetLayout, is_status_rule, table_name
from territory_engine.io.xlsx_scan import cell_problems, scan_sheet, sheet_members

__all__ = ["FileBook"]

MARK_NAME = "TerritoryPlannerResult"  # the same as excel_addin.book.MARK_NAME (book imports this module)


@dataclass
class _Sheet:
    name: str
    original: str | None  # its name in the file, None for a sheet added since
    cells: list[list[Any]] | None = None  # None: as in the file
    picture: Path | None = None
    mark: str | None = None
    saved_mark: str | None = None  # the mark as in the file
    layout: SheetLayout | None = None  # how its cells are presented (format_sheet), applied on save


def _same(a: str, b: str) -> bool:
    return a.casefold() == b.casefold()


def _file_marks(path: Path) -> dict[str, str]:
    """Sheet name -> the text of its mark, from the workbook's XML (fast: no openpyxl)."""
    main = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
    try:
        with zipfile.ZipFile(path) as archive:
            root = ElementTree.fromstring(archive.read("xl/workbook.xml"))
    except (zipfile.BadZipFile, KeyError, OSError, ElementTree.ParseError):
        return {}
    sheets = [s.get("name") for s in root.iter(f"{main}sheet")]
    marks = {}
    for name in root.iter(f"{main}definedName"):
        local = name.get("localSheetId")
        if name.get("name") == MARK_NAME and local is not None and int(local) < len(sheets):
            marks[sheets[int(local)]] = (name.text or "").strip().strip('"')
    return marks


def _reference(name: str) -> re.Pattern:
    """A reference to sheet ``name`` in a formula: ``Name!A1``, ``'Name'!A1:B2``, ``Name!A:A``."""
    quoted = "'" + re.escape(name.replace("'", "''")) + "'"
    bare = re.escape(name) + r"(?![\w.])" if re.fullmatch(r"[A-Za-z_][\w.]*", name) else None
    sheet = f"(?:{quoted}|{bare})" if bare else quoted
    return re.compile(rf"(?<![\w'.]){sheet}!\$?[A-Z]{{0,3}}\$?\d*(?::\$?[A-Z]{{0,3}}\$?\d*)?", re.I)


class FileBook:
    """An .xlsx file behind the :class:`Workbook` interface, for tests and CI.

    Sheets are read as Excel passes them to xlwings (numbers as float, empty as None, errors
    as their text). Changes are kept in memory until :meth:`save`, which writes a new file
    through a temporary file moved into place. Message boxes, status texts and opened files
    are recorded in ``alerts``, ``statuses`` and ``opened``; ``calls`` records the changes
    made to sheets (``("write", name)``, ``("delete", name)``, ...).
    """

    def __init__(self, path: str | os.PathLike):
        from python_calamine import CalamineWorkbook

        self.path = Path(path)
        self._book = CalamineWorkbook.from_path(str(self.path))
        marks = _file_marks(self.path)
        self._sheets = [_Sheet(n, n, mark=marks.get(n), saved_mark=marks.get(n)) for n in self._book.sheet_names]
        self._deleted: list[str] = []
        self.alerts: list[tuple[str, str, bool]] = []
        self.statuses: list[str | None] = []
        self.opened: list[Path] = []
        self.calls: list[tuple[str, str]] = []

    @property
    def fullname(self) -> str:
        return str(self.path)

    def _get(self, sheet: str) -> _Sheet:
        for entry in self._sheets:
            if _same(entry.name, sheet):
                return entry
        raise KeyError(f"no sheet named {sheet!r}")

    def sheet_names(self) -> list[str]:
        return [s.name for s in self._sheets]

    def read_cells(self, sheet: str) -> list[list[Any]]:
        entry = self._get(sheet)
        if entry.cells is not None:
            return [list(r) for r in entry.cells]
        if entry.original is None:
            return []
        from python_calamine import CalamineError

        try:
            rows = self._book.get_sheet_by_name(entry.original).to_python(skip_empty_area=False)
        except CalamineError as error:
            raise InputError([Problem(entry.original, f"cannot read this sheet ({error}); save the workbook again "
                                      "in Excel")]) from None
        rows = [[float(v) if type(v) is int else v for v in row] for row in rows]
        self._show_errors(entry.original, rows)
        return rows

    def _show_errors(self, original: str, rows: list[list[Any]]) -> None:
        """Put each error cell's text where python-calamine reads nothing, as Excel shows it."""
        try:
            with zipfile.ZipFile(self.path) as archive:
                member = sheet_members(archive).get(original)
                scan = scan_sheet(archive, member) if member else None
        except (zipfile.BadZipFile, OSError, KeyError, ValueError):
            return
        if scan is None:
            return
        unknown = [c for c in scan.cells if c.error is None]
        if unknown:  # Excel computes every formula; this stand-in cannot
            raise InputError(cell_problems(original, rows[0] if rows else [], unknown))
        for cell in scan.cells:
            while len(rows) < cell.row:
                rows.append([])
            row = rows[cell.row - 1]
            row.extend([""] * (cell.column + 1 - len(row)))
            row[cell.column] = cell.error

    def write_sheet(self, sheet: str, cells: list[list[Any]]) -> None:
        try:
            entry = self._get(sheet)
            self.calls.append(("update", entry.name))
        except KeyError:
            entry = _Sheet(sheet, None)
            self._sheets.append(entry)
            self.calls.append(("add", sheet))
        entry.cells = [list(r) for r in cells]

    def format_sheet(self, sheet: str, layout: SheetLayout) -> None:
        entry = self._get(sheet)
        self.calls.append(("format", entry.name))
        entry.layout = layout

    def rename_sheet(self, sheet: str, new: str) -> None:
        entry = self._get(sheet)
        if any(_same(s.name, new) for s in self._sheets if s is not entry):
            raise ValueError(f"a sheet named {new!r} exists")
        self.calls.append(("rename", f"{entry.name} -> {new}"))
        entry.name = new

    def delete_sheet(self, sheet: str) -> None:
        try:
            entry = self._get(sheet)
        except KeyError:
            return
        self.calls.append(("delete", entry.name))
        self._sheets.remove(entry)
        if entry.original is not None:
            self._deleted.append(entry.original)

    def has_formulas(self, sheet: str) -> bool:
        entry = self._get(sheet)
        if entry.cells is not None or entry.original is None:
            return False  # written by the add-in in this session: values only
        try:
            with zipfile.ZipFile(self.path) as archive:
                member = sheet_members(archive).get(entry.original)
                xml = archive.read(member) if member else b""
        except (zipfile.BadZipFile, OSError, KeyError):
            return False
        return re.search(rb"<(?:\w+:)?f[\s>/]", xml) is not None

    def sheet_mark(self, sheet: str) -> str | None:
        return self._get(sheet).mark

    def set_sheet_mark(self, sheet: str, text: str) -> None:
        self._get(sheet).mark = text

    def insert_picture(self, sheet: str, image: Path) -> None:
        try:
            entry = self._get(sheet)
        except KeyError:
            entry = _Sheet(sheet, None)
            self._sheets.append(entry)
        self.calls.append(("picture", entry.name))
        entry.picture = Path(image)

    def status(self, text: str | None) -> None:
        self.statuses.append(text)

    def alert(self, text: str, *, title: str = "Territory", critical: bool = False) -> None:
        self.alerts.append((title, text, critical))

    def open_in_browser(self, path: Path) -> None:
        self.opened.append(Path(path))

    def save(self, path: str | os.PathLike | None = None) -> Path:
        """Write the workbook with its changes to ``path`` (default: its own file)."""
        import openpyxl

        target = Path(path) if path is not None else self.path
        wb = openpyxl.load_workbook(self.path)
        for original in self._deleted:
            del wb[original]
            _retarget(wb, original, "#REF!")
        sheets = []
        for entry in self._sheets:
            ws = wb[entry.original] if entry.original is not None else wb.create_sheet(entry.name)
            if entry.original is not None and entry.original != entry.name:
                ws.title = entry.name
                _retarget(wb, entry.original, entry.name)
            if entry.cells is not None or entry.picture is not None or entry.mark != entry.saved_mark:
                _fill(ws, entry)
            if entry.layout is not None:
                _format(wb, ws, entry.layout)
            sheets.append(ws)
        order = sheets + [s for s in wb._sheets if s not in sheets]
        # Chart sheets go last: openpyxl numbers a sheet-level name by its worksheet's place
        # among the worksheets when it writes, but among all sheets when it reads.
        wb._sheets = [s for s in order if s in wb.worksheets] + [s for s in order if s not in wb.worksheets]
        fd, tmp = tempfile.mkstemp(prefix=f".{target.stem}.", suffix=".tmp.xlsx", dir=target.parent)
        os.close(fd)
        try:
            wb.save(tmp)
            if target.exists():
                os.chmod(tmp, target.stat().st_mode & 0o777)
            os.replace(tmp, target)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        return target


def _fill(ws, entry: _Sheet) -> None:
    """Apply an entry's new cells, picture and mark to its openpyxl sheet (kept, not replaced)."""
    from openpyxl.styles import Font
    from openpyxl.workbook.defined_name import DefinedName

    if entry.cells is not None:
        for row in ws.iter_rows():  # Clear Contents: values go, formatting and comments stay
            for cell in row:
                if cell.value is not None:
                    cell.value = None
        for r, row in enumerate(entry.cells, start=1):
            for c, value in enumerate(row, start=1):
                if value is None or value == "":
                    continue
                cell = ws.cell(row=r, column=c, value=value)
                if isinstance(value, str):
                    cell.data_type = "s"  # text, never a formula
                if r == 1:
                    cell.font = Font(bold=True)
    if entry.picture is not None:
        from openpyxl.drawing.image import Image

        ws._images = []
        ws.add_image(Image(str(entry.picture)), "A1")
    if MARK_NAME in ws.defined_names:
        del ws.defined_names[MARK_NAME]
    if entry.mark is not None:
        ws.defined_names[MARK_NAME] = DefinedName(MARK_NAME, attr_text=f'"{entry.mark}"', hidden=True)


def _format(wb, ws, layout: SheetLayout) -> None:
    """Apply ``layout`` to the openpyxl sheet ``ws`` as Excel would: the number formats of the
    rows, the widths, the frozen header, the Excel Table at A1 (the one there before is replaced
    under its own name) and the status colours (the add-in's earlier rules replaced)."""
    from openpyxl.formatting.formatting import ConditionalFormattingList
    from openpyxl.utils import get_column_letter
    from openpyxl.worksheet.table import Table, TableStyleInfo

    kept = ConditionalFormattingList()
    for cf in ws.conditional_formatting:
        for rule in cf.rules:
            if not any(is_status_rule(f) for f in rule.formula or ()):
                kept.add(str(cf.sqref), rule)
    ws.conditional_formatting = kept
    old = next((table.displayName for table in ws.tables.values() if table.ref.replace("$", "").startswith("A1:")),
               None)
    if old is not None:
        del ws.tables[old]
    ws._charts = [chart for chart in ws._charts if _chart_title(chart) not in CHART_TITLES]  # the user's stay
    if not layout.headers:
        return
    for j, (text, width) in enumerate(zip(layout.number_formats, layout.widths), start=1):
        ws.column_dimensions[get_column_letter(j)].width = width
        if text is not None:
            for (cell,) in ws.iter_rows(min_row=2, max_row=layout.rows + 1, min_col=j, max_col=j):
                cell.number_format = text
    ws.freeze_panes = "A2"
    used = {name.lower() for sheet in wb.worksheets for name in sheet.tables}
    name = old if old is not None else table_name(ws.title, used)
    ws.add_table(Table(displayName=name, ref=layout.table_ref,
                       tableStyleInfo=TableStyleInfo(name=TABLE_STYLE.replace(" ", ""), showRowStripes=True)))
    for j, formula, word in layout.status_rules():
        column = get_column_letter(j + 1)
        ws.conditional_formatting.add(f"{column}2:{column}{layout.rows + 1}", _status_rule(formula, word))
    for spec in layout.charts:
        ws.add_chart(_chart(ws, spec), f"{get_column_letter(spec.anchor_column + 1)}2")


def _chart_title(chart) -> str | None:
    """The text of an openpyxl chart's title (None: none, or not plain text)."""
    try:
        return "".join(run.t for paragraph in chart.title.tx.rich.p for run in (paragraph.r or ()))
    except AttributeError:
        return None


_POINTS_PER_CM = 72 / 2.54


def _chart(ws, spec: SheetChart):
    """The openpyxl chart of ``spec``, reading the cells of ``ws`` (as Excel's would)."""
    from openpyxl.chart import BarChart, LineChart, Reference, Series

    def series(j: int, k: int, line: bool):
        out = Series(Reference(ws, min_col=j + 1, min_row=spec.top, max_row=spec.bottom), title=spec.names[k])
        if line:
            out.marker.symbol = "circle"
        return out

    chart = LineChart() if spec.kind == "line" else BarChart()
    if spec.kind != "line":
        chart.type, chart.grouping = "col", "clustered"
    right = LineChart() if spec.secondary else None
    for k, j in enumerate(range(spec.first, spec.last + 1)):
        if j in spec.secondary:
            right.series.append(series(j, k, True))
        else:
            chart.series.append(series(j, k, spec.kind == "line"))
    categories = Reference(ws, min_col=spec.categories + 1, min_row=spec.top, max_row=spec.bottom)
    chart.set_categories(categories)
    chart.title = spec.title
    chart.x_axis.title, chart.y_axis.title = spec.x_title, spec.y_title
    chart.y_axis.number_format = spec.y_format
    chart.x_axis.delete = chart.y_axis.delete = False  # openpyxl 3.1 hides the axes unless told
    chart.legend.position = "b"
    chart.width, chart.height = spec.width / _POINTS_PER_CM, spec.height / _POINTS_PER_CM
    if right is not None:
        right.set_categories(categories)
        right.y_axis.axId = 200
        right.y_axis.title = spec.y2_title
        right.y_axis.number_format = spec.y2_format
        right.y_axis.crosses = "max"
        right.y_axis.delete = False
        chart += right
    return chart


def _status_rule(formula: str, word: str):
    """The openpyxl rule of one status colour (:data:`STATUS_COLOURS`)."""
    from openpyxl.formatting.rule import FormulaRule
    from openpyxl.styles import Font, PatternFill

    spec = STATUS_COLOURS[word]
    font = Font(color=spec["font_color"].lstrip("#"), bold=spec.get("bold"), italic=spec.get("italic"),
                underline="single" if spec.get("underline") else None)
    fill = PatternFill(bgColor=spec["bg_color"].lstrip("#"))
    return FormulaRule(formula=[formula.lstrip("=")], font=font, fill=fill)


def _retarget(wb, old: str, new: str) -> None:
    """Make every formula's reference to sheet ``old`` point at ``new`` (a sheet name, or
    ``"#REF!"`` when the sheet was deleted), as Excel does."""
    pattern = _reference(old)
    if new == "#REF!":
        def swap(match: re.Match) -> str:
            return "#REF!"
    else:
        quoted = "'" + new.replace("'", "''") + "'"

        def swap(match: re.Match) -> str:
            return quoted + match.group(0)[match.group(0).index("!"):]
    for ws in wb.worksheets:
        for row in ws.iter_rows():
            for cell in row:
                if cell.data_type == "f" and isinstance(cell.value, str):
                    cell.value = pattern.sub(swap, cell.value)
        for chart in ws._charts:  # a chart's series follow the sheet they read, as Excel's do
            for part in {id(c): c for c in [chart, *getattr(chart, "_charts", [])]}.values():
                for series in part.series:
                    for ref in (series.val and series.val.numRef, series.cat and series.cat.numRef,
                                series.cat and series.cat.strRef, series.tx and series.tx.strRef):
                        if ref is not None and isinstance(ref.f, str):
                            ref.f = pattern.sub(swap, ref.f)
