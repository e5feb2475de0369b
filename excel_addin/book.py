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
from pathlib import Path
from typing import Any, Mapping, Protocol

import pandas as pd

from territory_engine import workflow
from territory_engine.errors import Problem
from territory_engine.io import SHEET_NAMES, RawTable, choose_sheet, excel_sheet_name
from territory_engine.io.cells import frame_cells
from territory_engine.io.tables import require_rows, sheet_table

from .excel_book import ExcelBook
from .file_book import FileBook

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
    """What a ribbon action needs from a workbook.

    Sheet names are compared as Excel compares them: ignoring case. A method given a sheet
    name accepts it in any case. Only :mod:`excel_addin.results` decides which sheets may be
    written, renamed or deleted (those the add-in made itself, found by their mark); the
    methods below do what they are told.
    """

    @property
    def fullname(self) -> str:
        """The workbook's file path (or its name when it was never saved)."""

    def sheet_names(self) -> list[str]:
        """Names of the worksheets, in order."""

    def read_cells(self, sheet: str) -> list[list[Any]]:
        """The cells of a sheet from A1 as Excel passes them: float, str, bool, datetime, None.

        A cell holding an Excel error (``#N/A``, ``#DIV/0!``, ...) reads as that text, as
        xlwings gives it with ``err_to_str=True``. Large sheets are read in chunks of rows.
        """

    def write_sheet(self, sheet: str, cells: list[list[Any]]) -> None:
        """Write ``cells`` (first row: bold headers) from A1 of ``sheet``.

        A new sheet is added after the last one. An existing sheet is updated in place: its
        old cells are cleared and the new ones written, the sheet itself stays, so formulas
        elsewhere that point at it keep working. Text is written as text, never a formula.
        Large tables are written in chunks of rows.
        """

    def rename_sheet(self, sheet: str, new: str) -> None:
        """Rename a sheet (its contents, marks and the formulas pointing at it follow it)."""

    def delete_sheet(self, sheet: str) -> None:
        """Delete a sheet if it exists."""

    def sheet_mark(self, sheet: str) -> str | None:
        """The text of the hidden sheet-level name :data:`MARK_NAME` on ``sheet``, else None.

        The mark is saved with the workbook, follows the sheet when it is renamed or copied,
        and goes when the sheet is deleted.
        """

    def set_sheet_mark(self, sheet: str, text: str) -> None:
        """Set the hidden sheet-level name :data:`MARK_NAME` on ``sheet`` to the text ``text``
        (at most 200 characters of ``A-Za-z0-9+/=_-.``; no quotes)."""

    def insert_picture(self, sheet: str, image: Path) -> None:
        """Show the picture ``image`` (a PNG file) from A1 of ``sheet``, added when absent; an
        earlier picture of the add-in on that sheet is replaced."""

    def status(self, text: str | None) -> None:
        """Show ``text`` in Excel's status bar; None gives the status bar back to Excel."""

    def alert(self, text: str, *, title: str = "Territory", critical: bool = False) -> None:
        """A message box."""

    def open_in_browser(self, path: Path) -> None:
        """Open a local file (an HTML map) in the default browser."""


MARK_NAME = "TerritoryPlannerResult"
"""The hidden sheet-level defined name that marks a sheet the add-in made."""

PICTURE_NAME = "Territory map"
"""The name of the add-in's picture on a map sheet."""


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

