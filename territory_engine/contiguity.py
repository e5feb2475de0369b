"""Contiguity of territories: the accounts' adjacency, its regions, and each territory's pieces.

**Adjacency.** The nodes are the accounts' distinct coordinates (accounts at one coordinate, for
example thousands placed at one ZIP centroid, are one node). Two nodes are adjacent when they
share an edge of the spherical Delaunay triangulation, which is the convex hull of the nodes'
unit vectors (Brown 1979, "Voronoi diagrams from convex hulls", Information Processing Letters
9(5); Renka 1997, "Algorithm 772: STRIPACK", ACM TOMS 23(3)), computed by Qhull (Barber, Dobkin &
Huhdanpaa 1996) through ``scipy.spatial.ConvexHull``. On the sphere it works anywhere on the
globe (Alaska, Hawaii, Puerto Rico, Europe). Degenerate inputs get a plain graph instead: up to
three nodes are all linked; nodes on one plane (one meridian, one parallel) are linked to their
neighbours along the line and to their nearest nodes; a node Qhull leaves out of the hull is
linked to its nearest nodes.

**Cut rule.** A node's *local spacing* is the median great-circle distance to its
``Tuning.contiguity_neighbours`` (6) nearest other nodes. An edge is cut (open water, a long
empty stretch) when it is longer than ``Tuning.contiguity_factor`` (3) times the smaller local
spacing of its two ends **and** longer than ``Tuning.contiguity_floor_km`` (60 km). The smaller
spacing, so that a lone island (whose nearest others are far away) is still cut off from a dense
shore. The same rule removes the long edges of the "lid" that the hull of points in one
hemisphere puts over them. On 10,000 accounts over every US state and territory
(``make_instance(10_000, 50, seed=1, region="us-all")`` of ``tests/benchmarks/instances.py``) it
gives 7 regions: the 48 contiguous states and DC (9,909 accounts), Puerto Rico with the US Virgin
Islands (40), Hawaii (21 and 2), Alaska (19 and 7), Guam with the Northern Marianas (2). Over the
48 states alone (``region="us"``): 9,998 accounts and 2 in the Florida Keys. No edge crosses the
Gulf of Mexico; at this density three edges still cross the northern Great Lakes (Lake Superior
at Isle Royale, 125-136 km; Lake Michigan at Door County, 111 km), where the shores are as sparse
as the water is wide; at 100,000 accounts none does.

**Regions and pieces.** A *region* is a connected component of the cut graph (a landmass or an
island group). A territory's *pieces* are the connected components of the subgraph its accounts
induce (the graph with the edges between different territories removed). A territory that
touches ``r`` regions needs at least ``r`` pieces, so its *extra pieces* are its pieces minus
``r``: a territory holding California and Hawaii has 2 pieces and 0 extra pieces.
"""

from __future__ import annotations

import weakref
from dataclasses import dataclass

import numpy as np
import pandas as pd
import scipy.sparse as sp
from scipy.sparse.csgraph import connected_components
from scipy.spatial import ConvexHull, QhullError, cKDTree

from .arrays import distinct
from .geo import EARTH_RADIUS_KM, QUERY_WORKERS, chord_to_km, to_xyz
from .memory import heavy_step
from .tuning import DEFAULT_TUNING, Tuning

__all__ = ["AccountGraph", "Pieces", "account_graph", "edges_of", "induced", "piece_neighbours", "point_graph", "territory_pieces"]


@dataclass(frozen=True)
class AccountGraph:
    """The accounts' adjacency after the cut rule.

    Attributes
    ----------
    node : ndarray of int, shape (n,)
        Node of every account (accounts sharing a coordinate share a node).
    xyz : ndarray of float, shape (v, 3)
        Node positions on the sphere, km (as :func:`territory_engine.geo.to_xyz`).
    adjacency : scipy.sparse.csr_array, shape (v, v)
        Symmetric; an entry is the great-circle length of a kept edge, km.
    spacing_km : ndarray of float, shape (v,)
        Each node's local spacing, km.
    region : ndarray of int, shape (v,)
        Region (connected component of the cut graph) of every node.
    """

    node: np.ndarray
    xyz: np.ndarray
    adjacency: sp.csr_array
    spacing_km: np.ndarray
    region: np.ndarray

    @property
    def regions(self) -> int:
        """Number of regions."""
        return int(self.region.max()) + 1 if len(self.region) else 0


@dataclass(frozen=True)
class Pieces:
    """The pieces of every territory of one alignment.

    Attributes
    ----------
    piece : ndarray of int, shape (n,)
        Piece of every account, -1 for an account without a territory.
    territory, region, size : ndarray of int, shape (p,)
        Each piece's territory, region, and number of accounts.
    pieces, extra_pieces : ndarray of int, shape (k,)
        Each territory's number of pieces, and the pieces beyond one per region it touches.
    """

    piece: np.ndarray
    territory: np.ndarray
    region: np.ndarray
    size: np.ndarray
    pieces: np.ndarray
    extra_pieces: np.ndarray

    @property
    def total_extra(self) -> int:
        """Extra pieces over all territories."""
        return int(self.extra_pieces.sum())


def account_graph(lat, lon, *, tuning: Tuning = DEFAULT_TUNING) -> AccountGraph:
    """The adjacency of accounts at ``lat``, ``lon`` (degrees), cut by the rule of the module docstring."""
    return point_graph(to_xyz(lat, lon), tuning=tuning)


def point_graph(xyz, *, tuning: Tuning = DEFAULT_TUNING) -> AccountGraph:
    """The adjacency of points given as (n, 3) km vectors (any non-zero length: they are
    projected onto the sphere), cut by the rule of the module docstring."""
    xyz = np.asarray(xyz, dtype=float).reshape(-1, 3)
    length = np.linalg.norm(xyz, axis=1)
    unit = xyz / np.where(length > 0, length, 1.0)[:, None]
    node, first = _distinct_rows(unit)
    pts = unit[first] * EARTH_RADIUS_KM
    v = len(pts)
    # The triangulation before the nearest neighbours (which it needs only for points it leaves
    # out): their arrays are not held while Qhull runs. The `metro` full sheet's peak went from
    # 1.79-1.84 GB to 1.70-1.75 GB (three runs each); its time did not change.
    simplices = _hull_simplices(pts)
    tree = cKDTree(pts) if v > 1 else None
    m = min(tuning.contiguity_neighbours, v - 1)
    if m >= 1:
        dist, near = tree.query(pts, k=m + 1, workers=QUERY_WORKERS)
        dist, near = np.atleast_2d(dist)[:, 1:], np.atleast_2d(near)[:, 1:]
        spacing = _row_medians(chord_to_km(dist))
    else:
        near, spacing = np.zeros((v, 0), dtype=np.int64), np.zeros(v)
    a, b = _triangulation_edges(pts, near, simplices)
    km = chord_to_km(np.linalg.norm(pts[a] - pts[b], axis=1))
    cut = (km > tuning.contiguity_factor * np.minimum(spacing[a], spacing[b])) & (km > tuning.contiguity_floor_km)
    a, b, km = a[~cut], b[~cut], np.maximum(km[~cut], 1e-9)
    adjacency = sp.csr_array((np.concatenate([km, km]), (np.concatenate([a, b]), np.concatenate([b, a]))),
                             shape=(v, v))
    if v:
        # (from each edge once: the same components, numbered by their lowest node, in half the time)
        _, region = connected_components(sp.csr_array((km, (a, b)), shape=(v, v)), directed=False)
    else:
        region = np.zeros(0, dtype=np.int64)
    return AccountGraph(node, pts, adjacency, spacing, region.astype(np.int64))


def _row_medians(values: np.ndarray) -> np.ndarray:
    """``np.median(values, axis=1)`` for rows already in increasing order (a k-d tree's
    distances): the middle entry, or the mean of the middle two, without partitioning."""
    m = values.shape[1]
    if m == 0 or not (values[:, 1:] >= values[:, :-1]).all():
        return np.median(values, axis=1)
    middle = values[:, m // 2:m // 2 + 1] if m % 2 else values[:, m // 2 - 1:m // 2 + 1]
    return np.mean(middle, axis=1)


def _distinct_rows(unit: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Each row's code among the distinct rows, and the first row of each code."""
    if len(unit) == 0:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    if np.isfinite(unit).all():
        # The first two columns factorized at once as x + iy (the same codes, one pass fewer).
        pair = np.empty(len(unit), dtype=np.complex128)
        pair.real, pair.imag = unit[:, 0], unit[:, 1]
        code, axes = pd.factorize(pair)[0].astype(np.int64), (2,)
    else:
        code, axes = pd.factorize(unit[:, 0])[0].astype(np.int64), (1, 2)
    for axis in axes:
        column = pd.factorize(unit[:, axis])[0].astype(np.int64)
        code = pd.factorize(code * (int(column.max()) + 1) + column)[0].astype(np.int64)
    first = np.full(int(code.max()) + 1, len(code), dtype=np.int64)
    np.minimum.at(first, code, np.arange(len(code)))
    return code, first


def _hull_simplices(pts: np.ndarray) -> np.ndarray | None:
    """The triangles (rows of point indices) of the convex hull of ``pts`` (km on the sphere):
    the spherical Delaunay triangulation. None for up to three points, or all points on one
    plane (one meridian, one parallel)."""
    v = len(pts)
    if v <= 3:
        return None
    try:
        # Q3 Q5 Q8: skip merging and outer-plane work that points on a sphere never need (30% faster).
        # Points in Z order (near points near in memory): Qhull a third faster on a full sheet.
        order = _z_order(pts)
        with heavy_step(v):
            hull = ConvexHull(pts[order] / EARTH_RADIUS_KM, qhull_options="Q3 Q5 Q8")
        return order[hull.simplices.astype(np.int64)]
    except (QhullError, ValueError):
        return None


def _triangulation_edges(pts: np.ndarray, near: np.ndarray, simplices: np.ndarray | None) -> tuple[
        np.ndarray, np.ndarray]:
    """The edges (i < j, each once) of the spherical Delaunay triangulation of ``pts`` (km on
    the sphere; ``simplices``: :func:`_hull_simplices`), or of the fallback graph for degenerate
    inputs; ``near``: each point's nearest other points."""
    v = len(pts)
    if v <= 3:
        a, b = np.triu_indices(v, 1)
        return a.astype(np.int64), b.astype(np.int64)
    if simplices is None:
        # All points on one plane (one meridian, one parallel): neighbours along the line,
        # and the nearest points.
        centred = pts - pts.mean(axis=0)
        axis = np.linalg.svd(centred, full_matrices=False)[2][0]
        order = np.argsort(centred @ axis, kind="stable")
        a = np.concatenate([order[:-1], np.repeat(np.arange(v), near.shape[1])])
        b = np.concatenate([order[1:], near.ravel()])
        return _unique_pairs(a, b, v)
    a = simplices[:, [0, 1, 2]].ravel()
    b = simplices[:, [1, 2, 0]].ravel()
    seen = np.zeros(v, dtype=bool)
    seen[simplices.ravel()] = True
    missing = np.flatnonzero(~seen)
    if len(missing):
        # Points Qhull merged into a facet (nearly coincident or coplanar): link to the nearest.
        a = np.concatenate([a, np.repeat(missing, near.shape[1])])
        b = np.concatenate([b, near[missing].ravel()])
    return _unique_pairs(a, b, v)


def _z_order(pts: np.ndarray, bits: int = 16) -> np.ndarray:
    """The points' order along a Z (Morton) curve through their bounding box, ``bits`` per axis."""
    low = pts.min(axis=0)
    cell = ((pts - low) / max(float(np.ptp(pts, axis=0).max()), 1e-12) * (2**bits - 1)).astype(np.int64)
    if bits <= 21:  # bit b of axis d goes to bit 3b + d: each axis's bits spread by masks
        code = _spread_bits(cell[:, 0]) | _spread_bits(cell[:, 1]) << 1 | _spread_bits(cell[:, 2]) << 2
    else:
        code = np.zeros(len(pts), dtype=np.int64)
        for b in range(bits):
            for d in range(3):
                code |= ((cell[:, d] >> b) & 1) << (3 * b + d)
    return np.argsort(code, kind="stable")


def _spread_bits(x: np.ndarray) -> np.ndarray:
    """Bit b of each int64 of ``x`` (< 2**21) moved to bit 3b, by five shift-and-mask steps
    (a third of the time of 48 steps of one bit at a million points)."""
    x = x & 0x1FFFFF
    x = (x | x << 32) & 0x1F00000000FFFF
    x = (x | x << 16) & 0x1F0000FF0000FF
    x = (x | x << 8) & 0x100F00F00F00F00F
    x = (x | x << 4) & 0x10C30C30C30C30C3
    return (x | x << 2) & 0x1249249249249249


def _unique_pairs(a: np.ndarray, b: np.ndarray, v: int) -> tuple[np.ndarray, np.ndarray]:
    low, high = np.minimum(a, b).astype(np.int64), np.maximum(a, b).astype(np.int64)
    keep = low != high
    key = distinct(low[keep] * v + high[keep])
    return key // v, key % v


@dataclass(frozen=True)
class _Vertices:
    """(node, territory) pairs holding accounts: the nodes of the induced subgraphs."""

    of_account: np.ndarray  # (n,) vertex of every account, -1 without a territory
    keys: np.ndarray  # (V,) sorted node * k + territory
    node: np.ndarray  # (V,)
    territory: np.ndarray  # (V,)
    src: np.ndarray  # (E,) vertex at one end of a graph edge (each edge from both ends)
    dst_node: np.ndarray  # (E,) node at the other end
    start: np.ndarray  # (v + 1,) the vertices of node i are start[i]:start[i + 1] (keys are sorted)
    k: int

    def find(self, node: np.ndarray, territory: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The vertex of each ``(node, territory)`` pair, and whether it exists. A node holding
        one territory (nearly all) answers by lookup; only the pairs at nodes holding several
        are searched for (a search of every pair took 0.11 s a call on a full sheet)."""
        if len(self.keys) == 0:
            return np.zeros(len(node), dtype=np.int64), np.zeros(len(node), dtype=bool)
        lo = self.start[node]
        count = self.start[node + 1] - lo
        pos = np.minimum(lo, len(self.keys) - 1)
        several = np.flatnonzero(count > 1)
        if len(several):
            want = node[several] * self.k + territory[several]
            pos[several] = np.minimum(np.searchsorted(self.keys, want), len(self.keys) - 1)
        found = (count > 0) & (self.territory[pos] == territory)
        if len(several):
            found[several] = self.keys[pos[several]] == want
        return pos, found


def _vertices(graph: AccountGraph, territory, k: int) -> _Vertices:
    territory = np.asarray(territory, dtype=np.int64)
    has = territory >= 0
    of_account = np.full(len(territory), -1, dtype=np.int64)
    code, keys = pd.factorize(graph.node[has].astype(np.int64) * k + territory[has], sort=True)
    of_account[has] = code
    keys = np.asarray(keys, dtype=np.int64)
    node, terr = keys // k, keys % k
    indptr, indices = graph.adjacency.indptr, graph.adjacency.indices
    starts = indptr[node].astype(np.int64)
    counts = indptr[node + 1].astype(np.int64) - starts
    src = np.repeat(np.arange(len(keys)), counts)
    slots = np.repeat(starts - np.cumsum(counts) + counts, counts) + np.arange(int(counts.sum()))
    start = np.r_[0, np.cumsum(np.bincount(node, minlength=len(graph.xyz)))]
    return _Vertices(of_account, keys, node, terr, src, indices[slots].astype(np.int64), start, k)


def territory_pieces(graph: AccountGraph, territory, k: int, *, keep: bool = True) -> Pieces:
    """The pieces of each of ``k`` territories.

    Parameters
    ----------
    graph : AccountGraph
        The adjacency of the same accounts (:func:`account_graph`).
    territory : array-like of int, shape (n,)
        Territory 0..k-1 of every account, -1 for none.
    k : int
        Number of territories.
    keep : bool
        False: count without using or keeping the graph's last count (a count on another
        thread, which would replace the count the caller's thread keeps).

    Returns
    -------
    Pieces
        Pieces, extra pieces and every account's piece. Pieces are numbered in the order of
        their lowest node (the same numbering however the count was reached).

    Notes
    -----
    When every node's accounts share one territory (the usual case), the count is kept while
    the graph lives. A later call on the same graph that moves a few accounts between
    territories counts again only the territories they left or joined (a repair loop asks
    after every round; on a full sheet that is 20-30 ms instead of 0.3 s a call).
    """
    k = max(int(k), 1)
    territory = np.asarray(territory, dtype=np.int64)
    last = _counts.get(id(graph)) if keep else None
    if last is not None and last.k == k and len(last.territory) == len(territory):
        changed = np.flatnonzero(last.territory != territory)
        if len(changed) == 0:
            return last.pieces
        if len(changed) <= RECOUNT_SHARE * len(territory):
            count = _recount(graph, last, territory, changed)
            if count is not None:
                return _keep(graph, count).pieces
        else:
            count = _renamed(graph, last, territory)
            if count is not None:
                return _keep(graph, count).pieces
    of_node = _node_territory(graph, territory)
    if of_node is not None:
        count = _count_nodes(graph, territory, k, of_node)
        return (_keep(graph, count) if keep else count).pieces
    vx = _vertices(graph, territory, k)
    pos, same = vx.find(vx.dst_node, vx.territory[vx.src])
    once = same & (vx.src < pos)  # each edge is found from both ends: one is enough for components
    links = sp.csr_array((np.ones(int(once.sum())), (vx.src[once], pos[once])), shape=(len(vx.keys),) * 2)
    count_v = len(vx.node)
    if count_v:
        p, label = connected_components(links, directed=False)
    else:
        p, label = 0, np.zeros(0, dtype=np.int64)
    first = np.full(p, count_v, dtype=np.int64)
    np.minimum.at(first, label, np.arange(count_v))
    piece_territory = vx.territory[first]
    piece_region = graph.region[vx.node[first]]
    assigned = vx.of_account >= 0
    piece = np.full(len(vx.of_account), -1, dtype=np.int64)
    piece[assigned] = label[vx.of_account[assigned]]
    return _pieces(graph, k, piece, piece_territory, piece_region)


def _pieces(graph: AccountGraph, k: int, piece, piece_territory, piece_region) -> Pieces:
    p = len(piece_territory)
    size = np.bincount(piece[piece >= 0], minlength=p)
    pieces = np.bincount(piece_territory, minlength=k)[:k]
    touched = distinct(piece_territory * (graph.regions + 1) + piece_region) // (graph.regions + 1)
    regions = np.bincount(touched, minlength=k)[:k]
    return Pieces(piece, piece_territory, piece_region, size, pieces, pieces - regions)


# A recount of the territories a change touched, rather than a count of the whole map, when at
# most this share of the accounts changed territory (either way the answer is the same).
RECOUNT_SHARE = 0.1


@dataclass(frozen=True)
class _Count:
    """A count on the node path (every node's accounts in one territory)."""

    territory: np.ndarray  # (n,) the alignment counted (a copy)
    k: int
    pieces: Pieces
    of_node: np.ndarray  # (v,) territory of every node, -1 for a node without one
    node_piece: np.ndarray  # (v,) piece of every node, -1 for a node without one
    first: np.ndarray  # (p,) lowest node of every piece, increasing
    cross: tuple  # (src, dst) node of each end of every directed edge between two territories


_counts: dict = {}  # id(graph) -> the graph's last _Count


def _keep(graph: AccountGraph, count: _Count) -> _Count:
    """Keep ``count`` as ``graph``'s last, its arrays read-only: a later call on the same
    alignment answers with the same ``Pieces``, and a caller writing into it would change the
    answers after (now it gets an error)."""
    pieces = count.pieces
    for array in (count.territory, count.of_node, count.node_piece, count.first, *count.cross, pieces.piece,
                  pieces.territory, pieces.region, pieces.size, pieces.pieces, pieces.extra_pieces):
        array.flags.writeable = False
    if id(graph) not in _counts:
        weakref.finalize(graph, _counts.pop, id(graph), None)
    _counts[id(graph)] = count
    return count


def _node_territory(graph: AccountGraph, territory: np.ndarray) -> np.ndarray | None:
    """The territory of every node (-1: none), when every node's accounts share one; else None."""
    has = territory >= 0
    of_node = np.full(len(graph.xyz), -1, dtype=np.int64)
    of_node[graph.node[has]] = territory[has]
    return of_node if (of_node[graph.node[has]] == territory[has]).all() else None


def _count_nodes(graph: AccountGraph, territory, k: int, of_node) -> _Count:
    """The pieces when every node holds one territory: the components of the graph's edges
    within a territory, over the nodes holding accounts.

    The adjacency is symmetric, so the components are found from each edge's upper half
    (``src < dst``): the same components in half the time (0.75 s -> 0.4 s on a full sheet)."""
    v = len(graph.xyz)
    vertex_node = np.flatnonzero(of_node >= 0)
    index = np.full(v, -1, dtype=np.int64)
    index[vertex_node] = np.arange(len(vertex_node))
    indptr, indices = graph.adjacency.indptr, graph.adjacency.indices
    src = np.repeat(np.arange(v), np.diff(indptr))
    at_src, at_dst = of_node[src], of_node[indices]
    held = (at_src >= 0) & (at_dst >= 0)
    same = held & (at_src == at_dst)
    other = held & ~same
    cross = (src[other], indices[other].astype(np.int64))
    once = same & (src < indices)
    rows, cols = src[once], indices[once]
    if len(vertex_node) < v:  # (else every node is a vertex, numbered as itself)
        rows, cols = index[rows], index[cols]
    links = sp.csr_array((np.ones(len(rows)), (rows, cols)), shape=(len(vertex_node),) * 2)
    if len(vertex_node):
        p, label = connected_components(links, directed=False)
    else:
        p, label = 0, np.zeros(0, dtype=np.int64)
    node_piece = np.full(v, -1, dtype=np.int64)
    node_piece[vertex_node] = label
    first = np.full(p, v, dtype=np.int64)
    np.minimum.at(first, label, vertex_node)
    return _numbered(graph, territory, k, of_node, node_piece, first, cross)


def _recount(graph: AccountGraph, last: _Count, territory, changed) -> _Count | None:
    """The count of ``territory``, which differs from ``last``'s in the accounts ``changed``:
    the pieces of the territories those accounts left or joined are counted again, the others
    kept. None when the node path does not apply (a node split between territories, an
    account gaining or losing its territory)."""
    new, old = territory[changed], last.territory[changed]
    if (new < 0).any() or (old < 0).any():
        return None
    of_node = last.of_node.copy()
    of_node[graph.node[changed]] = new
    has = territory >= 0
    if not (of_node[graph.node[has]] == territory[has]).all():
        return None
    touched = np.zeros(last.k + 1, dtype=bool)  # the last entry answers of_node == -1
    touched[old] = touched[new] = True
    nodes = np.flatnonzero(touched[of_node])
    src, dst = edges_of(graph.adjacency, nodes)
    same = of_node[dst] == of_node[nodes[src]]
    cross = _cross_again(graph, last, of_node, changed)
    m = len(nodes)
    links = sp.csr_array((np.ones(int(same.sum())), (src[same], np.searchsorted(nodes, dst[same]))), shape=(m, m))
    c, label = connected_components(links, directed=False) if m else (0, np.zeros(0, dtype=np.int64))
    new_first = np.full(c, m, dtype=np.int64)
    np.minimum.at(new_first, label, np.arange(m))
    kept = ~touched[last.pieces.territory]
    first = np.r_[last.first[kept], nodes[new_first]]
    number = np.full(len(kept) + c, -1, dtype=np.int64)  # old pieces kept, then the new ones
    number[np.flatnonzero(kept)] = np.arange(int(kept.sum()))
    number[len(kept):] = int(kept.sum()) + np.arange(c)
    node_piece = np.full(len(of_node), -1, dtype=np.int64)
    was = last.node_piece >= 0
    node_piece[was] = number[last.node_piece[was]]
    node_piece[nodes] = number[len(kept) + label]
    return _numbered(graph, territory, last.k, of_node, node_piece, first, cross)


def _renamed(graph: AccountGraph, last: _Count, territory) -> _Count | None:
    """The count of ``territory`` when it is ``last``'s alignment under other numbers (each of
    ``last``'s territories renamed to one of its own: a design's final numbering): the same
    pieces, their territories renamed (20 ms instead of a count, 0.5 s on a full sheet). None
    when the alignments differ otherwise, or either leaves an account without a territory."""
    old = last.territory
    if (old < 0).any() or (territory < 0).any():
        return None
    name = np.full(last.k, -1, dtype=np.int64)
    name[old] = territory
    if not np.array_equal(name[old], territory):
        return None  # a territory of ``last`` split
    named = name[name >= 0]
    if len(distinct(named)) < len(named):
        return None  # two territories of ``last`` merged
    of_node = np.where(last.of_node >= 0, name[last.of_node], -1)
    pieces = last.pieces
    renamed = _pieces(graph, last.k, pieces.piece, name[pieces.territory], pieces.region)
    return _Count(territory.copy(), last.k, renamed, of_node, last.node_piece, last.first, last.cross)


def induced(adjacency, nodes) -> sp.csr_array:
    """``adjacency[nodes][:, nodes]`` of a CSR ``adjacency`` (``nodes`` distinct, in any order),
    in time of the edges at ``nodes``: scipy's column selection allocates a row of the whole
    graph's width on each call (a million nodes on a full sheet, for each piece swapped)."""
    nodes = np.asarray(nodes, dtype=np.int64).ravel()
    n = len(nodes)
    if n == 0:
        return sp.csr_array((0, 0), dtype=adjacency.dtype)
    counts, slots = _edge_slots(adjacency, nodes)
    column = adjacency.indices[slots].astype(np.int64)
    order = np.argsort(nodes, kind="stable")
    at = np.minimum(np.searchsorted(nodes[order], column), n - 1)
    keep = nodes[order][at] == column
    row = np.repeat(np.arange(n), counts)[keep]
    return sp.csr_array((adjacency.data[slots][keep], (row, order[at[keep]])), shape=(n, n))


def edges_of(adjacency, nodes) -> tuple[np.ndarray, np.ndarray]:
    """Every edge at ``nodes`` of a CSR ``adjacency``: ``(row, neighbour)``, ``row`` the
    position in ``nodes`` of the edge's node (int64 both)."""
    counts, slots = _edge_slots(adjacency, nodes)
    return np.repeat(np.arange(len(nodes)), counts), adjacency.indices[slots].astype(np.int64)


def _edge_slots(adjacency, nodes) -> tuple[np.ndarray, np.ndarray]:
    """Each of ``nodes``' count of edges in a CSR ``adjacency``, and the positions of those edges
    in its ``indices`` and ``data``, node by node."""
    start = adjacency.indptr[nodes].astype(np.int64)
    counts = adjacency.indptr[nodes + 1].astype(np.int64) - start
    return counts, np.repeat(start - np.cumsum(counts) + counts, counts) + np.arange(int(counts.sum()))


def _cross_again(graph: AccountGraph, last: _Count, of_node, changed) -> tuple:
    """``last``'s edges between territories, with those at the nodes of the accounts
    ``changed`` (now in territory ``of_node``) found again."""
    moved = np.zeros(len(of_node), dtype=bool)
    moved[graph.node[changed]] = True
    src, dst = last.cross
    keep = ~(moved[src] | moved[dst])
    nodes = np.flatnonzero(moved)
    row, to = edges_of(graph.adjacency, nodes)
    at = nodes[row]
    other = (of_node[to] >= 0) & (of_node[to] != of_node[at])
    at, to = at[other], to[other]
    back = ~moved[to]  # an edge between two moved nodes is found from both ends
    return np.r_[src[keep], at, to[back]], np.r_[dst[keep], to, at[back]]


def _numbered(graph: AccountGraph, territory, k: int, of_node, node_piece, first, cross) -> _Count:
    """The count with pieces renumbered in the order of their lowest node."""
    order = np.argsort(first, kind="stable")
    if not np.array_equal(order, np.arange(len(order))):
        rank = np.empty_like(order)
        rank[order] = np.arange(len(order))
        node_piece = np.where(node_piece >= 0, rank[node_piece], -1)
        first = first[order]
    piece = node_piece[graph.node]
    piece[territory < 0] = -1
    pieces = _pieces(graph, k, piece, of_node[first], graph.region[first])
    return _Count(territory.copy(), k, pieces, of_node, node_piece, first, cross)


def piece_neighbours(graph: AccountGraph, territory, k: int, pieces: Pieces) -> tuple[np.ndarray, ...]:
    """The territories each piece borders, with the number of graph edges it shares with each.

    Returns
    -------
    piece, neighbour, edges : ndarray of int, shape (b,)
        One row per (piece, other territory) pair that share at least one edge: the piece, the
        other territory, and the number of (node, territory) edges between them.
    """
    k = max(int(k), 1)
    territory = np.asarray(territory, dtype=np.int64)
    view = _node_view(graph, territory, k, pieces)
    if view is not None:  # one territory per node: count the graph's edges between territories
        of_node, node_piece, (src, dst) = view
        key, edges = np.unique(node_piece[src] * k + of_node[dst], return_counts=True)
        return key // k, key % k, edges
    vx = _vertices(graph, territory, k)
    lo = vx.start[vx.dst_node]
    counts = vx.start[vx.dst_node + 1] - lo
    # Most edges join two nodes of one territory each, the same: dropped before expanding.
    border = (counts > 1) | ((counts == 1) & (vx.territory[np.minimum(lo, len(vx.keys) - 1)] != vx.territory[vx.src]))
    lo, counts = lo[border], counts[border]
    src = np.repeat(vx.src[border], counts)
    dst = np.repeat(lo - np.cumsum(counts) + counts, counts) + np.arange(int(counts.sum()))
    other = vx.territory[dst] != vx.territory[src]
    vertex_piece = np.full(len(vx.keys), -1, dtype=np.int64)
    assigned = vx.of_account >= 0
    vertex_piece[vx.of_account[assigned]] = pieces.piece[assigned]
    pair = vertex_piece[src[other]] * k + vx.territory[dst[other]]
    key, edges = np.unique(pair, return_counts=True)
    return key // k, key % k, edges


def _node_view(graph: AccountGraph, territory, k: int, pieces: Pieces):
    """``(territory, piece)`` of every node (-1: none) and the ``(src, dst)`` nodes of every
    directed edge between two territories, when every node's accounts share one territory;
    else None. From the graph's last count when it was of this alignment."""
    last = _counts.get(id(graph))
    if last is not None and last.k == k and np.array_equal(last.territory, territory):
        if last.pieces is pieces:
            return last.of_node, last.node_piece, last.cross
        of_node, cross = last.of_node, last.cross
    else:
        of_node = _node_territory(graph, territory)
        if of_node is None:
            return None
        indptr, indices = graph.adjacency.indptr, graph.adjacency.indices
        src = np.repeat(np.arange(len(of_node)), np.diff(indptr))
        other = (of_node[src] >= 0) & (of_node[indices] >= 0) & (of_node[src] != of_node[indices])
        cross = (src[other], indices[other].astype(np.int64))
    node_piece = np.full(len(graph.xyz), -1, dtype=np.int64)
    assigned = pieces.piece >= 0
    node_piece[graph.node[assigned]] = pieces.piece[assigned]
    return of_node, node_piece, cross
