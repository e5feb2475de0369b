"""Territory areas: the Voronoi cells of the accounts dissolved per territory, clipped to land.

Every account owns the part of the plane nearer to it than to any other account (its
Voronoi cell; Voronoi 1908, computed by GEOS through shapely's ``voronoi_polygons``). The
cells of a territory's accounts are merged into that territory's area
(``coverage_union_all``). When most accounts are on US land, the cells are computed state by
state, among the accounts of each state only, and clipped to that state's outline
(``data/us_states.geojson``): an area crosses a state line only where its territory has
accounts on both sides, and the states with accounts are covered to their coasts and borders
without gaps (the accounts off US land share the accounts' outline outside the states).
Otherwise the cells are clipped to a margin around the accounts. Cells partition each state,
so the areas neither overlap nor leave gaps between neighbours. Simplification treats the
areas as one coverage (``coverage_simplify``), so shared borders stay shared.

Distances are planar in an equirectangular projection centred on the accounts' mean
latitude (x = longitude x cos(mean latitude), y = latitude): exact enough for drawing, and
far faster than spherical Voronoi diagrams.

Shapely is imported inside the functions: the maps are an edge, not the engine.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

__all__ = ["StateOutline", "AccountCells", "state_outlines", "land_outline", "account_groups", "account_cells",
           "territory_areas", "clip_outline", "STATE_SNAP_DEG"]

DATA = Path(__file__).resolve().parent / "data"
"""Folder of the shipped outline files."""

LAND_SHARE = 0.5
"""Clip to the US land outline only when at least this share of the accounts lies on it."""


@dataclass(frozen=True)
class StateOutline:
    """One US state: its postal code, name and simplified shape (lon/lat degrees)."""

    code: str
    name: str
    shape: object


@lru_cache(maxsize=1)
def state_outlines() -> tuple[StateOutline, ...]:
    """The 50 states and DC, simplified to about 1 km (US Census Bureau, public domain)."""
    import shapely

    doc = json.loads((DATA / "us_states.geojson").read_text(encoding="utf-8"))
    return tuple(StateOutline(f["properties"]["code"], f["properties"]["name"],
                              shapely.from_geojson(json.dumps(f["geometry"])))
                 for f in doc["features"])


@lru_cache(maxsize=1)
def land_outline():
    """The union of the 50 states and DC as one shapely geometry (lon/lat degrees)."""
    import shapely

    doc = json.loads((DATA / "us_land.geojson").read_text(encoding="utf-8"))
    land = shapely.from_geojson(json.dumps(doc["features"][0]["geometry"]))
    shapely.prepare(land)
    return land


def _projection(lat: np.ndarray) -> float:
    """Scale of longitude for the equirectangular projection: cos(mean latitude)."""
    return float(np.cos(np.radians(np.clip(np.nanmean(lat), -80, 80)))) if len(lat) else 1.0


def clip_outline(lat, lon, *, margin_deg: float | None = None):
    """The area territory areas are clipped to, in lon/lat degrees, and whether it is land.

    Parameters
    ----------
    lat, lon : array_like
        Account coordinates, degrees.
    margin_deg : float, optional
        Margin around the convex hull of the accounts, degrees of latitude. Default: 4% of
        the accounts' extent, at least 0.2 degrees (about 22 km).

    Returns
    -------
    shape : shapely geometry
        The US land within the margin of the accounts' hull when at least half of the
        accounts are on US land, else the hull with its margin.
    on_land : bool
        Which of the two it is.
    """
    import shapely

    lat = np.asarray(lat, dtype=float)
    lon = np.asarray(lon, dtype=float)
    extent = float(np.hypot(np.ptp(lat), np.ptp(lon))) if len(lat) else 0.0
    margin = margin_deg if margin_deg is not None else max(0.2, 0.04 * extent)
    hull = _outline_of_accounts(lat, lon, extent).buffer(margin, quad_segs=4)
    land = land_outline()
    on_land = shapely.contains_xy(land, lon, lat).mean() >= LAND_SHARE if len(lat) else False
    if not on_land:
        return hull, False
    return shapely.intersection(land, hull), True


STATE_SNAP_DEG = 0.25
"""An account this close to a state (degrees, about 25 km) but outside its simplified outline (on
the coast, on a pier, on an island the outline drops) counts as in that state; farther accounts
are off US land and share the rest of the outline."""


@dataclass(frozen=True)
class AccountCells:
    """The Voronoi cells of a set of accounts, shared by every alignment of those accounts.

    ``cells[j]`` is the cell of the ``j``-th distinct place (projected x, y), computed among the
    places of its own group only; ``first[j]`` is the first account at that place and
    ``group[j]`` its group, an index into ``clips``: one group per US state with accounts
    (clipped to that state) and one for the accounts off US land (clipped to the accounts'
    outline outside the states), or a single group when the accounts are not mostly on US land
    or a ``clip`` was given. ``scale`` is the projection's cos(mean latitude); ``clip`` the union
    of ``clips``.
    """

    cells: np.ndarray
    first: np.ndarray
    scale: float
    clip: object
    lat: np.ndarray
    lon: np.ndarray
    group: np.ndarray
    clips: tuple


@lru_cache(maxsize=1)
def _states_union():
    import shapely

    union = shapely.union_all([s.shape for s in state_outlines()])
    shapely.prepare(union)
    return union


def account_groups(lat: np.ndarray, lon: np.ndarray, clip=None) -> tuple[np.ndarray, tuple]:
    """Each account's group and each group's clip outline (lon/lat degrees); see :class:`AccountCells`.

    The rule that keeps territory areas inside state lines: an account belongs to the state it
    lies in (or to the nearest within :data:`STATE_SNAP_DEG`), and its cell is computed and
    clipped within that state, so an area reaches into a state only where its territory has
    accounts, and covers the states with accounts up to their coasts and borders, without gaps.
    """
    import shapely

    n = len(lat)
    if clip is not None:
        return np.zeros(n, dtype=np.int64), (clip,)
    outline, on_land = clip_outline(lat, lon)
    if not on_land:
        return np.zeros(n, dtype=np.int64), (outline,)
    states = state_outlines()
    tree = shapely.STRtree([s.shape for s in states])
    points = shapely.points(lon, lat)
    state = np.full(n, -1, dtype=np.int64)
    hit_point, hit_state = tree.query(points, predicate="within")
    state[hit_point[::-1]] = hit_state[::-1]  # the first state when outlines touch
    loose = np.flatnonzero(state < 0)
    if len(loose):
        near_point, near_state = tree.query_nearest(points[loose], max_distance=STATE_SNAP_DEG, all_matches=False)
        state[loose[near_point]] = near_state
    used = np.unique(state[state >= 0])
    clips = [states[i].shape for i in used]
    group = np.searchsorted(used, state)
    if (state < 0).any():
        extent = float(np.hypot(np.ptp(lat), np.ptp(lon)))
        hull = _outline_of_accounts(lat, lon, extent).buffer(max(0.2, 0.04 * extent), quad_segs=4)
        clips.append(shapely.difference(hull, _states_union()))
        group[state < 0] = len(clips) - 1
    return group.astype(np.int64), tuple(clips)


def account_cells(lat, lon, *, clip=None, resolution: float = 1e-5, keys=None) -> AccountCells:
    """The Voronoi cells of the accounts (lat/lon degrees), per group (see :func:`account_groups`).

    Accounts with non-finite coordinates get no cell. Accounts at the same place, to
    ``resolution`` degrees, share one cell (the first account's) unless their ``keys`` differ
    (an (n, m) integer array, such as each account's territory in every alignment drawn): a
    snapshot passes about half a pixel, which leaves far fewer cells to compute, and passes the
    territories as keys, so an account's enclave keeps its own cell. ``clip`` (one outline for
    all accounts) defaults to the state rule of :func:`account_groups`.
    """
    import shapely

    lat = np.asarray(lat, dtype=float)
    lon = np.asarray(lon, dtype=float)
    finite = np.flatnonzero(np.isfinite(lat) & np.isfinite(lon))
    group, clips = account_groups(lat[finite], lon[finite], clip)
    whole = clips[0] if len(clips) == 1 else shapely.union_all(clips)
    if len(finite) == 0:
        return AccountCells(np.empty(0, dtype=object), np.empty(0, dtype=int), 1.0, whole, lat, lon,
                            np.empty(0, dtype=int), clips)
    scale = _projection(lat[finite])
    points = np.column_stack((lon[finite] * scale, lat[finite]))
    extra = np.zeros((len(finite), 0), dtype=np.int64) if keys is None else \
        np.asarray(keys, dtype=np.int64).reshape(len(lat), -1)[finite]
    # One cell per place: the first account of each grid square of side ``resolution`` (and keys), at
    # its own coordinates (lattice points would make a degenerate, cocircular diagram); then one per
    # exact point, since GEOS merges equal points.
    grid = np.round(points / resolution).astype(np.int64)
    _, first = np.unique(np.column_stack((group, grid, extra)), axis=0, return_index=True)
    _, exact = np.unique(np.column_stack((group[first], np.round(points[first] / 1e-9).astype(np.int64))),
                         axis=0, return_index=True)
    first = np.sort(first[exact])
    cells = np.empty(len(first), dtype=object)
    for g, outline in enumerate(clips):
        mine = np.flatnonzero(group[first] == g)
        if len(mine):
            cells[mine] = _cells(points[first[mine]], outline, scale)
    return AccountCells(cells, finite[first], scale, whole, lat, lon, group[first], clips)


def _cells(unique: np.ndarray, clip, scale: float) -> np.ndarray:
    """The Voronoi cells of distinct projected points, extended to cover ``clip`` (degrees)."""
    import shapely

    west, south, east, north = clip.bounds if not clip.is_empty else (np.inf, np.inf, -np.inf, -np.inf)
    low = np.minimum(unique.min(axis=0), [west * scale, south])
    high = np.maximum(unique.max(axis=0), [east * scale, north])
    pad = max(float((high - low).max()), 1.0)
    envelope = shapely.box(*(low - pad), *(high + pad))
    if len(unique) == 1:
        return np.array([envelope], dtype=object)
    if len(unique) == 2:
        return _two_cells(unique, envelope)
    return shapely.get_parts(shapely.voronoi_polygons(shapely.multipoints(unique), extend_to=envelope,
                                                      ordered=True))


def territory_areas(lat, lon, territory, k: int, *, clip=None, simplify: float | None = None,
                    cells: AccountCells | None = None) -> list:
    """One area per territory: its accounts' Voronoi cells, merged, clipped and simplified.

    Parameters
    ----------
    lat, lon : array_like of float, shape (n,)
        Account coordinates, degrees.
    territory : array_like of int, shape (n,)
        Each account's territory index in ``0..k-1``; -1 for none (its cell stays empty).
    k : int
        Number of territories.
    clip : shapely geometry, optional
        One outline to clip to (lon/lat degrees). Default: the state rule of
        :func:`account_groups` (each state with accounts, split among its own accounts).
    simplify : float, optional
        Simplification tolerance in degrees of latitude. Default: 1/1500 of the extent of
        the accounts.
    cells : AccountCells, optional
        The cells of these accounts from :func:`account_cells`, to share them between
        alignments (then ``clip`` is the cells' own).

    Returns
    -------
    list of shapely geometry or None, length k
        Polygon or MultiPolygon per territory (lon/lat degrees); None for a territory
        without accounts. Areas never overlap and share their borders exactly.

    Notes
    -----
    Accounts at the same place (to 1e-5 degrees) share one cell, which goes to the first
    of them. A territory whose cells all fall outside the clip outline (accounts off the
    coast) keeps its cells within the accounts' hull instead, so every territory with
    accounts has an area.
    """
    import shapely

    territory = np.asarray(territory, dtype=int)
    areas: list = [None] * k
    if cells is None:
        cells = account_cells(lat, lon, clip=clip)
    lat, lon, scale = cells.lat, cells.lon, cells.scale
    owner = territory[cells.first]
    if not (owner >= 0).any():
        return areas
    ok = (territory >= 0) & np.isfinite(lat) & np.isfinite(lon)
    lat, lon = lat[ok], lon[ok]
    pieces: list[list] = [[] for _ in range(k)]
    hull = None
    for g, outline in enumerate(cells.clips):
        mine = np.flatnonzero((cells.group == g) & (owner >= 0))
        if not len(mine):
            continue
        order = mine[np.argsort(owner[mine], kind="stable")]
        bounds = np.searchsorted(owner[order], np.arange(k + 1))
        present = [t for t in range(k) if bounds[t + 1] > bounds[t]]
        merged = np.array([_dissolve(cells.cells[order[bounds[t]:bounds[t + 1]]]) for t in present], dtype=object)
        # Back to degrees, then clip: the clip outline is in degrees.
        merged = shapely.transform(merged, lambda xy: xy / np.array([scale, 1.0]))
        clipped = shapely.intersection(merged, outline)
        for i in np.flatnonzero(shapely.is_empty(clipped) | (shapely.area(clipped) <= 0)):
            if hull is None:
                hull = shapely.multipoints(np.column_stack((lon, lat))).convex_hull.buffer(0.2, quad_segs=4)
            clipped[i] = shapely.intersection(merged[i], hull)
        for t, shape in zip(present, clipped):
            pieces[t].append(_polygonal(shape))
    present = [t for t in range(k) if pieces[t]]
    joined = np.array([p[0] if len(p) == 1 else _polygonal(shapely.union_all(p)) for p in
                       (pieces[t] for t in present)], dtype=object)
    extent = float(np.hypot(np.ptp(lat), np.ptp(lon)))
    tolerance = simplify if simplify is not None else max(extent / 1500, 1e-4)
    try:
        simple = shapely.coverage_simplify(joined, tolerance)
    except shapely.errors.GEOSException:  # pragma: no cover - an invalid coverage after clipping
        simple = shapely.simplify(joined, tolerance, preserve_topology=True)
    simple = shapely.make_valid(simple)
    for t, shape in zip(present, simple):
        shape = _polygonal(shape)
        areas[t] = shape if not shape.is_empty else None
    return areas


CONCAVITY = 0.2
"""``ratio`` of shapely's ``concave_hull`` for the accounts' outline (1 is the convex hull)."""


def _outline_of_accounts(lat: np.ndarray, lon: np.ndarray, extent: float):
    """A concave hull of the accounts (one point per square of 1/200 of their extent).

    Tighter than the convex hull where the accounts leave a bay (the hull of accounts from
    Maine to Virginia would take in Ohio); it still contains every account.
    """
    import shapely

    if len(lat) < 4 or extent <= 0:
        return _hull(lat, lon)
    step = extent / 200
    points = np.column_stack((lon, lat))
    _, first = np.unique(np.round(points / step).astype(np.int64), axis=0, return_index=True)
    outline = shapely.concave_hull(shapely.multipoints(points[first]), ratio=CONCAVITY)
    if outline.geom_type != "Polygon":
        return _hull(lat, lon)
    # Accounts dropped by the thinning may lie just outside: the margin (at least one step) covers them.
    return outline.buffer(step, quad_segs=2)


def _hull(lat: np.ndarray, lon: np.ndarray):
    """Convex hull of the accounts as a shapely geometry (scipy's Quickhull; lon/lat degrees)."""
    import shapely
    from scipy.spatial import ConvexHull, QhullError

    points = np.unique(np.column_stack((lon, lat)), axis=0)
    if len(points) >= 3:
        try:
            return shapely.Polygon(points[ConvexHull(points).vertices])
        except QhullError:  # all on one line
            pass
    return shapely.multipoints(points).convex_hull


def _dissolve(cells: np.ndarray):
    """The union of adjacent Voronoi cells: the fast coverage union, else the general one.

    GEOS builds the cells of a diagram with shared edges, but near-coincident vertices can
    leave a coverage that ``coverage_union_all`` refuses as incorrectly noded.
    """
    import shapely

    try:
        return shapely.coverage_union_all(cells)
    except shapely.errors.GEOSException:
        return shapely.union_all(shapely.make_valid(cells))


def _two_cells(points: np.ndarray, envelope):
    """The two half-planes of two points (GEOS needs three points for a diagram)."""
    import shapely

    middle = points.mean(axis=0)
    normal = points[1] - points[0]
    direction = np.array([-normal[1], normal[0]])
    far = 1e3 * direction / np.linalg.norm(direction)
    back = -1e3 * normal / np.linalg.norm(normal)
    half = shapely.Polygon([middle + far, middle + far + back, middle - far + back, middle - far])
    first = envelope.intersection(half)
    return np.array([first, envelope.difference(half)], dtype=object)


def _polygonal(shape):
    """Only the polygons of a geometry (intersections can add stray lines and points)."""
    import shapely

    if shape is None or shape.is_empty:
        return shapely.Polygon()
    if shape.geom_type in ("Polygon", "MultiPolygon"):
        return shape
    parts = [p for p in shapely.get_parts(shape) if p.geom_type in ("Polygon", "MultiPolygon")]
    return shapely.union_all(parts) if parts else shapely.Polygon()
