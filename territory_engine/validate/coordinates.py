"""Latitude/Longitude column pairs, shared by the accounts and the reps' home bases.

Both columns are read as numbers in decimal degrees; a cell that is not a number, a value
outside -90..90 or -180..180, or a pair given by half is reported. Rows with both cells blank
are left for the caller to place by ZIP.
"""

from __future__ import annotations

import numpy as np

from .tables import OpenedTable
from .values import as_numbers, show_value

__all__ = ["fill_coordinates"]


def fill_coordinates(table: OpenedTable, lat: np.ndarray, lon: np.ndarray) -> np.ndarray:
    """Fill ``lat``/``lon`` from their columns; return the rows left to place by ZIP.

    ``table`` has both a ``lat`` and a ``lon`` column; ``lat`` and ``lon`` (degrees, NaN
    where unknown) are filled in place on the rows whose two cells are good.
    """
    cells, blanks, found, headers, used, problems = (table.cells, table.blanks, table.found, table.headers,
                                                     table.used, table.problems)
    j_lat, j_lon = found["lat"], found["lon"]
    la, la_bad, la_blank = as_numbers(cells[j_lat], blank=blanks[j_lat], decimal=problems.decimal)
    lo, lo_bad, lo_blank = as_numbers(cells[j_lon], blank=blanks[j_lon], decimal=problems.decimal)
    mark = problems.decimal
    problems.add_rows(la_bad & used, j_lat, cells[j_lat], lambda i, v: (
        f"{show_value(v)} is not a number; enter the latitude in decimal degrees (for example 42{mark}36) or leave "
        "it blank"))
    problems.add_rows(lo_bad & used, j_lon, cells[j_lon], lambda i, v: (
        f"{show_value(v)} is not a number; enter the longitude in decimal degrees (for example -71{mark}06) or "
        "leave it blank"))
    with np.errstate(invalid="ignore"):
        la_out = ~la_bad & ~la_blank & (np.abs(la) > 90)
        lo_out = ~lo_bad & ~lo_blank & (np.abs(lo) > 180)
    problems.add_rows(la_out & used, j_lat, cells[j_lat], lambda i, v: (
        f"latitude {show_value(v)} is outside -90 to 90; check that latitude and longitude are not swapped"))
    problems.add_rows(lo_out & used, j_lon, cells[j_lon], lambda i, v: (
        f"longitude {show_value(v)} is outside -180 to 180; enter decimal degrees (west is negative)"))
    problems.add_rows(la_blank & ~lo_blank & used, j_lat, None, lambda i, v: (
        f"{headers[j_lat]} is blank but {headers[j_lon]} is set; fill in both or leave both blank"))
    problems.add_rows(lo_blank & ~la_blank & used, j_lon, None, lambda i, v: (
        f"{headers[j_lon]} is blank but {headers[j_lat]} is set; fill in both or leave both blank"))
    good = ~(la_bad | lo_bad | la_blank | lo_blank | la_out | lo_out)
    lat[good] = la[good]
    lon[good] = lo[good]
    return la_blank & lo_blank & used
