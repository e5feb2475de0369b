"""Territories grown from their reps' bases along shortest paths: one piece around each base.

With rep home bases, a territory should lie around its rep, in one piece. Additive prices on
*graph* distances (the length of the shortest path through the accounts' adjacency) give that
by construction: when every account takes the territory with the least ``km from its base -
price`` and the ties are settled along one shortest-path forest, each territory is a tree
rooted at its base's node. :func:`forest_around_bases`:

1. prices: the transportation LP (Hitchcock 1941; HiGHS through ``scipy.optimize.linprog``) of
   micro-blocks (:func:`~.connect_bases.micro_blocks`, about ``Tuning.base_forest_blocks``) to
   the territories at their graph km from each base's block, every band held at
   ``Tuning.base_forest_aim`` of the tolerance, the locked units' load fixed. A block may join a
   territory whose km is within ``delta`` of its nearest base's (such a set holds every block on
   a shortest path to a block it holds); ``delta`` doubles from one territory radius while the
   LP is infeasible. The prices are its band rows' duals;
2. the forest: one Dijkstra (``scipy.sparse.csgraph.dijkstra``) on the nodes from a source
   joined to each base's node at cost ``-price`` (no edge leads into a base's node from
   elsewhere, so each base keeps its own), each node taking its parent's territory. On a graph
   two bases' distances often differ by a constant over a whole region reached through one node,
   and an LP splits such a tie anywhere; the forest settles it in one piece;
3. balance (:func:`_balance_subtrees`): whole subtrees handed across borders, each step the one
   that most reduces the summed excess over the bands, then the least lengthening of paths. A
   subtree leaves with its root, so both territories stay one tree each.

The units of a node go together; locked units keep their territory (a piece of their own where
they lie apart), and no path leads through a node that holds only locked units. The caller keeps the result only when every band holds and fewer pieces are
left apart.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp
from scipy.optimize import linprog
from scipy.sparse.csgraph import dijkstra

from ..contiguity import AccountGraph
from ..tuning import DEFAULT_TUNING, Tuning
from .connect import linked_regions
from .connect_bases import base_nodes, micro_blocks
from .units import Units, typical_radius

__all__ = ["forest_around_bases"]


def forest_around_bases(units: Units, assignment, graph: AccountGraph, target, tolerance: float, *, bases_xyz,
                        tuning: Tuning = DEFAULT_TUNING) -> np.ndarray | None:
    """Every territory one tree of nodes grown from its base, every band held; None when the
    stage cannot run (a territory without a base, more than one balanced measure, locked units
    of two territories at one node) or balance was not reached.

    Parameters
    ----------
    units : Units
        The design's units (values (u, C) shares, current, locked).
    assignment : array-like of int, shape (u,)
        Territory of every unit now (the locked units' territories).
    graph : AccountGraph
        ``point_graph(units.xyz)``.
    target : array-like of float, shape (k, C)
        Each territory's target of each measure (the stage runs with one measure, C = 1).
    tolerance : float
        The band, a fraction of the target.
    bases_xyz : ndarray, shape (k, 3)
        Each rep's home base (km vectors).
    tuning : Tuning
        ``base_forest_blocks`` and ``base_forest_aim``.

    Returns
    -------
    ndarray of int, shape (u,) or None
        The new territory of every unit.
    """
    assign = np.asarray(assignment, dtype=np.int64)
    target = np.asarray(target, dtype=float)
    totals = target.sum(axis=0)
    v, k = len(graph.xyz), len(target)
    if v == 0 or (assign < 0).any() or (totals <= 0).any():
        return None
    values = np.asarray(units.values, dtype=float).reshape(len(assign), -1)
    if values.shape[1] != 1:
        return None  # (the subtrees balance one measure; another could leave its band)
    held = np.asarray(units.locked, dtype=bool)
    locked_node = np.full(v, -1, dtype=np.int64)
    locked_node[graph.node[held]] = assign[held]
    if (locked_node[graph.node[held]] != assign[held]).any():
        return None  # locked units of two territories at one node
    roots = base_nodes(graph, np.asarray(bases_xyz, dtype=float), locked_node)
    if (roots < 0).any():
        return None
    free = np.bincount(graph.node[~held], values[~held, 0], minlength=v)
    fixed = np.bincount(assign[held], values[held, 0], minlength=k)
    lo, hi = target[:, 0] * (1 - tolerance), target[:, 0] * (1 + tolerance)
    adjacency = sp.csr_array(linked_regions(graph))
    prices = _prices(graph, adjacency, roots, free, fixed, target[:, 0], tolerance * tuning.base_forest_aim, tuning)
    if prices is None:
        return None
    only_locked = (np.bincount(graph.node[~held], minlength=v) == 0) & (locked_node >= 0)
    label, parent, dist = _forest(adjacency, roots, prices, only_locked)
    if (label < 0).any():
        return None
    label = _balance_subtrees(adjacency, label, parent, dist, free, fixed, roots, lo, hi, only_locked)
    if label is None:
        return None
    out = label[graph.node]
    out[held] = assign[held]
    return out


def _prices(graph: AccountGraph, adjacency, roots, free, fixed, target, aim: float, tuning: Tuning):
    """Each territory's price (km per unit of weight) from the block LP, or None when it has no
    solution even with every territory a candidate of every block."""
    k = len(target)
    size = max(1, int(np.ceil(len(graph.xyz) / tuning.base_forest_blocks)))
    block, _ = micro_blocks(graph, np.zeros(len(graph.xyz), dtype=np.int64), size)
    b = int(block.max()) + 1
    xyz = np.zeros((b, 3))
    np.add.at(xyz, block, graph.xyz)
    xyz /= np.bincount(block, minlength=b)[:, None]
    coo = sp.coo_array(adjacency)
    cross = block[coo.row] != block[coo.col]
    blocks = sp.csr_array((np.ones(int(cross.sum())), (block[coo.row[cross]], block[coo.col[cross]])), shape=(b, b))
    blocks.sum_duplicates()
    starts = np.repeat(np.arange(b), np.diff(blocks.indptr))
    blocks.data = np.linalg.norm(xyz[blocks.indices] - xyz[starts], axis=1) + 1e-9  # km between centroids
    km = dijkstra(blocks, directed=False, indices=block[roots])  # (k, b)
    weight = np.bincount(block, free, minlength=b)
    nearest = km.min(axis=0)
    room_lo, room_hi = target * (1 - aim) - fixed, target * (1 + aim) - fixed
    delta = typical_radius(graph.xyz, k)
    while True:
        t, col = np.nonzero(km - nearest[None, :] <= delta)
        columns = np.arange(len(t))
        one = sp.csr_array((np.ones(len(t)), (col, columns)), shape=(b, len(t)))
        load = sp.csr_array((weight[col], (t, columns)), shape=(k, len(t)))
        res = linprog(km[t, col] * weight[col], A_ub=sp.vstack([load, -load]).tocsr(), b_ub=np.r_[room_hi, -room_lo],
                      A_eq=one, b_eq=np.ones(b), bounds=(0, 1), method="highs-ds")
        if res.status == 0:
            marginal = res.ineqlin.marginals  # (<= 0): the upper rows, then the lower rows
            return marginal[:k] - marginal[k:]
        if not np.isfinite(km).all() or delta > km.max():
            return None
        delta *= 2


def _forest(adjacency, roots, prices, only_locked):
    """(territory, parent, km from the source) of every node along one shortest-path forest
    from the bases at ``prices``. No path passes through a node holding only locked units (its
    territory is theirs, whatever the forest says, so a path through it would part the tree)."""
    v = adjacency.shape[0]
    coo = sp.coo_array(adjacency)
    keep = ~np.isin(coo.col, roots) & ~only_locked[coo.row]
    row = np.r_[coo.row[keep], np.full(len(roots), v)]
    col = np.r_[coo.col[keep], roots]
    cost = np.r_[coo.data[keep], prices.max() + 1.0 - prices]
    directed = sp.csr_array((cost, (row, col)), shape=(v + 1, v + 1))
    dist, parent = dijkstra(directed, directed=True, indices=v, return_predecessors=True)
    label = np.full(v + 1, -1, dtype=np.int64)
    label[roots] = np.arange(len(roots))
    for node in np.argsort(dist, kind="stable").tolist():  # a parent comes before its children
        if label[node] < 0 and 0 <= parent[node] < v:
            label[node] = label[parent[node]]
    parent = np.where(parent[:v] == v, -1, parent[:v])
    return label[:v], parent, dist[:v]


def _balance_subtrees(adjacency, label, parent, dist, free, fixed, roots, lo, hi, only_locked):
    """Hand whole subtrees across borders until every territory's load (``free`` per node plus
    ``fixed``) lies within ``lo``..``hi``; None when no move reduces the excess first. Nothing
    hangs from a node of locked units alone (see :func:`_forest`)."""
    v, k = len(label), len(fixed)
    label, parent, dist = label.copy(), parent.copy(), dist.copy()
    children: list[list[int]] = [[] for _ in range(v)]
    for node, up in enumerate(parent.tolist()):
        if up >= 0:
            children[up].append(node)
    below = free.astype(float).copy()  # each node's subtree weight
    for node in np.argsort(-dist, kind="stable").tolist():
        if parent[node] >= 0:
            below[parent[node]] += below[node]
    coo = sp.coo_array(adjacency)
    a, b, length = coo.row, coo.col, coo.data  # a move: node b, with its subtree, to a's territory
    movable = ~np.isin(b, roots) & ~only_locked[a]  # (a base's node stays)
    for _ in range(2 * v + k):  # (each step lowers the summed excess; a guard)
        load = np.bincount(label, free, minlength=k) + fixed
        excess = np.maximum(load - hi, 0) + np.maximum(lo - load, 0)
        if excess.max() <= 1e-12 * hi.max():
            return label
        la, lb, w = label[a], label[b], below[b]
        after_a, after_b = load[la] + w, load[lb] - w
        gain = excess[la] + excess[lb] - (np.maximum(after_a - hi[la], 0) + np.maximum(lo[la] - after_a, 0)
                                          + np.maximum(after_b - hi[lb], 0) + np.maximum(lo[lb] - after_b, 0))
        ok = movable & (la != lb) & (w > 0) & (gain > 1e-12 * hi.max())
        if not ok.any():
            return None
        longer = (dist[a] + length - dist[b]) * w
        pick = np.flatnonzero(ok)[np.lexsort((longer[ok], -gain[ok]))[0]]
        _move(int(b[pick]), int(a[pick]), float(length[pick]), label, parent, dist, below, children)
    return None


def _move(node: int, to: int, length: float, label, parent, dist, below, children) -> None:
    """Re-hang ``node``'s subtree under ``to`` (its territory, path lengths and the subtree
    weights along both chains of ancestors updated)."""
    moved, up = below[node], parent[node]
    while up >= 0:
        below[up] -= moved
        up = parent[up]
    children[parent[node]].remove(node)
    parent[node] = to
    children[to].append(node)
    up = to
    while up >= 0:
        below[up] += moved
        up = parent[up]
    shift = dist[to] + length - dist[node]
    stack = [node]
    while stack:
        x = stack.pop()
        label[x] = label[to]
        dist[x] += shift
        stack.extend(children[x])
