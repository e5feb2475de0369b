"""The search state: an alignment with incremental diameters, loads and branches.

Every territory keeps its members, the all-pairs shortest-path distances of the subgraph it
induces and its diameter. Adding a block updates the distance matrix in ``O(s^2)`` (each
block's distances are the shortest way in through its neighbours, and every other distance
may shorten through it); removing one is ``O(s^2)`` unless it lies on a shortest path, when
the territory's distances are recomputed (Floyd–Warshall, ``O(s^3)``). Cheap estimates and
lower bounds let the tabu search rank moves and evaluate only the best exactly (lazy
evaluation). What leaves with a block (the branch it cuts off from the territory's
1-centre) comes from :mod:`.branches`.
"""

from __future__ import annotations

import numpy as np

from .balance import excess, relative_deviation
from .branches import bfs_order, low_point_dfs
from .graph import Graph

__all__ = ["SearchState", "score_key"]


class SearchState:
    """An alignment with per-territory members, distance matrices, diameters and loads."""

    def __init__(self, graph: Graph, territory, measures, inv_target, tolerance, k):
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
        return excess(relative_deviation(loads, self.inv_target[territories]), band)

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
        order, disc, end, separated = low_point_dfs(adj, root)
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
            local = bfs_order(local, adj)
            nodes = members[local]
            moved.append(nodes)
            loads[u] = self.measures[nodes].sum(axis=0)
            ok[u] = bool(movable[nodes].all()) and len(nodes) < s
            holds_end[u] = is_end[local].any()
        result = (moved, loads, ok)
        self.branch_holds_end[j] = holds_end
        self._branch_cache[j] = (self.version[j], result)
        return result

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


def score_key(state: SearchState):
    """Lexicographic quality of an alignment: (violation, largest diameter, mean diameter).

    A territory in pieces counts as a violation of 1e6, so that a connected alignment
    always beats one in pieces.
    """
    pieces = float((~np.isfinite(state.diam)).sum())
    return (round(float(state.viol.sum()) + 1e6 * pieces, 12), float(state.diam.max()), float(state.diam.mean()))
