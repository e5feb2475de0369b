"""The exact last stage: a transportation LP to fixed centres, rounded by a small MILP.

When the fast phases leave a territory outside its band, the assignment of the units to the
territories' fixed centres is solved as a linear program: Hitchcock's (1941) transportation
problem, with every territory's load of every constrained measure held inside its band (and,
with a move cap, the moved accounts below it), solved by HiGHS (Huangfu & Hall 2018) through
``scipy.optimize.linprog``. Placing a unit of weight ``w`` in territory ``t`` costs
``w * (d(unit, centre t) + S [t != current territory])`` km, ``S`` being the stickiness of the
realignment (0 in a fresh design): the cheapest balanced assignment moves little, across
borders, and stays compact. Load bound for a starved region passes on from territory to
territory, as the LP's flows do.

A basic optimal solution splits at most as many units as it has tight band rows; those are
rounded by a MILP on them alone (``scipy.optimize.milp``), in the full tolerance band, the LP
having aimed at ``Tuning.exact_aim`` of it. Phases:

1. candidates: each unit's ``Tuning.exact_candidates`` nearest centres, its current and its
   proposed territory, and each territory for the units nearest its centre that weigh
   ``Tuning.exact_reach`` of its targets (so that a territory far from every other centre, on an
   island, can be offered what it lacks);
2. aggregation: above ``Tuning.exact_max_units`` free units, the LP runs on grid cells of
   units that share a current and a proposed territory; the units of the cells it splits are
   solved again, finer (a multilevel refinement, as in Karypis & Kumar 1998);
3. the LP, its candidates widened while it is infeasible: the targets' worth of units nearest
   each territory doubled up to ``Tuning.exact_reach_most``, then the centres per unit doubled
   up to every territory;
4. rounding: the repair, else a MILP on the split units and the units cheapest to move; when
   that finds no rounding, the whole stage runs again with the LP aimed further inside the band
   (``Tuning.exact_retry_aims``), leaving the rounding more room.

:func:`exact_assign` says whether balance was found, or proven impossible: the LP over every
territory, with the units themselves (not cells), is the relaxation of the problem; when it
is infeasible no assignment can balance. Held (locked) units whose load alone is over a band
prove it without an LP, and the LP never aims below what a territory's held units give it.
"""

from __future__ import annotations

import dataclasses
import functools
from dataclasses import dataclass

import numpy as np
from scipy import sparse
from scipy.optimize import Bounds, LinearConstraint, linprog, milp
from scipy.spatial import cKDTree

from ..arrays import distinct
from ..measures import territory_loads
from ..memory import heavy_step
from ..tuning import DEFAULT_TUNING, Tuning
from .local_search import MoveState, repair
from .prices import Candidates
from .units import Units, micro_cells

__all__ = ["ExactResult", "exact_assign"]


@dataclass(frozen=True)
class ExactResult:
    """The exact stage's answer.

    Attributes
    ----------
    assign : ndarray of int or None
        Each unit's territory, every band held; None when none was found.
    proven : bool
        The relaxation itself is infeasible: no assignment can balance (``assign`` is None).
    indivisible : bool
        The relaxation is feasible, but the MILP over every unit and every territory is not:
        whole accounts (or blocks) cannot balance (``assign`` is None).
    undecided : bool
        A rounding MILP reached its time limit with no answer: a band too narrow for whole
        accounts that no proof caught; further MILPs would likely do the same. ``assign`` is None,
        or the rounding that one MILP more, looking for any rounding in the band, found.
    """

    assign: np.ndarray | None
    proven: bool = False
    indivisible: bool = False
    undecided: bool = False


@dataclass
class _Problem:
    """The data every solve of one exact stage shares."""

    xyz: np.ndarray  # (u, 3) km
    values: np.ndarray  # (u, C) shares
    current: np.ndarray  # (u,) original current territory or -1
    start: np.ndarray  # (u,) the fast phases' territory
    counts: np.ndarray  # (u,) accounts per unit
    centres: np.ndarray  # (k, 3) km
    lo: np.ndarray  # (k, C) band at the LP's aim
    hi: np.ndarray
    lo_full: np.ndarray  # (k, C) band at the tolerance
    hi_full: np.ndarray
    stick: float  # km
    cap: float | None  # most accounts that may move, or None
    tuning: Tuning
    indivisible: bool = False  # the MILP over every free unit and every territory is infeasible
    unrounded: bool = False  # an LP solution was found but not rounded
    milp: bool = True  # whether rounding may end in a MILP
    undecided: bool = False  # a MILP ran out of time with no answer
    # The first step of :func:`_widening` whose top-level LP was feasible: a retry aimed further
    # inside the bands (``exact_retry_aims``) has a smaller feasible region over the same
    # candidates, so every step before it is infeasible again (on the full sheet with rep bases,
    # 5 of a retry's 6 LPs, 9 s, were such re-solves).
    feasible_from: int = 0

    @property
    def k(self) -> int:
        return len(self.centres)

    def weight(self, rows) -> np.ndarray:
        w = self.values[rows, 0]
        return w + 1e-9 * max(float(self.values[:, 0].mean()), 1e-12)


def exact_assign(units: Units, start, centres_xyz, target, tolerance: float, *, stick_km: float,
                 counts=None, max_moved: float | None = None, milp: bool = True,
                 tuning: Tuning = DEFAULT_TUNING) -> ExactResult:
    """Assign ``units`` to the territories of ``centres_xyz`` with every load in its band.

    Parameters
    ----------
    units : Units
        The design's units; ``units.current`` is the current alignment (-1: none), and locked
        units stay in it.
    start : array of int, shape (u,)
        The fast phases' territory of each unit (tie-break: the fewest changes to it).
    centres_xyz : array, shape (k, 3)
        The territories' fixed centres, km.
    target : array, shape (k, C)
        Target shares; a load must lie in ``target * (1 ± tolerance)``.
    stick_km : float
        The extra cost (km) of a unit's leaving its current territory.
    counts : array of int, shape (u,), optional
        Accounts per unit (for the move cap).
    milp : bool
        Whether a rounding the repair cannot finish may go to a MILP (False: when balance is
        already known to be impossible, or a MILP of this design ran out of time).
    max_moved : float, optional
        Most accounts (a count) that may leave their current territory.

    Returns
    -------
    ExactResult
    """
    target = np.asarray(target, dtype=float)
    aim = tolerance * tuning.exact_aim
    counts = np.ones(len(units.xyz)) if counts is None else np.asarray(counts, dtype=float)
    prob = _Problem(xyz=units.xyz, values=units.values, current=units.current, start=np.asarray(start),
                    counts=counts, centres=np.asarray(centres_xyz, dtype=float), lo=target * (1 - aim),
                    hi=target * (1 + aim), lo_full=target * (1 - tolerance), hi_full=target * (1 + tolerance),
                    stick=float(stick_km), cap=max_moved, tuning=tuning, milp=milp)
    pinned = units.locked & (units.current >= 0)
    assign = prob.start.copy()
    assign[pinned] = units.current[pinned]
    free = np.flatnonzero(~pinned)
    fixed = territory_loads(assign[pinned], units.values[pinned], prob.k)
    moved_fixed = 0.0
    if (fixed > prob.hi_full + 1e-12).any():  # (the held units alone are over a band: no LP needed)
        return ExactResult(None, proven=True)
    if len(free) == 0:
        ok = _within(fixed, prob.lo_full, prob.hi_full)
        return ExactResult(assign if ok else None, proven=not ok)
    prob.hi = _aim_above(prob.hi, fixed, prob.hi_full)
    solved, proven = _solve(prob, free, fixed, moved_fixed, extra=None, depth=0)
    for narrower in tuning.exact_retry_aims:
        if solved is not None or proven or prob.indivisible or prob.undecided or not prob.unrounded:
            break
        # The rounding found no room: aim the LP further inside the band and try again.
        a = tolerance * narrower
        prob = dataclasses.replace(prob, lo=target * (1 - a), hi=_aim_above(target * (1 + a), fixed, prob.hi_full),
                                   unrounded=False)
        solved, proven = _solve(prob, free, fixed, moved_fixed, extra=None, depth=0)
    if solved is None:
        return ExactResult(None, proven=proven, indivisible=prob.indivisible and not proven,
                           undecided=prob.undecided)
    assign[free] = solved
    return ExactResult(assign, undecided=prob.undecided)


def _aim_above(hi, fixed, hi_full) -> np.ndarray:
    """The LP's upper aims ``hi``, raised to the ``fixed`` (held) load where that is above them
    (at most to the band ``hi_full``): an aim below what a territory holds already is
    infeasible however the free units go (the rejoin holds pieces in their neighbours, up to
    1.047x the target on the full sheet with rep bases, and its LPs at the aim of 1.04x failed
    every time)."""
    return np.maximum(hi, np.minimum(fixed, hi_full))


def _within(load, lo, hi) -> bool:
    return bool(((load >= lo - 1e-12) & (load <= hi + 1e-12)).all())


def _solve(prob: _Problem, rows, fixed, moved_fixed, *, extra, depth):
    """Territories for the free units ``rows`` given the ``fixed`` loads (k, C) of the others,
    and whether infeasibility was proven. ``extra``: (rows index, territory) pairs each unit
    must also be offered."""
    t = prob.tuning
    if len(rows) > t.exact_max_units and depth < 4:
        return _solve_coarse(prob, rows, fixed, moved_fixed, extra=extra, depth=depth)
    top = depth == 0 and extra is None
    for step, (q, reach) in enumerate(_widening(prob)):
        if len(rows) * q > t.exact_max_pairs and step:
            return None, False
        if top and step < prob.feasible_from:
            continue
        pairs_u, pairs_t = _pairs(prob, prob.xyz[rows], prob.values[rows], prob.current[rows], prob.start[rows], q,
                                  reach, extra)
        if len(pairs_u) > t.exact_max_pairs and step:
            return None, False
        x = _lp(prob, rows, pairs_u, pairs_t, prob.values[rows], fixed, moved_fixed, aim=True)
        if x is None:
            x = _lp(prob, rows, pairs_u, pairs_t, prob.values[rows], fixed, moved_fixed, aim=False)
        if x is not None:
            if top:
                prob.feasible_from = step
            complete = depth == 0 and extra is None and q >= prob.k
            return _round(prob, rows, pairs_u, pairs_t, x, fixed, moved_fixed, complete=complete), False
    # Every territory was offered to every unit: the relaxation itself is infeasible (at the top
    # level, where ``rows`` are all the free units and ``fixed`` the locks).
    return None, depth == 0 and extra is None


def _widening(prob: _Problem):
    """The candidates to offer in turn, (nearest centres per unit, targets' worth of nearest units
    per territory): the units nearest each territory first (a few pairs each), then more centres
    per unit, doubling up to every territory."""
    t = prob.tuning
    q, reach = min(t.exact_candidates, prob.k), t.exact_reach
    yield q, reach
    while reach < t.exact_reach_most and q < prob.k:
        reach *= 2
        yield q, reach
    while q < prob.k:
        q = min(prob.k, 2 * q)
        yield q, reach


def _solve_coarse(prob: _Problem, rows, fixed, moved_fixed, *, extra, depth):
    """The LP on grid cells of ``rows`` (cells never mix a current or a proposed territory);
    whole cells keep the LP's territory, the units of split cells are solved again."""
    t = prob.tuning
    key = prob.start[rows].astype(np.int64) * (prob.k + 1) + prob.current[rows] + 1
    cell = micro_cells(prob.xyz[rows], key, np.zeros(len(rows), dtype=bool), prob.k,
                       t.exact_max_units * 0.8, t)
    g = int(cell.max()) + 1
    w = prob.weight(rows)
    wsum = np.bincount(cell, w, minlength=g)
    xyz = np.stack([np.bincount(cell, w * prob.xyz[rows, a], minlength=g) for a in range(3)], axis=1) / wsum[:, None]
    values = np.stack([np.bincount(cell, prob.values[rows, c], minlength=g) for c in range(prob.values.shape[1])],
                      axis=1)
    first = np.zeros(g, dtype=np.int64)
    first[cell[::-1]] = np.arange(len(rows))[::-1]
    current, start = prob.current[rows][first], prob.start[rows][first]
    counts = np.bincount(cell, prob.counts[rows], minlength=g)
    cell_extra = None
    if extra is not None:
        cell_extra = (cell[extra[0]], extra[1])
    coarse = _Problem(xyz=xyz, values=values, current=current, start=start, counts=counts, centres=prob.centres,
                      lo=prob.lo, hi=prob.hi, lo_full=prob.lo_full, hi_full=prob.hi_full, stick=prob.stick,
                      cap=prob.cap, tuning=t)
    top = depth == 0 and extra is None
    x = None
    for step, (q, reach) in enumerate(_widening(prob)):
        if g * q > t.exact_max_pairs and step:
            break
        if top and step < prob.feasible_from:
            continue
        pairs_u, pairs_t = _pairs(coarse, xyz, values, current, start, q, reach, cell_extra)
        if len(pairs_u) > t.exact_max_pairs and step:
            break
        x = _lp(coarse, np.arange(g), pairs_u, pairs_t, values, fixed, moved_fixed, aim=True)
        if x is not None:
            if top:
                prob.feasible_from = step
            break
    if x is None:
        # Cells are coarser than units: no proof; solve the units themselves if they fit.
        if len(rows) * min(t.exact_candidates, prob.k) <= t.exact_max_pairs:
            return _solve(prob, rows, fixed, moved_fixed, extra=extra, depth=5)
        return None, False
    out = np.full(len(rows), -1)
    share = np.zeros(g)
    np.maximum.at(share, pairs_u, x)
    whole = share >= 1 - 1e-7
    best = np.full(g, -1)
    top = x >= 1 - 1e-7
    best[pairs_u[top]] = pairs_t[top]
    out[whole[cell]] = best[cell[whole[cell]]]
    split = ~whole[cell]
    if not split.any():
        return out, False
    done = ~split
    fixed = fixed + territory_loads(out[done], prob.values[rows[done]], prob.k)
    moved_fixed = moved_fixed + _moved_count(prob, rows[done], out[done])
    # The split cells' units may join any territory their cell was given.
    frac = (x > 1e-9) & ~whole[pairs_u]
    sub = np.flatnonzero(split)
    by_cell_u, by_cell_t = pairs_u[frac], pairs_t[frac]
    order = np.argsort(cell[sub], kind="stable")
    cell_sorted = cell[sub][order]
    lo_idx = np.searchsorted(cell_sorted, by_cell_u, side="left")
    hi_idx = np.searchsorted(cell_sorted, by_cell_u, side="right")
    lengths = hi_idx - lo_idx
    member = order[np.repeat(lo_idx, lengths) + _ranges(lengths)]
    extra_pairs = (member, np.repeat(by_cell_t, lengths))
    solved, _ = _solve(prob, rows[sub], fixed, moved_fixed, extra=extra_pairs, depth=depth + 1)
    if solved is None:
        return None, False
    out[sub] = solved
    return out, False


def _ranges(lengths) -> np.ndarray:
    """0..len-1 for each length, concatenated."""
    total = int(lengths.sum())
    if total == 0:
        return np.zeros(0, dtype=np.int64)
    starts = np.repeat(np.cumsum(lengths) - lengths, lengths)
    return np.arange(total) - starts


def _pairs(prob: _Problem, xyz, values, current, start, q, reach, extra):
    """The (unit, territory) variables: each unit's ``q`` nearest centres, its current and its
    proposed territory, each territory for the units nearest its centre (:func:`_reach`), and
    the ``extra`` pairs; sorted and unique."""
    n = len(xyz)
    if q >= prob.k:
        near = np.tile(np.arange(prob.k), (n, 1))
    else:
        near = cKDTree(prob.centres).query(xyz, k=q)[1].reshape(n, q)
    cols = [near, start[:, None]]
    if (current >= 0).any():
        cols.append(np.where(current >= 0, current, start)[:, None])
    allowed = np.hstack(cols)
    u = np.repeat(np.arange(n), allowed.shape[1])
    tt = allowed.ravel()
    if q < prob.k and extra is None:  # (not on a refinement's few units: they weigh little)
        reach_u, reach_t = _reach(prob, xyz, values, reach)
        u, tt = np.concatenate([u, reach_u]), np.concatenate([tt, reach_t])
    if extra is not None:
        u = np.concatenate([u, extra[0]])
        tt = np.concatenate([tt, extra[1]])
    key = distinct(u.astype(np.int64) * prob.k + tt)
    return key // prob.k, key % prob.k


def _reach(prob: _Problem, xyz, values, need: float):
    """(unit, territory) pairs: each territory offered to the units nearest its centre that
    together weigh ``need`` of its targets or more. A territory whose units are all
    far from every other centre (an island, a remote state) is no unit's near centre but its own
    units', and those may not hold enough: without these pairs the LP could only fill it by
    offering every unit every territory."""
    n, k = len(xyz), prob.k
    target = (prob.lo_full + prob.hi_full) / 2  # (k, C)
    tree = cKDTree(xyz)
    out_u, out_t = [], []
    todo, m = np.arange(k), min(n, int(np.ceil(2 * need * n / k)) + 1)
    while len(todo):
        near = tree.query(prob.centres[todo], k=m)[1].reshape(len(todo), m)
        aimed = target[todo][:, None, :]  # (each measure with a target must reach ``need``)
        share = np.where(aimed > 0, values[near] / np.where(aimed > 0, aimed, 1.0), np.inf)
        enough = (np.cumsum(share, axis=1) >= need).all(axis=2)
        done = enough.any(axis=1) | (m >= n)
        for row in np.flatnonzero(done).tolist():
            stop = int(np.argmax(enough[row])) + 1 if enough[row].any() else m
            out_u.append(near[row, :stop])
            out_t.append(np.full(stop, todo[row]))
        todo, m = todo[~done], min(n, 2 * m)
    return np.concatenate(out_u), np.concatenate(out_t)


def _costs(prob: _Problem, rows_w, xyz, current, start, pairs_u, pairs_t) -> np.ndarray:
    d = np.linalg.norm(xyz[pairs_u] - prob.centres[pairs_t], axis=1)
    leave = (current[pairs_u] >= 0) & (pairs_t != current[pairs_u])
    stay = prob.tuning.exact_stay_km * (pairs_t != start[pairs_u])
    return rows_w[pairs_u] * (d + prob.stick * leave + stay)


def _moved_count(prob: _Problem, rows, territory) -> float:
    cur = prob.current[rows]
    return float(prob.counts[rows][(cur >= 0) & (territory != cur)].sum())


def _constraints(prob: _Problem, n, pairs_u, pairs_t, values, fixed, moved_fixed, counts, current, *, full):
    """Rows of the LP/MILP: one territory per unit; every band; the move cap."""
    nv = len(pairs_u)
    cols = np.arange(nv)
    a_eq = sparse.csr_array((np.ones(nv), (pairs_u, cols)), shape=(n, nv))
    blocks, lows, highs = [a_eq], [np.ones(n)], [np.ones(n)]
    lo, hi = (prob.lo_full, prob.hi_full) if full else (prob.lo, prob.hi)
    for c in range(values.shape[1]):
        blocks.append(sparse.csr_array((values[pairs_u, c], (pairs_t, cols)), shape=(prob.k, nv)))
        lows.append(lo[:, c] - fixed[:, c])
        highs.append(hi[:, c] - fixed[:, c])
    if prob.cap is not None:
        leave = (current[pairs_u] >= 0) & (pairs_t != current[pairs_u])
        blocks.append(sparse.csr_array((counts[pairs_u] * leave, (np.zeros(nv, dtype=np.int64), cols)),
                                       shape=(1, nv)))
        lows.append(np.array([-np.inf]))
        highs.append(np.array([prob.cap - moved_fixed]))
    return sparse.vstack(blocks).tocsr(), np.concatenate(lows), np.concatenate(highs)


def _lp(prob: _Problem, rows, pairs_u, pairs_t, values, fixed, moved_fixed, *, aim: bool):
    """The LP's solution (one value per pair), or None when infeasible (or out of time)."""
    xyz, current, start = prob.xyz[rows], prob.current[rows], prob.start[rows]
    cost = _costs(prob, prob.weight(rows), xyz, current, start, pairs_u, pairs_t)
    a, low, high = _constraints(prob, len(rows), pairs_u, pairs_t, values, fixed, moved_fixed, prob.counts[rows],
                                current, full=not aim)
    eq = np.arange(len(rows))
    band = np.arange(len(rows), a.shape[0])
    a_ub = sparse.vstack([a[band], -a[band]]).tocsr()
    b_ub = np.concatenate([high[band], -low[band]])
    keep = np.isfinite(b_ub)
    options = {"time_limit": prob.tuning.exact_seconds, "presolve": prob.tuning.exact_presolve}
    with heavy_step(len(cost)):
        res = linprog(cost, A_ub=a_ub[keep], b_ub=b_ub[keep], A_eq=a[eq], b_eq=np.ones(len(rows)), bounds=(0, 1),
                      method="highs", options=options)
    return res.x if res.status == 0 else None


def _round(prob: _Problem, rows, pairs_u, pairs_t, x, fixed, moved_fixed, *, complete=False):
    """Each unit's territory: the LP's where it is whole; a split unit where most of it went,
    then the repair's moves and swaps (local_search.py) back into the full band; failing that,
    a MILP on the split units and the units cheapest to move. None when rounding fails; when
    that MILP held every unit with every territory (``complete``) and is infeasible, whole
    units cannot balance (``prob.indivisible``)."""
    n = len(rows)
    share = np.zeros(n)
    np.maximum.at(share, pairs_u, x)
    out = np.full(n, -1)
    top = x >= 1 - 1e-7
    out[pairs_u[top]] = pairs_t[top]
    split = out < 0
    if not split.any():
        return out
    most = np.lexsort((-x, pairs_u))
    first = np.ones(len(most), dtype=bool)
    first[1:] = pairs_u[most][1:] != pairs_u[most][:-1]
    rounded = out.copy()
    rounded[split] = pairs_t[most][first][split]
    repaired = _repair(prob, rows, pairs_u, pairs_t, rounded, fixed, moved_fixed)
    if repaired is not None or not prob.milp:
        prob.unrounded = prob.unrounded or repaired is None
        return repaired
    chosen = split | _cheapest_to_move(prob, rows, pairs_u, pairs_t, rounded)
    if complete and len(rows) <= prob.tuning.exact_round_units:
        chosen[:] = True
    result, infeasible = _milp(prob, rows, pairs_u, pairs_t, out, chosen, fixed, moved_fixed)
    prob.indivisible = bool(result is None and infeasible and complete and chosen.all())
    prob.unrounded = prob.unrounded or result is None
    return result


def _repair(prob: _Problem, rows, pairs_u, pairs_t, assign, fixed, moved_fixed):
    """``assign`` after the repair of local_search.py, or None if a band (or the cap) still fails.

    The loads of the units outside ``rows`` enter as one locked phantom unit per territory."""
    n, k = len(rows), prob.k
    cost = _costs(prob, np.ones(n), prob.xyz[rows], prob.current[rows], prob.start[rows], pairs_u, pairs_t)
    per = np.bincount(pairs_u, minlength=n)
    q = int(per.max())
    slot = _ranges(per)
    index = np.repeat(assign[:, None], q, axis=1)
    km = np.full((n, q), np.inf)
    index[pairs_u, slot] = pairs_t
    km[pairs_u, slot] = cost
    index = np.vstack([index, np.repeat(np.arange(k)[:, None], q, axis=1)])
    km = np.vstack([km, np.where(np.arange(q)[None, :] == 0, 0.0, np.inf).repeat(k, axis=0)])
    values = np.vstack([prob.values[rows], fixed])
    current = np.concatenate([np.full(n, -1), np.arange(k)])
    locked = np.concatenate([np.zeros(n, dtype=bool), np.ones(k, dtype=bool)])
    units = Units(np.zeros((n + k, 3)), values, current, locked, np.arange(n + k))
    state = MoveState(units, Candidates(index, km), np.concatenate([assign, np.arange(k)]), (prob.lo_full + prob.hi_full) / 2,
                      0.0, k, tuning=prob.tuning)
    state.lo, state.hi = prob.lo_full, prob.hi_full
    repair(state, per_unit=prob.tuning.repair_moves_before_exact)
    result = state.assign[:n]
    if not _within(state.load, prob.lo_full, prob.hi_full):
        return None
    if prob.cap is not None and moved_fixed + _moved_count(prob, rows, result) > prob.cap + 1e-9:
        return None
    return result


def _cheapest_to_move(prob: _Problem, rows, pairs_u, pairs_t, assign) -> np.ndarray:
    """Per territory, the few units whose next-best territory costs least extra (for the MILP)."""
    regret = _regret(prob, rows, pairs_u, pairs_t, assign)
    per = max(2, prob.tuning.exact_round_units // prob.k)
    order = np.lexsort((regret, assign))
    rank = _ranges(np.bincount(assign, minlength=prob.k))
    chosen = np.zeros(len(rows), dtype=bool)
    pick = order[(rank < per) & np.isfinite(regret[order])]
    chosen[pick] = True
    return chosen


def _regret(prob: _Problem, rows, pairs_u, pairs_t, out) -> np.ndarray:
    """Per unit: the extra cost of its second-best allowed territory (inf for split units)."""
    cost = _costs(prob, prob.weight(rows), prob.xyz[rows], prob.current[rows], prob.start[rows], pairs_u, pairs_t)
    own = np.full(len(rows), np.inf)
    mine = pairs_t == out[pairs_u]
    own[pairs_u[mine]] = cost[mine]
    other = np.full(len(rows), np.inf)
    np.minimum.at(other, pairs_u[~mine], cost[~mine])
    return other - own


def _milp(prob: _Problem, rows, pairs_u, pairs_t, out, chosen, fixed, moved_fixed):
    """Binary assignment of the ``chosen`` units, the others as in ``out`` (None if none was
    found), and whether the MILP is proven infeasible."""
    keep_rows = ~chosen
    fixed = fixed + territory_loads(out[keep_rows], prob.values[rows[keep_rows]], prob.k)
    moved_fixed = moved_fixed + _moved_count(prob, rows[keep_rows], out[keep_rows])
    sel = chosen[pairs_u]
    sub_rows = np.flatnonzero(chosen)
    index = np.full(len(rows), -1)
    index[sub_rows] = np.arange(len(sub_rows))
    su, st = index[pairs_u[sel]], pairs_t[sel]
    r = rows[sub_rows]
    cost = _costs(prob, prob.weight(r), prob.xyz[r], prob.current[r], prob.start[r], su, st)
    a, low, high = _constraints(prob, len(r), su, st, prob.values[r], fixed, moved_fixed, prob.counts[r],
                                prob.current[r], full=True)
    t = prob.tuning
    solve = functools.partial(milp, constraints=LinearConstraint(a, low, high), integrality=np.ones(len(su)),
                              bounds=Bounds(0, 1))
    res = solve(cost, options={"time_limit": t.exact_cost_seconds, "mip_rel_gap": t.exact_round_gap})
    if res.x is None and res.status == 1:
        # Out of time with no answer: the costs keep HiGHS from the band's few roundings (600
        # accounts in 120 territories: none in 60 s); any rounding in the band, found without
        # them, will do (there: 1.3 s). The design's later stages round without a MILP, as
        # before (``undecided``): roundings without costs at every stage left twice the pieces.
        prob.undecided = True
        res = solve(np.zeros(len(su)), options={"time_limit": t.exact_seconds})
    if res.x is None:  # infeasible (status 2), or out of time before a first solution
        prob.undecided = prob.undecided or res.status == 1
        return None, res.status == 2
    pick = res.x > 0.5
    result = out.copy()
    result[sub_rows[su[pick]]] = st[pick]
    if (result[sub_rows] < 0).any():
        return None, False
    return result, False
