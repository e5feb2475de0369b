"""Validation of the reps table: one row per territory with its rep, home base and capacity.

Home bases are placed and checked by the same ZIP check as the accounts
(:func:`~territory_engine.validate.zips.place_by_zip`).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..columns import REP_SYNONYMS
from ..errors import Problem
from ..tuning import DEFAULT_TUNING, Tuning
from .coordinates import fill_coordinates
from .problems import comma_hint
from .tables import check_unique, near_misses, open_table
from .values import as_numbers, as_text, show_value
from .zips import place_by_zip

__all__ = ["validate_reps"]


def validate_reps(raw, *, warnings: list[Problem] | None = None, tuning: Tuning = DEFAULT_TUNING) -> pd.DataFrame:
    """Check the reps table: one row per territory with its rep, home base and capacity.

    Parameters
    ----------
    raw : RawTable or similar
        Headers recognised as in :data:`territory_engine.columns.REP_SYNONYMS`.
    warnings : list of Problem, optional
        Receives the warnings found (a home base far from its ZIP, a misspelled header).
    tuning : Tuning, optional
        ``zip_far_km``, for the home base against its ZIP.

    Returns
    -------
    pandas.DataFrame
        Columns ``territory`` (str), ``rep`` (str or None), ``lat``, ``lon`` (home base,
        degrees; NaN when the table has no home-base columns at all) and ``capacity``
        (float > 0, 1.0 when blank: a full-time rep), ``region`` and ``district`` (str or None),
        one row per territory, in input order (row ``i`` is user row ``i + 2``); with a Capacity hours
        column, also ``capacity_hours`` (hours per year for the workload model; NaN when blank).

    Raises
    ------
    InputError
        No Territory column, a blank or repeated territory, text in number columns,
        coordinates out of range or half given, an unknown ZIP, a row with home-base columns
        but no home base, a capacity of 0 or less, an empty table.
    """
    table = open_table(raw, "rep", REP_SYNONYMS)
    n, headers, cells, blanks, problems, used, found = table
    if "territory" in found:
        j = found["territory"]
        territory = as_text(cells[j])
        check_unique(problems, territory, used, j, cells[j],
                     "the territory is blank; give the territory this rep covers",
                     lambda key, row: (f"territory {show_value(key)} is already on row {row}; give each territory "
                                       "one row"))
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
        need_zip = fill_coordinates(table, lat, lon)
    elif has_zip:
        need_zip = used.copy()
    if has_zip:
        place_by_zip(table, need_zip, lat, lon, what="home base", tuning=tuning)
    elif has_lat and has_lon:
        problems.add_rows(need_zip, found["lat"], None, lambda i, v: (
            f"the home base has no {headers[found['lat']]}/{headers[found['lon']]}; fill in its coordinates"))

    capacity = np.ones(n)
    if "capacity" in found:
        j = found["capacity"]
        values, bad, blank = as_numbers(cells[j], blank=blanks[j], decimal=problems.decimal)
        problems.add_rows(bad & used, j, cells[j], lambda i, v: (
            f"{show_value(v)} is not a number; enter the rep's capacity (1 for a full-time "
            f"rep){comma_hint(problems)} or leave it blank"))
        with np.errstate(invalid="ignore"):
            not_positive = ~bad & ~blank & (values <= 0)
        problems.add_rows(not_positive & used, j, cells[j], lambda i, v: (
            f"{headers[j]} must be greater than 0; enter 1 for a full-time rep, 0.5 for half time"))
        capacity = np.where(blank | bad | not_positive, 1.0, values)

    capacity_hours = np.full(n, np.nan)
    if "capacity_hours" in found:
        j = found["capacity_hours"]
        values, bad, blank = as_numbers(cells[j], blank=blanks[j], decimal=problems.decimal)
        problems.add_rows(bad & used, j, cells[j], lambda i, v: (
            f"{show_value(v)} is not a number; enter the rep's capacity in hours per year (e.g. "
            f"1440){comma_hint(problems)} or leave it blank for field_hours_per_year x field_share"))
        with np.errstate(invalid="ignore"):
            out_of_range = ~bad & ~blank & ~((values > 0) & (values <= 8784))
        problems.add_rows(out_of_range & used, j, cells[j], lambda i, v: (
            f"{headers[j]} must be more than 0 and at most 8,784 hours (a year); enter the rep's hours per year in "
            "the field, e.g. 1440"))
        capacity_hours = np.where(blank | bad | out_of_range, np.nan, values)

    near_misses(table, REP_SYNONYMS)  # warnings only: a rep table has no measure columns
    problems.raise_if_any()
    if warnings is not None:
        warnings.extend(problems.warnings())
    keep = used
    out = pd.DataFrame({
        "territory": pd.Series(territory[keep], dtype=object),
        "rep": pd.Series(rep[keep], dtype=object),
        "lat": lat[keep],
        "lon": lon[keep],
        "capacity": capacity[keep].astype(np.float64),
        # the territory's region and district (None where blank or without the column; they win over the accounts')
        **{name: pd.Series((as_text(cells[found[name]]) if name in found else np.full(n, None, dtype=object))[keep],
                           dtype=object) for name in ("region", "district")},
    })
    if "capacity_hours" in found:  # only when given, like the accounts' Tier column
        out["capacity_hours"] = capacity_hours[keep].astype(np.float64)
    return out.reset_index(drop=True)
