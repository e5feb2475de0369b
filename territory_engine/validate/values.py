"""Cell values, a whole column at a time: blanks, text, numbers, locks, and how a value is quoted.

A column arrives as typed in the workbook or the CSV: float64 for a CSV column of numbers,
else Python objects. Each converter reads the whole column at once and visits one by one only
the distinct values or the failing cells, so a full sheet converts in seconds. Numbers in text
cells may carry a currency symbol, spaces or thousands separators ("$1,200"); a CSV that writes
decimals with a comma ("44,5") is read with its own decimal mark.
"""

from __future__ import annotations

import datetime as _dt
import math
import numbers
import re
from typing import Any

import numpy as np
import pandas as pd

from ..columns import FALSE_WORDS, TRUE_WORDS

__all__ = ["MAX_COLUMN_TOTAL", "show_value", "blank_mask", "text_value", "as_text", "as_numbers", "as_locks",
           "overflow_mask"]

_THOUSANDS = re.compile(r"^[-+]?\d{1,3}(,\d{3})+(\.\d*)?$")


def show_value(value: Any) -> str:
    """A cell value as quoted in a message."""
    if isinstance(value, str):
        return repr(value if len(value) <= 40 else value[:37] + "...")
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e16:
        return str(int(value))
    if isinstance(value, float):
        return f"{value:.6g}"
    if isinstance(value, (_dt.datetime, _dt.date)):
        return f"the date {value:%Y-%m-%d}"
    return repr(value) if not isinstance(value, numbers.Number) else str(value)


def blank_mask(values: np.ndarray) -> np.ndarray:
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


def text_value(value: Any) -> str | None:
    """One cell as stripped text (3.0 as "3", TRUE/FALSE, dates as ISO), None for blank."""
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
        blank = blank_mask(values)
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
    table[: len(uniques)] = [text_value(u) for u in uniques]
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


def as_numbers(values: np.ndarray, *, majority: bool = False, blank: np.ndarray | None = None, decimal: str = "."):
    """Cells as float64; text cells read with ``decimal`` as the decimal mark.

    Returns ``(numbers, bad, blank)``: NaN where blank or bad; ``bad`` marks cells that
    hold something other than a finite number. With ``majority=True``, returns None
    instead when fewer than half of the non-blank cells are numbers (a text column).
    """
    blank = blank_mask(values) if blank is None else blank
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


def as_locks(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
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


MAX_COLUMN_TOTAL = 1e100
"""Largest total of a measure column (issue 12, reading): every real total is below 1e15, and
below 1e100 the engine's sums of squares (spreads, variances) stay finite, where 1e308 twice
is infinite and every figure after it meaningless."""


def overflow_mask(values: np.ndarray) -> np.ndarray:
    """True at the first cell where the running total of ``values`` (float64, blanks 0) passes
    :data:`MAX_COLUMN_TOTAL` in size or stops being a number; all False when the total is fine."""
    mask = np.zeros(len(values), dtype=bool)
    with np.errstate(over="ignore", invalid="ignore"):
        total = float(np.abs(values).sum())
        if np.isfinite(total) and total <= MAX_COLUMN_TOTAL:
            return mask
        running = np.cumsum(np.abs(values))
    mask[int(np.argmax(~(running <= MAX_COLUMN_TOTAL)))] = True
    return mask
