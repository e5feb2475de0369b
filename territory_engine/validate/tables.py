"""Opening a raw table for validation: its cells, empty rows, recognised headers, unique keys.

A raw table is anything with ``name``, ``frame`` and ``is_sheet`` (a
:class:`territory_engine.io.RawTable`, or a table the Excel add-in read from the open
workbook); a CSV's also carries ``csv.decimal``, its decimal mark. :func:`open_table` takes
the first steps every table shares; :func:`check_unique` reports blank and repeated keys
(account IDs, territories); :func:`near_misses` warns about headers that look like a known
header misspelled.
"""

from __future__ import annotations

from typing import Any, NamedTuple

import difflib

import numpy as np
import pandas as pd

from ..columns import COMMON_HEADERS, display_header, normalise_header, recognise
from ..errors import InputError, Problem
from .problems import Problems
from .values import blank_mask

__all__ = ["OpenedTable", "header_list", "open_table", "check_unique", "near_misses"]

NEAR_MISS_CUTOFF = 0.85
"""How alike (difflib's ratio) an unrecognised header must be to a known one to be called a
misspelling of it: "Territroy" is 0.89 from "Territory", "Stage" 0.8 from "State"."""


class OpenedTable(NamedTuple):
    """A raw table opened for validation (see :func:`open_table`).

    Parameters
    ----------
    n : int
        The number of rows below the headers, empty ones included.
    headers : list of str
        The headers as written, in column order.
    cells : list of numpy.ndarray
        Each column's cells: float64 for a column of numbers (a CSV's), else Python objects.
    blanks : list of numpy.ndarray
        Each column's blank cells (bool).
    problems : Problems
        The collector of this table's problems; empty rows are already in it.
    used : numpy.ndarray
        The rows that are not empty (bool).
    found : dict of str to int
        Recognised engine column name -> column position.
    """

    n: int
    headers: list[str]
    cells: list[np.ndarray]
    blanks: list[np.ndarray]
    problems: Problems
    used: np.ndarray
    found: dict[str, int]


def _first_rows(keys: np.ndarray, duplicated: np.ndarray) -> dict[Any, int]:
    """User row of the first occurrence of every duplicated key."""
    wanted = set(keys[duplicated].tolist())
    first: dict[Any, int] = {}
    # pandas' isin compares objects exactly (numpy's would drop trailing NUL characters).
    for position in np.flatnonzero(pd.Series(keys, dtype=object).isin(wanted).to_numpy() & ~duplicated):
        first.setdefault(keys[position], int(position) + 2)
    return first


def header_list(frame: pd.DataFrame) -> list[str]:
    """The headers of ``frame`` as text, in column order."""
    return [str(c) for c in frame.columns]


def _columns(frame: pd.DataFrame) -> list[np.ndarray]:
    """Each column's cells: float64 for a column of numbers (a CSV's), else Python objects."""
    return [
        column.to_numpy() if column.dtype == np.float64 else column.to_numpy(dtype=object)
        for column in (frame.iloc[:, j] for j in range(frame.shape[1]))
    ]


def _empty_table(raw, what: str) -> InputError:
    """The error for a table without a single row of ``what`` (accounts, reps)."""
    return InputError([Problem(raw.name, f"{raw.name} has no {what} rows; add one {what} per row below the "
                               "headers in row 1", is_sheet=raw.is_sheet)])


def check_unique(problems, keys, used, j, cells, blank_message: str, duplicate_message) -> None:
    """Report blank keys on used rows, and every repeat of a key with the row it first appeared."""
    problems.add_rows(used & pd.isna(keys), j, None, lambda i, v: blank_message)
    keyed = ~pd.isna(keys)
    duplicated = np.zeros(len(keys), dtype=bool)
    duplicated[keyed] = pd.Series(keys[keyed], dtype=object).duplicated(keep="first").to_numpy()
    if duplicated.any():
        first = _first_rows(keys, duplicated)
        problems.add_rows(duplicated, j, cells, lambda i, v: duplicate_message(keys[i], first[keys[i]]))


def open_table(raw, what: str, synonyms) -> OpenedTable:
    """The first steps shared by every table: cells, blank rows reported, headers recognised.

    Returns an :class:`OpenedTable` (a named tuple ``(n, headers, cells, blanks, problems,
    used, found)``); raises for an empty table.
    """
    frame = raw.frame
    n = len(frame)
    if frame.shape[1] == 0 or n == 0:
        raise _empty_table(raw, what)
    headers = header_list(frame)
    cells = _columns(frame)
    blanks = [blank_mask(c) for c in cells]
    empty_row = np.logical_and.reduce(blanks)
    if empty_row.all():
        raise _empty_table(raw, what)
    csv = getattr(raw, "csv", None)
    problems = Problems(raw.name, raw.is_sheet, headers, decimal=csv.decimal if csv is not None else ".")
    problems.add_rows(empty_row, None, None, lambda i, v: "the row is empty; delete it or fill it in")
    return OpenedTable(n, headers, cells, blanks, problems, ~empty_row, recognise(headers, synonyms))


def near_misses(table: OpenedTable, synonyms, *, taken=frozenset()) -> None:
    """Warn about each header that is not recognised but looks like a misspelled known header
    whose column is missing ("Territroy": did you mean Territory?).

    ``taken`` holds the headers read as measures, for the message.
    """
    positions = set(table.found.values())
    options: dict[str, str] = {}
    for name, spellings in synonyms.items():
        if name not in table.found:
            for spelling in (normalise_header(name), *spellings):
                if len(spelling) >= 4:
                    options.setdefault(spelling, name)
    if not options:
        return
    for j, header in enumerate(table.headers):
        key = normalise_header(header)
        if j in positions or len(key) < 4 or key in COMMON_HEADERS:
            continue
        match = difflib.get_close_matches(key, list(options), n=1, cutoff=NEAR_MISS_CUTOFF)
        if not match:
            continue
        known = display_header(options[match[0]])
        use = "its numbers are read as a measure" if header in taken else "the column is ignored"
        table.problems.warn(f"the header {header!r} is not one this tool knows, so {use}; did you mean {known}? "
                            f"If so, rename the header to {known}", column=j)
