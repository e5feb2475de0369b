"""The border polish: every border unit's territory re-chosen at once, within the bands.

Each round is a generalised assignment problem (Ross & Soland 1975). Its linear relaxation,
at a vertex (the dual simplex), splits at most as many units as there are band constraints
(Benders & van Nunen 1983); a small mixed-integer programme (``scipy.optimize.milp``) places
the units it moves or splits.
"""

from __future__ import annotations

import numpy as np

from ..arrays import distinct
from ..measures import territory_loads
from .local_search import MoveState
from .units import Units

__all__ = ["polish_moves"]


def polish_moves(state: MoveState, units: Units, nearest, *, km_scale: float = 0.0) -> bool:
    """Re-choose the territory of every movable border unit at once: least moved weight plus
    ``tuning.polish_penalty`` per nearest unit in another territory, every constrained measure
    within the state's band (or no further out than it already is).

    A unit may stay, go back to its current territory, or join a territory of one of its
    nearest units, so borders shift but territories neither jump nor scatter. The nearest
    units are counted at their assignment before each round (a linear stand-in for the
    border length), and rounds (at most ``tuning.polish_rounds``) repeat while anything
    changes. Border flows realise their flows with whole, lumpy units, each flow on its own;
    choosing the units of every border together moves less and leaves fewer pockets. With
    ``km_scale``, each unit also costs its km to the territory's centre (less the disruption
    bonus of its current territory) over ``km_scale`` km, in average units' weight, so that
    smoother borders do not cost travel; only the territories of its candidate list are open
    to it then. Fresh designs, where nothing counts as moved, are polished for borders and
    travel alone.

    Each round is a generalised assignment problem (Ross & Soland 1975). Its linear
    relaxation, at a vertex (the dual simplex), splits at most as many units as there are
    band constraints (Benders & van Nunen 1983) and keeps most units whole where they are;
    those stay, unless one of their nearest units moves or is split (``tuning.polish_widen``
    such layers), and a small mixed-integer programme (``scipy.optimize.milp``, within
    ``tuning.polish_gap`` of its optimum or ``tuning.polish_nodes`` nodes) places the rest
    among all their choices. The assignment the round starts from is one of its solutions, so
    a round that finds nothing better (or no solution within its limits) changes nothing.
    Rounds stop when more than ``tuning.polish_max_units`` units are on borders.

    Returns whether a round's integer programme reached its limits with no solution (bands too
    tight for whole units: each further polish of the design would likely spend them the same way).
    """
    weight = state.values[:, 0]
    if nearest.shape[1] < 1 or weight.sum() <= 0:
        return False
    for _ in range(state.tuning.polish_rounds):
        to = _polish_round(state, units, nearest, km_scale)
        if to is None or isinstance(to, bool):
            return bool(to)
        change = np.flatnonzero((to >= 0) & (to != state.assign))
        if len(change) == 0:
            return False
        for unit in change.tolist():
            state.move(unit, int(to[unit]))
    return False


class _Options:
    """The choices of one polish round: option ``i`` puts unit ``unit[i]`` in territory
    ``territory[i]`` at ``cost[i]``."""

    def __init__(self, state: MoveState, unit, territory, cost):
        self.state, self.unit, self.territory, self.cost = state, unit, territory, cost

    def bands(self, pick):
        """Band rows (territory x measure) over the options ``pick``."""
        from scipy.sparse import coo_array, vstack

        values, k = self.state.values, self.state.k
        col = np.arange(len(pick))
        return vstack([coo_array((values[self.unit[pick], c], (self.territory[pick], col)), shape=(k, len(pick)))
                       for c in range(values.shape[1])]).tocsr()

    def one_each(self, pick):
        """Rows saying that each unit among the options ``pick`` takes exactly one of them."""
        from scipy.sparse import coo_array

        row = np.unique(self.unit[pick], return_inverse=True)[1].ravel()
        return coo_array((np.ones(len(pick)), (row, np.arange(len(pick)))), shape=(row.max() + 1, len(pick)))


def _round_options(state: MoveState, units: Units, nearest, free, km_scale) -> _Options:
    """Each free unit's options (stay, go back, or join a nearest unit's territory) and costs."""
    k, assign, current = state.k, state.assign, units.current
    weight = state.values[:, 0]
    total = weight.sum()
    options = np.column_stack([assign[free], current[free], assign[nearest[free]]])
    key = distinct((np.repeat(free, options.shape[1]) * k + options.ravel())[options.ravel() >= 0])
    var_u, var_t = key // k, key % k
    others = (assign[nearest[var_u]] != var_t[:, None]).sum(axis=1)
    cost = (np.where(var_t != current[var_u], weight[var_u], 0.0) / total
            + state.tuning.polish_penalty / len(weight) * others)
    if km_scale:
        km = state.cost_of(var_u, var_t)
        keep = np.isfinite(km) | (var_t == assign[var_u])
        var_u, var_t, cost, km = var_u[keep], var_t[keep], cost[keep], km[keep]
        cost = cost + np.where(np.isfinite(km), km, 0.0) * weight[var_u] / (total * km_scale)
    return _Options(state, var_u, var_t, cost)


def _polish_round(state: MoveState, units: Units, nearest, km_scale):
    """One round: the new territory of each unit it places (-1 elsewhere); None when there is
    nothing to place or too much, True when the integer programme found no solution within its
    limits."""
    from scipy.optimize import Bounds, LinearConstraint, linprog, milp
    from scipy.sparse import vstack

    tuning, k, assign, current = state.tuning, state.k, state.assign, units.current
    border = (assign[nearest] != assign[:, None]).any(axis=1) | (
        (current[nearest] != current[:, None]).any(axis=1) & (current >= 0))
    free = np.flatnonzero(border & state.movable)
    if len(free) == 0 or len(free) > tuning.polish_max_units:
        return None
    options = _round_options(state, units, nearest, free, km_scale)
    var_u, var_t, cost = options.unit, options.territory, options.cost
    is_free = np.zeros(len(assign), dtype=bool)
    is_free[free] = True
    fixed = territory_loads(assign[~is_free], state.values[~is_free], k)
    lower = np.minimum(state.lo, state.load) - fixed
    upper = np.maximum(state.hi, state.load) - fixed
    every = np.arange(len(var_u))
    band = options.bands(every)
    relaxed = linprog(cost, A_ub=vstack([band, -band]),
                      b_ub=np.concatenate([upper.T.ravel(), -lower.T.ravel()]),
                      A_eq=options.one_each(every), b_eq=np.ones(len(free)), bounds=(0, 1), method="highs-ds")
    if relaxed.status != 0:
        return None
    # Units the relaxation keeps whole where they are stay; the others (moved or split)
    # are placed by the integer programme, which the starting assignment satisfies.
    stay = (relaxed.x > 1 - 1e-7) & (var_t == assign[var_u])
    settled = np.zeros(len(assign), dtype=bool)
    settled[var_u[stay]] = True
    for _ in range(tuning.polish_widen):
        settled &= (settled | ~is_free)[nearest].all(axis=1)
    open_ = np.flatnonzero(~settled[var_u])
    to = np.full(len(assign), -1)
    if len(open_):
        placed = territory_loads(assign[settled], state.values[settled], k)
        n_open = len(distinct(var_u[open_]))
        rows = LinearConstraint(vstack([options.one_each(open_), options.bands(open_)]).tocsr(),
                                np.concatenate([np.ones(n_open), (lower - placed).T.ravel()]),
                                np.concatenate([np.ones(n_open), (upper - placed).T.ravel()]))
        result = milp(cost[open_], integrality=np.ones(len(open_)), bounds=Bounds(0, 1), constraints=rows,
                      options={"mip_rel_gap": tuning.polish_gap, "node_limit": tuning.polish_nodes,
                               "time_limit": tuning.polish_seconds})
        if result.x is None:
            return True
        chosen = open_[result.x > 0.5]
        to[var_u[chosen]] = var_t[chosen]
    return to
