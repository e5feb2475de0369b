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
import re

import numpy as np
import pandas as pd

from ..columns import COMMON_HEADERS, display_header, normalise_header, recognise
from ..errors import InputError, Problem, column_letter
from .problems import Problems
from .values import blank_mask

__all__ = ["OpenedTable", "header_list", "open_table", "check_unique", "duplicate_headers", "near_misses"]

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


def duplicate_headers(table: OpenedTable, synonyms, *, measures=frozenset(), strict=frozenset()) -> None:
    """Report columns headed alike: the same header twice (the reader names the repeat
    ``Potential (2)``), or, for the names in ``strict``, two different headers of one known column
    (``Latitude`` and ``Lat``). An error when the header is a known column or a known measure
    (``measures``: which one the tool would use is a guess, and the other is silently left out or
    balanced too), a warning otherwise."""
    headers = [str(h) for h in table.headers]
    lowered = {h.lower() for h in headers}
    keys = []
    for header in headers:
        base = re.sub(r" \(\d+\)$", "", header)
        keys.append(normalise_header(base if base != header and base.lower() in lowered else header))
    meaning = {}
    for name, options in synonyms.items():
        for option in (normalise_header(name), *options):
            meaning.setdefault(option, name)
    groups: dict[str, list[int]] = {}
    for j, key in enumerate(keys):
        if key:
            groups.setdefault(key, []).append(j)
    for key, positions in groups.items():
        if len(positions) < 2:
            continue
        shown = " and ".join(f"{column_letter(j)} ({headers[j]!r})" for j in positions)
        if key in meaning or key in measures:
            table.problems.add(f"columns {shown} are headed alike; keep one (delete or rename the others), so that "
                               "it is clear which one to use", column=positions[1])
        else:
            table.problems.warn(f"columns {shown} are headed alike; each is read as a column of its own",
                                column=positions[1])
    for name in strict:
        positions = sorted({j for j, key in enumerate(keys) if meaning.get(key) == name})
        if len(positions) > 1 and len({keys[j] for j in positions}) > 1:
            shown = " and ".join(f"{column_letter(j)} ({headers[j]!r})" for j in positions)
            table.problems.add(f"columns {shown} all look like {display_header(name)}; keep one (delete or rename "
                               "the others), so that it is clear which one to use", column=positions[1])


def near_misses(table: OpenedTable, synonyms, *, warn: bool = True) -> dict[int, str]:
    """The headers that are not recognised but look like a misspelled known header whose column is
    missing ("Territroy": did you mean Territory?), by position: the known column's name.

    A header is a near miss when difflib finds it close (``NEAR_MISS_CUTOFF``), or when it is one
    edit away (a letter added, dropped, changed, or two neighbours swapped: "ZPI", "Lattitude").
    Such a column is not read as a measure: its numbers would be balanced or summed in place of
    the column meant. ``warn`` adds a warning for each (the caller may word an error instead).
    """
    positions = set(table.found.values())
    options: dict[str, str] = {}
    for name, spellings in synonyms.items():
        if name not in table.found:
            for spelling in (normalise_header(name), *spellings):
                if len(spelling) >= 3:
                    options.setdefault(spelling, name)
    found: dict[int, str] = {}
    if not options:
        return found
    for j, header in enumerate(table.headers):
        key = normalise_header(header)
        if j in positions or len(key) < 3 or key in COMMON_HEADERS:
            continue
        match = [o for o in options if _one_edit(key, o)] if len(key) < 4 else []
        match = match or difflib.get_close_matches(key, list(options), n=1, cutoff=NEAR_MISS_CUTOFF)
        if not match:
            match = [o for o in options if len(o) >= 4 and _one_edit(key, o)]
        if not match:
            continue
        found[j] = options[match[0]]
        if warn:
            known = display_header(found[j])
            table.problems.warn(f"the header {header!r} is not one this tool knows, so the column is ignored; did "
                                f"you mean {known}? If so, rename the header to {known}", column=j)
    return found


def _one_edit(a: str, b: str) -> bool:
    """Whether ``a`` and ``b`` differ by one letter added, dropped or changed, or by two
    neighbouring letters swapped (the optimal string alignment distance is 1)."""
    if a == b or abs(len(a) - len(b)) > 1:
        return False
    if len(a) == len(b):
        diff = [i for i in range(len(a)) if a[i] != b[i]]
        return len(diff) == 1 or (len(diff) == 2 and diff[1] == diff[0] + 1 and a[diff[0]] == b[diff[1]]
                                   and a[diff[1]] == b[diff[0]])
    short, long = (a, b) if len(a) < len(b) else (b, a)
    i = next((i for i in range(len(short)) if short[i] != long[i]), len(short))
    return short[i:] == long[i + 1:]
