"""Implausible coordinates: points that are valid numbers but clearly not where the account is.

Latitude/longitude swapped, or a minus sign dropped, gives coordinates inside -90..90 and
-180..180 that put an account in Antarctica or Central Asia. Range checks cannot see that; the
rule here compares every account with the others (the engine is global, so no region is
assumed):

1. **The whole table.** Every account south of ``antarctic_latitude`` (-60) is in Antarctica,
   and every account farther than ``land_far_km`` from any land point known offline (the US ZIP
   centroids of :mod:`territory_engine.geocode` and the principal cities of the world's time
   zones, from the tz database that pandas depends on) is in the open ocean: both errors.
2. **Far accounts.** An account is *far* when its distance to the accounts' median centre is
   over ``outlier_centre_factor`` times their median distance to it (and over
   ``outlier_centre_min_km``), or *alone* when its nearest other account is over
   ``outlier_spacing_factor`` times the accounts' median nearest-neighbour distance (and over
   ``outlier_spacing_min_km``). Medians, so that a few wrong points cannot hide themselves.
3. **Clearly mistyped** (an error): a far or alone account that swapping latitude and
   longitude, or changing the sign of one or both, puts within ``outlier_fix_km`` of an
   account that is neither, or of its own ZIP's centroid.
4. **Otherwise** (a warning): an alone account that is not within ``zip_far_km`` of a US ZIP
   centroid, or a far one farther than ``land_far_km`` from any known land point. So accounts
   in Hawaii, Alaska, Puerto Rico or Guam beside the 48 states are not reported, even alone.

The numbers are fields of :class:`~territory_engine.tuning.Tuning`; their measurements on the
demo workbook and on US-wide tables are in ``tests/edge_cases/outlier_rule.py``.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..arrays import distinct_pairs
from ..geo import EARTH_RADIUS_KM, QUERY_WORKERS, chord_to_km, haversine_km, to_xyz
from ..tuning import Tuning

__all__ = ["FIXES", "Implausible", "fixed_coordinates", "implausible_coordinates", "land_points"]

FIXES = (
    ("swapped", "with latitude and longitude swapped", "swap the Latitude and Longitude cells"),
    ("lon_sign", "with the longitude's sign changed", "change the longitude's sign (west of Greenwich is negative)"),
    ("lat_sign", "with the latitude's sign changed", "change the latitude's sign (south of the equator is negative)"),
    ("both_signs", "with both signs changed", "change the signs of the latitude and the longitude"),
)
"""The typing slips a coordinate pair can hold: (key, what the fix does, what the user should do)."""


def fixed_coordinates(key: str, lat, lon):
    """``lat``/``lon`` (degrees, scalars or arrays) with the fix ``key`` of :data:`FIXES` applied."""
    return {"swapped": (lon, lat), "lon_sign": (lat, -lon), "lat_sign": (-lat, lon), "both_signs": (-lat, -lon)}[key]


@dataclass(frozen=True)
class Implausible:
    """What :func:`implausible_coordinates` found (positions are rows of the input arrays).

    Attributes
    ----------
    table : str or None
        ``"antarctica"`` or ``"ocean"`` when the whole table is there, else None.
    errors : dict of int to str
        Clearly mistyped accounts: position -> the sentence (the fix found and what to do).
    warnings : dict of int to str
        Far or alone accounts without a fix: position -> the sentence.
    """

    table: str | None
    errors: dict[int, str]
    warnings: dict[int, str]



def _tz_points() -> list[tuple[float, float]]:
    """The principal cities of the tz database's zones (``zone.tab``, ``zone1970.tab``), as
    (lat, lon) degrees; empty when neither file is found (the ocean test then uses ZIPs only)."""
    roots = []
    try:
        from importlib.resources import files

        roots.append(Path(str(files("tzdata") / "zoneinfo")))
    except (ImportError, ModuleNotFoundError, TypeError):
        pass
    roots.append(Path("/usr/share/zoneinfo"))
    points: set[tuple[float, float]] = set()
    for root in roots:
        for name in ("zone.tab", "zone1970.tab"):
            try:
                lines = (root / name).read_text(encoding="utf-8").splitlines()
            except OSError:
                continue
            for line in lines:
                if line.startswith("#") or "\t" not in line:
                    continue
                point = _iso6709(line.split("\t")[1])
                if point is not None:
                    points.add(point)
        if points:
            break
    return sorted(points)


def _iso6709(text: str) -> tuple[float, float] | None:
    """``+4230+00131`` (or with seconds) as (42.5, 1.5167) degrees."""
    split = max(text.rfind("+"), text.rfind("-"))
    if split <= 0:
        return None

    def degrees(part: str, width: int) -> float:
        sign = -1.0 if part[0] == "-" else 1.0
        digits = part[1:]
        whole, rest = float(digits[:width]), digits[width:]
        minutes = float(rest[:2]) if rest[:2] else 0.0
        seconds = float(rest[2:4]) if rest[2:4] else 0.0
        return sign * (whole + minutes / 60 + seconds / 3600)

    try:
        return degrees(text[:split], 2), degrees(text[split:], 3)
    except ValueError:
        return None


@functools.lru_cache(maxsize=1)
def _zip_tree():
    """A k-d tree of the US ZIP centroids (:func:`~territory_engine.geo.to_xyz` points)."""
    from scipy.spatial import cKDTree

    from ..geocode import zip_table

    table = zip_table()
    return cKDTree(to_xyz(table["lat"].to_numpy(dtype=float), table["lon"].to_numpy(dtype=float)))


@functools.lru_cache(maxsize=1)
def land_points() -> np.ndarray:
    """Land points known offline, as :func:`~territory_engine.geo.to_xyz` points (n, 3): every
    US ZIP centroid and the principal city of every time zone of the world (Antarctica's
    stations left out). Built on first use and cached."""
    tz = np.array([p for p in _tz_points() if p[0] > -60.0], dtype=float).reshape(-1, 2)
    return np.concatenate([_zip_tree().data, to_xyz(tz[:, 0], tz[:, 1])])


@functools.lru_cache(maxsize=1)
def _land_tree():
    from scipy.spatial import cKDTree

    return cKDTree(land_points())


def _land_km(xyz: np.ndarray, tree=None) -> np.ndarray:
    """Each point's km to the nearest known land point (or point of ``tree``)."""
    chord, _ = (tree or _land_tree()).query(xyz, k=1)
    return chord_to_km(chord)


def _far_from_land(xyz: np.ndarray, tuning: Tuning) -> bool:
    """Whether every point is farther than ``land_far_km`` from land (a sample first)."""
    sample = xyz[:: max(len(xyz) // 500, 1)]
    if (_land_km(sample) <= tuning.land_far_km).any():
        return False
    return bool((_land_km(xyz) > tuning.land_far_km).all())


def implausible_coordinates(lat: np.ndarray, lon: np.ndarray, *, zip_lat: np.ndarray | None = None,
                            zip_lon: np.ndarray | None = None, tuning: Tuning) -> Implausible:
    """Find accounts whose coordinates are clearly not where they are (see the module docstring).

    Parameters
    ----------
    lat, lon : numpy.ndarray
        Degrees; NaN where unknown (such rows are skipped).
    zip_lat, zip_lon : numpy.ndarray, optional
        Each account's own ZIP centroid (degrees, NaN where none), for the fixes.
    tuning : Tuning
        The ``outlier_*``, ``land_far_km`` and ``antarctic_latitude`` numbers.

    Returns
    -------
    Implausible
    """
    known = np.flatnonzero(np.isfinite(lat) & np.isfinite(lon))
    if len(known) == 0:
        return Implausible(None, {}, {})
    la, lo = lat[known], lon[known]
    if (la < tuning.antarctic_latitude).all():
        return Implausible("antarctica", {}, {})
    points, inverse = distinct_pairs(la, lo)
    xyz = to_xyz(points[:, 0], points[:, 1])
    if _far_from_land(xyz, tuning):
        return Implausible("ocean", {}, {})
    if len(points) < tuning.outlier_min_points:
        return Implausible(None, {}, {})
    from scipy.spatial import cKDTree

    centre = np.median(xyz, axis=0)
    centre = centre * (EARTH_RADIUS_KM / max(np.linalg.norm(centre), 1e-9))
    to_centre = chord_to_km(np.linalg.norm(xyz - centre, axis=1))
    spread = float(np.median(to_centre))
    # (a sliding-midpoint tree builds faster and finds the same distances; the query on every core)
    tree = cKDTree(xyz, balanced_tree=False)
    chord, _ = tree.query(xyz, k=2, workers=QUERY_WORKERS)
    nearest = chord_to_km(chord[:, 1])
    far = to_centre > max(tuning.outlier_centre_factor * spread, tuning.outlier_centre_min_km)
    alone = nearest > max(tuning.outlier_spacing_factor * float(np.median(nearest)), tuning.outlier_spacing_min_km)
    suspect = far | alone
    if not suspect.any():
        return Implausible(None, {}, {})
    inliers = cKDTree(xyz[~suspect]) if (~suspect).any() else None
    errors: dict[int, str] = {}
    warnings: dict[int, str] = {}
    suspects = np.flatnonzero(suspect)
    land = _land_km(xyz[suspects])
    at_zip = _land_km(xyz[suspects], _zip_tree()) <= tuning.zip_far_km
    among = _fixes_among(points[suspects], inliers, tuning)
    for p, land_km, us_town, rows, fits in zip(suspects, land, at_zip, _rows_at(known, inverse, suspects), among):
        for row in rows:
            text = _fixed(points[p], row, fits, zip_lat, zip_lon, tuning)
            if text is not None:
                errors[int(row)] = (f"latitude {points[p][0]:g} and longitude {points[p][1]:g} put this account "
                                    f"{nearest[p]:,.0f} km from the nearest other account; {text}")
            elif (alone[p] and not us_town) or land_km > tuning.land_far_km:
                where = (f"{nearest[p]:,.0f} km from the nearest other account" if alone[p] else
                         f"{land_km:,.0f} km from any land this tool knows")
                warnings[int(row)] = (f"latitude {points[p][0]:g} and longitude {points[p][1]:g} put this account "
                                      f"{where} (the accounts lie {spread:,.0f} km from their centre, by the median); "
                                      "check its coordinates")
    return Implausible(None, errors, warnings)


def _rows_at(known: np.ndarray, inverse: np.ndarray, suspects: np.ndarray) -> list[np.ndarray]:
    """The rows (ascending) at each of the points ``suspects`` (ascending), ``inverse`` giving the
    point of each row of ``known``: one sort, where a scan of every row for each point took 2 s
    on a full sheet with accounts in Alaska, Hawaii and Puerto Rico."""
    mask = np.zeros(int(inverse.max()) + 1 if len(inverse) else 0, dtype=bool)
    mask[suspects] = True
    at = mask[inverse]
    rows, point = known[at], inverse[at]
    order = np.argsort(point, kind="stable")
    rows, point = rows[order], point[order]
    first, last = np.searchsorted(point, suspects), np.searchsorted(point, suspects, side="right")
    return [rows[a:b] for a, b in zip(first.tolist(), last.tolist())]


def _fixes_among(points: np.ndarray, inliers, tuning: Tuning) -> np.ndarray:
    """For each point (degrees) and each fix of :data:`FIXES`, whether the fixed point lies among
    the other accounts (within ``outlier_fix_km`` of an ``inliers`` point): one query per fix
    for all points, where one per point and fix took 7 s on that full sheet."""
    among = np.zeros((len(points), len(FIXES)), dtype=bool)
    if inliers is None or len(points) == 0:
        return among
    la, lo = points[:, 0], points[:, 1]
    for j, (key, _, _) in enumerate(FIXES):
        f_lat, f_lon = fixed_coordinates(key, la, lo)
        valid = (np.abs(f_lat) <= 90) & (np.abs(f_lon) <= 180) & ~((f_lat == la) & (f_lon == lo))
        if valid.any():
            chord, _ = inliers.query(to_xyz(f_lat[valid], f_lon[valid]), k=1, workers=QUERY_WORKERS)
            among[valid, j] = chord_to_km(chord) <= tuning.outlier_fix_km
    return among


def _fixed(point, row, among, zip_lat, zip_lon, tuning: Tuning) -> str | None:
    """The first fix that puts ``point`` among the other accounts (``among``: for each fix, whether
    it does, :func:`_fixes_among`) or at its own ZIP, in words."""
    la, lo = float(point[0]), float(point[1])
    has_zip = zip_lat is not None and np.isfinite(zip_lat[row])
    for j, (key, said, fix) in enumerate(FIXES):
        f_lat, f_lon = fixed_coordinates(key, la, lo)
        if abs(f_lat) > 90 or abs(f_lon) > 180 or (f_lat, f_lon) == (la, lo):
            continue
        if has_zip and haversine_km(f_lat, f_lon, zip_lat[row], zip_lon[row]) <= tuning.outlier_fix_km:
            return f"{said} it lies at its own ZIP; {fix}"
        if among[j]:
            return f"{said} it lies among the other accounts; {fix}"
    return None
