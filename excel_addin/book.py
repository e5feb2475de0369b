"""The open workbook: the one place of the add-in that touches ``xw.Book``.

Ribbon actions (:mod:`excel_addin.ribbon`) talk to a workbook only through the small
:class:`Workbook` interface below. Two classes implement it:

* :class:`ExcelBook` wraps an xlwings ``Book`` (desktop Excel through ``RunPython``, or an
  xlwings Lite book): it reads sheets as Excel passes them and writes result sheets, the
  status bar, message boxes and pictures through xlwings.
* :class:`FileBook` does the same on an .xlsx file (python-calamine to read, openpyxl to
  write), so the very same actions run in tests and CI without Excel.

Reading turns a sheet's cells into the :class:`territory_engine.io.RawTable` the command
line reads from files, through the same code (``territory_engine.io``), so validation
messages point at the same cells. Writing adds new sheets and never touches the input
sheets (``Accounts``, ``Reps``, ``Settings``); a result sheet of an earlier run with the
same name is replaced. Text from the workbook is written as text, never as a formula.
"""

from __future__ import annotations

import os
import tempfile
import webbrowser
from pathlib import Path
from typing import Any, Mapping, Protocol

import pandas as pd

from territory_engine import workflow
from territory_engine.errors import Problem
from territory_engine.io import SHEET_NAMES, RawTable, choose_sheet, excel_sheet_name
from territory_engine.io.cells import frame_cells
from territory_engine.io.tables import require_rows, sheet_table

__all__ = [
    "INPUT_SHEETS",
    "ERRORS_SHEET",
    "Workbook",
    "ExcelBook",
    "FileBook",
    "read_inputs",
    "read_table",
    "write_results",
    "write_errors",
    "frame_cells",
    "output_folder",
]

INPUT_SHEETS = ("accounts", "reps", "settings")
"""Input sheet names (any case): never written."""

ERRORS_SHEET = "Errors"
"""The sheet listing every problem found, with sheet, row and column."""


class Workbook(Protocol):
    """What a ribbon action needs from a workbook."""

    @property
    def fullname(self) -> str:
        """The workbook's file path (or its name when it was never saved)."""

    def sheet_names(self) -> list[str]:
        """Names of the worksheets, in order."""

    def read_cells(self, sheet: str) -> list[list[Any]]:
        """The cells of a sheet from A1 as Excel passes them: float, str, bool, datetime, None."""

    def write_sheet(self, sheet: str, cells: list[list[Any]]) -> None:
        """Replace or add the sheet ``sheet`` holding ``cells`` (first row: bold headers)."""

    def delete_sheet(self, sheet: str) -> None:
        """Delete a sheet if it exists."""

    def insert_picture(self, sheet: str, image: Path) -> None:
        """Add or replace the sheet ``sheet`` holding the picture ``image`` (a PNG file)."""

    def status(self, text: str | None) -> None:
        """Show ``text`` in Excel's status bar; None gives the status bar back to Excel."""

    def alert(self, text: str, *, title: str = "Territory", critical: bool = False) -> None:
        """A message box."""

    def open_in_browser(self, path: Path) -> None:
        """Open a local file (an HTML map) in the default browser."""


# --------------------------------------------------------------------------------------
# shared: sheets to tables and tables to cells
# --------------------------------------------------------------------------------------


def read_table(book: Workbook, name: str) -> RawTable:
    """One sheet as a table, converted as the command line converts a workbook's sheet."""
    return sheet_table(Path(book.fullname), name, book.read_cells)


def read_inputs(book: Workbook) -> workflow.Inputs:
    """The accounts, reps and settings sheets as tables, chosen as the command line chooses them
    (:func:`territory_engine.io.choose_sheet`: ``Accounts`` else the first sheet, ``Reps`` or
    ``Rep bases`` or ``Bases``, ``Settings``).

    Reps and Settings are left out when absent or empty, as when reading a file.

    Raises
    ------
    InputError
        The accounts sheet is empty or has no rows below its header.
    """
    names = book.sheet_names()
    accounts = require_rows(read_table(book, choose_sheet(names, "accounts")), "account")
    optional = {}
    for key in ("reps", "settings"):
        name = choose_sheet(names, key)
        if name is not None:
            table = read_table(book, name)
            if len(table.frame):
                optional[key] = table
    return workflow.Inputs(accounts=accounts, reps=optional.get("reps"), settings=optional.get("settings"))


def _protected(book: Workbook) -> set[str]:
    names = book.sheet_names()
    protected = {n for n in names if n.strip().lower() in INPUT_SHEETS}
    protected.update(n for n in (choose_sheet(names, role) for role in SHEET_NAMES) if n is not None)
    return protected


def write_results(book: Workbook, sheets: Mapping[str, pd.DataFrame]) -> list[str]:
    """Write result tables to sheets of ``book``; return the sheet names used.

    A result never lands on an input sheet: a clashing name gets a suffix ("Settings (2)").
    """
    protected = _protected(book)
    written: list[str] = []
    for name, frame in sheets.items():
        sheet = excel_sheet_name(name, [*protected, *written])
        book.write_sheet(sheet, frame_cells(frame))
        written.append(sheet)
    return written


def write_errors(book: Workbook, problems: list[Problem]) -> str:
    """Write the Errors sheet: one row per problem with sheet, row, column, header, value."""
    frame = pd.DataFrame([p.as_row() for p in problems],
                         columns=["sheet", "row", "column", "header", "value", "problem"])
    return write_results(book, {ERRORS_SHEET: frame})[0]


def clear_errors(book: Workbook) -> None:
    """Remove the Errors sheet of an earlier run (never an input sheet)."""
    if ERRORS_SHEET in book.sheet_names() and ERRORS_SHEET not in _protected(book):
        book.delete_sheet(ERRORS_SHEET)


def output_folder(book: Workbook) -> Path:
    """Where files made for a workbook (maps) go: its folder, else a temporary folder."""
    folder = Path(book.fullname).parent
    if str(folder) not in ("", ".") and folder.is_dir() and os.access(folder, os.W_OK):
        return folder
    return Path(tempfile.gettempdir())


# --------------------------------------------------------------------------------------
# Excel through xlwings
# --------------------------------------------------------------------------------------


class ExcelBook:
    """A workbook open in Excel, through xlwings (``xw.Book.caller()`` from the ribbon)."""

    def __init__(self, book: Any):
        self.book = book

    @classmethod
    def caller(cls) -> "ExcelBook":
        import xlwings as xw

        return cls(xw.Book.caller())

    @property
    def fullname(self) -> str:
        return str(self.book.fullname)

    def sheet_names(self) -> list[str]:
        return [s.name for s in self.book.sheets]

    def read_cells(self, sheet: str) -> list[list[Any]]:
        sht = self.book.sheets[sheet]
        last = sht.used_range.last_cell
        rows = sht.range((1, 1), (last.row, last.column)).options(ndim=2, empty=None).value
        return [["" if v is None else v for v in row] for row in rows]

    def _sheet(self, sheet: str):
        if sheet in self.sheet_names():
            self.book.sheets[sheet].delete()
        return self.book.sheets.add(sheet, after=self.book.sheets[len(self.book.sheets) - 1])

    def write_sheet(self, sheet: str, cells: list[list[Any]]) -> None:
        sht = self._sheet(sheet)
        # A leading apostrophe keeps text as text: never a formula, a number or a date.
        safe = [[("'" + v) if isinstance(v, str) and v else v for v in row] for row in cells]
        sht.range("A1").value = safe
        sht.range((1, 1), (1, max(len(cells[0]), 1))).font.bold = True
        sht.autofit("c")

    def delete_sheet(self, sheet: str) -> None:
        if sheet in self.sheet_names():
            self.book.sheets[sheet].delete()

    def insert_picture(self, sheet: str, image: Path) -> None:
        sht = self._sheet(sheet)
        sht.pictures.add(str(image), name="Territory map", left=sht.range("A1").left, top=sht.range("A1").top)

    def status(self, text: str | None) -> None:
        self.book.app.status_bar = text if text else False

    def alert(self, text: str, *, title: str = "Territory", critical: bool = False) -> None:
        self.book.app.alert(text, title=title, mode="critical" if critical else "info")

    def open_in_browser(self, path: Path) -> None:
        webbrowser.open(Path(path).resolve().as_uri())


# --------------------------------------------------------------------------------------
# an .xlsx file standing in for Excel
# --------------------------------------------------------------------------------------


class FileBook:
    """An .xlsx file behind the :class:`Workbook` interface, for tests and CI.

    Sheets are read as Excel passes them to xlwings (numbers as float, empty as None).
    Changes are kept in memory until :meth:`save`, which writes a new file through a
    temporary file moved into place. Message boxes, status texts and opened files are
    recorded in ``alerts``, ``statuses`` and ``opened``.
    """

    def __init__(self, path: str | os.PathLike):
        from python_calamine import CalamineWorkbook

        self.path = Path(path)
        self._book = CalamineWorkbook.from_path(str(self.path))
        self._names = list(self._book.sheet_names)
        self._written: dict[str, Any] = {}
        self._deleted: set[str] = set()
        self.alerts: list[tuple[str, str, bool]] = []
        self.statuses: list[str | None] = []
        self.opened: list[Path] = []

    @property
    def fullname(self) -> str:
        return str(self.path)

    def sheet_names(self) -> list[str]:
        return list(self._names)

    def read_cells(self, sheet: str) -> list[list[Any]]:
        if sheet in self._written:
            cells = self._written[sheet]
            return [list(r) for r in cells] if isinstance(cells, list) else [[]]
        rows = self._book.get_sheet_by_name(sheet).to_python(skip_empty_area=False)
        return [[float(v) if type(v) is int else v for v in row] for row in rows]

    def _add(self, sheet: str, content: Any) -> None:
        if sheet not in self._names:
            self._names.append(sheet)
        self._deleted.discard(sheet)
        self._written[sheet] = content

    def write_sheet(self, sheet: str, cells: list[list[Any]]) -> None:
        self._add(sheet, [list(r) for r in cells])

    def delete_sheet(self, sheet: str) -> None:
        if sheet in self._names:
            self._names.remove(sheet)
            self._written.pop(sheet, None)
            self._deleted.add(sheet)

    def insert_picture(self, sheet: str, image: Path) -> None:
        self._add(sheet, Path(image))

    def status(self, text: str | None) -> None:
        self.statuses.append(text)

    def alert(self, text: str, *, title: str = "Territory", critical: bool = False) -> None:
        self.alerts.append((title, text, critical))

    def open_in_browser(self, path: Path) -> None:
        self.opened.append(Path(path))

    def save(self, path: str | os.PathLike | None = None) -> Path:
        """Write the workbook with its new sheets to ``path`` (default: its own file)."""
        import openpyxl
        from openpyxl.styles import Font

        target = Path(path) if path is not None else self.path
        wb = openpyxl.load_workbook(self.path)
        for name in list(wb.sheetnames):
            if name in self._deleted or name in self._written:
                del wb[name]
        for name, content in self._written.items():
            ws = wb.create_sheet(name)
            if isinstance(content, Path):
                from openpyxl.drawing.image import Image

                ws.add_image(Image(str(content)), "A1")
                continue
            for r, row in enumerate(content, start=1):
                for c, value in enumerate(row, start=1):
                    if value is None:
                        continue
                    cell = ws.cell(row=r, column=c, value=value)
                    if isinstance(value, str):
                        cell.data_type = "s"  # text, never a formula
                    if r == 1:
                        cell.font = Font(bold=True)
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

