"""What leaves a territory with a block: branches cut off, found by depth-first search.

A block that is a cut vertex of its territory cannot leave alone without splitting it: the
pieces it cuts off from a root go with it. One iterative depth-first search with Hopcroft &
Tarjan's low points ("Efficient algorithms for graph manipulation", Communications of the
ACM 16(6), 1973) finds, for every block, the subtrees it separates. Used by the search state
(rooted at a territory's 1-centre, :func:`low_point_dfs`) and by the balance search (rooted at a
block next to a neighbouring territory, :func:`rooted_branches`: the same search in array
operations, about five times faster on territories of a few hundred blocks).
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp
from scipy.sparse.csgraph import depth_first_order
from ..arrays import distinct
from ..clock import SUBGRAPH, WALK, counting, spend

__all__ = ["bfs_order", "low_point_dfs", "rooted_branches"]


def low_point_dfs(adj, root):
    """Iterative depth-first search with Hopcroft & Tarjan's low points.

    ``adj`` lists each node's neighbours (positions 0..s-1). Returns ``(order, disc, end,
    separated)``: the preorder, each node's preorder index (-1 if unreached) and the index one
    past its subtree, and for each node the children whose subtree it cuts off.
    """
    s = len(adj)
    if counting():  # (the sum walks every list: not on the contiguous designs' uncounted hot path)
        spend(WALK, s + sum(map(len, adj)))
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


def rooted_branches(graph, members, root, fixed):
    """Depth-first search of one territory from ``root`` with Hopcroft & Tarjan's low points, in
    array operations: scipy's depth-first order (a true depth-first search, neighbours in the
    graph's order, so the same tree as :func:`low_point_dfs`), each low point the least preorder
    index reached from a subtree (a range minimum over the subtree's preorder interval).

    ``graph`` is the blocks' :class:`~.graph.Graph`, ``members`` the territory's blocks (sorted),
    ``root`` one of them and ``fixed`` 1 for every locked block (all blocks). Returns ``(order,
    disc, end, separated, fixed_prefix, cut)``: the preorder (positions into ``members``), every
    position's preorder index (-1 when unreached) and the index one past its subtree, for each
    position the children whose subtree it cuts off (in preorder), the running count of locked
    blocks along the preorder, and those (parent, child) pairs as two arrays.
    """
    s = len(members)
    sub = graph.induced_weights(members)
    sub = sp.csr_array((np.ones(len(sub.indices)), sub.indices, sub.indptr), shape=sub.shape)  # every edge an edge
    local_root = int(np.searchsorted(members, root))
    order, pred = depth_first_order(sub, local_root, directed=True, return_predecessors=True)
    m = len(order)
    spend(SUBGRAPH, s + len(sub.indices))
    spend(WALK, m)
    disc = np.full(s, -1, dtype=np.int64)
    disc[order] = np.arange(m)
    parent = np.where(pred >= 0, pred, -1)
    # Subtree sizes, children before parents (reverse preorder), on plain lists.
    size = [1] * s
    order_list, up = order.tolist(), parent[order].tolist()
    for i in range(m - 1, 0, -1):
        size[up[i]] += size[order_list[i]]
    end = np.zeros(s, dtype=np.int64)
    end[order] = disc[order] + np.asarray(size, dtype=np.int64)[order]
    # The least preorder index a block reaches by an edge other than its tree edge to its parent.
    owner = np.repeat(np.arange(s), np.diff(sub.indptr))
    reach = disc[sub.indices].astype(float)
    reach[(sub.indices == parent[owner]) | (reach < 0)] = np.inf
    least = np.full(s, np.inf)
    np.minimum.at(least, owner, reach)
    low = _range_minimum(np.minimum(least[order], np.arange(m)), disc[order], end[order])
    low_of = np.full(s, np.inf)
    low_of[order] = low
    child = order[1:]
    up_of = parent[child]
    cuts = low_of[child] >= disc[up_of]
    cut = (up_of[cuts], child[cuts])  # in preorder of the child
    separated: list[list[int]] = [[] for _ in range(s)]
    for p, c in zip(cut[0].tolist(), cut[1].tolist()):
        separated[p].append(c)
    fixed_prefix = np.concatenate([[0], np.cumsum(np.asarray(fixed)[members[order]])])
    return order, disc, end, separated, fixed_prefix, cut


def _range_minimum(values, lo, hi):
    """``values[lo[i]:hi[i]].min()`` for every ``i`` (each range non-empty), by a sparse table."""
    table = [values]
    while (1 << len(table)) <= len(values):
        half = 1 << (len(table) - 1)
        table.append(np.minimum(table[-1][:-half], table[-1][half:]))
    level = np.floor(np.log2(hi - lo)).astype(np.int64)
    out = np.empty(len(lo))
    for step in distinct(level).tolist():
        sel = level == step
        row = table[step]
        out[sel] = np.minimum(row[lo[sel]], row[hi[sel] - (1 << step)])
    return out


def bfs_order(local: np.ndarray, adj) -> np.ndarray:
    """The blocks ``local`` (positions) in breadth-first order from ``local[0]``, inside ``local``.

    Each block then joins a neighbouring territory next to one already added.
    """
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
