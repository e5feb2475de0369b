"""Contiguous territories built from building blocks on a graph, minimising the largest diameter.

The problem is the commercial (delivery) territory design problem of Ríos-Mercado &
Fernández (2009), "A reactive GRASP for a commercial territory design problem with multiple
balancing requirements", Computers & Operations Research 36(3), in the min-max diameter form
studied by Aly et al. (2024), "An efficient probability-based VNS algorithm for delivery
territory design", Computers & Operations Research, doi 10.1016/j.cor.2024.106756, and by
Pereira & Vilà, "An efficient large neighborhood search method for a delivery territory
design problem" (submitted to Computers & Operations Research):

- the building blocks are the nodes of an undirected graph whose edges carry a distance;
- every territory must be connected in the graph;
- every measure of every territory must lie within ``±tolerance`` of its target;
- minimise the largest diameter, a territory's diameter being its longest shortest path
  on the subgraph induced by the territory.

The method has three phases, named after those papers:

1. **Construction** (after the balanced growth of Ríos-Mercado & Fernández's GRASP).
   ``k`` seeds spread out (weighted k-means on ``coords`` when given, else farthest-point
   seeding on graph distances); blocks go to the seed nearest in graph distance less a
   price per territory, prices moving until the mean measure share is balanced
   (additively weighted graph Voronoi cells are connected); seeds move to their
   territory's graph 1-centre and the prices are found again (Lloyd-style). Blocks cut off
   by ties are regrown one at a time: the territory with the smallest load takes its
   unassigned neighbouring block nearest to its seed. A warm start or locked blocks skip
   the Voronoi step and use the growth alone.
   **Balance repair** (feasibility first): when the construction is out of balance, a
   tabu search on loads only (no diameters) moves connected sets across borders: with a
   depth-first search of a territory rooted at a block next to a neighbour, that
   neighbour may take any branch, or everything but a branch, so load moves in fine steps
   even on tree-like graphs. When no move improves, it tries a recombination of the
   territory furthest out of balance with each neighbour (DeFord, Duchin & Solomon 2021:
   merge the two, cut a random spanning tree of the union at its best edge), then swaps
   (a set each way, trading one measure for another), then the move that best follows a
   balancing flow (a linear program per measure on the graph of territories), so that
   load crosses territories that are themselves in balance. While the alignment stays out
   of balance, fresh constructions from new seeds are repaired in turn, within half of the
   time budget, keeping the one closest to balance (the sticking points differ from start
   to start). The repair runs again from the best alignment whenever the search below ends
   a round out of balance.
2. **Local search** (a tabu search on boundary moves, as in the shift neighbourhood of the
   VNS of Aly et al.). A move gives one boundary block to a neighbouring territory; when
   the block is a cut vertex of its territory, the branch it cuts off (away from the
   territory's 1-centre) goes with it, found by one depth-first search per territory
   (Hopcroft & Tarjan's low points), so both territories stay connected even on sparse,
   tree-like graphs. Moves are scored by ``largest diameter + alpha * mean diameter +
   penalty * (balance violation + soft * excess over half the tolerance)``; the penalty
   weight follows a strategic oscillation (it grows while the alignment is out of balance
   and shrinks while it is in balance), and the soft term keeps loads off the edge of the
   band, where single moves get stuck. Diameters are maintained incrementally: adding a
   block updates the territory's all-pairs distance matrix in ``O(s^2)``; removing one is
   ``O(s^2)`` unless it lies on a shortest path, when the territory's distances are
   recomputed (Floyd–Warshall, ``O(s^3)``). Moves are ranked with cheap bounds and
   estimates and only the best ones are evaluated exactly (lazy evaluation).
3. **Large neighbourhood search** (the destroy-and-repair of Pereira & Vilà): when a tabu
   round stalls, the search restarts from the best alignment found. If that is out of
   balance, ejection chains (Glover 1996) first move load along paths of neighbouring
   territories: on sparse graphs territories often touch as a tree, so load must cross
   several territories to reach one with room. Otherwise (or when no chain helps) the
   worst territory (the most out of balance, or else the one with the largest diameter)
   and one to three neighbours are dissolved and regrown as priced graph-Voronoi cells
   around new far-apart seeds, as in phase 1; the tabu search then continues from there.
   Rounds are short (``60 + n / k`` moves without improvement), so that many restarts fit
   in the budget. When the alignment is in balance and three rounds in a row bring no
   improvement, the search starts again from a fresh construction (within the first 70%
   of the time budget, and only when nothing is locked or given), keeping the best
   alignment found (a multi-start).

The search stops after ``time_limit_s`` seconds or ``max_iterations`` moves, whichever
comes first; for a given seed and a given iteration budget the result does not depend on
the machine's speed.
"""

from __future__ import annotations

import heapq
import time
from dataclasses import dataclass
from typing import Callable

import numpy as np
import scipy.sparse as sp
from scipy.sparse.csgraph import connected_components, floyd_warshall, shortest_path

from .errors import InputError, SettingsError

__all__ = ["ContiguousResult", "design_contiguous", "territory_diameters"]

Progress = Callable[[str, float], None]

_ALPHA = 0.1
"""Weight of the mean diameter beside the largest diameter in the search's score."""

_AIM = 0.5
"""The soft balance band, as a fraction of the tolerance."""

_CHAIN_DEPTH = 4
_CHAIN_BEAM = 3
_CHAIN_TRIES = 30
"""Ejection chains: most links, partial chains kept per start, chains tried per repair move."""

_PENALTY_MAX = 1e4
_PENALTY_MIN = 0.05
_PENALTY_STEP = 1.05
"""Bounds of the balance penalty weight (per unit of violation, in units of the largest
diameter at the start of a round) and its factor per move (strategic oscillation)."""

_SOFT = 0.3
"""Weight of the excess over the soft band, relative to the excess over the tolerance."""

_STAGNANT_ROUNDS = 3
_FRESH_SHARE = 0.7
"""Rounds in a row without improvement (with the alignment in balance) before a fresh
construction, and the share of the time budget after which none starts."""


@dataclass(frozen=True)
class ContiguousResult:
    """A contiguous alignment of building blocks and its quality.

    Attributes
    ----------
    territory : ndarray of int, shape (n,)
        Territory index 0..k-1 of every building block.
    diameters : ndarray of float, shape (k,)
        Largest within-territory shortest-path distance of every territory, in the unit of
        the edge distances (``inf`` for a territory that is not connected).
    objective : float
        The largest diameter.
    max_deviation : float
        Largest ``|load / target - 1|`` over territories and measures.
    feasible : bool
        Every territory is connected and every measure within the tolerance.
    seconds : float
        Wall time of the search, s.
    iterations : int
        Local-search moves made.
    seed : int
        The seed used.
    """

    territory: np.ndarray
    diameters: np.ndarray
    objective: float
    max_deviation: float
    feasible: bool
    seconds: float
    iterations: int
    seed: int = 0


# --------------------------------------------------------------------------------------
# Graph helpers
# --------------------------------------------------------------------------------------


class _Graph:
    """CSR arrays of the adjacency, with a scratch index for induced subgraphs."""

    def __init__(self, adjacency: sp.csr_array):
        self.n = adjacency.shape[0]
        self.indptr = adjacency.indptr
        self.indices = adjacency.indices
        self.data = adjacency.data
        self.degree = np.diff(self.indptr)
        self.src = np.repeat(np.arange(self.n), self.degree)
        self._loc = np.full(self.n, -1, dtype=np.int64)

    def neighbours(self, v: int) -> tuple[np.ndarray, np.ndarray]:
        a, b = self.indptr[v], self.indptr[v + 1]
        return self.indices[a:b], self.data[a:b]

    def edge_slots(self, nodes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The positions in ``indices``/``data`` of the edges of ``nodes``, node by node, and
        for each the index into ``nodes`` of its node."""
        starts = self.indptr[nodes]
        counts = self.indptr[nodes + 1] - starts
        offsets = np.repeat(starts - np.cumsum(counts) + counts, counts) + np.arange(int(counts.sum()))
        return offsets, np.repeat(np.arange(len(nodes)), counts)

    def induced_weights(self, nodes: np.ndarray) -> sp.csr_array:
        """Sparse (s, s) weight matrix of the subgraph induced by ``nodes``."""
        s = len(nodes)
        loc = self._loc
        loc[nodes] = np.arange(s)
        offsets, owner = self.edge_slots(nodes)
        cols = loc[self.indices[offsets]]
        loc[nodes] = -1
        keep = cols >= 0
        indptr = np.zeros(s + 1, dtype=np.int64)
        np.cumsum(np.bincount(owner[keep], minlength=s), out=indptr[1:])
        return sp.csr_array((self.data[offsets][keep], cols[keep], indptr), shape=(s, s))

    def distances(self, nodes: np.ndarray) -> np.ndarray:
        """All-pairs shortest-path distances on the subgraph induced by ``nodes``."""
        if len(nodes) == 1:
            return np.zeros((1, 1))
        return floyd_warshall(self.induced_weights(nodes), directed=False)


def territory_diameters(adjacency, territory, *, k: int | None = None) -> np.ndarray:
    """Diameter of every territory on the subgraph it induces.

    Parameters
    ----------
    adjacency : sparse array, shape (n, n)
        Symmetric; an entry is the distance of an edge (> 0).
    territory : array-like of int, shape (n,)
        Territory index of every building block.
    k : int, optional
        Number of territories (default: ``max(territory) + 1``).

    Returns
    -------
    ndarray of float, shape (k,)
        Longest shortest path inside each territory, in the unit of the edge distances;
        ``inf`` when the territory is not connected, 0 when it is empty or a single block.
    """
    graph = _Graph(sp.csr_array(adjacency))
    territory = np.asarray(territory)
    k = int(territory.max()) + 1 if k is None else k
    out = np.zeros(k)
    for j in range(k):
        nodes = np.flatnonzero(territory == j)
        if len(nodes):
            out[j] = graph.distances(nodes).max()
    return out


# --------------------------------------------------------------------------------------
# Validation
# --------------------------------------------------------------------------------------


def _validate(adjacency, measures, k, tolerance, targets, coords, locked, initial):
    problems = []
    try:
        adjacency = sp.csr_array(adjacency, dtype=float)
    except (TypeError, ValueError) as exc:
        raise InputError(f"adjacency is not a sparse matrix: {exc}") from None
    n = adjacency.shape[0]
    if adjacency.shape != (n, n):
        raise InputError(f"adjacency must be square, not {adjacency.shape}")
    adjacency = adjacency.copy()
    adjacency.sum_duplicates()
    adjacency.setdiag(0)
    adjacency.eliminate_zeros()
    adjacency.sort_indices()
    if (adjacency.data < 0).any() or not np.isfinite(adjacency.data).all():
        problems.append("adjacency: edge distances must be positive finite numbers")
    asymmetry = abs(adjacency - adjacency.T)
    if asymmetry.nnz and asymmetry.max() > 1e-9 * max(1.0, abs(adjacency).max()):
        problems.append("adjacency: must be symmetric (an undirected graph)")
    measures = np.asarray(measures, dtype=float)
    if measures.ndim == 1:
        measures = measures[:, None]
    if measures.ndim != 2 or measures.shape[0] != n:
        problems.append(f"measures: expected shape ({n}, M), got {measures.shape}")
    elif (measures < 0).any() or not np.isfinite(measures).all():
        problems.append("measures: must be non-negative finite numbers")
    if problems:
        raise InputError(problems)
    settings = []
    if not isinstance(k, (int, np.integer)) or not 1 <= k <= n:
        settings.append(f"k: the number of territories must be an integer from 1 to {n}, not {k!r}")
    if not 0 <= tolerance < 1:
        settings.append(f"tolerance: must be a fraction in [0, 1), not {tolerance!r}")
    if settings:
        raise SettingsError(settings)
    k = int(k)
    if targets is None:
        targets = np.full(k, 1.0 / k)
    else:
        targets = np.asarray(targets, dtype=float)
        if targets.shape != (k,) or (targets <= 0).any() or not np.isfinite(targets).all():
            raise SettingsError(f"targets: expected {k} positive shares, got {targets!r}")
        targets = targets / targets.sum()
    if coords is not None:
        coords = np.asarray(coords, dtype=float)
        if coords.shape != (n, 2) or not np.isfinite(coords).all():
            raise InputError(f"coords: expected finite numbers of shape ({n}, 2), got {coords.shape}")
    arrays = {}
    for name, value in (("locked", locked), ("initial", initial)):
        if value is None:
            arrays[name] = None
            continue
        value = np.asarray(value)
        if value.shape != (n,) or not np.issubdtype(value.dtype, np.integer):
            raise InputError(f"{name}: expected {n} integers, got shape {value.shape} of {value.dtype}")
        low = -1 if name == "locked" else 0
        if ((value < low) | (value >= k)).any():
            raise InputError(f"{name}: territory indices must be from {low} to {k - 1}")
        arrays[name] = value.astype(np.int64)
    return adjacency, measures, k, targets, coords, arrays["locked"], arrays["initial"]


# --------------------------------------------------------------------------------------
# Phase 1: construction
# --------------------------------------------------------------------------------------


def _kmeans_seeds(coords, weight, k, rng, iterations=10) -> np.ndarray:
    """Blocks nearest to the centres of a weighted k-means (k-means++ start) on coords."""
    n = len(coords)
    p = weight + weight.mean() * 0.05 + 1e-12
    centres = [coords[rng.choice(n, p=p / p.sum())]]
    d2 = ((coords - centres[0]) ** 2).sum(1)
    for _ in range(1, k):
        q = p * d2
        i = rng.choice(n, p=q / q.sum()) if q.sum() > 0 else rng.integers(n)
        centres.append(coords[i])
        d2 = np.minimum(d2, ((coords - coords[i]) ** 2).sum(1))
    centres = np.array(centres)
    for _ in range(iterations):
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


def _farthest_seeds(adjacency, k, rng) -> np.ndarray:
    """Farthest-point seeding on graph distances, from a random first block."""
    n = adjacency.shape[0]
    seeds = [int(rng.integers(n))]
    dist = shortest_path(adjacency, directed=False, indices=seeds[0])
    for _ in range(1, k):
        d = np.where(np.isfinite(dist), dist, np.nanmax(np.where(np.isfinite(dist), dist, 0)) * 2 + 1)
        d[seeds] = -1
        i = int(d.argmax())
        seeds.append(i)
        dist = np.minimum(dist, shortest_path(adjacency, directed=False, indices=i))
    return np.array(seeds)


def _grow(graph, adjacency, partial, seeds, load_share, unit_share, k, *, growing=None) -> np.ndarray:
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
    dist[growing] = shortest_path(adjacency, directed=False, indices=seeds[growing])
    heaps: list[list] = [[] for _ in range(k)]
    for j in growing:
        members = np.flatnonzero(territory == j)
        if len(members) == 0:
            continue
        cols = graph.indices[np.concatenate([np.arange(graph.indptr[v], graph.indptr[v + 1]) for v in members])]
        for w in np.unique(cols[territory[cols] < 0]):
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


def _priced_voronoi(graph, adjacency, seeds, unit_share, targets, fixed, locked, k, tolerance, *, rounds=4):
    """Balanced graph-Voronoi territories around seeds that move to their territory's centre.

    Every free block goes to the territory minimising ``graph distance to its seed - price``;
    prices rise for light territories and fall for heavy ones (a subgradient method on the
    Lagrangian of the balance constraints of the mean measure share). Additively weighted
    Voronoi cells of a graph are connected (the predecessor of a block on its shortest path
    from the seed has the same nearest seed), up to ties, which the regrowth repairs. Then
    every seed moves to the graph 1-centre of its territory (the block with the smallest
    eccentricity inside it), Lloyd-style, and the price loop runs again.
    """
    territory = None
    for _ in range(rounds):
        dist = shortest_path(adjacency, directed=False, indices=seeds)
        dist = np.where(np.isfinite(dist), dist, 1e18)
        reach = np.median(dist.min(axis=0)) + 1e-12
        price = np.zeros(k)
        step = reach
        for _ in range(60):
            territory = np.argmin(dist - price[:, None], axis=0)
            if locked is not None:
                territory[fixed] = locked[fixed]
            load = np.bincount(territory, unit_share, minlength=k) / targets
            gap = load - 1.0
            if np.abs(gap).max() <= tolerance / 2:
                break
            price -= step * gap
            step *= 0.95
        territory[seeds] = np.arange(k)
        territory = _keep_largest_pieces(adjacency, territory, fixed, k)
        placed = territory >= 0
        load = np.bincount(territory[placed], unit_share[placed], minlength=k) / targets
        territory = _grow(graph, adjacency, territory, seeds, load, unit_share, k)
        new_seeds = seeds.copy()
        for j in range(k):
            nodes = np.flatnonzero(territory == j)
            if locked is not None and fixed[nodes].any():
                continue
            d = graph.distances(nodes)
            new_seeds[j] = nodes[int(np.argmin(d.max(axis=1)))]
        if np.array_equal(new_seeds, seeds):
            break
        seeds = new_seeds
    return territory


# --------------------------------------------------------------------------------------
# Phase 2: the search state and its incremental diameters
# --------------------------------------------------------------------------------------


class _State:
    """An alignment with per-territory members, distance matrices, diameters and loads."""

    def __init__(self, graph: _Graph, territory, measures, inv_target, tolerance, k):
        self.graph = graph
        self.k = k
        self.measures = measures
        self.inv_target = inv_target  # (k, M), 0 where the measure's total is 0
        self.tolerance = tolerance
        self.territory = territory.copy()
        n = len(territory)
        self.pos = np.zeros(n, dtype=np.int64)
        self.members: list[np.ndarray] = []
        self.dist: list[np.ndarray] = []
        self.diam = np.zeros(k)
        for j in range(k):
            nodes = np.flatnonzero(self.territory == j)
            self.members.append(nodes)
            self.pos[nodes] = np.arange(len(nodes))
            d = graph.distances(nodes) if len(nodes) else np.zeros((0, 0))
            self.dist.append(d)
            self.diam[j] = d.max() if len(nodes) else 0.0
        self.loads = np.zeros((k, measures.shape[1]))
        np.add.at(self.loads, self.territory, measures)
        self.viol = self.violation(self.loads, np.arange(k))
        self.version = np.zeros(k, dtype=np.int64)
        self._branch_cache: dict = {}
        self.branch_holds_end: list = [None] * k
        self.ends = np.zeros((k, 2), dtype=np.int64)
        for j in range(k):
            self._find_ends(j)

    def _find_ends(self, j: int) -> None:
        """Remember two blocks of territory ``j`` at the ends of a longest shortest path."""
        d = self.dist[j]
        if d.size == 0 or not np.isfinite(self.diam[j]):
            self.ends[j] = -1
            return
        a, b = np.unravel_index(int(np.argmax(d)), d.shape)
        self.ends[j] = self.members[j][[a, b]]

    def violation(self, loads, territories, *, band: float | None = None) -> np.ndarray:
        """Summed excess of the relative deviations over ``band`` (default: the tolerance)."""
        band = self.tolerance if band is None else band
        dev = np.abs(loads * self.inv_target[territories] - 1.0) * (self.inv_target[territories] > 0)
        return np.clip(dev - band, 0.0, None).sum(axis=-1)

    def branches(self, j: int, movable: np.ndarray):
        """What leaves territory ``j`` with each of its blocks (cached per version).

        A block ``v`` that is a cut vertex of its territory cannot leave alone: the pieces
        it cuts off (those away from the territory's root, its graph 1-centre) leave with
        it, which keeps both territories connected (an ejection of a whole branch, needed on
        sparse, tree-like graphs where most blocks are cut vertices). Found with one
        depth-first search (Hopcroft & Tarjan's low points).

        Returns ``(moved, loads, ok)``: per position in ``members[j]``, the blocks that
        leave in the order they can be added to a neighbour (``v`` first), their summed
        measures, and whether the move is allowed (not the root, no locked block).
        """
        hit = self._branch_cache.get(j)
        if hit is not None and hit[0] == self.version[j]:
            return hit[1]
        members = self.members[j]
        s = len(members)
        root = int(np.argmin(self.dist[j].max(axis=1)))
        # Neighbour lists inside the territory (positions, in the graph's order), gathered at once.
        offsets, owner = self.graph.edge_slots(members)
        nbrs = self.graph.indices[offsets]
        inside = self.territory[nbrs] == j
        flat = self.pos[nbrs[inside]].tolist()
        bounds = [0] + np.cumsum(np.bincount(owner[inside], minlength=s)).tolist()
        adj = [flat[bounds[u] : bounds[u + 1]] for u in range(s)]
        order, disc, end, separated = _low_point_dfs(adj, root)
        order_arr = np.array(order)
        moved = []
        loads = np.zeros((s, self.measures.shape[1]))
        ok = np.zeros(s, bool)
        # Whether what leaves holds an end of the territory's longest path (then the
        # diameter left behind is not simply the current one).
        a, b = self.ends[j]
        holds_end = np.zeros(s, bool)
        if a >= 0:
            holds_end[[self.pos[a], self.pos[b]]] = True
        is_end = holds_end.copy()
        # A block that cuts nothing off leaves alone (most blocks): no search, no sum.
        alone = np.array([disc[u] >= 0 and u != root and not separated[u] for u in range(s)], dtype=bool)
        loads[alone] = self.measures[members[alone]]
        ok[alone] = movable[members[alone]] & (s > 1)
        for u in range(s):
            if disc[u] < 0 or u == root or alone[u]:
                moved.append(members[u : u + 1])
                continue
            parts = [order_arr[disc[c] : end[c]] for c in separated[u]]
            local = np.concatenate([[u]] + parts)
            # Breadth-first from u, so that each block joins next to one already added.
            local = self._bfs_order(local, adj)
            nodes = members[local]
            moved.append(nodes)
            loads[u] = self.measures[nodes].sum(axis=0)
            ok[u] = bool(movable[nodes].all()) and len(nodes) < s
            holds_end[u] = is_end[local].any()
        result = (moved, loads, ok)
        self.branch_holds_end[j] = holds_end
        self._branch_cache[j] = (self.version[j], result)
        return result

    @staticmethod
    def _bfs_order(local: np.ndarray, adj) -> np.ndarray:
        inside = set(local.tolist())
        first = int(local[0])
        seen = {first}
        out = [first]
        i = 0
        while i < len(out):
            for w in adj[out[i]]:
                if w in inside and w not in seen:
                    seen.add(w)
                    out.append(w)
            i += 1
        return np.array(out)

    def add_diameter(self, nodes: np.ndarray, j: int):
        """Diameter of territory ``j`` with ``nodes`` added (each next to one before it).

        Exact and incremental: each block's distances are the shortest way in through its
        neighbours, and every other distance may shorten through it, ``O(s^2)`` per block.
        Returns ``(diameter, distances)``.
        """
        d = self.dist[j]
        s = len(d)
        local = {}
        for u in nodes:
            nbrs, weights = self.graph.neighbours(u)
            inside = self.territory[nbrs] == j
            p = list(self.pos[nbrs[inside]])
            w = list(weights[inside])
            for t, x in enumerate(nbrs):
                q = local.get(int(x))
                if q is not None:
                    p.append(q)
                    w.append(weights[t])
            if not p:
                return np.inf, None
            du = (d[p] + np.asarray(w)[:, None]).min(axis=0)
            shorter = np.minimum(d, du[:, None] + du[None, :])
            grown = np.empty((s + 1, s + 1))
            grown[:s, :s] = shorter
            grown[s, :s] = du
            grown[:s, s] = du
            grown[s, s] = 0.0
            local[int(u)] = s
            d = grown
            s += 1
        return d.max(), d

    def add_estimate(self, v: int, j: int) -> float:
        """Cheap estimate of territory ``j``'s diameter with ``v`` (and its branch) added.

        ``max(current diameter, eccentricity of v)``: exact unless ``v`` shortens a longest
        path or its branch reaches further; the search only uses it to rank moves and
        evaluates the chosen move exactly.
        """
        nbrs, weights = self.graph.neighbours(v)
        inside = self.territory[nbrs] == j
        if not inside.any():
            return np.inf
        d = self.dist[j]
        dv = (d[self.pos[nbrs[inside]]] + weights[inside][:, None]).min(axis=0)
        return max(self.diam[j], dv.max())

    def add_estimates(self, blocks: np.ndarray, j: int) -> np.ndarray:
        """``add_estimate`` of several distinct blocks joining territory ``j``, in one pass."""
        g = self.graph
        offsets, owner = g.edge_slots(blocks)
        nbrs = g.indices[offsets]
        inside = self.territory[nbrs] == j
        out = np.full(len(blocks), np.inf)
        if not inside.any():
            return out
        owner = owner[inside]
        reach = self.dist[j][self.pos[nbrs[inside]]] + g.data[offsets][inside][:, None]
        change = np.empty(len(owner), bool)
        change[0] = True
        np.not_equal(owner[1:], owner[:-1], out=change[1:])
        firsts = np.flatnonzero(change)
        out[owner[firsts]] = np.maximum(self.diam[j], np.minimum.reduceat(reach, firsts, axis=0).max(axis=1))
        return out

    def remove_diameter(self, v: int, nodes: np.ndarray, *, exact: bool = True):
        """Diameter of ``v``'s territory without ``nodes`` (``v`` and the branch it cuts off).

        Returns ``(diameter, distances, is_exact)``. Only ``v`` touches the rest, so only
        paths through ``v`` can lengthen; when none is a shortest path the distances are
        those already known. Otherwise, with ``exact=False``, the diameter returned is a
        lower bound (removing blocks never shortens a path) and ``distances`` is None.
        """
        j = self.territory[v]
        s = len(self.members[j])
        if s <= len(nodes):
            return np.inf, None, True
        a, b = self.ends[j]
        if not exact and a >= 0 and not ((nodes == a).any() or (nodes == b).any()):
            # The longest path keeps both ends and can only lengthen: a lower bound in O(1).
            return self.diam[j], None, False
        p = self.pos[v]
        d = self.dist[j]
        keep = np.ones(s, bool)
        keep[self.pos[nodes]] = False
        sub = d[keep][:, keep]
        col = d[p, keep]
        on_path = col[:, None] + col[None, :] <= sub * (1 + 1e-12)
        np.fill_diagonal(on_path, False)
        if on_path.any():
            if not exact:
                return sub.max(), None, False
            sub = self.graph.distances(self.members[j][keep])
        return sub.max(), sub, True

    def move(self, v: int, nodes: np.ndarray, j: int):
        """Give ``nodes`` (``v`` and its branch) to territory ``j``, a neighbour of ``v``."""
        i = self.territory[v]
        new_i, sub, _ = self.remove_diameter(v, nodes)
        new_j, grown = self.add_diameter(nodes, j)
        keep = ~np.isin(self.members[i], nodes)
        self.members[i] = self.members[i][keep]
        self.pos[self.members[i]] = np.arange(len(self.members[i]))
        self.dist[i] = sub
        s = len(self.members[j])
        self.members[j] = np.concatenate([self.members[j], nodes])
        self.pos[nodes] = np.arange(s, s + len(nodes))
        self.dist[j] = grown
        self.territory[nodes] = j
        self.diam[i], self.diam[j] = new_i, new_j
        self._find_ends(i)
        self._find_ends(j)
        moved = self.measures[nodes].sum(axis=0)
        self.loads[i] -= moved
        self.loads[j] += moved
        self.viol[[i, j]] = self.violation(self.loads[[i, j]], np.array([i, j]))
        self.version[[i, j]] += 1


# --------------------------------------------------------------------------------------
# Phase 2: tabu search
# --------------------------------------------------------------------------------------


def _score_key(state: _State):
    """Lexicographic quality of an alignment: (violation, largest diameter, mean diameter).

    A territory in pieces counts as a violation of 1e6, so that a connected alignment
    always beats one in pieces.
    """
    pieces = float((~np.isfinite(state.diam)).sum())
    return (round(float(state.viol.sum()) + 1e6 * pieces, 12), float(state.diam.max()), float(state.diam.mean()))


def _tabu_search(state: _State, movable, rng, *, max_iterations, deadline, penalty, stall_limit, on_best):
    """Tabu search on boundary moves from ``state`` (modified in place).

    Returns the number of moves made. ``on_best(state)`` is called whenever the alignment
    improves on the best seen in this call (by ``_score_key``).
    """
    graph, k = state.graph, state.k
    n = graph.n
    tabu_until = np.zeros((n, k), dtype=np.int64)
    # Caches of the removal diameters (per block) and the addition estimates (per block and
    # destination), valid while the versions of the territories involved are unchanged.
    rem_version = np.full(n, -1, dtype=np.int64)
    rem_value = np.zeros(n)
    rem_is_exact = np.zeros(n, bool)
    add_version = np.full((n, k), -1, dtype=np.int64)
    add_source_version = np.full((n, k), -1, dtype=np.int64)
    add_value = np.zeros((n, k))
    add_is_exact = np.zeros((n, k), bool)
    node_ok = np.zeros(n, bool)
    node_end = np.zeros(n, bool)
    node_load = np.zeros((n, state.measures.shape[1]))
    best = _score_key(state)
    scale = max(float(np.nanmax(np.where(np.isfinite(state.diam), state.diam, 0))), 1e-9)
    lam = penalty * scale
    iteration = 0
    since_best = 0
    src_all = graph.src
    dst_all = graph.indices
    pad = np.zeros(2)
    while iteration < max_iterations and since_best < stall_limit and iteration < 4 * stall_limit:
        if time.perf_counter() > deadline:
            break
        terr = state.territory
        cross = (terr[src_all] != terr[dst_all]) & movable[src_all]
        keys = np.unique(src_all[cross] * k + terr[dst_all[cross]])
        if len(keys) == 0:
            break
        blocks = keys // k
        dest = keys % k
        source = terr[blocks]
        info = {}
        for j in np.unique(source).tolist():
            info[j] = state.branches(j, movable)
            node_ok[state.members[j]] = info[j][2]
            node_load[state.members[j]] = info[j][1]
            node_end[state.members[j]] = state.branch_holds_end[j]
        ok = node_ok[blocks]
        if not ok.any():
            break
        keys, blocks, dest, source = keys[ok], blocks[ok], dest[ok], source[ok]
        position = state.pos[blocks]
        moved = [info[i][0][p] for i, p in zip(source.tolist(), position.tolist())]
        mv = node_load[blocks]
        version = state.version
        vi_all = version[source]
        vj_all = version[dest]
        stale = np.flatnonzero(rem_version[blocks] != vi_all)
        if stale.size:
            # A block leaving (with its branch) without either end of its territory's
            # longest path: the diameter is a lower bound (``remove_diameter(exact=False)``)
            # without a call (allowed moves never empty a territory).
            v, i = blocks[stale], source[stale]
            quick = (state.ends[i, 0] >= 0) & ~node_end[v]
            rem_value[v[quick]] = state.diam[i[quick]]
            rem_is_exact[v[quick]] = False
            rem_version[v[quick]] = vi_all[stale[quick]]
            for c in stale[~quick].tolist():
                v = int(blocks[c])
                if rem_version[v] != vi_all[c]:
                    rem_value[v], _, rem_is_exact[v] = state.remove_diameter(v, moved[c], exact=False)
                    rem_version[v] = vi_all[c]
        stale = np.flatnonzero((add_version[blocks, dest] != vj_all) | (add_source_version[blocks, dest] != vi_all))
        if stale.size:
            stale_blocks, stale_dest = blocks[stale], dest[stale]
            for j in np.unique(stale_dest).tolist():
                joining = stale_blocks[stale_dest == j]  # distinct: one candidate per (block, j)
                add_value[joining, j] = state.add_estimates(joining, j)
            add_is_exact[stale_blocks, stale_dest] = False
            add_version[stale_blocks, stale_dest] = vj_all[stale]
            add_source_version[stale_blocks, stale_dest] = vi_all[stale]
        rem = rem_value[blocks]
        rem_exact = rem_is_exact[blocks]
        add = add_value[blocks, dest]
        add_exact = add_is_exact[blocks, dest]
        diam = np.concatenate([state.diam, pad])
        top = np.argsort(-diam, kind="stable")[:3]
        other = np.full(len(keys), 0.0)
        for t in top[::-1]:
            other = np.where((source != t) & (dest != t), diam[t], other)
        diam_base = state.diam.sum() - state.diam[source] - state.diam[dest]
        # Deviations after the move, each computed once for both bands.
        inv_source, inv_dest = state.inv_target[source], state.inv_target[dest]
        dev_source = np.abs((state.loads[source] - mv) * inv_source - 1.0) * (inv_source > 0)
        dev_dest = np.abs((state.loads[dest] + mv) * inv_dest - 1.0) * (inv_dest > 0)
        new_viol = (
            state.viol.sum()
            - state.viol[source]
            - state.viol[dest]
            + np.clip(dev_source - state.tolerance, 0.0, None).sum(axis=-1)
            + np.clip(dev_dest - state.tolerance, 0.0, None).sum(axis=-1)
        )
        new_viol = np.where(new_viol < 1e-12, 0.0, new_viol)
        # A softer pull towards the middle of the band keeps room for later moves (without
        # it, balance repair parks every load on the edge of the band and gets stuck).
        aim = _AIM * state.tolerance
        soft_now = state.violation(state.loads, np.arange(k), band=aim)
        new_soft = (
            soft_now.sum()
            - soft_now[source]
            - soft_now[dest]
            + np.clip(dev_source - aim, 0.0, None).sum(axis=-1)
            + np.clip(dev_dest - aim, 0.0, None).sum(axis=-1)
        )
        not_tabu = tabu_until[blocks, dest] <= iteration
        penalty_term = lam * (new_viol + _SOFT * new_soft)
        viol_better = new_viol < best[0] - 1e-12
        viol_level = new_viol <= best[0] + 1e-12

        def scores(idx):
            """Scores of the candidates ``idx`` (inf when not allowed)."""
            new_max = np.maximum(other[idx], np.maximum(rem[idx], add[idx]))
            score = new_max + _ALPHA * (diam_base[idx] + rem[idx] + add[idx]) / k + penalty_term[idx]
            # Aspiration: a tabu move is allowed when it gives the best alignment so far.
            better = viol_better[idx] | (viol_level[idx] & (new_max < best[1] - 1e-9))
            allowed = np.isfinite(score) & (not_tabu[idx] | better)
            return np.where(allowed, score, np.inf)

        # Lazy evaluation: a removal's diameter may be a lower bound and an addition's an
        # estimate; the best move so ranked is evaluated exactly until the best is exact
        # (only the scores of the candidates re-evaluated change).
        score = scores(slice(None))
        while True:
            c = int(np.argmin(score))
            found = bool(np.isfinite(score[c]))
            if not found or (rem_exact[c] and add_exact[c]):
                break
            v, j = int(blocks[c]), int(dest[c])
            changed = np.array([c])
            if not rem_exact[c]:
                value = state.remove_diameter(v, moved[c])[0]
                rem_value[v], rem_is_exact[v], rem_version[v] = value, True, vi_all[c]
                changed = np.flatnonzero(blocks == v)
                rem[changed] = value
                rem_exact[changed] = True
            if not add_exact[c]:
                value = state.add_diameter(moved[c], j)[0]
                add_value[v, j], add_is_exact[v, j] = value, True
                add_version[v, j], add_source_version[v, j] = vj_all[c], vi_all[c]
                add[c] = value
                add_exact[c] = True
            score[changed] = scores(changed)
        if not found:
            break
        v, j, i = int(blocks[c]), int(dest[c]), int(source[c])
        state.move(v, moved[c], j)
        tabu_until[moved[c], i] = iteration + int(rng.integers(7, 17))
        iteration += 1
        since_best += 1
        key = _score_key(state)
        if key < best:
            best = key
            since_best = 0
            on_best(state)
        # Strategic oscillation of the penalty weight.
        if state.viol.sum() > 0:
            lam = min(lam * _PENALTY_STEP, _PENALTY_MAX * scale)
        else:
            lam = max(lam / _PENALTY_STEP, _PENALTY_MIN * scale)
    return iteration


def _chain_repair(state: _State, movable, *, rounds: int = 60, deadline: float = np.inf) -> int:
    """Balance repair by ejection chains (in place); returns the moves made.

    A chain gives a block (with its branch) from a territory out of balance to a neighbour
    ``B``, then a block of ``B`` to another neighbour ``C``, and so on (up to ``_CHAIN_DEPTH`` links,
    found by :func:`_chain_candidates`), so that load can flow across territories that are
    themselves in balance; chains are ranked on loads only (summed balance violation plus
    the soft term) and kept only if every territory stays connected and the violation
    falls. Single moves are the chains of length one. In the spirit of Glover's (1996)
    ejection chains.
    """
    k = state.k
    graph = state.graph
    aim = _AIM * state.tolerance
    made = 0

    def objective(loads, territories):
        return state.violation(loads, territories) + _SOFT * state.violation(loads, territories, band=aim)

    for _ in range(rounds):
        if state.viol.sum() <= 0 or time.perf_counter() > deadline:
            break
        terr = state.territory
        per = objective(state.loads, np.arange(k))
        cross = (terr[graph.src] != terr[graph.indices]) & movable[graph.src]
        keys = np.unique(graph.src[cross] * k + terr[graph.indices[cross]])
        blocks, dest = keys // k, keys % k
        source = terr[blocks]
        info = {int(j): state.branches(int(j), movable) for j in range(k)}
        position = state.pos[blocks]
        ok = np.array([info[int(i)][2][p] for i, p in zip(source, position)], dtype=bool)
        blocks, dest, source, position = blocks[ok], dest[ok], source[ok], position[ok]
        mv = np.array([info[int(i)][1][p] for i, p in zip(source, position)]).reshape(-1, state.loads.shape[1])
        chains = _chain_candidates(state.loads, per, source, dest, mv, state.viol, objective)
        chains.sort(key=lambda x: -x[0])
        applied = False
        for _, chain in chains[:_CHAIN_TRIES]:
            if _apply_chain(state, chain, blocks, dest, source, movable, objective, aim):
                made += len(chain)
                applied = True
                break
        if not applied:
            break
    return made


def _chain_candidates(loads, per, source, dest, mv, viol, objective, *, depth=None, beam=None):
    """Improving chains of moves along paths of neighbouring territories (beam search).

    Forward chains start with a move out of a territory out of balance and continue with a
    move out of the territory that just received; backward chains end with a move into a
    territory out of balance and are extended at their start. On sparse graphs the
    territories touch along few borders (often a tree of territories), so load must cross
    several territories to reach one with room. Returns ``(gain, moves)`` pairs, where a
    move is an index into the candidate arrays, in the order to make them.
    """
    depth = _CHAIN_DEPTH if depth is None else depth
    beam = _CHAIN_BEAM if beam is None else beam
    out = []
    by_source = {int(j): np.flatnonzero(source == j) for j in np.unique(source)}
    by_dest = {int(j): np.flatnonzero(dest == j) for j in np.unique(dest)}
    for forward in (True, False):
        starts = np.flatnonzero(viol[source if forward else dest] > 0)
        # A partial chain: (moves, touched loads {territory: load}, visited, end territory).
        level = []
        for c in starts:
            i, b = int(source[c]), int(dest[c])
            touched = {i: loads[i] - mv[c], b: loads[b] + mv[c]}
            level.append(((int(c),), touched, {i, b}, b if forward else i))
        for _ in range(depth):
            scored = []
            for moves, touched, visited, end in level:
                ts = np.array(list(touched))
                gain = per[ts].sum() - objective(np.array([touched[t] for t in ts]), ts).sum()
                if gain > 1e-12:
                    out.append((float(gain), moves if forward else moves[::-1]))
                scored.append((gain, moves, touched, visited, end))
            nxt = []
            for gain, moves, touched, visited, end in scored:
                pool = by_source.get(end, ()) if forward else by_dest.get(end, ())
                if len(pool) == 0:
                    continue
                pool = np.asarray(pool)
                far = dest[pool] if forward else source[pool]
                pool = pool[~np.isin(far, list(visited))]
                if len(pool) == 0:
                    continue
                far = dest[pool] if forward else source[pool]
                sign = -1.0 if forward else 1.0
                end_load = touched[end] + sign * mv[pool]
                far_load = loads[far] - sign * mv[pool]
                others = per[list(touched)].sum() - objective(
                    np.array([touched[t] for t in touched if t != end]).reshape(-1, loads.shape[1]),
                    np.array([t for t in touched if t != end], dtype=np.int64),
                ).sum()
                g = (
                    others
                    + per[end] + per[far]
                    - objective(end_load, np.full(len(pool), end))
                    - objective(far_load, far)
                )
                for m in np.argsort(-g)[:beam]:
                    t = int(far[m])
                    new_touched = dict(touched)
                    new_touched[end] = end_load[m]
                    new_touched[t] = far_load[m]
                    nxt.append((float(g[m]), moves + (int(pool[m]),), new_touched, visited | {t}, t))
            nxt.sort(key=lambda x: -x[0])
            level = [(m, tch, vis, e) for _, m, tch, vis, e in nxt[: beam * max(1, len(starts))]]
            if not level:
                break
        for moves, touched, visited, end in level:
            ts = np.array(list(touched))
            gain = per[ts].sum() - objective(np.array([touched[t] for t in ts]), ts).sum()
            if gain > 1e-12:
                out.append((float(gain), moves if forward else moves[::-1]))
    return out


def _apply_chain(state: _State, chain, blocks, dest, source, movable, objective, aim) -> bool:
    """Make the moves of a chain; undo them and return False unless the balance improved."""
    k = state.k
    before = objective(state.loads, np.arange(k)).sum()
    done = []
    for c in chain:
        v, j = int(blocks[c]), int(dest[c])
        if state.territory[v] != source[c]:
            break
        moved, _, allowed = state.branches(int(source[c]), movable)
        p = state.pos[v]
        if not allowed[p]:
            break
        nodes = moved[p]
        if not np.isfinite(state.remove_diameter(v, nodes)[0]) or not np.isfinite(state.add_diameter(nodes, j)[0]):
            break
        done.append((v, nodes, int(source[c])))
        state.move(v, nodes, j)
    after = objective(state.loads, np.arange(k)).sum()
    if len(done) == len(chain) and after < before - 1e-12:
        return True
    for v, nodes, home in reversed(done):
        state.move(v, nodes, home)
    return False


# --------------------------------------------------------------------------------------
# Balance repair: a tabu search on loads only
# --------------------------------------------------------------------------------------


def _low_point_dfs(adj, root):
    """Iterative depth-first search with Hopcroft & Tarjan's low points.

    ``adj`` lists each node's neighbours (positions 0..s-1). Returns ``(order, disc, end,
    separated)``: the preorder, each node's preorder index (-1 if unreached) and the index one
    past its subtree, and for each node the children whose subtree it cuts off.
    """
    s = len(adj)
    disc = [-1] * s
    low = [0] * s
    end = [0] * s
    parent = [-1] * s
    separated: list[list[int]] = [[] for _ in range(s)]
    order = [root]
    disc[root] = 0
    # A stack of blocks and of iterators over their neighbours, resumed where they stopped
    # (faster in plain Python than an index per stack entry).
    stack = [root]
    pending = [iter(adj[root])]
    while stack:
        u = stack[-1]
        for w in pending[-1]:
            if disc[w] < 0:
                parent[w] = u
                disc[w] = low[w] = len(order)
                order.append(w)
                stack.append(w)
                pending.append(iter(adj[w]))
                break
            if w != parent[u] and disc[w] < low[u]:
                low[u] = disc[w]
        else:
            stack.pop()
            pending.pop()
            end[u] = len(order)
            if stack:
                p = stack[-1]
                if low[u] < low[p]:
                    low[p] = low[u]
                if low[u] >= disc[p]:
                    separated[p].append(u)
    return order, disc, end, separated


def _rooted_branches(adj_lists, tl, members, root, fixed_list):
    """Depth-first search of one territory from ``root`` (Hopcroft & Tarjan's low points).

    Returns ``(order, disc, end, separated, fixed_prefix)`` where ``order`` is the preorder
    (positions into ``members``), ``disc``/``end`` the preorder interval of every subtree,
    ``separated[u]`` the children whose subtree ``u`` cuts off, and ``fixed_prefix`` the
    running count of locked blocks along the preorder.
    """
    local = {int(v): i for i, v in enumerate(members)}
    j = tl[int(members[0])]
    adj = [[local[w] for w in adj_lists[int(v)] if tl[w] == j] for v in members]
    order, disc, end, separated = _low_point_dfs(adj, local[int(root)])
    fixed_prefix = np.concatenate([[0], np.cumsum([fixed_list[int(members[u])] for u in order])])
    return order, disc, end, separated, fixed_prefix


def _recombine(graph: _Graph, terr: np.ndarray, measures, a: int, b: int, per, rng, *, trees: int = 12):
    """Merge two neighbouring territories and split them again along a random spanning tree.

    The recombination step of DeFord, Duchin & Solomon (2021), "Recombination: a family of
    Markov chains for redistricting", Journal of Computational Geometry 12(2): cutting
    one edge of a spanning tree of the union leaves two connected parts. Over ``trees``
    random spanning trees (minimum spanning trees of random weights) every edge is tried,
    both ways round. Returns ``(value, nodes_a)``, the best summed ``per`` score of the two
    territories and the blocks that then form ``a`` (the rest form ``b``), or None.
    """
    nodes = np.flatnonzero((terr == a) | (terr == b))
    s = len(nodes)
    if s < 2:
        return None
    weights = graph.induced_weights(nodes)
    rows = np.repeat(np.arange(s), np.diff(weights.indptr)).tolist()
    cols = weights.indices.tolist()
    load = measures[nodes]
    total = load.sum(axis=0)
    best = None
    for _ in range(trees):
        order, parent = _random_tree(rows, cols, rng.random(len(cols)) + 1e-3, s)
        if len(order) < s:
            return None  # the union is not connected
        # Subtree loads, leaves first (plain lists: a numpy row update per block is slower).
        columns = load.T.tolist()
        up = parent.tolist()
        for x in order[:0:-1].tolist():
            p = up[x]
            for column in columns:
                column[p] += column[x]
        sub = np.array(columns).T.reshape(s, load.shape[1])
        part = sub[order[1:]]
        rest = total - part
        ta, tb = np.full(len(part), a), np.full(len(part), b)
        one = per(part, ta) + per(rest, tb)
        two = per(rest, ta) + per(part, tb)
        for value, flip in ((one, False), (two, True)):
            c = int(np.argmin(value + 1e-9 * rng.random(len(value))))
            if best is None or value[c] < best[0]:
                best = (float(value[c]), order, parent, int(order[1 + c]), flip)
    value, order, parent, x, flip = best
    # The subtree of x: blocks whose chain of parents reaches x.
    inside = np.zeros(s, bool)
    inside[x] = True
    for y in order:
        if y != x and parent[y] >= 0 and inside[parent[y]]:
            inside[y] = True
    part_a = ~inside if flip else inside
    return value, nodes[part_a]


def _random_tree(rows, cols, weights, s):
    """Minimum spanning tree of random edge weights, in breadth-first order from node 0.

    ``rows``/``cols`` list the entries of a symmetric adjacency (each edge twice, each entry
    with its own weight, so an edge weighs the smaller of its two). Kruskal's algorithm with
    a union-find in plain Python (faster than scipy's sparse routines at a few hundred
    edges). Returns ``(order, parent)`` as ``scipy.sparse.csgraph.breadth_first_order``
    does on the tree (neighbours visited in increasing order, parent -9999 for the root);
    ``order`` is shorter than ``s`` when the graph is not connected.
    """
    root = list(range(s))

    def find(x):
        while root[x] != x:
            root[x] = root[root[x]]
            x = root[x]
        return x

    nbrs: list[list[int]] = [[] for _ in range(s)]
    joined = 0
    for e in np.argsort(weights, kind="stable").tolist():
        u, v = rows[e], cols[e]
        ru, rv = find(u), find(v)
        if ru != rv:
            root[ru] = rv
            nbrs[u].append(v)
            nbrs[v].append(u)
            joined += 1
            if joined == s - 1:
                break
    parent = [-9999] * s
    seen = [False] * s
    seen[0] = True
    order = [0]
    i = 0
    while i < len(order):
        u = order[i]
        for v in sorted(nbrs[u]):
            if not seen[v]:
                seen[v] = True
                parent[v] = u
                order.append(v)
        i += 1
    return np.array(order), np.array(parent)


def _connected(graph: _Graph, nodes: np.ndarray) -> bool:
    """Whether ``nodes`` induce a connected subgraph."""
    if len(nodes) <= 1:
        return len(nodes) == 1
    count, _ = connected_components(graph.induced_weights(nodes), directed=False)
    return count == 1


def _best_swap(src, dst, mv, allowed, loads, cur, per, k, *, limit=80, tries=5):
    """The best improving exchanges of two candidate transfers in opposite directions.

    Returns up to ``tries`` pairs ``(c1, c2)`` of candidate indices (``c1`` from ``A`` to
    ``B``, ``c2`` from ``B`` to ``A``), best first; the caller checks connectivity.
    """
    total = cur.sum()
    found = []
    for a in range(k):
        for b in range(a + 1, k):
            i1 = np.flatnonzero(allowed & (src == a) & (dst == b))
            i2 = np.flatnonzero(allowed & (src == b) & (dst == a))
            if len(i1) == 0 or len(i2) == 0:
                continue
            i1 = i1[np.argsort(mv[i1].sum(1))[:limit]]
            i2 = i2[np.argsort(mv[i2].sum(1))[:limit]]
            net = mv[i1][:, None, :] - mv[i2][None, :, :]
            new_a = per(loads[a] - net, np.full(net.shape[:2], a))
            new_b = per(loads[b] + net, np.full(net.shape[:2], b))
            value = total - cur[a] - cur[b] + new_a + new_b
            flat = np.argsort(value, axis=None)[:tries]
            for f in flat:
                p, q = np.unravel_index(f, value.shape)
                if value[p, q] < total - 1e-12:
                    found.append((float(value[p, q]), int(i1[p]), int(i2[q])))
    found.sort()
    return [(c1, c2) for _, c1, c2 in found[:tries]]


def _balancing_flow(loads, inv_target, pairs, k):
    """Smallest flows of load between neighbouring territories that balance every measure.

    A linear program per measure (a transportation problem on the graph of territories):
    non-negative flows on both directions of every pair of neighbours, the net outflow of
    every territory equal to its excess over its target, minimising the summed flow.
    Returns ``flow`` (k, k, M) in shares of the source's target, or None when infeasible.
    """
    from scipy.optimize import linprog

    a, b = np.divmod(np.asarray(pairs), k)
    e = len(a)
    if e == 0:
        return None
    target = 1.0 / np.where(inv_target > 0, inv_target, np.inf)
    excess = loads - target
    incidence = np.zeros((k, e))
    incidence[a, np.arange(e)] = 1.0
    incidence[b, np.arange(e)] = -1.0
    M = loads.shape[1]
    flow = np.zeros((k, k, M))
    for m in range(M):
        scale = target[:, m].mean()
        if not np.isfinite(scale) or scale <= 0:
            continue
        res = linprog(np.ones(e), A_eq=incidence, b_eq=excess[:, m] / scale, bounds=(0, None), method="highs")
        if res.status != 0:
            return None
        flow[a, b, m] = res.x
    return flow


def _balance_search(
    graph: _Graph, territory, measures, inv_target, tolerance, movable, k, rng, *, deadline, max_moves=2000
) -> np.ndarray:
    """Tabu search on loads only, towards every measure of every territory in balance.

    The search ignores diameters: it is the feasibility phase, run after the construction
    and whenever the best alignment is out of balance. A move gives a connected set of
    blocks from a territory ``A`` to a neighbour ``B`` and keeps both connected: with a
    depth-first search of ``A`` rooted at a block ``r`` next to ``B``, every block ``x``
    cuts off a branch (``x`` and the subtrees it separates from ``r``); ``B`` may take the
    branch (when ``x`` touches ``B``) or everything but the branch (``r`` touches ``B``).
    On a tree this is every connected transfer across the border, so load can be shifted
    in fine steps even on sparse, tree-like graphs, where single-block moves are rare.
    Scored by the balance violation plus the soft term (``_SOFT`` times the excess over
    ``_AIM`` of the tolerance), with a tabu list on the blocks moved (Glover's tabu search,
    as in the shift neighbourhood of Ríos-Mercado & Fernández's GRASP). Returns the best
    alignment found (a new array).
    """
    n = graph.n
    M = measures.shape[1]
    aim = _AIM * tolerance
    tl = territory.tolist()
    adj_lists = [graph.indices[graph.indptr[v] : graph.indptr[v + 1]].tolist() for v in range(n)]
    fixed_list = (~movable).astype(int).tolist()
    loads = np.zeros((k, M))
    np.add.at(loads, territory, measures)
    has = inv_target > 0

    def per(load, t):
        dev = np.abs(load * inv_target[t] - 1.0) * has[t]
        return np.clip(dev - tolerance, 0.0, None).sum(-1) + _SOFT * np.clip(dev - aim, 0.0, None).sum(-1)

    def viol(load):
        dev = np.abs(load * inv_target - 1.0) * has
        return float(np.clip(dev - tolerance, 0.0, None).sum())

    version = np.zeros(k, dtype=np.int64)
    cache: dict = {}
    tabu_until = np.full((n, k), -1, dtype=np.int64)
    fixed_arr = (~movable).astype(np.int64)
    cur = per(loads, np.arange(k))
    best_value = float(cur.sum())
    best_hard = viol(loads)
    best = territory.copy()
    since = 0
    for it in range(max_moves):
        if best_value <= 1e-12 or since > 100 or time.perf_counter() > deadline:
            break
        if best_hard <= 1e-12 and since > 20:
            break  # in balance, and the soft band no longer improving
        terr = np.asarray(tl)
        members = [np.flatnonzero(terr == j) for j in range(k)]
        cross = terr[graph.src] != terr[graph.indices]
        pairs = np.unique(terr[graph.src[cross]] * k + terr[graph.indices[cross]])
        # Border blocks of every territory with each foreign territory they touch.
        border = np.unique(graph.src[cross] * k + terr[graph.indices[cross]])
        border_v, border_t = np.divmod(border, k)
        border_a = terr[border_v]
        rank = np.empty(n, dtype=np.int64)
        for j in range(k):
            rank[members[j]] = np.arange(len(members[j]))
        border_u = rank[border_v]
        cut = np.searchsorted(border_a, np.arange(k + 1)) if border_a.size and np.all(border_a[:-1] <= border_a[1:]) else None
        if cut is None:
            order_a = np.argsort(border_a, kind="stable")
            border_v, border_t, border_a, border_u = border_v[order_a], border_t[order_a], border_a[order_a], border_u[order_a]
            cut = np.searchsorted(border_a, np.arange(k + 1))
        pair_keys = []
        parts_src, parts_dst, parts_load, parts_pair, parts_u, parts_kind, parts_v = [], [], [], [], [], [], []
        for key in pairs.tolist():
            a, b = divmod(key, k)
            if len(members[a]) < 2:
                continue
            hit = cache.get((a, b))
            if hit is None or hit[0] != (version[a], version[b]):
                sel = cross & (terr[graph.src] == a) & (terr[graph.indices] == b)
                roots = np.unique(graph.src[sel])
                root = int(roots[rng.integers(len(roots))])
                dfs = _rooted_branches(adj_lists, tl, members[a], root, fixed_list)
                order, disc, end, separated, fixed_prefix = dfs
                s = len(order)
                mem = members[a]
                prefix = np.zeros((s + 1, M))
                np.cumsum(measures[mem[order]], axis=0, out=prefix[1:])
                branch = measures[mem].copy()
                branch_fixed = fixed_arr[mem].copy()
                for u in range(s):
                    for c in separated[u]:
                        branch[u] += prefix[end[c]] - prefix[disc[c]]
                        branch_fixed[u] += fixed_prefix[end[c]] - fixed_prefix[disc[c]]
                total_fixed = int(fixed_prefix[-1])
                # The root must still touch b: the entry is stale once either changes.
                hit = ((version[a], version[b]), root, dfs, branch, branch_fixed, total_fixed)
                cache[(a, b)] = hit
            _, root, dfs, branch, branch_fixed, total_fixed = hit
            p = len(pair_keys)
            pair_keys.append((a, b))
            r_local = dfs[0][0]
            if len(dfs[3][r_local]) == 1 and not fixed_list[root]:
                # The root alone, when it is not a cut vertex (a single depth-first child).
                parts_src.append(np.array([a]))
                parts_dst.append(np.array([b]))
                parts_load.append(measures[root][None, :])
                parts_pair.append(np.array([p]))
                parts_u.append(np.array([r_local]))
                parts_kind.append(np.array([0]))
                parts_v.append(np.array([root]))
            # The branch of a border block, to any territory that block touches.
            bu = border_u[cut[a] : cut[a + 1]]
            ok = (bu != r_local) & (branch_fixed[bu] == 0)
            bu = bu[ok]
            parts_src.append(np.full(len(bu), a))
            parts_dst.append(border_t[cut[a] : cut[a + 1]][ok])
            parts_load.append(branch[bu])
            parts_pair.append(np.full(len(bu), p))
            parts_u.append(bu)
            parts_kind.append(np.ones(len(bu), dtype=np.int64))
            parts_v.append(border_v[cut[a] : cut[a + 1]][ok])
            # Everything but a branch, to b (the root stays next to b).
            cu = np.flatnonzero(total_fixed - branch_fixed == 0)
            cu = cu[cu != r_local]
            parts_src.append(np.full(len(cu), a))
            parts_dst.append(np.full(len(cu), b))
            parts_load.append(loads[a] - branch[cu])
            parts_pair.append(np.full(len(cu), p))
            parts_u.append(cu)
            parts_kind.append(np.full(len(cu), 2))
            parts_v.append(np.full(len(cu), root))
        src = np.concatenate(parts_src).astype(np.int64) if parts_src else np.zeros(0, np.int64)
        if not len(src):
            break
        dst = np.concatenate(parts_dst).astype(np.int64)
        mv = np.concatenate(parts_load)
        ref_pair = np.concatenate(parts_pair)
        ref_u = np.concatenate(parts_u)
        ref_kind = np.concatenate(parts_kind)
        ref_v = np.concatenate(parts_v).astype(np.int64)
        new_total = cur.sum() - cur[src] - cur[dst] + per(loads[src] - mv, src) + per(loads[dst] + mv, dst)
        allowed = tabu_until[ref_v, dst] < it
        allowed |= new_total < best_value - 1e-12
        if not allowed.any():
            break
        score = np.where(allowed, new_total + 1e-9 * rng.random(len(src)), np.inf)
        c = int(np.argmin(score))

        def nodes_of(c):
            a, b = pair_keys[int(ref_pair[c])]
            u, kind = int(ref_u[c]), int(ref_kind[c])
            order, disc, end, separated, _ = cache[(a, b)][2]
            mem = members[a]
            local = [u] if kind == 0 else [u] + [order[i] for ch in separated[u] for i in range(disc[ch], end[ch])]
            if kind == 2:
                keep = np.zeros(len(mem), bool)
                keep[local] = True
                return mem[~keep]
            return mem[local]

        def give(c, nodes):
            a, t = int(src[c]), int(dst[c])
            for v in nodes.tolist():
                tl[v] = t
                tabu_until[v, a] = it + int(rng.integers(7, 17))
            loads[a] -= mv[c]
            loads[t] += mv[c]
            cur[[a, t]] = per(loads[[a, t]], np.array([a, t]))
            version[[a, t]] += 1

        done = False
        if score[c] >= cur.sum() - 1e-12:
            # Recombination of the territory furthest out of balance with each neighbour.
            terr = np.asarray(tl)
            worst = int(np.argmax(cur + 1e-12 * rng.random(k)))
            found = None
            for key in pairs.tolist():
                a, b = divmod(key, k)
                if a != worst or not movable[(terr == a) | (terr == b)].all():
                    continue
                hit = _recombine(graph, terr, measures, a, b, per, rng)
                if hit is not None and hit[0] < cur[a] + cur[b] - 1e-12 and (found is None or hit[0] - cur[a] - cur[b] < found[0]):
                    found = (hit[0] - cur[a] - cur[b], a, b, hit[1])
            if found is not None:
                _, a, b, nodes_a = found
                union = np.flatnonzero((terr == a) | (terr == b))
                for v in union.tolist():
                    tl[v] = b
                for v in nodes_a.tolist():
                    tl[v] = a
                for v in union.tolist():
                    if terr[v] != tl[v]:
                        tabu_until[v, int(terr[v])] = it + int(rng.integers(7, 17))
                for j in (a, b):
                    loads[j] = measures[np.asarray(tl) == j].sum(axis=0)
                cur[[a, b]] = per(loads[[a, b]], np.array([a, b]))
                version[[a, b]] += 1
                done = True
        if not done and score[c] >= cur.sum() - 1e-12:
            # No improving move: try swaps (a set each way between two neighbours, which
            # trades one measure for another), then follow the balancing flow, so that
            # load crosses territories that are themselves in balance.
            swap = _best_swap(src, dst, mv, allowed, loads, cur, per, k)
            for c1, c2 in swap:
                n1, n2 = nodes_of(c1), nodes_of(c2)
                if np.intersect1d(n1, n2).size:
                    continue
                give(c1, n1)
                give(c2, n2)
                pair = [int(src[c1]), int(dst[c1])]
                if all(_connected(graph, np.flatnonzero(np.asarray(tl) == j)) for j in pair):
                    done = True
                    break
                # Undo: a territory came apart.
                for v in n1.tolist():
                    tl[v] = pair[0]
                for v in n2.tolist():
                    tl[v] = pair[1]
                loads[pair[0]] += mv[c1] - mv[c2]
                loads[pair[1]] -= mv[c1] - mv[c2]
                cur[pair] = per(loads[pair], np.array(pair))
            if not done:
                flow = _balancing_flow(loads, inv_target, pairs, k)
                if flow is not None:
                    want = flow[src, dst]
                    gain = np.abs(want).sum(1) - np.abs(want - mv * inv_target[src]).sum(1)
                    gain = np.where(allowed & (gain > 1e-9), gain, -np.inf)
                    if np.isfinite(gain).any():
                        c = int(np.argmax(gain))
        if not done:
            give(c, nodes_of(c))
        since += 1
        value = float(cur.sum())
        if value < best_value - 1e-12:
            best_value = value
            best_hard = viol(loads)
            best = np.asarray(tl, dtype=np.int64)
            since = 0
    return best


# --------------------------------------------------------------------------------------
# Phase 3: large neighbourhood search (destroy and regrow)
# --------------------------------------------------------------------------------------


def _destroy_regrow(graph, adjacency, state: _State, fixed, unit_share, load_share_of, rng, k, tolerance):
    """Dissolve the worst territory and one to three of its neighbours; regrow them."""
    terr = state.territory
    # The territory furthest out of balance while the best alignment is out of balance,
    # else the one with the largest diameter.
    focus = state.viol if state.viol.sum() > 0 else np.where(np.isfinite(state.diam), state.diam, 1e300)
    worst = int(np.argmax(focus + rng.random(k) * 1e-12 * (1 + focus.max())))
    members = state.members[worst]
    cols = graph.indices[np.concatenate([np.arange(graph.indptr[v], graph.indptr[v + 1]) for v in members])]
    neighbours = np.unique(terr[cols])
    neighbours = neighbours[neighbours != worst]
    size = min(len(neighbours), int(rng.integers(1, 4)))
    chosen = [worst] + list(rng.choice(neighbours, size=size, replace=False)) if size else [worst]
    chosen = np.array(chosen, dtype=np.int64)
    dissolved = np.isin(terr, chosen) & ~fixed
    partial = terr.copy()
    partial[dissolved] = -1
    union = np.flatnonzero(np.isin(terr, chosen))
    # New seeds: farthest-point seeding restricted to the union, on its induced subgraph.
    sub = adjacency[union][:, union]
    start = int(rng.integers(len(union)))
    d = shortest_path(sub, directed=False, indices=start)
    picks = [start]
    for _ in range(1, len(chosen)):
        dd = np.where(np.isfinite(d), d, -1.0)
        dd[picks] = -1
        picks.append(int(dd.argmax()))
        d = np.minimum(d, shortest_path(sub, directed=False, indices=picks[-1]))
    # Each chosen territory starts again from one new seed (or from its locked blocks).
    seeds = np.zeros(k, dtype=np.int64)
    for j, s in zip(chosen, union[picks]):
        own = np.flatnonzero(partial == j)
        if len(own):
            seeds[j] = own[0]
        elif partial[s] < 0:
            partial[s] = j
            seeds[j] = s
        else:
            s = union[np.flatnonzero(partial[union] < 0)[0]]
            partial[s] = j
            seeds[j] = s
    # Regrow as priced graph-Voronoi cells inside the union (as in the construction), with
    # seeds moving to their territory's 1-centre.
    free = union[partial[union] < 0]
    grown = partial
    for _ in range(3):
        local = np.searchsorted(union, seeds[chosen])
        d = shortest_path(sub, directed=False, indices=local)
        d = np.where(np.isfinite(d), d, 1e18)
        free_local = np.searchsorted(union, free)
        d = d[:, free_local]
        price = np.zeros(len(chosen))
        step = float(np.median(d.min(axis=0))) + 1e-12
        assign = partial.copy()
        for _ in range(60):
            assign[free] = chosen[np.argmin(d - price[:, None], axis=0)]
            gap = load_share_of(assign)[chosen] - 1.0
            if np.abs(gap).max() <= tolerance / 2:
                break
            price -= step * gap
            step *= 0.95
        assign[seeds[chosen]] = chosen
        assign = _keep_largest_pieces(adjacency, assign, fixed, k)
        grown = _grow(graph, adjacency, assign, seeds, load_share_of(assign), unit_share, k, growing=chosen)
        moved = seeds.copy()
        for j in chosen:
            nodes = np.flatnonzero(grown == j)
            if fixed[nodes].any():
                continue
            moved[j] = nodes[int(np.argmin(graph.distances(nodes).max(axis=1)))]
        if np.array_equal(moved, seeds):
            break
        seeds = moved
    return grown


# --------------------------------------------------------------------------------------
# The public function
# --------------------------------------------------------------------------------------


def design_contiguous(
    adjacency,
    measures,
    *,
    k: int,
    tolerance: float = 0.05,
    targets=None,
    coords=None,
    locked=None,
    initial=None,
    seed: int = 0,
    time_limit_s: float = 10.0,
    max_iterations: int | None = None,
    progress: Progress | None = None,
) -> ContiguousResult:
    """Design ``k`` connected, balanced territories of building blocks with small diameters.

    Parameters
    ----------
    adjacency : scipy sparse array or matrix, shape (n, n)
        Symmetric adjacency of the building blocks; an entry is the distance of an edge
        (> 0, e.g. km between the blocks' centres or road km).
    measures : array-like, shape (n, M) or (n,)
        Non-negative activity of every block (accounts, potential in currency per year,
        workload in hours, ...), each balanced on its own.
    k : int
        Number of territories.
    tolerance : float
        Allowed deviation of each measure from its target in every territory, as a
        fraction (0.05 = ±5%).
    targets : array-like, shape (k,), optional
        Share of every measure's total that each territory should carry (normalised to sum
        to 1). Default: ``1 / k`` each.
    coords : array-like, shape (n, 2), optional
        Planar coordinates of the blocks (km or any planar unit), used to place the seeds.
    locked : array-like of int, shape (n,), optional
        Territory index a block must keep, or -1 for a free block.
    initial : array-like of int, shape (n,), optional
        A warm start: the current alignment. Territories that are not connected keep their
        largest piece and the rest is regrown.
    seed : int
        Seed of the random choices (seeds, tabu tenures, destroy choices).
    time_limit_s : float
        Wall-time budget of the search, s.
    max_iterations : int, optional
        Budget of local-search moves. With a budget that the time limit does not cut
        short, the result depends only on the inputs and ``seed``.
    progress : callable, optional
        ``progress(message, fraction)`` called now and then.

    Returns
    -------
    ContiguousResult
        The best alignment in balance found; when none is found, the one with the smallest
        balance violation, with ``feasible=False``.

    Raises
    ------
    InputError
        Bad adjacency, measures, coords, locked or initial arrays.
    SettingsError
        Bad ``k``, ``tolerance`` or ``targets``.
    """
    started = time.perf_counter()
    deadline = started + float(time_limit_s)
    max_iterations = np.iinfo(np.int64).max if max_iterations is None else int(max_iterations)
    adjacency, measures, k, targets, coords, locked, initial = _validate(
        adjacency, measures, k, tolerance, targets, coords, locked, initial
    )
    n = adjacency.shape[0]
    rng = np.random.default_rng(seed)
    graph = _Graph(adjacency)
    totals = measures.sum(axis=0)
    target_loads = targets[:, None] * totals[None, :]
    inv_target = np.divide(1.0, target_loads, out=np.zeros_like(target_loads), where=target_loads > 0)
    valid = totals > 0
    share = np.divide(measures, totals, out=np.zeros_like(measures), where=totals > 0)
    unit_share = share[:, valid].mean(axis=1) if valid.any() else np.full(n, 1.0 / n)
    fixed = np.zeros(n, bool) if locked is None else locked >= 0

    def load_share_of(partial):
        placed = partial >= 0
        load = np.bincount(partial[placed], unit_share[placed], minlength=k)
        return load / targets

    def report(message, fraction):
        if progress is not None:
            progress(message, min(max(fraction, 0.0), 1.0))

    # Phase 1: construction (or repair of the warm start).
    report("Placing seeds", 0.0)
    if initial is not None:
        partial = initial.copy()
        if locked is not None:
            partial[fixed] = locked[fixed]
        partial = _keep_largest_pieces(adjacency, partial, fixed, k)
        seeds = np.array([np.flatnonzero(partial == j)[0] if (partial == j).any() else -1 for j in range(k)])
    else:
        partial = np.full(n, -1, dtype=np.int64)
        if locked is not None:
            partial[fixed] = locked[fixed]
        seeds = np.full(k, -1)
    missing = [j for j in range(k) if seeds[j] < 0 or not (partial == j).any()]
    for j in range(k):
        if seeds[j] < 0 and (partial == j).any():
            seeds[j] = np.flatnonzero(partial == j)[0]
    missing = [j for j in range(k) if seeds[j] < 0]
    if missing:
        weight = unit_share + 1e-12
        if coords is not None:
            candidates = _kmeans_seeds(coords, weight, k, rng)
        else:
            candidates = _farthest_seeds(adjacency, k, rng)
        free = [int(c) for c in candidates if partial[c] < 0]
        extra = [int(v) for v in rng.permutation(np.flatnonzero(partial < 0)) if int(v) not in set(free)]
        pool = free + extra
        for j in missing:
            s = pool.pop(0)
            partial[s] = j
            seeds[j] = s
    if initial is None and (locked is None or not fixed.any()):
        territory = _priced_voronoi(graph, adjacency, seeds, unit_share, targets, fixed, locked, k, tolerance)
    else:
        territory = _grow(graph, adjacency, partial, seeds, load_share_of(partial), unit_share, k)

    movable = ~fixed
    state = _State(graph, territory, measures, inv_target, tolerance, k)
    if k > 1 and state.viol.sum() > 0:
        # Feasibility first: a search on loads only, with a share of the time budget; while
        # it fails, fresh constructions from new seeds (when nothing is locked or given).
        share_deadline = min(deadline, started + 0.5 * float(time_limit_s))
        territory = _balance_search(
            graph, territory, measures, inv_target, tolerance, movable, k, rng, deadline=share_deadline
        )
        state = _State(graph, territory, measures, inv_target, tolerance, k)
        restarts = 0
        fresh = initial is None and not fixed.any()
        while fresh and state.viol.sum() > 0 and restarts < 8 and time.perf_counter() < share_deadline:
            restarts += 1
            weight = unit_share + 1e-12
            seeds = _kmeans_seeds(coords, weight, k, rng) if coords is not None else _farthest_seeds(adjacency, k, rng)
            again = _priced_voronoi(graph, adjacency, seeds, unit_share, targets, fixed, locked, k, tolerance)
            again = _balance_search(
                graph, again, measures, inv_target, tolerance, movable, k, rng, deadline=share_deadline
            )
            candidate = _State(graph, again, measures, inv_target, tolerance, k)
            if _score_key(candidate)[0] < _score_key(state)[0]:
                state = candidate
    # The best alignment of the whole search, and the best since the last fresh start
    # (the base of the destroy-and-regrow restarts).
    best: dict = {}
    local: dict = {}

    def on_best(s: _State):
        key = _score_key(s)
        for record in (best, local):
            if "key" not in record or key < record["key"]:
                record["key"] = key
                record["territory"] = s.territory.copy()

    on_best(state)
    iterations = 0
    rounds = 0
    idle = 0
    stagnant = 0
    local_before = local["key"]
    fresh = initial is None and not fixed.any()
    while k > 1 and idle < 3 and iterations < max_iterations and time.perf_counter() < deadline:
        moves = _tabu_search(
            state,
            movable,
            rng,
            max_iterations=max_iterations - iterations,
            deadline=deadline,
            penalty=2.0,
            # Short rounds: more destroy-and-regrow restarts, which beat longer tabu walks
            # within the same time (DTDP group1, 10 s).
            stall_limit=60 + n // k,
            on_best=on_best,
        )
        iterations += moves
        rounds += 1
        budget = min(
            (time.perf_counter() - started) / max(time_limit_s, 1e-9),
            iterations / max_iterations if max_iterations < np.iinfo(np.int64).max else 0.0,
        )
        report(f"Search round {rounds}: largest diameter {best['key'][1]:.4g}", budget)
        idle = idle + 1 if moves == 0 else 0
        if iterations >= max_iterations or time.perf_counter() >= deadline:
            break
        stagnant = 0 if local["key"] < local_before else stagnant + 1
        if (
            fresh
            and stagnant >= _STAGNANT_ROUNDS
            and local["key"][0] <= 0
            and time.perf_counter() < started + _FRESH_SHARE * float(time_limit_s)
        ):
            # In balance and stuck: start again from a fresh construction (a multi-start;
            # the best alignment is kept).
            weight = unit_share + 1e-12
            seeds = _kmeans_seeds(coords, weight, k, rng) if coords is not None else _farthest_seeds(adjacency, k, rng)
            again = _priced_voronoi(graph, adjacency, seeds, unit_share, targets, fixed, locked, k, tolerance)
            state = _State(graph, again, measures, inv_target, tolerance, k)
            local.clear()
            on_best(state)
            local_before = local["key"]
            stagnant = 0
            continue
        local_before = local["key"]
        restart = local["territory"]
        if local["key"][0] > 0:
            # Out of balance: repair by the balance search, then by ejection chains.
            repaired = _balance_search(
                graph, restart, measures, inv_target, tolerance, movable, k, rng, deadline=deadline, max_moves=400
            )
            state = _State(graph, repaired, measures, inv_target, tolerance, k)
            if _score_key(state)[0] < local["key"][0] - 1e-12:
                iterations += 1
                on_best(state)
                continue
            state = _State(graph, restart, measures, inv_target, tolerance, k)
            made = _chain_repair(state, movable, deadline=deadline)
            if made:
                iterations += made
                on_best(state)
                continue
        # Phase 3: destroy and regrow from the best alignment.
        base = _State(graph, restart, measures, inv_target, tolerance, k)
        grown = _destroy_regrow(graph, adjacency, base, fixed, unit_share, load_share_of, rng, k, tolerance)
        state = _State(graph, grown, measures, inv_target, tolerance, k)
        if moves == 0:
            iterations += 1  # guarantee progress towards the iteration budget

    final = best["territory"]
    diameters = territory_diameters(adjacency, final, k=k)
    loads = np.zeros((k, measures.shape[1]))
    np.add.at(loads, final, measures)
    deviation = np.abs(loads * inv_target - 1.0) * (inv_target > 0)
    max_deviation = float(deviation.max()) if deviation.size else 0.0
    connected = bool(np.isfinite(diameters).all()) and all((final == j).any() for j in range(k))
    feasible = connected and max_deviation <= tolerance + 1e-9
    report("Done", 1.0)
    return ContiguousResult(
        territory=final,
        diameters=diameters,
        objective=float(diameters.max()),
        max_deviation=max_deviation,
        feasible=feasible,
        seconds=time.perf_counter() - started,
        iterations=int(iterations),
        seed=seed,
    )


def _keep_largest_pieces(adjacency, partial, fixed, k) -> np.ndarray:
    """Unassign the blocks of a warm start that lie outside their territory's largest piece.

    Locked blocks stay where they are, even when that leaves their territory in pieces.
    """
    out = partial.copy()
    for j in range(k):
        nodes = np.flatnonzero(out == j)
        if len(nodes) <= 1:
            continue
        count, piece = connected_components(adjacency[nodes][:, nodes], directed=False)
        if count > 1:
            main = np.bincount(piece).argmax()
            drop = nodes[(piece != main) & ~fixed[nodes]]
            out[drop] = -1
    return out
