"""TERRITORY_* worksheet functions: cheap, pure adapters over the engine.

Each function takes whole ranges as Excel passes them (2-D lists: numbers as float, dates as
``datetime``, empty cells as None, text as str) and returns a whole column or table (a
dynamic array that spills), one call per column, not per cell. Missing results are empty
cells, never NaN. Bad input gives one short error text in the cell, starting with ``#``
(for example ``#TERRITORY: lat1 row 3: 'abc' is not a number``). Error cells (``#N/A``,
``#DIV/0!``) reach the functions as their text (xlwings' ``err_to_str``), so they are reported
like any bad cell, never taken for blanks. Rebalancing never runs
in a cell: the ribbon does that.

The decorators are xlwings' (``@xw.func``, ``@xw.arg(..., doc=...)``): on Windows they
declare the converters and the texts of Excel's function wizard; on Linux and macOS they
do nothing, so these are plain Python functions, tested as such. The VBA wrappers that
Excel calls are generated from this file by ``excel_addin/build_xlam.py``.

Units: coordinates in degrees, distances in great-circle km (:mod:`territory_engine.geo`).
"""

from __future__ import annotations

import datetime as _dt
import math
import numbers
import re
from typing import Any

import numpy as np
import xlwings as xw

from territory_engine.errors import TerritoryError
from territory_engine.ids import natural_key
from territory_engine.settings import SCORE_METHODS
from territory_engine.tuning import DEFAULT_TUNING

__all__ = [
    "TERRITORY_DISTANCE",
    "TERRITORY_GEOCODE",
    "TERRITORY_SCORE",
    "TERRITORY_TIER",
    "TERRITORY_LOAD",
    "TERRITORY_BALANCE",
    "TERRITORY_NEAREST",
    "TERRITORY_BLOCK",
    "TERRITORY_WORKLOAD",
    "TERRITORY_CAPACITY",
]

CATEGORY = "Territory"
"""The category of Excel's function wizard that lists these functions."""

_EXCEL_EPOCH = _dt.datetime(1899, 12, 30)


class CellError(Exception):
    """Bad input to a worksheet function; its text goes into the cell."""


def _error_text(error: Exception) -> list[list[Any]]:
    return [[f"#TERRITORY: {error}"[:255]]]


def _guard(function):
    """Turn a CellError or an engine input error into a short text in the cell.

    Anything else is a bug and is raised (xlwings shows it), never dressed up as bad input.
    The cyclic garbage collector is paused during the call: building a spill of a million
    one-cell lists otherwise triggers it thousands of times (4x slower), and these
    functions create no reference cycles.
    """
    import functools
    import gc

    @functools.wraps(function)
    def wrapper(*args, **kwargs):
        collecting = gc.isenabled()
        gc.disable()
        try:
            return function(*args, **kwargs)
        except (CellError, TerritoryError) as error:
            return _error_text(error)
        finally:
            if collecting:
                gc.enable()

    return wrapper


# --------------------------------------------------------------------------------------
# cells in, cells out
# --------------------------------------------------------------------------------------


def _rows(value: Any) -> list[list[Any]]:
    """Any argument as a 2-D list of rows (a single cell becomes ``[[value]]``)."""
    if value is None:
        return []
    if isinstance(value, np.ndarray):
        value = value.tolist()
    if isinstance(value, (list, tuple)):
        if not value:
            return []
        if isinstance(value[0], list) and isinstance(value, list):
            return value  # 2-D as xlwings passes it (ndim=2); never modified here
        if all(isinstance(row, (list, tuple)) for row in value):
            return [list(row) for row in value]
        return [[v] for v in value]
    return [[value]]


def _blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip()) or (
        isinstance(value, float) and math.isnan(value))


def _trim(rows: list[list[Any]]) -> list[list[Any]]:
    """Drop trailing rows whose cells are all empty (a whole-column reference like A:A)."""
    end = len(rows)
    while end and all(_blank(v) for v in rows[end - 1]):
        end -= 1
    return rows[:end]


def _same_rows(*ranges: tuple[Any, str]) -> list[list[list[Any]]]:
    """Ranges that go together, as rows cut to a common length.

    Ranges selected with different numbers of rows are an error; trailing rows empty in
    every range (whole-column references like A:A) are dropped.
    """
    rows = [_rows(value) for value, _ in ranges]
    sizes = {len(r) for r in rows if len(r) > 1}
    if len(sizes) > 1:
        names = " and ".join(f"{what} ({len(r)} rows)" for r, (_, what) in zip(rows, ranges))
        raise CellError(f"{names} differ; select the same rows")
    n = max((len(_trim(r)) for r in rows), default=0)
    return [r if len(r) == 1 and n > 1 else r[:n] for r in rows]


def _column(value: Any, what: str, *, trim: bool = True) -> list[Any]:
    """A one-column (or one-row) range as a flat list of cells."""
    rows = _trim(_rows(value)) if trim else _rows(value)
    if not rows:
        return []
    if len(rows) == 1 and len(rows[0]) > 1:
        return list(rows[0])
    if any(len(r) != 1 for r in rows):
        raise CellError(f"{what} must be one column; select a single column")
    return [r[0] for r in rows]


def _number(value: Any, what: str) -> float:
    """One cell as a float: numbers, numeric text, dates (as Excel's serial number); blank is NaN."""
    if _blank(value):
        return math.nan
    if isinstance(value, bool):
        raise CellError(f"{what}: {value} is not a number")
    if isinstance(value, numbers.Real):
        return float(value)
    if isinstance(value, _dt.datetime):
        return (value - _EXCEL_EPOCH).total_seconds() / 86400.0
    if isinstance(value, _dt.date):
        return float((value - _EXCEL_EPOCH.date()).days)
    text = str(value).strip().replace(",", "")
    try:
        return float(text[:-1]) / 100 if text.endswith("%") else float(text)
    except ValueError:
        raise CellError(f"{what}: '{str(value)[:30]}' is not a number") from None


_PLAIN = frozenset({float, int, type(None)})
"""Cell types numpy converts as Excel means them (None becomes NaN): the fast path."""


def _numbers(cells: list[Any], what: str) -> np.ndarray:
    if all(type(v) in _PLAIN for v in cells):
        return np.array(cells, dtype=float)
    return np.array([_number(v, f"{what} row {i + 1}") for i, v in enumerate(cells)], dtype=float)


def _matrix(value: Any, what: str, *, trim: bool = True) -> np.ndarray:
    rows = _trim(_rows(value)) if trim else _rows(value)
    width = max((len(r) for r in rows), default=0)
    if all(len(r) == width and all(type(v) in _PLAIN for v in r) for r in rows):
        return np.array(rows, dtype=float).reshape(len(rows), width)
    out = np.full((len(rows), width), np.nan)
    for i, row in enumerate(rows):
        for j, v in enumerate(row):
            out[i, j] = _number(v, f"{what} row {i + 1}, column {j + 1}")
    return out


_ERROR_CELLS = frozenset({"#DIV/0!", "#N/A", "#NAME?", "#NULL!", "#NUM!", "#REF!", "#VALUE!"})
"""Excel's error values as xlwings passes them with ``err_to_str`` (its ``cell_errors``)."""


def _text(value: Any, what: str) -> str | None:
    """A cell as an identifier: 12.0 -> '12', blank -> None; an error cell is bad input."""
    if _blank(value):
        return None
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    text = str(value).strip()
    if text in _ERROR_CELLS:
        raise CellError(f"{what}: {text} is an error value; fix its formula or clear the cell")
    return text


def _is_header(row: list[Any]) -> bool:
    """A first row of text only, none of it numeric: a header the user selected with the data."""
    cells = [v for v in row if not _blank(v)]
    if not cells or not all(isinstance(v, str) for v in cells):
        return False
    try:
        [float(v.replace(",", "").rstrip("%")) for v in cells]
    except ValueError:
        return True
    return False


def _out(values) -> list[list[Any]]:
    """A column of numbers as Excel wants it: one list per row, None for missing."""
    array = np.asarray(values, dtype=float)
    return [[v if v == v else None] for v in np.where(np.isfinite(array), array, np.nan).tolist()]


def _cell(value: Any) -> Any:
    if value is None:
        return None
    if isinstance(value, (float, np.floating)):
        return None if not math.isfinite(value) else float(value)
    if isinstance(value, np.generic):
        return value.item()
    return value


def _fraction(value: Any, what: str, default: float) -> float:
    number = _number(value, what)
    if math.isnan(number):
        return default
    if number > 1:  # "5" typed for 5 %
        number /= 100
    if not 0 <= number < 1:
        raise CellError(f"{what} must be a fraction such as 0.05 or 5%")
    return number


# --------------------------------------------------------------------------------------
# the functions
# --------------------------------------------------------------------------------------


@xw.func(category=CATEGORY)
@xw.arg("lat1", ndim=2, err_to_str=True, doc="Latitude of the first points in degrees: a column or one cell.")
@xw.arg("lon1", ndim=2, err_to_str=True, doc="Longitude of the first points in degrees, same size as lat1.")
@xw.arg("lat2", ndim=2, err_to_str=True, doc="Latitude of the second points in degrees: a column or one cell.")
@xw.arg("lon2", ndim=2, err_to_str=True, doc="Longitude of the second points in degrees, same size as lat2.")
@_guard
def TERRITORY_DISTANCE(lat1, lon1, lat2, lon2):
    """Great-circle distance in km between two columns of points (or one point and a column)."""
    from territory_engine.geo import haversine_km

    names = ("lat1", "lon1", "lat2", "lon2")
    ranges = _same_rows(*zip((lat1, lon1, lat2, lon2), names))
    columns = [_numbers(_column(r, name, trim=False), name) for r, name in zip(ranges, names)]
    for c, name in zip(columns, ("lat1", "lon1", "lat2", "lon2")):
        bound = 90 if name.startswith("lat") else 180
        if (np.abs(c[~np.isnan(c)]) > bound).any():
            raise CellError(f"{name} has values outside ±{bound} degrees; check the columns")
    n = max(len(c) for c in columns)
    if n == 0:
        return [[None]]
    broadcast = [np.broadcast_to(c, n) if len(c) == 1 else c for c in columns]
    return _out(haversine_km(*broadcast))


@xw.func(category=CATEGORY)
@xw.arg("zips", ndim=2, err_to_str=True,
        doc="US ZIP codes: a column of text or numbers (leading zeros may be missing).")
@_guard
def TERRITORY_GEOCODE(zips):
    """Latitude and longitude (degrees) of each ZIP code's centroid, offline; empty when unknown."""
    from territory_engine.geocode import geocode_zips

    cells = _column(zips, "zips")
    if not cells:
        return [[None, None]]
    header = isinstance(cells[0], str) and not re.search(r"\d", cells[0])
    lat, lon = geocode_zips([None if isinstance(v, bool) else v for v in cells[header:]])
    rows = [[_cell(a), _cell(b)] for a, b in zip(lat.tolist(), lon.tolist())]
    return ([["Latitude", "Longitude"]] if header else []) + rows


@xw.func(category=CATEGORY)
@xw.arg("measures", ndim=2, err_to_str=True, doc="The measures to score: one column per measure, one row per account.")
@xw.arg("weights", ndim=2, err_to_str=True,
        doc="Weight of each measure, one per column of measures (blank: equal weights).")
@xw.arg("method", err_to_str=True, doc="percentile (default), minmax or zscore.")
@_guard
def TERRITORY_SCORE(measures, weights=None, method="percentile"):
    """Weighted score of each account from its measures (0 to 1 for percentile and minmax)."""
    from territory_engine.scoring import score

    rows = _trim(_rows(measures))
    header = bool(rows) and _is_header(rows[0])
    values = _matrix(rows[header:], "measures")
    if values.size == 0:
        return [[None]]
    w = _numbers([v for r in _rows(weights) for v in r if not _blank(v)], "weights")
    if len(w) == 0:
        w = None
    elif len(w) != values.shape[1]:
        raise CellError(f"{len(w)} weights for {values.shape[1]} measure columns; give one weight per column")
    method = (_text(method, "method") or "percentile").lower()
    if method not in SCORE_METHODS:
        raise CellError(f"method '{method}' is unknown; use percentile, minmax or zscore")
    filled = ~np.isnan(values).all(axis=1)
    out = np.full(len(values), np.nan)
    if filled.any():
        out[filled] = score(values[filled], w, method=method)
    return ([["Score"]] if header else []) + _out(np.round(out, 6))


@xw.func(category=CATEGORY)
@xw.arg("scores", ndim=2, err_to_str=True, doc="A column of scores, for example from TERRITORY_SCORE.")
@xw.arg("cutoffs", ndim=2, err_to_str=True, doc="Top shares that get A and B, e.g. 0.2 and 0.5 (default): two cells.")
@_guard
def TERRITORY_TIER(scores, cutoffs=None):
    """Tier A, B or C of each score: A for the top 20%, B for the next 30%, else C."""
    from territory_engine.scoring import tiers

    cells = _column(scores, "scores")
    header = bool(cells) and _is_header([cells[0]])
    values = _numbers(cells[header:], "scores")
    if len(values) == 0:
        return [[None]]
    cut = _numbers([v for r in _rows(cutoffs) for v in r if not _blank(v)], "cutoffs")
    if len(cut) == 0:
        cut = np.array([0.2, 0.5])
    if len(cut) != 2 or not 0 < cut[0] < cut[1] < 1:
        raise CellError("cutoffs must be two increasing fractions between 0 and 1, e.g. 0.2 and 0.5")
    out = tiers(values, (float(cut[0]), float(cut[1])))
    return ([["Tier"]] if header else []) + [[t or None] for t in out.tolist()]


def _territory_loads(territories, measures, weights):
    """Territory ids, weighted loads and deviations from an equal target (as the territory summary)."""
    from territory_engine.measures import territory_loads

    id_rows, rows = _same_rows((territories, "territories"), (measures, "measures"))
    if any(len(r) != 1 for r in id_rows):
        raise CellError("territories must be one column; select a single column")
    ids = [r[0] for r in id_rows]
    header = bool(rows) and _is_header(rows[0])
    ids, rows = (ids[1:], rows[1:]) if header else (ids, rows)
    values = _matrix(rows, "measures", trim=False)
    if len(ids) != len(values):
        raise CellError(f"territories has {len(ids)} rows and measures {len(values)}; select the same rows")
    if values.size == 0:
        raise CellError("there are no accounts; select the territory and measure columns")
    w = _numbers([v for r in _rows(weights) for v in r if not _blank(v)], "weights")
    if len(w) == 0:
        w = np.ones(values.shape[1])
    if len(w) != values.shape[1] or (w < 0).any() or w.sum() <= 0:
        raise CellError(f"give {values.shape[1]} non-negative weights, one per measure column")
    text = [_text(t, f"territories row {i + 1}") for i, t in enumerate(ids)]
    order = sorted({t for t in text if t is not None}, key=natural_key)
    if not order:
        raise CellError("no account has a territory; fill the territories column")
    index = {t: i for i, t in enumerate(order)}
    territory = np.array([-1 if t is None else index[t] for t in text])
    values = np.nan_to_num(values)
    w = w / w.sum()
    k = len(order)
    loads = territory_loads(territory, values, k)
    totals = values[territory >= 0].sum(axis=0)
    shares = np.divide(loads, totals, out=np.zeros_like(loads), where=totals > 0)
    deviation = (shares @ w) * k - 1
    return order, loads @ w, deviation


@xw.func(category=CATEGORY)
@xw.arg("territories", ndim=2, err_to_str=True, doc="The territory of each account: one column.")
@xw.arg("measures", ndim=2, err_to_str=True,
        doc="The measures to sum per territory: one column per measure, same rows.")
@xw.arg("weights", ndim=2, err_to_str=True, doc="Weight of each measure column (blank: equal weights).")
@_guard
def TERRITORY_LOAD(territories, measures, weights=None):
    """Each territory's weighted load and its deviation from an equal target, one row per territory."""
    order, load, deviation = _territory_loads(territories, measures, weights)
    return [["Territory", "Load", "Deviation"]] + [
        [t, _cell(round(float(a), 6)), _cell(round(float(d), 6))] for t, a, d in zip(order, load, deviation)]


@xw.func(category=CATEGORY)
@xw.arg("territories", ndim=2, err_to_str=True, doc="The territory of each account: one column.")
@xw.arg("measures", ndim=2, err_to_str=True, doc="The measures to balance: one column per measure, same rows.")
@xw.arg("tolerance", err_to_str=True, doc="Allowed deviation from target, e.g. 0.05 or 5% (default 5%).")
@_guard
def TERRITORY_BALANCE(territories, measures, tolerance=None):
    """One-cell balance verdict: the largest deviation from target, within the tolerance or not."""
    tol = _fraction(tolerance, "tolerance", 0.05)
    order, _, deviation = _territory_loads(territories, measures, None)
    worst = int(np.argmax(np.abs(deviation)))
    largest = float(deviation[worst])
    verdict = "within" if abs(largest) <= tol + 1e-9 else "outside"
    return [[f"{verdict} ±{tol:.0%}: largest deviation {largest:+.1%} ({order[worst]})"]]


@xw.func(category=CATEGORY)
@xw.arg("lat", ndim=2, err_to_str=True, doc="Latitude of the accounts in degrees: a column.")
@xw.arg("lon", ndim=2, err_to_str=True, doc="Longitude of the accounts in degrees: a column.")
@xw.arg("bases", ndim=2, err_to_str=True,
        doc="The rep bases: columns name, latitude, longitude (or latitude, longitude).")
@_guard
def TERRITORY_NEAREST(lat, lon, bases):
    """The nearest rep base to each account and its great-circle km, one row per account."""
    from scipy.spatial import cKDTree

    from territory_engine.geo import chord_to_km, to_xyz

    rows = _trim(_rows(bases))
    if rows and _is_header(rows[0]):
        rows = rows[1:]
    if not rows or len(rows[0]) not in (2, 3):
        raise CellError("bases must have 2 columns (latitude, longitude) or 3 (name, latitude, longitude)")
    named = len(rows[0]) == 3
    names = [(_text(r[0], f"bases row {i + 1}") if named else None) or f"base {i + 1}" for i, r in enumerate(rows)]
    base = _matrix([r[1:] if named else r for r in rows], "bases")
    if np.isnan(base).any():
        raise CellError("every base needs a latitude and a longitude")
    header, a, b = _point_columns(lat, "lat", lon, "lon")
    ok = ~(np.isnan(a) | np.isnan(b))
    distance, index = cKDTree(to_xyz(base[:, 0], base[:, 1])).query(to_xyz(a[ok], b[ok]))
    nearest = np.full(len(a), None, dtype=object)
    km = np.full(len(a), np.nan)
    nearest[ok] = np.array(names, dtype=object)[np.atleast_1d(index)]
    km[ok] = np.round(chord_to_km(distance), 3)
    out = [[name, k if k == k else None] for name, k in zip(nearest.tolist(), km.tolist())]
    return ([["Nearest base", "km"]] if header else []) + (out or [[None, None]])


def _point_columns(lat, lat_name: str, lon, lon_name: str) -> tuple[bool, np.ndarray, np.ndarray]:
    """Two columns selected together (latitudes and longitudes) as numbers: whether their first
    row is a header, then each column below it (NaN where blank)."""
    lat_rows, lon_rows = _same_rows((lat, lat_name), (lon, lon_name))
    a, b = _column(lat_rows, lat_name, trim=False), _column(lon_rows, lon_name, trim=False)
    if len(a) != len(b):
        raise CellError(f"{lat_name} has {len(a)} rows and {lon_name} {len(b)}; select the same rows")
    header = bool(a) and _is_header([a[0]])
    return header, _numbers(a[header:], lat_name), _numbers(b[header:], lon_name)


_BLOCK_HEADERS = {"county": "County", "zip": "ZIP area", "state": "State"}


def _block_points(zip_or_lat, lon) -> tuple[bool, np.ndarray, np.ndarray]:
    """The header flag and the latitudes and longitudes of TERRITORY_BLOCK, checked like TERRITORY_DISTANCE's."""
    header, a, b = _point_columns(zip_or_lat, "zip_or_lat", lon, "lon")
    for values, name, bound in ((a, "zip_or_lat", 90), (b, "lon", 180)):
        if (np.abs(values[~np.isnan(values)]) > bound).any():
            raise CellError(f"{name} has values outside ±{bound} degrees; give latitudes, or ZIPs without lon")
    return header, a, b


@xw.func(category=CATEGORY)
@xw.arg("zip_or_lat", ndim=2, err_to_str=True,
        doc="US ZIP codes (text or numbers), or the accounts' latitudes in degrees when lon is given: a column.")
@xw.arg("lon", ndim=2, err_to_str=True,
        doc="The accounts' longitudes in degrees, same rows as zip_or_lat; leave out to give ZIP codes.")
@xw.arg("kind", err_to_str=True, doc="county (default: 5-digit FIPS), zip (the ZIP area) or state (two letters).")
@_guard
def TERRITORY_BLOCK(zip_or_lat, lon=None, kind="county"):
    """The building block of each account, offline: its county FIPS, ZIP area or state; empty when unknown."""
    from territory_engine.geography import block_of

    kind = (_text(kind, "kind") or "county").lower()
    if kind not in _BLOCK_HEADERS:
        raise CellError(f"kind '{kind[:30]}' is unknown; use county, zip or state")
    if all(_blank(v) for row in _rows(lon) for v in row):
        cells = _column(zip_or_lat, "zip_or_lat")
        header = bool(cells) and isinstance(cells[0], str) and not re.search(r"\d", cells[0])
        zips = [_text(v, f"zip_or_lat row {i + 1}") if not isinstance(v, bool) else None
                for i, v in enumerate(cells[header:])]
        ids = block_of(kind, zip=zips)
    else:
        header, lat_values, lon_values = _block_points(zip_or_lat, lon)
        ids = block_of(kind, lat=lat_values, lon=lon_values)
    if not len(ids):
        return [[None]]
    return ([[_BLOCK_HEADERS[kind]]] if header else []) + [[v] for v in ids.tolist()]


def _visits(cells: list[Any]) -> np.ndarray:
    """Visits per year from a column of numbers (visits) or tier names (A, B, C: the default
    visits_per_year of :class:`territory_engine.workload.WorkloadModel`); blank is 0."""
    from territory_engine.errors import SettingsError
    from territory_engine.workload import WorkloadModel

    out = np.zeros(len(cells))
    most = DEFAULT_TUNING.workload_most_visits
    for i, value in enumerate(cells):
        if _blank(value):
            continue
        if isinstance(value, _dt.date):
            raise CellError(f"visits_or_tiers row {i + 1}: a date is not a number of visits; give visits per year "
                            "or a tier")
        try:
            out[i] = _number(value, f"visits_or_tiers row {i + 1}")
        except CellError:
            try:
                out[i] = WorkloadModel().visits_of([_text(value, f"visits_or_tiers row {i + 1}")])[0]
            except SettingsError:
                tiers = ", ".join(f"{n}:{v:g}" for n, v in WorkloadModel().visits_per_year)
                raise CellError(f"visits_or_tiers row {i + 1}: '{str(value)[:30]}' is neither a number of visits "
                                f"nor a tier ({tiers})") from None
        if not 0 <= out[i] < math.inf:
            raise CellError(f"visits_or_tiers row {i + 1}: visits must be 0 or more")
        if out[i] > most:
            # (the command line warns and counts it as written; a cell has no room for a warning)
            raise CellError(f"visits_or_tiers row {i + 1}: {out[i]:,.12g} visits a year is more than {most:g} (one a "
                            "day); check the figure")
    return out


@xw.func(category=CATEGORY)
@xw.arg("visits_or_tiers", ndim=2, err_to_str=True,
        doc="Visits per year of each account, or its tier (A: 24, B: 12, C: 4 visits a year): a column.")
@xw.arg("lat", ndim=2, err_to_str=True, doc="Latitude of the accounts in degrees, same rows.")
@xw.arg("lon", ndim=2, err_to_str=True, doc="Longitude of the accounts in degrees, same rows.")
@xw.arg("base_lat", ndim=2, err_to_str=True,
        doc="Latitude of each account's rep base in degrees: a column (same rows) or one cell for all.")
@xw.arg("base_lon", ndim=2, err_to_str=True, doc="Longitude of each account's rep base, like base_lat.")
@xw.arg("minutes", err_to_str=True, doc="Minutes per visit (default 45).")
@xw.arg("speed", err_to_str=True,
        doc="Drive speed in km/h (default: 30 urban, 50 suburban, 80 rural, by the density of these accounts).")
@_guard
def TERRITORY_WORKLOAD(visits_or_tiers, lat, lon, base_lat, base_lon, minutes=None, speed=None):
    """Workload hours per year of each account: visits plus estimated drive time (a day's round trip shared by 5 visits)."""
    from territory_engine.geo import haversine_km
    from territory_engine.workload import WorkloadModel, density_classes, drive_hours, hop_km, visit_hours

    visit_rows, lat_rows, lon_rows = _same_rows((visits_or_tiers, "visits_or_tiers"), (lat, "lat"), (lon, "lon"))
    cells = _column(visit_rows, "visits_or_tiers", trim=False)
    header, a, b = _point_columns(lat_rows, "lat", lon_rows, "lon")
    cells = cells[header:]
    if len(cells) != len(a):
        raise CellError(f"visits_or_tiers has {len(cells)} rows and lat {len(a)}; select the same rows")
    if len(a) == 0:
        return [[None]]
    base = []
    for value, name in ((base_lat, "base_lat"), (base_lon, "base_lon")):
        column = _column(value, name)
        column = column[1:] if len(column) == len(a) + 1 and header else column
        numbers_ = _numbers(column, name)
        if len(numbers_) not in (1, len(a)):
            raise CellError(f"{name} has {len(numbers_)} rows for {len(a)} accounts; give one cell or the same rows")
        base.append(np.broadcast_to(numbers_, len(a)))
    for values, name, bound in ((a, "lat", 90), (b, "lon", 180), (base[0], "base_lat", 90), (base[1], "base_lon", 180)):
        if (np.abs(values[~np.isnan(values)]) > bound).any():
            raise CellError(f"{name} has values outside ±{bound} degrees; check the columns")
    model = WorkloadModel()
    minutes_ = _number(minutes, "minutes")
    if not math.isnan(minutes_):
        if not 0 < minutes_ <= 24 * 60:
            raise CellError(f"minutes: {minutes_:g} is not a visit's length; give minutes per visit above 0 and at "
                            "most 1,440 (a day)")
        model = WorkloadModel(minutes_per_visit=minutes_)
    visits = _visits(cells)
    ok = ~(np.isnan(a) | np.isnan(b) | np.isnan(base[0]) | np.isnan(base[1]))
    speed_ = _number(speed, "speed")
    if math.isnan(speed_):
        kmh = np.full(len(a), np.nan)
        kmh[ok] = np.asarray(model.speeds_kmh)[density_classes(a[ok], b[ok])]
    elif not 0 < speed_ < math.inf:
        raise CellError(f"speed: {speed_:g} is not a drive speed; give km/h above 0 (e.g. 50)")
    else:
        kmh = np.full(len(a), speed_)
    km = np.full(len(a), np.nan)
    km[ok] = haversine_km(a[ok], b[ok], base[0][ok], base[1][ok])
    hop = np.zeros(len(a))
    _, same_base = np.unique(np.column_stack([base[0][ok], base[1][ok]]), axis=0, return_inverse=True)
    hop[ok] = hop_km(a[ok], b[ok], same_base.ravel())
    hours = visit_hours(model, visits) + drive_hours(model, visits, km, kmh, hop)
    return ([["Workload hours"]] if header else []) + _out(np.round(hours, 4))


@xw.func(category=CATEGORY)
@xw.arg("hours_range", ndim=2, err_to_str=True, doc="Workload hours per year of each rep: a column.")
@xw.arg("capacity", ndim=2, err_to_str=True,
        doc="Capacity in hours per year: one cell for every rep or a column, same rows (default 1,440: 1,800 x 80%).")
@_guard
def TERRITORY_CAPACITY(hours_range, capacity=None):
    """Utilisation of each rep: workload hours / capacity hours (above 1: over capacity)."""
    from territory_engine.workload import WorkloadModel, utilisation

    cells = _column(hours_range, "hours_range")
    header = bool(cells) and _is_header([cells[0]])
    hours = _numbers(cells[header:], "hours_range")
    if len(hours) == 0:
        return [[None]]
    given = _column(capacity, "capacity")
    given = given[1:] if header and len(given) == len(hours) + 1 else given
    cap = _numbers(given, "capacity") if given else np.array([np.nan])
    if len(cap) not in (1, len(hours)):
        raise CellError(f"capacity has {len(cap)} rows for {len(hours)} reps; give one cell or the same rows")
    cap = np.where(np.isnan(cap), WorkloadModel().capacity_hours, cap)
    if (cap <= 0).any():
        raise CellError("capacity must be more than 0 hours")
    if (hours[~np.isnan(hours)] < 0).any():
        raise CellError("hours_range must not be negative")
    ratio = utilisation(hours, np.broadcast_to(cap, len(hours)))
    return ([["Utilisation"]] if header else []) + _out(np.round(ratio, 6))
