"""The chunk plan: how many rows of a sheet go to or from Excel in one call.

Desktop Excel hands a range's values to Python (and takes them back) as one COM array of
variants, built inside Excel's own process: 16 bytes a cell, plus every text cell as a string
of its own (2 bytes a character and a header). A 32-bit Excel has 2 GB of address space (4 GB
on 64-bit Windows), shared with the open workbook, its undo stack and the add-ins, and needs
the array in one contiguous block: a whole sheet of 1,048,575 rows x 10 columns in one call is
a 168 MB array before its strings, which a long-running 32-bit Excel often cannot find. Reading
and writing in chunks of rows keeps each array small, at the cost of one round trip per chunk.
``tests/benchmarks/addin_chunks.py`` measures the plan.
"""

from __future__ import annotations

from territory_engine.io.xlsx_scan import MAX_COLUMNS, MAX_ROWS

__all__ = ["CELLS_PER_CHUNK", "AUTOFIT_ROWS", "MAX_ROWS", "MAX_COLUMNS", "row_chunks"]

# --- files: the size of one call to Excel -----------------------------------------------
CELLS_PER_CHUNK = 1_000_000
"""Cells read or written in one call. Trades Excel's memory against round trips: a chunk is
at most a 16 MB variant array (plus its strings, about 40 MB when every cell holds a 10-character
text), which a 32-bit Excel finds room for; a 1,048,575 x 10 sheet takes 11 calls. Much smaller
chunks add round trips (each a few milliseconds through COM, more through xlwings Lite) for no
gain in Excel; much larger ones bring back the one big array."""

AUTOFIT_ROWS = 1_000
"""Rows (header included) whose widths set the columns' widths. Autofit reads every cell of its
range and takes seconds on a million rows; a longer text further down is cut off on screen
(never in the cell)."""


def row_chunks(n_rows: int, n_cols: int, *, budget: int = CELLS_PER_CHUNK) -> list[tuple[int, int]]:
    """The rows of a table of ``n_rows`` x ``n_cols`` cells in chunks of at most ``budget`` cells.

    Parameters
    ----------
    n_rows, n_cols : int
        The table's size (cells).
    budget : int
        Cells in one chunk; a row wider than the budget is a chunk of its own.

    Returns
    -------
    list of (int, int)
        ``(first, last)`` row numbers, 1-based and inclusive as Excel counts them, covering
        ``1..n_rows`` in order; empty when there are no rows.
    """
    if n_rows <= 0:
        return []
    if budget < 1:
        raise ValueError(f"a chunk must hold at least one cell, not {budget}")
    per_chunk = max(1, budget // max(n_cols, 1))
    return [(first, min(first + per_chunk - 1, n_rows)) for first in range(1, n_rows + 1, per_chunk)]
