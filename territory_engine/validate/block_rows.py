"""Tables of building blocks: a county list with population and sales, a state list, a ZIP list.

Such a table has a row per block (or several rows per block, summed) and no account
coordinates: each row is placed at its block's centre, found offline from the County (with its
State) or the State column (:func:`territory_engine.geography.resolve_blocks`). Without an
Account ID column, a row is named by its block ("Cook County, IL"), and a block listed twice
gets its row number ("Cook County, IL (row 9)"). A block that cannot be found (unknown, or a
county name that exists in several states with no State given) is a located problem.
ZIP lists are placed by their ZIP like any account; without an Account ID column (a ZIP list with
potential) their rows are named by their ZIP as written.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .tables import OpenedTable
from .values import as_text

__all__ = ["BLOCK_TABLE_KINDS", "is_block_table", "is_zip_list", "place_by_block", "block_row_names"]

BLOCK_TABLE_KINDS = ("county", "state")
"""The kinds of block whose rows may stand without coordinates or a ZIP."""


def is_block_table(table: OpenedTable, block: str) -> bool:
    """A table of ``block`` rows: the block's own column and no location of its own."""
    found = table.found
    return (block in BLOCK_TABLE_KINDS and block in found
            and not any(c in found for c in ("lat", "lon", "zip")))


def is_zip_list(table: OpenedTable, block: str) -> bool:
    """A ZIP list for zip blocks: a ZIP column, no coordinates and no Account ID column."""
    found = table.found
    return (block == "zip" and "zip" in found
            and not any(c in found for c in ("lat", "lon", "account_id")))


def _block_text(table: OpenedTable, block: str) -> tuple[np.ndarray, np.ndarray | None]:
    """The block column's cells as text, and the State column's for county blocks (or None)."""
    values = as_text(table.cells[table.found[block]])
    states = as_text(table.cells[table.found["state"]]) if block == "county" and "state" in table.found else None
    return values, states


def place_by_block(table: OpenedTable, block: str, lat: np.ndarray, lon: np.ndarray) -> None:
    """Place each used row at its block's centre (in ``lat``/``lon``); a problem for each row
    whose block is blank, unknown or ambiguous."""
    from ..geography import load_blocks, resolve_blocks

    values, states = _block_text(table, block)
    j = table.found[block]
    header = table.headers[j]
    blank = table.used & pd.isna(values)
    table.problems.add_rows(blank, j, None, lambda i, v: (
        f"{header} is blank, so the row cannot be placed on the map (this table has no coordinates or ZIP); "
        f"fill it in or delete the row"))
    rows = np.flatnonzero(table.used & ~blank)
    if not len(rows):
        return
    resolved = resolve_blocks(block, values[rows], states=None if states is None else states[rows])
    ids, reasons = resolved.ids, resolved.reasons
    blocks = load_blocks(block)
    at = pd.Index(blocks.ids).get_indexer(pd.Series(ids, dtype=object).where(pd.notna(ids), "\0"))
    known = at >= 0
    lat[rows[known]] = np.asarray(blocks.lat, dtype=float)[at[known]]
    lon[rows[known]] = np.asarray(blocks.lon, dtype=float)[at[known]]
    bad = np.zeros(table.n, dtype=bool)
    bad[rows[~known]] = True
    why = np.full(table.n, None, dtype=object)
    why[rows] = reasons
    table.problems.add_rows(bad, j, values, lambda i, v: f"{header} {v!r}: {why[i] or 'unknown'}")


def block_row_names(table: OpenedTable, block: str) -> np.ndarray:
    """A name for each row of a block table without Account IDs: its block as written (with
    its state), and the row number where a block is listed again."""
    values, states = _block_text(table, block)
    names = pd.Series(values, dtype=object)
    if states is not None:
        with_state = names.notna() & pd.notna(states)
        names[with_state] = names[with_state] + ", " + pd.Series(states, dtype=object)[with_state]
    names = names.where(names.notna(), pd.Series([f"row {i + 2}" for i in range(table.n)]))
    again = names.duplicated(keep="first").to_numpy()
    names[again] = [f"{v} (row {i + 2})" for v, i in zip(names[again], np.flatnonzero(again))]
    return names.to_numpy(dtype=object)
