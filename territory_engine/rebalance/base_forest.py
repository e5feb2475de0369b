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
3. balance (:func:`_balance`): rounds of a least-cost flow between bordering territories (one
   unit of cost per unit of load per border), each realised by whole subtrees handed across
   borders; a subtree leaves with its root, so both territories stay one tree each. Load bound
   for a starved territory passes through the territories in between, which a move that must
   lower the excess by itself never does. Where every subtree at a border is too heavy, a border
   node goes with only the nodes that cannot reach their base without it (the rest of its
   subtree is re-hung inside its territory). Single moves then finish.

If that does not balance, the forest is grown again from prices held within
``Tuning.base_forest_clamps`` x the km between any two bases (no base then lies deep inside its
neighbour, whose paths would otherwise run past it through one node).

The units of a node go together; locked units keep their territory (a piece of their own where
they lie apart), and no path leads through a node that holds only locked units (except a
base's own). The caller keeps the result only when every band holds and fewer pieces are left
apart.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp
from scipy.optimize import linprog
from scipy.sparse.csgraph import breadth_first_order, dijkstra

from ..contiguity import AccountGraph
from ..tuning import DEFAULT_TUNING, Tuning
from .connect import linked_regions
from .connect_bases import base_nodes, micro_blocks
from .local_search import violation
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
    found = _prices(graph, adjacency, roots, free, fixed, target[:, 0], tolerance * tuning.base_forest_aim, tuning)
    if found is None:
        return None
    prices, between = found
    only_locked = (np.bincount(graph.node[~held], minlength=v) == 0) & (locked_node >= 0)
    only_locked[roots] = False  # (a base's own locks: its paths may start there)
    for clamp in tuning.base_forest_clamps:
        # at most ``clamp`` x the km between two bases apart: no base swallowed by its neighbour
        label, parent, dist = _forest(adjacency, roots, prices if clamp is None else
                                      (prices[None, :] + clamp * between).min(axis=1), only_locked)
        if (label >= 0).all():
            label = _balance(adjacency, label, parent, dist, free, fixed, roots, lo, hi, only_locked, tuning)
            if label is not None:
                break
    else:
        return None
    out = label[graph.node]
    out[held] = assign[held]
    return out


def _prices(graph: AccountGraph, adjacency, roots, free, fixed, target, aim: float, tuning: Tuning):
    """Each territory's price (km per unit of weight) from the block LP and the km between every
    two bases' blocks, or None when it has no solution even with every territory a candidate of
    every block."""
    k = len(target)
    v = len(graph.xyz)
    blocks = tuning.base_forest_blocks if v <= tuning.base_forest_blocks else tuning.base_forest_blocks_large
    size = max(1, int(np.ceil(v / blocks)))
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
            return marginal[:k] - marginal[k:], km[:, block[roots]]
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


def _balance(adjacency, label, parent, dist, free, fixed, roots, lo, hi, only_locked, tuning: Tuning):
    """The forest's labels with every territory's load (``free`` per node plus ``fixed``) within
    ``lo``..``hi``, or None. Rounds of least-cost flows between bordering territories, each
    realised by border subtrees, bring the loads near the middle of their bands (load bound for a
    starved territory passes through the territories in between, which a step that must lower the
    excess by itself never does); single subtree moves then finish."""
    trees = _Trees(adjacency, label, parent, dist, free, roots, only_locked, tuning)
    k, best, since = len(fixed), np.inf, 0
    for _ in range(tuning.base_forest_flow_rounds):
        load = trees.loads(k) + fixed
        excess = violation(load, hi, lo)
        if excess <= 1e-12 * hi.max():
            return trees.label
        best, since = (excess, 0) if excess < best else (best, since + 1)
        if since > tuning.base_forest_patience:
            break
        flows = trees.flows(load, lo, hi, tuning.base_forest_aim)
        if flows is None:
            return None
        trees.realise(*flows, load, lo, hi)
    return trees.settle(fixed, lo, hi)


def _least_flow(pairs, load, low, high):
    """(giver, receiver, amount) along ``pairs`` at one unit of cost per unit of load moved, every
    territory's load ending within ``low``..``high`` (``scipy.optimize.linprog``, HiGHS); None
    when no such flow exists."""
    k, n = len(load), len(pairs)
    if n == 0:
        return None
    cols = np.arange(n)
    net = sp.csr_array((np.r_[-np.ones(n), np.ones(n)], (np.r_[pairs[:, 0], pairs[:, 1]], np.r_[cols, cols])),
                       shape=(k, n))  # each territory's change of load
    res = linprog(np.ones(n), A_ub=sp.vstack([net, -net]).tocsr(), b_ub=np.r_[high - load, load - low],
                  bounds=(0, None), method="highs")
    if res.status != 0:
        return None
    use = res.x > 1e-12 * max(float(high.max()), 1e-300)
    return pairs[use, 0], pairs[use, 1], res.x[use]


def _downstream(giver, receiver, amount):
    """The flows (giver, receiver, amount), each after every flow into its giver (a least-cost
    flow has no cycle), so a territory that passes load on has taken what it passes first; the
    larger flows first among those ready."""
    flows = sorted(zip(giver.tolist(), receiver.tolist(), amount.tolist()), key=lambda f: -f[2])
    waiting = {}
    for _, t, _ in flows:
        waiting[t] = waiting.get(t, 0) + 1
    out, left = [], flows
    while left:
        ready = [f for f in left if waiting.get(f[0], 0) == 0] or left[:1]
        for f in ready:
            waiting[f[1]] -= 1
        out.extend(ready)
        left = [f for f in left if f not in ready]
    return out


class _Trees:
    """One rooted tree of nodes per territory, and the moves of whole subtrees between them. An
    edge (a, b) of ``adjacency`` is a move of b, with its subtree, to a's territory, under a; a
    base's node never moves, and nothing hangs from a node of locked units alone (see
    :func:`_forest`)."""

    def __init__(self, adjacency, label, parent, dist, free, roots, only_locked, tuning: Tuning):
        self.label, self.parent, self.dist = label.copy(), parent.copy(), dist.copy()
        self.free, self.roots, self.adjacency, self.only_locked = free, roots, adjacency, only_locked
        self.stuck: set[int] = set()  # giver * k + receiver: flows a round could not realise
        self.tuning = tuning
        v = len(label)
        self.children: list[list[int]] = [[] for _ in range(v)]
        for node, up in enumerate(parent.tolist()):
            if up >= 0:
                self.children[up].append(node)
        self.below = free.astype(float).copy()  # each node's subtree weight
        for node in np.argsort(-dist, kind="stable").tolist():
            if parent[node] >= 0:
                self.below[parent[node]] += self.below[node]
        coo = sp.coo_array(adjacency)  # (in row order: node x's edges are indptr[x]:indptr[x + 1])
        self.indptr = adjacency.indptr
        self.a, self.b, self.length = coo.row, coo.col, coo.data
        self.movable = ~np.isin(self.b, roots) & ~only_locked[self.a]

    def loads(self, k: int):
        return np.bincount(self.label, self.free, minlength=k)

    def flows(self, load, lo, hi, aim: float):
        """(giver, receiver, amount) of the least-cost flow, one unit of cost per unit of load per
        border, that brings every territory outside ``aim`` of its band inside it (the others stay
        where they are or come nearer), across no border that a round before could not realise
        unless only that flow exists; None when no flow does."""
        k = len(load)
        mid, half = (lo + hi) / 2, (hi - lo) / 2 * aim
        inside = (load >= lo) & (load <= hi)
        low = np.where(inside, np.minimum(load, mid - half), mid - half)
        high = np.where(inside, np.maximum(load, mid + half), mid + half)
        la, lb = self.label[self.a], self.label[self.b]
        edge = self.movable & (la != lb) & (self.below[self.b] > 0)
        pair = lb[edge] * k + la[edge]
        lightest = np.full(k * k, np.inf)
        np.minimum.at(lightest, pair, self.below[self.b[edge]])
        pairs = np.unique(pair)
        pairs = np.stack([pairs // k, pairs % k], axis=1)
        # a border whose every subtree, and the least that must go with a few of its nodes,
        # outweighs the giver's band carries only its trunk
        band = (hi - lo)[pairs[:, 0]]
        open_ = lightest[pairs[:, 0] * k + pairs[:, 1]] <= band
        for i in np.flatnonzero(~open_).tolist():
            s_, t_ = int(pairs[i, 0]), int(pairs[i, 1])
            cand = np.flatnonzero(edge)[pair == s_ * k + t_]
            cuts = self._cuts(s_, cand, self.tuning.base_forest_probe)
            open_[i] = any(0 < self.free[c].sum() <= band[i] for c in cuts)
        open_ &= ~np.isin(pairs[:, 0] * k + pairs[:, 1], list(self.stuck))
        found = _least_flow(pairs[open_], load, low, high) if open_.any() else None
        if found is None and not open_.all():
            self.stuck.clear()
            found = _least_flow(pairs, load, low, high)
        return found

    def realise(self, giver, receiver, amount, load, lo, hi) -> None:
        """Each flow by the heaviest border subtrees that fit what is left of it (the least
        lengthening of paths among equals), new border edges joining as the border moves. A flow
        may end a little over, while both territories would still end within their bands."""
        end = load.astype(float).copy()
        np.add.at(end, giver, -amount)
        np.add.at(end, receiver, amount)
        label, a, b = self.label, self.a, self.b
        border = np.flatnonzero(self.movable & (label[a] != label[b]))
        key = label[b[border]] * len(label) + label[a[border]]
        order = np.argsort(key, kind="stable")
        keys, starts = np.unique(key[order], return_index=True)
        groups = dict(zip(keys.tolist(), np.split(border[order], starts[1:])))
        k = len(self.roots)
        for s, t, left in _downstream(giver, receiver, amount):
            amount_of, fresh = left, False
            cand = groups.get(s * len(label) + t, np.zeros(0, dtype=np.int64))
            while left > 1e-12:
                fit = left + max(0.0, min(hi[t] - end[t], end[s] - lo[s]))
                cand = cand[(label[b[cand]] == s) & (label[a[cand]] == t)]
                if len(cand) == 0 and not fresh:  # (the flows before moved this border)
                    cand, fresh = np.flatnonzero(self.movable & (label[b] == s) & (label[a] == t)), True
                w = self.below[b[cand]]
                fits = np.flatnonzero((w > 0) & (w <= fit))
                if len(fits):
                    shift = self.dist[a[cand[fits]]] + self.length[cand[fits]] - self.dist[b[cand[fits]]]
                    pick = cand[fits[np.lexsort((shift, -w[fits]))[0]]]
                    left -= self.below[b[pick]]
                    moved = self.move(int(b[pick]), int(a[pick]), float(self.length[pick]))
                else:  # every border subtree is too heavy: the least that must go with a border node
                    moved = self.cut(s, t, cand, fit)
                    if not moved:
                        if left > self.tuning.base_forest_stuck * amount_of:
                            self.stuck.add(s * k + t)
                        break
                    left -= self.free[moved].sum()
                if left < 0:  # (over: the receiver ends higher, the giver lower)
                    end[t], end[s] = end[t] - left, end[s] + left
                near = np.concatenate([np.arange(self.indptr[x], self.indptr[x + 1]) for x in moved])
                cand = np.r_[cand, near[self.movable[near] & (label[b[near]] == s)]]

    def cut(self, s: int, t: int, cand, left: float) -> list[int]:
        """Move from ``s`` to ``t`` a border node of ``s`` with only the nodes that lose their
        link to ``s``'s base without it (its subtree may hold more: those are re-hung inside
        ``s``), the heaviest such set that fits ``left`` among the ``Tuning.base_forest_tries``
        border nodes that lengthen paths least; both territories' trees are then grown again. The
        nodes moved (none when no such set fits)."""
        best, best_w = None, 0.0
        for cut in self._cuts(s, cand, self.tuning.base_forest_tries):
            weight = self.free[cut].sum()
            if 0 < weight <= left and weight > best_w:
                best, best_w = cut, weight
        if best is None:
            return []
        self.label[best] = t
        self.grow(s)
        self.grow(t)
        return best.tolist()

    def _cuts(self, s: int, cand, tries: int):
        """For each of the ``tries`` border nodes of ``s`` at the edges ``cand`` that lengthen
        paths least: that node and the nodes of ``s`` that cannot reach its base without it."""
        a, b = self.a, self.b
        shift = self.dist[a[cand]] + self.length[cand] - self.dist[b[cand]]
        order = np.argsort(shift, kind="stable")
        firsts = np.unique(b[cand[order]], return_index=True)[1]
        nodes = np.flatnonzero(self.label == s)
        inner = self._inner(nodes)
        root = int(np.searchsorted(nodes, self.roots[s]))
        for x in b[cand[order[np.sort(firsts)[:tries]]]].tolist():
            keep = np.ones(len(nodes))
            keep[int(np.searchsorted(nodes, x))] = 0.0
            cut = sp.diags_array(keep) @ inner @ sp.diags_array(keep)
            reached = np.zeros(len(nodes), dtype=bool)
            reached[breadth_first_order(cut.tocsr(), root, directed=True, return_predecessors=False)] = True
            yield nodes[~reached]

    def _inner(self, nodes):
        """The edges among ``nodes`` that a path may take (none out of a node of locks alone)."""
        inner = self.adjacency[nodes][:, nodes]
        return sp.diags_array((~self.only_locked[nodes]).astype(float)) @ inner

    def grow(self, t: int) -> None:
        """Grow territory ``t``'s tree again: shortest paths from its base through its own nodes."""
        nodes = np.flatnonzero(self.label == t)
        root = int(np.searchsorted(nodes, self.roots[t]))
        d, pred = dijkstra(self._inner(nodes).tocsr(), directed=True, indices=root, return_predecessors=True)
        start = self.dist[self.roots[t]]
        for x in nodes.tolist():
            self.children[x] = []
        for x, up in zip(nodes.tolist(), pred.tolist()):
            if up >= 0:
                self.parent[x] = int(nodes[up])
                self.children[int(nodes[up])].append(x)
        self.dist[nodes] = start + d
        below = self.free[nodes].astype(float)
        for i in np.argsort(-d, kind="stable").tolist():
            if pred[i] >= 0:
                below[pred[i]] += below[i]
        self.below[nodes] = below

    def settle(self, fixed, lo, hi):
        """Single subtree moves, each the one that most reduces the summed excess over the bands
        (then the least lengthening of paths), until every band holds; None when no move reduces
        it first."""
        k, label, a, b = len(fixed), self.label, self.a, self.b
        for _ in range(2 * len(label) + k):  # (each step lowers the summed excess; a guard)
            load = self.loads(k) + fixed
            excess = violation(load[:, None], hi[:, None], lo[:, None])
            if excess.max() <= 1e-12 * hi.max():
                return label
            la, lb, w = label[a], label[b], self.below[b]
            after_a, after_b = load[la] + w, load[lb] - w
            after = violation(np.stack([after_a, after_b], axis=1), np.stack([hi[la], hi[lb]], axis=1),
                              np.stack([lo[la], lo[lb]], axis=1))
            gain = excess[la] + excess[lb] - after
            ok = self.movable & (la != lb) & (w > 0) & (gain > 1e-12 * hi.max())
            if not ok.any():
                return None
            longer = (self.dist[a] + self.length - self.dist[b]) * w
            pick = np.flatnonzero(ok)[np.lexsort((longer[ok], -gain[ok]))[0]]
            self.move(int(b[pick]), int(a[pick]), float(self.length[pick]))
        return None

    def move(self, node: int, to: int, length: float) -> list[int]:
        """Re-hang ``node``'s subtree under ``to`` (its territory, path lengths and the subtree
        weights along both chains of ancestors updated); the nodes moved."""
        parent, below, children = self.parent, self.below, self.children
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
        shift = self.dist[to] + length - self.dist[node]
        stack, out = [node], []
        while stack:
            x = stack.pop()
            out.append(x)
            self.label[x] = self.label[to]
            self.dist[x] += shift
            stack.extend(children[x])
        return out
