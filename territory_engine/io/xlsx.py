"""Excel workbooks: reading sheets with python-calamine, writing them with xlsxwriter.

Both libraries are imported inside the functions that use them, so importing the engine
never imports them. Before python-calamine reads a sheet, :mod:`territory_engine.io.xlsx_scan`
bounds the package's sizes and the sheet's extent, and finds the formulas without values and
the Excel errors that python-calamine would read as empty cells. Cells are written as :mod:`territory_engine.io.cells` converts them.
"""

from __future__ import annotations

import datetime as _dt
import sys
import tempfile
import traceback
import zipfile
import zlib
from pathlib import Path
from typing import Any, Callable, Iterable, Mapping

import pandas as pd

from ..errors import MAX_PROBLEMS, InputError, Problem
from .cells import column_cells, header_cells
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


def write_xlsx(file: Path, sheets: Mapping[str, pd.DataFrame]) -> None:
    """Write ``sheets`` to the workbook ``file`` (xlsxwriter), one sheet each, cells by :func:`column_cells`.

    Sheet names are made valid (:func:`excel_sheet_name`); each header row is bold and
    frozen, columns are sized to their first 200 values, text is always written as text.
    xlsxwriter keeps each sheet's rows in temporary files until the workbook is closed: they
    go to a folder of their own in the system's temporary folder, removed on every way out
    (an error, a signal turned into an exception), so none is left behind.

    Raises
    ------
    InputError
        A table has more rows than a sheet holds.
    OSError
        The file cannot be written (a full disk): the system's error, not xlsxwriter's wrapper.
    """
    import xlsxwriter
    from xlsxwriter.exceptions import FileCreateError

    try:
        _write_book(xlsxwriter, file, sheets)
    except FileCreateError as error:
        cause = error.args[0] if error.args and isinstance(error.args[0], OSError) else OSError(str(error))
        _forget(error)
        raise cause from None


def _forget(error: BaseException) -> None:
    """Free what a failed ``close`` left behind (its half-written zip archive) without the
    "Exception ignored" report that archive's ``__del__`` gives on a full disk."""
    hook = sys.unraisablehook
    sys.unraisablehook = lambda unraisable: None
    try:
        traceback.clear_frames(error.__traceback__)
        error.__traceback__ = None
    finally:
        sys.unraisablehook = hook


def _write_book(xlsxwriter, file: Path, sheets: Mapping[str, pd.DataFrame]) -> None:
    with tempfile.TemporaryDirectory(prefix="territory-xlsx-", ignore_cleanup_errors=True) as scratch:
        book = xlsxwriter.Workbook(str(file), {
            "constant_memory": True,
            "tmpdir": scratch,
            "strings_to_formulas": False,
            "strings_to_urls": False,
            "strings_to_numbers": False,
            "remove_timezone": True,
        })
        try:
            bold = book.add_format({"bold": True})
            date_format = book.add_format({"num_format": "yyyy-mm-dd"})
            datetime_format = book.add_format({"num_format": "yyyy-mm-dd hh:mm:ss"})
            taken: list[str] = []
            for name, frame in sheets.items():
                if len(frame) + 1 > MAX_SHEET_ROWS:
                    raise InputError([Problem(file.name, f"'{name}' has {len(frame):,} rows, more than an Excel "
                                              "sheet holds; write a .csv file instead", is_sheet=False)])
                sheet_name = excel_sheet_name(name, taken)
                taken.append(sheet_name)
                sheet = book.add_worksheet(sheet_name)
                _write_sheet(sheet, frame, bold, date_format, datetime_format)
            book.close()
        finally:
            _close_row_files(book)


def _close_row_files(book) -> None:
    """Close the sheets' row-data files that xlsxwriter leaves open when a workbook is not
    closed (so that their folder can be removed on Windows too)."""
    for sheet in book.worksheets():
        handle = getattr(sheet, "row_data_fh", None)
        if handle is not None and not handle.closed:
            handle.close()


def _write_sheet(sheet, frame: pd.DataFrame, bold, date_format, datetime_format) -> None:
    headers = header_cells(frame.columns)
    columns = [column_cells(frame.iloc[:, j]) for j in range(frame.shape[1])]
    for j, (title, values) in enumerate(zip(headers, columns)):
        sample = [v for v in values[:200] if v is not None]
        width = max([len(title) + 2] + [min(len(_display(v)), 60) + 1 for v in sample])
        sheet.set_column(j, j, min(max(width, 8), 60))
    sheet.freeze_panes(1, 0)
    for j, title in enumerate(headers):
        sheet.write_string(0, j, title, bold)
    writers = [_writer(sheet, date_format, datetime_format) for _ in columns]
    n = len(frame)
    for i in range(n):
        r = i + 1
        for j, values in enumerate(columns):
            v = values[i]
            if v is not None:
                writers[j](r, j, v)


def _writer(sheet, date_format, datetime_format):
    """A function writing one cell value (:func:`~territory_engine.io.cells.cell_value`) to ``sheet``."""
    write_number, write_string, write_boolean = sheet.write_number, sheet.write_string, sheet.write_boolean
    write_datetime = sheet.write_datetime

    def write(row: int, col: int, value: Any) -> None:
        kind = type(value)
        if kind is float or kind is int:
            write_number(row, col, value)
        elif kind is str:
            write_string(row, col, value)
        elif kind is bool:
            write_boolean(row, col, value)
        elif isinstance(value, _dt.datetime):
            write_datetime(row, col, value, datetime_format)
        else:
            write_datetime(row, col, value, date_format)

    return write


def _display(value: Any) -> str:
    if isinstance(value, bool):
        return "FALSE" if not value else "TRUE"
    if isinstance(value, float):
        return f"{value:,.2f}"
    if isinstance(value, (_dt.date, _dt.datetime)):
        return "yyyy-mm-dd hh:mm:ss" if isinstance(value, _dt.datetime) else "yyyy-mm-dd"
    return str(value)
