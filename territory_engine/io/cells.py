"""Cell values: the one conversion of pandas values to what an Excel cell holds.

Every writer of sheets uses it: the .xlsx files of the command line
(:mod:`territory_engine.io.xlsx`) and the sheets the add-in writes into the open workbook
(:mod:`excel_addin.book`), so a result shows the same cells in a file and in Excel.

A cell holds None (empty), bool, int, float (finite), str (at most 32,767 characters),
``datetime.datetime`` or ``datetime.date``:

* every kind of missing value (None, NaN, ``pd.NA``, ``pd.NaT``) is an empty cell;
* numpy scalars become the Python value they hold; ``pd.Timestamp`` and ``numpy.datetime64``
  a ``datetime.datetime``;
* an infinite number is the text ``"inf"`` or ``"-inf"``. No cell can hold infinity (Excel
  shows ``#NUM!`` for a number out of its range) and an error value cannot be written to a
  cell without writing a formula, which results never hold. The text keeps the value
  visible, as the command line prints it and as a CSV file holds it (``inf``), where an
  empty cell would say that there is no value;
* text stays text (the writers store it as text, never as a formula: ``"=1+1"`` is
  shown as typed); anything else is written as its text.

Headers are converted by :func:`header_text`, which reading uses too: trimmed text, a
whole number without ``.0``, and ``""`` for a blank header (written as ``Column F``).
"""

from __future__ import annotations

import datetime as _dt
import math
import numbers
from typing import Any, Iterable

import numpy as np
import pandas as pd

from ..errors import column_letter

__all__ = ["MAX_CELL_TEXT", "cell_value", "column_cells", "header_cells", "frame_cells", "header_text"]

MAX_CELL_TEXT = 32_767
"""Characters Excel keeps in one cell."""


def _blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and value.strip() == "") or (
        isinstance(value, float) and math.isnan(value))


def header_text(value: Any) -> str:
    """A header cell as text: trimmed, a whole float without ``.0``, ``""`` when blank."""
    if _blank(value):
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value).strip()


def cell_value(value: Any) -> Any:
    """One value as a cell holds it: None, bool, int, finite float, str, datetime or date.

    See the module docstring for each kind; ``float("inf")`` gives ``"inf"``.
    """
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, np.datetime64):
        value = pd.Timestamp(value)
        if value is pd.NaT:
            return None
    elif isinstance(value, np.generic):
        value = value.item()
    kind = type(value)
    if kind is str:
        return value[:MAX_CELL_TEXT]
    if kind is float:
        if math.isfinite(value):
            return value
        return None if value != value else str(value)
    if kind is int or kind is bool:
        return value
    if isinstance(value, pd.Timestamp):
        return value.to_pydatetime()
    if isinstance(value, (_dt.datetime, _dt.date)):
        return value
    if isinstance(value, numbers.Integral):
        return int(value)
    if isinstance(value, numbers.Real):
        return cell_value(float(value))
    return str(value)[:MAX_CELL_TEXT]


def column_cells(series: pd.Series) -> list[Any]:
    """A column as cell values (:func:`cell_value`), fast for the common dtypes."""
    dtype = series.dtype
    if pd.api.types.is_bool_dtype(dtype) and not isinstance(dtype, pd.CategoricalDtype):
        values = series.to_numpy(dtype=object, na_value=None)
        return [None if v is None else bool(v) for v in values]
    if pd.api.types.is_integer_dtype(dtype):
        return [None if v is None else int(v) for v in series.to_numpy(dtype=object, na_value=None)]
    if pd.api.types.is_float_dtype(dtype):
        values = series.to_numpy(dtype=float, na_value=np.nan)
        cells = values.tolist()
        if np.isfinite(values).all():
            return cells
        return [v if math.isfinite(v) else cell_value(v) for v in cells]
    if pd.api.types.is_datetime64_any_dtype(dtype):
        return [None if pd.isna(v) else v.to_pydatetime() for v in series]
    values = series.to_numpy(dtype=object)
    if pd.api.types.infer_dtype(values, skipna=True) == "string":
        # Text and missing values only (the commonest object column): no value-by-value dispatch.
        cells = values.tolist()
        missing = pd.isna(values)
        if missing.any():
            cells = [None if m else v for v, m in zip(cells, missing.tolist())]
        if max(map(len, filter(None, cells)), default=0) > MAX_CELL_TEXT:
            cells = [None if v is None else v[:MAX_CELL_TEXT] for v in cells]
        return cells
    return [cell_value(v) for v in values]


def header_cells(columns: Iterable[Any]) -> list[str]:
    """Header texts of a table's columns (:func:`header_text`; ``Column F`` when blank)."""
    return [header_text(c) or f"Column {column_letter(j)}" for j, c in enumerate(columns)]


def frame_cells(frame: pd.DataFrame) -> list[list[Any]]:
    """A table as rows of cells: the header row, then one row per record."""
    header = header_cells(frame.columns)
    columns = [column_cells(frame.iloc[:, j]) for j in range(frame.shape[1])]
    return [header] + [list(row) for row in zip(*columns)] if columns else [header]
