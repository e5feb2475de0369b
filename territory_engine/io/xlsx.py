"""Excel workbooks: reading sheets with python-calamine, writing them with xlsxwriter.

Both libraries are imported inside the functions that use them, so importing the engine
never imports them. Before python-calamine reads a sheet, :mod:`territory_engine.io.xlsx_scan`
bounds the package's sizes and the sheet's extent, and finds the formulas without values and
the Excel errors that python-calamine would read as empty cells.

Writing: xlsxwriter builds the workbook in memory around the result tables' rows (each table an
Excel Table over its header and one row, the formats of :mod:`territory_engine.io.presentation`,
status colours, the Charts sheet of :mod:`territory_engine.io.charts`); the package is then copied
to the file with each sheet's rows written in (:mod:`territory_engine.io.xlsx_rows`, cells as
:mod:`territory_engine.io.cells` converts them) and each table's range set to its rows. xlsxwriter's
constant-memory mode, the writer before, wrote about 13 microseconds a cell and cannot hold an Excel
Table (``add_table() isn't supported in 'constant_memory' mode``, its documentation and source say).
"""

from __future__ import annotations

import io
import queue
import re
import threading
import zipfile
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable, Mapping

import pandas as pd

from ..errors import MAX_PROBLEMS, InputError, Problem, column_letter
from .cells import column_cells
from .charts import CHART_SHEET, chart_tables, charts_after, write_charts
from .sheet_layout import STATUS_COLOURS, TABLE_STYLE, sheet_layout, table_name
from .xlsx_rows import rows_xml
from .xlsx_scan import SheetScan, cell_problems, check_package, extent_problem, scan_sheet, sheet_members

__all__ = ["MAX_SHEET_ROWS", "open_workbook", "write_xlsx", "excel_sheet_name"]

MAX_SHEET_ROWS = 1_048_576
"""Rows in an Excel sheet, the header included."""


# --------------------------------------------------------------------------------------
# reading
# --------------------------------------------------------------------------------------


def _not_workbook(file: Path) -> InputError:
    return InputError([Problem(file.name, f"{file.name} is not an Excel workbook (.xlsx); save it as .xlsx "
                               "or .csv", is_sheet=False)])


def open_workbook(file: Path) -> tuple[list[str], Callable[[str], list[list[Any]]], frozenset[str]]:
    """The worksheet names of a workbook, a function reading one sheet's cells (python-calamine),
    and the names of the hidden (or very hidden) worksheets.

    Raises
    ------
    InputError
        The file is empty, not a workbook, protected by a password, cannot be opened, or
        has no worksheets; a sheet cannot be read (raised by the function).
    """
    from python_calamine import CalamineError, CalamineWorkbook

    try:
        if file.stat().st_size == 0:
            raise _not_workbook(file)
        book = CalamineWorkbook.from_path(str(file))
        names = [m.name for m in book.sheets_metadata if str(m.typ).endswith("WorkSheet")] or list(book.sheet_names)
        hidden = frozenset(m.name for m in book.sheets_metadata if "hidden" in str(m.visible).lower())
    except CalamineError as error:
        if "password" in str(error).lower() or type(error).__name__ == "PasswordError":
            raise InputError([Problem(file.name, f"{file.name} is protected by a password; save an "
                                      "unprotected copy and use that", is_sheet=False)]) from None
        raise _not_workbook(file) from None
    except OSError as error:
        raise InputError([Problem(file.name, f"cannot open {file.name}: {error.strerror or error}; close it in "
                                  "other programs and check its permissions", is_sheet=False)]) from None
    if not names:
        raise InputError([Problem(file.name, f"{file.name} has no worksheets", is_sheet=False)])
    members = _package(file)

    def load(name: str) -> list[list[Any]]:
        scan = _scan(file, members.get(name))
        if scan is not None and (problem := extent_problem(name, scan)) is not None:
            raise InputError([problem])
        try:
            rows = book.get_sheet_by_name(name).to_python(skip_empty_area=False)
        except CalamineError as error:
            raise InputError([Problem(name, f"cannot read this sheet of {file.name} ({error}); save the "
                                      "workbook again in Excel as .xlsx")]) from None
        if scan is not None and scan.cells:
            raise InputError(cell_problems(name, rows[0] if rows else [], scan.cells[:MAX_PROBLEMS]))
        return rows

    return names, load, hidden


def _package(file: Path) -> dict[str, str]:
    """Check the sizes of the workbook's parts (:func:`check_package`); its sheets' XML parts."""
    try:
        with zipfile.ZipFile(file) as archive:
            check_package(archive, file.name)
            return sheet_members(archive)
    except (zipfile.BadZipFile, OSError, ValueError):
        return {}  # python-calamine has opened it: an older format, read as it reads it


def _scan(file: Path, member: str | None) -> SheetScan | None:
    """The sheet's XML scanned (:func:`scan_sheet`), or None when it is not a zip part."""
    if member is None:
        return None
    try:
        with zipfile.ZipFile(file) as archive:
            return scan_sheet(archive, member)
    except (zipfile.BadZipFile, KeyError, OSError, ValueError, EOFError, zlib.error):
        return None


# --------------------------------------------------------------------------------------
# writing
# --------------------------------------------------------------------------------------


def excel_sheet_name(name: object, taken: Iterable[str] = ()) -> str:
    """A valid, unused Excel sheet name close to ``name``."""
    text = "".join("_" if ch in "[]:*?/\\" else ch for ch in str(name)).strip().strip("'") or "Sheet"
    text = text[:31]
    lower = {t.lower() for t in taken}
    candidate, n = text, 1
    while candidate.lower() in lower or candidate.lower() == "history":
        n += 1
        suffix = f" ({n})"
        candidate = text[: 31 - len(suffix)] + suffix
    return candidate


_ROWS_PER_BLOCK = 20_000  # rows turned into XML at once: bounds the memory of a full sheet (about 100 MB a block)
_COMPRESS_LEVEL = 1  # zlib level of the sheets' XML: level 6 (zip's default) takes about 3x as long for 10% less


def write_xlsx(file: Path, sheets: Mapping[str, pd.DataFrame], *,
               progress: Callable[[float], None] | None = None) -> None:
    """Write ``sheets`` to the workbook ``file``, one sheet each, cells by :func:`column_cells`.

    Each sheet holds an Excel Table (a filter on its header row, a style) with a frozen header
    row and columns sized to their first 200 values. Columns are presented by
    :mod:`territory_engine.io.presentation` (headers in the analyst's words, number formats by
    kind; the input's own columns as typed), a status column and the deviations beside it are
    coloured by status (all as :func:`territory_engine.io.sheet_layout.sheet_layout` lays a result
    sheet out, for the add-in's sheets too), and a result with a territory summary or scores gets a Charts sheet
    (:mod:`territory_engine.io.charts`). Text is always written as text. xlsxwriter builds the
    workbook around the rows in memory; the rows are then written into it block by block
    (:mod:`territory_engine.io.xlsx_rows`), so no temporary file is made but ``file``.
    ``progress(fraction)``, when given, is called after each block of rows with the share of
    all the tables' rows written so far (the rows are nearly all of a large write's time).

    Raises
    ------
    InputError
        A table has more rows than a sheet holds.
    OSError
        The file cannot be written (a full disk).
    """
    import xlsxwriter

    for name, frame in sheets.items():
        if len(frame) + 1 > MAX_SHEET_ROWS:
            raise InputError([Problem(file.name, f"'{name}' has {len(frame):,} rows, more than an Excel "
                                      "sheet holds; write a .csv file instead", is_sheet=False)])
    buffer = io.BytesIO()
    layouts = _build_book(xlsxwriter, buffer, sheets)
    _write_package(buffer, file, layouts, _RowCount(sum(len(f) for f in sheets.values()), progress))


@dataclass
class _Layout:
    """A result sheet laid out: its part in the package, its table, and each column's cell format."""

    index: int  # the sheet's position among the workbook's worksheets (its part is sheet{index + 1}.xml)
    frame: pd.DataFrame
    formats: list[Any] = field(default_factory=list)  # xlsxwriter Format per column, or None
    table: str = ""  # the Excel Table's name
    template_ref: str = ""  # the range the template's table covers (the header and one row)
    ref: str = ""  # the range the table covers once the rows are in


class _Formats:
    """The workbook's cell formats by number format text, made once each."""

    def __init__(self, book):
        self.book = book
        self.made: dict[str, Any] = {}
        self.bold = book.add_format({"bold": True})  # the header row (bold outside the table's style too)

    def get(self, text: str | None):
        if text is None:
            return None
        if text not in self.made:
            self.made[text] = self.book.add_format({"num_format": text})
        return self.made[text]


def _build_book(xlsxwriter, buffer: io.BytesIO, sheets: Mapping[str, pd.DataFrame]) -> list[_Layout]:
    """The workbook without the result tables' rows (xlsxwriter, in memory): each sheet's table,
    formats, widths, frozen header and status colours, and the Charts sheet."""
    book = xlsxwriter.Workbook(buffer, {
        "in_memory": True,
        "strings_to_formulas": False,
        "strings_to_urls": False,
        "strings_to_numbers": False,
        "remove_timezone": True,
    })
    formats = _Formats(book)
    status = {name: book.add_format(spec) for name, spec in STATUS_COLOURS.items()}
    taken: list[str] = []
    names = {}
    for name in sheets:
        names[name] = excel_sheet_name(name, taken)
        taken.append(names[name])
    after = charts_after(sheets)
    layouts: list[_Layout] = []
    tables: set[str] = set()  # the Excel Table names used (lower case)
    for name, frame in sheets.items():
        sheet = book.add_worksheet(names[name])
        layouts.append(_lay_out(sheet, len(book.worksheets()) - 1, name, frame, formats, status, tables))
        if name == after:
            write_charts(book, excel_sheet_name(CHART_SHEET, taken), chart_tables(sheets), formats.made)
            taken.append(CHART_SHEET)
    book.close()
    return layouts


def _lay_out(sheet, index: int, name: str, frame: pd.DataFrame, formats: _Formats, status,
             tables: set[str]) -> _Layout:
    """Lay out one result sheet (everything but its rows' cells), as :func:`sheet_layout` describes it."""
    layout = _Layout(index, frame)
    if frame.shape[1] == 0:
        return layout
    look = sheet_layout(name, frame)
    for j, (text, width) in enumerate(zip(look.number_formats, look.widths)):
        layout.formats.append(formats.get(text))
        sheet.set_column(j, j, width, layout.formats[j])
    # The template's table covers the header and one row: xlsxwriter's add_table keeps a note per cell
    # of its range (19 million at a full sheet of 19 columns); the range is set when the rows are in.
    layout.table = table_name(sheet.get_name(), tables)
    layout.template_ref, layout.ref = f"A1:{column_letter(len(look.headers) - 1)}2", look.table_ref
    sheet.add_table(0, 0, 1, len(look.headers) - 1, {
        "name": layout.table, "style": TABLE_STYLE, "autofilter": True,
        "columns": [{"header": h[:255], "header_format": formats.bold} for h in look.headers],
    })
    sheet.freeze_panes(1, 0)
    for j, formula, word in look.status_rules():
        sheet.conditional_format(1, j, look.rows, j, {"type": "formula", "criteria": formula, "format": status[word]})
    return layout


class _RowCount:
    """The rows written so far, reported as a share of ``total`` to ``progress`` (when given)."""

    def __init__(self, total: int, progress: Callable[[float], None] | None):
        self.total, self.progress, self.done = max(total, 1), progress, 0

    def add(self, rows: int) -> None:
        self.done += rows
        if self.progress is not None:
            self.progress(min(self.done / self.total, 1.0))


def _write_package(buffer: io.BytesIO, file: Path, layouts: list[_Layout], count: _RowCount) -> None:
    """Copy the workbook xlsxwriter made to ``file``, the result tables' rows written into their sheets
    and each table's range (and the sheet's extent) set to its rows."""
    by_part = {f"xl/worksheets/sheet{layout.index + 1}.xml": layout for layout in layouts}
    by_table = {layout.table: layout for layout in layouts if layout.table}
    with zipfile.ZipFile(buffer) as source, \
            zipfile.ZipFile(file, "w", zipfile.ZIP_DEFLATED, compresslevel=_COMPRESS_LEVEL) as target:
        for info in source.infolist():
            data = source.read(info.filename)
            layout = by_part.get(info.filename)
            if info.filename.startswith("xl/tables/"):
                data = _table_range(data, by_table)
            if layout is None or not len(layout.frame) or layout.frame.shape[1] == 0:
                target.writestr(info, data, compress_type=zipfile.ZIP_DEFLATED, compresslevel=_COMPRESS_LEVEL)
                continue
            text = re.sub(r'<dimension ref="[^"]*"/>', f'<dimension ref="{layout.ref}"/>', data.decode("utf-8"), 1)
            head, tail = text.split("</sheetData>", 1)
            part = zipfile.ZipInfo(info.filename, date_time=info.date_time)
            part.compress_type = zipfile.ZIP_DEFLATED
            with target.open(part, "w", force_zip64=True) as out:
                out.write(head.encode("utf-8"))
                _write_rows(out, layout, count)
                out.write(("</sheetData>" + tail).encode("utf-8"))


def _table_range(data: bytes, by_table: dict[str, _Layout]) -> bytes:
    """A table part (``xl/tables/tableN.xml``) with the range of its table's rows."""
    text = data.decode("utf-8")
    found = re.search(r'<table [^>]*\bname="([^"]*)"', text)
    layout = by_table.get(found.group(1)) if found else None
    if layout is None:
        return data
    return text.replace(f'ref="{layout.template_ref}"', f'ref="{layout.ref}"').encode("utf-8")


def _write_rows(out, layout: _Layout, count: _RowCount) -> None:
    """Write the table's rows to the sheet's part ``out``, a block at a time. The blocks are
    compressed on a second thread (zlib lets go of the interpreter while it works) while the next
    block is made; an error on either side stops both and is raised here."""
    frame = layout.frame
    styles = [None if f is None else f.xf_index for f in layout.formats]
    blocks: queue.Queue = queue.Queue(maxsize=2)
    failed: list[BaseException] = []

    def compress() -> None:
        while (data := blocks.get()) is not None:
            if not failed:
                try:
                    out.write(data)
                except BaseException as error:  # handed to the main thread, raised there
                    failed.append(error)

    worker = threading.Thread(target=compress, name="territory-xlsx-rows", daemon=True)
    worker.start()
    try:
        for start in range(0, len(frame), _ROWS_PER_BLOCK):
            if failed:
                break
            block = frame.iloc[start:start + _ROWS_PER_BLOCK]
            columns = [column_cells(block.iloc[:, j]) for j in range(block.shape[1])]
            blocks.put("".join(rows_xml(columns, start + 2, styles)).encode("utf-8"))
            count.add(len(block))
    finally:
        blocks.put(None)
        worker.join()
    if failed:
        raise failed[0]
