"""Realignment of blocks by least flows between neighbouring territories.

Zoltners & Sinha (2005), "Sales territory design: thirty years of modeling and
implementation", Marketing Science 24(3), on realignment: move the least load, across borders
only. A linear programme on the graph of territories (two territories are neighbours when
two of their blocks share an edge) finds the least flow of load between neighbours that
brings every territory into an aim band inside the tolerance (a minimum-cost flow, one unit
of cost per unit of load per border crossed, as ``rebalance/border_flows.py`` does for
accounts). Each flow is then realised by blocks of the giving territory on its border with
the receiving one, those nearest the receiver first, deeper blocks following as the border
blocks go, each move keeping the giving territory connected and no move overshooting the
flow by more than half the block. What rounding leaves out of band, the balance repair
(:mod:`.balance_search`) finishes.
"""

from __future__ import annotations

import heapq

import numpy as np
import scipy.sparse as sp
from scipy.optimize import linprog

from ..clock import spend_solver
from .graph import Graph, is_connected

__all__ = ["flow_repair", "least_flows"]


def least_flows(adjacency, territory, share, targets, tolerance, aim):
    """The least flows of load between neighbouring territories that bring every load into
    ``(1 ± aim * tolerance)`` of its target.

    Parameters
    ----------
    adjacency : sparse, shape (n, n)
    territory : ndarray of int, shape (n,)
    share : ndarray, shape (n,)
        Every block's load (one measure, or the mean share of several).
    targets : ndarray, shape (k,)
        Target loads.
    tolerance, aim : float

    Returns
    -------
    list of (int, int, float)
        ``(giver, receiver, amount)``, or an empty list when no flow is needed or the
        programme is infeasible.
    """
    k = len(targets)
    coo = sp.coo_array(adjacency)
    a, b = territory[coo.row], territory[coo.col]
    pairs = np.unique(np.column_stack([a[a != b], b[a != b]]), axis=0)
    loads = np.bincount(territory, share, minlength=k)
    low, high = targets * (1 - aim * tolerance), targets * (1 + aim * tolerance)
    if ((loads >= low) & (loads <= high)).all() or not len(pairs):
        return []
    e = len(pairs)
    # balance[j] = load[j] - out[j] + in[j]; incidence rows: -1 for the giver, +1 for the receiver.
    incidence = sp.csr_array(sp.coo_array((np.r_[-np.ones(e), np.ones(e)],
                                           (np.r_[pairs[:, 0], pairs[:, 1]], np.r_[np.arange(e), np.arange(e)])),
                                          shape=(k, e)))
    a_ub = sp.vstack([incidence, -incidence]).tocsr()
    b_ub = np.r_[high - loads, loads - low]
    solved = linprog(np.ones(e), A_ub=a_ub, b_ub=b_ub, bounds=(0, None), method="highs")
    spend_solver(a_ub)
    if solved.status != 0:
        return []
    flows = solved.x
    keep = flows > 1e-12 * max(targets.max(), 1e-300)
    return [(int(p[0]), int(p[1]), float(f)) for p, f in zip(pairs[keep], flows[keep])]


def flow_repair(graph: Graph, territory, share, targets, tolerance, movable, coords=None, *, aim=0.8, rounds=5):
    """``territory`` with the least flows of :func:`least_flows` realised by border blocks.

    Parameters
    ----------
    graph : Graph
    territory : ndarray of int, shape (n,)
        A connected alignment.
    share : ndarray, shape (n,)
    targets : ndarray, shape (k,)
    tolerance : float
    movable : ndarray of bool, shape (n,)
        Blocks that may move (not locked, not a base).
    coords : ndarray, shape (n, 2), optional
        Planar coordinates; without them, blocks nearer the border (in graph edges) go first.
    aim : float
        The aim band as a fraction of the tolerance: lower leaves more room for rounding but
        moves more.
    rounds : int
        Rounds of flows, each on the loads the last one left (the blocks round the flows).

    Returns
    -------
    ndarray of int, shape (n,)
        A new alignment; every territory stays connected.
    """
    out = territory.copy()
    adjacency = sp.csr_array((graph.data, graph.indices, graph.indptr), shape=(graph.n, graph.n))
    k = len(targets)
    centre = None
    if coords is not None:
        weight = np.maximum(np.bincount(out, minlength=k), 1)
        centre = np.column_stack([np.bincount(out, coords[:, i], minlength=k) for i in (0, 1)]) / weight[:, None]
    for _ in range(rounds):
        flows = least_flows(adjacency, out, share, targets * targets.sum() ** -1, tolerance, aim)
        before = out.copy()
        for giver, receiver, amount in sorted(flows, key=lambda f: -f[2]):
            _realise(graph, out, share, movable, coords, centre, giver, receiver, amount)
        if np.array_equal(before, out):
            break
    return out


def _realise(graph, out, share, movable, coords, centre, giver, receiver, amount) -> None:
    """Move blocks of ``giver`` next to ``receiver`` until ``amount`` has moved (in place)."""
    def priority(v):
        if centre is None:
            return 0.0
        return float(np.hypot(*(coords[v] - centre[receiver])) - np.hypot(*(coords[v] - centre[giver])))

    members = np.flatnonzero(out == giver)
    border = [v for v in members if movable[v] and (out[graph.neighbours(v)[0]] == receiver).any()]
    heap = [(priority(v), int(v)) for v in border]
    heapq.heapify(heap)
    seen = set(border)
    moved = 0.0
    while heap and moved < amount:
        _, v = heapq.heappop(heap)
        if out[v] != giver or moved + share[v] / 2 > amount:
            continue
        rest = np.flatnonzero(out == giver)
        rest = rest[rest != v]
        if not len(rest) or not is_connected(graph, rest):
            continue
        out[v] = receiver
        moved += share[v]
        for w in graph.neighbours(v)[0]:
            if out[w] == giver and movable[w] and w not in seen:
                seen.add(int(w))
                heapq.heappush(heap, (priority(w), int(w)))
