"""The fewest accounts any balanced realignment must move: a bound that proves a move cap too small.

A territory over its band must give away at least its excess (its load less the top of its
band), whatever else moves, and only its unlocked accounts can go. The fewest accounts that carry
that much are its heaviest: whole ones in turn, then the part of the next one still needed
(accounts split, as the relaxation allows). Per measure kept within the tolerance that count is
a floor, so the largest over the measures is one; summed over the territories, it is a floor for
every alignment within the tolerance, whole accounts or split. When that floor is above
``max_moved_share`` of the accounts, the cap makes balance impossible, and the reason names the
territory that must give away the most.

It costs one sort of the accounts, so it holds where the exact stage's LP does not prove (grid
cells, where an LP of the cells proves nothing about the accounts): on a 3,000-account metro
map with the exact stage on cells, a cap under the floor was reported as "balance not reached"
with a share no alignment needs.
"""

from __future__ import annotations

import numpy as np

from ..errors import Reason

__all__ = ["floor_reason", "least_moved", "shed_reason"]


def least_moved(values, current, locked, target, tolerance: float) -> np.ndarray:
    """Per territory, the fewest accounts (fractional) it must give away to come down to the top
    of its band in every measure; ``inf`` where its unlocked accounts cannot carry its excess.

    Parameters
    ----------
    values : array-like, shape (n, C)
        Each account's constrained measures (any unit shared with ``target``).
    current : array-like of int, shape (n,)
        Current territory of each account (-1: none; such accounts count in no load).
    locked : array-like of bool, shape (n,)
        Accounts that cannot move.
    target : array-like, shape (k, C)
        Each territory's target of each measure.
    tolerance : float
        The band, a fraction of the target.
    """
    values = np.asarray(values, dtype=float).reshape(len(current), -1)
    current = np.asarray(current)
    target = np.asarray(target, dtype=float).reshape(-1, values.shape[1])
    k = len(target)
    held = current >= 0
    load = np.zeros((k, values.shape[1]))
    np.add.at(load, current[held], values[held])
    excess = load - target * (1 + tolerance)
    need = np.zeros(k)
    free = held & ~np.asarray(locked, dtype=bool)
    for c in range(values.shape[1]):
        over = np.flatnonzero(excess[:, c] > 1e-12 * max(float(target[:, c].max()), 1e-300))
        if not len(over):
            continue
        rows = np.flatnonzero(free & np.isin(current, over))
        order = np.lexsort((-values[rows, c], current[rows]))  # by territory, heaviest first
        rows = rows[order]
        territory, weight = current[rows], values[rows, c]
        starts = np.searchsorted(territory, over)
        ends = np.searchsorted(territory, over, side="right")
        for t, a, b in zip(over.tolist(), starts.tolist(), ends.tolist()):
            cumulative = np.cumsum(weight[a:b])
            e = excess[t, c]
            whole = int(np.searchsorted(cumulative, e - 1e-12 * e))  # accounts before the one that covers it
            if whole >= b - a:
                count = np.inf
            else:
                before = cumulative[whole - 1] if whole else 0.0
                count = whole + (e - before) / weight[a + whole]
            need[t] = max(need[t], count)
    return need


def shed_reason(job) -> Reason | None:
    """The proof that ``job``'s move cap is below :func:`least_moved`'s floor, or None (no cap, not
    a realignment, or the floor within the cap)."""
    if not job.realign or job.max_moved_share >= 1.0:
        return None
    return floor_reason(job.values, job.current, job.locked, job.target, job.tolerance, job.max_moved_share,
                        job.constrained[0])


def floor_reason(values, current, locked, target, tolerance: float, cap: float, measure: str) -> Reason | None:
    """``move_cap_shed`` when :func:`least_moved`'s floor is above ``cap`` of the accounts (the
    worst territory named), else None."""
    need = least_moved(values, current, locked, target, tolerance)
    floor = float(need.sum())
    n = len(current)
    if not np.isfinite(floor) or floor <= cap * n + 1e-9:
        return None  # (an excess the unlocked accounts cannot carry is the locks' proof, not the cap's)
    worst = int(np.argmax(need))
    return Reason("move_cap_shed", measure, floor / n, cap, "max_moved_share", territory=worst,
                  needed=float(need[worst]))
