"""Block graphs for the contiguous block design benchmark (issue 15, section 3).

:func:`zip_graph` and :func:`county_graph` read the adjacency that ships with the package
(:mod:`territory_engine.geography`: counties sharing a border, pseudo-ZIP areas as clipped
Voronoi cells, island links), restricted to the lower 48 states and DC (Hawaii too with
``with_hawaii=True``). The stand-ins the engine was first measured on are kept as
:func:`stand_in_zip_graph` and :func:`stand_in_county_graph`, built from the offline
``zipcodes`` table:

* **pseudo-ZIP areas**: the active STANDARD ZIPs of the lower 48 states and DC (centroids at
  0, 0 dropped); two ZIPs are adjacent when they share an edge of the Delaunay triangulation
  of their centroids (sinusoidal projection) that is at most ``MAX_EDGE_KM`` long, so long
  empty stretches and open water cut the graph;
* **islands**: every piece of that graph apart from the largest (an island, a cut-off
  peninsula) is linked to the nearest ZIP of the largest piece by one edge, the rule part C
  states for the real shapes; Hawaii (only with ``with_hawaii=True``) is linked within its
  state only, so it stays a piece of its own, as it is on the real map;
* **counties**: the union of their ZIPs' nodes (county name + state); two counties are
  adjacent when one of their ZIPs is adjacent to one of the other's; edge distances are the
  great-circle km between the counties' mean ZIP centroids.

Measures are population-like: a heavy-tailed (lognormal) draw per block, times the block's
ZIP count for counties, with a few "metro" blocks raised to a good fraction of a target.

The benchmark and the tests only use the returned :class:`BlockGraph`. Nothing here is an
engine module: it is test and benchmark support code.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import pandas as pd
import scipy.sparse as sp
from scipy.spatial import Delaunay

from territory_engine.geo import EARTH_RADIUS_KM, haversine_km

__all__ = ["BlockGraph", "MAX_EDGE_KM", "county_graph", "drift", "population", "stand_in_county_graph",
           "stand_in_zip_graph", "zip_graph"]

MAX_EDGE_KM = 150.0
"""Delaunay edges longer than this are cut (open water, deserts, the lakes)."""

NOT_LOWER_48 = frozenset({"AK", "HI", "PR", "VI", "GU", "AS", "MP", "FM", "MH", "PW", "AA", "AE", "AP"})


@dataclass(frozen=True)
class BlockGraph:
    """Blocks as a graph: ``adjacency`` (CSR, km), ``coords`` (n, 2) planar km, names, ZIP counts,
    ``latlon`` (n, 2) degrees."""

    adjacency: sp.csr_array
    coords: np.ndarray
    names: np.ndarray
    zips: np.ndarray
    latlon: np.ndarray

    @property
    def n(self) -> int:
        return self.adjacency.shape[0]


@lru_cache(maxsize=4)
def _zip_records(with_hawaii: bool):
    import zipcodes

    rows = []
    for r in zipcodes.list_all():
        if r["zip_code_type"] != "STANDARD" or not r["active"]:
            continue
        if r["state"] in NOT_LOWER_48 and not (with_hawaii and r["state"] == "HI"):
            continue
        lat, lon = float(r["lat"] or 0), float(r["long"] or 0)
        if lat == 0 and lon == 0:
            continue
        rows.append((r["zip_code"], r["state"], r["county"] or "?", lat, lon))
    rows.sort()
    code = np.array([r[0] for r in rows], dtype=object)
    county = np.array([f"{r[2]}, {r[1]}" for r in rows], dtype=object)
    lat = np.array([r[3] for r in rows])
    lon = np.array([r[4] for r in rows])
    return code, county, lat, lon


def _planar(lat, lon) -> np.ndarray:
    """Sinusoidal projection, km."""
    y = np.radians(lat) * EARTH_RADIUS_KM
    x = np.radians(lon) * np.cos(np.radians(lat)) * EARTH_RADIUS_KM
    return np.column_stack([x, y])


def _delaunay_edges(points: np.ndarray) -> np.ndarray:
    tri = Delaunay(points)
    s = tri.simplices
    edges = np.concatenate([s[:, [0, 1]], s[:, [1, 2]], s[:, [0, 2]]])
    edges.sort(axis=1)
    return np.unique(edges, axis=0)


def _csr(n, a, b, km) -> sp.csr_array:
    adjacency = sp.coo_array((np.r_[km, km], (np.r_[a, b], np.r_[b, a])), shape=(n, n)).tocsr()
    adjacency.sum_duplicates()
    return sp.csr_array(adjacency)


@lru_cache(maxsize=4)
def stand_in_zip_graph(with_hawaii: bool = False) -> BlockGraph:
    """The stand-in pseudo-ZIP-area graph of the lower 48 (about 29,000 blocks); Hawaii as islands when asked."""
    code, _, lat, lon = _zip_records(with_hawaii)
    points = _planar(lat, lon)
    edges = _delaunay_edges(points)
    a, b = edges[:, 0], edges[:, 1]
    km = np.maximum(haversine_km(lat[a], lon[a], lat[b], lon[b]), 0.1)
    keep = km <= MAX_EDGE_KM
    a, b, km = a[keep], b[keep], km[keep]
    hawaii = np.array([str(c).startswith("967") or str(c).startswith("968") for c in code])
    extra = _island_links(points, _csr(len(code), a, b, km), hawaii)
    if len(extra):
        a, b = np.r_[a, extra[:, 0]], np.r_[b, extra[:, 1]]
        u, v = extra[:, 0], extra[:, 1]
        km = np.r_[km, np.maximum(haversine_km(lat[u], lon[u], lat[v], lon[v]), 0.1)]
    return BlockGraph(_csr(len(code), a, b, km), points, code, np.ones(len(code), int), np.column_stack([lat, lon]))


def _island_links(points, adjacency, hawaii) -> np.ndarray:
    """One edge from every piece but the largest (and Hawaii's, linked among themselves) to the
    nearest block of the largest piece (of Hawaii's largest piece for Hawaiian pieces)."""
    from scipy.sparse.csgraph import connected_components
    from scipy.spatial import cKDTree

    count, piece = connected_components(adjacency, directed=False)
    sizes = np.bincount(piece)
    links = []
    for group in (~hawaii, hawaii):
        if not group.any():
            continue
        main = np.bincount(piece[group], minlength=count).argmax()
        tree = cKDTree(points[piece == main])
        main_nodes = np.flatnonzero(piece == main)
        for c in np.unique(piece[group]):
            if c == main or sizes[c] == 0:
                continue
            nodes = np.flatnonzero(piece == c)
            dist, where = tree.query(points[nodes])
            best = int(np.argmin(dist))
            links.append((nodes[best], main_nodes[where[best]]))
    return np.array(links, dtype=np.int64).reshape(-1, 2)


@lru_cache(maxsize=4)
def stand_in_county_graph(with_hawaii: bool = False) -> BlockGraph:
    """The stand-in county graph of the lower 48 (about 3,100 blocks): counties as unions of their ZIPs."""
    code, county, lat, lon = _zip_records(with_hawaii)
    zips = stand_in_zip_graph(with_hawaii)
    names, of_zip = np.unique(county, return_inverse=True)
    m = len(names)
    zip_count = np.bincount(of_zip, minlength=m)
    clat = np.bincount(of_zip, weights=lat, minlength=m) / zip_count
    clon = np.bincount(of_zip, weights=lon, minlength=m) / zip_count
    coo = sp.coo_array(zips.adjacency)
    a, b = of_zip[coo.row], of_zip[coo.col]
    keep = a < b
    pairs = np.unique(np.column_stack([a[keep], b[keep]]), axis=0)
    a, b = pairs[:, 0], pairs[:, 1]
    km = np.maximum(haversine_km(clat[a], clon[a], clat[b], clon[b]), 0.1)
    return BlockGraph(_csr(m, a, b, km), _planar(clat, clon), names, zip_count, np.column_stack([clat, clon]))


def _shipped(kind: str, with_hawaii: bool) -> BlockGraph:
    """The shipped blocks of ``kind`` in the lower 48 and DC (and Hawaii when asked), with their
    ZIP-area count (1 per ZIP area; a county's ZIP areas for counties)."""
    from territory_engine.geography import block_of, load_blocks

    blocks = load_blocks(kind)
    keep = ~np.isin(blocks.state, list(NOT_LOWER_48 - ({"HI"} if with_hawaii else set())))
    rows = np.flatnonzero(keep)
    adjacency = sp.csr_array(sp.csr_array(blocks.adjacency)[rows][:, rows])
    lat, lon = np.asarray(blocks.lat, dtype=float)[rows], np.asarray(blocks.lon, dtype=float)[rows]
    if kind == "county":
        zips = load_blocks("zip")
        county = pd.Index(blocks.ids[rows]).get_indexer(block_of("county", zip=zips.ids))
        count = np.bincount(county[county >= 0], minlength=len(rows))
    else:
        count = np.ones(len(rows), dtype=int)
    return BlockGraph(adjacency, _planar(lat, lon), np.asarray(blocks.names, dtype=object)[rows],
                      np.maximum(count, 1), np.column_stack([lat, lon]))


@lru_cache(maxsize=4)
def zip_graph(with_hawaii: bool = False) -> BlockGraph:
    """The shipped pseudo-ZIP-area graph of the lower 48 and DC (about 29,000 blocks)."""
    return _shipped("zip", with_hawaii)


@lru_cache(maxsize=4)
def county_graph(with_hawaii: bool = False) -> BlockGraph:
    """The shipped county graph of the lower 48 and DC (about 3,100 blocks)."""
    return _shipped("county", with_hawaii)


def population(graph: BlockGraph, k: int, *, seed: int = 0, metros: int = 5, metro_share: float = 0.5,
               measures: int = 1) -> np.ndarray:
    """Population-like measures, shape (n, measures): lognormal per block times its ZIP count, with
    ``metros`` blocks raised to ``metro_share`` of a territory's target (total / k)."""
    rng = np.random.default_rng(seed)
    out = np.empty((graph.n, measures))
    for j in range(measures):
        values = rng.lognormal(0.0, 1.0, graph.n) * graph.zips
        target = values.sum() / k
        big = rng.choice(graph.n, size=min(metros, graph.n), replace=False)
        values[big] = np.maximum(values[big], metro_share * target * rng.uniform(0.6, 1.0, len(big)))
        out[:, j] = values
    return out


def drift(territory: np.ndarray, adjacency, measures: np.ndarray, k: int, *, share: float = 0.2,
          seed: int = 0) -> np.ndarray:
    """A measure that drifted: each territory's blocks scaled by one factor in ``1 ± share``, so
    the loads of a balanced alignment scatter over about ``±share``."""
    rng = np.random.default_rng(seed)
    factor = rng.uniform(1 - share, 1 + share, k)
    return measures * factor[territory][:, None]
