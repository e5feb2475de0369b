"""Rebalancing: assign accounts (or building blocks) to territories within a balance tolerance.

The method ``"balanced"`` works in phases, each named after the literature it draws on:

0. **Units.** Accounts, or building blocks (ZIP, county) that move as one; above
   ``max_units`` accounts, small grid cells that never mix current territories or locks and
   never weigh more than 5% of a target.
1. **Centres.** Rep home bases when given; else the current territories' centres when
   realigning; else a balanced recursive coordinate bisection (Berger & Bokhari 1987).
2. **Realigning a map far out of balance: re-siting.** When a territory holds at least
   ``RESITE_FROM`` (1.3) times its target and the room around it, ring by ring of
   neighbouring territories, would take its excess only across several borders, an
   under-served territory (no locks) is re-sited when that moves less: its units go to their
   nearest other territory, and it takes over one end of the overloaded territory (a weighted
   bisection). This is the analyst's "close a starved territory, open one in the metro" (the
   close and open moves of location-allocation heuristics), costed in the same currency as
   the flows below: weight times borders crossed. Not with rep home bases or a move cap;
   ``resite=False`` turns it off.
3. **Realigning: border flows.** Round by round, the units on a border (one of their ten
   nearest units lies in another territory) may move to the territory most of their
   neighbours are in; a small linear programme on the territory graph (a minimum-cost flow,
   one constraint set per constrained measure; Zoltners & Sinha 2005 on realignment) moves
   the least weight that brings every territory into an aim band inside the tolerance, and
   each flow is realised by the units most inside the receiving territory, deeper layers
   following when a flow is larger than the border. Accounts only cross borders, so
   territories stay whole and the moved share stays near the least any border-respecting
   realignment must move. After the repair (phase 5), moved units that most of their
   nearest units surround in one territory go there where the bands allow (back to their old
   territory first: one move fewer each): realising flows with lumpy accounts leaves a few
   such pockets. Then, up to ``POLISH_MAX_UNITS`` border units (maps of up to a few
   thousand accounts), a border polish re-chooses every border unit's territory at once
   (stay, go back, or join a neighbour's territory): least moved weight, plus a penalty per
   neighbour in another territory and a little for travel, within the bands (a generalised
   assignment problem: linear relaxation, then ``scipy.optimize.milp`` on the units it moves
   or splits).
4. **Fresh designs: price assignment** (Lagrangian relaxation of the balance constraints;
   Hess et al. 1965, Zoltners & Sinha 1983; Bertsekas' auction for the price updates). Each
   unit goes to the territory with the least ``km to centre - price``, among the nearest few
   centres (a cKDTree candidate list). Additive prices on distances give additively weighted
   Voronoi territories: contiguous and not interleaved. Centres and prices alternate, centres
   moving to each territory's weighted geometric median (Weiszfeld), a descent step on the
   weighted travel (Cooper 1964's location-allocation heuristic with capacities).
5. **Repair.** Single moves, then swaps, of units between neighbouring territories that
   reduce the total violation of every constrained measure's band (the weighted mix, and
   each measure on its own when asked), the cheapest in km first.
6. **Improvement** (fresh designs, and realignment with a disruption weight below 0.5):
   moves of units to a nearer territory that keep every band, a first-improvement local
   search in the spirit of Ríos-Mercado & Fernández (2009). When realigning, the current
   territory's cost carries a stickiness bonus of ``disruption_weight`` territory radii.
   A fresh design then gets the border polish of phase 3, with each unit's km to its
   territory's centre in place of the moved weight: smoother borders at no cost in travel.
7. **Second opinions** (realigning, up to ``max_units`` accounts): when the realignment
   moved more than twice the least any balanced alignment must move (a map far out of
   balance, whose excess crosses several borders), re-siting more eagerly is tried, then a
   fresh design whose territories keep the ids of the current ones they overlap most; each
   is kept if it moves less.

``"lagrangian"`` is the plain baseline the benchmark compares against: the price
assignment with squared distances and centroid centres (a balanced k-means/transportation
assignment from iterated centres), also when realigning (with the stickiness bonus),
followed only by the repair so that it honours the same contract.

Both methods keep locked accounts in their current territory, assign every account exactly
once, are deterministic for a given seed, and raise :class:`InfeasibleError` (carrying the
best alignment found) when the tolerance cannot be met.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from typing import Callable

import numpy as np
import pandas as pd
from scipy.spatial import cKDTree

from .errors import InfeasibleError, SettingsError
from .geo import QUERY_WORKERS, chord_to_km, to_latlon, to_xyz
from .measures import _weiszfeld, required_move_share, territory_loads

__all__ = ["METHODS", "MAX_UNITS", "Alignment", "design", "match_ids"]

METHODS = ("balanced", "lagrangian")

Progress = Callable[[str, float], None]


MAX_UNITS = 150_000
"""Above this many accounts, :func:`design` works on small grid cells of accounts (and a
realignment tries no fresh second opinion)."""

POLISH_MAX_UNITS = 3_000
"""The border polish (:func:`_polish_moves`) re-chooses at most this many border units at
once; a realignment with more (about 5,000 accounts and up) keeps the border flows' choice,
and a fresh design of more than five times as many units is not polished at all (its border
units are not even counted)."""
POLISH_PENALTY = 0.15
"""Cost, in average units' weight, of each nearest unit a unit has in another territory."""
POLISH_KM = {False: 0.3, True: 3.0}
"""In the polish of a fresh design (False) and of a realignment (True), a unit's travel to its
territory's centre costs its weight (in average units) per this many typical territory radii
(less than its moved weight in a realignment, where the current territory also gets the
disruption bonus)."""
POLISH_WIDEN = 1
"""Units next to a unit that the polish's relaxation moves or splits are placed again too."""
POLISH_GAP = 0.01
POLISH_NODES = 50
POLISH_SECONDS = 60.0
"""The polish's integer programme stops within 1% of its optimum or after 50 branch-and-bound
nodes (both deterministic); the time limit is only a safety net."""


@dataclass(frozen=True)
class Alignment:
    """A proposed alignment and its balance.

    Attributes
    ----------
    territory : ndarray of int, shape (n,)
        Territory index 0..k-1 of every account.
    centres : ndarray, shape (k, 2)
        Latitude and longitude of each territory's centre (the rep base when given).
    loads, targets : ndarray, shape (k, C)
        Load and target of every constrained measure (column 0: the combined balance
        measure; then each measure when ``each_measure``), as shares of the total.
    deviation : ndarray, shape (k, C)
        ``load / target - 1``.
    max_deviation : float
        Largest absolute deviation over territories and constrained measures.
    within_tolerance : bool
    reasons : tuple of str
        Why balance is impossible (empty when within tolerance).
    moved_reason : ndarray of object, shape (n,)
        ``"balance"``, ``"compactness"``, ``"resite"`` or ``""`` per account.
    method, seed, iterations
        How the alignment was found.
    fresh_not_tried : bool
        The realignment moved more than twice the least any balanced alignment must move,
        and no fresh design (which may move less) was tried: more than ``max_units`` accounts.
    resited : tuple of (int, int)
        ``(re-sited, relieved)`` territory pairs: the re-sited territory's accounts went to
        its neighbours, and it took over part of the relieved one (see ``design(resite=)``).
    """

    territory: np.ndarray
    centres: np.ndarray
    loads: np.ndarray
    targets: np.ndarray
    deviation: np.ndarray
    max_deviation: float
    within_tolerance: bool
    reasons: tuple[str, ...]
    moved_reason: np.ndarray
    method: str
    seed: int
    iterations: int
    constrained: tuple[str, ...] = field(default=("combined",))
    fresh_not_tried: bool = False
    resited: tuple[tuple[int, int], ...] = ()


# --------------------------------------------------------------------------------------
# The problem, after validation and aggregation into units
# --------------------------------------------------------------------------------------


@dataclass
class _Units:
    xyz: np.ndarray  # (u, 3) km
    values: np.ndarray  # (u, C) shares of total of each constrained measure
    current: np.ndarray  # (u,) int or -1
    locked: np.ndarray  # (u,) bool
    of_account: np.ndarray  # (n,) unit index of every account


def _micro_cells(xyz, current, locked, k, size) -> np.ndarray:
    """Group accounts into about ``size`` small grid cells, never mixing current territories.

    A cell key is the 3-D grid cell of the account (side chosen so that the occupied cells
    number about ``size``), its current territory and its lock; locked accounts stay alone.
    """
    n = len(xyz)
    side = _typical_radius(xyz, k) * np.sqrt(np.pi * k / size)
    for _ in range(8):
        cell = np.floor(xyz / side).astype(np.int64)
        cell -= cell.min(axis=0)
        span = cell.max(axis=0) + 1
        key = (cell[:, 0] * span[1] + cell[:, 1]) * span[2] + cell[:, 2]
        key = key * (int(current.max()) + 2) + (current + 1)
        key = np.where(locked, -1 - np.arange(n), key)
        unit = _codes(key)
        cells = int(unit.max()) + 1
        if cells <= size * 1.3:
            return unit.ravel()
        side *= np.sqrt(cells / size)
    return unit.ravel()


def _split_heavy(unit, weight, xyz, cap) -> np.ndarray:
    """Split units heavier than ``cap`` into slices of at most about ``cap`` along x."""
    heavy = np.bincount(unit, weight) > cap
    if not heavy.any():
        return unit
    rows = np.flatnonzero(heavy[unit])
    order = rows[np.lexsort((xyz[rows, 0], unit[rows]))]
    within = _before_in_group(weight[order], unit[order], unit.max() + 1)
    piece = np.zeros(len(unit), dtype=np.int64)
    piece[order] = np.floor(within / cap).astype(np.int64)
    return _codes(unit.astype(np.int64) * (piece.max() + 1) + piece)


def _before_in_group(w, group, groups) -> np.ndarray:
    """For weights ``w`` sorted by ``group`` (codes below ``groups``), each one's sum of the
    weights before it in its group."""
    if len(w) == 0:
        return np.zeros(0)
    cum = np.cumsum(w)
    first = np.searchsorted(group, np.arange(groups))
    return cum - w - np.where(first > 0, cum[np.maximum(first - 1, 0)], 0.0)[group]


def _codes(keys) -> np.ndarray:
    """Dense codes 0..m-1 of ``keys`` in sorted key order (``np.unique``'s inverse, by hashing)."""
    return pd.factorize(np.asarray(keys), sort=True)[0]


def _as_units(xyz, values, current, locked, blocks, *, k, max_units, target) -> _Units:
    n = len(xyz)
    if blocks is None and n > max_units:
        blocks = _micro_cells(xyz, current, locked, k, max_units * 0.8)
        # No cell may weigh more than a small part of a territory's target.
        blocks = _split_heavy(blocks, values[:, 0], xyz, 0.05 * target.min())
    if blocks is None:
        return _Units(xyz, values, current, locked, np.arange(n))
    unit = _codes(blocks)
    u = int(unit.max()) + 1
    weight = values[:, 0] + 1e-12
    wsum = np.bincount(unit, weight, minlength=u)
    centre = np.stack([np.bincount(unit, weight * xyz[:, a], minlength=u) for a in range(3)], axis=1)
    centre /= wsum[:, None]
    unit_values = np.stack([np.bincount(unit, values[:, c], minlength=u) for c in range(values.shape[1])], axis=1)
    unit_locked = np.bincount(unit, locked.astype(float), minlength=u) > 0
    unit_current = np.full(u, -1)
    has = current >= 0
    pinned = locked & has
    if pinned.any():
        # A block is kept whole, so its locked accounts must share one territory.
        pairs = np.unique(unit[pinned].astype(np.int64) * (int(current.max()) + 1) + current[pinned])
        owners, counts = np.unique(pairs // (int(current.max()) + 1), return_counts=True)
        if (counts > 1).any():
            block = owners[counts > 1][0]
            raise SettingsError(
                f"building block #{block} holds locked accounts of {counts.max()} different territories, but a "
                "block is kept whole; unlock all but one territory's accounts there, or do not use building blocks"
            )
    if has.any():
        # The block's current territory: a locked account's, else the one holding most weight.
        k = int(current.max()) + 1
        pair = unit[has].astype(np.int64) * k + current[has]
        inverse, pairs = pd.factorize(pair, sort=True)
        score = np.bincount(inverse, weight[has] + 1e6 * locked[has])
        owner, territory = pairs // k, pairs % k
        best = np.lexsort((-score, owner))
        first = np.ones(len(best), dtype=bool)
        first[1:] = owner[best][1:] != owner[best][:-1]
        unit_current[owner[best][first]] = territory[best][first]
    return _Units(centre, unit_values, unit_current, unit_locked, unit)


# --------------------------------------------------------------------------------------
# Phase 1: centres
# --------------------------------------------------------------------------------------


RESITE_FROM = 1.3
"""A territory holding at least this multiple of its target may be relieved by re-siting an
under-served territory into it (see :func:`_resite`)."""

_EAGER_RESITE = (1.5, 2.0)
"""The eagerness of further tries of :func:`design` on a map that moved too much."""

_RESITE_CANDIDATES = 12
"""How many of the most under-served territories :func:`_resite` weighs for each re-site."""


def _resite(units: _Units, target, tolerance, nearest, *, eagerness: float = 1.0
            ) -> tuple[np.ndarray, tuple[tuple[int, int], ...]]:
    """A starting alignment in which starved territories have moved to where the load is.

    When a territory holds far more than its target (a metro drawn the size of a rural
    territory) and its neighbours have too little room to take the excess, shedding it border
    by border moves it through ring after ring of neighbours, each passing on as much as it
    receives. Instead, an under-served territory without locked accounts is re-sited: its
    units go to the territory of their nearest unit in another territory, and it takes over
    one end of the overloaded territory (a weighted bisection holding the smaller of its
    target and the excess).

    Overloaded territories are taken in turn, most overloaded first, while one holds at least
    :data:`RESITE_FROM` times its target. Moves are costed as weight times borders crossed:
    left to the border flows, the excess fills the room (load below target) of the territories
    one border away (adjacency from ``nearest``, each unit's nearest units), then two, ...
    (:func:`_chain_cost`). Re-siting costs the re-sited territory's load, spread the same way
    into the room around it, plus the part taken over, plus the chain cost of any excess left.
    Of the :data:`_RESITE_CANDIDATES` most under-served free territories (below their band,
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
    if load.max(initial=0.0) < RESITE_FROM * target.min():
        return current, ()
    adjacent = _adjacency(current, nearest, k)
    tree = functools.cache(lambda: cKDTree(units.xyz))  # built only for a pocket (see _dissolve)
    for _ in range(2 * k):
        ratio = np.where(settled, 0.0, load / target)
        over = int(np.argmax(ratio))
        if ratio[over] < RESITE_FROM:
            break
        excess = load[over] - target[over]
        rings = _rings(adjacent, over)
        room = [np.maximum(target[ring] - load[ring] - promised[ring], 0.0) for ring in rings]
        free = ~held & ~moved_here & (load <= target * (1 - tolerance))
        free[over] = False
        # The candidates: the most under-served free territories. Re-siting one moves its load
        # (into the room around it, ring by ring), the part it takes over, and whatever excess
        # is left for the border flows.
        candidates = np.flatnonzero(free)
        candidates = candidates[np.argsort(load[candidates] / target[candidates], kind="stable")[:_RESITE_CANDIDATES]]
        best, resite_cost, size = -1, np.inf, 0.0
        for under in candidates.tolist():
            take = min(target[under], excess)
            around = _rings(adjacent, under)
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
        _dissolve(current, under, nearest, tree)
        part = _bisection(units.xyz[movable], weight[movable], np.array([share, 1 - share]))
        current[movable[part == 0]] = under
        moved_here[under] = True
        pairs.append((under, over))
        load = territory_loads(current, weight, k)
        _update_adjacency(adjacent, current, nearest, changed)
    return current, tuple(pairs)


def _adjacency(current, nearest, k) -> list[set[int]]:
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
    codes = np.unique(own[border] * k + around[border])
    for a, b in zip((codes // k).tolist(), (codes % k).tolist()):
        adjacent[a].add(b)
        adjacent[b].add(a)


def _rings(adjacent, t, depth: int = 4) -> list[np.ndarray]:
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


def _dissolve(current, t, nearest, tree: Callable[[], cKDTree]) -> None:
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


def _nearest_units(xyz, neighbours: int = 10) -> np.ndarray:
    """Each unit's ``neighbours`` nearest other units, nearest first, shape (u, m)."""
    m = min(neighbours, len(xyz) - 1)
    if m < 1:
        return np.zeros((len(xyz), 0), dtype=np.int64)
    tree = cKDTree(xyz, balanced_tree=False, compact_nodes=False)
    return tree.query(xyz, k=m + 1, workers=QUERY_WORKERS)[1][:, 1:]


def _kmeanspp(xyz, weight, k, rng) -> np.ndarray:
    """Weighted k-means++ seeding on a sample of at most 20,000 units."""
    n = len(xyz)
    p = weight + weight.mean() * 0.05 + 1e-12
    if n > 20000:
        sample = rng.choice(n, 20000, replace=False, p=p / p.sum())
        xyz, p = xyz[sample], np.ones(20000)
        n = 20000
    first = rng.choice(n, p=p / p.sum())
    centres = [xyz[first]]
    d2 = ((xyz - xyz[first]) ** 2).sum(axis=1)
    for _ in range(1, k):
        q = p * d2
        if q.sum() <= 0:
            q = np.ones(n)
        nxt = rng.choice(n, p=q / q.sum())
        centres.append(xyz[nxt])
        d2 = np.minimum(d2, ((xyz - xyz[nxt]) ** 2).sum(axis=1))
    return np.array(centres)


def _centres_of(xyz, weight, territory, k, previous, *, median: bool) -> np.ndarray:
    """Weighted centroid (or a few Weiszfeld steps to the geometric median) per territory."""
    w = weight + 1e-9
    den = np.bincount(territory, w, minlength=k)
    mean = np.stack([np.bincount(territory, w * xyz[:, a], minlength=k) for a in range(3)], axis=1)
    ok = den > 0
    centre = previous.copy()
    centre[ok] = mean[ok] / den[ok, None]
    if median:
        centre = _weiszfeld(xyz, w, territory, k, centre, 4)
    return centre


def _majority_other(other: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per row of ``other`` (territory indices of a unit's neighbours, -1 for its own): the
    territory most neighbours are in (the nearest first among ties) and their number."""
    valid = other >= 0
    first = other[np.arange(len(other)), valid.argmax(axis=1)]
    dest, top = first, valid.sum(axis=1)
    mixed = np.flatnonzero(~((other == first[:, None]) | ~valid).all(axis=1))
    if len(mixed):
        # Neighbours in two or more other territories: count each one's votes.
        o = other[mixed]
        votes = np.zeros(o.shape, dtype=np.int64)
        for j in range(o.shape[1]):
            votes[:, j] = ((o == o[:, j : j + 1]) & (o[:, j : j + 1] >= 0)).sum(axis=1)
        best = votes.argmax(axis=1)
        dest, top = dest.copy(), top.copy()
        dest[mixed] = o[np.arange(len(mixed)), best]
        top[mixed] = votes[np.arange(len(mixed)), best]
    return dest, top


def _deeper_units(xyz, weight, assign, movable, centres_xyz, chosen, e_src, e_dst, remaining, k):
    """Units that carry the rest of each flow beyond the border layer: from the source
    territory, those nearest the receiving territory's centre relative to their own.

    Returns ``(units, destinations)``. Every (flow, candidate unit) pair is ranked at once;
    a unit wanted by two flows from its territory goes with the first.
    """
    edges = np.flatnonzero(remaining > 0)
    if len(edges) == 0:
        return np.empty(0, dtype=np.intp), np.empty(0, dtype=np.intp)
    free = movable.copy()
    free[chosen] = False
    members = np.argsort(assign, kind="stable")
    members = members[free[members]]
    bounds = np.searchsorted(assign[members], np.arange(k + 1))
    src = e_src[edges]
    sizes = bounds[src + 1] - bounds[src]
    flow_of = np.repeat(np.arange(len(edges)), sizes)
    offset = np.arange(len(flow_of)) - np.repeat(np.cumsum(sizes) - sizes, sizes)
    pool = members[bounds[src][flow_of] + offset]
    dst = e_dst[edges][flow_of]
    gap = (np.linalg.norm(xyz[pool] - centres_xyz[dst], axis=1)
           - np.linalg.norm(xyz[pool] - centres_xyz[src[flow_of]], axis=1))
    order = np.lexsort((gap, flow_of))
    pool, dst, flow_of = pool[order], dst[order], flow_of[order]
    w = weight[pool]
    before = _before_in_group(w, flow_of, len(edges))  # (empty when every source unit is taken)
    pick = np.flatnonzero(before + 0.5 * w <= remaining[edges][flow_of])
    _, once = np.unique(pool[pick], return_index=True)
    pick = pick[np.sort(once)]
    return pool[pick], dst[pick]


# --------------------------------------------------------------------------------------
# Phase 2: price assignment
# --------------------------------------------------------------------------------------


@dataclass
class _Candidates:
    index: np.ndarray  # (u, q) territory index
    cost: np.ndarray  # (u, q) km (or km^2), +inf where not allowed


def _border_flows(units: _Units, centres_xyz, target, aim, *, rounds: int = 60, nearest=None):
    """Realign by moving border units along minimum-cost flows between adjacent territories.

    Each round finds the border units (one of their ``nearest`` units, default the ten
    nearest, lies in another territory), gives each one destination (the other territory most
    of its neighbours are in), and solves a small linear programme on the territory graph: move the
    least weight, across borders only, that brings every territory into its aim band (the
    minimum-cost flow view of realignment; Zoltners & Sinha 2005). Each flow is realised by
    the units nearest the receiving territory. Rounds repeat, layer by layer, until every
    territory is in its band or nothing can move.
    """
    from scipy.optimize import linprog
    from scipy.sparse import csr_array

    u, k = len(units.xyz), len(target)
    target = target.reshape(k, -1)
    c_count = target.shape[1]
    weight = units.values[:, 0]
    assign = np.where(units.current >= 0, units.current, 0).copy()
    unassigned = units.current < 0
    if unassigned.any():
        # Accounts without a territory join the nearest centre first.
        assign[unassigned] = cKDTree(centres_xyz).query(units.xyz[unassigned])[1]
    movable = ~(units.locked & (units.current >= 0))
    nearest = _nearest_units(units.xyz) if nearest is None else nearest
    m = nearest.shape[1]
    if m < 1:
        return assign
    hi, lo = target * (1 + aim), target * (1 - aim)
    for _ in range(rounds):
        load = territory_loads(assign, units.values, k)
        if ((load <= hi + 1e-15) & (load >= lo - 1e-15)).all():
            break
        around = assign[nearest]
        # Border units: a neighbour lies in another territory. Votes are counted on those only.
        rows = np.flatnonzero(((around != assign[:, None]).any(axis=1)) & movable)
        if len(rows) == 0:
            break
        other = np.where(around[rows] != assign[rows, None], around[rows], -1)
        dest, votes = _majority_other(other)
        src = assign[rows]
        key = src * k + dest
        edges, edge_of = np.unique(key, return_inverse=True)
        edge_of = edge_of.ravel()
        e = len(edges)
        e_src, e_dst = edges // k, edges % k
        # Flows may exceed this round's border layer (deeper layers follow in later rounds),
        # so an edge carries up to all the weight its source may still give.
        free = np.bincount(assign[movable], weight[movable], minlength=k)
        capacity = free[e_src]
        # Net change of each territory: + inflow - outflow; slack keeps the LP feasible.
        cols = np.arange(e)
        a = csr_array(
            (np.concatenate([-np.ones(e), np.ones(e)]), (np.concatenate([e_src, e_dst]), np.concatenate([cols, cols]))),
            shape=(k, e),
        )
        from scipy.sparse import diags, hstack, vstack

        # Each constrained measure moves with a flow in the mix of the edge's border units.
        border_weight = np.maximum(np.bincount(edge_of, weight[rows], minlength=e), 1e-300)
        blocks_ub, b_parts = [], []
        slack = 2 * k * c_count
        for c in range(c_count):
            mix = np.bincount(edge_of, units.values[rows, c], minlength=e) / border_weight
            a_c = a @ diags(mix)
            col = 2 * k * c
            pos = csr_array((np.ones(k), (np.arange(k), col + np.arange(k))), shape=(k, slack))
            neg = csr_array((np.ones(k), (np.arange(k), col + k + np.arange(k))), shape=(k, slack))
            blocks_ub += [hstack([a_c, -pos]), hstack([-a_c, -neg])]
            b_parts += [hi[:, c] - load[:, c], load[:, c] - lo[:, c]]
        a_ub = vstack(blocks_ub).tocsr()
        b_ub = np.concatenate(b_parts)
        hop = np.linalg.norm(centres_xyz[e_src] - centres_xyz[e_dst], axis=1)
        cost = np.concatenate([1.0 + 1e-3 * hop / max(hop.mean(), 1e-9), np.full(slack, 100.0)])
        bounds = np.column_stack([np.zeros(e + slack), np.concatenate([capacity, np.full(slack, np.inf)])])
        solution = linprog(cost, A_ub=a_ub, b_ub=b_ub, bounds=bounds, method="highs")
        if solution.status != 0:
            break
        flow = solution.x[:e]
        if flow.sum() <= 1e-12:
            break
        # Realise each flow with the units most inside the receiving territory.
        gap = np.linalg.norm(units.xyz[rows] - centres_xyz[dest], axis=1) - np.linalg.norm(
            units.xyz[rows] - centres_xyz[src], axis=1
        )
        # Units most surrounded by the receiving territory first, then the nearest to it.
        order = np.lexsort((gap, -votes, edge_of))
        w_sorted = weight[rows][order]
        before = _before_in_group(w_sorted, edge_of[order], e)
        take = before + 0.5 * w_sorted <= flow[edge_of[order]]
        chosen = rows[order][take]
        to = dest[order][take]
        # Where a flow is larger than its border layer, the rest comes from deeper units of
        # the source: those nearest the receiving territory's centre relative to their own.
        remaining = flow - np.bincount(edge_of[order][take], w_sorted[take], minlength=e)
        deeper, deeper_to = _deeper_units(units.xyz, weight, assign, movable, centres_xyz, chosen,
                                          e_src, e_dst, remaining, k)
        chosen = np.concatenate([chosen, deeper])
        to = np.concatenate([to, deeper_to])
        if len(chosen) == 0:
            break
        assign[chosen] = to
        if weight[chosen].sum() < 0.5 * flow.sum():
            # The flows left are finer than whole units: later rounds would move a handful
            # each. Repair finishes the balance.
            break
    return assign


def _candidates(units: _Units, centres_xyz, q, *, squared, stickiness, fresh, extra=None) -> _Candidates:
    k = len(centres_xyz)
    q = min(q, k)
    dist, index = cKDTree(centres_xyz).query(units.xyz, k=q, workers=QUERY_WORKERS)
    if q == 1:
        dist, index = dist[:, None], index[:, None]
    km = chord_to_km(dist)
    if extra is not None:
        # A territory the unit must be able to stay in (where realignment put it).
        extra_km = chord_to_km(np.linalg.norm(units.xyz - centres_xyz[extra], axis=1))
        dup = (index == extra[:, None]).any(axis=1)
        km = np.column_stack((km, np.where(dup, np.inf, extra_km)))
        index = np.column_stack((index, extra))
    has_current = (units.current >= 0) & (not fresh)
    if has_current.any():
        # Always offer the current territory as a candidate (last column).
        cur = np.where(has_current, units.current, index[:, 0])
        cur_km = chord_to_km(np.linalg.norm(units.xyz - centres_xyz[cur], axis=1))
        dup = (index == cur[:, None]).any(axis=1)
        km = np.column_stack((km, np.where(dup, np.inf, cur_km)))
        index = np.column_stack((index, cur))
    cost = km**2 if squared else km.copy()
    if has_current.any():
        bonus = np.where(has_current[:, None] & (index == units.current[:, None]), stickiness, 0.0)
        if squared:
            bonus = bonus**2
        cost -= bonus
        cost[:, -1] = np.where(np.isinf(km[:, -1]), np.inf, cost[:, -1])
    locked = units.locked & (units.current >= 0)
    if locked.any():
        allowed = index[locked] == units.current[locked, None]
        cost[locked] = np.where(allowed, cost[locked], np.inf)
        # A locked unit whose current territory was not among its candidates: add it.
        missing = ~allowed.any(axis=1)
        if missing.any():
            rows = np.flatnonzero(locked)[missing]
            index[rows, 0] = units.current[rows]
            cost[rows, 0] = 0.0
    return _Candidates(index, cost)


def _top2(value):
    """Column positions of the smallest and second smallest entry in each row."""
    n, q = value.shape
    best = np.zeros(n, dtype=np.intp)
    second = np.zeros(n, dtype=np.intp)
    best_v = value[:, 0].copy()
    second_v = np.full(n, np.inf)
    for j in range(1, q):
        v = value[:, j]
        better = v < best_v
        runner = ~better & (v < second_v)
        second = np.where(better, best, np.where(runner, j, second))
        second_v = np.where(better, best_v, np.where(runner, v, second_v))
        best = np.where(better, j, best)
        best_v = np.where(better, v, best_v)
    return best, second


def _threshold(group, margin, weight, need, k):
    """Per group j, the smallest margin m such that members with margin <= m weigh >= need[j].

    Returns (k,) with +inf where the group cannot reach its need, and nan where need <= 0.
    """
    out = np.full(k, np.nan)
    active = need > 0
    if not active.any():
        return out
    take = active[group] & np.isfinite(margin)
    g, m, w = group[take], margin[take], weight[take]
    order = np.lexsort((m, g))
    g, m, w = g[order], m[order], w[order]
    out[active] = np.inf
    if len(g) == 0:
        return out
    starts = np.searchsorted(g, np.arange(k))
    cum = np.cumsum(w)
    base = np.where(starts > 0, cum[np.maximum(starts - 1, 0)], 0.0)
    base = np.where(starts > 0, base, 0.0)
    # position of the first member whose cumulative weight reaches need
    goal = base + need
    pos = np.searchsorted(cum, goal - 1e-15, side="left")
    ends = np.searchsorted(g, np.arange(k), side="right")
    hit = active & (pos < ends)
    out[hit] = m[pos[hit]]
    return out


def _price_assign(cand: _Candidates, weight, target, aim, prices, *, iterations, realign, scale, tolerance):
    """Lagrangian prices so that each territory's load of ``weight`` lies within target*(1±aim).

    Each over-served territory lowers its price by the least amount that sheds its excess to
    the runners-up of its units; each under-served one raises it by the least amount that
    draws its deficit from units whose runner-up it is (a damped Jacobi step of the dual).
    Stops once every territory is within the tolerance (pushing towards the narrower aim
    band leaves slack for the discrete repair), or when progress stalls.
    Returns the assignment (unit -> territory), the prices and the iterations used.
    """
    k = len(target)
    rows = np.arange(len(weight))
    hi, lo = target * (1 + aim), target * (1 - aim)
    shed_to = target * (1 + aim * 0.5) if realign else target
    gain_to = target * (1 - aim * 0.5) if realign else target
    band_hi, band_lo = target * (1 + tolerance), target * (1 - tolerance)
    damping = 0.9
    best_count, stalled = None, 0
    prices = prices.copy()
    assign = None
    for it in range(1, iterations + 1):
        value = cand.cost - prices[cand.index]
        best, second = _top2(value)
        assign = cand.index[rows, best]
        load = np.bincount(assign, weight, minlength=k)
        count = int(((load > band_hi) | (load < band_lo)).sum())
        if count == 0:
            return assign, prices, it
        if best_count is None or count < best_count:
            best_count, stalled = count, 0
        else:
            stalled += 1
            if stalled >= 4:
                return assign, prices, it
        over, under = load > hi, load < lo
        margin = value[rows, second] - value[rows, best]
        runner_up = cand.index[rows, second]
        margin = np.where(runner_up == assign, np.inf, margin)
        shed = _threshold(assign, margin, weight, np.where(over, load - shed_to, 0.0), k)
        gain = _threshold(runner_up, margin, weight, np.where(under, gain_to - load, 0.0), k)
        step_shed = np.where(np.isfinite(shed), shed, 2 * scale)
        step_gain = np.where(np.isfinite(gain), gain, 2 * scale)
        # Alternate: over-served territories move on odd steps, under-served on even ones, so
        # that two neighbours never both close the same gap (a Jacobi step overshoots).
        if it % 2 == 1 and over.any() or not under.any():
            prices[over] -= damping * step_shed[over] + 1e-9 * scale
        else:
            prices[under] += damping * step_gain[under] + 1e-9 * scale
    return assign, prices, iterations


# --------------------------------------------------------------------------------------
# Phase 3 and 4: repair and improvement (discrete moves)
# --------------------------------------------------------------------------------------


def _violation(load, hi, lo):
    """Total band violation of each territory, relative to the target, (k,)."""
    return (np.maximum(load - hi, 0) + np.maximum(lo - load, 0)).sum(axis=1)


class _MoveState:
    """Loads and membership for discrete moves between territories."""

    def __init__(self, units: _Units, cand: _Candidates, assign, target, tolerance, k):
        self.values = units.values  # (u, C)
        self.cand = cand
        self.assign = assign.copy()
        self.movable = ~(units.locked & (units.current >= 0))
        self.k = k
        self.load = territory_loads(self.assign, self.values, k)
        self.set_band(target, tolerance)
        # For each territory, the units that list it as a candidate (CSR).
        u, q = cand.index.shape
        flat_t = cand.index.ravel()
        flat_u = np.repeat(np.arange(u), q)
        ok = np.isfinite(cand.cost.ravel())
        order = np.argsort(flat_t[ok], kind="stable")
        self.by_t_unit = flat_u[ok][order]
        self.by_t_slot = np.tile(np.arange(q), u)[ok][order]
        self.by_t_ptr = np.searchsorted(flat_t[ok][order], np.arange(k + 1))

    def set_band(self, target, tolerance):
        self.hi = target * (1 + tolerance)
        self.lo = target * (1 - tolerance)

    def cost_of(self, units, territories):
        """Cost (km) of placing ``units`` in ``territories`` (inf if not a candidate)."""
        idx = self.cand.index[units]
        hit = idx == territories[:, None]
        cost = np.where(hit, self.cand.cost[units], np.inf).min(axis=1)
        return cost

    def members_near(self, t):
        """Units that list territory t as a candidate."""
        s, e = self.by_t_ptr[t], self.by_t_ptr[t + 1]
        return self.by_t_unit[s:e]

    def viol(self, load_rows, t):
        return (np.maximum(load_rows - self.hi[t], 0) + np.maximum(self.lo[t] - load_rows, 0)).sum(axis=-1)

    def move(self, unit, to):
        frm = self.assign[unit]
        self.load[frm] -= self.values[unit]
        self.load[to] += self.values[unit]
        self.assign[unit] = to


def _best_move_for(state: _MoveState, t: int, out_of_band_high: bool):
    """The single move touching territory t that most reduces total band violation."""
    if out_of_band_high:
        units = np.flatnonzero(state.assign == t) if state.k < 64 else None
        if units is None:
            units = state.members_near(t)
            units = units[state.assign[units] == t]
        units = units[state.movable[units]]
        if len(units) == 0:
            return None
        idx = state.cand.index[units]
        cost = state.cand.cost[units]
        here = state.cost_of(units, np.full(len(units), t))
        uu = np.repeat(units, idx.shape[1])
        to = idx.ravel()
        delta_km = (cost - here[:, None]).ravel()
        frm = np.full(len(uu), t)
    else:
        units = state.members_near(t)
        units = units[(state.assign[units] != t) & state.movable[units]]
        if len(units) == 0:
            return None
        uu = units
        to = np.full(len(units), t)
        frm = state.assign[units]
        delta_km = state.cost_of(units, to) - state.cost_of(units, frm)
    ok = (to != frm) & np.isfinite(delta_km)
    if not ok.any():
        return None
    uu, to, frm, delta_km = uu[ok], to[ok], frm[ok], delta_km[ok]
    v = state.values[uu]
    before = state.viol(state.load[frm], frm) + state.viol(state.load[to], to)
    after = state.viol(state.load[frm] - v, frm) + state.viol(state.load[to] + v, to)
    gain = before - after
    good = gain > 1e-12
    if not good.any():
        return None
    uu, to, delta_km, gain = uu[good], to[good], delta_km[good], gain[good]
    # Most violation removed; among near-equal, the cheapest in km.
    best_gain = gain.max()
    near = gain >= best_gain * 0.5
    pick = np.flatnonzero(near)[np.argmin(delta_km[near] - 1e-9 * gain[near])]
    return int(uu[pick]), int(to[pick])


def _best_swap_for(state: _MoveState, t: int, per_side: int = 40):
    """The exchange of two units between t and a neighbour that most reduces band violation.

    Swaps trade one measure against another (an account heavy in workload for one heavy in
    potential), which single moves cannot do when every neighbour is at its band's edge.
    """
    near = state.members_near(t)
    own = near[(state.assign[near] == t) & state.movable[near]]
    if len(own) == 0:
        return None
    best = None
    for other in np.unique(state.cand.index[own]):
        if other == t:
            continue
        out_units = own[(state.cand.index[own] == other).any(axis=1)]
        theirs = state.members_near(t)
        in_units = theirs[(state.assign[theirs] == other) & state.movable[theirs]]
        if len(out_units) == 0 or len(in_units) == 0:
            continue
        out_km = state.cost_of(out_units, np.full(len(out_units), other)) - state.cost_of(out_units, np.full(len(out_units), t))
        in_km = state.cost_of(in_units, np.full(len(in_units), t)) - state.cost_of(in_units, np.full(len(in_units), other))
        out_units = out_units[np.argsort(out_km, kind="stable")[:per_side]]
        in_units = in_units[np.argsort(in_km, kind="stable")[:per_side]]
        out_km = np.sort(out_km)[:per_side]
        in_km = np.sort(in_km)[:per_side]
        diff = state.values[in_units][None, :, :] - state.values[out_units][:, None, :]  # gained by t
        load_t = state.load[t] + diff
        load_o = state.load[other] - diff
        before = state.viol(state.load[t], t) + state.viol(state.load[other], other)
        after = state.viol(load_t, t) + state.viol(load_o, other)
        gain = before - after
        km = out_km[:, None] + in_km[None, :]
        gain = np.where(np.isfinite(km), gain, -np.inf)
        i, j = np.unravel_index(np.argmax(gain - 1e-12 * np.where(np.isfinite(km), km, 0)), gain.shape)
        if gain[i, j] > 1e-12 and (best is None or gain[i, j] > best[0]):
            best = (gain[i, j], int(out_units[i]), int(other), int(in_units[j]))
    if best is None:
        return None
    return best[1:]


def _repair(state: _MoveState, max_moves: int) -> int:
    """Move (or swap) units until every territory is within its band, or nothing helps."""
    moves = 0
    stuck: set[int] = set()
    while moves < max_moves:
        viol = _violation(state.load, state.hi, state.lo)
        if stuck:
            viol[list(stuck)] = 0
        t = int(np.argmax(viol))
        if viol[t] <= 1e-12:
            break
        high = bool((state.load[t] > state.hi[t]).any())
        touched: list[int] = []
        move = _best_move_for(state, t, high)
        if move is None and high and (state.load[t] < state.lo[t]).any():
            move = _best_move_for(state, t, False)
        if move is not None:
            touched = [int(x) for x in state.cand.index[move[0]]]
            state.move(*move)
        else:
            swap = _best_swap_for(state, t)
            if swap is None:
                stuck.add(t)
                continue
            out_unit, other, in_unit = swap
            touched = [int(x) for x in state.cand.index[out_unit]] + [int(x) for x in state.cand.index[in_unit]]
            state.move(out_unit, other)
            state.move(in_unit, t)
        # Territories next to the change may have become unstuck.
        stuck.difference_update(touched)
        moves += 1
    return moves


def _improve(state: _MoveState, passes: int, min_gain_km: float) -> int:
    """Move boundary units to a cheaper candidate territory when every band still holds."""
    moved = 0
    rows = np.arange(len(state.assign))
    for _ in range(passes):
        here = state.cost_of(rows, state.assign)
        best = np.argmin(state.cand.cost, axis=1)
        to = state.cand.index[rows, best]
        gain = here - state.cand.cost[rows, best]
        cand = np.flatnonzero((gain > min_gain_km) & (to != state.assign) & state.movable)
        if len(cand) == 0:
            break
        cand = cand[np.argsort(-gain[cand], kind="stable")]
        changed = 0
        for unit in cand:
            frm, dst = state.assign[unit], to[unit]
            v = state.values[unit]
            if (state.load[frm] - v >= state.lo[frm] - 1e-12).all() and (state.load[dst] + v <= state.hi[dst] + 1e-12).all():
                state.move(unit, dst)
                changed += 1
        moved += changed
        if changed == 0:
            break
    return moved


# --------------------------------------------------------------------------------------
# Checks that need no search
# --------------------------------------------------------------------------------------


def _obvious_reasons(units: _Units, target, tolerance, names) -> list[str]:
    reasons = []
    hi = target * (1 + tolerance)
    largest = units.values.max(axis=0)
    for c, name in enumerate(names):
        if largest[c] > hi[:, c].max() + 1e-12:
            reasons.append(
                f"one account (or building block) alone carries {largest[c] / target[:, c].max():.0%} "
                f"of a territory's target {name}; raise the tolerance or use more territories"
            )
    pinned = units.locked & (units.current >= 0)
    if pinned.any():
        locked_load = territory_loads(units.current[pinned], units.values[pinned], len(target))
        for t, c in zip(*np.nonzero(locked_load > hi + 1e-12)):
            reasons.append(
                f"the locked accounts of territory #{t} carry {locked_load[t, c] / target[t, c]:.0%} "
                f"of its target {names[c]}; unlock some of them or raise the tolerance"
            )
    return reasons


# --------------------------------------------------------------------------------------
# The entry point
# --------------------------------------------------------------------------------------


def design(
    lat,
    lon,
    measures,
    *,
    k: int,
    tolerance: float = 0.05,
    weights=None,
    each_measure: bool = False,
    current=None,
    locked=None,
    bases=None,
    capacity=None,
    fresh: bool = False,
    disruption_weight: float = 1.0,
    max_moved_share: float = 1.0,
    resite: bool = True,
    resite_eagerness: float = 1.0,
    blocks=None,
    method: str = "balanced",
    seed: int = 0,
    measure_names=None,
    max_units: int | None = None,
    progress: Progress | None = None,
) -> Alignment:
    """Assign every account to one of ``k`` territories, balanced within ``tolerance``.

    Parameters
    ----------
    lat, lon : array-like, shape (n,)
        Account coordinates in degrees.
    measures : array-like, shape (n, M)
        Non-negative measures to balance (potential in currency per year, workload in
        hours, ...).
    k : int
        Number of territories.
    tolerance : float
        Allowed deviation of each territory's load from its target, as a fraction (0.05 = ±5%).
    weights : array-like, shape (M,), optional
        Mix of the measures for the combined balance measure; each measure is first taken
        as a share of its total. Default: equal weights.
    each_measure : bool
        Also keep each measure within the tolerance on its own.
    current : array-like of int, shape (n,), optional
        Current territory index 0..k-1 of each account (-1: none).
    locked : array-like of bool, shape (n,), optional
        Accounts that must stay in their current territory.
    bases : array-like, shape (k, 2), optional
        Rep home bases (lat, lon); territories are built around them.
    capacity : array-like, shape (k,), optional
        Rep capacity; a territory's target is ``total * capacity / sum(capacity)``.
    fresh : bool
        Ignore the current alignment and design the most compact territories.
    disruption_weight : float
        How strongly accounts stay in their current territory, in typical territory radii.
        At the default 1 (and above 0.5) accounts move only across borders and only as much
        as balance needs; below 0.5 they also move when that saves more than
        ``disruption_weight`` radii of travel (0: compactness only).
    max_moved_share : float
        Largest share of accounts that may change territory.
    resite : bool
        When realigning a map far out of balance (a territory at :data:`RESITE_FROM` times its
        target or more), without rep bases or a move cap: move starved territories into the
        overloaded ones (:func:`_resite`) when that moves less than passing the excess on
        border by border. The result's ``resited`` lists them.
    resite_eagerness : float
        Re-site when that is estimated to move less than ``resite_eagerness`` times what the
        border flows would. At 1 (the default) a realignment that still moves more than twice
        the least any balanced alignment must move also tries the eagerness values of
        :data:`_EAGER_RESITE` in turn while it still does (up to ``max_units`` accounts), and
        keeps one if it moves less; a design at another eagerness tries no second opinion.
    blocks : array-like, shape (n,), optional
        Building block of each account (ZIP, county); a block is never split.
    method : {"balanced", "lagrangian"}
    seed : int
        Seed of the random number generator; the result is deterministic for a seed.
    measure_names : sequence of str, optional
        Names of the measures for messages.
    max_units : int, optional
        Above this many accounts (default :data:`MAX_UNITS`), accounts are grouped into small
        grid cells (never mixing current territories or locked accounts) that move as one,
        and a realignment tries no fresh second opinion.
    progress : callable(str, float), optional
        Called with a phase name and a fraction done.

    Returns
    -------
    Alignment

    Raises
    ------
    InfeasibleError
        When no alignment within the tolerance was found; ``error.result`` holds the best
        alignment found and ``error.reasons`` says what prevents balance.
    """
    if method not in METHODS:
        raise SettingsError(f"unknown rebalancing method {method!r}; use one of {', '.join(METHODS)}")
    report = progress or (lambda phase, done: None)
    lat = np.asarray(lat, dtype=float)
    lon = np.asarray(lon, dtype=float)
    raw = np.asarray(measures, dtype=float)
    if raw.ndim == 1:
        raw = raw[:, None]
    n, m = raw.shape
    if k < 1:
        raise SettingsError("the number of territories must be at least 1")
    if n < k:
        raise SettingsError(f"{k} territories need at least {k} accounts; there are {n}")
    names = list(measure_names) if measure_names is not None else [f"measure {i + 1}" for i in range(m)]
    rng = np.random.default_rng(seed)
    totals = raw.sum(axis=0)
    shares = np.divide(raw, totals, out=np.zeros_like(raw), where=totals > 0)
    w = np.ones(m) if weights is None else np.asarray(weights, dtype=float)
    w = np.where(totals > 0, w, 0.0)
    if w.sum() <= 0:
        shares = np.ones((n, 1)) / n
        w = np.ones(1)
        names = ["accounts"]
    combined = shares @ (w / w.sum())
    columns = [combined]
    constrained = ["balance measure" if len(names) > 1 else names[0]]
    if each_measure and shares.shape[1] > 1:
        for c in range(shares.shape[1]):
            if totals[c] > 0:
                columns.append(shares[:, c])
                constrained.append(names[c])
    values = np.column_stack(columns)

    current = np.full(n, -1) if current is None else np.asarray(current, dtype=int)
    realign = (current >= 0).any() and not fresh
    locked = np.zeros(n, dtype=bool) if locked is None else np.asarray(locked, dtype=bool)
    locked = locked & (current >= 0)
    capacity = np.ones(k) if capacity is None else np.asarray(capacity, dtype=float)
    max_units = MAX_UNITS if max_units is None else max_units
    target_share = capacity / capacity.sum()
    target = np.repeat(target_share[:, None], values.shape[1], axis=1)

    xyz = to_xyz(lat, lon)
    units = _as_units(xyz, values, current, locked, blocks, k=k, max_units=max_units, target=target[:, 0])
    if fresh:
        # Locks still hold in fresh mode: locked units keep their current territory.
        units.current = np.where(units.locked, units.current, -1)
    reasons = _obvious_reasons(units, target, tolerance, constrained)
    resited: tuple[tuple[int, int], ...] = ()
    nearest = _nearest_units(units.xyz) if realign and method == "balanced" else None
    start = units.current
    if resite and realign and method == "balanced" and bases is None and max_moved_share >= 1.0:
        units.current, resited = _resite(units, target[:, 0], tolerance, nearest, eagerness=resite_eagerness)

    squared = method == "lagrangian"
    median = method == "balanced"
    weight = units.values[:, 0]
    # A typical territory radius (km) scales stickiness and price steps.
    area_radius = _typical_radius(units.xyz, k)
    scale = area_radius**2 if squared else area_radius
    stickiness = disruption_weight * area_radius if realign else 0.0
    q = min(k, 6)
    aim = tolerance * (0.8 if realign else 0.5)
    prices = np.zeros(k)
    iterations = 0
    report("centres", 0.0)
    if bases is not None:
        centres = to_xyz(np.asarray(bases)[:, 0], np.asarray(bases)[:, 1])
    elif realign:
        cur = np.where(units.current >= 0, units.current, 0)
        empty = np.bincount(cur, minlength=k) == 0
        seeds = _kmeanspp(units.xyz, weight, k, rng) if empty.any() else np.zeros((k, 3))
        centres = _centres_of(units.xyz, weight, cur, k, seeds, median=median)
    else:
        # Fresh design: balanced recursive bisection for a start, then alternate price
        # assignment and centre updates.
        sample = units
        part = _bisection(sample.xyz, sample.values[:, 0], target_share)
        centres = _centres_of(sample.xyz, sample.values[:, 0], part, k, np.zeros((k, 3)), median=median)
        rounds = 10
        for round_ in range(rounds):
            cand = _candidates(sample, centres, q, squared=squared, stickiness=0.0, fresh=True)
            if squared:
                prices = np.zeros(k)
            assign, prices, used = _price_assign(
                cand, sample.values[:, 0], target[:, 0], aim, prices,
                iterations=30 if round_ == 0 else 15, realign=False, scale=scale, tolerance=tolerance,
            )
            iterations += used
            report("centres", (round_ + 1) / rounds)
            new = _centres_of(sample.xyz, sample.values[:, 0], assign, k, centres, median=median)
            shift = np.linalg.norm(new - centres, axis=1).max()
            centres = new
            if shift < 0.005 * area_radius:
                break
    if realign and method == "balanced":
        assign = _border_flows(units, centres, target, tolerance * 0.85, nearest=nearest)
        cand = _candidates(units, centres, q, squared=squared, stickiness=stickiness, fresh=False, extra=assign)
    else:
        cand = _candidates(units, centres, q, squared=squared, stickiness=stickiness, fresh=not realign)
        assign, prices, used = _price_assign(
            cand, weight, target[:, 0], aim, prices, iterations=40, realign=realign, scale=scale, tolerance=tolerance
        )
        iterations += used
    report("repair", 0.8)
    # Repair towards a slightly narrower band first, so that neighbours keep some slack.
    state = _MoveState(units, cand, assign, target, tolerance * 0.9, k)
    _repair(state, max_moves=max(200, 2 * len(weight)))
    state.set_band(target, tolerance)
    _repair(state, max_moves=max(200, 2 * len(weight)))
    if method == "balanced" and (not realign or disruption_weight < 0.5):
        # With a low disruption weight, accounts also move when that is clearly better: the
        # current territory's cost carries the stickiness bonus, so a move must save more.
        # Improvement keeps a margin inside the tolerance where the repair left one, so that
        # the proposal does not sit on the edge of the band.
        inner = tolerance * 0.9
        if (_violation(state.load, target * (1 + inner), target * (1 - inner)) <= 1e-12).all():
            state.set_band(target, inner)
        _improve(state, passes=3, min_gain_km=0.0)
        if not realign and len(weight) <= 5 * POLISH_MAX_UNITS:
            # Smooth the borders the repair and the lumpy units left, without losing travel.
            _polish_moves(state, units, _nearest_units(units.xyz), km_scale=POLISH_KM[realign] * area_radius)
        state.set_band(target, tolerance)
    if realign and method == "balanced" and disruption_weight >= 0.5:
        state.set_band(target, tolerance * 0.97)
        _settle_pocketed_moves(state, units, nearest)
        _polish_moves(state, units, nearest, km_scale=POLISH_KM[realign] * area_radius)
        state.set_band(target, tolerance)
    if realign and max_moved_share < 1.0:
        _cap_moves(state, units, max_moved_share)
    assign = state.assign

    territory = assign[units.of_account]
    load = territory_loads(territory, values, k)
    deviation = load / target - 1
    max_dev = float(np.abs(deviation).max())
    within = bool((np.abs(deviation) <= tolerance + 1e-9).all())
    moved_reason = _move_kinds(territory, current if realign or (current >= 0).any() else None, values[:, 0], k,
                               target[:, 0], tolerance, resited)
    if realign and max_moved_share < 1.0:
        share = float(np.mean((current >= 0) & (territory != current)))
        if share > max_moved_share + 1e-12:
            within = False
            reasons.append(
                f"balance needs {share:.1%} of the accounts to move but at most {max_moved_share:.1%} may; "
                "raise max_moved_share or the tolerance"
            )
    # The options every further design below shares with this one.
    same = dict(tolerance=tolerance, weights=weights, each_measure=each_measure, capacity=capacity, blocks=blocks,
                seed=seed, measure_names=measure_names, max_units=max_units)
    if resited and not within:
        # The re-sited start did not come into balance: realign the map as it is instead, and
        # keep whichever comes nearer.
        try:
            return design(lat, lon, raw, k=k, current=current, locked=locked, disruption_weight=disruption_weight,
                          resite=False, method=method, progress=progress, **same)
        except InfeasibleError as error:
            if error.result.max_deviation < max_dev:
                raise
    if not within and not reasons:
        worst = np.unravel_index(np.argmax(np.abs(deviation)), deviation.shape)
        reasons.append(
            f"territory #{worst[0]} stays {deviation[worst]:+.1%} from its target {constrained[worst[1]]} "
            f"(tolerance ±{tolerance:.0%}); the accounts are too lumpy or too constrained (locks, building "
            "blocks, move cap) for this tolerance: raise it, unlock accounts or use smaller blocks"
        )
    latlon = to_latlon(centres)
    # On a map far out of balance, moving the excess border by border can move more than a
    # fresh design whose territories keep the ids they overlap most. Try one when the
    # realignment moved more than twice the unavoidable minimum (unless there are too many
    # accounts, which the result says).
    far = (realign and method == "balanced" and within
           and _moved_over_twice_the_minimum(territory, current, values[:, 0], k, tolerance, capacity))
    fresh_not_tried = far and n > max_units
    # Second opinions, below; a try at another eagerness takes none.
    far = far and resite_eagerness == 1.0
    for eagerness in _EAGER_RESITE if far and not fresh_not_tried and resite and bases is None else ():
        # The border flows often move an excess at a higher cost than the re-site estimate
        # says: try re-siting more eagerly too, and keep it if it moves less.
        if max_moved_share < 1.0 or not _moved_over_twice_the_minimum(territory, current, values[:, 0], k,
                                                                     tolerance, capacity):
            break
        pairs = _resite(_Units(units.xyz, units.values, start, units.locked, units.of_account), target[:, 0],
                        tolerance, nearest, eagerness=eagerness)[1]
        if pairs == resited:
            continue  # the same start: the same alignment
        try:
            eager = design(lat, lon, raw, k=k, current=current, locked=locked, disruption_weight=disruption_weight,
                           resite_eagerness=eagerness, method=method, **same)
        except InfeasibleError:
            continue
        weight, has = values[:, 0], current >= 0
        if weight[has & (eager.territory != current)].sum() < weight[has & (territory != current)].sum():
            territory, latlon, resited, moved_reason = eager.territory, eager.centres, eager.resited, eager.moved_reason
            load, deviation, max_dev = eager.loads, eager.deviation, eager.max_deviation
        iterations += eager.iterations
    if far and not fresh_not_tried:
        fresh_try = _fresh_with_current_ids(
            lat, lon, raw, territory, current, locked, values[:, 0], k, dict(same, bases=bases))
        if fresh_try is not None and (max_moved_share >= 1.0 or float(
                np.mean((current >= 0) & (fresh_try[0] != current))) <= max_moved_share + 1e-12):
            territory, latlon, extra_iterations = fresh_try
            iterations += extra_iterations
            resited = ()
            load = territory_loads(territory, values, k)
            deviation = load / target - 1
            max_dev = float(np.abs(deviation).max())
            moved_reason = _move_kinds(territory, current, values[:, 0], k, target[:, 0], tolerance)
    report("done", 1.0)
    result = Alignment(
        territory=territory,
        centres=latlon,
        loads=load,
        targets=target,
        deviation=deviation,
        max_deviation=max_dev,
        within_tolerance=within,
        reasons=tuple(reasons) if not within else (),
        moved_reason=moved_reason,
        method=method,
        seed=seed,
        iterations=iterations,
        constrained=tuple(constrained),
        fresh_not_tried=bool(fresh_not_tried),
        resited=resited,
    )
    if not within:
        raise InfeasibleError(list(result.reasons), result=result)
    return result


def match_ids(current, proposed, weight, k, count, *, fixed=((), ())) -> np.ndarray:
    """For each of the ``k`` new territories, the index of the current one (of ``count``)
    it overlaps most (by ``weight``); every new territory gets a different one.

    ``fixed = (labels, indices)``: new territory ``labels[i]`` must get ``indices[i]`` (it
    holds that territory's locked accounts).
    """
    from scipy.optimize import linear_sum_assignment

    overlap = np.zeros((k, count))
    has = current >= 0
    np.add.at(overlap, (proposed[has], current[has]), weight[has] + 1e-9)
    labels, indices = (np.asarray(a, dtype=int) for a in fixed)
    overlap[labels, indices] = overlap.sum() + 1.0
    rows, cols = linear_sum_assignment(-overlap)
    mapping = np.empty(k, dtype=int)
    mapping[rows] = cols
    return mapping


def _moved_over_twice_the_minimum(territory, current, weight, k, tolerance, capacity) -> bool:
    """Whether ``territory`` moved more of ``weight`` than twice the least any balanced
    alignment must move from ``current``."""
    moved = float(weight[(current >= 0) & (territory != current)].sum())
    return moved > 2 * required_move_share(current, weight, k, tolerance, capacity) * weight.sum()


def _fresh_with_current_ids(lat, lon, raw, territory, current, locked, weight, k,
                            options) -> tuple[np.ndarray, np.ndarray, int] | None:
    """A fresh design that moves less of ``weight`` than ``territory`` does, or None.

    The fresh territories take the ids of the current ones they overlap most (territories
    holding locked accounts keep theirs); with unequal capacities and no rep bases the ids
    cannot be exchanged, so none is tried. ``options`` are :func:`design`'s.
    Returns ``(territory, centres as lat/lon, iterations)``.
    """
    has = current >= 0
    moved = float(weight[has & (territory != current)].sum())
    bases = options["bases"]
    if bases is None and np.ptp(options["capacity"]) > 0:
        return None
    try:
        other = design(lat, lon, raw, k=k, current=current, locked=locked, fresh=True, **options)
    except InfeasibleError:
        return None
    proposal, centres = other.territory, other.centres
    if bases is None:
        held = np.unique(current[locked])  # locked accounts keep their territory's label
        mapping = match_ids(current, proposal, weight, k, k, fixed=(held, held))
        proposal = mapping[proposal]
        centres = np.empty_like(centres)
        centres[mapping] = other.centres
    if float(weight[has & (proposal != current)].sum()) >= moved:
        return None
    return proposal, centres, other.iterations


def _bisection(xyz, weight, shares) -> np.ndarray:
    """Recursive weighted coordinate bisection into parts with loads ~ ``shares``, (n,) int.

    Berger & Bokhari (1987): split each part along its widest axis at the weighted point that
    gives the two halves the share of their territories; all parts of a level at once.
    """
    n, k = len(xyz), len(shares)
    part = np.zeros(n, dtype=np.int64)
    lo, hi = np.array([0]), np.array([k])
    cum_share = np.concatenate([[0.0], np.cumsum(shares)])
    w = weight + 1e-9 * (weight.mean() + 1e-300)
    while (hi - lo > 1).any():
        groups = len(lo)
        split = hi - lo > 1
        spread = np.zeros((groups, 3))
        for a in range(3):
            top = np.full(groups, -np.inf)
            bottom = np.full(groups, np.inf)
            np.maximum.at(top, part, xyz[:, a])
            np.minimum.at(bottom, part, xyz[:, a])
            spread[:, a] = top - bottom
        axis = np.argmax(spread, axis=1)
        coord = xyz[np.arange(n), axis[part]]
        order = np.lexsort((coord, part))
        cum = np.cumsum(w[order])
        starts = np.searchsorted(part[order], np.arange(groups))
        base = np.where(starts > 0, cum[np.maximum(starts - 1, 0)], 0.0)
        total = np.bincount(part, w, minlength=groups)
        mid = (lo + hi) // 2
        frac = (cum_share[mid] - cum_share[lo]) / np.maximum(cum_share[hi] - cum_share[lo], 1e-300)
        within = cum - base[part[order]] - 0.5 * w[order]
        left = np.empty(n, dtype=bool)
        left[order] = within <= (frac * total)[part[order]]
        width = np.where(split, 2, 1)
        first = np.cumsum(width) - width
        new_lo = np.empty(first[-1] + width[-1], dtype=np.int64)
        new_hi = np.empty_like(new_lo)
        new_lo[first], new_hi[first] = lo, np.where(split, mid, hi)
        new_lo[first[split] + 1], new_hi[first[split] + 1] = mid[split], hi[split]
        part = first[part] + (split[part] & ~left)
        lo, hi = new_lo, new_hi
    return lo[part]


def _typical_radius(xyz, k) -> float:
    """Radius (km) of a disc holding 1/k of the accounts' bounding spread."""
    low, high = np.percentile(xyz, [5, 95], axis=0)
    spread = high - low
    spread = np.sort(spread)[::-1][:2]
    area = max(spread[0] * spread[1], spread[0] ** 2 * 1e-3, 1.0)
    return float(np.sqrt(area / (np.pi * k)))


def _settle_pocketed_moves(state: _MoveState, units: _Units, nearest, passes: int = 3) -> None:
    """Moved units that most of their ``nearest`` units surround in one territory go there,
    where both territories' bands allow: back to the territory they came from (heaviest
    first: one move fewer each), else to the other surrounding territory (still one move).

    Realising flows with whole, lumpy units leaves a few moved units inside another
    territory; each one settled is a pocket less.
    """
    has = units.current >= 0
    half = nearest.shape[1] // 2

    def settle(candidates, destination) -> bool:
        changed = False
        for unit, to in zip(candidates.tolist(), destination.tolist()):
            frm, v = state.assign[unit], state.values[unit]
            if ((state.assign[nearest[unit]] == to).sum() > half
                    and (state.load[frm] - v >= state.lo[frm] - 1e-12).all()
                    and (state.load[to] + v <= state.hi[to] + 1e-12).all()):
                state.move(unit, to)
                changed = True
        return changed

    for _ in range(passes):
        moved = np.flatnonzero(has & (state.assign != units.current) & state.movable)
        inside = (state.assign[nearest[moved]] == units.current[moved, None]).sum(axis=1) > half
        back = moved[inside][np.argsort(-state.values[moved[inside], 0], kind="stable")]
        if not settle(back, units.current[back]):
            break
    for _ in range(passes):
        moved = np.flatnonzero(has & (state.assign != units.current) & state.movable)
        around = state.assign[nearest[moved]]
        major, votes = _majority_other(np.where(around != state.assign[moved, None], around, -1))
        pick = (votes > half) & (major != units.current[moved])
        if not settle(moved[pick], major[pick]):
            break


def _polish_moves(state: _MoveState, units: _Units, nearest, *, rounds: int = 3,
                  km_scale: float = 0.0) -> None:
    """Re-choose the territory of every movable border unit at once: least moved weight plus
    :data:`POLISH_PENALTY` per nearest unit in another territory, every constrained measure
    within the state's band (or no further out than it already is).

    A unit may stay, go back to its current territory, or join a territory of one of its
    nearest units, so borders shift but territories neither jump nor scatter. The nearest
    units are counted at their assignment before each round (a linear stand-in for the
    border length), and rounds repeat while anything changes. Border flows realise their
    flows with whole, lumpy units, each flow on its own; choosing the units of every border
    together moves less and leaves fewer pockets. With ``km_scale``, each unit also costs its
    km to the territory's centre (less the disruption bonus of its current territory) over
    ``km_scale`` km, in average units' weight, so that smoother borders do not cost travel;
    only the territories of its candidate list are open to it then. Fresh designs, where
    nothing counts as moved, are polished for borders and travel alone.

    Each round is a generalised assignment problem (Ross & Soland 1975). Its linear
    relaxation, at a vertex (the dual simplex), splits at most as many units as there are
    band constraints (Benders & van Nunen 1983) and keeps most units whole where they are;
    those stay, unless one of their nearest units moves or is split (:data:`POLISH_WIDEN`
    such layers), and a small mixed-integer programme (``scipy.optimize.milp``, within
    :data:`POLISH_GAP` of its optimum or :data:`POLISH_NODES` nodes) places the rest among all
    their choices. The assignment the round starts from is one of its solutions, so a round
    that finds nothing better (or no solution within its limits) changes nothing.
    """
    from scipy.optimize import Bounds, LinearConstraint, linprog, milp
    from scipy.sparse import coo_array, vstack

    k, m = state.k, nearest.shape[1]
    current = units.current
    weight = state.values[:, 0]
    total = weight.sum()
    if m < 1 or total <= 0:
        return
    c_count = state.values.shape[1]
    for _ in range(rounds):
        assign = state.assign
        border = (assign[nearest] != assign[:, None]).any(axis=1) | (
            (current[nearest] != current[:, None]).any(axis=1) & (current >= 0))
        free = np.flatnonzero(border & state.movable)
        if len(free) == 0 or len(free) > POLISH_MAX_UNITS:
            return
        options = np.column_stack([assign[free], current[free], assign[nearest[free]]])
        key = np.unique((np.repeat(free, options.shape[1]) * k + options.ravel())[options.ravel() >= 0])
        var_u, var_t = key // k, key % k
        others = (assign[nearest[var_u]] != var_t[:, None]).sum(axis=1)
        cost = np.where(var_t != current[var_u], weight[var_u], 0.0) / total + POLISH_PENALTY / len(weight) * others
        if km_scale:
            km = state.cost_of(var_u, var_t)
            keep = np.isfinite(km) | (var_t == assign[var_u])
            var_u, var_t, cost, km = var_u[keep], var_t[keep], cost[keep], km[keep]
            cost = cost + np.where(np.isfinite(km), km, 0.0) * weight[var_u] / (total * km_scale)
        is_free = np.zeros(len(weight), dtype=bool)
        is_free[free] = True
        fixed = territory_loads(assign[~is_free], state.values[~is_free], k)
        lower = np.minimum(state.lo, state.load) - fixed
        upper = np.maximum(state.hi, state.load) - fixed

        def bands(pick):
            """Band rows (territory x measure) over the options ``pick``."""
            col = np.arange(len(pick))
            return vstack([coo_array((state.values[var_u[pick], c], (var_t[pick], col)), shape=(k, len(pick)))
                           for c in range(c_count)]).tocsr()

        def one_each(pick):
            row = np.unique(var_u[pick], return_inverse=True)[1].ravel()
            return coo_array((np.ones(len(pick)), (row, np.arange(len(pick)))), shape=(row.max() + 1, len(pick)))

        every = np.arange(len(var_u))
        band = bands(every)
        relaxed = linprog(cost, A_ub=vstack([band, -band]),
                          b_ub=np.concatenate([upper.T.ravel(), -lower.T.ravel()]),
                          A_eq=one_each(every), b_eq=np.ones(len(free)), bounds=(0, 1), method="highs-ds")
        if relaxed.status != 0:
            return
        # Units the relaxation keeps whole where they are stay; the others (moved or split)
        # are placed by the integer programme, which the starting assignment satisfies.
        stay = (relaxed.x > 1 - 1e-7) & (var_t == assign[var_u])
        settled = np.zeros(len(weight), dtype=bool)
        settled[var_u[stay]] = True
        for _ in range(POLISH_WIDEN):
            settled &= (settled | ~is_free)[nearest].all(axis=1)
        open_ = np.flatnonzero(~settled[var_u])
        to = np.full(len(weight), -1)
        if len(open_):
            placed = territory_loads(assign[settled], state.values[settled], k)
            n_open = len(np.unique(var_u[open_]))
            rows = LinearConstraint(vstack([one_each(open_), bands(open_)]).tocsr(),
                                    np.concatenate([np.ones(n_open), (lower - placed).T.ravel()]),
                                    np.concatenate([np.ones(n_open), (upper - placed).T.ravel()]))
            result = milp(cost[open_], integrality=np.ones(len(open_)), bounds=Bounds(0, 1), constraints=rows,
                          options={"mip_rel_gap": POLISH_GAP, "node_limit": POLISH_NODES,
                                   "time_limit": POLISH_SECONDS})
            if result.x is None:
                return
            chosen = open_[result.x > 0.5]
            to[var_u[chosen]] = var_t[chosen]
        change = np.flatnonzero((to >= 0) & (to != assign))
        if len(change) == 0:
            return
        for unit in change.tolist():
            state.move(unit, int(to[unit]))


def _cap_moves(state: _MoveState, units: _Units, cap: float) -> None:
    """Undo moves, least useful first, while bands hold, until at most ``cap`` of units moved."""
    has = units.current >= 0
    moved = np.flatnonzero(has & (state.assign != units.current))
    allowed = int(np.floor(cap * has.sum()))
    if len(moved) <= allowed:
        return
    gain = state.cost_of(moved, units.current[moved]) - state.cost_of(moved, state.assign[moved])
    for unit in moved[np.argsort(gain, kind="stable")]:
        if np.sum(has & (state.assign != units.current)) <= allowed:
            break
        frm, dst = state.assign[unit], units.current[unit]
        v = state.values[unit]
        if (state.load[frm] - v >= state.lo[frm] - 1e-12).all() and (state.load[dst] + v <= state.hi[dst] + 1e-12).all():
            state.move(unit, dst)


def _move_kinds(territory, current, weight, k, target, tolerance, resited=()) -> np.ndarray:
    """``"resite"`` when the account left or joined a re-sited territory; else ``"balance"``
    when it left an over-served or joined an under-served territory; else ``"compactness"``."""
    kinds = np.full(len(territory), "", dtype=object)
    if current is None:
        return kinds
    moved = (current >= 0) & (territory != current)
    before = territory_loads(current, weight, k)
    over = before > target * (1 + tolerance)
    under = before < target * (1 - tolerance)
    frm = np.where(current >= 0, current, 0)
    is_balance = over[frm] | under[territory]
    kinds[moved & is_balance] = "balance"
    kinds[moved & ~is_balance] = "compactness"
    if resited:
        moving = np.zeros(k, dtype=bool)
        moving[[pair[0] for pair in resited]] = True
        kinds[moved & (moving[frm] | moving[territory])] = "resite"
    return kinds
