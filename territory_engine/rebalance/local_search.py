"""Local search: discrete moves and swaps of units between neighbouring territories.

- :func:`repair`: single moves, then swaps, that reduce the total violation of every
  constrained measure's band, the cheapest in km first;
- :func:`improve`: moves to a nearer territory that keep every band, a first-improvement local
  search in the spirit of Ríos-Mercado & Fernández (2009);
- :func:`settle_pocketed_moves`: moved units that another territory surrounds go there;
- :func:`cap_moves`: moves undone, least useful first, down to a cap on moved accounts.
"""

from __future__ import annotations

import numpy as np

from ..arrays import distinct
from ..measures import territory_loads
from ..tuning import DEFAULT_TUNING, Tuning
from .border_flows import majority_other
from .prices import Candidates
from .units import Units

__all__ = ["MoveState", "cap_moves", "improve", "repair", "settle_pocketed_moves", "violation"]


def violation(load, hi, lo):
    """Total band violation of each row of ``load`` (one column per constrained measure, as
    shares of the total) outside ``[lo, hi]``: shape ``load.shape[:-1]``."""
    return (np.maximum(load - hi, 0) + np.maximum(lo - load, 0)).sum(axis=-1)


class MoveState:
    """Loads and membership for discrete moves between territories."""

    def __init__(self, units: Units, cand: Candidates, assign, target, tolerance, k, *,
                 tuning: Tuning = DEFAULT_TUNING):
        self.tuning = tuning
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
        """Band violation of territory (or territories) ``t`` at loads ``load_rows``."""
        return violation(load_rows, self.hi[t], self.lo[t])

    def fits(self, unit, to) -> bool:
        """Whether moving ``unit`` to territory ``to`` keeps both territories in their bands."""
        frm, v = self.assign[unit], self.values[unit]
        return bool((self.load[frm] - v >= self.lo[frm] - 1e-12).all()
                    and (self.load[to] + v <= self.hi[to] + 1e-12).all())

    def move(self, unit, to):
        frm = self.assign[unit]
        self.load[frm] -= self.values[unit]
        self.load[to] += self.values[unit]
        self.assign[unit] = to


def _best_move_for(state: MoveState, t: int, out_of_band_high: bool):
    """The single move touching territory t that most reduces total band violation."""
    if out_of_band_high:
        units = np.flatnonzero(state.assign == t) if state.k < state.tuning.repair_scan_below else None
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
    near = gain >= best_gain * state.tuning.repair_near_gain
    pick = np.flatnonzero(near)[np.argmin(delta_km[near] - 1e-9 * gain[near])]
    return int(uu[pick]), int(to[pick])


def _best_swap_for(state: MoveState, t: int):
    """The exchange of two units between t and a neighbour that most reduces band violation.

    Swaps trade one measure against another (an account heavy in workload for one heavy in
    potential), which single moves cannot do when every neighbour is at its band's edge.
    """
    per_side = state.tuning.swap_per_side
    near = state.members_near(t)
    own = near[(state.assign[near] == t) & state.movable[near]]
    if len(own) == 0:
        return None
    # The candidates' km, once for every neighbour (as cost_of: inf where not a candidate).
    own_index, own_cost = state.cand.index[own], state.cand.cost[own]
    own_here = np.where(own_index == t, own_cost, np.inf).min(axis=1)
    theirs = near[(state.assign[near] != t) & state.movable[near]]
    their_index, their_cost = state.cand.index[theirs], state.cand.cost[theirs]
    their_to_t = np.where(their_index == t, their_cost, np.inf).min(axis=1)
    their_here = np.where(their_index == state.assign[theirs][:, None], their_cost, np.inf).min(axis=1)
    best = None
    for other in distinct(own_index):
        if other == t:
            continue
        hit = own_index == other
        going = hit.any(axis=1)
        coming = state.assign[theirs] == other
        out_units, in_units = own[going], theirs[coming]
        if len(out_units) == 0 or len(in_units) == 0:
            continue
        out_km = np.where(hit[going], own_cost[going], np.inf).min(axis=1) - own_here[going]
        in_km = their_to_t[coming] - their_here[coming]
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


def repair(state: MoveState, *, per_unit: float | None = None) -> int:
    """Move (or swap) units until every territory is within its band, or nothing helps
    (at most ``tuning.repair_min_moves`` or ``per_unit`` (default
    ``tuning.repair_moves_per_unit``) moves per unit)."""
    per_unit = state.tuning.repair_moves_per_unit if per_unit is None else per_unit
    max_moves = max(state.tuning.repair_min_moves, int(per_unit * len(state.assign)))
    moves = 0
    stuck: set[int] = set()
    while moves < max_moves:
        viol = violation(state.load, state.hi, state.lo)
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


def improve(state: MoveState, *, min_gain_km: float = 0.0) -> int:
    """Move boundary units to a cheaper candidate territory when every band still holds."""
    moved = 0
    rows = np.arange(len(state.assign))
    for _ in range(state.tuning.improve_passes):
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
            if state.fits(unit, to[unit]):
                state.move(unit, to[unit])
                changed += 1
        moved += changed
        if changed == 0:
            break
    return moved


def settle_pocketed_moves(state: MoveState, units: Units, nearest) -> None:
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
            if (state.assign[nearest[unit]] == to).sum() > half and state.fits(unit, to):
                state.move(unit, to)
                changed = True
        return changed

    for _ in range(state.tuning.settle_passes):
        moved = np.flatnonzero(has & (state.assign != units.current) & state.movable)
        inside = (state.assign[nearest[moved]] == units.current[moved, None]).sum(axis=1) > half
        back = moved[inside][np.argsort(-state.values[moved[inside], 0], kind="stable")]
        if not settle(back, units.current[back]):
            break
    for _ in range(state.tuning.settle_passes):
        moved = np.flatnonzero(has & (state.assign != units.current) & state.movable)
        around = state.assign[nearest[moved]]
        major, votes = majority_other(np.where(around != state.assign[moved, None], around, -1))
        pick = (votes > half) & (major != units.current[moved])
        if not settle(moved[pick], major[pick]):
            break


def cap_moves(state: MoveState, units: Units, cap: float) -> None:
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
        if state.fits(unit, units.current[unit]):
            state.move(unit, units.current[unit])
