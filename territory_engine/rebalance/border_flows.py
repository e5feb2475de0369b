"""Realigning by border flows: minimum-cost flows of border units between adjacent territories.

Zoltners & Sinha (2005) on realignment. Round by round, the units on a border (one of their
nearest units lies in another territory) may move to the territory most of their neighbours
are in; a small linear programme on the territory graph (a minimum-cost flow, one constraint
set per constrained measure) moves the least weight that brings every territory into an aim
band inside the tolerance, and each flow is realised by the units most inside the receiving
territory, deeper layers following when a flow is larger than the border.
"""

from __future__ import annotations

import numpy as np
from scipy.spatial import cKDTree

from ..measures import territory_loads
from ..tuning import DEFAULT_TUNING, Tuning
from .units import Units, before_in_group, nearest_units

__all__ = ["border_flows", "deeper_units", "majority_other"]


def majority_other(other: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per row of ``other`` (territory indices of a unit's neighbours, -1 for its own): the
    territory most neighbours are in (the nearest first among ties) and their number."""
    if other.shape[1] == 0:  # no neighbours at all (a map of one unit)
        return np.full(len(other), -1), np.zeros(len(other), dtype=np.int64)
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


def deeper_units(xyz, weight, assign, movable, centres_xyz, chosen, e_src, e_dst, remaining, k):
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
    before = before_in_group(w, flow_of, len(edges))  # (empty when every source unit is taken)
    pick = np.flatnonzero(before + 0.5 * w <= remaining[edges][flow_of])
    _, once = np.unique(pool[pick], return_index=True)
    pick = pick[np.sort(once)]
    return pool[pick], dst[pick]


def border_flows(units: Units, centres_xyz, target, aim, *, nearest=None, tuning: Tuning = DEFAULT_TUNING):
    """Realign by moving border units along minimum-cost flows between adjacent territories.

    Each round finds the border units (one of their ``nearest`` units, default the
    ``tuning.neighbours`` nearest, lies in another territory), gives each one destination (the
    other territory most of its neighbours are in), and solves a small linear programme on the
    territory graph (:func:`_least_flows`): move the least weight, across borders only, that
    brings every territory into its aim band (the minimum-cost flow view of realignment;
    Zoltners & Sinha 2005). Each flow is realised by the units nearest the receiving
    territory. Rounds repeat, layer by layer, until every territory is in its band or nothing
    can move.
    """
    k = len(target)
    target = target.reshape(k, -1)
    weight = units.values[:, 0]
    assign = np.where(units.current >= 0, units.current, 0).copy()
    unassigned = units.current < 0
    if unassigned.any():
        # Accounts without a territory join the nearest centre first.
        assign[unassigned] = cKDTree(centres_xyz).query(units.xyz[unassigned])[1]
    movable = ~(units.locked & (units.current >= 0))
    nearest = nearest_units(units.xyz, tuning.neighbours) if nearest is None else nearest
    m = nearest.shape[1]
    if m < 1:
        return assign
    hi, lo = target * (1 + aim), target * (1 - aim)
    for _ in range(tuning.flow_rounds):
        load = territory_loads(assign, units.values, k)
        if ((load <= hi + 1e-15) & (load >= lo - 1e-15)).all():
            break
        around = assign[nearest]
        # Border units: a neighbour lies in another territory. Votes are counted on those only.
        rows = np.flatnonzero(((around != assign[:, None]).any(axis=1)) & movable)
        if len(rows) == 0:
            break
        other = np.where(around[rows] != assign[rows, None], around[rows], -1)
        dest, votes = majority_other(other)
        src = assign[rows]
        key = src * k + dest
        edges, edge_of = np.unique(key, return_inverse=True)
        edge_of = edge_of.ravel()
        e = len(edges)
        e_src, e_dst = edges // k, edges % k
        # Flows may exceed this round's border layer (deeper layers follow in later rounds),
        # so an edge carries up to all the weight its source may still give.
        free = np.bincount(assign[movable], weight[movable], minlength=k)
        flow = _least_flows(units.values[rows], edge_of, e_src, e_dst, free[e_src], load, hi, lo, centres_xyz, tuning)
        if flow is None or flow.sum() <= 1e-12:
            break
        # Realise each flow with the units most inside the receiving territory.
        gap = np.linalg.norm(units.xyz[rows] - centres_xyz[dest], axis=1) - np.linalg.norm(
            units.xyz[rows] - centres_xyz[src], axis=1
        )
        # Units most surrounded by the receiving territory first, then the nearest to it.
        order = np.lexsort((gap, -votes, edge_of))
        w_sorted = weight[rows][order]
        before = before_in_group(w_sorted, edge_of[order], e)
        take = before + 0.5 * w_sorted <= flow[edge_of[order]]
        chosen = rows[order][take]
        to = dest[order][take]
        # Where a flow is larger than its border layer, the rest comes from deeper units of
        # the source: those nearest the receiving territory's centre relative to their own.
        remaining = flow - np.bincount(edge_of[order][take], w_sorted[take], minlength=e)
        deeper, deeper_to = deeper_units(units.xyz, weight, assign, movable, centres_xyz, chosen,
                                         e_src, e_dst, remaining, k)
        chosen = np.concatenate([chosen, deeper])
        to = np.concatenate([to, deeper_to])
        if len(chosen) == 0:
            break
        assign[chosen] = to
        if weight[chosen].sum() < tuning.flow_finer_than_units * flow.sum():
            # The flows left are finer than whole units: later rounds would move a handful
            # each. Repair finishes the balance.
            break
    return assign


def _least_flows(border_values, edge_of, e_src, e_dst, capacity, load, hi, lo, centres_xyz, tuning: Tuning):
    """The least weight to send along each edge (``e_src[i]`` to ``e_dst[i]``, at most
    ``capacity[i]``) that brings every territory's ``load`` of every constrained measure
    within ``[lo, hi]``, or None when the linear programme fails.

    Each constrained measure moves with a flow in the mix of the edge's border units
    (``border_values``, one row per border unit, ``edge_of`` its edge); a slack per territory
    and measure, at ``tuning.flow_slack_cost``, keeps the programme feasible.
    """
    from scipy.optimize import linprog
    from scipy.sparse import csr_array, diags, hstack, vstack

    k, c_count = hi.shape
    e = len(e_src)
    # Net change of each territory: + inflow - outflow; slack keeps the LP feasible.
    cols = np.arange(e)
    a = csr_array(
        (np.concatenate([-np.ones(e), np.ones(e)]), (np.concatenate([e_src, e_dst]), np.concatenate([cols, cols]))),
        shape=(k, e),
    )
    border_weight = np.maximum(np.bincount(edge_of, border_values[:, 0], minlength=e), 1e-300)
    blocks_ub, b_parts = [], []
    slack = 2 * k * c_count
    for c in range(c_count):
        mix = np.bincount(edge_of, border_values[:, c], minlength=e) / border_weight
        a_c = a @ diags(mix)
        col = 2 * k * c
        pos = csr_array((np.ones(k), (np.arange(k), col + np.arange(k))), shape=(k, slack))
        neg = csr_array((np.ones(k), (np.arange(k), col + k + np.arange(k))), shape=(k, slack))
        blocks_ub += [hstack([a_c, -pos]), hstack([-a_c, -neg])]
        b_parts += [hi[:, c] - load[:, c], load[:, c] - lo[:, c]]
    a_ub = vstack(blocks_ub).tocsr()
    b_ub = np.concatenate(b_parts)
    hop = np.linalg.norm(centres_xyz[e_src] - centres_xyz[e_dst], axis=1)
    cost = np.concatenate([1.0 + tuning.flow_hop_cost * hop / max(hop.mean(), 1e-9),
                           np.full(slack, tuning.flow_slack_cost)])
    bounds = np.column_stack([np.zeros(e + slack), np.concatenate([capacity, np.full(slack, np.inf)])])
    solution = linprog(cost, A_ub=a_ub, b_ub=b_ub, bounds=bounds, method="highs")
    if solution.status != 0:
        return None
    return solution.x[:e]
