"""Reading the input tables of a scenario from an .xlsx/.xlsm workbook or a .csv file.

Reading gives :class:`~territory_engine.io.tables.RawTable` objects: the cells as the user
typed them, under the original headers, so that validation (:mod:`territory_engine.validate`)
can point at the exact cell of every problem. Workbooks are read by
:mod:`territory_engine.io.xlsx`, CSV files by :mod:`territory_engine.io.csv_files`.
"""

from __future__ import annotations

import os
from dataclasses import replace
from pathlib import Path

from ..errors import InputError, Problem
from .csv_files import read_csv
from .sheets import SHEET_NAMES, choose_sheet, near_sheets
from .tables import RawTable, require_rows, sheet_table
from .xlsx import open_workbook

__all__ = ["READ_EXTENSIONS", "read_tables", "read_table"]

READ_EXTENSIONS = (".xlsx", ".xlsm", ".csv")
"""File types that can be read."""


def read_tables(path: str | os.PathLike) -> dict[str, RawTable]:
    """Read the input tables of a scenario from a workbook or a CSV file.

    Parameters
    ----------
    path : str or path-like
        An .xlsx/.xlsm workbook or a .csv file.

    Returns
    -------
    dict of str to RawTable
        ``"accounts"`` always: the CSV file, or the workbook's accounts sheet; for workbooks
        also ``"reps"`` and ``"settings"`` when their sheets exist and hold at least one row
        below their header (an empty one counts as absent). Sheets are chosen by
        :func:`~territory_engine.io.sheets.choose_sheet`; each table's ``name`` is its sheet.

    Raises
    ------
    InputError
        The file is missing, of an unsupported type, not a workbook, or its accounts table
        is empty; a sheet holds formulas without values or Excel errors, or reaches beyond
        the limits of :mod:`territory_engine.io.xlsx_scan`.
    """
    file = _existing_input(path)
    if file.suffix.lower() == ".csv":
        return {"accounts": read_csv(file, role="account")}
    names, load, hidden = open_workbook(file)
    chosen = {key: choose_sheet(names, key) for key in SHEET_NAMES}
    accounts = require_rows(sheet_table(file, chosen["accounts"], load), "account")
    tables = {"accounts": replace(accounts, hidden=accounts.name in hidden,
                                  warnings=tuple(near_sheets(names, list(chosen.values()))))}
    for key in ("reps", "settings"):
        name = chosen[key]
        if name is not None:
            table = sheet_table(file, name, load)
            if len(table.frame):
                tables[key] = replace(table, hidden=name in hidden)
    return tables


def read_table(path: str | os.PathLike, *, sheet: str | None = None, role: str = "accounts") -> RawTable:
    """Read one table: a CSV file, or one sheet of a workbook.

    Parameters
    ----------
    path : str or path-like
        An .xlsx/.xlsm workbook or a .csv file (for example a file of rep home bases).
    sheet : str, optional
        For a workbook, the sheet to read (any case).
    role : str
        Without ``sheet``, the table wanted (``"accounts"`` or ``"reps"``): its sheet is chosen
        by :func:`~territory_engine.io.sheets.choose_sheet` for a workbook given for it alone.

    Raises
    ------
    InputError
        As :func:`read_tables`, or the sheet does not exist, or the table has no rows.
    """
    file = _existing_input(path)
    if file.suffix.lower() == ".csv":
        return read_csv(file, role="data")
    names, load, hidden = open_workbook(file)
    if sheet is None:
        name = choose_sheet(names, role, alone=True)
    else:
        name = next((n for n in names if n.strip().lower() == sheet.strip().lower()), None)
        if name is None:
            raise InputError([Problem(file.name, f"there is no sheet named '{sheet}'; the sheets are "
                                      f"{', '.join(names)}", is_sheet=False)])
    return replace(require_rows(sheet_table(file, name, load), "data"), hidden=name in hidden)


def _existing_input(path: str | os.PathLike) -> Path:
    file = Path(path)
    if file.is_dir():
        raise InputError([Problem(file.name, f"{file} is a folder, not a file; give an .xlsx workbook or a .csv "
                                  "file in it", is_sheet=False)])
    if file.suffix.lower() in (".xls", ".xlsb", ".ods", ".numbers"):
        raise InputError([Problem(file.name, f"cannot read '{file.suffix}' files; open it in Excel and save it "
                                  "as .xlsx (Excel Workbook) or .csv", is_sheet=False)])
    if file.suffix.lower() not in READ_EXTENSIONS:
        raise InputError([Problem(file.name, f"cannot read '{file.suffix or 'files without an extension'}' "
                                  "files; give an .xlsx workbook or a .csv file", is_sheet=False)])
    if not file.is_file():
        raise InputError([Problem(file.name, f"{file} does not exist; check the name and folder", is_sheet=False)])
    return file


