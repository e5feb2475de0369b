"""Phase 1, construction: seeds, balanced growth and priced graph-Voronoi territories.

After the balanced growth of Ríos-Mercado & Fernández (2009), "A reactive GRASP for a
commercial territory design problem with multiple balancing requirements", Computers &
Operations Research 36(3). Steps:

1. **Seeds**: ``k`` blocks spread out, by a weighted k-means with a k-means++ start on the
   blocks' coordinates when given (:func:`kmeans_seeds`), else by farthest-point seeding on
   graph distances (:func:`farthest_seeds`).
2. **Priced Voronoi** (:func:`priced_voronoi`): every free block goes to the seed nearest in
   graph distance less a price per territory, prices moving until the mean measure share is
   balanced (additively weighted graph-Voronoi cells are connected, up to ties); seeds move
   to their territory's graph 1-centre and the prices are found again (Lloyd-style).
3. **Growth** (:func:`grow`): blocks cut off by ties (or left free by a warm start) are
   regrown one at a time: the territory with the smallest load takes its unassigned
   neighbouring block nearest to its seed.

The destroy-and-regrow step of the large neighbourhood search (:mod:`.lns`) uses the same
functions on the union of the territories it dissolves.
"""

from __future__ import annotations

import heapq

import numpy as np
from scipy.sparse.csgraph import shortest_path

from ..arrays import distinct
from ..clock import DIJKSTRA, WALK, spend
from ..seeding import kmeanspp
from ..tuning import Tuning
from .graph import Graph, keep_largest_pieces

__all__ = ["farthest_seeds", "fresh_seeds", "grow", "kmeans_seeds", "load_shares", "priced_voronoi"]


def load_shares(partial, unit_share, targets, k) -> np.ndarray:
    """Each territory's mean measure share over its target, counting the placed blocks only.

    ``partial`` holds a territory index per block, -1 for a free block; ``unit_share`` (n,)
    is each block's mean share of its measures' totals.
    """
    placed = partial >= 0
    load = np.bincount(partial[placed], unit_share[placed], minlength=k)
    return load / targets


def kmeans_seeds(coords, weight, k, rng, *, tuning: Tuning) -> np.ndarray:
    """Blocks nearest to the centres of a weighted k-means (k-means++ start) on coords.

    The k-means++ start (:func:`territory_engine.seeding.kmeanspp`, weights
    ``p = weight + floor * mean(weight)``); then ``tuning.contiguous_kmeans_iterations``
    weighted Lloyd steps, and each centre snaps to its nearest block not taken yet.
    """
    n = len(coords)
    p = weight + weight.mean() * tuning.contiguous_seeding_floor + 1e-12
    centres = kmeanspp(coords, weight, k, rng, floor=tuning.contiguous_seeding_floor)
    for _ in range(tuning.contiguous_kmeans_iterations):
        nearest = (((coords[:, None, :] - centres[None]) ** 2).sum(2)).argmin(1)
        wsum = np.bincount(nearest, p, minlength=k)
        for a in range(2):
            moved = np.bincount(nearest, p * coords[:, a], minlength=k)
            centres[:, a] = np.where(wsum > 0, moved / np.maximum(wsum, 1e-300), centres[:, a])
    seeds = []
    taken = np.zeros(n, bool)
    for c in centres:
        d = ((coords - c) ** 2).sum(1)
        d[taken] = np.inf
        i = int(d.argmin())
        taken[i] = True
        seeds.append(i)
    return np.array(seeds)


def farthest_seeds(adjacency, k, rng, *, unreachable_first: bool = True) -> np.ndarray:
    """Farthest-point seeding on graph distances, from a random first block.

    The first block is ``rng.integers(n)``; each next one is the block farthest (in graph
    distance) from the seeds so far. Blocks that no seed reaches count as the farthest of
    all when ``unreachable_first`` (so every component of the graph gets a seed), else as
    the nearest (a destroy step seeds only where its seeds can grow).
    """
    n = adjacency.shape[0]
    spend(DIJKSTRA, k * (n + adjacency.nnz))
    seeds = [int(rng.integers(n))]
    dist = shortest_path(adjacency, directed=False, indices=seeds[0])
    for _ in range(1, k):
        if unreachable_first:
            d = np.where(np.isfinite(dist), dist, np.nanmax(np.where(np.isfinite(dist), dist, 0)) * 2 + 1)
        else:
            d = np.where(np.isfinite(dist), dist, -1.0)
        d[seeds] = -1
        i = int(d.argmax())
        seeds.append(i)
        dist = np.minimum(dist, shortest_path(adjacency, directed=False, indices=i))
    return np.array(seeds)


def fresh_seeds(adjacency, coords, unit_share, k, rng, *, tuning: Tuning) -> np.ndarray:
    """``k`` spread-out seed blocks: k-means on ``coords`` when given, else farthest points."""
    weight = unit_share + 1e-12
    if coords is not None:
        return kmeans_seeds(coords, weight, k, rng, tuning=tuning)
    return farthest_seeds(adjacency, k, rng)


def grow(graph, adjacency, partial, seeds, load_share, unit_share, k, *, growing=None) -> np.ndarray:
    """Balanced multi-source growth: the lightest territory takes its nearest free neighbour.

    ``partial`` holds the blocks already placed (-1 elsewhere); ``seeds[j]`` is the block
    from which territory ``j``'s distances are measured. ``unit_share`` (n,) is each
    block's mean share of its measures' targets, ``load_share`` (k,) each territory's.
    Only the territories in ``growing`` (default: all) take free blocks.
    """
    growing = np.arange(k) if growing is None else np.asarray(growing)
    territory = partial.copy()
    load = load_share.copy()
    dist = np.zeros((k, len(territory)))
    spend(DIJKSTRA, len(growing) * (len(territory) + adjacency.nnz))
    spend(WALK, len(territory) + adjacency.nnz)  # (the growth, on heaps)
    dist[growing] = shortest_path(adjacency, directed=False, indices=seeds[growing])
    heaps: list[list] = [[] for _ in range(k)]
    for j in growing:
        members = np.flatnonzero(territory == j)
        if len(members) == 0:
            continue
        cols = graph.neighbours_of(members)
        for w in distinct(cols[territory[cols] < 0]):
            heapq.heappush(heaps[j], (dist[j, w], int(w)))
    free = int((territory < 0).sum())
    active = set(j for j in range(k) if heaps[j])
    while free and active:
        j = min(active, key=lambda t: (load[t], t))
        heap = heaps[j]
        while heap and territory[heap[0][1]] >= 0:
            heapq.heappop(heap)
        if not heap:
            active.discard(j)
            continue
        _, v = heapq.heappop(heap)
        territory[v] = j
        load[j] += unit_share[v]
        free -= 1
        nbrs, _ = graph.neighbours(v)
        for w in nbrs[territory[nbrs] < 0]:
            heapq.heappush(heap, (dist[j, w], int(w)))
    if free:
        # Blocks in components of the graph that hold no territory: give them to the
        # lightest territory (it will not be connected, and the result says so).
        for v in np.flatnonzero(territory < 0):
            j = int(growing[np.argmin(load[growing])])
            territory[v] = j
            load[j] += unit_share[v]
    return territory



def priced_voronoi(
    graph: Graph,
    adjacency,
    partial,
    seeds,
    unit_share,
    targets,
    fixed,
    k,
    tolerance,
    *,
    rounds: int,
    tuning: Tuning,
    growing=None,
    region=None,
) -> np.ndarray:
    """Balanced graph-Voronoi territories around seeds that move to their territory's centre.

    Every free block (-1 in ``partial``) of ``region`` (default: the whole graph) goes to
    the territory of ``growing`` (default: all) minimising ``graph distance to its seed -
    price``, distances measured inside ``region``; prices rise for light territories and
    fall for heavy ones (a subgradient method on the Lagrangian of the balance constraints
    of the mean measure share), until every share is within ``tuning.voronoi_band`` of the
    tolerance. Additively weighted Voronoi cells of a graph are connected (the predecessor
    of a block on its shortest path from the seed has the same nearest seed), up to ties,
    which :func:`grow` repairs. Then every seed of a territory without locked blocks moves
    to the graph 1-centre of its territory (the block with the smallest eccentricity inside
    it), Lloyd-style, and the price loop runs again, ``rounds`` times at most.

    Returns the alignment (a new array): the blocks of ``partial`` stay where they are.
    """
    growing = np.arange(k) if growing is None else growing
    if region is None:
        region, sub = np.arange(graph.n), adjacency
    else:
        sub = adjacency[region][:, region]
    free = region[partial[region] < 0]
    free_local = np.searchsorted(region, free)
    grown = partial
    for _ in range(rounds):
        spend(DIJKSTRA, len(growing) * (len(region) + sub.nnz))
        dist = shortest_path(sub, directed=False, indices=np.searchsorted(region, seeds[growing]))
        dist = np.where(np.isfinite(dist), dist, 1e18)[:, free_local]
        assign = _price_assignment(dist, partial, free, growing, unit_share, targets, k, tolerance, tuning)
        assign[seeds[growing]] = growing
        assign = keep_largest_pieces(adjacency, assign, fixed, k)
        grown = grow(graph, adjacency, assign, seeds, load_shares(assign, unit_share, targets, k), unit_share, k,
                     growing=growing)
        moved = seeds.copy()
        for j in growing:
            nodes = np.flatnonzero(grown == j)
            if fixed[nodes].any():
                continue
            moved[j] = graph.centre(nodes)
        if np.array_equal(moved, seeds):
            break
        seeds = moved
    return grown


def _price_assignment(dist, partial, free, growing, unit_share, targets, k, tolerance, tuning: Tuning) -> np.ndarray:
    """The subgradient price loop of :func:`priced_voronoi` (``dist``: growing × free blocks)."""
    if dist.shape[1] == 0:  # no free block to price (every block of the area is pinned)
        return partial.copy()
    price = np.zeros(len(growing))
    step = float(np.median(dist.min(axis=0))) + 1e-12
    assign = partial.copy()
    for _ in range(tuning.voronoi_iterations):
        assign[free] = growing[np.argmin(dist - price[:, None], axis=0)]
        gap = load_shares(assign, unit_share, targets, k)[growing] - 1.0
        if np.abs(gap).max() <= tolerance * tuning.voronoi_band:
            break
        price -= step * gap
        step *= tuning.voronoi_step_decay
    return assign
