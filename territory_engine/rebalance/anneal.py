"""Anneal: the last clean-up of borders on small maps, by simulated annealing.

The smoothing (:mod:`.smooth`) takes a step only when it leaves fewer units outvoted by their
nearest units for another territory, so it stops in the first local minimum: after realigning
maps of 100-200 accounts into 5 territories, 7-12% of the accounts still sat among another
territory's (stress family, 2026-12-04). A search that also takes some worse steps and keeps the
best alignment it met reached 0.5-2.5% on the same maps, with about the same moved load.

A step moves one node of the adjacency (the units at one coordinate) from its territory ``a``
to a territory ``t`` it borders (so ``t`` stays in one piece) when

* the node is free (no locked unit, no unit of another territory, not held: a rep's door);
* ``a`` has no more pieces without it (a search from one of its neighbours in ``a`` reaches the
  others without it) and keeps a node;
* neither band ends further out in any measure.

When a band alone holds the node back, the step swaps it with a node of ``t`` beside it (which
goes to ``a``), under the same rules for both, each still bordering its new territory without
the other: most borders after a realignment lie between territories at the ends of their bands.

Its cost is the change in outvoted units plus ``move_cost`` times the change in moved load, in
units of the average unit's weight (moving an average unit that leaves one unit fewer outvoted
costs ``move_cost - 1``). The first ``clean`` outvoted units cost only ``clean_weight`` each:
once borders are clean enough, a move is worth more than a unit's border, and a map already
that clean is not bought cleaner with moves. A step is taken when its cost is at most 0, or else with probability
``exp(-cost / T)``, the temperature ``T`` falling geometrically from ``start`` to ``end`` over
the steps (Kirkpatrick, Gelatt & Vecchi 1983, "Optimization by simulated annealing", Science
220; for districting with contiguity as a constraint, Ricca & Simeone 2008, "Local search
algorithms for political districting", EJOR 189(3)). The best alignment met with no more units
outvoted than at the start is returned: the starting one when none costs less. The nodes and
territories are drawn from a generator seeded with ``seed``, so a seed gives one answer on any
machine.
"""

from __future__ import annotations

import numpy as np

from ..arrays import distinct
from .pieces import fits_bands
from .smooth import Borders

__all__ = ["anneal_borders"]


def anneal_borders(adjacency, node, assign, current, values, nearest, band, held, *, seed: int, steps: int,
                   move_cost: float, start: float, end: float, clean: int = 0, clean_weight: float = 1.0) -> np.ndarray:
    """``assign`` after the annealing of the module docstring.

    Parameters
    ----------
    adjacency : scipy.sparse.csr_array, shape (v, v)
        Adjacency of the nodes (``AccountGraph.adjacency``).
    node : ndarray of int, shape (u,)
        Node of every unit.
    assign, current : ndarray of int, shape (u,)
        Every unit's territory now, and before the design (-1: none; such a unit's moves cost
        nothing).
    values : ndarray of float, shape (u, C)
        Every unit's measures.
    nearest : ndarray of int, shape (u, m)
        Every unit's nearest units (the interleaving vote).
    band : tuple of ndarray, each shape (k, C)
        The lower and upper end of every territory's band.
    held : ndarray of bool, shape (u,)
        Units that never move (locks, rep's doors).
    seed : int
        Seed of the draws.
    steps : int
        Steps tried (a step a node cannot take counts).
    move_cost : float
        Cost of moving an average unit's weight, in outvoted units.
    start, end : float
        First and last temperature, in outvoted units.
    clean : int
        Outvoted units that count only ``clean_weight`` each: below them borders are clean
        enough, and a move is worth more than a unit's border.
    clean_weight : float
        Cost of each of the first ``clean`` outvoted units.

    Returns
    -------
    ndarray of int, shape (u,)
        A new array.
    """
    terr = np.asarray(assign, dtype=np.int64).copy()
    if len(terr) <= 1 or nearest.shape[1] == 0 or steps <= 0:
        return terr
    state = Borders(adjacency, node, terr, current, values, nearest, band, held, np.inf)
    free = np.flatnonzero(~state.mixed & (state.node_terr >= 0))
    if len(free) == 0:
        return terr
    unit_weight = max(float(state.weight.sum()) / len(terr), 1e-300)
    nodes_of = np.bincount(state.node_terr[state.node_terr >= 0], minlength=len(state.load))
    rng = np.random.default_rng(seed)
    pick, side, chance = rng.integers(0, len(free), steps), rng.random(steps), rng.random(steps)
    other_side = rng.random(steps)
    temperature = start * (end / start) ** (np.arange(steps) / max(steps - 1, 1))
    cost = best = 0.0
    rough = 0  # outvoted units more than at the start
    outvoted_now = int(state.rough)
    votes = _Votes(terr, nearest, state.voters, len(state.load))

    def priced(count):
        return max(count - clean, 0) + clean_weight * min(count, clean)
    best_terr = terr.copy()
    indptr, indices, node_terr, load, lower, upper = (adjacency.indptr, adjacency.indices, state.node_terr,
                                                      state.load, state.lower, state.upper)
    mixed, values = state.mixed, state.values
    for s in range(steps):
        b = int(free[pick[s]])
        a = int(node_terr[b])
        around = indices[indptr[b]:indptr[b + 1]]
        sides = node_terr[around]
        others = sides[(sides != a) & (sides >= 0)]
        if len(others) == 0 or nodes_of[a] <= 1:
            continue
        t = int(others[int(side[s] * len(others))])
        units = state.units(b)
        moving = values[units].sum(axis=0)
        if fits_bands(load, lower, upper, {a: -moving, t: moving}):
            rougher, after = votes.change(b, units, a, t)
            step = priced(outvoted_now + rougher) - priced(outvoted_now) + \
                move_cost * state.moved_change(units, a, t) / unit_weight
            if step > 0 and chance[s] >= np.exp(-step / temperature[s]):
                continue
            if not _stays_whole(indptr, indices, node_terr, a, b, around):
                continue
            votes.take(b, units, t, after)
            moves = ((b, units, a, t, moving),)
        else:  # a band holds it back: swap it with a node of t beside it
            partners = around[(sides == t) & ~mixed[around]]
            if len(partners) == 0 or nodes_of[t] <= 1:
                continue
            c = int(partners[int(other_side[s] * len(partners))])
            back_units = state.units(c)
            back = values[back_units].sum(axis=0)
            c_around = indices[indptr[c]:indptr[c + 1]]
            if not fits_bands(load, lower, upper, {a: back - moving, t: moving - back}) or \
                    not ((sides == t) & (around != c)).any() or \
                    not ((node_terr[c_around] == a) & (c_around != b)).any():
                continue  # (each must still border its new territory without the other)
            moves = ((b, units, a, t, moving), (c, back_units, t, a, back))
            rougher = 0
            for x, xs, f, to, _ in moves:  # (the votes of both, one after the other)
                change, after = votes.change(x, xs, f, to)
                votes.take(x, xs, to, after)
                rougher += change
            step = priced(outvoted_now + rougher) - priced(outvoted_now) + move_cost * (
                state.moved_change(units, a, t) + state.moved_change(back_units, t, a)) / unit_weight
            if (step > 0 and chance[s] >= np.exp(-step / temperature[s])) or \
                    not _stays_whole(indptr, indices, node_terr, a, b, around) or \
                    not _stays_whole(indptr, indices, node_terr, t, c, c_around):
                for x, xs, f, to, _ in moves[::-1]:
                    votes.take(x, xs, f, votes.change(x, xs, to, f)[1])
                continue
        for x, xs, f, to, load_x in moves:
            terr[xs] = to
            node_terr[x] = to
            load[f] -= load_x
            load[to] += load_x
            nodes_of[f] -= 1
            nodes_of[to] += 1
        cost += step
        rough += rougher
        outvoted_now += rougher
        if cost < best - 1e-9 and rough <= 0:
            best = cost
            best_terr = terr.copy()
    return best_terr


class _Votes:
    """Every unit's nearest units counted per territory (a last column for none), and whether
    another territory outvotes its own (as :func:`~territory_engine.measures.outvoted`
    counts), kept up to date as nodes move."""

    def __init__(self, terr, nearest, voters, k: int):
        u, m = nearest.shape
        self.k = k
        self.own = np.where(terr >= 0, terr, k)
        self.count = np.zeros((u, k + 1), dtype=np.int64)
        np.add.at(self.count, (np.repeat(np.arange(u), m), self.own[nearest].ravel()), 1)
        self.out = self.count[np.arange(u), self.own] < self.count.max(axis=1)
        self.voters = voters  # row x: the units that count unit x among their nearest
        self._around: dict = {}

    def _of(self, b, units):
        """Node ``b``'s units and the units that count them: (those units, how many of ``b``'s
        units each counts, the positions of ``b``'s units among them)."""
        if b not in self._around:
            vp, vi = self.voters.indptr, self.voters.indices
            rows = np.concatenate([vi[vp[x]:vp[x + 1]] for x in units.tolist()])
            affected = distinct(np.r_[units, rows])
            times = np.bincount(np.searchsorted(affected, rows), minlength=len(affected))
            self._around[b] = (affected, times, np.searchsorted(affected, units))
        return self._around[b]

    def change(self, b, units, a: int, t: int):
        """The change in outvoted units if node ``b`` (its ``units``) went from ``a`` to ``t``,
        and what :meth:`take` needs to make it so."""
        affected, times, mine = self._of(b, units)
        count = self.count[affected]
        count[:, a] -= times
        count[:, t] += times
        own = self.own[affected]
        own[mine] = t
        out = count[np.arange(len(affected)), own] < count.max(axis=1)
        return int(out.sum()) - int(self.out[affected].sum()), (affected, count, out)

    def take(self, b, units, t: int, after) -> None:
        """Make the change :meth:`change` answered ``after`` for."""
        affected, count, out = after
        self.count[affected] = count
        self.own[units] = t
        self.out[affected] = out


def _stays_whole(indptr, indices, node_terr, a: int, b: int, around) -> bool:
    """Whether territory ``a`` has no more pieces without node ``b`` (its neighbours ``around``):
    a search over ``a``'s other nodes from one of ``b``'s neighbours in ``a`` reaches the rest."""
    mine = around[node_terr[around] == a]
    if len(mine) <= 1:
        return True
    wanted = set(mine.tolist())
    seen = {b, int(mine[0])}
    wanted.discard(int(mine[0]))
    frontier = [int(mine[0])]
    while frontier and wanted:
        x = frontier.pop()
        for y in indices[indptr[x]:indptr[x + 1]].tolist():
            if y not in seen and node_terr[y] == a:
                seen.add(y)
                wanted.discard(y)
                frontier.append(y)
    return not wanted
