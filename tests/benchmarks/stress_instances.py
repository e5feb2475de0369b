"""Stress instances: realistic maps built to break the rebalancer (issue 11, section 7).

Every scenario draws accounts around real ZIP centroids (the offline ``zipcodes`` table, as
``instances.make_instance`` does) and attaches a current alignment that a company could
really have, chosen for what it does to a rebalancer:

* ``metro``: every account goes to the nearest of ``k`` cities, the cities drawn by
  population. A city's population proxy is the number of STANDARD ZIPs carrying its name
  (the table has no population). One downtown (the largest city drawn) gets extra accounts
  around it (60% downtown, 40% in its suburbs, which reach as far as the nearest other city)
  until its territory holds 5-10 times its target (at most ``k / 2`` times); the suburbs
  overload its neighbours. One territory id (its city drawn, but left out of
  the nearest-city assignment) has no accounts at all.
* ``starved``: a whole region (four or five neighbouring states) where each account carries
  a sixth of the usual potential, cut into four times its share of territories: load must
  travel through several territories to reach the inner ones.
* ``empty``: a compact current alignment (Voronoi cells after Lloyd steps) of fewer
  territories than asked for: ``max(2, k // 10)`` territory ids have no accounts.
* ``bases``: ``metro`` with a rep home base at every territory's city (the empty territory's
  too) and the largest 0.5% of accounts (by potential, at least one) locked.
* ``duplicates``: thousands of accounts (a tenth of them below 20,000 accounts) exactly at
  one ZIP centroid of a large city, as ZIP-level geocoding leaves them, and a tenth of the
  accounts in groups of 2-50 exact duplicates of another account's coordinates.
* ``islands``: accounts in Alaska, Hawaii and Puerto Rico (each 0.3-1.6 territories' worth
  of accounts, at most a tenth of them) beside the mainland.
* ``hand``: a small regional map (two or three states, 100-500 accounts, 5 territories)
  drawn by hand and messy: two territories with a detached piece, an enclave, and the
  region's largest city given to the territory farthest from it.

Measures are those of ``instances.make_instance`` (potential lognormal with median 20,000 a
year, capped at ``MAX_ACCOUNT_SHARE`` of a territory's share; workload correlated with it).
The instance's ``extra`` holds ``scenario``, ``locked`` (bool array or None), ``empty``
(territory ids without accounts), ``cities`` ((k, 2) lat/lon of the seed cities, metro and
bases) and ``downtown`` (the overloaded territory, metro and bases).

Nothing here is an engine module: it is benchmark support code.
"""

from __future__ import annotations

import csv
import os
from functools import lru_cache
from pathlib import Path

import numpy as np
from scipy.spatial import cKDTree

from instances import FULL_SHEET_ROWS, Instance, measures_of, territory_name, zip_table
from territory_engine.geo import EARTH_RADIUS_KM, haversine_km, to_xyz

__all__ = [
    "HAND_SIZES",
    "SCENARIOS",
    "STRESS_SIZES",
    "city_table",
    "make_stress",
    "stress_k",
    "write_stress_csv",
]

SCENARIOS = ("metro", "starved", "empty", "bases", "duplicates", "islands", "hand")
"""Scenario names, in the order the benchmark prints them."""

STRESS_SIZES = (200, 1_000, 10_000, 100_000, FULL_SHEET_ROWS)
"""Account counts of every scenario but ``hand``."""

HAND_SIZES = (100, 200, 500)
"""Account counts of the ``hand`` scenario (always 5 territories)."""

STARVED_REGIONS = (
    ("MT", "WY", "ID", "ND", "SD"),
    ("WV", "KY", "TN", "VA"),
    ("MS", "AL", "AR", "LA"),
    ("NE", "KS", "OK", "IA"),
    ("ME", "NH", "VT", "NY"),
    ("NM", "AZ", "UT", "NV"),
)
"""Regions a ``starved`` instance picks from (by seed)."""

HAND_REGIONS = (("TX", "OK"), ("CO", "NM", "UT"), ("GA", "AL", "SC"), ("OH", "IN", "KY"),
                ("NY", "PA", "NJ"), ("CA", "NV"))
"""Regions a ``hand`` instance picks from (by seed; the first is the issue's Texas+Oklahoma)."""

STARVED_POTENTIAL = 1 / 6  # potential per account in the starved region, relative to elsewhere
STARVED_TERRITORIES = 4.0  # territories in the starved region, relative to its share of accounts
METRO_DOWNTOWN = 0.6  # metro: share of the extra accounts downtown (the rest in the suburbs)
LOCKED_SHARE = 0.005  # bases: the largest 0.5% of accounts are locked


def stress_k(n: int) -> int:
    """Territories for ``n`` accounts: about ``n / 1,000``, at least 5; 1,000 for the full sheet."""
    return 1_000 if n >= FULL_SHEET_ROWS else max(5, round(n / 1_000))


@lru_cache(maxsize=8)
def city_table(region: str | tuple[str, ...] = "us") -> dict[str, np.ndarray]:
    """Cities of a region with a population proxy.

    A city is a (state, city name) pair of the ``zipcodes`` table; its weight is the number of
    STANDARD ZIPs carrying that name, its position their mean centroid (degrees).

    Returns
    -------
    dict with ``name``, ``lat``, ``lon`` and ``weight`` (ZIP count), largest first.
    """
    import zipcodes

    zips = zip_table(region if isinstance(region, str) else list(region))
    standard = set(zips["zip"].tolist())
    sums: dict[tuple[str, str], list[float]] = {}
    for row in zipcodes.list_all():
        if row["zip_code"] in standard and row["zip_code_type"] == "STANDARD":
            acc = sums.setdefault((row["state"], row["city"]), [0.0, 0.0, 0.0])
            acc[0] += float(row["lat"])
            acc[1] += float(row["long"])
            acc[2] += 1.0
    keys = sorted(sums, key=lambda key: (-sums[key][2], key))
    count = np.array([sums[key][2] for key in keys])
    return {
        "name": np.array([f"{city}, {state}" for state, city in keys]),
        "lat": np.array([sums[key][0] for key in keys]) / count,
        "lon": np.array([sums[key][1] for key in keys]) / count,
        "weight": count,
    }


# --------------------------------------------------------------------------------------
# Drawing accounts and measures
# --------------------------------------------------------------------------------------


def _offset(lat, lon, north_km, east_km):
    """Move points by small north/east offsets in km (locally flat)."""
    new_lat = np.clip(lat + np.degrees(north_km / EARTH_RADIUS_KM), -89.9, 89.9)
    dlon = np.degrees(east_km / (EARTH_RADIUS_KM * np.cos(np.radians(new_lat))))
    return new_lat, (lon + dlon + 180.0) % 360.0 - 180.0


def _draw_accounts(rng, zips, n):
    """``n`` accounts around ZIP centroids drawn by weight, jittered by a third of the ZIP
    spacing (0.3-8 km): lat, lon (degrees, 6 decimals), ZIP and state."""
    pick = rng.choice(zips["zip"].size, size=n, p=zips["weight"])
    spread = np.clip(zips["spacing_km"][pick] / 3.0, 0.3, 8.0)
    north, east = rng.normal(0.0, 1.0, (2, n)) * spread
    lat, lon = _offset(zips["lat"][pick], zips["lon"][pick], north, east)
    return np.round(lat, 6), np.round(lon, 6), zips["zip"][pick], zips["state"][pick]


def _nearest_zip(zips, lat, lon):
    _, near = cKDTree(to_xyz(zips["lat"], zips["lon"])).query(to_xyz(lat, lon))
    return zips["zip"][near]


def _potential(rng, n):
    return rng.lognormal(mean=np.log(20_000.0), sigma=1.2, size=n)


def _voronoi_lloyd(rng, lat, lon, k, steps=3):
    """Nearest-seed cells of ``k`` seeds drawn among the distinct positions by account
    count, after ``steps`` Lloyd steps; an emptied cell is reseeded at an unused position."""
    xyz = to_xyz(lat, lon)
    points, inverse, count = np.unique(np.round(xyz, 6), axis=0, return_inverse=True, return_counts=True)
    inverse = inverse.ravel()
    k = min(k, len(points))
    seeds = points[rng.choice(len(points), size=k, replace=False, p=count / count.sum())]
    for step in range(steps + 20):
        _, cell = cKDTree(seeds).query(points)
        sizes = np.bincount(cell, count, minlength=k)
        if step >= steps and sizes.all():
            break
        sums = np.zeros((k, 3))
        np.add.at(sums, cell, points * count[:, None])
        seeds = np.where(sizes[:, None] > 0, sums / np.maximum(sizes, 1)[:, None], seeds)
        empty = np.flatnonzero(sizes == 0)
        seeds[empty] = points[rng.choice(len(points), size=empty.size, replace=False)]
    return cell[inverse].astype(np.int64)


def _nearest(lat, lon, to_lat, to_lon):
    _, near = cKDTree(to_xyz(to_lat, to_lon)).query(to_xyz(lat, lon))
    return near.astype(np.int64)


# --------------------------------------------------------------------------------------
# Scenarios
# --------------------------------------------------------------------------------------


def _metro(rng, n, k):
    """Nearest-city alignment with one downtown at 5-10x its target (see the module docstring)."""
    zips, cities = zip_table("us"), city_table("us")
    chosen = rng.choice(cities["weight"].size, size=k, replace=False, p=cities["weight"] / cities["weight"].sum())
    c_lat, c_lon = cities["lat"][chosen], cities["lon"][chosen]
    empty = int(rng.integers(k))
    active = np.delete(np.arange(k), empty)
    downtown = int(active[np.argmax(cities["weight"][chosen][active])])
    others = active[active != downtown]
    spacing = float(haversine_km(c_lat[downtown], c_lon[downtown], c_lat[others], c_lon[others]).min()) \
        if others.size else 200.0
    # Downtown accounts: 60% within about a third of the way to the nearest other city, the rest
    # (suburbs) as far as that city, where they overload the neighbouring territories.
    sigma = np.where(rng.random(n) < METRO_DOWNTOWN, 0.35, 1.0) * float(np.clip(spacing, 6.0, 170.0))
    b_lat, b_lon, b_zip, _ = _draw_accounts(rng, zips, n)
    north, east = rng.normal(0.0, 1.0, (2, n)) * sigma
    m_lat, m_lon = _offset(np.full(n, c_lat[downtown]), np.full(n, c_lon[downtown]), north, east)
    m_lat, m_lon = np.round(m_lat, 6), np.round(m_lon, 6)
    b_near = active[_nearest(b_lat, b_lon, c_lat[active], c_lon[active])]
    m_near = active[_nearest(m_lat, m_lon, c_lat[active], c_lon[active])]
    b_pot, m_pot = _potential(rng, n), _potential(rng, n)
    # Accounts 0..n-m-1 are base accounts, the last m the downtown's extra accounts: find the
    # least m whose downtown load reaches the aim (3% above it, for the cap applied later).
    aim = min(rng.uniform(5.0, 10.0), k / 2) * 1.03
    b_cum = np.r_[0.0, np.cumsum(b_pot)]
    b_own = np.r_[0.0, np.cumsum(b_pot * (b_near == downtown))]
    m_cum = np.r_[0.0, np.cumsum(m_pot)]
    m_own = np.r_[0.0, np.cumsum(m_pot * (m_near == downtown))]
    m = np.arange(n + 1)
    ratio = (b_own[n - m] + m_own[m]) / ((b_cum[n - m] + m_cum[m]) / k)
    reach = np.flatnonzero(ratio >= aim)
    extra = int(reach[0]) if reach.size else int(np.argmax(ratio))
    lat = np.r_[b_lat[: n - extra], m_lat[:extra]]
    lon = np.r_[b_lon[: n - extra], m_lon[:extra]]
    zip_code = np.r_[b_zip[: n - extra], _nearest_zip(zips, m_lat[:extra], m_lon[:extra])]
    current = np.r_[b_near[: n - extra], m_near[:extra]]
    potential = np.r_[b_pot[: n - extra], m_pot[:extra]]
    extra_fields = {"cities": np.column_stack((c_lat, c_lon)), "city_names": cities["name"][chosen],
                    "empty": (empty,), "downtown": downtown}
    return lat, lon, zip_code, potential, current, extra_fields


def _starved(rng, n, k):
    zips = zip_table("us")
    region = STARVED_REGIONS[int(rng.integers(len(STARVED_REGIONS)))]
    lat, lon, zip_code, state = _draw_accounts(rng, zips, n)
    inside = np.isin(state, region)
    potential = _potential(rng, n) * np.where(inside, STARVED_POTENTIAL, 1.0)
    k_in = int(np.clip(round(STARVED_TERRITORIES * inside.mean() * k), 1, max(1, min(k // 2, inside.sum()))))
    if inside.sum() == 0:
        k_in = 0
    current = np.empty(n, dtype=np.int64)
    if k_in:
        current[inside] = _voronoi_lloyd(rng, lat[inside], lon[inside], k_in)
    current[~inside] = k_in + _voronoi_lloyd(rng, lat[~inside], lon[~inside], k - k_in)
    return lat, lon, zip_code, potential, current, {"region": region, "starved_territories": k_in, "empty": ()}


def _empty(rng, n, k):
    lat, lon, zip_code, _ = _draw_accounts(rng, zip_table("us"), n)
    empties = max(2, k // 10)
    used = np.sort(rng.choice(k, size=k - empties, replace=False))
    current = used[_voronoi_lloyd(rng, lat, lon, k - empties)]
    return lat, lon, zip_code, _potential(rng, n), current, {"empty": tuple(np.setdiff1d(np.arange(k), used).tolist())}


def _duplicates(rng, n, k):
    zips, cities = zip_table("us"), city_table("us")
    lat, lon, zip_code, _ = _draw_accounts(rng, zips, n)
    at_point = n // 10 if n < 20_000 else int(rng.integers(2_000, 5_001))
    city = int(rng.integers(10))  # a ZIP within 15 km of one of the ten largest cities
    candidates = np.flatnonzero(haversine_km(zips["lat"], zips["lon"], cities["lat"][city], cities["lon"][city]) < 15)
    z = int(rng.choice(candidates)) if candidates.size else int(np.argmax(zips["weight"]))
    lat[:at_point], lon[:at_point], zip_code[:at_point] = zips["lat"][z], zips["lon"][z], zips["zip"][z]
    # Groups of 2-50 exact duplicates of another account's coordinates (and ZIP).
    start, stop = at_point, min(n, at_point + max(2, n // 10))
    while start < stop - 1:
        size = min(int(rng.integers(2, 51)), stop - start)
        source = int(rng.integers(stop, n)) if stop < n else start
        lat[start:start + size], lon[start:start + size] = lat[source], lon[source]
        zip_code[start:start + size] = zip_code[source]
        start += size
    current = _voronoi_lloyd(rng, lat, lon, k)
    return lat, lon, zip_code, _potential(rng, n), current, {"empty": (), "at_one_point": at_point,
                                                               "point_zip": str(zips["zip"][z])}


def _islands(rng, n, k):
    counts = {}
    for state in ("AK", "HI", "PR"):
        counts[state] = int(np.clip(round(rng.uniform(0.3, 1.6) * n / k), 3, max(3, n // 10)))
    parts = [_draw_accounts(rng, zip_table("us"), n - sum(counts.values()))]
    parts += [_draw_accounts(rng, zip_table([state]), count) for state, count in counts.items()]
    lat, lon, zip_code, _ = (np.concatenate(column) for column in zip(*parts))
    current = _voronoi_lloyd(rng, lat, lon, k)
    return lat, lon, zip_code, _potential(rng, n), current, {"empty": (), "island_accounts": counts}


def _take_around(lat, lon, index, count):
    """The ``count`` accounts nearest account ``index`` (itself included)."""
    _, near = cKDTree(to_xyz(lat, lon)).query(to_xyz(lat[index:index + 1], lon[index:index + 1]), k=count)
    return np.atleast_1d(near.ravel())


def _hand(rng, n, k):
    """A messy regional map (see the module docstring)."""
    region = HAND_REGIONS[int(rng.integers(len(HAND_REGIONS)))]
    lat, lon, zip_code, _ = _draw_accounts(rng, zip_table(list(region)), n)
    current = _voronoi_lloyd(rng, lat, lon, k, steps=2)
    mean_lat = np.bincount(current, lat, minlength=k) / np.maximum(np.bincount(current, minlength=k), 1)
    mean_lon = np.bincount(current, lon, minlength=k) / np.maximum(np.bincount(current, minlength=k), 1)
    piece = max(3, n // 20)
    # Two territories get a detached piece far from their centre.
    detached = []
    for t in rng.choice(k, size=min(2, k), replace=False):
        far = haversine_km(lat, lon, mean_lat[t], mean_lon[t])
        far[current == t] = -1.0
        chosen = _take_around(lat, lon, int(np.argmax(far)), piece)
        current[chosen] = t
        detached.append(int(t))
    # An enclave: the accounts around one territory's most central account go to another.
    a = int(rng.integers(k))
    own = np.flatnonzero(current == a)
    if own.size:
        centre = own[np.argmin(haversine_km(lat[own], lon[own], mean_lat[a], mean_lon[a]))]
        current[_take_around(lat, lon, int(centre), max(3, n // 25))] = (a + 1 + int(rng.integers(k - 1))) % k
    # The region's largest city goes to the territory whose centre is farthest from it.
    cities = city_table(tuple(region))
    city_lat, city_lon = cities["lat"][0], cities["lon"][0]
    in_city = np.flatnonzero(haversine_km(lat, lon, city_lat, city_lon) <= 25.0)
    if in_city.size < 3:
        in_city = _take_around(lat, lon, int(np.argmin(haversine_km(lat, lon, city_lat, city_lon))), 3)
    far_t = int(np.argmax(haversine_km(mean_lat, mean_lon, city_lat, city_lon)))
    current[in_city] = far_t
    extra = {"region": region, "detached": tuple(detached), "city": str(cities["name"][0]),
             "city_accounts": in_city, "city_territory": far_t,
             "empty": tuple(np.setdiff1d(np.arange(k), current).tolist())}
    return lat, lon, zip_code, _potential(rng, n), current, extra


_SCENARIO_FUNCTIONS = {"metro": _metro, "starved": _starved, "empty": _empty, "bases": _metro,
                       "duplicates": _duplicates, "islands": _islands, "hand": _hand}


def make_stress(scenario: str, n: int, k: int, *, seed: int) -> Instance:
    """Draw a stress instance of ``n`` accounts for ``k`` territories.

    Parameters
    ----------
    scenario : str
        One of :data:`SCENARIOS` (see the module docstring).
    n, k : int
        Accounts and territories (``5 <= k <= n``; ``hand`` takes 100-500 accounts).
    seed : int
        Everything random comes from ``numpy.random.default_rng(seed)``.

    Returns
    -------
    Instance
        As ``instances.make_instance`` returns, with ``extra["locked"]`` (bool array or None)
        and the scenario's own facts in ``extra``.
    """
    if scenario not in _SCENARIO_FUNCTIONS:
        raise ValueError(f"unknown scenario {scenario!r}; use one of {', '.join(SCENARIOS)}")
    if not 5 <= k <= n:
        raise ValueError(f"need 5 <= k <= n, got n={n}, k={k}")
    rng = np.random.default_rng(seed)
    lat, lon, zip_code, potential, current, extra = _SCENARIO_FUNCTIONS[scenario](rng, n, k)
    measures = measures_of(rng, potential, k)
    bases = locked = None
    if scenario == "bases":
        bases = extra["cities"]
        locked = np.zeros(n, dtype=bool)
        locked[np.argsort(-measures[:, 0], kind="stable")[: max(1, int(np.ceil(LOCKED_SHARE * n)))]] = True
    extra.update(scenario=scenario, locked=locked)
    width = max(6, len(str(n)))
    return Instance(
        lat=lat, lon=lon, measures=measures, names=("potential", "workload"), current=current,
        bases=bases, account_id=np.char.add("A", np.char.zfill(np.arange(1, n + 1).astype(str), width)),
        zip=zip_code, k=k, seed=seed,
        description=f"stress {scenario}: {n:,} accounts, {k:,} territories, seed={seed}", extra=extra,
    )


def write_stress_csv(instance: Instance, path: str | os.PathLike, bases_path=None) -> Path:
    """Write the accounts as the command line reads them (``instances.write_csv``'s columns,
    plus ``Locked`` when some are locked); with ``bases_path``, also the rep bases CSV
    (territory, lat, lon) that ``--bases`` reads. Files are written to a temporary name and
    moved into place."""
    import pandas as pd

    path = Path(path)
    table = {"Account ID": instance.account_id, "Latitude": instance.lat, "Longitude": instance.lon,
             "ZIP": instance.zip, "Territory": territory_name(instance.current, instance.k)}
    for name, column in zip(instance.names, instance.measures.T):
        table[name.capitalize()] = column
    locked = instance.extra.get("locked")
    if locked is not None:
        table["Locked"] = np.where(locked, "yes", "no")
    tmp = path.with_name(path.name + ".tmp")
    pd.DataFrame(table).to_csv(tmp, index=False, quoting=csv.QUOTE_MINIMAL)
    os.replace(tmp, path)
    if bases_path is not None and instance.bases is not None:
        bases_path = Path(bases_path)
        tmp = bases_path.with_name(bases_path.name + ".tmp")
        pd.DataFrame({"Territory": territory_name(np.arange(instance.k), instance.k),
                      "Latitude": instance.bases[:, 0], "Longitude": instance.bases[:, 1]}).to_csv(tmp, index=False)
        os.replace(tmp, bases_path)
    return path
