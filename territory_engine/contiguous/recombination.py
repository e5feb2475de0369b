"""Recombination: merge two neighbouring territories and split them along a random spanning tree.

The recombination step of DeFord, Duchin & Solomon (2021), "Recombination: a family of
Markov chains for redistricting", Journal of Computational Geometry 12(2). Steps:

1. **Spanning trees** (:func:`random_spanning_tree`): minimum spanning trees of random edge
   weights on the union of the two territories;
2. **Cut**: every edge of each tree is tried, both ways round, scored by the balance of
   the two parts; the best cut over all trees splits the union.

The balance search (:mod:`.balance_search`) tries it on the territory furthest out of
balance when no transfer improves.
"""

from __future__ import annotations

import numpy as np

from ..clock import WALK, spend

from .graph import Graph

__all__ = ["random_spanning_tree", "recombine"]


def recombine(graph: Graph, terr: np.ndarray, measures, a: int, b: int, per, rng, *, trees: int):
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
        order, parent = random_spanning_tree(rows, cols, rng.random(len(cols)) + 1e-3, s)
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


def random_spanning_tree(rows, cols, weights, s):
    """Minimum spanning tree of random edge weights, in breadth-first order from node 0.

    ``rows``/``cols`` list the entries of a symmetric adjacency (each edge twice, each entry
    with its own weight, so an edge weighs the smaller of its two). Kruskal's algorithm with
    a union-find in plain Python (faster than scipy's sparse routines at a few hundred
    edges). Returns ``(order, parent)`` as ``scipy.sparse.csgraph.breadth_first_order``
    does on the tree (neighbours visited in increasing order, parent -9999 for the root);
    ``order`` is shorter than ``s`` when the graph is not connected.
    """
    spend(WALK, s + len(rows))
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
