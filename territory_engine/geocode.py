"""Offline geocoding of US ZIP codes.

Coordinates come from the ZIP centroids of the ``zipcodes`` package (its data derive from the
US Census ZCTA gazetteer and the USPS city/state file), committed as
``geography/data/zip_centroids.npz`` by ``geography/data/build_zip_centroids.py``, so geocoding
needs no network and no package beyond numpy and pandas, and works in Pyodide. A ZIP centroid
stands for every account in that ZIP: good enough to draw and balance territories, not to route
a rep. The table is read the first time :func:`zip_table` is called, never at import time.
"""

from __future__ import annotations

import functools
import math
import numbers
import re

import numpy as np
import pandas as pd

__all__ = ["normalise_zip", "normalise_zips", "zip_table", "locate_zips", "lookup_zips", "geocode_zips"]

_ZIP = re.compile(r"^(\d{3,5})(?:\.0+)?$")
_ZIP_PLUS_4 = re.compile(r"^(\d{5})[-\s]?\d{4}$")


def normalise_zip(value: object) -> str | None:
    """A 5-digit ZIP code as text, restoring the leading zeros a spreadsheet drops.

    ``4575``, ``4575.0``, ``"4575"``, ``"04575-1234"`` and ``" 04575 "`` all give
    ``"04575"``; None, NaN and blank text give None. Anything else is returned as stripped
    text, unchanged, so that validation can report it as an unknown ZIP.
    """
    if type(value) is str and len(value) == 5 and value.isdigit():
        return value  # the common case, already a 5-digit ZIP
    if value is None or value is pd.NA:
        return None
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, numbers.Integral):
        number = int(value)
        if 100 <= number <= 99999:
            return f"{number:05d}"
        if 1_000_000 <= number <= 999_999_999:  # ZIP+4 typed as a number
            return f"{number:09d}"[:5]
        return str(number)
    if isinstance(value, numbers.Real):
        number = float(value)
        if math.isnan(number):
            return None
        if number.is_integer():
            return normalise_zip(int(number))
        return str(value)
    text = str(value).strip()
    if not text:
        return None
    match = _ZIP.match(text)
    if match:
        return match.group(1).zfill(5)
    match = _ZIP_PLUS_4.match(text)
    if match:
        return match.group(1)
    return text


def normalise_zips(values) -> np.ndarray:
    """:func:`normalise_zip` over a sequence, as an object array (once per distinct value)."""
    values = values.to_numpy(dtype=object) if isinstance(values, pd.Series) else np.asarray(values, dtype=object)
    if values.size == 0:
        return np.empty(0, dtype=object)
    codes, uniques = pd.factorize(values, use_na_sentinel=True)
    table = np.empty(len(uniques) + 1, dtype=object)
    table[: len(uniques)] = [normalise_zip(u) for u in uniques]
    table[-1] = None
    return table[codes]


@functools.lru_cache(maxsize=1)
def zip_table() -> pd.DataFrame:
    """Every US ZIP code with a known centroid.

    Returns
    -------
    pandas.DataFrame
        Indexed by the 5-digit ZIP (str), with columns ``lat``, ``lon`` (degrees, float),
        ``state`` (two letters), ``county`` and ``city`` (str). Entries without coordinates
        (blank, or at 0, 0) are left out; inactive ZIPs with coordinates are kept, since
        old addresses still use them. Read once from ``geography/data/zip_centroids.npz`` and
        cached; treat it as read-only.
    """
    from .geography.tables import zip_centroids  # (not at import: geography's lookup imports this module)

    arrays = zip_centroids()
    frame = pd.DataFrame({"lat": arrays["lat"], "lon": arrays["lon"],
                          **{column: pd.Series(arrays[column], dtype=object) for column in ("state", "county", "city")}})
    frame.index = pd.Index(arrays["zip"], dtype=object, name="zip")
    return frame


def locate_zips(zips) -> tuple[np.ndarray, np.ndarray]:
    """Normalised ZIPs and their row positions in :func:`zip_table` (-1 where unknown).

    Works once per distinct value, so a million accounts cost about as much as the
    number of distinct ZIPs among them.

    Returns
    -------
    normalised : numpy.ndarray of object
        :func:`normalise_zip` of each input.
    positions : numpy.ndarray of int64
    """
    values = zips.to_numpy(dtype=object) if isinstance(zips, pd.Series) else np.asarray(zips, dtype=object)
    if values.size == 0:
        return np.empty(0, dtype=object), np.empty(0, dtype=np.int64)
    codes, uniques = pd.factorize(values, use_na_sentinel=True)
    normal = np.empty(len(uniques) + 1, dtype=object)
    normal[: len(uniques)] = [normalise_zip(u) for u in uniques]
    normal[-1] = None
    where = np.append(zip_table().index.get_indexer(pd.Index(normal[:-1], dtype=object)), -1)
    return normal[codes], where[codes].astype(np.int64)


def lookup_zips(zips) -> pd.DataFrame:
    """The :func:`zip_table` row of each ZIP, aligned with the input (NaN/None where unknown).

    Parameters
    ----------
    zips : sequence
        ZIP codes in any form :func:`normalise_zip` accepts.

    Returns
    -------
    pandas.DataFrame
        Columns ``zip`` (normalised), ``lat``, ``lon``, ``state``, ``county``, ``city``,
        one row per input, index 0..n-1.
    """
    normal, position = locate_zips(zips)
    table = zip_table()
    hit = position >= 0
    out = {"zip": normal}
    for column in ("lat", "lon"):
        values = np.full(len(normal), np.nan)
        values[hit] = table[column].to_numpy()[position[hit]]
        out[column] = values
    for column in ("state", "county", "city"):
        values = np.full(len(normal), None, dtype=object)
        values[hit] = table[column].to_numpy(dtype=object)[position[hit]]
        out[column] = values
    return pd.DataFrame({k: pd.Series(v, dtype=v.dtype) for k, v in out.items()})


def geocode_zips(zips) -> tuple[np.ndarray, np.ndarray]:
    """Latitude and longitude (degrees) of each ZIP's centroid, NaN where unknown.

    Parameters
    ----------
    zips : sequence
        ZIP codes as text or numbers (leading zeros may be missing).

    Returns
    -------
    lat, lon : numpy.ndarray of float64
    """
    _, position = locate_zips(zips)
    table = zip_table()
    lat = np.full(len(position), np.nan)
    lon = np.full(len(position), np.nan)
    hit = position >= 0
    lat[hit] = table["lat"].to_numpy()[position[hit]]
    lon[hit] = table["lon"].to_numpy()[position[hit]]
    return lat, lon
