"""The one ZIP check, shared by the accounts and the reps' home bases.

A row without coordinates is placed at its ZIP's centroid (offline,
:mod:`territory_engine.geocode`); an unknown or blank ZIP there is an error. A row with both
coordinates and a known ZIP is compared with its ZIP: coordinates more than ``zip_far_km``
from the ZIP's own location are a warning (one of them is wrong), as long as at least half of
such rows agree with their ZIP (else the column holds other postal codes, a French "75001"
say, that only look like US ZIPs).
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
import pandas as pd

from ..geo import haversine_km
from ..geocode import locate_zips, zip_table
from ..tuning import Tuning
from .tables import OpenedTable
from .values import show_value

__all__ = ["ZipColumn", "place_by_zip"]


class ZipColumn(NamedTuple):
    """A table's ZIPs (5-digit text or None) and their centroids (degrees, NaN where unknown)."""

    zips: np.ndarray
    lat: np.ndarray
    lon: np.ndarray


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
    if has_coordinates:
        _far_from_zip(table, ~need_zip & known & np.isfinite(lat), lat, lon, ZipColumn(zips, z_lat, z_lon), what,
                      tuning)
    return ZipColumn(zips, z_lat, z_lon)


def _far_from_zip(table: OpenedTable, given: np.ndarray, lat, lon, column: ZipColumn, what: str,
                  tuning: Tuning) -> None:
    """Warn about the ``given`` rows (coordinates and a known ZIP) whose coordinates are far
    from their ZIP, when most such rows agree with theirs."""
    rows = np.flatnonzero(given)
    if len(rows) == 0:
        return
    km = np.full(table.n, np.nan)
    km[rows] = haversine_km(lat[rows], lon[rows], column.lat[rows], column.lon[rows])
    far = given & (km > tuning.zip_far_km)
    if far.sum() * 2 > len(rows):
        return  # most rows disagree: not US ZIPs, or the coordinates are wrong everywhere (reported elsewhere)
    j = table.found["lat"]
    table.problems.add_rows(far, j, None, lambda i, v: (
        f"the {what}'s coordinates ({lat[i]:g}, {lon[i]:g}) are {km[i]:,.0f} km from its ZIP {column.zips[i]} "
        f"({column.lat[i]:g}, {column.lon[i]:g}); correct the coordinates or the ZIP"), warning=True)
