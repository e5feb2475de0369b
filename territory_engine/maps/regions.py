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
           "territory_areas", "alignment_areas_of", "clip_outline", "state_of", "first_of_rows", "cell_resolution",
           "STATE_SNAP_DEG", "SIMPLIFY_SHARE", "CELL_SHARE"]

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


SIMPLIFY_SHARE = 1 / 1500
"""Simplification tolerance of the areas, as a share of the accounts' extent (their bounding box's
diagonal): borders move by at most this much; finer keeps more vertices (a larger, slower page)."""

CELL_SHARE = SIMPLIFY_SHARE / 4
"""Accounts of the same territories (in every alignment drawn) closer than this share of the extent
share one Voronoi cell: a quarter of the simplification, so no border the map draws moves, with a
third fewer cells to compute at 100,000 accounts; smaller only costs time."""


def cell_resolution(lat, lon) -> float:
    """The ``resolution`` of :func:`account_cells` for drawing areas: :data:`CELL_SHARE` of the extent, degrees."""
    lat = np.asarray(lat, dtype=float)
    lon = np.asarray(lon, dtype=float)
    ok = np.isfinite(lat) & np.isfinite(lon)
    extent = float(np.hypot(np.ptp(lat[ok]), np.ptp(lon[ok]))) if ok.any() else 0.0
    return max(extent * CELL_SHARE, 1e-5)


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
    used = np.unique(state[state >= 0])
    clips = [states[i].shape for i in used]
    group = np.searchsorted(used, state)
    if (state < 0).any():
        extent = float(np.hypot(np.ptp(lat), np.ptp(lon)))
        hull = _outline_of_accounts(lat, lon, extent).buffer(max(0.2, 0.04 * extent), quad_segs=4)
        clips.append(shapely.difference(hull, _states_union()))
        group[state < 0] = len(clips) - 1
    return group.astype(np.int64), tuple(clips)


def first_of_rows(rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The first row of each distinct row of an integer matrix, and each row's distinct-row number.

    What ``np.unique(rows, axis=0, return_index=True, return_inverse=True)`` gives (distinct rows in
    lexicographic order), by a stable ``lexsort`` of the columns: ``np.unique`` with ``axis=0``
    sorts rows as opaque byte strings, ten times slower at 100,000 rows.
    """
    rows = np.asarray(rows).reshape(len(rows), -1)
    if len(rows) == 0:
        return np.empty(0, dtype=np.int64), np.empty(0, dtype=np.int64)
    order = np.lexsort(rows.T[::-1])
    ranked = rows[order]
    new = np.ones(len(rows), dtype=bool)
    new[1:] = (ranked[1:] != ranked[:-1]).any(axis=1)
    inverse = np.empty(len(rows), dtype=np.int64)
    inverse[order] = np.cumsum(new) - 1
    return order[new], inverse


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
    first, _ = first_of_rows(np.column_stack((group, grid, extra)))
    exact, _ = first_of_rows(np.column_stack((group[first], np.round(points[first] / 1e-9).astype(np.int64))))
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
    if cells is None:
        cells = account_cells(lat, lon, clip=clip)
    return alignment_areas_of(cells, [territory], k, simplify=simplify)[0]


def alignment_areas_of(cells: AccountCells, alignments, k: int, *, simplify: float | None = None) -> list[list]:
    """:func:`territory_areas` of several alignments of the same accounts, sharing the work.

    The cells are first dissolved into pieces whose accounts share their group and their
    territory in every alignment (most of a territory is one piece; the accounts that move
    make small ones), and each piece is clipped to its group's outline once; each alignment's
    area of a territory is then the union of its few pieces, not of its thousands of cells.
    Intersection distributes over union, so the areas are those of :func:`territory_areas`.

    Parameters
    ----------
    cells : AccountCells
    alignments : sequence of array_like of int, each shape (n,)
        Each account's territory index per alignment (-1: none).
    k : int
        Number of territories.
    simplify : float, optional
        As for :func:`territory_areas`.

    Returns
    -------
    list of list
        One list of ``k`` areas (or None) per alignment.
    """
    import shapely

    codes = np.column_stack([np.asarray(a, dtype=np.int64)[cells.first] for a in alignments]).reshape(
        len(cells.first), len(alignments))
    drawn = np.flatnonzero((codes >= 0).any(axis=1))
    if not len(drawn):
        return [[None] * k for _ in alignments]
    first, piece_of = first_of_rows(np.column_stack((cells.group[drawn], codes[drawn])))
    order = np.argsort(piece_of, kind="stable")
    bounds = np.searchsorted(piece_of[order], np.arange(len(first) + 1))
    pieces = np.array([_dissolve(cells.cells[drawn[order[bounds[i]:bounds[i + 1]]]]) for i in range(len(first))],
                      dtype=object)
    pieces = shapely.transform(pieces, lambda xy: xy / np.array([cells.scale, 1.0]))  # back to degrees
    piece_group = cells.group[drawn[first]]
    clipped = pieces.copy()
    for g, outline in enumerate(cells.clips):
        mine = np.flatnonzero(piece_group == g)
        if len(mine):
            shapely.prepare(outline)
            cut = mine[~shapely.covers(outline, pieces[mine])]  # a piece inside the outline stays as it is
            clipped[cut] = [_polygonal(shape) for shape in shapely.intersection(pieces[cut], outline)]
    empty = shapely.is_empty(clipped) | (shapely.area(clipped) <= 0)
    return [_alignment_areas(cells, np.asarray(alignment, dtype=np.int64), codes[drawn[first], a], piece_group,
                             pieces, clipped, empty, k, simplify)
            for a, alignment in enumerate(alignments)]


def _alignment_areas(cells, territory, owner, piece_group, pieces, clipped, empty, k, simplify) -> list:
    """One alignment's areas from the clipped pieces (``owner``: each piece's territory in it)."""
    import shapely

    areas: list = [None] * k
    lat, lon = cells.lat, cells.lon
    ok = (territory >= 0) & np.isfinite(lat) & np.isfinite(lon)
    lat, lon = lat[ok], lon[ok]
    hull = None
    parts: list[list] = [[] for _ in range(k)]
    keep = np.flatnonzero(owner >= 0)
    if not len(keep):
        return areas
    order = keep[np.lexsort((piece_group[keep], owner[keep]))]
    cuts = np.flatnonzero(np.diff(owner[order]) | np.diff(piece_group[order])) + 1
    for run in np.split(order, cuts):
        t = int(owner[run[0]])
        whole = run[~empty[run]]
        if len(whole):
            parts[t].append(clipped[whole[0]] if len(whole) == 1 else _polygonal(_dissolve(clipped[whole])))
        else:  # all off the outline (accounts off the coast): the cells within the accounts' hull instead
            if hull is None:
                hull = shapely.multipoints(np.column_stack((lon, lat))).convex_hull.buffer(0.2, quad_segs=4)
            merged = pieces[run[0]] if len(run) == 1 else _dissolve(pieces[run])
            parts[t].append(_polygonal(shapely.intersection(merged, hull)))
    present = [t for t in range(k) if parts[t]]
    joined = np.array([p[0] if len(p) == 1 else _polygonal(shapely.union_all(p)) for p in
                       (parts[t] for t in present)], dtype=object)
    extent = float(np.hypot(np.ptp(lat), np.ptp(lon)))
    tolerance = simplify if simplify is not None else max(extent * SIMPLIFY_SHARE, 1e-4)
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
