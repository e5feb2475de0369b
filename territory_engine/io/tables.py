"""The tables read from files and sheets: :class:`RawTable` and its CSV text, :class:`CsvSource`.

A sheet's cells become a table through :func:`sheet_table`, shared by the workbook reader
(:mod:`territory_engine.io.read`) and the add-in (:mod:`excel_addin.book`), so validation
messages point at the same cells whichever way a sheet was read.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass
from typing import Any, Callable, Iterator

import numpy as np
import pandas as pd

from ..errors import InputError, Problem, column_letter
from .cells import header_text

__all__ = ["CsvSource", "RawTable", "sheet_table", "unique_headers", "require_rows"]


@dataclass(frozen=True)
class CsvSource:
    """The decoded text of a CSV file, kept so an output can repeat its lines exactly.

    ``rows`` data records were kept (trailing blank records dropped) out of ``records``
    the file holds. ``delimiter`` and ``decimal`` are the file's dialect (Excel in most of
    Europe saves "44,5" between semicolons); an output is written in the same one.
    """

    text: str
    delimiter: str
    rows: int
    records: int
    decimal: str = "."

    def lines(self) -> list[str] | None:
        """The header line and one line per kept record, without line ends, or None when
        lines and records do not match one to one (a quoted field holds a line break of the
        kind that ends lines)."""
        if not self.one_line_per_record():
            return None
        return [line for block in self.line_blocks() for line in block]

    def one_line_per_record(self) -> bool:
        """True when the text holds exactly one line per record (and one header line).

        The counts of lines and records must match, and no line may open a quoted field it
        does not close (an odd number of quotes): a file with LF line ends can hold CRLF in
        quoted fields, and a file of mixed line ends can make the counts match by chance. A
        stray quote in an unquoted field ("12\" pipe") also fails the test; the output is
        then written cell by cell, which is correct, only not a copy of the input's lines.
        """
        end = self._end()
        count = self.text.count(end) + 1 - (self.text == "" or self.text.endswith(end))
        if count != self.records + 1:
            return False
        if '"' not in self.text:
            return True
        return not any(line.count('"') % 2 for block in self.line_blocks() for line in block if '"' in line)

    def line_blocks(self, chars: int = 1 << 22) -> Iterator[list[str]]:
        """The lines of :meth:`lines` (header first) in consecutive lists, each split from
        about ``chars`` characters of the text, so a million-line file never becomes a
        million strings at once. Only meaningful when :meth:`one_line_per_record`."""
        end, text = self._end(), self.text
        wanted, seen, pos = self.rows + 1, 0, 0
        while seen < wanted and pos < len(text):
            stop = text.rfind(end, pos, pos + chars)
            if stop < 0:  # (no line end within the block: a long last line, or a longer line)
                stop = text.find(end, pos)
                stop = len(text) if stop < 0 else stop
            block = text[pos:stop].split(end)[:wanted - seen]
            seen += len(block)
            pos = stop + len(end)
            yield block

    def _end(self) -> str:
        """The line end of the header line: ``\r\n`` or ``\n`` (a quoted field further on may
        hold the other kind)."""
        first = self.text.find("\n")
        return "\r\n" if first > 0 and self.text[first - 1] == "\r" else "\n"


@dataclass(frozen=True)
class RawTable:
    """One input table exactly as read.

    Parameters
    ----------
    name : str
        Sheet name (``"Accounts"``) or file name (``"accounts.csv"``), used in messages.
    frame : pandas.DataFrame
        The original header texts as columns (made unique: ``"Potential (2)"``, and
        ``"Column F"`` for a blank header). Cells of object columns are Python objects:
        str, int, float, bool, datetime, or None for an empty cell; a CSV's all-number
        columns are float64 or int64 (NaN for an empty cell). Frame row ``i`` is the row
        the user sees as ``i + 2`` (the header is row 1).
    is_sheet : bool
        True for a workbook sheet, False for a CSV file.
    path : str
        The file the table was read from.
    csv : CsvSource, optional
        For a CSV file, its decoded text.
    hidden : bool
        The sheet is hidden in Excel (the user may not know it is read).
    warnings : tuple of Problem
        What looked wrong about the workbook's sheets when the table was chosen: a sheet
        not read whose name is close to a table's (:func:`~territory_engine.io.sheets.near_sheets`).
    """

    name: str
    frame: pd.DataFrame
    is_sheet: bool
    path: str
    csv: CsvSource | None = None
    hidden: bool = False
    warnings: tuple[Problem, ...] = ()


def sheet_table(file: str | os.PathLike, name: str, load: Callable[[str], list[list[Any]]]) -> RawTable:
    """A sheet's cells as a table, under its header row.

    Parameters
    ----------
    file : str or path-like
        The workbook the sheet belongs to (kept in the table, for messages).
    name : str
        The sheet's name.
    load : callable
        ``load(name)`` gives the sheet's cells from A1, row by row, as python-calamine reads
        them (or Excel passes them to xlwings): float, int, str, bool, datetime, and ``""``
        or None for an empty cell.

    Returns
    -------
    RawTable
        Trailing empty rows and columns dropped; headers made unique
        (:func:`unique_headers`); empty cells None, whole floats int. An empty sheet gives a
        table without columns.
    """
    rows = load(name)
    while rows and all(_empty(v) for v in rows[-1]):
        rows.pop()
    if not rows:
        return RawTable(name, pd.DataFrame(), True, str(file))
    width = max(len(r) for r in rows)
    if any(len(r) != width for r in rows):
        rows = [list(r) + [""] * (width - len(r)) for r in rows]
    _check_layout(name, rows)
    columns = list(zip(*rows))
    while columns and all(_empty(v) for v in columns[-1]):
        columns.pop()
    if not columns:
        return RawTable(name, pd.DataFrame(), True, str(file))
    header = unique_headers([header_text(c[0]) for c in columns])
    data = {title: _column_from_cells(c[1:]) for title, c in zip(header, columns)}
    frame = pd.DataFrame(data, index=pd.RangeIndex(len(rows) - 1), dtype=object)
    return RawTable(name, frame, True, str(file))


_LOOK_AHEAD = 20
"""Rows read to recognise a title above the header, or a table that does not start at A1."""


def _check_layout(name: str, rows: list[list[Any]]) -> None:
    """Refuse a sheet whose header is not in row 1 from column A: a title above it (row 1
    holds at most one cell and a row below it three or more), blank rows above it, or blank
    columns left of it (an Excel Table placed at B3)."""
    top = rows[:_LOOK_AHEAD]
    filled = [sum(1 for v in r if not _empty(v)) for r in top]
    header = next((i for i, count in enumerate(filled) if count >= 3), None)
    if header is None:
        return
    first_column = min(next(j for j, v in enumerate(r) if not _empty(v)) for r in top if any(not _empty(v) for v in r))
    start = f"{column_letter(first_column)}{header + 1}"
    if filled[0] == 0 or (first_column > 0 and all(_empty(r[0]) for r in rows)):
        raise InputError([Problem(name, f"the table starts at {start}, not at A1; move it so that its header is in "
                                  "row 1 from column A (delete the empty rows above it and columns left of it)")])
    if filled[0] == 1 and header > 0:
        title = next(v for v in rows[0] if not _empty(v))
        raise InputError([Problem(name, f"row 1 looks like a title ({str(title)[:40]!r}); the header seems to be "
                                  f"row {header + 1}: delete the rows above the header so that it is in row 1",
                                  row=1)])


def _column_from_cells(values) -> np.ndarray:
    """Cells from calamine as Python objects: '' -> None, whole floats -> int (when exact)."""
    out = np.empty(len(values), dtype=object)
    out[:] = [
        (int(v) if v.is_integer() and abs(v) < 2 ** 53 else v) if type(v) is float
        else None if v == ""
        else v
        for v in values
    ]
    return out


def _empty(value: Any) -> bool:
    return value is None or value == "" or (isinstance(value, float) and math.isnan(value))


def unique_headers(header: list[str]) -> list[str]:
    """Make headers unique: a blank one becomes ``Column F``, a repeat ``Potential (2)``."""
    out: list[str] = []
    seen: set[str] = set()
    for j, title in enumerate(header):
        base = title or f"Column {column_letter(j)}"
        candidate, n = base, 1
        while candidate.lower() in seen:
            n += 1
            candidate = f"{base} ({n})"
        seen.add(candidate.lower())
        out.append(candidate)
    return out


def require_rows(table: RawTable, role: str) -> RawTable:
    """``table`` itself when it has columns and rows, else an InputError naming it.

    ``role`` names one row in the message: ``"account"`` (an accounts table) or
    ``"data"`` (any other table).
    """
    if table.frame.shape[1] == 0:
        raise InputError([Problem(table.name, f"{table.name} is empty; put the headers in row 1 and one "
                                  f"{role} per row below", is_sheet=table.is_sheet)])
    if len(table.frame) == 0:
        rows = "account rows" if role == "account" else "rows below the header"
        raise InputError([Problem(table.name, f"{table.name} has no {rows}; add one {role} per row below "
                                  "the header in row 1", is_sheet=table.is_sheet)])
    return table


