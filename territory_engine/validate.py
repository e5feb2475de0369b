"""Validation of the input tables: accounts, reps and settings.

Each function takes a raw table (anything with ``name``, ``frame`` and ``is_sheet``: a
:class:`territory_engine.io.RawTable`, or a table the Excel add-in read from the open
workbook) whose frame holds the cells as typed under the original headers, and returns
clean engine columns. Every problem found is collected, located as the user sees it
(sheet, row, column letter, header, value) and raised together as one
:class:`~territory_engine.errors.InputError`, up to ``errors.MAX_PROBLEMS``.

Validation is vectorised: whole columns are converted at once and only the failing rows
are visited one by one, so a full sheet of 1,048,575 accounts validates in seconds.
"""

from __future__ import annotations

import datetime as _dt
import math
import numbers
import re
from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np
import pandas as pd

from .columns import (ACCOUNT_SYNONYMS, FALSE_WORDS, REP_SYNONYMS, SETTINGS_SYNONYMS, TRUE_WORDS, normalise_header,
                      recognise, snake_case)
from .errors import MAX_PROBLEMS, InputError, Problem
from .geocode import geocode_zips, locate_zips, normalise_zips, zip_table

__all__ = [
    "AccountTable",
    "ACCOUNT_COLUMNS",
    "KNOWN_MEASURES",
    "validate_accounts",
    "validate_reps",
    "settings_pairs",
    "as_text",
]

ACCOUNT_COLUMNS = ("account_id", "account_name", "lat", "lon", "zip", "state", "county", "territory", "rep",
                   "locked")
"""The engine columns of every validated accounts table, before the measures."""

KNOWN_MEASURES = frozenset({
    "potential", "sales", "revenue", "workload", "opportunities", "visits", "calls", "accounts_value",
    "quota", "target", "volume", "units", "spend", "orders", "margin", "profit", "employees", "value",
    "hours", "pipeline", "bookings",
})
"""Headers (snake_case) taken as measures even when their cells are mostly blank or text."""

_THOUSANDS = re.compile(r"^[-+]?\d{1,3}(,\d{3})+(\.\d*)?$")


@dataclass(frozen=True)
class AccountTable:
    """Validated accounts.

    Parameters
    ----------
    frame : pandas.DataFrame
        One row per input row, in input order, index 0..n-1. Columns: ``account_id`` (str),
        ``account_name`` (str; the ID when there is no name column), ``lat``, ``lon``
        (degrees, float64), ``zip`` (5-digit str or None), ``state``, ``county``,
        ``territory``, ``rep`` (str or None), ``locked`` (bool), then one float64 column per
        measure (a blank cell is 0.0). Columns absent from the input are present as None
        (False for ``locked``). Blank ``state``/``county`` stay blank (county building blocks fill
        them from the ZIP).
    measures : tuple of str
        The snake_case names of the measure columns, in input order.
    headers : dict of str to str
        Engine column (or measure) name -> the original header, for messages and output.
    source : str
        The sheet or file name the accounts came from.
    """

    frame: pd.DataFrame
    measures: tuple[str, ...]
    headers: dict[str, str]
    source: str


# --------------------------------------------------------------------------------------
# problem collection
# --------------------------------------------------------------------------------------


@dataclass
class _Problems:
    """Problems of one table, each located by user row and column position."""

    source: str
    is_sheet: bool
    headers: list[str]
    decimal: str = "."  # the decimal mark of a CSV source, for the examples in messages
    found: list[Problem] = field(default_factory=list)
    more: int = 0

    def add(self, message: str, *, row: int | None = None, column: int | None = None, value: Any = None) -> None:
        if len(self.found) >= MAX_PROBLEMS:
            self.more += 1
            return
        self.found.append(Problem(
            source=self.source, message=message, row=row,
            column=self.headers[column] if column is not None else None,
            column_index=column, value=value, is_sheet=self.is_sheet,
        ))

    def add_rows(self, mask: np.ndarray, column: int | None, values: np.ndarray | None,
                 message: Callable[[int, Any], str]) -> None:
        """One problem per True row of ``mask``; ``message(position, value)`` words it."""
        rows = np.flatnonzero(mask)
        room = max(MAX_PROBLEMS - len(self.found), 0)
        for position in rows[:room]:
            value = values[position] if values is not None else None
            self.add(message(int(position), value), row=int(position) + 2, column=column, value=value)
        self.more += max(len(rows) - room, 0)

    def raise_if_any(self) -> None:
        if not self.found:
            return
        problems = sorted(self.found, key=lambda p: (p.row is not None, p.row or 0, p.column_index or 0))
        if self.more:
            problems = problems[: MAX_PROBLEMS - 1]
            hidden = self.more + len(self.found) - len(problems)
            problems.append(Problem(self.source, f"and {hidden:,} more problems; fix the ones above and check "
                                    "again", is_sheet=self.is_sheet))
        raise InputError(problems)


# --------------------------------------------------------------------------------------
# cell conversion (whole columns)
# --------------------------------------------------------------------------------------


def _show(value: Any) -> str:
    """A cell value as quoted in a message."""
    if isinstance(value, str):
        return repr(value if len(value) <= 40 else value[:37] + "...")
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, (_dt.datetime, _dt.date)):
        return f"the date {value:%Y-%m-%d}"
    return repr(value) if not isinstance(value, numbers.Number) else str(value)


def _blank_mask(values: np.ndarray) -> np.ndarray:
    """True for None, NaN, pandas NA and empty text (whitespace-only text is caught where it matters)."""
    if values.dtype == np.float64:
        return np.isnan(values)
    try:
        with np.errstate(all="ignore"):
            blank = np.equal(values, None) | (values == "") | (values != values)  # NaN, NaT
    except TypeError:  # pandas NA: comparisons are ambiguous
        blank = np.asarray(pd.isna(values), dtype=bool) | np.array([v == "" if isinstance(v, str) else False
                                                                   for v in values], dtype=bool)
    return np.asarray(blank, dtype=bool)


def _text_value(value: Any) -> str | None:
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, str):
        return value.strip() or None
    if isinstance(value, (bool, np.bool_)):
        return "TRUE" if value else "FALSE"
    if isinstance(value, numbers.Integral):
        return str(int(value))
    if isinstance(value, numbers.Real):
        number = float(value)
        if math.isnan(number):
            return None
        return str(int(number)) if number.is_integer() else repr(number)
    if isinstance(value, _dt.datetime):
        return value.date().isoformat() if value.time() == _dt.time() else value.isoformat(sep=" ")
    if isinstance(value, _dt.date):
        return value.isoformat()
    return str(value).strip() or None


_RARE_SPACE = "".join(c for c in map(chr, range(0x3001)) if c.isspace() and c not in " \t\n\r")
"""White space that ``str.strip`` removes besides space, tab and line ends."""


def _needs_strip(joined: str) -> bool:
    """Whether some line of ``joined`` (texts joined by line breaks) starts or ends with
    white space; substring searches instead of a scan in Python (conservative for rare spaces)."""
    return (joined[:1].isspace() or joined[-1:].isspace()
            or any(pair in joined for pair in (" \n", "\n ", "\t\n", "\n\t", "\r\n", "\n\r", "\n\n"))
            or any(c in joined for c in _RARE_SPACE))


def as_text(values: np.ndarray, *, unique: bool = False) -> np.ndarray:
    """Cells as stripped text (numbers like 3.0 as "3"), None for blank; object array.

    ``unique=True`` says most values differ (IDs, names): they are stripped one by one
    instead of once per distinct value.
    """
    if len(values) == 0:
        return np.empty(0, dtype=object)
    kind = pd.api.types.infer_dtype(values, skipna=True)
    if kind == "empty":
        return np.full(len(values), None, dtype=object)
    if kind == "string" and unique:
        blank = _blank_mask(values)
        out = values.copy()
        out[blank] = None
        present = out[~blank]
        joined = "\n".join(present.tolist()) if len(present) else ""
        if not _needs_strip(joined):
            return out  # nothing to strip: the common case, checked on one joined string
        out[:] = [(v.strip() or None) if type(v) is str else None for v in values]
        return out
    codes, uniques = pd.factorize(values, use_na_sentinel=True)
    table = np.empty(len(uniques) + 1, dtype=object)
    table[: len(uniques)] = [_text_value(u) for u in uniques]
    table[-1] = None
    return table[codes]


def _parse_number(value: Any) -> float | None:
    """A number from a cell the fast path could not read ("$1,200", " 12 "), else None."""
    if isinstance(value, (bool, np.bool_)):
        return None
    if isinstance(value, numbers.Real):
        number = float(value)
        return number if math.isfinite(number) else None
    if not isinstance(value, str):
        return None
    text = value.strip().replace("\u00a0", "").replace(" ", "")
    for symbol in ("$", "€", "£"):
        text = text.replace(symbol, "")
    if _THOUSANDS.match(text):
        text = text.replace(",", "")
    try:
        number = float(text)
    except ValueError:
        return None
    return number if math.isfinite(number) else None


def _point_decimals(values: np.ndarray, decimal: str) -> np.ndarray:
    """The text cells of a file that writes decimals with a comma, rewritten with a point
    ("44,5" -> "44.5"). A point in such a cell makes it unreadable: "1.500" there may be a
    thousand and a half or one and a half, so the user is asked."""
    if decimal == ".":
        return values
    return np.array([v.replace(".", "\x00").replace(",", ".") if isinstance(v, str) else v for v in values],
                    dtype=object)


def _numbers(values: np.ndarray, *, majority: bool = False, blank: np.ndarray | None = None, decimal: str = "."):
    """Cells as float64; text cells read with ``decimal`` as the decimal mark.

    Returns ``(numbers, bad, blank)``: NaN where blank or bad; ``bad`` marks cells that
    hold something other than a finite number. With ``majority=True``, returns None
    instead when fewer than half of the non-blank cells are numbers (a text column).
    """
    blank = _blank_mask(values) if blank is None else blank
    if values.dtype == np.float64:
        failing = ~np.isfinite(values) & ~blank
        return np.where(failing, np.nan, values), failing, blank
    values = _point_decimals(values, decimal)
    kind = pd.api.types.infer_dtype(values, skipna=True)
    if kind in ("boolean", "datetime", "date", "time", "timedelta", "datetime64", "timedelta64") and majority:
        return None
    if majority and kind in ("string", "mixed", "mixed-integer"):
        present = np.flatnonzero(~blank)
        if len(present) == 0:
            return None
        sample = present[:: max(len(present) // 500, 1)][:500]
        if sum(_parse_number(values[p]) is not None for p in sample) < 0.5 * len(sample):
            return None
    filled = values.copy()
    filled[blank] = np.nan
    try:
        if kind == "boolean":
            raise ValueError
        result = filled.astype(np.float64)
    except (ValueError, TypeError):
        result = pd.to_numeric(pd.Series(filled, dtype=object), errors="coerce").to_numpy(dtype=np.float64, copy=True)
    with np.errstate(invalid="ignore"):
        failing = ~np.isfinite(result) & ~blank
    if kind in ("mixed", "mixed-integer", "boolean"):
        is_bool = np.fromiter((isinstance(v, (bool, np.bool_)) for v in values), dtype=bool, count=len(values))
        failing |= is_bool & ~blank
        result[is_bool] = np.nan
    if failing.any():
        positions = np.flatnonzero(failing)
        if majority:
            nonblank = int((~blank).sum())
            if nonblank == 0:
                return None
            sample = positions[:: max(len(positions) // 200, 1)][:200]
            rate = sum(_parse_number(values[p]) is not None for p in sample) / len(sample)
            if (nonblank - len(positions)) + rate * len(positions) < 0.5 * nonblank:
                return None
        codes, uniques = pd.factorize(values[positions], use_na_sentinel=True)
        parsed = np.array([_parse_number(u) if _parse_number(u) is not None else np.nan for u in uniques]
                          + [np.nan], dtype=np.float64)
        recovered = parsed[codes]
        result[positions] = recovered
        whitespace = np.array([isinstance(values[p], str) and not values[p].strip() for p in positions], dtype=bool)
        blank = blank.copy()
        blank[positions[whitespace]] = True
        failing[positions] = np.isnan(recovered) & ~whitespace
    elif majority and not (~blank).any():
        return None
    return result, failing, blank


def _locks(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Lock cells as bool, and a mask of cells that are not a recognisable yes/no."""
    codes, uniques = pd.factorize(values, use_na_sentinel=True)
    meaning = []
    for u in uniques:
        if isinstance(u, (bool, np.bool_)):
            meaning.append(bool(u))
        elif isinstance(u, numbers.Real) and float(u) in (0.0, 1.0):
            meaning.append(float(u) == 1.0)
        else:
            text = str(u).strip().lower()
            meaning.append(True if text in TRUE_WORDS else False if text in FALSE_WORDS or text == "" else None)
    table = np.array(meaning + [False], dtype=object)
    out = table[codes]
    bad = np.array([m is None for m in meaning] + [False], dtype=bool)[codes]
    out[bad] = False
    return out.astype(bool), bad


def _first_rows(keys: np.ndarray, duplicated: np.ndarray) -> dict[Any, int]:
    """User row of the first occurrence of every duplicated key."""
    wanted = set(keys[duplicated].tolist())
    first: dict[Any, int] = {}
    # pandas' isin compares objects exactly (numpy's would drop trailing NUL characters).
    for position in np.flatnonzero(pd.Series(keys, dtype=object).isin(wanted).to_numpy() & ~duplicated):
        first.setdefault(keys[position], int(position) + 2)
    return first


def _headers_list(frame: pd.DataFrame) -> list[str]:
    return [str(c) for c in frame.columns]


def _columns(frame: pd.DataFrame) -> list[np.ndarray]:
    """Each column's cells: float64 for a column of numbers (a CSV's), else Python objects."""
    return [
        column.to_numpy() if column.dtype == np.float64 else column.to_numpy(dtype=object)
        for column in (frame.iloc[:, j] for j in range(frame.shape[1]))
    ]


def _empty_table(raw, what: str) -> InputError:
    return InputError([Problem(raw.name, f"{raw.name} has no {what} rows; add one {what} per row below the "
                               "headers in row 1", is_sheet=raw.is_sheet)])


# --------------------------------------------------------------------------------------
# accounts
# --------------------------------------------------------------------------------------


def _check_unique(problems, keys, used, j, cells, blank_message: str, duplicate_message) -> None:
    """Report blank keys on used rows, and every repeat of a key with the row it first appeared."""
    problems.add_rows(used & pd.isna(keys), j, None, lambda i, v: blank_message)
    keyed = ~pd.isna(keys)
    duplicated = np.zeros(len(keys), dtype=bool)
    duplicated[keyed] = pd.Series(keys[keyed], dtype=object).duplicated(keep="first").to_numpy()
    if duplicated.any():
        first = _first_rows(keys, duplicated)
        problems.add_rows(duplicated, j, cells, lambda i, v: duplicate_message(keys[i], first[keys[i]]))


def _open_table(raw, what: str, synonyms):
    """The first steps shared by every table: cells, blank rows reported, headers recognised.

    Returns ``(n, headers, cells, blanks, problems, used, found)``; raises for an empty table.
    """
    frame = raw.frame
    n = len(frame)
    if frame.shape[1] == 0 or n == 0:
        raise _empty_table(raw, what)
    headers = _headers_list(frame)
    cells = _columns(frame)
    blanks = [_blank_mask(c) for c in cells]
    empty_row = np.logical_and.reduce(blanks)
    if empty_row.all():
        raise _empty_table(raw, what)
    csv = getattr(raw, "csv", None)
    problems = _Problems(raw.name, raw.is_sheet, headers, decimal=csv.decimal if csv is not None else ".")
    problems.add_rows(empty_row, None, None, lambda i, v: "the row is empty; delete it or fill it in")
    return n, headers, cells, blanks, problems, ~empty_row, recognise(headers, synonyms)


def validate_accounts(raw) -> AccountTable:
    """Check the accounts table and convert it to engine columns.

    Parameters
    ----------
    raw : RawTable or similar
        ``raw.frame`` holds the cells under the original headers (row ``i`` is user row
        ``i + 2``); ``raw.name`` and ``raw.is_sheet`` locate problems.

    Returns
    -------
    AccountTable

    Raises
    ------
    InputError
        Listing every problem found (up to ``MAX_PROBLEMS``): missing ID or location
        columns; blank or duplicate IDs; text in number columns; coordinates out of range
        or half given; unknown or missing ZIPs; negative measures; unreadable locks;
        empty rows or an empty table.

    Notes
    -----
    Coordinates come from Latitude/Longitude where both are given, else from the ZIP
    (offline, :mod:`territory_engine.geocode`). Recognised headers are listed in
    :data:`territory_engine.columns.ACCOUNT_SYNONYMS`; any other column whose cells are
    mostly numbers, or whose header is in :data:`KNOWN_MEASURES`, is a measure.
    """
    n, headers, cells, blanks, problems, used, found = _open_table(raw, "account", ACCOUNT_SYNONYMS)
    listed = ", ".join(repr(h) for h in headers[:20]) + (", ..." if len(headers) > 20 else "")

    # account ID and name
    if "account_id" in found:
        j = found["account_id"]
        ids = as_text(cells[j], unique=True)
        _check_unique(problems, ids, used, j, cells[j],
                      "the account ID is blank; give every account a unique ID",
                      lambda key, row: (f"duplicate account ID {_show(key)}, first used on row {row}; give every "
                                        "account a unique ID"))
    else:
        ids = np.full(n, None, dtype=object)
        problems.add("there is no Account ID column; add a column headed 'Account ID' with a unique ID for "
                     f"every account (the headers are: {listed})")
    names = as_text(cells[found["account_name"]], unique=True) if "account_name" in found else ids.copy()
    no_name = pd.isna(names)
    names[no_name] = ids[no_name]

    # coordinates
    lat = np.full(n, np.nan)
    lon = np.full(n, np.nan)
    has_lat, has_lon, has_zip = "lat" in found, "lon" in found, "zip" in found
    need_zip = used.copy()
    if not (has_lat or has_lon or has_zip):
        problems.add("there are no Latitude/Longitude columns and no ZIP column, so the accounts cannot be "
                     "placed on the map; add Latitude and Longitude columns (decimal degrees) or a ZIP column "
                     f"(the headers are: {listed})")
        need_zip[:] = False
    elif has_lat != has_lon:
        have, missing = ("lat", "Longitude") if has_lat else ("lon", "Latitude")
        problems.add(f"there is a {headers[found[have]]} column but no {missing} column; add a {missing} "
                     "column (decimal degrees) or delete both and give a ZIP column", column=found[have])
        need_zip[:] = False
    else:
        if has_lat:
            need_zip = _coordinates(cells, blanks, found, headers, used, problems, lat, lon)
        if not has_zip:
            j = found["lat"]
            problems.add_rows(need_zip, j, None, lambda i, v: (
                f"{headers[found['lat']]} and {headers[found['lon']]} are blank; fill them in (there is no ZIP "
                "column to place the account by)"))
    zips = np.full(n, None, dtype=object)
    states = as_text(cells[found["state"]]) if "state" in found else np.full(n, None, dtype=object)
    counties = as_text(cells[found["county"]]) if "county" in found else np.full(n, None, dtype=object)
    if has_zip:
        j = found["zip"]
        if need_zip.any():
            zips, position = locate_zips(cells[j])
        else:
            zips, position = normalise_zips(cells[j]), np.zeros(n, dtype=np.int64)
        zip_blank = pd.isna(zips)
        unknown = need_zip & ~zip_blank & (position < 0)
        if has_lat and has_lon:
            message = (lambda i, v: f"ZIP {_show(zips[i])} is not a known US ZIP code; correct it, or enter "
                       f"{headers[found['lat']]} and {headers[found['lon']]}")
        else:
            message = lambda i, v: f"ZIP {_show(zips[i])} is not a known US ZIP code; correct it"
        problems.add_rows(unknown, j, cells[j], message)
        if need_zip.any():
            table = zip_table()
            take = need_zip & (position >= 0)
            lat[take] = table["lat"].to_numpy()[position[take]]
            lon[take] = table["lon"].to_numpy()[position[take]]
        if has_lat and has_lon:
            text = f"no {headers[found['lat']]}/{headers[found['lon']]} and no ZIP; fill in the coordinates or a ZIP"
        else:
            text = "the ZIP is blank; fill it in so the account can be placed on the map"
        problems.add_rows(need_zip & zip_blank, j, None, lambda i, v: text)

    # alignment, reps, locks
    territory = as_text(cells[found["territory"]]) if "territory" in found else np.full(n, None, dtype=object)
    rep = as_text(cells[found["rep"]]) if "rep" in found else np.full(n, None, dtype=object)
    locked = np.zeros(n, dtype=bool)
    if "locked" in found:
        j = found["locked"]
        locked, bad = _locks(cells[j])
        problems.add_rows(bad & used, j, cells[j], lambda i, v: (
            f"{_show(v)} is not a lock value; enter TRUE or FALSE (yes/no, 1/0 or x also work) or leave it blank"))

    # measures
    taken_positions = set(found.values())
    reserved = set(ACCOUNT_COLUMNS)
    measures: dict[str, np.ndarray] = {}
    header_of: dict[str, str] = {name: headers[j] for name, j in found.items()}
    for j, title in enumerate(headers):
        if j in taken_positions:
            continue
        known = snake_case(title) in KNOWN_MEASURES
        if blanks[j].all() and not known:
            continue
        parsed = _numbers(cells[j], majority=not known, blank=blanks[j], decimal=problems.decimal)
        if parsed is None:
            continue
        values, bad, blank = parsed
        name = _unique_name(snake_case(title), reserved)
        reserved.add(name)
        problems.add_rows(bad & used, j, cells[j], lambda i, v: (
            f"{_show(v)} is not a number; enter a number{_comma_hint(problems)} or leave it blank"))
        with np.errstate(invalid="ignore"):
            negative = (values < 0) & ~bad
        problems.add_rows(negative & used, j, cells[j], lambda i, v, t=title: (
            f"{t} must not be negative; enter 0 or a positive number"))
        values = np.where(blank | bad, 0.0, values)
        measures[name] = values
        header_of[name] = title

    problems.raise_if_any()
    columns = {
        "account_id": ids, "account_name": names, "lat": lat, "lon": lon, "zip": zips, "state": states,
        "county": counties, "territory": territory, "rep": rep, "locked": locked,
    }
    # Column by column: one block each, nothing copied or converted to pandas' string type.
    out = pd.DataFrame(index=pd.RangeIndex(n))
    for k, v in columns.items():
        out[k] = pd.Series(v, dtype=_DTYPES[k], index=out.index, copy=False)
    for name, values in measures.items():
        out[name] = pd.Series(values, dtype=np.float64, index=out.index, copy=False)
    return AccountTable(frame=out, measures=tuple(measures), headers=header_of, source=raw.name)


_DTYPES = {"account_id": object, "account_name": object, "lat": np.float64, "lon": np.float64, "zip": object,
           "state": object, "county": object, "territory": object, "rep": object, "locked": bool}


def _unique_name(name: str, taken: set[str]) -> str:
    candidate, n = name, 1
    while candidate in taken:
        n += 1
        candidate = f"{name}_{n}"
    return candidate


def _comma_hint(problems: _Problems) -> str:
    """For a file that writes decimals with a comma, a reminder of it (else nothing)."""
    return " (this file writes decimals with a comma, as in 12,5)" if problems.decimal == "," else ""


def _coordinates(cells, blanks, found, headers, used, problems: _Problems, lat: np.ndarray, lon: np.ndarray) -> np.ndarray:
    """Fill ``lat``/``lon`` from their columns; return the rows left to place by ZIP."""
    j_lat, j_lon = found["lat"], found["lon"]
    la, la_bad, la_blank = _numbers(cells[j_lat], blank=blanks[j_lat], decimal=problems.decimal)
    lo, lo_bad, lo_blank = _numbers(cells[j_lon], blank=blanks[j_lon], decimal=problems.decimal)
    mark = problems.decimal
    problems.add_rows(la_bad & used, j_lat, cells[j_lat], lambda i, v: (
        f"{_show(v)} is not a number; enter the latitude in decimal degrees (for example 42{mark}36) or leave it "
        "blank"))
    problems.add_rows(lo_bad & used, j_lon, cells[j_lon], lambda i, v: (
        f"{_show(v)} is not a number; enter the longitude in decimal degrees (for example -71{mark}06) or leave it "
        "blank"))
    with np.errstate(invalid="ignore"):
        la_out = ~la_bad & ~la_blank & (np.abs(la) > 90)
        lo_out = ~lo_bad & ~lo_blank & (np.abs(lo) > 180)
    problems.add_rows(la_out & used, j_lat, cells[j_lat], lambda i, v: (
        f"latitude {_show(v)} is outside -90 to 90; check that latitude and longitude are not swapped"))
    problems.add_rows(lo_out & used, j_lon, cells[j_lon], lambda i, v: (
        f"longitude {_show(v)} is outside -180 to 180; enter decimal degrees (west is negative)"))
    problems.add_rows(la_blank & ~lo_blank & used, j_lat, None, lambda i, v: (
        f"{headers[j_lat]} is blank but {headers[j_lon]} is set; fill in both or leave both blank"))
    problems.add_rows(lo_blank & ~la_blank & used, j_lon, None, lambda i, v: (
        f"{headers[j_lon]} is blank but {headers[j_lat]} is set; fill in both or leave both blank"))
    good = ~(la_bad | lo_bad | la_blank | lo_blank | la_out | lo_out)
    lat[good] = la[good]
    lon[good] = lo[good]
    return la_blank & lo_blank & used


# --------------------------------------------------------------------------------------
# reps
# --------------------------------------------------------------------------------------


def validate_reps(raw) -> pd.DataFrame:
    """Check the reps table: one row per territory with its rep, home base and capacity.

    Parameters
    ----------
    raw : RawTable or similar
        Headers recognised as in :data:`territory_engine.columns.REP_SYNONYMS`.

    Returns
    -------
    pandas.DataFrame
        Columns ``territory`` (str), ``rep`` (str or None), ``lat``, ``lon`` (home base,
        degrees; NaN when the table has no home-base columns at all) and ``capacity``
        (float > 0, 1.0 when blank: a full-time rep), one row per territory, in input order.

    Raises
    ------
    InputError
        No Territory column, a blank or repeated territory, text in number columns,
        coordinates out of range or half given, an unknown ZIP, a row with home-base columns
        but no home base, a capacity of 0 or less, an empty table.
    """
    n, headers, cells, blanks, problems, used, found = _open_table(raw, "rep", REP_SYNONYMS)
    if "territory" in found:
        j = found["territory"]
        territory = as_text(cells[j])
        _check_unique(problems, territory, used, j, cells[j],
                      "the territory is blank; give the territory this rep covers",
                      lambda key, row: f"territory {_show(key)} is already on row {row}; give each territory one row")
    else:
        territory = np.full(n, None, dtype=object)
        listed = ", ".join(repr(h) for h in headers[:20])
        problems.add("there is no Territory column; add a column headed 'Territory' with one territory per "
                     f"row (the headers are: {listed})")
    rep = as_text(cells[found["rep"]]) if "rep" in found else np.full(n, None, dtype=object)

    lat = np.full(n, np.nan)
    lon = np.full(n, np.nan)
    has_lat, has_lon, has_zip = "lat" in found, "lon" in found, "zip" in found
    need_zip = np.zeros(n, dtype=bool)
    if has_lat != has_lon:
        have, missing = ("lat", "Longitude") if has_lat else ("lon", "Latitude")
        problems.add(f"there is a {headers[found[have]]} column but no {missing} column; add a {missing} "
                     "column (decimal degrees)", column=found[have])
    elif has_lat:
        need_zip = _coordinates(cells, blanks, found, headers, used, problems, lat, lon)
    elif has_zip:
        need_zip = used.copy()
    if has_zip:
        j = found["zip"]
        zips = normalise_zips(cells[j])
        zip_blank = pd.isna(zips)
        z_lat, z_lon = geocode_zips(np.where(need_zip & ~zip_blank, zips, None))
        unknown = need_zip & ~zip_blank & np.isnan(z_lat)
        problems.add_rows(unknown, j, cells[j], lambda i, v: (
            f"ZIP {_show(zips[i])} is not a known US ZIP code; correct it or enter the home base coordinates"))
        take = need_zip & ~np.isnan(z_lat)
        lat[take] = z_lat[take]
        lon[take] = z_lon[take]
        need_zip = need_zip & zip_blank
    if (has_lat and has_lon) or has_zip:
        column = found["zip"] if has_zip else found["lat"]
        problems.add_rows(need_zip, column, None, lambda i, v: (
            "the home base is blank; fill in its coordinates or its ZIP"))

    capacity = np.ones(n)
    if "capacity" in found:
        j = found["capacity"]
        values, bad, blank = _numbers(cells[j], blank=blanks[j], decimal=problems.decimal)
        problems.add_rows(bad & used, j, cells[j], lambda i, v: (
            f"{_show(v)} is not a number; enter the rep's capacity (1 for a full-time rep){_comma_hint(problems)} or "
            "leave it blank"))
        with np.errstate(invalid="ignore"):
            not_positive = ~bad & ~blank & (values <= 0)
        problems.add_rows(not_positive & used, j, cells[j], lambda i, v: (
            f"{headers[j]} must be greater than 0; enter 1 for a full-time rep, 0.5 for half time"))
        capacity = np.where(blank | bad | not_positive, 1.0, values)

    problems.raise_if_any()
    keep = used
    out = pd.DataFrame({
        "territory": pd.Series(territory[keep], dtype=object),
        "rep": pd.Series(rep[keep], dtype=object),
        "lat": lat[keep],
        "lon": lon[keep],
        "capacity": capacity[keep].astype(np.float64),
    })
    return out.reset_index(drop=True)


# --------------------------------------------------------------------------------------
# settings
# --------------------------------------------------------------------------------------


def settings_pairs(raw) -> dict[str, tuple[object, int]]:
    """The key/value pairs of a Settings sheet.

    The first two columns are the key and the value; a header row such as "Key", "Value"
    is expected (when the first header is not a key header, row 1 is read as a setting
    too). Blank rows are skipped; further columns (a "Meaning" column) are ignored.

    Returns
    -------
    dict of str to (value, row)
        Key as written -> (cell value or None, user row number).

    Raises
    ------
    InputError
        A key is repeated, or a value has no key.
    """
    frame = raw.frame
    headers = _headers_list(frame)
    problems = _Problems(raw.name, raw.is_sheet, headers)
    rows: list[tuple[Any, Any, int]] = []
    if headers and normalise_header(headers[0]) not in {normalise_header(s) for s in SETTINGS_SYNONYMS["key"]}:
        rows.append((headers[0], headers[1] if len(headers) > 1 and not headers[1].startswith("Column ") else None,
                     1))
    if frame.shape[1]:
        keys = frame.iloc[:, 0].to_numpy(dtype=object)
        values = frame.iloc[:, 1].to_numpy(dtype=object) if frame.shape[1] > 1 else np.full(len(frame), None)
        rows += [(k, v, i + 2) for i, (k, v) in enumerate(zip(keys, values))]
    pairs: dict[str, tuple[object, int]] = {}
    seen: dict[str, int] = {}
    for key, value, row in rows:
        key_text = _text_value(key)
        if value is not None and isinstance(value, float) and math.isnan(value):
            value = None
        if isinstance(value, str) and not value.strip():
            value = None
        if key_text is None:
            if value is not None:
                problems.add("this value has no key; write the setting's name in the first column",
                             row=row, column=1 if len(headers) > 1 else None, value=value)
            continue
        normal = normalise_header(key_text)
        if normal in seen:
            problems.add(f"the setting {key_text!r} is already on row {seen[normal]}; keep one of them",
                         row=row, column=0, value=key_text)
            continue
        seen[normal] = row
        pairs[key_text] = (value, row)
    problems.raise_if_any()
    return pairs
