"""A result sheet laid out: the one description every writer of result sheets follows.

:func:`sheet_layout` computes, once from a result table, what an analyst expects of its sheet:
the headers in the analyst's words and each column's number format
(:mod:`territory_engine.io.presentation`), the column widths, the range of its Excel Table (a
filter on the header row, a frozen header row) and the status colours of its status and
deviation columns (:data:`STATUS_COLOURS`). The command line's .xlsx writer
(:mod:`territory_engine.io.xlsx`, xlsxwriter) and the add-in's workbooks
(:mod:`excel_addin.excel_book` through xlwings, :mod:`excel_addin.file_book` through openpyxl)
each apply the same :class:`SheetLayout`, so a result looks the same in a file and in Excel.
"""

from __future__ import annotations

import datetime as _dt
import re
from dataclasses import dataclass
from typing import Any

import pandas as pd

from ..errors import column_letter
from .cells import column_cells, header_cells
from .presentation import sheet_styles
from .sheet_charts import SheetChart, sheet_charts

__all__ = ["CAPACITY_WORDS", "SheetLayout", "STATUS_COLOURS", "TABLE_STYLE", "WIDTH_SAMPLE", "sheet_layout",
           "table_name",
           "is_status_rule"]

# --- the look of a result sheet (about files, not algorithms) ---------------------------
WIDTH_SAMPLE = 200  # columns are sized to their header and their first 200 values: more reads more cells
MAX_WIDTH = 60  # the widest column (characters): a long reason wraps out of sight rather than push the table away
MIN_WIDTH = 9  # the narrowest column (characters), room for the header's filter button
TABLE_STYLE = "Table Style Medium 2"  # xlsxwriter's spelling; without its spaces, Excel's, xlwings' and openpyxl's
# Status colours (conditional formats), apart in grey print too: over-served dark (grey ~22%) with
# white bold text, under-served mid (grey ~56%) with bold italic text, uneven light orange (~75%)
# underlined, balanced light (grey ~91%). Keys as xlsxwriter takes them.
STATUS_COLOURS = {
    "over-served": {"bg_color": "#C00000", "font_color": "#FFFFFF", "bold": True},
    "under-served": {"bg_color": "#5B9BD5", "font_color": "#000000", "bold": True, "italic": True},
    "balanced": {"bg_color": "#E2EFDA", "font_color": "#375623"},
    # the weighted mix within the tolerance, one of its measures outside: light orange (~75% grey), underlined
    "uneven": {"bg_color": "#F4B183", "font_color": "#000000", "underline": 1},
    # a territory whose workload hours exceed its rep's capacity (its Capacity status cell): dark orange
    # (grey ~45%) with white bold italic text
    "over capacity": {"bg_color": "#C55A11", "font_color": "#FFFFFF", "bold": True, "italic": True},
}
CAPACITY_WORDS = ("over capacity",)
"""The statuses of the capacity status column (coloured there only, not in the balance status column)."""
_STATUS_RULE = re.compile(r'=?\$([A-Z]{1,3})2="(' + "|".join(map(re.escape, STATUS_COLOURS)) + ')"')


@dataclass(frozen=True)
class SheetLayout:
    """How one result sheet is presented (everything but its cells' values).

    Attributes
    ----------
    headers : tuple of str
        The header row as shown: the analyst's words, an input column's own header; unique.
    number_formats : tuple of (str or None)
        Each column's Excel number format (None: General, the cells as typed).
    widths : tuple of float
        Each column's width (characters), fitted to its header and its first values.
    rows : int
        Rows under the header.
    status_column : int or None
        The 0-based column of the statuses when the sheet is coloured by status, else None.
    coloured : tuple of int
        The 0-based columns coloured by each row's status (the status and the deviations).
    capacity_column : int or None
        The 0-based column of the workload's capacity status (coloured when "over capacity"), else None.
    charts : tuple of SheetChart
        The native charts drawn beside the table, reading its cells
        (:mod:`territory_engine.io.sheet_charts`; the add-in's sheets draw them).
    """

    headers: tuple[str, ...]
    number_formats: tuple[str | None, ...]
    widths: tuple[float, ...]
    rows: int
    status_column: int | None = None
    coloured: tuple[int, ...] = ()
    capacity_column: int | None = None
    charts: tuple[SheetChart, ...] = ()

    @property
    def table_ref(self) -> str:
        """The range of the sheet's Excel Table: the header and its rows (one empty row when none)."""
        return f"A1:{column_letter(len(self.headers) - 1)}{max(self.rows, 1) + 1}"

    def status_rules(self) -> list[tuple[int, str, str]]:
        """``(column, formula, status)`` of each status colour: the 0-based column it colours and
        the formula (``=$G2="over-served"``) relative to the column's first row of values."""
        if self.rows == 0:
            return []
        rules = []
        if self.status_column is not None:
            key = column_letter(self.status_column)
            rules += [(j, f'=${key}2="{word}"', word) for j in self.coloured for word in STATUS_COLOURS
                      if word not in CAPACITY_WORDS]
        if self.capacity_column is not None:
            key = column_letter(self.capacity_column)
            rules += [(self.capacity_column, f'=${key}2="{word}"', word) for word in CAPACITY_WORDS]
        return rules


def is_status_rule(formula: Any) -> bool:
    """Whether a conditional format's formula is one of :meth:`SheetLayout.status_rules` (with or
    without its ``=``): how a writer finds its own rules on a sheet updated in place."""
    return isinstance(formula, str) and _STATUS_RULE.fullmatch(formula.strip()) is not None


def sheet_layout(sheet: str, frame: pd.DataFrame, *, headers: list[str] | None = None) -> SheetLayout:
    """The layout of result ``sheet`` (its result's name, ``"Territory summary"``) holding ``frame``.

    Parameters
    ----------
    sheet : str
        The result's name, which decides the presentation rules
        (:func:`territory_engine.io.presentation.sheet_styles`), whatever name its sheet got.
    frame : DataFrame
        The result table, under the engine's column names.
    headers : list of str, optional
        The header row to show instead of the analyst's words (the cells of a sheet put back).

    Returns
    -------
    SheetLayout
    """
    if frame.shape[1] == 0:
        return SheetLayout((), (), (), len(frame))
    samples = [column_cells(frame.iloc[:WIDTH_SAMPLE, j]) for j in range(frame.shape[1])]
    shown, kinds, formats = sheet_styles(sheet, list(frame.columns), samples, header_cells(frame.columns))
    if headers is not None:
        shown = [str(h) for h in headers]
    number_formats = tuple(formats[j] or _date_format(frame.iloc[:, j]) for j in range(frame.shape[1]))
    widths = []
    for title, sample, text in zip(shown, samples, number_formats):
        width = max([len(title) + 4] + [min(len(_display(v, text)), MAX_WIDTH) + 2 for v in sample if v is not None])
        widths.append(float(min(max(width, MIN_WIDTH), MAX_WIDTH)))
    names = list(frame.columns)
    status = names.index("status") if "status" in names and kinds[names.index("status")] is not None else None
    coloured = () if status is None else tuple(j for j, kind in enumerate(kinds)
                                               if kind == "deviation" or j == status)
    capacity = names.index("capacity status") if "capacity status" in names and kinds[
        names.index("capacity status")] is not None else None
    return SheetLayout(tuple(shown), number_formats, tuple(widths), len(frame), status, coloured, capacity,
                       sheet_charts(sheet, frame))


def table_name(sheet_name: str, used: set[str]) -> str:
    """A valid Excel Table name from a sheet's name (``Territory summary`` -> ``Territory_summary``),
    not in ``used`` (lower case), to which it is added."""
    text = re.sub(r"\W", "_", sheet_name)
    if not re.match(r"[A-Za-z_]", text) or re.fullmatch(r"[A-Za-z]{1,3}\d+|[RrCc]", text):
        text = "Table_" + text
    candidate, n = text[:250], 1
    while candidate.lower() in used:
        n += 1
        candidate = f"{text[:240]}_{n}"
    used.add(candidate.lower())
    return candidate


def _date_format(column: pd.Series) -> str | None:
    """``yyyy-mm-dd hh:mm:ss`` or ``yyyy-mm-dd`` for a column holding date-times or dates, else None."""
    if pd.api.types.is_datetime64_any_dtype(column.dtype):
        return "yyyy-mm-dd hh:mm:ss"
    if column.dtype != object:
        return None
    values = column.to_numpy(dtype=object)
    if any(isinstance(v, _dt.datetime) for v in values):
        return "yyyy-mm-dd hh:mm:ss"
    if any(isinstance(v, _dt.date) for v in values):
        return "yyyy-mm-dd"
    return None


def _display(value: Any, number_format: str | None) -> str:
    """A cell's value about as wide as Excel shows it in ``number_format`` (for column widths)."""
    if isinstance(value, bool):
        return "FALSE" if not value else "TRUE"
    if isinstance(value, (int, float)):
        if number_format and "%" in number_format:
            return f"{value:+.1%}"
        if number_format in ("#,##0",):
            return f"{value:,.0f}"
        return f"{value:,.2f}" if isinstance(value, float) else f"{value:,}"
    if isinstance(value, (_dt.date, _dt.datetime)):
        return "yyyy-mm-dd hh:mm:ss" if isinstance(value, _dt.datetime) else "yyyy-mm-dd"
    return str(value)
