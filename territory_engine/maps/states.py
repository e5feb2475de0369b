"""US states for the territory areas: the shipped outlines, which state each account lies in, and what
the areas are clipped to.

The rule that keeps territory areas inside state lines (:mod:`territory_engine.maps.regions`
draws the areas): an account belongs to the state it lies in (or to the nearest within
:data:`STATE_SNAP_DEG`), and its Voronoi cell is computed and clipped within that state
(:func:`account_groups`). The outlines are the US Census Bureau's (public domain), simplified
to about 1 km (``data/us_states.geojson``); the accounts off US land share the accounts'
outline outside the states. When most accounts are not on US land, one outline around the
accounts (:func:`clip_outline`).

Shapely is imported inside the functions: the maps are an edge, not the engine.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

from ..arrays import distinct
from ..geography.shapes import west_of_antimeridian

__all__ = ["StateOutline", "state_outlines", "land_outline", "clip_outline", "state_of", "clip_states",
           "account_groups", "outline_of_accounts", "STATE_SNAP_DEG", "STATE_DETAIL_DEG", "LAND_SHARE", "CONCAVITY"]

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
                              shapely.transform(shapely.from_geojson(json.dumps(f["geometry"])), west_of_antimeridian))
                 for f in doc["features"])


@lru_cache(maxsize=1)
def land_outline():
    """The union of the 50 states and DC as one shapely geometry (lon/lat degrees)."""
    import shapely

    doc = json.loads((DATA / "us_land.geojson").read_text(encoding="utf-8"))
    land = shapely.transform(shapely.from_geojson(json.dumps(doc["features"][0]["geometry"])), west_of_antimeridian)
    shapely.prepare(land)
    return land


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
    hull = outline_of_accounts(lat, lon, extent).buffer(margin, quad_segs=4)
    land = land_outline()
    on_land = shapely.contains_xy(land, lon, lat).mean() >= LAND_SHARE if len(lat) else False
    if not on_land:
        return hull, False
    return shapely.intersection(land, hull), True


STATE_SNAP_DEG = 0.25
"""An account this close to a state (degrees, about 25 km) but outside its simplified outline (on
the coast, on a pier, on an island the outline drops) counts as in that state; farther accounts
are off US land and share the rest of the outline."""


@lru_cache(maxsize=4)
def _states_union(detail: float = 0.0):
    import shapely

    union = shapely.union_all(clip_states(detail))
    shapely.prepare(union)
    return union


@lru_cache(maxsize=4)
def clip_states(detail: float = 0.0) -> tuple:
    """The state shapes that areas are clipped to, simplified as one coverage to ``detail`` degrees.

    Detail finer than the areas' own simplification is never seen, but every vertex of a state's
    outline costs time in each clip and merge of the areas of that state: a map of the whole US
    clips to outlines of half the vertices. Borders stay shared (``coverage_simplify``). Below
    :data:`STATE_DETAIL_DEG`, the shipped outlines as they are.
    """
    import shapely

    shapes = [s.shape for s in state_outlines()]
    if detail > STATE_DETAIL_DEG:
        shapes = list(shapely.coverage_simplify(np.array(shapes, dtype=object), detail))
    shapely.prepare(shapes)
    return tuple(shapes)


STATE_DETAIL_DEG = 0.01
"""Detail of the shipped state outlines, degrees (about 1 km, see ``data/build_state_outlines.py``)."""


def _on_land(lat: np.ndarray, lon: np.ndarray) -> bool:
    """Whether at least :data:`LAND_SHARE` of the accounts lie on the US land outline."""
    import shapely

    return bool(len(lat)) and shapely.contains_xy(land_outline(), lon, lat).mean() >= LAND_SHARE


@lru_cache(maxsize=1)
def _prepared_states() -> tuple[tuple, np.ndarray]:
    """The state shapes, prepared for fast point tests, and their bounds (west, south, east, north)."""
    import shapely

    shapes = [s.shape for s in state_outlines()]
    shapely.prepare(shapes)
    return tuple(shapes), shapely.bounds(shapes)


def state_of(lat: np.ndarray, lon: np.ndarray) -> np.ndarray:
    """Each point's state: an index into :func:`state_outlines`, -1 when in none.

    A point inside two outlines (where simplified outlines touch) takes the first. Each state
    tests only the points within its bounding box, against its prepared shape
    (``shapely.contains_xy``): a tenth of the time of a spatial index query of point geometries.
    """
    import shapely

    shapes, bounds = _prepared_states()
    state = np.full(len(lat), -1, dtype=np.int64)
    for i in range(len(shapes) - 1, -1, -1):  # backwards: the first state is written last and wins
        west, south, east, north = bounds[i]
        near = np.flatnonzero((lon >= west) & (lon <= east) & (lat >= south) & (lat <= north))
        if len(near):
            state[near[shapely.contains_xy(shapes[i], lon[near], lat[near])]] = i
    return state


@lru_cache(maxsize=1)
def _state_edges():
    """A spatial index of the states' boundary edges (two-point lines) and each edge's state.

    An account outside every state is nearest to the state whose boundary is nearest: the
    distance to a few short edges is far cheaper than the distance to whole state outlines.
    """
    import shapely

    edges, owners = [], []
    for i, state in enumerate(state_outlines()):
        for ring in shapely.get_rings(shapely.get_parts(state.shape)):
            xy = shapely.get_coordinates(ring)
            edges.append(np.stack((xy[:-1], xy[1:]), axis=1))
            owners.append(np.full(len(xy) - 1, i, dtype=np.int64))
    lines = shapely.linestrings(np.concatenate(edges))
    return shapely.STRtree(lines), np.concatenate(owners)


def account_groups(lat: np.ndarray, lon: np.ndarray, clip=None, *, detail: float = 0.0) -> tuple[np.ndarray, tuple]:
    """Each account's group and each group's clip outline (lon/lat degrees); see :class:`AccountCells`.

    The rule that keeps territory areas inside state lines: an account belongs to the state it
    lies in (or to the nearest within :data:`STATE_SNAP_DEG`), and its cell is computed and
    clipped within that state, so an area reaches into a state only where its territory has
    accounts, and covers the states with accounts up to their coasts and borders, without gaps.
    The clip outlines are the states simplified to ``detail`` degrees (:func:`clip_states`).
    """
    import shapely

    n = len(lat)
    if clip is not None:
        return np.zeros(n, dtype=np.int64), (clip,)
    if not _on_land(lat, lon):
        return np.zeros(n, dtype=np.int64), (clip_outline(lat, lon)[0],)
    states = state_outlines()
    state = state_of(lat, lon)
    loose = np.flatnonzero(state < 0)
    if len(loose):
        tree, edge_state = _state_edges()
        near_point, near_edge = tree.query_nearest(shapely.points(lon[loose], lat[loose]),
                                                   max_distance=STATE_SNAP_DEG, all_matches=False)
        state[loose[near_point]] = edge_state[near_edge]
    used = distinct(state[state >= 0])
    shapes = clip_states(round(float(detail), 6))
    clips = [shapes[i] for i in used]
    group = np.searchsorted(used, state)
    if (state < 0).any():
        extent = float(np.hypot(np.ptp(lat), np.ptp(lon)))
        hull = outline_of_accounts(lat, lon, extent).buffer(max(0.2, 0.04 * extent), quad_segs=4)
        clips.append(shapely.difference(hull, _states_union(round(float(detail), 6))))
        group[state < 0] = len(clips) - 1
    return group.astype(np.int64), tuple(clips)


CONCAVITY = 0.2
"""``ratio`` of shapely's ``concave_hull`` for the accounts' outline (1 is the convex hull)."""


def outline_of_accounts(lat: np.ndarray, lon: np.ndarray, extent: float):
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
