"""What leaves a territory with a block: branches cut off, found by depth-first search.

A block that is a cut vertex of its territory cannot leave alone without splitting it: the
pieces it cuts off from a root go with it. One iterative depth-first search with Hopcroft &
Tarjan's low points ("Efficient algorithms for graph manipulation", Communications of the
ACM 16(6), 1973) finds, for every block, the subtrees it separates. Used by the search state
(rooted at a territory's 1-centre) and by the balance search (rooted at a block next to a
neighbouring territory).
"""

from __future__ import annotations

import numpy as np

__all__ = ["bfs_order", "low_point_dfs", "rooted_branches"]


def low_point_dfs(adj, root):
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


def rooted_branches(adj_lists, tl, members, root, fixed_list):
    """Depth-first search of one territory from ``root`` (Hopcroft & Tarjan's low points).

    Returns ``(order, disc, end, separated, fixed_prefix)`` where ``order`` is the preorder
    (positions into ``members``), ``disc``/``end`` the preorder interval of every subtree,
    ``separated[u]`` the children whose subtree ``u`` cuts off, and ``fixed_prefix`` the
    running count of locked blocks along the preorder.
    """
    local = {int(v): i for i, v in enumerate(members)}
    j = tl[int(members[0])]
    adj = [[local[w] for w in adj_lists[int(v)] if tl[w] == j] for v in members]
    order, disc, end, separated = low_point_dfs(adj, local[int(root)])
    fixed_prefix = np.concatenate([[0], np.cumsum([fixed_list[int(members[u])] for u in order])])
    return order, disc, end, separated, fixed_prefix


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
