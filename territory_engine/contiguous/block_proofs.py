"""Proofs that no connected alignment of building blocks is balanced within the tolerance.

Each proof is a fact (:class:`~territory_engine.errors.Reason`) an analyst can check by hand:

- ``heavy_unit``: one block alone is heavier than the largest territory's upper band;
- ``granular``: every block's load is a whole multiple of one step (whole dollars, accounts),
  and a territory's band holds no multiple of it (a tolerance of 0, or narrower than a step);
- ``locked_load``: the blocks locked to a territory (its rep's base block included) carry
  more than its upper band;
- ``locked_total``: with every territory at least at the bottom of its band or at its locked
  load, the territories need more than the total (the relaxation of the problem, blocks
  split freely, is infeasible);
- ``locked_short`` and ``locked_apart``: the blocks a territory can reach from its pinned
  blocks without crossing a block pinned to another territory carry less than its lower band,
  or its pinned blocks lie in parts that no such path joins (:func:`enclosed_reasons`);
- ``locked_join``: a connected territory holding two pinned blocks holds a path between them,
  so its load is at least its pinned blocks' plus the lightest path of other blocks joining two
  of them (node-weighted shortest paths, Dijkstra, avoiding other territories' pinned blocks);
  when that is above its upper band, it cannot be one piece and balanced (:func:`join_reason`);
- ``component``: a group of blocks connected to each other but to no other block (an island
  group such as Hawaii) must hold a whole number ``m`` of territories, so its load ``L``
  must satisfy ``m (1 - t) T <= L <= m (1 + t) T`` for some integer ``m``; when no ``m``
  does (for every measure at once, and with the whole-number counts of all groups adding up
  to ``k``), balance is impossible (:func:`allocate_components`);
- ``cut_vertex``: the same argument around a cut vertex (a block whose removal splits the
  graph, e.g. the one county joining a peninsula): every territory meeting a piece of the
  graph without it lies inside that piece, except the cut block's own territory
  (:func:`forced_deviation`, the bound the DTDP benchmark prints).

The component and cut-vertex arguments are those of the connectivity bound used in the
DTDP literature (Ríos-Mercado & Fernández 2009 note that a cut vertex can force imbalance);
they assume equal targets, which is when the proofs are run.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import scipy.sparse as sp
from scipy.sparse.csgraph import connected_components, dijkstra

from ..arrays import distinct
from ..errors import Reason
from ..granularity import granular_reason

__all__ = ["allocate_components", "articulation_points", "enclosed_reasons", "forced_deviation", "join_reason",
           "load_reasons"]

_EPS = 1e-9


def load_reasons(measures, targets, tolerance, pinned, names, steps=()) -> list[Reason]:
    """Proofs from loads alone: a heavy block, a band holding no whole number of ``steps``, a
    territory's locked load over its band, the relaxation (band floors plus locked loads above
    the total).

    Parameters
    ----------
    measures : ndarray, shape (n, M)
    targets : ndarray, shape (k, M)
        Target load of every territory and measure.
    tolerance : float
    pinned : ndarray of int, shape (n,)
        Territory a block is locked to (a lock or a rep's base block), -1 for a free block.
    names : sequence of str
        Measure names.
    steps : sequence of float
        Per measure, the step every block's load is a whole multiple of, in the measure's units
        (0: unknown; :func:`~territory_engine.granularity.measure_step`).
    """
    reasons = []
    hi = targets * (1 + tolerance)
    for c, name in enumerate(names):
        heaviest = int(np.argmax(measures[:, c]))
        if measures[heaviest, c] > hi[:, c].max() + _EPS * hi[:, c].max():
            reasons.append(Reason("heavy_unit", name, measures[heaviest, c] / targets[:, c].max(), tolerance,
                                  "tolerance", accounts=(heaviest,)))
    for c, step in enumerate(steps):
        granular = granular_reason(step, targets[:, c], tolerance, names[c])
        if granular is not None:
            reasons.append(granular)
    fixed = pinned >= 0
    if fixed.any():
        locked = np.zeros_like(targets)
        np.add.at(locked, pinned[fixed], measures[fixed])
        for t, c in zip(*np.nonzero(locked > hi * (1 + _EPS))):
            reasons.append(Reason("locked_load", names[c], locked[t, c] / targets[t, c], tolerance, "tolerance",
                                  territory=int(t), accounts=tuple(np.flatnonzero(pinned == t)[:20].tolist())))
        need = np.maximum(targets * (1 - tolerance), locked).sum(axis=0)
        total = measures.sum(axis=0)
        for c in np.flatnonzero(need > total * (1 + _EPS)):
            if not reasons:
                heavy = int(np.argmax(locked[:, c] / np.maximum(targets[:, c], _EPS)))
                reasons.append(Reason("locked_total", names[c], float(need[c] / total[c]), tolerance, "tolerance",
                                      territory=heavy))
    return reasons


def enclosed_reasons(adjacency, measures, targets, tolerance, pinned, names) -> list[Reason]:
    """Proofs from the pins' places: a territory whose pinned blocks (locks, its base) are
    walled in by other territories' pinned blocks, so that every block it can reach carries
    less than its lower band (``locked_short``), or whose pinned blocks no path of free or own
    blocks joins (``locked_apart``)."""
    adjacency = sp.csr_array(adjacency)
    reasons = []
    low = targets * (1 - tolerance)
    for j in distinct(pinned[pinned >= 0]):
        allowed = np.flatnonzero((pinned < 0) | (pinned == j))
        sub = adjacency[allowed][:, allowed]
        _, piece = connected_components(sub, directed=False)
        own = distinct(piece[pinned[allowed] == j])
        if len(own) > 1:
            reasons.append(Reason("locked_apart", names[0], 0.0, tolerance, "locked", territory=int(j)))
            continue
        reach = measures[allowed[piece == own[0]]].sum(axis=0)
        for c in np.flatnonzero(reach < low[j] * (1 - _EPS)):
            reasons.append(Reason("locked_short", names[c], float(reach[c] / targets[j, c]), tolerance, "tolerance",
                                  territory=int(j)))
            break
        else:
            joined = join_reason(sub, measures[allowed], pinned[allowed] == j, targets[j], tolerance, names, int(j))
            if joined is not None:
                reasons.append(replace(joined, accounts=tuple(int(allowed[v]) for v in joined.accounts)))
    return reasons


_JOIN_SOURCES = 20  # pinned blocks a join proof searches from at most (any subset gives a valid bound)


def join_reason(adjacency, measures, own, target, tolerance, names, territory: int) -> Reason | None:
    """``locked_join`` for one territory, or None: its pinned blocks (``own``) and the lightest
    path of other blocks joining two of them weigh more than its upper band in some measure.

    ``adjacency`` and ``measures`` are those of the blocks the territory may hold (free or its
    own); ``accounts`` of the reason are the two pinned blocks the path joins (positions).
    """
    pins = np.flatnonzero(own)
    if len(pins) < 2:
        return None
    coo = sp.coo_array(adjacency)
    high = target * (1 + tolerance)
    base = measures[pins].sum(axis=0)
    for c in np.flatnonzero(target > 0):
        cost = np.where(own, 0.0, np.maximum(measures[:, c], 0.0))
        # Entering a block costs its load; a tiny floor keeps every edge an edge for scipy.
        floor = 1e-12 * max(float(cost.max()), 1e-300)
        graph = sp.csr_array((cost[coo.col] + floor, (coo.row, coo.col)), shape=adjacency.shape)
        sources = pins[:_JOIN_SOURCES]
        # The search stops at the most a joining path may weigh (with the floors it can add): a pin
        # left unreached (the pins are in one piece: locked_apart's check came first) is beyond it.
        slack = floor * len(own)
        room = high[c] * (1 + _EPS) - base[c]
        far = dijkstra(graph, directed=True, indices=sources, limit=room + slack)[:, pins]
        beyond = np.argwhere(~np.isfinite(far))
        if not len(beyond):
            continue
        a, b = beyond[0]
        path = dijkstra(graph, directed=True, indices=int(sources[a]))[pins[b]] - slack  # never above the truth
        if path > room:
            return Reason("locked_join", names[c], float((base[c] + path) / target[c]), tolerance, "tolerance",
                          territory=territory, accounts=(int(sources[a]), int(pins[b])))
    return None


def count_range(load, target, tolerance) -> tuple[int, int]:
    """The whole numbers ``m`` of territories of target ``target`` (per measure) that a group of
    load ``load`` can hold within ``±tolerance``: ``[low, high]`` (empty when low > high)."""
    load = np.asarray(load, float)
    target = np.asarray(target, float)
    valid = target > 0
    if not valid.any():
        return 0, 10**9
    low = np.ceil(load[valid] / ((1 + tolerance) * target[valid]) - _EPS).max()
    high = np.floor(load[valid] / ((1 - tolerance) * target[valid]) + _EPS).min() if tolerance < 1 else 10**9
    return int(max(low, 0)), int(high)


def allocate_components(loads, target, tolerance, k, *, minimum=None, prefer=None):
    """Whole numbers of territories for each connected group of blocks, adding up to ``k``.

    Parameters
    ----------
    loads : ndarray, shape (C, M)
        Load of every group (component) and measure.
    target : ndarray, shape (M,)
        One territory's target load (equal targets).
    tolerance : float
    k : int
    minimum : ndarray of int, shape (C,), optional
        Territories a group must hold at least (those locked or based there); every group with
        load needs at least one.
    prefer : ndarray of float, shape (C,), optional
        Counts to stay close to (the current alignment's), else ``load / target``.

    Returns
    -------
    counts : ndarray of int, shape (C,) or None
        The counts, each group's load as close to ``count * target`` as possible (the largest
        smallest slack), or None when no counts fit the tolerance.
    ranges : list of (int, int)
        Every group's ``[low, high]`` range of counts.
    """
    loads = np.atleast_2d(np.asarray(loads, float))
    count = loads.shape[0]
    minimum = np.zeros(count, int) if minimum is None else np.asarray(minimum, int)
    share = loads / np.where(target > 0, target, 1.0)
    prefer = share.mean(axis=1) if prefer is None else np.asarray(prefer, float)
    ranges = []
    for c in range(count):
        low, high = count_range(loads[c], target, tolerance)
        has_load = bool((loads[c] > 0).any())
        low = max(low, int(minimum[c]), 1 if has_load else 0)
        ranges.append((low, min(high, k)))
    # Dynamic programme over groups: best[used] = (cost, choice path); cost is the summed distance
    # from the preferred counts (ties: the smaller count).
    best = {0: (0.0, ())}
    for c in range(count):
        low, high = ranges[c]
        grown = {}
        for used, (cost, path) in best.items():
            for m in range(low, min(high, k - used) + 1):
                key = used + m
                value = cost + abs(m - prefer[c])
                if key not in grown or value < grown[key][0] - _EPS:
                    grown[key] = (value, path + (m,))
        best = grown
        if not best:
            return None, ranges
    if k not in best:
        return None, ranges
    return np.array(best[k][1], dtype=np.int64), ranges


def component_reason(loads, target, tolerance, k, names, members, minimum=None) -> Reason | None:
    """The ``component`` proof when the groups of blocks cannot hold whole numbers of territories.

    ``members`` lists every group's block indices; ``minimum`` the territories each group must
    hold (those with a base or locked block in it). The reason names a group that must hold more
    territories than its load can balance (``pinned_component``), else the group whose range of
    counts is empty, or else the smallest group (the counts cannot add up to ``k``)."""
    counts, ranges = allocate_components(loads, target, tolerance, k, minimum=minimum)
    if counts is not None:
        return None
    valid = target > 0
    if minimum is not None:
        free = allocate_components(loads, target, tolerance, k)[1]
        over = [c for c in range(len(ranges)) if minimum[c] > free[c][1]]
        if over:
            c = max(over, key=lambda c: minimum[c] - free[c][1])
            measure = int(np.flatnonzero(valid)[int(np.argmin(loads[c][valid] / target[valid]))])
            return Reason("pinned_component", names[measure], float(loads[c, measure] / target[measure]), tolerance,
                          "tolerance", accounts=tuple(int(v) for v in members[c][:20]))
    order = sorted(range(len(ranges)), key=lambda c: (ranges[c][0] <= ranges[c][1], len(members[c])))
    c = order[0]
    ratio = loads[c][valid] / target[valid]
    measure = int(np.flatnonzero(valid)[int(np.argmax(np.abs(ratio - np.round(ratio))))])
    return Reason("component", names[measure], float(loads[c, measure] / target[measure]), tolerance, "tolerance",
                  accounts=tuple(int(v) for v in members[c][:20]))


def articulation_points(adjacency) -> np.ndarray:
    """The cut vertices of an undirected graph (Hopcroft & Tarjan's low points, iteratively)."""
    adjacency = sp.csr_array(adjacency)
    n = adjacency.shape[0]
    indptr, indices = adjacency.indptr, adjacency.indices
    order = np.full(n, -1, dtype=np.int64)
    low = np.zeros(n, dtype=np.int64)
    cut = np.zeros(n, bool)
    counter = 0
    for root in range(n):
        if order[root] >= 0:
            continue
        order[root] = low[root] = counter
        counter += 1
        children = 0
        stack = [(root, -1, indptr[root])]
        while stack:
            v, parent, slot = stack[-1]
            if slot < indptr[v + 1]:
                stack[-1] = (v, parent, slot + 1)
                w = indices[slot]
                if order[w] < 0:
                    order[w] = low[w] = counter
                    counter += 1
                    stack.append((w, v, indptr[w]))
                elif w != parent:
                    low[v] = min(low[v], order[w])
                continue
            stack.pop()
            if parent >= 0:
                low[parent] = min(low[parent], low[v])
                if parent == root:
                    children += 1
                elif low[v] >= order[parent]:
                    cut[parent] = True
        cut[root] = children > 1
    return np.flatnonzero(cut)


def forced_deviation(adjacency, measures, k: int, *, target=None, candidates=None) -> tuple[float, int]:
    """A lower bound on the largest deviation of any alignment with connected territories.

    For a cut vertex ``v``, every territory meeting a component ``C`` of the graph without
    ``v`` lies inside ``C``, except ``v``'s own territory. If every territory is within
    ``±tau`` of the target ``T``, then ``C`` holds some number ``q`` of whole territories and
    ``v``'s territory takes the rest of ``C``, between ``L - q (1 + tau) T`` (and 0) and
    ``L - q (1 - tau) T`` in every measure, ``L`` being ``C``'s load; the ``q`` of all the
    components and ``v``'s territory add up to ``k``, and ``v``'s territory (``v`` and the
    rests) lies within ``(1 ± tau) T``. When no choice of the ``q`` meets all this, no
    connected alignment is within ``±tau``. The bound is the largest such ``tau`` over the
    cut vertices (by bisection).

    Parameters
    ----------
    adjacency : sparse, shape (n, n)
        A connected graph.
    measures : ndarray, shape (n, M)
    k : int
    target : ndarray, shape (M,), optional
        One territory's target load (default: the total over ``k``).
    candidates : array-like of int, optional
        The cut vertices to look at (default: every articulation point).

    Returns
    -------
    (float, int)
        The bound, and the cut vertex that gives it (-1 when the bound is 0).
    """
    measures = np.asarray(measures, float).reshape(adjacency.shape[0], -1)
    n = adjacency.shape[0]
    target = measures.sum(axis=0) / k if target is None else np.asarray(target, float)
    adjacency = sp.csr_array(adjacency)
    worst, where = 0.0, -1
    for v in articulation_points(adjacency) if candidates is None else candidates:
        keep = np.r_[0:v, v + 1 : n]
        count, piece = connected_components(adjacency[keep][:, keep], directed=False)
        if count == 1:
            continue
        loads = np.zeros((count, measures.shape[1]))
        np.add.at(loads, piece, measures[keep])
        if cut_allows(loads, measures[v], target, k, worst):
            continue
        low, high = worst, 1.0
        for _ in range(30):
            mid = (low + high) / 2
            low, high = (low, mid) if cut_allows(loads, measures[v], target, k, mid) else (mid, high)
        worst, where = low, int(v)
    return worst, where


def cut_allows(loads, own, target, k, tau) -> bool:
    """Whether the components of a cut vertex (loads) leave its territory a load within ``±tau``."""
    states = [(0, own, own)]
    for load in loads:
        valid = target > 0
        most_inside = int(np.floor((load[valid] / ((1 - tau) * target[valid])).min() + 1e-12)) if valid.any() else 0
        grown = []
        for inside, low, high in states:
            for q in range(0, min(most_inside, k - 1 - inside) + 1):
                new_low = low + np.clip(load - q * (1 + tau) * target, 0.0, None)
                if (new_low <= (1 + tau) * target + 1e-9).all():
                    grown.append((inside + q, new_low, high + load - q * (1 - tau) * target))
        states = _prune(grown)
    return any(inside == k - 1 and (high >= (1 - tau) * target - 1e-9).all() for inside, _, high in states)


def _prune(states):
    """Keep, per count of territories inside, the states no other dominates (a lower or equal
    least rest and a higher or equal most rest in every measure): exact, since every
    continuation open to a dominated state is open to the one dominating it."""
    by_count = {}
    for state in states:
        by_count.setdefault(state[0], []).append(state)
    out = []
    for group in by_count.values():
        group.sort(key=lambda s: (s[1].sum(), -s[2].sum()))
        kept = []
        for s in group:
            if not any((p[1] <= s[1] + 1e-12).all() and (p[2] >= s[2] - 1e-12).all() for p in kept):
                kept.append(s)
        out.extend(kept)
    return out
