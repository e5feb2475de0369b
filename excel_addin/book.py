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
messages point at the same cells. Writing goes through :mod:`excel_addin.results`: only the
add-in's own sheets are ever updated; the input sheets and the user's sheets never are.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Any, Mapping, Protocol

import pandas as pd

from territory_engine import workflow
from territory_engine.errors import MAX_PROBLEMS, InputError, Problem
from territory_engine.io import SHEET_NAMES, RawTable, choose_sheet
from territory_engine.io.cells import frame_cells
from territory_engine.io.sheet_layout import SheetLayout
from territory_engine.io.tables import require_rows, sheet_table
from territory_engine.io.xlsx_scan import FlaggedCell, cell_problems
from territory_engine.columns import normalise_header

from . import results

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
    "errors_frame",
    "accounts_note",
    "accounts_problem",
    "EXCEL_ERRORS",
    "MARK_NAME",
    "PICTURE_NAME",
    "CHART_NAME",
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

        A new sheet is added after the last one. An existing sheet is updated in place: the
        values of its old cells are cleared (their formatting and comments stay, as Excel's
        Clear Contents leaves them) and the new ones written; the sheet itself stays, so
        formulas elsewhere that point at it keep working. Text is written as text, never a formula.
        Large tables are written in chunks of rows.
        """

    def format_sheet(self, sheet: str, layout: SheetLayout) -> None:
        """Present the table just written from A1 of ``sheet`` as ``layout`` says
        (:func:`territory_engine.io.sheet_layout.sheet_layout`): each column's number format, an
        Excel Table over the header and rows (with a filter), the header row frozen, widths fitted,
        the status colours (conditional formats) of the status and deviation columns, and the native
        charts of ``layout.charts`` to the right of the table, reading its cells.

        On a sheet updated in place, the Excel Table starting at A1 is resized (it keeps its name,
        so formulas naming it keep working) and the add-in's earlier colour rules and charts are
        replaced, never stacked; the user's fills, comments, own rules and own charts stay. Formats
        are set per column, never per cell.
        """

    def rename_sheet(self, sheet: str, new: str) -> None:
        """Rename a sheet (its contents, marks and the formulas pointing at it follow it)."""

    def delete_sheet(self, sheet: str) -> None:
        """Delete a sheet if it exists."""

    def has_formulas(self, sheet: str) -> bool:
        """Whether any cell of ``sheet`` holds a formula (the add-in never writes one, so a
        formula on one of its sheets is the user's edit)."""

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

CHART_NAME = "Territory chart"
"""The name of the add-in's charts on a result sheet (``Territory chart 1``, ...): how a re-run
finds and replaces them, never the user's own charts."""


# --------------------------------------------------------------------------------------
# shared: sheets to tables and tables to cells
# --------------------------------------------------------------------------------------


EXCEL_ERRORS = frozenset({
    "#NULL!", "#DIV/0!", "#VALUE!", "#REF!", "#NAME?", "#NUM!", "#N/A", "#GETTING_DATA", "#SPILL!",
    "#CALC!", "#FIELD!", "#BLOCKED!", "#CONNECT!", "#BUSY!", "#UNKNOWN!", "#PYTHON!",
})
"""The texts of Excel's error values, exactly as xlwings passes them with ``err_to_str=True``
(a user's text "#n/a" or " #N/A " is not one: it is read as text, and validated as such)."""


def _error_cells(rows: list[list[Any]]) -> list[FlaggedCell]:
    return [FlaggedCell(r, c, v, None)
            for r, row in enumerate(rows, start=1) for c, v in enumerate(row)
            if isinstance(v, str) and v in EXCEL_ERRORS]


def read_table(book: Workbook, name: str) -> RawTable:
    """One sheet as a table, converted as the command line converts a workbook's sheet.

    Raises
    ------
    InputError
        A cell of the sheet holds an Excel error (``#N/A``, ``#DIV/0!``, ...): each such cell
        is a located problem, as it is when the command line reads the saved file.
    """
    def load(sheet: str) -> list[list[Any]]:
        rows = book.read_cells(sheet)
        errors = _error_cells(rows)
        if errors:
            raise InputError(cell_problems(sheet, rows[0] if rows else [], errors[:MAX_PROBLEMS]))
        return rows

    return sheet_table(Path(book.fullname), name, load)


def user_sheets(book: Workbook) -> list[str]:
    """The workbook's sheets that are not the add-in's own results, in order: where the input
    tables are looked for (a result sheet moved to the front is never read as the accounts)."""
    return [n for n in book.sheet_names() if results.read_mark(book, n) is None]


def read_inputs(book: Workbook) -> workflow.Inputs:
    """The accounts, reps and settings sheets as tables, chosen as the command line chooses them
    (:func:`territory_engine.io.choose_sheet`: ``Accounts`` else the first sheet, ``Reps`` or
    ``Rep bases`` or ``Bases``, ``Settings``).

    Reps and Settings are left out when absent or empty, as when reading a file.

    Raises
    ------
    InputError
        The accounts sheet is empty or has no rows below its header; a cell holds an error.
    """
    names = user_sheets(book)
    accounts = require_rows(read_table(book, choose_sheet(names, "accounts")), "account")
    optional = {}
    for key in ("reps", "settings"):
        name = choose_sheet(names, key)
        if name is not None:
            table = read_table(book, name)
            if len(table.frame):
                optional[key] = table
    return workflow.Inputs(accounts=accounts, reps=optional.get("reps"), settings=optional.get("settings"))


def _accounts_sheet(book: Workbook) -> str | None:
    """The sheet the accounts were read from when none is named Accounts, else None."""
    names = user_sheets(book)
    if any(normalise_header(n) == normalise_header(SHEET_NAMES["accounts"][0]) for n in names):
        return None
    return choose_sheet(names, "accounts")


def accounts_note(book: Workbook) -> str | None:
    """A line for the message box when the accounts were not read from a sheet named Accounts."""
    used = _accounts_sheet(book)
    return None if used is None else f"This workbook has no sheet named Accounts: the accounts were read from the " \
        f"sheet '{used}'."


def accounts_problem(book: Workbook) -> Problem | None:
    """The first problem to list when the accounts sheet had problems and is not named Accounts."""
    used = _accounts_sheet(book)
    if used is None:
        return None
    return Problem(used, (f"this workbook has no sheet named Accounts, so Territory looked at the sheet '{used}' "
                          f"(sheets: {', '.join(user_sheets(book))}); put the accounts on a sheet named Accounts"))


def _protected(book: Workbook) -> set[str]:
    names = user_sheets(book)
    protected = {n for n in names if n.strip().lower() in INPUT_SHEETS}
    protected.update(n for n in (choose_sheet(names, role) for role in SHEET_NAMES) if n is not None)
    return protected


def write_results(book: Workbook, sheets: Mapping[str, pd.DataFrame | Path], *,
                  complete: bool = False) -> results.Written:
    """Write result tables (or pictures) to the add-in's own sheets of ``book``, all or none
    (:func:`excel_addin.results.write_results`). A result never lands on an input sheet or on
    a sheet of the user's: it goes beside it ("Moves (2)").

    ``complete``: these are all the results of a run that completed, so the add-in's sheets of
    the transient results it has nothing for (Errors, Warnings, ...) are emptied to their header;
    those about a proposal (:data:`~excel_addin.results.ABOUT_PROPOSAL`) only by a run that
    writes one.
    """
    proposal = "Proposed alignment" in sheets
    empty = tuple(r for r in results.TRANSIENT if r not in sheets
                  and (proposal or r not in results.ABOUT_PROPOSAL)) if complete else ()
    return results.write_results(book, sheets, protected=_protected(book), empty=empty)


def errors_frame(problems: list[Problem]) -> pd.DataFrame:
    """The Errors sheet's table: one row per problem with sheet, row, column, header, value."""
    return pd.DataFrame([p.as_row() for p in problems], columns=["sheet", "row", "column", "header", "value", "problem"])


def write_errors(book: Workbook, problems: list[Problem]) -> str:
    """Write the Errors sheet (:func:`errors_frame`); return its name."""
    return write_results(book, {ERRORS_SHEET: errors_frame(problems)}).sheets[ERRORS_SHEET]


def output_folder(book: Workbook) -> Path:
    """Where files made for a workbook (maps) go: its folder, else a temporary folder."""
    folder = Path(book.fullname).parent
    if str(folder) not in ("", ".") and folder.is_dir() and os.access(folder, os.W_OK):
        return folder
    return Path(tempfile.gettempdir())

