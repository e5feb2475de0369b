"""Anneal: the last clean-up of borders on small maps, by simulated annealing.

The smoothing (:mod:`.smooth`) takes a step only when it leaves fewer units outvoted by their
nearest units for another territory, so it stops in the first local minimum: after realigning
maps of 100-200 accounts into 5 territories, 7-12% of the accounts still sat among another
territory's (stress family, 2026-12-04). A search that also takes some worse steps and keeps the
best alignment it met reached 0.5-2.5% on the same maps, with about the same moved load.

A step moves one node of the adjacency (the units at one coordinate) from its territory ``a``
to a territory ``t`` it borders (so ``t`` stays in one piece) when

* the node is free (no locked unit, no unit of another territory, not held: a rep's door, and
  no neighbour holding units of two territories, whose pieces the step could not check);
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
that clean is not bought cleaner with moves. The first ``free_moved`` of moved load costs only
``free_weight`` of its price (still more than an outvoted unit below ``clean``): a realignment
that has moved little more than it must (up to ``Tuning.anneal_free_moves`` times the load
above the bands) is short of clean borders, not of moves (a 200-account map with rep bases went
from 6% to 4.5% interleaved, moving 1.17 times the least instead of 1.11). A step is taken when
its cost is at most 0, or else with probability ``exp(-cost / T)``, the temperature ``T``
falling geometrically from ``start`` to ``end`` over the steps (Kirkpatrick, Gelatt & Vecchi
1983, "Optimization by simulated annealing", Science 220; for districting with contiguity as a
constraint, Ricca & Simeone 2008, "Local search algorithms for political districting", EJOR
189(3)). The best alignment met with no more units outvoted than at the start is returned: the
starting one when none costs less. The nodes and territories are drawn from a generator seeded
with ``seed``, so a seed gives one answer on any machine.
"""

from __future__ import annotations

import numpy as np

from ..arrays import distinct
from ..measures import territory_loads
from ..tuning import Tuning
from .pieces import base_roots
from .rejoin import interleaved
from .smooth import Borders

__all__ = ["anneal_borders", "anneal_pass"]


def anneal_pass(units, assign, graph, nearest, target, tolerance: float, *, realign: bool, bases_xyz, seed: int,
                tuning: Tuning) -> np.ndarray | None:
    """:func:`anneal_borders` on a pass's ``units`` (``assign``: their territories), as
    ``tuning`` says, or None when not run: more than ``anneal_max_units`` units, at most
    ``anneal_above`` of them outvoted already, or too few units per territory for the vote to
    mean anything. Locks and (``bases_xyz`` (k, 3) km) each rep's door stay; moves cost only on a
    realignment.

    A vote polls ``m`` nearest units. When the average territory holds no more than ``m`` units,
    no unit of it can have all its voters at home, and below ``m / 2`` every unit is outvoted
    whatever the borders: there the count measures the territories' sizes, not their borders, and
    annealing it only moves accounts (a 4-account map of 2 territories moved an account 145 km
    from its rep to cut the count from 4 to 1).

    While more than ``anneal_above`` stay outvoted, the annealing runs again from its best, with
    the next seed, up to ``anneal_restarts`` times: one run is a random search, and on a
    200-account map with rep bases one run stopped at 6% where running on reached 3.5%."""
    t, u = tuning, len(units.xyz)
    if u > t.anneal_max_units or t.anneal_steps <= 0 or u <= len(target) * nearest.shape[1]:
        return None
    if interleaved(assign, nearest) <= t.anneal_above:
        return None
    band = (target * (1 - tolerance), target * (1 + tolerance))
    current = units.current if realign else np.full(u, -1)
    least = float(np.maximum(territory_loads(current, units.values, len(target)) - band[1], 0.0).sum())
    held = np.asarray(units.locked, dtype=bool).copy()
    if bases_xyz is not None:
        roots = base_roots(units.xyz, assign, bases_xyz, len(target))
        held[roots[roots >= 0]] = True
    out = np.asarray(assign)
    for again in range(1 + t.anneal_restarts):  # (each from the last one's best, reheated)
        out = anneal_borders(graph.adjacency, graph.node, out, current, units.values, nearest, band, held,
                             seed=seed + again, steps=min(t.anneal_steps * u, t.anneal_max_steps),
                             move_cost=t.anneal_move_cost, start=t.anneal_start, end=t.anneal_end,
                             clean=int(t.anneal_clean * u), clean_weight=t.anneal_clean_weight,
                             free_moved=t.anneal_free_moves * least, free_weight=t.anneal_free_weight)
        if interleaved(out, nearest) <= t.anneal_above:
            break
    return out


def anneal_borders(adjacency, node, assign, current, values, nearest, band, held, *, seed: int, steps: int,
                   move_cost: float, start: float, end: float, clean: int = 0, clean_weight: float = 1.0,
                   free_moved: float = 0.0, free_weight: float = 1.0) -> np.ndarray:
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
    free_moved, free_weight : float
        Moved load (the units' measures summed, as ``values``) up to which a move costs only
        ``free_weight`` times ``move_cost``: while a realignment has moved little more than it
        must, borders are worth more than moves.

    Returns
    -------
    ndarray of int, shape (u,)
        A new array.
    """
    terr = np.asarray(assign, dtype=np.int64).copy()
    if len(terr) <= 1 or nearest.shape[1] == 0 or steps <= 0:
        return terr
    state = Borders(adjacency, node, terr, current, values, nearest, band, held, np.inf)
    # A node holding units of two territories hides one of them from the node's territory: a
    # node beside one never moves (its territories' pieces could not be checked).
    split = np.zeros(len(state.node_terr), dtype=bool)
    split[state.node[(terr >= 0) & (terr != state.node_terr[state.node])]] = True
    split |= (adjacency @ split.astype(float)) > 0
    movable = ~state.mixed & ~split & (state.node_terr >= 0)
    free = np.flatnonzero(movable)
    if len(free) == 0:
        return terr
    rng = np.random.default_rng(seed)
    pick, side, chance = rng.integers(0, len(free), steps), rng.random(steps), rng.random(steps)
    other_side = rng.random(steps)
    temperature = start * (end / start) ** (np.arange(steps) / max(steps - 1, 1))
    search = _Search(state, terr, nearest, movable, move_cost, clean, clean_weight, free_moved=free_moved,
                     free_weight=free_weight)
    best, best_terr = 0.0, terr.copy()
    indptr, indices, node_terr = adjacency.indptr, adjacency.indices, state.node_terr
    for s in range(steps):
        b = int(free[pick[s]])
        a = int(node_terr[b])
        around = indices[indptr[b]:indptr[b + 1]]
        sides = node_terr[around]
        others = sides[(sides != a) & (sides >= 0)]
        if len(others) == 0 or search.nodes_of[a] <= 1:
            continue
        t = int(others[int(side[s] * len(others))])

        def accept(step, s=s):
            return step <= 0 or chance[s] < np.exp(-step / temperature[s])

        if search.step(b, a, t, around, sides, other_side[s], accept) and search.cost < best - 1e-9 \
                and search.rough <= 0:
            best, best_terr = search.cost, terr.copy()
    return best_terr


class _Search:
    """The annealing's alignment (``terr``, changed in place), its loads, votes and cost since
    the start, and the two kinds of step: one node moved, or swapped with a node beside it.

    A step is tried about 300 times per unit, so its arithmetic on a territory's few measures is
    done on Python floats (the same operations as :func:`~.pieces.fits_bands` on arrays, so the
    same answers), and each node's units, load and moved-load changes are kept once worked out
    (a node's units never change here): numpy's call overhead on arrays of one to three numbers
    was most of a step's time, 8 s of a 100-account map's 10 s."""

    def __init__(self, state: Borders, terr, nearest, movable, move_cost: float, clean: int, clean_weight: float, *,
                 free_moved: float, free_weight: float):
        self.state, self.terr, self.movable = state, terr, movable
        self.votes = _Votes(terr, nearest, state.voters, len(state.load))
        self.nodes_of = np.bincount(state.node_terr[state.node_terr >= 0], minlength=len(state.load))
        self.unit_weight = max(float(state.weight.sum()) / len(terr), 1e-300)
        self.move_cost, self.clean, self.clean_weight = move_cost, clean, clean_weight
        self.free_moved, self.free_weight = free_moved, free_weight
        self.moved = float(state.weight[(state.current >= 0) & (terr != state.current)].sum())  # moved load now
        self.outvoted = int(state.rough)  # units outvoted now
        self.rough = 0  # units outvoted more than at the start
        self.cost = 0.0  # cost since the start
        self.lower, self.upper = state.lower.tolist(), state.upper.tolist()
        self.load = state.load.tolist()  # (kept equal to ``state.load``, as floats)
        self.of_node: dict = {}  # node -> (its units, their load, as a list)
        self.moved_of: dict = {}  # (node, from, to) -> moved load the move adds

    def _node(self, b: int):
        got = self.of_node.get(b)
        if got is None:
            units = self.state.units(b)
            moving = self.state.values[units].sum(axis=0)
            got = self.of_node[b] = (units, moving, moving.tolist())
        return got

    def _moved_change(self, b: int, units, a: int, t: int) -> float:
        got = self.moved_of.get((b, a, t))
        if got is None:
            got = self.moved_of[(b, a, t)] = self.state.moved_change(units, a, t)
        return got

    def _fits(self, a: int, to_a, t: int, to_t) -> bool:
        """:func:`~.pieces.fits_bands` for ``a`` gaining ``to_a`` and ``t`` gaining ``to_t``."""
        for x, delta in ((a, to_a), (t, to_t)):
            lo, hi, now = self.lower[x], self.upper[x], self.load[x]
            for c, d in enumerate(delta):
                new = now[c] + d
                before = max(lo[c] - now[c], 0.0) + max(now[c] - hi[c], 0.0)
                after = max(lo[c] - new, 0.0) + max(new - hi[c], 0.0)
                if after > before + 1e-12 * max(abs(hi[c]), 1e-300):
                    return False
        return True

    def _priced(self, count: int) -> float:
        return max(count - self.clean, 0) + self.clean_weight * min(count, self.clean)

    def _moves_priced(self, moved: float) -> float:
        free = self.free_moved
        return self.move_cost * (max(moved - free, 0.0) + self.free_weight * min(moved, free)) / self.unit_weight

    def _step_cost(self, rougher: int, moved: float) -> float:
        return self._priced(self.outvoted + rougher) - self._priced(self.outvoted) + \
            self._moves_priced(self.moved + moved) - self._moves_priced(self.moved)

    def step(self, b: int, a: int, t: int, around, sides, draw: float, accept) -> bool:
        """Node ``b`` (neighbours ``around``, in ``sides``) from ``a`` to ``t``, or, when a band
        holds it back, swapped with the node of ``t`` beside it that ``draw`` picks; taken when
        the rules allow and ``accept`` takes its cost. Whether it was taken."""
        state, votes = self.state, self.votes
        indptr, indices, node_terr = state.adjacency.indptr, state.adjacency.indices, state.node_terr
        units, moving, each = self._node(b)
        if self._fits(a, [-m for m in each], t, each):
            rougher, after = votes.change(b, units, a, t)
            moved = self._moved_change(b, units, a, t)
            step = self._step_cost(rougher, moved)
            if not accept(step) or not _stays_whole(indptr, indices, node_terr, a, b, around):
                return False
            votes.take(b, units, t, after)
            return self._take(((b, units, a, t, moving),), rougher, step, moved)
        partners = around[(sides == t) & self.movable[around]]
        if len(partners) == 0 or self.nodes_of[t] <= 1:
            return False
        c = int(partners[int(draw * len(partners))])
        back_units, back, back_each = self._node(c)
        c_around = indices[indptr[c]:indptr[c + 1]]
        if not self._fits(a, [g - m for g, m in zip(back_each, each)], t, [m - g for m, g in zip(each, back_each)]) or \
                not ((sides == t) & (around != c)).any() or not ((node_terr[c_around] == a) & (c_around != b)).any():
            return False  # (each must still border its new territory without the other)
        moves = ((b, units, a, t, moving), (c, back_units, t, a, back))
        rougher = 0
        for x, xs, f, to, _ in moves:  # (the votes of both, one after the other)
            change, after = votes.change(x, xs, f, to)
            votes.take(x, xs, to, after)
            rougher += change
        moved = self._moved_change(b, units, a, t) + self._moved_change(c, back_units, t, a)
        step = self._step_cost(rougher, moved)
        if not accept(step) or not _stays_whole(indptr, indices, node_terr, a, b, around) or \
                not _stays_whole(indptr, indices, node_terr, t, c, c_around):
            for x, xs, f, to, _ in moves[::-1]:
                votes.take(x, xs, f, votes.change(x, xs, to, f)[1])
            return False
        return self._take(moves, rougher, step, moved)

    def _take(self, moves, rougher: int, step: float, moved: float) -> bool:
        state = self.state
        for x, xs, f, to, load_x in moves:
            self.terr[xs] = to
            state.node_terr[x] = to
            state.load[f] -= load_x
            state.load[to] += load_x
            self.load[f], self.load[to] = state.load[f].tolist(), state.load[to].tolist()
            self.nodes_of[f] -= 1
            self.nodes_of[to] += 1
        self.cost += step
        self.moved += moved
        self.rough += rougher
        self.outvoted += rougher
        return True


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
            repeats = np.concatenate([self.voters.data[vp[x]:vp[x + 1]] for x in units.tolist()])
            affected = distinct(np.r_[units, rows])
            times = np.bincount(np.searchsorted(affected, rows), repeats, minlength=len(affected)).astype(np.int64)
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
