"""Re-siting: on a map far out of balance, starved territories move to where the load is.

The analyst's "close a starved territory, open one in the metro": the close and open moves of
location-allocation heuristics (Cooper 1964; Teitz & Bart 1968), costed in the currency of the
border flows (weight times borders crossed).
"""

from __future__ import annotations

import functools
from typing import Callable

import numpy as np
from scipy.spatial import cKDTree

from ..arrays import distinct
from ..measures import territory_loads
from ..tuning import DEFAULT_TUNING, Tuning
from .centres import bisection
from .units import Units

__all__ = ["adjacency", "dissolve", "resite"]


def resite(units: Units, target, tolerance, nearest, *, eagerness: float = 1.0,
           tuning: Tuning = DEFAULT_TUNING) -> tuple[np.ndarray, tuple[tuple[int, int], ...]]:
    """A starting alignment in which starved territories have moved to where the load is.

    When a territory holds far more than its target (a metro drawn the size of a rural
    territory) and its neighbours have too little room to take the excess, shedding it border
    by border moves it through ring after ring of neighbours, each passing on as much as it
    receives. Instead, an under-served territory without locked accounts is re-sited: its
    units go to the territory of their nearest unit in another territory, and it takes over
    one end of the overloaded territory (a weighted bisection holding the smaller of its
    target and the excess).

    Overloaded territories are taken in turn, most overloaded first, while one holds at least
    ``tuning.resite_from`` times its target. Moves are costed as weight times borders crossed:
    left to the border flows, the excess fills the room (load below target) of the territories
    one border away (adjacency from ``nearest``, each unit's nearest units), then two, ...
    (:func:`_chain_cost`). Re-siting costs the re-sited territory's load, spread the same way
    into the room around it, plus the part taken over, plus the chain cost of any excess left.
    Of the ``tuning.resite_candidates`` most under-served free territories (below their band,
    no locks, not re-sited already), the cheapest is re-sited if its cost is below
    ``eagerness`` times that of leaving the excess to the flows; otherwise the overloaded
    territory is left to them, and the room it will use is counted as taken.

    Returns the new current territory of every unit, and the ``(re-sited, relieved)``
    territory pairs in the order they were made.
    """
    current = units.current.copy()
    weight = units.values[:, 0]
    k = len(target)
    has = current >= 0
    held = np.zeros(k, dtype=bool)
    held[current[units.locked & has]] = True
    moved_here = np.zeros(k, dtype=bool)
    settled = np.zeros(k, dtype=bool)
    promised = np.zeros(k)  # excess the border flows are expected to bring to each territory
    pairs: list[tuple[int, int]] = []
    load = territory_loads(current, weight, k)
    if load.max(initial=0.0) < tuning.resite_from * target.min():
        return current, ()
    adjacent = adjacency(current, nearest, k)
    tree = functools.cache(lambda: cKDTree(units.xyz))  # built only for a pocket (see dissolve)
    for _ in range(2 * k):
        ratio = np.where(settled, 0.0, load / target)
        over = int(np.argmax(ratio))
        if ratio[over] < tuning.resite_from:
            break
        excess = load[over] - target[over]
        rings = _rings(adjacent, over, tuning.resite_depth)
        room = [np.maximum(target[ring] - load[ring] - promised[ring], 0.0) for ring in rings]
        free = ~held & ~moved_here & (load <= target * (1 - tolerance))
        free[over] = False
        # The candidates: the most under-served free territories. Re-siting one moves its load
        # (into the room around it, ring by ring), the part it takes over, and whatever excess
        # is left for the border flows.
        candidates = np.flatnonzero(free)
        candidates = candidates[np.argsort(load[candidates] / target[candidates], kind="stable")[:tuning.resite_candidates]]
        best, resite_cost, size = -1, np.inf, 0.0
        for under in candidates.tolist():
            take = min(target[under], excess)
            around = _rings(adjacent, under, tuning.resite_depth)
            cost = (_chain_cost(load[under], [np.maximum(target[r] - load[r] - promised[r], 0.0) for r in around])
                    + take + _chain_cost(excess - take, room))
            if cost < resite_cost:
                best, resite_cost, size = under, cost, take
        under = best
        movable = np.flatnonzero((current == over) & ~units.locked)
        share = size / max(weight[movable].sum(), 1e-300)
        if under < 0 or share >= 1 or resite_cost >= eagerness * _chain_cost(excess, room):
            # Left to the border flows: promise them the room they will use, ring by ring.
            left = excess
            for ring, space in zip(rings, room):
                used = min(left, space.sum())
                if used > 0:
                    promised[ring] += used * space / space.sum()
                left -= used
            settled[over] = True
            continue
        changed = {under, over} | adjacent[under]
        dissolve(current, under, nearest, tree)
        part = bisection(units.xyz[movable], weight[movable], np.array([share, 1 - share]))
        current[movable[part == 0]] = under
        moved_here[under] = True
        pairs.append((under, over))
        load = territory_loads(current, weight, k)
        _update_adjacency(adjacent, current, nearest, changed)
    return current, tuple(pairs)


def adjacency(current, nearest, k) -> list[set[int]]:
    """The territories next to each territory: those holding one of its units' ``nearest``."""
    adjacent: list[set[int]] = [set() for _ in range(k)]
    _update_adjacency(adjacent, current, nearest, range(k))
    return adjacent


def _update_adjacency(adjacent, current, nearest, changed) -> None:
    """Recompute, in place, the neighbours of the ``changed`` territories."""
    changed = np.fromiter(changed, dtype=np.int64)
    for t in changed.tolist():
        for other in adjacent[t]:
            adjacent[other].discard(t)
        adjacent[t] = set()
    members = np.flatnonzero(np.isin(current, changed))
    own = np.repeat(current[members], nearest.shape[1])
    around = current[nearest[members]].ravel()
    border = (around != own) & (around >= 0)
    k = len(adjacent)
    codes = distinct(own[border] * k + around[border])
    for a, b in zip((codes // k).tolist(), (codes % k).tolist()):
        adjacent[a].add(b)
        adjacent[b].add(a)


def _rings(adjacent, t, depth: int) -> list[np.ndarray]:
    """The territories one, two, ... ``depth`` borders away from territory ``t``."""
    seen = {t}
    frontier = {t}
    rings = []
    for _ in range(depth):
        frontier = set().union(*(adjacent[f] for f in frontier)) - seen
        if not frontier:
            break
        seen |= frontier
        rings.append(np.fromiter(sorted(frontier), dtype=np.int64))
    return rings


def _chain_cost(excess, room) -> float:
    """Weight moved when ``excess`` flows out border by border into the ``room`` of the
    rings around its territory (``room[r]``: what each territory r + 1 borders away can
    take): every unit of weight absorbed r + 1 borders away crosses r + 1 borders."""
    cost, left = 0.0, max(excess, 0.0)
    for r, space in enumerate(room):
        used = min(left, float(space.sum()))
        cost += (r + 1) * used
        left -= used
    return cost + (len(room) + 1) * left


def dissolve(current, t, nearest, tree: Callable[[], cKDTree]) -> None:
    """Give every unit of territory ``t`` the territory of its nearest unit in another
    territory (in place; ``nearest``: each unit's nearest units, nearest first); units deep
    inside take it from neighbours already given one, wave by wave. A pocket whose nearest
    units all lie in t (or in no territory) looks further, in ``tree()`` of all units."""
    todo = np.flatnonzero(current == t)
    count = nearest.shape[1]
    while len(todo):
        labels = current[nearest[todo]]
        outside = (labels != t) & (labels >= 0)
        found = outside.any(axis=1)
        while not found.any():
            if count >= len(current):
                return  # no other territory to give them to
            count = min(4 * max(count, 1), len(current))
            labels = current[tree().query(tree().data[todo], k=count)[1].reshape(len(todo), -1)]
            outside = (labels != t) & (labels >= 0)
            found = outside.any(axis=1)
        current[todo[found]] = labels[found, np.argmax(outside[found], axis=1)]
        todo = todo[~found]
