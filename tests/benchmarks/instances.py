"""Realistic benchmark instances on real US geography.

Accounts are placed around ZIP centroids from the offline ``zipcodes`` table. ZIP codes are
denser where people live, so drawing a ZIP (``STANDARD`` delivery ZIPs count fully, PO boxes and
single-organisation ZIPs less, military ZIPs not at all) and then an account a little way from its
centroid gives an account density that looks like population: crowded metros, empty plains.

Measures:

* ``potential``: lognormal (currency per year), heavy-tailed but capped so that no single
  account is larger than ``MAX_ACCOUNT_SHARE`` of one territory's share of the total;
* ``workload``: hours per year, correlated with potential (larger accounts need more visits, with
  account-to-account noise).

Current alignments:

* ``"unbalanced"``: the Voronoi cells (nearest seed on the sphere) of ``k`` seeds drawn by account
  count, improved by three Lloyd steps that ignore the measures. Cells are contiguous and compact,
  like a plausible hand-drawn map, but k-means-like cells hold about the square root of the local
  density, so metro territories are overloaded and rural ones starved: median potential
  deviation about 30%, the tenth worst 60-80%, and in the largest instances a few metro
  territories two to three times their share (New York, Los Angeles);
* ``"balanced"``: recursive weighted bisection (split the longer side at the potential quantile
  that gives each half its share of territories), so every territory holds about the same
  potential and is contiguous;
* ``None``: no current alignment.

Nothing here is an engine module: it is benchmark support code, and may use anything installed.
"""

from __future__ import annotations

import csv
import os
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import numpy as np
from scipy.spatial import cKDTree

from territory_engine.geo import EARTH_RADIUS_KM, to_xyz

__all__ = [
    "SIZES",
    "FULL_SHEET_ROWS",
    "MAX_ACCOUNT_SHARE",
    "Instance",
    "make_instance",
    "measures_of",
    "write_csv",
    "zip_table",
]

FULL_SHEET_ROWS = 1_048_575
"""Rows of an Excel sheet below its header row."""

SIZES: dict[str, list[tuple[int, int]]] = {
    "small": [(1_000, 10), (10_000, 50)],
    "all": [(1_000, 10), (10_000, 50), (100_000, 200), (FULL_SHEET_ROWS, 1_000)],
}
"""(accounts, territories) per benchmark size class."""

MAX_ACCOUNT_SHARE = 0.3
"""No account's potential exceeds this share of one territory's share of the total."""

_TYPE_WEIGHT = {"STANDARD": 1.0, "PO BOX": 0.25, "UNIQUE": 0.1, "MILITARY": 0.0}
_LLOYD_STEPS = 3
_NOT_CONTIGUOUS = {"AK", "HI", "PR", "VI", "GU", "AS", "MP", "FM", "MH", "PW", "AA", "AE", "AP"}


@dataclass(frozen=True)
class Instance:
    """One benchmark instance.

    Attributes
    ----------
    lat, lon : (n,) float arrays
        Account positions, degrees.
    measures : (n, M) float array
        One column per measure, in the order of ``names``: potential (currency per year) and
        workload (hours per year). Non-negative.
    names : tuple of str
        Measure names.
    current : (n,) int array or None
        Current territory 0..k-1 of each account, or None.
    bases : (k, 2) float array or None
        Rep home bases (lat, lon in degrees), or None.
    account_id : (n,) str array
        Account IDs.
    zip : (n,) str array
        Five-digit ZIP of the centroid each account was placed around.
    k : int
        Number of territories.
    seed : int
        Seed the instance was drawn with.
    description : str
        One line saying what this instance is.
    """

    lat: np.ndarray
    lon: np.ndarray
    measures: np.ndarray
    names: tuple[str, ...]
    current: np.ndarray | None
    bases: np.ndarray | None
    account_id: np.ndarray
    zip: np.ndarray
    k: int
    seed: int
    description: str
    extra: dict = field(default_factory=dict)

    @property
    def n(self) -> int:
        return int(self.lat.size)


@lru_cache(maxsize=1)
def _all_zips() -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    import zipcodes

    rows = [r for r in zipcodes.list_all() if r.get("lat") and r.get("long")]
    lat = np.array([float(r["lat"]) for r in rows])
    lon = np.array([float(r["long"]) for r in rows])
    keep = ~((lat == 0.0) & (lon == 0.0))
    code = np.array([r["zip_code"] for r in rows])[keep]
    state = np.array([r["state"] for r in rows])[keep]
    kind = np.array([r["zip_code_type"] for r in rows])[keep]
    return code, state, kind, lat[keep], lon[keep]


def zip_table(region: str | list[str] = "us") -> dict[str, np.ndarray]:
    """ZIP centroids of a region, with the sampling weight of each ZIP.

    Parameters
    ----------
    region : "us", "us-all" or list of str
        ``"us"``: the 48 contiguous states and DC; ``"us-all"``: every state and territory in the
        table; a list: those two-letter state codes.

    Returns
    -------
    dict with ``zip``, ``state``, ``lat``, ``lon`` (degrees), ``weight`` (relative chance of
    holding an account) and ``spacing_km`` (great-circle km to the nearest other ZIP centroid).
    """
    code, state, kind, lat, lon = _all_zips()
    if isinstance(region, str):
        if region == "us":
            keep = ~np.isin(state, list(_NOT_CONTIGUOUS))
        elif region == "us-all":
            keep = np.ones(state.size, dtype=bool)
        else:
            raise ValueError(f"unknown region {region!r}; use 'us', 'us-all' or a list of state codes")
    else:
        wanted = [s.upper() for s in region]
        unknown = sorted(set(wanted) - set(state.tolist()))
        if unknown:
            raise ValueError(f"unknown state codes {unknown}")
        keep = np.isin(state, wanted)
    weight = np.array([_TYPE_WEIGHT.get(t, 0.0) for t in kind[keep]])
    keep_idx = np.flatnonzero(keep)[weight > 0]
    weight = weight[weight > 0]
    lat, lon = lat[keep_idx], lon[keep_idx]
    if keep_idx.size < 2:
        raise ValueError("the region holds fewer than two ZIP centroids")
    tree = cKDTree(to_xyz(lat, lon))
    dist, _ = tree.query(to_xyz(lat, lon), k=2)
    spacing = 2 * EARTH_RADIUS_KM * np.arcsin(np.clip(dist[:, 1] / (2 * EARTH_RADIUS_KM), 0, 1))
    return {
        "zip": code[keep_idx],
        "state": state[keep_idx],
        "lat": lat,
        "lon": lon,
        "weight": weight / weight.sum(),
        "spacing_km": spacing,
    }


def _offset(lat, lon, north_km, east_km):
    """Move points by small north/east offsets in km (locally flat)."""
    dlat = np.degrees(north_km / EARTH_RADIUS_KM)
    dlon = np.degrees(east_km / (EARTH_RADIUS_KM * np.cos(np.radians(lat))))
    new_lat = np.clip(lat + dlat, -89.9, 89.9)
    new_lon = (lon + dlon + 180.0) % 360.0 - 180.0
    return new_lat, new_lon


def _potential_and_workload(rng: np.random.Generator, n: int, k: int) -> np.ndarray:
    return measures_of(rng, rng.lognormal(mean=np.log(20_000.0), sigma=1.2, size=n), k)


def measures_of(rng: np.random.Generator, potential: np.ndarray, k: int) -> np.ndarray:
    """Potential capped so that no account holds more than ``MAX_ACCOUNT_SHARE`` of a
    territory's share, and workload (hours per year) drawn from it: columns (potential, workload)."""
    # The cap moves the total a little, so iterate (two rounds are plenty).
    for _ in range(5):
        cap = MAX_ACCOUNT_SHARE * potential.sum() / k
        if potential.max() <= cap * (1 + 1e-12):
            break
        potential = np.minimum(potential, cap)
    potential = np.round(potential, 2)
    # Hours per year: sub-linear in potential with lognormal noise (correlation about 0.6-0.7).
    workload = 6.0 * (potential / 20_000.0) ** 0.6 * rng.lognormal(0.0, 0.45, size=potential.size)
    workload = np.round(workload, 1)
    return np.column_stack((potential, workload))


def _voronoi(xyz: np.ndarray, seeds_xyz: np.ndarray) -> np.ndarray:
    _, nearest = cKDTree(seeds_xyz).query(xyz, k=1)
    return nearest.astype(np.int64)


def _bisection(x: np.ndarray, y: np.ndarray, weight: np.ndarray, k: int) -> np.ndarray:
    """Recursive weighted bisection on planar km coordinates: k contiguous, balanced parts."""
    territory = np.empty(x.size, dtype=np.int64)
    stack = [(np.arange(x.size), 0, k)]
    while stack:
        idx, first, parts = stack.pop()
        if parts == 1 or idx.size == 0:
            territory[idx] = first
            continue
        left_parts = parts // 2
        xs, ys = x[idx], y[idx]
        axis = xs if np.ptp(xs) >= np.ptp(ys) else ys
        order = np.argsort(axis, kind="stable")
        cum = np.cumsum(weight[idx][order])
        cut = int(np.searchsorted(cum, cum[-1] * left_parts / parts))
        cut = min(max(cut, left_parts), idx.size - (parts - left_parts)) if idx.size >= parts else cut
        stack.append((idx[order[:cut]], first, left_parts))
        stack.append((idx[order[cut:]], first + left_parts, parts - left_parts))
    return territory


def _planar_km(lat: np.ndarray, lon: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Equirectangular projection around the mean latitude, km."""
    lat0 = np.radians(np.mean(lat))
    x = EARTH_RADIUS_KM * np.radians(lon) * np.cos(lat0)
    y = EARTH_RADIUS_KM * np.radians(lat)
    return x, y


def make_instance(
    n: int,
    k: int,
    *,
    seed: int,
    region: str | list[str] = "us",
    current: str | None = "unbalanced",
    with_bases: bool = False,
) -> Instance:
    """Draw a benchmark instance of ``n`` accounts for ``k`` territories.

    Parameters
    ----------
    n, k : int
        Accounts and territories (``1 <= k <= n``).
    seed : int
        Everything random comes from ``numpy.random.default_rng(seed)``.
    region : "us", "us-all" or list of str
        Where the accounts are; see :func:`zip_table`.
    current : "unbalanced", "balanced", "drifted" or None
        The current alignment to attach (see the module docstring). ``"drifted"``: a balanced
        alignment after a year of change: each territory's potential multiplied by a lognormal
        factor (sigma 0.2) and each account's by another (sigma 0.1).
    with_bases : bool
        Also place a rep home base for each territory: the ZIP centroid nearest the potential-
        weighted centre of the territory (of the current alignment, or of a balanced bisection
        when ``current`` is None).

    Returns
    -------
    Instance
    """
    if not 1 <= k <= n:
        raise ValueError(f"need 1 <= k <= n, got n={n}, k={k}")
    if current not in ("unbalanced", "balanced", "drifted", None):
        raise ValueError(f"current must be 'unbalanced', 'balanced', 'drifted' or None, got {current!r}")
    rng = np.random.default_rng(seed)
    zips = zip_table(region)
    pick = rng.choice(zips["zip"].size, size=n, p=zips["weight"])
    # Accounts sit around their ZIP centroid: spread a third of the distance to the nearest other
    # ZIP (between 0.3 and 8 km), so metros stay tight and rural ZIPs spread out.
    spread = np.clip(zips["spacing_km"][pick] / 3.0, 0.3, 8.0)
    north = rng.normal(0.0, 1.0, n) * spread
    east = rng.normal(0.0, 1.0, n) * spread
    lat, lon = _offset(zips["lat"][pick], zips["lon"][pick], north, east)
    lat = np.round(lat, 6)
    lon = np.round(lon, 6)
    measures = _potential_and_workload(rng, n, k)
    xyz = to_xyz(lat, lon)

    territory = None
    if current == "unbalanced":
        # Seeds drawn by account count, then a few Lloyd steps that ignore the measures: a
        # compact, plausible map whose metro territories hold far more than their share.
        seed_xyz = xyz[rng.choice(n, size=k, replace=False)]
        for step in range(_LLOYD_STEPS + 20):
            territory = _voronoi(xyz, seed_xyz)
            counts = np.bincount(territory, minlength=k)
            if step >= _LLOYD_STEPS and counts.all():
                break
            sums = np.zeros((k, 3))
            np.add.at(sums, territory, xyz)
            seed_xyz = np.where(counts[:, None] > 0, sums / np.maximum(counts, 1)[:, None], seed_xyz)
            empty = np.flatnonzero(counts == 0)
            if empty.size:  # reseed an empty cell at a random account
                seed_xyz[empty] = xyz[rng.choice(n, size=empty.size, replace=False)]
    elif current in ("balanced", "drifted"):
        x, y = _planar_km(lat, lon)
        territory = _bisection(x, y, measures[:, 0], k)
        if current == "drifted":
            # Last year's balanced map, this year's potential: each territory's potential
            # drifted by a lognormal factor (sigma 0.2), each account's by a little more.
            factor = rng.lognormal(0.0, 0.2, k)[territory] * rng.lognormal(0.0, 0.1, n)
            measures = measures.copy()
            measures[:, 0] = np.round(measures[:, 0] * factor, 2)

    bases = None
    if with_bases:
        shape = territory
        if shape is None:
            x, y = _planar_km(lat, lon)
            shape = _bisection(x, y, measures[:, 0], k)
        w = measures[:, 0]
        sums = np.zeros((k, 3))
        np.add.at(sums, shape, xyz * w[:, None])
        fallback = np.flatnonzero(~np.any(sums, axis=1))
        sums[fallback] = xyz[rng.choice(n, size=fallback.size)]
        zip_xyz = to_xyz(zips["lat"], zips["lon"])
        _, nearest = cKDTree(zip_xyz).query(sums / np.linalg.norm(sums, axis=1, keepdims=True)
                                            * EARTH_RADIUS_KM)
        bases = np.column_stack((zips["lat"][nearest], zips["lon"][nearest]))

    where = region if isinstance(region, str) else "+".join(region)
    description = (f"{n:,} accounts, {k:,} territories, {where}, current={current}, "
                   f"bases={'yes' if with_bases else 'no'}, seed={seed}")
    width = max(6, len(str(n)))
    account_id = np.char.add("A", np.char.zfill(np.arange(1, n + 1).astype(str), width))
    return Instance(
        lat=lat,
        lon=lon,
        measures=measures,
        names=("potential", "workload"),
        current=territory,
        bases=bases,
        account_id=account_id,
        zip=zips["zip"][pick],
        k=k,
        seed=seed,
        description=description,
    )


def territory_name(index: np.ndarray, k: int) -> np.ndarray:
    """Territory IDs as written to files: ``T001`` .. ``T{k}``."""
    width = max(3, len(str(k)))
    return np.char.add("T", np.char.zfill((np.asarray(index) + 1).astype(str), width))


def write_csv(instance: Instance, path: str | os.PathLike) -> Path:
    """Write the accounts as the command line reads them.

    Headers: Account ID, Latitude, Longitude, ZIP, Territory (omitted when there is no current
    alignment), Potential, Workload. ZIPs keep their leading zeros. The file is written to a
    temporary name and moved into place.
    """
    import pandas as pd

    path = Path(path)
    table = {
        "Account ID": instance.account_id,
        "Latitude": instance.lat,
        "Longitude": instance.lon,
        "ZIP": instance.zip,
    }
    if instance.current is not None:
        table["Territory"] = territory_name(instance.current, instance.k)
    for name, column in zip(instance.names, instance.measures.T):
        table[name.capitalize()] = column
    tmp = path.with_name(path.name + ".tmp")
    pd.DataFrame(table).to_csv(tmp, index=False, quoting=csv.QUOTE_MINIMAL)
    os.replace(tmp, path)
    return path
