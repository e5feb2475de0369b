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

from dataclasses import dataclass

import numpy as np

from ..arrays import distinct
from .states import (STATE_SNAP_DEG, StateOutline, account_groups, clip_outline, clip_states, land_outline,
                     state_of, state_outlines)

__all__ = ["AccountCells", "account_cells", "territory_areas", "alignment_areas_of", "first_of_rows",
           "border_places", "clip_detail", "SIMPLIFY_SHARE", "CLIP_SHARE",
           # the states' part, from .states, for the callers that import it from here
           "StateOutline", "state_outlines", "land_outline", "clip_outline", "state_of", "clip_states",
           "account_groups", "STATE_SNAP_DEG"]


def _projection(lat: np.ndarray) -> float:
    """Scale of longitude for the equirectangular projection: cos(mean latitude)."""
    return float(np.cos(np.radians(np.clip(np.nanmean(lat), -80, 80)))) if len(lat) else 1.0


SIMPLIFY_SHARE = 1 / 1500
"""Simplification tolerance of the areas, as a share of the accounts' extent (their bounding box's
diagonal): borders move by at most this much; finer keeps more vertices (a larger, slower page)."""

CLIP_SHARE = SIMPLIFY_SHARE / 2
"""The state outlines that areas are clipped to are simplified to this share of the accounts' extent
(:func:`clip_states`): half the areas' own simplification, so no border the map draws moves; finer
only costs time (a map of the whole US clips to outlines of half the vertices)."""


def clip_detail(lat, lon) -> float:
    """Degrees to simplify the clip outlines to: :data:`CLIP_SHARE` of the extent of the accounts."""
    lat = np.asarray(lat, dtype=float)
    lon = np.asarray(lon, dtype=float)
    ok = np.isfinite(lat) & np.isfinite(lon)
    return float(np.hypot(np.ptp(lat[ok]), np.ptp(lon[ok]))) * CLIP_SHARE if ok.any() else 0.0


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


def account_cells(lat, lon, *, clip=None, resolution: float = 1e-5, keys=None,
                  detail: float | None = None) -> AccountCells:
    """The Voronoi cells of the accounts (lat/lon degrees), per group (see :func:`account_groups`).

    Accounts with non-finite coordinates get no cell. Accounts at the same place, to
    ``resolution`` degrees, share one cell (the first account's) unless their ``keys`` differ
    (an (n, m) integer array, such as each account's territory in every alignment drawn): a
    snapshot passes about half a pixel, which leaves far fewer cells to compute, and passes the
    territories as keys, so an account's enclave keeps its own cell. With ``keys``, only the
    places on a border between keys get cells (:func:`border_places`): the cells are then for
    merging by those keys only. ``clip`` (one outline for all accounts) defaults to the state
    rule of :func:`account_groups`, with the states simplified to ``detail`` degrees (default
    :func:`clip_detail`; see :func:`clip_states`).
    """
    import shapely

    lat = np.asarray(lat, dtype=float)
    lon = np.asarray(lon, dtype=float)
    finite = np.flatnonzero(np.isfinite(lat) & np.isfinite(lon))
    detail = clip_detail(lat, lon) if detail is None else detail
    group, clips = account_groups(lat[finite], lon[finite], clip, detail=detail)
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
    if keys is not None:
        first = first[border_places(points[first], first_of_rows(np.column_stack((group, extra))[first])[1],
                                    group[first])]
    cells = np.empty(len(first), dtype=object)
    for g, outline in enumerate(clips):
        mine = np.flatnonzero(group[first] == g)
        if len(mine):
            cells[mine] = _cells(points[first[mine]], outline, scale)
    return AccountCells(cells, finite[first], scale, whole, lat, lon, group[first], clips)


def border_places(points: np.ndarray, kind: np.ndarray, group: np.ndarray) -> np.ndarray:
    """Which places keep a Voronoi cell when cells are merged by ``kind``: those on a border.

    A place whose neighbours in the Delaunay triangulation of its group (scipy's Qhull) all
    share its kind is left out: removing a place gives its cell to its Delaunay neighbours
    (the cell's region is split among the sites whose cells touched it), all of its kind, and
    leaves the others' neighbours of its kind, so the union of each kind's cells is unchanged,
    exactly, with a fraction of the cells to compute and merge (about a quarter at 100,000
    accounts and 200 territories). A group of one kind keeps one place, whose cell covers it.

    Parameters
    ----------
    points : numpy.ndarray, shape (m, 2)
        Distinct places, projected.
    kind, group : numpy.ndarray of int, shape (m,)
        Each place's kind (what cells are merged by) and group (cells are computed per group).

    Returns
    -------
    numpy.ndarray of bool, shape (m,)
    """
    from scipy.spatial import Delaunay, QhullError

    keep = np.zeros(len(points), dtype=bool)
    for g in distinct(group):
        mine = np.flatnonzero(group == g)
        if len(distinct(kind[mine])) == 1:
            keep[mine[0]] = True
            continue
        if len(mine) < 4:
            keep[mine] = True
            continue
        try:
            indptr, neighbours = Delaunay(points[mine]).vertex_neighbor_vertices
        except QhullError:  # all on one line: keep every place
            keep[mine] = True
            continue
        degree = np.diff(indptr)
        owner = np.repeat(np.arange(len(mine)), degree)
        differ = np.bincount(owner, weights=kind[mine][neighbours] != kind[mine][owner], minlength=len(mine))
        keep[mine] = (differ > 0) | (degree == 0)  # no neighbours: a point Qhull left out, kept
    return keep


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
