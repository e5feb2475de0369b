"""Writing result tables to a new .xlsx workbook or .csv file, through a temporary file.

The file is written to a temporary file in the target folder (:mod:`territory_engine.io.paths`)
that is moved into place only when complete, so a failure never leaves a partial output.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Callable, Mapping

import pandas as pd

from ..errors import InputError, Problem
from .csv_files import write_csv
from .paths import check_output_path, move_into_place, temporary_file, write_failed
from .tables import RawTable
from .xlsx import write_xlsx

__all__ = ["write_tables"]


def write_tables(path: str | os.PathLike, sheets: Mapping[str, pd.DataFrame], *,
                 source: RawTable | None = None, progress: Callable[[float], None] | None = None) -> Path:
    """Write tables to a new .xlsx workbook (one sheet each) or a .csv file (the first).

    The file is written to a temporary file in the same folder and moved into place when
    complete; on any failure the temporary file is removed and nothing is left behind.
    Text is always written as text (never as a formula, a link or a number).

    Parameters
    ----------
    path : str or path-like
        The output file, .xlsx or .csv.
    sheets : mapping of str to pandas.DataFrame
        Sheet name to table, in the order wanted. Names are made valid for Excel
        (at most 31 characters, none of ``[]:*?/\\``).
    source : RawTable, optional
        The CSV table whose columns, unchanged, lead the first table (the input of a
        rebalance or score). A .csv output then repeats each input line exactly as it was
        written and adds the remaining columns to it.
    progress : callable, optional
        ``progress(fraction)``: the share of an .xlsx workbook's rows written so far, called
        after each block of rows (a .csv file is written in one go).

    Returns
    -------
    pathlib.Path
        The file written.

    Raises
    ------
    InputError
        Unsupported extension, missing folder, a read-only output, no tables, a table too
        long for a sheet, a full disk, or the file cannot be replaced (open in Excel, no
        permission).
    """
    out = Path(path)
    check_output_path(out)
    if not sheets:
        raise InputError([Problem(out.name, "there is nothing to write", is_sheet=False)])
    ext = out.suffix.lower()
    tmp = temporary_file(out)
    try:
        try:
            if ext == ".csv":
                write_csv(tmp, next(iter(sheets.values())), source)
            else:
                write_xlsx(tmp, sheets, progress=progress)
        except OSError as error:
            raise write_failed(out, error) from None
        move_into_place([(tmp, out)])
    except BaseException:
        try:
            tmp.unlink()
        except FileNotFoundError:
            pass
        raise
    return out


