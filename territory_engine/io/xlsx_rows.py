"""A worksheet's rows as SpreadsheetML, written a column at a time (the speed of large .xlsx outputs).

xlsxwriter builds the workbook around the rows (styles, Excel Tables, conditional formats, charts;
:mod:`territory_engine.io.xlsx`); the rows of the result tables are written here, because writing
them a cell at a time through xlsxwriter takes about 13 microseconds a cell in constant-memory mode
(24.7 s for a 100,000-account rebalance, 22 s of it the workbook) and its constant-memory mode
cannot hold an Excel Table. Here each column of a block of rows becomes its cells' XML in one list
comprehension, and each row is joined from them (``tests/benchmarks/xlsx_speed.py`` measures it).

The XML is what xlsxwriter writes in constant-memory mode (ECMA-376 Part 1, 18.3.1.4 ``c``): numbers as
``<v>``, text as inline strings (``t="inlineStr"``; never a formula, whatever it starts with) escaped
for XML, control characters as ``_xHHHH_`` and a literal ``_xHHHH_`` as ``_x005F_xHHHH_`` (as Excel
does), leading or trailing white space kept (``xml:space="preserve"``), TRUE/FALSE as ``t="b"``,
dates as serial numbers (days since 1899-12-30) in their column's date format.
"""

from __future__ import annotations

import datetime as _dt
import re
from typing import Any, Iterable, Sequence

from ..errors import column_letter

__all__ = ["escape_text", "rows_xml"]

_ESCAPES = re.compile(r"[&<>\x00-\x08\x0b-\x1f\ufffe\uffff]|_x[0-9a-fA-F]{4}_")
_LITERAL = re.compile(r"(_x[0-9a-fA-F]{4}_)")
_CONTROL = re.compile(r"([\x00-\x08\x0b-\x1f])")
_EPOCH = _dt.datetime(1899, 12, 30)


def escape_text(text: str) -> str:
    """``text`` as the content of a ``<t>`` element: XML escapes, control characters as ``_xHHHH_``."""
    if not _ESCAPES.search(text):
        return text
    text = _LITERAL.sub(r"_x005F\1", text)
    text = _CONTROL.sub(lambda m: f"_x{ord(m.group(1)):04X}_", text)
    text = text.replace("\ufffe", "_xFFFE_").replace("\uffff", "_xFFFF_")
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


_EDGE_SPACE = re.compile(r"(?:^|\x00)\s|\s(?:\x00|$)")  # texts joined by NUL, which none holds here


def _text(value: str) -> str:
    preserve = ' xml:space="preserve"' if value[:1].isspace() or value[-1:].isspace() else ""
    return f't="inlineStr"><is><t{preserve}>{escape_text(value)}</t></is></c>'


def _serial(value: _dt.date) -> float:
    if not isinstance(value, _dt.datetime):
        value = _dt.datetime(value.year, value.month, value.day)
    return (value.replace(tzinfo=None) - _EPOCH).total_seconds() / 86400


def _cell(value: Any, style: str) -> str:
    """The tail of one cell's XML after ``<c r="A2"`` (any kind of cell value)."""
    kind = type(value)
    if kind is float or kind is int:
        return f"{style}><v>{value!r}</v></c>"
    if kind is str:
        return f"{style} {_text(value)}"
    if kind is bool:
        return f'{style} t="b"><v>{int(value)}</v></c>'
    return f"{style}><v>{_serial(value)!r}</v></c>"


def _column(values: list[Any], ref: list[str], style: str) -> list[str]:
    """One column's cells of a block of rows (``ref``: ``<c r="A2"`` ... per row); "" where empty."""
    kinds = set(map(type, values))
    if kinds <= {float, int}:
        return [f"{r}{style}><v>{v!r}</v></c>" for r, v in zip(ref, values)]
    if kinds <= {float, type(None)}:
        return ["" if v is None else f"{r}{style}><v>{v!r}</v></c>" for r, v in zip(ref, values)]
    if kinds <= {str, type(None)}:
        texts = list(filter(None, values))  # an empty text is an empty cell, as xlsxwriter writes it
        joined = "\n".join(texts)
        if _CONTROL.search(joined) or ("_x" in joined and _LITERAL.search(joined)) or "\ufffe" in joined \
                or "\uffff" in joined or _EDGE_SPACE.search("\x00".join(texts)):
            return ["" if not v else f"{r}{style} {_text(v)}" for r, v in zip(ref, values)]
        # No control character, no _xHHHH_, no white space at an end (a false "yes" above only
        # sends the column to the value-by-value path): XML's three escapes at most.
        if "&" in joined or "<" in joined or ">" in joined:
            values = [v if v is None else v.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
                      for v in values]
        return ["" if not v else f'{r}{style} t="inlineStr"><is><t>{v}</t></is></c>' for r, v in zip(ref, values)]
    return ["" if v is None or v == "" else r + _cell(v, style) for r, v in zip(ref, values)]


def rows_xml(columns: Sequence[list[Any]], first_row: int, styles: Sequence[int | None]) -> Iterable[str]:
    """The ``<row>`` elements of a block of rows.

    Parameters
    ----------
    columns : sequence of lists
        Each column's cell values for the block (:func:`~territory_engine.io.cells.column_cells`).
    first_row : int
        The block's first row, 1-based as Excel numbers rows.
    styles : sequence of int or None
        Each column's cell format (its xf index in the workbook's styles); None for General. A
        column holding dates has a date format (a date is a number in a date format).
    """
    n = len(columns[0]) if columns else 0
    numbers = [str(first_row + i) for i in range(n)]
    cells = []
    for j, values in enumerate(columns):
        letter = column_letter(j)
        ref = [f'<c r="{letter}{r}"' for r in numbers]
        style = "" if styles[j] is None else f' s="{styles[j]}"'
        cells.append(_column(values, ref, style))
    return (f'<row r="{r}">{"".join(row)}</row>' for r, row in zip(numbers, zip(*cells)))
