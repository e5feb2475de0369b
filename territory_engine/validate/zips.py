"""The one ZIP check, shared by the accounts and the reps' home bases.

A row without coordinates is placed at its ZIP's centroid (offline,
:mod:`territory_engine.geocode`); an unknown or blank ZIP there is an error. A row with both
coordinates and a known ZIP is compared with its ZIP; coordinates more than ``zip_far_km``
from the ZIP's own location are *far*:

1. A far row that a typing fix (latitude and longitude swapped, a sign changed) puts at its
   ZIP is an error naming the fix, unless most rows are far and the fixes explain only a few
   of them (a coincidence among foreign postal codes).
2. Far rows at 0, 0, or at one point that most of them (and at least ``PLACEHOLDER_MIN_ROWS``)
   share, are an error: a placeholder, not a place.
3. Any other far row is a warning (one of the two is wrong), as long as at least half of the
   rows agree with their ZIP (else the column holds other postal codes, a French "75001" say,
   that only look like US ZIPs).
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
import pandas as pd

from ..geo import haversine_km
from ..geocode import locate_zips, zip_table
from ..tuning import Tuning
from .plausibility import FIXES, fixed_coordinates
from .tables import OpenedTable
from .values import show_value

__all__ = ["PLACEHOLDER_MIN_ROWS", "ZipColumn", "place_by_zip"]

PLACEHOLDER_MIN_ROWS = 3
"""Rows far from their ZIPs that share one point (besides 0, 0) before the point is called a
placeholder: fewer may be one real site filed under several ZIPs; more than this are a default
someone typed or a geocoder returned."""


class ZipColumn(NamedTuple):
    """A table's ZIPs (5-digit text or None) and their centroids (degrees, NaN where unknown)."""

    zips: np.ndarray
    lat: np.ndarray
    lon: np.ndarray
    wrong: np.ndarray | None = None
    """Rows whose coordinates the ZIP check found wrong (an error), or None without a check."""


def place_by_zip(table: OpenedTable, need_zip: np.ndarray, lat: np.ndarray, lon: np.ndarray, *, what: str,
                 tuning: Tuning) -> ZipColumn:
    """Place the ``need_zip`` rows at their ZIP (filling ``lat``/``lon``), report unknown and
    blank ZIPs there, and warn about coordinates far from their own ZIP.

    ``table`` has a ``zip`` column; ``what`` names a row in messages ("account", "home base").
    """
    n, headers, cells, problems, found = table.n, table.headers, table.cells, table.problems, table.found
    j = found["zip"]
    zips, position = locate_zips(cells[j])
    known = position >= 0
    z_lat = np.full(n, np.nan)
    z_lon = np.full(n, np.nan)
    z_lat[known] = zip_table()["lat"].to_numpy()[position[known]]
    z_lon[known] = zip_table()["lon"].to_numpy()[position[known]]
    blank = pd.isna(zips)
    has_coordinates = "lat" in found and "lon" in found
    pair = f"{headers[found['lat']]} and {headers[found['lon']]}" if has_coordinates else ""
    problems.add_rows(need_zip & ~blank & ~known, j, cells[j], lambda i, v: (
        f"ZIP {show_value(zips[i])} is not a known US ZIP code; correct it" + (f", or enter {pair}" if pair else "")))
    if has_coordinates:
        text = (f"the {what} has no {headers[found['lat']]}/{headers[found['lon']]} and no ZIP; fill in its "
                "coordinates or its ZIP")
    else:
        text = f"the ZIP is blank; fill it in so the {what} can be placed on the map"
    problems.add_rows(need_zip & blank, j, None, lambda i, v: text)
    take = need_zip & known
    lat[take] = z_lat[take]
    lon[take] = z_lon[take]
    wrong = None
    if has_coordinates:
        wrong = _far_from_zip(table, ~need_zip & known & np.isfinite(lat), lat, lon, ZipColumn(zips, z_lat, z_lon),
                              what, tuning)
    return ZipColumn(zips, z_lat, z_lon, wrong)


def _far_from_zip(table: OpenedTable, given: np.ndarray, lat, lon, column: ZipColumn, what: str,
                  tuning: Tuning) -> np.ndarray:
    """Report the ``given`` rows (coordinates and a known ZIP) whose coordinates are far from
    their ZIP (see the module docstring); return the rows reported as errors."""
    wrong = np.zeros(table.n, dtype=bool)
    rows = np.flatnonzero(given)
    if len(rows) == 0:
        return wrong
    km = np.full(table.n, np.nan)
    km[rows] = haversine_km(lat[rows], lon[rows], column.lat[rows], column.lon[rows])
    far = given & (km > tuning.zip_far_km)
    if not far.any():
        return wrong
    most_far = far.sum() * 2 > len(rows)
    said = _fixed_at_zip(far, lat, lon, column, tuning)
    if not most_far or len(said) * 2 > far.sum():
        wrong[list(said)] = True
    placeholder = _placeholder(far & ~wrong, lat, lon)
    wrong |= placeholder
    j = table.found["lat"]
    where = lambda i: (f"latitude {lat[i]:g} and longitude {lon[i]:g} are {km[i]:,.0f} km from its "  # noqa: E731
                       f"ZIP {column.zips[i]} ({column.lat[i]:g}, {column.lon[i]:g})")
    shared = int(placeholder.sum())
    table.problems.add_rows(wrong & ~placeholder, j, None, lambda i, v: f"{where(i)}; {said[i]}")
    table.problems.add_rows(placeholder, j, None, lambda i, v: (
        f"{where(i)} and look like a placeholder" + (f" ({shared:,} rows have them)" if shared > 1 else "") +
        "; enter the real coordinates, or clear both cells to place it at its ZIP"))
    if not most_far:
        table.problems.add_rows(far & ~wrong, j, None, lambda i, v: (
            f"the {what}'s coordinates ({lat[i]:g}, {lon[i]:g}) are {km[i]:,.0f} km from its ZIP {column.zips[i]} "
            f"({column.lat[i]:g}, {column.lon[i]:g}); correct the coordinates or the ZIP"), warning=True)
    return wrong


def _fixed_at_zip(far: np.ndarray, lat, lon, column: ZipColumn, tuning: Tuning) -> dict[int, str]:
    """The ``far`` rows that a typing fix (:data:`~territory_engine.validate.plausibility.FIXES`)
    puts within ``zip_far_km`` of their own ZIP: position -> the fix, in words."""
    said: dict[int, str] = {}
    left = far.copy()
    for key, does, fix in FIXES:
        rows = np.flatnonzero(left)
        f_lat, f_lon = fixed_coordinates(key, lat[rows], lon[rows])
        with np.errstate(invalid="ignore"):
            near = haversine_km(f_lat, f_lon, column.lat[rows], column.lon[rows]) <= tuning.zip_far_km
        for i in rows[near]:
            said[int(i)] = f"{does} it lies at its own ZIP; {fix}"
        left[rows[near]] = False
    return said


def _placeholder(far: np.ndarray, lat, lon) -> np.ndarray:
    """The ``far`` rows at 0, 0, or at one point that at least three and most of them share."""
    mask = far & (lat == 0) & (lon == 0)
    rows = np.flatnonzero(far)
    if len(rows) >= PLACEHOLDER_MIN_ROWS:
        points, inverse, counts = np.unique(np.column_stack([lat[rows], lon[rows]]), axis=0, return_inverse=True,
                                            return_counts=True)
        top = int(np.argmax(counts))
        if counts[top] >= PLACEHOLDER_MIN_ROWS and counts[top] * 2 > len(rows):
            mask[rows[inverse.reshape(-1) == top]] = True
    return mask
